//! AMF0: decoder and encoder for every marker of the AMF0 specification, including the AVM+
//! switch (marker 0x11) into AMF3.

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
    Ok((v, d.pos))
}

/// Decodes values until `buf` is used up (the body of a command or data message).
pub fn decode_all(buf: &[u8]) -> Result<Vec<Amf0Value>, AmfError> {
    decode_all_with_limits(buf, Limits::default())
}

/// [`decode_all`] with explicit limits. The value budget is shared by all values of `buf`.
pub fn decode_all_with_limits(buf: &[u8], limits: Limits) -> Result<Vec<Amf0Value>, AmfError> {
    let mut d = Decoder::new(buf, limits);
    let mut out = Vec::new();
    while d.pos < buf.len() {
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
    buf: &'a [u8],
    pos: usize,
    limits: Limits,
    values_left: usize,
    depth: usize,
}

impl<'a> Decoder<'a> {
    fn new(buf: &'a [u8], limits: Limits) -> Self {
        Decoder {
            buf,
            pos: 0,
            limits,
            values_left: limits.max_values,
            depth: 0,
        }
    }

    fn err(&self, offset: usize, kind: AmfErrorKind) -> AmfError {
        AmfError { offset, kind }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], AmfError> {
        let rest = self.buf.get(self.pos..).unwrap_or_default();
        match rest.get(..n) {
            Some(bytes) => {
                self.pos += n;
                Ok(bytes)
            }
            None => Err(self.err(
                self.pos,
                AmfErrorKind::Truncated {
                    needed: n - rest.len(),
                },
            )),
        }
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], AmfError> {
        let bytes = self.take(N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, AmfError> {
        Ok(self.array::<1>()?[0])
    }

    fn u16(&mut self) -> Result<u16, AmfError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    fn u32(&mut self) -> Result<u32, AmfError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    fn f64(&mut self) -> Result<f64, AmfError> {
        Ok(f64::from_be_bytes(self.array()?))
    }

    fn utf8(&mut self, len: usize) -> Result<String, AmfError> {
        let start = self.pos;
        let bytes = self.take(len)?;
        match std::str::from_utf8(bytes) {
            Ok(s) => Ok(s.to_owned()),
            Err(_) => Err(self.err(start, AmfErrorKind::InvalidUtf8)),
        }
    }

    fn short_str(&mut self) -> Result<String, AmfError> {
        let len = self.u16()?;
        self.utf8(usize::from(len))
    }

    fn long_str(&mut self) -> Result<String, AmfError> {
        let at = self.pos;
        let len = self.u32()?;
        let len = usize::try_from(len)
            .map_err(|_| self.err(at, AmfErrorKind::LengthTooLarge { length: len.into() }))?;
        self.utf8(len)
    }

    fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    fn count_value(&mut self, at: usize) -> Result<(), AmfError> {
        if self.values_left == 0 {
            return Err(self.err(
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
            return Err(self.err(
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
        let at = self.pos;
        self.count_value(at)?;
        let m = self.u8()?;
        Ok(match m {
            marker::NUMBER => Amf0Value::Number(self.f64()?),
            marker::BOOLEAN => Amf0Value::Boolean(self.u8()? != 0),
            marker::STRING => Amf0Value::String(self.short_str()?),
            marker::OBJECT => {
                self.enter(at)?;
                let props = self.properties(false)?;
                self.depth -= 1;
                Amf0Value::Object(props)
            }
            marker::NULL => Amf0Value::Null,
            marker::UNDEFINED => Amf0Value::Undefined,
            marker::REFERENCE => Amf0Value::Reference(self.u16()?),
            marker::ECMA_ARRAY => {
                let count = self.u32()?;
                self.enter(at)?;
                let properties = self.properties(true)?;
                self.depth -= 1;
                Amf0Value::EcmaArray { count, properties }
            }
            marker::STRICT_ARRAY => {
                let count_at = self.pos;
                let count = self.u32()?;
                // Every element takes at least one byte: a count beyond what is left is a lie.
                if u64::from(count) > self.remaining() as u64 {
                    return Err(self.err(
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
                let millis = self.f64()?;
                let timezone = i16::from_be_bytes(self.array()?);
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
                let rest = self.buf.get(self.pos..).unwrap_or_default();
                let (v, used) = amf3::decode_embedded(
                    rest,
                    self.pos,
                    self.limits,
                    self.depth,
                    &mut self.values_left,
                )?;
                self.pos += used;
                Amf0Value::Amf3(v)
            }
            marker::OBJECT_END => {
                return Err(self.err(at, AmfErrorKind::UnexpectedMarker(m)));
            }
            marker::MOVIECLIP | marker::RECORDSET => {
                return Err(self.err(at, AmfErrorKind::UnexpectedMarker(m)));
            }
            _ => return Err(self.err(at, AmfErrorKind::UnknownMarker(m))),
        })
    }

    /// Name/value pairs up to the empty name followed by the object-end marker.
    ///
    /// `lenient_end`: an ECMA array whose input ends where its end marker should be is accepted;
    /// some encoders of `onMetaData` leave the marker out.
    fn properties(&mut self, lenient_end: bool) -> Result<Properties<Amf0Value>, AmfError> {
        let mut props = Vec::new();
        loop {
            if lenient_end && self.remaining() == 0 {
                return Ok(props);
            }
            let name = self.short_str()?;
            if name.is_empty() {
                let end_at = self.pos;
                // An empty name before the end marker; anything else is a value with an empty name.
                if self.buf.get(end_at) == Some(&marker::OBJECT_END) {
                    self.pos += 1;
                    return Ok(props);
                }
                if lenient_end && self.remaining() == 0 {
                    return Ok(props);
                }
            }
            let value = self.value()?;
            props.push((name, value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let clean: String = s.chars().filter(|c| c.is_ascii_hexdigit()).collect();
        hex::decode(clean).expect("test vector is valid hex")
    }

    fn roundtrip(bytes: &[u8]) -> Vec<Amf0Value> {
        let values = decode_all(bytes).expect("decodes");
        let mut out = Vec::new();
        encode_all(&values, &mut out);
        assert_eq!(out, bytes, "re-encodes byte for byte");
        values
    }

    /// Seed 000: the body of ffmpeg's `connect('live')`.
    #[test]
    fn seed_000_connect_body() {
        let body = hex("02 00 07 63 6f 6e 6e 65 63 74 00 3f f0 00 00 00 00 00 00 03
             00 03 61 70 70 02 00 04 6c 69 76 65 00 04 74 79
             70 65 02 00 0a 6e 6f 6e 70 72 69 76 61 74 65 00
             08 66 6c 61 73 68 56 65 72 02 00 24 46 4d 4c 45
             2f 33 2e 30 20 28 63 6f 6d 70 61 74 69 62 6c 65
             3b 20 4c 61 76 66 36 30 2e 31 36 2e 31 30 30 29
             00 05 74 63 55 72 6c 02 00 1f 72 74 6d 70 3a 2f
             2f 31 32 34 2e 32 32 32 2e 37 33 2e 32 33 31 3a
             31 39 33 35 2f 6c 69 76 65 00 00 09");
        assert_eq!(body.len(), 144);
        let v = roundtrip(&body);
        assert_eq!(v.len(), 3);
        assert_eq!(v[0].as_str(), Some("connect"));
        assert_eq!(v[1].as_f64(), Some(1.0));
        let obj = &v[2];
        assert_eq!(obj.properties().map(|p| p.len()), Some(4));
        assert_eq!(obj.get("app").and_then(Amf0Value::as_str), Some("live"));
        assert_eq!(
            obj.get("type").and_then(Amf0Value::as_str),
            Some("nonprivate")
        );
        assert_eq!(
            obj.get("flashVer").and_then(Amf0Value::as_str),
            Some("FMLE/3.0 (compatible; Lavf60.16.100)")
        );
        assert_eq!(
            obj.get("tcUrl").and_then(Amf0Value::as_str),
            Some("rtmp://124.222.73.231:1935/live")
        );
    }

    #[test]
    fn every_marker_roundtrips() {
        let values = vec![
            Amf0Value::Number(-2000.5),
            Amf0Value::Boolean(true),
            Amf0Value::Boolean(false),
            Amf0Value::String("héllo".into()),
            Amf0Value::object([("a", Amf0Value::Null), ("", Amf0Value::Undefined)]),
            Amf0Value::Reference(7),
            Amf0Value::EcmaArray {
                count: 99,
                properties: vec![("duration".into(), Amf0Value::Number(0.0))],
            },
            Amf0Value::StrictArray(vec![Amf0Value::Number(1.0), Amf0Value::Null]),
            Amf0Value::Date {
                millis: 1.7e12,
                timezone: -60,
            },
            Amf0Value::LongString("x".repeat(70_000)),
            Amf0Value::Unsupported,
            Amf0Value::XmlDocument("<a/>".into()),
            Amf0Value::TypedObject {
                class_name: "flex.Msg".into(),
                properties: vec![("body".into(), Amf0Value::Boolean(true))],
            },
        ];
        let mut bytes = Vec::new();
        encode_all(&values, &mut bytes);
        assert_eq!(decode_all(&bytes).expect("decodes"), values);
    }

    #[test]
    fn long_short_string_uses_long_marker() {
        let mut out = Vec::new();
        encode(&Amf0Value::String("y".repeat(65_536)), &mut out);
        assert_eq!(out[0], marker::LONG_STRING);
        assert_eq!(
            decode(&out).expect("decodes").0,
            Amf0Value::LongString("y".repeat(65_536))
        );
    }

    #[test]
    fn ecma_array_without_end_marker_is_accepted() {
        // ECMA array, count 1, "w" = 1.0, then the input ends.
        let bytes = hex("08 00000001 0001 77 00 3ff0000000000000");
        let (v, used) = decode(&bytes).expect("lenient");
        assert_eq!(used, bytes.len());
        assert_eq!(v.get("w").and_then(Amf0Value::as_f64), Some(1.0));
    }

    #[test]
    fn errors_name_the_offset() {
        let e = decode(&hex("02 0005 6162")).expect_err("truncated");
        assert_eq!(e.offset, 3);
        assert_eq!(e.kind, AmfErrorKind::Truncated { needed: 3 });

        let e = decode_all(&hex("05 04")).expect_err("movieclip");
        assert_eq!(e.offset, 1);
        assert_eq!(e.kind, AmfErrorKind::UnexpectedMarker(0x04));

        let e = decode(&hex("12")).expect_err("unknown");
        assert_eq!(e.kind, AmfErrorKind::UnknownMarker(0x12));

        let e = decode(&hex("09")).expect_err("stray end");
        assert_eq!(e.kind, AmfErrorKind::UnexpectedMarker(0x09));

        let e = decode(&hex("02 0002 c328")).expect_err("bad utf8");
        assert_eq!((e.offset, e.kind), (3, AmfErrorKind::InvalidUtf8));

        let e = decode(&hex("0a ffffffff 05")).expect_err("array count lies");
        assert_eq!(e.offset, 1);
        assert!(matches!(e.kind, AmfErrorKind::LengthTooLarge { .. }));
    }

    #[test]
    fn nesting_bomb_is_refused() {
        // 10000 nested strict arrays of one element each.
        let mut bytes = Vec::new();
        for _ in 0..10_000 {
            bytes.extend_from_slice(&hex("0a 00000001"));
        }
        bytes.push(marker::NULL);
        let e = decode(&bytes).expect_err("too deep");
        assert!(matches!(e.kind, AmfErrorKind::TooDeep { limit: 64 }));

        let mut bytes = Vec::new();
        for _ in 0..10_000 {
            bytes.extend_from_slice(&hex("03 0001 61"));
        }
        let e = decode(&bytes).expect_err("too deep");
        assert!(matches!(e.kind, AmfErrorKind::TooDeep { .. }));
    }

    #[test]
    fn value_budget_is_enforced() {
        let mut bytes = Vec::new();
        encode(
            &Amf0Value::StrictArray(vec![Amf0Value::Null; 100]),
            &mut bytes,
        );
        let limits = Limits {
            max_depth: 8,
            max_values: 50,
        };
        let e = decode_with_limits(&bytes, limits).expect_err("budget");
        assert!(matches!(e.kind, AmfErrorKind::TooManyValues { limit: 50 }));
    }

    #[test]
    fn over_long_names_are_cut_on_a_char_boundary() {
        let name = "é".repeat(40_000); // 80000 bytes
        let mut out = Vec::new();
        encode(&Amf0Value::object([(name, Amf0Value::Null)]), &mut out);
        let (v, _) = decode(&out).expect("decodes");
        let props = v.properties().expect("object");
        assert_eq!(props[0].0.len(), 65_534);
    }
}
