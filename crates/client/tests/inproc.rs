//! The client against an in-process RTMP server (plain, TLS, through SOCKS), with synthetic
//! FLV input: publish and play sequences, refusals, TLS trust, proxies, timeouts, reconnects.

mod support;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use rtmpkit_client::{
    Backoff, ClientError, ConnectOptions, EndReason, FlvPublishOptions, FlvRecorder, FlvSource,
    MediaKind, PlayEvent, PlayOptions, Player, PublishProgress, Publisher, RtmpUrl, SocksProxy,
    TlsOptions, parse_conn_args, publish_flv,
};
use rtmpkit_proto::amf::Amf0Value;
use rtmpkit_proto::flv::{FlvEvent, FlvHeader, FlvReader, FlvWriter, TagType};
use rtmpkit_proto::rtmp::message::{DataMessage, status};
use support::TempDir;
use support::rtmp_server::{Behaviour, TestServer, tls_acceptor};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const AVC_HEADER: [u8; 9] = [0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f];
const AAC_HEADER: [u8; 4] = [0xaf, 0, 0x12, 0x10];

/// Video frame `n` (a keyframe every 10 frames), 40 ms apart; the payload names the frame.
fn video_frame(n: u32) -> Vec<u8> {
    let first = if n.is_multiple_of(10) { 0x17 } else { 0x27 };
    let mut v = vec![first, 1, 0, 0, 0];
    v.extend_from_slice(&n.to_be_bytes());
    v
}

fn audio_frame(n: u32) -> Vec<u8> {
    let mut v = vec![0xaf, 1];
    v.extend_from_slice(&n.to_be_bytes());
    v
}

fn frame_number(payload: &[u8]) -> u32 {
    let tail = &payload[payload.len() - 4..];
    u32::from_be_bytes(tail.try_into().unwrap())
}

fn is_key(payload: &[u8]) -> bool {
    payload[0] == 0x17 && payload[1] == 1
}

/// An FLV of `frames` video frames (25 fps) with audio every 40 ms too, metadata and
/// sequence headers first.
fn synthetic_flv(dir: &TempDir, frames: u32) -> PathBuf {
    synthetic_flv_spaced(dir, frames, 40)
}

/// [`synthetic_flv`] with frames `spacing` ms apart.
fn synthetic_flv_spaced(dir: &TempDir, frames: u32, spacing: u32) -> PathBuf {
    let mut w = FlvWriter::new();
    let mut out = Vec::new();
    w.write_header(&FlvHeader::new(true, true), &mut out);
    let mut meta = Vec::new();
    DataMessage::on_metadata(Amf0Value::object([
        ("width", Amf0Value::Number(320.0)),
        ("videocodecid", Amf0Value::Number(7.0)),
        ("audiocodecid", Amf0Value::Number(10.0)),
    ]))
    .encode(&mut meta);
    w.write_tag(TagType::Script, 0, &meta, &mut out).unwrap();
    w.write_tag(TagType::Video, 0, &AVC_HEADER, &mut out)
        .unwrap();
    w.write_tag(TagType::Audio, 0, &AAC_HEADER, &mut out)
        .unwrap();
    for n in 0..frames {
        w.write_tag(TagType::Video, n * spacing, &video_frame(n), &mut out)
            .unwrap();
        w.write_tag(TagType::Audio, n * spacing + 5, &audio_frame(n), &mut out)
            .unwrap();
    }
    let path = dir.join("synthetic.flv");
    std::fs::write(&path, out).unwrap();
    path
}

fn url(server: &TestServer, scheme: &str, path: &str) -> RtmpUrl {
    RtmpUrl::parse(&format!("{scheme}://127.0.0.1:{}/{path}", server.port())).unwrap()
}

fn quick() -> ConnectOptions {
    ConnectOptions {
        connect_timeout: Duration::from_secs(5),
        read_timeout: Duration::from_secs(5),
        write_timeout: Duration::from_secs(5),
        ..ConnectOptions::default()
    }
}

