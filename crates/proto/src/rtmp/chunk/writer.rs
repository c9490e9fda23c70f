//! Cuts messages into chunks.

use bytes::{BufMut, Bytes, BytesMut};

use super::header::{
    EXTENDED_TIMESTAMP_MARKER, MAX_MESSAGE_LENGTH, basic_header_len, check_csid, put_basic_header,
};
use super::{
    CSID_PROTOCOL_CONTROL, ChunkError, DEFAULT_CHUNK_SIZE, TYPE_SET_CHUNK_SIZE, check_chunk_size,
};

/// The message header fields the chunk layer sends besides the length (which is the payload's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct MessageHeader {
    /// Absolute timestamp (ms, wrapping).
    pub timestamp: u32,
    /// Message type id.
    pub type_id: u8,
    /// Message stream id.
    pub stream_id: u32,
}

/// What the peer's reader remembers of a chunk stream after our last header on it.
#[derive(Debug, Clone, Copy)]
struct SentHeader {
    timestamp: u32,
    /// The delta a type 3 header would re-apply; `None` after a type 0 header, because readers
    /// disagree on what a type 3 right after a type 0 means, so we never send one.
    delta: Option<u32>,
    length: u32,
    type_id: u8,
    stream_id: u32,
}

#[derive(Debug, Clone, Copy, Default)]
struct OutStream {
    /// `None` until a first header went out: the next message needs type 0.
    sent: Option<SentHeader>,
    /// A message started with [`ChunkWriter::start_message`] is not fully written.
    busy: bool,
}

/// The first chunk's format and its timestamp/delta value (before the 24-bit split).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FirstHeader {
    fmt: u8,
    value: u32,
}

/// A message being written chunk by chunk with [`ChunkWriter::write_chunk`].
#[derive(Debug, Clone)]
pub struct OutgoingMessage {
    csid: u32,
    header: MessageHeader,
    payload: Bytes,
    written: usize,
    /// Decided when the first chunk is written, from the chunk stream's state at that moment.
    first: Option<FirstHeader>,
    done: bool,
}

impl OutgoingMessage {
    /// Chunk stream the message is written on.
    pub fn csid(&self) -> u32 {
        self.csid
    }

    /// The message's header fields.
    pub fn header(&self) -> MessageHeader {
        self.header
    }

    /// The whole payload.
    pub fn payload(&self) -> &Bytes {
        &self.payload
    }

    /// Payload bytes not yet written.
    pub fn remaining(&self) -> usize {
        self.payload.len() - self.written
    }

    /// Whether every chunk has been written.
    pub fn is_done(&self) -> bool {
        self.done
    }
}

/// Sans-I/O chunk stream writer: keeps per-chunk-stream header state so each message gets the
/// most compact header the peer's reader can resolve, and appends chunks to a `BytesMut`.
///
/// Format choice for a new message on a chunk stream:
/// type 0 for its first message, a different message stream id, or a timestamp that goes
/// backward (a wrapping delta of 2^31 or more); otherwise type 1 if the length or type id
/// changed, else type 3 if the delta equals the delta last sent with a type 1/2/3 header, else
/// type 2. Continuation chunks are type 3 and repeat the extended timestamp when there is one.
#[derive(Debug, Clone)]
pub struct ChunkWriter {
    chunk_size: u32,
    /// Per chunk stream state. A sender uses a handful of chunk streams, so a short list
    /// searched in order beats hashing (this is on every player's per-frame path).
    streams: Vec<(u32, OutStream)>,
}

impl Default for ChunkWriter {
    fn default() -> Self {
        ChunkWriter::new()
    }
}

impl ChunkWriter {
    /// A writer at the default chunk size (128) with no chunk stream state.
    pub fn new() -> Self {
        ChunkWriter {
            chunk_size: DEFAULT_CHUNK_SIZE,
            streams: Vec::new(),
        }
    }

    fn stream(&self, csid: u32) -> Option<&OutStream> {
        self.streams
            .iter()
            .find(|(id, _)| *id == csid)
            .map(|(_, s)| s)
    }

    fn stream_mut(&mut self, csid: u32) -> Option<&mut OutStream> {
        self.streams
            .iter_mut()
            .find(|(id, _)| *id == csid)
            .map(|(_, s)| s)
    }

    fn stream_entry(&mut self, csid: u32) -> &mut OutStream {
        let i = match self.streams.iter().position(|(id, _)| *id == csid) {
            Some(i) => i,
            None => {
                self.streams.push((csid, OutStream::default()));
                self.streams.len() - 1
            }
        };
        &mut self.streams[i].1
    }

    /// The chunk size outgoing chunks are cut at.
    pub fn chunk_size(&self) -> u32 {
        self.chunk_size
    }

