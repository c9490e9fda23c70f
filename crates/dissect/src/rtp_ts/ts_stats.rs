//! MPEG-TS analysis of one stream of packets: continuity per PID, PCR timing, PAT/PMT
//! contents, PES timestamps, per-PID bitrates.

use std::collections::BTreeMap;

use rtmpkit_proto::mpegts::{
    CcCheck, ContinuityChecker, PID_PAT, Pat, Pcr, PesAssembler, Pmt, SYNC_BYTE, SectionAssembler,
    TS_PACKET_SIZE, TsError, TsPacket,
};

use super::ts_report::{
    CcError, MAX_EVENTS, MAX_PES_TIMINGS, PcrStats, PesStats, PesTiming, PidKind, PidStats, Seen,
    TableError, TsStats,
};
use crate::capture::Timestamp;

/// PCR/PTS/DTS wrap at 2^33 (90 kHz units).
const WRAP_90K: u64 = 1 << 33;
const WRAP_27M: u64 = WRAP_90K * 300;

enum Role {
    None,
    Psi {
        asm: SectionAssembler,
        last_crc: Option<u32>,
    },
    Pes {
        asm: PesAssembler,
        start_frame: u64,
    },
}

struct PidState {
    cc: ContinuityChecker,
    role: Role,
}

enum Table {
    Pat(Pat),
    Pmt(Pmt),
}

/// Analyses the packets of one transport stream.
#[derive(Default)]
pub struct TsAnalyzer {
    stats: TsStats,
    state: BTreeMap<u16, PidState>,
}

impl TsAnalyzer {
    /// An analyzer with nothing seen.
    pub fn new() -> Self {
        Self::default()
    }

    /// The statistics so far.
    pub fn stats(&self) -> &TsStats {
        &self.stats
    }

    /// Feeds a datagram payload of whole TS packets.
    pub fn push_datagram(&mut self, frame: u64, time: Timestamp, payload: &[u8]) {
        let mut chunks = payload.chunks_exact(TS_PACKET_SIZE);
        for chunk in &mut chunks {
            self.push_packet(frame, time, chunk);
        }
        self.stats.trailing_bytes += chunks.remainder().len() as u64;
    }

