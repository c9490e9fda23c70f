//! Action Message Format: AMF0 and AMF3 values with their decoders and encoders.
//!
//! Values keep everything that is on the wire (property order, the distinction between an
//! anonymous object and an ECMA array, unresolved AMF0 references), so that a decoded value
//! encodes back to the same bytes. Decoding is bounded: nesting depth, element counts and the
//! total number of decoded values are limited by [`Limits`], and every malformed input is an
//! [`AmfError`] that names the offset where it went wrong.

pub mod amf0;
pub mod amf3;
mod error;
mod reader;

pub use error::{AmfError, AmfErrorKind};

/// Ordered name/value pairs: the members of an object or the associative part of an array.
pub type Properties<V> = Vec<(String, V)>;

/// Bounds applied while decoding untrusted AMF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Deepest allowed nesting of containers (objects, arrays, vectors, dictionaries).
    pub max_depth: usize,
    /// Most values (of any kind, counted recursively) one top-level decode may produce. Guards
    /// against reference bombs in AMF3, where a few bytes can name a large object many times.
    pub max_values: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 64,
            max_values: 1 << 20,
        }
    }
}

/// One AMF0 value.
#[derive(Debug, Clone, PartialEq)]
pub enum Amf0Value {
    /// 0x00: IEEE 754 double.
    Number(f64),
    /// 0x01
    Boolean(bool),
    /// 0x02: string of up to 65535 bytes.
    String(String),
    /// 0x03: anonymous object; properties in wire order.
    Object(Properties<Amf0Value>),
    /// 0x05
    Null,
    /// 0x06
    Undefined,
    /// 0x07: reference to an earlier complex value by index, kept unresolved.
    Reference(u16),
    /// 0x08: associative array. `count` is the 32-bit count hint written on the wire, which real
    /// encoders often get wrong; it is kept so the value re-encodes byte for byte.
    EcmaArray {
        count: u32,
        properties: Properties<Amf0Value>,
    },
    /// 0x0A
    StrictArray(Vec<Amf0Value>),
    /// 0x0B: milliseconds since the Unix epoch and the (unused, usually 0) time zone.
    Date { millis: f64, timezone: i16 },
    /// 0x0C: string longer than 65535 bytes (or written with the long marker).
    LongString(String),
    /// 0x0D
    Unsupported,
    /// 0x0F
    XmlDocument(String),
    /// 0x10
    TypedObject {
        class_name: String,
        properties: Properties<Amf0Value>,
    },
    /// 0x11: the AVM+ switch; the rest of this value is AMF3.
    Amf3(Amf3Value),
}

/// An AMF3 object's class and members.
#[derive(Debug, Clone, PartialEq)]
pub struct Amf3Object {
    /// Empty for an anonymous object.
    pub class_name: String,
    /// Whether the traits are dynamic (members beyond the sealed ones may follow).
    pub dynamic: bool,
    /// Sealed members in trait order.
    pub sealed: Properties<Amf3Value>,
    /// Dynamic members in wire order (always empty when `dynamic` is false).
    pub dynamic_members: Properties<Amf3Value>,
}

/// One AMF3 value. References (string, object and trait tables) are resolved while decoding.
#[derive(Debug, Clone, PartialEq)]
pub enum Amf3Value {
    /// 0x00
    Undefined,
    /// 0x01
    Null,
    /// 0x02 (false) and 0x03 (true)
    Boolean(bool),
    /// 0x04: 29-bit signed integer.
    Integer(i32),
    /// 0x05
    Double(f64),
    /// 0x06
    String(String),
    /// 0x07: legacy XML document.
    XmlDocument(String),
    /// 0x08: milliseconds since the Unix epoch.
    Date(f64),
    /// 0x09: associative part (wire order) and dense part.
    Array {
        associative: Properties<Amf3Value>,
        dense: Vec<Amf3Value>,
    },
    /// 0x0A
    Object(Box<Amf3Object>),
    /// 0x0B: E4X XML.
    Xml(String),
    /// 0x0C
    ByteArray(Vec<u8>),
    /// 0x0D
    VectorInt { fixed: bool, items: Vec<i32> },
    /// 0x0E
    VectorUint { fixed: bool, items: Vec<u32> },
    /// 0x0F
    VectorDouble { fixed: bool, items: Vec<f64> },
    /// 0x10
    VectorObject {
        fixed: bool,
        type_name: String,
        items: Vec<Amf3Value>,
    },
    /// 0x11
    Dictionary {
        weak_keys: bool,
        entries: Vec<(Amf3Value, Amf3Value)>,
    },
}

impl Amf0Value {
    /// The string, for both the short and the long string markers.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Amf0Value::String(s) | Amf0Value::LongString(s) => Some(s),
            Amf0Value::Amf3(Amf3Value::String(s)) => Some(s),
            _ => None,
        }
    }

    /// The number (AMF3 integers and doubles behind an AVM+ switch included).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Amf0Value::Number(n) => Some(*n),
            Amf0Value::Amf3(Amf3Value::Double(n)) => Some(*n),
            Amf0Value::Amf3(Amf3Value::Integer(n)) => Some(f64::from(*n)),
            _ => None,
        }
    }

    /// The boolean.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Amf0Value::Boolean(b) | Amf0Value::Amf3(Amf3Value::Boolean(b)) => Some(*b),
            _ => None,
        }
    }

    /// Properties of an object, typed object or ECMA array.
    pub fn properties(&self) -> Option<&[(String, Amf0Value)]> {
        match self {
            Amf0Value::Object(p)
            | Amf0Value::EcmaArray { properties: p, .. }
            | Amf0Value::TypedObject { properties: p, .. } => Some(p),
            _ => None,
        }
    }

    /// The first property named `key` of an object, typed object or ECMA array.
    pub fn get(&self, key: &str) -> Option<&Amf0Value> {
        self.properties()?
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// `Null` and `Undefined` both mean "nothing" in RTMP commands.
    pub fn is_null(&self) -> bool {
        matches!(
            self,
            Amf0Value::Null
                | Amf0Value::Undefined
                | Amf0Value::Amf3(Amf3Value::Null)
                | Amf0Value::Amf3(Amf3Value::Undefined)
        )
    }

    /// A string value, with the long-string marker when it does not fit a short string.
    pub fn string(s: impl Into<String>) -> Amf0Value {
        let s = s.into();
        if s.len() > usize::from(u16::MAX) {
            Amf0Value::LongString(s)
        } else {
            Amf0Value::String(s)
        }
    }

    /// An anonymous object from `(name, value)` pairs.
    pub fn object<K: Into<String>>(pairs: impl IntoIterator<Item = (K, Amf0Value)>) -> Amf0Value {
        Amf0Value::Object(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }
}
