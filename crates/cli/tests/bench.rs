//! `rtmpkit bench` end to end: `bench publish` into `rtmpkit serve` on loopback, `bench play`
//! with 20 players, and a report that adds up. Nothing here is timed: performance is what
//! scripts/bench-fanout measures, never what a test asserts.

mod support;

use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use support::{Media, ServerProcess, TempDir, make_source, run_bounded};

const PLAYERS: u64 = 20;

fn rtmpkit() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rtmpkit"))
}

/// Runs `rtmpkit bench --json play ARGS`, which must succeed, and returns its report.
fn bench_play(args: &[&str]) -> Value {
    let out = rtmpkit()
        .args(["bench", "--json", "play"])
        .args(args)
        .output()
        .expect("run rtmpkit bench play");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "bench play {args:?} failed: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&stdout).expect("the report is JSON")
}

/// Starts `rtmpkit bench publish` for `seconds`.
fn bench_publish(url: &str, file: &std::path::Path, seconds: u32) -> std::process::Child {
    rtmpkit()
        .args([
            "bench",
            "--json",
            "publish",
            url,
            "--duration",
            &seconds.to_string(),
            "--file",
        ])
        .arg(file)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("run rtmpkit bench publish")
}

#[test]
fn bench_play_reports_players_bitrate_and_latency() {
    require_tools!("ffmpeg");
    let dir = TempDir::new("bench");
    let src = make_source(dir.path(), Media::AudioVideo, 4);
    let server = ServerProcess::start(&[]);
    let url = server.url("bench");
    let publisher = bench_publish(&url, &src, 12);
    assert!(
        server.wait_for_log("publishing", Duration::from_secs(10)),
        "bench publish did not start publishing"
    );
    let report = bench_play(&[
        &url,
        "--players",
        &PLAYERS.to_string(),
        "--duration",
        "3",
        "--warmup",
        "0.5",
        "--server-pid",
        &server.pid().to_string(),
        "--server-core",
        "0",
    ]);
    assert_eq!(report["protocol"], "rtmp");
    assert_eq!(report["players"], PLAYERS);
    assert_eq!(report["connected"], PLAYERS, "{report:#}");
    assert_eq!(report["failed"], 0);
    assert_eq!(report["without_media"], 0, "{report:#}");
    assert_eq!(report["dropped"], 0, "{report:#}");
    assert!(
        report["bitrate_kbps"]["min"].as_f64().unwrap() > 0.0,
        "{report:#}"
    );
    assert!(report["bytes_received"].as_u64().unwrap() > 0);
    assert_eq!(report["ttff_ms"]["samples"], PLAYERS);
    // The stream came from bench publish: every player measured latency.
    let latency = &report["latency_ms"];
    assert!(
        latency["samples"].as_u64().unwrap() >= PLAYERS,
        "{report:#}"
    );
    let (p50, p99, max) = (
        latency["p50"].as_f64().unwrap(),
        latency["p99"].as_f64().unwrap(),
        latency["max"].as_f64().unwrap(),
    );
    assert!(0.0 <= p50 && p50 <= p99 && p99 <= max, "{latency}");
    let server_usage = &report["server"];
    assert_eq!(server_usage["pid"], server.pid());
    assert!(server_usage["gb_delivered"].as_f64().unwrap() > 0.0);
    assert!(server_usage["rss_kib"].as_u64().unwrap() > 0);
    // Core 0 is whatever ran there (not pinned here): only that it was read and divided.
    let core = &report["server_core"];
    assert_eq!(core["core"], 0, "{report:#}");
    assert!(core["busy_s"].as_f64().unwrap() >= 0.0, "{report:#}");
    assert!(core["busy_s_per_gb"].as_f64().is_some(), "{report:#}");
    assert!(core["steal_s"].as_f64().unwrap() >= 0.0, "{report:#}");

    let published = publisher.wait_with_output().expect("bench publish ends");
    assert!(published.status.success());
    let p: Value = serde_json::from_slice(&published.stdout).expect("publish report is JSON");
    assert_eq!(p["connected"], 1);
    assert_eq!(p["failed"], 0);
    assert!(p["timed_frames"].as_u64().unwrap() > 0, "{p:#}");
    assert!(p["frames"].as_u64().unwrap() >= p["timed_frames"].as_u64().unwrap());
}

