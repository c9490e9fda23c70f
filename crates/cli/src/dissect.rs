//! `rtmpkit dissect`: read a pcap/pcapng capture and show its RTMP and RTP/MPEG-TS sessions.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Read, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rtmpkit_dissect::rtmp::{RtmpConfig, RtmpEvent, TcpDecodeAs};
use rtmpkit_dissect::rtp_ts::DecodeAs;
use rtmpkit_dissect::view::{Format, View, make_view};
use rtmpkit_dissect::{
    CaptureReader, DissectConfig, DissectError, FrameCtx, FrameObserver, dissect_capture,
};

/// Arguments of `rtmpkit dissect`.
#[derive(Debug, Args)]
pub struct DissectArgs {
    /// Capture file (pcap or pcapng), or `-` for standard input.
    pub input: String,
    /// Output: `summary` (one line per frame, like tshark), `tree` (every field), `json` (one
    /// object per message/datagram, then per connection), `flows` (one line per connection).
    #[arg(long, short = 'f', default_value = "summary")]
    pub format: Format,
    /// Decode a port as a protocol, as tshark's -d: `tcp.port==N,rtmp`, `udp.port==N,rtp` or
    /// `udp.port==N,mp2t` (repeatable). RTMP is recognised from its handshake on any port and
    /// on 1935 without one; RTP/MPEG-TS from their content.
    #[arg(long = "decode-as", short = 'd', value_name = "RULE")]
    pub decode_as: Vec<String>,
    /// Chunk size of streams joined without their Set Chunk Size (captures that start
    /// mid-connection, decoding after lost bytes). Without it, 128 is assumed and the size is
    /// detected from chunk boundaries.
    #[arg(long, value_name = "BYTES", value_parser = clap::value_parser!(u32).range(1..=0x7FFF_FFFF))]
    pub chunk_size: Option<u32>,
    /// Recognise RTMP only from its handshake or --decode-as, not from port 1935.
    #[arg(long)]
    pub no_default_port: bool,
    /// Recognise RTP and MPEG-TS over UDP only through --decode-as, not from their content.
    #[arg(long)]
    pub no_udp_heuristics: bool,
    /// Do not read a file twice to show "response in frame N" beside requests (tree, json).
    #[arg(long)]
    pub single_pass: bool,
    /// Progress bar on stderr: `auto` (when stderr is a terminal), `always` or `never`.
    #[arg(long, default_value = "auto", value_parser = ["auto", "always", "never"])]
    pub progress: String,
}

/// Counts the bytes read, for the progress bar.
struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Moves the progress bar every few hundred frames, then hands the frame on.
struct WithProgress<'a, O> {
    inner: &'a mut O,
    bar: Option<&'a ProgressBar>,
    count: Arc<AtomicU64>,
    frames: u64,
}

impl<O: FrameObserver> FrameObserver for WithProgress<'_, O> {
    fn frame(&mut self, f: &FrameCtx<'_>, events: &[RtmpEvent]) -> io::Result<()> {
        self.frames += 1;
        if self.frames.is_multiple_of(512)
            && let Some(bar) = self.bar
        {
            bar.set_position(self.count.load(Ordering::Relaxed));
        }
        self.inner.frame(f, events)
    }

    fn trailing(&mut self, events: &[RtmpEvent]) -> io::Result<()> {
        self.inner.trailing(events)
    }
}

/// Ignores everything (the first pass only collects request/response pairs).
struct Nothing;

impl FrameObserver for Nothing {
    fn frame(&mut self, _: &FrameCtx<'_>, _: &[RtmpEvent]) -> io::Result<()> {
        Ok(())
    }
    fn trailing(&mut self, _: &[RtmpEvent]) -> io::Result<()> {
        Ok(())
    }
}

