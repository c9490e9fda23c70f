//! The bounded AMF3 reader.
//!
//! References are resolved by reading the referenced value's bytes again ("replaying" them) at
//! the place of the reference, instead of keeping a decoded copy of every object in the table:
//! the table then costs a few words per object whatever the nesting, and a replay is charged to
//! the value budget and held to the depth limit exactly like fresh input. A replay reads bytes
//! that were already checked, so it can only fail on the budget or the depth; such an error is
//! reported at the offset of the reference that started it.

use super::super::{Amf3Object, Amf3Value, AmfError, AmfErrorKind, Limits, Properties};
use super::{CLONED_BYTES_PER_VALUE, marker};
use crate::amf::reader::ByteReader;

/// Decodes one value with fresh reference tables. See [`super::decode_embedded`].
pub(super) fn decode_value(
    buf: &[u8],
    base: usize,
    limits: Limits,
    depth: usize,
    values_left: &mut usize,
) -> Result<(Amf3Value, usize), AmfError> {
    let mut d = Decoder {
        r: ByteReader::new(buf, base),
        limits,
        depth,
        values_left: *values_left,
        strings: Vec::new(),
        traits: Vec::new(),
        objects: Vec::new(),
        replaying: 0,
    };
    let v = d.value()?;
    *values_left = d.values_left;
    Ok((v, d.r.pos))
}

/// One entry of the traits table. Names borrow from the input.
#[derive(Clone)]
struct Traits<'a> {
    class_name: &'a str,
    dynamic: bool,
    sealed: Vec<&'a str>,
    /// Total length of the class name and the sealed names: what a trait reference copies.
    name_bytes: usize,
}

/// One entry of the object table: where the value's body is, to read it again on reference.
#[derive(Clone, Copy)]
struct Slot {
    marker: u8,
    /// The U29 header with its "inline" bit removed.
    head: u32,
    body_at: usize,
    /// False while the value is being decoded: a reference to it then is a cycle.
    done: bool,
}

struct Decoder<'a> {
    r: ByteReader<'a>,
    limits: Limits,
    depth: usize,
    values_left: usize,
    strings: Vec<&'a str>,
    traits: Vec<Traits<'a>>,
    objects: Vec<Slot>,
    /// How many replays are running; while non-zero, tables are not extended (they already
    /// hold everything the replayed bytes define) and copied payload is charged.
    replaying: usize,
}

impl<'a> Decoder<'a> {
    /// Variable-length unsigned 29-bit integer: up to three bytes of 7 bits with a continuation
    /// flag, then (if needed) a fourth byte of 8 bits.
    fn u29(&mut self) -> Result<u32, AmfError> {
        let mut v = 0u32;
        for _ in 0..3 {
            let b = self.r.u8()?;
            v = (v << 7) | u32::from(b & 0x7F);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Ok((v << 8) | u32::from(self.r.u8()?))
    }

    fn charge(&mut self, at: usize, units: usize) -> Result<(), AmfError> {
        if units > self.values_left {
            return Err(self.r.err(
                at,
                AmfErrorKind::TooManyValues {
                    limit: self.limits.max_values,
                },
            ));
        }
        self.values_left -= units;
        Ok(())
    }

    /// Charges `bytes` of payload copied from an earlier part of the input.
    fn charge_copy(&mut self, at: usize, bytes: usize) -> Result<(), AmfError> {
        self.charge(at, bytes / CLONED_BYTES_PER_VALUE)
    }

    /// Charges payload read from the input: free the first time, a copy during a replay.
    fn charge_payload(&mut self, at: usize, bytes: usize) -> Result<(), AmfError> {
        if self.replaying > 0 {
            self.charge_copy(at, bytes)?;
        }
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

    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// A count of items that take at least `min_item_bytes` each, checked against the input left.
    fn count(&self, at: usize, count: u32, min_item_bytes: usize) -> Result<usize, AmfError> {
        let needed = u64::from(count) * min_item_bytes as u64;
        match usize::try_from(count) {
            Ok(n) if needed <= self.r.remaining() as u64 => Ok(n),
            _ => Err(self.r.err(
                at,
                AmfErrorKind::LengthTooLarge {
                    length: count.into(),
                },
            )),
        }
    }

    fn utf8(&mut self, len: u32) -> Result<&'a str, AmfError> {
        let start = self.r.pos;
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        let bytes = self.r.take(len)?;
        std::str::from_utf8(bytes).map_err(|_| self.r.err(start, AmfErrorKind::InvalidUtf8))
    }

    /// UTF-8-vr: a string reference (low bit 0) or an inline string (low bit 1), which joins
    /// the string table unless it is empty.
    fn utf8_vr(&mut self) -> Result<&'a str, AmfError> {
        let at = self.r.pos;
        let u = self.u29()?;
        if u & 1 == 0 {
            let index = u >> 1;
            let s = match self.strings.get(index as usize) {
                Some(s) => *s,
                None => {
                    return Err(self.r.err(
                        at,
                        AmfErrorKind::BadReference {
                            table: "string",
                            index,
                        },
                    ));
                }
            };
            self.charge_copy(at, s.len())?;
            return Ok(s);
        }
        let s = self.utf8(u >> 1)?;
        if self.replaying > 0 {
            self.charge_copy(at, s.len())?;
        } else if !s.is_empty() {
            self.strings.push(s);
        }
        Ok(s)
    }

