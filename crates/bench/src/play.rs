//! `rtmpkit bench play`: many players in one process, one small task each.
//!
//! A run has three phases. **Ramp**: every player connects (at most
//! [`PlayConfig::connect_concurrency`] handshakes at a time) and asks to play; time to first
//! frame is measured from each player's connection attempt. **Warm-up**: the GOP-cache bursts
//! settle. **Window**: bitrate, latency, skips and the server's CPU are measured; at its end
//! every player reports how far behind the live edge it is, and disconnects.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rtmpkit_client::RtmpUrl;
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, watch};
use tokio::time::Instant;

use crate::BenchError;
use crate::http_flv::{self, HttpUrl};
use crate::procstat;
use crate::report::{PlayReport, PlayerOutcome, RunFacts, ServerUsage};
use crate::rtmp_player;
use crate::tally::Tally;

/// Connections one source address carries before the next one is used (the ephemeral port
/// range holds about 28 000).
pub const PLAYERS_PER_SOURCE: usize = 20_000;

/// What to play.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlayTarget {
    Rtmp(RtmpUrl),
    HttpFlv(HttpUrl),
}

impl PlayTarget {
    /// An `rtmp://`, `http://` (HTTP-FLV) or `ws://` (WebSocket-FLV) URL.
    pub fn parse(url: &str) -> Result<PlayTarget, BenchError> {
        if url.starts_with("http://") || url.starts_with("ws://") {
            return HttpUrl::parse(url).map(PlayTarget::HttpFlv).ok_or_else(|| {
                BenchError::Usage(format!(
                    "{url}: not an http:// or ws://host[:port]/app/stream.flv URL"
                ))
            });
        }
        let rtmp = RtmpUrl::parse(url).map_err(|e| BenchError::Usage(e.to_string()))?;
        if rtmp.scheme != rtmpkit_client::Scheme::Rtmp {
            return Err(BenchError::Usage(format!(
                "{url}: the load generator speaks plain rtmp://, http:// and ws:// only"
            )));
        }
        Ok(PlayTarget::Rtmp(rtmp))
    }

    fn host_port(&self) -> (&str, u16) {
        match self {
            PlayTarget::Rtmp(u) => (&u.host, u.port),
            PlayTarget::HttpFlv(u) => (&u.host, u.port),
        }
    }

    fn protocol(&self) -> &'static str {
        match self {
            PlayTarget::Rtmp(_) => "rtmp",
            PlayTarget::HttpFlv(u) if u.websocket => "ws-flv",
            PlayTarget::HttpFlv(_) => "http-flv",
        }
    }
}

/// How a play run goes.
#[derive(Debug, Clone)]
pub struct PlayConfig {
    pub url: String,
    pub target: PlayTarget,
    pub players: usize,
    /// Players are spread over this many streams: `NAME-0` … `NAME-(K-1)` when more than one
    /// (as `rtmpkit bench publish --publishers K` names them).
    pub streams: usize,
    pub warmup: Duration,
    pub window: Duration,
    /// For each player's connect, handshake and play request.
    pub connect_timeout: Duration,
    /// Players connecting at once during the ramp. Default 100: below the listen backlog of
    /// 128 that many servers use (tokio's default), past which SYNs are dropped and retried a
    /// second later, which would measure the backlog rather than time to first frame.
    pub connect_concurrency: usize,
    /// Source addresses (127.0.0.1, .2, …) to spread connections over; `None`: one per
    /// [`PLAYERS_PER_SOURCE`] players when the target is IPv4 loopback, else the system's.
    pub source_addresses: Option<usize>,
    /// A player further than this behind the live edge at the end did not keep up.
    pub behind_threshold: Duration,
    /// Each player's read buffer.
    pub read_buffer: usize,
    /// The server process, to report its CPU per GB and memory per player.
    pub server_pid: Option<u32>,
    /// The core the server is pinned to alone, to report its busy time per GB.
    pub server_core: Option<usize>,
}

