//! What the end-to-end tests share: the built `rtmpkit` binary on a loopback port, real tools
//! (ffmpeg, ffprobe, rtmpdump), generated media, the framemd5 contiguity check, and a small
//! RTMP player/publisher on the protocol core's sessions for what no real tool can observe.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rtmpkit_proto::flv::{FlvEvent, FlvReader, TagType};
use rtmpkit_proto::rtmp::message::{DataMessage, PublishType};
use rtmpkit_proto::rtmp::session::{ClientConfig, ClientEvent, ClientSession, MediaKind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Path of a tool on PATH, or None (the test then skips with a message).
pub fn tool(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

/// Skips the calling test (returns early) when any of `tools` is missing.
#[macro_export]
macro_rules! require_tools {
    ($($t:expr),+) => {
        for t in [$($t),+] {
            if $crate::support::tool(t).is_none() {
                eprintln!("skipped: {t} is not installed (scripts/test installs it)");
                return;
            }
        }
    };
}

/// A fresh temporary directory, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "rtmpkit-{tag}-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The `rtmpkit serve` process, on a free loopback port, killed on drop.
pub struct ServerProcess {
    child: Child,
    pub addr: SocketAddr,
    log: Arc<Mutex<Vec<String>>>,
}

impl ServerProcess {
    pub fn start(extra_args: &[&str]) -> ServerProcess {
        Self::try_start(extra_args).expect("server starts")
    }

    pub fn try_start(extra_args: &[&str]) -> Result<ServerProcess, String> {
        Self::try_start_on("127.0.0.1:0", extra_args)
    }

    /// Starts on a given RTMP address (to restart a server on the same port).
    pub fn try_start_on(listen: &str, extra_args: &[&str]) -> Result<ServerProcess, String> {
        Self::spawn(
            Command::new(env!("CARGO_BIN_EXE_rtmpkit")),
            listen,
            extra_args,
        )
    }

    /// Starts with a soft limit of `n` open files (through `sh -c 'ulimit -S -n N; exec …'`).
    pub fn start_with_soft_open_file_limit(n: u32, extra_args: &[&str]) -> ServerProcess {
        let mut sh = Command::new("sh");
        sh.args(["-c", &format!("ulimit -S -n {n} && exec \"$0\" \"$@\"")])
            .arg(env!("CARGO_BIN_EXE_rtmpkit"));
        Self::spawn(sh, "127.0.0.1:0", extra_args).expect("server starts")
    }

    /// Runs `command` + `serve …` and waits for its listening banner.
    fn spawn(
        mut command: Command,
        listen: &str,
        extra_args: &[&str],
    ) -> Result<ServerProcess, String> {
        let mut child = command
            .arg("serve")
            .args(["--listen", listen, "--http-listen", "127.0.0.1:0"])
            .args(extra_args)
            .env("RTMPKIT_LOG", "info,rtmpkit::trace=info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run rtmpkit: {e}"))?;
        let stderr = child.stderr.take().ok_or("no stderr")?;
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let sink = log.clone();
        std::thread::spawn(move || {
            let tx = Some(tx);
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let (Some(rest), Some(tx)) =
                    (line.split("listening for RTMP on ").nth(1), tx.as_ref())
                {
                    let _ = tx.send(rest.trim().to_owned());
                }
                sink.lock().expect("log lock").push(line);
            }
        });
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(addr) => Ok(ServerProcess {
                child,
                addr: addr
                    .parse()
                    .map_err(|e| format!("bad address {addr}: {e}"))?,
                log,
            }),
            Err(_) => {
                let _ = child.kill();
                let status = child.wait().ok();
                std::thread::sleep(Duration::from_millis(100));
                Err(format!(
                    "server did not start ({status:?}): {}",
                    log.lock().expect("log lock").join("\n")
                ))
            }
        }
    }

    /// The HTTP address from the start-up banner.
    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.wait_for_log("listening for HTTP on ", Duration::from_secs(5));
        self.log().iter().find_map(|l| {
            l.split("listening for HTTP on ")
                .nth(1)?
                .trim()
                .parse()
                .ok()
        })
    }

    /// The RTMPS address from the start-up banner, when RTMPS is on.
    pub fn rtmps_addr(&self) -> Option<SocketAddr> {
        self.wait_for_log("listening for RTMPS on ", Duration::from_secs(5));
        self.log().iter().find_map(|l| {
            l.split("listening for RTMPS on ")
                .nth(1)?
                .trim()
                .parse()
                .ok()
        })
    }

    pub fn url(&self, stream: &str) -> String {
        format!("rtmp://{}/live/{stream}", self.addr)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The server's log so far.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().expect("log lock").clone()
    }

    /// Waits until a log line contains `needle`.
    pub fn wait_for_log(&self, needle: &str, timeout: Duration) -> bool {
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            if self.log().iter().any(|l| l.contains(needle)) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// Resident memory of the server process in KiB (Linux).
    pub fn rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    }

    /// Kills the process at once (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends SIGTERM and waits (bounded) for the exit status.
    pub fn terminate(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a generated test source holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Media {
    AudioVideo,
    AudioOnly,
    VideoOnly,
}

/// Generates an H.264/AAC FLV (lavfi testsrc + sine, 25 fps, one keyframe a second).
pub fn make_source(dir: &Path, media: Media, seconds: u32) -> PathBuf {
    let out = dir.join(format!("src-{media:?}-{seconds}.flv"));
    let t = seconds.to_string();
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-nostdin", "-hide_banner", "-loglevel", "error", "-y"]);
    if media != Media::AudioOnly {
        cmd.args(["-f", "lavfi", "-i", "testsrc=size=320x240:rate=25"]);
    }
    if media != Media::VideoOnly {
        cmd.args(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"]);
    }
    cmd.args(["-t", &t]);
    if media != Media::AudioOnly {
        cmd.args([
            "-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", "25", "-bf", "0",
        ]);
    }
    if media != Media::VideoOnly {
        cmd.args(["-c:a", "aac", "-b:a", "64k"]);
    }
    cmd.args(["-f", "flv"]).arg(&out);
    let status = cmd.status().expect("run ffmpeg");
    assert!(status.success(), "ffmpeg could not make the test source");
    out
}

/// Starts `ffmpeg -re -i SRC -c copy -f flv URL` in the background.
pub fn ffmpeg_publish(src: &Path, url: &str) -> Child {
    Command::new("ffmpeg")
        .args([
            "-nostdin",
            "-hide_banner",
            "-loglevel",
            "error",
            "-re",
            "-i",
        ])
        .arg(src)
        .args(["-c", "copy", "-f", "flv", url])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run ffmpeg publisher")
}

/// `ffmpeg -i URL -c copy -t SECONDS -f flv OUT`, bounded by `timeout`; returns success.
pub fn ffmpeg_play(url: &str, out: &Path, seconds: u32, timeout: Duration) -> bool {
    run_bounded(
        Command::new("ffmpeg")
            .args([
                "-nostdin",
                "-hide_banner",
                "-loglevel",
                "error",
                "-y",
                "-i",
                url,
            ])
            .args(["-c", "copy", "-t", &seconds.to_string(), "-f", "flv"])
            .arg(out),
        timeout,
    )
}

/// `rtmpdump -r URL -v -o OUT -B SECONDS` (live, stop after the given time), bounded.
pub fn rtmpdump_play(url: &str, out: &Path, seconds: u32, timeout: Duration) -> bool {
    run_bounded(
        Command::new("rtmpdump")
            .args(["-q", "-v", "-r", url, "-B", &seconds.to_string(), "-o"])
            .arg(out),
        timeout,
    )
}

/// Runs a command to completion or kills it at `timeout`; true when it exited successfully.
pub fn run_bounded(cmd: &mut Command, timeout: Duration) -> bool {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let end = Instant::now() + timeout;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return status.success();
        }
        if Instant::now() >= end {
            let _ = child.kill();
            let _ = child.wait();
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// One packet as `ffmpeg -c copy -f framemd5` lists it: (size, md5).
pub type Packet = (u64, String);

/// Packets per stream index (0, 1, …) of a media file, in order.
pub fn framemd5(path: &Path) -> BTreeMap<u32, Vec<Packet>> {
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-hide_banner", "-loglevel", "error", "-i"])
        .arg(path)
        .args(["-c", "copy", "-f", "framemd5", "-"])
        .output()
        .expect("run ffmpeg framemd5");
    let mut streams: BTreeMap<u32, Vec<Packet>> = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        if line.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        if f.len() < 6 {
            continue;
        }
        if let (Ok(index), Ok(size)) = (f[0].parse(), f[4].parse()) {
            streams
                .entry(index)
                .or_default()
                .push((size, f[5].to_owned()));
        }
    }
    streams
}

/// The lossless-relay check: for each stream of `got`, its packets are a contiguous run of the
/// same stream of `source`, and at least `min_packets` of them arrived. Returns a description
/// of the first problem.
pub fn check_contiguous(
    source: &BTreeMap<u32, Vec<Packet>>,
    got: &BTreeMap<u32, Vec<Packet>>,
    min_packets: usize,
) -> Result<(), String> {
    if got.is_empty() {
        return Err("the player received no packets".to_owned());
    }
    for (index, packets) in got {
        let src = source
            .get(index)
            .ok_or_else(|| format!("stream {index} is not in the source"))?;
        if packets.len() < min_packets {
            return Err(format!(
                "stream {index}: only {} packets arrived",
                packets.len()
            ));
        }
        let found = src
            .iter()
            .enumerate()
            .filter(|(_, p)| **p == packets[0])
            .any(|(start, _)| src.get(start..start + packets.len()) == Some(&packets[..]));
        if !found {
            return Err(format!(
                "stream {index}: the {} received packets are not a contiguous run of the source's {}",
                packets.len(),
                src.len()
            ));
        }
    }
    Ok(())
}

/// A tag of an FLV file: (kind, timestamp, payload).
pub type Tag = (MediaKindOrData, u32, Bytes);

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MediaKindOrData {
    Media(MediaKind),
    Data,
}

/// Every tag of an FLV file.
pub fn read_flv(path: &Path) -> Vec<Tag> {
    let bytes = std::fs::read(path).expect("read flv");
    let mut reader = FlvReader::new();
    reader.push(&bytes);
    let mut tags = Vec::new();
    while let Some(event) = reader.poll() {
        if let Ok(FlvEvent::Tag(tag)) = event {
            let kind = match tag.header.tag_type {
                TagType::Audio => MediaKindOrData::Media(MediaKind::Audio),
                TagType::Video => MediaKindOrData::Media(MediaKind::Video),
                TagType::Script => MediaKindOrData::Data,
                _ => continue,
            };
            tags.push((kind, tag.header.timestamp, tag.data.clone()));
        }
    }
    tags
}

/// A small RTMP client on the protocol core's client session, for what real tools can't show
/// (status codes, timestamps, stalling on purpose).
pub struct TestClient {
    pub session: ClientSession,
    pub socket: TcpStream,
    pub events: Vec<ClientEvent>,
    buf: Vec<u8>,
}

impl TestClient {
    pub async fn connect(addr: SocketAddr, player: bool) -> std::io::Result<TestClient> {
        let tc_url = format!("rtmp://{addr}/live");
        let config = if player {
            ClientConfig::player("live", &tc_url)
        } else {
            ClientConfig::publisher("live", &tc_url)
        };
        let session = ClientSession::new(config, 0, &mut StdRng::from_os_rng());
        let socket = TcpStream::connect(addr).await?;
        socket.set_nodelay(true)?;
        let mut client = TestClient {
            session,
            socket,
            events: Vec::new(),
            buf: vec![0; 64 * 1024],
        };
        client
            .until(Duration::from_secs(5), |e| {
                matches!(e, ClientEvent::Connected { .. })
            })
            .await
            .ok_or_else(|| std::io::Error::other("connect did not succeed"))?;
        Ok(client)
    }

    pub async fn flush(&mut self) -> std::io::Result<()> {
        while let Some(b) = self.session.poll_transmit() {
            self.socket.write_all(&b).await?;
        }
        Ok(())
    }

    /// Reads until an event matching `pred` arrives (returned) or `timeout`; every event is
    /// also kept in `events`.
    pub async fn until(
        &mut self,
        timeout: Duration,
        mut pred: impl FnMut(&ClientEvent) -> bool,
    ) -> Option<ClientEvent> {
        let end = tokio::time::Instant::now() + timeout;
        loop {
            if self.flush().await.is_err() {
                return None;
            }
            while let Some(e) = self.session.poll_event() {
                self.events.push(e.clone());
                if pred(&e) {
                    return Some(e);
                }
            }
            let read = tokio::time::timeout_at(end, self.socket.read(&mut self.buf)).await;
            match read {
                Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return None,
                Ok(Ok(n)) => {
                    if self.session.feed(&self.buf[..n]).is_err() {
                        return None;
                    }
                }
            }
        }
    }

    pub async fn create_stream(&mut self) -> Option<u32> {
        self.session.create_stream().ok()?;
        match self
            .until(Duration::from_secs(5), |e| {
                matches!(e, ClientEvent::StreamCreated { .. })
            })
            .await?
        {
            ClientEvent::StreamCreated { stream_id, .. } => Some(stream_id),
            _ => None,
        }
    }

    /// createStream + play; returns the stream id.
    pub async fn play(&mut self, name: &str) -> Option<u32> {
        let id = self.create_stream().await?;
        self.session.play(id, name, -2000.0, None, None).ok()?;
        self.flush().await.ok()?;
        Some(id)
    }

    /// releaseStream, FCPublish, createStream, publish; returns the status code answered.
    pub async fn publish(&mut self, name: &str) -> Option<(u32, String)> {
        self.session.release_stream(name).ok()?;
        self.session.fc_publish(name).ok()?;
        let id = self.create_stream().await?;
        self.session.publish(id, name, &PublishType::Live).ok()?;
        match self
            .until(Duration::from_secs(5), |e| {
                matches!(e, ClientEvent::Status(_))
            })
            .await?
        {
            ClientEvent::Status(s) => Some((id, s.code)),
            _ => None,
        }
    }

    /// Sends the tags of an FLV file on a publishing stream, `paced` at real time or not,
    /// with timestamps shifted by `offset` ms.
    pub async fn send_tags(
        &mut self,
        stream_id: u32,
        tags: &[Tag],
        offset: u32,
        paced: bool,
    ) -> std::io::Result<()> {
        let start = tokio::time::Instant::now();
        let first = tags.first().map_or(0, |t| t.1);
        for (kind, ts, payload) in tags {
            if paced {
                let due = start + Duration::from_millis(u64::from(ts.saturating_sub(first)));
                tokio::time::sleep_until(due).await;
            }
            let ts = ts.wrapping_add(offset);
            let sent = match kind {
                MediaKindOrData::Media(k) => self.session.send_media(stream_id, *k, ts, payload),
                MediaKindOrData::Data => {
                    let data = DataMessage::decode(payload)
                        .map_err(|e| std::io::Error::other(e.to_string()))?;
                    self.session.send_data(stream_id, ts, &data)
                }
            };
            sent.map_err(|e| std::io::Error::other(e.to_string()))?;
            self.flush().await?;
            // Answer acknowledgements and pings as we go.
            while let Ok(Ok(n)) =
                tokio::time::timeout(Duration::ZERO, self.socket.read(&mut self.buf)).await
            {
                if n == 0 {
                    return Err(std::io::ErrorKind::UnexpectedEof.into());
                }
                self.session
                    .feed(&self.buf[..n])
                    .map_err(|e| std::io::Error::other(e.to_string()))?;
                while let Some(e) = self.session.poll_event() {
                    self.events.push(e);
                }
            }
        }
        Ok(())
    }

    /// Media received so far: (kind, timestamp, payload length).
    pub fn media(&self) -> Vec<(MediaKind, u32, usize)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                ClientEvent::Media {
                    kind,
                    timestamp,
                    payload,
                    ..
                } => Some((*kind, *timestamp, payload.len())),
                _ => None,
            })
            .collect()
    }

    pub fn status_codes(&self) -> Vec<String> {
        self.events
            .iter()
            .filter_map(|e| match e {
                ClientEvent::Status(s) => Some(s.code.clone()),
                _ => None,
            })
            .collect()
    }
}

