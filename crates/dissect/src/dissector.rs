//! The dissector's read loop: every packet through link/IP decoding, TCP reassembly into the
//! RTMP analyzer, UDP into the RTP/MPEG-TS analyzer; after each packet an observer (a view)
//! gets the frame and what it completed.

use std::io::{self, Read};

use crate::capture::{CaptureError, CaptureReader, Timestamp};
use crate::net::{NetError, TcpSegment, Transport, UdpDatagram, decode_packet};
use crate::pipeline::CaptureSummary;
use crate::rtmp::{
    ConnectionReport, Problem, ProblemKind, RtmpAnalyzer, RtmpConfig, RtmpEvent, Severity,
};
use crate::rtp_ts::{DecodeAs, RtpTsAnalyzer, UdpPayloadKind};
use crate::tcp::{ConnectionSummary, TcpReassembler};

/// Everything that decides how a capture is decoded.
#[derive(Debug, Clone, Default)]
pub struct DissectConfig {
    /// RTMP detection and decoding.
    pub rtmp: RtmpConfig,
    /// `udp.port==N,rtp|mp2t` rules.
    pub udp_rules: Vec<DecodeAs>,
    /// Do not recognise RTP/TS flows by their content, only by rules.
    pub no_udp_heuristics: bool,
}

/// What a frame carried.
#[derive(Debug, Clone, Copy)]
pub enum FrameContent<'a> {
    /// A TCP segment; `conn` is its connection index and `rtmp` whether that connection is
    /// decoded as RTMP.
    Tcp {
        segment: TcpSegment<'a>,
        conn: Option<u64>,
        rtmp: bool,
    },
    /// A UDP datagram and, when recognised, how its flow is decoded.
    Udp {
        datagram: UdpDatagram<'a>,
        kind: Option<UdpPayloadKind>,
    },
    /// An IP fragment (not reassembled).
    Fragment,
    /// Another IP protocol or a non-IP frame.
    Other,
    /// Headers that do not decode.
    Undecodable(&'a NetError),
}

/// One frame as the views see it.
#[derive(Debug, Clone, Copy)]
pub struct FrameCtx<'a> {
    /// Frame number (from 1).
    pub frame: u64,
    /// Capture time.
    pub time: Timestamp,
    /// Seconds since the first frame.
    pub rel_time: f64,
    /// Bytes captured.
    pub captured_len: u32,
    /// What it carried.
    pub content: FrameContent<'a>,
}

