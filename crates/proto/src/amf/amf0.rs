//! AMF0: decoder and encoder for every marker of the AMF0 specification, including the AVM+
//! switch (marker 0x11) into AMF3.

use super::reader::ByteReader;
use super::{Amf0Value, AmfError, AmfErrorKind, Limits, Properties, amf3};

/// AMF0 type markers.
pub mod marker {
    pub const NUMBER: u8 = 0x00;
    pub const BOOLEAN: u8 = 0x01;
    pub const STRING: u8 = 0x02;
    pub const OBJECT: u8 = 0x03;
    pub const MOVIECLIP: u8 = 0x04;
    pub const NULL: u8 = 0x05;
    pub const UNDEFINED: u8 = 0x06;
    pub const REFERENCE: u8 = 0x07;
    pub const ECMA_ARRAY: u8 = 0x08;
    pub const OBJECT_END: u8 = 0x09;
    pub const STRICT_ARRAY: u8 = 0x0A;
    pub const DATE: u8 = 0x0B;
    pub const LONG_STRING: u8 = 0x0C;
    pub const UNSUPPORTED: u8 = 0x0D;
    pub const RECORDSET: u8 = 0x0E;
    pub const XML_DOCUMENT: u8 = 0x0F;
    pub const TYPED_OBJECT: u8 = 0x10;
    pub const AVMPLUS: u8 = 0x11;
}

/// Decodes one value from the start of `buf`; returns it and the number of bytes it used.
pub fn decode(buf: &[u8]) -> Result<(Amf0Value, usize), AmfError> {
    decode_with_limits(buf, Limits::default())
}

/// [`decode`] with explicit limits.
pub fn decode_with_limits(buf: &[u8], limits: Limits) -> Result<(Amf0Value, usize), AmfError> {
    let mut d = Decoder::new(buf, limits);
    let v = d.value()?;
    Ok((v, d.r.pos))
}

/// Decodes values until `buf` is used up (the body of a command or data message).
pub fn decode_all(buf: &[u8]) -> Result<Vec<Amf0Value>, AmfError> {
    decode_all_with_limits(buf, Limits::default())
}

/// [`decode_all`] with explicit limits. The value budget is shared by all values of `buf`.
pub fn decode_all_with_limits(buf: &[u8], limits: Limits) -> Result<Vec<Amf0Value>, AmfError> {
    let mut d = Decoder::new(buf, limits);
    let mut out = Vec::new();
    while d.r.remaining() > 0 {
        out.push(d.value()?);
    }
    Ok(out)
}

/// Appends the encoding of `v` to `out`.
///
/// Encoding cannot fail. Two things the wire cannot carry are written as the nearest thing it can:
/// a [`Amf0Value::String`] longer than 65535 bytes is written with the long-string marker, and a
/// property or class name longer than 65535 bytes is cut to the longest UTF-8 prefix that fits
/// (AMF0 has no way to write a longer name, and no decoder can produce one).
pub fn encode(v: &Amf0Value, out: &mut Vec<u8>) {
    match v {
        Amf0Value::Number(n) => {
            out.push(marker::NUMBER);
            out.extend_from_slice(&n.to_be_bytes());
        }
        Amf0Value::Boolean(b) => out.extend_from_slice(&[marker::BOOLEAN, u8::from(*b)]),
        Amf0Value::String(s) if s.len() <= usize::from(u16::MAX) => {
            out.push(marker::STRING);
            put_short_str(s, out);
        }
        Amf0Value::String(s) | Amf0Value::LongString(s) => {
            out.push(marker::LONG_STRING);
            put_long_str(s, out);
        }
        Amf0Value::Object(props) => {
            out.push(marker::OBJECT);
            put_properties(props, out);
        }
        Amf0Value::Null => out.push(marker::NULL),
        Amf0Value::Undefined => out.push(marker::UNDEFINED),
        Amf0Value::Reference(i) => {
            out.push(marker::REFERENCE);
            out.extend_from_slice(&i.to_be_bytes());
        }
        Amf0Value::EcmaArray { count, properties } => {
            out.push(marker::ECMA_ARRAY);
            out.extend_from_slice(&count.to_be_bytes());
            put_properties(properties, out);
        }
        Amf0Value::StrictArray(items) => {
            out.push(marker::STRICT_ARRAY);
            out.extend_from_slice(&len_u32(items.len()).to_be_bytes());
            for item in items {
                encode(item, out);
            }
        }
        Amf0Value::Date { millis, timezone } => {
            out.push(marker::DATE);
            out.extend_from_slice(&millis.to_be_bytes());
            out.extend_from_slice(&timezone.to_be_bytes());
        }
        Amf0Value::Unsupported => out.push(marker::UNSUPPORTED),
        Amf0Value::XmlDocument(s) => {
            out.push(marker::XML_DOCUMENT);
            put_long_str(s, out);
        }
        Amf0Value::TypedObject {
            class_name,
            properties,
        } => {
            out.push(marker::TYPED_OBJECT);
            put_short_str(class_name, out);
            put_properties(properties, out);
        }
        Amf0Value::Amf3(v) => {
            out.push(marker::AVMPLUS);
            amf3::encode(v, out);
        }
    }
}

