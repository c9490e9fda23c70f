//! The client against a server we did not write: nginx with its RTMP module on a loopback
//! port, with ffmpeg on the other side. Lossless means the framemd5 contiguity check. Each test
//! skips (saying why) when nginx, its RTMP module or ffmpeg is missing.

mod support;

use std::path::Path;
use std::time::Duration;

use rtmpkit_client::{
    Backoff, ConnectOptions, FlvPublishOptions, FlvRecorder, FlvSource, PlayEvent, PlayOptions,
    Player, PublishProgress, RtmpUrl, publish_flv,
};
use rtmpkit_proto::flv::{FlvEvent, FlvReader, TagType, VideoTagHeader};
use support::{
    Nginx, TempDir, assert_contiguous_run, ffmpeg_player, ffmpeg_publisher, framemd5, have,
    make_source,
};

/// nginx, a temp dir and a source of `seconds`, or a printed reason to skip.
fn setup(seconds: u32) -> Result<(Nginx, TempDir, std::path::PathBuf), String> {
    if !have("ffmpeg") {
        return Err("ffmpeg is not installed".into());
    }
    let nginx = Nginx::start()?;
    let dir = TempDir::new("nginx-test");
    let src = make_source(&dir, seconds).ok_or("ffmpeg cannot make an H.264/AAC source")?;
    Ok((nginx, dir, src))
}

