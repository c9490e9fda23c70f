//! One frame through the server's hub to many players: the publisher's push, then for each
//! player its read from the ring and its share of the frame's RTMP chunks
//! (`Frame::rtmp_chunks`, serialized by the first player and shared by the rest).

use std::hint::black_box;

use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rtmpkit_server::hub::{Delivery, Frame, Hub, HubConfig, PublishOptions, StreamKey};

const CHUNK_SIZE: u32 = 4096;

fn bench_fanout(c: &mut Criterion) {
    let mut group = c.benchmark_group("hub/frame_to_players");
    let payload = {
        let mut p = vec![0x27, 0x01, 0, 0, 0];
        p.resize(7_000, 0x5a);
        Bytes::from(p)
    };
    let keyframe = {
        let mut p = vec![0x17, 0x01, 0, 0, 0];
        p.resize(60_000, 0x5a);
        Bytes::from(p)
    };
    for players in [1usize, 100, 1000] {
        let hub = Hub::new(HubConfig::default());
        let key = StreamKey::new("live", "bench");
        let Ok(mut publisher) = hub.publish(key.clone(), PublishOptions::default()) else {
            return;
        };
        let _ = publisher.push(Frame::video(0, keyframe.clone()));
        let mut subs: Vec<_> = (0..players).map(|_| hub.subscribe(key.clone())).collect();
        // Drain the join deliveries and the cached GOP.
        for s in &mut subs {
            while s.try_next().is_some() {}
        }
        let mut ts = 0u32;
        group.throughput(Throughput::Elements(players as u64));
        group.bench_function(BenchmarkId::from_parameter(players), |b| {
            b.iter(|| {
                ts = ts.wrapping_add(33);
                let _ = publisher.push(Frame::video(ts, payload.clone()));
                let mut bytes = 0;
                for s in &mut subs {
                    while let Some(d) = s.try_next() {
                        if let Delivery::Frame(f) = d
                            && let Ok(chunks) = f.rtmp_chunks(CHUNK_SIZE, 1)
                        {
                            bytes += chunks.len();
                        }
                    }
                }
                black_box(bytes)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_fanout);
criterion_main!(benches);
