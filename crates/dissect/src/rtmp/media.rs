//! Audio and video messages: their tag headers, codec names and what a sequence header says
//! (profile, level, resolution; AAC object type, rate and channels).

use rtmpkit_proto::codec::{
    AudioSpecificConfig, AvcDecoderConfigurationRecord, HevcDecoderConfigurationRecord,
};
use rtmpkit_proto::flv::{
    AudioCodec, AudioTagHeader, FlvError, FourCc, VideoCodec, VideoTagHeader,
};

/// The tag header of an audio (8) or video (9) message.
#[derive(Debug, Clone, PartialEq)]
pub enum MediaHeader {
    /// Audio header and the offset of the body after it.
    Audio(AudioTagHeader, usize),
    /// Video header and the offset of the body after it.
    Video(VideoTagHeader, usize),
    /// The header does not decode (or the message is empty).
    Bad(FlvError),
}

impl MediaHeader {
    /// Decodes the header of a message of type 8 or 9; `None` for other types.
    pub fn decode(type_id: u8, payload: &[u8]) -> Option<MediaHeader> {
        Some(match type_id {
            8 => match AudioTagHeader::decode(payload) {
                Ok((h, off)) => MediaHeader::Audio(h, off),
                Err(e) => MediaHeader::Bad(e),
            },
            9 => match VideoTagHeader::decode(payload) {
                Ok((h, off)) => MediaHeader::Video(h, off),
                Err(e) => MediaHeader::Bad(e),
            },
            _ => return None,
        })
    }
}

/// Bytes of a coded audio or video frame kept after its tag header. The views show a coded
/// frame's tag header and length, never its data: keeping a 64 KB frame whole would cost a
/// copy of every media byte for nothing.
const CODED_FRAME_KEPT: usize = 64;

/// The analyzer's [`BodyPrefix`](rtmpkit_proto::rtmp::chunk::BodyPrefix) policy: a coded
/// audio or video frame is cut after its tag header and [`CODED_FRAME_KEPT`] bytes; sequence
/// headers (which are described), multitrack bodies (whose track list is shown), bodies
/// whose header does not decode from the first chunk, and every other type stay whole.
/// The tag header decodes the same from the prefix, as it is read front to back.
pub(crate) fn coded_frame_prefix(type_id: u8, first_chunk: &[u8]) -> Option<usize> {
    let (sequence_header, multitrack, offset) = match MediaHeader::decode(type_id, first_chunk)? {
        MediaHeader::Audio(h, off) => (h.is_sequence_header(), h.is_multitrack(), off),
        MediaHeader::Video(h, off) => (h.is_sequence_header(), h.is_multitrack(), off),
        MediaHeader::Bad(_) => return None,
    };
    (!sequence_header && !multitrack).then_some(offset + CODED_FRAME_KEPT)
}

/// A human name for a video codec.
pub fn video_codec_name(c: VideoCodec) -> String {
    match c {
        VideoCodec::Jpeg => "JPEG".into(),
        VideoCodec::SorensonH263 => "Sorenson H.263".into(),
        VideoCodec::Screen => "Screen video".into(),
        VideoCodec::Vp6 => "On2 VP6".into(),
        VideoCodec::Vp6Alpha => "On2 VP6 with alpha".into(),
        VideoCodec::Screen2 => "Screen video v2".into(),
        VideoCodec::Avc => "H.264/AVC".into(),
        VideoCodec::Hevc => "HEVC".into(),
        VideoCodec::Av1 => "AV1".into(),
        VideoCodec::Vp9 => "VP9".into(),
        VideoCodec::Vp8 => "VP8".into(),
        VideoCodec::UnknownId(v) => format!("unknown codec id {v}"),
        VideoCodec::UnknownFourCc(f) => format!("unknown FourCC '{f}'"),
    }
}

