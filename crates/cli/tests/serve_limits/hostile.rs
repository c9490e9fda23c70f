//! Malformed and malicious peers, and a player that must not notice them.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rtmpkit_proto::rtmp::session::{ClientEvent, MediaKind};

use crate::logs::*;
use crate::peers::*;
use crate::support::{Media, TempDir, TestClient, cached_source, ffmpeg_publish};
use crate::{require_tools, runtime, start_with};

/// A player that notes when each video frame arrives, until `stop`.
async fn counting_player(
    addr: SocketAddr,
    stream: &str,
    arrivals: Arc<Mutex<Vec<Instant>>>,
    stop: Arc<AtomicBool>,
) -> Result<(), String> {
    let mut client = TestClient::connect(addr, true)
        .await
        .map_err(|e| e.to_string())?;
    client.play(stream).await.ok_or("play failed")?;
    while !stop.load(Ordering::Relaxed) {
        let got = client
            .until(Duration::from_millis(100), |e| {
                matches!(
                    e,
                    ClientEvent::Media {
                        kind: MediaKind::Video,
                        ..
                    }
                )
            })
            .await;
        if got.is_some() {
            arrivals.lock().expect("lock").push(Instant::now());
        }
        client.events.clear();
    }
    Ok(())
}

#[test]
fn hostile_peers_are_closed_with_a_reason_and_a_player_goes_on() {
    require_tools!("ffmpeg");
    let dir = TempDir::new("hostile");
    let mut server = start_with(
        &dir,
        "handshake_timeout_ms = 1000\nidle_timeout_ms = 2000\nplay_wait_timeout_ms = 300\n",
    );
    let addr = server.addr;
    let source = cached_source(Media::AudioVideo, 20);
    let mut publisher = ffmpeg_publish(&source, &server.url("healthy"));
    // The player's wait for a publisher is short here: start it once ffmpeg publishes.
    assert!(
        wait_log_count(&server, 1, Duration::from_secs(10), |l| {
            l.contains("connection: publishing") && l.contains("stream=live/healthy")
        }),
        "ffmpeg did not publish: {}",
        server.log().join("\n")
    );
    let rt = runtime();
    let arrivals = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let player = rt.spawn(counting_player(
        addr,
        "healthy",
        arrivals.clone(),
        stop.clone(),
    ));
    let count = || arrivals.lock().expect("lock").len();
    let end = Instant::now() + Duration::from_secs(10);
    while count() < 10 && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        count() >= 10,
        "the healthy player got no frames: {:?}",
        server.log()
    );

    let started = Instant::now();
    let before = count();
    let attacks = rt.block_on(async {
        let tasks: Vec<_> = ATTACKS
            .iter()
            .map(|name| tokio::spawn(attack(addr, name)))
            .collect();
        let mut results = Vec::new();
        for (task, name) in tasks.into_iter().zip(ATTACKS) {
            match task.await {
                Ok(Ok(a)) => results.push(a),
                Ok(Err(e)) => panic!("{name}: could not even start: {e}"),
                Err(e) => panic!("{name}: {e}"),
            }
        }
        results
    });
    let attack_time = started.elapsed();

    let mut failures = Vec::new();
    for a in &attacks {
        match &a.closed {
            Ok(t) if *t < a.not_before => {
                failures.push(format!("{}: closed after {t:?}, too early", a.name))
            }
            Ok(_) => {}
            Err(e) => failures.push(format!("{}: {e}", a.name)),
        }
        if let Some(p) = &a.problem {
            failures.push(format!("{}: {p}", a.name));
        }
        match expect_ending(&server, a.peer, a.reason, Duration::from_secs(2)) {
            Ok(line) => eprintln!("{}: closed after {:?}: {line}", a.name, a.closed),
            Err(e) => failures.push(format!("{}: {e}", a.name)),
        }
    }
    for stream in ["../../../../etc/passwd", "../live/healthy"] {
        if !server
            .log()
            .iter()
            .any(|l| l.contains("play: stream not found") && l.contains(stream))
        {
            failures.push(format!("no `stream not found` line for {stream}"));
        }
    }

    // The player went on throughout, and still does.
    std::thread::sleep(Duration::from_millis(600));
    let during = {
        let arrivals = arrivals.lock().expect("lock");
        arrivals
            .iter()
            .filter(|t| **t >= started && **t <= started + attack_time)
            .count()
    };
    let expected = attack_time.as_secs_f64() * 25.0;
    let gaps: Vec<Duration> = {
        let arrivals = arrivals.lock().expect("lock");
        arrivals[before.saturating_sub(1)..]
            .windows(2)
            .map(|w| w[1] - w[0])
            .collect()
    };
    let worst_gap = gaps.iter().max().copied().unwrap_or_default();
    stop.store(true, Ordering::Relaxed);
    let _ = publisher.kill();
    let _ = publisher.wait();
    rt.block_on(player)
        .expect("player task")
        .expect("healthy player");
    assert!(
        failures.is_empty(),
        "{}\n--- server log ---\n{}",
        failures.join("\n"),
        server.log().join("\n")
    );
    assert!(
        during as f64 >= expected * 0.5,
        "the healthy player got {during} video frames in {attack_time:?} of attacks (~{expected:.0} sent)"
    );
    assert!(
        worst_gap < Duration::from_millis(1500),
        "the healthy player waited {worst_gap:?} for a frame"
    );
    assert!(
        count() > before + during,
        "the healthy player got nothing after the attacks"
    );
    assert!(
        !server
            .log()
            .iter()
            .any(|l| l.contains("panicked") || l.contains("ERROR")),
        "{}",
        server.log().join("\n")
    );
    let status = server.terminate(Duration::from_secs(8));
    assert!(
        status.is_some_and(|s| s.success()),
        "server exit after the attacks: {status:?}"
    );
    eprintln!(
        "{} attacks in {attack_time:?}; the player got {during} video frames meanwhile, worst gap {worst_gap:?}",
        attacks.len()
    );
}
