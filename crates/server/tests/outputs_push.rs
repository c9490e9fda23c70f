//! Push outputs against real ffmpeg/ffprobe: RTP and raw UDP MPEG-TS to loopback receivers,
//! and recording to FLV files. Skipped (with a message) without ffmpeg.

mod outputs_support;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use outputs_support::*;
use rtmpkit_proto::flv::{FlvEvent, FlvReader};
use rtmpkit_proto::rtp::RtpPacket;
use rtmpkit_server::config::{RecordRule, RtpOutputConfig, RtpTransport, ServerConfig};
use rtmpkit_server::hub::StreamKey;
use rtmpkit_server::outputs::start_push_outputs;
use tokio::net::UdpSocket;
use tokio::sync::watch;

const FRAMES: usize = 150;

fn rtp_entry(port: u16, transport: RtpTransport) -> RtpOutputConfig {
    RtpOutputConfig {
        app: Some("live".into()),
        stream: Some("rtp".into()),
        destination: ([127, 0, 0, 1], port).into(),
        transport,
        packets_per_datagram: 7,
    }
}

/// A free loopback UDP port (bound and released).
fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until something listens on UDP `port` (Linux: /proc/net/udp), or 2 s elsewhere.
async fn wait_udp_bound(port: u16) {
    let needle = format!(":{port:04X} ");
    for _ in 0..200 {
        match std::fs::read_to_string("/proc/net/udp") {
            Ok(t)
                if t.lines().any(|l| {
                    l.split_whitespace()
                        .nth(1)
                        .is_some_and(|a| format!("{a} ").ends_with(&needle))
                }) =>
            {
                return;
            }
            Ok(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            Err(_) => {
                tokio::time::sleep(Duration::from_secs(2)).await;
                return;
            }
        }
    }
    panic!("nothing bound UDP port {port}");
}

fn spawn_ffmpeg(args: &[&str]) -> tokio::process::Child {
    tokio::process::Command::new("ffmpeg")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

async fn finish(child: tokio::process::Child, what: &str) {
    let out = tokio::time::timeout(Duration::from_secs(20), child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("{what}: ffmpeg did not stop"))
        .unwrap();
    // The receivers stop on a read timeout, which ffmpeg reports as an error: what counts is
    // the file it wrote.
    if !out.status.success() {
        eprintln!(
            "{what}: ffmpeg: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
}

/// Checks a TS file with ffprobe and framemd5 against the source.
async fn check_ts_file(path: &Path, src_hashes: &[String], min_frames: usize, what: &str) {
    let p = ffprobe(path.to_str().unwrap(), &[]).await;
    assert_eq!(p.codecs(), ["h264", "aac"], "{what}");
    assert_eq!(p.video_size(), Some((320, 240)), "{what}");
    let d = media_span(path.to_str().unwrap()).await;
    assert!((d - 6.0).abs() <= 2.0, "{what}: duration {d}");
    let hashes = video_hashes(path.to_str().unwrap(), &[]).await;
    assert_contiguous(src_hashes, &hashes, min_frames, what);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rtp_and_udp_outputs_play_in_ffmpeg() {
    if !have_ffmpeg("rtp_and_udp_outputs_play_in_ffmpeg") {
        return;
    }
    let src = source(Source::AudioVideo);
    let frames = read_flv(&src);
    let src_hashes = video_hashes(src.to_str().unwrap(), &[]).await;
    let dir = temp_dir("rtp");

    let receiver = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let ffmpeg_rtp_port = free_udp_port();
    let ffmpeg_udp_port = free_udp_port();
    let mut config = test_config();
    config.hls.enabled = false;
    config.output.rtp = vec![
        rtp_entry(receiver.local_addr().unwrap().port(), RtpTransport::Rtp),
        rtp_entry(ffmpeg_rtp_port, RtpTransport::Rtp),
        rtp_entry(ffmpeg_udp_port, RtpTransport::Udp),
        // Another stream's entry: must not send here.
        RtpOutputConfig {
            stream: Some("other".into()),
            ..rtp_entry(receiver.local_addr().unwrap().port(), RtpTransport::Udp)
        },
    ];
    let sdp = dir.join("rtp.sdp");
    std::fs::write(&sdp, config.output.rtp[1].sdp()).unwrap();
    let rtp_out = dir.join("rtp.ts");
    let udp_out = dir.join("udp.ts");
    let rtp_ffmpeg = spawn_ffmpeg(&[
        "-v",
        "error",
        "-protocol_whitelist",
        "file,udp,rtp",
        "-listen_timeout",
        "2",
        "-i",
        sdp.to_str().unwrap(),
        "-map",
        "0",
        "-c",
        "copy",
        "-f",
        "mpegts",
        "-y",
        rtp_out.to_str().unwrap(),
    ]);
    let udp_url = format!("udp://127.0.0.1:{ffmpeg_udp_port}?timeout=2000000");
    let udp_ffmpeg = spawn_ffmpeg(&[
        "-v",
        "error",
        "-i",
        &udp_url,
        "-map",
        "0",
        "-c",
        "copy",
        "-f",
        "mpegts",
        "-y",
        udp_out.to_str().unwrap(),
    ]);
    wait_udp_bound(ffmpeg_rtp_port).await;
    wait_udp_bound(ffmpeg_udp_port).await;

    let config = Arc::new(config);
    let hub = hub_for(&config);
    let (stop, rx) = watch::channel(false);
    let outputs = start_push_outputs(&hub, config.clone(), rx);
    let collect = tokio::spawn(async move {
        let mut datagrams = Vec::new();
        let mut buf = vec![0u8; 2048];
        // Until a second of silence after the first datagram.
        let mut wait = Duration::from_secs(30);
        while let Ok(Ok(n)) = tokio::time::timeout(wait, receiver.recv(&mut buf)).await {
            datagrams.push(buf[..n].to_vec());
            wait = Duration::from_secs(1);
        }
        datagrams
    });
    // Three senders subscribe when the publish begins; twice real time.
    publish(&hub, &StreamKey::new("live", "rtp"), &frames, 3, Some(2.0)).await;

    let datagrams = collect.await.unwrap();
    assert!(!datagrams.is_empty());
    let packets: Vec<RtpPacket<'_>> = datagrams
        .iter()
        .map(|d| RtpPacket::decode(d).expect("RTP"))
        .collect();
    let first = &packets[0].header;
    let mut ts = Vec::new();
    for (i, p) in packets.iter().enumerate() {
        let h = &p.header;
        assert_eq!((h.version, h.payload_type, h.ssrc), (2, 33, first.ssrc));
        assert_eq!(
            h.sequence,
            first.sequence.wrapping_add(i as u16),
            "consecutive"
        );
        assert_eq!(h.marker, i == 0, "marker on the first datagram only");
        assert!(!p.payload.is_empty() && p.payload.len() % 188 == 0 && p.payload.len() <= 7 * 188);
        ts.extend_from_slice(p.payload);
    }
    // Datagrams are sent as frames come (a shorter one when nothing more is ready); units of
    // more than 7 packets fill whole datagrams.
    let full = packets
        .iter()
        .filter(|p| p.payload.len() == 7 * 188)
        .count();
    assert!(full > 0);
    eprintln!(
        "RTP: {} datagrams, {full} with 7 packets, {:.2} packets on average",
        packets.len(),
        ts.len() as f64 / 188.0 / packets.len() as f64
    );
    for w in packets.windows(2) {
        let step = w[1].header.timestamp.wrapping_sub(w[0].header.timestamp);
        assert!(step < 90_000, "RTP timestamps go forward in 90 kHz: {step}");
    }
    let span = packets
        .last()
        .unwrap()
        .header
        .timestamp
        .wrapping_sub(first.timestamp);
    assert!(
        (5.5..6.5).contains(&(f64::from(span) / 90_000.0)),
        "span {span}"
    );
    let report = outputs_support::ts_check::check_ts(&ts);
    assert_eq!(
        report.streams.values().copied().collect::<Vec<_>>(),
        [0x1b, 0x0f]
    );
    let received = dir.join("received.ts");
    std::fs::write(&received, &ts).unwrap();
    check_ts_file(&received, &src_hashes, FRAMES, "RTP (own receiver)").await;

    finish(rtp_ffmpeg, "RTP").await;
    finish(udp_ffmpeg, "UDP").await;
    // ffmpeg may have joined a little late: lossless over what it got, most of the stream.
    check_ts_file(&rtp_out, &src_hashes, FRAMES - 25, "RTP (ffmpeg with SDP)").await;
    check_ts_file(&udp_out, &src_hashes, FRAMES - 25, "UDP (ffmpeg)").await;

    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(5), outputs)
        .await
        .expect("push outputs stop")
        .unwrap();
    let _ = std::fs::remove_dir_all(dir);
}

fn record_config(dir: &Path) -> ServerConfig {
    let mut config = test_config();
    config.hls.enabled = false;
    config.record.directory = dir.to_path_buf();
    config.record.flush_interval = Duration::from_millis(100);
    config
}

/// Files under `dir`, recursively, sorted.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// Waits until the stream has no publisher and no consumer left (the recorder closed).
async fn wait_stream_gone(hub: &rtmpkit_server::hub::Hub, key: &StreamKey) {
    for _ in 0..500 {
        if hub.stream_stats(key).is_none() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{key} still has consumers");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recording_is_playable_during_and_after_and_stays_in_its_directory() {
    if !have_ffmpeg("recording_is_playable_during_and_after_and_stays_in_its_directory") {
        return;
    }
    let src = source(Source::AudioVideo);
    let frames = read_flv(&src);
    let src_hashes = video_hashes(src.to_str().unwrap(), &[]).await;
    let root = temp_dir("record");
    let dir = root.join("recordings");
    let mut config = record_config(&dir);
    config.record.streams = vec![
        RecordRule {
            app: "live".into(),
            stream: None,
            record: true,
        },
        RecordRule {
            app: "live".into(),
            stream: Some("skip".into()),
            record: false,
        },
    ];
    let config = Arc::new(config);
    let hub = hub_for(&config);
    let (stop, rx) = watch::channel(false);
    let outputs = start_push_outputs(&hub, config, rx);

    // A hostile stream name: separators and `..`.
    let key = StreamKey::new("live", "../../evil/name");
    let mut publisher = hub
        .publish(key.clone(), rtmpkit_server::hub::PublishOptions::default())
        .unwrap();
    wait_subscribers(&hub, &key, 1).await;
    let half = frames.len() / 2;
    for f in &frames[..half] {
        publisher
            .push(rtmpkit_server::hub::Frame::new(
                f.kind(),
                f.timestamp(),
                f.payload().clone(),
            ))
            .unwrap();
    }
    // As if the server were killed now: what is on disk is a valid FLV up to its last tag.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let files = files_under(&dir);
    assert_eq!(files.len(), 1, "{files:?}");
    let file = files[0].clone();
    assert_eq!(file.parent().unwrap(), dir.join("live"));
    let name = file.file_name().unwrap().to_str().unwrap();
    assert!(
        name.starts_with("_.._.._evil_name-") && name.ends_with(".flv"),
        "{name}"
    );
    let partial = std::fs::read(&file).unwrap();
    let mut reader = FlvReader::new();
    reader.push(&partial);
    let mut tags = 0;
    while let Some(ev) = reader.poll() {
        if let FlvEvent::Tag(_) = ev.expect("valid tags") {
            tags += 1;
        }
    }
    reader
        .finish()
        .expect("no partial tag: the file ends on a whole tag");
    assert!(tags >= half - 30, "{tags} tags flushed of {half}");
    let p = ffprobe(file.to_str().unwrap(), &[]).await;
    assert_eq!(p.codecs(), ["h264", "aac"]);

    for f in &frames[half..] {
        publisher
            .push(rtmpkit_server::hub::Frame::new(
                f.kind(),
                f.timestamp(),
                f.payload().clone(),
            ))
            .unwrap();
    }
    drop(publisher);
    wait_stream_gone(&hub, &key).await;
    let p = ffprobe(file.to_str().unwrap(), &[]).await;
    assert_eq!(p.codecs(), ["h264", "aac"]);
    assert_eq!(p.video_size(), Some((320, 240)));
    let d = media_span(file.to_str().unwrap()).await;
    assert!((d - 6.0).abs() < 0.5, "recorded duration {d}");
    let tags = read_flv_tags(&std::fs::read(&file).unwrap());
    assert_eq!(tags.len(), frames.len(), "every frame recorded");
    assert_eq!(tags[0].1, 0, "the file starts at 0");
    let hashes = video_hashes(file.to_str().unwrap(), &[]).await;
    assert_contiguous(&src_hashes, &hashes, FRAMES, "recording");

    // A stream the config excludes, and an app it does not name, are not recorded.
    for (app, name) in [("live", "skip"), ("other", "x")] {
        let k = StreamKey::new(app, name);
        publish(&hub, &k, &frames[..20], 0, None).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(files_under(&root), [file], "nothing else written anywhere");

    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(5), outputs)
        .await
        .expect("push outputs stop")
        .unwrap();
    let _ = std::fs::remove_dir_all(root);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recording_rotates_by_duration_at_keyframes() {
    if !have_ffmpeg("recording_rotates_by_duration_at_keyframes") {
        return;
    }
    let src = source(Source::AudioVideo);
    let frames = read_flv(&src);
    let src_hashes = video_hashes(src.to_str().unwrap(), &[]).await;
    let dir = temp_dir("rotate");
    let mut config = record_config(&dir);
    config.record.all = true;
    config.record.max_duration = Duration::from_secs(2);
    let config = Arc::new(config);
    let hub = hub_for(&config);
    let (stop, rx) = watch::channel(false);
    let outputs = start_push_outputs(&hub, config, rx);
    let key = StreamKey::new("cam", "r");
    publish(&hub, &key, &frames, 1, None).await;
    wait_stream_gone(&hub, &key).await;
    // Names carry the start time to the millisecond: their order is the order of writing.
    // (Modification times are not: the previous file's last flush may come later.)
    let mut files = files_under(&dir);
    files.sort();
    assert_eq!(files.len(), 3, "{files:?}");
    let mut all = Vec::new();
    for f in &files {
        let p = ffprobe(f.to_str().unwrap(), &[]).await;
        assert_eq!(p.codecs(), ["h264", "aac"], "{f:?}");
        let d = media_span(f.to_str().unwrap()).await;
        assert!((d - 2.0).abs() < 0.2, "{f:?}: {d}");
        let tags = read_flv_tags(&std::fs::read(f).unwrap());
        // Metadata and both sequence headers at 0, then a keyframe.
        assert!(tags[..3].iter().all(|t| t.1 == 0));
        assert_eq!(&tags[3].2[..2], &[0x17, 0x01], "{f:?} starts at a keyframe");
        all.extend(video_hashes(f.to_str().unwrap(), &[]).await);
    }
    assert_eq!(all, src_hashes, "the files together hold every frame once");
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(5), outputs)
        .await
        .expect("push outputs stop")
        .unwrap();
    let _ = std::fs::remove_dir_all(dir);
}
