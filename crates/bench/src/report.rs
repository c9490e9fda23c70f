//! The play report: players' tallies summed up, as JSON or as a table.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::tally::Tally;

/// Percentiles of a sample, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Percentiles {
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
    /// How many values the percentiles are over.
    pub samples: usize,
}

impl Percentiles {
    /// Nearest-rank percentiles of microsecond values, in ms; `None` for no values.
    pub fn of_us(values: &mut [u64]) -> Option<Percentiles> {
        if values.is_empty() {
            return None;
        }
        values.sort_unstable();
        let ms = |v: u64| v as f64 / 1000.0;
        Some(Percentiles {
            p50: ms(nearest_rank(values, 50.0)),
            p99: ms(nearest_rank(values, 99.0)),
            max: ms(values[values.len() - 1]),
            samples: values.len(),
        })
    }
}

/// The nearest-rank percentile of sorted, non-empty values.
fn nearest_rank(sorted: &[u64], p: f64) -> u64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Smallest, median and largest of a sample.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Spread {
    pub min: f64,
    pub median: f64,
    pub max: f64,
}

impl Spread {
    fn of(values: &mut [f64]) -> Option<Spread> {
        if values.is_empty() {
            return None;
        }
        values.sort_unstable_by(f64::total_cmp);
        Some(Spread {
            min: values[0],
            median: values[(values.len() - 1) / 2],
            max: values[values.len() - 1],
        })
    }
}

/// The server process's costs over the window (from `/proc/PID`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ServerUsage {
    pub pid: u32,
    /// User plus system CPU time spent in the window.
    pub cpu_s: f64,
    /// Bytes the players received in the window, in GB (10^9).
    pub gb_delivered: f64,
    /// `cpu_s / gb_delivered`.
    pub cpu_s_per_gb: Option<f64>,
    /// Resident memory before the players connected and at the end of the window.
    pub rss_before_kib: u64,
    pub rss_kib: u64,
    /// `(rss_kib - rss_before_kib) / connected players`.
    pub rss_per_player_kib: Option<f64>,
}

/// The busy time of the core the server is pinned to over the window (from `/proc/stat`):
/// its process time plus the network work done for it outside the process.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CoreUsage {
    pub core: usize,
    pub busy_s: f64,
    /// `busy_s` per GB the players received in the window.
    pub busy_s_per_gb: Option<f64>,
    /// Time the hypervisor took from the core while it had work (0 on bare metal): the
    /// larger, the noisier the run.
    pub steal_s: f64,
}

/// `seconds` per GB (10^9 bytes) of `bytes`; `None` when nothing was delivered.
pub(crate) fn per_gb(seconds: f64, bytes: u64) -> Option<f64> {
    (bytes > 0).then(|| seconds / (bytes as f64 / 1e9))
}

/// How one player's run ended.
#[derive(Debug, Clone)]
pub struct PlayerOutcome {
    pub tally: Tally,
    /// Why it never got to play (`None`: it did).
    pub failure: Option<String>,
    /// Why its connection ended before the run did, after it started playing.
    pub dropped: Option<String>,
}

