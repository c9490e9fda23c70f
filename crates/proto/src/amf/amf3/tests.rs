use proptest::prelude::*;

use super::super::{Amf3Object, Amf3Value, AmfErrorKind, Limits};
use super::arbitrary::amf3_value;
use super::*;

fn hex(s: &str) -> Vec<u8> {
    let clean: String = s.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    hex::decode(clean).expect("test vector is valid hex")
}

/// Decodes `bytes` as exactly one value, and checks that it re-encodes byte for byte.
fn exact(bytes: &[u8]) -> Amf3Value {
    let (v, used) = decode(bytes).expect("decodes");
    assert_eq!(used, bytes.len(), "uses the whole input");
    let mut out = Vec::new();
    encode(&v, &mut out);
    assert_eq!(
        hex::encode(&out),
        hex::encode(bytes),
        "re-encodes byte for byte"
    );
    v
}

fn encoded(v: &Amf3Value) -> Vec<u8> {
    let mut out = Vec::new();
    encode(v, &mut out);
    out
}

fn s(text: &str) -> Amf3Value {
    Amf3Value::String(text.into())
}

fn object(
    class_name: &str,
    dynamic: bool,
    sealed: Vec<(&str, Amf3Value)>,
    dynamic_members: Vec<(&str, Amf3Value)>,
) -> Amf3Value {
    let owned = |p: Vec<(&str, Amf3Value)>| p.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    Amf3Value::Object(Box::new(Amf3Object {
        class_name: class_name.into(),
        dynamic,
        sealed: owned(sealed),
        dynamic_members: owned(dynamic_members),
    }))
}

fn dense(items: Vec<Amf3Value>) -> Amf3Value {
    Amf3Value::Array {
        associative: Vec::new(),
        dense: items,
    }
}

#[test]
fn simple_markers() {
    assert_eq!(exact(&hex("00")), Amf3Value::Undefined);
    assert_eq!(exact(&hex("01")), Amf3Value::Null);
    assert_eq!(exact(&hex("02")), Amf3Value::Boolean(false));
    assert_eq!(exact(&hex("03")), Amf3Value::Boolean(true));
    assert_eq!(exact(&hex("05 3ff8000000000000")), Amf3Value::Double(1.5));
    assert_eq!(exact(&hex("06 0b 68656c6c6f")), s("hello"));
    assert_eq!(exact(&hex("06 01")), s(""));
    assert_eq!(
        exact(&hex("07 09 3c612f3e")),
        Amf3Value::XmlDocument("<a/>".into())
    );
    assert_eq!(exact(&hex("0b 09 3c622f3e")), Amf3Value::Xml("<b/>".into()));
    assert_eq!(
        exact(&hex("08 01 4276a48d3c800000")),
        Amf3Value::Date(1_556_000_000_000.0)
    );
    assert_eq!(
        exact(&hex("0c 07 010203")),
        Amf3Value::ByteArray(vec![1, 2, 3])
    );
}

#[test]
fn u29_integers() {
    // (encoding, value): the shortest form at each width boundary, and sign extension.
    let cases: &[(&str, i32)] = &[
        ("00", 0),
        ("7f", 127),
        ("81 00", 128),
        ("ff 7f", 16_383),
        ("81 80 00", 16_384),
        ("ff ff 7f", 2_097_151),
        ("80 c0 80 00", 2_097_152),
        ("bf ff ff ff", INTEGER_MAX),
        ("c0 80 80 00", INTEGER_MIN),
        ("ff ff ff ff", -1),
        ("ff ff ff fe", -2),
    ];
    for (bytes, value) in cases {
        let bytes = hex(&format!("04 {bytes}"));
        assert_eq!(exact(&bytes), Amf3Value::Integer(*value), "{bytes:02x?}");
    }
    // 0x80 0x01 is a valid but overlong form of 1; it reads as 1 and writes back short.
    let (v, used) = decode(&hex("04 80 01")).expect("decodes");
    assert_eq!((v.clone(), used), (Amf3Value::Integer(1), 3));
    assert_eq!(encoded(&v), hex("04 01"));
}