    pub(super) fn value(&mut self) -> Result<Amf3Value, AmfError> {
        let at = self.r.pos;
        self.charge(at, 1)?;
        let m = self.r.u8()?;
        Ok(match m {
            marker::UNDEFINED => Amf3Value::Undefined,
            marker::NULL => Amf3Value::Null,
            marker::FALSE => Amf3Value::Boolean(false),
            marker::TRUE => Amf3Value::Boolean(true),
            // Sign-extend the 29-bit value.
            marker::INTEGER => Amf3Value::Integer(((self.u29()? << 3) as i32) >> 3),
            marker::DOUBLE => Amf3Value::Double(self.r.f64()?),
            marker::STRING => Amf3Value::String(self.utf8_vr()?.to_owned()),
            marker::XML_DOCUMENT..=marker::DICTIONARY => self.complex(at, m)?,
            _ => return Err(self.r.err(at, AmfErrorKind::UnknownMarker(m))),
        })
    }

    /// A value that lives in the object table: a reference, or a header and a body.
    fn complex(&mut self, at: usize, m: u8) -> Result<Amf3Value, AmfError> {
        let head_at = self.r.pos;
        let u = self.u29()?;
        if u & 1 == 0 {
            return self.resolve(at, u >> 1);
        }
        let head = u >> 1;
        if self.replaying > 0 {
            return self.body(at, head_at, m, head);
        }
        // The slot is taken before the body is read: members refer to it by this index.
        let index = self.objects.len();
        self.objects.push(Slot {
            marker: m,
            head,
            body_at: self.r.pos,
            done: false,
        });
        let v = self.body(at, head_at, m, head)?;
        if let Some(slot) = self.objects.get_mut(index) {
            slot.done = true;
        }
        Ok(v)
    }

    /// Materialises object-table entry `index` at the reference at offset `at`.
    fn resolve(&mut self, at: usize, index: u32) -> Result<Amf3Value, AmfError> {
        let slot = match self.objects.get(index as usize) {
            Some(slot) if slot.done => *slot,
            Some(_) => {
                return Err(self.r.err(
                    at,
                    AmfErrorKind::Unsupported(
                        "AMF3 reference to an object from inside itself (a cycle), which a value tree cannot hold",
                    ),
                ));
            }
            None => {
                return Err(self.r.err(
                    at,
                    AmfErrorKind::BadReference {
                        table: "object",
                        index,
                    },
                ));
            }
        };
        let resume = self.r.pos;
        self.r.pos = slot.body_at;
        self.replaying += 1;
        let result = self.body(at, slot.body_at, slot.marker, slot.head);
        self.replaying -= 1;
        self.r.pos = resume;
        // Errors inside a replay (budget, depth) belong to the outermost reference.
        let outermost = self.replaying == 0;
        result.map_err(|e| if outermost { self.r.err(at, e.kind) } else { e })
    }

    /// The part of an object-table value after its header. `at` is the marker's offset,
    /// `head_at` the header's, `head` the header without its inline bit.
    fn body(&mut self, at: usize, head_at: usize, m: u8, head: u32) -> Result<Amf3Value, AmfError> {
        Ok(match m {
            marker::XML_DOCUMENT => Amf3Value::XmlDocument(self.text(head_at, head)?),
            marker::XML => Amf3Value::Xml(self.text(head_at, head)?),
            // The header's other bits carry nothing for a date.
            marker::DATE => Amf3Value::Date(self.r.f64()?),
            marker::BYTE_ARRAY => {
                let bytes = self.r.take(usize::try_from(head).unwrap_or(usize::MAX))?;
                self.charge_payload(head_at, bytes.len())?;
                Amf3Value::ByteArray(bytes.to_vec())
            }
            marker::ARRAY => self.array_body(at, head_at, head)?,
            marker::OBJECT => self.object_body(at, head_at, head)?,
            marker::VECTOR_INT => {
                let (fixed, items) = self.numbers(at, head_at, head, i32::from_be_bytes)?;
                Amf3Value::VectorInt { fixed, items }
            }
            marker::VECTOR_UINT => {
                let (fixed, items) = self.numbers(at, head_at, head, u32::from_be_bytes)?;
                Amf3Value::VectorUint { fixed, items }
            }
            marker::VECTOR_DOUBLE => {
                let (fixed, items) = self.numbers(at, head_at, head, f64::from_be_bytes)?;
                Amf3Value::VectorDouble { fixed, items }
            }
            marker::VECTOR_OBJECT => {
                let count = self.count(head_at, head, 1)?;
                let fixed = self.r.u8()? != 0;
                let type_name = self.utf8_vr()?.to_owned();
                self.enter(at)?;
                let mut items = Vec::with_capacity(count);
                for _ in 0..count {
                    items.push(self.value()?);
                }
                self.leave();
                Amf3Value::VectorObject {
                    fixed,
                    type_name,
                    items,
                }
            }
            marker::DICTIONARY => {
                let count = self.count(head_at, head, 2)?;
                let weak_keys = self.r.u8()? != 0;
                self.enter(at)?;
                let mut entries = Vec::with_capacity(count);
                for _ in 0..count {
                    let key = self.value()?;
                    let value = self.value()?;
                    entries.push((key, value));
                }
                self.leave();
                Amf3Value::Dictionary { weak_keys, entries }
            }
            _ => return Err(self.r.err(at, AmfErrorKind::UnknownMarker(m))),
        })
    }