/// Everything `rtmpkit bench play` measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlayReport {
    pub url: String,
    /// `rtmp` or `http-flv`.
    pub protocol: String,
    pub players: usize,
    pub streams: usize,
    /// Source addresses the connections were spread over (1: the system's choice).
    pub source_addresses: usize,
    /// Seconds from the first connection attempt until every player was playing or had failed.
    pub ramp_s: f64,
    /// Length of the measurement window, seconds.
    pub window_s: f64,
    pub connected: usize,
    pub failed: usize,
    /// Failures by reason.
    pub failures: BTreeMap<String, usize>,
    /// Connected players that received media through the window and ended it at the live
    /// edge, without being skipped ahead.
    pub kept_up: usize,
    /// Connected players more than `behind_threshold_ms` behind the live edge at the end.
    pub behind: usize,
    /// Connected players that the server skipped ahead during the window.
    pub skipped: usize,
    /// Connected players that never received a frame.
    pub without_media: usize,
    /// Connected players whose connection ended before the run did.
    pub dropped: usize,
    pub behind_threshold_ms: u64,
    /// Received bitrate per player over the window, kbit/s.
    pub bitrate_kbps: Option<Spread>,
    /// Bytes all players received in the window.
    pub bytes_received: u64,
    /// Time to first frame, from the connection attempt.
    pub ttff_ms: Option<Percentiles>,
    /// Time to first frame from the play request: what the server's start costs, without
    /// the handshake and commands before it (which a busy load generator also delays).
    pub first_frame_after_play_ms: Option<Percentiles>,
    /// How far behind the live edge players were at the end.
    pub lag_ms: Option<Percentiles>,
    /// End-to-end latency of live video frames in the window (send time embedded by
    /// `rtmpkit bench publish`); `None` when the stream carries none.
    pub latency_ms: Option<Percentiles>,
    pub server: Option<ServerUsage>,
    /// The server's core (`--server-core`).
    pub server_core: Option<CoreUsage>,
    /// CPU seconds this process used in the window (to see whether the load generator kept up).
    pub bench_cpu_s: f64,
}

/// What the orchestration knows besides the players' outcomes.
#[derive(Debug, Clone)]
pub struct RunFacts {
    pub url: String,
    pub protocol: String,
    pub streams: usize,
    pub source_addresses: usize,
    pub ramp_s: f64,
    pub window_s: f64,
    pub window_end_us: u64,
    pub behind_threshold_ms: u64,
    pub bench_cpu_s: f64,
    /// The server's core and its times in the window.
    pub server_core: Option<(usize, crate::procstat::CoreTimes)>,
}

impl PlayReport {
    /// Sums the players up.
    pub fn build(
        facts: RunFacts,
        outcomes: &[PlayerOutcome],
        server: impl FnOnce(usize, u64) -> Option<ServerUsage>,
    ) -> PlayReport {
        let mut failures = BTreeMap::new();
        let playing: Vec<&PlayerOutcome> = outcomes
            .iter()
            .filter(|o| match &o.failure {
                Some(why) => {
                    *failures.entry(why.clone()).or_insert(0) += 1;
                    false
                }
                None => true,
            })
            .collect();
        let global_min = playing
            .iter()
            .map(|o| o.tally.min_offset_ms)
            .min()
            .unwrap_or(0);
        let (mut kept_up, mut behind, mut skipped, mut without_media, mut dropped) =
            (0, 0, 0, 0, 0);
        let mut lags = Vec::new();
        let mut rates = Vec::new();
        let mut ttff = Vec::new();
        let mut after_play = Vec::new();
        let mut latency = Vec::new();
        let mut bytes_received = 0;
        for o in &playing {
            let t = &o.tally;
            bytes_received += t.window_bytes();
            if facts.window_s > 0.0 {
                rates.push(t.window_bytes() as f64 * 8.0 / 1000.0 / facts.window_s);
            }
            ttff.extend(t.ttff_us());
            after_play.extend(t.first_frame_after_play_us());
            latency.extend(t.latencies_us.iter().map(|&l| u64::from(l)));
            let lag = t.lag_at(facts.window_end_us, global_min);
            lags.extend(lag.map(|ms| ms * 1000));
            let is_behind = lag.is_some_and(|ms| ms > facts.behind_threshold_ms);
            behind += usize::from(is_behind);
            skipped += usize::from(t.skips > 0);
            without_media += usize::from(lag.is_none());
            dropped += usize::from(o.dropped.is_some());
            if lag.is_some() && !is_behind && t.skips == 0 && o.dropped.is_none() {
                kept_up += 1;
            }
        }
        let server = server(playing.len(), bytes_received);
        PlayReport {
            url: facts.url,
            protocol: facts.protocol,
            players: outcomes.len(),
            streams: facts.streams,
            source_addresses: facts.source_addresses,
            ramp_s: facts.ramp_s,
            window_s: facts.window_s,
            connected: playing.len(),
            failed: outcomes.len() - playing.len(),
            failures,
            kept_up,
            behind,
            skipped,
            without_media,
            dropped,
            behind_threshold_ms: facts.behind_threshold_ms,
            bitrate_kbps: Spread::of(&mut rates),
            bytes_received,
            ttff_ms: Percentiles::of_us(&mut ttff),
            first_frame_after_play_ms: Percentiles::of_us(&mut after_play),
            lag_ms: Percentiles::of_us(&mut lags),
            latency_ms: Percentiles::of_us(&mut latency),
            server,
            server_core: facts.server_core.map(|(core, t)| CoreUsage {
                core,
                busy_s: t.busy_s,
                busy_s_per_gb: per_gb(t.busy_s, bytes_received),
                steal_s: t.steal_s,
            }),
            bench_cpu_s: facts.bench_cpu_s,
        }
    }

