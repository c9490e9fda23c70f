//! Hub behaviour: what players receive, in which order, with which timestamps.

use std::time::Duration;

use bytes::Bytes;
use rtmpkit_proto::amf::{Amf0Value, amf0};

use super::*;

// ---- helpers shared with tests_fanout ----

pub(crate) fn key() -> StreamKey {
    StreamKey::new("live", "test")
}

/// A hub that releases every frame at once: these tests are about what players receive and
/// in which order; the release policies have their own tests (`tests_release`).
pub(crate) fn hub_with(f: impl FnOnce(&mut HubConfig)) -> Hub {
    let mut c = HubConfig {
        release: ReleasePolicy::Immediate,
        ..HubConfig::default()
    };
    f(&mut c);
    Hub::new(c)
}

pub(crate) fn publish(hub: &Hub) -> Publisher {
    hub.publish(key(), PublishOptions::default()).unwrap()
}

pub(crate) fn metadata(ts: u32) -> Frame {
    let mut out = Vec::new();
    amf0::encode_all(
        &[
            Amf0Value::String("@setDataFrame".into()),
            Amf0Value::String("onMetaData".into()),
            Amf0Value::EcmaArray {
                count: 1,
                properties: vec![("width".into(), Amf0Value::Number(1280.0))],
            },
        ],
        &mut out,
    );
    Frame::data(ts, Bytes::from(out))
}

pub(crate) fn video_seq(ts: u32) -> Frame {
    Frame::video(
        ts,
        Bytes::from_static(&[0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f]),
    )
}

pub(crate) fn audio_seq(ts: u32) -> Frame {
    Frame::audio(ts, Bytes::from_static(&[0xaf, 0, 0x12, 0x10]))
}

pub(crate) fn key_frame(ts: u32) -> Frame {
    Frame::video(ts, Bytes::from(vec![0x17, 1, 0, 0, 0, 0x65, 0x88, 0x84]))
}

pub(crate) fn inter_frame(ts: u32) -> Frame {
    Frame::video(ts, Bytes::from(vec![0x27, 1, 0, 0, 0, 0x41, 0x9a]))
}

pub(crate) fn audio(ts: u32) -> Frame {
    Frame::audio(ts, Bytes::from(vec![0xaf, 1, 0x21, 0x10]))
}

/// A short name for a delivery: `J`, `L`, `NF`, `S`, `meta`, `vseq`, `aseq`, `K@ts`, `P@ts`,
/// `A@ts`.
pub(crate) fn name(d: &Delivery) -> String {
    match d {
        Delivery::PublisherJoined => "J".into(),
        Delivery::PublisherLeft => "L".into(),
        Delivery::NotFound => "NF".into(),
        Delivery::Skipped(_) => "S".into(),
        Delivery::Frame(f) => match f.kind() {
            FrameKind::Data if f.is_metadata() => "meta".into(),
            FrameKind::Data => format!("D@{}", f.timestamp()),
            FrameKind::Video if f.is_sequence_header() => "vseq".into(),
            FrameKind::Video if f.is_keyframe() => format!("K@{}", f.timestamp()),
            FrameKind::Video => format!("P@{}", f.timestamp()),
            FrameKind::Audio if f.is_sequence_header() => "aseq".into(),
            FrameKind::Audio => format!("A@{}", f.timestamp()),
        },
    }
}

/// Everything ready now.
pub(crate) fn drain(sub: &mut Subscription) -> Vec<String> {
    std::iter::from_fn(|| sub.try_next())
        .map(|d| name(&d))
        .collect()
}

/// Publishes metadata, headers and `gops` GOPs of one keyframe, 3 inter frames and 4 audio
/// frames each, 40 ms apart per video frame, starting at `t0`. Returns the next timestamp.
pub(crate) fn publish_gops(p: &mut Publisher, t0: u32, gops: u32) -> u32 {
    let mut t = t0;
    for g in 0..gops {
        p.push(key_frame(t)).unwrap();
        p.push(audio(t)).unwrap();
        for i in 1..4 {
            p.push(inter_frame(t + 40 * i)).unwrap();
            p.push(audio(t + 40 * i)).unwrap();
        }
        t += 160;
        let _ = g;
    }
    t
}

