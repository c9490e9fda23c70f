//! proptest strategies for AMF values that the wire can carry exactly (shared with the AMF0
//! tests): no NaN (it is never equal to itself), AMF3 integers within the U29 range, no empty
//! associative or dynamic member names, no dynamic members on sealed objects.

use proptest::prelude::*;

use super::super::{Amf3Object, Amf3Value, Properties};
use super::{INTEGER_MAX, INTEGER_MIN};

/// Any double except NaN.
pub(crate) fn number() -> impl Strategy<Value = f64> + Clone {
    any::<f64>().prop_filter("NaN never equals itself", |d| !d.is_nan())
}

/// Short text, often drawn from a few common words so that string and trait references occur.
pub(crate) fn text() -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        prop::sample::select(vec!["", "a", "b", "name", "é", "日本", "😀"]).prop_map(String::from),
        "\\PC{0,12}",
    ]
}

/// Text that is not empty.
pub(crate) fn name() -> impl Strategy<Value = String> + Clone {
    text().prop_filter("names end lists when empty", |s| !s.is_empty())
}

fn object(inner: impl Strategy<Value = Amf3Value> + Clone) -> impl Strategy<Value = Amf3Value> {
    let sealed_name = prop::sample::select(vec!["", "x", "y", "value"]).prop_map(String::from);
    (
        prop::sample::select(vec!["", "flex.Msg", "P"]).prop_map(String::from),
        any::<bool>(),
        prop::collection::vec((sealed_name, inner.clone()), 0..4),
        prop::collection::vec((name(), inner), 0..3),
    )
        .prop_map(|(class_name, dynamic, sealed, members)| {
            let dynamic_members: Properties<Amf3Value> = if dynamic { members } else { Vec::new() };
            Amf3Value::Object(Box::new(Amf3Object {
                class_name,
                dynamic,
                sealed,
                dynamic_members,
            }))
        })
}

/// Any AMF3 value that encodes and decodes back to itself.
pub(crate) fn amf3_value() -> impl Strategy<Value = Amf3Value> {
    let leaf = prop_oneof![
        Just(Amf3Value::Undefined),
        Just(Amf3Value::Null),
        any::<bool>().prop_map(Amf3Value::Boolean),
        prop_oneof![
            INTEGER_MIN..=INTEGER_MAX,
            prop::sample::select(vec![0, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152, -1]),
            Just(INTEGER_MIN),
            Just(INTEGER_MAX),
        ]
        .prop_map(Amf3Value::Integer),
        number().prop_map(Amf3Value::Double),
        text().prop_map(Amf3Value::String),
        text().prop_map(Amf3Value::XmlDocument),
        number().prop_map(Amf3Value::Date),
        text().prop_map(Amf3Value::Xml),
        prop::collection::vec(any::<u8>(), 0..16).prop_map(Amf3Value::ByteArray),
        (any::<bool>(), prop::collection::vec(any::<i32>(), 0..5))
            .prop_map(|(fixed, items)| Amf3Value::VectorInt { fixed, items }),
        (any::<bool>(), prop::collection::vec(any::<u32>(), 0..5))
            .prop_map(|(fixed, items)| Amf3Value::VectorUint { fixed, items }),
        (any::<bool>(), prop::collection::vec(number(), 0..5))
            .prop_map(|(fixed, items)| Amf3Value::VectorDouble { fixed, items }),
    ];
    leaf.prop_recursive(4, 64, 5, |inner| {
        prop_oneof![
            (
                prop::collection::vec((name(), inner.clone()), 0..4),
                prop::collection::vec(inner.clone(), 0..5),
            )
                .prop_map(|(associative, dense)| Amf3Value::Array { associative, dense }),
            object(inner.clone()),
            (
                any::<bool>(),
                prop::sample::select(vec!["", "*", "flex.Msg"]).prop_map(String::from),
                prop::collection::vec(inner.clone(), 0..4),
            )
                .prop_map(|(fixed, type_name, items)| Amf3Value::VectorObject {
                    fixed,
                    type_name,
                    items,
                }),
            (
                any::<bool>(),
                prop::collection::vec((inner.clone(), inner), 0..3),
            )
                .prop_map(|(weak_keys, entries)| Amf3Value::Dictionary { weak_keys, entries }),
        ]
    })
}
