//! HTTP outputs against real ffmpeg/ffprobe: HTTP-FLV, WebSocket-FLV and HLS, driven by a
//! publisher on the hub. Loopback only; skipped (with a message) without ffmpeg.

mod outputs_support;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use outputs_support::*;
use rtmpkit_proto::codec::{AnnexBNalUnits, HevcDecoderConfigurationRecord, HevcNalArray};
use rtmpkit_server::hub::{Frame, FrameKind, StreamKey};
use tokio_tungstenite::tungstenite::Message;

const FRAMES: usize = 150;

/// The server's largest WebSocket-FLV message.
const WS_MESSAGE_MAX: usize = 8 * 1024;

/// A WebSocket-FLV viewer of `url` until the server closes: the bytes, and each message's size.
async fn ws_collect(url: String) -> (Vec<u8>, Vec<usize>) {
    let (mut socket, response) = tokio_tungstenite::connect_async(url).await.unwrap();
    assert_eq!(response.status(), 101);
    let mut bytes = Vec::new();
    let mut messages = Vec::new();
    while let Some(m) = socket.next().await {
        match m.unwrap() {
            Message::Binary(b) => {
                bytes.extend_from_slice(&b);
                messages.push(b.len());
            }
            Message::Close(_) => break,
            _ => {}
        }
    }
    (bytes, messages)
}

/// Tags larger than a WebSocket-FLV message are cut into messages of the largest size, and
/// only there: the bytes are the HTTP-FLV stream's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_flv_cuts_large_tags_into_messages() {
    let config = Arc::new(test_config());
    let hub = hub_for(&config);
    let server = HttpServer::start(&hub, config).await;
    let key = StreamKey::new("live", "big");
    let raw = tokio::spawn(http(server.addr, "GET", "/live/big.flv"));
    let ws = tokio::spawn(ws_collect(format!("ws://{}/live/big.flv", server.addr)));
    // A tag is 11 header bytes, the payload and a 4-byte size: the second fills one message
    // exactly, the third is one byte over.
    let payloads = [
        5,
        WS_MESSAGE_MAX - 15,
        WS_MESSAGE_MAX - 14,
        20_000,
        70_000,
        9,
    ];
    let frames: Vec<Frame> = payloads
        .iter()
        .enumerate()
        .map(|(i, &len)| {
            let mut p = vec![0x17, 1, 0, 0, 0];
            p.extend((5..len).map(|j| (i * 31 + j) as u8));
            Frame::new(FrameKind::Video, i as u32 * 40, Bytes::from(p))
        })
        .collect();
    publish(&hub, &key, &frames, 2, None).await;

    let resp = raw.await.unwrap();
    assert_eq!(resp.status, 200);
    assert_eq!(read_flv_tags(&resp.body).len(), frames.len());
    let (bytes, messages) = ws.await.unwrap();
    assert!(bytes == resp.body, "WebSocket carries the HTTP-FLV bytes");
    let mut expected = vec![13];
    for len in payloads {
        let mut tag = 11 + len + 4;
        while tag > WS_MESSAGE_MAX {
            expected.push(WS_MESSAGE_MAX);
            tag -= WS_MESSAGE_MAX;
        }
        expected.push(tag);
    }
    assert_eq!(messages, expected);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_flv_and_websocket_flv_are_lossless() {
    if !have_ffmpeg("http_flv_and_websocket_flv_are_lossless") {
        return;
    }
    let src = source(Source::AudioVideo);
    let frames = read_flv(&src);
    let src_hashes = video_hashes(src.to_str().unwrap(), &[]).await;
    assert_eq!(src_hashes.len(), FRAMES);
    let config = Arc::new(test_config());
    let hub = hub_for(&config);
    let server = HttpServer::start(&hub, config.clone()).await;
    let key = StreamKey::new("live", "flv");
    let url = server.url("/live/flv.flv");

    // Viewers wait for the publisher: a raw HTTP client, a WebSocket client, and ffprobe.
    let raw = tokio::spawn(http(server.addr, "GET", "/live/flv.flv"));
    let ws_url = format!("ws://{}/live/flv.flv", server.addr);
    let ws = tokio::spawn(ws_collect(ws_url));
    let probe_url = url.clone();
    let probe = tokio::spawn(async move { ffprobe(&probe_url, &[]).await });
    wait_subscribers(&hub, &key, 3).await;
    publish(&hub, &key, &frames, 3, None).await;

    let probe = probe.await.unwrap();
    assert_eq!(probe.codecs(), ["h264", "aac"]);
    assert_eq!(probe.video_size(), Some((320, 240)));

    let resp = raw.await.unwrap();
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("content-type"), Some("video/x-flv"));
    assert_eq!(resp.header("transfer-encoding"), Some("chunked"));
    assert_eq!(resp.header("access-control-allow-origin"), Some("*"));
    assert_eq!(
        &resp.body[..5],
        b"FLV\x01\x05",
        "header flags: audio and video"
    );
    let tags = read_flv_tags(&resp.body);
    assert_eq!(tags.len(), frames.len(), "every published frame, once");
    for (t, f) in tags.iter().zip(&frames) {
        assert_eq!(&t.2, f.payload());
    }
    let dir = temp_dir("http-flv");
    let file = dir.join("http.flv");
    std::fs::write(&file, &resp.body).unwrap();
    let p = ffprobe(file.to_str().unwrap(), &[]).await;
    assert_eq!(p.codecs(), ["h264", "aac"]);
    let duration = media_span(file.to_str().unwrap()).await;
    assert!((duration - 6.0).abs() < 0.5, "HTTP-FLV duration {duration}");
    let hashes = video_hashes(file.to_str().unwrap(), &[]).await;
    assert_contiguous(&src_hashes, &hashes, FRAMES, "HTTP-FLV");

    let (ws_bytes, messages) = ws.await.unwrap();
    assert_eq!(ws_bytes, resp.body, "WebSocket carries the same bytes");
    assert_eq!(
        messages.len(),
        frames.len() + 1,
        "one message per tag, after the header"
    );

    server.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_streams_get_json_404_and_cors_preflight_works() {
    let mut config = test_config();
    config.play_wait_timeout = Duration::from_millis(200);
    config.hls.target_duration = Duration::from_millis(100);
    let config = Arc::new(config);
    let hub = hub_for(&config);
    let server = HttpServer::start(&hub, config).await;
    for path in [
        "/live/nobody.flv",
        "/live/nobody.m3u8",
        "/live/x-0000abcd-3.ts",
        "/x.flv",
        "/live/a.mp4",
    ] {
        let r = http(server.addr, "GET", path).await;
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(r.header("access-control-allow-origin"), Some("*"));
        let body = String::from_utf8(r.body).unwrap();
        assert!(
            body.starts_with("{\"error\":\"") && body.contains(path),
            "{body}"
        );
    }
    let r = http(server.addr, "OPTIONS", "/live/a.flv").await;
    assert_eq!(r.status, 204);
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    assert!(
        r.header("access-control-allow-methods")
            .unwrap()
            .contains("GET")
    );
    let r = http(server.addr, "POST", "/live/a.flv").await;
    assert_eq!(r.status, 405);
    server.shutdown().await;
}

