use super::*;
use crate::net::TcpFlags;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Ev {
    Data(u64, Direction, u64, Vec<u8>),
    Gap(u64, Direction, u64, u64),
    Closed(u64, Direction, CloseReason),
}

#[derive(Default)]
struct Collect {
    events: Vec<Ev>,
    conns: Vec<ConnectionInfo>,
}

impl StreamSink for Collect {
    fn event(&mut self, conn: &ConnectionInfo, dir: Direction, ev: StreamEvent<'_>) {
        if !self.conns.contains(conn) {
            self.conns.push(*conn);
        }
        self.events.push(match ev {
            StreamEvent::Data {
                frame,
                stream_offset,
                bytes,
            } => Ev::Data(frame, dir, stream_offset, bytes.to_vec()),
            StreamEvent::Gap { frame, from, len } => Ev::Gap(frame, dir, from, len),
            StreamEvent::Closed { frame, reason } => Ev::Closed(frame, dir, reason),
        });
    }
}

impl Collect {
    /// Concatenated data of one direction, gaps filled with '?'.
    fn stream(&self, d: Direction) -> Vec<u8> {
        let mut out = Vec::new();
        for e in &self.events {
            match e {
                Ev::Data(_, dir, off, b) if *dir == d => {
                    assert_eq!(*off as usize, out.len(), "data in order");
                    out.extend_from_slice(b);
                }
                Ev::Gap(_, dir, from, len) if *dir == d => {
                    assert_eq!(*from as usize, out.len(), "gap in order");
                    out.extend(std::iter::repeat_n(b'?', *len as usize));
                }
                _ => {}
            }
        }
        out
    }
}

const C: &str = "10.0.0.1:50000";
const S: &str = "10.0.0.2:1935";

fn seg<'a>(
    src: &str,
    dst: &str,
    seq: u32,
    ack: u32,
    flags: u8,
    payload: &'a [u8],
) -> TcpSegment<'a> {
    TcpSegment {
        src: src.parse().unwrap(),
        dst: dst.parse().unwrap(),
        seq,
        ack,
        flags: TcpFlags(flags),
        window: 1000,
        payload,
        wire_len: payload.len() as u32,
    }
}

const SYN: u8 = TcpFlags::SYN;
const ACK: u8 = TcpFlags::ACK;
const SYNACK: u8 = TcpFlags::SYN | TcpFlags::ACK;
const FINACK: u8 = TcpFlags::FIN | TcpFlags::ACK;
const PSHACK: u8 = TcpFlags::PSH | TcpFlags::ACK;

struct Run {
    r: TcpReassembler,
    c: Collect,
    frame: u64,
}

impl Run {
    fn new() -> Self {
        Run {
            r: TcpReassembler::default(),
            c: Collect::default(),
            frame: 0,
        }
    }
    fn with(config: TcpConfig) -> Self {
        Run {
            r: TcpReassembler::new(config),
            ..Self::new()
        }
    }
    fn push(&mut self, s: TcpSegment<'_>) -> u64 {
        self.frame += 1;
        self.r
            .segment(self.frame, Timestamp::default(), &s, &mut self.c);
        self.frame
    }
    fn handshake(&mut self) {
        self.push(seg(C, S, 1000, 0, SYN, b""));
        self.push(seg(S, C, 5000, 1001, SYNACK, b""));
        self.push(seg(C, S, 1001, 5001, ACK, b""));
    }
    fn finish(&mut self) {
        self.r.finish(&mut self.c);
    }
}

use Direction::{ClientToServer as C2S, ServerToClient as S2C};

#[test]
fn in_order_stream_with_handshake_and_fin() {
    let mut t = Run::new();
    t.handshake();
    let f4 = t.push(seg(C, S, 1001, 5001, PSHACK, b"hello "));
    t.push(seg(C, S, 1007, 5001, PSHACK, b"world"));
    t.push(seg(S, C, 5001, 1012, PSHACK, b"reply"));
    t.push(seg(C, S, 1012, 5006, FINACK, b""));
    let f8 = t.push(seg(S, C, 5006, 1013, FINACK, b""));
    t.push(seg(C, S, 1013, 5007, ACK, b"")); // last ACK: same connection
    t.finish();
    assert_eq!(t.c.stream(C2S), b"hello world");
    assert_eq!(t.c.stream(S2C), b"reply");
    assert_eq!(t.c.events[0], Ev::Data(f4, C2S, 0, b"hello ".to_vec()));
    assert!(t.c.events.contains(&Ev::Closed(7, C2S, CloseReason::Fin)));
    assert!(t.c.events.contains(&Ev::Closed(f8, S2C, CloseReason::Fin)));
    assert_eq!(t.c.conns.len(), 1);
    let info = t.c.conns[0];
    assert_eq!(info.index, 0);
    assert_eq!(info.client, C.parse().unwrap());
    assert_eq!(info.server, S.parse().unwrap());
    assert!(info.syn_seen);
    assert_eq!(info.first_frame, 1);
    let sum = t.r.summaries();
    assert_eq!(sum.len(), 1);
    assert_eq!(sum[0].stats[0].bytes, 11);
    assert_eq!(sum[0].stats[0].gaps, 0);
}

