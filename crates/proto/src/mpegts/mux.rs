//! The MPEG-TS muxer: FLV/RTMP audio and video payloads in, 188-byte transport packets out.
//!
//! Sans-I/O: [`TsMuxer::push_video`] and [`TsMuxer::push_audio`] take a payload and its
//! timestamp (ms, as the stream carries it) and return a [`TsUnit`]: the packets of one PES
//! (one access unit or audio frame), preceded by PAT and PMT where a decoder can start.
//!
//! # Timing
//!
//! PTS and DTS are `(timestamp + delay) × 90` (the composition offset added to the PTS), modulo
//! 2^33 on the wire, and the PCR is `timestamp × 90 × 300`: the decoder gets `delay` of buffer.
//! All arithmetic is on unwrapped 64-bit values, so the 33-bit wrap (every 26.5 hours) is an
//! ordinary step on the wire. The PCR goes in the first packet of each PES on the PCR PID:
//! the video PID, or the audio PID for audio-only programs.
//!
//! # Where decoding can start
//!
//! PAT and PMT are written before the first unit, before every video random access point
//! (IDR / IRAP or FLV keyframe), after a track change, every `psi_interval_ms` in audio-only
//! programs, and wherever [`TsMuxer::force_psi`] asks (an HLS segmenter calls it before the
//! first unit of each segment). Random access points also get an access unit delimiter and the
//! parameter sets (SPS/PPS, or VPS/SPS/PPS) from the decoder configuration if the frame does not
//! carry them itself; every access unit starts with an AUD.

use bytes::Bytes;
use thiserror::Error;

use crate::codec::CodecError;
use crate::flv::FlvError;

use super::mux_es::{
    AudioConfig, AudioInput, VideoConfig, VideoInput, parse_audio, parse_video, write_adts_frame,
    write_video_access_unit,
};
use super::{
    AdaptationField, AdaptationFieldControl, PID_PAT, Pat, PatProgram, Pcr, PesHeader, Pmt,
    PmtStream, TS_PACKET_SIZE, TsError, TsHeader, encode_packet, packetize_section, stream_id,
};

/// PIDs, program numbering and timing of a [`TsMuxer`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TsMuxerConfig {
    /// transport_stream_id in the PAT. Default 1.
    pub transport_stream_id: u16,
    /// program_number of the one program. Default 1.
    pub program_number: u16,
    /// PID of the PMT. Default 0x1000.
    pub pmt_pid: u16,
    /// PID of the video elementary stream. Default 0x100.
    pub video_pid: u16,
    /// PID of the audio elementary stream. Default 0x101.
    pub audio_pid: u16,
    /// Added to PTS and DTS over the PCR (decoder buffering), ms. Default 700.
    pub delay_ms: u32,
    /// PAT/PMT repetition in audio-only programs, ms of stream time. Default 500.
    pub psi_interval_ms: u32,
}

impl Default for TsMuxerConfig {
    fn default() -> Self {
        TsMuxerConfig {
            transport_stream_id: 1,
            program_number: 1,
            pmt_pid: 0x1000,
            video_pid: 0x100,
            audio_pid: 0x101,
            delay_ms: 700,
            psi_interval_ms: 500,
        }
    }
}

/// Which elementary stream a unit belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TsTrack {
    Video,
    Audio,
}

/// The transport packets of one PES packet (one video access unit or one audio frame).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TsUnit {
    pub track: TsTrack,
    /// Presentation time, 90 kHz, not wrapped (the wire carries it modulo 2^33).
    pub pts: u64,
    /// Decoding time, 90 kHz, not wrapped.
    pub dts: u64,
    /// The input timestamp (ms).
    pub timestamp_ms: u64,
    /// Decoding can start here: a video random access point, or any audio frame of an
    /// audio-only program. Such a unit always starts with PAT and PMT when it is video.
    pub random_access: bool,
    /// The packets start with PAT and PMT.
    pub psi: bool,
    /// Whole 188-byte packets.
    pub packets: Bytes,
}

impl TsUnit {
    /// The packets one by one.
    pub fn packets(&self) -> impl Iterator<Item = Bytes> + '_ {
        (0..self.packets.len() / TS_PACKET_SIZE).map(|i| {
            self.packets
                .slice(i * TS_PACKET_SIZE..(i + 1) * TS_PACKET_SIZE)
        })
    }
}

