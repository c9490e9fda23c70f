//! The configuration of the outputs: HTTP listener (HTTP-FLV, WebSocket-FLV, HLS), HLS
//! segmenting, recording, and RTP/UDP MPEG-TS push.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

use super::{de_millis, de_positive_millis, de_positive_usize};

/// The default `http_listen`: `0.0.0.0:8080`.
pub fn default_http_listen() -> SocketAddr {
    SocketAddr::from((Ipv4Addr::UNSPECIFIED, 8080))
}

/// `[hls]`: one segmenter per published stream, serving `/{app}/{stream}.m3u8`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HlsConfig {
    /// `enabled`: segment every published stream. Default true.
    pub enabled: bool,
    /// `target_duration_ms`: a segment is cut at the first keyframe (audio-only: the first
    /// frame) at least this long after its start (≥ 1 ms). Default 2000.
    #[serde(rename = "target_duration_ms", deserialize_with = "de_positive_millis")]
    pub target_duration: Duration,
    /// `playlist_segments`: segments listed in the playlist (≥ 1). Default 6.
    #[serde(deserialize_with = "de_positive_usize")]
    pub playlist_segments: usize,
    /// `retained_segments`: segments kept (served, and on disk) after they leave the playlist,
    /// for players still fetching them. Default 3.
    pub retained_segments: usize,
    /// `unpublish_wait_ms`: after the publisher leaves, the playlist waits this long for a new
    /// publisher (whose segments follow an `EXT-X-DISCONTINUITY`) before it ends with
    /// `EXT-X-ENDLIST`; the ended playlist is kept as long again, then removed. Default 10000.
    #[serde(rename = "unpublish_wait_ms", deserialize_with = "de_millis")]
    pub unpublish_wait: Duration,
    /// `directory`: also write the playlists and segments to `{directory}/{app}/`, removing
    /// old segments. Default: none (memory only).
    pub directory: Option<PathBuf>,
}

impl Default for HlsConfig {
    fn default() -> Self {
        HlsConfig {
            enabled: true,
            target_duration: Duration::from_secs(2),
            playlist_segments: 6,
            retained_segments: 3,
            unpublish_wait: Duration::from_secs(10),
            directory: None,
        }
    }
}

/// `[record]`: writing publish sessions to FLV files.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RecordConfig {
    /// `all`: record every stream unless a `[[record.streams]]` entry says otherwise.
    /// Default false.
    pub all: bool,
    /// `directory`: files go to `{directory}/{app}/{stream}-{UTC start time}.flv`, with
    /// anything unsafe in the names replaced. Default `recordings`.
    pub directory: PathBuf,
    /// `max_bytes`: start a new file at the next keyframe once a file reaches this size;
    /// 0 never. Default 0.
    pub max_bytes: u64,
    /// `max_duration_ms`: start a new file at the next keyframe once a file spans this long;
    /// 0 never. Default 0.
    #[serde(rename = "max_duration_ms", deserialize_with = "de_millis")]
    pub max_duration: Duration,
    /// `flush_interval_ms`: written tags reach the file at least this often (and at every
    /// keyframe), so a killed server leaves a file playable up to then (≥ 1 ms). Default 1000.
    #[serde(rename = "flush_interval_ms", deserialize_with = "de_positive_millis")]
    pub flush_interval: Duration,
    /// `[[record.streams]]`: per app or per stream `record = true/false`; the most specific
    /// entry wins (app and stream over app alone over `all`).
    pub streams: Vec<RecordRule>,
}

impl Default for RecordConfig {
    fn default() -> Self {
        RecordConfig {
            all: false,
            directory: PathBuf::from("recordings"),
            max_bytes: 0,
            max_duration: Duration::ZERO,
            flush_interval: Duration::from_secs(1),
            streams: Vec::new(),
        }
    }
}

/// One `[[record.streams]]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordRule {
    /// `app`: the application this entry is about.
    pub app: String,
    /// `stream`: one stream of it; without it, every stream of the app.
    #[serde(default)]
    pub stream: Option<String>,
    /// `record`: default true.
    #[serde(default = "yes")]
    pub record: bool,
}

fn yes() -> bool {
    true
}

impl RecordConfig {
    /// Whether stream `name` of `app` is recorded.
    pub fn records(&self, app: &str, name: &str) -> bool {
        let mut by_app = None;
        for rule in self.streams.iter().filter(|r| r.app == app) {
            match &rule.stream {
                Some(s) if s == name => return rule.record,
                Some(_) => {}
                None => by_app = Some(rule.record),
            }
        }
        by_app.unwrap_or(self.all)
    }
}

/// `[output]`: streams pushed elsewhere.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutputConfig {
    /// `[[output.rtp]]`: MPEG-TS over RTP or UDP to a fixed address.
    pub rtp: Vec<RtpOutputConfig>,
}

/// How TS packets are sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RtpTransport {
    /// RTP (RFC 3550) with the MPEG-2 TS payload format of RFC 2250: payload type 33, 90 kHz
    /// timestamps, random SSRC and initial sequence number.
    #[default]
    Rtp,
    /// Bare TS packets in UDP datagrams.
    Udp,
}

/// One `[[output.rtp]]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RtpOutputConfig {
    /// `app`: only streams of this app; without it, any app.
    #[serde(default)]
    pub app: Option<String>,
    /// `stream`: only streams of this name; without it, any stream.
    #[serde(default)]
    pub stream: Option<String>,
    /// `destination`: where datagrams go, e.g. `"127.0.0.1:5004"`.
    pub destination: SocketAddr,
    /// `transport`: `"rtp"` (default) or `"udp"`.
    #[serde(default)]
    pub transport: RtpTransport,
    /// `packets_per_datagram`: TS packets per datagram, 1..=7. Default 7 (1316 bytes of TS,
    /// within a 1500-byte MTU with the IP, UDP and RTP headers).
    #[serde(default = "seven", deserialize_with = "de_packets_per_datagram")]
    pub packets_per_datagram: usize,
}

fn seven() -> usize {
    7
}

fn de_packets_per_datagram<'de, D: Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    let v = usize::deserialize(d)?;
    if (1..=7).contains(&v) {
        Ok(v)
    } else {
        Err(serde::de::Error::custom(format!(
            "{v} TS packets per datagram: must be 1..=7"
        )))
    }
}

impl RtpOutputConfig {
    /// Whether this entry applies to stream `name` of `app`.
    pub fn matches(&self, app: &str, name: &str) -> bool {
        self.app.as_deref().is_none_or(|a| a == app)
            && self.stream.as_deref().is_none_or(|s| s == name)
    }

    /// A session description for receivers of an RTP entry (`ffmpeg -protocol_whitelist
    /// file,udp,rtp -i stream.sdp`, VLC).
    pub fn sdp(&self) -> String {
        let (family, addr) = match self.destination {
            SocketAddr::V4(a) => ("IP4", a.ip().to_string()),
            SocketAddr::V6(a) => ("IP6", a.ip().to_string()),
        };
        format!(
            "v=0\r\no=- 0 0 IN {family} {addr}\r\ns=rtmpkit\r\nc=IN {family} {addr}\r\nt=0 0\r\n\
             m=video {port} RTP/AVP 33\r\na=rtpmap:33 MP2T/90000\r\n",
            port = self.destination.port()
        )
    }
}
