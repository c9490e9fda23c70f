//! Synthetic RTMP captures written by the test itself: reordered, retransmitted and lost
//! segments, chunk stream ids 64 and 320, extended timestamps, chunk size 60000, a capture
//! that starts mid-stream, a truncated file, and the diagnostics. Each is decoded correctly
//! or reported precisely, never a panic.

use std::io;
use std::net::{IpAddr, Ipv4Addr};

use bytes::{BufMut, BytesMut};
use rtmpkit_dissect::rtmp::{MessageEvent, ProblemKind, RtmpEvent, TcpDecodeAs};
use rtmpkit_dissect::view::{Format, make_view};
use rtmpkit_dissect::write::{PcapWriter, build};
use rtmpkit_dissect::{DissectConfig, FrameCtx, FrameObserver, LinkType, Timestamp, dissect};
use rtmpkit_proto::amf::Amf0Value;
use rtmpkit_proto::rtmp::chunk::{MessageHeader, serialize_fmt0};
use rtmpkit_proto::rtmp::message::Command;

const SYN: u8 = 0x02;
const ACK: u8 = 0x10;
const PSH: u8 = 0x08;

// ---- capture building ----

struct Capture {
    pcap: PcapWriter,
    ms: u64,
    client: (IpAddr, u16),
    server: (IpAddr, u16),
    /// Next relative sequence number (from ISN+1) per direction: client, server.
    next: [u32; 2],
    isn: [u32; 2],
    frames: u64,
}

impl Capture {
    /// A connection on `port`, with its SYN handshake when `syn`.
    fn new(port: u16, syn: bool) -> Capture {
        let mut c = Capture {
            pcap: PcapWriter::new(LinkType::RAW, 262_144, false),
            ms: 0,
            client: (IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 50_000),
            server: (IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), port),
            next: [0, 0],
            isn: [1000, 900_000],
            frames: 0,
        };
        if syn {
            c.raw(true, c.isn[0], 0, SYN, &[]);
            c.raw(false, c.isn[1], c.isn[0] + 1, SYN | ACK, &[]);
            c.raw(true, c.isn[0] + 1, c.isn[1] + 1, ACK, &[]);
        }
        c
    }

    fn raw(&mut self, from_client: bool, seq: u32, ack: u32, flags: u8, payload: &[u8]) -> u64 {
        let (s, d) = if from_client {
            (self.client, self.server)
        } else {
            (self.server, self.client)
        };
        let seg = build::tcp(s.0, d.0, s.1, d.1, seq, ack, flags, payload);
        let ip = build::ip(s.0, d.0, 6, &seg);
        self.ms += 1;
        let ts = Timestamp {
            secs: 1_700_000_000 + (self.ms / 1000) as i64,
            nanos: ((self.ms % 1000) * 1_000_000) as u32,
        };
        self.pcap.packet(ts, &ip, ip.len() as u32);
        self.frames += 1;
        self.frames
    }

    /// A segment at relative offset `rel` of the direction (does not move `next`).
    fn segment_at(&mut self, from_client: bool, rel: u32, payload: &[u8]) -> u64 {
        let i = usize::from(!from_client);
        let seq = self.isn[i].wrapping_add(1).wrapping_add(rel);
        let ack = self.isn[1 - i]
            .wrapping_add(1)
            .wrapping_add(self.next[1 - i]);
        self.raw(from_client, seq, ack, ACK | PSH, payload)
    }

    /// Splits `bytes` into segments of at most `mss` and sends them in order; returns the
    /// (relative offset, payload) of each segment.
    fn segments(&mut self, from_client: bool, bytes: &[u8], mss: usize) -> Vec<(u32, Vec<u8>)> {
        let i = usize::from(!from_client);
        let mut out = Vec::new();
        for c in bytes.chunks(mss) {
            out.push((self.next[i], c.to_vec()));
            self.next[i] += c.len() as u32;
        }
        out
    }

    fn send(&mut self, from_client: bool, bytes: &[u8]) {
        for (rel, p) in self.segments(from_client, bytes, 1400) {
            self.segment_at(from_client, rel, &p);
        }
    }

    /// A pure ACK from the other side acknowledging everything up to `next`.
    fn ack_from(&mut self, from_client: bool) {
        let i = usize::from(!from_client);
        let seq = self.isn[i].wrapping_add(1).wrapping_add(self.next[i]);
        let ack = self.isn[1 - i]
            .wrapping_add(1)
            .wrapping_add(self.next[1 - i]);
        self.raw(from_client, seq, ack, ACK, &[]);
    }

    fn bytes(&self) -> Vec<u8> {
        self.pcap.clone().into_bytes()
    }
}

