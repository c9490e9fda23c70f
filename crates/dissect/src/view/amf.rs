//! AMF values as Wireshark-style trees (tree view) and as typed JSON (json view).

use std::fmt::Write;

use rtmpkit_proto::amf::{Amf0Value, Amf3Value};
use serde_json::{Map, Value, json};

/// Deepest nesting printed; deeper values are summarised.
const MAX_DEPTH: usize = 32;
/// Longest string printed in full.
const MAX_STRING: usize = 512;

fn clip(s: &str) -> String {
    if s.len() <= MAX_STRING {
        return s.to_owned();
    }
    let mut end = MAX_STRING;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &s[..end], s.len())
}

/// Wireshark's one-line form of an AMF0 value: `String 'live'`, `Number 1`, `Object (4 items)`.
pub fn amf0_summary(v: &Amf0Value) -> String {
    match v {
        Amf0Value::Number(n) => format!("Number {n}"),
        Amf0Value::Boolean(b) => format!("Boolean {b}"),
        Amf0Value::String(s) => format!("String '{}'", clip(s)),
        Amf0Value::LongString(s) => format!("Long string '{}'", clip(s)),
        Amf0Value::Object(p) => format!("Object ({} items)", p.len()),
        Amf0Value::Null => "Null".into(),
        Amf0Value::Undefined => "Undefined".into(),
        Amf0Value::Reference(r) => format!("Reference {r}"),
        Amf0Value::EcmaArray { properties, .. } => {
            format!("ECMA array ({} items)", properties.len())
        }
        Amf0Value::StrictArray(items) => format!("Strict array ({} items)", items.len()),
        Amf0Value::Date { millis, .. } => format!("Date {millis}"),
        Amf0Value::Unsupported => "Unsupported".into(),
        Amf0Value::XmlDocument(s) => format!("XML document '{}'", clip(s)),
        Amf0Value::TypedObject {
            class_name,
            properties,
        } => format!("Typed object '{class_name}' ({} items)", properties.len()),
        Amf0Value::Amf3(v) => format!("AMF3 {}", amf3_summary(v)),
    }
}

fn amf0_marker(v: &Amf0Value) -> (&'static str, u8) {
    match v {
        Amf0Value::Number(_) => ("Number", 0x00),
        Amf0Value::Boolean(_) => ("Boolean", 0x01),
        Amf0Value::String(_) => ("String", 0x02),
        Amf0Value::Object(_) => ("Object", 0x03),
        Amf0Value::Null => ("Null", 0x05),
        Amf0Value::Undefined => ("Undefined", 0x06),
        Amf0Value::Reference(_) => ("Reference", 0x07),
        Amf0Value::EcmaArray { .. } => ("ECMA array", 0x08),
        Amf0Value::StrictArray(_) => ("Strict array", 0x0a),
        Amf0Value::Date { .. } => ("Date", 0x0b),
        Amf0Value::LongString(_) => ("Long string", 0x0c),
        Amf0Value::Unsupported => ("Unsupported", 0x0d),
        Amf0Value::XmlDocument(_) => ("XML document", 0x0f),
        Amf0Value::TypedObject { .. } => ("Typed object", 0x10),
        Amf0Value::Amf3(_) => ("AVM+ switch (AMF3)", 0x11),
    }
}

fn line(out: &mut String, depth: usize, text: &str) {
    for _ in 0..depth {
        out.push_str("    ");
    }
    out.push_str(text);
    out.push('\n');
}

fn string_lines(out: &mut String, depth: usize, label: &str, s: &str) {
    line(out, depth, &format!("String length: {}", s.len()));
    line(out, depth, &format!("{label}: {}", clip(s)));
}

/// Appends the tree of an AMF0 value at `depth` (4 spaces per level), as the seed documents
/// show Wireshark's: the summary line, the type, then lengths, values and members.
pub fn amf0_tree(out: &mut String, depth: usize, v: &Amf0Value) {
    line(out, depth, &amf0_summary(v));
    amf0_body(out, depth + 1, v);
}

