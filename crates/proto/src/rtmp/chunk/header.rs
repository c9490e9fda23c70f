//! The chunk header, one type per wire part: basic header, the four message header forms and the
//! extended timestamp.
//!
//! ```text
//! +--------------+----------------+--------------------+------------+
//! | basic header | message header | extended timestamp | chunk data |
//! |  1..=3 bytes | 11, 7, 3, 0 B  |     0 or 4 bytes   |            |
//! +--------------+----------------+--------------------+------------+
//! ```
//!
//! Decoders take a byte slice and return `None` when it is too short to hold the part (there is
//! nothing else that can be wrong with a header on its own: every bit pattern means something).
//! Timestamp fields are kept exactly as on the wire (24 bits, `0xFFFFFF` meaning "see the
//! extended timestamp"), so a decoded header re-encodes byte for byte.

use bytes::{BufMut, BytesMut};

use super::ChunkError;

/// A 24-bit timestamp field holding this value means a 4-byte extended timestamp follows.
pub const EXTENDED_TIMESTAMP_MARKER: u32 = 0x00FF_FFFF;
/// Lowest chunk stream id (0 and 1 mark the 2- and 3-byte basic header forms).
pub const MIN_CSID: u32 = 2;
/// Highest chunk stream id the 3-byte basic header can express.
pub const MAX_CSID: u32 = 65_599;
/// Longest message the 24-bit message length field can declare.
pub const MAX_MESSAGE_LENGTH: u32 = 0x00FF_FFFF;

/// Splits a timestamp or delta into its 24-bit header field and, when it does not fit, the
/// extended timestamp that must follow the message header.
pub fn split_timestamp(value: u32) -> (u32, Option<ExtendedTimestamp>) {
    if value >= EXTENDED_TIMESTAMP_MARKER {
        (EXTENDED_TIMESTAMP_MARKER, Some(ExtendedTimestamp(value)))
    } else {
        (value, None)
    }
}

fn read_u24(b: &[u8]) -> u32 {
    match b {
        [a, b, c, ..] => (u32::from(*a) << 16) | (u32::from(*b) << 8) | u32::from(*c),
        _ => 0,
    }
}

fn put_u24(out: &mut BytesMut, v: u32) {
    out.put_slice(&v.to_be_bytes()[1..]);
}

/// The chunk basic header: format (which message header follows) and chunk stream id.
///
/// csid 2..=63 use the 1-byte form, 64..=319 the 2-byte form, 320..=65599 the 3-byte form.
/// Decoding also accepts the longer forms for small ids; encoding always writes the shortest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BasicHeader {
    /// 0..=3: selects [`Type0Header`], [`Type1Header`], [`Type2Header`] or no message header.
    pub fmt: u8,
    /// Chunk stream id, 2..=65599.
    pub csid: u32,
}

impl BasicHeader {
    /// Decodes a basic header; `None` if `buf` is too short. Returns the header and its length.
    pub fn decode(buf: &[u8]) -> Option<(BasicHeader, usize)> {
        let first = *buf.first()?;
        let fmt = first >> 6;
        match first & 0x3F {
            0 => {
                let b1 = *buf.get(1)?;
                Some((
                    BasicHeader {
                        fmt,
                        csid: 64 + u32::from(b1),
                    },
                    2,
                ))
            }
            1 => {
                let b1 = *buf.get(1)?;
                let b2 = *buf.get(2)?;
                // The 16-bit form is little-endian: second byte is the low byte.
                let csid = 64 + u32::from(b1) + (u32::from(b2) << 8);
                Some((BasicHeader { fmt, csid }, 3))
            }
            id => Some((
                BasicHeader {
                    fmt,
                    csid: u32::from(id),
                },
                1,
            )),
        }
    }

    /// Length of the shortest encoding of this header.
    pub fn encoded_len(&self) -> usize {
        basic_header_len(self.csid)
    }

    /// Appends the shortest encoding. Fails on a format above 3 or a csid outside 2..=65599.
    pub fn encode(&self, out: &mut BytesMut) -> Result<(), ChunkError> {
        if self.fmt > 3 {
            return Err(ChunkError::InvalidFormat { fmt: self.fmt });
        }
        check_csid(self.csid)?;
        put_basic_header(out, self.fmt, self.csid);
        Ok(())
    }
}

pub(crate) fn check_csid(csid: u32) -> Result<(), ChunkError> {
    if (MIN_CSID..=MAX_CSID).contains(&csid) {
        Ok(())
    } else {
        Err(ChunkError::InvalidChunkStreamId { csid })
    }
}

pub(crate) fn basic_header_len(csid: u32) -> usize {
    match csid {
        0..=63 => 1,
        64..=319 => 2,
        _ => 3,
    }
}