    /// Feeds one 188-byte packet.
    pub fn push_packet(&mut self, frame: u64, time: Timestamp, bytes: &[u8]) {
        if bytes.first() != Some(&SYNC_BYTE) {
            self.stats.sync_errors += 1;
            return;
        }
        let pkt = match TsPacket::decode(bytes) {
            Ok(p) => p,
            Err(_) => {
                self.stats.packet_errors += 1;
                return;
            }
        };
        self.stats.packets += 1;
        let h = pkt.header;
        let pid = h.pid;
        let st = self
            .stats
            .pids
            .entry(pid)
            .or_insert_with(|| PidStats::new(pid, frame, time));
        if st.packets == 0 {
            // Listed by a table before its first packet.
            st.first_frame = frame;
            st.first_time = time;
        }
        st.packets += 1;
        st.payload_bytes += pkt.payload.len() as u64;
        st.last_frame = frame;
        st.last_time = time;
        st.scrambled += u64::from(h.scrambling_control != 0);
        st.transport_errors += u64::from(h.transport_error);
        let af = pkt.adaptation.unwrap_or_default();
        st.random_access += u64::from(af.random_access);
        st.discontinuity_indicators += u64::from(af.discontinuity);
        let state = self.state.entry(pid).or_insert_with(|| PidState {
            cc: ContinuityChecker::default(),
            role: if pid == PID_PAT {
                Role::Psi {
                    asm: SectionAssembler::new(),
                    last_crc: None,
                }
            } else {
                Role::None
            },
        });
        let mut lost = false;
        match state.cc.check(&h, af.discontinuity) {
            CcCheck::Ok => {}
            CcCheck::Duplicate => {
                st.cc_duplicates += 1;
                return;
            }
            CcCheck::Error {
                expected, found, ..
            } => {
                lost = true;
                st.cc_errors += 1;
                if st.cc_error_events.len() < MAX_EVENTS {
                    st.cc_error_events.push(CcError {
                        frame,
                        expected,
                        found,
                    });
                }
            }
        }
        if let Some(pcr) = af.pcr {
            pcr_update(st, pcr, af.discontinuity, time);
        }
        if pkt.payload.is_empty() || h.scrambling_control != 0 {
            return;
        }
        let pusi = h.payload_unit_start;
        let mut tables = Vec::new();
        match &mut state.role {
            Role::None => {}
            Role::Psi { asm, last_crc } => {
                if lost {
                    asm.reset();
                }
                let errors = &mut self.stats.table_errors;
                let count = &mut self.stats.table_error_count;
                let mut report = |error| {
                    *count += 1;
                    if errors.len() < MAX_EVENTS {
                        errors.push(TableError { frame, pid, error });
                    }
                };
                asm.push(pusi, pkt.payload, |section| match section {
                    Err(e) => report(e),
                    Ok(bytes) => {
                        let crc = bytes.len().checked_sub(4).and_then(|at| bytes.get(at..));
                        let crc = crc.map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]));
                        if crc.is_some() && crc == *last_crc {
                            tables.push(None);
                            return;
                        }
                        let decoded = match bytes.first() {
                            Some(0x00) => Pat::decode(bytes).map(Table::Pat),
                            Some(0x02) => Pmt::decode(bytes).map(Table::Pmt),
                            _ => return, // other tables on a PSI PID: not analysed
                        };
                        match decoded {
                            Ok(t) => {
                                *last_crc = crc;
                                tables.push(Some(t));
                            }
                            Err(e) => report(e),
                        }
                    }
                });
            }
            Role::Pes { asm, start_frame } => {
                if lost {
                    asm.mark_incomplete();
                }
                let pes = st.pes.get_or_insert_with(PesStats::default);
                let start = *start_frame;
                asm.push(pusi, pkt.payload, |unit| pes_update(pes, start, unit));
                if pusi {
                    *start_frame = frame;
                }
            }
        }
        for t in tables {
            self.apply_table(pid, frame, t);
        }
    }

    /// Hands out PES packets still being collected (end of capture).
    pub fn finish(&mut self) {
        for (pid, state) in &mut self.state {
            if let Role::Pes { asm, start_frame } = &mut state.role
                && let Some(st) = self.stats.pids.get_mut(pid)
            {
                let pes = st.pes.get_or_insert_with(PesStats::default);
                let start = *start_frame;
                asm.flush(|unit| pes_update(pes, start, unit));
            }
        }
    }

    fn apply_table(&mut self, pid: u16, frame: u64, table: Option<Table>) {
        match table {
            None => {
                // Same content as before: count the repetition.
                if pid == PID_PAT {
                    if let Some(p) = self.stats.pat.as_mut() {
                        p.repeats += 1;
                    }
                } else if let Some(p) = self.stats.pmts.get_mut(&pid) {
                    p.repeats += 1;
                }
            }
            Some(Table::Pat(pat)) if pid == PID_PAT => {
                for pmt_pid in pat.pmt_pids() {
                    let program = pat
                        .programs
                        .iter()
                        .find(|p| p.pid == pmt_pid)
                        .map_or(0, |p| p.program_number);
                    self.set_role(pmt_pid, PidKind::Pmt { program }, true);
                }
                self.stats.pat_versions += 1;
                self.stats.pat = Some(Seen {
                    table: pat,
                    frame,
                    repeats: 0,
                });
            }
            Some(Table::Pmt(pmt)) => {
                for s in &pmt.streams {
                    let kind = PidKind::Elementary {
                        stream_type: s.stream_type,
                        codec: s.codec_name(),
                    };
                    self.set_role(s.pid, kind, false);
                }
                self.stats.pmts.insert(
                    pid,
                    Seen {
                        table: pmt,
                        frame,
                        repeats: 0,
                    },
                );
            }
            Some(Table::Pat(_)) => {} // a PAT on a PMT PID: ignored
        }
    }

    fn set_role(&mut self, pid: u16, kind: PidKind, psi: bool) {
        self.set_kind(pid, kind);
        let state = self.state.entry(pid).or_insert_with(|| PidState {
            cc: ContinuityChecker::default(),
            role: Role::None,
        });
        let fits = matches!(
            (&state.role, psi),
            (Role::Psi { .. }, true) | (Role::Pes { .. }, false)
        );
        if !fits {
            state.role = if psi {
                Role::Psi {
                    asm: SectionAssembler::new(),
                    last_crc: None,
                }
            } else {
                Role::Pes {
                    asm: PesAssembler::headers_only(pid),
                    start_frame: 0,
                }
            };
        }
    }

    /// Records what a PID carries; a PID announced before its first packet is listed with
    /// no packets yet.
    fn set_kind(&mut self, pid: u16, kind: PidKind) {
        self.stats
            .pids
            .entry(pid)
            .and_modify(|st| st.kind = kind)
            .or_insert_with(|| {
                let mut st = PidStats::new(pid, 0, Timestamp::default());
                st.kind = kind;
                st
            });
    }
}

