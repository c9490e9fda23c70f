#![no_main]
//! Arbitrary bytes as a capture file (after a valid pcap or pcapng header chosen by the first
//! byte): reading, link/IP/TCP/UDP decoding, TCP reassembly and RTP/TS analysis never panic
//! and always end.

use libfuzzer_sys::fuzz_target;
use rtmpkit_dissect::write::{PcapNgWriter, PcapWriter};
use rtmpkit_dissect::{DiscardStreams, LinkType, RtpTsAnalyzer, TcpReassembler, run_capture};

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let links = [
        LinkType::ETHERNET,
        LinkType::RAW,
        LinkType::NULL,
        LinkType::LINUX_SLL,
        LinkType::LINUX_SLL2,
    ];
    let link = links[usize::from(sel >> 1) % links.len()];
    let mut file = if sel & 1 == 0 {
        PcapWriter::new(link, 65535, false).into_bytes()
    } else {
        let mut w = PcapNgWriter::new();
        w.interface(link, 0, 6);
        w.into_bytes()
    };
    file.extend_from_slice(rest);
    let mut tcp = TcpReassembler::default();
    let mut udp = RtpTsAnalyzer::default();
    let _ = run_capture(file.as_slice(), &mut tcp, &mut DiscardStreams, |f, t, d| {
        udp.push(f, t, d);
    });
    udp.finish();
});