fn gop_names(t: u32) -> Vec<String> {
    let mut v = vec![format!("K@{t}"), format!("A@{t}")];
    for i in 1..4 {
        v.push(format!("P@{}", t + 40 * i));
        v.push(format!("A@{}", t + 40 * i));
    }
    v
}

// ---- tests ----

#[tokio::test]
async fn late_joiner_gets_metadata_headers_then_the_gop() {
    let hub = hub_with(|_| {});
    let mut p = publish(&hub);
    p.push(metadata(0)).unwrap();
    p.push(video_seq(0)).unwrap();
    p.push(audio_seq(0)).unwrap();
    let t = publish_gops(&mut p, 0, 3);
    assert_eq!(t, 480);
    let mut sub = hub.subscribe(key());
    let got = drain(&mut sub);
    let mut want: Vec<String> = ["J", "meta", "vseq", "aseq"].map(String::from).to_vec();
    want.extend(gop_names(320));
    assert_eq!(got, want);
    // Then live frames.
    p.push(inter_frame(480)).unwrap();
    assert_eq!(drain(&mut sub), ["P@480"]);
    assert_eq!(hub.stream_stats(&key()).unwrap().gop_frames, 9);
}

#[tokio::test]
async fn early_player_receives_everything_in_publish_order() {
    let hub = hub_with(|_| {});
    let mut sub = hub.subscribe(key());
    assert!(drain(&mut sub).is_empty());
    let mut p = publish(&hub);
    p.push(metadata(0)).unwrap();
    p.push(video_seq(0)).unwrap();
    p.push(audio_seq(0)).unwrap();
    publish_gops(&mut p, 0, 2);
    let mut want: Vec<String> = ["J", "meta", "vseq", "aseq"].map(String::from).to_vec();
    want.extend(gop_names(0));
    want.extend(gop_names(160));
    assert_eq!(drain(&mut sub), want);
}

#[tokio::test]
async fn gop_cache_frame_bound() {
    let hub = hub_with(|c| c.gop_cache.max_frames = 5);
    let mut p = publish(&hub);
    p.push(video_seq(0)).unwrap();
    p.push(key_frame(0)).unwrap();
    for i in 1..=4 {
        p.push(inter_frame(40 * i)).unwrap();
    }
    // 5 frames: still cached.
    assert_eq!(hub.stream_stats(&key()).unwrap().gop_frames, 5);
    let mut a = hub.subscribe(key());
    assert_eq!(
        drain(&mut a),
        ["J", "vseq", "K@0", "P@40", "P@80", "P@120", "P@160"]
    );
    // The sixth outgrows it: new players start live and wait for the next keyframe.
    p.push(inter_frame(200)).unwrap();
    assert_eq!(hub.stream_stats(&key()).unwrap().gop_frames, 0);
    let mut b = hub.subscribe(key());
    assert_eq!(drain(&mut b), ["J", "vseq"]);
    p.push(inter_frame(240)).unwrap();
    p.push(audio(250)).unwrap();
    p.push(key_frame(280)).unwrap();
    p.push(inter_frame(320)).unwrap();
    assert_eq!(drain(&mut b), ["A@250", "K@280", "P@320"]);
    assert_eq!(b.dropped_waiting_keyframe(), 1);
    assert_eq!(hub.stream_stats(&key()).unwrap().gop_frames, 2);
}

