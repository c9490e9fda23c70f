//! Whole-pipeline tests on synthetic pcap and pcapng files: link layers, TCP reassembly
//! with out-of-order, retransmitted, overlapping and lost segments, RTP/TS over UDP, and
//! damaged files.

use std::collections::BTreeMap;
use std::net::IpAddr;

use rtmpkit_dissect::write::{PcapNgWriter, PcapWriter, build};
use rtmpkit_dissect::{
    CaptureErrorKind, CaptureSummary, CloseReason, ConnectionInfo, Direction, LinkType,
    OffsetFrameMap, RtpTsAnalyzer, StreamEvent, TcpReassembler, Timestamp, run_capture,
};

const SYN: u8 = 0x02;
const ACK: u8 = 0x10;
const PSH_ACK: u8 = 0x18;
const FIN_ACK: u8 = 0x11;

/// What a test saw per connection and direction.
#[derive(Default)]
struct Streams {
    data: BTreeMap<(u64, Direction), Vec<u8>>,
    gaps: Vec<(u64, Direction, u64, u64, u64)>,
    closed: Vec<(u64, Direction, CloseReason)>,
    infos: BTreeMap<u64, ConnectionInfo>,
    maps: BTreeMap<(u64, Direction), OffsetFrameMap>,
}

impl Streams {
    fn sink(&mut self) -> impl FnMut(&ConnectionInfo, Direction, StreamEvent<'_>) + '_ {
        |c, d, ev| {
            self.infos.insert(c.index, *c);
            match ev {
                StreamEvent::Data {
                    frame,
                    stream_offset,
                    bytes,
                } => {
                    let buf = self.data.entry((c.index, d)).or_default();
                    assert_eq!(stream_offset as usize, buf.len());
                    buf.extend_from_slice(bytes);
                    self.maps.entry((c.index, d)).or_default().record(
                        stream_offset,
                        bytes.len(),
                        frame,
                    );
                }
                StreamEvent::Gap { frame, from, len } => {
                    let buf = self.data.entry((c.index, d)).or_default();
                    assert_eq!(from as usize, buf.len());
                    buf.extend(std::iter::repeat_n(b'?', len as usize));
                    self.gaps.push((c.index, d, frame, from, len));
                }
                StreamEvent::Closed { reason, .. } => self.closed.push((c.index, d, reason)),
            }
        }
    }
}

fn run(bytes: &[u8], udp: &mut RtpTsAnalyzer) -> (Streams, CaptureSummary) {
    let mut s = Streams::default();
    let mut tcp = TcpReassembler::default();
    let sum = {
        let mut sink = s.sink();
        run_capture(bytes, &mut tcp, &mut sink, |f, t, d| {
            udp.push(f, t, d);
        })
        .unwrap()
    };
    udp.finish();
    (s, sum)
}

fn t(ms: u64) -> Timestamp {
    Timestamp {
        secs: 1_700_000_000 + (ms / 1000) as i64,
        nanos: ((ms % 1000) * 1_000_000) as u32,
    }
}

/// A TCP conversation: (from client?, seq offset relative to ISN+1, flags, payload).
struct Conv {
    client: (IpAddr, u16),
    server: (IpAddr, u16),
    c_isn: u32,
    s_isn: u32,
}

impl Conv {
    fn ip_packet(
        &self,
        from_client: bool,
        rel_seq: u32,
        rel_ack: u32,
        flags: u8,
        payload: &[u8],
    ) -> Vec<u8> {
        let (src, dst) = if from_client {
            (self.client, self.server)
        } else {
            (self.server, self.client)
        };
        let (isn, peer) = if from_client {
            (self.c_isn, self.s_isn)
        } else {
            (self.s_isn, self.c_isn)
        };
        let seq = if flags & SYN != 0 {
            isn
        } else {
            isn.wrapping_add(1).wrapping_add(rel_seq)
        };
        let ack = if flags & ACK != 0 {
            peer.wrapping_add(1).wrapping_add(rel_ack)
        } else {
            0
        };
        let seg = build::tcp(src.0, dst.0, src.1, dst.1, seq, ack, flags, payload);
        build::ip(src.0, dst.0, 6, &seg)
    }
}

/// Client sends "0123456789ABCDEFGHIJ" in 5 segments of 4 with trouble; server replies.
/// Returns IP packets and the expected client→server stream.
fn troubled_conversation(conv: &Conv) -> Vec<Vec<u8>> {
    let c = |seq, ack, flags, p: &[u8]| conv.ip_packet(true, seq, ack, flags, p);
    let s = |seq, ack, flags, p: &[u8]| conv.ip_packet(false, seq, ack, flags, p);
    vec![
        c(0, 0, SYN, b""),          // 1
        s(0, 0, SYN | ACK, b""),    // 2
        c(0, 0, ACK, b""),          // 3
        c(0, 0, PSH_ACK, b"0123"),  // 4
        c(8, 0, PSH_ACK, b"89AB"),  // 5 out of order (4..8 late)
        c(4, 0, PSH_ACK, b"4567"),  // 6 fills the hole
        c(4, 0, PSH_ACK, b"4567"),  // 7 retransmission
        c(10, 0, PSH_ACK, b"ABCD"), // 8 overlaps 10..12
        // 14..16 is lost in the capture ("EF").
        c(16, 0, PSH_ACK, b"GHIJ"), // 9 waits
        s(0, 20, PSH_ACK, b"ok"),   // 10 acks 20: the hole is lost -> gap
        c(20, 2, FIN_ACK, b""),     // 11
        s(2, 21, FIN_ACK, b""),     // 12
        c(21, 3, ACK, b""),         // 13
    ]
}

fn check_troubled(s: &Streams, index: u64) {
    assert_eq!(
        s.data[&(index, Direction::ClientToServer)],
        b"0123456789ABCD??GHIJ"
    );
    assert_eq!(s.data[&(index, Direction::ServerToClient)], b"ok");
    assert!(
        s.gaps
            .contains(&(index, Direction::ClientToServer, 10, 14, 2)),
        "{:?}",
        s.gaps
    );
    assert!(
        s.closed
            .contains(&(index, Direction::ClientToServer, CloseReason::Fin))
    );
    assert!(
        s.closed
            .contains(&(index, Direction::ServerToClient, CloseReason::Fin))
    );
    // Offsets map back to the frames that carried them.
    let map = &s.maps[&(index, Direction::ClientToServer)];
    assert_eq!(map.frame_at(0), Some(4));
    assert_eq!(map.frame_at(5), Some(6));
    assert_eq!(map.frame_at(9), Some(5));
    assert_eq!(map.frame_at(12), Some(8));
    assert_eq!(map.frame_at(17), Some(9));
}

#[test]
fn ethernet_qinq_ipv4_pcap() {
    let conv = Conv {
        client: ("192.168.1.10".parse().unwrap(), 51000),
        server: ("192.168.1.1".parse().unwrap(), 1935),
        c_isn: 0xffff_fff0, // wraps during the stream
        s_isn: 77,
    };
    let mut w = PcapWriter::new(LinkType::ETHERNET, 65535, false);
    for (i, p) in troubled_conversation(&conv).iter().enumerate() {
        w.packet(t(i as u64), &build::ethernet(&[100, 200], p), 0);
    }
    let (s, sum) = run(&w.into_bytes(), &mut RtpTsAnalyzer::default());
    assert_eq!((sum.frames, sum.tcp_segments), (13, 13));
    assert!(sum.decode_errors.is_empty() && sum.capture_errors.is_empty());
    check_troubled(&s, 0);
    let info = s.infos[&0];
    assert!(info.syn_seen);
    assert_eq!(info.server.port(), 1935);
}

#[test]
fn sll2_ipv6_pcapng_with_two_connections() {
    let conv_a = Conv {
        client: ("2001:db8::10".parse().unwrap(), 40000),
        server: ("2001:db8::1".parse().unwrap(), 1935),
        c_isn: 1000,
        s_isn: 2000,
    };
    let conv_b = Conv {
        client: ("10.1.1.1".parse().unwrap(), 40001),
        server: ("10.1.1.2".parse().unwrap(), 80),
        c_isn: 5,
        s_isn: 6,
    };
    let mut w = PcapNgWriter::new();
    let sll2 = w.interface(LinkType::LINUX_SLL2, 262_144, 9);
    let raw = w.interface(LinkType::RAW, 262_144, 6);
    // Interleave: a packet of B before A's conversation (B gets index 0).
    w.packet(raw, t(0), &conv_b.ip_packet(true, 0, 0, SYN, b""), 0);
    for (i, p) in troubled_conversation(&conv_a).iter().enumerate() {
        w.packet(sll2, t(1 + i as u64), &build::sll2(p), 0);
    }
    w.packet(
        raw,
        t(50),
        &conv_b.ip_packet(true, 0, 0, PSH_ACK, b"GET /"),
        0,
    );
    let (s, sum) = run(&w.into_bytes(), &mut RtpTsAnalyzer::default());
    assert_eq!(sum.tcp_segments, 15);
    assert_eq!(s.infos[&0].client.port(), 40001);
    assert_eq!(s.infos[&1].client.ip(), conv_a.client.0);
    assert_eq!(s.data[&(0, Direction::ClientToServer)], b"GET /");
    // Frame numbers shift by one: the B packet is frame 1.
    assert_eq!(
        s.data[&(1, Direction::ClientToServer)],
        b"0123456789ABCD??GHIJ"
    );
    assert!(s.gaps.contains(&(1, Direction::ClientToServer, 11, 14, 2)));
    assert!(
        s.closed
            .contains(&(0, Direction::ClientToServer, CloseReason::EndOfCapture))
    );
}

#[test]
fn truncated_capture_still_delivers_what_it_has() {
    let conv = Conv {
        client: ("127.0.0.1".parse().unwrap(), 50000),
        server: ("127.0.0.1".parse().unwrap(), 1935),
        c_isn: 1,
        s_isn: 2,
    };
    let mut w = PcapWriter::new(LinkType::NULL, 65535, true);
    let pkts = troubled_conversation(&conv);
    for (i, p) in pkts.iter().enumerate().take(6) {
        w.packet(t(i as u64), &build::null(p), 0);
    }
    let mut bytes = w.into_bytes();
    bytes.truncate(bytes.len() - 3);
    let (s, sum) = run(&bytes, &mut RtpTsAnalyzer::default());
    assert_eq!(sum.frames, 5);
    assert_eq!(sum.capture_errors.len(), 1);
    let e = &sum.capture_errors[0];
    assert!(e.fatal);
    assert_eq!(e.frame, 6);
    assert!(matches!(e.kind, CaptureErrorKind::Truncated { .. }));
    // Frame 5 ("89AB") waited for 4..8, which never came: a gap at the end of the capture.
    assert_eq!(s.data[&(0, Direction::ClientToServer)], b"0123????89AB");
    assert!(
        s.closed
            .contains(&(0, Direction::ClientToServer, CloseReason::EndOfCapture))
    );
}

#[test]
fn snaplen_cut_and_undecodable_packets_are_reported() {
    let conv = Conv {
        client: ("10.0.0.1".parse().unwrap(), 50000),
        server: ("10.0.0.2".parse().unwrap(), 1935),
        c_isn: 1,
        s_isn: 2,
    };
    let mut w = PcapWriter::new(LinkType::ETHERNET, 60, false);
    let full = build::ethernet(&[], &conv.ip_packet(true, 0, 0, PSH_ACK, &[b'x'; 100]));
    w.packet(t(0), &full[..60], full.len() as u32); // 6 payload bytes captured of 100
    w.packet(t(1), &full[..20], full.len() as u32); // IP header cut
    let next = build::ethernet(&[], &conv.ip_packet(true, 100, 0, PSH_ACK, b"tail"));
    w.packet(t(2), &next, next.len() as u32);
    let (s, sum) = run(&w.into_bytes(), &mut RtpTsAnalyzer::default());
    assert_eq!(sum.decode_errors.len(), 1);
    assert_eq!(sum.decode_errors[0].0, 2);
    assert!(
        sum.decode_errors[0].1.to_string().contains("IPv4"),
        "{}",
        sum.decode_errors[0].1
    );
    let c2s = &s.data[&(0, Direction::ClientToServer)];
    assert_eq!(c2s.len(), 104);
    assert!(c2s.starts_with(b"xxxxxx?"));
    assert!(c2s.ends_with(b"?tail"));
    assert!(s.gaps.contains(&(0, Direction::ClientToServer, 1, 6, 94)));
}

#[test]
fn rtp_mpegts_over_udp_in_a_capture() {
    use rtmpkit_proto::mpegts::{Pat, PatProgram, packetize_section};
    use rtmpkit_proto::rtp::RtpHeader;
    let mut section = Vec::new();
    Pat {
        transport_stream_id: 1,
        version: 0,
        current_next: true,
        section_number: 0,
        last_section_number: 0,
        programs: vec![PatProgram {
            program_number: 1,
            pid: 0x1000,
        }],
    }
    .encode(&mut section)
    .unwrap();
    let (src, dst): (IpAddr, IpAddr) = ("127.0.0.1".parse().unwrap(), "127.0.0.1".parse().unwrap());
    let mut w = PcapWriter::new(LinkType::ETHERNET, 65535, false);
    let mut cc = 0;
    let mut datagrams = Vec::new();
    for seq in 10u16..14 {
        let mut ts = Vec::new();
        packetize_section(0, &section, &mut cc, &mut ts);
        let mut rtp = Vec::new();
        RtpHeader::new(33, seq, u32::from(seq) * 3600, 42)
            .encode(&mut rtp)
            .unwrap();
        rtp.extend_from_slice(&ts);
        let udp = build::udp(src, dst, 40000, 5004, &rtp);
        datagrams.push(build::ethernet(&[7], &build::ip(src, dst, 17, &udp)));
    }
    for (i, d) in [0usize, 1, 3, 2].into_iter().enumerate() {
        w.packet(t(i as u64), &datagrams[d], 0);
    }
    let mut a = RtpTsAnalyzer::default();
    let (_, sum) = run(&w.into_bytes(), &mut a);
    assert_eq!(sum.udp_datagrams, 4);
    let st = &a.streams()[0];
    let r = st.rtp.as_ref().unwrap();
    assert_eq!((r.ssrc, r.expected, r.lost, r.reordered), (42, 4, 0, 1));
    let ts = st.ts().unwrap();
    assert_eq!(ts.pat.as_ref().unwrap().table.programs[0].pid, 0x1000);
    // Datagrams 3 and 4 swapped: the counter jumps twice.
    assert_eq!(ts.pids[&0].cc_errors, 2);
}