impl PlayConfig {
    /// Defaults for `players` players of `url`.
    pub fn new(url: &str, players: usize) -> Result<PlayConfig, BenchError> {
        Ok(PlayConfig {
            url: url.to_owned(),
            target: PlayTarget::parse(url)?,
            players,
            streams: 1,
            warmup: Duration::from_secs(2),
            window: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(10),
            connect_concurrency: 100,
            source_addresses: None,
            behind_threshold: Duration::from_secs(1),
            read_buffer: 16 * 1024,
            server_pid: None,
            server_core: None,
        })
    }
}

/// Where the run is; players watch it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Ramp,
    Window,
    Done,
}

/// The run's monotonic clock.
#[derive(Debug, Clone, Copy)]
pub struct RunClock {
    epoch: Instant,
}

impl RunClock {
    pub fn now_us(&self) -> u64 {
        self.epoch.elapsed().as_micros() as u64
    }
}

/// Microseconds since the Unix epoch (what `rtmpkit bench publish` embeds).
pub fn wall_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

/// What every player shares.
#[derive(Debug)]
pub(crate) struct PlayerCtx {
    pub clock: RunClock,
    pub target: SocketAddr,
    pub connect_timeout: Duration,
    pub read_buffer: usize,
    pub phase: watch::Receiver<Phase>,
}

/// A player's place in the ramp: its source address, and the permit and signal it gives back
/// once it plays or has failed.
pub(crate) struct PlayerSlot {
    pub source: Option<IpAddr>,
    permit: Option<OwnedSemaphorePermit>,
    ready: Option<mpsc::UnboundedSender<()>>,
}

impl PlayerSlot {
    /// The player is playing (or gave up): let the next one connect.
    pub fn ready(&mut self) {
        self.permit = None;
        if let Some(tx) = self.ready.take() {
            let _ = tx.send(());
        }
    }
}

/// Which part of a player's life an error ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    Setup,
    Playing,
}

/// Applies a phase change to a player's tally; true when the player should stop.
pub(crate) fn on_phase(phase: Phase, tally: &mut Tally) -> bool {
    match phase {
        Phase::Ramp => false,
        Phase::Window => {
            tally.open_window();
            false
        }
        Phase::Done => {
            tally.close_window();
            true
        }
    }
}

/// A player's outcome from how its run ended.
pub(crate) fn outcome(tally: Tally, result: Result<(), (Stage, String)>) -> PlayerOutcome {
    match result {
        Ok(()) => PlayerOutcome {
            tally,
            failure: None,
            dropped: None,
        },
        Err((Stage::Setup, why)) => PlayerOutcome {
            tally,
            failure: Some(why),
            dropped: None,
        },
        Err((Stage::Playing, why)) => PlayerOutcome {
            tally,
            failure: None,
            dropped: Some(why),
        },
    }
}

