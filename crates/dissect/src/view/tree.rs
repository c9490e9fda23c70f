//! Full detail: every frame that carries RTMP handshake parts, messages, problems or an
//! RTP/MPEG-TS datagram, with each field, as the seed documents show Wireshark's tree.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::body::{handshake_tree, message_tree};
use super::{View, udp};
use crate::dissector::{DissectReport, FrameContent, FrameCtx, FrameObserver};
use crate::rtmp::{Problem, RtmpEvent};

/// The `tree` format.
pub struct TreeView<W: Write> {
    out: W,
    buf: String,
}

impl<W: Write> TreeView<W> {
    /// A view writing to `out`.
    pub fn new(out: W) -> Self {
        TreeView {
            out,
            buf: String::with_capacity(4096),
        }
    }
}

fn problem(out: &mut String, p: &Problem) {
    let _ = writeln!(
        out,
        "[Problem ({}, {}): {}]",
        p.severity.as_str(),
        p.kind.as_str(),
        p.text
    );
}

fn events_tree(out: &mut String, events: &[RtmpEvent]) {
    for ev in events {
        match ev {
            RtmpEvent::Handshake(h) => handshake_tree(out, h),
            RtmpEvent::Message(m) => message_tree(out, m),
            RtmpEvent::Problem(p) => problem(out, p),
        }
    }
}

impl<W: Write> FrameObserver for TreeView<W> {
    fn frame(&mut self, f: &FrameCtx<'_>, events: &[RtmpEvent]) -> io::Result<()> {
        let udp_kind = match &f.content {
            FrameContent::Udp {
                datagram,
                kind: Some(k),
            } => Some((*k, datagram)),
            _ => None,
        };
        if events.is_empty() && udp_kind.is_none() {
            return Ok(());
        }
        let out = &mut self.buf;
        out.clear();
        let _ = write!(
            out,
            "Frame {}: {} bytes, {:.6} s",
            f.frame, f.captured_len, f.rel_time
        );
        match &f.content {
            FrameContent::Tcp { segment, conn, .. } => {
                let _ = write!(out, ", {} → {}", segment.src, segment.dst);
                let dir = events.iter().find_map(|e| match e {
                    RtmpEvent::Handshake(h) => Some(h.at.dir),
                    RtmpEvent::Message(m) => Some(m.at.dir),
                    RtmpEvent::Problem(p) => p.at.map(|a| a.dir),
                });
                if let Some(c) = conn {
                    let _ = write!(out, " (conn {c}");
                    if let Some(d) = dir {
                        let _ = write!(out, ", {d}");
                    }
                    out.push(')');
                }
                let _ = write!(out, ", TCP payload {} bytes", segment.payload.len());
            }
            FrameContent::Udp { datagram, .. } => {
                let _ = write!(
                    out,
                    ", {} → {}, UDP payload {} bytes",
                    datagram.src,
                    datagram.dst,
                    datagram.payload.len()
                );
            }
            _ => {}
        }
        out.push('\n');
        events_tree(out, events);
        if let Some((k, d)) = udp_kind {
            udp::tree(k, d.payload, out);
        }
        out.push('\n');
        self.out.write_all(out.as_bytes())
    }

    fn trailing(&mut self, events: &[RtmpEvent]) -> io::Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        self.buf.clear();
        self.buf.push_str("End of capture\n");
        events_tree(&mut self.buf, events);
        self.out.write_all(self.buf.as_bytes())
    }
}

impl<W: Write> View for TreeView<W> {
    fn finish(&mut self, _report: &DissectReport) -> io::Result<()> {
        self.out.flush()
    }
}
