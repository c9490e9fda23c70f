//! The RTMP chunk stream: messages cut into chunks and interleaved over one connection.
//!
//! * [`header`]: the wire parts of a chunk header ([`BasicHeader`], [`Type0Header`],
//!   [`Type1Header`], [`Type2Header`], [`ExtendedTimestamp`]), each with `decode`/`encode`.
//! * [`ChunkReader`]: push received bytes, poll reassembled [`RawMessage`]s. It applies incoming
//!   Set Chunk Size and Abort itself.
//! * [`ChunkWriter`]: per-chunk-stream header compression; whole messages or chunk by chunk.
//! * [`serialize_fmt0`]: stateless serialization (type 0 then type 3 chunks), for frames whose
//!   bytes are shared by every player at the same chunk size.
//! * [`AckWindow`]: when to send an Acknowledgement, and with which sequence number.
//!
//! # Timestamps
//!
//! Absolute timestamps are `u32` milliseconds and all arithmetic on them wraps. A type 0 header
//! carries the absolute timestamp; types 1 and 2 carry a delta added to the previous message's
//! timestamp on that chunk stream; a type 3 header that starts a new message re-applies the
//! previous delta. After a type 0 header that delta is the type 0 timestamp itself (RTMP 1.0
//! specification, 5.3.1.2.4: a type 3 chunk may follow a type 0 chunk when the delta between the
//! first two messages equals the first message's timestamp).
//!
//! # Extended timestamps on type 3 chunks
//!
//! The specification says a type 3 chunk carries the 4-byte extended timestamp whenever the most
//! recent type 0/1/2 header of its chunk stream did. FFmpeg, FMLE and OBS (since its 2024 librtmp
//! fix) write it; rtmpdump and older librtmp builds do not. nginx's RTMP module always expects
//! it; SRS and rust-media-libs accept both by comparing the 4 bytes with the value they expect. This
//! reader does the same: on a type 3 chunk of a chunk stream in extended mode it looks at the
//! next 4 bytes and takes them as the extended timestamp when they equal either the last
//! extended value (timestamp or delta as sent) or the message's absolute timestamp (some
//! encoders repeat that instead); otherwise they are payload. The result never changes the
//! message's timestamp (a type 3 chunk cannot change it), only where the payload begins. The
//! rule misreads only a non-repeating encoder whose chunk payload happens to begin with exactly
//! those 4 bytes. [`ChunkInfo::missing_extended_repeats`] counts the chunks where it was absent.
//! The writer always repeats it.

mod ack;
mod error;
pub mod header;
mod reader;
mod writer;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod seed_tests;

pub use ack::AckWindow;
pub use error::ChunkError;
pub use header::{
    BasicHeader, ChunkHeader, ChunkMessageHeader, EXTENDED_TIMESTAMP_MARKER, ExtendedTimestamp,
    MAX_CSID, MAX_MESSAGE_LENGTH, MIN_CSID, Type0Header, Type1Header, Type2Header,
};
pub use reader::{BodyPrefix, ChunkInfo, ChunkReader, RawMessage};
pub use writer::{
    ChunkWriter, MessageHeader, OutgoingMessage, serialize_fmt0, serialize_fmt0_into,
};

/// Chunk size both sides use until a Set Chunk Size message says otherwise.
pub const DEFAULT_CHUNK_SIZE: u32 = 128;
/// Largest chunk size a Set Chunk Size message may carry (its top bit must be 0).
pub const MAX_CHUNK_SIZE: u32 = 0x7FFF_FFFF;
/// Message type id of Set Chunk Size.
pub const TYPE_SET_CHUNK_SIZE: u8 = 1;
/// Message type id of Abort.
pub const TYPE_ABORT: u8 = 2;
/// Chunk stream id reserved for protocol control messages.
pub const CSID_PROTOCOL_CONTROL: u32 = 2;

/// Bounds the [`ChunkReader`] enforces on untrusted input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkLimits {
    /// Longest message a header may declare. Default 8 MiB: large enough for 4K keyframes,
    /// far below the 16 MiB the 24-bit length field allows.
    pub max_message_size: u32,
    /// Most chunk streams (distinct csids) a peer may open. Default 64; real encoders use
    /// fewer than 10.
    pub max_chunk_streams: usize,
    /// Most payload bytes all incomplete messages together may hold. Default 16 MiB: two
    /// largest messages interleaved; without it a peer could keep `max_chunk_streams`
    /// messages of `max_message_size` half-sent at once.
    pub max_pending_bytes: usize,
}

impl Default for ChunkLimits {
    fn default() -> Self {
        ChunkLimits {
            max_message_size: 8 << 20,
            max_chunk_streams: 64,
            max_pending_bytes: 16 << 20,
        }
    }
}

/// Checks a chunk size for Set Chunk Size and the writer: 1..=0x7FFFFFFF.
pub(crate) fn check_chunk_size(value: u32) -> Result<(), ChunkError> {
    if (1..=MAX_CHUNK_SIZE).contains(&value) {
        Ok(())
    } else {
        Err(ChunkError::ChunkSizeOutOfRange { value })
    }
}
