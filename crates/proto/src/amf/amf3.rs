//! AMF3 (being written on the `amf3` branch; this interim version refuses AMF3 input).

use super::{Amf3Value, AmfError, AmfErrorKind, Limits};

/// Decodes the AMF3 value that follows an AMF0 AVM+ marker. `base` is the offset of `buf` in the
/// caller's buffer (for error offsets); `depth` the caller's nesting depth; `values_left` the
/// caller's remaining value budget, which this decode draws from.
pub(crate) fn decode_embedded(
    _buf: &[u8],
    base: usize,
    _limits: Limits,
    _depth: usize,
    _values_left: &mut usize,
) -> Result<(Amf3Value, usize), AmfError> {
    Err(AmfError {
        offset: base,
        kind: AmfErrorKind::Unsupported("AMF3"),
    })
}

/// Appends the AMF3 encoding of `v` to `out`.
pub fn encode(_v: &Amf3Value, _out: &mut Vec<u8>) {}