#[tokio::test]
async fn gop_cache_duration_and_byte_bounds() {
    let hub = hub_with(|c| c.gop_cache.max_duration = Duration::from_millis(100));
    let mut p = publish(&hub);
    p.push(key_frame(0)).unwrap();
    p.push(inter_frame(100)).unwrap();
    assert_eq!(hub.stream_stats(&key()).unwrap().gop_frames, 2);
    p.push(inter_frame(101)).unwrap();
    assert_eq!(hub.stream_stats(&key()).unwrap().gop_frames, 0);

    let hub = hub_with(|c| c.gop_cache.max_bytes = 1000);
    let mut p = publish(&hub);
    p.push(key_frame(0)).unwrap();
    assert_eq!(hub.stream_stats(&key()).unwrap().gop_frames, 1);
    p.push(Frame::video(40, Bytes::from(vec![0x27; 1000])))
        .unwrap();
    assert_eq!(hub.stream_stats(&key()).unwrap().gop_frames, 0);
}

#[tokio::test]
async fn gop_cache_off() {
    let hub = hub_with(|c| c.gop_cache.enabled = false);
    let mut p = publish(&hub);
    p.push(video_seq(0)).unwrap();
    p.push(audio_seq(0)).unwrap();
    publish_gops(&mut p, 0, 2);
    assert_eq!(hub.stream_stats(&key()).unwrap().gop_frames, 0);
    let mut sub = hub.subscribe(key());
    assert_eq!(drain(&mut sub), ["J", "vseq", "aseq"]);
    p.push(inter_frame(320)).unwrap();
    p.push(audio(320)).unwrap();
    p.push(key_frame(360)).unwrap();
    assert_eq!(drain(&mut sub), ["A@320", "K@360"]);
}

#[tokio::test]
async fn audio_only_stream() {
    let hub = hub_with(|_| {});
    let mut p = publish(&hub);
    p.push(metadata(0)).unwrap();
    p.push(audio_seq(0)).unwrap();
    for i in 0..10 {
        p.push(audio(23 * i)).unwrap();
    }
    let mut sub = hub.subscribe(key());
    assert_eq!(drain(&mut sub), ["J", "meta", "aseq"]);
    p.push(audio(230)).unwrap();
    p.push(audio(253)).unwrap();
    assert_eq!(drain(&mut sub), ["A@230", "A@253"]);
    assert_eq!(sub.skips(), 0);
}

#[tokio::test]
async fn video_only_stream() {
    let hub = hub_with(|_| {});
    let mut p = publish(&hub);
    p.push(video_seq(0)).unwrap();
    p.push(key_frame(0)).unwrap();
    p.push(inter_frame(40)).unwrap();
    let mut sub = hub.subscribe(key());
    assert_eq!(drain(&mut sub), ["J", "vseq", "K@0", "P@40"]);
    p.push(inter_frame(80)).unwrap();
    assert_eq!(drain(&mut sub), ["P@80"]);
}

#[tokio::test]
async fn player_before_publisher_waits_then_starts() {
    let hub = hub_with(|_| {});
    let mut sub = hub.subscribe(key());
    let waiter = tokio::spawn(async move {
        let mut got = Vec::new();
        while got.len() < 4 {
            got.push(name(&sub.next().await));
        }
        got
    });
    tokio::task::yield_now().await;
    let mut p = publish(&hub);
    p.push(video_seq(0)).unwrap();
    p.push(key_frame(0)).unwrap();
    p.push(inter_frame(40)).unwrap();
    let got = tokio::time::timeout(Duration::from_secs(5), waiter)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got, ["J", "vseq", "K@0", "P@40"]);
}

#[tokio::test(start_paused = true)]
async fn player_without_publisher_times_out_with_not_found() {
    let hub = hub_with(|c| c.play_wait_timeout = Duration::from_secs(3));
    let mut sub = hub.subscribe(key());
    let start = tokio::time::Instant::now();
    assert!(matches!(sub.next().await, Delivery::NotFound));
    assert_eq!(start.elapsed(), Duration::from_secs(3));
    // Final, even if a publisher comes now.
    let _p = publish(&hub);
    assert!(matches!(sub.next().await, Delivery::NotFound));
    assert!(matches!(sub.try_next(), Some(Delivery::NotFound)));
}

