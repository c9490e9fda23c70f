//! TCP connection tracking and per-direction stream reassembly.
//!
//! Each connection (4-tuple) gets an index in order of first appearance, like Wireshark's
//! `tcp.stream`. Each direction becomes an in-order byte stream delivered to a
//! [`StreamSink`] as [`StreamEvent`]s: in-order data (borrowed straight from the packet when
//! it arrives in order), gaps for bytes that will never be seen, and the close.
//!
//! Out-of-order segments wait in a bounded buffer; retransmitted and overlapping bytes are
//! delivered once (the first copy wins). Data is declared missing when the peer acknowledges
//! bytes the capture never showed, when the buffer limit is reached, on FIN/RST, and at the
//! end of the capture. A capture that starts mid-connection starts each stream at the first
//! sequence number seen.

mod frame_map;
mod half;

use std::collections::HashMap;
use std::net::SocketAddr;

pub use frame_map::OffsetFrameMap;
use half::Half;

use crate::capture::Timestamp;
use crate::net::TcpSegment;

/// Limits of the reassembly buffers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpConfig {
    /// Out-of-order bytes kept per direction before the hole is declared a gap.
    pub max_buffer_per_direction: usize,
    /// Out-of-order bytes kept over all connections.
    pub max_buffer_total: usize,
    /// An acknowledgment further ahead than this is ignored (a bogus or unrelated ACK).
    pub max_ack_jump: u64,
}

impl Default for TcpConfig {
    fn default() -> Self {
        TcpConfig {
            max_buffer_per_direction: 4 << 20,
            max_buffer_total: 32 << 20,
            max_ack_jump: 1 << 30,
        }
    }
}

/// Which way the bytes flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Direction {
    /// From the connection's client (SYN sender, else the higher port) to its server.
    ClientToServer,
    /// From the server to the client.
    ServerToClient,
}

impl Direction {
    fn index(self) -> usize {
        match self {
            Direction::ClientToServer => 0,
            Direction::ServerToClient => 1,
        }
    }
    /// The other direction.
    pub fn reverse(self) -> Self {
        match self {
            Direction::ClientToServer => Direction::ServerToClient,
            Direction::ServerToClient => Direction::ClientToServer,
        }
    }
}

/// Identity of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnectionInfo {
    /// 0-based index in order of first appearance (Wireshark's `tcp.stream`).
    pub index: u64,
    /// Client endpoint: the SYN sender; without a SYN, the endpoint with the higher port.
    pub client: SocketAddr,
    /// Server endpoint.
    pub server: SocketAddr,
    /// Frame of the first segment.
    pub first_frame: u64,
    /// Time of the first segment.
    pub first_time: Timestamp,
    /// A SYN was seen (the capture has the connection's start).
    pub syn_seen: bool,
}

/// Why a direction ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CloseReason {
    /// FIN, after all bytes before it.
    Fin,
    /// RST from either side.
    Reset,
    /// A new SYN reused the 4-tuple.
    Reused,
    /// The capture ended first.
    EndOfCapture,
}

/// What happened on one direction's byte stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamEvent<'a> {
    /// In-order bytes at `stream_offset`; `frame` carried them (the frame being processed
    /// completed them, which differs when they had waited out of order).
    Data {
        frame: u64,
        stream_offset: u64,
        bytes: &'a [u8],
    },
    /// `len` bytes from `from` will never be seen; noticed while processing `frame`. The next
    /// data starts at `from + len`: the consumer resynchronises there.
    Gap { frame: u64, from: u64, len: u64 },
    /// The direction ended.
    Closed { frame: u64, reason: CloseReason },
}