fn config(args: &DissectArgs) -> anyhow::Result<DissectConfig> {
    let mut tcp = Vec::new();
    let mut udp = Vec::new();
    for rule in &args.decode_as {
        if rule.trim_start().starts_with("tcp") {
            tcp.push(rule.parse::<TcpDecodeAs>()?);
        } else if rule.trim_start().starts_with("udp") {
            udp.push(rule.parse::<DecodeAs>()?);
        } else {
            bail!(
                "bad decode-as rule '{rule}': expected tcp.port==N,rtmp, udp.port==N,rtp or udp.port==N,mp2t"
            );
        }
    }
    Ok(DissectConfig {
        rtmp: RtmpConfig {
            decode_as: tcp,
            no_default_port: args.no_default_port,
            chunk_size: args.chunk_size,
            transactions: None,
            keep_media_bodies: false,
        },
        udp_rules: udp,
        no_udp_heuristics: args.no_udp_heuristics,
    })
}

fn open(path: &str) -> anyhow::Result<(Box<dyn Read + Send>, Option<u64>)> {
    if path == "-" {
        return Ok((Box::new(io::stdin()), None));
    }
    let f = File::open(path).with_context(|| format!("cannot open {path}"))?;
    let len = f.metadata().ok().map(|m| m.len());
    Ok((Box::new(f), len))
}

fn progress_bar(args: &DissectArgs, total: Option<u64>, pass: &str) -> Option<ProgressBar> {
    let show = match args.progress.as_str() {
        "always" => true,
        "never" => false,
        _ => io::stderr().is_terminal() && total.is_none_or(|t| t > 16 << 20),
    };
    if !show {
        return None;
    }
    let bar = match total {
        Some(t) => ProgressBar::with_draw_target(Some(t), ProgressDrawTarget::stderr()),
        None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
    };
    let template = if total.is_some() {
        "{prefix} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}"
    } else {
        "{prefix} {spinner} {bytes} {bytes_per_sec}"
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix(pass.to_owned());
    bar.enable_steady_tick(Duration::from_millis(200));
    Some(bar)
}

fn run_pass(
    args: &DissectArgs,
    config: DissectConfig,
    observer: &mut impl FrameObserver,
    pass: &str,
) -> anyhow::Result<Result<rtmpkit_dissect::DissectReport, DissectError>> {
    let (input, total) = open(&args.input)?;
    let count = Arc::new(AtomicU64::new(0));
    let input = Counting {
        inner: input,
        count: count.clone(),
    };
    let bar = progress_bar(args, total, pass);
    let mut wrapped = WithProgress {
        inner: observer,
        bar: bar.as_ref(),
        count,
        frames: 0,
    };
    // No BufReader: the capture reader keeps its own buffers, an extra one only adds a copy.
    // Reads run on a thread of their own, overlapping the decoding.
    let result = match CaptureReader::with_read_thread(input) {
        Ok(reader) => dissect_capture(reader, config, &mut wrapped),
        Err(e) => Err(DissectError::Capture(e)),
    };
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Ok(result)
}

/// Runs `rtmpkit dissect`.
pub fn run(args: DissectArgs) -> ExitCode {
    match run_inner(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rtmpkit dissect: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn run_inner(args: DissectArgs) -> anyhow::Result<()> {
    let mut config = config(&args)?;
    if args.format.wants_responses() && args.input != "-" && !args.single_pass {
        let report = run_pass(&args, config.clone(), &mut Nothing, "pass 1/2")?
            .map_err(anyhow::Error::from)?;
        let mut analyzer = report.analyzer;
        config.rtmp.transactions = Some(analyzer.take_transactions());
    }
    let stdout = io::stdout();
    // The summary view gathers its lines into large writes itself: a BufWriter would only
    // copy them once more (and stdout's line buffering passes writes ending in a newline on).
    let out: Box<dyn Write> = if args.format == Format::Summary {
        Box::new(stdout.lock())
    } else {
        Box::new(BufWriter::with_capacity(1 << 20, stdout.lock()))
    };
    let mut view: Box<dyn View> = make_view(args.format, out);
    let pass = if config.rtmp.transactions.is_some() {
        "pass 2/2"
    } else {
        "reading"
    };
    let report = match run_pass(&args, config, &mut view, pass)? {
        Ok(r) => r,
        Err(DissectError::Output(e)) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    match view.finish(&report) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("writing the output"),
    }
}