    /// Changes the outgoing chunk size (1..=0x7FFFFFFF) for every chunk written from now on.
    /// The peer must learn it from a Set Chunk Size message written just before; see
    /// [`write_set_chunk_size`](Self::write_set_chunk_size).
    pub fn set_chunk_size(&mut self, size: u32) -> Result<(), ChunkError> {
        check_chunk_size(size)?;
        self.chunk_size = size;
        Ok(())
    }

    /// Writes a Set Chunk Size message (csid 2, message stream 0, timestamp 0) at the current
    /// chunk size, then switches to `size`.
    pub fn write_set_chunk_size(
        &mut self,
        size: u32,
        out: &mut BytesMut,
    ) -> Result<(), ChunkError> {
        check_chunk_size(size)?;
        let header = MessageHeader {
            timestamp: 0,
            type_id: TYPE_SET_CHUNK_SIZE,
            stream_id: 0,
        };
        self.write_message(CSID_PROTOCOL_CONTROL, &header, &size.to_be_bytes(), out)?;
        self.chunk_size = size;
        Ok(())
    }

    /// Forgets a chunk stream's header state, so its next message starts with a type 0 header.
    /// Call it after sending bytes on that chunk stream that did not come from this writer (for
    /// example from [`serialize_fmt0`]).
    pub fn reset_chunk_stream(&mut self, csid: u32) {
        if let Some(i) = self
            .streams
            .iter()
            .position(|(id, s)| *id == csid && !s.busy)
        {
            self.streams.swap_remove(i);
        }
    }

    /// Writes a whole message as consecutive chunks.
    pub fn write_message(
        &mut self,
        csid: u32,
        header: &MessageHeader,
        payload: &[u8],
        out: &mut BytesMut,
    ) -> Result<(), ChunkError> {
        let length = check_message(csid, payload.len())?;
        if self.stream(csid).is_some_and(|s| s.busy) {
            return Err(ChunkError::ChunkStreamBusy { csid });
        }
        let first = self.choose_first(csid, header, length);
        let chunk_size = self.chunk_size as usize;
        out.reserve(encoded_len(csid, first, length, chunk_size));
        let mut written = 0;
        loop {
            written += put_chunk(out, csid, header, first, payload, written, chunk_size);
            if written >= payload.len() {
                return Ok(());
            }
        }
    }

    /// Starts a message to be written chunk by chunk, interleaved with chunks of other chunk
    /// streams. The chunk stream is busy until the last chunk is written (or
    /// [`abort_message`](Self::abort_message)). The header format is chosen when the first
    /// chunk is written.
    pub fn start_message(
        &mut self,
        csid: u32,
        header: MessageHeader,
        payload: Bytes,
    ) -> Result<OutgoingMessage, ChunkError> {
        check_message(csid, payload.len())?;
        let stream = self.stream_entry(csid);
        if stream.busy {
            return Err(ChunkError::ChunkStreamBusy { csid });
        }
        stream.busy = true;
        Ok(OutgoingMessage {
            csid,
            header,
            payload,
            written: 0,
            first: None,
            done: false,
        })
    }

    /// Writes the next chunk of `msg`. Returns `true` once the message is complete (and then
    /// writes nothing on further calls). The current chunk size applies to each chunk.
    pub fn write_chunk(&mut self, msg: &mut OutgoingMessage, out: &mut BytesMut) -> bool {
        if msg.done {
            return true;
        }
        let length = msg.payload.len() as u32;
        let first = match msg.first {
            Some(first) => first,
            None => {
                let first = self.choose_first(msg.csid, &msg.header, length);
                msg.first = Some(first);
                first
            }
        };
        msg.written += put_chunk(
            out,
            msg.csid,
            &msg.header,
            first,
            &msg.payload,
            msg.written,
            self.chunk_size as usize,
        );
        if msg.written >= msg.payload.len() {
            msg.done = true;
            if let Some(s) = self.stream_mut(msg.csid) {
                s.busy = false;
            }
        }
        msg.done
    }

    /// Gives up on a message started with [`start_message`](Self::start_message), freeing its
    /// chunk stream. If chunks of it were written, the caller must send an Abort message (type
    /// 2) for its chunk stream so the peer discards them.
    pub fn abort_message(&mut self, msg: OutgoingMessage) {
        if let Some(s) = self.stream_mut(msg.csid) {
            s.busy = false;
        }
    }

