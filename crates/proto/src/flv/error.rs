use crate::amf::AmfError;

/// Errors from FLV tag headers, FLV files and script data.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FlvError {
    /// The input ended inside `field` of `what`; `needed` more bytes were expected.
    #[error("{what}: input ends inside {field} at offset {offset} ({needed} more bytes needed)")]
    Truncated {
        what: &'static str,
        field: &'static str,
        offset: u64,
        needed: u64,
    },
    /// A field holds a value the format does not allow here.
    #[error("{what}: invalid {field} {value} at offset {offset}")]
    InvalidField {
        what: &'static str,
        field: &'static str,
        offset: u64,
        value: u64,
    },
    /// A value that cannot be written into its field.
    #[error("{what}: {field} value {value} does not fit the field")]
    Unencodable {
        what: &'static str,
        field: &'static str,
        value: u64,
    },
    /// The file does not start with `FLV`.
    #[error("not an FLV file: signature is {found:02x?}, expected \"FLV\"")]
    BadSignature { found: [u8; 3] },
    /// A tag whose data is larger than the reader's limit.
    #[error("FLV tag at offset {offset}: data size {size} exceeds the limit of {limit} bytes")]
    TagTooLarge { offset: u64, size: u32, limit: u32 },
    /// Warning: a PreviousTagSize field that does not match the tag before it. The reader keeps
    /// going (trusting the tag's own DataSize), so no tag is lost.
    #[error(
        "FLV PreviousTagSize at offset {offset} is {found}, expected {expected} (continuing with the next tag)"
    )]
    PreviousTagSizeMismatch {
        offset: u64,
        expected: u32,
        found: u32,
    },
    /// The underlying reader failed (only from the `std::io::Read` convenience reader).
    #[error("reading FLV input: {message}")]
    Io {
        kind: std::io::ErrorKind,
        message: String,
    },
    /// Script data whose AMF0 could not be decoded.
    #[error("script data: {0}")]
    Amf(#[from] AmfError),
}

impl FlvError {
    /// Whether this is only a warning: reading can go on and nothing was lost.
    pub fn is_warning(&self) -> bool {
        matches!(self, FlvError::PreviousTagSizeMismatch { .. })
    }

    /// Whether the input simply ended early (a file cut off, a short payload).
    pub fn is_truncated(&self) -> bool {
        matches!(self, FlvError::Truncated { .. })
    }
}

/// A bounds-checked reader over one payload, producing [`FlvError`]s that name the field.
pub(crate) struct Cursor<'a> {
    pub data: &'a [u8],
    pub pos: usize,
    pub what: &'static str,
}

impl<'a> Cursor<'a> {
    pub fn new(data: &'a [u8], what: &'static str) -> Self {
        Cursor { data, pos: 0, what }
    }

    pub fn truncated(&self, field: &'static str, needed: usize) -> FlvError {
        FlvError::Truncated {
            what: self.what,
            field,
            offset: self.pos as u64,
            needed: needed.saturating_sub(self.remaining()) as u64,
        }
    }

    pub fn invalid(&self, field: &'static str, value: u64) -> FlvError {
        FlvError::InvalidField {
            what: self.what,
            field,
            offset: self.pos as u64,
            value,
        }
    }

    pub fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }

    pub fn bytes(&mut self, len: usize, field: &'static str) -> Result<&'a [u8], FlvError> {
        let s = self
            .pos
            .checked_add(len)
            .and_then(|end| self.data.get(self.pos..end))
            .ok_or_else(|| self.truncated(field, len))?;
        self.pos += len;
        Ok(s)
    }

    pub fn u8(&mut self, field: &'static str) -> Result<u8, FlvError> {
        Ok(self.bytes(1, field)?[0])
    }

    pub fn u16(&mut self, field: &'static str) -> Result<u16, FlvError> {
        let b = self.bytes(2, field)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    pub fn u24(&mut self, field: &'static str) -> Result<u32, FlvError> {
        let b = self.bytes(3, field)?;
        Ok(u32::from_be_bytes([0, b[0], b[1], b[2]]))
    }

    /// Signed 24-bit (SI24), as the composition time offset.
    pub fn i24(&mut self, field: &'static str) -> Result<i32, FlvError> {
        let v = self.u24(field)?;
        Ok(((v << 8) as i32) >> 8)
    }

    pub fn array4(&mut self, field: &'static str) -> Result<[u8; 4], FlvError> {
        let b = self.bytes(4, field)?;
        Ok([b[0], b[1], b[2], b[3]])
    }
}

/// Appends a signed 24-bit value; fails outside -2^23..2^23.
pub(crate) fn put_i24(
    out: &mut Vec<u8>,
    value: i32,
    what: &'static str,
    field: &'static str,
) -> Result<(), FlvError> {
    if !(-(1 << 23)..(1 << 23)).contains(&value) {
        return Err(FlvError::Unencodable {
            what,
            field,
            value: value as i64 as u64,
        });
    }
    out.extend_from_slice(&value.to_be_bytes()[1..]);
    Ok(())
}

/// Appends an unsigned 24-bit value; fails above 2^24 - 1.
pub(crate) fn put_u24(
    out: &mut Vec<u8>,
    value: u32,
    what: &'static str,
    field: &'static str,
) -> Result<(), FlvError> {
    if value > 0xff_ffff {
        return Err(FlvError::Unencodable {
            what,
            field,
            value: value.into(),
        });
    }
    out.extend_from_slice(&value.to_be_bytes()[1..]);
    Ok(())
}
