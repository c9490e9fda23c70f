//! The progress line on stderr: only when stderr is a terminal, at most twice a second.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

pub struct ProgressLine {
    enabled: bool,
    last: Option<Instant>,
    printed: bool,
}

impl ProgressLine {
    pub fn new() -> ProgressLine {
        ProgressLine {
            enabled: std::io::stderr().is_terminal(),
            last: None,
            printed: false,
        }
    }

    /// Shows `media_ms` of media, `bytes` of it, `frames` frames, and `extra`.
    pub fn update(&mut self, media_ms: u64, bytes: u64, frames: u64, extra: &str) {
        if !self.enabled {
            return;
        }
        let now = Instant::now();
        if self
            .last
            .is_some_and(|t| now.duration_since(t) < Duration::from_millis(500))
        {
            return;
        }
        self.last = Some(now);
        self.printed = true;
        let kbps = (bytes * 8).checked_div(media_ms).unwrap_or(0);
        let secs = media_ms / 1000;
        let line = format!(
            "\r{:02}:{:02}:{:02}.{:01}  {kbps:>6} kbit/s  {frames:>7} frames{extra}\x1b[K",
            secs / 3600,
            secs / 60 % 60,
            secs % 60,
            media_ms % 1000 / 100,
        );
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(line.as_bytes());
        let _ = err.flush();
    }

    /// Ends the line so later messages start on their own.
    pub fn finish(&mut self) {
        if self.printed {
            eprintln!();
            self.printed = false;
        }
    }
}
