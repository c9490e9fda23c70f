//! Prints what the dissector foundation sees in a capture: counts, TCP connections, RTP/TS
//! streams. `cargo run --release --example summary -- FILE|- [udp.port==N,rtp ...]`
//! (a stand-in until the `rtmpkit dissect` views exist; also used to measure speed).

use std::io::Read;

use rtmpkit_dissect::rtp_ts::DecodeAs;
use rtmpkit_dissect::{RtpTsAnalyzer, StreamEvent, TcpReassembler, run_capture};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .ok_or("usage: summary FILE|- [udp.port==N,rtp ...]")?;
    let rules = args
        .map(|a| a.parse::<DecodeAs>())
        .collect::<Result<Vec<_>, _>>()?;
    let input: Box<dyn Read + Send> = if path == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(std::fs::File::open(&path)?)
    };
    let mut udp = RtpTsAnalyzer::new(rules, true);
    let mut tcp = TcpReassembler::default();
    let (mut data, mut gaps) = (0u64, 0u64);
    let mut sink = |_: &_, _, ev: StreamEvent<'_>| match ev {
        StreamEvent::Data { bytes, .. } => data += bytes.len() as u64,
        StreamEvent::Gap { len, .. } => gaps += len,
        StreamEvent::Closed { .. } => {}
    };
    let sum = run_capture(
        std::io::BufReader::with_capacity(1 << 20, input),
        &mut tcp,
        &mut sink,
        |f, t, d| {
            udp.push(f, t, d);
        },
    )?;
    udp.finish();
    println!(
        "frames {} tcp {} udp {} fragments {} other {} decode errors {}",
        sum.frames,
        sum.tcp_segments,
        sum.udp_datagrams,
        sum.ip_fragments,
        sum.other,
        sum.decode_error_count
    );
    for e in &sum.capture_errors {
        println!("capture error: {e}");
    }
    println!(
        "tcp: {} connections, {data} bytes delivered, {gaps} bytes missing",
        tcp.connection_count()
    );
    for c in tcp.summaries().iter().take(20) {
        println!(
            "  #{} {} -> {} frames {}..{} c2s {:?} s2c {:?}",
            c.info.index,
            c.info.client,
            c.info.server,
            c.info.first_frame,
            c.last_frame,
            c.stats[0],
            c.stats[1]
        );
    }
    for s in udp.streams() {
        println!(
            "udp stream #{} {} -> {} {:?} datagrams {}",
            s.index, s.src, s.dst, s.kind, s.datagrams
        );
        if let Some(r) = &s.rtp {
            println!(
                "  rtp ssrc {:#010x} pt {} packets {} expected {} lost {} dup {} reordered {} jitter {:.3} ms (max {:.3})",
                r.ssrc,
                r.payload_type,
                r.packets,
                r.expected,
                r.lost,
                r.duplicates,
                r.reordered,
                r.jitter_ms(),
                r.max_jitter_ms()
            );
        }
        if let Some(ts) = s.ts() {
            println!(
                "  ts packets {} cc errors {} sync errors {} table errors {}",
                ts.packets,
                ts.cc_errors(),
                ts.sync_errors,
                ts.table_error_count
            );
            if let Some(p) = &ts.pat {
                println!("  PAT {:?}", p.table.programs);
            }
            for (pid, p) in &ts.pmts {
                for es in &p.table.streams {
                    println!(
                        "  PMT {pid:#x}: {:#x} {} ({})",
                        es.pid,
                        es.stream_type,
                        es.codec_name()
                    );
                }
            }
            for p in ts.pids.values() {
                print!(
                    "  pid {:#06x} {:?} packets {} cc {} rate {:.0} bit/s",
                    p.pid,
                    p.kind,
                    p.packets,
                    p.cc_errors,
                    p.bitrate_bps().unwrap_or(0.0)
                );
                if let Some(pcr) = &p.pcr {
                    print!(
                        " pcr {} interval {:.1}..{:.1} ms jitter {:.2} ms",
                        pcr.count,
                        pcr.min_interval_ms,
                        pcr.max_interval_ms,
                        pcr.jitter_ms()
                    );
                }
                if let Some(pes) = &p.pes {
                    let first = pes.timings.first().and_then(|t| t.pts);
                    let last = pes.timings.last().and_then(|t| t.pts);
                    print!(
                        " pes {} pts {:?}..{:?} dts-backwards {}",
                        pes.count, first, last, pes.decode_time_backwards
                    );
                }
                println!();
            }
        }
    }
    Ok(())
}
