//! `rtmpkit serve` end to end: the built binary on a loopback port, real ffmpeg and rtmpdump
//! publishing and playing, and a session-based client where the protocol must be observed.

mod support;

use std::process::Command;
use std::time::Duration;

use rtmpkit_proto::flv::VideoTagHeader;
use rtmpkit_proto::rtmp::message::status;
use rtmpkit_proto::rtmp::session::{ClientEvent, MediaKind};
use support::{
    Media, MediaKindOrData, ServerProcess, TempDir, TestClient, check_contiguous, ffmpeg_play,
    ffmpeg_publish, framemd5, make_source, read_flv, rtmpdump_play,
};

const PLAY_TIMEOUT: Duration = Duration::from_secs(20);

/// The first video tag after the sequence header is a keyframe.
fn starts_with_keyframe(path: &std::path::Path) -> bool {
    read_flv(path)
        .iter()
        .filter(|(k, _, _)| *k == MediaKindOrData::Media(MediaKind::Video))
        .filter_map(|(_, _, p)| VideoTagHeader::decode(p).ok().map(|(h, _)| h))
        .find(|h| !h.is_sequence_header())
        .is_some_and(|h| h.is_keyframe())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

#[test]
fn ffmpeg_and_rtmpdump_play_what_ffmpeg_publishes_losslessly() {
    require_tools!("ffmpeg", "rtmpdump");
    let dir = TempDir::new("lossless");
    players_get_every_frame_after_joining_late(&dir, &[]);
}

/// With merged writes a player is sent a third of a second of frames at a time, taken from
/// the stream's memory file as one run: still every frame, in order, from a keyframe.
#[test]
fn merged_writes_play_losslessly() {
    require_tools!("ffmpeg", "rtmpdump");
    let dir = TempDir::new("lossless-merged");
    let config = support::write_config(
        &dir,
        "merged.toml",
        "[player_queue]\nmerged_write_ms = 350\n",
    );
    players_get_every_frame_after_joining_late(&dir, &["--config", config.to_str().unwrap()]);
}

/// A player that acknowledges every 4 KB talks to the server all the time, so its connection
/// keeps taking the socket back from the stream's lane (to read what it says) and handing it
/// to the lane again, dozens of times in 3 s here: still every frame, in order. (ffmpeg's
/// player does; rtmpdump asks for a duration with `-B`, and a player with a duration is never
/// handed to a lane.)
#[test]
fn players_that_acknowledge_often_play_losslessly() {
    require_tools!("ffmpeg", "rtmpdump");
    let dir = TempDir::new("lossless-acks");
    let config = support::write_config(&dir, "acks.toml", "window_ack_size = 4096\n");
    players_get_every_frame_after_joining_late(&dir, &["--config", config.to_str().unwrap()]);
}

/// ffmpeg publishes 8 s; ffmpeg and rtmpdump join after 1.5 s and play 3 s from the GOP
/// cache on: each gets a contiguous run of the source's frames starting at a keyframe.
fn players_get_every_frame_after_joining_late(dir: &TempDir, server_args: &[&str]) {
    let src = make_source(dir.path(), Media::AudioVideo, 8);
    let server = ServerProcess::start(server_args);
    let url = server.url("livestream");
    let mut publisher = ffmpeg_publish(&src, &url);
    // Join late: the players start from the GOP cache, in the middle of the stream.
    std::thread::sleep(Duration::from_millis(1500));
    let (ffmpeg_out, dump_out) = (dir.join("ffmpeg.flv"), dir.join("rtmpdump.flv"));
    let (url2, dump2) = (url.clone(), dump_out.clone());
    let dump = std::thread::spawn(move || rtmpdump_play(&url2, &dump2, 3, PLAY_TIMEOUT));
    assert!(
        ffmpeg_play(&url, &ffmpeg_out, 3, PLAY_TIMEOUT),
        "ffmpeg could not play"
    );
    // rtmpdump exits with 2 ("incomplete") when it stops a live stream at -B; its file is what
    // counts.
    dump.join().expect("rtmpdump thread");
    let _ = publisher.wait();

    let source = framemd5(&src);
    for out in [&ffmpeg_out, &dump_out] {
        let got = framemd5(out);
        check_contiguous(&source, &got, 30).unwrap_or_else(|e| panic!("{}: {e}", out.display()));
        assert!(
            starts_with_keyframe(out),
            "{}: the first video frame is not a keyframe",
            out.display()
        );
    }
}

#[test]
fn audio_only_and_video_only_streams_play() {
    require_tools!("ffmpeg");
    let dir = TempDir::new("single-track");
    let server = ServerProcess::start(&[]);
    for (media, stream) in [(Media::AudioOnly, "audio"), (Media::VideoOnly, "video")] {
        let src = make_source(dir.path(), media, 5);
        let url = server.url(stream);
        let mut publisher = ffmpeg_publish(&src, &url);
        std::thread::sleep(Duration::from_millis(800));
        let out = dir.join(&format!("{stream}.flv"));
        assert!(
            ffmpeg_play(&url, &out, 2, PLAY_TIMEOUT),
            "{stream}: ffmpeg could not play"
        );
        let _ = publisher.wait();
        let got = framemd5(&out);
        assert_eq!(got.len(), 1, "{stream}: one stream expected, got {got:?}");
        check_contiguous(&framemd5(&src), &got, 20).unwrap_or_else(|e| panic!("{stream}: {e}"));
    }
}

#[test]
fn a_player_that_arrives_first_starts_when_the_publisher_does() {
    require_tools!("ffmpeg");
    let dir = TempDir::new("early-player");
    let src = make_source(dir.path(), Media::AudioVideo, 4);
    let server = ServerProcess::start(&[]);
    let rt = runtime();
    rt.block_on(async {
        let mut player = TestClient::connect(server.addr, true)
            .await
            .expect("connect");
        let id = player.play("early").await.expect("play");
        // Nothing is published yet: no Play.Start.
        assert!(
            player
                .until(Duration::from_millis(500), |e| matches!(
                    e,
                    ClientEvent::Status(_)
                ))
                .await
                .is_none()
        );
        let mut publisher = ffmpeg_publish(&src, &server.url("early"));
        let started = player
            .until(
                Duration::from_secs(10),
                |e| matches!(e, ClientEvent::Status(s) if s.code == status::PLAY_START),
            )
            .await;
        assert!(started.is_some(), "no Play.Start: {:?}", player.events);
        player
            .until(Duration::from_secs(10), |e| {
                matches!(e, ClientEvent::Media { kind: MediaKind::Video, payload, .. }
                    if VideoTagHeader::decode(payload).is_ok_and(|(h, _)| !h.is_sequence_header()))
            })
            .await
            .expect("video arrives");
        assert!(
            player
                .events
                .contains(&ClientEvent::StreamBegin { stream_id: id })
        );
        let first_frame = player
            .events
            .iter()
            .find_map(|e| match e {
                ClientEvent::Media {
                    kind: MediaKind::Video,
                    payload,
                    ..
                } => VideoTagHeader::decode(payload)
                    .ok()
                    .map(|(h, _)| h)
                    .filter(|h| !h.is_sequence_header()),
                _ => None,
            })
            .expect("a video frame");
        assert!(first_frame.is_keyframe());
        let _ = publisher.kill();
        let _ = publisher.wait();
    });
}

#[test]
fn players_follow_a_publisher_that_leaves_and_returns() {
    require_tools!("ffmpeg");
    let dir = TempDir::new("return");
    let src = make_source(dir.path(), Media::AudioVideo, 2);
    let tags = read_flv(&src);
    let server = ServerProcess::start(&[]);
    let rt = runtime();
    rt.block_on(async {
        let mut player = TestClient::connect(server.addr, true)
            .await
            .expect("player");
        let id = player.play("comeback").await.expect("play");
        for round in 0..2 {
            let mut publisher = TestClient::connect(server.addr, false)
                .await
                .expect("publisher");
            let (pid, code) = publisher.publish("comeback").await.expect("publish");
            assert_eq!(code, status::PUBLISH_START, "round {round}");
            // Each session's timestamps start again at 0, as a restarted encoder's do.
            publisher
                .send_tags(pid, &tags, 0, false)
                .await
                .expect("send");
            let expected_video = tags
                .iter()
                .filter(|t| t.0 == MediaKindOrData::Media(MediaKind::Video))
                .count()
                * (round + 1);
            // Frames reach players in order, so once UnpublishNotify is in, all of them are.
            drop(publisher);
            player
                .until(Duration::from_secs(5), |e| {
                    matches!(e, ClientEvent::Status(s) if s.code == status::PLAY_UNPUBLISH_NOTIFY)
                })
                .await
                .unwrap_or_else(|| panic!("round {round}: no UnpublishNotify"));
            let video = player
                .media()
                .iter()
                .filter(|m| m.0 == MediaKind::Video)
                .count();
            assert_eq!(video, expected_video, "round {round}: every video frame");
        }
        assert!(
            player
                .events
                .contains(&ClientEvent::StreamEof { stream_id: id })
        );
        assert!(
            player
                .status_codes()
                .contains(&status::PLAY_PUBLISH_NOTIFY.to_owned()),
            "the second publisher is announced: {:?}",
            player.status_codes()
        );
        // Timestamps never go backwards per track, across the two publishers.
        for kind in [MediaKind::Audio, MediaKind::Video] {
            let stamps: Vec<u32> = player
                .media()
                .iter()
                .filter(|m| m.0 == kind)
                .map(|m| m.1)
                .collect();
            assert!(
                stamps.windows(2).all(|w| w[0] <= w[1]),
                "{kind:?} timestamps go backwards: {stamps:?}"
            );
        }
    });
}

#[test]
fn a_second_publisher_is_refused_unless_takeover_is_on() {
    require_tools!("ffmpeg");
    let dir = TempDir::new("takeover");
    let src = make_source(dir.path(), Media::AudioVideo, 1);
    let tags = read_flv(&src);
    let rt = runtime();

    let server = ServerProcess::start(&[]);
    rt.block_on(async {
        let mut first = TestClient::connect(server.addr, false)
            .await
            .expect("first");
        assert_eq!(
            first.publish("busy").await.map(|p| p.1).as_deref(),
            Some(status::PUBLISH_START)
        );
        let mut second = TestClient::connect(server.addr, false)
            .await
            .expect("second");
        assert_eq!(
            second.publish("busy").await.map(|p| p.1).as_deref(),
            Some(status::PUBLISH_BAD_NAME)
        );
    });
    drop(server);

    let config = dir.join("takeover.toml");
    std::fs::write(&config, "publisher_takeover = true\n").expect("write config");
    let server = ServerProcess::start(&["--config", config.to_str().expect("utf-8 path")]);
    rt.block_on(async {
        let mut player = TestClient::connect(server.addr, true)
            .await
            .expect("player");
        player.play("busy").await.expect("play");
        let mut first = TestClient::connect(server.addr, false)
            .await
            .expect("first");
        let (id1, _) = first.publish("busy").await.expect("publish");
        first.send_tags(id1, &tags, 0, false).await.expect("send");
        let mut second = TestClient::connect(server.addr, false)
            .await
            .expect("second");
        let (id2, code) = second.publish("busy").await.expect("publish");
        assert_eq!(code, status::PUBLISH_START);
        second.send_tags(id2, &tags, 0, false).await.expect("send");
        // The player keeps its connection and gets the new publisher's frames too.
        let per_session = tags
            .iter()
            .filter(|t| t.0 == MediaKindOrData::Media(MediaKind::Video))
            .count();
        let mut video = 0;
        for _ in 0..50 {
            player.until(Duration::from_millis(100), |_| false).await;
            video = player
                .media()
                .iter()
                .filter(|m| m.0 == MediaKind::Video)
                .count();
            if video >= 2 * per_session {
                break;
            }
        }
        assert_eq!(video, 2 * per_session);
        // The replaced publisher was told and let go.
        assert!(
            first
                .until(Duration::from_secs(5), |e| {
                    matches!(e, ClientEvent::Status(s) if s.code == status::UNPUBLISH_SUCCESS)
                })
                .await
                .is_some()
        );
    });
}

#[test]
fn gstreamer_publishes_and_plays() {
    require_tools!("ffmpeg", "gst-launch-1.0");
    let dir = TempDir::new("gst");
    let server = ServerProcess::start(&[]);
    // GStreamer's librtmp-based sink publishes; ffmpeg plays.
    let sink = format!("location={}", server.url("gst"));
    let pipeline = format!(
        "videotestsrc num-buffers=150 ! video/x-raw,width=320,height=240,framerate=25/1 ! \
         x264enc tune=zerolatency key-int-max=25 ! h264parse ! flvmux name=m streamable=true ! \
         rtmpsink {sink} audiotestsrc num-buffers=300 ! audioconvert ! voaacenc ! aacparse ! m."
    );
    let mut gst = Command::new("gst-launch-1.0")
        .arg("-q")
        .args(pipeline.split_whitespace())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("run gst-launch-1.0");
    std::thread::sleep(Duration::from_millis(1000));
    let out = dir.join("gst.flv");
    let played = ffmpeg_play(&server.url("gst"), &out, 2, PLAY_TIMEOUT);
    let _ = gst.kill();
    let _ = gst.wait();
    assert!(played, "ffmpeg could not play GStreamer's stream");
    let got = framemd5(&out);
    assert_eq!(got.len(), 2, "audio and video: {got:?}");
    assert!(got.values().all(|p| p.len() >= 20), "{got:?}");
    assert!(starts_with_keyframe(&out));

    // ffmpeg publishes; GStreamer's own RTMP source plays.
    let src = make_source(dir.path(), Media::AudioVideo, 5);
    let mut publisher = ffmpeg_publish(&src, &server.url("for-gst"));
    std::thread::sleep(Duration::from_millis(800));
    let pipeline = format!(
        "rtmp2src location={} ! flvdemux name=d d.video ! fakesink num-buffers=50",
        server.url("for-gst")
    );
    let ok = support::run_bounded(
        Command::new("gst-launch-1.0")
            .arg("-q")
            .args(pipeline.split_whitespace()),
        PLAY_TIMEOUT,
    );
    let _ = publisher.kill();
    let _ = publisher.wait();
    assert!(ok, "GStreamer's rtmp2src could not play 50 video frames");
}

/// Enhanced RTMP video (HEVC, FourCC `hvc1`) and audio (Opus): ex-header bytes as the spec lays
/// them out, passed through byte for byte; a late player gets the cached sequence starts first.
#[test]
fn enhanced_rtmp_passes_through_with_its_sequence_starts_cached() {
    use bytes::Bytes;
    let video = |frame_type: u8, packet_type: u8, body: &[u8]| -> Bytes {
        let mut v = vec![0x80 | (frame_type << 4) | packet_type];
        v.extend_from_slice(b"hvc1");
        if packet_type == 1 {
            v.extend_from_slice(&[0, 0, 0]); // composition time
        }
        v.extend_from_slice(body);
        Bytes::from(v)
    };
    let audio = |packet_type: u8, body: &[u8]| -> Bytes {
        let mut v = vec![(9 << 4) | packet_type];
        v.extend_from_slice(b"Opus");
        v.extend_from_slice(body);
        Bytes::from(v)
    };
    let frames: Vec<(MediaKind, u32, Bytes)> = vec![
        (MediaKind::Video, 0, video(1, 0, &[1, 2, 3, 4])), // sequence start
        (MediaKind::Audio, 0, audio(0, b"OpusHead-config")), // sequence start
        (MediaKind::Video, 0, video(1, 1, &[0xAA; 3000])), // keyframe
        (MediaKind::Audio, 20, audio(1, &[0x11; 80])),
        (MediaKind::Video, 40, video(2, 1, &[0xBB; 700])),
        (MediaKind::Audio, 40, audio(1, &[0x22; 80])),
        (MediaKind::Video, 80, video(2, 1, &[0xCC; 700])),
    ];
    let server = ServerProcess::start(&[]);
    runtime().block_on(async {
        let mut early = TestClient::connect(server.addr, true)
            .await
            .expect("early player");
        early.play("hevc").await.expect("play");
        let mut publisher = TestClient::connect(server.addr, false)
            .await
            .expect("publisher");
        let (id, _) = publisher.publish("hevc").await.expect("publish");
        for (kind, ts, payload) in &frames {
            publisher
                .session
                .send_media(id, *kind, *ts, payload)
                .expect("send");
        }
        publisher.flush().await.expect("flush");
        let received = |c: &TestClient| -> Vec<(MediaKind, Bytes)> {
            c.events
                .iter()
                .filter_map(|e| match e {
                    ClientEvent::Media { kind, payload, .. } => Some((*kind, payload.clone())),
                    _ => None,
                })
                .collect()
        };
        for _ in 0..50 {
            if received(&early).len() >= frames.len() {
                break;
            }
            early.until(Duration::from_millis(100), |_| false).await;
        }
        let sent: Vec<(MediaKind, Bytes)> =
            frames.iter().map(|(k, _, p)| (*k, p.clone())).collect();
        assert_eq!(received(&early), sent, "byte for byte, in order");

        // A late player: sequence starts, then the GOP from the HEVC keyframe.
        let mut late = TestClient::connect(server.addr, true)
            .await
            .expect("late player");
        late.play("hevc").await.expect("play");
        for _ in 0..50 {
            if received(&late).len() >= frames.len() {
                break;
            }
            late.until(Duration::from_millis(100), |_| false).await;
        }
        let got = received(&late);
        assert_eq!(got.len(), frames.len(), "{got:?}");
        let heads: Vec<&(MediaKind, Bytes)> = got.iter().take(2).collect();
        assert!(
            heads.contains(&&sent[0]) && heads.contains(&&sent[1]),
            "sequence starts first"
        );
        assert_eq!(&got[2..], &sent[2..]);
    });
}

/// Timestamps past 2^24 ms travel as extended timestamps; past 2^32 ms they wrap. Players see
/// exactly what the publisher sent, in both cases.
#[test]
fn extended_and_wrapping_timestamps_reach_players_unchanged() {
    use bytes::Bytes;
    let server = ServerProcess::start(&[]);
    runtime().block_on(async {
        for (stream, stamps) in [
            (
                "extended",
                [0x00FF_FF00u32, 0x00FF_FFFF, 0x0100_0000, 0x0100_0100],
            ),
            (
                "wrapping",
                [0xFFFF_FFE0, 0xFFFF_FFF0, 0x0000_0010, 0x0000_0030],
            ),
        ] {
            let mut player = TestClient::connect(server.addr, true)
                .await
                .expect("player");
            player.play(stream).await.expect("play");
            let mut publisher = TestClient::connect(server.addr, false)
                .await
                .expect("publisher");
            let (id, _) = publisher.publish(stream).await.expect("publish");
            for (i, ts) in stamps.iter().enumerate() {
                // A keyframe first (AVC, NALU), then inter frames; big enough for several chunks.
                let head: &[u8] = if i == 0 {
                    &[0x17, 1, 0, 0, 0]
                } else {
                    &[0x27, 1, 0, 0, 0]
                };
                let payload = Bytes::from([head, &[i as u8; 9000][..]].concat());
                publisher
                    .session
                    .send_media(id, MediaKind::Video, *ts, &payload)
                    .expect("send");
            }
            publisher.flush().await.expect("flush");
            for _ in 0..50 {
                if player.media().len() >= stamps.len() {
                    break;
                }
                player.until(Duration::from_millis(100), |_| false).await;
            }
            let got: Vec<u32> = player.media().iter().map(|m| m.1).collect();
            assert_eq!(got, stamps, "{stream}");
            assert!(
                player.media().iter().all(|m| m.2 == 9005),
                "{stream}: whole frames"
            );
        }
    });
}

#[test]
fn play_with_a_duration_stops_after_that_much_media() {
    require_tools!("ffmpeg");
    let dir = TempDir::new("duration");
    let src = make_source(dir.path(), Media::AudioVideo, 3);
    let tags = read_flv(&src);
    let server = ServerProcess::start(&[]);
    runtime().block_on(async {
        let mut player = TestClient::connect(server.addr, true)
            .await
            .expect("player");
        let id = player.create_stream().await.expect("stream");
        player
            .session
            .play(id, "timed", -2000.0, Some(1000.0), None)
            .expect("play");
        player.flush().await.expect("flush");
        let mut publisher = TestClient::connect(server.addr, false)
            .await
            .expect("publisher");
        let (pid, _) = publisher.publish("timed").await.expect("publish");
        publisher
            .send_tags(pid, &tags, 0, false)
            .await
            .expect("send");
        player
            .until(
                Duration::from_secs(10),
                |e| matches!(e, ClientEvent::Status(s) if s.code == status::PLAY_STOP),
            )
            .await
            .expect("Play.Stop after the duration");
        let stamps: Vec<u32> = player.media().iter().map(|m| m.1).collect();
        let (first, last) = (stamps[0], stamps[stamps.len() - 1]);
        assert!(
            last - first < 1000,
            "media past the duration: {first}..{last}"
        );
        assert!(last - first >= 900, "stopped too early: {first}..{last}");
    });
}

/// The HTTP outputs and recording of the real binary, fed by a real encoder.
#[test]
fn http_flv_hls_and_recording_serve_what_ffmpeg_publishes() {
    require_tools!("ffmpeg");
    let dir = TempDir::new("http");
    let src = make_source(dir.path(), Media::AudioVideo, 8);
    let recordings = dir.join("rec");
    let config = dir.join("outputs.toml");
    std::fs::write(
        &config,
        format!(
            "[record]\nall = true\ndirectory = {:?}\n",
            recordings.to_str().expect("utf-8 path")
        ),
    )
    .expect("write config");
    let server = ServerProcess::start(&["--config", config.to_str().expect("utf-8 path")]);
    let http = server.http_addr().expect("HTTP address in the banner");
    let mut publisher = ffmpeg_publish(&src, &server.url("web"));
    std::thread::sleep(Duration::from_millis(1500));
    let (flv, hls) = (dir.join("http.flv"), dir.join("hls.flv"));
    let flv_url = format!("http://{http}/live/web.flv");
    let hls_url = format!("http://{http}/live/web.m3u8");
    let flv2 = flv.clone();
    let http_flv = std::thread::spawn(move || ffmpeg_play(&flv_url, &flv2, 3, PLAY_TIMEOUT));
    // HLS needs a couple of finished segments first.
    std::thread::sleep(Duration::from_millis(3000));
    let hls_ok = ffmpeg_play(&hls_url, &hls, 2, PLAY_TIMEOUT);
    assert!(
        http_flv.join().expect("thread"),
        "ffmpeg could not play HTTP-FLV"
    );
    assert!(hls_ok, "ffmpeg could not play HLS");
    let _ = publisher.wait();
    let source = framemd5(&src);
    check_contiguous(&source, &framemd5(&flv), 30).unwrap_or_else(|e| panic!("HTTP-FLV: {e}"));
    assert!(starts_with_keyframe(&flv));
    // HLS repacketizes (ADTS audio, Annex B video): compare decoded video frames instead.
    let decoded = |p: &std::path::Path| -> Vec<String> {
        let out = Command::new("ffmpeg")
            .args(["-nostdin", "-loglevel", "error", "-i"])
            .arg(p)
            .args(["-map", "0:v", "-f", "framemd5", "-"])
            .output()
            .expect("ffmpeg");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.rsplit(',').next().map(|h| h.trim().to_owned()))
            .collect()
    };
    let (all, got) = (decoded(&src), decoded(&hls));
    assert!(got.len() >= 25, "{} HLS frames", got.len());
    assert!(
        all.windows(got.len()).any(|w| w == &got[..]),
        "HLS video frames are not a contiguous run of the source's"
    );
    // The recording holds the whole publish.
    let files: Vec<_> = std::fs::read_dir(recordings.join("live"))
        .expect("recording directory")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    // The recording starts at the first video keyframe (as every subscriber does) and holds
    // everything after it: every video packet, and the audio from there on. The recorder
    // closes its file once the publisher is gone; give it a moment.
    let video_count = source.get(&0).map_or(0, Vec::len);
    let mut recorded = framemd5(&files[0]);
    for _ in 0..50 {
        if recorded.get(&0).map_or(0, Vec::len) == video_count {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        recorded = framemd5(&files[0]);
    }
    assert_eq!(
        recorded.get(&0),
        source.get(&0),
        "every video packet is recorded"
    );
    check_contiguous(&source, &recorded, 1).unwrap_or_else(|e| panic!("recording: {e}"));
    let (audio_src, audio_rec) = (
        source.get(&1).map_or(0, Vec::len),
        recorded.get(&1).map_or(0, Vec::len),
    );
    assert!(
        audio_src - audio_rec <= 2,
        "recording: {audio_rec} of {audio_src} audio packets"
    );
}

#[test]
fn trace_prints_each_protocol_message() {
    let server = ServerProcess::start(&["--trace"]);
    runtime().block_on(async {
        let mut c = TestClient::connect(server.addr, false)
            .await
            .expect("connect");
        c.publish("traced").await.expect("publish");
    });
    for needle in [
        "<- csid 3 ts 0 stream 0: connect('live')",
        "-> csid 2 ts 0 stream 0: Window Acknowledgement Size 2500000",
        "-> csid 2 ts 0 stream 0: Set Chunk Size 4096",
        "_result('NetConnection.Connect.Success')",
        "onStatus('NetStream.Publish.Start')",
    ] {
        assert!(
            server.wait_for_log(needle, Duration::from_secs(5)),
            "trace lacks {needle:?}: {:#?}",
            server.log()
        );
    }
}

#[test]
fn start_up_errors_are_clear() {
    let dir = TempDir::new("config");
    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        "chunk_size = 4096\nlisten_adress = \"0.0.0.0:1935\"\n",
    )
    .expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_rtmpkit"))
        .args(["serve", "--config"])
        .arg(&bad)
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.toml:2:") && err.contains("listen_adress"),
        "{err}"
    );

    let server = ServerProcess::start(&[]);
    let taken = server.addr.to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_rtmpkit"))
        .args(["serve", "--listen", &taken])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("already in use"), "{err}");
}
