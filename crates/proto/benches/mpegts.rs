//! MPEG-TS muxing of one frame, as the HLS and RTP outputs do it for every frame of a stream:
//! an inter frame and a keyframe (which also gets PAT, PMT and the parameter sets) of a
//! 2 Mbit/s H.264 stream, and an AAC frame. Throughput is counted in payload bytes.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rtmpkit_proto::mpegts::{TsMuxer, TsMuxerConfig};

/// x264 High 320x240: the AVCDecoderConfigurationRecord behind an FLV sequence header.
const X264_HIGH_AVCC: &str = "0164000dffe100196764000dacd94141fb0110000003001000000303\
    20f142996001000668ebe3cb22c0fdf8f800";

fn avc_sequence_header() -> Vec<u8> {
    let mut p = vec![0x17, 0x00, 0, 0, 0];
    p.extend(hex::decode(X264_HIGH_AVCC).unwrap_or_default());
    p
}

/// An AVC frame of `len` bytes: one slice NAL unit (IDR or not) with 4-byte length.
fn avc_frame(key: bool, len: usize) -> Vec<u8> {
    let nal_len = len - 9;
    let mut p = vec![if key { 0x17 } else { 0x27 }, 0x01, 0, 0, 0];
    p.extend((nal_len as u32).to_be_bytes());
    p.push(if key { 0x65 } else { 0x41 });
    p.extend((1..nal_len).map(|i| (i % 251 + 1) as u8));
    p
}

fn aac_sequence_header() -> Vec<u8> {
    // AAC LC, 48 kHz, stereo.
    vec![0xaf, 0x00, 0x11, 0x90]
}

fn aac_frame(len: usize) -> Vec<u8> {
    let mut p = vec![0xaf, 0x01];
    p.extend((0..len - 2).map(|i| i as u8));
    p
}

fn muxer() -> TsMuxer {
    let mut m = TsMuxer::new(TsMuxerConfig::default());
    let _ = m.push_video(0, &avc_sequence_header());
    let _ = m.push_audio(0, &aac_sequence_header());
    m
}

fn bench_mux(c: &mut Criterion) {
    let mut group = c.benchmark_group("mpegts/mux_one_frame");
    let cases = [
        ("p-frame", avc_frame(false, 7_000)),
        ("keyframe", avc_frame(true, 60_000)),
    ];
    for (name, frame) in &cases {
        let mut m = muxer();
        // The case must really produce packets, or the figures mean nothing.
        match m.push_video(0, frame) {
            Ok(Some(unit)) if unit.packets.len() > frame.len() => {}
            other => panic!("{name} does not mux: {other:?}"),
        }
        let mut ts = 0u64;
        group.throughput(Throughput::Bytes(frame.len() as u64));
        group.bench_with_input(BenchmarkId::new("video", name), frame, |b, frame| {
            b.iter(|| {
                ts += 33;
                black_box(m.push_video(ts, black_box(frame)))
            })
        });
    }
    let frame = aac_frame(370);
    let mut m = muxer();
    match m.push_audio(0, &frame) {
        Ok(Some(unit)) if unit.packets.len() > frame.len() => {}
        other => panic!("aac does not mux: {other:?}"),
    }
    let mut ts = 0u64;
    group.throughput(Throughput::Bytes(frame.len() as u64));
    group.bench_function(BenchmarkId::new("audio", "aac"), |b| {
        b.iter(|| {
            ts += 21;
            black_box(m.push_audio(ts, black_box(&frame)))
        })
    });
    group.finish();
}

criterion_group!(benches, bench_mux);
criterion_main!(benches);