// Helpers added for the limits tests (serve_limits.rs).

/// Writes a configuration file `name` with `text` into `dir`; returns its path.
pub fn write_config(dir: &TempDir, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write config");
    path
}

/// A generated source kept in the target's temporary directory across runs (made once with
/// [`make_source`]; a half-written file is never seen, it is renamed into place).
pub fn cached_source(media: Media, seconds: u32) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("rtmpkit-sources");
    let path = dir.join(format!("src-{media:?}-{seconds}.flv"));
    if path.is_file() {
        return path;
    }
    std::fs::create_dir_all(&dir).expect("create source cache dir");
    let scratch = TempDir::new("source");
    let made = make_source(scratch.path(), media, seconds);
    // Another test may have made it meanwhile; either file is the same source.
    if std::fs::rename(&made, &path).is_err() && !path.is_file() {
        std::fs::copy(&made, &path).expect("store source");
    }
    path
}

impl TestClient {
    /// [`TestClient::connect`] with a given session configuration and, optionally, a small
    /// socket receive buffer (so that a player that stops reading fills it quickly).
    pub async fn connect_with(
        addr: SocketAddr,
        config: ClientConfig,
        recv_buffer: Option<u32>,
    ) -> std::io::Result<TestClient> {
        let session = ClientSession::new(config, 0, &mut StdRng::from_os_rng());
        let socket = if addr.is_ipv4() {
            tokio::net::TcpSocket::new_v4()?
        } else {
            tokio::net::TcpSocket::new_v6()?
        };
        if let Some(size) = recv_buffer {
            socket.set_recv_buffer_size(size)?;
        }
        let socket = socket.connect(addr).await?;
        socket.set_nodelay(true)?;
        let mut client = TestClient {
            session,
            socket,
            events: Vec::new(),
            buf: vec![0; 64 * 1024],
        };
        client
            .until(Duration::from_secs(5), |e| {
                matches!(e, ClientEvent::Connected { .. })
            })
            .await
            .ok_or_else(|| std::io::Error::other("connect did not succeed"))?;
        Ok(client)
    }
}