/// Writes a basic header; `fmt` and `csid` must already be validated.
pub(crate) fn put_basic_header(out: &mut BytesMut, fmt: u8, csid: u32) {
    let fmt_bits = (fmt & 3) << 6;
    match csid {
        0..=63 => out.put_u8(fmt_bits | csid as u8),
        64..=319 => out.put_slice(&[fmt_bits, (csid - 64) as u8]),
        _ => {
            let id = (csid - 64).to_le_bytes();
            out.put_slice(&[fmt_bits | 1, id[0], id[1]]);
        }
    }
}

/// Type 0 message header (11 bytes): starts a chunk stream, or any message whose timestamp is
/// not expressed as a delta.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Type0Header {
    /// Absolute timestamp as on the wire (24 bits); [`EXTENDED_TIMESTAMP_MARKER`] means the
    /// value is in the extended timestamp.
    pub timestamp_field: u32,
    /// Message length (24 bits).
    pub length: u32,
    /// Message type id.
    pub type_id: u8,
    /// Message stream id (little-endian on the wire, unlike every other field).
    pub stream_id: u32,
}

impl Type0Header {
    /// Encoded length.
    pub const LEN: usize = 11;

    /// Decodes; `None` if `buf` is shorter than 11 bytes.
    pub fn decode(buf: &[u8]) -> Option<Type0Header> {
        let b: &[u8; 11] = buf.get(..11)?.try_into().ok()?;
        Some(Type0Header {
            timestamp_field: read_u24(&b[0..3]),
            length: read_u24(&b[3..6]),
            type_id: b[6],
            stream_id: u32::from_le_bytes([b[7], b[8], b[9], b[10]]),
        })
    }

    /// Appends the 11 bytes (24-bit fields keep their low 24 bits).
    pub fn encode(&self, out: &mut BytesMut) {
        put_u24(out, self.timestamp_field);
        put_u24(out, self.length);
        out.put_u8(self.type_id);
        out.put_u32_le(self.stream_id);
    }
}

/// Type 1 message header (7 bytes): new message on the same message stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Type1Header {
    /// Timestamp delta as on the wire (24 bits, [`EXTENDED_TIMESTAMP_MARKER`] = extended).
    pub delta_field: u32,
    /// Message length (24 bits).
    pub length: u32,
    /// Message type id.
    pub type_id: u8,
}

impl Type1Header {
    /// Encoded length.
    pub const LEN: usize = 7;

    /// Decodes; `None` if `buf` is shorter than 7 bytes.
    pub fn decode(buf: &[u8]) -> Option<Type1Header> {
        let b: &[u8; 7] = buf.get(..7)?.try_into().ok()?;
        Some(Type1Header {
            delta_field: read_u24(&b[0..3]),
            length: read_u24(&b[3..6]),
            type_id: b[6],
        })
    }

    /// Appends the 7 bytes.
    pub fn encode(&self, out: &mut BytesMut) {
        put_u24(out, self.delta_field);
        put_u24(out, self.length);
        out.put_u8(self.type_id);
    }
}

/// Type 2 message header (3 bytes): new message with the same length, type and stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Type2Header {
    /// Timestamp delta as on the wire (24 bits, [`EXTENDED_TIMESTAMP_MARKER`] = extended).
    pub delta_field: u32,
}

impl Type2Header {
    /// Encoded length.
    pub const LEN: usize = 3;

    /// Decodes; `None` if `buf` is shorter than 3 bytes.
    pub fn decode(buf: &[u8]) -> Option<Type2Header> {
        let b = buf.get(..3)?;
        Some(Type2Header {
            delta_field: read_u24(b),
        })
    }

    /// Appends the 3 bytes.
    pub fn encode(&self, out: &mut BytesMut) {
        put_u24(out, self.delta_field);
    }
}

/// The message header of a chunk, by format. Type 3 has no bytes: every field is inherited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChunkMessageHeader {
    Type0(Type0Header),
    Type1(Type1Header),
    Type2(Type2Header),
    Type3,
}

impl ChunkMessageHeader {
    /// Length of the message header for a format (0..=3); 0 for anything else.
    pub fn len_for_fmt(fmt: u8) -> usize {
        match fmt {
            0 => Type0Header::LEN,
            1 => Type1Header::LEN,
            2 => Type2Header::LEN,
            _ => 0,
        }
    }

    /// Decodes the header selected by `fmt` (only its low 2 bits are used); `None` if too short.
    pub fn decode(fmt: u8, buf: &[u8]) -> Option<ChunkMessageHeader> {
        Some(match fmt & 3 {
            0 => ChunkMessageHeader::Type0(Type0Header::decode(buf)?),
            1 => ChunkMessageHeader::Type1(Type1Header::decode(buf)?),
            2 => ChunkMessageHeader::Type2(Type2Header::decode(buf)?),
            _ => ChunkMessageHeader::Type3,
        })
    }

