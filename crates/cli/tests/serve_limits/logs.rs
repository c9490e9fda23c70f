//! The server's log lines: who ended how.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::support::ServerProcess;

/// Whether `line` names `peer` (the `peer=` field, not a longer port that starts the same).
pub fn names_peer(line: &str, peer: SocketAddr) -> bool {
    let needle = format!("peer={peer}");
    line.match_indices(&needle).any(|(i, _)| {
        !line[i + needle.len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit())
    })
}

/// The lines that say how `peer`'s connection ended.
pub fn ending_lines(server: &ServerProcess, peer: SocketAddr) -> Vec<String> {
    server
        .log()
        .into_iter()
        .filter(|l| {
            names_peer(l, peer)
                && (l.contains("connection closed: ") || l.contains("connection ended: "))
        })
        .collect()
}

/// Waits for the one line that says `peer`'s connection ended, and checks it gives `reason`.
pub fn expect_ending(
    server: &ServerProcess,
    peer: SocketAddr,
    reason: &str,
    timeout: Duration,
) -> Result<String, String> {
    let end = Instant::now() + timeout;
    loop {
        let lines = ending_lines(server, peer);
        match lines.as_slice() {
            [line] if line.contains(reason) => return Ok(line.clone()),
            [line] => return Err(format!("ended for another reason than `{reason}`: {line}")),
            [] if Instant::now() < end => std::thread::sleep(Duration::from_millis(20)),
            [] => return Err(format!("no log line says how {peer} ended")),
            many => return Err(format!("{} lines for one connection: {many:?}", many.len())),
        }
    }
}

/// Waits until `n` log lines satisfy `pred`.
pub fn wait_log_count(
    server: &ServerProcess,
    n: usize,
    timeout: Duration,
    pred: impl Fn(&str) -> bool,
) -> bool {
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        if server.log().iter().filter(|l| pred(l)).count() >= n {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

pub fn play_line(stream: &str) -> impl Fn(&str) -> bool + '_ {
    move |l: &str| l.contains(": play ") && l.contains(&format!("stream=live/{stream}"))
}
