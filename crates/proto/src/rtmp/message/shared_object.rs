//! Shared object messages (types 19 and 16): a shared object's name, version and flags, then
//! a list of events. [`Message`](super::Message) keeps their payload as bytes; this module
//! reads and writes the event list for those who need it.
//!
//! Layout: name (16-bit length + UTF-8), current version (32 bits), flags (8 bytes, the first
//! four hold the persistence flag), then events of type (1 byte), data length (32 bits), data.

use bytes::{BufMut, Bytes};

use super::error::MessageError;

/// What a shared object event does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SharedObjectEventType {
    /// 1: client starts using a named shared object.
    Use,
    /// 2: client stops using it.
    Release,
    /// 3: client asks to change a property.
    RequestChange,
    /// 4: server notifies that a property changed.
    Change,
    /// 5: server accepts a RequestChange.
    Success,
    /// 6: a message broadcast to all clients of the object.
    SendMessage,
    /// 7: server reports an error condition.
    Status,
    /// 8: server clears the object (sent in reply to Use).
    Clear,
    /// 9: server removes a property.
    Remove,
    /// 10: client asks to remove a property.
    RequestRemove,
    /// 11: server confirms a Use.
    UseSuccess,
    /// Any other value, kept.
    Unknown(u8),
}

impl SharedObjectEventType {
    /// The type for a wire byte.
    pub fn from_u8(v: u8) -> SharedObjectEventType {
        use SharedObjectEventType as E;
        match v {
            1 => E::Use,
            2 => E::Release,
            3 => E::RequestChange,
            4 => E::Change,
            5 => E::Success,
            6 => E::SendMessage,
            7 => E::Status,
            8 => E::Clear,
            9 => E::Remove,
            10 => E::RequestRemove,
            11 => E::UseSuccess,
            other => E::Unknown(other),
        }
    }

    /// The wire byte.
    pub fn to_u8(self) -> u8 {
        use SharedObjectEventType as E;
        match self {
            E::Use => 1,
            E::Release => 2,
            E::RequestChange => 3,
            E::Change => 4,
            E::Success => 5,
            E::SendMessage => 6,
            E::Status => 7,
            E::Clear => 8,
            E::Remove => 9,
            E::RequestRemove => 10,
            E::UseSuccess => 11,
            E::Unknown(v) => v,
        }
    }
}

/// One event of a shared object message; its data is kept as bytes (property names and AMF
/// values, depending on the event type).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedObjectEvent {
    pub event_type: SharedObjectEventType,
    pub data: Bytes,
}

/// A decoded shared object message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedObjectMessage {
    pub name: String,
    pub version: u32,
    pub flags: [u8; 8],
    pub events: Vec<SharedObjectEvent>,
}

impl SharedObjectMessage {
    /// Whether the persistence flag (the first four flag bytes, 2 when persistent) is set.
    pub fn is_persistent(&self) -> bool {
        self.flags[..4] == [0, 0, 0, 2]
    }

    /// Decodes a shared object payload.
    pub fn decode(payload: &Bytes) -> Result<SharedObjectMessage, MessageError> {
        let mut r = Reader { payload, pos: 0 };
        let name_len = usize::from(u16::from_be_bytes(r.array("name length")?));
        let name_at = r.pos;
        let name = std::str::from_utf8(r.take("name", name_len)?)
            .map_err(|_| MessageError::SharedObjectName { offset: name_at })?
            .to_owned();
        let version = u32::from_be_bytes(r.array("version")?);
        let flags = r.array("flags")?;
        let mut events = Vec::new();
        while r.pos < payload.len() {
            let [event_type] = r.array("event type")?;
            let len = u32::from_be_bytes(r.array("event data length")?) as usize;
            let start = r.pos;
            r.take("event data", len)?;
            events.push(SharedObjectEvent {
                event_type: SharedObjectEventType::from_u8(event_type),
                data: payload.slice(start..r.pos),
            });
        }
        Ok(SharedObjectMessage {
            name,
            version,
            flags,
            events,
        })
    }

    /// Appends the payload. A name longer than 65535 bytes is cut (on a character boundary) to fit
    /// the length field.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let mut end = self.name.len().min(usize::from(u16::MAX));
        while !self.name.is_char_boundary(end) {
            end -= 1;
        }
        let name = self.name.get(..end).unwrap_or_default();
        out.put_u16(name.len() as u16);
        out.extend_from_slice(name.as_bytes());
        out.put_u32(self.version);
        out.extend_from_slice(&self.flags);
        for e in &self.events {
            out.put_u8(e.event_type.to_u8());
            out.put_u32(u32::try_from(e.data.len()).unwrap_or(u32::MAX));
            out.extend_from_slice(&e.data);
        }
    }
}

struct Reader<'a> {
    payload: &'a Bytes,
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, field: &'static str, n: usize) -> Result<&'a [u8], MessageError> {
        let available = self.payload.len() - self.pos;
        let bytes = self
            .payload
            .get(self.pos..)
            .and_then(|rest| rest.get(..n))
            .ok_or(MessageError::SharedObjectTruncated {
                field,
                offset: self.pos,
                needed: n,
                available,
            })?;
        self.pos += n;
        Ok(bytes)
    }

    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], MessageError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(field, N)?);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_with_events() {
        let mut payload = Vec::new();
        payload.extend_from_slice(&[0, 4]);
        payload.extend_from_slice(b"chat");
        payload.extend_from_slice(&[0, 0, 0, 7]);
        payload.extend_from_slice(&[0, 0, 0, 2, 0, 0, 0, 0]);
        payload.extend_from_slice(&[1, 0, 0, 0, 0]); // Use
        payload.extend_from_slice(&[4, 0, 0, 0, 3, 0, 1, b'x']); // Change
        payload.extend_from_slice(&[42, 0, 0, 0, 0]); // unknown type
        let bytes = Bytes::from(payload.clone());
        let so = SharedObjectMessage::decode(&bytes).expect("decodes");
        assert_eq!(so.name, "chat");
        assert_eq!(so.version, 7);
        assert!(so.is_persistent());
        assert_eq!(so.events.len(), 3);
        assert_eq!(so.events[0].event_type, SharedObjectEventType::Use);
        assert_eq!(so.events[1].event_type, SharedObjectEventType::Change);
        assert_eq!(&so.events[1].data[..], &[0, 1, b'x']);
        assert_eq!(so.events[2].event_type, SharedObjectEventType::Unknown(42));
        let mut out = Vec::new();
        so.encode(&mut out);
        assert_eq!(out, payload);
        for v in 0..=255u8 {
            assert_eq!(SharedObjectEventType::from_u8(v).to_u8(), v);
        }
    }

    #[test]
    fn errors() {
        let e = SharedObjectMessage::decode(&Bytes::from_static(&[0])).unwrap_err();
        assert_eq!(
            e,
            MessageError::SharedObjectTruncated {
                field: "name length",
                offset: 0,
                needed: 2,
                available: 1
            }
        );
        let e = SharedObjectMessage::decode(&Bytes::from_static(&[0, 1, 0xff])).unwrap_err();
        assert_eq!(e, MessageError::SharedObjectName { offset: 2 });
        let mut p = vec![0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0];
        p.extend_from_slice(&[4, 0xff, 0xff, 0xff, 0xff, 1]);
        let e = SharedObjectMessage::decode(&Bytes::from(p)).unwrap_err();
        assert_eq!(
            e,
            MessageError::SharedObjectTruncated {
                field: "event data",
                offset: 19,
                needed: 0xffff_ffff,
                available: 1
            }
        );
    }
}