fn amf0_body(out: &mut String, depth: usize, v: &Amf0Value) {
    let (name, marker) = amf0_marker(v);
    line(out, depth, &format!("AMF0 type: {name} (0x{marker:02x})"));
    if depth > MAX_DEPTH {
        line(out, depth, "[nested too deep to show]");
        return;
    }
    match v {
        Amf0Value::Number(n) => line(out, depth, &format!("Number: {n}")),
        Amf0Value::Boolean(b) => line(out, depth, &format!("Boolean: {b}")),
        Amf0Value::String(s) | Amf0Value::LongString(s) | Amf0Value::XmlDocument(s) => {
            string_lines(out, depth, "String", s)
        }
        Amf0Value::Reference(r) => line(out, depth, &format!("Reference: {r}")),
        Amf0Value::Date { millis, timezone } => {
            line(out, depth, &format!("Date: {millis} ms since 1970"));
            line(out, depth, &format!("Time zone: {timezone}"));
        }
        Amf0Value::Object(p) => properties(out, depth, p),
        Amf0Value::EcmaArray {
            count,
            properties: p,
        } => {
            line(out, depth, &format!("Array length: {count}"));
            properties(out, depth, p);
        }
        Amf0Value::TypedObject {
            class_name,
            properties: p,
        } => {
            line(out, depth, &format!("Class name: {class_name}"));
            properties(out, depth, p);
        }
        Amf0Value::StrictArray(items) => {
            line(out, depth, &format!("Array length: {}", items.len()));
            for item in items {
                amf0_tree(out, depth, item);
            }
        }
        Amf0Value::Amf3(v) => amf3_tree(out, depth, v),
        Amf0Value::Null | Amf0Value::Undefined | Amf0Value::Unsupported => {}
    }
}

fn properties(out: &mut String, depth: usize, props: &[(String, Amf0Value)]) {
    for (k, v) in props {
        line(out, depth, &format!("Property '{k}' {}", amf0_summary(v)));
        line(out, depth + 1, &format!("Name: {k}"));
        string_lines(out, depth + 2, "String", k);
        amf0_tree(out, depth + 1, v);
    }
    line(out, depth, "End Of Object Marker");
}

/// The one-line form of an AMF3 value.
pub fn amf3_summary(v: &Amf3Value) -> String {
    match v {
        Amf3Value::Undefined => "Undefined".into(),
        Amf3Value::Null => "Null".into(),
        Amf3Value::Boolean(b) => format!("Boolean {b}"),
        Amf3Value::Integer(i) => format!("Integer {i}"),
        Amf3Value::Double(d) => format!("Double {d}"),
        Amf3Value::String(s) => format!("String '{}'", clip(s)),
        Amf3Value::XmlDocument(s) | Amf3Value::Xml(s) => format!("XML '{}'", clip(s)),
        Amf3Value::Date(d) => format!("Date {d}"),
        Amf3Value::Array {
            dense,
            associative: assoc,
        } => {
            format!("Array ({} dense, {} associative)", dense.len(), assoc.len())
        }
        Amf3Value::Object(o) => format!(
            "Object '{}' ({} items)",
            o.class_name,
            o.sealed.len() + o.dynamic_members.len()
        ),
        Amf3Value::ByteArray(b) => format!("ByteArray ({} bytes)", b.len()),
        Amf3Value::VectorInt { items, .. } => format!("Vector<int> ({} items)", items.len()),
        Amf3Value::VectorUint { items, .. } => format!("Vector<uint> ({} items)", items.len()),
        Amf3Value::VectorDouble { items, .. } => format!("Vector<Number> ({} items)", items.len()),
        Amf3Value::VectorObject {
            type_name, items, ..
        } => format!("Vector<{type_name}> ({} items)", items.len()),
        Amf3Value::Dictionary { entries, .. } => format!("Dictionary ({} entries)", entries.len()),
    }
}

fn amf3_tree(out: &mut String, depth: usize, v: &Amf3Value) {
    line(out, depth, &format!("AMF3 {}", amf3_summary(v)));
    let d = depth + 1;
    if depth > MAX_DEPTH {
        return;
    }
    match v {
        Amf3Value::Array {
            dense,
            associative: assoc,
        } => {
            for (k, v) in assoc {
                line(out, d, &format!("Property '{k}'"));
                amf3_tree(out, d + 1, v);
            }
            for v in dense {
                amf3_tree(out, d, v);
            }
        }
        Amf3Value::Object(o) => {
            for (k, v) in o.sealed.iter().chain(&o.dynamic_members) {
                line(out, d, &format!("Property '{k}'"));
                amf3_tree(out, d + 1, v);
            }
        }
        Amf3Value::VectorObject { items, .. } => {
            for v in items {
                amf3_tree(out, d, v);
            }
        }
        Amf3Value::Dictionary { entries, .. } => {
            for (k, v) in entries {
                line(out, d, &format!("Key {}", amf3_summary(k)));
                amf3_tree(out, d + 1, v);
            }
        }
        _ => {}
    }
}

