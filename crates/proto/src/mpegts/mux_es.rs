//! From FLV/RTMP audio and video payloads to the elementary streams MPEG-TS carries: H.264 and
//! HEVC as Annex B access units (AUD first, parameter sets before random access points), AAC
//! with ADTS headers, MP3 as is.

use crate::codec::{
    AudioSpecificConfig, AvcDecoderConfigurationRecord, AvccNalUnits,
    HevcDecoderConfigurationRecord, hevc_is_irap, hevc_nal, hevc_nal_type,
};
use crate::flv::{
    AacPacketType, AudioPacketType, AudioTagHeader, AvcPacketType, ExAudioHeader, ExCodec,
    ExVideoContent, FourCc, LegacyVideoPacket, SoundFormat, VideoPacketType, VideoTagHeader,
};

use super::StreamType;
use super::mux::MuxError;

/// H.264 access unit delimiter (nal_unit_type 9, primary_pic_type 7: any slice type).
const AVC_AUD: [u8; 6] = [0, 0, 0, 1, 0x09, 0xf0];
/// HEVC access unit delimiter (nal_unit_type 35, layer 0, tid 1, pic_type 2: any slice type).
const HEVC_AUD: [u8; 7] = [0, 0, 0, 1, 0x46, 0x01, 0x50];

/// H.264 nal_unit_type values the muxer looks for.
const AVC_IDR: u8 = 5;
const AVC_SPS: u8 = 7;
const AVC_AUD_TYPE: u8 = 9;

/// The decoder configuration of the video track.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum VideoConfig {
    Avc {
        nal_length_size: u8,
        /// SPS and PPS, Annex B.
        parameter_sets: Vec<u8>,
    },
    Hevc {
        nal_length_size: u8,
        /// VPS, SPS and PPS, Annex B.
        parameter_sets: Vec<u8>,
    },
}

impl VideoConfig {
    pub fn stream_type(&self) -> StreamType {
        match self {
            VideoConfig::Avc { .. } => StreamType::H264,
            VideoConfig::Hevc { .. } => StreamType::HEVC,
        }
    }
}

/// The configuration of the audio track.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AudioConfig {
    Aac(AudioSpecificConfig),
    /// MPEG audio; `mpeg1` chooses stream type 0x03 over 0x04 (MPEG-2 / 2.5 low rates).
    Mp3 {
        mpeg1: bool,
    },
}

impl AudioConfig {
    pub fn stream_type(&self) -> StreamType {
        match self {
            AudioConfig::Aac(_) => StreamType::AAC_ADTS,
            AudioConfig::Mp3 { mpeg1: true } => StreamType::MPEG1_AUDIO,
            AudioConfig::Mp3 { mpeg1: false } => StreamType::MPEG2_AUDIO,
        }
    }
}

/// What one video payload is.
#[derive(Debug)]
pub(crate) enum VideoInput<'a> {
    /// A new decoder configuration.
    Config(VideoConfig),
    /// Coded frames: length-prefixed NAL units, the FLV keyframe flag and the composition time
    /// offset in ms.
    Frame {
        hevc: bool,
        keyframe: bool,
        composition_time: i32,
        body: &'a [u8],
    },
    /// Nothing to mux (end of sequence, commands, metadata).
    Nothing,
}

