//! RTMP over TCP: which connections speak RTMP, their handshakes and messages, and what looks
//! wrong in them.
//!
//! [`RtmpAnalyzer`] is a [`StreamSink`](crate::StreamSink): the TCP reassembler hands it each
//! direction's bytes and it drives the protocol core's
//! [`ChunkReader`](rtmpkit_proto::rtmp::chunk::ChunkReader) (one per direction) and
//! [`Message::decode`]. What it finds comes out as [`RtmpEvent`]s, each tagged with the frame
//! that completed it; [`RtmpAnalyzer::take_events`] hands them over after every packet.
//!
//! A connection is RTMP when its client's first byte is the version 3 (C0) followed by C1,
//! and the server answers with S0 = 3, on any port; or when a `--decode-as tcp.port==N,rtmp`
//! rule (or the well-known port 1935) names it. A connection captured without its handshake
//! (mid-stream) or after lost bytes is decoded from the first chunk header that parses
//! plausibly, with the chunk size given (`--chunk-size`) or detected from chunk boundaries.

mod analyzer;
mod checks;
mod conn;
mod handshake;
mod media;
mod resync;
mod session;

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;

use bytes::Bytes;
use rtmpkit_proto::rtmp::chunk::ChunkInfo;
use rtmpkit_proto::rtmp::handshake::{ChallengeInfo, ResponseKind};
use rtmpkit_proto::rtmp::message::{Message, MessageError};

pub use analyzer::{RTMP_PORT, RtmpAnalyzer, RtmpConfig};
pub use handshake::{schema as digest_schema_name, version as handshake_version};
pub use media::{
    AudioDescription, MediaHeader, VideoDescription, aac_object_name, audio_codec_name,
    audio_needs_sequence_header, describe_audio, describe_video, h264_profile_name,
    video_codec_name, video_needs_sequence_header,
};
pub use session::{ConnectionReport, DirectionReport, Role, TransactionIndex};

/// Direction of an RTMP message: from the client (the side that sent C0) or from the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RtmpDir {
    /// Client to server.
    C2S,
    /// Server to client.
    S2C,
}

impl RtmpDir {
    /// `c2s` or `s2c`.
    pub fn as_str(self) -> &'static str {
        match self {
            RtmpDir::C2S => "c2s",
            RtmpDir::S2C => "s2c",
        }
    }
    /// The other direction.
    pub fn reverse(self) -> Self {
        match self {
            RtmpDir::C2S => RtmpDir::S2C,
            RtmpDir::S2C => RtmpDir::C2S,
        }
    }
    pub(crate) fn index(self) -> usize {
        match self {
            RtmpDir::C2S => 0,
            RtmpDir::S2C => 1,
        }
    }
}

impl fmt::Display for RtmpDir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where an event happened: connection, direction and endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnRef {
    /// Connection index (TCP connections in order of first appearance).
    pub conn: u64,
    /// Direction.
    pub dir: RtmpDir,
    /// Sender.
    pub src: SocketAddr,
    /// Receiver.
    pub dst: SocketAddr,
}

/// A `--decode-as tcp.port==N,rtmp` rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TcpDecodeAs {
    /// Either port of the connection.
    pub port: u16,
}

/// A TCP `--decode-as` rule that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad decode-as rule '{rule}': {why} (expected tcp.port==PORT,rtmp)")]
pub struct TcpDecodeAsError {
    /// The rule as given.
    pub rule: String,
    /// What was wrong.
    pub why: &'static str,
}

impl FromStr for TcpDecodeAs {
    type Err = TcpDecodeAsError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |why| TcpDecodeAsError {
            rule: s.to_string(),
            why,
        };
        let (selector, proto) = s.split_once(',').ok_or_else(|| err("missing ','"))?;
        let port = selector
            .trim()
            .strip_prefix("tcp.port")
            .map(str::trim_start)
            .and_then(|r| r.strip_prefix("=="))
            .ok_or_else(|| err("selector must be tcp.port==PORT"))?;
        let port = port
            .trim()
            .parse()
            .map_err(|_| err("port is not a number 0-65535"))?;
        match proto.trim().to_ascii_lowercase().as_str() {
            "rtmp" | "rtmpt" => Ok(TcpDecodeAs { port }),
            _ => Err(err("decoder must be rtmp")),
        }
    }
}

