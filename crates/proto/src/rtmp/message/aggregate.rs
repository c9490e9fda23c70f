//! Aggregate messages (type 22): several sub-messages, each with an FLV-tag-like header
//! and followed by a back-pointer.
//!
//! Sub-message layout: type (1 byte), body size (3), timestamp (3, low bits), timestamp
//! extension (1, high bits), stream id (3), body, back-pointer (4, usually body size + 11).

use bytes::{BufMut, Bytes};

use super::error::MessageError;

/// Size of a sub-message header.
pub const SUB_HEADER_LEN: usize = 11;
/// Size of the back-pointer after each sub-message body.
pub const BACK_POINTER_LEN: usize = 4;

/// One sub-message as written in the aggregate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AggregatePart {
    pub type_id: u8,
    /// The timestamp in the sub-header (32 bits: extension byte on top of 24 bits). It is on
    /// the sender's own clock; [`Aggregate::messages`] rebases it.
    pub timestamp: u32,
    /// The 24-bit stream id of the sub-header (usually 0; the aggregate's own message stream
    /// id is the one that counts).
    pub stream_id: u32,
    pub payload: Bytes,
    /// The 32-bit size written after the body, kept as sent.
    pub back_pointer: u32,
}

/// A sub-message with its timestamp on the aggregate's clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AggregatedMessage {
    pub type_id: u8,
    pub timestamp: u32,
    pub payload: Bytes,
}

/// The sub-messages of an aggregate, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Aggregate {
    pub parts: Vec<AggregatePart>,
}

impl Aggregate {
    /// An aggregate of `(type_id, timestamp, payload)` messages, with stream id 0 and
    /// back-pointers of body size + 11.
    pub fn from_messages(messages: impl IntoIterator<Item = (u8, u32, Bytes)>) -> Aggregate {
        let parts = messages
            .into_iter()
            .map(|(type_id, timestamp, payload)| AggregatePart {
                type_id,
                timestamp,
                stream_id: 0,
                back_pointer: u32::try_from(payload.len() + SUB_HEADER_LEN).unwrap_or(u32::MAX),
                payload,
            })
            .collect();
        Aggregate { parts }
    }

    /// Splits an aggregate payload into its parts (sharing the payload's memory).
    pub fn decode(payload: &Bytes) -> Result<Aggregate, MessageError> {
        let mut parts = Vec::new();
        let mut pos = 0;
        while pos < payload.len() {
            let available = payload.len() - pos;
            let truncated = |needed| MessageError::AggregateTruncated {
                offset: pos,
                needed,
                available,
            };
            let header = payload
                .get(pos..pos + SUB_HEADER_LEN)
                .ok_or(truncated(SUB_HEADER_LEN))?;
            let [type_id, s0, s1, s2, t0, t1, t2, ext, i0, i1, i2] =
                <[u8; SUB_HEADER_LEN]>::try_from(header).map_err(|_| truncated(SUB_HEADER_LEN))?;
            let size = u32::from_be_bytes([0, s0, s1, s2]) as usize;
            let needed = SUB_HEADER_LEN + size + BACK_POINTER_LEN;
            if needed > available {
                return Err(truncated(needed));
            }
            let body_start = pos + SUB_HEADER_LEN;
            let body_end = body_start + size;
            let mut back = [0u8; BACK_POINTER_LEN];
            back.copy_from_slice(
                payload
                    .get(body_end..body_end + BACK_POINTER_LEN)
                    .ok_or(truncated(needed))?,
            );
            parts.push(AggregatePart {
                type_id,
                timestamp: u32::from_be_bytes([ext, t0, t1, t2]),
                stream_id: u32::from_be_bytes([0, i0, i1, i2]),
                payload: payload.slice(body_start..body_end),
                back_pointer: u32::from_be_bytes(back),
            });
            pos += needed;
        }
        Ok(Aggregate { parts })
    }

    /// Appends the aggregate payload. A body longer than 2^24 - 1 bytes or a stream id
    /// above 2^24 - 1 cannot be written; their size and id are cut to 24 bits.
    pub fn encode(&self, out: &mut Vec<u8>) {
        for p in &self.parts {
            let size = u32::try_from(p.payload.len()).unwrap_or(u32::MAX);
            out.put_u8(p.type_id);
            out.put_uint(u64::from(size & 0x00FF_FFFF), 3);
            out.put_uint(u64::from(p.timestamp & 0x00FF_FFFF), 3);
            out.put_u8((p.timestamp >> 24) as u8);
            out.put_uint(u64::from(p.stream_id & 0x00FF_FFFF), 3);
            out.extend_from_slice(&p.payload);
            out.put_u32(p.back_pointer);
        }
    }