/// Classifies a video payload (FLV VIDEODATA).
pub(crate) fn parse_video(payload: &[u8]) -> Result<VideoInput<'_>, MuxError> {
    let (header, at) = VideoTagHeader::decode(payload)?;
    let body = payload.get(at..).unwrap_or(&[]);
    if header.is_command() || header.is_sequence_end() {
        return Ok(VideoInput::Nothing);
    }
    let keyframe = header.frame_type().is_key();
    let hevc = match &header {
        VideoTagHeader::Legacy(h) => {
            let hevc = match h.codec {
                crate::flv::CodecId::Avc => false,
                crate::flv::CodecId::Hevc => true,
                other => {
                    return Err(MuxError::Unsupported {
                        what: "video codec",
                        codec: format!("{other:?}"),
                    });
                }
            };
            match h.packet {
                LegacyVideoPacket::Avc {
                    packet_type: AvcPacketType::SequenceHeader,
                    ..
                } => return video_config(hevc, body).map(VideoInput::Config),
                LegacyVideoPacket::Avc {
                    packet_type: AvcPacketType::Nalu,
                    ..
                } => hevc,
                _ => return Ok(VideoInput::Nothing),
            }
        }
        VideoTagHeader::Enhanced(h) => {
            let fourcc = match h.content {
                ExVideoContent::Single { fourcc, .. } => fourcc,
                ExVideoContent::Multitrack { .. } => {
                    return Err(MuxError::Unsupported {
                        what: "video",
                        codec: "multitrack".into(),
                    });
                }
                ExVideoContent::Command(_) => return Ok(VideoInput::Nothing),
            };
            let hevc = match fourcc {
                FourCc::AVC1 => false,
                FourCc::HVC1 => true,
                other => {
                    return Err(MuxError::Unsupported {
                        what: "video codec",
                        codec: String::from_utf8_lossy(&other.0).into_owned(),
                    });
                }
            };
            match h.packet_type {
                VideoPacketType::SequenceStart => {
                    return video_config(hevc, body).map(VideoInput::Config);
                }
                VideoPacketType::CodedFrames | VideoPacketType::CodedFramesX => hevc,
                _ => return Ok(VideoInput::Nothing),
            }
        }
    };
    Ok(VideoInput::Frame {
        hevc,
        keyframe,
        composition_time: header.composition_time(),
        body,
    })
}

fn video_config(hevc: bool, body: &[u8]) -> Result<VideoConfig, MuxError> {
    let mut parameter_sets = Vec::new();
    if hevc {
        let rec = HevcDecoderConfigurationRecord::decode(body)?;
        rec.parameter_sets_annex_b(&mut parameter_sets);
        Ok(VideoConfig::Hevc {
            nal_length_size: rec.nal_length_size,
            parameter_sets,
        })
    } else {
        let rec = AvcDecoderConfigurationRecord::decode(body)?;
        rec.parameter_sets_annex_b(&mut parameter_sets);
        Ok(VideoConfig::Avc {
            nal_length_size: rec.nal_length_size,
            parameter_sets,
        })
    }
}

/// Writes one access unit in Annex B: an AUD first (unless the frame starts with one), the
/// parameter sets before a random access point that lacks them, then the frame's NAL units.
/// Returns whether the access unit is a random access point (IDR / IRAP, or flagged key).
pub(crate) fn write_video_access_unit(
    config: &VideoConfig,
    keyframe: bool,
    body: &[u8],
    out: &mut Vec<u8>,
) -> Result<bool, MuxError> {
    let (hevc, length_size, params) = match config {
        VideoConfig::Avc {
            nal_length_size,
            parameter_sets,
        } => (false, *nal_length_size, parameter_sets),
        VideoConfig::Hevc {
            nal_length_size,
            parameter_sets,
        } => (true, *nal_length_size, parameter_sets),
    };
    let nal_type = |nal: &[u8]| -> u8 {
        let first = nal.first().copied().unwrap_or(0);
        if hevc {
            hevc_nal_type(first)
        } else {
            first & 0x1f
        }
    };
    // One pass to learn what the frame holds; lengths are validated here, so the copy below
    // cannot fail half-way.
    let (mut starts_with_aud, mut random_access, mut has_params) = (None, false, false);
    for nal in AvccNalUnits::new(body, length_size) {
        let t = nal_type(nal?);
        starts_with_aud.get_or_insert(if hevc {
            t == hevc_nal::AUD
        } else {
            t == AVC_AUD_TYPE
        });
        if hevc {
            random_access |= hevc_is_irap(t);
            has_params |= t == hevc_nal::SPS;
        } else {
            random_access |= t == AVC_IDR;
            has_params |= t == AVC_SPS;
        }
    }
    random_access |= keyframe;
    let mut nals = AvccNalUnits::new(body, length_size).flatten().peekable();
    if starts_with_aud == Some(true) {
        if let Some(aud) = nals.next() {
            out.extend_from_slice(&[0, 0, 0, 1]);
            out.extend_from_slice(aud);
        }
    } else if hevc {
        out.extend_from_slice(&HEVC_AUD);
    } else {
        out.extend_from_slice(&AVC_AUD);
    }
    if random_access && !has_params {
        out.extend_from_slice(params);
    }
    for nal in nals {
        out.extend_from_slice(&[0, 0, 0, 1]);
        out.extend_from_slice(nal);
    }
    Ok(random_access)
}

