//! One line per connection and per UDP stream, written once the capture is read: endpoints,
//! role, URL, codecs and resolution, duration, bytes, message counts, problems.

use std::fmt::Write as _;
use std::io::{self, Write};

use serde_json::{Value, json};

use super::View;
use crate::dissector::{DissectReport, FrameCtx, FrameObserver};
use crate::rtmp::{ConnectionReport, RtmpDir, RtmpEvent};
use crate::rtp_ts::{PidKind, UdpPayloadKind, UdpStream};

/// Problems listed in full under each connection line.
const LISTED_PROBLEMS: usize = 5;

/// The `flows` format.
pub struct FlowsView<W: Write> {
    out: W,
    capture_problems: Vec<String>,
}

impl<W: Write> FlowsView<W> {
    /// A view writing to `out`.
    pub fn new(out: W) -> Self {
        FlowsView {
            out,
            capture_problems: Vec::new(),
        }
    }

    fn note_capture_problems(&mut self, events: &[RtmpEvent]) {
        for ev in events {
            if let RtmpEvent::Problem(p) = ev
                && p.at.is_none()
                && self.capture_problems.len() < LISTED_PROBLEMS
            {
                self.capture_problems
                    .push(format!("frame {}: {}", p.frame, p.text));
            }
        }
    }
}

fn dir_counts(r: &ConnectionReport, dir: RtmpDir) -> String {
    let d = r.dir(dir);
    let mut s = format!("{} {} B {} msgs", dir, d.bytes, d.messages);
    let (v, a) = (d.count(9), d.count(8));
    if v > 0 || a > 0 {
        let _ = write!(s, " ({v} video, {a} audio)");
    }
    if d.lost_bytes > 0 {
        let _ = write!(s, " {} B lost", d.lost_bytes);
    }
    s
}

/// The line of one RTMP connection.
pub fn connection_line(r: &ConnectionReport) -> String {
    let mut s = format!("conn {}", r.index);
    match (r.client, r.server) {
        (Some(c), Some(sv)) => {
            let _ = write!(s, " {c} -> {sv}");
        }
        _ => s.push_str(" ? -> ?"),
    }
    let _ = write!(s, " RTMP {}", r.role.as_str());
    let url = r
        .url
        .clone()
        .or_else(|| r.tc_url.clone())
        .unwrap_or_else(|| "-".into());
    let _ = write!(s, " {url}");
    if let Some(v) = &r.video {
        let _ = write!(s, " | video {}", v.short());
    }
    if let Some(a) = &r.audio {
        let _ = write!(s, " | audio {}", a.short());
    }
    let _ = write!(
        s,
        " | {:.3} s frames {}-{} | {} | {}",
        r.duration_secs(),
        r.first_frame,
        r.last_frame,
        dir_counts(r, RtmpDir::C2S),
        dir_counts(r, RtmpDir::S2C)
    );
    let cs = [r.dirs[0].chunk_size, r.dirs[1].chunk_size];
    let _ = write!(s, " | chunk size c2s {} s2c {}", cs[0], cs[1]);
    if r.mid_stream {
        s.push_str(" | joined mid-stream");
    } else if let Some(h) = &r.handshake {
        let _ = write!(s, " | handshake {h}");
    }
    if r.problem_counts.is_empty() {
        s.push_str(" | problems: none");
    } else {
        let list: Vec<String> = r
            .problem_counts
            .iter()
            .map(|(k, n)| format!("{n} {}", k.as_str()))
            .collect();
        let _ = write!(s, " | problems: {}", list.join(", "));
    }
    s
}

fn kind_name(k: UdpPayloadKind) -> &'static str {
    match k {
        UdpPayloadKind::Rtp => "RTP",
        UdpPayloadKind::MpegTs => "MP2T",
    }
}

/// The line of one UDP stream.
pub fn udp_line(s: &UdpStream) -> String {
    let secs = (s.last_time.as_nanos() - s.first_time.as_nanos()) as f64 / 1e9;
    let mut out = format!(
        "udp {} {} -> {} {} | {:.3} s frames {}-{} | {} datagrams {} B",
        s.index,
        s.src,
        s.dst,
        kind_name(s.kind),
        secs,
        s.first_frame,
        s.last_frame,
        s.datagrams,
        s.bytes
    );
    if let Some(bps) = s.bitrate_bps() {
        let _ = write!(out, " {:.0} kbit/s", bps / 1000.0);
    }
    if let Some(r) = &s.rtp {
        let _ = write!(
            out,
            " | SSRC 0x{:08x} PT {} packets {} lost {} duplicates {} reordered {} jitter {:.2} ms (max {:.2})",
            r.ssrc,
            r.payload_type,
            r.packets,
            r.lost,
            r.duplicates,
            r.reordered,
            r.jitter_ms(),
            r.max_jitter_ms()
        );
    }
    if let Some(ts) = s.ts() {
        let _ = write!(
            out,
            " | TS packets {} CC errors {} sync errors {}",
            ts.packets,
            ts.cc_errors(),
            ts.sync_errors
        );
        for p in ts.pids.values() {
            let what = match p.kind {
                PidKind::Pat => "PAT".to_owned(),
                PidKind::Pmt { program } => format!("PMT of program {program}"),
                PidKind::Elementary { codec, .. } => codec.to_owned(),
                PidKind::Null => "null".to_owned(),
                PidKind::Unknown => "unknown".to_owned(),
            };
            let _ = write!(out, " | PID 0x{:04x} {what} {} pkts", p.pid, p.packets);
            if let Some(bps) = p.bitrate_bps() {
                let _ = write!(out, " {:.0} kbit/s", bps / 1000.0);
            }
            if p.cc_errors > 0 {
                let _ = write!(out, " {} CC errors", p.cc_errors);
            }
            if let Some(pcr) = &p.pcr {
                let _ = write!(
                    out,
                    " PCR interval {:.1}-{:.1} ms jitter {:.2} ms",
                    pcr.min_interval_ms,
                    pcr.max_interval_ms,
                    pcr.jitter_ms()
                );
            }
        }
    }
    out
}

