//! `rtmpkit bench play` and `rtmpkit bench publish`: the load generator.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Subcommand};
use rtmpkit_bench::{BenchError, PlayConfig, PublishConfig, run_play, run_publish};

use crate::connection_args::ConnectionArgs;

#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    command: BenchCommand,
    /// Worker threads of the load generator [default: one per core it may run on].
    #[arg(long, value_name = "N", global = true)]
    threads: Option<usize>,
    /// Print the report as JSON instead of a table.
    #[arg(long, global = true)]
    json: bool,
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// Many players of one stream (or of NAME-0 … NAME-(K-1) with --streams K): players
    /// connected and failed, bitrate, players that fell behind, time to first frame and, for
    /// streams from `rtmpkit bench publish`, end-to-end latency.
    Play(PlayArgs),
    /// Real-time publishers of an FLV file, looped, each H.264 frame carrying its send time
    /// (an SEI NAL unit that `bench play` reads and decoders ignore).
    Publish(PublishArgs),
}

#[derive(Debug, Args)]
struct PlayArgs {
    /// rtmp://host[:port]/app/stream, or http://host:port/app/stream.flv for HTTP-FLV.
    url: String,
    /// Players to run.
    #[arg(long, short = 'n', default_value_t = 1)]
    players: usize,
    /// Seconds of measurement, after all players connected and the warm-up.
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    duration: f64,
    /// Seconds between the last player connecting and the measurement (GOP bursts settle).
    #[arg(long, value_name = "SECONDS", default_value_t = 2.0)]
    warmup: f64,
    /// Play over HTTP-FLV (the URL must then be http://host:port/app/stream.flv, or
    /// ws://host:port/app/stream.flv for WebSocket-FLV; the scheme alone also decides).
    #[arg(long)]
    http_flv: bool,
    /// Spread players over NAME-0 … NAME-(K-1), as `bench publish --publishers K` names them.
    #[arg(long, value_name = "K", default_value_t = 1)]
    streams: usize,
    /// Source addresses 127.0.0.1 … 127.0.0.K to spread connections over [default: one per
    /// 20000 players on IPv4 loopback].
    #[arg(long, value_name = "K")]
    source_addrs: Option<usize>,
    /// Players connecting at the same time during the ramp (more than the server's listen
    /// backlog, often 128, makes some connections wait for a SYN retry a second later).
    #[arg(long, value_name = "N", default_value_t = 100)]
    connect_concurrency: usize,
    /// Seconds each player has to connect and start playing.
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    connect_timeout: f64,
    /// A player more than this many ms behind the live edge at the end did not keep up.
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    behind_ms: u64,
    /// Each player's read buffer, bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 16 * 1024)]
    read_buffer: usize,
    /// The server's process id: report its CPU seconds per GB delivered and its resident
    /// memory per player (Linux /proc).
    #[arg(long, value_name = "PID")]
    server_pid: Option<u32>,
    /// The core the server is pinned to, alone: report that core's busy time per GB
    /// delivered, which also counts network work done for the server outside its process
    /// (Linux /proc/stat).
    #[arg(long, value_name = "N")]
    server_core: Option<usize>,
}

#[derive(Debug, Args)]
struct PublishArgs {
    /// rtmp://host[:port]/app/stream; with --publishers M > 1 the streams are STREAM-0 …
    /// STREAM-(M-1).
    url: String,
    /// FLV file to publish (looped, in real time).
    #[arg(long, short = 'f', value_name = "FILE")]
    file: PathBuf,
    /// Publishers to run.
    #[arg(long, short = 'm', default_value_t = 1)]
    publishers: usize,
    /// Stop after this many seconds [default: run until interrupted].
    #[arg(long, value_name = "SECONDS")]
    duration: Option<f64>,
    #[command(flatten)]
    connection: ConnectionArgs,
}

fn seconds(what: &str, s: f64) -> anyhow::Result<Duration> {
    Duration::try_from_secs_f64(s).map_err(|_| anyhow::anyhow!("{what}: not a duration: {s}"))
}

/// Runs `rtmpkit bench …` on its own runtime.
pub fn run(args: BenchArgs, verbose: u8) -> ExitCode {
    crate::init_logging(verbose);
    let threads = args
        .threads
        .or_else(|| std::thread::available_parallelism().ok().map(usize::from))
        .unwrap_or(1)
        .max(1);
    let runtime = if threads == 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()
    };
    let runtime = match runtime {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("rtmpkit: cannot start the runtime: {e}");
            return ExitCode::from(crate::EXIT_FAILED);
        }
    };
    let json = args.json;
    match runtime.block_on(async move {
        match args.command {
            BenchCommand::Play(p) => play(p, json).await,
            BenchCommand::Publish(p) => publish(p, json).await,
        }
    }) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("rtmpkit: {e:#}");
            let usage = matches!(e.downcast_ref::<BenchError>(), Some(BenchError::Usage(_)));
            ExitCode::from(if usage {
                crate::EXIT_USAGE
            } else {
                crate::exit_status(&e)
            })
        }
    }
}

async fn play(args: PlayArgs, json: bool) -> anyhow::Result<ExitCode> {
    let mut config = PlayConfig::new(&args.url, args.players)?;
    if args.http_flv && !matches!(config.target, rtmpkit_bench::PlayTarget::HttpFlv(_)) {
        return Err(BenchError::Usage(format!(
            "--http-flv: {} is not an http://host:port/app/stream.flv URL",
            args.url
        ))
        .into());
    }
    config.streams = args.streams.max(1);
    config.window = seconds("--duration", args.duration)?;
    config.warmup = seconds("--warmup", args.warmup)?;
    config.connect_timeout = seconds("--connect-timeout", args.connect_timeout)?;
    config.connect_concurrency = args.connect_concurrency;
    config.source_addresses = args.source_addrs;
    config.behind_threshold = Duration::from_millis(args.behind_ms);
    config.read_buffer = args.read_buffer;
    config.server_pid = args.server_pid;
    config.server_core = args.server_core;
    let report = run_play(config).await?;
    emit(if json {
        report.to_json() + "\n"
    } else {
        report.to_table()
    });
    Ok(if report.connected == 0 {
        ExitCode::from(crate::EXIT_FAILED)
    } else {
        ExitCode::SUCCESS
    })
}

/// Prints a report; a closed standard output (the reader went away) is not an error.
fn emit(text: String) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// Resolves at the first Ctrl-C.
async fn interrupted() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

async fn publish(args: PublishArgs, json: bool) -> anyhow::Result<ExitCode> {
    let (url, connect) = args.connection.resolve(&args.url)?;
    let duration = args
        .duration
        .map(|d| seconds("--duration", d))
        .transpose()?;
    let config = PublishConfig {
        url,
        publishers: args.publishers,
        file: args.file,
        duration,
        connect,
    };
    let report = run_publish(config, interrupted())
        .await
        .context("bench publish")?;
    emit(if json {
        report.to_json() + "\n"
    } else {
        report.to_table()
    });
    Ok(if report.connected == 0 {
        ExitCode::from(crate::EXIT_FAILED)
    } else {
        ExitCode::SUCCESS
    })
}
