use super::*;
use crate::amf::Amf3Value;
use proptest::prelude::*;

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

fn amf3_object(pairs: &[(&str, Amf3Value)]) -> Amf3Value {
    Amf3Value::Object(Box::new(crate::amf::Amf3Object {
        class_name: String::new(),
        dynamic: true,
        sealed: Vec::new(),
        dynamic_members: pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect(),
    }))
}

/// A command body as a Flash client with `objectEncoding = 3` sends it: AMF0 values, the
/// command object behind an AVM+ switch.
#[test]
fn avmplus_switch_in_a_command_body() {
    let body = hex("02 0007 636f6e6e656374 00 3ff0000000000000
         11 0a 0b 01 07 617070 06 09 6c697665 0b 666c6f6f72 04 03 01
         05");
    let v = roundtrip(&body);
    assert_eq!(v.len(), 4);
    assert_eq!(v[0].as_str(), Some("connect"));
    assert_eq!(v[1].as_f64(), Some(1.0));
    assert_eq!(
        v[2],
        Amf0Value::Amf3(amf3_object(&[
            ("app", Amf3Value::String("live".into())),
            ("floor", Amf3Value::Integer(3)),
        ]))
    );
    assert!(v[3].is_null());
    // The accessors see through the switch.
    let scalars = roundtrip(&hex("11 06 07 616263 11 04 7f 11 03 11 01"));
    assert_eq!(scalars[0].as_str(), Some("abc"));
    assert_eq!(scalars[1].as_f64(), Some(127.0));
    assert_eq!(scalars[2].as_bool(), Some(true));
    assert!(scalars[3].is_null());
}

#[test]
fn each_avmplus_switch_starts_fresh_tables() {
    // "a" joins the first switch's string table; the second switch cannot refer to it.
    let e = decode_all(&hex("05 11 06 03 61 11 06 00")).expect_err("fresh tables");
    assert_eq!(e.offset, 7);
    assert_eq!(
        e.kind,
        AmfErrorKind::BadReference {
            table: "string",
            index: 0
        }
    );
}

#[test]
fn amf3_errors_name_offsets_in_the_amf0_buffer() {
    let e = decode_all(&hex("05 05 11 06 05 c328")).expect_err("utf8");
    assert_eq!((e.offset, e.kind), (5, AmfErrorKind::InvalidUtf8));
    let e = decode_all(&hex("05 11 12")).expect_err("marker");
    assert_eq!((e.offset, e.kind), (2, AmfErrorKind::UnknownMarker(0x12)));
    let e = decode(&hex("11")).expect_err("truncated");
    assert_eq!(
        (e.offset, e.kind),
        (1, AmfErrorKind::Truncated { needed: 1 })
    );
}

#[test]
fn depth_and_budget_carry_across_the_switch() {
    let limits = Limits {
        max_depth: 2,
        max_values: 100,
    };
    // AMF0 object (depth 1) > AMF3 array (depth 2) > AMF3 array: too deep, at offset 8.
    let e = decode_with_limits(&hex("03 0001 61 11 09 03 01 09 01 01 000009"), limits)
        .expect_err("too deep");
    assert_eq!((e.offset, e.kind), (8, AmfErrorKind::TooDeep { limit: 2 }));
    assert!(decode_with_limits(&hex("03 0001 61 11 09 01 01 000009"), limits).is_ok());

    // Strict array + switch + AMF3 array + 3 nulls = 6 values; the sixth is at offset 11.
    let bytes = hex("0a 00000001 11 09 07 01 01 01 01");
    let limits = |max_values| Limits {
        max_depth: 8,
        max_values,
    };
    assert!(decode_with_limits(&bytes, limits(6)).is_ok());
    let e = decode_with_limits(&bytes, limits(5)).expect_err("budget");
    assert_eq!(
        (e.offset, e.kind),
        (11, AmfErrorKind::TooManyValues { limit: 5 })
    );
}

/// Any AMF0 value the wire carries exactly: no NaN, short strings and names within 65535
/// bytes (see [`encode`]), AMF3 values behind the switch.
fn amf0_value() -> impl Strategy<Value = Amf0Value> {
    use crate::amf::amf3::arbitrary::{amf3_value, number, text};
    let leaf = prop_oneof![
        number().prop_map(Amf0Value::Number),
        any::<bool>().prop_map(Amf0Value::Boolean),
        text().prop_map(Amf0Value::String),
        Just(Amf0Value::Null),
        Just(Amf0Value::Undefined),
        any::<u16>().prop_map(Amf0Value::Reference),
        (number(), any::<i16>())
            .prop_map(|(millis, timezone)| Amf0Value::Date { millis, timezone }),
        text().prop_map(Amf0Value::LongString),
        Just(Amf0Value::Unsupported),
        text().prop_map(Amf0Value::XmlDocument),
        amf3_value().prop_map(Amf0Value::Amf3),
    ];
    leaf.prop_recursive(4, 64, 5, |inner| {
        let props = prop::collection::vec((text(), inner.clone()), 0..5);
        prop_oneof![
            props.clone().prop_map(Amf0Value::Object),
            (any::<u32>(), props.clone())
                .prop_map(|(count, properties)| Amf0Value::EcmaArray { count, properties }),
            prop::collection::vec(inner, 0..5).prop_map(Amf0Value::StrictArray),
            (text(), props).prop_map(|(class_name, properties)| Amf0Value::TypedObject {
                class_name,
                properties,
            }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(crate::test_support::proptest_cases(512)))]

    #[test]
    fn any_value_roundtrips(values in prop::collection::vec(amf0_value(), 0..4)) {
        let mut bytes = Vec::new();
        encode_all(&values, &mut bytes);
        prop_assert_eq!(decode_all(&bytes).expect("own encoding decodes"), values.clone());
        if let Some(first) = values.first() {
            let mut one = Vec::new();
            encode(first, &mut one);
            prop_assert_eq!(encoded_len(first), one.len());
            prop_assert_eq!(decode(&bytes).expect("decodes").1, one.len());
        }
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