fn fast() -> FlvPublishOptions {
    FlvPublishOptions {
        fast: true,
        ..FlvPublishOptions::default()
    }
}

async fn publish(
    path: PathBuf,
    url: &RtmpUrl,
    options: &ConnectOptions,
    job: &FlvPublishOptions,
) -> Result<PublishProgress, ClientError> {
    let mut ignore = |_: &PublishProgress| {};
    tokio::time::timeout(
        Duration::from_secs(20),
        publish_flv(
            FlvSource::File(path),
            url,
            options,
            job,
            std::future::pending(),
            &mut ignore,
        ),
    )
    .await
    .expect("publish finishes in time")
}

/// Waits until the server has seen the connection closed (the client's last bytes logged).
async fn settled(server: &TestServer, connections: usize) {
    for _ in 0..200 {
        let c = server.connections();
        if c.len() >= connections && c.iter().all(|c| c.closed) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn publish_sends_metadata_and_sequence_headers_first_then_every_frame() {
    let dir = TempDir::new("pub");
    let src = synthetic_flv(&dir, 30);
    let server = TestServer::start(Behaviour::default(), None).await;
    let u = url(&server, "rtmp", "live/room?key=secret");
    let done = publish(src, &u, &quick(), &fast()).await.unwrap();
    assert_eq!(done.frames, 60);
    assert_eq!(done.media_ms, 29 * 40 + 5);
    settled(&server, 1).await;
    let c = &server.connections()[0];
    assert_eq!(c.app, "live");
    assert_eq!(
        c.tc_url.as_deref(),
        Some(format!("rtmp://127.0.0.1:{}/live", server.port()).as_str())
    );
    assert_eq!(
        c.flash_ver.as_deref(),
        Some("FMLE/3.0 (compatible; rtmpkit)")
    );
    assert_eq!(c.published.as_deref(), Some("room?key=secret"));
    assert_eq!(c.data.len(), 1);
    assert_eq!(c.data[0].name(), "@setDataFrame");
    assert_eq!(
        c.data[0].metadata().and_then(|m| m.get("width")),
        Some(&Amf0Value::Number(320.0))
    );
    assert_eq!(c.media[0].2.as_ref(), AVC_HEADER);
    assert_eq!(c.media[1].2.as_ref(), AAC_HEADER);
    let frames: Vec<(MediaKind, u32, u32)> = c.media[2..]
        .iter()
        .map(|(k, ts, p)| (*k, *ts, frame_number(p)))
        .collect();
    let expected: Vec<_> = (0..30)
        .flat_map(|n| {
            [
                (MediaKind::Video, n * 40, n),
                (MediaKind::Audio, n * 40 + 5, n),
            ]
        })
        .collect();
    assert_eq!(frames, expected);
    assert!(c.publish_stopped, "FCUnpublish/deleteStream at the end");
}

#[tokio::test]
async fn realtime_pacing_takes_the_media_duration() {
    let dir = TempDir::new("pace");
    let src = synthetic_flv(&dir, 16); // 0.6 s of media
    let server = TestServer::start(Behaviour::default(), None).await;
    let u = url(&server, "rtmp", "live/paced");
    let started = Instant::now();
    publish(src, &u, &quick(), &FlvPublishOptions::default())
        .await
        .unwrap();
    let elapsed = started.elapsed();
    // A lower bound only: pacing can be late under load, never early.
    assert!(elapsed >= Duration::from_millis(600), "{elapsed:?}");
}

#[tokio::test]
async fn loop_continues_timestamps() {
    let dir = TempDir::new("loop");
    let src = synthetic_flv(&dir, 10);
    let server = TestServer::start(Behaviour::default(), None).await;
    let u = url(&server, "rtmp", "live/looped");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let mut tx = Some(tx);
    let mut stop_after = |p: &PublishProgress| {
        if p.frames >= 50
            && let Some(tx) = tx.take()
        {
            let _ = tx.send(());
        }
    };
    let job = FlvPublishOptions {
        fast: true,
        looping: true,
        reconnect: None,
    };
    let done = publish_flv(
        FlvSource::File(src),
        &u,
        &quick(),
        &job,
        async {
            let _ = rx.await;
        },
        &mut stop_after,
    )
    .await
    .unwrap();
    assert!(done.loops >= 2, "{done:?}");
    settled(&server, 1).await;
    let c = &server.connections()[0];
    let video: Vec<u32> = c
        .media
        .iter()
        .filter(|(k, _, p)| *k == MediaKind::Video && p.len() > 5 && p[1] == 1)
        .map(|(_, ts, _)| *ts)
        .collect();
    assert!(video.len() >= 25, "{}", video.len());
    let steps: Vec<u32> = video.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(steps.iter().all(|&s| s == 40), "video steps {steps:?}");
    // Sequence headers went out once: the repeats in each pass are identical.
    let headers = c.media.iter().filter(|(_, _, p)| p[1] == 0).count();
    assert_eq!(headers, 2);
}

#[tokio::test]
async fn publish_refusal_names_the_status() {
    let dir = TempDir::new("bad");
    let src = synthetic_flv(&dir, 5);
    let behaviour = Behaviour {
        reject_publish: Some((status::PUBLISH_BAD_NAME.into(), "Already publishing".into())),
        ..Behaviour::default()
    };
    let server = TestServer::start(behaviour, None).await;
    let u = url(&server, "rtmp", "live/taken");
    // Even with --reconnect, a refusal on the first connection is the answer.
    let job = FlvPublishOptions {
        fast: true,
        reconnect: Some(Backoff::default()),
        ..FlvPublishOptions::default()
    };
    let e = publish(src, &u, &quick(), &job).await.unwrap_err();
    assert!(e.is_refusal());
    assert_eq!(e.status_code(), Some(status::PUBLISH_BAD_NAME));
    assert_eq!(
        e.to_string(),
        format!(
            "127.0.0.1:{}: publish 'taken' refused: NetStream.Publish.BadName (Already publishing)",
            server.port()
        )
    );
}

#[tokio::test]
async fn play_not_found_is_a_refusal() {
    let behaviour = Behaviour {
        reject_play: Some((
            status::PLAY_STREAM_NOT_FOUND.into(),
            "No such stream".into(),
        )),
        ..Behaviour::default()
    };
    let server = TestServer::start(behaviour, None).await;
    let u = url(&server, "rtmp", "live/missing");
    let mut player = Player::connect(&u, &quick(), &PlayOptions::default())
        .await
        .unwrap();
    let e = player.next().await.unwrap_err();
    assert_eq!(e.status_code(), Some(status::PLAY_STREAM_NOT_FOUND));
    assert!(e.to_string().contains("play 'missing' refused"), "{e}");
}

fn play_behaviour() -> Behaviour {
    let mut media = vec![
        (MediaKind::Video, 0, Bytes::from_static(&AVC_HEADER)),
        (MediaKind::Audio, 0, Bytes::from_static(&AAC_HEADER)),
    ];
    // Joined mid-GOP: frames 5..9 are not keyframes and must be skipped.
    for n in 5..25 {
        media.push((MediaKind::Video, n * 40, video_frame(n).into()));
        media.push((MediaKind::Audio, n * 40 + 5, audio_frame(n).into()));
    }
    Behaviour {
        play_metadata: Some(DataMessage::on_metadata(Amf0Value::object([(
            "height",
            Amf0Value::Number(240.0),
        )]))),
        play_media: media,
        ..Behaviour::default()
    }
}

#[tokio::test]
async fn player_records_a_valid_flv_from_the_first_keyframe() {
    let server = TestServer::start(play_behaviour(), None).await;
    let u = url(&server, "rtmp", "live/show");
    let play = PlayOptions {
        buffer_ms: 1234,
        ..PlayOptions::default()
    };
    let mut player = Player::connect(&u, &quick(), &play).await.unwrap();
    let mut recorder = FlvRecorder::new();
    let mut file = Vec::new();
    let reason = loop {
        match player.next().await.unwrap() {
            PlayEvent::End(reason) => break reason,
            e => recorder.push(&e, &mut file).unwrap(),
        }
    };
    assert_eq!(reason, EndReason::UnpublishNotify);
    player.close().await.unwrap();
    settled(&server, 1).await;
    assert_eq!(server.connections()[0].buffer_ms, Some(1234));
    assert_eq!(server.connections()[0].played.as_deref(), Some("show"));

    let mut r = FlvReader::new();
    r.push(&file);
    let mut tags = Vec::new();
    while let Some(e) = r.poll() {
        if let FlvEvent::Tag(t) = e.unwrap() {
            tags.push(t);
        }
    }
    r.finish().unwrap();
    assert_eq!(tags[0].header.tag_type, TagType::Script);
    assert_eq!(tags[1].data.as_ref(), AVC_HEADER);
    assert_eq!(tags[2].data.as_ref(), AAC_HEADER);
    assert!(is_key(&tags[3].data));
    assert_eq!(frame_number(&tags[3].data), 10);
    assert_eq!(tags[3].header.timestamp, 400);
    // Frames 10..24 of video and audio: 30 tags after the three of the preamble.
    assert_eq!(tags.len(), 3 + 30);
    assert_eq!(recorder.progress().frames, 30);
}

#[tokio::test]
async fn connect_carries_rtmpdump_fields_and_conn_arguments() {
    let server = TestServer::start(Behaviour::default(), None).await;
    let u = url(&server, "rtmp", "app/inst/s");
    let options = ConnectOptions {
        flash_ver: Some("LNX 11,2,202,235".into()),
        swf_url: Some("http://example/player.swf".into()),
        page_url: Some("http://example/page".into()),
        connect_args: parse_conn_args(&["S:token", "O:1", "NN:n:2", "O:0", "B:1"]).unwrap(),
        advertise_reconnect: true,
        ..quick()
    };
    let p = Publisher::connect(&u, &options).await.unwrap();
    p.close().await.unwrap();
    settled(&server, 1).await;
    let c = &server.connections()[0];
    assert_eq!(c.app, "app/inst");
    assert_eq!(c.published.as_deref(), Some("s"));
    assert_eq!(c.flash_ver.as_deref(), Some("LNX 11,2,202,235"));
    assert!(c.supports_reconnect);
    let command = c.connect.clone().unwrap();
    let object = command.command_object();
    assert_eq!(
        object.get("swfUrl").and_then(Amf0Value::as_str),
        Some("http://example/player.swf")
    );
    assert_eq!(
        object.get("pageUrl").and_then(Amf0Value::as_str),
        Some("http://example/page")
    );
    assert_eq!(
        command.arguments(),
        &[
            Amf0Value::string("token"),
            Amf0Value::Object(vec![("n".into(), Amf0Value::Number(2.0))]),
            Amf0Value::Boolean(true),
        ]
    );
}

#[tokio::test]
async fn rtmps_with_a_ca_file_and_with_insecure() {
    let (acceptor, pem) = tls_acceptor();
    let server = TestServer::start(Behaviour::default(), Some(acceptor)).await;
    let dir = TempDir::new("tls");
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, pem).unwrap();
    for host in ["localhost", "127.0.0.1"] {
        let u = RtmpUrl::parse(&format!("rtmps://{host}:{}/live/secure", server.port())).unwrap();
        let options = ConnectOptions {
            tls: TlsOptions {
                ca_file: Some(ca.clone()),
                ..TlsOptions::default()
            },
            ..quick()
        };
        let p = Publisher::connect(&u, &options).await.unwrap();
        p.close().await.unwrap();
    }
    let u = url(&server, "rtmps", "live/secure");
    let insecure = ConnectOptions {
        tls: TlsOptions {
            insecure: true,
            ..TlsOptions::default()
        },
        ..quick()
    };
    let mut player = Player::connect(&u, &insecure, &PlayOptions::default())
        .await
        .unwrap();
    assert!(matches!(
        player.next().await.unwrap(),
        PlayEvent::Status(_) | PlayEvent::Data { .. }
    ));
    settled(&server, 3).await;
    assert_eq!(server.connections().len(), 3);
    assert!(server.connections()[0].published.is_some());
}

#[tokio::test]
async fn rtmps_refuses_an_unknown_certificate() {
    let (acceptor, _) = tls_acceptor();
    let server = TestServer::start(Behaviour::default(), Some(acceptor)).await;
    let (_, other_ca) = tls_acceptor();
    let dir = TempDir::new("tls-bad");
    let ca = dir.join("other.pem");
    std::fs::write(&ca, other_ca).unwrap();
    let u = url(&server, "rtmps", "live/x");
    let options = ConnectOptions {
        tls: TlsOptions {
            ca_file: Some(ca),
            ..TlsOptions::default()
        },
        ..quick()
    };
    let e = Publisher::connect(&u, &options).await.err().unwrap();
    assert!(matches!(e, ClientError::Tls { .. }), "{e}");
    assert!(e.to_string().contains("certificate"), "{e}");
    let empty = dir.join("empty.pem");
    std::fs::write(&empty, "not a certificate").unwrap();
    let options = ConnectOptions {
        tls: TlsOptions {
            ca_file: Some(empty),
            ..TlsOptions::default()
        },
        ..quick()
    };
    let e = Publisher::connect(&u, &options).await.err().unwrap();
    assert!(e.to_string().contains("holds no PEM certificate"), "{e}");
}

/// A SOCKS4a/SOCKS5 proxy for one connection at a time (no authentication); records the
/// targets asked for and relays to them.
async fn socks_proxy() -> (u16, Arc<std::sync::Mutex<Vec<(u8, String)>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let asked: Arc<std::sync::Mutex<Vec<(u8, String)>>> = Arc::default();
    let log = asked.clone();
    tokio::spawn(async move {
        while let Ok((mut c, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let version = c.read_u8().await.unwrap();
                let (host, port) = if version == 5 {
                    let n = c.read_u8().await.unwrap();
                    let mut methods = vec![0; n as usize];
                    c.read_exact(&mut methods).await.unwrap();
                    c.write_all(&[5, 0]).await.unwrap();
                    let mut head = [0u8; 4];
                    c.read_exact(&mut head).await.unwrap();
                    let host = match head[3] {
                        1 => {
                            let mut a = [0u8; 4];
                            c.read_exact(&mut a).await.unwrap();
                            std::net::Ipv4Addr::from(a).to_string()
                        }
                        3 => {
                            let n = c.read_u8().await.unwrap();
                            let mut name = vec![0; n as usize];
                            c.read_exact(&mut name).await.unwrap();
                            String::from_utf8(name).unwrap()
                        }
                        _ => panic!("unexpected address type"),
                    };
                    let port = c.read_u16().await.unwrap();
                    c.write_all(&[5, 0, 0, 1, 127, 0, 0, 1, 0, 0])
                        .await
                        .unwrap();
                    (host, port)
                } else {
                    assert_eq!(c.read_u8().await.unwrap(), 1, "CONNECT");
                    let port = c.read_u16().await.unwrap();
                    let mut ip = [0u8; 4];
                    c.read_exact(&mut ip).await.unwrap();
                    let mut strings = Vec::new();
                    for _ in 0..if ip[..3] == [0, 0, 0] { 2 } else { 1 } {
                        let mut s = Vec::new();
                        loop {
                            match c.read_u8().await.unwrap() {
                                0 => break,
                                b => s.push(b),
                            }
                        }
                        strings.push(String::from_utf8(s).unwrap());
                    }
                    c.write_all(&[0, 0x5a, 0, 0, 0, 0, 0, 0]).await.unwrap();
                    let host = strings
                        .get(1)
                        .cloned()
                        .unwrap_or_else(|| std::net::Ipv4Addr::from(ip).to_string());
                    (host, port)
                };
                log.lock()
                    .unwrap()
                    .push((version, format!("{host}:{port}")));
                let target = if host == "localhost" {
                    "127.0.0.1"
                } else {
                    &host
                };
                let mut upstream = tokio::net::TcpStream::connect((target, port))
                    .await
                    .unwrap();
                let _ = tokio::io::copy_bidirectional(&mut c, &mut upstream).await;
            });
        }
    });
    (port, asked)
}