/// A human name for an audio codec.
pub fn audio_codec_name(c: AudioCodec) -> String {
    match c {
        AudioCodec::Pcm => "PCM".into(),
        AudioCodec::Adpcm => "ADPCM".into(),
        AudioCodec::Mp3 => "MP3".into(),
        AudioCodec::Nellymoser => "Nellymoser".into(),
        AudioCodec::G711ALaw => "G.711 A-law".into(),
        AudioCodec::G711MuLaw => "G.711 mu-law".into(),
        AudioCodec::Aac => "AAC".into(),
        AudioCodec::Speex => "Speex".into(),
        AudioCodec::DeviceSpecific => "device-specific".into(),
        AudioCodec::Opus => "Opus".into(),
        AudioCodec::Flac => "FLAC".into(),
        AudioCodec::Ac3 => "AC-3".into(),
        AudioCodec::Eac3 => "E-AC-3".into(),
        AudioCodec::Reserved(v) => format!("reserved sound format {v}"),
        AudioCodec::Unknown(f) => format!("unknown FourCC '{f}'"),
    }
}

/// Whether coded frames of this codec need a sequence header (decoder configuration) first.
/// Sorenson H.263, VP6, screen video and JPEG carry everything in each key frame.
pub fn video_needs_sequence_header(c: VideoCodec) -> bool {
    matches!(
        c,
        VideoCodec::Avc | VideoCodec::Hevc | VideoCodec::Av1 | VideoCodec::Vp9
    )
}

/// Whether coded audio of this codec needs a sequence header first (AAC's
/// AudioSpecificConfig; MP3, Speex, Nellymoser, PCM and G.711 need none).
pub fn audio_needs_sequence_header(c: AudioCodec) -> bool {
    matches!(c, AudioCodec::Aac | AudioCodec::Flac)
}

/// What a video sequence header says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoDescription {
    /// Codec name.
    pub codec: String,
    /// Profile name (e.g. `High`) when known.
    pub profile: Option<String>,
    /// Level (e.g. `3.0`) when known.
    pub level: Option<String>,
    /// Width and height in pixels (from the SPS).
    pub size: Option<(u32, u32)>,
    /// Number of SPS and PPS (AVC) or VPS/SPS/PPS units.
    pub parameter_sets: Vec<(String, usize)>,
}

impl VideoDescription {
    /// `H.264/AVC High@3.0 320x240`.
    pub fn short(&self) -> String {
        let mut s = self.codec.clone();
        if let Some(p) = &self.profile {
            s.push(' ');
            s.push_str(p);
            if let Some(l) = &self.level {
                s.push('@');
                s.push_str(l);
            }
        }
        if let Some((w, h)) = self.size {
            s.push_str(&format!(" {w}x{h}"));
        }
        s
    }
}

/// What an audio header and its sequence header say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioDescription {
    /// Codec name (with the AAC object type, e.g. `AAC LC`).
    pub codec: String,
    /// Sampling rate, Hz.
    pub rate: Option<u32>,
    /// Channels.
    pub channels: Option<u8>,
}

impl AudioDescription {
    /// `AAC LC 44100 Hz 2 ch`.
    pub fn short(&self) -> String {
        let mut s = self.codec.clone();
        if let Some(r) = self.rate {
            s.push_str(&format!(" {r} Hz"));
        }
        if let Some(c) = self.channels {
            s.push_str(match c {
                1 => " mono",
                2 => " stereo",
                _ => "",
            });
            if c > 2 {
                s.push_str(&format!(" {c} ch"));
            }
        }
        s
    }
}

/// H.264 profile_idc names.
pub fn h264_profile_name(idc: u8) -> String {
    match idc {
        66 => "Baseline".into(),
        77 => "Main".into(),
        88 => "Extended".into(),
        100 => "High".into(),
        110 => "High 10".into(),
        122 => "High 4:2:2".into(),
        244 => "High 4:4:4 Predictive".into(),
        44 => "CAVLC 4:4:4 Intra".into(),
        83 => "Scalable Baseline".into(),
        86 => "Scalable High".into(),
        118 => "Multiview High".into(),
        128 => "Stereo High".into(),
        other => format!("profile {other}"),
    }
}

fn hevc_profile_name(idc: u8) -> String {
    match idc {
        1 => "Main".into(),
        2 => "Main 10".into(),
        3 => "Main Still Picture".into(),
        4 => "Range Extensions".into(),
        other => format!("profile {other}"),
    }
}

