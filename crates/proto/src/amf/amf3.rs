//! AMF3: decoder and encoder for every marker of the AMF3 specification (Flash Player 10
//! edition: vectors and dictionaries included).
//!
//! # Reference tables
//!
//! AMF3 avoids repetition with three implicit tables: strings, objects (everything that is not a
//! scalar or a string) and object traits. [`Amf3Value`] is a tree, so the decoder resolves every
//! reference into a copy of what it names. Tables start empty for each top-level value: each value
//! of [`decode_all`], and each AVM+ switch inside AMF0, is decoded on its own, matching what
//! [`encode`] writes.
//!
//! # Bounds
//!
//! A reference costs one or two bytes of input but can name a large value, so copies are charged
//! to [`Limits::max_values`] by their size: one unit per value copied plus one unit per
//! [`CLONED_BYTES_PER_VALUE`] bytes of copied text, bytes or vector items (string references and
//! the member names of a trait reference are charged the same way). Values decoded from fresh
//! input cost one unit each, as in AMF0. Copies are also held to [`Limits::max_depth`] where they
//! land. A reference to an object that is still being decoded (a cycle: an object containing
//! itself) cannot be represented in a tree and is an error.

mod decode;
mod encode;

#[cfg(test)]
pub(crate) mod arbitrary;
#[cfg(test)]
mod tests;

use super::{Amf3Value, AmfError, Limits};

pub use encode::{encode, encode_all};

/// AMF3 type markers.
pub mod marker {
    pub const UNDEFINED: u8 = 0x00;
    pub const NULL: u8 = 0x01;
    pub const FALSE: u8 = 0x02;
    pub const TRUE: u8 = 0x03;
    pub const INTEGER: u8 = 0x04;
    pub const DOUBLE: u8 = 0x05;
    pub const STRING: u8 = 0x06;
    pub const XML_DOCUMENT: u8 = 0x07;
    pub const DATE: u8 = 0x08;
    pub const ARRAY: u8 = 0x09;
    pub const OBJECT: u8 = 0x0A;
    pub const XML: u8 = 0x0B;
    pub const BYTE_ARRAY: u8 = 0x0C;
    pub const VECTOR_INT: u8 = 0x0D;
    pub const VECTOR_UINT: u8 = 0x0E;
    pub const VECTOR_DOUBLE: u8 = 0x0F;
    pub const VECTOR_OBJECT: u8 = 0x10;
    pub const DICTIONARY: u8 = 0x11;
}

/// Smallest value an [`Amf3Value::Integer`] can carry on the wire (−2^28).
pub const INTEGER_MIN: i32 = -(1 << 28);
/// Largest value an [`Amf3Value::Integer`] can carry on the wire (2^28 − 1).
pub const INTEGER_MAX: i32 = (1 << 28) - 1;
/// Longest string, byte array or element count a U29 length field can express (2^28 − 1).
pub const LENGTH_MAX: usize = (1 << 28) - 1;
/// Bytes of copied payload that cost one unit of the value budget when a reference is resolved.
pub const CLONED_BYTES_PER_VALUE: usize = 64;

/// Decodes one value from the start of `buf`; returns it and the number of bytes it used.
pub fn decode(buf: &[u8]) -> Result<(Amf3Value, usize), AmfError> {
    decode_with_limits(buf, Limits::default())
}

/// [`decode`] with explicit limits.
pub fn decode_with_limits(buf: &[u8], limits: Limits) -> Result<(Amf3Value, usize), AmfError> {
    let mut values_left = limits.max_values;
    decode::decode_value(buf, 0, limits, 0, &mut values_left)
}

/// Decodes values until `buf` is used up. Each value has its own reference tables.
pub fn decode_all(buf: &[u8]) -> Result<Vec<Amf3Value>, AmfError> {
    decode_all_with_limits(buf, Limits::default())
}

/// [`decode_all`] with explicit limits. The value budget is shared by all values of `buf`.
pub fn decode_all_with_limits(buf: &[u8], limits: Limits) -> Result<Vec<Amf3Value>, AmfError> {
    let mut values_left = limits.max_values;
    let mut pos = 0;
    let mut out = Vec::new();
    while let Some(rest) = buf.get(pos..).filter(|r| !r.is_empty()) {
        let (v, used) = decode::decode_value(rest, pos, limits, 0, &mut values_left)?;
        pos += used;
        out.push(v);
    }
    Ok(out)
}

/// Decodes the AMF3 value that follows an AMF0 AVM+ marker. `base` is the offset of `buf` in the
/// caller's buffer (for error offsets); `depth` the caller's nesting depth; `values_left` the
/// caller's remaining value budget, which this decode draws from.
pub(crate) fn decode_embedded(
    buf: &[u8],
    base: usize,
    limits: Limits,
    depth: usize,
    values_left: &mut usize,
) -> Result<(Amf3Value, usize), AmfError> {
    decode::decode_value(buf, base, limits, depth, values_left)
}
