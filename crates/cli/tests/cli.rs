//! The `rtmpkit` binary as users run it: `publish` and `play` against nginx's RTMP module (with
//! ffmpeg as the third party) and against the in-process test server (refusals, TLS,
//! `--duration`), exit statuses and messages.

#[path = "../../client/tests/support/mod.rs"]
mod support;

use std::path::Path;
use std::process::{Output, Stdio};
use std::time::Duration;

use bytes::Bytes;
use rtmpkit_proto::flv::{FlvEvent, FlvReader, TagType};
use rtmpkit_proto::rtmp::message::status;
use rtmpkit_proto::rtmp::session::MediaKind;
use support::rtmp_server::{Behaviour, TestServer, tls_acceptor};
use support::{
    Nginx, Reaped, TempDir, assert_contiguous_run, ffmpeg_player, framemd5, have, make_source,
};

const BIN: &str = env!("CARGO_BIN_EXE_rtmpkit");

/// Runs `rtmpkit ARGS` to completion (at most 30 s).
async fn rtmpkit(args: &[&str]) -> Output {
    let child = tokio::process::Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start rtmpkit");
    tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("rtmpkit finishes within 30 s")
        .expect("rtmpkit output")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Starts `rtmpkit ARGS` in the background with stdout to `stdout` (a file) or discarded.
fn spawn(args: &[&str], stdout: Option<&Path>) -> Reaped {
    let out = match stdout {
        Some(p) => Stdio::from(std::fs::File::create(p).expect("stdout file")),
        None => Stdio::null(),
    };
    let child = std::process::Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(Stdio::piped())
        .spawn()
        .expect("start rtmpkit");
    Reaped(Some(child))
}

async fn wait(mut child: Reaped, within: Duration) -> Option<std::process::ExitStatus> {
    tokio::task::spawn_blocking(move || child.wait_for(within))
        .await
        .unwrap()
}

/// Waits until nginx logged `count` plays/publishes of `stream`.
async fn nginx_saw(nginx: &Nginx, what: &str, stream: &str, count: usize) {
    let needle = format!("{what}: name='{stream}'");
    for _ in 0..250 {
        if nginx.error_log().matches(&needle).count() >= count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!(
        "nginx never logged {count}× \"{needle}\":\n{}",
        nginx.error_log()
    );
}

#[tokio::test]
async fn help_names_the_subcommands_and_options() {
    let o = rtmpkit(&["--help"]).await;
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("publish") && text.contains("play"), "{text}");
    let o = rtmpkit(&["publish", "--help"]).await;
    let text = String::from_utf8_lossy(&o.stdout);
    for flag in [
        "--fast",
        "--loop",
        "--reconnect",
        "--socks",
        "--ca",
        "--insecure",
        "--conn",
        "--app",
        "--playpath",
        "--tcurl",
        "--flashver",
        "--swfurl",
        "--pageurl",
    ] {
        assert!(text.contains(flag), "publish --help lacks {flag}:\n{text}");
    }
    let o = rtmpkit(&["play", "--help"]).await;
    let text = String::from_utf8_lossy(&o.stdout);
    for flag in ["--output", "--duration", "--buffer"] {
        assert!(text.contains(flag), "play --help lacks {flag}:\n{text}");
    }
}

#[tokio::test]
async fn unusable_arguments_exit_2_with_what_was_understood() {
    let o = rtmpkit(&["play", "rtmp://127.0.0.1/live", "-o", "/dev/null"]).await;
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o).trim(),
        "rtmpkit: rtmp://127.0.0.1/live: understood scheme rtmp, host 127.0.0.1, port 1935 \
         (default), app 'live'; missing: the stream name (rtmp://host/app/STREAM, or --playpath)"
    );
    let o = rtmpkit(&["publish", "x.flv", "rtmp://h/live/s", "--conn", "X:1"]).await;
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--conn 'X:1': expected TYPE:VALUE"),
        "{}",
        stderr(&o)
    );
    let o = rtmpkit(&["publish", "x.flv", "rtmp://h/live/s", "--socks", "nowhere"]).await;
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("bad --socks 'nowhere'"),
        "{}",
        stderr(&o)
    );
    let o = rtmpkit(&["publish", "/nonexistent.flv", "rtmp://127.0.0.1:1/live/s"]).await;
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("/nonexistent.flv"), "{}", stderr(&o));
}

