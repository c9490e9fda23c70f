//! The output formats of `rtmpkit dissect`: each is a [`FrameObserver`] that writes as the
//! capture is read, plus a closing part once the whole capture is known.
//!
//! | format | what |
//! |---|---|
//! | [`Format::Summary`] | one line per frame, as tshark prints by default |
//! | [`Format::Tree`] | every field of every RTMP message, handshake and RTP/TS datagram |
//! | [`Format::Json`] | one JSON object per line: messages, handshakes, problems, datagrams, then connections and streams |
//! | [`Format::Flows`] | one line per connection and per UDP stream |

pub mod amf;
pub mod body;
mod flows;
mod json;
mod media_tree;
mod summary;
mod tree;
pub mod udp;

use std::io::{self, Write};
use std::str::FromStr;

use crate::dissector::{DissectReport, FrameObserver};
use crate::net::TcpFlags;

pub use flows::FlowsView;
pub use json::JsonView;
pub use summary::SummaryView;
pub use tree::TreeView;

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One line per frame.
    Summary,
    /// Full detail.
    Tree,
    /// JSON lines.
    Json,
    /// One line per connection.
    Flows,
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "summary" => Ok(Format::Summary),
            "tree" => Ok(Format::Tree),
            "json" => Ok(Format::Json),
            "flows" => Ok(Format::Flows),
            other => Err(format!(
                "unknown format '{other}' (summary, tree, json or flows)"
            )),
        }
    }
}

impl Format {
    /// Whether the view shows "response in frame N" beside requests (worth a first pass).
    pub fn wants_responses(self) -> bool {
        matches!(self, Format::Tree | Format::Json)
    }
}

/// A view: frames as they come, then the closing part.
pub trait View: FrameObserver {
    /// Writes what needs the whole capture (the flows table, totals) and flushes.
    fn finish(&mut self, report: &DissectReport) -> io::Result<()>;
}

/// The view for `format`, writing to `out`.
pub fn make_view<'w>(format: Format, out: Box<dyn Write + 'w>) -> Box<dyn View + 'w> {
    match format {
        Format::Summary => Box::new(SummaryView::new(out)),
        Format::Tree => Box::new(TreeView::new(out)),
        Format::Json => Box::new(JsonView::new(out)),
        Format::Flows => Box::new(FlowsView::new(out)),
    }
}

impl<V: View + ?Sized> FrameObserver for Box<V> {
    fn frame(
        &mut self,
        frame: &crate::dissector::FrameCtx<'_>,
        events: &[crate::rtmp::RtmpEvent],
    ) -> io::Result<()> {
        (**self).frame(frame, events)
    }

    fn trailing(&mut self, events: &[crate::rtmp::RtmpEvent]) -> io::Result<()> {
        (**self).trailing(events)
    }
}

/// tshark's flag list for the common combinations, without formatting.
pub fn common_tcp_flags(f: TcpFlags) -> Option<&'static str> {
    let s = match f.0 & 0x1f {
        0x10 => "[ACK]",
        0x18 => "[PSH, ACK]",
        0x02 => "[SYN]",
        0x12 => "[SYN, ACK]",
        0x11 => "[FIN, ACK]",
        0x19 => "[FIN, PSH, ACK]",
        0x04 => "[RST]",
        0x14 => "[RST, ACK]",
        _ => return None,
    };
    Some(s)
}

/// tshark's flag list: `[SYN, ACK]`.
pub fn tcp_flags(f: TcpFlags, out: &mut String) {
    if let Some(common) = common_tcp_flags(f) {
        out.push_str(common);
        return;
    }
    let names = [
        (TcpFlags::FIN, "FIN"),
        (TcpFlags::SYN, "SYN"),
        (TcpFlags::RST, "RST"),
        (TcpFlags::PSH, "PSH"),
        (TcpFlags::ACK, "ACK"),
    ];
    out.push('[');
    let mut first = true;
    for (bit, name) in names {
        if f.0 & bit != 0 {
            if !first {
                out.push_str(", ");
            }
            out.push_str(name);
            first = false;
        }
    }
    out.push(']');
}
