//! Many players, and a player that stops reading.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rtmpkit_proto::rtmp::message::status;
use rtmpkit_proto::rtmp::session::{ClientConfig, ClientEvent, MediaKind};

use crate::logs::*;
use crate::media::*;
use crate::support::{Media, MediaKindOrData, TempDir, TestClient, cached_source, read_flv};
use crate::{finish, require_tools, runtime, start_with};

#[test]
fn fifty_players_get_every_frame_in_order() {
    require_tools!("ffmpeg");
    const PLAYERS: usize = 50;
    let dir = TempDir::new("fifty");
    let server = start_with(&dir, "play_wait_timeout_ms = 60000\n");
    let addr = server.addr;
    let tags = read_flv(&cached_source(Media::AudioVideo, 4));
    let sent = media_of_tags(&tags);
    let rt = runtime();
    let players: Vec<_> = (0..PLAYERS)
        .map(|_| {
            rt.spawn(async move {
                let mut client = TestClient::connect(addr, true)
                    .await
                    .map_err(|e| format!("connect: {e}"))?;
                client.play("fifty").await.ok_or("play failed")?;
                let end = client
                    .until(Duration::from_secs(30), |e| {
                        matches!(e, ClientEvent::Status(s) if s.code == status::PLAY_UNPUBLISH_NOTIFY)
                    })
                    .await;
                if end.is_none() {
                    return Err(format!(
                        "no UnpublishNotify; statuses {:?}",
                        client.status_codes()
                    ));
                }
                Ok::<_, String>(media_of_events(&client.events))
            })
        })
        .collect();
    assert!(
        wait_log_count(
            &server,
            PLAYERS,
            Duration::from_secs(20),
            play_line("fifty")
        ),
        "not every player got to play: {}",
        server.log().join("\n")
    );

    let started = Instant::now();
    rt.block_on(async {
        let mut publisher = TestClient::connect(addr, false).await.expect("publisher");
        let (id, code) = publisher.publish("fifty").await.expect("publish answered");
        assert_eq!(code, status::PUBLISH_START);
        publisher
            .send_tags(id, &tags, 0, true)
            .await
            .expect("publisher sends");
        finish(&mut publisher).await;
    });
    let published = started.elapsed();

    let mut failures = Vec::new();
    for (i, player) in players.into_iter().enumerate() {
        match rt.block_on(player).expect("player task") {
            Err(e) => failures.push(format!("player {i}: {e}")),
            Ok(got) => {
                if let Some(d) = first_difference(&sent, &got) {
                    failures.push(format!("player {i}: {d}"));
                }
                if let Err(e) = check_monotonic(&got) {
                    failures.push(format!("player {i}: {e}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    eprintln!(
        "{PLAYERS} players got all {} media messages; published in {published:?}",
        sent.len()
    );
}

fn rss_of(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

#[test]
fn a_stalled_player_delays_no_one_and_memory_stays_bounded() {
    require_tools!("ffmpeg");
    let dir = TempDir::new("stalled");
    let server = start_with(&dir, "idle_timeout_ms = 2000\n");
    let addr = server.addr;
    let paced = read_flv(&cached_source(Media::AudioVideo, 4));
    let paced_media = media_of_tags(&paced);
    let paced_span = paced.iter().map(|t| t.1).max().unwrap_or(0);
    // 16 Mbit/s for 48 s of stream time: ~96 MB, sent as fast as the server takes it.
    // 8 Mbit/s of video for 100 s of stream time: ~96 MiB, sent as fast as the server takes
    // it. A server that kept what the stalled player has not read would grow by all of it.
    let mut fast = synthetic_tags(100, 40_000);
    fast.retain(|t| t.0 == MediaKindOrData::Media(MediaKind::Video));
    let fast_bytes: usize = fast.iter().map(|t| t.2.len()).sum();
    let rt = runtime();

    let stalled = rt
        .block_on(async {
            let config = ClientConfig::player("live", &format!("rtmp://{addr}/live"));
            let mut c = TestClient::connect_with(addr, config, Some(4096)).await?;
            c.play("stall").await.ok_or(std::io::Error::other("play"))?;
            Ok::<_, std::io::Error>(c)
        })
        .expect("stalled player");
    let stalled_peer = stalled.socket.local_addr().expect("addr");

    // The healthy player: (kind, ts, payload) and arrival time of each media message, until
    // `paced_media.len()` arrived; then it goes on reading (and forgetting) until stopped.
    let stop = Arc::new(AtomicBool::new(false));
    let fast_received = Arc::new(AtomicU64::new(0));
    let healthy = {
        let stop = stop.clone();
        let fast_received = fast_received.clone();
        let want = paced_media.len();
        rt.spawn(async move {
            let mut client = TestClient::connect(addr, true)
                .await
                .map_err(|e| e.to_string())?;
            client.play("stall").await.ok_or("play failed")?;
            let mut got: Vec<(Received, Instant)> = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let event = client
                    .until(Duration::from_millis(100), |e| {
                        matches!(e, ClientEvent::Media { .. })
                    })
                    .await;
                if let Some(ClientEvent::Media {
                    kind,
                    timestamp,
                    payload,
                    ..
                }) = event
                {
                    if got.len() < want {
                        got.push(((kind, timestamp, payload), Instant::now()));
                    } else {
                        fast_received.fetch_add(payload.len() as u64, Ordering::Relaxed);
                    }
                }
                client.events.clear();
            }
            Ok::<_, String>(got)
        })
    };
    assert!(
        wait_log_count(&server, 2, Duration::from_secs(10), play_line("stall")),
        "players did not get to play: {}",
        server.log().join("\n")
    );

    let rss_base = server.rss_kib().expect("server rss");
    let rss_max = AtomicU64::new(rss_base);
    let sampling = AtomicBool::new(true);
    let pid = server.pid();
    let (send_start, paced_time, fast_time) = std::thread::scope(|s| {
        s.spawn(|| {
            while sampling.load(Ordering::Relaxed) {
                if let Some(kib) = rss_of(pid) {
                    rss_max.fetch_max(kib, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        let times = rt.block_on(async {
            let mut publisher = TestClient::connect(addr, false).await.expect("publisher");
            let (id, code) = publisher.publish("stall").await.expect("publish answered");
            assert_eq!(code, status::PUBLISH_START);
            let start = Instant::now();
            publisher
                .send_tags(id, &paced, 0, true)
                .await
                .expect("paced send");
            let paced_time = start.elapsed();
            let fast_start = Instant::now();
            publisher
                .send_tags(id, &fast, paced_span + 40, false)
                .await
                .expect("fast send");
            let fast_time = fast_start.elapsed();
            finish(&mut publisher).await;
            (start, paced_time, fast_time)
        });
        // Let whatever the server still holds drain (or be let go).
        std::thread::sleep(Duration::from_millis(500));
        sampling.store(false, Ordering::Relaxed);
        times
    });
    let rss_peak = rss_max.load(Ordering::Relaxed);

    // The stalled player is let go: skipped ahead or closed.
    let stalled_out = wait_log_count(&server, 1, Duration::from_secs(5), |l| {
        names_peer(l, stalled_peer)
            && (l.contains("slow player skipped ahead")
                || l.contains("peer read nothing for 2000 ms"))
    });
    for line in server.log().iter().filter(|l| names_peer(l, stalled_peer)) {
        eprintln!("stalled player: {line}");
    }
    stop.store(true, Ordering::Relaxed);
    let got = rt
        .block_on(healthy)
        .expect("healthy task")
        .expect("healthy player");
    drop(stalled);

    let log = server.log().join("\n");
    assert!(
        stalled_out,
        "the stalled player was neither skipped nor closed:\n{log}"
    );
    // The publisher was never held back.
    let real = Duration::from_millis(u64::from(paced_span));
    assert!(
        paced_time < real + Duration::from_millis(1500),
        "the paced publisher took {paced_time:?} for {real:?} of media"
    );
    // The healthy player got all of it, in real time.
    let got_media: Vec<Received> = got.iter().map(|(m, _)| m.clone()).collect();
    if let Some(d) = first_difference(&paced_media, &got_media) {
        panic!("healthy player: {d}");
    }
    let worst_delay = got
        .iter()
        .map(|((_, ts, _), at)| {
            at.saturating_duration_since(send_start + Duration::from_millis(u64::from(*ts)))
        })
        .max()
        .unwrap_or_default();
    assert!(
        worst_delay < Duration::from_millis(1500),
        "a frame reached the healthy player {worst_delay:?} after its time"
    );
    // Memory stayed within a fixed margin while ~96 MB went by.
    let growth_mib = rss_peak.saturating_sub(rss_base) / 1024;
    assert!(
        growth_mib <= 64,
        "server RSS grew by {growth_mib} MiB (from {rss_base} KiB to {rss_peak} KiB) while {} MB were published",
        fast_bytes >> 20
    );
    eprintln!(
        "paced {real:?} sent in {paced_time:?}, worst delay {worst_delay:?}; fast {} MiB sent in {fast_time:?}, healthy player read {} MiB of it; RSS {rss_base} KiB -> peak {rss_peak} KiB",
        fast_bytes >> 20,
        fast_received.load(Ordering::Relaxed) >> 20
    );
}
