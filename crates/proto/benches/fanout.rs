//! The per-player cost of sending one frame: serializing it into RTMP chunks.
//!
//! `serialize_fmt0` builds a frame's chunks once, shared by every player at the same chunk
//! size (what the server's hub does); `ChunkWriter::write_message` is what serializing it
//! again for each player would cost. Throughput is counted in payload bytes.

use std::hint::black_box;

use bytes::{Bytes, BytesMut};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rtmpkit_proto::rtmp::chunk::{ChunkWriter, MessageHeader, serialize_fmt0};

/// A typical frame of a 2 Mbit/s, 30 fps H.264 stream: an inter frame, a keyframe, AAC.
fn frames() -> [(&'static str, u8, usize); 3] {
    [
        ("p-frame", 9, 7_000),
        ("keyframe", 9, 60_000),
        ("aac", 8, 370),
    ]
}

fn bench_serialize(c: &mut Criterion) {
    let mut group = c.benchmark_group("fanout/serialize_fmt0");
    for (name, type_id, len) in frames() {
        let payload = vec![0x5a; len];
        let header = MessageHeader {
            timestamp: 123_456,
            type_id,
            stream_id: 1,
        };
        group.throughput(Throughput::Bytes(len as u64));
        for chunk_size in [128u32, 4096] {
            group.bench_with_input(
                BenchmarkId::new(name, chunk_size),
                &payload,
                |b, payload| {
                    b.iter(|| serialize_fmt0(chunk_size, 7, black_box(&header), black_box(payload)))
                },
            );
        }
    }
    group.finish();
}

fn bench_per_player(c: &mut Criterion) {
    let mut group = c.benchmark_group("fanout/per_player");
    for (name, type_id, len) in frames() {
        let payload = vec![0x5a; len];
        let header = MessageHeader {
            timestamp: 123_456,
            type_id,
            stream_id: 1,
        };
        group.throughput(Throughput::Bytes(len as u64));
        // What a player costs when the chunks are shared: one reference count.
        let shared: Bytes = serialize_fmt0(4096, 7, &header, &payload).unwrap_or_default();
        group.bench_function(BenchmarkId::new("shared_clone", name), |b| {
            b.iter(|| black_box(&shared).clone())
        });
        // What it costs when each player serializes its own copy.
        let mut writer = ChunkWriter::new();
        let _ = writer.set_chunk_size(4096);
        let mut out = BytesMut::with_capacity(len + 64);
        group.bench_function(BenchmarkId::new("own_chunk_writer", name), |b| {
            b.iter(|| {
                out.clear();
                writer.reset_chunk_stream(7);
                let _ = writer.write_message(7, black_box(&header), black_box(&payload), &mut out);
                black_box(out.len())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_serialize, bench_per_player);
criterion_main!(benches);
