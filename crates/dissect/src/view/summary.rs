//! One line per frame, in the layout of tshark's default output; problems on indented lines
//! under the frame that revealed them.

use std::fmt::Write as _;
use std::io::{self, Write};

use crate::net::TcpFlags;

use super::{View, tcp_flags, udp};
use crate::dissector::{DissectReport, FrameContent, FrameCtx, FrameObserver};
use crate::rtmp::{Problem, RtmpEvent};

/// Output collected before a write.
const FLUSH_AT: usize = 64 << 10;

/// The `summary` format.
pub struct SummaryView<W: Write> {
    out: W,
    line: Vec<u8>,
    info: String,
    /// Per TCP connection index: the first sender seen and the formatted "a → b " and
    /// "aport → bport " of both directions (formatting addresses is most of a line's cost).
    addrs: Vec<Option<ConnText>>,
}

struct ConnText {
    a: std::net::SocketAddr,
    fwd: (String, String),
    rev: (String, String),
}

impl ConnText {
    fn new(a: std::net::SocketAddr, b: std::net::SocketAddr) -> Self {
        ConnText {
            a,
            fwd: (
                format!("{a} → {b} "),
                format!("{} → {} ", a.port(), b.port()),
            ),
            rev: (
                format!("{b} → {a} "),
                format!("{} → {} ", b.port(), a.port()),
            ),
        }
    }
}

/// "00" to "99": numbers are formatted two digits at a time.
const DIGIT_PAIRS: &[u8; 200] = b"00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899";

/// Writes `two_digits` (below 100) as two decimal digits at `field[at..at + 2]`.
fn put_pair(field: &mut [u8], at: usize, two_digits: u64) {
    let p = two_digits as usize * 2;
    if let (Some(dst), Some(src)) = (field.get_mut(at..at + 2), DIGIT_PAIRS.get(p..p + 2)) {
        dst.copy_from_slice(src);
    }
}

/// Writes the decimal digits of `v` at the end of `field`, which must have room for them
/// (see [`digit_count`]).
fn decimal(v: u64, field: &mut [u8]) {
    let mut n = v;
    let mut i = field.len();
    while n >= 100 && i >= 2 {
        i -= 2;
        put_pair(field, i, n % 100);
        n /= 100;
    }
    if n >= 10 && i >= 2 {
        put_pair(field, i - 2, n);
    } else if let Some(b) = i.checked_sub(1).and_then(|i| field.get_mut(i)) {
        *b = b'0' + n as u8;
    }
}

/// Number of decimal digits of `v` (1 to 20).
fn digit_count(v: u64) -> usize {
    v.checked_ilog10().map_or(1, |d| d as usize + 1)
}

/// Appends `v` right-aligned in `width` columns (at most 20).
///
/// The field is appended as a constant-size block of spaces cut to length, then the digits
/// are written over it in place. A copy of a variable size would be a call to `memmove`, and
/// formatting into a stack buffer and copying that costs a stalled load (it reads back bytes
/// just written in pairs): either cost more than the formatting, a few times per line.
fn push_num(out: &mut Vec<u8>, v: u64, width: usize) {
    const SPACES: [u8; 20] = [b' '; 20];
    let len = digit_count(v).max(width.min(SPACES.len()));
    let at = out.len();
    out.extend_from_slice(&SPACES);
    out.truncate(at + len);
    if let Some(field) = out.get_mut(at..) {
        decimal(v, field);
    }
}

/// tshark's relative time column: seconds with six decimals, right-aligned in 11 columns.
fn push_time(out: &mut Vec<u8>, secs: f64) {
    let micros = round_to_u64(secs.max(0.0) * 1e6);
    push_num(out, micros / 1_000_000, 4);
    let at = out.len();
    out.extend_from_slice(b".000000");
    if let Some(field) = out.get_mut(at + 1..) {
        put_micros(field, micros);
    }
}

/// Writes the six decimals of `micros` (microseconds) at the start of `field`.
fn put_micros(field: &mut [u8], micros: u64) {
    let frac = micros % 1_000_000;
    put_pair(field, 0, frac / 10_000);
    put_pair(field, 2, frac / 100 % 100);
    put_pair(field, 4, frac % 100);
}

