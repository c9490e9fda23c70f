//! User Control messages (type 4): a 16-bit event type followed by event data.

use std::fmt;

use bytes::{BufMut, Bytes};

use super::error::{MessageError, exact};

/// User Control event type numbers.
pub mod event_type {
    pub const STREAM_BEGIN: u16 = 0;
    pub const STREAM_EOF: u16 = 1;
    pub const STREAM_DRY: u16 = 2;
    pub const SET_BUFFER_LENGTH: u16 = 3;
    pub const STREAM_IS_RECORDED: u16 = 4;
    pub const PING_REQUEST: u16 = 6;
    pub const PING_RESPONSE: u16 = 7;
    pub const SWF_VERIFICATION_REQUEST: u16 = 26;
    pub const SWF_VERIFICATION_RESPONSE: u16 = 27;
    pub const BUFFER_EMPTY: u16 = 31;
    pub const BUFFER_READY: u16 = 32;
}

/// One User Control event.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum UserControlEvent {
    /// 0: the stream has become functional (sent before media on a stream).
    StreamBegin { stream_id: u32 },
    /// 1: playback of the stream is over.
    StreamEof { stream_id: u32 },
    /// 2: the stream has no more data for now.
    StreamDry { stream_id: u32 },
    /// 3: the client's buffer length for a stream, in milliseconds.
    SetBufferLength { stream_id: u32, buffer_ms: u32 },
    /// 4: the stream is a recorded one.
    StreamIsRecorded { stream_id: u32 },
    /// 6: the server checks the client is alive; `timestamp` is the server's clock.
    PingRequest { timestamp: u32 },
    /// 7: answer to a ping request, echoing its timestamp.
    PingResponse { timestamp: u32 },
    /// 26: the server asks for the SWF verification response (no event data).
    SwfVerificationRequest,
    /// 27: the client's SWF verification (usually 42 bytes: 0x01 0x01, the SWF's size twice,
    /// then an HMAC-SHA256), kept as bytes.
    SwfVerificationResponse { data: Bytes },
    /// 31: the server's buffer for the stream ran empty.
    BufferEmpty { stream_id: u32 },
    /// 32: the server's buffer for the stream is full again.
    BufferReady { stream_id: u32 },
    /// Any other event type, with its data as sent.
    Unknown { event_type: u16, data: Bytes },
}

impl UserControlEvent {
    /// Decodes the payload of a User Control message.
    pub fn decode(payload: &Bytes) -> Result<UserControlEvent, MessageError> {
        let Some((head, _)) = payload.split_first_chunk::<2>() else {
            return Err(MessageError::TooShort {
                message: "User Control Message",
                min: 2,
                actual: payload.len(),
            });
        };
        let kind = u16::from_be_bytes(*head);
        let data = payload.slice(2..);
        let u32_of = |name: &'static str| exact::<4>(name, &data).map(u32::from_be_bytes);
        use event_type as t;
        Ok(match kind {
            t::STREAM_BEGIN => UserControlEvent::StreamBegin {
                stream_id: u32_of("Stream Begin")?,
            },
            t::STREAM_EOF => UserControlEvent::StreamEof {
                stream_id: u32_of("Stream EOF")?,
            },
            t::STREAM_DRY => UserControlEvent::StreamDry {
                stream_id: u32_of("Stream Dry")?,
            },
            t::SET_BUFFER_LENGTH => {
                let [a, b, c, d, e, f, g, h] = exact::<8>("Set Buffer Length", &data)?;
                UserControlEvent::SetBufferLength {
                    stream_id: u32::from_be_bytes([a, b, c, d]),
                    buffer_ms: u32::from_be_bytes([e, f, g, h]),
                }
            }
            t::STREAM_IS_RECORDED => UserControlEvent::StreamIsRecorded {
                stream_id: u32_of("Stream Is Recorded")?,
            },
            t::PING_REQUEST => UserControlEvent::PingRequest {
                timestamp: u32_of("Ping Request")?,
            },
            t::PING_RESPONSE => UserControlEvent::PingResponse {
                timestamp: u32_of("Ping Response")?,
            },
            t::SWF_VERIFICATION_REQUEST => {
                exact::<0>("SWF Verification Request", &data)?;
                UserControlEvent::SwfVerificationRequest
            }
            t::SWF_VERIFICATION_RESPONSE => UserControlEvent::SwfVerificationResponse { data },
            t::BUFFER_EMPTY => UserControlEvent::BufferEmpty {
                stream_id: u32_of("Buffer Empty")?,
            },
            t::BUFFER_READY => UserControlEvent::BufferReady {
                stream_id: u32_of("Buffer Ready")?,
            },
            other => UserControlEvent::Unknown {
                event_type: other,
                data,
            },
        })
    }