#[tokio::test]
async fn publish_and_play_through_socks5_and_socks4a() {
    let server = TestServer::start(play_behaviour(), None).await;
    let (proxy_port, asked) = socks_proxy().await;
    let u = RtmpUrl::parse(&format!("rtmp://localhost:{}/live/via", server.port())).unwrap();
    for proxy in [
        format!("127.0.0.1:{proxy_port}"),
        format!("socks4a://127.0.0.1:{proxy_port}"),
    ] {
        let options = ConnectOptions {
            socks: Some(proxy.parse::<SocksProxy>().unwrap()),
            ..quick()
        };
        let p = Publisher::connect(&u, &options).await.unwrap();
        p.close().await.unwrap();
        let mut player = Player::connect(&u, &options, &PlayOptions::default())
            .await
            .unwrap();
        let mut media = 0;
        while let PlayEvent::Media { .. } | PlayEvent::Status(_) | PlayEvent::Data { .. } =
            player.next().await.unwrap()
        {
            media += 1;
        }
        assert!(media > 40);
    }
    let want = format!("localhost:{}", server.port());
    assert_eq!(
        *asked.lock().unwrap(),
        vec![
            (5, want.clone()),
            (5, want.clone()),
            (4, want.clone()),
            (4, want)
        ]
    );
}