    /// The report as pretty-printed JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    /// The report as a human-readable table.
    pub fn to_table(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "rtmpkit bench play {}: {} {} players on {} stream{}, {:.1} s window (ramp {:.1} s)",
            self.url,
            self.players,
            self.protocol,
            self.streams,
            if self.streams == 1 { "" } else { "s" },
            self.window_s,
            self.ramp_s
        );
        let row = |s: &mut String, name: &str, value: String| {
            let _ = writeln!(s, "  {name:<14}{value}");
        };
        row(
            &mut s,
            "players",
            format!("{} connected, {} failed", self.connected, self.failed),
        );
        for (why, n) in &self.failures {
            row(&mut s, "", format!("{n} × {why}"));
        }
        row(
            &mut s,
            "kept up",
            format!(
                "{} ({} behind by > {} ms, {} skipped ahead, {} without media, {} dropped)",
                self.kept_up,
                self.behind,
                self.behind_threshold_ms,
                self.skipped,
                self.without_media,
                self.dropped
            ),
        );
        if let Some(b) = &self.bitrate_kbps {
            row(
                &mut s,
                "bitrate",
                format!(
                    "min {:.0} kbit/s, median {:.0} kbit/s, max {:.0} kbit/s",
                    b.min, b.median, b.max
                ),
            );
        }
        row(
            &mut s,
            "received",
            format!("{:.1} MB in the window", self.bytes_received as f64 / 1e6),
        );
        let pct = |p: &Option<Percentiles>| match p {
            Some(p) => format!(
                "p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} samples)",
                p.p50, p.p99, p.max, p.samples
            ),
            None => "-".to_owned(),
        };
        row(&mut s, "first frame", pct(&self.ttff_ms));
        row(&mut s, "  after play", pct(&self.first_frame_after_play_ms));
        row(&mut s, "lag at end", pct(&self.lag_ms));
        let latency = match &self.latency_ms {
            Some(_) => pct(&self.latency_ms),
            None => "- (no send times: publish with rtmpkit bench publish)".to_owned(),
        };
        row(&mut s, "latency", latency);
        if let Some(u) = &self.server {
            let per_gb = u
                .cpu_s_per_gb
                .map_or("-".to_owned(), |v| format!("{v:.2} CPU s/GB"));
            row(
                &mut s,
                "server cpu",
                format!(
                    "{:.2} s for {:.3} GB: {per_gb} (pid {})",
                    u.cpu_s, u.gb_delivered, u.pid
                ),
            );
            let per_player = u
                .rss_per_player_kib
                .map_or("-".to_owned(), |v| format!("{v:.1} KiB per player"));
            row(
                &mut s,
                "server memory",
                format!("{} KiB → {} KiB: {per_player}", u.rss_before_kib, u.rss_kib),
            );
        }
        if let Some(c) = &self.server_core {
            let per_gb = c
                .busy_s_per_gb
                .map_or("-".to_owned(), |v| format!("{v:.2} s/GB"));
            row(
                &mut s,
                "server core",
                format!(
                    "cpu{} busy {:.2} s: {per_gb} (steal {:.2} s)",
                    c.core, c.busy_s, c.steal_s
                ),
            );
        }
        row(&mut s, "bench cpu", format!("{:.2} s", self.bench_cpu_s));
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tally::Track;

