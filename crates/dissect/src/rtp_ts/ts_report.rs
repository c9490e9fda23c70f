//! The MPEG-TS statistics a [`TsAnalyzer`](super::TsAnalyzer) produces: plain data for views.

use std::collections::BTreeMap;

use rtmpkit_proto::mpegts::{
    PID_NULL, PID_PAT, Pat, Pcr, Pmt, StreamType, TS_PACKET_SIZE, TsError,
};

use crate::capture::Timestamp;

/// Most event records (CC errors, table errors) kept per list.
pub const MAX_EVENTS: usize = 1000;
/// Most PES timing records kept per PID.
pub const MAX_PES_TIMINGS: usize = 200_000;

/// What a PID carries, as learned from PAT and PMT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PidKind {
    /// PID 0.
    Pat,
    /// A program map table of `program`.
    Pmt { program: u16 },
    /// An elementary stream listed in a PMT.
    Elementary {
        stream_type: StreamType,
        codec: &'static str,
    },
    /// 0x1FFF stuffing.
    Null,
    /// Not (yet) listed in any table.
    Unknown,
}

/// A continuity counter jump.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CcError {
    /// Frame of the packet.
    pub frame: u64,
    /// Counter that was due.
    pub expected: u8,
    /// Counter found.
    pub found: u8,
}

/// PCR timing of a PID.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PcrStats {
    /// PCRs seen.
    pub count: u64,
    /// First PCR.
    pub first: Pcr,
    /// Last PCR.
    pub last: Pcr,
    /// Smallest interval between consecutive PCRs, ms (PCR clock).
    pub min_interval_ms: f64,
    /// Largest interval, ms (the standard asks for ≤ 100 ms).
    pub max_interval_ms: f64,
    /// Intervals over 100 ms.
    pub intervals_over_100ms: u64,
    /// PCRs that went backwards, jumped over 1 s, or carried the discontinuity indicator.
    pub discontinuities: u64,
    /// Smallest (arrival time − PCR time) relative to the first PCR, ms.
    pub jitter_min_ms: f64,
    /// Largest (arrival time − PCR time) relative to the first PCR, ms.
    pub jitter_max_ms: f64,
    pub(super) last_27m: u64,
    pub(super) base_offset: f64,
}

impl PcrStats {
    /// Peak-to-peak PCR arrival jitter, ms.
    pub fn jitter_ms(&self) -> f64 {
        self.jitter_max_ms - self.jitter_min_ms
    }
}

/// Timestamps of one PES packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PesTiming {
    /// Frame that carried the PES header.
    pub frame: u64,
    /// Presentation timestamp (90 kHz).
    pub pts: Option<u64>,
    /// Decoding timestamp (90 kHz).
    pub dts: Option<u64>,
    /// Bytes of the PES packet.
    pub len: usize,
}

/// PES statistics of an elementary PID.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PesStats {
    /// PES packets.
    pub count: u64,
    /// PES packets with lost TS packets or shorter than their declared length.
    pub incomplete: u64,
    /// PES packets that did not parse.
    pub errors: u64,
    /// stream_id of the last PES.
    pub stream_id: u8,
    /// PES packets with a PTS.
    pub with_pts: u64,
    /// PES packets with a DTS.
    pub with_dts: u64,
    /// Decode timestamps (DTS, else PTS) that went backwards (should be 0).
    pub decode_time_backwards: u64,
    /// PTS that went backwards (normal for video with B-frames, 0 for audio).
    pub pts_backwards: u64,
    /// Per-PES timings, first [`MAX_PES_TIMINGS`].
    pub timings: Vec<PesTiming>,
    /// Timings not kept.
    pub timings_dropped: u64,
    pub(super) last_pts: Option<u64>,
    pub(super) last_decode: Option<u64>,
}