/// Connections and streams as JSON objects (the json view's closing lines).
pub(crate) fn report_json(report: &DissectReport) -> Vec<Value> {
    let mut out = Vec::new();
    for r in &report.rtmp {
        let dir = |d: RtmpDir| {
            let x = r.dir(d);
            json!({
                "bytes": x.bytes, "messages": x.messages,
                "by_type": x.by_type.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
                "chunk_size": x.chunk_size, "lost_bytes": x.lost_bytes, "skipped_bytes": x.skipped_bytes,
            })
        };
        out.push(json!({
            "kind": "connection",
            "conn": r.index,
            "client": r.client.map(|a| a.to_string()),
            "server": r.server.map(|a| a.to_string()),
            "role": r.role.as_str(),
            "app": r.app, "tc_url": r.tc_url, "stream": r.stream_name, "url": r.url,
            "video": r.video.as_ref().map(|v| v.short()),
            "audio": r.audio.as_ref().map(|a| a.short()),
            "first_frame": r.first_frame, "last_frame": r.last_frame,
            "duration": r.duration_secs(),
            "handshake": r.handshake, "mid_stream": r.mid_stream,
            "c2s": dir(RtmpDir::C2S), "s2c": dir(RtmpDir::S2C),
            "problems": r.problem_counts.iter().map(|(k, v)| (k.as_str().to_owned(), json!(v))).collect::<serde_json::Map<_, _>>(),
        }));
    }
    for s in report.udp.streams() {
        out.push(json!({"kind": "udp_stream", "stream": s.index, "summary": udp_line(s)}));
    }
    out
}

impl<W: Write> FrameObserver for FlowsView<W> {
    fn frame(&mut self, _f: &FrameCtx<'_>, events: &[RtmpEvent]) -> io::Result<()> {
        if !events.is_empty() {
            self.note_capture_problems(events);
        }
        Ok(())
    }

    fn trailing(&mut self, events: &[RtmpEvent]) -> io::Result<()> {
        self.note_capture_problems(events);
        Ok(())
    }
}

impl<W: Write> View for FlowsView<W> {
    fn finish(&mut self, report: &DissectReport) -> io::Result<()> {
        let mut s = String::new();
        for r in &report.rtmp {
            s.push_str(&connection_line(r));
            s.push('\n');
            for p in r.problems.iter().take(LISTED_PROBLEMS) {
                let _ = writeln!(
                    s,
                    "    ! frame {} {} {}: {}",
                    p.frame,
                    p.at.map(|a| a.dir.as_str()).unwrap_or("-"),
                    p.severity.as_str(),
                    p.text
                );
            }
        }
        for c in &report.tcp {
            if report.rtmp.iter().any(|r| r.index == c.info.index) {
                continue;
            }
            let _ = writeln!(
                s,
                "conn {} {} -> {} TCP (not RTMP) | frames {}-{} | c2s {} B s2c {} B",
                c.info.index,
                c.info.client,
                c.info.server,
                c.info.first_frame,
                c.last_frame,
                c.stats[0].bytes,
                c.stats[1].bytes
            );
        }
        for st in report.udp.streams() {
            s.push_str(&udp_line(st));
            s.push('\n');
        }
        let c = &report.capture;
        let _ = writeln!(
            s,
            "capture: {} frames, {} TCP segments, {} UDP datagrams, {} RTMP connections, {} UDP streams{}",
            c.frames,
            c.tcp_segments,
            c.udp_datagrams,
            report.rtmp.len(),
            report.udp.streams().len(),
            if c.decode_error_count > 0 {
                format!(", {} undecodable frames", c.decode_error_count)
            } else {
                String::new()
            }
        );
        for p in &self.capture_problems {
            let _ = writeln!(s, "    ! {p}");
        }
        self.out.write_all(s.as_bytes())?;
        self.out.flush()
    }
}
