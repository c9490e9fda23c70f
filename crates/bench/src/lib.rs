//! rtmpkit-bench: the load generator behind `rtmpkit bench`.
//!
//! | module | what it holds |
//! |---|---|
//! | [`play`] | [`run_play`](play::run_play): thousands of RTMP or HTTP-FLV players in one process |
//! | [`publish`] | [`run_publish`](publish::run_publish): real-time publishers of a looped FLV file |
//! | [`sendtime`] | the send time a publisher embeds in each H.264 frame (an SEI NAL unit) |
//! | [`tally`] | what one player observes: bytes, first frame, lag, skips, latencies |
//! | [`report`] | the players summed up: JSON or a table |
//! | [`http_flv`] | the HTTP-FLV player task and its URLs |
//! | [`http_wire`] | response head, chunked decoding and FLV tag scanning, without I/O |
//! | [`procstat`] | CPU and memory of a process from `/proc` |
//!
//! Players are cheap on purpose, so that the load generator is not what is measured: each is
//! one tokio task with a small read buffer driving a sans-I/O
//! [`ClientSession`](rtmpkit_proto::rtmp::session::ClientSession) (or a hand-rolled HTTP/FLV
//! scanner), and looks only at timestamps and the first bytes of video frames.

pub mod http_flv;
pub mod http_wire;
pub mod play;
pub mod procstat;
pub mod publish;
pub mod report;
mod rtmp_player;
pub mod sendtime;
pub mod tally;

pub use play::{PlayConfig, PlayTarget, run_play};
pub use publish::{PublishConfig, PublishReport, run_publish};
pub use report::PlayReport;

use std::path::PathBuf;

/// Why a bench run could not be done.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// Arguments that cannot be used.
    #[error("{0}")]
    Usage(String),
    /// The source file could not be read.
    #[error("{}: {what}", path.display())]
    Input { path: PathBuf, what: String },
    /// The server process named by --server-pid cannot be observed.
    #[error("server process {0}: {1}")]
    Server(u32, std::io::Error),
    /// The core named by --server-core cannot be observed.
    #[error("core {0}: {1}")]
    ServerCore(usize, std::io::Error),
}
