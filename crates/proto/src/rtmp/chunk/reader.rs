//! Reassembles messages from received chunks.

mod table;

use bytes::{Buf, Bytes, BytesMut};

use table::StreamTable;

use super::header::{BasicHeader, ChunkMessageHeader, ExtendedTimestamp};
use super::writer::MessageHeader;
use super::{
    ChunkError, ChunkLimits, DEFAULT_CHUNK_SIZE, MAX_CHUNK_SIZE, TYPE_ABORT, TYPE_SET_CHUNK_SIZE,
};

/// One reassembled message, with what the chunk layer saw while reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawMessage {
    /// Chunk stream the message arrived on.
    pub csid: u32,
    /// Absolute timestamp (ms, wrapping).
    pub timestamp: u32,
    /// Message type id.
    pub type_id: u8,
    /// Message stream id.
    pub stream_id: u32,
    /// The message body. A message that arrived in one chunk shares the receive buffer. Under
    /// a [`BodyPrefix`] policy only the first bytes it chose to keep.
    pub payload: Bytes,
    /// The body length the chunk headers declared: `payload.len()` unless a [`BodyPrefix`]
    /// policy cut the body short.
    pub length: u32,
    /// How the message was chunked.
    pub info: ChunkInfo,
}

impl RawMessage {
    /// The fields a [`ChunkWriter`](super::ChunkWriter) needs to send this message again.
    pub fn header(&self) -> MessageHeader {
        MessageHeader {
            timestamp: self.timestamp,
            type_id: self.type_id,
            stream_id: self.stream_id,
        }
    }
}

/// How a message was carried, for the dissector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkInfo {
    /// Format (0..=3) of the message's first chunk.
    pub first_fmt: u8,
    /// The timestamp as the first chunk expressed it: the absolute timestamp (type 0) or the
    /// delta (types 1 and 2; for type 3 the inherited delta it re-applied), as a 32-bit value
    /// (the extended timestamp when one was used).
    pub timestamp_field: u32,
    /// Whether the first chunk carried an extended timestamp.
    pub extended_timestamp: bool,
    /// Number of chunks the message was cut into.
    pub chunk_count: u32,
    /// Type 3 chunks of this message that, against the specification, did not repeat the
    /// extended timestamp (see the module documentation).
    pub missing_extended_repeats: u32,
    /// Stream offset (from the first byte pushed into the reader) of the first chunk's first byte.
    pub start_offset: u64,
    /// Stream offset just past the last chunk's last byte.
    pub end_offset: u64,
}

/// Decides, when a message's first chunk arrives, how much of the message body a
/// [`ChunkReader`] keeps (see [`ChunkReader::set_body_prefix`]). It gets the message type id
/// and the first chunk's payload (the whole body or as much as the chunk size allows) and
/// returns `Some(n)` to keep only the first `n` bytes, or `None` to keep the whole body.
///
/// For a reader that needs only the first bytes of some messages, such as a dissector that
/// shows the tag header of a video frame but not its coded data: the bytes beyond the prefix
/// are read and dropped instead of being copied into a message buffer that grows with them.
/// The payload of a later chunk of such a message, once its prefix is complete, is dropped as
/// it is [pushed](ChunkReader::push), without being buffered at all.
pub type BodyPrefix = fn(type_id: u8, first_chunk: &[u8]) -> Option<usize>;

/// What a chunk stream remembers from its previous header.
#[derive(Debug)]
struct StreamState {
    /// Absolute timestamp of the current (or last) message.
    timestamp: u32,
    /// Delta a type 3 header starting a new message adds.
    delta: u32,
    length: u32,
    type_id: u8,
    stream_id: u32,
    /// Set when the last type 0/1/2 header used an extended timestamp: the value it sent.
    extended: Option<u32>,
    partial: Option<Partial>,
}

/// A message whose chunks are still arriving.
#[derive(Debug)]
struct Partial {
    /// Grows with the received chunks, never ahead of them by more than the bytes received,
    /// and never past `keep`.
    data: Vec<u8>,
    /// Body bytes kept (the declared length, or less under a [`BodyPrefix`] policy).
    keep: usize,
    /// Body bytes received so far, kept or not.
    received: usize,
    first_fmt: u8,
    timestamp_field: u32,
    extended_timestamp: bool,
    chunk_count: u32,
    missing_extended_repeats: u32,
    start_offset: u64,
}