/// Connects to `target`, from `source` if given (bound before connecting).
pub(crate) async fn connect_tcp(
    target: SocketAddr,
    source: Option<IpAddr>,
) -> std::io::Result<TcpStream> {
    let socket = if target.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    if let Some(ip) = source {
        socket.bind(SocketAddr::new(ip, 0))?;
    }
    let stream = socket.connect(target).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// The stream name for player `index` of a run over `streams` streams: `NAME-(index % K)`,
/// keeping any `?query` at the end.
pub fn stream_name(name: &str, index: usize, streams: usize) -> String {
    if streams <= 1 {
        return name.to_owned();
    }
    let n = index % streams;
    match name.split_once('?') {
        Some((base, query)) => format!("{base}-{n}?{query}"),
        None => format!("{name}-{n}"),
    }
}

/// Source addresses for `players` connections to `target`.
fn source_addresses(config: &PlayConfig, target: SocketAddr) -> Vec<IpAddr> {
    let loopback_v4 = matches!(target.ip(), IpAddr::V4(ip) if ip.is_loopback());
    let count = match config.source_addresses {
        Some(n) => n.clamp(1, 254),
        None if loopback_v4 => config.players.div_ceil(PLAYERS_PER_SOURCE).clamp(1, 254),
        None => 1,
    };
    if count <= 1 || !loopback_v4 {
        return Vec::new();
    }
    (1..=count as u8)
        .map(|i| IpAddr::V4(Ipv4Addr::new(127, 0, 0, i)))
        .collect()
}

/// Runs the players and reports.
pub async fn run_play(config: PlayConfig) -> Result<PlayReport, BenchError> {
    if config.players == 0 {
        return Err(BenchError::Usage("--players must be at least 1".into()));
    }
    if config.players > 1000 {
        let limit = procstat::raise_open_files_limit().unwrap_or(0);
        if limit < config.players as u64 + 64 {
            tracing::warn!(
                limit,
                "the open-file limit is below the number of players; raise it with ulimit -n"
            );
        }
    }
    let (host, port) = config.target.host_port();
    let target = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| BenchError::Usage(format!("{host}:{port}: {e}")))?
        .next()
        .ok_or_else(|| BenchError::Usage(format!("{host}:{port}: no address")))?;
    let sources = source_addresses(&config, target);
    let clock = RunClock {
        epoch: Instant::now(),
    };
    let server_before = match config.server_pid {
        Some(pid) => Some(procstat::sample(pid).map_err(|e| BenchError::Server(pid, e))?),
        None => None,
    };
    if let Some(core) = config.server_core {
        procstat::core_times(core).map_err(|e| BenchError::ServerCore(core, e))?;
    }
    let (phase_tx, phase_rx) = watch::channel(Phase::Ramp);
    let ctx = Arc::new(PlayerCtx {
        clock,
        target,
        connect_timeout: config.connect_timeout,
        read_buffer: config.read_buffer.max(1024),
        phase: phase_rx,
    });
    let permits = Arc::new(Semaphore::new(config.connect_concurrency.max(1)));
    let (ready_tx, mut ready_rx) = mpsc::unbounded_channel();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..config.players {
        let ctx = ctx.clone();
        let permits = permits.clone();
        let ready = ready_tx.clone();
        let source = (!sources.is_empty()).then(|| sources[i % sources.len()]);
        let target = config.target.clone();
        let streams = config.streams;
        tasks.spawn(async move {
            let permit = permits.acquire_owned().await.ok();
            let slot = PlayerSlot {
                source,
                permit,
                ready: Some(ready),
            };
            match &target {
                PlayTarget::Rtmp(url) => {
                    let name = stream_name(&url.stream, i, streams);
                    rtmp_player::run_player(&ctx, slot, url, name).await
                }
                PlayTarget::HttpFlv(url) => {
                    let path = url.path_for(i % streams.max(1), streams);
                    http_flv::run_player(&ctx, slot, url, path).await
                }
            }
        });
    }
    drop(ready_tx);
    let mut ready = 0;
    while ready < config.players && ready_rx.recv().await.is_some() {
        ready += 1;
    }
    let ramp_s = clock.now_us() as f64 / 1e6;
    tracing::info!(players = config.players, ramp_s, "ramp done; warming up");
    tokio::time::sleep(config.warmup).await;
    let own = std::process::id();
    let bench_start = procstat::sample(own).ok();
    let server_start = match config.server_pid {
        Some(pid) => procstat::sample(pid).ok(),
        None => None,
    };
    let core_start = match config.server_core {
        Some(core) => procstat::core_times(core).ok(),
        None => None,
    };
    let _ = phase_tx.send(Phase::Window);
    let window_open = clock.now_us();
    tokio::time::sleep(config.window).await;
    let server_end = match config.server_pid {
        Some(pid) => procstat::sample(pid).ok(),
        None => None,
    };
    let core_end = config
        .server_core
        .and_then(|core| procstat::core_times(core).ok());
    let bench_end = procstat::sample(own).ok();
    let window_end_us = clock.now_us();
    let _ = phase_tx.send(Phase::Done);
    let mut outcomes = Vec::with_capacity(config.players);
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(o) => outcomes.push(o),
            Err(e) => outcomes.push(PlayerOutcome {
                tally: Tally::new(0),
                failure: Some(format!("player task failed: {e}")),
                dropped: None,
            }),
        }
    }
    let facts = RunFacts {
        url: config.url.clone(),
        protocol: config.target.protocol().to_owned(),
        streams: config.streams.max(1),
        source_addresses: sources.len().max(1),
        ramp_s,
        window_s: (window_end_us - window_open) as f64 / 1e6,
        window_end_us,
        behind_threshold_ms: config.behind_threshold.as_millis() as u64,
        bench_cpu_s: match (bench_start, bench_end) {
            (Some(a), Some(b)) => b.cpu_s - a.cpu_s,
            _ => 0.0,
        },
        server_core: match (config.server_core, core_start, core_end) {
            (Some(core), Some(a), Some(b)) => Some((core, b.since(&a))),
            _ => None,
        },
    };
    let usage = |connected: usize, bytes: u64| -> Option<ServerUsage> {
        let (pid, before, start, end) = (
            config.server_pid?,
            server_before?,
            server_start?,
            server_end?,
        );
        let cpu_s = end.cpu_s - start.cpu_s;
        let gb = bytes as f64 / 1e9;
        Some(ServerUsage {
            pid,
            cpu_s,
            gb_delivered: gb,
            cpu_s_per_gb: crate::report::per_gb(cpu_s, bytes),
            rss_before_kib: before.rss_kib,
            rss_kib: end.rss_kib,
            rss_per_player_kib: (connected > 0)
                .then(|| (end.rss_kib as f64 - before.rss_kib as f64) / connected as f64),
        })
    };
    Ok(PlayReport::build(facts, &outcomes, usage))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_names() {
        assert_eq!(stream_name("bench", 5, 1), "bench");
        assert_eq!(stream_name("bench", 5, 3), "bench-2");
        assert_eq!(stream_name("bench?key=1", 4, 2), "bench-0?key=1");
    }

    #[test]
    fn sources_spread_only_on_loopback() {
        let lo: SocketAddr = "127.0.0.1:1935".parse().unwrap();
        let mut c = PlayConfig::new("rtmp://127.0.0.1/live/x", 45_000).unwrap();
        let s = source_addresses(&c, lo);
        assert_eq!(s.len(), 3);
        assert_eq!(s[2], IpAddr::V4(Ipv4Addr::new(127, 0, 0, 3)));
        c.players = 100;
        assert!(source_addresses(&c, lo).is_empty());
        c.source_addresses = Some(4);
        assert_eq!(source_addresses(&c, lo).len(), 4);
        let remote: SocketAddr = "192.0.2.1:1935".parse().unwrap();
        assert!(source_addresses(&c, remote).is_empty());
    }

    #[test]
    fn targets() {
        assert!(matches!(
            PlayTarget::parse("rtmp://127.0.0.1/live/x").unwrap(),
            PlayTarget::Rtmp(_)
        ));
        assert!(matches!(
            PlayTarget::parse("http://127.0.0.1:8080/live/x.flv").unwrap(),
            PlayTarget::HttpFlv(_)
        ));
        let ws = PlayTarget::parse("ws://127.0.0.1:8080/live/x.flv").unwrap();
        assert_eq!(ws.protocol(), "ws-flv");
        assert!(PlayTarget::parse("rtmps://127.0.0.1/live/x").is_err());
        assert!(PlayTarget::parse("wss://127.0.0.1/live/x.flv").is_err());
        assert!(PlayTarget::parse("http://").is_err());
    }
}