    /// Appends the payload of a User Control message carrying this event.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.put_u16(self.event_type());
        match self {
            UserControlEvent::StreamBegin { stream_id }
            | UserControlEvent::StreamEof { stream_id }
            | UserControlEvent::StreamDry { stream_id }
            | UserControlEvent::StreamIsRecorded { stream_id }
            | UserControlEvent::BufferEmpty { stream_id }
            | UserControlEvent::BufferReady { stream_id } => out.put_u32(*stream_id),
            UserControlEvent::SetBufferLength {
                stream_id,
                buffer_ms,
            } => {
                out.put_u32(*stream_id);
                out.put_u32(*buffer_ms);
            }
            UserControlEvent::PingRequest { timestamp }
            | UserControlEvent::PingResponse { timestamp } => out.put_u32(*timestamp),
            UserControlEvent::SwfVerificationRequest => {}
            UserControlEvent::SwfVerificationResponse { data }
            | UserControlEvent::Unknown { data, .. } => out.extend_from_slice(data),
        }
    }

    /// The 16-bit event type.
    pub fn event_type(&self) -> u16 {
        use event_type as t;
        match self {
            UserControlEvent::StreamBegin { .. } => t::STREAM_BEGIN,
            UserControlEvent::StreamEof { .. } => t::STREAM_EOF,
            UserControlEvent::StreamDry { .. } => t::STREAM_DRY,
            UserControlEvent::SetBufferLength { .. } => t::SET_BUFFER_LENGTH,
            UserControlEvent::StreamIsRecorded { .. } => t::STREAM_IS_RECORDED,
            UserControlEvent::PingRequest { .. } => t::PING_REQUEST,
            UserControlEvent::PingResponse { .. } => t::PING_RESPONSE,
            UserControlEvent::SwfVerificationRequest => t::SWF_VERIFICATION_REQUEST,
            UserControlEvent::SwfVerificationResponse { .. } => t::SWF_VERIFICATION_RESPONSE,
            UserControlEvent::BufferEmpty { .. } => t::BUFFER_EMPTY,
            UserControlEvent::BufferReady { .. } => t::BUFFER_READY,
            UserControlEvent::Unknown { event_type, .. } => *event_type,
        }
    }

    /// The event's name, e.g. "Stream Begin".
    pub fn event_name(&self) -> &'static str {
        match self {
            UserControlEvent::StreamBegin { .. } => "Stream Begin",
            UserControlEvent::StreamEof { .. } => "Stream EOF",
            UserControlEvent::StreamDry { .. } => "Stream Dry",
            UserControlEvent::SetBufferLength { .. } => "Set Buffer Length",
            UserControlEvent::StreamIsRecorded { .. } => "Stream Is Recorded",
            UserControlEvent::PingRequest { .. } => "Ping Request",
            UserControlEvent::PingResponse { .. } => "Ping Response",
            UserControlEvent::SwfVerificationRequest => "SWF Verification Request",
            UserControlEvent::SwfVerificationResponse { .. } => "SWF Verification Response",
            UserControlEvent::BufferEmpty { .. } => "Buffer Empty",
            UserControlEvent::BufferReady { .. } => "Buffer Ready",
            UserControlEvent::Unknown { .. } => "Unknown",
        }
    }

    /// The stream the event is about, for the events that name one.
    pub fn stream_id(&self) -> Option<u32> {
        match self {
            UserControlEvent::StreamBegin { stream_id }
            | UserControlEvent::StreamEof { stream_id }
            | UserControlEvent::StreamDry { stream_id }
            | UserControlEvent::SetBufferLength { stream_id, .. }
            | UserControlEvent::StreamIsRecorded { stream_id }
            | UserControlEvent::BufferEmpty { stream_id }
            | UserControlEvent::BufferReady { stream_id } => Some(*stream_id),
            _ => None,
        }
    }
}