/// A payload the muxer could not use. The muxer stays usable: the caller logs and goes on.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum MuxError {
    /// A malformed FLV audio or video header.
    #[error("tag header: {0}")]
    Flv(#[from] FlvError),
    /// A malformed decoder configuration or NAL unit framing, or an AAC config ADTS cannot
    /// describe.
    #[error("codec data: {0}")]
    Codec(#[from] CodecError),
    /// A codec MPEG-TS output does not carry (here).
    #[error("{what} {codec} cannot be muxed into MPEG-TS")]
    Unsupported { what: &'static str, codec: String },
    /// Coded frames before their decoder configuration (sequence header).
    #[error("{track:?} frame before its sequence header")]
    MissingConfig { track: TsTrack },
    /// A field that does not fit (e.g. an audio PES over 64 KiB).
    #[error("transport stream: {0}")]
    Ts(#[from] TsError),
}

/// Builds a single-program transport stream from FLV audio and video payloads.
#[derive(Debug, Clone)]
pub struct TsMuxer {
    config: TsMuxerConfig,
    video: Option<VideoConfig>,
    audio: Option<AudioConfig>,
    /// The track set (stream types) announced in the current PMT version.
    announced: Option<(Option<u8>, Option<u8>)>,
    pmt_version: u8,
    psi_due: bool,
    last_psi_ms: Option<u64>,
    cc_pat: u8,
    cc_pmt: u8,
    cc_video: u8,
    cc_audio: u8,
    discontinuity: [bool; 2],
    scratch: Vec<u8>,
}

impl TsMuxer {
    pub fn new(config: TsMuxerConfig) -> Self {
        TsMuxer {
            config,
            video: None,
            audio: None,
            announced: None,
            pmt_version: 0,
            psi_due: true,
            last_psi_ms: None,
            cc_pat: 0,
            cc_pmt: 0,
            cc_video: 0,
            cc_audio: 0,
            discontinuity: [false; 2],
            scratch: Vec::new(),
        }
    }

    pub fn config(&self) -> &TsMuxerConfig {
        &self.config
    }

    /// Whether a video track is configured (its sequence header was seen).
    pub fn has_video(&self) -> bool {
        self.video.is_some()
    }

    /// Whether an audio track is configured (AAC sequence header, or MP3 frames seen).
    pub fn has_audio(&self) -> bool {
        self.audio.is_some()
    }

    /// Puts PAT and PMT before the next unit.
    pub fn force_psi(&mut self) {
        self.psi_due = true;
    }

    /// Forgets the tracks (a new publisher session may bring other codecs); sequence headers
    /// must come again. Continuity counters go on; the next packet of each PID carries the
    /// discontinuity indicator, since timestamps may jump.
    pub fn reset_tracks(&mut self) {
        self.video = None;
        self.audio = None;
        self.psi_due = true;
        self.discontinuity = [true; 2];
    }

    /// Muxes one video payload (FLV VIDEODATA: tag header and body). Sequence headers update
    /// the configuration and return `None`, as do end-of-sequence and command frames.
    pub fn push_video(
        &mut self,
        timestamp_ms: u64,
        payload: &[u8],
    ) -> Result<Option<TsUnit>, MuxError> {
        let (keyframe, cts, body) = match parse_video(payload)? {
            VideoInput::Nothing => return Ok(None),
            VideoInput::Config(c) => {
                self.video = Some(c);
                return Ok(None);
            }
            VideoInput::Frame {
                hevc,
                keyframe,
                composition_time,
                body,
            } => {
                let config_hevc = matches!(self.video, Some(VideoConfig::Hevc { .. }));
                if self.video.is_none() || config_hevc != hevc {
                    return Err(MuxError::MissingConfig {
                        track: TsTrack::Video,
                    });
                }
                (keyframe, composition_time, body)
            }
        };
        let mut es = std::mem::take(&mut self.scratch);
        es.clear();
        let result = match &self.video {
            Some(config) => write_video_access_unit(config, keyframe, body, &mut es),
            None => Err(MuxError::MissingConfig {
                track: TsTrack::Video,
            }),
        };
        let unit = result.and_then(|random_access| {
            let dts = (timestamp_ms + u64::from(self.config.delay_ms)) * 90;
            let pts = dts.saturating_add_signed(i64::from(cts) * 90).max(dts);
            self.write_unit(TsTrack::Video, timestamp_ms, pts, dts, random_access, &es)
        });
        self.scratch = es;
        unit.map(Some)
    }

    /// Muxes one audio payload (FLV AUDIODATA). AAC sequence headers update the configuration
    /// and return `None`.
    pub fn push_audio(
        &mut self,
        timestamp_ms: u64,
        payload: &[u8],
    ) -> Result<Option<TsUnit>, MuxError> {
        let mut es = std::mem::take(&mut self.scratch);
        es.clear();
        let result = match parse_audio(payload)? {
            AudioInput::Nothing => Ok(false),
            AudioInput::Config(c) => {
                self.audio = Some(c);
                Ok(false)
            }
            AudioInput::Aac(raw) => match &self.audio {
                Some(AudioConfig::Aac(asc)) => write_adts_frame(asc, raw, &mut es).map(|()| true),
                _ => Err(MuxError::MissingConfig {
                    track: TsTrack::Audio,
                }),
            },
            AudioInput::Mp3(config, data) => {
                if self.audio.as_ref() != Some(&config) {
                    self.audio = Some(config);
                }
                es.extend_from_slice(data);
                Ok(true)
            }
        };
        let unit = match result {
            Ok(true) => {
                let pts = (timestamp_ms + u64::from(self.config.delay_ms)) * 90;
                let random_access = self.video.is_none();
                self.write_unit(TsTrack::Audio, timestamp_ms, pts, pts, random_access, &es)
                    .map(Some)
            }
            Ok(false) => Ok(None),
            Err(e) => Err(e),
        };
        self.scratch = es;
        unit
    }

    /// PAT and PMT for the current tracks (continuity counters advance).
    pub fn psi_packets(&mut self) -> Result<Bytes, MuxError> {
        let mut out = Vec::with_capacity(2 * TS_PACKET_SIZE);
        self.write_psi(&mut out)?;
        Ok(Bytes::from(out))
    }

    fn track_types(&self) -> (Option<u8>, Option<u8>) {
        (
            self.video.as_ref().map(|v| v.stream_type().0),
            self.audio.as_ref().map(|a| a.stream_type().0),
        )
    }

    fn pcr_pid(&self) -> u16 {
        if self.video.is_some() {
            self.config.video_pid
        } else {
            self.config.audio_pid
        }
    }

    fn write_psi(&mut self, out: &mut Vec<u8>) -> Result<(), MuxError> {
        let tracks = self.track_types();
        if let Some(prev) = self.announced
            && prev != tracks
        {
            self.pmt_version = (self.pmt_version + 1) & 0x1f;
        }
        self.announced = Some(tracks);
        let c = &self.config;
        let mut section = Vec::with_capacity(64);
        Pat {
            transport_stream_id: c.transport_stream_id,
            version: 0,
            current_next: true,
            section_number: 0,
            last_section_number: 0,
            programs: vec![PatProgram {
                program_number: c.program_number,
                pid: c.pmt_pid,
            }],
        }
        .encode(&mut section)?;
        packetize_section(PID_PAT, &section, &mut self.cc_pat, out);
        let mut streams = Vec::with_capacity(2);
        if let Some(t) = tracks.0 {
            streams.push(PmtStream {
                stream_type: super::StreamType(t),
                pid: c.video_pid,
                es_info: Vec::new(),
            });
        }
        if let Some(t) = tracks.1 {
            streams.push(PmtStream {
                stream_type: super::StreamType(t),
                pid: c.audio_pid,
                es_info: Vec::new(),
            });
        }
        section.clear();
        Pmt {
            program_number: c.program_number,
            version: self.pmt_version,
            current_next: true,
            section_number: 0,
            last_section_number: 0,
            pcr_pid: self.pcr_pid(),
            program_info: Vec::new(),
            streams,
        }
        .encode(&mut section)?;
        packetize_section(c.pmt_pid, &section, &mut self.cc_pmt, out);
        Ok(())
    }

    /// Writes PSI if due, then the PES of `es` split into packets.
    fn write_unit(
        &mut self,
        track: TsTrack,
        timestamp_ms: u64,
        pts: u64,
        dts: u64,
        random_access: bool,
        es: &[u8],
    ) -> Result<TsUnit, MuxError> {
        let audio_only = self.video.is_none();
        let psi = self.psi_due
            || self.announced != Some(self.track_types())
            || (track == TsTrack::Video && random_access)
            || (audio_only
                && self.last_psi_ms.is_none_or(|last| {
                    timestamp_ms.saturating_sub(last) >= u64::from(self.config.psi_interval_ms)
                }));
        let (pid, sid) = match track {
            TsTrack::Video => (self.config.video_pid, stream_id::VIDEO_FIRST),
            TsTrack::Audio => (self.config.audio_pid, stream_id::AUDIO_FIRST),
        };
        let mut header = PesHeader::with_timestamps(sid, Some(pts), Some(dts));
        let after_length = header.encoded_len() - 6 + es.len();
        header.packet_length = match u16::try_from(after_length) {
            Ok(n) => n,
            // Only video may leave the length open.
            Err(_) if track == TsTrack::Video => 0,
            Err(_) => {
                return Err(MuxError::Ts(TsError::FieldOverflow {
                    what: "PES_packet_length",
                    value: after_length as u64,
                }));
            }
        };
        let packets_estimate = (header.encoded_len() + es.len()) / (TS_PACKET_SIZE - 4) + 4;
        let mut out = Vec::with_capacity(packets_estimate * TS_PACKET_SIZE);
        if psi {
            self.write_psi(&mut out)?;
            self.psi_due = false;
            self.last_psi_ms = Some(timestamp_ms);
        }
        let mut pes = Vec::with_capacity(header.encoded_len());
        header.encode(&mut pes)?;
        let pcr = (pid == self.pcr_pid()).then(|| Pcr::from_27mhz(timestamp_ms * 90 * 300));
        let slot = usize::from(track == TsTrack::Audio);
        let first_af = AdaptationField {
            discontinuity: std::mem::take(&mut self.discontinuity[slot]),
            random_access,
            pcr,
            ..AdaptationField::default()
        };
        let cc = match track {
            TsTrack::Video => &mut self.cc_video,
            TsTrack::Audio => &mut self.cc_audio,
        };
        write_pes_packets(pid, cc, &first_af, &pes, es, &mut out)?;
        Ok(TsUnit {
            track,
            pts,
            dts,
            timestamp_ms,
            random_access,
            psi,
            packets: Bytes::from(out),
        })
    }
}

/// Splits PES header + payload into packets on `pid`; the first carries payload_unit_start
/// and `first_af` (when it has content), the last is padded with adaptation stuffing.
fn write_pes_packets(
    pid: u16,
    cc: &mut u8,
    first_af: &AdaptationField<'_>,
    pes_header: &[u8],
    es: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), MuxError> {
    let total = pes_header.len() + es.len();
    let mut done = 0;
    // The PES header is short (≤ 19 bytes here): the first packet carries it and the start of
    // the payload, copied together so that stuffing is computed once.
    let mut first = Vec::with_capacity(TS_PACKET_SIZE);
    first.extend_from_slice(pes_header);
    let room =
        TS_PACKET_SIZE - 4 - first_af.min_encoded_len() * usize::from(first_af.has_content());
    let head = room.saturating_sub(pes_header.len()).min(es.len());
    first.extend_from_slice(&es[..head]);
    while done < total {
        let header = TsHeader {
            transport_error: false,
            payload_unit_start: done == 0,
            transport_priority: false,
            pid,
            scrambling_control: 0,
            adaptation_field_control: AdaptationFieldControl::PayloadOnly,
            continuity_counter: *cc,
        };
        *cc = (*cc + 1) & 0x0f;
        if done == 0 {
            let af = first_af.has_content().then_some(first_af);
            let n = encode_packet(&header, af, &first, out)?;
            done += n;
        } else {
            let from = done - pes_header.len();
            let n = encode_packet(&header, None, &es[from..], out)?;
            done += n;
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "mux_tests.rs"]
mod tests;