/// Statistics of one PID.
#[derive(Debug, Clone, PartialEq)]
pub struct PidStats {
    /// The PID.
    pub pid: u16,
    /// What it carries.
    pub kind: PidKind,
    /// TS packets.
    pub packets: u64,
    /// Payload bytes (after header and adaptation field).
    pub payload_bytes: u64,
    /// Frame and time of the first packet.
    pub first_frame: u64,
    /// Frame of the last packet.
    pub last_frame: u64,
    /// Time of the first packet.
    pub first_time: Timestamp,
    /// Time of the last packet.
    pub last_time: Timestamp,
    /// Continuity counter errors.
    pub cc_errors: u64,
    /// Duplicate packets (same counter, allowed once).
    pub cc_duplicates: u64,
    /// The first [`MAX_EVENTS`] continuity errors.
    pub cc_error_events: Vec<CcError>,
    /// Packets with scrambling control ≠ 0.
    pub scrambled: u64,
    /// Packets with transport_error_indicator.
    pub transport_errors: u64,
    /// Packets with random_access_indicator (keyframes).
    pub random_access: u64,
    /// Packets with discontinuity_indicator.
    pub discontinuity_indicators: u64,
    /// PCR timing when the PID carries PCRs.
    pub pcr: Option<PcrStats>,
    /// PES statistics for elementary streams.
    pub pes: Option<PesStats>,
}

impl PidStats {
    pub(super) fn new(pid: u16, frame: u64, time: Timestamp) -> Self {
        PidStats {
            pid,
            kind: match pid {
                PID_PAT => PidKind::Pat,
                PID_NULL => PidKind::Null,
                _ => PidKind::Unknown,
            },
            packets: 0,
            payload_bytes: 0,
            first_frame: frame,
            last_frame: frame,
            first_time: time,
            last_time: time,
            cc_errors: 0,
            cc_duplicates: 0,
            cc_error_events: Vec::new(),
            scrambled: 0,
            transport_errors: 0,
            random_access: 0,
            discontinuity_indicators: 0,
            pcr: None,
            pes: None,
        }
    }

    /// Average bitrate over the PID's lifetime in the capture (188-byte packets), bit/s.
    pub fn bitrate_bps(&self) -> Option<f64> {
        let secs = (self.last_time.as_nanos() - self.first_time.as_nanos()) as f64 / 1e9;
        (secs > 0.0 && self.packets > 1)
            .then(|| (self.packets - 1) as f64 * (TS_PACKET_SIZE * 8) as f64 / secs)
    }
}

/// A PSI problem: bad CRC, bad framing, a table that did not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableError {
    /// Frame of the packet that completed (or broke) the section.
    pub frame: u64,
    /// PID of the table.
    pub pid: u16,
    /// What was wrong.
    pub error: TsError,
}

/// A table and where it was (last) seen with this content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen<T> {
    /// The table.
    pub table: T,
    /// Frame of its first occurrence with this content.
    pub frame: u64,
    /// Times this content was repeated.
    pub repeats: u64,
}

/// Statistics of one transport stream.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TsStats {
    /// TS packets.
    pub packets: u64,
    /// 188-byte slots not starting with 0x47.
    pub sync_errors: u64,
    /// Bytes after the last whole packet of a datagram.
    pub trailing_bytes: u64,
    /// Packets that did not parse (bad adaptation field).
    pub packet_errors: u64,
    /// The current PAT.
    pub pat: Option<Seen<Pat>>,
    /// PAT contents seen (changes count).
    pub pat_versions: u64,
    /// The current PMT per PMT PID.
    pub pmts: BTreeMap<u16, Seen<Pmt>>,
    /// PSI problems, first [`MAX_EVENTS`].
    pub table_errors: Vec<TableError>,
    /// Number of PSI problems.
    pub table_error_count: u64,
    /// Per-PID statistics.
    pub pids: BTreeMap<u16, PidStats>,
}

impl TsStats {
    /// Total continuity errors over all PIDs.
    pub fn cc_errors(&self) -> u64 {
        self.pids.values().map(|p| p.cc_errors).sum()
    }
}