    /// Appends the header bytes (none for type 3).
    pub fn encode(&self, out: &mut BytesMut) {
        match self {
            ChunkMessageHeader::Type0(h) => h.encode(out),
            ChunkMessageHeader::Type1(h) => h.encode(out),
            ChunkMessageHeader::Type2(h) => h.encode(out),
            ChunkMessageHeader::Type3 => {}
        }
    }

    /// The format number of this header.
    pub fn fmt(&self) -> u8 {
        match self {
            ChunkMessageHeader::Type0(_) => 0,
            ChunkMessageHeader::Type1(_) => 1,
            ChunkMessageHeader::Type2(_) => 2,
            ChunkMessageHeader::Type3 => 3,
        }
    }

    /// The 24-bit timestamp (type 0) or timestamp delta (types 1, 2) field; `None` for type 3.
    pub fn timestamp_field(&self) -> Option<u32> {
        match self {
            ChunkMessageHeader::Type0(h) => Some(h.timestamp_field),
            ChunkMessageHeader::Type1(h) => Some(h.delta_field),
            ChunkMessageHeader::Type2(h) => Some(h.delta_field),
            ChunkMessageHeader::Type3 => None,
        }
    }

    /// Whether the timestamp field announces an extended timestamp (always false for type 3,
    /// whose extended timestamp depends on the chunk stream's previous header).
    pub fn announces_extended_timestamp(&self) -> bool {
        self.timestamp_field() == Some(EXTENDED_TIMESTAMP_MARKER)
    }
}

/// The 4-byte extended timestamp: the full 32-bit timestamp or delta when it does not fit in 24
/// bits. Present after a type 0/1/2 header whose timestamp field is `0xFFFFFF`, and (per the
/// specification) after every type 3 header of that chunk stream until the next type 0/1/2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExtendedTimestamp(pub u32);

impl ExtendedTimestamp {
    /// Encoded length.
    pub const LEN: usize = 4;

    /// Decodes; `None` if `buf` is shorter than 4 bytes.
    pub fn decode(buf: &[u8]) -> Option<ExtendedTimestamp> {
        let b: [u8; 4] = buf.get(..4)?.try_into().ok()?;
        Some(ExtendedTimestamp(u32::from_be_bytes(b)))
    }

    /// Appends the 4 bytes (big-endian).
    pub fn encode(&self, out: &mut BytesMut) {
        out.put_u32(self.0);
    }
}

/// A whole chunk header: basic header, message header and optional extended timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChunkHeader {
    pub basic: BasicHeader,
    pub message: ChunkMessageHeader,
    pub extended_timestamp: Option<ExtendedTimestamp>,
}

impl ChunkHeader {
    /// Decodes a chunk header; `None` if `buf` is too short. `type3_extended` says whether a
    /// type 3 header carries an extended timestamp, which depends on the chunk stream's last
    /// type 0/1/2 header (the [`ChunkReader`](super::ChunkReader) also copes with encoders that
    /// leave it out; this stateless decoder takes the caller's word). Returns the header length.
    pub fn decode(buf: &[u8], type3_extended: bool) -> Option<(ChunkHeader, usize)> {
        let (basic, mut len) = BasicHeader::decode(buf)?;
        let message = ChunkMessageHeader::decode(basic.fmt, buf.get(len..)?)?;
        len += ChunkMessageHeader::len_for_fmt(basic.fmt);
        let extended = match message {
            ChunkMessageHeader::Type3 => type3_extended,
            _ => message.announces_extended_timestamp(),
        };
        let extended_timestamp = if extended {
            let ext = ExtendedTimestamp::decode(buf.get(len..)?)?;
            len += ExtendedTimestamp::LEN;
            Some(ext)
        } else {
            None
        };
        Some((
            ChunkHeader {
                basic,
                message,
                extended_timestamp,
            },
            len,
        ))
    }

    /// Appends the header. The basic header's `fmt` is taken from the message header.
    pub fn encode(&self, out: &mut BytesMut) -> Result<(), ChunkError> {
        BasicHeader {
            fmt: self.message.fmt(),
            csid: self.basic.csid,
        }
        .encode(out)?;
        self.message.encode(out);
        if let Some(ext) = self.extended_timestamp {
            ext.encode(out);
        }
        Ok(())
    }

