//! The canonical AMF3 writer.

use std::collections::HashMap;

use super::super::{Amf3Object, Amf3Value, Properties};
use super::{INTEGER_MAX, INTEGER_MIN, LENGTH_MAX, marker};

/// Most sealed members inline traits can declare (the count has 25 bits).
const SEALED_MAX: usize = (1 << 25) - 1;
/// Highest index a trait reference can name (27 bits).
const TRAITS_INDEX_MAX: u32 = (1 << 27) - 1;
/// Highest index a string reference can name (28 bits).
const STRING_INDEX_MAX: u32 = (1 << 28) - 1;

/// Appends the AMF3 encoding of `v` to `out`, with reference tables of its own.
///
/// The encoding is canonical: integers and lengths take their shortest U29 form, a non-empty
/// string written before (value, class, member or vector type name) is written as a string
/// reference, an object whose class name, dynamic flag and sealed names match an earlier
/// object's is written with a trait reference, and objects are never written as object
/// references (a tree has no identity to preserve, and a copy would be read back the same).
///
/// Encoding cannot fail; what the wire cannot carry is written as the nearest thing it can:
/// - an [`Amf3Value::Integer`] outside [`INTEGER_MIN`]..=[`INTEGER_MAX`] is written as a double
///   (it decodes as [`Amf3Value::Double`] with the same numeric value);
/// - an associative entry or dynamic member with an empty name is left out (the empty name ends
///   the list on the wire, so no decoder can produce one);
/// - an object with dynamic members but `dynamic == false` is written with dynamic traits;
/// - strings, byte arrays and element lists longer than [`LENGTH_MAX`] (and more than 2^25 − 1
///   sealed members) are cut to what fits, strings on a character boundary.
pub fn encode(v: &Amf3Value, out: &mut Vec<u8>) {
    Encoder {
        out,
        strings: HashMap::new(),
        string_count: 0,
        traits: HashMap::new(),
        traits_count: 0,
    }
    .value(v);
}

/// Appends the encodings of `values`, one after the other, each with its own reference tables
/// (as [`super::decode_all`] reads them).
pub fn encode_all(values: &[Amf3Value], out: &mut Vec<u8>) {
    for v in values {
        encode(v, out);
    }
}

/// The traits table key: class name, dynamic flag, sealed member names.
type TraitsKey<'v> = (&'v str, bool, Vec<&'v str>);

struct Encoder<'v, 'o> {
    out: &'o mut Vec<u8>,
    strings: HashMap<&'v str, u32>,
    /// Entries the decoder's string table will hold (some may be missing from `strings`).
    string_count: u32,
    traits: HashMap<TraitsKey<'v>, u32>,
    traits_count: u32,
}

/// Writes `v` (below 2^29) in its shortest U29 form.
fn put_u29(out: &mut Vec<u8>, v: u32) {
    let v = v & 0x1FFF_FFFF;
    // The casts keep the low 8 bits on purpose: each byte holds 7 (or, last, 8) bits of `v`.
    if v < 0x80 {
        out.push(v as u8);
    } else if v < 0x4000 {
        out.extend_from_slice(&[(v >> 7) as u8 | 0x80, (v & 0x7F) as u8]);
    } else if v < 0x20_0000 {
        out.extend_from_slice(&[
            (v >> 14) as u8 | 0x80,
            ((v >> 7) & 0x7F) as u8 | 0x80,
            (v & 0x7F) as u8,
        ]);
    } else {
        out.extend_from_slice(&[
            (v >> 22) as u8 | 0x80,
            ((v >> 15) & 0x7F) as u8 | 0x80,
            ((v >> 8) & 0x7F) as u8 | 0x80,
            v as u8,
        ]);
    }
}

/// An inline length or count: `len << 1 | 1`, with `len` already at most [`LENGTH_MAX`].
fn put_len(out: &mut Vec<u8>, len: usize) {
    let len = u32::try_from(len.min(LENGTH_MAX)).unwrap_or(0);
    put_u29(out, (len << 1) | 1);
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
    s.get(..end).unwrap_or_default()
}

fn within<T>(items: &[T], max: usize) -> &[T] {
    items.get(..max).unwrap_or(items)
}

