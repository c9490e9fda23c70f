//! How to connect: timeouts, proxy, TLS and the connect command's fields.

use std::path::PathBuf;
use std::time::Duration;

use rtmpkit_proto::amf::Amf0Value;
use rtmpkit_proto::rtmp::handshake::ClientConfig as HandshakeConfig;

use crate::socks::SocksProxy;

/// TLS for `rtmps://`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// Trust the certificates in this PEM file instead of the system's roots.
    pub ca_file: Option<PathBuf>,
    /// Accept any server certificate (self-signed test servers). Signatures of the TLS
    /// handshake are still checked; who the server is, is not.
    pub insecure: bool,
    /// The name to check the certificate against (and send as SNI), when not the URL's host.
    pub server_name: Option<String>,
}

/// Everything about a connection that is not in the URL.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// For each of: TCP connect (per address), SOCKS, TLS, RTMP handshake and `connect`.
    pub connect_timeout: Duration,
    /// Longest wait for data from the server while we expect some (librtmp's default is 30 s).
    pub read_timeout: Duration,
    /// Longest a write may block (a server or network that stopped taking data).
    pub write_timeout: Duration,
    pub socks: Option<SocksProxy>,
    /// Disable Nagle's algorithm (librtmp and ffmpeg do).
    pub nodelay: bool,
    pub tls: TlsOptions,
    /// `flashVer` in connect; `None` uses the publisher's or player's default.
    pub flash_ver: Option<String>,
    pub swf_url: Option<String>,
    pub page_url: Option<String>,
    /// Extra arguments after the connect command object (rtmpdump's `--conn`).
    pub connect_args: Vec<Amf0Value>,
    /// The handshake: digest (complex) by default, as ffmpeg and librtmp send.
    pub handshake: HandshakeConfig,
    /// Chunk size for what we send (announced with Set Chunk Size; ffmpeg uses 4096).
    pub chunk_size: u32,
    /// Tell the server (Enhanced RTMP `capsEx`) that we follow
    /// `NetConnection.Connect.ReconnectRequest`.
    pub advertise_reconnect: bool,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            write_timeout: Duration::from_secs(30),
            socks: None,
            nodelay: true,
            tls: TlsOptions::default(),
            flash_ver: None,
            swf_url: None,
            page_url: None,
            connect_args: Vec::new(),
            handshake: HandshakeConfig::default(),
            chunk_size: 4096,
            advertise_reconnect: false,
        }
    }
}

/// How to play.
#[derive(Debug, Clone, PartialEq)]
pub struct PlayOptions {
    /// User Control Set Buffer Length, in ms. The default 3000 is ffmpeg's `rtmp_buffer`
    /// default (seed 001's ffplay sent 13000); live servers mostly ignore it, servers of
    /// recorded streams send this much ahead.
    pub buffer_ms: u32,
    /// `play`'s start argument: -2000 (ffmpeg's default: live if there is one, else recorded),
    /// -1000 live only, 0 or more a position in a recorded stream, in ms.
    pub start: f64,
}

impl Default for PlayOptions {
    fn default() -> Self {
        PlayOptions {
            buffer_ms: 3000,
            start: -2000.0,
        }
    }
}
