//! The MPEG-TS muxer on arbitrary FLV payloads: a stream of (kind, timestamp step, payload)
//! records. Nothing may panic; every unit is whole 188-byte packets starting with 0x47, and
//! continuity counters stay continuous per PID.

#![no_main]

use std::collections::HashMap;

use libfuzzer_sys::fuzz_target;
use rtmpkit_proto::mpegts::{
    CcCheck, ContinuityChecker, TS_PACKET_SIZE, TsMuxer, TsMuxerConfig, TsPacket,
};

fuzz_target!(|data: &[u8]| {
    let mut muxer = TsMuxer::new(TsMuxerConfig::default());
    let mut cc: HashMap<u16, ContinuityChecker> = HashMap::new();
    let mut rest = data;
    let mut ts: u64 = u64::from(u32::MAX) * 2; // near the 33-bit wrap of 90 kHz time
    while let [kind, step, len, tail @ ..] = rest {
        let n = usize::from(*len).min(tail.len());
        let (payload, after) = tail.split_at(n);
        rest = after;
        ts += u64::from(*step);
        let unit = match kind % 5 {
            0 | 1 => muxer.push_video(ts, payload),
            2 | 3 => muxer.push_audio(ts, payload),
            _ => {
                if kind & 0x10 != 0 {
                    muxer.reset_tracks();
                } else {
                    muxer.force_psi();
                }
                continue;
            }
        };
        let Ok(Some(unit)) = unit else { continue };
        assert_eq!(unit.packets.len() % TS_PACKET_SIZE, 0);
        assert!(unit.pts >= unit.dts);
        for p in unit.packets.chunks(TS_PACKET_SIZE) {
            let p = TsPacket::decode(p).expect("muxer output decodes");
            let disc = p.adaptation.is_some_and(|a| a.discontinuity);
            let check = cc.entry(p.header.pid).or_default().check(&p.header, disc);
            assert_eq!(check, CcCheck::Ok);
        }
    }
});