#[test]
fn out_of_order_retransmitted_and_overlapping_segments() {
    let mut t = Run::new();
    t.handshake();
    t.push(seg(C, S, 1001, 5001, PSHACK, b"AAAA")); // 0..4
    let f5 = t.push(seg(C, S, 1009, 5001, PSHACK, b"CCCC")); // 8..12, ahead
    t.push(seg(C, S, 1011, 5001, PSHACK, b"CCDD")); // 10..14, overlaps buffered
    assert_eq!(t.r.buffered_bytes(), 6);
    let f7 = t.push(seg(C, S, 1003, 5001, PSHACK, b"AABBBB")); // 2..8, overlaps delivered
    assert_eq!(t.r.buffered_bytes(), 0);
    t.push(seg(C, S, 1001, 5001, PSHACK, b"AAAA")); // pure retransmission
    t.push(seg(C, S, 1013, 5001, PSHACK, b"DDEE")); // 12..16 partly old
    t.finish();
    assert_eq!(t.c.stream(C2S), b"AAAABBBBCCCCDDEE");
    // The bytes that waited are reported with the frame that carried them.
    assert!(t.c.events.contains(&Ev::Data(f7, C2S, 4, b"BBBB".to_vec())));
    assert!(t.c.events.contains(&Ev::Data(f5, C2S, 8, b"CCCC".to_vec())));
    let st = t.r.summaries()[0].stats[0];
    assert_eq!(st.retransmitted_segments, 1);
    assert_eq!(st.out_of_order_segments, 2);
    assert_eq!(st.duplicate_bytes, 2 + 2 + 4 + 2);
    assert_eq!(st.gaps, 0);
    assert!(t.c.events.iter().all(|e| !matches!(e, Ev::Gap(..))));
}

#[test]
fn lost_segment_noticed_by_ack() {
    let mut t = Run::new();
    t.handshake();
    t.push(seg(C, S, 1001, 5001, PSHACK, b"0123"));
    // 1005..1009 lost in the capture.
    t.push(seg(C, S, 1009, 5001, PSHACK, b"89ab")); // buffered
    assert!(!t.c.events.iter().any(|e| matches!(e, Ev::Gap(..))));
    let f = t.push(seg(S, C, 5001, 1013, ACK, b"")); // server got everything
    assert!(t.c.events.contains(&Ev::Gap(f, C2S, 4, 4)));
    assert_eq!(t.c.stream(C2S), b"0123????89ab");
    // Ack beyond everything seen, with no data buffered: a gap up to the ack.
    let f = t.push(seg(S, C, 5001, 1020, ACK, b""));
    assert!(t.c.events.contains(&Ev::Gap(f, C2S, 12, 7)));
    t.push(seg(C, S, 1020, 5001, PSHACK, b"xyz"));
    t.finish();
    assert_eq!(t.c.stream(C2S), b"0123????89ab???????xyz");
    assert_eq!(t.r.summaries()[0].stats[0].gap_bytes, 11);
}

#[test]
fn lost_segment_at_end_of_capture_and_fin() {
    let mut t = Run::new();
    t.handshake();
    t.push(seg(C, S, 1001, 5001, PSHACK, b"ab"));
    t.push(seg(C, S, 1005, 5001, FINACK, b"ef")); // 1003..1005 lost, then FIN
    t.finish();
    assert_eq!(t.c.stream(C2S), b"ab??ef");
    let last = t.frame;
    assert!(t.c.events.contains(&Ev::Gap(last, C2S, 2, 2)));
    assert!(
        t.c.events
            .contains(&Ev::Closed(last, C2S, CloseReason::Fin))
    );
    assert!(
        t.c.events
            .contains(&Ev::Closed(last, S2C, CloseReason::EndOfCapture))
    );
}

#[test]
fn capture_starting_mid_connection() {
    let mut t = Run::new();
    // No SYN: the server speaks first in the capture; roles come from the ports.
    t.push(seg(S, C, 777_777, 424_242, PSHACK, b"srv"));
    t.push(seg(C, S, 424_242, 777_780, PSHACK, b"cli"));
    t.push(seg(C, S, 424_240, 777_780, PSHACK, b"xxclimore")); // partly before the start
    t.finish();
    assert_eq!(t.c.stream(S2C), b"srv");
    assert_eq!(t.c.stream(C2S), b"climore");
    let info = t.c.conns[0];
    assert!(!info.syn_seen);
    assert_eq!(info.client, C.parse().unwrap());
    assert_eq!(t.r.summaries()[0].stats[0].before_start_bytes, 2);
}

