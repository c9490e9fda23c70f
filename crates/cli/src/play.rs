//! `rtmpkit play URL -o FILE`.

use std::time::Duration;

use anyhow::Context;
use clap::Args;
use rtmpkit_client::{FlvRecorder, PlayEvent, PlayOptions, Player};
use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::connection_args::ConnectionArgs;
use crate::progress::ProgressLine;

#[derive(Debug, Args)]
pub struct PlayArgs {
    /// rtmp://host[:port]/app[/instance]/stream[?query] or rtmps://…
    pub url: String,
    /// FLV file to write, or - for standard output (e.g. `| ffplay -`).
    #[arg(short, long, value_name = "FILE")]
    pub output: String,
    /// Stop after this many seconds of media (counted from the first keyframe written).
    #[arg(long, value_name = "SECONDS")]
    pub duration: Option<f64>,
    /// Buffer length announced to the server (User Control Set Buffer Length), in ms.
    #[arg(long, value_name = "MS", default_value_t = 3000)]
    pub buffer: u32,
    /// play's start argument in ms: -2000 live or recorded, -1000 live only, >= 0 recorded
    /// from that position.
    #[arg(long, value_name = "MS", default_value_t = -2000.0, allow_hyphen_values = true)]
    pub start: f64,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

enum Stop {
    Ended(rtmpkit_client::EndReason),
    Duration,
    Interrupted,
    OutputClosed,
}

async fn open_output(path: &str) -> anyhow::Result<Box<dyn AsyncWrite + Unpin + Send>> {
    if path == "-" {
        return Ok(Box::new(tokio::io::stdout()));
    }
    let file = tokio::fs::File::create(path)
        .await
        .with_context(|| format!("cannot create {path}"))?;
    Ok(Box::new(tokio::io::BufWriter::new(file)))
}

pub async fn run(args: PlayArgs) -> anyhow::Result<()> {
    let (url, options) = args.connection.resolve(&args.url)?;
    let limit_ms = match args.duration {
        Some(d) => Some(
            Duration::try_from_secs_f64(d)
                .map_err(|_| anyhow::anyhow!("--duration {d}: not a duration"))?
                .as_millis(),
        ),
        None => None,
    };
    let play = PlayOptions {
        buffer_ms: args.buffer,
        start: args.start,
    };
    let mut player = Player::connect(&url, &options, &play).await?;
    // Created with the first bytes, so a refused play leaves no empty file behind.
    let mut output: Option<Box<dyn AsyncWrite + Unpin + Send>> = None;
    let mut recorder = FlvRecorder::new();
    let mut line = ProgressLine::new();
    let mut buf = Vec::new();
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let stop = loop {
        let event = tokio::select! {
            _ = &mut ctrl_c => break Stop::Interrupted,
            e = player.next() => e?,
        };
        if let PlayEvent::End(reason) = event {
            break Stop::Ended(reason);
        }
        if let (Some(limit), PlayEvent::Media { timestamp, .. }) = (limit_ms, &event)
            && recorder.progress().started
            && u128::from(recorder.elapsed_to(*timestamp)) > limit
        {
            break Stop::Duration;
        }
        buf.clear();
        recorder.push(&event, &mut buf)?;
        if !buf.is_empty() {
            let out = match &mut output {
                Some(out) => out,
                None => output.insert(open_output(&args.output).await?),
            };
            match out.write_all(&buf).await {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => break Stop::OutputClosed,
                Err(e) => return Err(e).with_context(|| format!("writing {}", args.output)),
            }
        }
        let p = recorder.progress();
        line.update(u64::from(p.duration_ms), p.bytes, p.frames, "");
    };
    line.finish();
    let flushed = match &mut output {
        Some(out) => out.flush().await,
        None => Ok(()),
    };
    match flushed {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        Err(e) => return Err(e).with_context(|| format!("writing {}", args.output)),
    }
    let p = recorder.progress();
    let why = match stop {
        Stop::Ended(reason) => format!("stream ended ({reason:?})"),
        Stop::Duration => "duration reached".into(),
        Stop::Interrupted => "interrupted".into(),
        Stop::OutputClosed => "output closed".into(),
    };
    tracing::info!(frames = p.frames, bytes = p.bytes, "{why}");
    if let Err(e) = player.close().await {
        tracing::debug!("closing: {e}");
    }
    if !p.started {
        anyhow::bail!("{url}: {why} before any keyframe arrived; nothing was written");
    }
    Ok(())
}
