//! Chunk layer throughput: reading and writing a typical live stream (30 fps video with a
//! keyframe every 2 s, AAC audio at ~43 frames/s) at chunk sizes 128 and 4096.
//!
//! Throughput is counted in payload (media) bytes.

use std::hint::black_box;

use bytes::BytesMut;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rtmpkit_proto::rtmp::chunk::{ChunkReader, ChunkWriter, MessageHeader, serialize_fmt0};

/// (csid, header, payload) for 4 seconds of a ~2.5 Mbit/s stream, in timestamp order.
fn stream() -> Vec<(u32, MessageHeader, Vec<u8>)> {
    let mut msgs = Vec::new();
    let mut seed = 0x1234_5678u32;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed
    };
    let (mut video_ms, mut audio_ms) = (0f64, 0f64);
    while video_ms < 4000.0 || audio_ms < 4000.0 {
        if video_ms <= audio_ms {
            let frame = (video_ms / (1000.0 / 30.0)).round() as u32;
            let len = if frame.is_multiple_of(60) {
                60_000 + (next() % 20_000) as usize
            } else {
                6_000 + (next() % 6_000) as usize
            };
            let header = MessageHeader {
                timestamp: video_ms as u32,
                type_id: 9,
                stream_id: 1,
            };
            msgs.push((6, header, vec![(frame & 0xFF) as u8; len]));
            video_ms += 1000.0 / 30.0;
        } else {
            let header = MessageHeader {
                timestamp: audio_ms as u32,
                type_id: 8,
                stream_id: 1,
            };
            let len = 300 + (next() % 100) as usize;
            msgs.push((4, header, vec![0xAF; len]));
            audio_ms += 1024.0 * 1000.0 / 44_100.0;
        }
    }
    msgs
}

fn write_all(chunk_size: u32, msgs: &[(u32, MessageHeader, Vec<u8>)], out: &mut BytesMut) {
    let mut w = ChunkWriter::new();
    if w.set_chunk_size(chunk_size).is_err() {
        return;
    }
    for (csid, header, payload) in msgs {
        if w.write_message(*csid, header, payload, out).is_err() {
            return;
        }
    }
}

fn bench(c: &mut Criterion) {
    let msgs = stream();
    let payload_bytes: usize = msgs.iter().map(|m| m.2.len()).sum();
    let mut group = c.benchmark_group("chunk");
    group.throughput(Throughput::Bytes(payload_bytes as u64));
    for chunk_size in [128u32, 4096] {
        group.bench_with_input(
            BenchmarkId::new("write", chunk_size),
            &chunk_size,
            |b, &cs| {
                let mut out = BytesMut::with_capacity(payload_bytes * 2);
                b.iter(|| {
                    out.clear();
                    write_all(cs, &msgs, &mut out);
                    black_box(out.len())
                })
            },
        );

        group.bench_with_input(
            BenchmarkId::new("serialize_fmt0", chunk_size),
            &chunk_size,
            |b, &cs| {
                b.iter(|| {
                    let mut total = 0;
                    for (csid, header, payload) in &msgs {
                        if let Ok(frame) = serialize_fmt0(cs, *csid, header, payload) {
                            total += frame.len();
                        }
                    }
                    black_box(total)
                })
            },
        );

        let mut wire = BytesMut::new();
        write_all(chunk_size, &msgs, &mut wire);
        group.bench_with_input(BenchmarkId::new("read", chunk_size), &wire, |b, wire| {
            b.iter(|| {
                let mut r = ChunkReader::default();
                if r.set_chunk_size(chunk_size).is_err() {
                    return 0;
                }
                let mut n = 0;
                // Push in 64 KiB reads, as a socket would deliver them.
                for piece in wire.chunks(64 * 1024) {
                    r.push(piece);
                    while let Ok(Some(m)) = r.poll_message() {
                        n += m.payload.len();
                    }
                }
                black_box(n)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
