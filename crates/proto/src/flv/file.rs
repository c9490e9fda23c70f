//! FLV file structures: the file header, the tag header and the PreviousTagSize field.

use bytes::Bytes;

use super::error::{Cursor, FlvError, put_u24};

/// Bytes in the FLV file header (version 1).
pub const FLV_HEADER_LEN: usize = 9;
/// Bytes in an FLV tag header.
pub const TAG_HEADER_LEN: usize = 11;
/// Bytes in a PreviousTagSize field.
pub const PREVIOUS_TAG_SIZE_LEN: usize = 4;

/// The FLV file header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FlvHeader {
    /// 1 for every FLV file in use.
    pub version: u8,
    pub has_audio: bool,
    pub has_video: bool,
    /// The flag bits other than audio (bit 2) and video (bit 0), which should be zero.
    pub reserved_flags: u8,
    /// Offset of the body (PreviousTagSize0) from the start of the file: 9 for version 1.
    pub data_offset: u32,
}

impl FlvHeader {
    /// A version 1 header.
    pub fn new(has_audio: bool, has_video: bool) -> Self {
        FlvHeader {
            version: 1,
            has_audio,
            has_video,
            reserved_flags: 0,
            data_offset: FLV_HEADER_LEN as u32,
        }
    }

    /// Decodes the 9 header bytes. A data offset below 9 is an error; above 9, the extra bytes
    /// belong to the header and are the caller's to skip.
    pub fn decode(data: &[u8]) -> Result<FlvHeader, FlvError> {
        let mut c = Cursor::new(data, "FLV header");
        let sig = c.bytes(3, "Signature")?;
        if sig != b"FLV" {
            return Err(FlvError::BadSignature {
                found: [sig[0], sig[1], sig[2]],
            });
        }
        let version = c.u8("Version")?;
        let flags = c.u8("TypeFlags")?;
        let data_offset = u32::from_be_bytes(c.array4("DataOffset")?);
        if (data_offset as usize) < FLV_HEADER_LEN {
            return Err(FlvError::InvalidField {
                what: "FLV header",
                field: "DataOffset",
                offset: 5,
                value: data_offset.into(),
            });
        }
        Ok(FlvHeader {
            version,
            has_audio: flags & 0x04 != 0,
            has_video: flags & 0x01 != 0,
            reserved_flags: flags & !0x05,
            data_offset,
        })
    }

    /// The 9 header bytes.
    pub fn encode(&self) -> [u8; FLV_HEADER_LEN] {
        let flags = (self.reserved_flags & !0x05)
            | u8::from(self.has_audio) << 2
            | u8::from(self.has_video);
        let o = self.data_offset.to_be_bytes();
        [
            b'F',
            b'L',
            b'V',
            self.version,
            flags,
            o[0],
            o[1],
            o[2],
            o[3],
        ]
    }
}

/// `TagType` (5 bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TagType {
    /// 8
    Audio,
    /// 9
    Video,
    /// 18: script data (AMF0, e.g. `onMetaData`).
    Script,
    /// Anything else, kept as data.
    Other(u8),
}

impl TagType {
    pub fn from_u5(v: u8) -> Self {
        match v & 0x1f {
            8 => TagType::Audio,
            9 => TagType::Video,
            18 => TagType::Script,
            v => TagType::Other(v),
        }
    }

    /// The 5-bit value, which is also the RTMP message type id of the same payload.
    pub fn to_u5(self) -> u8 {
        match self {
            TagType::Audio => 8,
            TagType::Video => 9,
            TagType::Script => 18,
            TagType::Other(v) => v & 0x1f,
        }
    }
}

/// The 11-byte header of an FLV tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TagHeader {
    /// The 2 reserved bits above the filter bit (0 in valid files), kept as data.
    pub reserved: u8,
    /// The body is encrypted/filtered (FLV 10.1 "Filter" bit).
    pub filter: bool,
    pub tag_type: TagType,
    /// Bytes of tag data after this header (24 bits).
    pub data_size: u32,
    /// Milliseconds: 24-bit Timestamp plus the TimestampExtended upper byte.
    pub timestamp: u32,
    /// 24 bits, always 0 in valid files.
    pub stream_id: u32,
}

