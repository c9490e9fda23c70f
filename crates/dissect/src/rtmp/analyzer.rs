//! The TCP stream sink that finds RTMP connections and decodes them.

use super::conn::{Conn, Start};
use super::resync::{Sync, find_sync};
use super::session::{ConnectionReport, TransactionIndex};
use super::{ProblemKind, RtmpDir, RtmpEvent, Severity, TcpDecodeAs};
use crate::capture::Timestamp;
use crate::tcp::{ConnectionInfo, Direction, StreamEvent, StreamSink};

/// The registered RTMP port, decoded as RTMP even without a handshake.
pub const RTMP_PORT: u16 = 1935;

/// How the analyzer decides and decodes.
#[derive(Debug, Clone, Default)]
pub struct RtmpConfig {
    /// `--decode-as tcp.port==N,rtmp` rules: connections on these ports are RTMP even
    /// without a handshake (and their server is the side on the port).
    pub decode_as: Vec<TcpDecodeAs>,
    /// Do not treat port 1935 as RTMP unless a handshake shows it.
    pub no_default_port: bool,
    /// Chunk size for streams joined without their Set Chunk Size (`--chunk-size`); `None`
    /// assumes 128 and detects the size from chunk boundaries.
    pub chunk_size: Option<u32>,
    /// Request → response frames from a first pass, for "response in frame N".
    pub transactions: Option<TransactionIndex>,
    /// Keep the whole body of coded audio and video frames in [`MessageEvent::payload`]
    /// (crate::rtmp::MessageEvent). By default only their tag header and the 64 bytes after
    /// it are kept (the views need no more); [`MessageEvent::length`](crate::rtmp::MessageEvent)
    /// is the full length either way.
    pub keep_media_bodies: bool,
}

impl RtmpConfig {
    fn server_port(&self, info: &ConnectionInfo) -> Option<u16> {
        let ports = [info.server.port(), info.client.port()];
        if let Some(r) = self.decode_as.iter().find(|r| ports.contains(&r.port)) {
            return Some(r.port);
        }
        (!self.no_default_port && ports.contains(&RTMP_PORT)).then_some(RTMP_PORT)
    }
}

/// What the per-connection code needs from the analyzer.
pub(crate) struct Ctx<'a> {
    pub(crate) out: &'a mut Vec<RtmpEvent>,
    pub(crate) config: &'a RtmpConfig,
    pub(crate) found: &'a mut TransactionIndex,
}

/// What a connection index is to the analyzer.
enum Slot {
    /// No data seen yet.
    Unseen,
    /// RTMP, being decoded.
    Rtmp(Box<Conn>),
    /// RTMP, both directions closed (its report is in `finished`).
    Finished,
    /// Not RTMP.
    NotRtmp,
}

/// Finds and decodes the RTMP connections of a capture (see the [module](super)).
pub struct RtmpAnalyzer {
    config: RtmpConfig,
    /// By connection index (indices are dense, in order of first appearance).
    conns: Vec<Slot>,
    finished: Vec<ConnectionReport>,
    events: Vec<RtmpEvent>,
    found: TransactionIndex,
    now: (u64, Timestamp),
}

impl RtmpAnalyzer {
    /// An analyzer with `config`.
    pub fn new(config: RtmpConfig) -> Self {
        RtmpAnalyzer {
            config,
            conns: Vec::new(),
            finished: Vec::new(),
            events: Vec::new(),
            found: TransactionIndex::new(),
            now: (0, Timestamp::default()),
        }
    }

    /// The frame being processed and its time (stream events carry only frame numbers).
    pub fn set_now(&mut self, frame: u64, time: Timestamp) {
        self.now = (frame, time);
    }

    /// Moves the events found since the last call into `into` (which is cleared first).
    pub fn take_events(&mut self, into: &mut Vec<RtmpEvent>) {
        into.clear();
        std::mem::swap(into, &mut self.events);
    }

    /// Whether events are waiting.
    pub fn has_events(&self) -> bool {
        !self.events.is_empty()
    }

    /// Whether connection `index` was recognised as RTMP (so far).
    pub fn is_rtmp(&self, index: u64) -> bool {
        matches!(
            self.conns.get(index as usize),
            Some(Slot::Rtmp(_) | Slot::Finished)
        )
    }