impl<'v> Encoder<'v, '_> {
    fn value(&mut self, v: &'v Amf3Value) {
        match v {
            Amf3Value::Undefined => self.out.push(marker::UNDEFINED),
            Amf3Value::Null => self.out.push(marker::NULL),
            Amf3Value::Boolean(false) => self.out.push(marker::FALSE),
            Amf3Value::Boolean(true) => self.out.push(marker::TRUE),
            Amf3Value::Integer(i) if (INTEGER_MIN..=INTEGER_MAX).contains(i) => {
                self.out.push(marker::INTEGER);
                // Two's complement cut to 29 bits; the decoder sign-extends it back.
                put_u29(self.out, *i as u32);
            }
            Amf3Value::Integer(i) => self.double(f64::from(*i)),
            Amf3Value::Double(d) => self.double(*d),
            Amf3Value::String(s) => {
                self.out.push(marker::STRING);
                self.utf8_vr(s);
            }
            Amf3Value::XmlDocument(s) => {
                self.out.push(marker::XML_DOCUMENT);
                self.text(s);
            }
            Amf3Value::Date(millis) => {
                self.out.push(marker::DATE);
                put_u29(self.out, 1);
                self.out.extend_from_slice(&millis.to_be_bytes());
            }
            Amf3Value::Array { associative, dense } => {
                let dense = within(dense, LENGTH_MAX);
                self.out.push(marker::ARRAY);
                put_len(self.out, dense.len());
                self.named_values(associative);
                for item in dense {
                    self.value(item);
                }
            }
            Amf3Value::Object(obj) => self.object(obj),
            Amf3Value::Xml(s) => {
                self.out.push(marker::XML);
                self.text(s);
            }
            Amf3Value::ByteArray(bytes) => {
                let bytes = within(bytes, LENGTH_MAX);
                self.out.push(marker::BYTE_ARRAY);
                put_len(self.out, bytes.len());
                self.out.extend_from_slice(bytes);
            }
            Amf3Value::VectorInt { fixed, items } => {
                self.vector_head(marker::VECTOR_INT, items.len(), *fixed);
                for i in within(items, LENGTH_MAX) {
                    self.out.extend_from_slice(&i.to_be_bytes());
                }
            }
            Amf3Value::VectorUint { fixed, items } => {
                self.vector_head(marker::VECTOR_UINT, items.len(), *fixed);
                for u in within(items, LENGTH_MAX) {
                    self.out.extend_from_slice(&u.to_be_bytes());
                }
            }
            Amf3Value::VectorDouble { fixed, items } => {
                self.vector_head(marker::VECTOR_DOUBLE, items.len(), *fixed);
                for d in within(items, LENGTH_MAX) {
                    self.out.extend_from_slice(&d.to_be_bytes());
                }
            }
            Amf3Value::VectorObject {
                fixed,
                type_name,
                items,
            } => {
                self.vector_head(marker::VECTOR_OBJECT, items.len(), *fixed);
                self.utf8_vr(type_name);
                for item in within(items, LENGTH_MAX) {
                    self.value(item);
                }
            }
            Amf3Value::Dictionary { weak_keys, entries } => {
                let entries = within(entries, LENGTH_MAX);
                self.out.push(marker::DICTIONARY);
                put_len(self.out, entries.len());
                self.out.push(u8::from(*weak_keys));
                for (key, value) in entries {
                    self.value(key);
                    self.value(value);
                }
            }
        }
    }

    fn double(&mut self, d: f64) {
        self.out.push(marker::DOUBLE);
        self.out.extend_from_slice(&d.to_be_bytes());
    }

    fn vector_head(&mut self, m: u8, len: usize, fixed: bool) {
        self.out.push(m);
        put_len(self.out, len);
        self.out.push(u8::from(fixed));
    }

    /// The characters of an XML value: always inline (they belong to the object table, which
    /// this encoder never refers to).
    fn text(&mut self, s: &str) {
        let s = prefix_within(s, LENGTH_MAX);
        put_len(self.out, s.len());
        self.out.extend_from_slice(s.as_bytes());
    }

    /// UTF-8-vr: a reference to an equal string written before, or the string inline.
    fn utf8_vr(&mut self, s: &'v str) {
        if s.is_empty() {
            put_u29(self.out, 1);
            return;
        }
        if let Some(&index) = self.strings.get(s) {
            put_u29(self.out, index << 1);
            return;
        }
        let s = prefix_within(s, LENGTH_MAX);
        put_len(self.out, s.len());
        self.out.extend_from_slice(s.as_bytes());
        if self.string_count <= STRING_INDEX_MAX {
            self.strings.entry(s).or_insert(self.string_count);
        }
        self.string_count = self.string_count.saturating_add(1);
    }

    fn named_values(&mut self, props: &'v Properties<Amf3Value>) {
        for (name, value) in props.iter().filter(|(name, _)| !name.is_empty()) {
            self.utf8_vr(name);
            self.value(value);
        }
        put_u29(self.out, 1);
    }

    fn object(&mut self, obj: &'v Amf3Object) {
        let sealed = within(&obj.sealed, SEALED_MAX);
        let dynamic = obj.dynamic || !obj.dynamic_members.is_empty();
        self.out.push(marker::OBJECT);
        let key: TraitsKey<'v> = (
            &obj.class_name,
            dynamic,
            sealed.iter().map(|(name, _)| name.as_str()).collect(),
        );
        if let Some(&index) = self.traits.get(&key) {
            // Inline object (bit 0), traits by reference (bit 1 clear).
            put_u29(self.out, (index << 2) | 0b01);
        } else {
            // `sealed` is cut to 25 bits, so the shift stays within 29 bits.
            let count = u32::try_from(sealed.len()).unwrap_or(0);
            put_u29(self.out, (count << 4) | (u32::from(dynamic) << 3) | 0b011);
            self.utf8_vr(&obj.class_name);
            for (name, _) in sealed {
                self.utf8_vr(name);
            }
            if self.traits_count <= TRAITS_INDEX_MAX {
                self.traits.insert(key, self.traits_count);
            }
            self.traits_count = self.traits_count.saturating_add(1);
        }
        for (_, value) in sealed {
            self.value(value);
        }
        if dynamic {
            self.named_values(&obj.dynamic_members);
        }
    }
}
