//! AMF decode/encode speed on real message bodies (seed 000): ffmpeg's `connect` command and
//! the `@setDataFrame`/`onMetaData` script data, plus the same metadata as one AMF3 object.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rtmpkit_proto::amf::{Amf0Value, Amf3Object, Amf3Value, amf0, amf3};

fn hex(s: &str) -> Vec<u8> {
    let clean: String = s.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    hex::decode(clean).expect("bench vector is valid hex")
}

/// Seed 000: the body of ffmpeg's `connect('live')` (144 bytes).
fn connect_body() -> Vec<u8> {
    hex("02 00 07 63 6f 6e 6e 65 63 74 00 3f f0 00 00 00 00 00 00 03
         00 03 61 70 70 02 00 04 6c 69 76 65 00 04 74 79
         70 65 02 00 0a 6e 6f 6e 70 72 69 76 61 74 65 00
         08 66 6c 61 73 68 56 65 72 02 00 24 46 4d 4c 45
         2f 33 2e 30 20 28 63 6f 6d 70 61 74 69 62 6c 65
         3b 20 4c 61 76 66 36 30 2e 31 36 2e 31 30 30 29
         00 05 74 63 55 72 6c 02 00 1f 72 74 6d 70 3a 2f
         2f 31 32 34 2e 32 32 32 2e 37 33 2e 32 33 31 3a
         31 39 33 35 2f 6c 69 76 65 00 00 09")
}

/// Seed 000: the body of `@setDataFrame('onMetaData', {10-entry ECMA array})` (295 bytes).
fn metadata_body() -> Vec<u8> {
    hex("02 00 0d 40 73 65 74 44 61 74 61 46 72 61 6d 65 02 00 0a 6f
         6e 4d 65 74 61 44 61 74 61 08 00 00 00 0a 00 08
         64 75 72 61 74 69 6f 6e 00 00 00 00 00 00 00 00
         00 00 05 77 69 64 74 68 00 40 94 00 00 00 00 00
         00 00 06 68 65 69 67 68 74 00 40 86 80 00 00 00
         00 00 00 0d 76 69 64 65 6f 64 61 74 61 72 61 74
         65 00 40 d3 12 d0 00 00 00 00 00 09 66 72 61 6d
         65 72 61 74 65 00 40 2e 00 00 00 00 00 00 00 0c
         76 69 64 65 6f 63 6f 64 65 63 69 64 00 40 00 00
         00 00 00 00 00 00 05 74 69 74 6c 65 02 00 1a 48
         49 4b 20 4d 65 64 69 61 20 53 65 72 76 65 72 20
         56 34 2e 33 30 2e 30 38 35 00 07 63 6f 6d 6d 65
         6e 74 02 00 2f 48 49 4b 20 4d 65 64 69 61 20 53
         65 72 76 65 72 20 53 65 73 73 69 6f 6e 20 44 65
         73 63 72 69 70 74 69 6f 6e 20 3a 20 73 74 61 6e
         64 61 72 64 00 07 65 6e 63 6f 64 65 72 02 00 0d
         4c 61 76 66 36 30 2e 31 36 2e 31 30 30 00 08 66
         69 6c 65 73 69 7a 65 00 00 00 00 00 00 00 00 00
         00 00 09")
}

/// The metadata's ECMA array as an anonymous dynamic AMF3 object.
fn metadata_amf3(values: &[Amf0Value]) -> Amf3Value {
    let members = values
        .get(2)
        .and_then(Amf0Value::properties)
        .unwrap_or_default()
        .iter()
        .map(|(k, v)| {
            let v = match v {
                Amf0Value::Number(n) => Amf3Value::Double(*n),
                other => Amf3Value::String(other.as_str().unwrap_or_default().to_owned()),
            };
            (k.clone(), v)
        })
        .collect();
    Amf3Value::Object(Box::new(Amf3Object {
        class_name: String::new(),
        dynamic: true,
        sealed: Vec::new(),
        dynamic_members: members,
    }))
}

fn amf0_benches(c: &mut Criterion) {
    for (name, body) in [("connect", connect_body()), ("onMetaData", metadata_body())] {
        let values = amf0::decode_all(&body).expect("seed decodes");
        let mut g = c.benchmark_group(format!("amf0/{name}"));
        g.throughput(Throughput::Bytes(body.len() as u64));
        g.bench_function("decode", |b| {
            b.iter(|| amf0::decode_all(black_box(&body)).expect("decodes"))
        });
        g.bench_function("encode", |b| {
            let mut out = Vec::with_capacity(body.len());
            b.iter(|| {
                out.clear();
                amf0::encode_all(black_box(&values), &mut out);
                out.len()
            })
        });
        g.finish();
    }
}

fn amf3_benches(c: &mut Criterion) {
    let meta = metadata_amf3(&amf0::decode_all(&metadata_body()).expect("seed decodes"));
    let mut bytes = Vec::new();
    amf3::encode(&meta, &mut bytes);
    let mut g = c.benchmark_group("amf3/onMetaData");
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("decode", |b| {
        b.iter(|| amf3::decode(black_box(&bytes)).expect("decodes"))
    });
    g.bench_function("encode", |b| {
        let mut out = Vec::with_capacity(bytes.len());
        b.iter(|| {
            out.clear();
            amf3::encode(black_box(&meta), &mut out);
            out.len()
        })
    });
    g.finish();
}

criterion_group!(benches, amf0_benches, amf3_benches);
criterion_main!(benches);