/// The first two columns, each followed by a space: the frame number right-aligned in 6
/// columns, then the relative time as [`push_time`] writes it. Almost every line has both
/// fields at their width: they are then one constant-size block with the digits written in.
fn push_frame_and_time(out: &mut Vec<u8>, frame: u64, secs: f64) {
    let micros = round_to_u64(secs.max(0.0) * 1e6);
    let whole_secs = micros / 1_000_000;
    if frame >= 1_000_000 || whole_secs >= 10_000 {
        push_num(out, frame, 6);
        out.push(b' ');
        push_time(out, secs);
        out.push(b' ');
        return;
    }
    let at = out.len();
    // Frame in [0, 6), seconds in [7, 11), decimals in [12, 18).
    out.extend_from_slice(b"           .000000 ");
    if let Some(block) = out.get_mut(at..) {
        if let Some(field) = block.get_mut(..6) {
            decimal(frame, field);
        }
        if let Some(field) = block.get_mut(7..11) {
            decimal(whole_secs, field);
        }
        if let Some(field) = block.get_mut(12..) {
            put_micros(field, micros);
        }
    }
}

/// `y.round() as u64` for `y >= 0` (NaN excluded), without the call to libm's `round`: the
/// fraction `y - trunc(y)` of a double is exact, so comparing it with 0.5 rounds half away
/// from zero exactly as `round` does.
fn round_to_u64(y: f64) -> u64 {
    let whole = y as u64;
    whole.saturating_add(u64::from(y - whole as f64 >= 0.5))
}

fn push_flags(out: &mut Vec<u8>, flags: TcpFlags) {
    if let Some(common) = super::common_tcp_flags(flags) {
        out.extend_from_slice(common.as_bytes());
        return;
    }
    let mut s = String::new();
    tcp_flags(flags, &mut s);
    out.extend_from_slice(s.as_bytes());
}

impl<W: Write> SummaryView<W> {
    /// A view writing to `out` (buffer it: one write per frame).
    pub fn new(out: W) -> Self {
        SummaryView {
            out,
            line: Vec::with_capacity(FLUSH_AT + 4096),
            info: String::with_capacity(256),
            addrs: Vec::new(),
        }
    }
}