/// A continuation chunk whose payload is dropped as it arrives: its header has been read and
/// its message keeps none of its bytes (the [`BodyPrefix`] is complete). Until its last byte
/// arrives the reader reports offsets as if the chunk were still unparsed.
#[derive(Debug)]
struct Dropping {
    csid: u32,
    /// Stream offset of the chunk's first byte (its basic header).
    start: u64,
    /// Header and payload length: the stream offset just past the chunk is `start + len`.
    len: usize,
    /// Payload bytes still to come.
    left: usize,
    /// The chunk's payload length.
    take: usize,
    missing_repeat: bool,
}

impl Dropping {
    /// Counts the chunk, all of whose payload has arrived, into its message.
    fn complete(&self, stream: &mut StreamState, pending: &mut usize) -> Step {
        let end_offset = self.start + self.len as u64;
        complete_chunk(
            stream,
            pending,
            self.csid,
            self.take,
            self.missing_repeat,
            end_offset,
        )
    }
}

/// Outcome of trying to read one chunk.
enum Step {
    NeedMore,
    Consumed,
    Message(RawMessage),
}

/// Sans-I/O chunk stream reader: [`push`](Self::push) received bytes, then call
/// [`poll_message`](Self::poll_message) until it returns `Ok(None)`.
///
/// Memory: the reader holds the bytes pushed but not yet parsed, and per chunk stream the
/// payload received so far of an incomplete message. Nothing is reserved from a declared length.
#[derive(Debug)]
pub struct ChunkReader {
    buf: BytesMut,
    /// Stream offset of `buf[0]`, i.e. bytes consumed so far.
    consumed: u64,
    chunk_size: u32,
    limits: ChunkLimits,
    streams: StreamTable<StreamState>,
    /// Payload bytes held by incomplete messages, all chunk streams together.
    pending: usize,
    failed: Option<ChunkError>,
    /// Message stream id for chunk streams opened by a type 1 header (see
    /// [`ChunkReader::set_open_on_type1`]); `None` keeps the specification's rule.
    open_on_type1: Option<u32>,
    /// How much of each message body to keep; `None` keeps every body whole.
    body_prefix: Option<BodyPrefix>,
    /// The chunk whose payload is being dropped as it arrives, if any. While its payload is
    /// still arriving `buf` is empty and `consumed` counts the bytes dropped.
    dropping: Option<Dropping>,
    /// The next unparsed byte is known to start a chunk: the last thing done was parsing one,
    /// not skipping bytes. Only then may [`push`](Self::push) read a chunk header itself.
    aligned: bool,
}

impl Default for ChunkReader {
    fn default() -> Self {
        ChunkReader::new(ChunkLimits::default())
    }
}

impl ChunkReader {
    /// A reader at the default chunk size (128) with the given limits.
    pub fn new(limits: ChunkLimits) -> Self {
        ChunkReader {
            buf: BytesMut::new(),
            consumed: 0,
            chunk_size: DEFAULT_CHUNK_SIZE,
            limits,
            streams: StreamTable::default(),
            pending: 0,
            failed: None,
            open_on_type1: None,
            body_prefix: None,
            dropping: None,
            aligned: true,
        }
    }

    /// Appends received bytes. Nothing is parsed until [`poll_message`](Self::poll_message),
    /// except the chunks whose payload a [`BodyPrefix`] policy keeps nothing of: when nothing
    /// else waits to be parsed, their headers are read here and their payload is dropped as
    /// it arrives, never buffered. (Such a chunk that completes its message is left for
    /// `poll_message` to return, and what follows it is buffered.)
    pub fn push(&mut self, bytes: &[u8]) {
        let mut bytes = bytes;
        loop {
            if let Some(d) = &mut self.dropping {
                let n = d.left.min(bytes.len());
                d.left -= n;
                self.consumed += n as u64;
                bytes = bytes.get(n..).unwrap_or_default();
                if d.left > 0 || !self.count_dropped_chunk() {
                    break;
                }
            }
            if !self.buf.is_empty() || !self.aligned || self.failed.is_some() {
                break;
            }
            let Some((csid, pos, take, missing_repeat)) = self.droppable_chunk(bytes) else {
                break;
            };
            self.dropping = Some(Dropping {
                csid,
                start: self.consumed,
                len: pos + take,
                left: take,
                take,
                missing_repeat,
            });
            self.consumed += pos as u64;
            bytes = bytes.get(pos..).unwrap_or_default();
        }
        self.buf.extend_from_slice(bytes);
    }