#[test]
fn integers_outside_u29_are_written_as_doubles() {
    for i in [INTEGER_MAX + 1, INTEGER_MIN - 1, i32::MAX, i32::MIN] {
        let bytes = encoded(&Amf3Value::Integer(i));
        assert_eq!(bytes[0], marker::DOUBLE);
        let (v, _) = decode(&bytes).expect("decodes");
        assert_eq!(v, Amf3Value::Double(f64::from(i)));
    }
}

#[test]
fn string_references() {
    // ["foo", ref 0, ""]: the array is object #0; "foo" is string #0.
    let v = exact(&hex("09 07 01 06 07 666f6f 06 00 06 01"));
    assert_eq!(v, dense(vec![s("foo"), s("foo"), s("")]));
    // The empty string never joins the table: ref 0 is "foo", even after an empty string.
    let (v, _) = decode(&hex("09 07 01 06 01 06 07 666f6f 06 00")).expect("decodes");
    assert_eq!(v, dense(vec![s(""), s("foo"), s("foo")]));
    // Names share the table with values.
    let v = exact(&hex("09 01 07 666f6f 06 00 01"));
    assert_eq!(
        v,
        Amf3Value::Array {
            associative: vec![("foo".into(), s("foo"))],
            dense: vec![],
        }
    );
}

#[test]
fn array_associative_then_dense() {
    // dense 1; "a" = 1; end; dense[0] = 2
    let v = exact(&hex("09 03 03 61 04 01 01 04 02"));
    assert_eq!(
        v,
        Amf3Value::Array {
            associative: vec![("a".into(), Amf3Value::Integer(1))],
            dense: vec![Amf3Value::Integer(2)],
        }
    );
}

#[test]
fn object_with_sealed_members_and_dynamic_flag() {
    // Anonymous dynamic object with two sealed members: ui = "button_press", param = 5.
    let v = exact(&hex(
        "0a 2b 01 05 7569 0b 706172616d 06 19 627574746f6e5f7072657373 04 05 01",
    ));
    assert_eq!(
        v,
        object(
            "",
            true,
            vec![("ui", s("button_press")), ("param", Amf3Value::Integer(5))],
            vec![],
        )
    );
    // Dynamic members only: k = "v".
    let v = exact(&hex("0a 0b 01 03 6b 06 03 76 01"));
    assert_eq!(v, object("", true, vec![], vec![("k", s("v"))]));
    // Sealed, not dynamic: no end marker follows.
    let v = exact(&hex("0a 13 03 50 03 78 04 01"));
    assert_eq!(
        v,
        object("P", false, vec![("x", Amf3Value::Integer(1))], vec![])
    );
}

#[test]
fn trait_and_object_references() {
    // [P{x:1}, P{x:2} (traits ref 0), ref object #1 (the first P)].
    let bytes = hex("09 07 01 0a 13 03 50 03 78 04 01 0a 01 04 02 0a 02");
    let (v, used) = decode(&bytes).expect("decodes");
    assert_eq!(used, bytes.len());
    let p = |x| object("P", false, vec![("x", Amf3Value::Integer(x))], vec![]);
    assert_eq!(v, dense(vec![p(1), p(2), p(1)]));
    // The encoder uses the trait reference but writes the copy inline.
    assert_eq!(
        encoded(&v),
        hex("09 07 01 0a 13 03 50 03 78 04 01 0a 01 04 02 0a 01 04 01")
    );
}

#[test]
fn date_xml_and_byte_array_references() {
    // [date, ref #1, xml, ref #2, bytes, ref #3, xml document, ref #4]; the array is #0.
    let bytes =
        hex("09 11 01 08 01 0000000000000000 08 02 0b 03 78 0b 04 0c 03 ff 0c 06 07 03 79 07 08");
    let (v, used) = decode(&bytes).expect("decodes");
    assert_eq!(used, bytes.len());
    assert_eq!(
        v,
        dense(vec![
            Amf3Value::Date(0.0),
            Amf3Value::Date(0.0),
            Amf3Value::Xml("x".into()),
            Amf3Value::Xml("x".into()),
            Amf3Value::ByteArray(vec![0xff]),
            Amf3Value::ByteArray(vec![0xff]),
            Amf3Value::XmlDocument("y".into()),
            Amf3Value::XmlDocument("y".into()),
        ])
    );
}

