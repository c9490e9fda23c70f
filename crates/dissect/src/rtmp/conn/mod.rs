//! One TCP connection as RTMP: the handshake, then a chunk reader per direction, with
//! resynchronisation after gaps and errors, and the session facts and checks.

mod messages;

use std::collections::HashMap;
use std::net::SocketAddr;

use rtmpkit_proto::rtmp::chunk::{ChunkError, ChunkLimits, ChunkReader};

use super::analyzer::{Ctx, RtmpConfig};
use super::checks::{DirChecks, Finding};
use super::handshake::HandshakeState;
use super::media::coded_frame_prefix;
use super::resync::{MAX_HEADER, Sync, find_sync};
use super::session::ConnectionReport;
use super::{ConnRef, Problem, ProblemKind, RtmpDir, RtmpEvent, Severity};
use crate::capture::Timestamp;
use crate::tcp::{ConnectionInfo, Direction, OffsetFrameMap};

/// Bytes of handshake per direction: C0+C1+C2 or S0+S1+S2.
pub(crate) const HANDSHAKE_LEN: u64 = 3073;
/// Problems of one kind shown per connection direction; later ones are only counted.
const SHOWN_PER_KIND: u32 = 10;
/// Bytes a search for a chunk header may hold while a candidate is undecided.
const HUNT_WINDOW: usize = 4 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Handshake,
    Chunks,
    Hunting,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HuntReason {
    MidStream,
    Gap,
    BadChunk,
}

pub(crate) struct DirState {
    phase: Phase,
    reader: ChunkReader,
    frames: OffsetFrameMap,
    /// Per chunk stream: whether its absolute timestamp is known.
    ts_known: HashMap<u32, bool>,
    /// Decoded from the first chunk after the handshake, with nothing lost since.
    from_start: bool,
    hunt: Option<(HuntReason, u64, u64)>,
    skipped: u64,
    checks: DirChecks,
    open_sid: u32,
    closed: bool,
    /// Chunk size in force before the last message (a Set Chunk Size is applied by the
    /// reader as soon as it is read, but was itself read at the old size).
    chunk_size: u32,
}

impl DirState {
    fn new(phase: Phase, keep_media_bodies: bool) -> Self {
        let limits = ChunkLimits {
            max_chunk_streams: 1024,
            ..ChunkLimits::default()
        };
        let mut reader = ChunkReader::new(limits);
        reader.set_open_on_type1(Some(1));
        if !keep_media_bodies {
            reader.set_body_prefix(Some(coded_frame_prefix));
        }
        DirState {
            phase,
            reader,
            frames: OffsetFrameMap::new(),
            ts_known: HashMap::new(),
            from_start: false,
            hunt: None,
            skipped: 0,
            checks: DirChecks::default(),
            open_sid: 1,
            closed: false,
            chunk_size: rtmpkit_proto::rtmp::chunk::DEFAULT_CHUNK_SIZE,
        }
    }
}

/// An RTMP connection being decoded.
pub(crate) struct Conn {
    pub(crate) report: ConnectionReport,
    /// The TCP direction that carries client-to-server bytes.
    client_tcp: Direction,
    client: SocketAddr,
    server: SocketAddr,
    pub(crate) dirs: [DirState; 2],
    pub(crate) hs: HandshakeState,
    pending: HashMap<(RtmpDir, u64), u64>,
    shown: HashMap<(usize, ProblemKind), u32>,
    pub(crate) not_rtmp: bool,
    /// Set when decided from a port rule, not from the handshake bytes.
    pub(crate) forced: bool,
    now: (u64, Timestamp),
}

/// How decoding starts, decided from the connection's first bytes.
pub(crate) enum Start {
    /// With the handshake; the client is the sender of the first bytes.
    Handshake { client_tcp: Direction },
    /// Without it: chunks from the first plausible header.
    MidStream { client_tcp: Direction },
}