// ---- RTMP bytes ----

fn handshake() -> (Vec<u8>, Vec<u8>) {
    let c1: Vec<u8> = (0..1536u32)
        .map(|i| if i < 8 { 0 } else { (i * 7 + 3) as u8 })
        .collect();
    let s1: Vec<u8> = (0..1536u32)
        .map(|i| if i < 8 { 0 } else { (i * 13 + 5) as u8 })
        .collect();
    let mut c = vec![3];
    c.extend(&c1);
    c.extend(&s1); // C2 echoes S1
    let mut s = vec![3];
    s.extend(&s1);
    s.extend(&c1); // S2 echoes C1
    (c, s)
}

fn fmt0(cs: u32, csid: u32, ts: u32, type_id: u8, sid: u32, payload: &[u8]) -> Vec<u8> {
    serialize_fmt0(
        cs,
        csid,
        &MessageHeader {
            timestamp: ts,
            type_id,
            stream_id: sid,
        },
        payload,
    )
    .unwrap()
    .to_vec()
}

/// A type 1 message of up to one chunk (csid < 64).
fn fmt1(csid: u8, delta: u32, type_id: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![0x40 | csid];
    v.extend_from_slice(&delta.to_be_bytes()[1..]);
    v.extend_from_slice(&(payload.len() as u32).to_be_bytes()[1..]);
    v.push(type_id);
    v.extend_from_slice(payload);
    v
}

fn command(name: &str, txn: f64, args: Vec<Amf0Value>) -> Vec<u8> {
    let c = Command::new(name, txn, Amf0Value::Null, args);
    let mut out = Vec::new();
    c.encode(&mut out);
    out
}

fn connect() -> Vec<u8> {
    let obj = Amf0Value::object([
        ("app", Amf0Value::string("live")),
        ("tcUrl", Amf0Value::string("rtmp://10.0.0.2/live")),
    ]);
    let c = Command::new("connect", 1.0, obj, vec![]);
    let mut out = Vec::new();
    c.encode(&mut out);
    out
}

fn u32be(v: u32) -> Vec<u8> {
    v.to_be_bytes().to_vec()
}

/// An AVC sequence header (Baseline 3.0, 320x240 SPS) as a video message body.
fn avc_sequence_header() -> Vec<u8> {
    let sps = [
        0x67, 0x42, 0xc0, 0x1e, 0xda, 0x05, 0x07, 0xec, 0x04, 0x40, 0x00, 0x00, 0x03, 0x00, 0x40,
        0x00, 0x00, 0x0c, 0xa3, 0xc5, 0x8b, 0xa8,
    ];
    let pps = [0x68, 0xce, 0x3c, 0x80];
    let mut v = vec![0x17, 0, 0, 0, 0, 1, 0x42, 0xc0, 0x1e, 0xff, 0xe1];
    v.put_u16(sps.len() as u16);
    v.extend_from_slice(&sps);
    v.push(1);
    v.put_u16(pps.len() as u16);
    v.extend_from_slice(&pps);
    v
}

fn video(key: bool, len: usize, seed: u8) -> Vec<u8> {
    let mut v = vec![if key { 0x17 } else { 0x27 }, 1, 0, 0, 0];
    v.extend((0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)));
    v
}

