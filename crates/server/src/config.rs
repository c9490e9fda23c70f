//! The server's configuration file (TOML).
//!
//! Every key is optional; a missing key takes the default documented on its field, and
//! `ServerConfig::default()` is exactly what an empty file gives. Durations are integers in
//! milliseconds, named `*_ms`. Unknown keys are errors, so a typo never goes unnoticed.
//! `crates/server/rtmpkit.example.toml` lists every key with its default value.

use std::net::{Ipv4Addr, SocketAddr};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Deserializer};

mod outputs;

pub use outputs::{
    HlsConfig, OutputConfig, RecordConfig, RecordRule, RtpOutputConfig, RtpTransport,
    default_http_listen,
};

/// Everything `rtmpkit serve` can be told by its configuration file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// `listen`: the RTMP listening address. Default `0.0.0.0:1935`.
    pub listen: SocketAddr,
    /// `chunk_size`: the chunk size the server announces (Set Chunk Size) and sends with,
    /// 128..=16777215. Default 4096.
    #[serde(deserialize_with = "de_chunk_size")]
    pub chunk_size: u32,
    /// `window_ack_size`: the Window Acknowledgement Size sent to peers, in bytes (≥ 1).
    /// Default 2500000.
    #[serde(deserialize_with = "de_positive_u32")]
    pub window_ack_size: u32,
    /// `peer_bandwidth`: the Set Peer Bandwidth value sent to peers (dynamic limit), in bytes
    /// (≥ 1). Default 2500000.
    #[serde(deserialize_with = "de_positive_u32")]
    pub peer_bandwidth: u32,
    /// `handshake_timeout_ms`: time a new connection has to complete the handshake (≥ 1 ms).
    /// Default 10000.
    #[serde(
        rename = "handshake_timeout_ms",
        deserialize_with = "de_positive_millis"
    )]
    pub handshake_timeout: Duration,
    /// `idle_timeout_ms`: a connection that sends nothing for this long is closed (≥ 1 ms).
    /// Default 30000.
    #[serde(rename = "idle_timeout_ms", deserialize_with = "de_positive_millis")]
    pub idle_timeout: Duration,
    /// `max_connections`: connections beyond this many are refused (≥ 1). Default 10000.
    #[serde(deserialize_with = "de_positive_usize")]
    pub max_connections: usize,
    /// `max_message_size`: the longest RTMP message a peer may send, in bytes,
    /// 1..=16777215. Default 8388608 (8 MiB).
    #[serde(deserialize_with = "de_message_size")]
    pub max_message_size: u32,
    /// `play_wait_timeout_ms`: how long a player that asks for a stream nobody publishes yet
    /// waits for a publisher before it is told the stream is not found. 0 answers at once.
    /// Default 10000.
    #[serde(rename = "play_wait_timeout_ms", deserialize_with = "de_millis")]
    pub play_wait_timeout: Duration,
    /// `publisher_takeover`: whether a second publisher on a stream replaces the first (true)
    /// or is refused (false). Default false.
    pub publisher_takeover: bool,
    /// `trace`: log every connection's protocol messages. Default false.
    pub trace: bool,
    /// `rtmps_listen`: address of the RTMPS (RTMP over TLS) listener; none by default. Needs
    /// `tls_cert` and `tls_key`.
    pub rtmps_listen: Option<SocketAddr>,
    /// `tls_cert`: PEM file with the certificate chain for RTMPS (leaf first).
    pub tls_cert: Option<PathBuf>,
    /// `tls_key`: PEM file with the private key for RTMPS (PKCS#8, PKCS#1 or SEC1).
    pub tls_key: Option<PathBuf>,
    /// `[gop_cache]`: what a new player receives before live frames.
    pub gop_cache: GopCacheConfig,
    /// `[player_queue]`: how far a player may fall behind before it skips.
    pub player_queue: PlayerQueueConfig,
    /// `http_listen`: the HTTP listener (HTTP-FLV, WebSocket-FLV, HLS). Default
    /// `0.0.0.0:8080`.
    pub http_listen: SocketAddr,
    /// `[hls]`: HLS segmenting.
    pub hls: HlsConfig,
    /// `[record]`: recording publish sessions to FLV files.
    pub record: RecordConfig,
    /// `[output]`: RTP/UDP MPEG-TS push outputs.
    pub output: OutputConfig,
}