impl Conn {
    pub(crate) fn new(
        info: &ConnectionInfo,
        start: Start,
        forced: bool,
        config: &RtmpConfig,
    ) -> Conn {
        let chunk_size_hint = config.chunk_size;
        let (client_tcp, phase) = match start {
            Start::Handshake { client_tcp } => (client_tcp, Phase::Handshake),
            Start::MidStream { client_tcp } => (client_tcp, Phase::Hunting),
        };
        let (client, server) = match client_tcp {
            Direction::ClientToServer => (info.client, info.server),
            Direction::ServerToClient => (info.server, info.client),
        };
        let keep = config.keep_media_bodies;
        let mut dirs = [DirState::new(phase, keep), DirState::new(phase, keep)];
        if phase == Phase::Hunting {
            for d in &mut dirs {
                d.hunt = Some((HuntReason::MidStream, 0, info.first_frame));
                if let Some(cs) = chunk_size_hint
                    && d.reader.set_chunk_size(cs).is_ok()
                {
                    d.chunk_size = cs;
                }
            }
        }
        Conn {
            report: ConnectionReport {
                index: info.index,
                client: Some(client),
                server: Some(server),
                first_frame: info.first_frame,
                mid_stream: phase == Phase::Hunting,
                ..ConnectionReport::default()
            },
            client_tcp,
            client,
            server,
            dirs,
            hs: HandshakeState::default(),
            pending: HashMap::new(),
            shown: HashMap::new(),
            not_rtmp: false,
            forced,
            now: (info.first_frame, info.first_time),
        }
    }

    pub(crate) fn rdir(&self, tcp: Direction) -> RtmpDir {
        if tcp == self.client_tcp {
            RtmpDir::C2S
        } else {
            RtmpDir::S2C
        }
    }

    pub(crate) fn conn_ref(&self, dir: RtmpDir) -> ConnRef {
        let (src, dst) = match dir {
            RtmpDir::C2S => (self.client, self.server),
            RtmpDir::S2C => (self.server, self.client),
        };
        ConnRef {
            conn: self.report.index,
            dir,
            src,
            dst,
        }
    }

    pub(crate) fn set_now(&mut self, frame: u64, time: Timestamp) {
        self.now = (frame, time);
    }

    /// Reports a problem (counted always, shown up to [`SHOWN_PER_KIND`] per kind and direction).
    pub(crate) fn problem(
        &mut self,
        ctx: &mut Ctx<'_>,
        dir: Option<RtmpDir>,
        frame: u64,
        kind: ProblemKind,
        severity: Severity,
        mut text: String,
    ) {
        let n = self
            .shown
            .entry((dir.map_or(2, RtmpDir::index), kind))
            .or_insert(0);
        *n += 1;
        let n = *n;
        if n == SHOWN_PER_KIND {
            text.push_str(" (further problems of this kind here are only counted)");
        }
        let p = Problem {
            frame,
            at: dir.map(|d| self.conn_ref(d)),
            kind,
            severity,
            text,
        };
        self.report.note_problem(&p);
        if n <= SHOWN_PER_KIND {
            ctx.out.push(RtmpEvent::Problem(p));
        }
    }

    fn findings(&mut self, ctx: &mut Ctx<'_>, dir: RtmpDir, frame: u64, found: Vec<Finding>) {
        for (kind, sev, text) in found {
            self.problem(ctx, Some(dir), frame, kind, sev, text);
        }
    }