/// Which handshake message completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandshakePart {
    /// C0 and C1 (1537 bytes from the client).
    C0C1,
    /// S0, S1 and S2 (3073 bytes from the server).
    S0S1S2,
    /// C2 (1536 more bytes from the client).
    C2,
}

impl HandshakePart {
    /// Wireshark's name: `Handshake C0+C1`, …
    pub fn name(self) -> &'static str {
        match self {
            HandshakePart::C0C1 => "Handshake C0+C1",
            HandshakePart::S0S1S2 => "Handshake S0+S1+S2",
            HandshakePart::C2 => "Handshake C2",
        }
    }
}

/// A completed part of the handshake and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandshakeEvent {
    /// Frame that completed it.
    pub frame: u64,
    /// Connection and direction.
    pub at: ConnRef,
    /// Which part.
    pub part: HandshakePart,
    /// C0 or S0 (3 for plain RTMP), for the parts that carry it.
    pub version: Option<u8>,
    /// C1 or S1 read as a challenge (time, version field, verified digest).
    pub challenge: Option<ChallengeInfo>,
    /// S2 or C2 compared with the challenge it answers (`None` when that challenge was
    /// not captured).
    pub response: Option<ResponseKind>,
    /// Stream offset of the part's first byte.
    pub stream_offset: u64,
}

/// One RTMP message, decoded.
#[derive(Debug, Clone)]
pub struct MessageEvent {
    /// Frame that carried the message's last byte.
    pub frame: u64,
    /// Connection and direction.
    pub at: ConnRef,
    /// Chunk stream id.
    pub csid: u32,
    /// Absolute timestamp (ms). When `timestamp_known` is false it counts from an unknown base.
    pub timestamp: u32,
    /// Whether the chunk stream's absolute timestamp is known (a type 0 header was seen on it
    /// since the start of the capture or the last resynchronisation).
    pub timestamp_known: bool,
    /// Message type id.
    pub type_id: u8,
    /// Message stream id.
    pub stream_id: u32,
    /// The body; for a coded audio or video frame only its first bytes, unless
    /// [`RtmpConfig::keep_media_bodies`] is set (see [`length`](Self::length)).
    pub payload: Bytes,
    /// The body's length as declared by the chunk headers (all of it arrived).
    pub length: u32,
    /// How the chunk layer carried it (first header format, timestamp field, chunk count…).
    pub chunk: ChunkInfo,
    /// TCP stream offset of the first chunk's first byte.
    pub stream_offset: u64,
    /// The chunk size in force for this direction when the message ended.
    pub chunk_size: u32,
    /// The decoded message, or why its body does not decode.
    pub message: Result<Message, MessageError>,
    /// Audio or video tag header, for types 8 and 9.
    pub media: Option<MediaHeader>,
    /// For `_result`/`_error`: frame of the request with the same transaction id.
    pub request_frame: Option<u64>,
    /// For requests: frame of the answer (known from a first pass, see [`TransactionIndex`]).
    pub response_frame: Option<u64>,
    /// For `publish`/`play` (and `releaseStream`, `FCPublish`…): the full stream URL,
    /// connect's tcUrl plus the stream name.
    pub url: Option<String>,
}

impl MessageEvent {
    /// Wireshark's one-line summary ("Video Data", "connect('live')", …).
    pub fn summary(&self) -> String {
        match &self.message {
            Ok(m) => m.to_string(),
            Err(_) => rtmpkit_proto::rtmp::message::type_name(self.type_id),
        }
    }

    /// Length of the body after a tag header of `header_len` bytes (the media data length),
    /// counted from the declared length: the payload may hold only the first bytes.
    pub fn body_len(&self, header_len: usize) -> usize {
        (self.length as usize).saturating_sub(header_len)
    }