    /// The chunk at the start of `bytes`, when it is a continuation chunk whose message keeps
    /// none of its payload and its header is all here: its chunk stream, header length,
    /// payload length and whether it lacks the extended timestamp it should repeat. What
    /// [`read_chunk`](Self::read_chunk) would read there, without changing anything.
    fn droppable_chunk(&self, bytes: &[u8]) -> Option<(u32, usize, usize, bool)> {
        let (BasicHeader { fmt, csid }, basic_len) = BasicHeader::decode(bytes)?;
        let stream = self.streams.get(csid)?;
        let partial = stream.partial.as_ref()?;
        if fmt != 3 || partial.data.len() < partial.keep {
            return None;
        }
        let repeat = type3_extended(stream, stream.timestamp, bytes.get(basic_len..)?)?;
        let pos = basic_len + repeat.header_len();
        let take = (stream.length as usize)
            .saturating_sub(partial.received)
            .min(self.chunk_size as usize);
        Some((csid, pos, take, repeat == ExtendedRepeat::Missing))
    }

    /// The chunk being dropped is all here: counts it into its message and returns true,
    /// unless it completes the message, which is left for `poll_message` to return.
    fn count_dropped_chunk(&mut self) -> bool {
        let Some(d) = &self.dropping else {
            return false;
        };
        let Some(stream) = self.streams.get_mut(d.csid) else {
            return false;
        };
        let completes = stream
            .partial
            .as_ref()
            .is_none_or(|p| p.received + d.take >= stream.length as usize);
        if completes {
            return false;
        }
        d.complete(stream, &mut self.pending);
        self.dropping = None;
        true
    }