/// AAC audio object type names.
pub fn aac_object_name(ot: u8) -> String {
    match ot {
        1 => "AAC Main".into(),
        2 => "AAC LC".into(),
        3 => "AAC SSR".into(),
        4 => "AAC LTP".into(),
        5 => "HE-AAC".into(),
        29 => "HE-AAC v2".into(),
        23 => "AAC LD".into(),
        39 => "AAC ELD".into(),
        other => format!("AAC (object type {other})"),
    }
}

/// Reads a video sequence header body (AVC or HEVC decoder configuration record). `None`
/// when the header is not a sequence header of a codec with such a record.
pub fn describe_video(
    header: &VideoTagHeader,
    body: &[u8],
) -> Option<Result<VideoDescription, String>> {
    if !header.is_sequence_header() {
        return None;
    }
    let codec = header.codec()?;
    let body = match header {
        // Enhanced multitrack: describe the first track.
        VideoTagHeader::Enhanced(h) if header.is_multitrack() => h.tracks(body).next()?.ok()?.data,
        _ => body,
    };
    match codec {
        VideoCodec::Avc => Some(
            AvcDecoderConfigurationRecord::decode(body)
                .map(|rec| {
                    let sps = rec.parse_sps().and_then(Result::ok);
                    VideoDescription {
                        codec: video_codec_name(codec),
                        profile: Some(h264_profile_name(rec.profile)),
                        level: Some(format!("{}.{}", rec.level / 10, rec.level % 10)),
                        size: sps.map(|s| (s.width(), s.height())),
                        parameter_sets: vec![
                            ("SPS".into(), rec.sps.len()),
                            ("PPS".into(), rec.pps.len()),
                        ],
                    }
                })
                .map_err(|e| e.to_string()),
        ),
        VideoCodec::Hevc => Some(
            HevcDecoderConfigurationRecord::decode(body)
                .map(|rec| {
                    let sps = rec.parse_sps().and_then(Result::ok);
                    let level = rec.general_level_idc;
                    VideoDescription {
                        codec: video_codec_name(codec),
                        profile: Some(hevc_profile_name(rec.general_profile_idc)),
                        level: Some(format!("{}.{}", level / 30, level % 30 / 3)),
                        size: sps.map(|s| (s.width(), s.height())),
                        parameter_sets: rec
                            .arrays
                            .iter()
                            .map(|a| {
                                let name = match a.nal_type {
                                    32 => "VPS".to_string(),
                                    33 => "SPS".to_string(),
                                    34 => "PPS".to_string(),
                                    t => format!("NAL type {t}"),
                                };
                                (name, a.units.len())
                            })
                            .collect(),
                    }
                })
                .map_err(|e| e.to_string()),
        ),
        other => Some(Ok(VideoDescription {
            codec: video_codec_name(other),
            profile: None,
            level: None,
            size: None,
            parameter_sets: Vec::new(),
        })),
    }
}

/// Describes an audio message: its codec, and for an AAC sequence header the
/// AudioSpecificConfig's object type, rate and channels.
pub fn describe_audio(header: &AudioTagHeader, body: &[u8]) -> Option<AudioDescription> {
    let codec = header.codec()?;
    let (rate, channels) = match header {
        AudioTagHeader::Legacy(h) => (
            Some(h.rate.hz()),
            Some(match h.channels {
                rtmpkit_proto::flv::SoundType::Mono => 1,
                rtmpkit_proto::flv::SoundType::Stereo => 2,
            }),
        ),
        AudioTagHeader::Enhanced(_) => (None, None),
    };
    let is_aac = codec == AudioCodec::Aac
        || matches!(header, AudioTagHeader::Enhanced(h) if h.codec.fourcc() == Some(FourCc::MP4A));
    if is_aac && header.is_sequence_header() {
        let body = match header {
            AudioTagHeader::Enhanced(h) if header.is_multitrack() => {
                h.tracks(body).next()?.ok()?.data
            }
            _ => body,
        };
        if let Ok(asc) = AudioSpecificConfig::decode(body) {
            let ot = asc.sbr.map_or(asc.object_type, |_| 5);
            return Some(AudioDescription {
                codec: aac_object_name(ot),
                rate: asc.sampling.hz().or(rate),
                channels: Some(asc.channel_configuration)
                    .filter(|&c| c > 0)
                    .or(channels),
            });
        }
    }
    Some(AudioDescription {
        codec: audio_codec_name(codec),
        rate,
        channels,
    })
}