    /// The timestamp or delta this header carries: the extended value when one is present,
    /// else the 24-bit field; `None` for a type 3 header without extended timestamp.
    pub fn timestamp_value(&self) -> Option<u32> {
        match self.extended_timestamp {
            Some(ExtendedTimestamp(v)) => Some(v),
            None => self.message.timestamp_field(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc_basic(fmt: u8, csid: u32) -> Vec<u8> {
        let mut out = BytesMut::new();
        BasicHeader { fmt, csid }.encode(&mut out).unwrap();
        out.to_vec()
    }

    #[test]
    fn basic_header_forms() {
        assert_eq!(enc_basic(0, 2), [0x02]);
        assert_eq!(enc_basic(3, 63), [0xFF]);
        assert_eq!(enc_basic(1, 64), [0x40, 0x00]);
        assert_eq!(enc_basic(2, 319), [0x80, 0xFF]);
        assert_eq!(enc_basic(0, 320), [0x01, 0x00, 0x01]);
        assert_eq!(enc_basic(3, 65599), [0xC1, 0xFF, 0xFF]);
        for csid in [2, 3, 63, 64, 65, 319, 320, 321, 1000, 65598, 65599] {
            for fmt in 0..4 {
                let bytes = enc_basic(fmt, csid);
                let (h, n) = BasicHeader::decode(&bytes).unwrap();
                assert_eq!((h, n), (BasicHeader { fmt, csid }, bytes.len()));
                assert_eq!(h.encoded_len(), n);
                assert_eq!(BasicHeader::decode(&bytes[..n - 1]), None);
            }
        }
    }

    #[test]
    fn basic_header_non_canonical_long_form_decodes() {
        // csid 70 written in the 3-byte form: 70 - 64 = 6, little-endian.
        let (h, n) = BasicHeader::decode(&[0x41, 0x06, 0x00]).unwrap();
        assert_eq!((h, n), (BasicHeader { fmt: 1, csid: 70 }, 3));
    }

    #[test]
    fn basic_header_encode_rejects_bad_values() {
        let mut out = BytesMut::new();
        for csid in [0, 1, 65600, u32::MAX] {
            assert_eq!(
                BasicHeader { fmt: 0, csid }.encode(&mut out),
                Err(ChunkError::InvalidChunkStreamId { csid })
            );
        }
        assert_eq!(
            BasicHeader { fmt: 4, csid: 3 }.encode(&mut out),
            Err(ChunkError::InvalidFormat { fmt: 4 })
        );
        assert!(out.is_empty());
    }

    #[test]
    fn message_headers_round_trip() {
        let cases = [
            ChunkMessageHeader::Type0(Type0Header {
                timestamp_field: 0x123456,
                length: 0xABCDEF,
                type_id: 9,
                stream_id: 0x0403_0201,
            }),
            ChunkMessageHeader::Type1(Type1Header {
                delta_field: 40,
                length: 300,
                type_id: 8,
            }),
            ChunkMessageHeader::Type2(Type2Header { delta_field: 23 }),
            ChunkMessageHeader::Type3,
        ];
        for h in cases {
            let mut out = BytesMut::new();
            h.encode(&mut out);
            assert_eq!(out.len(), ChunkMessageHeader::len_for_fmt(h.fmt()));
            assert_eq!(ChunkMessageHeader::decode(h.fmt(), &out), Some(h));
            if !out.is_empty() {
                assert_eq!(
                    ChunkMessageHeader::decode(h.fmt(), &out[..out.len() - 1]),
                    None
                );
            }
        }
        let mut out = BytesMut::new();
        cases[0].encode(&mut out);
        assert_eq!(out[7..], [1, 2, 3, 4], "stream id is little-endian");
    }

    #[test]
    fn extended_timestamp_split_and_decode() {
        assert_eq!(split_timestamp(0xFFFFFE), (0xFFFFFE, None));
        assert_eq!(
            split_timestamp(0xFFFFFF),
            (0xFFFFFF, Some(ExtendedTimestamp(0xFFFFFF)))
        );
        let bytes = [
            0x06, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x04, 0x08, 1, 0, 0, 0, 0x01, 0x02, 0x03, 0x04,
        ];
        let (h, n) = ChunkHeader::decode(&bytes, false).unwrap();
        assert_eq!(n, 16);
        assert_eq!(h.extended_timestamp, Some(ExtendedTimestamp(0x0102_0304)));
        assert_eq!(h.timestamp_value(), Some(0x0102_0304));
        assert_eq!(ChunkHeader::decode(&bytes[..15], false), None);
        let mut out = BytesMut::new();
        h.encode(&mut out).unwrap();
        assert_eq!(out[..], bytes[..]);

        // Type 3 carries one only when the caller says the chunk stream uses them.
        let t3 = [0xC6, 0x01, 0x02, 0x03, 0x04];
        let (h, n) = ChunkHeader::decode(&t3, true).unwrap();
        assert_eq!((n, h.timestamp_value()), (5, Some(0x0102_0304)));
        let (h, n) = ChunkHeader::decode(&t3, false).unwrap();
        assert_eq!((n, h.timestamp_value()), (1, None));
    }
}
