//! Typed RTMP messages, independent of chunking.
//!
//! A message on the wire is a type id and a payload; its timestamp, message stream id and
//! chunk stream id travel beside it (in the chunk layer's raw message). [`Message::decode`]
//! turns `(type_id, payload)` into a [`Message`] and [`Message::encode`] turns it back, byte
//! for byte for everything decoded.
//!
//! | type | variant |
//! |---|---|
//! | 1, 2, 3, 5, 6 | protocol control: [`Message::SetChunkSize`], [`Message::Abort`], [`Message::Acknowledgement`], [`Message::WindowAckSize`], [`Message::SetPeerBandwidth`] |
//! | 4 | [`Message::UserControl`] ([`UserControlEvent`]) |
//! | 8, 9 | [`Message::Audio`], [`Message::Video`]: payload bytes, parsed by the FLV module |
//! | 20, 17 | [`Message::Command`], [`Message::CommandAmf3`] ([`Command`], typed by [`CommandKind`]) |
//! | 18, 15 | [`Message::Data`], [`Message::DataAmf3`] ([`DataMessage`]) |
//! | 19, 16 | [`Message::SharedObject`], [`Message::SharedObjectAmf3`]: bytes ([`SharedObjectMessage`] reads them) |
//! | 22 | [`Message::Aggregate`] ([`Aggregate`]) |
//! | other | [`Message::Unknown`] |

mod aggregate;
mod command;
mod command_kind;
mod connect;
mod constructors;
mod control;
mod data;
mod error;
mod shared_object;
pub mod status;
mod user_control;

#[cfg(test)]
mod message_tests;
#[cfg(test)]
mod seed_tests;

use std::fmt;

use bytes::{BufMut, Bytes};

use crate::amf::Limits;

pub use aggregate::{Aggregate, AggregatePart, AggregatedMessage};
pub use command::Command;
pub use command_kind::{CommandKind, Play, PublishType, Response, Status, name as command_name};
pub use connect::{
    Connect, ConnectParams, FFMPEG_AUDIO_CODECS, FFMPEG_CAPABILITIES, FFMPEG_VIDEO_CODECS,
    VIDEO_FUNCTION_SEEK,
};
pub use control::{LimitType, MAX_CHUNK_SIZE};
pub use data::{CLEAR_DATA_FRAME, DataKind, DataMessage, ON_META_DATA, SET_DATA_FRAME};
pub use error::MessageError;
pub use shared_object::{SharedObjectEvent, SharedObjectEventType, SharedObjectMessage};
pub use status::StatusInfo;
pub use user_control::{UserControlEvent, event_type as user_control_event_type};

/// Message type ids.
pub mod type_id {
    pub const SET_CHUNK_SIZE: u8 = 1;
    pub const ABORT: u8 = 2;
    pub const ACKNOWLEDGEMENT: u8 = 3;
    pub const USER_CONTROL: u8 = 4;
    pub const WINDOW_ACK_SIZE: u8 = 5;
    pub const SET_PEER_BANDWIDTH: u8 = 6;
    pub const AUDIO: u8 = 8;
    pub const VIDEO: u8 = 9;
    pub const DATA_AMF3: u8 = 15;
    pub const SHARED_OBJECT_AMF3: u8 = 16;
    pub const COMMAND_AMF3: u8 = 17;
    pub const DATA_AMF0: u8 = 18;
    pub const SHARED_OBJECT_AMF0: u8 = 19;
    pub const COMMAND_AMF0: u8 = 20;
    pub const AGGREGATE: u8 = 22;
}

/// The byte that starts the payload of AMF3 command and data messages (types 17 and 15):
/// the values that follow are AMF0, with AMF3 values behind AVM+ switches.
pub const AMF3_FORMAT_SELECTOR: u8 = 0;

/// One RTMP message.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// 1: the sender's new maximum chunk size (1 to 0x7FFFFFFF).
    SetChunkSize(u32),
    /// 2: discard the partly received message on this chunk stream.
    Abort { chunk_stream_id: u32 },
    /// 3: bytes received so far (sequence number).
    Acknowledgement { sequence_number: u32 },
    /// 4
    UserControl(UserControlEvent),
    /// 5: how many bytes the sender may receive before it must acknowledge.
    WindowAckSize(u32),
    /// 6: limit the peer's output bandwidth.
    SetPeerBandwidth {
        window_size: u32,
        limit_type: LimitType,
    },
    /// 8: FLV audio tag body.
    Audio(Bytes),
    /// 9: FLV video tag body.
    Video(Bytes),
    /// 15: data message with the AMF3 format selector.
    DataAmf3(DataMessage),
    /// 16: shared object message (AMF3), as bytes.
    SharedObjectAmf3(Bytes),
    /// 17: command message with the AMF3 format selector.
    CommandAmf3(Command),
    /// 18: data message.
    Data(DataMessage),
    /// 19: shared object message (AMF0), as bytes.
    SharedObject(Bytes),
    /// 20: command message.
    Command(Command),
    /// 22: several messages in one.
    Aggregate(Aggregate),
    /// Any other type, kept as it came.
    Unknown { type_id: u8, payload: Bytes },
}

