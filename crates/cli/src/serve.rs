//! `rtmpkit serve`.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use rtmpkit_server::Server;
use rtmpkit_server::config::ServerConfig;
use tracing_subscriber::EnvFilter;

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// RTMP listening address [default: 0.0.0.0:1935, or `listen` in the config file].
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// TOML configuration file (every key is optional; see crates/server/rtmpkit.example.toml).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// HTTP listening address for HTTP-FLV, WebSocket-FLV and HLS [default: 0.0.0.0:8080].
    #[arg(long, value_name = "ADDR")]
    http_listen: Option<SocketAddr>,
    /// RTMPS (RTMP over TLS) listening address, beside the plain one [default: none].
    #[arg(long, value_name = "ADDR", requires_all = ["tls_cert", "tls_key"])]
    rtmps_listen: Option<SocketAddr>,
    /// PEM certificate chain for RTMPS.
    #[arg(long, value_name = "FILE")]
    tls_cert: Option<PathBuf>,
    /// PEM private key for RTMPS.
    #[arg(long, value_name = "FILE")]
    tls_key: Option<PathBuf>,
    /// Print each connection's protocol messages.
    #[arg(long)]
    trace: bool,
    /// Worker threads [default: one per core].
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
}

pub fn run(args: ServeArgs, verbose: u8) -> anyhow::Result<ExitCode> {
    let mut config = match &args.config {
        Some(path) => ServerConfig::load(path)?,
        None => ServerConfig::default(),
    };
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    if let Some(http) = args.http_listen {
        config.http_listen = http;
    }
    if args.rtmps_listen.is_some() {
        config.rtmps_listen = args.rtmps_listen;
        config.tls_cert = args.tls_cert;
        config.tls_key = args.tls_key;
    }
    config.trace |= args.trace;
    init_logging(verbose);

    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    runtime.enable_all();
    if let Some(n) = args.threads {
        runtime.worker_threads(n.max(1));
    }
    let runtime = runtime.build().context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let server = Server::bind(config).await?;
        let addr = server.local_addr()?;
        print_banner(addr, server.http_addr()?);
        if let Some(tls) = server.rtmps_addr() {
            eprintln!("rtmpkit serve: listening for RTMPS on {tls}");
        }
        server.run(shutdown_signal()).await;
        Ok(ExitCode::SUCCESS)
    })
}

/// The server logs at info by default (one line per connection event, and the protocol trace
/// when `--trace` asks the sessions for it); `-v` and `-vv` add debug and trace output, and
/// RTMPKIT_LOG overrides it all.
fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "info",
        1 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_env("RTMPKIT_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init();
}

/// The two commands a new user needs, with an address they can actually reach, and the HTTP
/// outputs of the same stream.
fn print_banner(rtmp: SocketAddr, http: SocketAddr) {
    let host = |addr: SocketAddr| {
        if addr.ip().is_unspecified() {
            "127.0.0.1".to_owned()
        } else if addr.is_ipv6() {
            format!("[{}]", addr.ip())
        } else {
            addr.ip().to_string()
        }
    };
    let port = if rtmp.port() == 1935 {
        String::new()
    } else {
        format!(":{}", rtmp.port())
    };
    let url = format!("rtmp://{}{port}/live/livestream", host(rtmp));
    let web = format!("http://{}:{}/live/livestream", host(http), http.port());
    eprintln!("rtmpkit serve: listening for RTMP on {rtmp}");
    eprintln!("rtmpkit serve: listening for HTTP on {http}");
    eprintln!("  publish: ffmpeg -re -i in.mp4 -c copy -f flv {url}");
    eprintln!("  play:    ffplay {url}");
    eprintln!("           ffplay {web}.flv   (HTTP-FLV)");
    eprintln!("           ffplay {web}.m3u8  (HLS)");
}

/// Completes on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("signal received");
}
