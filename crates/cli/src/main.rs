//! `rtmpkit`: one binary for rtmpkit's jobs. Each subcommand parses its arguments and calls a
//! library crate; nothing protocol-related lives here.

mod bench;
mod connection_args;
mod dissect;
mod play;
mod progress;
mod publish;
mod serve;

use std::process::ExitCode;

use clap::{ArgAction, Parser, Subcommand};

/// Exit status when the server refused (connect rejected, publish refused, stream not found).
const EXIT_REFUSED: u8 = 3;
/// Exit status for any other failure.
const EXIT_FAILED: u8 = 1;
/// Exit status for arguments that cannot be used (as clap's own usage errors).
const EXIT_USAGE: u8 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "rtmpkit",
    version,
    about = "Live streaming toolkit: RTMP server, client, dissector, load generator"
)]
struct Cli {
    /// More log output on stderr (-v info, -vv debug, -vvv trace).
    #[arg(short, long, action = ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the live server: RTMP publish and play.
    Serve(serve::ServeArgs),
    /// Publish an FLV file (or standard input) to an RTMP(S) server.
    Publish(publish::PublishArgs),
    /// Play a stream from an RTMP(S) server into an FLV file (or standard output).
    Play(play::PlayArgs),
    /// Load generator: many players or real-time publishers, with latency and bitrate figures.
    Bench(bench::BenchArgs),
    /// Read a pcap/pcapng capture and show its RTMP and RTP/MPEG-TS sessions.
    Dissect(dissect::DissectArgs),
}

fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => tracing::Level::WARN,
        1 => tracing::Level::INFO,
        2 => tracing::Level::DEBUG,
        _ => tracing::Level::TRACE,
    };
    tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The server runs its own runtime (its worker count is an option) and logging (its filter
    // is RTMPKIT_LOG, and --trace turns the protocol trace on).
    let command = match cli.command {
        Command::Serve(args) => {
            return match serve::run(args, cli.verbose) {
                Ok(code) => code,
                Err(e) => {
                    eprintln!("rtmpkit: {e:#}");
                    ExitCode::from(EXIT_FAILED)
                }
            };
        }
        Command::Bench(args) => return bench::run(args, cli.verbose),
        Command::Dissect(args) => return dissect::run(args),
        other => other,
    };
    init_logging(cli.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("rtmpkit: cannot start the runtime: {e}");
            return ExitCode::from(EXIT_FAILED);
        }
    };
    let result = runtime.block_on(async {
        match command {
            Command::Publish(args) => publish::run(args).await,
            Command::Play(args) => play::run(args).await,
            Command::Serve(_) | Command::Bench(_) | Command::Dissect(_) => {
                unreachable!("run above")
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rtmpkit: {e:#}");
            ExitCode::from(exit_status(&e))
        }
    }
}

/// The exit status for an error: refusals by the server, unusable arguments, anything else.
fn exit_status(e: &anyhow::Error) -> u8 {
    use rtmpkit_client::{ClientError, ConnArgError, SocksError, UrlError};
    if let Some(c) = e.downcast_ref::<ClientError>() {
        return match c {
            c if c.is_refusal() => EXIT_REFUSED,
            ClientError::Url(_) | ClientError::ConnArg(_) => EXIT_USAGE,
            _ => EXIT_FAILED,
        };
    }
    let usage = e.downcast_ref::<UrlError>().is_some()
        || e.downcast_ref::<ConnArgError>().is_some()
        || matches!(
            e.downcast_ref::<SocksError>(),
            Some(SocksError::BadProxy(_))
        );
    if usage { EXIT_USAGE } else { EXIT_FAILED }
}