/// Wireshark's summary form: "User Control Message Set Buffer Length 1,13000ms".
impl fmt::Display for UserControlEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UserControlEvent::SetBufferLength {
                stream_id,
                buffer_ms,
            } => write!(
                f,
                "User Control Message Set Buffer Length {stream_id},{buffer_ms}ms"
            ),
            UserControlEvent::PingRequest { timestamp }
            | UserControlEvent::PingResponse { timestamp } => {
                write!(f, "User Control Message {} {timestamp}", self.event_name())
            }
            UserControlEvent::Unknown { event_type, .. } => {
                write!(f, "User Control Message 0x{event_type:x}")
            }
            other => match other.stream_id() {
                Some(id) => write!(f, "User Control Message {} {id}", other.event_name()),
                None => write!(f, "User Control Message {}", other.event_name()),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(bytes: &[u8]) -> UserControlEvent {
        let ev = UserControlEvent::decode(&Bytes::copy_from_slice(bytes)).expect("decodes");
        let mut out = Vec::new();
        ev.encode(&mut out);
        assert_eq!(out, bytes);
        ev
    }

    /// Seed 001: ffplay's Set Buffer Length (stream 1, 13000 ms) and the server's Stream Begin 1.
    #[test]
    fn seed_001_events() {
        let ev = roundtrip(&[0, 3, 0, 0, 0, 1, 0, 0, 0x32, 0xc8]);
        assert_eq!(
            ev,
            UserControlEvent::SetBufferLength {
                stream_id: 1,
                buffer_ms: 13000
            }
        );
        assert_eq!(
            ev.to_string(),
            "User Control Message Set Buffer Length 1,13000ms"
        );
        let ev = roundtrip(&[0, 0, 0, 0, 0, 1]);
        assert_eq!(ev, UserControlEvent::StreamBegin { stream_id: 1 });
        assert_eq!(ev.to_string(), "User Control Message Stream Begin 1");
    }

    #[test]
    fn every_known_event_roundtrips() {
        let cases: &[(&[u8], UserControlEvent, &str)] = &[
            (
                &[0, 1, 0, 0, 0, 5],
                UserControlEvent::StreamEof { stream_id: 5 },
                "User Control Message Stream EOF 5",
            ),
            (
                &[0, 2, 0, 0, 0, 5],
                UserControlEvent::StreamDry { stream_id: 5 },
                "User Control Message Stream Dry 5",
            ),
            (
                &[0, 4, 0, 0, 0, 5],
                UserControlEvent::StreamIsRecorded { stream_id: 5 },
                "User Control Message Stream Is Recorded 5",
            ),
            (
                &[0, 6, 0, 1, 0, 0],
                UserControlEvent::PingRequest { timestamp: 65536 },
                "User Control Message Ping Request 65536",
            ),
            (
                &[0, 7, 0, 1, 0, 0],
                UserControlEvent::PingResponse { timestamp: 65536 },
                "User Control Message Ping Response 65536",
            ),
            (
                &[0, 26],
                UserControlEvent::SwfVerificationRequest,
                "User Control Message SWF Verification Request",
            ),
            (
                &[0, 27, 1, 1, 0, 0],
                UserControlEvent::SwfVerificationResponse {
                    data: Bytes::from_static(&[1, 1, 0, 0]),
                },
                "User Control Message SWF Verification Response",
            ),
            (
                &[0, 31, 0, 0, 0, 1],
                UserControlEvent::BufferEmpty { stream_id: 1 },
                "User Control Message Buffer Empty 1",
            ),
            (
                &[0, 32, 0, 0, 0, 1],
                UserControlEvent::BufferReady { stream_id: 1 },
                "User Control Message Buffer Ready 1",
            ),
            (
                &[0x12, 0x34, 9],
                UserControlEvent::Unknown {
                    event_type: 0x1234,
                    data: Bytes::from_static(&[9]),
                },
                "User Control Message 0x1234",
            ),
        ];
        for (bytes, want, name) in cases {
            let got = roundtrip(bytes);
            assert_eq!(&got, want);
            assert_eq!(got.to_string(), *name);
        }
    }

    #[test]
    fn wrong_lengths_are_errors() {
        let err = |b: &'static [u8]| UserControlEvent::decode(&Bytes::from_static(b)).unwrap_err();
        assert_eq!(
            err(&[0]),
            MessageError::TooShort {
                message: "User Control Message",
                min: 2,
                actual: 1
            }
        );
        assert_eq!(
            err(&[0, 0, 0, 0, 1]),
            MessageError::Length {
                message: "Stream Begin",
                expected: 4,
                actual: 3
            }
        );
        assert_eq!(
            err(&[0, 3, 0, 0, 0, 1, 0, 0, 0x32]),
            MessageError::Length {
                message: "Set Buffer Length",
                expected: 8,
                actual: 7
            }
        );
        assert_eq!(
            err(&[0, 6, 0, 0, 0, 1, 2]),
            MessageError::Length {
                message: "Ping Request",
                expected: 4,
                actual: 5
            }
        );
        assert_eq!(
            err(&[0, 26, 0]),
            MessageError::Length {
                message: "SWF Verification Request",
                expected: 0,
                actual: 1
            }
        );
    }
}
