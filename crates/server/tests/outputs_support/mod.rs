//! Shared by the outputs tests: source files made by ffmpeg, a paced publisher, ffprobe and
//! framemd5 helpers, a minimal HTTP client, and an independent MPEG-TS check.
#![allow(dead_code)]

pub mod ts_check;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use rtmpkit_proto::flv::{FlvEvent, FlvReadIter, TagType};
use rtmpkit_server::config::ServerConfig;
use rtmpkit_server::hub::{Frame, Hub, HubConfig, PublishOptions, StreamKey};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::process::Command;
use tokio::sync::watch;

/// Whether ffmpeg and ffprobe can be run; prints why a test is skipped when not.
pub fn have_ffmpeg(test: &str) -> bool {
    static OK: OnceLock<bool> = OnceLock::new();
    let ok = *OK.get_or_init(|| {
        ["ffmpeg", "ffprobe"].iter().all(|t| {
            std::process::Command::new(t)
                .arg("-version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
    });
    if !ok {
        eprintln!("skipping {test}: ffmpeg/ffprobe not found");
    }
    ok
}

/// A fresh directory under the system temp dir.
pub fn temp_dir(name: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "rtmpkit-outputs-{}-{}-{name}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// What a source file carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// H.264 320x240 25 fps, GOP 25, plus AAC; 6 s.
    AudioVideo,
    AudioOnly,
    VideoOnly,
    /// H.264 and MP3 (44.1 kHz) in FLV; 4 s.
    Mp3,
    /// Raw HEVC (Annex B) from x265, 320x240, IDR every 25 frames, no B-frames; 2 s.
    HevcAnnexB,
}

/// The source file, made by ffmpeg on first use and kept in the temp dir for later runs
/// (written under a temporary name and renamed, so concurrent test binaries agree).
pub fn source(kind: Source) -> PathBuf {
    static LOCK: Mutex<()> = Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let dir = std::env::temp_dir().join("rtmpkit-outputs-sources-v1");
    std::fs::create_dir_all(&dir).unwrap();
    let make = |name: &str, args: &[&str]| {
        let path = dir.join(name);
        if !path.exists() {
            let tmp = dir.join(format!("{}.{name}", std::process::id()));
            let mut all = vec!["ffmpeg", "-v", "error", "-y"];
            all.extend_from_slice(args);
            all.push(tmp.to_str().unwrap());
            run_sync(&all);
            std::fs::rename(&tmp, &path).unwrap();
        }
        path
    };
    let testsrc = ["-f", "lavfi", "-i", "testsrc=size=320x240:rate=25"];
    let av = make(
        "src.flv",
        &[
            &testsrc[..],
            &[
                "-f", "lavfi", "-i", "sine", "-t", "6", "-c:v", "libx264", "-g", "25", "-c:a",
                "aac", "-f", "flv",
            ],
        ]
        .concat(),
    );
    let av_path = av.to_str().unwrap().to_string();
    match kind {
        Source::AudioVideo => av,
        Source::AudioOnly => make(
            "audio.flv",
            &["-i", &av_path, "-vn", "-c", "copy", "-f", "flv"],
        ),
        Source::VideoOnly => make(
            "video.flv",
            &["-i", &av_path, "-an", "-c", "copy", "-f", "flv"],
        ),
        Source::Mp3 => make(
            "mp3.flv",
            &[
                &testsrc[..],
                &[
                    "-f",
                    "lavfi",
                    "-i",
                    "sine",
                    "-t",
                    "4",
                    "-c:v",
                    "libx264",
                    "-g",
                    "25",
                    "-c:a",
                    "libmp3lame",
                    "-ar",
                    "44100",
                    "-f",
                    "flv",
                ],
            ]
            .concat(),
        ),
        Source::HevcAnnexB => make(
            "x265.hevc",
            &[
                &testsrc[..],
                &[
                    "-t",
                    "2",
                    "-c:v",
                    "libx265",
                    "-x265-params",
                    "keyint=25:min-keyint=25:bframes=0:open-gop=0:log-level=error",
                    "-f",
                    "hevc",
                ],
            ]
            .concat(),
        ),
    }
}

fn run_sync(args: &[&str]) {
    let out = std::process::Command::new(args[0])
        .args(&args[1..])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The frames of an FLV file, in order, as (kind, timestamp, payload).
pub fn read_flv(path: &Path) -> Vec<Frame> {
    read_flv_tags(&std::fs::read(path).unwrap())
        .into_iter()
        .map(|(t, ts, data)| match t {
            TagType::Audio => Frame::audio(ts, data),
            TagType::Video => Frame::video(ts, data),
            _ => Frame::data(ts, data),
        })
        .collect()
}

/// The tags of FLV bytes; panics on anything but a clean file.
pub fn read_flv_tags(bytes: &[u8]) -> Vec<(TagType, u32, Bytes)> {
    let mut tags = Vec::new();
    for ev in FlvReadIter::new(bytes) {
        match ev.expect("valid FLV") {
            FlvEvent::Header(_) => {}
            FlvEvent::Tag(t) => tags.push((t.header.tag_type, t.header.timestamp, t.data)),
        }
    }
    tags
}

/// A server configuration for tests: loopback, short waits, lag bounds wide enough that fast
/// publishing never makes a consumer skip.
pub fn test_config() -> ServerConfig {
    let mut c = ServerConfig {
        play_wait_timeout: Duration::from_secs(5),
        ..ServerConfig::default()
    };
    c.player_queue.max_lag = Duration::from_secs(600);
    c.player_queue.max_bytes = 256 << 20;
    c.http_listen = "127.0.0.1:0".parse().unwrap();
    c.hls.playlist_segments = 20;
    c.hls.unpublish_wait = Duration::from_millis(800);
    c
}

pub fn hub_for(config: &ServerConfig) -> Hub {
    Hub::new(HubConfig::from(config))
}

/// Publishes `frames` on `key`: after waiting until `subscribers` consumers are on the stream,
/// pushing at `speed` × real time (`None`: as fast as possible). The publisher is dropped
/// (unpublishing) at the end unless it is returned.
pub async fn publish(
    hub: &Hub,
    key: &StreamKey,
    frames: &[Frame],
    subscribers: usize,
    speed: Option<f64>,
) {
    let mut publisher = hub.publish(key.clone(), PublishOptions::default()).unwrap();
    wait_subscribers(hub, key, subscribers).await;
    let start = tokio::time::Instant::now();
    let first = frames.first().map_or(0, |f| f.timestamp());
    for f in frames {
        if let Some(speed) = speed {
            let at = Duration::from_secs_f64(f64::from(f.timestamp() - first) / 1000.0 / speed);
            tokio::time::sleep_until(start + at).await;
        }
        publisher
            .push(Frame::new(f.kind(), f.timestamp(), f.payload().clone()))
            .unwrap();
    }
}

pub async fn wait_subscribers(hub: &Hub, key: &StreamKey, n: usize) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while hub.stream_stats(key).map_or(0, |s| s.subscribers) < n {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{n} subscribers never came to {key}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The HTTP listener on an ephemeral loopback port.
pub struct HttpServer {
    pub addr: SocketAddr,
    pub stop: watch::Sender<bool>,
    pub task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl HttpServer {
    pub async fn start(hub: &Hub, config: Arc<ServerConfig>) -> HttpServer {
        let listener = tokio::net::TcpListener::bind(config.http_listen)
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, rx) = watch::channel(false);
        let task = tokio::spawn(rtmpkit_server::outputs::http::serve(
            listener,
            hub.clone(),
            config,
            rx,
        ));
        HttpServer { addr, stop, task }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Stops the server; it must return promptly.
    pub async fn shutdown(self) {
        self.stop.send(true).unwrap();
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("HTTP server stops")
            .unwrap()
            .unwrap();
    }
}

/// A response read to its end.
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    /// Header names lowercased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// `method path` over HTTP/1.1 with `Connection: close`; the body de-chunked.
pub async fn http(addr: SocketAddr, method: &str, path: &str) -> HttpResponse {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nOrigin: http://example.com\r\nConnection: close\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), s.read_to_end(&mut raw))
        .await
        .expect("response within 30 s")
        .unwrap();
    parse_response(&raw)
}

fn parse_response(raw: &[u8]) -> HttpResponse {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("header end");
    let head = std::str::from_utf8(&raw[..end]).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = raw[end + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"));
    if chunked {
        let mut out = Vec::new();
        let mut rest = &body[..];
        loop {
            let line_end = rest.windows(2).position(|w| w == b"\r\n").unwrap();
            let size =
                usize::from_str_radix(std::str::from_utf8(&rest[..line_end]).unwrap().trim(), 16)
                    .unwrap();
            rest = &rest[line_end + 2..];
            if size == 0 {
                break;
            }
            out.extend_from_slice(&rest[..size]);
            rest = &rest[size + 2..];
        }
        body = out;
    }
    HttpResponse {
        status,
        headers,
        body,
    }
}

/// Runs a command with a time limit; returns stdout, panics (with stderr) on failure.
pub async fn run(args: &[&str], limit: Duration) -> String {
    let child = Command::new(args[0])
        .args(&args[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let out = tokio::time::timeout(limit, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("{args:?} took over {limit:?}"))
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// What ffprobe says about a file or URL.
#[derive(Debug, Default)]
pub struct Probe {
    /// (codec_name, width, height) per stream, in order.
    pub streams: Vec<(String, u32, u32)>,
    /// Seconds, when known.
    pub duration: Option<f64>,
}

impl Probe {
    pub fn codecs(&self) -> Vec<&str> {
        self.streams.iter().map(|s| s.0.as_str()).collect()
    }

    pub fn video_size(&self) -> Option<(u32, u32)> {
        self.streams.iter().find(|s| s.1 > 0).map(|s| (s.1, s.2))
    }
}

pub async fn ffprobe(input: &str, extra: &[&str]) -> Probe {
    let mut args = vec!["ffprobe", "-v", "error"];
    args.extend_from_slice(extra);
    args.extend_from_slice(&[
        "-show_entries",
        "stream=codec_name,width,height:format=duration",
        "-of",
        "flat",
        input,
    ]);
    let out = run(&args, Duration::from_secs(30)).await;
    let mut probe = Probe::default();
    for line in out.lines() {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim_matches('"');
        if let Some(d) = key.strip_prefix("format.duration") {
            debug_assert!(d.is_empty());
            probe.duration = value.parse().ok();
            continue;
        }
        // Top-level streams only (programs list them again).
        let Some(rest) = key.strip_prefix("streams.stream.") else {
            continue;
        };
        let Some((index, field)) = rest.split_once('.') else {
            continue;
        };
        let index: usize = index.parse().unwrap();
        if probe.streams.len() <= index {
            probe.streams.resize(index + 1, (String::new(), 0, 0));
        }
        let s = &mut probe.streams[index];
        match field {
            "codec_name" => s.0 = value.to_string(),
            "width" => s.1 = value.parse().unwrap_or(0),
            "height" => s.2 = value.parse().unwrap_or(0),
            _ => {}
        }
    }
    probe
}

/// Seconds from the first packet's PTS to the end of the last one, over all streams (not the
/// container's duration field, which a source file's metadata may carry over).
pub async fn media_span(input: &str) -> f64 {
    let out = run(
        &[
            "ffprobe",
            "-v",
            "error",
            "-show_entries",
            "packet=pts_time,duration_time",
            "-of",
            "csv=p=0",
            input,
        ],
        Duration::from_secs(30),
    )
    .await;
    let (mut first, mut last) = (f64::MAX, f64::MIN);
    for line in out.lines() {
        let mut f = line.split(',').map(|v| v.trim().parse::<f64>().ok());
        let (Some(Some(pts)), dur) = (f.next(), f.next().flatten()) else {
            continue;
        };
        first = first.min(pts);
        last = last.max(pts + dur.unwrap_or(0.0));
    }
    assert!(last >= first, "{input}: no packets");
    last - first
}

/// MD5 of each decoded video frame (`ffmpeg -map 0:v -f framemd5`).
pub async fn video_hashes(input: &str, extra: &[&str]) -> Vec<String> {
    let mut args = vec!["ffmpeg", "-v", "error", "-nostdin"];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["-i", input, "-map", "0:v", "-f", "framemd5", "-"]);
    let out = run(&args, Duration::from_secs(60)).await;
    out.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit(',').next())
        .map(|h| h.trim().to_string())
        .collect()
}

/// Asserts that `out` is a contiguous run of `src` of at least `min` frames; returns where it
/// starts in `src`.
pub fn assert_contiguous(src: &[String], out: &[String], min: usize, what: &str) -> usize {
    assert!(
        out.len() >= min,
        "{what}: {} frames decoded, {min} expected at least",
        out.len()
    );
    let start = src
        .iter()
        .position(|h| *h == out[0])
        .unwrap_or_else(|| panic!("{what}: first frame not in the source"));
    assert!(
        src.len() >= start + out.len() && src[start..start + out.len()] == *out,
        "{what}: frames are not a contiguous run of the source"
    );
    start
}