impl Message {
    /// Decodes the payload of a message of type `type_id`.
    pub fn decode(type_id: u8, payload: Bytes) -> Result<Message, MessageError> {
        Self::decode_with_limits(type_id, payload, Limits::default())
    }

    /// [`Message::decode`] with explicit limits for AMF bodies.
    pub fn decode_with_limits(
        type_id: u8,
        payload: Bytes,
        limits: Limits,
    ) -> Result<Message, MessageError> {
        use self::type_id as t;
        let p = &payload[..];
        Ok(match type_id {
            t::SET_CHUNK_SIZE => Message::SetChunkSize(control::decode_chunk_size(p)?),
            t::ABORT => Message::Abort {
                chunk_stream_id: error::exact_u32("Abort Message", p)?,
            },
            t::ACKNOWLEDGEMENT => Message::Acknowledgement {
                sequence_number: error::exact_u32("Acknowledgement", p)?,
            },
            t::USER_CONTROL => Message::UserControl(UserControlEvent::decode(&payload)?),
            t::WINDOW_ACK_SIZE => {
                Message::WindowAckSize(error::exact_u32("Window Acknowledgement Size", p)?)
            }
            t::SET_PEER_BANDWIDTH => {
                let (window_size, limit_type) = control::decode_peer_bandwidth(p)?;
                Message::SetPeerBandwidth {
                    window_size,
                    limit_type,
                }
            }
            t::AUDIO => Message::Audio(payload),
            t::VIDEO => Message::Video(payload),
            t::DATA_AMF0 => Message::Data(decode_data("AMF0 Data", p, 0, limits)?),
            t::DATA_AMF3 => {
                let body = amf3_body("AMF3 Data", p)?;
                Message::DataAmf3(decode_data("AMF3 Data", body, 1, limits)?)
            }
            t::COMMAND_AMF0 => Message::Command(decode_command("AMF0 Command", p, 0, limits)?),
            t::COMMAND_AMF3 => {
                let body = amf3_body("AMF3 Command", p)?;
                Message::CommandAmf3(decode_command("AMF3 Command", body, 1, limits)?)
            }
            t::SHARED_OBJECT_AMF0 => Message::SharedObject(payload),
            t::SHARED_OBJECT_AMF3 => Message::SharedObjectAmf3(payload),
            t::AGGREGATE => Message::Aggregate(Aggregate::decode(&payload)?),
            other => Message::Unknown {
                type_id: other,
                payload,
            },
        })
    }

    /// The type id and payload. Audio, video, shared object and unknown payloads are shared,
    /// not copied.
    pub fn encode(&self) -> (u8, Bytes) {
        let payload = match self {
            Message::Audio(b)
            | Message::Video(b)
            | Message::SharedObject(b)
            | Message::SharedObjectAmf3(b)
            | Message::Unknown { payload: b, .. } => b.clone(),
            _ => {
                let mut out = Vec::new();
                self.encode_payload(&mut out);
                Bytes::from(out)
            }
        };
        (self.type_id(), payload)
    }

    /// Appends the payload to `out`.
    pub fn encode_payload(&self, out: &mut Vec<u8>) {
        match self {
            Message::SetChunkSize(v)
            | Message::Abort { chunk_stream_id: v }
            | Message::Acknowledgement { sequence_number: v }
            | Message::WindowAckSize(v) => out.put_u32(*v),
            Message::UserControl(ev) => ev.encode(out),
            Message::SetPeerBandwidth {
                window_size,
                limit_type,
            } => {
                out.put_u32(*window_size);
                out.put_u8(limit_type.to_u8());
            }
            Message::Audio(b)
            | Message::Video(b)
            | Message::SharedObject(b)
            | Message::SharedObjectAmf3(b)
            | Message::Unknown { payload: b, .. } => out.extend_from_slice(b),
            Message::Data(d) => d.encode(out),
            Message::DataAmf3(d) => {
                out.put_u8(AMF3_FORMAT_SELECTOR);
                d.encode(out);
            }
            Message::Command(c) => c.encode(out),
            Message::CommandAmf3(c) => {
                out.put_u8(AMF3_FORMAT_SELECTOR);
                c.encode(out);
            }
            Message::Aggregate(a) => a.encode(out),
        }
    }

