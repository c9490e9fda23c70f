//! `rtmpkit`: one binary, one subcommand per job. Each subcommand module parses its arguments and
//! calls into a library crate; nothing protocol-related lives here.

mod serve;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "rtmpkit",
    version,
    about = "Live streaming toolkit: RTMP server, client, dissector, load generator"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the live server: RTMP publish and play.
    Serve(serve::ServeArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("rtmpkit: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
