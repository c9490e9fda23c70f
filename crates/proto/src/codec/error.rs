use std::fmt;

/// A malformed codec configuration or bitstream, with the byte offset (from the start of the
/// buffer given to the decoder) where the problem was found and the field being read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what}: {kind} (at byte {offset}, field {field})")]
pub struct CodecError {
    /// The structure being decoded, e.g. `"AVCDecoderConfigurationRecord"`.
    pub what: &'static str,
    /// The field being read when the problem was found.
    pub field: &'static str,
    /// Byte offset into the decoder's input (for bit-level syntax, the byte holding the bit).
    pub offset: usize,
    pub kind: CodecErrorKind,
}

/// What was wrong with the codec input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodecErrorKind {
    /// The input ended inside a field.
    Truncated,
    /// A field has a value the syntax does not allow (or this decoder cannot represent).
    InvalidValue(u64),
    /// An Exp-Golomb code longer than 32 bits: the value cannot fit in 32 bits.
    ExpGolombOverflow,
    /// A value too large for the field it must be written into.
    Unencodable(u64),
}

impl fmt::Display for CodecErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CodecErrorKind::Truncated => write!(f, "input ends early"),
            CodecErrorKind::InvalidValue(v) => write!(f, "invalid value {v}"),
            CodecErrorKind::ExpGolombOverflow => write!(f, "Exp-Golomb code longer than 32 bits"),
            CodecErrorKind::Unencodable(v) => write!(f, "value {v} does not fit the field"),
        }
    }
}

impl CodecError {
    pub(crate) fn new(
        what: &'static str,
        field: &'static str,
        offset: usize,
        kind: CodecErrorKind,
    ) -> Self {
        CodecError {
            what,
            field,
            offset,
            kind,
        }
    }
}