    /// In-order bytes of one direction.
    pub(crate) fn data(&mut self, ctx: &mut Ctx<'_>, tcp: Direction, offset: u64, bytes: &[u8]) {
        let dir = self.rdir(tcp);
        let (frame, time) = self.now;
        self.report.first_time.get_or_insert(time);
        self.report.last_time = Some(time);
        self.report.last_frame = frame;
        let i = dir.index();
        self.report.dirs[i].bytes += bytes.len() as u64;
        self.dirs[i].frames.record(offset, bytes.len(), frame);
        let mut bytes = bytes;
        let mut offset = offset;
        if self.dirs[i].phase == Phase::Handshake {
            let used = self.handshake_bytes(ctx, dir, frame, offset, bytes);
            if self.not_rtmp {
                return;
            }
            bytes = bytes.get(used..).unwrap_or_default();
            offset += used as u64;
            if bytes.is_empty() {
                return;
            }
        }
        let d = &mut self.dirs[i];
        let expected = d.reader.bytes_received();
        if offset > expected {
            // The first bytes of a stream joined mid-way, or bytes the TCP layer skipped.
            d.reader.lost_bytes(offset - expected);
        } else if offset < expected {
            let overlap = (expected - offset) as usize;
            bytes = bytes.get(overlap..).unwrap_or_default();
        }
        d.reader.push(bytes);
        self.drain(ctx, dir, false);
    }

    /// Called when a direction's handshake is complete: chunks start after it.
    pub(crate) fn start_chunks(&mut self, dir: RtmpDir) {
        let d = &mut self.dirs[dir.index()];
        d.phase = Phase::Chunks;
        d.reader.lost_bytes(HANDSHAKE_LEN);
        d.from_start = true;
    }

    /// Switches a direction in handshake to hunting (its handshake will not complete).
    pub(crate) fn abandon_handshake(&mut self, dir: RtmpDir, frame: u64) {
        let d = &mut self.dirs[dir.index()];
        d.phase = Phase::Hunting;
        d.hunt = Some((HuntReason::Gap, d.reader.bytes_received(), frame));
    }

    /// Decodes what the reader holds.
    fn drain(&mut self, ctx: &mut Ctx<'_>, dir: RtmpDir, eof: bool) {
        let i = dir.index();
        loop {
            if self.dirs[i].phase == Phase::Hunting && !self.hunt(ctx, dir, eof) {
                break;
            }
            match self.dirs[i].reader.poll_message() {
                Ok(Some(raw)) => self.message(ctx, dir, raw),
                Ok(None) => break,
                Err(e) => self.chunk_error(ctx, dir, e),
            }
        }
        let d = &mut self.dirs[i];
        d.frames.discard_before(d.reader.bytes_consumed());
    }

    fn start_hunt(&mut self, dir: RtmpDir, reason: HuntReason) {
        let frame = self.now.0;
        let d = &mut self.dirs[dir.index()];
        d.phase = Phase::Hunting;
        d.from_start = false;
        if d.hunt.is_none() {
            d.hunt = Some((reason, d.reader.bytes_consumed(), frame));
        }
    }

    /// Looks for the next chunk header; true once decoding can go on.
    fn hunt(&mut self, ctx: &mut Ctx<'_>, dir: RtmpDir, eof: bool) -> bool {
        let i = dir.index();
        let detect = ctx.config.chunk_size.is_none();
        loop {
            let d = &mut self.dirs[i];
            let buf = d.reader.unparsed();
            if buf.is_empty() {
                return false;
            }
            match find_sync(buf, d.reader.chunk_size(), detect, eof) {
                Sync::Found { pos, chunk_size } => {
                    d.reader.skip(pos);
                    d.skipped += pos as u64;
                    let changed = chunk_size != d.reader.chunk_size();
                    if changed {
                        let _ = d.reader.set_chunk_size(chunk_size);
                    }
                    d.chunk_size = d.reader.chunk_size();
                    d.phase = Phase::Chunks;
                    self.resynced(ctx, dir, changed);
                    return true;
                }
                Sync::NeedMore { keep_from } => {
                    let over = buf.len() > HUNT_WINDOW;
                    let drop = if over { keep_from + 1 } else { keep_from };
                    d.reader.skip(drop);
                    d.skipped += drop as u64;
                    if !over {
                        return false;
                    }
                }
                Sync::NotFound => {
                    let drop = if eof {
                        buf.len()
                    } else {
                        buf.len().saturating_sub(MAX_HEADER)
                    };
                    d.reader.skip(drop);
                    d.skipped += drop as u64;
                    return false;
                }
            }
        }
    }

