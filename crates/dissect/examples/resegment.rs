//! Re-packetises the TCP streams of a capture as a network with a 1500-byte MTU would carry
//! them: Ethernet frames with 1448-byte segments, an ACK from the receiver every second
//! segment, SYN and FIN around each connection. The bytes of each stream are unchanged (gaps
//! stay gaps); only the segmentation differs. Loopback captures hold segments of up to 64 KiB,
//! which makes per-packet costs (most of tshark's work) unrepresentatively small.
//!
//! `cargo run --release --example resegment -- IN.pcap OUT.pcap [MSS]`
//! (constant memory: the output is written as it is produced).

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::net::SocketAddr;

use rtmpkit_dissect::write::{PcapWriter, build};
use rtmpkit_dissect::{
    ConnectionInfo, Direction, LinkType, StreamEvent, StreamSink, TcpReassembler, Timestamp,
};

const SYN: u8 = 0x02;
const ACK: u8 = 0x10;
const PSH: u8 = 0x08;
const FIN: u8 = 0x01;

struct Conn {
    ends: [SocketAddr; 2],
    /// Next sequence number per direction (client→server, server→client).
    seq: [u32; 2],
    unacked_segments: [u32; 2],
    fin: [bool; 2],
}

struct Resegmenter<W: Write> {
    pcap: PcapWriter,
    out: W,
    mss: usize,
    now: Timestamp,
    conns: HashMap<u64, Conn>,
    packets: u64,
    error: Option<std::io::Error>,
}

impl<W: Write> Resegmenter<W> {
    fn packet(
        &mut self,
        from: SocketAddr,
        to: SocketAddr,
        seq: u32,
        ack: u32,
        flags: u8,
        payload: &[u8],
    ) {
        let seg = build::tcp(
            from.ip(),
            to.ip(),
            from.port(),
            to.port(),
            seq,
            ack,
            flags,
            payload,
        );
        let ip = build::ip(from.ip(), to.ip(), 6, &seg);
        let frame = build::ethernet(&[], &ip);
        self.pcap.packet(self.now, &frame, frame.len() as u32);
        self.packets += 1;
        if self.packets.is_multiple_of(4096) {
            self.flush();
        }
    }

    fn flush(&mut self) {
        let bytes = self.pcap.take_bytes();
        if let Err(e) = self.out.write_all(&bytes) {
            self.error.get_or_insert(e);
        }
    }
}

fn index(d: Direction) -> usize {
    match d {
        Direction::ClientToServer => 0,
        Direction::ServerToClient => 1,
    }
}

impl<W: Write> StreamSink for Resegmenter<W> {
    fn event(&mut self, info: &ConnectionInfo, dir: Direction, event: StreamEvent<'_>) {
        let i = index(dir);
        if !self.conns.contains_key(&info.index) {
            let c = Conn {
                ends: [info.client, info.server],
                seq: [1_000_000, 2_000_000],
                unacked_segments: [0, 0],
                fin: [false, false],
            };
            let [a, b] = c.ends;
            self.packet(a, b, c.seq[0] - 1, 0, SYN, &[]);
            self.packet(b, a, c.seq[1] - 1, c.seq[0], SYN | ACK, &[]);
            self.packet(a, b, c.seq[0], c.seq[1], ACK, &[]);
            self.conns.insert(info.index, c);
        }
        let Some(mut c) = self.conns.remove(&info.index) else {
            return;
        };
        let (from, to) = (c.ends[i], c.ends[1 - i]);
        match event {
            StreamEvent::Data { bytes, .. } => {
                for part in bytes.chunks(self.mss) {
                    let flags = if part.len() < self.mss {
                        ACK | PSH
                    } else {
                        ACK
                    };
                    self.packet(from, to, c.seq[i], c.seq[1 - i], flags, part);
                    c.seq[i] = c.seq[i].wrapping_add(part.len() as u32);
                    c.unacked_segments[i] += 1;
                    if c.unacked_segments[i] == 2 {
                        c.unacked_segments[i] = 0;
                        self.packet(to, from, c.seq[1 - i], c.seq[i], ACK, &[]);
                    }
                }
            }
            StreamEvent::Gap { len, .. } => c.seq[i] = c.seq[i].wrapping_add(len as u32),
            StreamEvent::Closed { .. } => {
                if !c.fin[i] {
                    c.fin[i] = true;
                    self.packet(from, to, c.seq[i], c.seq[1 - i], FIN | ACK, &[]);
                    c.seq[i] = c.seq[i].wrapping_add(1);
                    self.packet(to, from, c.seq[1 - i], c.seq[i], ACK, &[]);
                }
            }
        }
        self.conns.insert(info.index, c);
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(input), Some(output)) = (args.next(), args.next()) else {
        return Err("usage: resegment IN.pcap OUT.pcap [MSS]".into());
    };
    let mss: usize = args.next().map_or(Ok(1448), |m| m.parse())?;
    let out = BufWriter::with_capacity(1 << 20, File::create(&output)?);
    let mut sink = Resegmenter {
        pcap: PcapWriter::new(LinkType::ETHERNET, 262_144, true),
        out,
        mss: mss.max(1),
        now: Timestamp::default(),
        conns: HashMap::new(),
        packets: 0,
        error: None,
    };
    let mut tcp = TcpReassembler::default();
    // The sink needs each packet's time, so the capture is read here (not with run_capture).
    let mut reader = rtmpkit_dissect::CaptureReader::new(File::open(&input)?)?;
    while let Some(packet) = reader.next_packet()? {
        sink.now = packet.timestamp;
        if let Ok(d) = rtmpkit_dissect::decode_packet(&packet)
            && let rtmpkit_dissect::Transport::Tcp(seg) = d.transport
        {
            tcp.segment(d.frame, d.timestamp, &seg, &mut sink);
        }
    }
    tcp.finish(&mut sink);
    sink.flush();
    sink.out.flush()?;
    if let Some(e) = sink.error {
        return Err(e.into());
    }
    eprintln!("{} packets written to {output}", sink.packets);
    Ok(())
}
