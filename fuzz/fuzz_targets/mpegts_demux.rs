#![no_main]
//! Arbitrary bytes as a TS stream: packets, adaptation fields, continuity, PSI sections
//! (PAT/PMT/descriptors) and PES reassembly must never panic; decoded tables re-encode to a
//! section that decodes to the same table.

use libfuzzer_sys::fuzz_target;
use rtmpkit_proto::mpegts::{
    ContinuityChecker, Descriptor, Pat, PesAssembler, PesHeader, Pmt, SectionAssembler, TsPacket,
};

fuzz_target!(|data: &[u8]| {
    let mut psi = SectionAssembler::new();
    let mut pes = PesAssembler::new(0x100, 1 << 16);
    let mut cc = ContinuityChecker::default();
    for chunk in data.chunks(188) {
        let mut pkt = [0x47u8; 188];
        pkt[..chunk.len()].copy_from_slice(chunk);
        pkt[0] = 0x47;
        let Ok(p) = TsPacket::decode(&pkt) else {
            continue;
        };
        cc.check(&p.header, p.adaptation.is_some_and(|a| a.discontinuity));
        let pusi = p.header.payload_unit_start;
        if p.header.pid & 1 == 0 {
            psi.push(pusi, p.payload, |s| {
                let Ok(s) = s else { return };
                if let Ok(pat) = Pat::decode(s) {
                    let mut out = Vec::new();
                    if pat.encode(&mut out).is_ok() {
                        assert_eq!(Pat::decode(&out).ok(), Some(pat));
                    }
                }
                if let Ok(pmt) = Pmt::decode(s) {
                    for st in &pmt.streams {
                        let _ = st.codec_name();
                        for d in Descriptor::iter(&st.es_info) {
                            let _ = d;
                        }
                    }
                    let mut out = Vec::new();
                    if pmt.encode(&mut out).is_ok() {
                        assert_eq!(Pmt::decode(&out).ok(), Some(pmt));
                    }
                }
            });
        } else {
            pes.push(pusi, p.payload, |u| {
                if let Ok(u) = u {
                    let mut out = Vec::new();
                    if u.header.encode(&mut out).is_ok() {
                        let back = PesHeader::decode(&out).map(|(h, _)| h);
                        assert_eq!(back.ok(), Some(u.header));
                    }
                }
            });
        }
    }
    pes.flush(|_| {});
    let _ = PesHeader::decode(data);
});