/// Client: connect, set chunk size `cs`, publish, media (AVC + AAC). Returns the c2s bytes
/// after the handshake and the number of media messages.
fn publish_stream(cs: u32, video_len: usize) -> (Vec<u8>, usize) {
    let mut b = fmt0(128, 3, 0, 20, 0, &connect());
    b.extend(fmt0(128, 2, 0, 1, 0, &u32be(cs)));
    b.extend(fmt0(cs, 3, 0, 20, 0, &command("createStream", 2.0, vec![])));
    b.extend(fmt0(
        cs,
        8,
        0,
        20,
        1,
        &command(
            "publish",
            3.0,
            vec![Amf0Value::string("room"), Amf0Value::string("live")],
        ),
    ));
    b.extend(fmt0(cs, 6, 0, 9, 1, &avc_sequence_header()));
    b.extend(fmt0(cs, 4, 0, 8, 1, &[0xaf, 0, 0x12, 0x10]));
    let mut n = 2;
    for i in 0..6u32 {
        b.extend(fmt0(
            cs,
            6,
            40 * i,
            9,
            1,
            &video(i % 3 == 0, video_len + i as usize, i as u8),
        ));
        b.extend(fmt0(cs, 4, 40 * i + 5, 8, 1, &[0xaf, 1, 0x21, i as u8]));
        n += 2;
    }
    (b, n)
}

fn server_stream() -> Vec<u8> {
    let mut b = fmt0(128, 2, 0, 5, 0, &u32be(5_000_000));
    b.extend(fmt0(
        128,
        3,
        0,
        20,
        0,
        &command(
            "_result",
            1.0,
            vec![Amf0Value::object([(
                "code",
                Amf0Value::string("NetConnection.Connect.Success"),
            )])],
        ),
    ));
    b.extend(fmt0(
        128,
        3,
        0,
        20,
        0,
        &command("_result", 2.0, vec![Amf0Value::Number(1.0)]),
    ));
    b
}

// ---- running ----

#[derive(Default)]
struct Events {
    all: Vec<RtmpEvent>,
}

impl FrameObserver for Events {
    fn frame(&mut self, _: &FrameCtx<'_>, events: &[RtmpEvent]) -> io::Result<()> {
        self.all.extend_from_slice(events);
        Ok(())
    }
    fn trailing(&mut self, events: &[RtmpEvent]) -> io::Result<()> {
        self.all.extend_from_slice(events);
        Ok(())
    }
}

impl Events {
    fn messages(&self) -> Vec<&MessageEvent> {
        self.all
            .iter()
            .filter_map(|e| match e {
                RtmpEvent::Message(m) => Some(&**m),
                _ => None,
            })
            .collect()
    }
    fn problems(&self, kind: ProblemKind) -> Vec<(u64, String)> {
        self.all
            .iter()
            .filter_map(|e| match e {
                RtmpEvent::Problem(p) if p.kind == kind => Some((p.frame, p.text.clone())),
                _ => None,
            })
            .collect()
    }
    fn problem_kinds(&self) -> Vec<ProblemKind> {
        self.all
            .iter()
            .filter_map(|e| match e {
                RtmpEvent::Problem(p) => Some(p.kind),
                _ => None,
            })
            .collect()
    }
}

fn run_with(bytes: &[u8], config: DissectConfig) -> Events {
    let mut e = Events::default();
    dissect(bytes, config, &mut e).unwrap();
    e
}

fn run(bytes: &[u8]) -> Events {
    run_with(bytes, DissectConfig::default())
}

/// (type id, timestamp, length, csid) of every message of one direction.
fn shape(e: &Events, c2s: bool) -> Vec<(u8, u32, usize, u32)> {
    e.messages()
        .iter()
        .filter(|m| (m.at.dir.as_str() == "c2s") == c2s)
        .map(|m| (m.type_id, m.timestamp, m.payload.len(), m.csid))
        .collect()
}

fn clean_capture(port: u16, cs: u32, video_len: usize) -> (Vec<u8>, usize) {
    let (hc, hs) = handshake();
    let (pub_bytes, n) = publish_stream(cs, video_len);
    let mut cap = Capture::new(port, true);
    cap.send(true, &hc[..1537]);
    cap.send(false, &hs);
    cap.send(true, &hc[1537..]);
    cap.send(true, &pub_bytes);
    cap.send(false, &server_stream());
    cap.ack_from(true);
    (cap.bytes(), n)
}