/// `[gop_cache]`: the frames since the last video keyframe, kept so that a new player starts
/// with a picture at once. When the current GOP outgrows any bound, nothing is cached until
/// the next keyframe and new players wait for it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GopCacheConfig {
    /// `enabled`: default true.
    pub enabled: bool,
    /// `max_frames`: audio, video and data messages together. Default 2048.
    pub max_frames: usize,
    /// `max_duration_ms`: from the keyframe to the newest frame. Default 10000.
    #[serde(rename = "max_duration_ms", deserialize_with = "de_millis")]
    pub max_duration: Duration,
    /// `max_bytes`: payload bytes. Default 33554432 (32 MiB).
    pub max_bytes: usize,
}

/// `[player_queue]`: the bounds of each player's lag behind the publisher. A player further
/// behind (outside the current GOP) skips to the latest keyframe, or drops video until the next
/// one while audio goes on; the skip is logged and counted. These bounds also size the
/// per-stream ring of recent frames, so they bound memory however many players stall.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PlayerQueueConfig {
    /// `max_lag_ms`: the newest frame's timestamp minus the player's next frame's (≥ 1 ms).
    /// Default 5000.
    #[serde(rename = "max_lag_ms", deserialize_with = "de_positive_millis")]
    pub max_lag: Duration,
    /// `max_bytes`: bytes published after the player's next frame (≥ 1). Default 33554432
    /// (32 MiB).
    #[serde(deserialize_with = "de_positive_usize")]
    pub max_bytes: usize,
    /// `merged_write_ms`: 0 (the default) sends each video frame at once, audio with the next
    /// video frame (waiting at most 30 ms), so the server adds less than one frame interval
    /// of latency. A value (1..=1000) releases frames to players in batches at most that old,
    /// so each player gets fewer, larger writes: less CPU per byte for that much latency.
    #[serde(rename = "merged_write_ms", deserialize_with = "de_merged_write")]
    pub merged_write: Duration,
    /// `send_file`: send frames to RTMP players over plain TCP with `sendfile(2)` from a
    /// per-stream memory file, so the kernel does not copy each frame into each player's
    /// socket (Linux; elsewhere ignored). The file is written only while such a player is on
    /// the stream. Default true.
    pub send_file: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from((Ipv4Addr::UNSPECIFIED, 1935)),
            chunk_size: 4096,
            window_ack_size: 2_500_000,
            peer_bandwidth: 2_500_000,
            handshake_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30),
            max_connections: 10_000,
            max_message_size: 8 << 20,
            play_wait_timeout: Duration::from_secs(10),
            publisher_takeover: false,
            trace: false,
            rtmps_listen: None,
            tls_cert: None,
            tls_key: None,
            gop_cache: GopCacheConfig::default(),
            player_queue: PlayerQueueConfig::default(),
            http_listen: default_http_listen(),
            hls: HlsConfig::default(),
            record: RecordConfig::default(),
            output: OutputConfig::default(),
        }
    }
}

impl Default for GopCacheConfig {
    fn default() -> Self {
        GopCacheConfig {
            enabled: true,
            max_frames: 2048,
            max_duration: Duration::from_secs(10),
            max_bytes: 32 << 20,
        }
    }
}

impl Default for PlayerQueueConfig {
    fn default() -> Self {
        PlayerQueueConfig {
            max_lag: Duration::from_secs(5),
            max_bytes: 32 << 20,
            merged_write: Duration::ZERO,
            send_file: true,
        }
    }
}

/// A configuration file that could not be read or is not valid.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{}: cannot read the configuration file: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Bad TOML, an unknown key, a value of the wrong type or out of range. `line` and
    /// `column` count from 1; `key` is the dotted key (`gop_cache.max_frames`) when known.
    #[error("{}:{line}:{column}: {}{message}", path.display(), key.as_ref().map(|k| format!("key `{k}`: ")).unwrap_or_default())]
    Invalid {
        path: PathBuf,
        line: usize,
        column: usize,
        key: Option<String>,
        message: String,
    },
}

