//! Shared by the synthetic RTMP tests: a capture writer for one TCP connection, RTMP bytes
//! (handshake, type 0/1 chunks, commands, media), and an observer collecting events.
#![allow(dead_code)]

use std::io;
use std::net::{IpAddr, Ipv4Addr};

use bytes::BufMut;
use rtmpkit_dissect::rtmp::{MessageEvent, ProblemKind, RtmpEvent};
use rtmpkit_dissect::view::{Format, make_view};
use rtmpkit_dissect::write::{PcapWriter, build};
use rtmpkit_dissect::{DissectConfig, FrameCtx, FrameObserver, LinkType, Timestamp, dissect};
use rtmpkit_proto::amf::Amf0Value;
use rtmpkit_proto::rtmp::chunk::{MessageHeader, serialize_fmt0};
use rtmpkit_proto::rtmp::message::Command;

pub const SYN: u8 = 0x02;
pub const ACK: u8 = 0x10;
pub const PSH: u8 = 0x08;

// ---- capture building ----

pub struct Capture {
    pub pcap: PcapWriter,
    pub ms: u64,
    pub client: (IpAddr, u16),
    pub server: (IpAddr, u16),
    /// Next relative sequence number (from ISN+1) per direction: client, server.
    pub next: [u32; 2],
    pub isn: [u32; 2],
    pub frames: u64,
}

impl Capture {
    /// A connection on `port`, with its SYN handshake when `syn`.
    pub fn new(port: u16, syn: bool) -> Capture {
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

    pub fn raw(&mut self, from_client: bool, seq: u32, ack: u32, flags: u8, payload: &[u8]) -> u64 {
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
    pub fn segment_at(&mut self, from_client: bool, rel: u32, payload: &[u8]) -> u64 {
        let i = usize::from(!from_client);
        let seq = self.isn[i].wrapping_add(1).wrapping_add(rel);
        let ack = self.isn[1 - i]
            .wrapping_add(1)
            .wrapping_add(self.next[1 - i]);
        self.raw(from_client, seq, ack, ACK | PSH, payload)
    }

    /// Splits `bytes` into segments of at most `mss` and sends them in order; returns the
    /// (relative offset, payload) of each segment.
    pub fn segments(&mut self, from_client: bool, bytes: &[u8], mss: usize) -> Vec<(u32, Vec<u8>)> {
        let i = usize::from(!from_client);
        let mut out = Vec::new();
        for c in bytes.chunks(mss) {
            out.push((self.next[i], c.to_vec()));
            self.next[i] += c.len() as u32;
        }
        out
    }

    pub fn send(&mut self, from_client: bool, bytes: &[u8]) {
        for (rel, p) in self.segments(from_client, bytes, 1400) {
            self.segment_at(from_client, rel, &p);
        }
    }

    /// A pure ACK from the other side acknowledging everything up to `next`.
    pub fn ack_from(&mut self, from_client: bool) {
        let i = usize::from(!from_client);
        let seq = self.isn[i].wrapping_add(1).wrapping_add(self.next[i]);
        let ack = self.isn[1 - i]
            .wrapping_add(1)
            .wrapping_add(self.next[1 - i]);
        self.raw(from_client, seq, ack, ACK, &[]);
    }

    pub fn bytes(&self) -> Vec<u8> {
        self.pcap.clone().into_bytes()
    }
}

// ---- RTMP bytes ----

pub fn handshake() -> (Vec<u8>, Vec<u8>) {
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

pub fn fmt0(cs: u32, csid: u32, ts: u32, type_id: u8, sid: u32, payload: &[u8]) -> Vec<u8> {
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
pub fn fmt1(csid: u8, delta: u32, type_id: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![0x40 | csid];
    v.extend_from_slice(&delta.to_be_bytes()[1..]);
    v.extend_from_slice(&(payload.len() as u32).to_be_bytes()[1..]);
    v.push(type_id);
    v.extend_from_slice(payload);
    v
}

pub fn command(name: &str, txn: f64, args: Vec<Amf0Value>) -> Vec<u8> {
    let c = Command::new(name, txn, Amf0Value::Null, args);
    let mut out = Vec::new();
    c.encode(&mut out);
    out
}

pub fn connect() -> Vec<u8> {
    let obj = Amf0Value::object([
        ("app", Amf0Value::string("live")),
        ("tcUrl", Amf0Value::string("rtmp://10.0.0.2/live")),
    ]);
    let c = Command::new("connect", 1.0, obj, vec![]);
    let mut out = Vec::new();
    c.encode(&mut out);
    out
}

pub fn u32be(v: u32) -> Vec<u8> {
    v.to_be_bytes().to_vec()
}

/// An AVC sequence header (Baseline 3.0, 320x240 SPS) as a video message body.
pub fn avc_sequence_header() -> Vec<u8> {
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

pub fn video(key: bool, len: usize, seed: u8) -> Vec<u8> {
    let mut v = vec![if key { 0x17 } else { 0x27 }, 1, 0, 0, 0];
    v.extend((0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)));
    v
}

/// Client: connect, set chunk size `cs`, publish, media (AVC + AAC). Returns the c2s bytes
/// after the handshake and the number of media messages.
pub fn publish_stream(cs: u32, video_len: usize) -> (Vec<u8>, usize) {
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

pub fn server_stream() -> Vec<u8> {
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
pub struct Events {
    pub all: Vec<RtmpEvent>,
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
    pub fn messages(&self) -> Vec<&MessageEvent> {
        self.all
            .iter()
            .filter_map(|e| match e {
                RtmpEvent::Message(m) => Some(&**m),
                _ => None,
            })
            .collect()
    }
    pub fn problems(&self, kind: ProblemKind) -> Vec<(u64, String)> {
        self.all
            .iter()
            .filter_map(|e| match e {
                RtmpEvent::Problem(p) if p.kind == kind => Some((p.frame, p.text.clone())),
                _ => None,
            })
            .collect()
    }
    pub fn problem_kinds(&self) -> Vec<ProblemKind> {
        self.all
            .iter()
            .filter_map(|e| match e {
                RtmpEvent::Problem(p) => Some(p.kind),
                _ => None,
            })
            .collect()
    }
}

pub fn run_with(bytes: &[u8], config: DissectConfig) -> Events {
    let mut e = Events::default();
    dissect(bytes, config, &mut e).unwrap();
    e
}

pub fn run(bytes: &[u8]) -> Events {
    run_with(bytes, DissectConfig::default())
}

/// (type id, timestamp, length, csid) of every message of one direction.
pub fn shape(e: &Events, c2s: bool) -> Vec<(u8, u32, usize, u32)> {
    e.messages()
        .iter()
        .filter(|m| (m.at.dir.as_str() == "c2s") == c2s)
        .map(|m| (m.type_id, m.timestamp, m.length as usize, m.csid))
        .collect()
}

pub fn clean_capture(port: u16, cs: u32, video_len: usize) -> (Vec<u8>, usize) {
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

pub fn render(bytes: &[u8], format: Format, config: DissectConfig) -> String {
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

pub fn mid_stream_capture(port: u16) -> (Vec<u8>, usize) {
    // The client's bytes from the middle of a video message on: no SYN, no handshake.
    let (pub_bytes, _) = publish_stream(4096, 6000);
    let start = pub_bytes.len() / 3;
    let tail = &pub_bytes[start..];
    let mut cap = Capture::new(port, false);
    cap.send(true, tail);
    cap.send(false, &fmt0(4096, 2, 0, 3, 0, &u32be(1000)));
    (cap.bytes(), tail.len())
}
