//! `rtmpkit serve` at its limits: hostile peers, fifty players, a stalled player, shutdown
//! under load, the connection limit, messages in one huge chunk. Every wait is bounded;
//! everything is on 127.0.0.1.
//!
//! * [`hostile`]: malformed and malicious peers are closed with one log line naming them and
//!   why, while a player goes on; play of `../` names.
//! * [`load`]: fifty players of one stream; a player that stops reading.
//! * [`lifecycle`]: SIGTERM with clients connected; `max_connections`; big single-chunk frames.
//!
//! Helpers: [`logs`] (the server's log lines), [`media`] (synthetic streams, comparisons),
//! [`peers`] (raw peers built byte by byte on the protocol core).

mod support;

#[path = "serve_limits/hostile.rs"]
mod hostile;
#[path = "serve_limits/lifecycle.rs"]
mod lifecycle;
#[path = "serve_limits/load.rs"]
mod load;
#[path = "serve_limits/logs.rs"]
mod logs;
#[path = "serve_limits/media.rs"]
mod media;
#[path = "serve_limits/peers.rs"]
mod peers;

use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::runtime::Runtime;

use peers::wait_closed;
use support::{ServerProcess, TempDir, TestClient, write_config};

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn start_with(dir: &TempDir, config: &str) -> ServerProcess {
    let path = write_config(dir, "rtmpkit.toml", config);
    ServerProcess::start(&["--config", path.to_str().expect("utf-8 temp path")])
}

/// Closes our side and reads until the server closes its side, so the server gets everything
/// we wrote (a close with unread input would reset the connection).
async fn finish(client: &mut TestClient) {
    let _ = client.flush().await;
    let _ = client.socket.shutdown().await;
    let _ = wait_closed(&mut client.socket, Duration::from_secs(5)).await;
}
