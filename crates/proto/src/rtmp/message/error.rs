use crate::amf::AmfError;

/// A message payload that does not match its type.
///
/// Offsets are counted from the first byte of the message payload.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MessageError {
    /// A fixed-size payload (control message, user control event) of the wrong size.
    #[error("{message}: payload is {actual} bytes, expected {expected}")]
    Length {
        /// The message or event, e.g. "Set Chunk Size".
        message: &'static str,
        expected: usize,
        actual: usize,
    },
    /// A payload shorter than the smallest valid one.
    #[error("{message}: payload is {actual} bytes, expected at least {min}")]
    TooShort {
        message: &'static str,
        min: usize,
        actual: usize,
    },
    /// Set Chunk Size with 0 or with the top bit set (the spec allows 1 to 0x7FFFFFFF).
    #[error("Set Chunk Size: chunk size {0} is invalid (must be 1 to 2147483647)")]
    InvalidChunkSize(u32),
    /// The AMF body of a command, data or shared object message is malformed.
    #[error("{message}: {source}")]
    Amf {
        message: &'static str,
        #[source]
        source: AmfError,
    },
    /// An AMF3 command or data message (type 17 or 15) whose first byte is not the 0x00
    /// format selector that precedes its AMF0 values.
    #[error("{message}: format selector at offset 0 is 0x{found:02x}, expected 0x00")]
    FormatSelector { message: &'static str, found: u8 },
    /// A command or data message without any value (it needs at least a name).
    #[error("{message}: body holds no AMF values")]
    NoValues { message: &'static str },
    /// An aggregate whose sub-message at `offset` runs past the end of the payload.
    #[error(
        "Aggregate: sub-message at offset {offset} needs {needed} bytes, only {available} remain"
    )]
    AggregateTruncated {
        offset: usize,
        needed: usize,
        available: usize,
    },
    /// A shared object message whose header or event list is cut short.
    #[error(
        "Shared Object: {field} at offset {offset} needs {needed} bytes, only {available} remain"
    )]
    SharedObjectTruncated {
        field: &'static str,
        offset: usize,
        needed: usize,
        available: usize,
    },
    /// A shared object name that is not valid UTF-8.
    #[error("Shared Object: name at offset {offset} is not valid UTF-8")]
    SharedObjectName { offset: usize },
}

impl MessageError {
    /// An AMF error whose offset is relative to a body that starts `base` bytes into the payload.
    pub(crate) fn amf(message: &'static str, mut source: AmfError, base: usize) -> MessageError {
        source.offset += base;
        MessageError::Amf { message, source }
    }
}

/// Reads a payload that must be exactly `N` bytes.
pub(crate) fn exact<const N: usize>(
    message: &'static str,
    payload: &[u8],
) -> Result<[u8; N], MessageError> {
    payload.try_into().map_err(|_| MessageError::Length {
        message,
        expected: N,
        actual: payload.len(),
    })
}

/// Reads a payload that must be exactly four bytes, as a big-endian u32.
pub(crate) fn exact_u32(message: &'static str, payload: &[u8]) -> Result<u32, MessageError> {
    exact::<4>(message, payload).map(u32::from_be_bytes)
}