#[test]
fn vectors_and_dictionary() {
    assert_eq!(
        exact(&hex("0d 05 00 00000001 ffffffff")),
        Amf3Value::VectorInt {
            fixed: false,
            items: vec![1, -1],
        }
    );
    assert_eq!(
        exact(&hex("0e 03 01 ffffffff")),
        Amf3Value::VectorUint {
            fixed: true,
            items: vec![u32::MAX],
        }
    );
    assert_eq!(
        exact(&hex("0f 03 00 3ff0000000000000")),
        Amf3Value::VectorDouble {
            fixed: false,
            items: vec![1.0],
        }
    );
    assert_eq!(
        exact(&hex("10 05 00 03 2a 04 01 06 01")),
        Amf3Value::VectorObject {
            fixed: false,
            type_name: "*".into(),
            items: vec![Amf3Value::Integer(1), s("")],
        }
    );
    assert_eq!(
        exact(&hex("11 03 01 06 03 6b 04 07")),
        Amf3Value::Dictionary {
            weak_keys: true,
            entries: vec![(s("k"), Amf3Value::Integer(7))],
        }
    );
}

#[test]
fn encoder_writes_what_the_wire_can_carry() {
    let v = Amf3Value::Array {
        associative: vec![("".into(), Amf3Value::Null), ("a".into(), Amf3Value::Null)],
        dense: vec![],
    };
    assert_eq!(encoded(&v), hex("09 01 03 61 01 01"), "empty key left out");
    let v = object("", false, vec![], vec![("k", Amf3Value::Null)]);
    let (back, _) = decode(&encoded(&v)).expect("decodes");
    assert_eq!(back, object("", true, vec![], vec![("k", Amf3Value::Null)]));
    // A repeated class name, member name and value are written as string references.
    let v = dense(vec![
        s("P"),
        object("P", false, vec![("P", s("P"))], vec![]),
    ]);
    assert_eq!(encoded(&v), hex("09 05 01 06 03 50 0a 13 00 00 06 00"));
}

#[test]
fn decode_all_uses_fresh_tables_per_value() {
    assert_eq!(
        decode_all(&hex("06 03 61 06 03 61")).expect("decodes"),
        vec![s("a"), s("a")]
    );
    let e = decode_all(&hex("06 03 61 06 00")).expect_err("fresh table");
    assert_eq!(e.offset, 4);
    assert_eq!(
        e.kind,
        AmfErrorKind::BadReference {
            table: "string",
            index: 0
        }
    );
    let values = vec![s("a"), Amf3Value::Integer(-5), dense(vec![s("a")])];
    let mut out = Vec::new();
    encode_all(&values, &mut out);
    assert_eq!(decode_all(&out).expect("decodes"), values);
}

