use std::fmt;

/// A malformed or over-limit AMF value, with the byte offset (from the start of the buffer
/// given to the decoder) where the problem was found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("AMF error at offset {offset}: {kind}")]
pub struct AmfError {
    pub offset: usize,
    pub kind: AmfErrorKind,
}

/// What was wrong with the AMF input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AmfErrorKind {
    /// The input ended inside a value; `needed` more bytes were expected.
    Truncated { needed: usize },
    /// A type marker this format does not define.
    UnknownMarker(u8),
    /// A marker that is defined but may not appear here (e.g. object-end outside an object).
    UnexpectedMarker(u8),
    /// A string that is not valid UTF-8.
    InvalidUtf8,
    /// Containers nested deeper than [`super::Limits::max_depth`].
    TooDeep { limit: usize },
    /// More values than [`super::Limits::max_values`].
    TooManyValues { limit: usize },
    /// A length or count field larger than the input could possibly hold.
    LengthTooLarge { length: u64 },
    /// An AMF3 reference to a table entry that does not exist.
    BadReference { table: &'static str, index: u32 },
    /// An AMF3 externalizable object: its encoding is private to its class, so it cannot be read.
    Externalizable { class_name: String },
    /// An AMF3 dense array or vector used as an object key in a way this decoder cannot represent.
    Unsupported(&'static str),
}

impl fmt::Display for AmfErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AmfErrorKind::Truncated { needed } => {
                write!(f, "input ends early ({needed} more bytes needed)")
            }
            AmfErrorKind::UnknownMarker(m) => write!(f, "unknown type marker 0x{m:02x}"),
            AmfErrorKind::UnexpectedMarker(m) => {
                write!(f, "type marker 0x{m:02x} not allowed here")
            }
            AmfErrorKind::InvalidUtf8 => write!(f, "string is not valid UTF-8"),
            AmfErrorKind::TooDeep { limit } => write!(f, "nesting deeper than {limit} levels"),
            AmfErrorKind::TooManyValues { limit } => write!(f, "more than {limit} values"),
            AmfErrorKind::LengthTooLarge { length } => {
                write!(f, "length {length} is larger than the remaining input")
            }
            AmfErrorKind::BadReference { table, index } => {
                write!(f, "reference to {table} #{index}, which does not exist")
            }
            AmfErrorKind::Externalizable { class_name } => write!(
                f,
                "externalizable object of class '{class_name}' cannot be decoded (its format is private to the class)"
            ),
            AmfErrorKind::Unsupported(what) => write!(f, "unsupported: {what}"),
        }
    }
}
