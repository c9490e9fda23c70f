//! Outputs beside RTMP play: HTTP-FLV and WebSocket-FLV, HLS, RTP/UDP MPEG-TS push, and
//! recording to FLV files.
//!
//! Each output is a consumer of the hub like an RTMP player: it holds a
//! [`Subscription`](crate::hub::Subscription) and gets the same bounded, skipping fan-out.
//!
//! | entry point | what it runs |
//! |---|---|
//! | [`http::serve`] | the HTTP listener (`http_listen`): HTTP-FLV, WebSocket-FLV, HLS playlists and segments, plus the HLS segmenters (one per published stream) |
//! | [`start_push_outputs`] | RTP/UDP senders (`[[output.rtp]]`) and recorders (`[record]`), one per matching published stream |
//!
//! | module | what |
//! |---|---|
//! | [`http`] | routing, CORS, JSON errors |
//! | `http_flv` | a viewer's FLV byte stream, over HTTP (chunked) or WebSocket |
//! | [`hls`] | segmenter, playlist, store |
//! | [`rtp`] | TS packets into RTP or UDP datagrams |
//! | `record` | FLV files per publish session |
//! | [`names`] | safe file names, UTC stamps |

pub mod hls;
pub mod http;
mod http_flv;
pub mod names;
mod per_stream;
mod record;
pub mod rtp;

use std::sync::Arc;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::ServerConfig;
use crate::hub::Hub;
use per_stream::{OutputTask, run_per_stream};

/// Starts the push outputs: an RTP/UDP sender per published stream and matching
/// `[[output.rtp]]` entry, and a recorder per published stream that `[record]` selects. They
/// start with each publish session (including streams already published now) and end with it.
///
/// The handle resolves after `shutdown` turns true, once every sender stopped and every
/// recording was flushed and closed.
pub fn start_push_outputs(
    hub: &Hub,
    config: Arc<ServerConfig>,
    shutdown: watch::Receiver<bool>,
) -> JoinHandle<()> {
    let task_hub = hub.clone();
    let task_shutdown = shutdown.clone();
    let rtp_config = config.clone();
    let rtp_hub = hub.clone();
    let rtp_shutdown = shutdown.clone();
    let rtp = run_per_stream(
        hub.clone(),
        shutdown.clone(),
        "rtp",
        Box::new(move |key| {
            let entries = rtp::entries_for(&rtp_config, key);
            if entries.is_empty() {
                return None;
            }
            let tasks: Vec<_> = entries
                .into_iter()
                .map(|e| rtp::run_sender(rtp_hub.clone(), key.clone(), e, rtp_shutdown.clone()))
                .collect();
            let task: OutputTask = Box::pin(async move {
                futures_util::future::join_all(tasks).await;
            });
            Some(task)
        }),
    );
    let record = run_per_stream(
        hub.clone(),
        shutdown,
        "record",
        Box::new(move |key| {
            if !config.record.records(&key.app, &key.name) {
                return None;
            }
            let task: OutputTask = Box::pin(record::run_recorder(
                task_hub.clone(),
                key.clone(),
                config.clone(),
                task_shutdown.clone(),
            ));
            Some(task)
        }),
    );
    tokio::spawn(async move {
        let _ = rtp.await;
        let _ = record.await;
    })
}