#[test]
fn bench_play_over_http_flv() {
    require_tools!("ffmpeg");
    let dir = TempDir::new("bench-http");
    let src = make_source(dir.path(), Media::AudioVideo, 4);
    let server = ServerProcess::start(&[]);
    assert!(server.wait_for_log("listening for HTTP", Duration::from_secs(10)));
    let http = server.http_addr().expect("the server listens for HTTP");
    let publisher = bench_publish(&server.url("web"), &src, 10);
    assert!(server.wait_for_log("publishing", Duration::from_secs(10)));
    // HTTP-FLV, then the same stream over WebSocket (what flv.js and mpegts.js play in a
    // browser): ten players each, all playing to the end with send times seen.
    for (scheme, protocol) in [("http", "http-flv"), ("ws", "ws-flv")] {
        let url = format!("{scheme}://{http}/live/web.flv");
        let report = bench_play(&[
            "--http-flv",
            &url,
            "-n",
            "10",
            "--duration",
            "2",
            "--warmup",
            "0.5",
        ]);
        assert_eq!(report["protocol"], protocol);
        assert_eq!(report["connected"], 10, "{report:#}");
        assert_eq!(report["without_media"], 0, "{report:#}");
        assert_eq!(report["dropped"], 0, "{report:#}");
        assert!(report["bitrate_kbps"]["min"].as_f64().unwrap() > 0.0);
        assert!(
            report["latency_ms"]["samples"].as_u64().unwrap() >= 10,
            "{report:#}"
        );
    }
    // A stream nobody publishes is an HTTP error, counted per reason.
    let missing = format!("http://{http}/live/nobody.flv");
    let out = rtmpkit()
        .args(["bench", "--json", "play", &missing, "-n", "2"])
        .args([
            "--connect-timeout",
            "2",
            "--duration",
            "0.2",
            "--warmup",
            "0",
        ])
        .output()
        .expect("run");
    let report: Value = serde_json::from_slice(&out.stdout).expect("the report is JSON");
    assert_eq!(report["connected"], 0, "{report:#}");
    let mut publisher = publisher;
    let _ = publisher.kill();
    let _ = publisher.wait();
}

#[test]
fn a_decoder_plays_the_stream_with_send_times() {
    require_tools!("ffmpeg");
    let dir = TempDir::new("bench-decode");
    let src = make_source(dir.path(), Media::AudioVideo, 3);
    let server = ServerProcess::start(&[]);
    let url = server.url("timed");
    let mut publisher = bench_publish(&url, &src, 8);
    assert!(server.wait_for_log("publishing", Duration::from_secs(10)));
    // Decoding every frame, any error fatal: the SEI must be invisible to a real player.
    let decoded = run_bounded(
        Command::new("ffmpeg")
            .args(["-nostdin", "-v", "error", "-xerror", "-i", &url])
            .args(["-t", "2", "-f", "null", "-"]),
        Duration::from_secs(20),
    );
    let _ = publisher.kill();
    let _ = publisher.wait();
    assert!(decoded, "ffmpeg could not decode the bench stream");
}

#[test]
fn bench_play_counts_refused_players() {
    let dir = TempDir::new("bench-refused");
    let config = dir.join("rtmpkit.toml");
    std::fs::write(&config, "play_wait_timeout_ms = 0\n").expect("write config");
    let server = ServerProcess::start(&["--config", config.to_str().expect("utf-8 path")]);
    let out = rtmpkit()
        .args(["bench", "--json", "play", &server.url("nobody"), "-n", "3"])
        .args([
            "--connect-timeout",
            "1",
            "--duration",
            "0.2",
            "--warmup",
            "0",
        ])
        .output()
        .expect("run rtmpkit bench play");
    // Nobody connected to a stream: the run fails, and says why.
    assert!(!out.status.success());
    let report: Value = serde_json::from_slice(&out.stdout).expect("the report is JSON");
    assert_eq!(report["connected"], 0);
    assert_eq!(report["failed"], 3);
    let reasons = report["failures"].as_object().expect("failures by reason");
    assert_eq!(
        reasons["refused: NetStream.Play.StreamNotFound"], 3,
        "{report:#}"
    );
}

#[test]
fn bench_rejects_unusable_arguments() {
    let out = rtmpkit()
        .args(["bench", "play", "rtmp://127.0.0.1:1/live/x", "--http-flv"])
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = rtmpkit()
        .args([
            "bench",
            "publish",
            "rtmp://127.0.0.1:1/live/x",
            "--file",
            "/nonexistent.flv",
        ])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent.flv"));
}