/// Receives stream events. Closures `FnMut(&ConnectionInfo, Direction, StreamEvent)` are sinks.
pub trait StreamSink {
    /// One event for `dir` of `conn`.
    fn event(&mut self, conn: &ConnectionInfo, dir: Direction, event: StreamEvent<'_>);
}

impl<F: FnMut(&ConnectionInfo, Direction, StreamEvent<'_>)> StreamSink for F {
    fn event(&mut self, conn: &ConnectionInfo, dir: Direction, event: StreamEvent<'_>) {
        self(conn, dir, event)
    }
}

/// A sink that drops every event (when only the counters are wanted).
#[derive(Debug, Clone, Copy, Default)]
pub struct DiscardStreams;

impl StreamSink for DiscardStreams {
    fn event(&mut self, _: &ConnectionInfo, _: Direction, _: StreamEvent<'_>) {}
}

/// Counters of one direction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DirectionStats {
    /// Segments seen.
    pub segments: u64,
    /// Bytes delivered in order.
    pub bytes: u64,
    /// Segments whose bytes had all been seen already.
    pub retransmitted_segments: u64,
    /// Bytes seen more than once (retransmissions and overlaps).
    pub duplicate_bytes: u64,
    /// Segments that arrived ahead of a hole.
    pub out_of_order_segments: u64,
    /// Gaps declared.
    pub gaps: u64,
    /// Bytes in gaps.
    pub gap_bytes: u64,
    /// Segments after the direction closed.
    pub after_close_segments: u64,
    /// Bytes from before the stream's start (mid-connection captures).
    pub before_start_bytes: u64,
}

/// A connection's identity and counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionSummary {
    /// Identity.
    pub info: ConnectionInfo,
    /// Client-to-server and server-to-client counters.
    pub stats: [DirectionStats; 2],
    /// Last frame seen.
    pub last_frame: u64,
}

struct Connection {
    info: ConnectionInfo,
    halves: [Half; 2],
    last_frame: u64,
}

impl Connection {
    fn summary(&self) -> ConnectionSummary {
        ConnectionSummary {
            info: self.info,
            stats: [self.halves[0].stats, self.halves[1].stats],
            last_frame: self.last_frame,
        }
    }
}

/// Shared state the halves update.
struct Budget {
    config: TcpConfig,
    buffered_total: usize,
}

/// Tracks every TCP connection of a capture and reassembles both directions.
pub struct TcpReassembler {
    budget: Budget,
    /// 4-tuple (lower address first) → slot in `slots`.
    conns: HashMap<(SocketAddr, SocketAddr), usize>,
    slots: Vec<Connection>,
    /// The last 4-tuple looked up and its slot: consecutive segments mostly belong to the
    /// same connection, and this skips hashing them.
    last: Option<((SocketAddr, SocketAddr), usize)>,
    replaced: Vec<ConnectionSummary>,
    next_index: u64,
    last_frame: u64,
}

impl TcpReassembler {
    /// A reassembler with the given limits.
    pub fn new(config: TcpConfig) -> Self {
        TcpReassembler {
            budget: Budget {
                config,
                buffered_total: 0,
            },
            conns: HashMap::new(),
            slots: Vec::new(),
            last: None,
            replaced: Vec::new(),
            next_index: 0,
            last_frame: 0,
        }
    }

    fn slot_of(&self, key: &(SocketAddr, SocketAddr)) -> Option<usize> {
        match self.last {
            Some((k, i)) if k == *key => Some(i),
            _ => self.conns.get(key).copied(),
        }
    }

    /// Out-of-order bytes currently buffered over all connections.
    pub fn buffered_bytes(&self) -> usize {
        self.budget.buffered_total
    }

    /// Index of the connection a segment from `src` to `dst` belongs to, if seen.
    pub fn connection_index(&self, src: SocketAddr, dst: SocketAddr) -> Option<u64> {
        let key = if src <= dst { (src, dst) } else { (dst, src) };
        self.slot_of(&key)
            .and_then(|i| self.slots.get(i))
            .map(|c| c.info.index)
    }

    /// Number of connections seen so far.
    pub fn connection_count(&self) -> u64 {
        self.next_index
    }

