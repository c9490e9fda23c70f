//! One line per frame, in the layout of tshark's default output; problems on indented lines
//! under the frame that revealed them.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::{View, tcp_flags, udp};
use crate::dissector::{DissectReport, FrameContent, FrameCtx, FrameObserver};
use crate::rtmp::{Problem, RtmpEvent};

/// The `summary` format.
pub struct SummaryView<W: Write> {
    out: W,
    line: String,
    info: String,
}

impl<W: Write> SummaryView<W> {
    /// A view writing to `out` (buffer it: one write per frame).
    pub fn new(out: W) -> Self {
        SummaryView {
            out,
            line: String::with_capacity(256),
            info: String::with_capacity(256),
        }
    }
}

pub(crate) fn problem_line(out: &mut String, p: &Problem) {
    let _ = write!(out, "       ! {}", p.severity.as_str());
    if let Some(at) = &p.at {
        let _ = write!(out, " (conn {} {})", at.conn, at.dir);
    } else if p.frame > 0 {
        let _ = write!(out, " (frame {})", p.frame);
    }
    let _ = writeln!(out, ": {}", p.text);
}

/// Joins the frame's handshake parts and messages with `|`; true if there were any. A message
/// that ended in an earlier frame (found late, while looking for a chunk header) says so.
fn rtmp_info(frame: u64, events: &[RtmpEvent], info: &mut String) -> bool {
    let mut any = false;
    for ev in events {
        match ev {
            RtmpEvent::Handshake(h) => {
                if any {
                    info.push('|');
                }
                info.push_str(h.part.name());
                any = true;
            }
            RtmpEvent::Message(m) => {
                if any {
                    info.push('|');
                }
                let _ = m.write_summary(info);
                if m.frame != frame {
                    let _ = write!(info, " [frame {}]", m.frame);
                }
                any = true;
            }
            RtmpEvent::Problem(_) => {}
        }
    }
    any
}

impl<W: Write> FrameObserver for SummaryView<W> {
    fn frame(&mut self, f: &FrameCtx<'_>, events: &[RtmpEvent]) -> io::Result<()> {
        let line = &mut self.line;
        let info = &mut self.info;
        line.clear();
        info.clear();
        let _ = write!(line, "{:>6} {:>11.6} ", f.frame, f.rel_time);
        match &f.content {
            FrameContent::Tcp { segment, rtmp, .. } => {
                let _ = write!(line, "{} → {} ", segment.src, segment.dst);
                if rtmp_info(f.frame, events, info) {
                    let _ = write!(line, "RTMP {} {info}", f.captured_len);
                } else {
                    let proto = if *rtmp && !segment.payload.is_empty() {
                        "RTMP"
                    } else {
                        "TCP"
                    };
                    let _ = write!(
                        line,
                        "{proto} {} {} → {} ",
                        f.captured_len,
                        segment.src.port(),
                        segment.dst.port()
                    );
                    tcp_flags(segment.flags, line);
                    let _ = write!(
                        line,
                        " Win={} Len={}",
                        segment.window,
                        segment.payload.len()
                    );
                    if proto == "RTMP" {
                        line.push_str(" [part of an RTMP message]");
                    }
                }
            }
            FrameContent::Udp { datagram, kind } => {
                let _ = write!(line, "{} → {} ", datagram.src, datagram.dst);
                match kind {
                    Some(k) => {
                        let proto = udp::summary(*k, datagram.payload, info);
                        let _ = write!(line, "{proto} {} {info}", f.captured_len);
                    }
                    None => {
                        let _ = write!(
                            line,
                            "UDP {} {} → {} Len={}",
                            f.captured_len,
                            datagram.src.port(),
                            datagram.dst.port(),
                            datagram.payload.len()
                        );
                    }
                }
            }
            FrameContent::Fragment => {
                let _ = write!(line, "IP fragment {} (not reassembled)", f.captured_len);
            }
            FrameContent::Other => {
                let _ = write!(line, "other {} (not TCP or UDP over IP)", f.captured_len);
            }
            FrameContent::Undecodable(e) => {
                let _ = write!(line, "malformed {} {e}", f.captured_len);
            }
        }
        line.push('\n');
        for ev in events {
            if let RtmpEvent::Problem(p) = ev {
                problem_line(line, p);
            }
        }
        self.out.write_all(line.as_bytes())
    }

    fn trailing(&mut self, events: &[RtmpEvent]) -> io::Result<()> {
        self.line.clear();
        for ev in events {
            match ev {
                RtmpEvent::Problem(p) => problem_line(&mut self.line, p),
                RtmpEvent::Message(m) => {
                    let _ = write!(
                        self.line,
                        "{:>6} (completed at the end of the capture) conn {} {} RTMP ",
                        m.frame, m.at.conn, m.at.dir
                    );
                    let _ = m.write_summary(&mut self.line);
                    self.line.push('\n');
                }
                RtmpEvent::Handshake(h) => {
                    let _ = writeln!(
                        self.line,
                        "{:>6} (completed at the end of the capture) conn {} {} RTMP {}",
                        h.frame,
                        h.at.conn,
                        h.at.dir,
                        h.part.name()
                    );
                }
            }
        }
        self.out.write_all(self.line.as_bytes())
    }
}

impl<W: Write> View for SummaryView<W> {
    fn finish(&mut self, _report: &DissectReport) -> io::Result<()> {
        self.out.flush()
    }
}