fn pcr_update(st: &mut PidStats, pcr: Pcr, discontinuity: bool, time: Timestamp) {
    let ticks = pcr.to_27mhz();
    let arrival = time.as_secs_f64();
    match st.pcr.as_mut() {
        None => {
            st.pcr = Some(PcrStats {
                count: 1,
                first: pcr,
                last: pcr,
                min_interval_ms: f64::INFINITY,
                max_interval_ms: 0.0,
                intervals_over_100ms: 0,
                discontinuities: 0,
                jitter_min_ms: 0.0,
                jitter_max_ms: 0.0,
                last_27m: ticks,
                base_offset: arrival - ticks as f64 / 27e6,
            });
        }
        Some(p) => {
            p.count += 1;
            let delta = (ticks + WRAP_27M - p.last_27m) % WRAP_27M;
            let interval_ms = delta as f64 / 27_000.0;
            p.last = pcr;
            p.last_27m = ticks;
            if discontinuity || delta > WRAP_27M / 2 || interval_ms > 1000.0 {
                p.discontinuities += 1;
                // Restart the jitter reference at the new time base.
                p.base_offset = arrival - ticks as f64 / 27e6;
                return;
            }
            p.min_interval_ms = p.min_interval_ms.min(interval_ms);
            p.max_interval_ms = p.max_interval_ms.max(interval_ms);
            p.intervals_over_100ms += u64::from(interval_ms > 100.0);
            // Unwrap the PCR timeline relative to the base by tracking whole wraps.
            let pcr_secs = ticks as f64 / 27e6;
            let mut dev = arrival - pcr_secs - p.base_offset;
            let wrap_secs = WRAP_27M as f64 / 27e6;
            while dev > wrap_secs / 2.0 {
                dev -= wrap_secs;
            }
            let dev_ms = dev * 1000.0;
            p.jitter_min_ms = p.jitter_min_ms.min(dev_ms);
            p.jitter_max_ms = p.jitter_max_ms.max(dev_ms);
        }
    }
}

/// Signed difference a − b of 33-bit timestamps.
fn ts_diff(a: u64, b: u64) -> i64 {
    let d = (a + WRAP_90K - (b % WRAP_90K)) % WRAP_90K;
    if d >= WRAP_90K / 2 {
        d as i64 - WRAP_90K as i64
    } else {
        d as i64
    }
}

fn pes_update(
    pes: &mut PesStats,
    start_frame: u64,
    unit: Result<rtmpkit_proto::mpegts::PesUnit<'_>, TsError>,
) {
    let unit = match unit {
        Ok(u) => u,
        Err(_) => {
            pes.errors += 1;
            return;
        }
    };
    pes.count += 1;
    pes.incomplete += u64::from(unit.incomplete);
    pes.stream_id = unit.header.stream_id;
    let (pts, dts) = unit
        .header
        .optional
        .map_or((None, None), |o| (o.pts, o.dts));
    pes.with_pts += u64::from(pts.is_some());
    pes.with_dts += u64::from(dts.is_some());
    if let Some(p) = pts {
        if pes.last_pts.is_some_and(|l| ts_diff(p, l) < 0) {
            pes.pts_backwards += 1;
        }
        pes.last_pts = Some(p);
    }
    if let Some(d) = dts.or(pts) {
        if pes.last_decode.is_some_and(|l| ts_diff(d, l) < 0) {
            pes.decode_time_backwards += 1;
        }
        pes.last_decode = Some(d);
    }
    if pes.timings.len() < MAX_PES_TIMINGS {
        pes.timings.push(PesTiming {
            frame: start_frame,
            pts,
            dts,
            len: unit.total_len,
        });
    } else {
        pes.timings_dropped += 1;
    }
}