#[test]
fn every_error_names_its_offset() {
    let cases: &[(&str, usize, AmfErrorKind)] = &[
        ("", 0, AmfErrorKind::Truncated { needed: 1 }),
        ("06 07 61", 2, AmfErrorKind::Truncated { needed: 2 }),
        ("04 ff ff", 3, AmfErrorKind::Truncated { needed: 1 }),
        ("05 3ff0", 1, AmfErrorKind::Truncated { needed: 6 }),
        ("12", 0, AmfErrorKind::UnknownMarker(0x12)),
        ("09 03 01 ff", 3, AmfErrorKind::UnknownMarker(0xff)),
        ("06 05 c328", 2, AmfErrorKind::InvalidUtf8),
        ("09 01 05 c328", 3, AmfErrorKind::InvalidUtf8),
        (
            "09 ffffffff",
            1,
            AmfErrorKind::LengthTooLarge {
                length: 0x0fff_ffff,
            },
        ),
        (
            "0d 09 00 00000000",
            1,
            AmfErrorKind::LengthTooLarge { length: 4 },
        ),
        ("0f 03 00 00", 1, AmfErrorKind::LengthTooLarge { length: 1 }),
        (
            "11 05 00 01 01",
            1,
            AmfErrorKind::LengthTooLarge { length: 2 },
        ),
        (
            "0a 23 01 03 61",
            1,
            AmfErrorKind::LengthTooLarge { length: 2 },
        ),
        ("0c 07 01", 2, AmfErrorKind::Truncated { needed: 2 }),
        (
            "06 00",
            1,
            AmfErrorKind::BadReference {
                table: "string",
                index: 0,
            },
        ),
        (
            "09 02",
            0,
            AmfErrorKind::BadReference {
                table: "object",
                index: 1,
            },
        ),
        (
            "0a 05",
            1,
            AmfErrorKind::BadReference {
                table: "traits",
                index: 1,
            },
        ),
    ];
    for (bytes, offset, kind) in cases {
        let e = decode(&hex(bytes)).expect_err(bytes);
        assert_eq!((e.offset, &e.kind), (*offset, kind), "{bytes}");
    }
}

#[test]
fn externalizable_names_its_class() {
    let class = "flex.messaging.io.ArrayCollection";
    let mut bytes = hex("09 03 01 0a 07");
    bytes.push(((class.len() << 1) | 1) as u8);
    bytes.extend_from_slice(class.as_bytes());
    bytes.extend_from_slice(&hex("09 01 01"));
    let e = decode(&bytes).expect_err("externalizable");
    assert_eq!(e.offset, 3);
    assert_eq!(
        e.kind,
        AmfErrorKind::Externalizable {
            class_name: class.into()
        }
    );
}

#[test]
fn a_cycle_is_refused() {
    // An array whose only element is a reference to itself.
    let e = decode(&hex("09 03 01 09 00")).expect_err("cycle");
    assert_eq!(e.offset, 3);
    assert!(matches!(e.kind, AmfErrorKind::Unsupported(_)), "{e}");
    // An object whose member refers to it.
    let e = decode(&hex("0a 0b 01 03 61 0a 00 01")).expect_err("cycle");
    assert_eq!(e.offset, 5);
}

#[test]
fn nesting_is_bounded() {
    let bytes = hex(&"09 03 01 ".repeat(10_000));
    let e = decode(&bytes).expect_err("too deep");
    assert_eq!(e.offset, 64 * 3);
    assert_eq!(e.kind, AmfErrorKind::TooDeep { limit: 64 });

    let limits = Limits {
        max_depth: 3,
        max_values: 100,
    };
    // Depth 3 is fine, depth 4 is not (vectors and dictionaries count too).
    assert!(decode_with_limits(&hex("09 03 01 10 03 00 01 11 01 00"), limits).is_ok());
    let e = decode_with_limits(&hex("09 03 01 10 03 00 01 11 03 00 0d 01 00 01"), limits)
        .expect_err("too deep");
    assert_eq!((e.offset, e.kind), (10, AmfErrorKind::TooDeep { limit: 3 }));
}

#[test]
fn a_reference_cannot_nest_deeper_than_the_limit() {
    let limits = Limits {
        max_depth: 10,
        max_values: 1000,
    };
    // [A, [[[[[[ref A]]]]]]] where A is five nested arrays: fine once, too deep at depth 7.
    let a = "09 03 01 09 03 01 09 03 01 09 03 01 09 01 01";
    let ok = hex(&format!("09 05 01 {a} {} 09 02", "09 03 01 ".repeat(3)));
    assert!(decode_with_limits(&ok, limits).is_ok());
    let deep = hex(&format!("09 05 01 {a} {} 09 02", "09 03 01 ".repeat(6)));
    let e = decode_with_limits(&deep, limits).expect_err("too deep");
    assert_eq!(e.kind, AmfErrorKind::TooDeep { limit: 10 });
    assert_eq!(e.offset, deep.len() - 2, "reported at the reference");
}