    fn resynced(&mut self, ctx: &mut Ctx<'_>, dir: RtmpDir, size_changed: bool) {
        let i = dir.index();
        let d = &mut self.dirs[i];
        let at = d.reader.bytes_consumed();
        let cs = d.reader.chunk_size();
        let skipped = std::mem::take(&mut d.skipped);
        self.report.dirs[i].skipped_bytes += skipped;
        let frame = d.frames.frame_at(at).unwrap_or(self.now.0);
        let Some((reason, since, since_frame)) = d.hunt.take() else {
            return;
        };
        let size_note = match (size_changed, ctx.config.chunk_size) {
            (_, Some(_)) => format!("chunk size {cs} (given)"),
            (true, None) => format!("chunk size {cs} (detected from chunk boundaries)"),
            (false, None) => format!("chunk size {cs}"),
        };
        let (kind, sev, text) = match reason {
            HuntReason::MidStream => (
                ProblemKind::MidStream,
                Severity::Note,
                format!(
                    "capture starts mid-connection (no handshake): decoding from the chunk header at offset {at}{}, {size_note}; each chunk stream's message stream id and timestamps are unknown until its next type 0 header, the chunk size until a Set Chunk Size",
                    if skipped > 0 {
                        format!(" after skipping {skipped} bytes")
                    } else {
                        String::new()
                    }
                ),
            ),
            HuntReason::Gap | HuntReason::BadChunk => (
                ProblemKind::Resync,
                Severity::Warning,
                format!(
                    "decoding resumes at offset {at}: {skipped} bytes skipped since offset {since} (frame {since_frame}) to reach a chunk header that parses, {size_note}; timestamps are unknown until each chunk stream's next type 0 header"
                ),
            ),
        };
        self.problem(ctx, Some(dir), frame, kind, sev, text);
    }

    fn chunk_error(&mut self, ctx: &mut Ctx<'_>, dir: RtmpDir, e: ChunkError) {
        let i = dir.index();
        let frame = self.now.0;
        let clean = self.dirs[i].from_start;
        let cs = self.dirs[i].reader.chunk_size();
        match e {
            ChunkError::FirstChunkNotType0 { csid, fmt, offset } => {
                if clean {
                    self.problem(ctx, Some(dir), frame, ProblemKind::FirstChunkNotType0, Severity::Error, format!(
                        "chunk stream {csid} starts with a type {fmt} header at offset {offset}: the message length and type it refers to were never sent, so the chunk cannot be read; skipping to the next chunk header that parses"
                    ));
                }
                self.start_hunt(dir, HuntReason::BadChunk);
                self.dirs[i].reader.skip(1);
                self.dirs[i].skipped += 1;
            }
            ChunkError::HeaderInsideMessage {
                csid,
                fmt,
                received,
                length,
                offset,
            } => {
                let _ = self.dirs[i].reader.discard_incomplete(csid);
                self.problem(ctx, Some(dir), frame, ProblemKind::MessageCutShort, if clean { Severity::Error } else { Severity::Warning }, format!(
                    "type {fmt} header on chunk stream {csid} at offset {offset} while its message had {received} of {length} bytes: the unfinished message is dropped"
                ));
                self.dirs[i].reader.skip(0);
            }
            ChunkError::InvalidChunkSize { value, offset } => {
                self.problem(ctx, Some(dir), frame, ProblemKind::InvalidChunkSize, Severity::Error, format!(
                    "Set Chunk Size {value} at offset {offset} is not in 1..=2147483647 (the top bit must be 0): ignored, the chunk size stays {cs}"
                ));
                self.dirs[i].reader.skip(0);
            }
            ChunkError::ControlMessageTooShort {
                type_id,
                length,
                offset,
            } => {
                self.problem(
                    ctx,
                    Some(dir),
                    frame,
                    ProblemKind::BadMessage,
                    Severity::Error,
                    format!(
                        "{} at offset {offset} has a {length}-byte body; it needs 4: ignored",
                        rtmpkit_proto::rtmp::message::type_name(type_id)
                    ),
                );
                self.dirs[i].reader.skip(0);
            }
            other => {
                self.problem(
                    ctx,
                    Some(dir),
                    frame,
                    ProblemKind::ChunkLimit,
                    Severity::Error,
                    format!("{other}; skipping to the next chunk header that parses"),
                );
                self.start_hunt(dir, HuntReason::BadChunk);
                self.dirs[i].reader.skip(1);
                self.dirs[i].skipped += 1;
            }
        }
    }

