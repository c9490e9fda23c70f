//! The read loop: capture → link → IP → TCP reassembly or UDP consumer.

use std::io::Read;

use crate::capture::{CaptureError, CaptureReader, Timestamp};
use crate::net::{NetError, Transport, UdpDatagram, decode_packet};
use crate::tcp::{StreamSink, TcpReassembler};

/// Most problems kept in a [`CaptureSummary`] (the counts go on).
pub const MAX_KEPT_PROBLEMS: usize = 1000;

/// Counts and problems of one pass over a capture.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaptureSummary {
    /// Packets read (the last frame number).
    pub frames: u64,
    /// TCP segments.
    pub tcp_segments: u64,
    /// UDP datagrams.
    pub udp_datagrams: u64,
    /// IP fragments (not reassembled).
    pub ip_fragments: u64,
    /// Other IP protocols and non-IP frames.
    pub other: u64,
    /// Packets whose headers could not be decoded: frame and why (first [`MAX_KEPT_PROBLEMS`]).
    pub decode_errors: Vec<(u64, NetError)>,
    /// Number of decode errors.
    pub decode_error_count: u64,
    /// Capture file problems, in order (the last may be fatal).
    pub capture_errors: Vec<CaptureError>,
    /// Time of the first and last packet.
    pub first_time: Option<Timestamp>,
    /// Time of the last packet.
    pub last_time: Option<Timestamp>,
}

impl CaptureSummary {
    /// Notes a packet whose headers could not be decoded (kept up to [`MAX_KEPT_PROBLEMS`]).
    pub fn note_decode_error(&mut self, frame: u64, e: NetError) {
        self.decode_error_count += 1;
        if self.decode_errors.len() < MAX_KEPT_PROBLEMS {
            self.decode_errors.push((frame, e));
        }
    }

    /// Notes a capture file problem (kept up to [`MAX_KEPT_PROBLEMS`], a fatal one always);
    /// returns whether it is fatal: reading stops there.
    pub fn note_capture_error(&mut self, e: CaptureError) -> bool {
        let fatal = e.fatal;
        if self.capture_errors.len() < MAX_KEPT_PROBLEMS || fatal {
            self.capture_errors.push(e);
        }
        fatal
    }
}

/// Reads a whole capture: TCP segments go through `tcp` to `sink`, UDP datagrams to `on_udp`
/// (frame, time, datagram). Ends by flushing the reassembler. Fails only when the input is
/// not a capture at all; later file problems are listed in the summary.
pub fn run_capture<'r, R: Read + Send + 'r>(
    input: R,
    tcp: &mut TcpReassembler,
    sink: &mut impl StreamSink,
    mut on_udp: impl FnMut(u64, Timestamp, &UdpDatagram<'_>),
) -> Result<CaptureSummary, CaptureError> {
    let mut reader = CaptureReader::new(input)?;
    let mut sum = CaptureSummary::default();
    loop {
        let packet = match reader.next_packet() {
            Ok(Some(p)) => p,
            Ok(None) => break,
            Err(e) => {
                if sum.note_capture_error(e) {
                    break;
                }
                continue;
            }
        };
        sum.frames = packet.frame;
        sum.first_time.get_or_insert(packet.timestamp);
        sum.last_time = Some(packet.timestamp);
        match decode_packet(&packet) {
            Ok(d) => match d.transport {
                Transport::Tcp(seg) => {
                    sum.tcp_segments += 1;
                    tcp.segment(d.frame, d.timestamp, &seg, sink);
                }
                Transport::Udp(u) => {
                    sum.udp_datagrams += 1;
                    on_udp(d.frame, d.timestamp, &u);
                }
                Transport::Fragment { .. } => sum.ip_fragments += 1,
                Transport::OtherIp { .. } | Transport::NotIp { .. } => sum.other += 1,
            },
            Err(e) => sum.note_decode_error(packet.frame, e),
        }
    }
    sum.frames = sum.frames.max(reader.frames());
    tcp.finish(sink);
    Ok(sum)
}