pub(crate) fn problem_line(out: &mut Vec<u8>, p: &Problem) {
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
        // Lines collect in `line` and go out in large writes.
        if self.line.len() >= FLUSH_AT {
            self.out.write_all(&self.line)?;
            self.line.clear();
        }
        let line = &mut self.line;
        let info = &mut self.info;
        info.clear();
        push_frame_and_time(line, f.frame, f.rel_time);
        match &f.content {
            FrameContent::Tcp {
                segment,
                rtmp,
                conn,
            } => {
                let slot = conn.and_then(|c| usize::try_from(c).ok());
                let text = match slot {
                    Some(i) => {
                        if self.addrs.len() <= i {
                            self.addrs.resize_with(i + 1, || None);
                        }
                        self.addrs.get_mut(i).map(|t| {
                            &*t.get_or_insert_with(|| ConnText::new(segment.src, segment.dst))
                        })
                    }
                    None => None,
                };
                let owned;
                let (addrs, ports) = match text {
                    Some(t) if t.a == segment.src => (&t.fwd.0, &t.fwd.1),
                    Some(t) => (&t.rev.0, &t.rev.1),
                    None => {
                        owned = ConnText::new(segment.src, segment.dst);
                        (&owned.fwd.0, &owned.fwd.1)
                    }
                };
                line.extend_from_slice(addrs.as_bytes());
                if rtmp_info(f.frame, events, info) {
                    line.extend_from_slice(b"RTMP ");
                    push_num(line, u64::from(f.captured_len), 0);
                    line.push(b' ');
                    line.extend_from_slice(info.as_bytes());
                } else {
                    let rtmp_part = *rtmp && !segment.payload.is_empty();
                    line.extend_from_slice(if rtmp_part { b"RTMP " } else { b"TCP " });
                    push_num(line, u64::from(f.captured_len), 0);
                    line.push(b' ');
                    line.extend_from_slice(ports.as_bytes());
                    push_flags(line, segment.flags);
                    line.extend_from_slice(b" Win=");
                    push_num(line, u64::from(segment.window), 0);
                    line.extend_from_slice(b" Len=");
                    push_num(line, segment.payload.len() as u64, 0);
                    if rtmp_part {
                        line.extend_from_slice(b" [part of an RTMP message]");
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
        line.push(b'\n');
        for ev in events {
            if let RtmpEvent::Problem(p) = ev {
                problem_line(line, p);
            }
        }
        Ok(())
    }

    fn trailing(&mut self, events: &[RtmpEvent]) -> io::Result<()> {
        for ev in events {
            match ev {
                RtmpEvent::Problem(p) => problem_line(&mut self.line, p),
                RtmpEvent::Message(m) => {
                    let _ = write!(
                        self.line,
                        "{:>6} (completed at the end of the capture) conn {} {} RTMP ",
                        m.frame, m.at.conn, m.at.dir
                    );
                    let mut summary = String::new();
                    let _ = m.write_summary(&mut summary);
                    self.line.extend_from_slice(summary.as_bytes());
                    self.line.push(b'\n');
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
        self.out.write_all(&self.line)?;
        self.line.clear();
        Ok(())
    }
}

impl<W: Write> View for SummaryView<W> {
    fn finish(&mut self, report: &DissectReport) -> io::Result<()> {
        // What the RTP/MPEG-TS analysis found, once the streams are complete.
        for st in report.udp.streams() {
            let mut found = Vec::new();
            if let Some(r) = &st.rtp
                && (r.lost > 0 || r.reordered > 0 || r.duplicates > 0)
            {
                let first = r
                    .gaps
                    .first()
                    .map(|g| {
                        format!(
                            ", first gap in frame {} ({} after {})",
                            g.frame, g.missing, g.after
                        )
                    })
                    .unwrap_or_default();
                found.push(format!(
                    "RTP SSRC 0x{:08x}: {} packets lost, {} reordered, {} duplicated{first}",
                    r.ssrc, r.lost, r.reordered, r.duplicates
                ));
            }
            if let Some(ts) = st.ts() {
                for p in ts.pids.values().filter(|p| p.cc_errors > 0) {
                    let first = p
                        .cc_error_events
                        .first()
                        .map(|e| {
                            format!(
                                ", first in frame {} (expected {}, found {})",
                                e.frame, e.expected, e.found
                            )
                        })
                        .unwrap_or_default();
                    found.push(format!(
                        "MPEG-TS PID 0x{:04x}: {} continuity counter errors (lost or reordered TS packets){first}",
                        p.pid, p.cc_errors
                    ));
                }
            }
            for f in found {
                let _ = writeln!(
                    self.line,
                    "       ! warning (udp stream {} {} -> {}): {f}",
                    st.index, st.src, st.dst
                );
            }
        }
        self.out.write_all(&self.line)?;
        self.line.clear();
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_right_aligned() {
        for (v, width, want) in [
            (0, 6, "     0"),
            (7, 0, "7"),
            (42, 6, "    42"),
            (123_456, 6, "123456"),
            (1_234_567, 6, "1234567"),
            (u64::MAX, 4, "18446744073709551615"),
            (u64::MAX, 20, "18446744073709551615"),
            (10, 30, "10"),
        ] {
            let mut out = Vec::new();
            push_num(&mut out, v, width);
            let want = if width > 20 {
                format!("{v:>20}")
            } else {
                want.to_owned()
            };
            assert_eq!(String::from_utf8(out).unwrap(), want, "{v} in {width}");
        }
        for v in (0..100_000).chain([999_999, 1_000_000, 10u64.pow(19)]) {
            let mut out = Vec::new();
            push_num(&mut out, v, 6);
            assert_eq!(String::from_utf8(out).unwrap(), format!("{v:>6}"));
        }
    }

    #[test]
    fn time_column_rounds_like_f64_round() {
        for secs in [
            0.0,
            -1.0,
            f64::NAN,
            0.000_000_4,
            0.000_000_5,
            0.5e-6_f64.next_down(),
            1.234_567_5,
            12.000_001,
            9_999.999_999_6,
            12_345.678_901,
            1e300,
            f64::INFINITY,
        ] {
            let mut out = Vec::new();
            push_time(&mut out, secs);
            let micros = (secs.max(0.0) * 1e6).round() as u64;
            let want = format!("{:>4}.{:06}", micros / 1_000_000, micros % 1_000_000);
            assert_eq!(String::from_utf8(out).unwrap(), want, "{secs}");
        }
        for (frame, secs) in [
            (1, 0.0),
            (999_999, 9_999.999_999),
            (1_000_000, 1.5),
            (42, 9_999.999_999_6),
            (42, 12_345.6),
            (7, f64::NAN),
        ] {
            let mut out = Vec::new();
            push_frame_and_time(&mut out, frame, secs);
            let mut want = Vec::new();
            push_num(&mut want, frame, 6);
            want.push(b' ');
            push_time(&mut want, secs);
            want.push(b' ');
            assert_eq!(out, want, "{frame} {secs}");
        }
        for y in [
            0.5,
            1.5,
            2.5,
            0.5_f64.next_down(),
            4_503_599_627_370_495.5,
            1e20,
        ] {
            assert_eq!(round_to_u64(y), y.round() as u64, "{y}");
        }
    }
}
