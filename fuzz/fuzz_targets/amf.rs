//! AMF0 and AMF3 decoders on arbitrary bytes: no panic, and whatever decodes re-encodes to
//! bytes that decode to the same values (compared through their encodings, so NaN compares
//! equal to itself).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rtmpkit_proto::amf::{Limits, amf0, amf3};

/// Re-decoding needs no value budget: the values are already materialised, and the canonical
/// encoding (string references) may charge copies the first input did not have.
fn unbounded() -> Limits {
    Limits {
        max_values: usize::MAX,
        ..Limits::default()
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(values) = amf0::decode_all(data) {
        let mut first = Vec::new();
        amf0::encode_all(&values, &mut first);
        let again =
            amf0::decode_all_with_limits(&first, unbounded()).expect("AMF0 re-encoding decodes");
        assert_eq!(again.len(), values.len());
        let mut second = Vec::new();
        amf0::encode_all(&again, &mut second);
        assert_eq!(first, second, "AMF0 round trip changed the values");
    }
    if let Ok(values) = amf3::decode_all(data) {
        let mut first = Vec::new();
        amf3::encode_all(&values, &mut first);
        let again =
            amf3::decode_all_with_limits(&first, unbounded()).expect("AMF3 re-encoding decodes");
        assert_eq!(again.len(), values.len());
        let mut second = Vec::new();
        amf3::encode_all(&again, &mut second);
        assert_eq!(first, second, "AMF3 round trip changed the values");
    }
});