    #[test]
    fn percentiles_nearest_rank() {
        let mut v: Vec<u64> = (1..=100).map(|i| i * 1000).collect();
        let p = Percentiles::of_us(&mut v).unwrap();
        assert_eq!((p.p50, p.p99, p.max, p.samples), (50.0, 99.0, 100.0, 100));
        let mut one = vec![2500];
        let p = Percentiles::of_us(&mut one).unwrap();
        assert_eq!((p.p50, p.p99, p.max), (2.5, 2.5, 2.5));
        assert_eq!(Percentiles::of_us(&mut []), None);
        let s = Spread::of(&mut [3.0, 1.0, 2.0, 4.0]).unwrap();
        assert_eq!((s.min, s.median, s.max), (1.0, 2.0, 4.0));
    }

    fn playing(frames: &[(u32, u64)]) -> PlayerOutcome {
        let mut t = Tally::new(0);
        t.play_sent(10, 0);
        t.open_window();
        for &(ts, at) in frames {
            t.bytes += 1000;
            t.on_media(Track::Audio, ts, &[0xaf, 1], at, 0);
        }
        t.close_window();
        PlayerOutcome {
            tally: t,
            failure: None,
            dropped: None,
        }
    }

    #[test]
    fn build_counts_players() {
        let facts = RunFacts {
            url: "rtmp://x/live/s".into(),
            protocol: "rtmp".into(),
            streams: 1,
            source_addresses: 1,
            ramp_s: 0.5,
            window_s: 1.0,
            window_end_us: 2_000_000,
            behind_threshold_ms: 500,
            bench_cpu_s: 0.1,
            server_core: Some((
                1,
                crate::procstat::CoreTimes {
                    busy_s: 0.6,
                    steal_s: 0.05,
                },
            )),
        };
        let good = playing(&[(0, 1_000_000), (1000, 1_990_000)]);
        // Stopped receiving a second before the end.
        let stalled = playing(&[(0, 1_000_000)]);
        let failed = PlayerOutcome {
            tally: Tally::new(0),
            failure: Some("refused: NetStream.Play.StreamNotFound".into()),
            dropped: None,
        };
        let r = PlayReport::build(facts, &[good, stalled, failed], |n, bytes| {
            assert_eq!((n, bytes), (2, 3000));
            None
        });
        assert_eq!((r.players, r.connected, r.failed), (3, 2, 1));
        assert_eq!(r.kept_up, 1);
        assert_eq!(r.behind, 1);
        assert_eq!(r.failures.values().sum::<usize>(), 1);
        let b = r.bitrate_kbps.unwrap();
        assert_eq!((b.min, b.max), (8.0, 16.0));
        assert_eq!(r.ttff_ms.unwrap().samples, 2);
        // Play went out at 10 µs, the first frame came at 1 s.
        let after_play = r.first_frame_after_play_ms.unwrap();
        assert_eq!((after_play.samples, after_play.max), (2, 999.99));
        assert!(r.latency_ms.is_none());
        let core = r.server_core.unwrap();
        assert_eq!((core.core, core.busy_s, core.steal_s), (1, 0.6, 0.05));
        assert!((core.busy_s_per_gb.unwrap() - 0.6 / 3e-6).abs() < 1e-3);
        let json: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
        assert_eq!(json["connected"], 2);
        assert!(
            r.to_table().contains("cpu1 busy 0.60 s"),
            "{}",
            r.to_table()
        );
        assert!(
            r.to_table().contains("2 connected, 1 failed"),
            "{}",
            r.to_table()
        );
    }
}
