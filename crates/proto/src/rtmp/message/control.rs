//! Protocol control messages (types 1, 2, 3, 5 and 6): fixed-size big-endian fields.

use std::fmt;

use super::error::{MessageError, exact, exact_u32};

/// Largest chunk size the spec allows (the top bit of the field must be zero).
pub const MAX_CHUNK_SIZE: u32 = 0x7FFF_FFFF;

/// How the peer should apply a Set Peer Bandwidth window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LimitType {
    /// 0: limit output to this window.
    Hard,
    /// 1: limit to this window or the current one, whichever is smaller.
    Soft,
    /// 2: hard if the previous limit was hard, otherwise ignore.
    Dynamic,
    /// Any other value, kept as sent.
    Unknown(u8),
}

impl LimitType {
    /// The limit type for a wire byte.
    pub fn from_u8(v: u8) -> LimitType {
        match v {
            0 => LimitType::Hard,
            1 => LimitType::Soft,
            2 => LimitType::Dynamic,
            other => LimitType::Unknown(other),
        }
    }

    /// The wire byte.
    pub fn to_u8(self) -> u8 {
        match self {
            LimitType::Hard => 0,
            LimitType::Soft => 1,
            LimitType::Dynamic => 2,
            LimitType::Unknown(v) => v,
        }
    }
}

impl fmt::Display for LimitType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LimitType::Hard => f.write_str("Hard"),
            LimitType::Soft => f.write_str("Soft"),
            LimitType::Dynamic => f.write_str("Dynamic"),
            LimitType::Unknown(v) => write!(f, "Unknown ({v})"),
        }
    }
}

/// Set Chunk Size payload: a 31-bit size, 1 or more.
pub(crate) fn decode_chunk_size(payload: &[u8]) -> Result<u32, MessageError> {
    let size = exact_u32("Set Chunk Size", payload)?;
    if size == 0 || size > MAX_CHUNK_SIZE {
        return Err(MessageError::InvalidChunkSize(size));
    }
    Ok(size)
}

/// Set Peer Bandwidth payload: window size and limit type.
pub(crate) fn decode_peer_bandwidth(payload: &[u8]) -> Result<(u32, LimitType), MessageError> {
    let [a, b, c, d, limit] = exact::<5>("Set Peer Bandwidth", payload)?;
    Ok((u32::from_be_bytes([a, b, c, d]), LimitType::from_u8(limit)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_type_roundtrips_every_byte() {
        for v in 0..=255u8 {
            assert_eq!(LimitType::from_u8(v).to_u8(), v);
        }
        assert_eq!(LimitType::from_u8(2), LimitType::Dynamic);
        assert_eq!(LimitType::from_u8(7).to_string(), "Unknown (7)");
    }

    #[test]
    fn chunk_size_bounds() {
        assert_eq!(decode_chunk_size(&[0, 0, 0, 1]), Ok(1));
        assert_eq!(
            decode_chunk_size(&[0x7f, 0xff, 0xff, 0xff]),
            Ok(MAX_CHUNK_SIZE)
        );
        assert_eq!(
            decode_chunk_size(&[0, 0, 0, 0]),
            Err(MessageError::InvalidChunkSize(0))
        );
        assert_eq!(
            decode_chunk_size(&[0x80, 0, 0, 0]),
            Err(MessageError::InvalidChunkSize(0x8000_0000))
        );
        assert_eq!(
            decode_chunk_size(&[0, 0x10, 0]),
            Err(MessageError::Length {
                message: "Set Chunk Size",
                expected: 4,
                actual: 3
            })
        );
    }

    #[test]
    fn peer_bandwidth_needs_five_bytes() {
        assert_eq!(
            decode_peer_bandwidth(&[0, 0x4c, 0x4b, 0x40, 2]),
            Ok((5_000_000, LimitType::Dynamic))
        );
        assert!(matches!(
            decode_peer_bandwidth(&[0, 0x4c, 0x4b, 0x40]),
            Err(MessageError::Length {
                expected: 5,
                actual: 4,
                ..
            })
        ));
    }
}