#[test]
fn handshake_and_publish_on_any_port_at_chunk_size_60000() {
    let (bytes, media) = clean_capture(5555, 60_000, 70_000);
    let e = run(&bytes);
    assert!(e.problem_kinds().is_empty(), "{:?}", e.all);
    let c2s = shape(&e, true);
    assert_eq!(c2s.len(), 4 + media);
    assert_eq!(c2s.iter().filter(|m| m.0 == 9).count(), 7);
    // 70000-byte video at 60000: two chunks each, decoded whole.
    let big: Vec<_> = e
        .messages()
        .into_iter()
        .filter(|m| m.payload.len() > 60_000)
        .collect();
    assert_eq!(big.len(), 6);
    assert!(
        big.iter()
            .all(|m| m.chunk.chunk_count == 2 && m.chunk_size == 60_000)
    );
    let urls: Vec<_> = e.messages().iter().filter_map(|m| m.url.clone()).collect();
    assert_eq!(urls, ["rtmp://10.0.0.2/live/room"]);
    let results: Vec<_> = e
        .messages()
        .iter()
        .filter_map(|m| m.request_frame)
        .collect();
    assert_eq!(results.len(), 2, "both _result answer a request");
}

#[test]
fn reordered_and_retransmitted_segments_decode_like_in_order_ones() {
    let (reference, _) = clean_capture(1935, 4096, 9000);
    let expected = shape(&run(&reference), true);

    let (hc, hs) = handshake();
    let (pub_bytes, _) = publish_stream(4096, 9000);
    let mut cap = Capture::new(1935, true);
    cap.send(true, &hc[..1537]);
    cap.send(false, &hs);
    cap.send(true, &hc[1537..]);
    let segs = cap.segments(true, &pub_bytes, 1000);
    // Swap pairs, and send every fifth segment twice.
    let mut order: Vec<usize> = (0..segs.len()).collect();
    for pair in order.chunks_mut(2) {
        pair.reverse();
    }
    for (k, &i) in order.iter().enumerate() {
        let (rel, p) = &segs[i];
        cap.segment_at(true, *rel, p);
        if k % 5 == 0 {
            cap.segment_at(true, *rel, p);
        }
    }
    cap.send(false, &server_stream());
    let e = run(&cap.bytes());
    assert_eq!(shape(&e, true), expected);
    assert!(e.problem_kinds().is_empty(), "{:?}", e.problem_kinds());
}

#[test]
fn lost_segment_is_reported_and_decoding_resumes() {
    let (hc, hs) = handshake();
    let (pub_bytes, _) = publish_stream(4096, 3000);
    let mut cap = Capture::new(1935, true);
    cap.send(true, &hc[..1537]);
    cap.send(false, &hs);
    cap.send(true, &hc[1537..]);
    let segs = cap.segments(true, &pub_bytes, 700);
    let lost = segs.len() / 2;
    let mut lost_frame = 0;
    for (i, (rel, p)) in segs.iter().enumerate() {
        if i == lost {
            continue;
        }
        let f = cap.segment_at(true, *rel, p);
        if i == lost + 1 {
            lost_frame = f;
        }
    }
    // The server acknowledges everything: the missing bytes are a gap, not a delay.
    cap.ack_from(false);
    let ack_frame = cap.frames;
    let e = run(&cap.bytes());
    let gaps = e.problems(ProblemKind::Gap);
    assert_eq!(gaps.len(), 1, "{:?}", e.all);
    assert!(
        gaps[0].1.starts_with("700 bytes missing at stream offset"),
        "{}",
        gaps[0].1
    );
    assert!(
        gaps[0].0 == ack_frame || gaps[0].0 == lost_frame,
        "{gaps:?}"
    );
    let resync = e.problems(ProblemKind::Resync);
    assert_eq!(resync.len(), 1, "{:?}", e.problem_kinds());
    // Messages after the gap are decoded; the last ones are the final audio and video.
    let c2s = shape(&e, true);
    let (_, all) = publish_stream(4096, 3000);
    assert!(
        c2s.len() >= all + 4 - 4 && c2s.len() < all + 4,
        "{} of {}",
        c2s.len(),
        all + 4
    );
    let last = c2s.last().unwrap();
    assert_eq!((last.0, last.1), (8, 205));
    assert!(
        e.messages().iter().all(|m| m.timestamp_known),
        "all type 0 after the gap"
    );
}