#[test]
fn value_budget_counts_every_value() {
    let bytes = encoded(&dense(vec![Amf3Value::Null; 9]));
    let limits = |max_values| Limits {
        max_depth: 4,
        max_values,
    };
    assert!(decode_with_limits(&bytes, limits(10)).is_ok());
    let e = decode_with_limits(&bytes, limits(9)).expect_err("budget");
    assert_eq!(e.kind, AmfErrorKind::TooManyValues { limit: 9 });
    assert_eq!(e.offset, bytes.len() - 1);
}

#[test]
fn reference_bombs_are_stopped_by_the_budget() {
    // Doubling: A0 = [null, null], A(k+1) = [ref Ak, ref Ak]; 60 levels would be 2^61 values.
    let mut bytes = hex("09 79 01 09 05 01 01 01"); // outer array of 60, A0 is object #1
    for k in 1..60u8 {
        let r = k << 1; // ref to object #k
        bytes.extend_from_slice(&[0x09, 0x05, 0x01, 0x09, r, 0x09, r]);
    }
    let e = decode(&bytes).expect_err("bomb");
    assert_eq!(e.kind, AmfErrorKind::TooManyValues { limit: 1 << 20 });

    // Linear: one array of 1000 nulls named 2000 times (6 kB of input, 2M values).
    let mut bytes = hex("09 9f 23 01 09 8f 51 01"); // dense 2001; then dense 1000
    bytes.extend(std::iter::repeat_n(0x01, 1000));
    for _ in 0..2000 {
        bytes.extend_from_slice(&hex("09 02"));
    }
    let e = decode(&bytes).expect_err("bomb");
    assert_eq!(e.kind, AmfErrorKind::TooManyValues { limit: 1 << 20 });

    // Strings: one 60000-byte string named 2000 times would be 120 MB of text.
    let big = Amf3Value::String("x".repeat(60_000));
    let mut bytes = hex("09 9f 23 01"); // dense 2001
    bytes.extend_from_slice(&encoded(&big));
    for _ in 0..2000 {
        bytes.extend_from_slice(&hex("06 00"));
    }
    let e = decode(&bytes).expect_err("bomb");
    assert_eq!(e.kind, AmfErrorKind::TooManyValues { limit: 1 << 20 });
    // A few copies are fine.
    let mut bytes = hex("09 07 01");
    bytes.extend_from_slice(&encoded(&big));
    bytes.extend_from_slice(&hex("06 00 06 00"));
    let (v, _) = decode(&bytes).expect("decodes");
    assert_eq!(v, dense(vec![big.clone(), big.clone(), big]));
}

#[test]
fn trait_reference_names_are_charged() {
    // One sealed member with a 6400-byte name, then 200 objects that reuse the traits: each
    // copy of the name costs 100 units on top of its two values.
    let name = "n".repeat(6400);
    let one = object("", false, vec![(name.as_str(), Amf3Value::Null)], vec![]);
    let bytes = encoded(&dense(vec![one; 200]));
    let limits = |max_values| Limits {
        max_depth: 4,
        max_values,
    };
    let needed = 1 + 200 * 2 + 199 * 100;
    assert!(decode_with_limits(&bytes, limits(needed)).is_ok());
    assert!(decode_with_limits(&bytes, limits(needed - 1)).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(crate::test_support::proptest_cases(512)))]

    #[test]
    fn any_value_roundtrips(v in amf3_value()) {
        let bytes = encoded(&v);
        let (back, used) = decode(&bytes).expect("own encoding decodes");
        prop_assert_eq!(used, bytes.len());
        prop_assert_eq!(back, v);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        if let Ok(values) = decode_all(&bytes) {
            let mut out = Vec::new();
            encode_all(&values, &mut out);
            let again = decode_all(&out).expect("re-encoding decodes");
            let mut out2 = Vec::new();
            encode_all(&again, &mut out2);
            prop_assert_eq!(out, out2);
        }
    }
}