#[test]
fn sequence_wraparound() {
    let mut t = Run::new();
    t.push(seg(C, S, u32::MAX - 2, 0, SYN, b""));
    t.push(seg(C, S, u32::MAX - 1, 0, ACK, b"abcd")); // crosses 2^32
    t.push(seg(C, S, 2, 0, ACK, b"ef"));
    t.finish();
    assert_eq!(t.c.stream(C2S), b"abcdef");
}

#[test]
fn reset_and_port_reuse() {
    let mut t = Run::new();
    t.handshake();
    t.push(seg(C, S, 1001, 5001, PSHACK, b"one"));
    t.push(seg(C, S, 1010, 5001, PSHACK, b"later")); // buffered beyond a hole
    let f = t.push(seg(S, C, 5001, 0, TcpFlags::RST, b""));
    assert!(t.c.events.contains(&Ev::Gap(f, C2S, 3, 6)));
    assert!(t.c.events.contains(&Ev::Closed(f, C2S, CloseReason::Reset)));
    assert!(t.c.events.contains(&Ev::Closed(f, S2C, CloseReason::Reset)));
    // A new SYN on the same 4-tuple is a new connection.
    t.push(seg(C, S, 9000, 0, SYN, b""));
    t.push(seg(C, S, 9001, 0, ACK, b"two"));
    t.finish();
    assert_eq!(t.c.conns.len(), 2);
    assert_eq!(t.c.conns[1].index, 1);
    assert_eq!(t.r.connection_count(), 2);
    let sums = t.r.summaries();
    assert_eq!(
        sums.iter().map(|s| s.info.index).collect::<Vec<_>>(),
        [0, 1]
    );
}

#[test]
fn retransmitted_syn_is_not_a_new_connection() {
    let mut t = Run::new();
    t.push(seg(C, S, 1000, 0, SYN, b""));
    t.push(seg(C, S, 1000, 0, SYN, b""));
    t.push(seg(S, C, 5000, 1001, SYNACK, b""));
    t.push(seg(C, S, 1001, 5001, ACK, b"x"));
    t.finish();
    assert_eq!(t.r.connection_count(), 1);
}

#[test]
fn buffer_limit_declares_gap() {
    let mut t = Run::with(TcpConfig {
        max_buffer_per_direction: 10,
        max_buffer_total: 100,
        max_ack_jump: 1 << 30,
    });
    t.handshake();
    t.push(seg(C, S, 1001, 0, ACK, b"a")); // offset 0
    t.push(seg(C, S, 1003, 0, ACK, b"cccccc")); // 2..8 buffered
    assert_eq!(t.r.buffered_bytes(), 6);
    let f = t.push(seg(C, S, 1011, 0, ACK, b"kkkkkk")); // 10..16: over the limit
    assert!(t.c.events.contains(&Ev::Gap(f, C2S, 1, 1)));
    assert_eq!(t.r.buffered_bytes(), 6);
    // A segment larger than the whole buffer is delivered after a gap at once.
    let f = t.push(seg(C, S, 1031, 0, ACK, b"zzzzzzzzzzzz"));
    assert!(t.c.events.contains(&Ev::Gap(f, C2S, 8, 2)));
    assert!(t.c.events.contains(&Ev::Gap(f, C2S, 16, 14)));
    assert_eq!(t.r.buffered_bytes(), 0);
    t.finish();
    assert_eq!(
        t.c.stream(C2S),
        b"a?cccccc??kkkkkk??????????????zzzzzzzzzzzz"
    );
}

#[test]
fn payload_cut_by_snaplen_becomes_gap() {
    let mut t = Run::new();
    t.handshake();
    let mut s = seg(C, S, 1001, 5001, PSHACK, b"abc");
    s.wire_len = 10; // 7 bytes not captured
    let f = t.push(s);
    t.push(seg(C, S, 1011, 5001, PSHACK, b"next"));
    t.finish();
    assert!(t.c.events.contains(&Ev::Gap(f, C2S, 3, 7)));
    assert_eq!(t.c.stream(C2S), b"abc???????next");
}

#[test]
fn connections_are_indexed_in_order_of_appearance() {
    let mut t = Run::new();
    for port in [40000u16, 40001, 40002] {
        let c = format!("10.0.0.1:{port}");
        t.push(seg(&c, S, 1, 0, SYN, b""));
    }
    t.finish();
    let ports: Vec<_> =
        t.r.summaries()
            .iter()
            .map(|s| (s.info.index, s.info.client.port()))
            .collect();
    assert_eq!(ports, [(0, 40000), (1, 40001), (2, 40002)]);
}
