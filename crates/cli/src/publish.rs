//! `rtmpkit publish FILE URL`.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use rtmpkit_client::{Backoff, FlvPublishOptions, FlvSource, PublishProgress, publish_flv};

use crate::connection_args::ConnectionArgs;
use crate::progress::ProgressLine;

#[derive(Debug, Args)]
pub struct PublishArgs {
    /// FLV file to publish, or - for standard input.
    pub file: String,
    /// rtmp://host[:port]/app[/instance]/stream[?query] or rtmps://…
    pub url: String,
    /// Send as fast as the server accepts instead of in real time.
    #[arg(long)]
    pub fast: bool,
    /// Start again at the end of the file, timestamps continuing.
    #[arg(long = "loop")]
    pub looping: bool,
    /// Survive lost connections and server restarts: reconnect with backoff and resume at the
    /// next keyframe. Also follows the server's Enhanced RTMP reconnect requests.
    #[arg(long)]
    pub reconnect: bool,
    /// With --reconnect: give up after this many seconds without a connection.
    #[arg(long, value_name = "SECONDS", default_value_t = 120.0)]
    pub reconnect_timeout: f64,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// Resolves after the first Ctrl-C; a second one exits at once.
async fn interrupted() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
    tokio::spawn(async {
        if tokio::signal::ctrl_c().await.is_ok() {
            std::process::exit(130);
        }
    });
}

pub async fn run(args: PublishArgs) -> anyhow::Result<()> {
    let (url, mut options) = args.connection.resolve(&args.url)?;
    options.advertise_reconnect = args.reconnect;
    let source = if args.file == "-" {
        FlvSource::Stdin
    } else {
        FlvSource::File(PathBuf::from(&args.file))
    };
    let reconnect = if args.reconnect {
        let give_up = Duration::try_from_secs_f64(args.reconnect_timeout)
            .map_err(|_| anyhow::anyhow!("--reconnect-timeout: not a duration"))?;
        Some(Backoff {
            give_up_after: Some(give_up),
            ..Backoff::default()
        })
    } else {
        None
    };
    let job = FlvPublishOptions {
        fast: args.fast,
        looping: args.looping,
        reconnect,
    };
    let mut line = ProgressLine::new();
    let mut show = |p: &PublishProgress| {
        let extra = if p.reconnects > 0 {
            format!("  {} reconnects", p.reconnects)
        } else {
            String::new()
        };
        line.update(p.media_ms, p.media_bytes, p.frames, &extra);
    };
    let result = publish_flv(source, &url, &options, &job, interrupted(), &mut show).await;
    line.finish();
    let done = result?;
    tracing::info!(
        frames = done.frames,
        media_ms = done.media_ms,
        reconnects = done.reconnects,
        "published {url}"
    );
    Ok(())
}
