//! Fan-out under load: many players, stalled players, skips, shared serialization.

use std::sync::Weak;

use bytes::Bytes;
use std::time::Duration;

use rtmpkit_proto::rtmp::chunk::{MessageHeader, serialize_fmt0};

use super::tests::{
    audio, audio_seq, drain, hub_with, inter_frame, key, key_frame, metadata, name, publish,
    publish_gops, video_seq,
};
use super::*;

fn frames_of(deliveries: impl IntoIterator<Item = Delivery>) -> Vec<Arc<Frame>> {
    deliveries
        .into_iter()
        .filter_map(|d| match d {
            Delivery::Frame(f) => Some(f),
            _ => None,
        })
        .collect()
}

/// 25 fps video with a keyframe every `gop` frames, AAC audio every 23 ms, for `ms`.
fn av_stream(ms: u32, gop: u32) -> Vec<Frame> {
    let mut out = vec![metadata(0), video_seq(0), audio_seq(0)];
    let (mut v, mut a, mut n) = (0u32, 0u32, 0u32);
    while v < ms || a < ms {
        if v <= a {
            out.push(if n % gop == 0 {
                key_frame(v)
            } else {
                inter_frame(v)
            });
            n += 1;
            v += 40;
        } else {
            out.push(audio(a));
            a += 23;
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_players_receive_every_frame_in_order() {
    let hub = hub_with(|c| {
        // No player may skip in this test, however the scheduler runs them.
        c.player_queue.max_lag = Duration::from_secs(3600);
        c.player_queue.max_bytes = 1 << 30;
    });
    let frames = av_stream(20_000, 50);
    let total = frames.len();
    let expected: Vec<(FrameKind, u32)> =
        frames.iter().map(|f| (f.kind(), f.timestamp())).collect();

    let mut players = Vec::new();
    for _ in 0..50 {
        let mut sub = hub.subscribe(key());
        players.push(tokio::spawn(async move {
            let mut got = Vec::with_capacity(total);
            assert!(matches!(sub.next().await, Delivery::PublisherJoined));
            while got.len() < total {
                match sub.next().await {
                    Delivery::Frame(f) => got.push(f),
                    other => panic!("unexpected {}", name(&other)),
                }
            }
            (got, sub.skips())
        }));
    }
    let mut p = publish(&hub);
    for (i, f) in frames.into_iter().enumerate() {
        p.push(f).unwrap();
        if i % 64 == 0 {
            tokio::task::yield_now().await;
        }
    }
    let mut first: Option<Vec<Arc<Frame>>> = None;
    for player in players {
        let (got, skips) = tokio::time::timeout(Duration::from_secs(60), player)
            .await
            .expect("player finished")
            .unwrap();
        assert_eq!(skips, 0);
        let seen: Vec<(FrameKind, u32)> = got.iter().map(|f| (f.kind(), f.timestamp())).collect();
        assert_eq!(seen, expected);
        // Every player holds the same frames, not copies.
        match &first {
            None => first = Some(got),
            Some(f) => assert!(f.iter().zip(&got).all(|(a, b)| Arc::ptr_eq(a, b))),
        }
    }
    assert_eq!(hub.stats().skips, 0);
}

#[tokio::test]
async fn stalled_player_pins_nothing_and_others_go_on() {
    let hub = hub_with(|c| {
        c.player_queue.max_lag = Duration::from_millis(1000);
        c.gop_cache.max_duration = Duration::from_millis(4000);
    });
    let mut p = publish(&hub);
    let mut stalled = hub.subscribe(key());
    let mut fast = hub.subscribe(key());
    let frames = av_stream(60_000, 50); // 2 s GOPs, 60 s
    let pushed = frames.len();
    let mut weak: Vec<Weak<Frame>> = Vec::new();
    let mut fast_got = 0usize;
    let mut max_ring = 0usize;
    let mut max_ring_bytes = 0u64;
    for (i, f) in frames.into_iter().enumerate() {
        p.push(f).unwrap();
        if i == 3 {
            // The stalled player reads its start, then never again.
            assert_eq!(drain(&mut stalled), ["J", "meta", "vseq", "aseq", "K@0"]);
        }
        for f in frames_of(std::iter::from_fn(|| fast.try_next())) {
            weak.push(Arc::downgrade(&f));
            fast_got += 1;
        }
        let s = hub.stream_stats(&key()).unwrap();
        max_ring = max_ring.max(s.ring_len);
        max_ring_bytes = max_ring_bytes.max(s.ring_bytes);
    }
    assert_eq!(fast_got, pushed, "the fast player got every frame");
    assert_eq!(fast.skips(), 0);
    // The ring holds at most the lag window plus a GOP: 2 s of GOP + 1 s of lag at 25 + 43.5
    // frames per second is about 210 entries, whatever the stalled player does.
    assert!(max_ring <= 220, "ring grew to {max_ring} entries");
    assert!(
        max_ring_bytes < 64 * 1024,
        "ring grew to {max_ring_bytes} bytes"
    );
    // Frames still alive: those in the ring and the stored headers, nothing for the stalled
    // player.
    let alive = weak.iter().filter(|w| w.strong_count() > 0).count();
    let s = hub.stream_stats(&key()).unwrap();
    assert!(
        alive <= s.ring_len + 3,
        "{alive} frames alive, ring holds {}",
        s.ring_len
    );
    assert!(alive < pushed / 10);

    // The stalled player comes back: one skip, to the latest keyframe.
    let d = stalled.try_next().unwrap();
    let Delivery::Skipped(report) = d else {
        panic!("expected a skip, got {}", name(&d));
    };
    assert!(report.at_keyframe);
    assert_eq!(report.total, 1);
    assert!(report.skipped > 1000, "{report:?}");
    let next = stalled.try_next().unwrap();
    assert!(
        matches!(&next, Delivery::Frame(f) if f.is_keyframe()),
        "{}",
        name(&next)
    );
    assert_eq!(stalled.skips(), 1);
    assert_eq!(hub.stats().skips, 1);
    assert_eq!(hub.stream_stats(&key()).unwrap().skips, 1);
    // And then it follows without skipping again.
    let rest = drain(&mut stalled);
    assert!(!rest.iter().any(|n| n == "S"));
}

#[tokio::test]
async fn skip_resends_headers_that_changed_meanwhile() {
    let hub = hub_with(|c| c.player_queue.max_lag = Duration::from_millis(500));
    let mut p = publish(&hub);
    p.push(video_seq(0)).unwrap();
    let mut sub = hub.subscribe(key());
    let t = publish_gops(&mut p, 0, 1);
    assert_eq!(drain(&mut sub).len(), 10);
    // While the player sleeps, the audio configuration appears and time runs on.
    p.push(audio_seq(t)).unwrap();
    let t = publish_gops(&mut p, t, 10);
    p.push(inter_frame(t)).unwrap();
    let got = drain(&mut sub);
    assert_eq!(got[0], "S");
    assert_eq!(got[1], "aseq");
    assert_eq!(got[2], format!("K@{}", t - 160));
    assert_eq!(got.len(), 2 + 8 + 1);
}

#[tokio::test]
async fn skip_across_a_publisher_change() {
    let hub = hub_with(|c| {
        c.player_queue.max_lag = Duration::from_millis(500);
        c.publisher_takeover = true;
    });
    let mut p = publish(&hub);
    let mut sub = hub.subscribe(key());
    p.push(video_seq(0)).unwrap();
    publish_gops(&mut p, 0, 1);
    assert_eq!(drain(&mut sub).len(), 10);
    // Replaced, and the new publisher runs on long enough that the player falls out.
    let mut q = publish(&hub);
    drop(p);
    q.push(video_seq(0)).unwrap();
    let t = publish_gops(&mut q, 0, 10);
    let got = drain(&mut sub);
    // The old session ended at 120, so the new one's input t maps to t + 120.
    assert_eq!(
        &got[..5],
        ["S", "L", "J", "vseq", &format!("K@{}", t - 160 + 120)]
    );
}

#[tokio::test]
async fn lagging_audio_only_player_jumps_to_the_newest_frame() {
    let hub = hub_with(|c| c.player_queue.max_lag = Duration::from_millis(500));
    let mut p = publish(&hub);
    p.push(audio_seq(0)).unwrap();
    let mut sub = hub.subscribe(key());
    assert_eq!(drain(&mut sub), ["J", "aseq"]);
    for i in 0..100 {
        p.push(audio(23 * i)).unwrap();
    }
    let d = sub.try_next().unwrap();
    let Delivery::Skipped(report) = d else {
        panic!("expected a skip, got {}", name(&d));
    };
    assert!(!report.at_keyframe);
    assert!(sub.try_next().is_none());
    p.push(audio(2300)).unwrap();
    assert_eq!(drain(&mut sub), ["A@2300"]);
}

#[tokio::test]
async fn waiting_player_that_fell_behind_starts_without_a_skip() {
    let hub = hub_with(|c| c.player_queue.max_lag = Duration::from_millis(500));
    let mut sub = hub.subscribe(key());
    let mut p = publish(&hub);
    p.push(video_seq(0)).unwrap();
    let t = publish_gops(&mut p, 0, 20);
    let got = drain(&mut sub);
    assert_eq!(&got[..3], ["J", "vseq", &format!("K@{}", t - 160)]);
    assert_eq!(sub.skips(), 0);
}

#[tokio::test]
async fn shared_serialization_is_built_once() {
    let hub = hub_with(|_| {});
    let mut subs: Vec<Subscription> = (0..10).map(|_| hub.subscribe(key())).collect();
    let mut p = publish(&hub);
    p.push(metadata(0)).unwrap();
    p.push(video_seq(0)).unwrap();
    p.push(audio_seq(0)).unwrap();
    publish_gops(&mut p, 0, 2); // 16 frames
    let mut wires: Vec<Vec<Bytes>> = Vec::new();
    for sub in &mut subs {
        let frames = frames_of(std::iter::from_fn(|| sub.try_next()));
        assert_eq!(frames.len(), 19);
        wires.push(
            frames
                .iter()
                .map(|f| f.rtmp_chunks(4096, SHARED_STREAM_ID).unwrap())
                .collect(),
        );
    }
    let stats = hub.stats();
    assert_eq!(stats.shared_serializations, 19);
    assert_eq!(stats.private_serializations, 0);
    // Same bytes, same memory, for every player.
    for w in &wires[1..] {
        for (a, b) in wires[0].iter().zip(w) {
            assert_eq!(a.as_ptr(), b.as_ptr());
        }
    }
    // And they are the right bytes.
    let mut q = hub.subscribe(key());
    let first_key = frames_of(std::iter::from_fn(|| q.try_next()))
        .into_iter()
        .find(|f| f.is_keyframe())
        .unwrap();
    let header = MessageHeader {
        timestamp: first_key.timestamp(),
        type_id: 9,
        stream_id: 1,
    };
    let direct = serialize_fmt0(4096, 7, &header, first_key.payload()).unwrap();
    assert_eq!(first_key.rtmp_chunks(4096, 1).unwrap(), direct);
    // Other chunk sizes, stream ids or chunk streams are per player.
    first_key.rtmp_chunks(128, 1).unwrap();
    first_key.rtmp_chunks(4096, 2).unwrap();
    first_key.rtmp_chunks_on(4096, 4, 1).unwrap();
    let stats = hub.stats();
    assert_eq!(stats.shared_serializations, 19);
    assert_eq!(stats.private_serializations, 3);
    // Counts survive the stream.
    drop((subs, q, p));
    assert_eq!(hub.stats().streams, 0);
    assert_eq!(hub.stats().shared_serializations, 19);
    assert_eq!(hub.stats().private_serializations, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_first_use_builds_once() {
    let hub = hub_with(|_| {});
    let mut p = publish(&hub);
    let mut sub = hub.subscribe(key());
    p.push(key_frame(0)).unwrap();
    let frame = frames_of(std::iter::from_fn(|| sub.try_next())).remove(0);
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let f = frame.clone();
            tokio::spawn(async move { f.rtmp_chunks(4096, 1).unwrap() })
        })
        .collect();
    let mut ptrs = Vec::new();
    for t in tasks {
        ptrs.push(t.await.unwrap().as_ptr());
    }
    assert!(ptrs.windows(2).all(|w| w[0] == w[1]));
    assert_eq!(hub.stats().shared_serializations, 1);
}

#[tokio::test]
async fn publisher_is_never_slowed_by_players() {
    // The publisher's push is synchronous and O(1): with 200 players that never read, it
    // still pushes a minute of stream, and the ring stays bounded.
    let hub = hub_with(|c| c.player_queue.max_lag = Duration::from_millis(1000));
    let _subs: Vec<Subscription> = (0..200).map(|_| hub.subscribe(key())).collect();
    let mut p = publish(&hub);
    let frames = av_stream(60_000, 50);
    let n = frames.len() as u64;
    for f in frames {
        p.push(f).unwrap();
    }
    let s = hub.stream_stats(&key()).unwrap();
    assert_eq!(s.frames_pushed, n);
    assert_eq!(s.subscribers, 200);
    assert!(s.ring_len <= 220, "{s:?}");
}
