//! Sans-I/O RTMP sessions: the server side and the client side of one connection.
//!
//! A session owns the handshake, the chunk reader and writer and the command state of one
//! connection. The caller feeds it the bytes that arrived ([`ServerSession::feed`]), takes the
//! events it produced (`poll_event`) and the bytes it wants sent (`poll_transmit`), and answers
//! the requests that need a decision of the application (accept or reject a connect, a publish, a
//! play) through methods. Nothing here reads a clock or a socket: the same sessions drive the
//! server, the client, the golden-conversation tests and the fuzzers.
//!
//! What any peer must do is done inside the session without asking: acknowledgements against
//! the peer's window, the answer to Set Peer Bandwidth, ping responses, `createStream`,
//! `releaseStream`/`FCPublish` answers, `_checkbw`, `getStreamLength`, and an `_error` for
//! commands nobody handles.

pub mod client;
mod link;
pub mod server;

#[cfg(test)]
mod tests;

pub use client::{ClientConfig, ClientEvent, ClientSession};
pub use link::{Received, csid};
pub use server::{
    ConnectRequest, PlayRequest, PublishRequest, ServerConfig, ServerEvent, ServerSession,
};

use crate::rtmp::chunk::ChunkError;
use crate::rtmp::handshake::HandshakeError;
use crate::rtmp::message::{Message, MessageError};

/// Which way a traced message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Received,
    Sent,
}

/// One message as it crossed the connection, for `--trace` style logging.
#[derive(Debug, Clone)]
pub struct TraceRecord {
    pub direction: Direction,
    pub csid: u32,
    pub timestamp: u32,
    pub stream_id: u32,
    pub message: Message,
}

/// Audio or video.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaKind {
    Audio,
    Video,
}

impl MediaKind {
    /// The RTMP message type id.
    pub fn type_id(self) -> u8 {
        match self {
            MediaKind::Audio => crate::rtmp::message::type_id::AUDIO,
            MediaKind::Video => crate::rtmp::message::type_id::VIDEO,
        }
    }

    /// The chunk stream this side sends the kind on.
    pub fn csid(self) -> u32 {
        match self {
            MediaKind::Audio => csid::AUDIO,
            MediaKind::Video => csid::VIDEO,
        }
    }
}

/// Why a session cannot go on. After any of these the connection should be closed; the session
/// refuses further input.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("handshake: {0}")]
    Handshake(#[from] HandshakeError),
    #[error("chunk stream: {0}")]
    Chunk(#[from] ChunkError),
    #[error("malformed message (type {type_id}, chunk stream {csid}): {source}")]
    BadMessage {
        type_id: u8,
        csid: u32,
        #[source]
        source: MessageError,
    },
    #[error("protocol violation: {0}")]
    Protocol(String),
    #[error("no stream {0} on this connection")]
    UnknownStream(u32),
    #[error("the session has ended")]
    Closed,
}