fn number(n: f64) -> Value {
    serde_json::Number::from_f64(n).map_or_else(|| Value::String(n.to_string()), Value::Number)
}

fn props_json(p: &[(String, Amf0Value)]) -> Value {
    let mut m = Map::new();
    for (k, v) in p {
        m.insert(k.clone(), amf0_json(v));
    }
    Value::Object(m)
}

/// An AMF0 value as JSON: numbers, booleans, strings and null as themselves, objects and ECMA
/// arrays as objects (member order kept), strict arrays as arrays; the rest tagged.
pub fn amf0_json(v: &Amf0Value) -> Value {
    match v {
        Amf0Value::Number(n) => number(*n),
        Amf0Value::Boolean(b) => Value::Bool(*b),
        Amf0Value::String(s) | Amf0Value::LongString(s) => Value::String(s.clone()),
        Amf0Value::Null | Amf0Value::Undefined | Amf0Value::Unsupported => Value::Null,
        Amf0Value::Object(p) | Amf0Value::EcmaArray { properties: p, .. } => props_json(p),
        Amf0Value::TypedObject {
            class_name,
            properties,
        } => json!({"class": class_name, "members": props_json(properties)}),
        Amf0Value::StrictArray(items) => Value::Array(items.iter().map(amf0_json).collect()),
        Amf0Value::Reference(r) => json!({"reference": r}),
        Amf0Value::Date { millis, timezone } => {
            json!({"date_ms": number(*millis), "timezone": timezone})
        }
        Amf0Value::XmlDocument(s) => json!({"xml": s}),
        Amf0Value::Amf3(v) => amf3_json(v),
    }
}

/// An AMF3 value as JSON (as [`amf0_json`]; byte arrays as hex strings).
pub fn amf3_json(v: &Amf3Value) -> Value {
    match v {
        Amf3Value::Undefined | Amf3Value::Null => Value::Null,
        Amf3Value::Boolean(b) => Value::Bool(*b),
        Amf3Value::Integer(i) => json!(i),
        Amf3Value::Double(d) => number(*d),
        Amf3Value::String(s) => Value::String(s.clone()),
        Amf3Value::XmlDocument(s) | Amf3Value::Xml(s) => json!({"xml": s}),
        Amf3Value::Date(d) => json!({"date_ms": number(*d)}),
        Amf3Value::Array {
            dense,
            associative: assoc,
        } => {
            if assoc.is_empty() {
                Value::Array(dense.iter().map(amf3_json).collect())
            } else {
                let mut m = Map::new();
                for (k, v) in assoc {
                    m.insert(k.clone(), amf3_json(v));
                }
                json!({"dense": dense.iter().map(amf3_json).collect::<Vec<_>>(), "associative": m})
            }
        }
        Amf3Value::Object(o) => {
            let mut m = Map::new();
            for (k, v) in o.sealed.iter().chain(&o.dynamic_members) {
                m.insert(k.clone(), amf3_json(v));
            }
            if o.class_name.is_empty() {
                Value::Object(m)
            } else {
                json!({"class": o.class_name, "members": m})
            }
        }
        Amf3Value::ByteArray(b) => {
            let mut s = String::with_capacity(b.len() * 2);
            for x in b {
                let _ = write!(s, "{x:02x}");
            }
            json!({"bytes": s})
        }
        Amf3Value::VectorInt { items, .. } => json!(items),
        Amf3Value::VectorUint { items, .. } => json!(items),
        Amf3Value::VectorDouble { items, .. } => {
            Value::Array(items.iter().map(|d| number(*d)).collect())
        }
        Amf3Value::VectorObject { items, .. } => {
            Value::Array(items.iter().map(amf3_json).collect())
        }
        Amf3Value::Dictionary { entries, .. } => Value::Array(
            entries
                .iter()
                .map(|(k, v)| json!([amf3_json(k), amf3_json(v)]))
                .collect(),
        ),
    }
}