/// Appends the encodings of `values`, one after the other.
pub fn encode_all(values: &[Amf0Value], out: &mut Vec<u8>) {
    for v in values {
        encode(v, out);
    }
}

/// The encoded size of `v` in bytes.
pub fn encoded_len(v: &Amf0Value) -> usize {
    let mut buf = Vec::new();
    encode(v, &mut buf);
    buf.len()
}

fn len_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The longest prefix of `s` that is at most `max` bytes and ends on a character boundary.
fn prefix_within(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn put_short_str(s: &str, out: &mut Vec<u8>) {
    let s = prefix_within(s, usize::from(u16::MAX));
    // `prefix_within` guarantees the length fits in 16 bits.
    out.extend_from_slice(&(s.len() as u16).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn put_long_str(s: &str, out: &mut Vec<u8>) {
    let s = prefix_within(s, u32::MAX as usize);
    out.extend_from_slice(&len_u32(s.len()).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn put_properties(props: &Properties<Amf0Value>, out: &mut Vec<u8>) {
    for (name, value) in props {
        put_short_str(name, out);
        encode(value, out);
    }
    out.extend_from_slice(&[0, 0, marker::OBJECT_END]);
}

/// A bounded AMF0 reader over one buffer.
struct Decoder<'a> {
    r: ByteReader<'a>,
    limits: Limits,
    values_left: usize,
    depth: usize,
}

impl<'a> Decoder<'a> {
    fn new(buf: &'a [u8], limits: Limits) -> Self {
        Decoder {
            r: ByteReader::new(buf, 0),
            limits,
            values_left: limits.max_values,
            depth: 0,
        }
    }

    fn utf8(&mut self, len: usize) -> Result<String, AmfError> {
        let start = self.r.pos;
        let bytes = self.r.take(len)?;
        match std::str::from_utf8(bytes) {
            Ok(s) => Ok(s.to_owned()),
            Err(_) => Err(self.r.err(start, AmfErrorKind::InvalidUtf8)),
        }
    }

    fn short_str(&mut self) -> Result<String, AmfError> {
        let len = self.r.u16()?;
        self.utf8(usize::from(len))
    }

    fn long_str(&mut self) -> Result<String, AmfError> {
        let at = self.r.pos;
        let len = self.r.u32()?;
        let len = usize::try_from(len).map_err(|_| {
            self.r
                .err(at, AmfErrorKind::LengthTooLarge { length: len.into() })
        })?;
        self.utf8(len)
    }

    fn count_value(&mut self, at: usize) -> Result<(), AmfError> {
        if self.values_left == 0 {
            return Err(self.r.err(
                at,
                AmfErrorKind::TooManyValues {
                    limit: self.limits.max_values,
                },
            ));
        }
        self.values_left -= 1;
        Ok(())
    }

    fn enter(&mut self, at: usize) -> Result<(), AmfError> {
        if self.depth >= self.limits.max_depth {
            return Err(self.r.err(
                at,
                AmfErrorKind::TooDeep {
                    limit: self.limits.max_depth,
                },
            ));
        }
        self.depth += 1;
        Ok(())
    }

    fn value(&mut self) -> Result<Amf0Value, AmfError> {
        let at = self.r.pos;
        self.count_value(at)?;
        let m = self.r.u8()?;
        Ok(match m {
            marker::NUMBER => Amf0Value::Number(self.r.f64()?),
            marker::BOOLEAN => Amf0Value::Boolean(self.r.u8()? != 0),
            marker::STRING => Amf0Value::String(self.short_str()?),
            marker::OBJECT => {
                self.enter(at)?;
                let props = self.properties(false)?;
                self.depth -= 1;
                Amf0Value::Object(props)
            }
            marker::NULL => Amf0Value::Null,
            marker::UNDEFINED => Amf0Value::Undefined,
            marker::REFERENCE => Amf0Value::Reference(self.r.u16()?),
            marker::ECMA_ARRAY => {
                let count = self.r.u32()?;
                self.enter(at)?;
                let properties = self.properties(true)?;
                self.depth -= 1;
                Amf0Value::EcmaArray { count, properties }
            }
            marker::STRICT_ARRAY => {
                let count_at = self.r.pos;
                let count = self.r.u32()?;
                // Every element takes at least one byte: a count beyond what is left is a lie.
                if u64::from(count) > self.r.remaining() as u64 {
                    return Err(self.r.err(
                        count_at,
                        AmfErrorKind::LengthTooLarge {
                            length: count.into(),
                        },
                    ));
                }
                self.enter(at)?;
                let mut items = Vec::with_capacity(count as usize);
                for _ in 0..count {
                    items.push(self.value()?);
                }
                self.depth -= 1;
                Amf0Value::StrictArray(items)
            }
            marker::DATE => {
                let millis = self.r.f64()?;
                let timezone = i16::from_be_bytes(self.r.array()?);
                Amf0Value::Date { millis, timezone }
            }
            marker::LONG_STRING => Amf0Value::LongString(self.long_str()?),
            marker::UNSUPPORTED => Amf0Value::Unsupported,
            marker::XML_DOCUMENT => Amf0Value::XmlDocument(self.long_str()?),
            marker::TYPED_OBJECT => {
                let class_name = self.short_str()?;
                self.enter(at)?;
                let properties = self.properties(false)?;
                self.depth -= 1;
                Amf0Value::TypedObject {
                    class_name,
                    properties,
                }
            }
            marker::AVMPLUS => {
                let rest = self.r.rest();
                let (v, used) = amf3::decode_embedded(
                    rest,
                    self.r.pos,
                    self.limits,
                    self.depth,
                    &mut self.values_left,
                )?;
                self.r.pos += used;
                Amf0Value::Amf3(v)
            }
            marker::OBJECT_END => {
                return Err(self.r.err(at, AmfErrorKind::UnexpectedMarker(m)));
            }
            marker::MOVIECLIP | marker::RECORDSET => {
                return Err(self.r.err(at, AmfErrorKind::UnexpectedMarker(m)));
            }
            _ => return Err(self.r.err(at, AmfErrorKind::UnknownMarker(m))),
        })
    }

    /// Name/value pairs up to the empty name followed by the object-end marker.
    ///
    /// `lenient_end`: an ECMA array whose input ends where its end marker should be is accepted;
    /// some encoders of `onMetaData` leave the marker out.
    fn properties(&mut self, lenient_end: bool) -> Result<Properties<Amf0Value>, AmfError> {
        let mut props = Vec::new();
        loop {
            if lenient_end && self.r.remaining() == 0 {
                return Ok(props);
            }
            let name = self.short_str()?;
            if name.is_empty() {
                // An empty name before the end marker; anything else is a value with an empty name.
                if self.r.peek() == Some(marker::OBJECT_END) {
                    self.r.pos += 1;
                    return Ok(props);
                }
                if lenient_end && self.r.remaining() == 0 {
                    return Ok(props);
                }
            }
            let value = self.value()?;
            props.push((name, value));
        }
    }
}

#[cfg(test)]
mod tests;
