#![no_main]
//! Arbitrary datagrams as RTP: decoding never panics, and what decodes re-encodes byte for
//! byte (padding bytes other than the count are written as zero, so compare decoded forms).

use libfuzzer_sys::fuzz_target;
use rtmpkit_proto::rtp::RtpPacket;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = RtpPacket::decode(data) {
        let mut out = Vec::new();
        p.encode(&mut out).expect("decoded packet re-encodes");
        let back = RtpPacket::decode(&out).expect("re-encoded packet decodes");
        assert_eq!(back, p);
    }
});
