//! Release policies: when published frames become visible to players.

use std::time::Duration;

use tokio::time::{Instant, advance};

use super::tests::{audio, audio_seq, drain, inter_frame, key, key_frame, publish, video_seq};
use super::*;

fn hub(release: ReleasePolicy) -> Hub {
    Hub::new(HubConfig {
        release,
        ..HubConfig::default()
    })
}

#[tokio::test(start_paused = true)]
async fn low_latency_sends_audio_with_the_next_video_frame() {
    let hub = hub(ReleasePolicy::LowLatency);
    let mut sub = hub.subscribe(key());
    let mut p = publish(&hub);
    p.push(video_seq(0)).unwrap();
    p.push(key_frame(0)).unwrap();
    assert_eq!(
        drain(&mut sub),
        ["J", "vseq", "K@0"],
        "video goes out at once"
    );
    p.push(audio(10)).unwrap();
    p.push(audio(20)).unwrap();
    assert!(
        drain(&mut sub).is_empty(),
        "audio waits for the next video frame"
    );
    let due = p.release_due().expect("audio is held");
    assert_eq!(due - Instant::now(), AUDIO_HOLD);
    advance(Duration::from_millis(10)).await;
    p.push(inter_frame(33)).unwrap();
    assert_eq!(
        drain(&mut sub),
        ["A@10", "A@20", "P@33"],
        "in publish order"
    );
    assert_eq!(p.release_due(), None);
}

#[tokio::test(start_paused = true)]
async fn low_latency_holds_audio_at_most_audio_hold() {
    let hub = hub(ReleasePolicy::LowLatency);
    let mut sub = hub.subscribe(key());
    let mut p = publish(&hub);
    p.push(key_frame(0)).unwrap();
    drain(&mut sub);
    p.push(audio(0)).unwrap();
    advance(AUDIO_HOLD - Duration::from_millis(1)).await;
    p.push(audio(23)).unwrap();
    assert!(drain(&mut sub).is_empty());
    // A frame arriving once the oldest held one is due releases everything.
    advance(Duration::from_millis(1)).await;
    p.push(audio(46)).unwrap();
    assert_eq!(drain(&mut sub), ["A@0", "A@23", "A@46"]);
    // Without a next frame, the connection releases at the due time.
    p.push(audio(69)).unwrap();
    assert!(drain(&mut sub).is_empty());
    p.release();
    assert_eq!(drain(&mut sub), ["A@69"]);
}

#[tokio::test(start_paused = true)]
async fn low_latency_does_not_hold_an_audio_only_stream() {
    let hub = hub(ReleasePolicy::LowLatency);
    let mut sub = hub.subscribe(key());
    let mut p = publish(&hub);
    p.push(audio_seq(0)).unwrap();
    p.push(audio(0)).unwrap();
    assert_eq!(drain(&mut sub), ["J", "aseq", "A@0"]);
    assert_eq!(p.release_due(), None);
}

#[tokio::test(start_paused = true)]
async fn merged_releases_batches_no_older_than_the_window() {
    let window = Duration::from_millis(350);
    let hub = hub(ReleasePolicy::Merged(window));
    let mut sub = hub.subscribe(key());
    let mut p = publish(&hub);
    assert_eq!(drain(&mut sub), ["J"], "publisher events go out at once");
    p.push(key_frame(0)).unwrap();
    let start = Instant::now();
    assert_eq!(p.release_due(), Some(start + window));
    for i in 1..10u32 {
        advance(Duration::from_millis(33)).await;
        p.push(inter_frame(33 * i)).unwrap();
    }
    assert!(drain(&mut sub).is_empty(), "297 ms: still held");
    advance(Duration::from_millis(53)).await;
    p.push(inter_frame(350)).unwrap();
    let got = drain(&mut sub);
    assert_eq!(got.len(), 11);
    assert_eq!(got.first().map(String::as_str), Some("K@0"));
    // The next batch starts with the next frame.
    advance(Duration::from_millis(10)).await;
    p.push(inter_frame(383)).unwrap();
    assert_eq!(p.release_due(), Some(Instant::now() + window));
    assert!(drain(&mut sub).is_empty());
    // Leaving releases what is held, then the Left marker.
    drop(p);
    assert_eq!(drain(&mut sub), ["P@383", "L"]);
}

#[tokio::test(start_paused = true)]
async fn a_new_player_does_not_see_held_frames_early() {
    let hub = hub(ReleasePolicy::Merged(Duration::from_millis(100)));
    let mut p = publish(&hub);
    p.push(key_frame(0)).unwrap();
    p.push(audio(0)).unwrap();
    let mut late = hub.subscribe(key());
    assert_eq!(drain(&mut late), ["J"]);
    p.release();
    assert_eq!(drain(&mut late), ["K@0", "A@0"]);
}