#[tokio::test(start_paused = true)]
async fn zero_wait_timeout_answers_at_once_but_finds_a_live_stream() {
    let hub = hub_with(|c| c.play_wait_timeout = Duration::ZERO);
    let mut sub = hub.subscribe(key());
    assert!(matches!(sub.next().await, Delivery::NotFound));
    let _p = publish(&hub);
    let mut sub = hub.subscribe(key());
    assert!(matches!(sub.next().await, Delivery::PublisherJoined));
}

#[tokio::test]
async fn publisher_leaves_and_returns_with_monotonic_timestamps() {
    let hub = hub_with(|_| {});
    let mut sub = hub.subscribe(key());
    let mut p = publish(&hub);
    p.push(video_seq(0)).unwrap();
    p.push(key_frame(1000)).unwrap();
    p.push(audio(1010)).unwrap();
    p.push(inter_frame(1040)).unwrap();
    drop(p);
    assert_eq!(
        drain(&mut sub),
        ["J", "vseq", "K@1000", "A@1010", "P@1040", "L"]
    );
    assert!(!hub.stream_stats(&key()).unwrap().publishing);
    // A new publisher starting from 0 continues at 1040.
    let mut p = publish(&hub);
    p.push(video_seq(0)).unwrap();
    p.push(audio_seq(0)).unwrap();
    p.push(key_frame(0)).unwrap();
    p.push(audio(5)).unwrap();
    p.push(inter_frame(40)).unwrap();
    assert_eq!(
        drain(&mut sub),
        ["J", "vseq", "aseq", "K@1040", "A@1045", "P@1080"]
    );
    // A late joiner on the new session gets the new headers only.
    let mut late = hub.subscribe(key());
    assert_eq!(
        drain(&mut late),
        ["J", "vseq", "aseq", "K@1040", "A@1045", "P@1080"]
    );
}

#[tokio::test]
async fn backward_jump_within_a_session_stays_monotonic() {
    let hub = hub_with(|_| {});
    let mut p = publish(&hub);
    let mut sub = hub.subscribe(key());
    p.push(key_frame(5000)).unwrap();
    p.push(inter_frame(5040)).unwrap();
    p.push(key_frame(0)).unwrap();
    p.push(inter_frame(40)).unwrap();
    assert_eq!(
        drain(&mut sub),
        ["J", "K@5000", "P@5040", "K@5040", "P@5080"]
    );
}

#[tokio::test]
async fn timestamps_past_2_24_and_2_32() {
    let hub = hub_with(|_| {});
    let mut p = publish(&hub);
    let mut sub = hub.subscribe(key());
    let t = 0xFF_FFF0u32;
    // Steps below 2^31 ms each, as a real stream's are; each a keyframe, read at once, so
    // the long gaps are not lag.
    let mut frames: Vec<Arc<Frame>> = Vec::new();
    for ts in [t, t + 0x20, 0x8000_0000, u32::MAX - 10, 30] {
        p.push(key_frame(ts)).unwrap();
        frames.extend(
            std::iter::from_fn(|| sub.try_next()).filter_map(|d| match d {
                Delivery::Frame(f) => Some(f),
                _ => None,
            }),
        );
    }
    let ext: Vec<u64> = frames.iter().map(|f| f.timestamp_ext()).collect();
    let max = u64::from(u32::MAX);
    assert_eq!(
        ext,
        [0xFF_FFF0, 0x100_0010, 0x8000_0000, max - 10, max + 31]
    );
    assert_eq!(frames[4].timestamp(), 30);
    // Past 2^24 the chunk header carries 0xFFFFFF and an extended timestamp.
    let wire = frames[1].rtmp_chunks(4096, 1).unwrap();
    assert_eq!(&wire[1..4], &[0xff, 0xff, 0xff]);
    assert_eq!(&wire[12..16], &0x100_0010u32.to_be_bytes());
    let wire = frames[0].rtmp_chunks(4096, 1).unwrap();
    assert_eq!(&wire[1..4], &[0xff, 0xff, 0xf0]);
}