impl ServerConfig {
    /// Reads and parses the file at `path`.
    pub fn load(path: &Path) -> Result<ServerConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        ServerConfig::from_toml(&text, path)
    }

    /// Parses `text`; `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &Path) -> Result<ServerConfig, ConfigError> {
        toml::from_str(text).map_err(|e| {
            let span = e.span();
            let (line, column) = span
                .as_ref()
                .map(|s| line_column(text, s.start))
                .unwrap_or((1, 1));
            ConfigError::Invalid {
                path: origin.to_path_buf(),
                line,
                column,
                key: span.and_then(|s| key_at(text, s)),
                message: e.message().trim_end().to_string(),
            }
        })
    }
}

/// 1-based line and column (in characters) of byte `offset`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

/// The dotted key whose line holds `span`: the `[table]` header above it joined with the text
/// before `=` on that line.
fn key_at(text: &str, span: Range<usize>) -> Option<String> {
    let start = span.start.min(text.len());
    let line_start = text.get(..start)?.rfind('\n').map_or(0, |i| i + 1);
    let line_end = text
        .get(start..)?
        .find('\n')
        .map_or(text.len(), |i| start + i);
    let line = text.get(line_start..line_end)?;
    let key = line.split_once('=')?.0.trim();
    if key.is_empty() || key.starts_with('#') || key.starts_with('[') {
        return None;
    }
    let table = text
        .get(..line_start)?
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('[') && !l.starts_with("[["))
        .and_then(|l| l.strip_prefix('[')?.split_once(']'))
        .map(|(t, _)| t.trim());
    Some(match table {
        Some(t) if !t.is_empty() => format!("{t}.{key}"),
        _ => key.to_string(),
    })
}

fn de_millis<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    u64::deserialize(d).map(Duration::from_millis)
}

fn de_positive_millis<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    match u64::deserialize(d)? {
        0 => Err(serde::de::Error::custom(
            "must be at least 1 (milliseconds)",
        )),
        ms => Ok(Duration::from_millis(ms)),
    }
}

/// Longest merged-write window accepted.
pub const MAX_MERGED_WRITE_MS: u64 = 1000;

fn de_merged_write<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    match u64::deserialize(d)? {
        ms @ 0..=MAX_MERGED_WRITE_MS => Ok(Duration::from_millis(ms)),
        ms => Err(serde::de::Error::custom(format!(
            "{ms} is outside 0..={MAX_MERGED_WRITE_MS} (milliseconds)"
        ))),
    }
}

fn de_positive_u32<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    match u32::deserialize(d)? {
        0 => Err(serde::de::Error::custom("must be at least 1")),
        v => Ok(v),
    }
}

fn de_positive_usize<'de, D: Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    match usize::deserialize(d)? {
        0 => Err(serde::de::Error::custom("must be at least 1")),
        v => Ok(v),
    }
}

fn de_chunk_size<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let v = u32::deserialize(d)?;
    if (128..=0xFF_FFFF).contains(&v) {
        Ok(v)
    } else {
        Err(serde::de::Error::custom(format!(
            "chunk size {v} is outside 128..=16777215"
        )))
    }
}