    /// Processes one segment of `frame`; events go to `sink` before this returns. Returns the
    /// index of the segment's connection.
    pub fn segment(
        &mut self,
        frame: u64,
        time: Timestamp,
        seg: &TcpSegment<'_>,
        sink: &mut impl StreamSink,
    ) -> u64 {
        self.last_frame = frame;
        let key = if seg.src <= seg.dst {
            (seg.src, seg.dst)
        } else {
            (seg.dst, seg.src)
        };
        let opening = seg.flags.syn() && !seg.flags.ack();
        let slot = match self.slot_of(&key) {
            Some(i) => {
                if opening
                    && let Some(conn) = self.slots.get_mut(i)
                    && is_new_incarnation(conn, seg)
                {
                    close_all(conn, frame, CloseReason::Reused, &mut self.budget, sink);
                    let (client, server) = roles(seg);
                    let fresh = Connection {
                        info: ConnectionInfo {
                            index: self.next_index,
                            client,
                            server,
                            first_frame: frame,
                            first_time: time,
                            syn_seen: false,
                        },
                        halves: [Half::default(), Half::default()],
                        last_frame: frame,
                    };
                    self.next_index += 1;
                    let old = std::mem::replace(conn, fresh);
                    self.replaced.push(old.summary());
                }
                i
            }
            None => {
                let (client, server) = roles(seg);
                let info = ConnectionInfo {
                    index: self.next_index,
                    client,
                    server,
                    first_frame: frame,
                    first_time: time,
                    syn_seen: false,
                };
                self.next_index += 1;
                self.slots.push(Connection {
                    info,
                    halves: [Half::default(), Half::default()],
                    last_frame: frame,
                });
                let i = self.slots.len() - 1;
                self.conns.insert(key, i);
                i
            }
        };
        self.last = Some((key, slot));
        let Some(conn) = self.slots.get_mut(slot) else {
            return self.next_index;
        };
        let index = conn.info.index;
        conn.last_frame = frame;
        if seg.flags.syn() {
            conn.info.syn_seen = true;
        }
        let dir = if seg.src == conn.info.client {
            Direction::ClientToServer
        } else {
            Direction::ServerToClient
        };
        if seg.flags.rst() {
            conn.halves[dir.index()].stats.segments += 1;
            close_all(conn, frame, CloseReason::Reset, &mut self.budget, sink);
            return index;
        }
        let Connection { info, halves, .. } = conn;
        let [c2s, s2c] = halves;
        let (sender, receiver) = match dir {
            Direction::ClientToServer => (c2s, s2c),
            Direction::ServerToClient => (s2c, c2s),
        };
        let mut out = |d: Direction, ev: StreamEvent<'_>| sink.event(info, d, ev);
        sender.on_segment(frame, seg, &mut self.budget, &mut |ev| out(dir, ev));
        if seg.flags.ack() {
            receiver.on_ack(frame, seg.ack, &mut self.budget, &mut |ev| {
                out(dir.reverse(), ev)
            });
        }
        index
    }

    /// End of capture: declares what is still missing and closes every open direction,
    /// connections in index order.
    pub fn finish(&mut self, sink: &mut impl StreamSink) {
        let mut order: Vec<usize> = (0..self.slots.len()).collect();
        order.sort_unstable_by_key(|&i| self.slots.get(i).map(|c| c.info.index));
        for i in order {
            if let Some(conn) = self.slots.get_mut(i) {
                close_all(
                    conn,
                    self.last_frame,
                    CloseReason::EndOfCapture,
                    &mut self.budget,
                    sink,
                );
            }
        }
    }

    /// Identity and counters of every connection seen, in index order.
    pub fn summaries(&self) -> Vec<ConnectionSummary> {
        let mut all: Vec<_> = self.replaced.clone();
        all.extend(self.slots.iter().map(Connection::summary));
        all.sort_unstable_by_key(|s| s.info.index);
        all
    }
}

impl Default for TcpReassembler {
    fn default() -> Self {
        Self::new(TcpConfig::default())
    }
}

/// A SYN (no ACK) on a known 4-tuple opens a new connection when the old one is over or the
/// SYN carries a different initial sequence number (not a retransmitted SYN).
fn is_new_incarnation(conn: &Connection, seg: &TcpSegment<'_>) -> bool {
    let both_closed = conn.halves.iter().all(|h| h.closed);
    let sender = if seg.src == conn.info.client { 0 } else { 1 };
    let other_isn = conn.halves[sender].isn.is_some_and(|isn| isn != seg.seq);
    both_closed || other_isn || (conn.halves[sender].synced && conn.halves[sender].isn.is_none())
}

fn roles(seg: &TcpSegment<'_>) -> (SocketAddr, SocketAddr) {
    let f = seg.flags;
    if f.syn() && !f.ack() {
        (seg.src, seg.dst)
    } else if f.syn() && f.ack() {
        (seg.dst, seg.src)
    } else if seg.src.port() > seg.dst.port() {
        // Without a handshake, guess that the well-known (lower) port is the server's.
        (seg.src, seg.dst)
    } else {
        (seg.dst, seg.src)
    }
}

fn close_all(
    conn: &mut Connection,
    frame: u64,
    reason: CloseReason,
    budget: &mut Budget,
    sink: &mut impl StreamSink,
) {
    let Connection { info, halves, .. } = conn;
    for (i, half) in halves.iter_mut().enumerate() {
        let dir = if i == 0 {
            Direction::ClientToServer
        } else {
            Direction::ServerToClient
        };
        half.close(frame, reason, budget, &mut |ev| sink.event(info, dir, ev));
    }
}

#[cfg(test)]
mod tests;
