//! Checks a transport stream twice: with the `mpeg2ts-reader` crate (written by others) and
//! with rtmpkit's own parser from the dissector.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

use mpeg2ts_reader::{StreamType, demultiplex, packet, pes, psi};
use rtmpkit_proto::mpegts::{
    CcCheck, ContinuityChecker, PID_PAT, Pat, PesAssembler, Pmt, SectionAssembler,
    TIMESTAMP_MODULUS, TsPacket,
};

/// What a stream holds.
#[derive(Debug, Default, Clone)]
pub struct TsReport {
    /// stream_type per elementary PID (from the PMT, CRC checked).
    pub streams: BTreeMap<u16, u8>,
    /// PES packets per PID.
    pub pes: BTreeMap<u16, usize>,
    pub cc_errors: usize,
    pub pcr_count: usize,
    pub pcr_pids: Vec<u16>,
    pub pat_count: usize,
}

thread_local! {
    static EXTERNAL: RefCell<ExternalState> = RefCell::new(ExternalState::default());
}

#[derive(Default)]
struct ExternalState {
    streams: BTreeMap<u16, u8>,
    pes: BTreeMap<u16, usize>,
    /// Last DTS (or PTS) per PID, unwrapped.
    last: HashMap<u16, u64>,
    cc_errors: usize,
    problems: Vec<String>,
}

mpeg2ts_reader::packet_filter_switch! {
    CheckFilterSwitch<CheckDemuxContext> {
        Pes: pes::PesPacketFilter<CheckDemuxContext, PesCheck>,
        Pat: demultiplex::PatPacketFilter<CheckDemuxContext>,
        Pmt: demultiplex::PmtPacketFilter<CheckDemuxContext>,
        Null: demultiplex::NullPacketFilter<CheckDemuxContext>,
    }
}
mpeg2ts_reader::demux_context!(CheckDemuxContext, CheckFilterSwitch);

impl CheckDemuxContext {
    fn do_construct(&mut self, req: demultiplex::FilterRequest<'_, '_>) -> CheckFilterSwitch {
        match req {
            demultiplex::FilterRequest::ByPid(psi::pat::PAT_PID) => {
                CheckFilterSwitch::Pat(demultiplex::PatPacketFilter::default())
            }
            demultiplex::FilterRequest::ByPid(_) | demultiplex::FilterRequest::Nit { .. } => {
                CheckFilterSwitch::Null(demultiplex::NullPacketFilter::default())
            }
            demultiplex::FilterRequest::ByStream {
                stream_type,
                stream_info,
                ..
            } => {
                let pid = u16::from(stream_info.elementary_pid());
                EXTERNAL.with(|e| e.borrow_mut().streams.insert(pid, stream_type.0));
                let _: StreamType = stream_type;
                CheckFilterSwitch::Pes(pes::PesPacketFilter::new(PesCheck { pid }))
            }
            demultiplex::FilterRequest::Pmt {
                pid,
                program_number,
            } => CheckFilterSwitch::Pmt(demultiplex::PmtPacketFilter::new(pid, program_number)),
        }
    }
}

pub struct PesCheck {
    pid: u16,
}

impl pes::ElementaryStreamConsumer<CheckDemuxContext> for PesCheck {
    fn start_stream(&mut self, _ctx: &mut CheckDemuxContext) {}

    fn begin_packet(&mut self, _ctx: &mut CheckDemuxContext, header: pes::PesHeader<'_>) {
        EXTERNAL.with(|e| {
            let mut e = e.borrow_mut();
            *e.pes.entry(self.pid).or_default() += 1;
            let times = match header.contents() {
                pes::PesContents::Parsed(Some(parsed)) => match parsed.pts_dts() {
                    Ok(pes::PtsDts::PtsOnly(Ok(pts))) => Some((pts.value(), pts.value())),
                    Ok(pes::PtsDts::Both {
                        pts: Ok(pts),
                        dts: Ok(dts),
                    }) => Some((pts.value(), dts.value())),
                    _ => None,
                },
                _ => None,
            };
            let Some((pts, dts)) = times else {
                e.problems
                    .push(format!("PID {}: PES without valid PTS", self.pid));
                return;
            };
            // PTS ≥ DTS modulo 2^33, DTS never going back.
            if (pts + TIMESTAMP_MODULUS - dts) % TIMESTAMP_MODULUS > TIMESTAMP_MODULUS / 2 {
                e.problems
                    .push(format!("PID {}: PTS {pts} before DTS {dts}", self.pid));
            }
            let unwrapped = match e.last.get(&self.pid) {
                Some(&last) => {
                    let step =
                        (dts + TIMESTAMP_MODULUS - last % TIMESTAMP_MODULUS) % TIMESTAMP_MODULUS;
                    if step > TIMESTAMP_MODULUS / 2 {
                        e.problems
                            .push(format!("PID {}: DTS went back at {dts}", self.pid));
                    }
                    last + step
                }
                None => dts,
            };
            e.last.insert(self.pid, unwrapped);
        });
    }