impl TagHeader {
    /// A header for a tag of `data_size` bytes with no filter and stream id 0.
    pub fn new(tag_type: TagType, data_size: u32, timestamp: u32) -> Self {
        TagHeader {
            reserved: 0,
            filter: false,
            tag_type,
            data_size,
            timestamp,
            stream_id: 0,
        }
    }

    pub fn decode(data: &[u8]) -> Result<TagHeader, FlvError> {
        let mut c = Cursor::new(data, "FLV tag header");
        let b = c.u8("TagType")?;
        let data_size = c.u24("DataSize")?;
        let ts_low = c.u24("Timestamp")?;
        let ts_high = c.u8("TimestampExtended")?;
        let stream_id = c.u24("StreamID")?;
        Ok(TagHeader {
            reserved: b >> 6,
            filter: b & 0x20 != 0,
            tag_type: TagType::from_u5(b),
            data_size,
            timestamp: u32::from(ts_high) << 24 | ts_low,
            stream_id,
        })
    }

    pub fn encode(&self) -> Result<[u8; TAG_HEADER_LEN], FlvError> {
        let mut v = Vec::with_capacity(TAG_HEADER_LEN);
        v.push((self.reserved & 0x03) << 6 | u8::from(self.filter) << 5 | self.tag_type.to_u5());
        put_u24(&mut v, self.data_size, "FLV tag header", "DataSize")?;
        let ts = self.timestamp.to_be_bytes();
        v.extend_from_slice(&[ts[1], ts[2], ts[3], ts[0]]);
        put_u24(&mut v, self.stream_id, "FLV tag header", "StreamID")?;
        let mut out = [0u8; TAG_HEADER_LEN];
        out.copy_from_slice(&v);
        Ok(out)
    }

    /// The PreviousTagSize value that must follow this tag: header plus data.
    pub fn tag_size(&self) -> u32 {
        self.data_size.saturating_add(TAG_HEADER_LEN as u32)
    }
}

/// A whole tag: header and data (the data is shared, not copied).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlvTag {
    pub header: TagHeader,
    pub data: Bytes,
}

impl FlvTag {
    /// Appends the tag and its PreviousTagSize, as it appears in a file or an HTTP-FLV stream.
    /// The header's `data_size` is taken from `data`.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), FlvError> {
        let size = u32::try_from(self.data.len()).unwrap_or(u32::MAX);
        let header = TagHeader {
            data_size: size,
            ..self.header
        };
        out.extend_from_slice(&header.encode()?);
        out.extend_from_slice(&self.data);
        out.extend_from_slice(&header.tag_size().to_be_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trip() {
        let bytes = [b'F', b'L', b'V', 1, 5, 0, 0, 0, 9];
        let h = FlvHeader::decode(&bytes).unwrap();
        assert_eq!(h, FlvHeader::new(true, true));
        assert_eq!(h.encode(), bytes);
        assert!(matches!(
            FlvHeader::decode(b"FLX\x01\x05\0\0\0\x09"),
            Err(FlvError::BadSignature { .. })
        ));
        assert!(FlvHeader::decode(b"FLV\x01\x05\0\0\0\x08").is_err());
        assert!(FlvHeader::decode(b"FLV\x01").unwrap_err().is_truncated());
    }

    #[test]
    fn tag_header_extended_timestamp() {
        // Script tag, 0x127 bytes, timestamp 0x01234567 (extended byte 0x01).
        let bytes = [0x12, 0x00, 0x01, 0x27, 0x23, 0x45, 0x67, 0x01, 0, 0, 0];
        let h = TagHeader::decode(&bytes).unwrap();
        assert_eq!(h.tag_type, TagType::Script);
        assert_eq!(h.data_size, 0x127);
        assert_eq!(h.timestamp, 0x0123_4567);
        assert!(!h.filter);
        assert_eq!(h.encode().unwrap(), bytes);
        assert_eq!(h.tag_size(), 0x127 + 11);
        let filtered = TagHeader::decode(&[0x28, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]).unwrap();
        assert!(filtered.filter);
        assert_eq!(filtered.tag_type, TagType::Audio);
        assert!(TagHeader::new(TagType::Video, 1 << 24, 0).encode().is_err());
    }
}