    /// Request/response pairs seen (for a second pass).
    pub fn transactions(&self) -> &TransactionIndex {
        &self.found
    }

    /// Takes the request/response pairs seen.
    pub fn take_transactions(&mut self) -> TransactionIndex {
        std::mem::take(&mut self.found)
    }

    /// Reports of every RTMP connection, finished or not, in index order.
    pub fn reports(&self) -> Vec<ConnectionReport> {
        let mut all = self.finished.clone();
        all.extend(self.conns.iter().filter_map(|s| match s {
            Slot::Rtmp(c) => Some(c.report.clone()),
            _ => None,
        }));
        all.sort_by_key(|r| r.index);
        all
    }
}

impl StreamSink for RtmpAnalyzer {
    fn event(&mut self, info: &ConnectionInfo, tcp: Direction, event: StreamEvent<'_>) {
        let mut ctx = Ctx {
            out: &mut self.events,
            config: &self.config,
            found: &mut self.found,
        };
        let Ok(i) = usize::try_from(info.index) else {
            return;
        };
        if self.conns.len() <= i {
            self.conns.resize_with(i + 1, || Slot::Unseen);
        }
        if matches!(self.conns.get(i), Some(Slot::Unseen)) {
            // Only data decides; a gap or a close before any data leaves nothing to decode.
            let StreamEvent::Data {
                stream_offset,
                bytes,
                ..
            } = event
            else {
                return;
            };
            let slot = match classify(&self.config, info, tcp, stream_offset, bytes) {
                Some((start, forced)) => {
                    let rtmpe = matches!(bytes.first(), Some(6 | 8 | 9));
                    let mut conn = Conn::new(info, start, forced, &self.config);
                    if rtmpe && forced && stream_offset == 0 && info.syn_seen {
                        conn.set_now(self.now.0, self.now.1);
                        conn.problem(
                            &mut ctx,
                            Some(RtmpDir::C2S),
                            self.now.0,
                            ProblemKind::Handshake,
                            Severity::Warning,
                            format!(
                                "the client asks for encrypted RTMPE (C0 = {}): the rest of the connection cannot be decoded",
                                bytes.first().copied().unwrap_or(0)
                            ),
                        );
                    }
                    Slot::Rtmp(Box::new(conn))
                }
                None => Slot::NotRtmp,
            };
            if let Some(s) = self.conns.get_mut(i) {
                *s = slot;
            }
        }
        let Some(Slot::Rtmp(conn)) = self.conns.get_mut(i) else {
            return;
        };
        conn.set_now(self.now.0, self.now.1);
        match event {
            StreamEvent::Data {
                stream_offset,
                bytes,
                ..
            } => conn.data(&mut ctx, tcp, stream_offset, bytes),
            StreamEvent::Gap { frame, from, len } => conn.gap(&mut ctx, tcp, frame, from, len),
            StreamEvent::Closed { frame, .. } => conn.closed(&mut ctx, tcp, frame),
        }
        let next = if conn.not_rtmp {
            Slot::NotRtmp
        } else if conn.both_closed() {
            self.finished.push(conn.report.clone());
            Slot::Finished
        } else {
            return;
        };
        if let Some(s) = self.conns.get_mut(i) {
            *s = next;
        }
    }
}

/// Decides what a connection is from its first bytes: RTMP with a handshake, RTMP joined
/// mid-stream (port rules), or not RTMP (`None`). The flag says whether a port rule applied.
fn classify(
    config: &RtmpConfig,
    info: &ConnectionInfo,
    tcp: Direction,
    offset: u64,
    bytes: &[u8],
) -> Option<(Start, bool)> {
    let server_port = config.server_port(info);
    let forced = server_port.is_some();
    let first = *bytes.first()?;
    let at_start = offset == 0 && info.syn_seen;
    let looks_like_chunks = || {
        matches!(
            find_sync(bytes, 128, true, false),
            Sync::Found { pos: 0, .. } | Sync::NeedMore { keep_from: 0 }
        )
    };
    if first == 3 && (at_start || (forced && offset == 0 && !looks_like_chunks())) {
        return Some((Start::Handshake { client_tcp: tcp }, forced));
    }
    let port = server_port?;
    let client_tcp = if info.server.port() == port {
        Direction::ClientToServer
    } else {
        Direction::ServerToClient
    };
    Some((Start::MidStream { client_tcp }, true))
}