    fn continue_packet(&mut self, _ctx: &mut CheckDemuxContext, _data: &[u8]) {}

    fn end_packet(&mut self, _ctx: &mut CheckDemuxContext) {}

    fn continuity_error(&mut self, _ctx: &mut CheckDemuxContext) {
        EXTERNAL.with(|e| e.borrow_mut().cc_errors += 1);
    }
}

/// Checks `ts` (whole packets) and returns what it found; panics on any error: a continuity
/// counter error, a bad CRC (the PMT would not be found), PCR or DTS going back, PTS before DTS.
pub fn check_ts(ts: &[u8]) -> TsReport {
    assert_eq!(ts.len() % 188, 0, "whole 188-byte packets");
    // The crate's demultiplexer.
    EXTERNAL.with(|e| *e.borrow_mut() = ExternalState::default());
    let mut ctx = CheckDemuxContext::new();
    let mut demux = demultiplex::Demultiplex::new(&mut ctx);
    demux.push(&mut ctx, ts);
    let external = EXTERNAL.with(|e| std::mem::take(&mut *e.borrow_mut()));
    assert!(
        external.problems.is_empty(),
        "mpeg2ts-reader: {:?}",
        external.problems
    );
    assert_eq!(
        external.cc_errors, 0,
        "mpeg2ts-reader saw continuity errors"
    );
    assert!(
        !external.streams.is_empty(),
        "mpeg2ts-reader found no PMT streams"
    );
    // PCRs from the crate's packet parser.
    let mut pcrs: Vec<(u16, u64)> = Vec::new();
    for p in ts.chunks(188) {
        let p = packet::Packet::new(p);
        if let Some(af) = p.adaptation_field()
            && let Ok(pcr) = af.pcr()
        {
            pcrs.push((u16::from(p.pid()), u64::from(pcr)));
        }
    }
    // rtmpkit's parser: CC, PSI with CRC, PES headers.
    let mut cc: HashMap<u16, ContinuityChecker> = HashMap::new();
    let mut sections: HashMap<u16, SectionAssembler> = HashMap::new();
    let mut assemblers: HashMap<u16, PesAssembler> = HashMap::new();
    let mut report = TsReport {
        pcr_count: pcrs.len(),
        ..TsReport::default()
    };
    let mut pmt_pid = None;
    let mut own_pes: BTreeMap<u16, usize> = BTreeMap::new();
    for chunk in ts.chunks(188) {
        let p = TsPacket::decode(chunk).expect("rtmpkit decodes the packet");
        let pid = p.header.pid;
        let disc = p.adaptation.is_some_and(|a| a.discontinuity);
        if !matches!(
            cc.entry(pid).or_default().check(&p.header, disc),
            CcCheck::Ok
        ) {
            report.cc_errors += 1;
        }
        let pusi = p.header.payload_unit_start;
        if pid == PID_PAT || Some(pid) == pmt_pid {
            let mut found = Vec::new();
            sections
                .entry(pid)
                .or_default()
                .push(pusi, p.payload, |s| found.push(s.map(<[u8]>::to_vec)));
            for s in found {
                let s = s.expect("section framing");
                if pid == PID_PAT {
                    pmt_pid = Pat::decode(&s).expect("PAT CRC").pmt_pids().next();
                    report.pat_count += 1;
                } else {
                    let pmt = Pmt::decode(&s).expect("PMT CRC");
                    for st in pmt.streams {
                        report.streams.insert(st.pid, st.stream_type.0);
                    }
                    if !report.pcr_pids.contains(&pmt.pcr_pid) {
                        report.pcr_pids.push(pmt.pcr_pid);
                    }
                }
            }
        } else if report.streams.contains_key(&pid) {
            assemblers
                .entry(pid)
                .or_insert_with(|| PesAssembler::headers_only(pid))
                .push(pusi, p.payload, |u| {
                    u.expect("PES header");
                    *own_pes.entry(pid).or_default() += 1;
                });
        }
    }
    for (pid, a) in assemblers.iter_mut() {
        a.flush(|u| {
            u.expect("PES header");
            *own_pes.entry(*pid).or_default() += 1;
        });
    }
    assert_eq!(
        report.cc_errors, 0,
        "rtmpkit's checker saw continuity errors"
    );
    assert_eq!(
        report.streams, external.streams,
        "both readers see the same streams"
    );
    assert_eq!(
        own_pes, external.pes,
        "both readers count the same PES packets"
    );
    // PCR: one PID (the PMT's), never going back.
    for w in pcrs.windows(2) {
        assert_eq!(w[0].0, w[1].0, "PCR on one PID");
        let modulus = TIMESTAMP_MODULUS * 300;
        let step = (w[1].1 + modulus - w[0].1) % modulus;
        assert!(step < modulus / 2, "PCR went back: {:?}", w);
    }
    if let Some((pid, _)) = pcrs.first() {
        assert!(report.pcr_pids.contains(pid), "PCR on the PMT's PCR_PID");
    }
    report.pes = external.pes;
    report
}