    /// Writes the summary without allocating for the common media and control types.
    pub fn write_summary(&self, out: &mut impl fmt::Write) -> fmt::Result {
        match self.type_id {
            8 => out.write_str("Audio Data"),
            9 => out.write_str("Video Data"),
            _ => match &self.message {
                Ok(m) => write!(out, "{m}"),
                Err(_) => out.write_str(&rtmpkit_proto::rtmp::message::type_name(self.type_id)),
            },
        }
    }
}

/// How serious a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Worth knowing, not wrong (e.g. the capture starts mid-connection).
    Note,
    /// Unusual or suspicious, decoding goes on.
    Warning,
    /// Wrong: bytes lost, a message that does not decode, a protocol violation.
    Error,
}

impl Severity {
    /// `note`, `warning` or `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// What kind of problem (a stable name for JSON and counting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProblemKind {
    /// TCP bytes missing from the capture.
    Gap,
    /// Bytes skipped while looking for the next chunk header.
    Resync,
    /// The capture starts after the connection's handshake.
    MidStream,
    /// The handshake is malformed, unanswered or not RTMP after all.
    Handshake,
    /// A timestamp went backwards.
    TimestampBackwards,
    /// A timestamp jumped forward.
    TimestampJump,
    /// Audio and video timestamps far apart.
    AvDrift,
    /// A chunk stream's first header is not type 0.
    FirstChunkNotType0,
    /// A header arrived before the previous message of its chunk stream was complete.
    MessageCutShort,
    /// A body whose length does not fit its type, or that does not decode.
    BadMessage,
    /// A message type id RTMP does not define.
    UnknownType,
    /// A Set Chunk Size with an impossible value.
    InvalidChunkSize,
    /// A chunk header beyond the limits (message too large, too many chunk streams).
    ChunkLimit,
    /// Coded media before the sequence header the codec needs.
    NoSequenceHeader,
    /// More bytes unacknowledged than the window allows.
    AckWindow,
    /// A message or chunk still incomplete when the connection ended.
    Incomplete,
    /// The capture file itself (truncated, corrupt records).
    Capture,
}

impl ProblemKind {
    /// A short stable name, e.g. `timestamp-backwards`.
    pub fn as_str(self) -> &'static str {
        match self {
            ProblemKind::Gap => "gap",
            ProblemKind::Resync => "resync",
            ProblemKind::MidStream => "mid-stream",
            ProblemKind::Handshake => "handshake",
            ProblemKind::TimestampBackwards => "timestamp-backwards",
            ProblemKind::TimestampJump => "timestamp-jump",
            ProblemKind::AvDrift => "av-drift",
            ProblemKind::FirstChunkNotType0 => "first-chunk-not-type0",
            ProblemKind::MessageCutShort => "message-cut-short",
            ProblemKind::BadMessage => "bad-message",
            ProblemKind::UnknownType => "unknown-type",
            ProblemKind::InvalidChunkSize => "invalid-chunk-size",
            ProblemKind::ChunkLimit => "chunk-limit",
            ProblemKind::NoSequenceHeader => "no-sequence-header",
            ProblemKind::AckWindow => "ack-window",
            ProblemKind::Incomplete => "incomplete",
            ProblemKind::Capture => "capture",
        }
    }
}

/// A diagnostic: where, what, and a plain-language explanation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Frame where it was noticed.
    pub frame: u64,
    /// Connection and direction, when it belongs to one.
    pub at: Option<ConnRef>,
    /// Kind.
    pub kind: ProblemKind,
    /// Severity.
    pub severity: Severity,
    /// What happened and what it means.
    pub text: String,
}

/// What the analyzer found, in frame order.
#[derive(Debug, Clone)]
pub enum RtmpEvent {
    /// A handshake part completed.
    Handshake(HandshakeEvent),
    /// A message completed.
    Message(Box<MessageEvent>),
    /// A diagnostic.
    Problem(Problem),
}

impl RtmpEvent {
    /// The frame the event belongs to.
    pub fn frame(&self) -> u64 {
        match self {
            RtmpEvent::Handshake(h) => h.frame,
            RtmpEvent::Message(m) => m.frame,
            RtmpEvent::Problem(p) => p.frame,
        }
    }
}
