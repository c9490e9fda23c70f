//! Errors of the chunk layer.

/// A malformed or over-limit chunk stream, or a writer call that cannot be encoded.
///
/// Reader errors carry `offset`: the stream byte offset (counted from the first byte pushed into
/// the [`ChunkReader`](super::ChunkReader)) where the offending chunk begins. After a reader
/// error the stream cannot be resynchronised; the reader keeps returning the same error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChunkError {
    /// The first chunk seen on a chunk stream did not use the full (type 0) header, so its
    /// message length, type and stream id are unknown.
    #[error(
        "chunk at offset {offset}: chunk stream {csid} starts with a type {fmt} header; the first chunk of a chunk stream must be type 0"
    )]
    FirstChunkNotType0 { csid: u32, fmt: u8, offset: u64 },

    /// A chunk opened one chunk stream more than [`ChunkLimits::max_chunk_streams`](super::ChunkLimits).
    #[error(
        "chunk at offset {offset}: chunk stream {csid} would be live chunk stream number {count}, over the limit of {limit}"
    )]
    TooManyChunkStreams {
        csid: u32,
        count: usize,
        limit: usize,
        offset: u64,
    },

    /// Incomplete messages across all chunk streams would hold more than
    /// [`ChunkLimits::max_pending_bytes`](super::ChunkLimits).
    #[error(
        "chunk at offset {offset}: incomplete messages would hold {pending} bytes, over the limit of {limit} bytes"
    )]
    TooMuchPending {
        pending: usize,
        limit: usize,
        offset: u64,
    },

    /// A message header declared a length over [`ChunkLimits::max_message_size`](super::ChunkLimits).
    #[error(
        "chunk at offset {offset}: chunk stream {csid} declares a {length}-byte message, over the limit of {limit} bytes"
    )]
    MessageTooLarge {
        csid: u32,
        length: u32,
        limit: u32,
        offset: u64,
    },

    /// A type 0, 1 or 2 header arrived on a chunk stream whose previous message was not complete
    /// (and was not cancelled by an Abort message).
    #[error(
        "chunk at offset {offset}: type {fmt} header on chunk stream {csid} while its message is incomplete ({received} of {length} bytes received)"
    )]
    HeaderInsideMessage {
        csid: u32,
        fmt: u8,
        received: u32,
        length: u32,
        offset: u64,
    },

    /// A Set Chunk Size message carried 0 or a value with the top bit set.
    #[error(
        "Set Chunk Size message at offset {offset}: chunk size {value} (0x{value:08x}) is not in 1..=0x7FFFFFFF"
    )]
    InvalidChunkSize { value: u32, offset: u64 },

    /// A Set Chunk Size (type 1) or Abort (type 2) message shorter than its 4-byte body.
    #[error(
        "control message of type {type_id} at offset {offset}: body is {length} bytes, 4 are needed"
    )]
    ControlMessageTooShort {
        type_id: u8,
        length: u32,
        offset: u64,
    },

    /// Writer: a chunk stream id outside 2..=65599 (0 and 1 are not ids but basic-header markers).
    #[error("chunk stream id {csid} is not in 2..=65599")]
    InvalidChunkStreamId { csid: u32 },

    /// Writer: a chunk size outside 1..=0x7FFFFFFF.
    #[error("chunk size {value} is not in 1..=0x7FFFFFFF")]
    ChunkSizeOutOfRange { value: u32 },

    /// Writer: a payload longer than the 24-bit message length field can express.
    #[error(
        "message payload of {length} bytes is longer than 16777215, the most a chunk header can declare"
    )]
    PayloadTooLong { length: usize },

    /// Writer: a message was started on a chunk stream whose previous message is not fully written.
    #[error("chunk stream {csid} already has a message in progress")]
    ChunkStreamBusy { csid: u32 },

    /// Writer: a basic header with a format number above 3.
    #[error("chunk format {fmt} is not in 0..=3")]
    InvalidFormat { fmt: u8 },
}