/// A WebSocket-FLV viewer that sends more than a viewer may (64 KiB in one message) is
/// disconnected; the other viewer of the stream goes on receiving frames.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_websocket_message_closes_only_that_viewer() {
    use futures_util::SinkExt;
    use rtmpkit_server::hub::PublishOptions;

    let config = Arc::new(test_config());
    let hub = hub_for(&config);
    let server = HttpServer::start(&hub, config).await;
    let key = StreamKey::new("live", "ws");
    let mut publisher = hub.publish(key.clone(), PublishOptions::default()).unwrap();
    let video = |ts: u32, key_frame: bool| {
        let first = if key_frame { 0x17 } else { 0x27 };
        Frame::new(
            FrameKind::Video,
            ts,
            Bytes::from(vec![first, 1, 0, 0, 0, 0x65, 0x88]),
        )
    };
    let seq = Bytes::from_static(&[0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f, 0xff, 0xe1, 0, 0]);
    publisher
        .push(Frame::new(FrameKind::Video, 0, seq))
        .unwrap();
    publisher.push(video(0, true)).unwrap();
    let url = format!("ws://{}/live/ws.flv", server.addr);
    let (mut rude, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .unwrap();
    let (mut polite, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .unwrap();
    /// The next binary message; `Err(true)` when the connection ends, `Err(false)` when
    /// nothing comes for 2 s.
    async fn next_binary(
        socket: &mut (
                 impl futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>>
                 + Unpin
             ),
    ) -> Result<Bytes, bool> {
        loop {
            let next = tokio::time::timeout(Duration::from_secs(2), socket.next()).await;
            match next.map_err(|_| false)? {
                Some(Ok(Message::Binary(b))) => return Ok(b),
                None | Some(Ok(Message::Close(_))) | Some(Err(_)) => return Err(true),
                Some(Ok(_)) => {}
            }
        }
    }
    for socket in [&mut rude, &mut polite] {
        let header = next_binary(socket).await.unwrap();
        assert_eq!(&header[..3], b"FLV");
    }

    rude.send(Message::Binary(vec![0u8; 100 * 1024].into()))
        .await
        .unwrap();
    // The server ends that connection: whatever was on its way, then the end.
    let ended = loop {
        match next_binary(&mut rude).await {
            Ok(_) => {}
            Err(ended) => break ended,
        }
    };
    assert!(ended, "the viewer that sent 100 KiB is still connected");
    for i in 1..=5 {
        publisher.push(video(40 * i, false)).unwrap();
    }
    for _ in 0..2 + 5 {
        assert!(
            next_binary(&mut polite).await.is_ok(),
            "the other viewer goes on"
        );
    }
    server.shutdown().await;
}

/// Fetches the playlist until it ends; returns its text.
async fn ended_playlist(server: &HttpServer, path: &str) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let r = http(server.addr, "GET", path).await;
        if r.status == 200 {
            assert_eq!(
                r.header("content-type"),
                Some("application/vnd.apple.mpegurl")
            );
            assert_eq!(r.header("cache-control"), Some("no-cache"));
            assert_eq!(r.header("access-control-allow-origin"), Some("*"));
            let text = String::from_utf8(r.body).unwrap();
            if text.contains("#EXT-X-ENDLIST") {
                return text;
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "playlist never ended"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every segment of a playlist, fetched; checks cache headers and that each starts with a PAT.
async fn segments(server: &HttpServer, app: &str, playlist: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for uri in playlist
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let r = http(server.addr, "GET", &format!("/{app}/{uri}")).await;
        assert_eq!(r.status, 200, "{uri}");
        assert_eq!(r.header("content-type"), Some("video/mp2t"));
        assert!(r.header("cache-control").unwrap().contains("max-age"));
        assert_eq!(
            (r.body[0], r.body[1], r.body[2]),
            (0x47, 0x40, 0x00),
            "{uri} starts with a PAT"
        );
        out.push(r.body);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hls_is_lossless_and_valid_ts() {
    if !have_ffmpeg("hls_is_lossless_and_valid_ts") {
        return;
    }
    let src = source(Source::AudioVideo);
    let frames = read_flv(&src);
    let src_hashes = video_hashes(src.to_str().unwrap(), &[]).await;
    let mut config = test_config();
    let disk = temp_dir("hls-disk");
    config.hls.directory = Some(disk.clone());
    let config = Arc::new(config);
    let hub = hub_for(&config);
    let server = HttpServer::start(&hub, config).await;
    let key = StreamKey::new("live", "hls");
    // The segmenter subscribes when the publish begins.
    publish(&hub, &key, &frames, 1, None).await;
    let playlist = ended_playlist(&server, "/live/hls.m3u8").await;
    let extinf: Vec<f64> = playlist
        .lines()
        .filter_map(|l| l.strip_prefix("#EXTINF:"))
        .map(|d| d.trim_end_matches(',').parse().unwrap())
        .collect();
    assert_eq!(extinf.len(), 3, "6 s in 2 s segments:\n{playlist}");
    assert!(extinf.iter().all(|d| (d - 2.0).abs() < 0.05), "{extinf:?}");
    assert!(playlist.contains("#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n"));
    assert!(!playlist.contains("DISCONTINUITY"));

    let segs = segments(&server, "live", &playlist).await;
    let all: Vec<u8> = segs.concat();
    let flv_size = std::fs::metadata(&src).unwrap().len();
    eprintln!(
        "HLS: {} segments, {} bytes of TS for a {flv_size}-byte FLV ({:+.1} %)",
        segs.len(),
        all.len(),
        (all.len() as f64 / flv_size as f64 - 1.0) * 100.0
    );
    let report = outputs_support::ts_check::check_ts(&all);
    assert_eq!(
        report.streams.values().copied().collect::<Vec<_>>(),
        [0x1b, 0x0f]
    );
    // Every coded audio and video frame from the first keyframe on (not the sequence headers,
    // nor the AVC end of sequence that ffmpeg writes last).
    let first_key = frames
        .iter()
        .position(|f| f.kind() == FrameKind::Video && f.payload()[0] == 0x17 && f.payload()[1] == 1)
        .unwrap();
    let media = frames[first_key..]
        .iter()
        .filter(|f| f.kind() != FrameKind::Data && f.payload().get(1) == Some(&1))
        .count();
    assert_eq!(report.pes.values().sum::<usize>(), media);
    for s in &segs {
        outputs_support::ts_check::check_ts(s);
    }

    let url = server.url("/live/hls.m3u8");
    let probe = ffprobe(&url, &[]).await;
    assert_eq!(probe.codecs(), ["h264", "aac"]);
    assert_eq!(probe.video_size(), Some((320, 240)));
    let duration = probe.duration.unwrap();
    assert!((duration - 6.0).abs() <= 2.0, "HLS duration {duration}");
    let hashes = video_hashes(&url, &[]).await;
    assert_contiguous(&src_hashes, &hashes, FRAMES, "HLS");

    // The directory copy: playlist and the same segments.
    let on_disk = std::fs::read_to_string(disk.join("live/hls.m3u8")).unwrap();
    assert!(on_disk.ends_with("#EXT-X-ENDLIST\n"));
    let files: Vec<_> = on_disk.lines().filter(|l| l.ends_with(".ts")).collect();
    assert_eq!(files.len(), 3);
    for (f, s) in files.iter().zip(&segs) {
        assert_eq!(&std::fs::read(disk.join("live").join(f)).unwrap(), s);
    }
    server.shutdown().await;
    let _ = std::fs::remove_dir_all(disk);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hls_publisher_restart_is_a_discontinuity_ffmpeg_plays_through() {
    if !have_ffmpeg("hls_publisher_restart_is_a_discontinuity_ffmpeg_plays_through") {
        return;
    }
    let src = source(Source::AudioVideo);
    let frames = read_flv(&src);
    let src_hashes = video_hashes(src.to_str().unwrap(), &[]).await;
    let mut config = test_config();
    config.hls.unpublish_wait = Duration::from_millis(1500);
    let config = Arc::new(config);
    let hub = hub_for(&config);
    let server = HttpServer::start(&hub, config).await;
    let key = StreamKey::new("live", "again");
    publish(&hub, &key, &frames, 1, None).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    // The same segmenter is still subscribed: wait for nobody new.
    publish(&hub, &key, &frames, 1, None).await;
    let playlist = ended_playlist(&server, "/live/again.m3u8").await;
    assert_eq!(
        playlist.matches("#EXT-X-DISCONTINUITY\n").count(),
        1,
        "{playlist}"
    );
    assert_eq!(playlist.matches("#EXTINF").count(), 6, "{playlist}");
    let segs = segments(&server, "live", &playlist).await;
    outputs_support::ts_check::check_ts(&segs.concat());
    let hashes = video_hashes(&server.url("/live/again.m3u8"), &[]).await;
    let mut twice = src_hashes.clone();
    twice.extend(src_hashes.iter().cloned());
    assert_eq!(hashes, twice, "both sessions, every frame");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audio_only_and_video_only_streams_play() {
    if !have_ffmpeg("audio_only_and_video_only_streams_play") {
        return;
    }
    let config = Arc::new(test_config());
    let hub = hub_for(&config);
    let server = HttpServer::start(&hub, config).await;
    for (kind, name, codec, flags, ts_type) in [
        (Source::AudioOnly, "audio", "aac", 0x04, 0x0f),
        (Source::VideoOnly, "video", "h264", 0x01, 0x1b),
    ] {
        let frames = read_flv(&source(kind));
        let key = StreamKey::new("live", name);
        let path = format!("/live/{name}.flv");
        let addr = server.addr;
        let viewer = tokio::spawn(async move { http(addr, "GET", &path).await });
        // The HLS segmenter and the HTTP-FLV viewer.
        wait_subscribers(&hub, &key, 1).await;
        publish(&hub, &key, &frames, 2, None).await;
        let resp = viewer.await.unwrap();
        assert_eq!(
            resp.body[4],
            flags,
            "{name}: FLV header flags {:?}",
            &resp.body[..40]
        );
        let dir = temp_dir(name);
        let file = dir.join("out.flv");
        std::fs::write(&file, &resp.body).unwrap();
        let p = ffprobe(file.to_str().unwrap(), &[]).await;
        assert_eq!(p.codecs(), [codec], "{name} HTTP-FLV");
        let d = media_span(file.to_str().unwrap()).await;
        assert!((d - 6.0).abs() < 0.5, "{name}: {d}");

        let playlist = ended_playlist(&server, &format!("/live/{name}.m3u8")).await;
        let segs = segments(&server, "live", &playlist).await;
        assert!(segs.len() >= 3, "{name}: {playlist}");
        let report = outputs_support::ts_check::check_ts(&segs.concat());
        assert_eq!(
            report.streams.values().copied().collect::<Vec<_>>(),
            [ts_type]
        );
        let p = ffprobe(&server.url(&format!("/live/{name}.m3u8")), &[]).await;
        assert_eq!(p.codecs(), [codec], "{name} HLS");
        let d = p.duration.unwrap();
        assert!((d - 6.0).abs() <= 2.0, "{name} HLS duration {d}");
        let _ = std::fs::remove_dir_all(dir);
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn playlist_waits_for_a_starting_stream_and_shutdown_ends_live_viewers() {
    if !have_ffmpeg("playlist_waits_for_a_starting_stream_and_shutdown_ends_live_viewers") {
        return;
    }
    let frames = read_flv(&source(Source::AudioVideo));
    let config = Arc::new(test_config());
    let hub = hub_for(&config);
    let server = HttpServer::start(&hub, config).await;
    let addr = server.addr;
    // Asked before anyone publishes: answered once the first segment exists.
    let early = tokio::spawn(async move { http(addr, "GET", "/live/soon.m3u8").await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let key = StreamKey::new("live", "soon");
    let mut publisher = hub
        .publish(key.clone(), rtmpkit_server::hub::PublishOptions::default())
        .unwrap();
    wait_subscribers(&hub, &key, 1).await;
    for f in &frames {
        publisher
            .push(rtmpkit_server::hub::Frame::new(
                f.kind(),
                f.timestamp(),
                f.payload().clone(),
            ))
            .unwrap();
    }
    let r = early.await.unwrap();
    assert_eq!(r.status, 200);
    let text = String::from_utf8(r.body).unwrap();
    assert!(
        text.contains("#EXTINF:2.000,") && !text.contains("ENDLIST"),
        "{text}"
    );
    // A live HTTP-FLV viewer, still connected at shutdown.
    let viewer = tokio::spawn(async move { http(addr, "GET", "/live/soon.flv").await });
    wait_subscribers(&hub, &key, 2).await;
    server.shutdown().await;
    let r = tokio::time::timeout(Duration::from_secs(5), viewer)
        .await
        .expect("viewer's response ends at shutdown")
        .unwrap();
    assert_eq!(r.status, 200);
    assert!(
        read_flv_tags(&r.body).len() >= 25,
        "the cached GOP at least"
    );
    drop(publisher);
}

/// Raw HEVC as Enhanced RTMP 'hvc1' messages: a SequenceStart with the parameter sets, then
/// one CodedFramesX (no composition time: no B-frames) per picture, 40 ms apart.
fn hevc_frames(raw: &[u8]) -> Vec<Frame> {
    let nal_type = |n: &[u8]| (n[0] >> 1) & 0x3f;
    let mut arrays: Vec<HevcNalArray> = Vec::new();
    let mut pictures: Vec<Vec<&[u8]>> = Vec::new();
    let mut current: Vec<&[u8]> = Vec::new();
    let mut has_picture = false;
    for nal in AnnexBNalUnits::new(raw) {
        let t = nal_type(nal);
        if (32..=34).contains(&t) && !arrays.iter().any(|a| a.nal_type == t) {
            arrays.push(HevcNalArray {
                complete: true,
                nal_type: t,
                units: vec![nal.to_vec()],
            });
        }
        // A new picture: its first slice, or parameter sets / prefix SEI / AUD after a slice.
        let first_slice = t < 32 && nal.get(2).is_some_and(|b| b & 0x80 != 0);
        if has_picture && (first_slice || matches!(t, 32..=35 | 39)) {
            pictures.push(std::mem::take(&mut current));
            has_picture = false;
        }
        has_picture |= t < 32;
        current.push(nal);
    }
    pictures.push(current);
    arrays.sort_by_key(|a| a.nal_type);
    let record = HevcDecoderConfigurationRecord {
        version: 1,
        general_profile_space: 0,
        general_tier_flag: false,
        general_profile_idc: 1,
        general_profile_compatibility_flags: 0x6000_0000,
        general_constraint_indicator_flags: 0,
        general_level_idc: 60,
        min_spatial_segmentation_idc: 0,
        parallelism_type: 0,
        chroma_format: 1,
        bit_depth_luma_minus8: 0,
        bit_depth_chroma_minus8: 0,
        avg_frame_rate: 0,
        constant_frame_rate: 0,
        num_temporal_layers: 1,
        temporal_id_nested: true,
        nal_length_size: 4,
        arrays,
    };
    let mut config = b"\x90hvc1".to_vec();
    record.encode(&mut config).unwrap();
    let mut frames = vec![Frame::video(0, Bytes::from(config))];
    for (i, pic) in pictures.iter().enumerate() {
        let key = pic.iter().any(|n| (16..=23).contains(&nal_type(n)));
        let mut p = vec![if key { 0x93 } else { 0xa3 }];
        p.extend_from_slice(b"hvc1");
        for n in pic {
            p.extend((n.len() as u32).to_be_bytes());
            p.extend_from_slice(n);
        }
        frames.push(Frame::video(i as u32 * 40, Bytes::from(p)));
    }
    frames
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hevc_and_mp3_streams_play_over_hls() {
    if !have_ffmpeg("hevc_and_mp3_streams_play_over_hls") {
        return;
    }
    let config = Arc::new(test_config());
    let hub = hub_for(&config);
    let server = HttpServer::start(&hub, config).await;

    let raw = source(Source::HevcAnnexB);
    let frames = hevc_frames(&std::fs::read(&raw).unwrap());
    assert_eq!(frames.len(), 51);
    let key = StreamKey::new("live", "hevc");
    publish(&hub, &key, &frames, 1, None).await;
    let playlist = ended_playlist(&server, "/live/hevc.m3u8").await;
    let segs = segments(&server, "live", &playlist).await;
    assert_eq!(segs.len(), 1, "{playlist}");
    let report = outputs_support::ts_check::check_ts(&segs.concat());
    assert_eq!(report.streams.values().copied().collect::<Vec<_>>(), [0x24]);
    let url = server.url("/live/hevc.m3u8");
    let p = ffprobe(&url, &[]).await;
    assert_eq!(p.codecs(), ["hevc"]);
    assert_eq!(p.video_size(), Some((320, 240)));
    let expected = video_hashes(raw.to_str().unwrap(), &[]).await;
    assert_eq!(expected.len(), 50);
    assert_eq!(
        video_hashes(&url, &[]).await,
        expected,
        "HEVC through TS, lossless"
    );

    let mp3 = read_flv(&source(Source::Mp3));
    let key = StreamKey::new("live", "mp3");
    publish(&hub, &key, &mp3, 1, None).await;
    let playlist = ended_playlist(&server, "/live/mp3.m3u8").await;
    let segs = segments(&server, "live", &playlist).await;
    let report = outputs_support::ts_check::check_ts(&segs.concat());
    assert_eq!(
        report.streams.values().copied().collect::<Vec<_>>(),
        [0x1b, 0x03]
    );
    let p = ffprobe(&server.url("/live/mp3.m3u8"), &[]).await;
    assert_eq!(p.codecs(), ["h264", "mp3"]);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hls_directory_keeps_only_live_segments_and_is_cleaned_up() {
    if !have_ffmpeg("hls_directory_keeps_only_live_segments_and_is_cleaned_up") {
        return;
    }
    let frames = read_flv(&source(Source::AudioVideo));
    let disk = temp_dir("hls-evict");
    let mut config = test_config();
    config.hls.directory = Some(disk.clone());
    config.hls.playlist_segments = 1;
    config.hls.retained_segments = 0;
    let config = Arc::new(config);
    let hub = hub_for(&config);
    let server = HttpServer::start(&hub, config).await;
    publish(&hub, &StreamKey::new("live", "evict"), &frames, 1, None).await;
    let playlist = ended_playlist(&server, "/live/evict.m3u8").await;
    assert!(playlist.contains("#EXT-X-MEDIA-SEQUENCE:2\n"), "{playlist}");
    let mut names: Vec<String> = std::fs::read_dir(disk.join("live"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names.len(),
        2,
        "the playlist and its one segment: {names:?}"
    );
    assert!(
        names[0].ends_with("-2.ts") && names[1] == "evict.m3u8",
        "{names:?}"
    );
    // The ended playlist stays as long as it lasts (2 s), then goes, files too.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while std::fs::read_dir(disk.join("live")).unwrap().count() > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "files never removed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        http(server.addr, "GET", "/live/evict.m3u8").await.status,
        404
    );
    server.shutdown().await;
    let _ = std::fs::remove_dir_all(disk);
}