#[tokio::test]
async fn duplicate_publisher_is_refused() {
    let hub = hub_with(|_| {});
    let _first = hub
        .publish(
            key(),
            PublishOptions {
                label: "conn-1".into(),
                ..Default::default()
            },
        )
        .unwrap();
    let err = hub
        .publish(
            key(),
            PublishOptions {
                label: "conn-2".into(),
                ..Default::default()
            },
        )
        .unwrap_err();
    assert_eq!(
        err,
        PublishError::AlreadyPublishing {
            key: key(),
            by: "conn-1".into()
        }
    );
    assert_eq!(
        err.to_string(),
        "stream live/test is already being published by conn-1"
    );
    // Other names are free.
    hub.publish(StreamKey::new("live", "other"), PublishOptions::default())
        .unwrap();
}

#[tokio::test]
async fn takeover_replaces_the_publisher_and_players_go_on() {
    let hub = hub_with(|c| c.publisher_takeover = true);
    let mut old = publish(&hub);
    let mut sub = hub.subscribe(key());
    old.push(video_seq(0)).unwrap();
    old.push(key_frame(0)).unwrap();
    old.push(inter_frame(40)).unwrap();
    assert!(!old.is_replaced());

    let mut new = publish(&hub);
    assert!(old.is_replaced());
    tokio::time::timeout(Duration::from_secs(1), old.replaced())
        .await
        .expect("old publisher told it was replaced");
    assert!(matches!(
        old.push(inter_frame(80)),
        Err(PushError::Replaced { .. })
    ));
    new.push(video_seq(0)).unwrap();
    new.push(key_frame(0)).unwrap();
    drop(old); // must not unpublish the new one
    new.push(inter_frame(40)).unwrap();
    assert_eq!(
        drain(&mut sub),
        ["J", "vseq", "K@0", "P@40", "L", "J", "vseq", "K@40", "P@80"]
    );
    let stats = hub.stream_stats(&key()).unwrap();
    assert!(stats.publishing);
    assert_eq!(hub.stats().takeovers, 1);
    // Per-publish override.
    let refused = hub.publish(
        key(),
        PublishOptions {
            takeover: Some(false),
            ..Default::default()
        },
    );
    assert!(refused.is_err());
}

#[tokio::test]
async fn streams_are_removed_when_idle() {
    let hub = hub_with(|_| {});
    let p = publish(&hub);
    let sub = hub.subscribe(key());
    assert_eq!(hub.streams(), [key()]);
    drop(p);
    assert_eq!(hub.stats().streams, 1);
    drop(sub);
    assert_eq!(hub.stats().streams, 0);
    assert!(hub.stream_stats(&key()).is_none());
    let sub = hub.subscribe(key());
    drop(sub);
    assert!(hub.streams().is_empty());
}

#[tokio::test]
async fn metadata_update_replaces_the_stored_one() {
    let hub = hub_with(|_| {});
    let mut p = publish(&hub);
    p.push(metadata(0)).unwrap();
    p.push(key_frame(0)).unwrap();
    p.push(metadata(10)).unwrap();
    let mut sub = hub.subscribe(key());
    // The update was pushed after the keyframe: it comes in order, not twice.
    assert_eq!(drain(&mut sub), ["J", "K@0", "meta"]);
    let mut q = hub.subscribe(key());
    let first_meta = std::iter::from_fn(|| q.try_next()).find_map(|d| match d {
        Delivery::Frame(f) if f.is_metadata() => Some(f),
        _ => None,
    });
    assert_eq!(first_meta.unwrap().timestamp(), 10);
}