    /// Decides the first chunk's format and records the header as sent.
    fn choose_first(&mut self, csid: u32, header: &MessageHeader, length: u32) -> FirstHeader {
        let stream = self.stream_entry(csid);
        let first = match stream.sent {
            Some(prev) if prev.stream_id == header.stream_id => {
                let delta = header.timestamp.wrapping_sub(prev.timestamp);
                if delta > i32::MAX as u32 {
                    FirstHeader {
                        fmt: 0,
                        value: header.timestamp,
                    }
                } else if prev.length != length || prev.type_id != header.type_id {
                    FirstHeader {
                        fmt: 1,
                        value: delta,
                    }
                } else if prev.delta == Some(delta) {
                    FirstHeader {
                        fmt: 3,
                        value: delta,
                    }
                } else {
                    FirstHeader {
                        fmt: 2,
                        value: delta,
                    }
                }
            }
            _ => FirstHeader {
                fmt: 0,
                value: header.timestamp,
            },
        };
        stream.sent = Some(SentHeader {
            timestamp: header.timestamp,
            delta: (first.fmt != 0).then_some(first.value),
            length,
            type_id: header.type_id,
            stream_id: header.stream_id,
        });
        first
    }
}

/// Serializes one message as a type 0 chunk followed by type 3 continuations, independent of any
/// chunk stream state, so the same bytes can go to every connection using `chunk_size`. A
/// connection that also uses a [`ChunkWriter`] on `csid` must call
/// [`ChunkWriter::reset_chunk_stream`] after sending these bytes.
pub fn serialize_fmt0(
    chunk_size: u32,
    csid: u32,
    header: &MessageHeader,
    payload: &[u8],
) -> Result<Bytes, ChunkError> {
    let mut out = BytesMut::new();
    serialize_fmt0_into(chunk_size, csid, header, payload, &mut out)?;
    Ok(out.freeze())
}

/// [`serialize_fmt0`], appending to `out`.
pub fn serialize_fmt0_into(
    chunk_size: u32,
    csid: u32,
    header: &MessageHeader,
    payload: &[u8],
    out: &mut BytesMut,
) -> Result<(), ChunkError> {
    check_chunk_size(chunk_size)?;
    let length = check_message(csid, payload.len())?;
    let first = FirstHeader {
        fmt: 0,
        value: header.timestamp,
    };
    let chunk_size = chunk_size as usize;
    out.reserve(encoded_len(csid, first, length, chunk_size));
    let mut written = 0;
    loop {
        written += put_chunk(out, csid, header, first, payload, written, chunk_size);
        if written >= payload.len() {
            return Ok(());
        }
    }
}

fn check_message(csid: u32, len: usize) -> Result<u32, ChunkError> {
    check_csid(csid)?;
    match u32::try_from(len) {
        Ok(length) if length <= MAX_MESSAGE_LENGTH => Ok(length),
        _ => Err(ChunkError::PayloadTooLong { length: len }),
    }
}

/// Exact number of bytes a message takes on the wire.
fn encoded_len(csid: u32, first: FirstHeader, length: u32, chunk_size: usize) -> usize {
    let basic = basic_header_len(csid);
    let ext = if first.value >= EXTENDED_TIMESTAMP_MARKER {
        4
    } else {
        0
    };
    let chunks = (length as usize).div_ceil(chunk_size).max(1);
    let message_header = match first.fmt {
        0 => 11,
        1 => 7,
        2 => 3,
        _ => 0,
    };
    length as usize + message_header + chunks * (basic + ext)
}

/// Writes the chunk of `payload` starting at `written`; returns the payload bytes it carried.
fn put_chunk(
    out: &mut BytesMut,
    csid: u32,
    header: &MessageHeader,
    first: FirstHeader,
    payload: &[u8],
    written: usize,
    chunk_size: usize,
) -> usize {
    let extended = first.value >= EXTENDED_TIMESTAMP_MARKER;
    let field = first.value.min(EXTENDED_TIMESTAMP_MARKER);
    if written == 0 {
        put_basic_header(out, first.fmt, csid);
        let length = payload.len() as u32;
        match first.fmt {
            0 => {
                put_u24(out, field);
                put_u24(out, length);
                out.put_u8(header.type_id);
                out.put_u32_le(header.stream_id);
            }
            1 => {
                put_u24(out, field);
                put_u24(out, length);
                out.put_u8(header.type_id);
            }
            2 => put_u24(out, field),
            _ => {}
        }
    } else {
        put_basic_header(out, 3, csid);
    }
    if extended {
        out.put_u32(first.value);
    }
    let rest = payload.get(written..).unwrap_or_default();
    let take = rest.len().min(chunk_size);
    out.put_slice(&rest[..take]);
    take
}

fn put_u24(out: &mut BytesMut, v: u32) {
    out.put_slice(&v.to_be_bytes()[1..]);
}

#[cfg(test)]
mod tests;