    /// The message type id.
    pub fn type_id(&self) -> u8 {
        use self::type_id as t;
        match self {
            Message::SetChunkSize(_) => t::SET_CHUNK_SIZE,
            Message::Abort { .. } => t::ABORT,
            Message::Acknowledgement { .. } => t::ACKNOWLEDGEMENT,
            Message::UserControl(_) => t::USER_CONTROL,
            Message::WindowAckSize(_) => t::WINDOW_ACK_SIZE,
            Message::SetPeerBandwidth { .. } => t::SET_PEER_BANDWIDTH,
            Message::Audio(_) => t::AUDIO,
            Message::Video(_) => t::VIDEO,
            Message::DataAmf3(_) => t::DATA_AMF3,
            Message::SharedObjectAmf3(_) => t::SHARED_OBJECT_AMF3,
            Message::CommandAmf3(_) => t::COMMAND_AMF3,
            Message::Data(_) => t::DATA_AMF0,
            Message::SharedObject(_) => t::SHARED_OBJECT_AMF0,
            Message::Command(_) => t::COMMAND_AMF0,
            Message::Aggregate(_) => t::AGGREGATE,
            Message::Unknown { type_id, .. } => *type_id,
        }
    }

    /// The command of a type 20 or 17 message.
    pub fn as_command(&self) -> Option<&Command> {
        match self {
            Message::Command(c) | Message::CommandAmf3(c) => Some(c),
            _ => None,
        }
    }

    /// The data message of a type 18 or 15 message.
    pub fn as_data(&self) -> Option<&DataMessage> {
        match self {
            Message::Data(d) | Message::DataAmf3(d) => Some(d),
            _ => None,
        }
    }

    /// A one-line summary in Wireshark's notation, e.g. "Set Peer Bandwidth 5000000,Dynamic",
    /// "connect('live')", "User Control Message Stream Begin 1", "Video Data". Same as
    /// `to_string()`.
    pub fn name(&self) -> String {
        self.to_string()
    }
}

/// What Wireshark calls a message type, e.g. "AMF0 Command" or "Unknown (0x07)".
pub fn type_name(type_id: u8) -> String {
    use self::type_id as t;
    let known = match type_id {
        t::SET_CHUNK_SIZE => "Set Chunk Size",
        t::ABORT => "Abort Message",
        t::ACKNOWLEDGEMENT => "Acknowledgement",
        t::USER_CONTROL => "User Control Message",
        t::WINDOW_ACK_SIZE => "Window Acknowledgement Size",
        t::SET_PEER_BANDWIDTH => "Set Peer Bandwidth",
        t::AUDIO => "Audio Data",
        t::VIDEO => "Video Data",
        t::DATA_AMF3 => "AMF3 Data",
        t::SHARED_OBJECT_AMF3 => "AMF3 Shared Object",
        t::COMMAND_AMF3 => "AMF3 Command",
        t::DATA_AMF0 => "AMF0 Data",
        t::SHARED_OBJECT_AMF0 => "AMF0 Shared Object",
        t::COMMAND_AMF0 => "AMF0 Command",
        t::AGGREGATE => "Aggregate",
        other => return format!("Unknown (0x{other:02x})"),
    };
    known.to_owned()
}

/// Wireshark's summary notation (see [`Message::name`]).
impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = type_name(self.type_id());
        match self {
            Message::SetChunkSize(v)
            | Message::Abort { chunk_stream_id: v }
            | Message::Acknowledgement { sequence_number: v }
            | Message::WindowAckSize(v) => write!(f, "{kind} {v}"),
            Message::SetPeerBandwidth {
                window_size,
                limit_type,
            } => write!(f, "{kind} {window_size},{limit_type}"),
            Message::UserControl(ev) => write!(f, "{ev}"),
            Message::Command(c) | Message::CommandAmf3(c) => {
                let summary = command::summarize(c.values(), true);
                f.write_str(summary.as_deref().unwrap_or(&kind))
            }
            Message::Data(d) | Message::DataAmf3(d) => {
                let summary = command::summarize(d.values(), false);
                f.write_str(summary.as_deref().unwrap_or(&kind))
            }
            _ => f.write_str(&kind),
        }
    }
}

/// The body of an AMF3 command or data message: the bytes after the format selector.
fn amf3_body<'a>(message: &'static str, payload: &'a [u8]) -> Result<&'a [u8], MessageError> {
    match payload.split_first() {
        Some((&AMF3_FORMAT_SELECTOR, body)) => Ok(body),
        Some((&found, _)) => Err(MessageError::FormatSelector { message, found }),
        None => Err(MessageError::TooShort {
            message,
            min: 1,
            actual: 0,
        }),
    }
}

fn decode_command(
    message: &'static str,
    body: &[u8],
    base: usize,
    limits: Limits,
) -> Result<Command, MessageError> {
    let values = command::decode_body(message, body, base, limits)?;
    if values.is_empty() {
        return Err(MessageError::NoValues { message });
    }
    Command::from_values(values)
}

fn decode_data(
    message: &'static str,
    body: &[u8],
    base: usize,
    limits: Limits,
) -> Result<DataMessage, MessageError> {
    let values = command::decode_body(message, body, base, limits)?;
    if values.is_empty() {
        return Err(MessageError::NoValues { message });
    }
    DataMessage::from_values(values)
}