/// Waits until nginx logged a play (or publish) of `stream`.
async fn nginx_saw(nginx: &Nginx, what: &str, stream: &str) {
    let needle = format!("{what}: name='{stream}'");
    for _ in 0..250 {
        if nginx.error_log().contains(&needle) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("nginx never logged \"{needle}\":\n{}", nginx.error_log());
}

/// Plays `url` with our player into an FLV (in memory) until the stream ends, `enough`
/// returns true, or 20 s pass.
async fn record(
    url: &RtmpUrl,
    player: &mut Player,
    enough: impl Fn(&FlvRecorder) -> bool,
) -> Vec<u8> {
    let mut recorder = FlvRecorder::new();
    let mut file = Vec::new();
    let run = async {
        loop {
            let event = player.next().await.expect("play");
            if let PlayEvent::End(_) = event {
                return;
            }
            recorder.push(&event, &mut file).expect("record");
            if enough(&recorder) {
                return;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(20), run)
        .await
        .unwrap_or_else(|_| panic!("{url}: no end of stream within 20 s"));
    file
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).expect("write recording");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_publisher_to_nginx_to_ffmpeg_is_lossless() {
    let (nginx, dir, src) = match setup(3) {
        Ok(s) => s,
        Err(why) => return eprintln!("SKIPPED: {why}"),
    };
    let got = dir.join("ffmpeg-received.flv");
    let mut player = ffmpeg_player(&nginx.url("ours"), &got);
    nginx_saw(&nginx, "play", "ours").await;
    let url = RtmpUrl::parse(&nginx.url("ours")).unwrap();
    let mut ignore = |_: &PublishProgress| {};
    let done = publish_flv(
        FlvSource::File(src.clone()),
        &url,
        &ConnectOptions::default(),
        &FlvPublishOptions::default(),
        std::future::pending(),
        &mut ignore,
    )
    .await
    .expect("publish to nginx");
    assert!(done.frames > 100, "{done:?}");
    let status = tokio::task::spawn_blocking(move || player.wait_for(Duration::from_secs(10)))
        .await
        .unwrap();
    assert!(
        status.is_some_and(|s| s.success()),
        "ffmpeg player did not end cleanly: {status:?}"
    );
    let counts = assert_contiguous_run(&framemd5(&src), &framemd5(&got), 0.95);
    eprintln!("lossless through nginx to ffmpeg: {counts:?} packets per stream");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ffmpeg_to_nginx_to_our_player_is_lossless() {
    let (nginx, dir, src) = match setup(3) {
        Ok(s) => s,
        Err(why) => return eprintln!("SKIPPED: {why}"),
    };
    let url = RtmpUrl::parse(&nginx.url("theirs")).unwrap();
    let mut player = Player::connect(&url, &ConnectOptions::default(), &PlayOptions::default())
        .await
        .expect("play on nginx");
    nginx_saw(&nginx, "play", "theirs").await;
    let mut publisher = ffmpeg_publisher(&src, &nginx.url("theirs"));
    let file = record(&url, &mut player, |_| false).await;
    player.close().await.expect("close");
    let status = tokio::task::spawn_blocking(move || publisher.wait_for(Duration::from_secs(10)))
        .await
        .unwrap();
    assert!(
        status.is_some_and(|s| s.success()),
        "ffmpeg publisher: {status:?}"
    );
    let got = dir.join("ours-received.flv");
    write(&got, &file);
    let counts = assert_contiguous_run(&framemd5(&src), &framemd5(&got), 0.95);
    eprintln!("lossless from ffmpeg through nginx: {counts:?} packets per stream");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publisher_survives_an_nginx_restart() {
    let (mut nginx, dir, src) = match setup(2) {
        Ok(s) => s,
        Err(why) => return eprintln!("SKIPPED: {why}"),
    };
    let url = RtmpUrl::parse(&nginx.url("phoenix")).unwrap();
    let (progress_tx, progress_rx) = tokio::sync::watch::channel(PublishProgress::default());
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let job = FlvPublishOptions {
        fast: false,
        looping: true,
        reconnect: Some(Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_millis(400),
            give_up_after: Some(Duration::from_secs(15)),
        }),
    };
    let source = src.clone();
    let publish_url = url.clone();
    let publishing = tokio::spawn(async move {
        let mut report = move |p: &PublishProgress| {
            let _ = progress_tx.send(p.clone());
        };
        publish_flv(
            FlvSource::File(source),
            &publish_url,
            &ConnectOptions::default(),
            &job,
            async {
                let _ = stop_rx.await;
            },
            &mut report,
        )
        .await
    });
    let wait = |f: fn(&PublishProgress) -> bool| {
        let mut rx = progress_rx.clone();
        async move {
            tokio::time::timeout(Duration::from_secs(15), rx.wait_for(f))
                .await
                .expect("publisher progress in time")
                .map(|p| p.clone())
                .expect("publisher running")
        }
    };
    wait(|p| p.frames >= 40).await;
    nginx.kill();
    tokio::time::sleep(Duration::from_millis(400)).await;
    nginx.restart().expect("nginx restarts");
    let after = wait(|p| p.reconnects >= 1).await;
    eprintln!("reconnected: {after:?}");

    let mut player = Player::connect(&url, &ConnectOptions::default(), &PlayOptions::default())
        .await
        .expect("play after the restart");
    let file = record(&url, &mut player, |r| r.progress().frames >= 60).await;
    player.close().await.expect("close player");
    let _ = stop_tx.send(());
    let done = publishing.await.unwrap().expect("publish ends cleanly");
    assert!(done.reconnects >= 1, "{done:?}");

    // The resumed stream carries the sequence headers again: the recording's preamble has them.
    let mut reader = FlvReader::new();
    reader.push(&file);
    let mut preamble_headers = 0;
    while let Some(Ok(event)) = reader.poll() {
        let FlvEvent::Tag(tag) = event else { continue };
        if tag.header.tag_type == TagType::Video {
            let (h, _) = VideoTagHeader::decode(&tag.data).unwrap();
            if h.is_keyframe() {
                break;
            }
            preamble_headers += usize::from(h.is_sequence_header());
        }
    }
    assert_eq!(
        preamble_headers, 1,
        "AVC sequence header before the first keyframe"
    );
    let got = dir.join("after-restart.flv");
    write(&got, &file);
    let source = framemd5(&src);
    let looped: Vec<_> = source
        .iter()
        .chain(&source)
        .chain(&source)
        .cloned()
        .collect();
    let counts = assert_contiguous_run(&looped, &framemd5(&got), 0.0);
    assert!(counts.iter().all(|&n| n > 10), "{counts:?}");
}
