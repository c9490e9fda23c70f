//! Writes a synthetic pcapng of about SIZE MiB for speed tests: one TCP connection on port
//! 1935 with 1448-byte segments (1 in 500 reordered, 1 in 1000 retransmitted) and an RTP/TS
//! stream on UDP 5004 (7 TS packets per datagram), interleaved 1:1.
//! `cargo run --release --example gen_capture -- OUT.pcapng SIZE_MIB`

use std::io::Write;
use std::net::IpAddr;

use rtmpkit_dissect::write::{PcapNgWriter, build};
use rtmpkit_dissect::{LinkType, Timestamp};
use rtmpkit_proto::mpegts::{AdaptationFieldControl, TsHeader, encode_packet};
use rtmpkit_proto::rtp::RtpHeader;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = args.next().ok_or("usage: gen_capture OUT SIZE_MIB")?;
    let mib: usize = args
        .next()
        .ok_or("usage: gen_capture OUT SIZE_MIB")?
        .parse()?;
    let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse()?, "10.0.0.2".parse()?);
    let mut file = std::io::BufWriter::new(std::fs::File::create(&out)?);
    let mut w = PcapNgWriter::new();
    w.interface(LinkType::ETHERNET, 262_144, 9);
    let mut written = 0usize;
    let payload = vec![0x5au8; 1448];
    let mut seq: u32 = 1;
    let mut i: u64 = 0;
    let mut pending: Option<Vec<u8>> = None;
    let mut cc = 0u8;
    while written < mib << 20 {
        let ts = Timestamp {
            secs: 1_700_000_000 + (i / 10_000) as i64,
            nanos: ((i % 10_000) * 100_000) as u32,
        };
        let seg = build::tcp(a, b, 50000, 1935, seq, 1, 0x18, &payload);
        let frame = build::ethernet(&[], &build::ip(a, b, 6, &seg));
        if i % 500 == 1 {
            pending = Some(frame); // sent after the next one: out of order
        } else {
            w.packet(0, ts, &frame, frame.len() as u32);
            if let Some(p) = pending.take() {
                w.packet(0, ts, &p, p.len() as u32);
            }
            if i % 1000 == 7 {
                w.packet(0, ts, &frame, frame.len() as u32); // retransmission
            }
        }
        seq = seq.wrapping_add(1448);
        let mut ts_packets = Vec::with_capacity(7 * 188);
        for k in 0..7u16 {
            let h = TsHeader {
                transport_error: false,
                payload_unit_start: k == 0 && i.is_multiple_of(10),
                transport_priority: false,
                pid: 0x100,
                scrambling_control: 0,
                adaptation_field_control: AdaptationFieldControl::PayloadOnly,
                continuity_counter: cc,
            };
            cc = (cc + 1) & 15;
            encode_packet(&h, None, &[0u8; 184], &mut ts_packets)?;
        }
        let mut rtp = Vec::with_capacity(12 + ts_packets.len());
        RtpHeader::new(33, i as u16, (i * 900) as u32, 0xabcd).encode(&mut rtp)?;
        rtp.extend_from_slice(&ts_packets);
        let udp = build::udp(a, b, 40000, 5004, &rtp);
        let frame = build::ethernet(&[], &build::ip(a, b, 17, &udp));
        w.packet(0, ts, &frame, frame.len() as u32);
        i += 1;
        if i.is_multiple_of(1000) {
            let bytes = w.take_bytes();
            written += bytes.len();
            file.write_all(&bytes)?;
        }
    }
    file.write_all(&w.into_bytes())?;
    file.flush()?;
    println!("wrote {out}: {i} TCP segments and {i} RTP datagrams");
    Ok(())
}
