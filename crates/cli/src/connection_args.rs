//! The connection options every client subcommand shares (rtmpdump's names where it has one).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, ValueEnum};
use rtmpkit_client::{ConnectOptions, RtmpUrl, SocksProxy, TlsOptions, UrlOverrides};
use rtmpkit_proto::rtmp::handshake::HandshakeScheme;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Handshake {
    /// Digest (complex) handshake, as ffmpeg and librtmp send.
    Digest,
    /// Simple (echo) handshake.
    Simple,
}

#[derive(Debug, Args)]
pub struct ConnectionArgs {
    /// Application name, instead of the one in the URL.
    #[arg(long, value_name = "APP")]
    pub app: Option<String>,
    /// Stream name (play path), instead of the one in the URL.
    #[arg(long, value_name = "NAME", visible_alias = "stream")]
    pub playpath: Option<String>,
    /// tcUrl sent in connect (default: scheme://host:port/app).
    #[arg(long, value_name = "URL")]
    pub tcurl: Option<String>,
    /// flashVer sent in connect.
    #[arg(long, value_name = "VERSION")]
    pub flashver: Option<String>,
    /// swfUrl sent in connect.
    #[arg(long, value_name = "URL")]
    pub swfurl: Option<String>,
    /// pageUrl sent in connect.
    #[arg(long, value_name = "URL")]
    pub pageurl: Option<String>,
    /// Extra connect argument, rtmpdump syntax: B:1, N:1.5, S:text, Z:, O:1 … O:0 with
    /// NB:name:1, NN:name:2, NS:name:text inside objects. Repeat for several.
    #[arg(long = "conn", value_name = "TYPE:VALUE", allow_hyphen_values = true)]
    pub conn: Vec<String>,
    /// Connect through a SOCKS proxy: HOST:PORT (SOCKS5), socks5://[user:pass@]HOST:PORT or
    /// socks4a://HOST:PORT.
    #[arg(long, value_name = "PROXY")]
    pub socks: Option<String>,
    /// Trust the CA certificates in this PEM file (rtmps), instead of the system roots.
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// Accept any TLS certificate (self-signed test servers).
    #[arg(long)]
    pub insecure: bool,
    /// Seconds allowed for each connect step (TCP, SOCKS, TLS, handshake, connect, publish/play).
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    pub connect_timeout: f64,
    /// Seconds without data from the server before giving up (while data is expected), and the
    /// longest a write may block.
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0)]
    pub timeout: f64,
    /// RTMP handshake.
    #[arg(long, value_enum, default_value_t = Handshake::Digest)]
    pub handshake: Handshake,
}

fn seconds(name: &str, s: f64) -> anyhow::Result<Duration> {
    Duration::try_from_secs_f64(s).with_context(|| format!("--{name} {s}: not a duration"))
}

impl ConnectionArgs {
    /// The URL with overrides applied, and the connection options.
    pub fn resolve(&self, url: &str) -> anyhow::Result<(RtmpUrl, ConnectOptions)> {
        let overrides = UrlOverrides {
            app: self.app.clone(),
            playpath: self.playpath.clone(),
            tc_url: self.tcurl.clone(),
        };
        let url = RtmpUrl::parse_with(url, &overrides)?;
        let mut options = ConnectOptions {
            connect_timeout: seconds("connect-timeout", self.connect_timeout)?,
            read_timeout: seconds("timeout", self.timeout)?,
            write_timeout: seconds("timeout", self.timeout)?,
            flash_ver: self.flashver.clone(),
            swf_url: self.swfurl.clone(),
            page_url: self.pageurl.clone(),
            connect_args: rtmpkit_client::parse_conn_args(&self.conn)?,
            tls: TlsOptions {
                ca_file: self.ca.clone(),
                insecure: self.insecure,
                server_name: None,
            },
            ..ConnectOptions::default()
        };
        if let Some(proxy) = &self.socks {
            options.socks = Some(proxy.parse::<SocksProxy>()?);
        }
        if self.handshake == Handshake::Simple {
            options.handshake.scheme = HandshakeScheme::Simple;
        }
        Ok((url, options))
    }
}