/// Receives each frame with the events it completed, in capture order.
pub trait FrameObserver {
    /// One frame. `events` may hold events of earlier frames only at the very start (none in
    /// practice); each event names its own frame.
    fn frame(&mut self, frame: &FrameCtx<'_>, events: &[RtmpEvent]) -> io::Result<()>;

    /// Events found after the last frame (what the end of the capture completed or cut off).
    fn trailing(&mut self, events: &[RtmpEvent]) -> io::Result<()>;
}

/// What a whole pass found.
pub struct DissectReport {
    /// Frame counts and capture problems.
    pub capture: CaptureSummary,
    /// Every RTMP connection.
    pub rtmp: Vec<ConnectionReport>,
    /// Every TCP connection (RTMP or not).
    pub tcp: Vec<ConnectionSummary>,
    /// RTP and MPEG-TS streams.
    pub udp: RtpTsAnalyzer,
    /// The analyzer (for its request/response pairs).
    pub analyzer: RtmpAnalyzer,
}

/// The pass stopped: the input is not a capture, or the observer failed (e.g. stdout closed).
#[derive(Debug, thiserror::Error)]
pub enum DissectError {
    /// Not a capture at all.
    #[error(transparent)]
    Capture(#[from] CaptureError),
    /// Writing the output failed.
    #[error("writing the output: {0}")]
    Output(#[from] io::Error),
}

fn capture_problem(e: &CaptureError) -> RtmpEvent {
    RtmpEvent::Problem(Problem {
        frame: e.frame,
        at: None,
        kind: ProblemKind::Capture,
        severity: if e.fatal {
            Severity::Error
        } else {
            Severity::Warning
        },
        text: format!(
            "capture file: {e}{}",
            if e.fatal {
                "; nothing after this point can be read"
            } else {
                ""
            }
        ),
    })
}

/// Reads a whole capture, calling `observer` after every frame. Memory stays bounded by the
/// reassembly limits and the per-connection state, whatever the file size.
pub fn dissect<'r, R: Read + Send + 'r>(
    input: R,
    config: DissectConfig,
    observer: &mut impl FrameObserver,
) -> Result<DissectReport, DissectError> {
    dissect_capture(CaptureReader::new(input)?, config, observer)
}

/// As [`dissect`], from a capture reader already opened (e.g. with
/// [`CaptureReader::with_read_thread`]).
pub fn dissect_capture(
    mut reader: CaptureReader<'_>,
    config: DissectConfig,
    observer: &mut impl FrameObserver,
) -> Result<DissectReport, DissectError> {
    let mut sum = CaptureSummary::default();
    let mut tcp = TcpReassembler::default();
    let mut rtmp = RtmpAnalyzer::new(config.rtmp);
    let mut udp = RtpTsAnalyzer::new(config.udp_rules, !config.no_udp_heuristics);
    let mut events = Vec::new();
    let mut pending_capture: Vec<RtmpEvent> = Vec::new();
    let mut first_time: Option<Timestamp> = None;
    loop {
        let packet = match reader.next_packet() {
            Ok(Some(p)) => p,
            Ok(None) => break,
            Err(e) => {
                pending_capture.push(capture_problem(&e));
                if sum.note_capture_error(e) {
                    break;
                }
                continue;
            }
        };
        sum.frames = packet.frame;
        let start = *first_time.get_or_insert(packet.timestamp);
        sum.first_time.get_or_insert(packet.timestamp);
        sum.last_time = Some(packet.timestamp);
        rtmp.set_now(packet.frame, packet.timestamp);
        let rel_time = (packet.timestamp.secs - start.secs) as f64
            + (f64::from(packet.timestamp.nanos) - f64::from(start.nanos)) / 1e9;
        let decoded = decode_packet(&packet);
        let content = match &decoded {
            Ok(d) => match &d.transport {
                Transport::Tcp(seg) => {
                    sum.tcp_segments += 1;
                    let conn = tcp.segment(d.frame, d.timestamp, seg, &mut rtmp);
                    FrameContent::Tcp {
                        segment: *seg,
                        conn: Some(conn),
                        rtmp: rtmp.is_rtmp(conn),
                    }
                }
                Transport::Udp(u) => {
                    sum.udp_datagrams += 1;
                    udp.push(d.frame, d.timestamp, u);
                    FrameContent::Udp {
                        datagram: *u,
                        kind: udp.flow_kind(u.src, u.dst),
                    }
                }
                Transport::Fragment { .. } => {
                    sum.ip_fragments += 1;
                    FrameContent::Fragment
                }
                Transport::OtherIp { .. } | Transport::NotIp { .. } => {
                    sum.other += 1;
                    FrameContent::Other
                }
            },
            Err(e) => {
                sum.note_decode_error(packet.frame, e.clone());
                FrameContent::Undecodable(e)
            }
        };
        rtmp.take_events(&mut events);
        if !pending_capture.is_empty() {
            pending_capture.append(&mut events);
            std::mem::swap(&mut events, &mut pending_capture);
        }
        let ctx = FrameCtx {
            frame: packet.frame,
            time: packet.timestamp,
            rel_time,
            captured_len: packet.captured_len,
            content,
        };
        observer.frame(&ctx, &events)?;
    }
    sum.frames = sum.frames.max(reader.frames());
    tcp.finish(&mut rtmp);
    udp.finish();
    rtmp.take_events(&mut events);
    events.append(&mut pending_capture);
    observer.trailing(&events)?;
    Ok(DissectReport {
        capture: sum,
        rtmp: rtmp.reports(),
        tcp: tcp.summaries(),
        udp,
        analyzer: rtmp,
    })
}