    /// The characters of an XML or XMLDocument value (`len` from its header).
    fn text(&mut self, head_at: usize, len: u32) -> Result<String, AmfError> {
        let s = self.utf8(len)?;
        self.charge_payload(head_at, s.len())?;
        Ok(s.to_owned())
    }

    /// The fixed flag and items of an int, uint or double vector.
    fn numbers<const W: usize, T>(
        &mut self,
        at: usize,
        head_at: usize,
        count: u32,
        from_bytes: fn([u8; W]) -> T,
    ) -> Result<(bool, Vec<T>), AmfError> {
        let count = self.count(head_at, count, W)?;
        let fixed = self.r.u8()? != 0;
        self.charge_payload(head_at, count * W)?;
        self.enter(at)?;
        let mut items = Vec::with_capacity(count);
        for _ in 0..count {
            items.push(from_bytes(self.r.array()?));
        }
        self.leave();
        Ok((fixed, items))
    }

    /// Name/value pairs up to the empty name (associative part of an array, dynamic members).
    fn named_values(&mut self) -> Result<Properties<Amf3Value>, AmfError> {
        let mut props = Vec::new();
        loop {
            let name = self.utf8_vr()?;
            if name.is_empty() {
                return Ok(props);
            }
            let value = self.value()?;
            props.push((name.to_owned(), value));
        }
    }

    fn array_body(&mut self, at: usize, head_at: usize, head: u32) -> Result<Amf3Value, AmfError> {
        let dense_len = self.count(head_at, head, 1)?;
        self.enter(at)?;
        let associative = self.named_values()?;
        let mut dense = Vec::with_capacity(dense_len.min(self.r.remaining()));
        for _ in 0..dense_len {
            dense.push(self.value()?);
        }
        self.leave();
        Ok(Amf3Value::Array { associative, dense })
    }

    fn object_body(&mut self, at: usize, head_at: usize, head: u32) -> Result<Amf3Value, AmfError> {
        let traits = self.traits(at, head_at, head)?;
        self.enter(at)?;
        let mut sealed = Vec::with_capacity(traits.sealed.len());
        for name in &traits.sealed {
            let value = self.value()?;
            sealed.push(((*name).to_owned(), value));
        }
        let dynamic_members = if traits.dynamic {
            self.named_values()?
        } else {
            Vec::new()
        };
        self.leave();
        Ok(Amf3Value::Object(Box::new(Amf3Object {
            class_name: traits.class_name.to_owned(),
            dynamic: traits.dynamic,
            sealed,
            dynamic_members,
        })))
    }

    /// An object's traits: a reference (bit 0 of `head` clear) or inline traits, where bit 1
    /// marks an externalizable class, bit 2 dynamic traits and the rest the sealed member count.
    fn traits(&mut self, at: usize, head_at: usize, head: u32) -> Result<Traits<'a>, AmfError> {
        if head & 1 == 0 {
            let index = head >> 1;
            let Some(traits) = self.traits.get(index as usize).cloned() else {
                return Err(self.r.err(
                    head_at,
                    AmfErrorKind::BadReference {
                        table: "traits",
                        index,
                    },
                ));
            };
            self.charge_copy(head_at, traits.name_bytes)?;
            return Ok(traits);
        }
        let class_name = self.utf8_vr()?;
        if head & 2 != 0 {
            return Err(self.r.err(
                at,
                AmfErrorKind::Externalizable {
                    class_name: class_name.to_owned(),
                },
            ));
        }
        let dynamic = head & 4 != 0;
        // Each sealed member has a name and a value of at least one byte each.
        let count = self.count(head_at, head >> 3, 2)?;
        let mut sealed = Vec::with_capacity(count);
        let mut name_bytes = class_name.len();
        for _ in 0..count {
            let name = self.utf8_vr()?;
            name_bytes += name.len();
            sealed.push(name);
        }
        let traits = Traits {
            class_name,
            dynamic,
            sealed,
            name_bytes,
        };
        if self.replaying == 0 {
            self.traits.push(traits.clone());
        }
        Ok(traits)
    }
}