#[tokio::test]
async fn connect_timeout_and_refused_port() {
    // Accepts TCP, never answers the handshake.
    let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = silent.local_addr().unwrap().port();
    let _keep = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((c, _)) = silent.accept().await {
            held.push(c);
        }
    });
    let u = RtmpUrl::parse(&format!("rtmp://127.0.0.1:{port}/live/x")).unwrap();
    let options = ConnectOptions {
        connect_timeout: Duration::from_millis(300),
        ..quick()
    };
    let e = Publisher::connect(&u, &options).await.err().unwrap();
    assert_eq!(
        e.to_string(),
        format!("127.0.0.1:{port}: RTMP handshake and connect timed out after 300ms")
    );
    let closed = support::free_port();
    let u = RtmpUrl::parse(&format!("rtmp://127.0.0.1:{closed}/live/x")).unwrap();
    let e = Publisher::connect(&u, &options).await.err().unwrap();
    assert!(matches!(e, ClientError::Connect { .. }), "{e}");
    assert!(
        e.to_string()
            .starts_with(&format!("cannot connect to 127.0.0.1:{closed}"))
    );
}

/// Real time (the server must be able to act before the file is all sent), reconnecting fast.
fn reconnecting() -> FlvPublishOptions {
    FlvPublishOptions {
        fast: false,
        looping: false,
        reconnect: Some(Backoff {
            initial: Duration::from_millis(20),
            max: Duration::from_millis(200),
            give_up_after: Some(Duration::from_secs(5)),
        }),
    }
}