    /// The sub-messages with timestamps rebased so that the first one has
    /// `aggregate_timestamp` (the aggregate message's own timestamp) and the others keep
    /// their distance to it. Arithmetic wraps like RTMP timestamps.
    pub fn messages(
        &self,
        aggregate_timestamp: u32,
    ) -> impl Iterator<Item = AggregatedMessage> + '_ {
        let first = self.parts.first().map_or(0, |p| p.timestamp);
        self.parts.iter().map(move |p| AggregatedMessage {
            type_id: p.type_id,
            timestamp: aggregate_timestamp.wrapping_add(p.timestamp.wrapping_sub(first)),
            payload: p.payload.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        let mut b = Vec::new();
        // Audio, 2 bytes, timestamp 0x01000010 (extension byte 0x01), stream 0.
        b.extend_from_slice(&[8, 0, 0, 2, 0, 0, 0x10, 0x01, 0, 0, 0]);
        b.extend_from_slice(&[0xaf, 0x01]);
        b.extend_from_slice(&13u32.to_be_bytes());
        // Video, 3 bytes, 40 ms later, stream 1, back-pointer not size + 11.
        b.extend_from_slice(&[9, 0, 0, 3, 0, 0, 0x38, 0x01, 0, 0, 1]);
        b.extend_from_slice(&[0x17, 0x01, 0x00]);
        b.extend_from_slice(&99u32.to_be_bytes());
        b
    }

    #[test]
    fn splits_rebases_and_reencodes() {
        let bytes = Bytes::from(sample());
        let agg = Aggregate::decode(&bytes).expect("decodes");
        assert_eq!(agg.parts.len(), 2);
        assert_eq!(agg.parts[0].timestamp, 0x0100_0010);
        assert_eq!(agg.parts[1].stream_id, 1);
        assert_eq!(agg.parts[1].back_pointer, 99);
        let msgs: Vec<_> = agg.messages(1000).collect();
        assert_eq!(msgs[0].timestamp, 1000);
        assert_eq!(msgs[1].timestamp, 1040);
        assert_eq!(msgs[0].type_id, 8);
        assert_eq!(&msgs[1].payload[..], &[0x17, 0x01, 0x00]);
        let wrapped: Vec<_> = agg.messages(u32::MAX).collect();
        assert_eq!(wrapped[1].timestamp, 39);
        let mut out = Vec::new();
        agg.encode(&mut out);
        assert_eq!(out, bytes);
    }

    #[test]
    fn from_messages_writes_standard_back_pointers() {
        let agg = Aggregate::from_messages([
            (8, 5, Bytes::from_static(&[0xaf, 1, 2])),
            (9, 0x0100_0000, Bytes::new()),
        ]);
        let mut out = Vec::new();
        agg.encode(&mut out);
        assert_eq!(out.len(), 11 + 3 + 4 + 11 + 4);
        assert_eq!(&out[14..18], &14u32.to_be_bytes());
        assert_eq!(Aggregate::decode(&Bytes::from(out)).expect("decodes"), agg);
        assert_eq!(Aggregate::decode(&Bytes::new()), Ok(Aggregate::default()));
    }

    #[test]
    fn truncation_names_the_offset() {
        let full = sample();
        // Cut inside the second header.
        let cut = Bytes::copy_from_slice(&full[..20]);
        assert_eq!(
            Aggregate::decode(&cut),
            Err(MessageError::AggregateTruncated {
                offset: 17,
                needed: 11,
                available: 3
            })
        );
        // Cut inside the second back-pointer.
        let cut = Bytes::copy_from_slice(&full[..full.len() - 1]);
        assert_eq!(
            Aggregate::decode(&cut),
            Err(MessageError::AggregateTruncated {
                offset: 17,
                needed: 18,
                available: 17
            })
        );
        // A size field far beyond the payload.
        let lie = Bytes::from_static(&[8, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0]);
        assert!(matches!(
            Aggregate::decode(&lie),
            Err(MessageError::AggregateTruncated { offset: 0, .. })
        ));
    }
}