    /// A TCP gap: `len` bytes from `from` are missing.
    pub(crate) fn gap(
        &mut self,
        ctx: &mut Ctx<'_>,
        tcp: Direction,
        frame: u64,
        from: u64,
        len: u64,
    ) {
        let dir = self.rdir(tcp);
        let i = dir.index();
        self.report.dirs[i].lost_bytes += len;
        let in_handshake = self.dirs[i].phase == Phase::Handshake;
        let d = &mut self.dirs[i];
        let unfinished = d.reader.incomplete_messages();
        let received = d.reader.bytes_received();
        let lost = (from + len).saturating_sub(received);
        d.reader.lost_bytes(lost);
        d.ts_known.clear();
        let mut text = format!(
            "{len} bytes missing at stream offset {from}: the capture does not have them (dropped by the capturing host, or the capture started or stopped mid-segment)"
        );
        if in_handshake {
            text.push_str("; the handshake cannot complete");
            self.abandon_handshake(dir, frame);
        } else {
            if !unfinished.is_empty() {
                let list: Vec<String> = unfinished
                    .iter()
                    .map(|(c, r, l)| format!("{c} ({r} of {l} bytes)"))
                    .collect();
                text.push_str(&format!(
                    "; messages in progress on chunk streams {} are lost",
                    list.join(", ")
                ));
            }
            text.push_str("; decoding resumes at the next chunk header that parses");
            let d = &mut self.dirs[i];
            d.phase = Phase::Hunting;
            d.from_start = false;
            d.hunt = Some((HuntReason::Gap, from + len, frame));
        }
        self.problem(
            ctx,
            Some(dir),
            frame,
            ProblemKind::Gap,
            Severity::Error,
            text,
        );
    }

    /// The direction ended: decode what is left and say what stayed unfinished.
    pub(crate) fn closed(&mut self, ctx: &mut Ctx<'_>, tcp: Direction, frame: u64) {
        let dir = self.rdir(tcp);
        let i = dir.index();
        if self.dirs[i].closed {
            return;
        }
        self.dirs[i].closed = true;
        if self.dirs[i].phase == Phase::Handshake {
            let have = self.hs.len(dir);
            if have > 0 {
                self.problem(ctx, Some(dir), frame, ProblemKind::Incomplete, Severity::Warning, format!(
                    "the connection ended during the handshake: {have} of {HANDSHAKE_LEN} bytes sent"
                ));
            }
            return;
        }
        self.drain(ctx, dir, true);
        let d = &self.dirs[i];
        let unparsed = d.reader.buffered_len();
        let unfinished = d.reader.incomplete_messages();
        self.report.dirs[i].chunk_size = d.reader.chunk_size();
        if unparsed == 0 && unfinished.is_empty() {
            return;
        }
        let mut parts = Vec::new();
        if unparsed > 0 {
            parts.push(format!("{unparsed} bytes of a chunk that never completed"));
        }
        for (c, r, l) in unfinished {
            parts.push(format!(
                "a message on chunk stream {c} with {r} of {l} bytes"
            ));
        }
        self.problem(
            ctx,
            Some(dir),
            frame,
            ProblemKind::Incomplete,
            Severity::Warning,
            format!(
                "the connection ended with {} (cut off by the close or the end of the capture)",
                parts.join(" and ")
            ),
        );
    }

    pub(crate) fn both_closed(&self) -> bool {
        self.dirs.iter().all(|d| d.closed)
    }
}