fn de_message_size<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let v = u32::deserialize(d)?;
    if (1..=0xFF_FFFF).contains(&v) {
        Ok(v)
    } else {
        Err(serde::de::Error::custom(format!(
            "message size {v} is outside 1..=16777215 (RTMP lengths are 24-bit)"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ServerConfig, ConfigError> {
        ServerConfig::from_toml(text, Path::new("test.toml"))
    }

    fn invalid(text: &str) -> (usize, usize, Option<String>, String) {
        match parse(text) {
            Err(ConfigError::Invalid {
                line,
                column,
                key,
                message,
                ..
            }) => (line, column, key, message),
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn empty_file_is_the_default() {
        assert_eq!(parse("").unwrap(), ServerConfig::default());
        assert_eq!(parse("# nothing\n\n").unwrap(), ServerConfig::default());
    }

    #[test]
    fn example_file_is_the_default() {
        let text = include_str!("../rtmpkit.example.toml");
        assert_eq!(parse(text).unwrap(), ServerConfig::default());
    }

    #[test]
    fn example_file_names_every_key() {
        let text = include_str!("../rtmpkit.example.toml");
        for key in [
            "listen",
            "chunk_size",
            "window_ack_size",
            "peer_bandwidth",
            "handshake_timeout_ms",
            "idle_timeout_ms",
            "max_connections",
            "max_message_size",
            "play_wait_timeout_ms",
            "publisher_takeover",
            "trace",
            "[gop_cache]",
            "enabled",
            "max_frames",
            "max_duration_ms",
            "[player_queue]",
            "max_lag_ms",
            "merged_write_ms",
            "send_file",
            "max_bytes",
            "http_listen",
            "[hls]",
            "target_duration_ms",
            "playlist_segments",
            "retained_segments",
            "unpublish_wait_ms",
            "[record]",
            "all",
            "directory",
            "flush_interval_ms",
        ] {
            let uncommented = text
                .lines()
                .any(|l| l.trim_start().starts_with(key) && !l.trim_start().starts_with('#'));
            assert!(uncommented, "example file lacks `{key}`");
        }
    }

    #[test]
    fn values_are_read() {
        let c = parse(
            "listen = \"127.0.0.1:19350\"\nchunk_size = 60000\nidle_timeout_ms = 1500\n\
             publisher_takeover = true\n[gop_cache]\nenabled = false\nmax_frames = 7\n\
             [player_queue]\nmax_lag_ms = 250\n",
        )
        .unwrap();
        assert_eq!(c.listen, "127.0.0.1:19350".parse().unwrap());
        assert_eq!(c.chunk_size, 60000);
        assert_eq!(c.idle_timeout, Duration::from_millis(1500));
        assert!(c.publisher_takeover);
        assert!(!c.gop_cache.enabled);
        assert_eq!(c.gop_cache.max_frames, 7);
        assert_eq!(c.gop_cache.max_duration, Duration::from_secs(10));
        assert_eq!(c.player_queue.max_lag, Duration::from_millis(250));
        assert_eq!(c.player_queue.max_bytes, 32 << 20);
        assert_eq!(c.window_ack_size, 2_500_000);
    }

    #[test]
    fn unknown_key_names_line_column_and_key() {
        let (line, column, key, message) = invalid("trace = true\nchunk_sise = 4096\n");
        assert_eq!((line, column), (2, 1));
        assert_eq!(key.as_deref(), Some("chunk_sise"));
        assert!(message.contains("unknown field `chunk_sise`"), "{message}");
    }

    #[test]
    fn unknown_key_in_table() {
        let (line, _, key, _) = invalid("[gop_cache]\nenabled = true\nmax_frame = 3\n");
        assert_eq!(line, 3);
        assert_eq!(key.as_deref(), Some("gop_cache.max_frame"));
    }

    #[test]
    fn wrong_type_is_located() {
        let (line, column, key, message) = invalid("\n\nchunk_size = \"big\"\n");
        assert_eq!((line, column), (3, 14));
        assert_eq!(key.as_deref(), Some("chunk_size"));
        assert!(message.contains("invalid type"), "{message}");
    }

    #[test]
    fn out_of_range_values_are_refused() {
        let (line, _, key, message) = invalid("chunk_size = 64\n");
        assert_eq!(line, 1);
        assert_eq!(key.as_deref(), Some("chunk_size"));
        assert!(message.contains("128..=16777215"), "{message}");
        let (_, _, key, _) = invalid("[player_queue]\nmax_lag_ms = 0\n");
        assert_eq!(key.as_deref(), Some("player_queue.max_lag_ms"));
        let (_, _, key, _) = invalid("max_message_size = 16777216\n");
        assert_eq!(key.as_deref(), Some("max_message_size"));
        let (_, _, key, _) = invalid("listen = \"nowhere\"\n");
        assert_eq!(key.as_deref(), Some("listen"));
    }

    #[test]
    fn bad_toml_is_located() {
        let (line, _, _, _) = invalid("trace = true\nchunk_size = = 3\n");
        assert_eq!(line, 2);
    }

    #[test]
    fn error_message_names_the_file() {
        let err = ServerConfig::from_toml("idle_timeout = 5\n", Path::new("/etc/rtmpkit.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("/etc/rtmpkit.toml:1:1: key `idle_timeout`: unknown field"),
            "{err}"
        );
    }

    #[test]
    fn missing_file_is_a_read_error() {
        let err = ServerConfig::load(Path::new("/nonexistent/rtmpkit.toml")).unwrap_err();
        assert!(matches!(err, ConfigError::Read { .. }));
        assert!(err.to_string().contains("/nonexistent/rtmpkit.toml"));
    }

    #[test]
    fn output_sections_are_read() {
        let c = parse(
            "http_listen = \"127.0.0.1:18080\"\n[hls]\ntarget_duration_ms = 1000\n\
             playlist_segments = 3\ndirectory = \"/tmp/hls\"\n[record]\nall = true\n\
             directory = \"/srv/rec\"\nmax_duration_ms = 60000\n\
             [[record.streams]]\napp = \"live\"\nrecord = false\n\
             [[record.streams]]\napp = \"live\"\nstream = \"keep\"\n\
             [[output.rtp]]\ndestination = \"127.0.0.1:5004\"\n\
             [[output.rtp]]\napp = \"live\"\nstream = \"a\"\ndestination = \"[::1]:6000\"\n\
             transport = \"udp\"\npackets_per_datagram = 4\n",
        )
        .unwrap();
        assert_eq!(c.http_listen, "127.0.0.1:18080".parse().unwrap());
        assert_eq!(c.hls.target_duration, Duration::from_secs(1));
        assert_eq!(c.hls.playlist_segments, 3);
        assert_eq!(c.hls.directory.as_deref(), Some(Path::new("/tmp/hls")));
        assert!(c.hls.enabled);
        assert_eq!(c.record.max_duration, Duration::from_secs(60));
        assert_eq!(c.record.max_bytes, 0);
        assert!(c.record.records("other", "x"), "all = true");
        assert!(!c.record.records("live", "x"), "app entry over all");
        assert!(c.record.records("live", "keep"), "stream entry over app");
        let rtp = &c.output.rtp;
        assert_eq!(rtp.len(), 2);
        assert_eq!(rtp[0].transport, RtpTransport::Rtp);
        assert_eq!(rtp[0].packets_per_datagram, 7);
        assert!(rtp[0].matches("any", "thing"));
        assert_eq!(rtp[1].transport, RtpTransport::Udp);
        assert_eq!(rtp[1].packets_per_datagram, 4);
        assert!(rtp[1].matches("live", "a") && !rtp[1].matches("live", "b"));
        assert!(
            rtp[0]
                .sdp()
                .contains("m=video 5004 RTP/AVP 33\r\na=rtpmap:33 MP2T/90000")
        );
        assert!(rtp[1].sdp().contains("c=IN IP6 ::1"));
    }

    #[test]
    fn output_values_out_of_range_are_refused() {
        let (_, _, key, message) =
            invalid("[[output.rtp]]\ndestination = \"127.0.0.1:1\"\npackets_per_datagram = 8\n");
        assert_eq!(key.as_deref(), Some("packets_per_datagram"));
        assert!(message.contains("1..=7"), "{message}");
        let (_, _, key, _) = invalid("[hls]\ntarget_duration_ms = 0\n");
        assert_eq!(key.as_deref(), Some("hls.target_duration_ms"));
        let (_, _, _, message) = invalid("[[output.rtp]]\ntransport = \"tcp\"\n");
        assert!(
            message.contains("unknown variant") || message.contains("missing field"),
            "{message}"
        );
        let (_, _, key, _) = invalid("[record]\nrecod = true\n");
        assert_eq!(key.as_deref(), Some("record.recod"));
    }
}