#[test]
fn chunk_stream_ids_64_and_320_and_extended_timestamps() {
    let (hc, hs) = handshake();
    let mut b = fmt0(128, 3, 0, 20, 0, &connect());
    b.extend(fmt0(128, 64, 100, 8, 1, &[0xaf, 1, 1, 2, 3]));
    b.extend(fmt0(128, 320, 200, 9, 1, &video(true, 300, 1)));
    // Extended timestamps: a 3-chunk message at 0x01000000 (type 3 chunks repeat it).
    b.extend(fmt0(128, 6, 0x0100_0000, 9, 1, &video(false, 300, 2)));
    b.extend(fmt0(128, 6, 0x0100_0028, 9, 1, &video(false, 10, 3)));
    let mut cap = Capture::new(1935, true);
    cap.send(true, &hc[..1537]);
    cap.send(false, &hs);
    cap.send(true, &hc[1537..]);
    cap.send(true, &b);
    let bytes = cap.bytes();
    let e = run(&bytes);
    let c2s = shape(&e, true);
    assert_eq!(
        c2s.iter().map(|m| (m.3, m.1)).collect::<Vec<_>>(),
        [
            (3, 0),
            (64, 100),
            (320, 200),
            (6, 0x0100_0000),
            (6, 0x0100_0028)
        ]
    );
    let ext: Vec<_> = e
        .messages()
        .iter()
        .map(|m| m.chunk.extended_timestamp)
        .collect();
    assert_eq!(ext, [false, false, false, true, true]);
    let tree = render(&bytes, Format::Tree, DissectConfig::default());
    assert!(
        tree.contains("Chunk Stream ID: 64 (2-byte basic header: 64 + 0)"),
        "{tree}"
    );
    assert!(tree.contains("Chunk Stream ID: 320 (3-byte basic header: 64 + 256)"));
    assert!(tree.contains("Extended timestamp: 16777216"));
}

fn mid_stream_capture(port: u16) -> (Vec<u8>, usize) {
    // The client's bytes from the middle of a video message on: no SYN, no handshake.
    let (pub_bytes, _) = publish_stream(4096, 6000);
    let start = pub_bytes.len() / 3;
    let tail = &pub_bytes[start..];
    let mut cap = Capture::new(port, false);
    cap.send(true, tail);
    cap.send(false, &fmt0(4096, 2, 0, 3, 0, &u32be(1000)));
    (cap.bytes(), tail.len())
}

#[test]
fn capture_starting_mid_stream_is_decoded_with_a_detected_chunk_size() {
    let (bytes, _) = mid_stream_capture(1935);
    let e = run(&bytes);
    let notes = e.problems(ProblemKind::MidStream);
    assert_eq!(notes.len(), 2, "one per direction: {:?}", e.all);
    assert!(
        notes
            .iter()
            .any(|n| n.1.contains("chunk size 4096 (detected")),
        "{notes:?}"
    );
    let c2s = shape(&e, true);
    let (_, total) = publish_stream(4096, 6000);
    assert!(c2s.len() >= total / 2, "{} messages", c2s.len());
    assert_eq!(c2s.last().map(|m| (m.0, m.1)), Some((8, 205)));
    // The same on another port needs --decode-as; --chunk-size fixes the size.
    let (other, _) = mid_stream_capture(8000);
    assert!(run(&other).messages().is_empty());
    let mut config = DissectConfig::default();
    config.rtmp.decode_as = vec![TcpDecodeAs { port: 8000 }];
    config.rtmp.chunk_size = Some(4096);
    let e = run_with(&other, config);
    assert_eq!(shape(&e, true), c2s);
    assert!(
        e.problems(ProblemKind::MidStream)
            .iter()
            .any(|n| n.1.contains("chunk size 4096 (given)"))
    );
}