/// What one audio payload is.
#[derive(Debug)]
pub(crate) enum AudioInput<'a> {
    Config(AudioConfig),
    /// A raw AAC frame.
    Aac(&'a [u8]),
    /// MPEG audio frames, with the configuration they imply.
    Mp3(AudioConfig, &'a [u8]),
    Nothing,
}

/// Classifies an audio payload (FLV AUDIODATA).
pub(crate) fn parse_audio(payload: &[u8]) -> Result<AudioInput<'_>, MuxError> {
    if payload.is_empty() {
        return Ok(AudioInput::Nothing);
    }
    let (header, at) = AudioTagHeader::decode(payload)?;
    let body = payload.get(at..).unwrap_or(&[]);
    match header {
        AudioTagHeader::Legacy(h) => match h.format {
            SoundFormat::Aac => match h.aac_packet_type {
                Some(AacPacketType::SequenceHeader) => Ok(AudioInput::Config(AudioConfig::Aac(
                    AudioSpecificConfig::decode(body)?,
                ))),
                _ => Ok(AudioInput::Aac(body)),
            },
            SoundFormat::Mp3 | SoundFormat::Mp3_8k => Ok(mp3(body)),
            other => Err(MuxError::Unsupported {
                what: "audio codec",
                codec: format!("{other:?}"),
            }),
        },
        AudioTagHeader::Enhanced(ExAudioHeader {
            packet_type, codec, ..
        }) => {
            let fourcc = match codec {
                ExCodec::Single(f) => f,
                ExCodec::Multitrack { .. } => {
                    return Err(MuxError::Unsupported {
                        what: "audio",
                        codec: "multitrack".into(),
                    });
                }
            };
            match (fourcc, packet_type) {
                (FourCc::MP4A, AudioPacketType::SequenceStart) => Ok(AudioInput::Config(
                    AudioConfig::Aac(AudioSpecificConfig::decode(body)?),
                )),
                (FourCc::MP4A, AudioPacketType::CodedFrames) => Ok(AudioInput::Aac(body)),
                (FourCc::MP3, AudioPacketType::CodedFrames) => Ok(mp3(body)),
                (FourCc::MP4A | FourCc::MP3, _) => Ok(AudioInput::Nothing),
                (other, _) => Err(MuxError::Unsupported {
                    what: "audio codec",
                    codec: String::from_utf8_lossy(&other.0).into_owned(),
                }),
            }
        }
    }
}

/// MPEG audio: the version bits of the first frame header choose the stream type.
fn mp3(body: &[u8]) -> AudioInput<'_> {
    // Frame sync is 11 set bits; version ID 0b11 is MPEG-1.
    let mpeg1 = match body {
        [0xff, b, ..] if b & 0xe0 == 0xe0 => (b >> 3) & 0x03 == 0x03,
        _ => true,
    };
    AudioInput::Mp3(AudioConfig::Mp3 { mpeg1 }, body)
}

/// Writes one raw AAC frame with its ADTS header.
pub(crate) fn write_adts_frame(
    config: &AudioSpecificConfig,
    raw: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), MuxError> {
    let header = config.adts_header(raw.len())?;
    out.extend_from_slice(&header.encode());
    out.extend_from_slice(raw);
    Ok(())
}