/// After the preamble of a connection (metadata, both sequence headers), the first frame is a
/// video keyframe.
fn assert_resumes_at_keyframe(c: &support::rtmp_server::ConnectionLog) {
    assert_eq!(c.data.len(), 1, "metadata again");
    assert_eq!(c.media[0].2.as_ref(), AVC_HEADER);
    assert_eq!(c.media[1].2.as_ref(), AAC_HEADER);
    let (kind, _, first) = &c.media[2];
    assert_eq!(*kind, MediaKind::Video);
    assert!(is_key(first), "resumes at a keyframe, got {first:?}");
}

#[tokio::test]
async fn reconnect_after_a_lost_connection_resumes_at_the_next_keyframe() {
    let dir = TempDir::new("reconnect");
    let src = synthetic_flv_spaced(&dir, 40, 10);
    let behaviour = Behaviour {
        drop_after: Some(25),
        ..Behaviour::default()
    };
    let server = TestServer::start(behaviour, None).await;
    let u = url(&server, "rtmp", "live/flaky");
    let done = publish(src, &u, &quick(), &reconnecting()).await.unwrap();
    assert_eq!(done.reconnects, 1, "{done:?}");
    assert!(done.dropped > 0, "{done:?}");
    settled(&server, 2).await;
    let c = server.connections();
    assert_eq!(c.len(), 2);
    assert_resumes_at_keyframe(&c[1]);
    // Everything after the resumed keyframe arrived, up to the last frame.
    let last = c[1].media.last().unwrap();
    assert_eq!(frame_number(&last.2), 39);
    assert!(c[1].publish_stopped);
}