    /// Returns the next complete message, `Ok(None)` when more bytes are needed.
    ///
    /// Set Chunk Size (type 1) and Abort (type 2) messages are applied before they are returned,
    /// whatever chunk stream or message stream they arrive on. After an error the same error is
    /// returned on every call.
    pub fn poll_message(&mut self) -> Result<Option<RawMessage>, ChunkError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        loop {
            let step = self.next_chunk().and_then(|step| match step {
                Step::Message(msg) => self.apply_control(&msg).map(|()| Step::Message(msg)),
                other => Ok(other),
            });
            match step {
                Ok(Step::NeedMore) => return Ok(None),
                Ok(Step::Consumed) => {}
                Ok(Step::Message(msg)) => return Ok(Some(msg)),
                Err(err) => {
                    self.failed = Some(err.clone());
                    return Err(err);
                }
            }
        }
    }

    /// The chunk size incoming chunks are currently cut at.
    pub fn chunk_size(&self) -> u32 {
        self.chunk_size
    }

    /// Overrides the incoming chunk size (e.g. a dissector joining a stream after the peer's
    /// Set Chunk Size). Must be in 1..=0x7FFFFFFF.
    pub fn set_chunk_size(&mut self, size: u32) -> Result<(), ChunkError> {
        super::check_chunk_size(size)?;
        self.chunk_size = size;
        Ok(())
    }

    /// Bytes parsed so far: the stream offset of the next unparsed byte. A chunk whose payload
    /// is being dropped as it arrives counts as unparsed until its last byte is here.
    pub fn bytes_consumed(&self) -> u64 {
        match &self.dropping {
            Some(d) => d.start,
            None => self.consumed,
        }
    }

    /// Bytes pushed but not yet parsed (a chunk being dropped included, as in
    /// [`bytes_consumed`](Self::bytes_consumed)).
    pub fn buffered_len(&self) -> usize {
        (self.bytes_received() - self.bytes_consumed()) as usize
    }

    /// Total bytes pushed into the reader.
    pub fn bytes_received(&self) -> u64 {
        self.consumed + self.buf.len() as u64
    }

    /// The limits this reader enforces.
    pub fn limits(&self) -> ChunkLimits {
        self.limits
    }

    /// Number of chunk streams opened so far (counted against `max_chunk_streams`).
    pub fn chunk_stream_count(&self) -> usize {
        self.streams.len()
    }

    /// Bytes pushed but not yet parsed. After an error they start at the chunk that failed
    /// (or, for a bad Set Chunk Size or Abort, right after that message). While the payload of
    /// a chunk is being dropped as it arrives (see [`BodyPrefix`]) they are the bytes after it:
    /// none until it is complete ([`buffered_len`](Self::buffered_len) counts it).
    pub fn unparsed(&self) -> &[u8] {
        &self.buf
    }

    /// Drops the first `n` unparsed bytes (at most all of them) and clears a failure, so that
    /// parsing resumes there with the chunk streams' states kept. For a dissector
    /// resynchronising after an error; the dropped bytes still count in stream offsets.
    ///
    /// No error happens while a chunk's payload is being dropped; should `skip` be called
    /// then, that chunk is abandoned with its message and `n` counts from the end of the
    /// payload received so far.
    pub fn skip(&mut self, n: usize) {
        if let Some(d) = self.dropping.take() {
            self.abandon(&d);
        }
        let n = n.min(self.buf.len());
        self.buf.advance(n);
        self.consumed += n as u64;
        self.failed = None;
        // The caller may be looking for a chunk header: until one is parsed, push() must not
        // take bytes for one.
        self.aligned = false;
    }

    /// Gives up a chunk being dropped: its message can no longer complete, and the rest of
    /// its payload will be parsed as chunks (the caller is resynchronising).
    fn abandon(&mut self, d: &Dropping) {
        if let Some(partial) = self
            .streams
            .get_mut(d.csid)
            .and_then(|stream| stream.partial.take())
        {
            self.pending -= partial.data.len();
        }
    }

    /// `lost` bytes of the stream will never arrive (a capture gap): drops the unparsed
    /// bytes, forgets every chunk stream (their next chunks may continue messages whose
    /// headers were lost) and counts the lost bytes in stream offsets, so offsets still count
    /// from the first byte of the stream. Clears a failure; the chunk size is kept.
    pub fn lost_bytes(&mut self, lost: u64) {
        self.dropping = None;
        self.skip(self.buf.len());
        self.consumed += lost;
        self.streams.clear();
        self.pending = 0;
    }

    /// Lets a type 1 header open a chunk stream that no type 0 header opened, as a
    /// dissector joining a connection mid-way needs: the stream gets message stream id
    /// `stream_id` (0 for protocol control types 1–6) and its timestamps count from the
    /// first delta, since the absolute base was never seen. `None` (the default) keeps the
    /// specification's rule and its [`ChunkError::FirstChunkNotType0`].
    pub fn set_open_on_type1(&mut self, stream_id: Option<u32>) {
        self.open_on_type1 = stream_id;
    }

    /// Keeps only a prefix of the bodies `policy` chooses (see [`BodyPrefix`]); `None` (the
    /// default) keeps every body whole. Messages then report their declared length in
    /// [`RawMessage::length`] and the kept bytes in [`RawMessage::payload`]. Limits still
    /// apply to the declared length (`max_message_size`) and to the bytes kept
    /// (`max_pending_bytes`). Applies to messages whose first chunk arrives afterwards.
    pub fn set_body_prefix(&mut self, policy: Option<BodyPrefix>) {
        self.body_prefix = policy;
    }

    /// Discards the incomplete message of chunk stream `csid`, if any, returning how many of
    /// its declared bytes had arrived and the declared length. A dissector calls it after
    /// [`ChunkError::HeaderInsideMessage`] (then [`skip(0)`](Self::skip)) to take the new
    /// header instead of the message it cut short.
    pub fn discard_incomplete(&mut self, csid: u32) -> Option<(u32, u32)> {
        if self.dropping.as_ref().is_some_and(|d| d.csid == csid) {
            self.dropping = None;
        }
        let stream = self.streams.get_mut(csid)?;
        let partial = stream.partial.take()?;
        self.pending -= partial.data.len();
        Some((partial.received as u32, stream.length))
    }

    /// Messages still being reassembled: chunk stream id, bytes received, declared length
    /// (sorted by chunk stream id). What a connection that closes now leaves unfinished.
    pub fn incomplete_messages(&self) -> Vec<(u32, u32, u32)> {
        let mut out: Vec<_> = self
            .streams
            .iter()
            .filter_map(|(csid, s)| {
                let p = s.partial.as_ref()?;
                Some((csid, p.received as u32, s.length))
            })
            .collect();
        out.sort_unstable();
        out
    }

    fn apply_control(&mut self, msg: &RawMessage) -> Result<(), ChunkError> {
        if msg.type_id != TYPE_SET_CHUNK_SIZE && msg.type_id != TYPE_ABORT {
            return Ok(());
        }
        let offset = msg.info.start_offset;
        let Some(body) = msg.payload.get(..4) else {
            return Err(ChunkError::ControlMessageTooShort {
                type_id: msg.type_id,
                length: msg.payload.len() as u32,
                offset,
            });
        };
        let value = u32::from_be_bytes([body[0], body[1], body[2], body[3]]);
        if msg.type_id == TYPE_SET_CHUNK_SIZE {
            if value == 0 || value > MAX_CHUNK_SIZE {
                return Err(ChunkError::InvalidChunkSize { value, offset });
            }
            self.chunk_size = value;
        } else if let Some(partial) = self
            .streams
            .get_mut(value)
            .and_then(|stream| stream.partial.take())
        {
            self.pending -= partial.data.len();
        }
        Ok(())
    }

    /// Completes the chunk being dropped once all its payload has arrived, else reads the
    /// next chunk.
    fn next_chunk(&mut self) -> Result<Step, ChunkError> {
        match self.dropping.take() {
            None => self.read_chunk(),
            Some(d) if d.left > 0 => {
                self.dropping = Some(d);
                Ok(Step::NeedMore)
            }
            Some(d) => Ok(match self.streams.get_mut(d.csid) {
                Some(stream) => d.complete(stream, &mut self.pending),
                None => Step::Consumed,
            }),
        }
    }

    /// Reads one chunk if it is fully buffered. State changes only once the whole chunk is here,
    /// so a chunk split across pushes is simply parsed again; except a continuation chunk
    /// whose message keeps none of its payload, which is committed as soon as its header is
    /// here, its payload then dropped as it arrives (see [`Dropping`]).
    fn read_chunk(&mut self) -> Result<Step, ChunkError> {
        let offset = self.consumed;
        let buf = &self.buf[..];
        let Some((BasicHeader { fmt, csid }, basic_len)) = BasicHeader::decode(buf) else {
            return Ok(Step::NeedMore);
        };
        let state = self.streams.get(csid);
        let opens_on_type1 = fmt == 1 && self.open_on_type1.is_some();
        match state {
            None if fmt != 0 && !opens_on_type1 => {
                return Err(ChunkError::FirstChunkNotType0 { csid, fmt, offset });
            }
            None if self.streams.len() >= self.limits.max_chunk_streams => {
                return Err(ChunkError::TooManyChunkStreams {
                    csid,
                    count: self.streams.len() + 1,
                    limit: self.limits.max_chunk_streams,
                    offset,
                });
            }
            Some(StreamState {
                partial: Some(p),
                length,
                ..
            }) if fmt != 3 => {
                return Err(ChunkError::HeaderInsideMessage {
                    csid,
                    fmt,
                    received: p.received as u32,
                    length: *length,
                    offset,
                });
            }
            _ => {}
        }
        let mut pos = basic_len;
        let Some(header) = buf
            .get(pos..)
            .and_then(|b| ChunkMessageHeader::decode(fmt, b))
        else {
            return Ok(Step::NeedMore);
        };
        pos += ChunkMessageHeader::len_for_fmt(fmt);

        // Resolve the header against the chunk stream's state, without changing it yet.
        let continuing = state.and_then(|s| s.partial.as_ref());
        let mut extended_present = false;
        let mut missing_repeat = false;
        let mut ext_value = None;
        if header.announces_extended_timestamp() {
            let Some(ext) = buf.get(pos..).and_then(ExtendedTimestamp::decode) else {
                return Ok(Step::NeedMore);
            };
            pos += ExtendedTimestamp::LEN;
            extended_present = true;
            ext_value = Some(ext.0);
        }
        let (timestamp, delta, field, length, type_id, stream_id) = match (header, state) {
            (ChunkMessageHeader::Type0(h), _) => {
                let ts = ext_value.unwrap_or(h.timestamp_field);
                (ts, ts, ts, h.length, h.type_id, h.stream_id)
            }
            (ChunkMessageHeader::Type1(h), Some(s)) => {
                let d = ext_value.unwrap_or(h.delta_field);
                (
                    s.timestamp.wrapping_add(d),
                    d,
                    d,
                    h.length,
                    h.type_id,
                    s.stream_id,
                )
            }
            (ChunkMessageHeader::Type2(h), Some(s)) => {
                let d = ext_value.unwrap_or(h.delta_field);
                (
                    s.timestamp.wrapping_add(d),
                    d,
                    d,
                    s.length,
                    s.type_id,
                    s.stream_id,
                )
            }
            (ChunkMessageHeader::Type3, Some(s)) => {
                let ts = if continuing.is_some() {
                    s.timestamp
                } else {
                    s.timestamp.wrapping_add(s.delta)
                };
                let Some(repeat) = type3_extended(s, ts, buf.get(pos..).unwrap_or_default()) else {
                    return Ok(Step::NeedMore);
                };
                pos += repeat.header_len();
                extended_present = repeat == ExtendedRepeat::Present;
                missing_repeat = repeat == ExtendedRepeat::Missing;
                (ts, s.delta, s.delta, s.length, s.type_id, s.stream_id)
            }
            // A dissector joining mid-way: the stream's earlier headers were not seen.
            (ChunkMessageHeader::Type1(h), None) => {
                let d = ext_value.unwrap_or(h.delta_field);
                let sid = if (1..=6).contains(&h.type_id) {
                    0
                } else {
                    self.open_on_type1.unwrap_or(0)
                };
                (d, d, d, h.length, h.type_id, sid)
            }
            // Unreachable: a missing state with fmt 2 or 3 was rejected above.
            (_, None) => return Err(ChunkError::FirstChunkNotType0 { csid, fmt, offset }),
        };

        let received = continuing.map_or(0, |p| p.received);
        if continuing.is_none() && length > self.limits.max_message_size {
            return Err(ChunkError::MessageTooLarge {
                csid,
                length,
                limit: self.limits.max_message_size,
                offset,
            });
        }
        let remaining = (length as usize).saturating_sub(received);
        let take = remaining.min(self.chunk_size as usize);
        if buf.len() - pos < take {
            let keeps_none = continuing.is_some_and(|p| p.data.len() >= p.keep);
            if !keeps_none || fmt != 3 {
                return Ok(Step::NeedMore);
            }
            // Nothing of this payload is kept: commit the header now and drop the payload as
            // it arrives instead of buffering it. (A continuation header is type 3 and changes
            // no chunk stream state; counting the chunk waits for its last byte.)
            let arrived = buf.len() - pos;
            self.aligned = true;
            self.dropping = Some(Dropping {
                csid,
                start: offset,
                len: pos + take,
                left: take - arrived,
                take,
                missing_repeat,
            });
            self.consumed += buf.len() as u64;
            self.buf.clear();
            return Ok(Step::NeedMore);
        }

        // The whole chunk is buffered: commit.
        self.aligned = true;
        let end_offset = offset + (pos + take) as u64;
        self.buf.advance(pos);
        self.consumed = end_offset;
        let stream = self.streams.get_or_insert_with(csid, || StreamState {
            timestamp,
            delta,
            length,
            type_id,
            stream_id,
            extended: None,
            partial: None,
        });
        if fmt != 3 {
            stream.extended = ext_value;
        }
        if stream.partial.is_none() {
            stream.timestamp = timestamp;
            stream.delta = delta;
            stream.length = length;
            stream.type_id = type_id;
            stream.stream_id = stream_id;
            let first = self.buf.get(..take).unwrap_or_default();
            let keep = match self.body_prefix.and_then(|policy| policy(type_id, first)) {
                Some(n) => n.min(length as usize),
                None => length as usize,
            };
            if take == remaining {
                let payload = if keep < take {
                    // A prefix is copied: sharing it would pin the whole receive buffer.
                    let prefix = Bytes::copy_from_slice(first.get(..keep).unwrap_or_default());
                    self.buf.advance(take);
                    prefix
                } else {
                    // Single-chunk message: hand out the received bytes without copying.
                    self.buf.split_to(take).freeze()
                };
                return Ok(Step::Message(RawMessage {
                    csid,
                    timestamp,
                    type_id,
                    stream_id,
                    payload,
                    length,
                    info: ChunkInfo {
                        first_fmt: fmt,
                        timestamp_field: field,
                        extended_timestamp: extended_present,
                        chunk_count: 1,
                        missing_extended_repeats: u32::from(missing_repeat),
                        start_offset: offset,
                        end_offset,
                    },
                }));
            }
            // Room for as much of the message as has already arrived (bytes present, not
            // the declared length): a message received in one read is copied once.
            let arrived = self.buf.len().min(keep);
            stream.partial = Some(Partial {
                data: Vec::with_capacity(arrived),
                keep,
                received: 0,
                first_fmt: fmt,
                timestamp_field: field,
                extended_timestamp: extended_present,
                chunk_count: 0,
                missing_extended_repeats: 0,
                start_offset: offset,
            });
        }
        let Some(partial) = stream.partial.as_mut() else {
            return Ok(Step::Consumed);
        };
        // Of this chunk, the bytes that still fit in the kept prefix (all of them normally).
        let stored = take.min(partial.keep.saturating_sub(partial.data.len()));
        if self.pending + stored > self.limits.max_pending_bytes {
            return Err(ChunkError::TooMuchPending {
                pending: self.pending + stored,
                limit: self.limits.max_pending_bytes,
                offset,
            });
        }
        append_bounded(
            &mut partial.data,
            self.buf.get(..stored).unwrap_or_default(),
            self.buf.len(),
            partial.keep,
        );
        self.pending += stored;
        self.buf.advance(take);
        Ok(complete_chunk(
            stream,
            &mut self.pending,
            csid,
            take,
            missing_repeat,
            end_offset,
        ))
    }
}