#[test]
fn joined_mid_stream_timestamps_are_unknown_until_a_type_0_header() {
    // ffmpeg-style type 1 headers: no absolute timestamp, no stream id, until a type 0.
    let mut b = vec![0x55; 57]; // the end of a message whose header was not captured
    for i in 0..3u8 {
        b.extend(fmt1(4, 23, 8, &[0xaf, 1, i, i]));
    }
    let body = video(false, 300, 9);
    let mut v = vec![0x46];
    v.extend_from_slice(&40u32.to_be_bytes()[1..]);
    v.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    v.push(9);
    for (i, c) in body.chunks(128).enumerate() {
        if i > 0 {
            v.push(0xC6);
        }
        v.extend_from_slice(c);
    }
    b.extend(v);
    b.extend(fmt0(128, 4, 5000, 8, 1, &[0xaf, 1, 9, 9]));
    b.extend(fmt1(4, 23, 8, &[0xaf, 1, 8, 8]));
    let mut cap = Capture::new(1935, false);
    cap.send(true, &b);
    let e = run(&cap.bytes());
    let got: Vec<(u32, u8, u32, bool, u32)> = e
        .messages()
        .iter()
        .map(|m| {
            (
                m.csid,
                m.type_id,
                m.timestamp,
                m.timestamp_known,
                m.stream_id,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (4, 8, 23, false, 1),
            (4, 8, 46, false, 1),
            (4, 8, 69, false, 1),
            (6, 9, 40, false, 1),
            (4, 8, 5000, true, 1),
            (4, 8, 5023, true, 1),
        ]
    );
    // Unknown bases are not compared: no timestamp problem from the jump to 5000.
    assert!(e.problems(ProblemKind::TimestampJump).is_empty());
    let tree = render(&cap.bytes(), Format::Tree, DissectConfig::default());
    assert!(
        tree.contains("[Timestamp: 23 (calculated) (base unknown"),
        "{tree}"
    );
}

#[test]
fn truncated_file_reports_where_and_keeps_what_it_has() {
    let (bytes, _) = clean_capture(1935, 4096, 5000);
    let full = run(&bytes).messages().len();
    for cut in [bytes.len() - 1, bytes.len() - 700, bytes.len() / 2, 30] {
        let e = run(&bytes[..cut]);
        let cap = e.problems(ProblemKind::Capture);
        assert_eq!(cap.len(), 1, "cut {cut}: {:?}", e.problem_kinds());
        assert!(cap[0].1.contains("capture file"), "{}", cap[0].1);
        assert!(e.messages().len() <= full);
    }
}

#[test]
fn garbage_never_panics() {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for round in 0..40 {
        let (hc, hs) = handshake();
        let mut cap = Capture::new(1935, round % 2 == 0);
        if round % 2 == 0 {
            cap.send(true, &hc[..1537]);
            cap.send(false, &hs);
            cap.send(true, &hc[1537..]);
        }
        let (mut b, _) = publish_stream(4096, 2000);
        // Flip bytes, and splice in random runs.
        for _ in 0..20 {
            let i = (next() as usize) % b.len();
            b[i] = next() as u8;
        }
        let junk: Vec<u8> = (0..(next() % 5000) as usize)
            .map(|_| next() as u8)
            .collect();
        let at = (next() as usize) % b.len();
        b.splice(at..at, junk);
        cap.send(true, &b);
        for f in [Format::Summary, Format::Tree, Format::Json, Format::Flows] {
            let _ = render(&cap.pcap.clone().into_bytes(), f, DissectConfig::default());
        }
    }
}

#[test]
fn diagnostics_explain_what_is_wrong() {
    let (hc, hs) = handshake();
    let mut b = fmt0(128, 3, 0, 20, 0, &connect());
    // Sorenson H.263 keyframe: no sequence header needed, no problem.
    b.extend(fmt0(128, 6, 0, 9, 1, &[0x12, 0, 0, 0x84, 0]));
    // AVC coded frame before any AVC sequence header on stream 2.
    b.extend(fmt0(128, 7, 0, 9, 2, &video(true, 20, 0)));
    // Message type 7 does not exist.
    b.extend(fmt0(128, 3, 0, 7, 0, &[1, 2, 3]));
    // Audio timestamps backwards, then a jump, then drift against video.
    b.extend(fmt0(128, 4, 1000, 8, 1, &[0x2f, 1]));
    b.extend(fmt0(128, 4, 900, 8, 1, &[0x2f, 1]));
    b.extend(fmt0(128, 4, 9000, 8, 1, &[0x2f, 1]));
    // A chunk stream that starts with a type 1 header.
    b.extend(fmt1(9, 40, 8, &[0x2f, 2]));
    // Set Chunk Size 0.
    b.extend(fmt0(128, 2, 0, 1, 0, &u32be(0)));
    b.extend(fmt0(128, 4, 9023, 8, 1, &[0x2f, 3]));
    // Server: a 1000-byte window, then 5000 unacknowledged bytes.
    let mut s = fmt0(128, 2, 0, 5, 0, &u32be(1000));
    for i in 0..5 {
        s.extend(fmt0(
            4096,
            3,
            i,
            20,
            0,
            &command("onStatus", 0.0, vec![Amf0Value::string("x".repeat(1000))]),
        ));
    }
    let mut cap = Capture::new(1935, true);
    cap.send(true, &hc[..1537]);
    cap.send(false, &hs);
    cap.send(true, &hc[1537..]);
    cap.send(true, &b);
    cap.send(false, &s);
    let bytes = cap.bytes();
    let e = run(&bytes);
    let nosh = e.problems(ProblemKind::NoSequenceHeader);
    assert_eq!(nosh.len(), 1, "{nosh:?}");
    assert!(
        nosh[0]
            .1
            .contains("H.264/AVC video frames on message stream 2 before any sequence header"),
        "{}",
        nosh[0].1
    );
    assert_eq!(e.problems(ProblemKind::UnknownType).len(), 1);
    assert!(
        e.problems(ProblemKind::TimestampBackwards)[0]
            .1
            .contains("went backwards by 100 ms (1000 -> 900)")
    );
    assert!(
        e.problems(ProblemKind::TimestampJump)[0]
            .1
            .contains("jumped forward 8100 ms")
    );
    assert_eq!(
        e.problems(ProblemKind::AvDrift).len(),
        1,
        "{:?}",
        e.problem_kinds()
    );
    assert!(
        e.problems(ProblemKind::FirstChunkNotType0)[0]
            .1
            .contains("chunk stream 9 starts with a type 1 header")
    );
    assert!(
        e.problems(ProblemKind::InvalidChunkSize)[0]
            .1
            .contains("Set Chunk Size 0")
    );
    assert!(
        e.problems(ProblemKind::AckWindow)[0]
            .1
            .contains("the client has not acknowledged")
    );
    // Decoding went on after each problem: the last audio message is there.
    assert!(e.messages().iter().any(|m| m.timestamp == 9023));
    // The tree explains H.263's missing sequence header instead of leaving the reader guessing.
    let tree = render(&bytes, Format::Tree, DissectConfig::default());
    assert!(
        tree.contains("Sorenson H.263 has no sequence header (no SPS/PPS)"),
        "{tree}"
    );
}

fn render(bytes: &[u8], format: Format, config: DissectConfig) -> String {
    let mut out = Vec::new();
    {
        let mut view = make_view(format, Box::new(&mut out));
        let report = dissect(bytes, config, &mut view);
        if let Ok(r) = report {
            view.finish(&r).unwrap();
        }
    }
    String::from_utf8(out).unwrap()
}

#[test]
fn json_lines_carry_the_required_keys() {
    let (bytes, _) = clean_capture(1935, 4096, 500);
    let text = render(&bytes, Format::Json, DissectConfig::default());
    let mut messages = 0;
    for l in text.lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        if v["kind"] == "message" {
            messages += 1;
            for k in [
                "frame",
                "conn",
                "src",
                "dst",
                "dir",
                "csid",
                "type_id",
                "type",
                "timestamp",
                "stream_id",
                "body",
            ] {
                assert!(v.get(k).is_some(), "{k} missing in {l}");
            }
            assert!(v["timestamp"].is_u64() && v["type_id"].is_u64());
        }
    }
    assert_eq!(messages, 4 + 14 + 3);
    assert!(text.contains(r#""kind":"connection""#));
    assert!(text.contains(r#""url":"rtmp://10.0.0.2/live/room""#));
    let _ = BytesMut::new();
}

#[test]
#[ignore = "writes sample captures to /tmp for manual inspection"]
fn write_samples() {
    let (bytes, _) = mid_stream_capture(1935);
    std::fs::write("/tmp/mid.pcap", bytes).unwrap();
    let (hc, hs) = handshake();
    let (pub_bytes, _) = publish_stream(4096, 3000);
    let mut cap = Capture::new(1935, true);
    cap.send(true, &hc[..1537]);
    cap.send(false, &hs);
    cap.send(true, &hc[1537..]);
    let segs = cap.segments(true, &pub_bytes, 700);
    for (i, (rel, p)) in segs.iter().enumerate() {
        if i != segs.len() / 2 {
            cap.segment_at(true, *rel, p);
        }
    }
    cap.ack_from(false);
    std::fs::write("/tmp/gap.pcap", cap.bytes()).unwrap();
}