/// `rtmpkit publish` to nginx, watched by ffmpeg, `rtmpkit play -o FILE` and
/// `rtmpkit play -o -` at once: all three lossless. A second publisher of the same stream is
/// refused with `NetStream.Publish.BadName` and exit status 3.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_and_play_through_nginx() {
    if !have("ffmpeg") {
        return eprintln!("SKIPPED: ffmpeg is not installed");
    }
    let nginx = match Nginx::start() {
        Ok(n) => n,
        Err(why) => return eprintln!("SKIPPED: {why}"),
    };
    let dir = TempDir::new("cli-nginx");
    let Some(src) = make_source(&dir, 3) else {
        return eprintln!("SKIPPED: ffmpeg cannot make an H.264/AAC source");
    };
    let url = nginx.url("cli");
    let by_ffmpeg = dir.join("ffmpeg.flv");
    let to_file = dir.join("file.flv");
    let to_stdout = dir.join("stdout.flv");
    let file_player = spawn(&["play", &url, "-o", to_file.to_str().unwrap()], None);
    let pipe_player = spawn(&["play", &url, "-o", "-"], Some(&to_stdout));
    nginx_saw(&nginx, "play", "cli", 2).await;
    // ffmpeg last: it gives up after 3 s without data.
    let ffmpeg = ffmpeg_player(&url, &by_ffmpeg);
    nginx_saw(&nginx, "play", "cli", 3).await;

    let publisher = spawn(&["publish", src.to_str().unwrap(), &url], None);
    nginx_saw(&nginx, "publish", "cli", 1).await;
    let second = rtmpkit(&["publish", src.to_str().unwrap(), &url]).await;
    assert_eq!(second.status.code(), Some(3), "{}", stderr(&second));
    assert!(
        stderr(&second).contains("publish 'cli' refused: NetStream.Publish.BadName"),
        "{}",
        stderr(&second)
    );

    let status = wait(publisher, Duration::from_secs(15)).await;
    assert!(status.is_some_and(|s| s.success()), "publisher: {status:?}");
    for (name, player) in [
        ("file", file_player),
        ("pipe", pipe_player),
        ("ffmpeg", ffmpeg),
    ] {
        let status = wait(player, Duration::from_secs(10)).await;
        assert!(
            status.is_some_and(|s| s.success()),
            "{name} player: {status:?}"
        );
    }
    let source = framemd5(&src);
    for got in [&by_ffmpeg, &to_file, &to_stdout] {
        let counts = assert_contiguous_run(&source, &framemd5(got), 0.95);
        eprintln!("{}: {counts:?} packets per stream", got.display());
    }
}

fn video(n: u32) -> Bytes {
    let first = if n.is_multiple_of(10) { 0x17 } else { 0x27 };
    Bytes::from(vec![first, 1, 0, 0, 0, n as u8])
}

fn tags(path: &Path) -> Vec<(TagType, u32)> {
    let mut r = FlvReader::new();
    r.push(&std::fs::read(path).expect("recording"));
    let mut out = Vec::new();
    while let Some(e) = r.poll() {
        if let FlvEvent::Tag(t) = e.expect("valid FLV") {
            out.push((t.header.tag_type, t.header.timestamp));
        }
    }
    r.finish().expect("complete FLV");
    out
}

#[tokio::test]
async fn play_duration_tls_and_not_found() {
    let mut media = vec![(
        MediaKind::Video,
        0,
        Bytes::from_static(&[0x17, 0, 0, 0, 0, 1]),
    )];
    media.extend((0..50).map(|n| (MediaKind::Video, n * 50, video(n))));
    let (acceptor, pem) = tls_acceptor();
    let behaviour = Behaviour {
        play_media: media,
        ..Behaviour::default()
    };
    let server = TestServer::start(behaviour, Some(acceptor)).await;
    let dir = TempDir::new("cli-play");
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, pem).unwrap();
    let out = dir.join("short.flv");
    let url = format!("rtmps://localhost:{}/live/short", server.port());
    let o = rtmpkit(&[
        "play",
        &url,
        "--ca",
        ca.to_str().unwrap(),
        "--duration",
        "0.5",
        "--buffer",
        "500",
        "-o",
        out.to_str().unwrap(),
    ])
    .await;
    assert!(o.status.success(), "{}", stderr(&o));
    let t = tags(&out);
    assert_eq!(t[0], (TagType::Video, 0), "sequence header first");
    let last = t.last().unwrap().1;
    assert_eq!(last, 500, "stops at 0.5 s of media: {t:?}");
    assert_eq!(server.connections()[0].buffer_ms, Some(500));

    // Without the CA the certificate is not trusted; with --insecure it is accepted.
    let o = rtmpkit(&["play", &url, "-o", "/dev/null", "--duration", "0.1"]).await;
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("TLS with localhost"), "{}", stderr(&o));
    let o = rtmpkit(&[
        "play",
        &url,
        "--insecure",
        "-o",
        "/dev/null",
        "--duration",
        "0.1",
    ])
    .await;
    assert!(o.status.success(), "{}", stderr(&o));

    let behaviour = Behaviour {
        reject_play: Some((
            status::PLAY_STREAM_NOT_FOUND.into(),
            "No such stream".into(),
        )),
        ..Behaviour::default()
    };
    let server = TestServer::start(behaviour, None).await;
    let missing = dir.join("missing.flv");
    let url = format!("rtmp://127.0.0.1:{}/live/missing", server.port());
    let o = rtmpkit(&["play", &url, "-o", missing.to_str().unwrap()]).await;
    assert_eq!(o.status.code(), Some(3));
    assert_eq!(
        stderr(&o).trim(),
        format!(
            "rtmpkit: 127.0.0.1:{}: play 'missing' refused: NetStream.Play.StreamNotFound (No such stream)",
            server.port()
        )
    );
    assert!(!missing.exists(), "no file for a refused play");
}