/// Whether a type 3 chunk repeats the extended timestamp (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ExtendedRepeat {
    /// The chunk stream is not in extended mode.
    NotExpected,
    /// The 4 bytes after the basic header are the extended timestamp.
    Present,
    /// They should be, but are payload.
    Missing,
}

impl ExtendedRepeat {
    /// Header bytes it adds after the basic header.
    fn header_len(self) -> usize {
        if self == ExtendedRepeat::Present {
            ExtendedTimestamp::LEN
        } else {
            0
        }
    }
}

/// Reads the extended timestamp a type 3 chunk of `stream` may repeat at the start of `rest`
/// (`ts`: the timestamp of the message it belongs to); `None` when fewer than the 4 bytes
/// needed to tell have arrived.
fn type3_extended(stream: &StreamState, ts: u32, rest: &[u8]) -> Option<ExtendedRepeat> {
    let Some(expected) = stream.extended else {
        return Some(ExtendedRepeat::NotExpected);
    };
    let peek = ExtendedTimestamp::decode(rest)?;
    Some(if peek.0 == expected || peek.0 == ts {
        ExtendedRepeat::Present
    } else {
        ExtendedRepeat::Missing
    })
}

/// Counts a received chunk of `take` payload bytes (already stored as far as kept) into the
/// message `stream` is reassembling; returns the message once complete.
fn complete_chunk(
    stream: &mut StreamState,
    pending: &mut usize,
    csid: u32,
    take: usize,
    missing_repeat: bool,
    end_offset: u64,
) -> Step {
    let Some(partial) = stream.partial.as_mut() else {
        return Step::Consumed;
    };
    partial.received += take;
    partial.chunk_count += 1;
    partial.missing_extended_repeats += u32::from(missing_repeat);
    if partial.received < stream.length as usize {
        return Step::Consumed;
    }
    let Some(done) = stream.partial.take() else {
        return Step::Consumed;
    };
    *pending -= done.data.len();
    Step::Message(RawMessage {
        csid,
        timestamp: stream.timestamp,
        type_id: stream.type_id,
        stream_id: stream.stream_id,
        payload: Bytes::from(done.data),
        length: stream.length,
        info: ChunkInfo {
            first_fmt: done.first_fmt,
            timestamp_field: done.timestamp_field,
            extended_timestamp: done.extended_timestamp,
            chunk_count: done.chunk_count,
            missing_extended_repeats: done.missing_extended_repeats,
            start_offset: done.start_offset,
            end_offset,
        },
    })
}

/// Appends `chunk`, growing the buffer at most to twice what it already holds or to what has
/// arrived (`available`: the received bytes this chunk is taken from, later chunks included),
/// and never past `total`, so capacity stays proportional to bytes actually received whatever
/// length the header declared.
fn append_bounded(data: &mut Vec<u8>, chunk: &[u8], available: usize, total: usize) {
    let needed = data.len() + chunk.len();
    if needed > data.capacity() {
        let target = (data.len() * 2)
            .max(data.len() + available)
            .min(total)
            .max(needed);
        data.reserve_exact(target - data.len());
    }
    data.extend_from_slice(chunk);
}

#[cfg(test)]
mod tests;