#[tokio::test]
async fn reconnect_request_moves_to_the_new_server_without_losing_frames() {
    let dir = TempDir::new("move");
    let src = synthetic_flv_spaced(&dir, 40, 10);
    let target = TestServer::start(Behaviour::default(), None).await;
    let behaviour = Behaviour {
        reconnect_request: Some((13, Some(format!("rtmp://127.0.0.1:{}/edge", target.port())))),
        ..Behaviour::default()
    };
    let origin = TestServer::start(behaviour, None).await;
    let u = url(&origin, "rtmp", "live/moving");
    let options = ConnectOptions {
        advertise_reconnect: true,
        ..quick()
    };
    let done = publish(src, &u, &options, &reconnecting()).await.unwrap();
    assert_eq!(done.reconnects, 1);
    assert_eq!(done.dropped, 0);
    settled(&origin, 1).await;
    settled(&target, 1).await;
    let old = &origin.connections()[0];
    assert!(old.supports_reconnect);
    assert!(old.publish_stopped, "the old stream was unpublished");
    let new = &target.connections()[0];
    assert_eq!(new.app, "edge");
    assert_eq!(new.published.as_deref(), Some("moving"));
    assert_resumes_at_keyframe(new);
    // No frame lost between the two servers.
    let video = |c: &support::rtmp_server::ConnectionLog| -> Vec<u32> {
        c.media
            .iter()
            .filter(|(k, _, p)| *k == MediaKind::Video && p[1] == 1)
            .map(|(_, _, p)| frame_number(p))
            .collect()
    };
    let mut all = video(old);
    all.extend(video(new));
    assert_eq!(all, (0..40).collect::<Vec<_>>());
}

#[tokio::test]
async fn ipv6_literal_urls_connect() {
    let Some(server) = TestServer::start_ipv6(Behaviour::default()).await else {
        return eprintln!("SKIPPED: no IPv6 loopback here");
    };
    let u = RtmpUrl::parse(&format!("rtmp://[::1]:{}/live/six", server.port())).unwrap();
    assert_eq!(u.tc_url, format!("rtmp://[::1]:{}/live", server.port()));
    let p = Publisher::connect(&u, &quick()).await.unwrap();
    p.close().await.unwrap();
    settled(&server, 1).await;
    let c = &server.connections()[0];
    assert_eq!(c.tc_url.as_deref(), Some(u.tc_url.as_str()));
    assert_eq!(c.published.as_deref(), Some("six"));
}
