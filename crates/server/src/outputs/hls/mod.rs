//! HLS: one [`Segmenter`] per published stream (not per viewer), its [`Playlist`] held in
//! memory and served over HTTP, optionally mirrored to a directory.
//!
//! URLs: the playlist is `/{app}/{stream}.m3u8`; it names segments relatively as
//! `{stream}-{generation}-{seq}.ts`, where the generation (8 hex digits, random) changes each
//! time a segmenter starts, so a segment URL always means the same bytes and segments can be
//! cached.

mod playlist;
mod segmenter;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use parking_lot::{Mutex, RwLock};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

pub use playlist::{Playlist, Segment};
pub use segmenter::{ClosedSegment, Segmenter};

use super::names::{app_dir, safe_component};
use super::per_stream::{run_per_stream, shutdown_signal};
use crate::config::{HlsConfig, ServerConfig};
use crate::hub::{Delivery, Hub, StreamKey};

/// The HLS streams being served.
#[derive(Debug, Default)]
pub struct HlsStore {
    streams: Mutex<HashMap<StreamKey, Arc<HlsStream>>>,
}

/// One stream's playlist and segments.
#[derive(Debug)]
pub struct HlsStream {
    key: StreamKey,
    generation: u32,
    playlist: RwLock<Playlist>,
    /// `{directory}/{app}` when segments are also written to disk.
    dir: Option<PathBuf>,
}

impl HlsStore {
    pub fn new() -> Arc<HlsStore> {
        Arc::default()
    }

    /// The stream's playlist text, once it has a segment.
    pub fn playlist(&self, key: &StreamKey) -> Option<String> {
        let stream = self.streams.lock().get(key)?.clone();
        let p = stream.playlist.read();
        (!p.is_empty()).then(|| p.render(|seq| stream.segment_uri(seq)))
    }

    /// A served segment of the stream's current generation.
    pub fn segment(&self, key: &StreamKey, generation: u32, seq: u64) -> Option<Bytes> {
        let stream = self.streams.lock().get(key)?.clone();
        if stream.generation != generation {
            return None;
        }
        let data = stream.playlist.read().segment(seq)?.data.clone();
        Some(data)
    }

    /// The streams with an HLS playlist.
    pub fn keys(&self) -> Vec<StreamKey> {
        let mut keys: Vec<_> = self.streams.lock().keys().cloned().collect();
        keys.sort();
        keys
    }

    /// Starts a new playlist for `key`, replacing an older one.
    fn begin(&self, key: &StreamKey, config: &HlsConfig) -> Arc<HlsStream> {
        let stream = Arc::new(HlsStream {
            key: key.clone(),
            generation: rand::random(),
            playlist: RwLock::new(Playlist::new(
                config.playlist_segments,
                config.retained_segments,
                millis(config.target_duration),
            )),
            dir: config
                .directory
                .as_deref()
                .and_then(|d| app_dir(d, &key.app)),
        });
        let old = self.streams.lock().insert(key.clone(), stream.clone());
        if let Some(old) = old {
            // The playlist file is the same path for both: only the old segments go.
            tokio::spawn(async move { old.remove_files(false).await });
        }
        stream
    }

    /// Forgets `stream` if it is still the current one for its key.
    async fn remove(&self, stream: &Arc<HlsStream>) {
        let removed = {
            let mut streams = self.streams.lock();
            let same = streams
                .get(&stream.key)
                .is_some_and(|s| Arc::ptr_eq(s, stream));
            if same {
                streams.remove(&stream.key);
            }
            same
        };
        if removed {
            tracing::debug!(stream = %stream.key, "HLS playlist removed");
            stream.remove_files(true).await;
        }
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl HlsStream {
    /// The segment URI in the HTTP playlist (relative, percent-encoded).
    fn segment_uri(&self, seq: u64) -> String {
        format!(
            "{}-{:08x}-{seq}.ts",
            super::http::percent_encode(&self.key.name),
            self.generation
        )
    }

    /// The segment's file name on disk.
    fn segment_file(&self, seq: u64) -> String {
        format!(
            "{}-{:08x}-{seq}.ts",
            safe_component(&self.key.name),
            self.generation
        )
    }

    fn playlist_file(&self, dir: &Path) -> PathBuf {
        dir.join(format!("{}.m3u8", safe_component(&self.key.name)))
    }

    /// Adds a closed segment; mirrors the change to disk.
    async fn add(&self, closed: ClosedSegment) {
        let (seq, gone, disk_text) = {
            let mut p = self.playlist.write();
            let gone = p.push(
                closed.duration_ms,
                closed.discontinuity,
                closed.data.clone(),
            );
            let seq = p.segments().last().map_or(0, |s| s.seq);
            let text = self
                .dir
                .as_ref()
                .map(|_| p.render(|n| self.segment_file(n)));
            (seq, gone, text)
        };
        tracing::debug!(stream = %self.key, seq, duration_ms = closed.duration_ms, bytes = closed.data.len(), discontinuity = closed.discontinuity, "HLS segment");
        let (Some(dir), Some(text)) = (&self.dir, disk_text) else {
            return;
        };
        if let Err(e) = tokio::fs::create_dir_all(dir).await {
            tracing::warn!(stream = %self.key, dir = %dir.display(), error = %e, "HLS: cannot create directory");
            return;
        }
        if let Err(e) = tokio::fs::write(dir.join(self.segment_file(seq)), &closed.data).await {
            tracing::warn!(stream = %self.key, error = %e, "HLS: cannot write segment");
        }
        self.write_playlist(dir, &text).await;
        for s in gone {
            let _ = tokio::fs::remove_file(dir.join(self.segment_file(s.seq))).await;
        }
    }

    async fn end(&self) {
        let text = {
            let mut p = self.playlist.write();
            p.end();
            self.dir
                .as_ref()
                .map(|_| p.render(|n| self.segment_file(n)))
        };
        if let (Some(dir), Some(text)) = (&self.dir, text) {
            self.write_playlist(dir, &text).await;
        }
    }

    /// Replaces the playlist file atomically (written beside it, then renamed).
    async fn write_playlist(&self, dir: &Path, text: &str) {
        let path = self.playlist_file(dir);
        let tmp = path.with_extension("m3u8.tmp");
        let result = async {
            tokio::fs::write(&tmp, text).await?;
            tokio::fs::rename(&tmp, &path).await
        }
        .await;
        if let Err(e) = result {
            tracing::warn!(stream = %self.key, path = %path.display(), error = %e, "HLS: cannot write playlist");
        }
    }

    async fn remove_files(&self, with_playlist: bool) {
        let Some(dir) = &self.dir else { return };
        let seqs: Vec<u64> = self.playlist.read().segments().map(|s| s.seq).collect();
        for seq in seqs {
            let _ = tokio::fs::remove_file(dir.join(self.segment_file(seq))).await;
        }
        if with_playlist {
            let _ = tokio::fs::remove_file(self.playlist_file(dir)).await;
        }
    }

    /// How long an ended playlist stays: long enough to play what it lists.
    fn listed_duration(&self) -> Duration {
        let p = self.playlist.read();
        Duration::from_millis(p.segments().map(|s| s.duration_ms).sum())
    }
}

/// Starts a segmenter for every stream that is or becomes published (when `[hls] enabled`).
/// The handle resolves after shutdown once all segmenters stopped.
pub fn start_segmenters(
    hub: &Hub,
    config: Arc<ServerConfig>,
    store: Arc<HlsStore>,
    shutdown: watch::Receiver<bool>,
) -> JoinHandle<()> {
    let task_hub = hub.clone();
    let task_shutdown = shutdown.clone();
    run_per_stream(
        hub.clone(),
        shutdown,
        "hls",
        Box::new(move |key| {
            Some(Box::pin(run_segmenter(
                task_hub.clone(),
                key.clone(),
                config.clone(),
                store.clone(),
                task_shutdown.clone(),
            )))
        }),
    )
}

/// One stream's segmenter: follows the stream across publisher restarts (within
/// `unpublish_wait`), then ends the playlist.
async fn run_segmenter(
    hub: Hub,
    key: StreamKey,
    config: Arc<ServerConfig>,
    store: Arc<HlsStore>,
    mut shutdown: watch::Receiver<bool>,
) {
    let hls = &config.hls;
    let stream = store.begin(&key, hls);
    let mut segmenter = Segmenter::new(key.clone(), millis(hls.target_duration));
    let mut sub = hub.subscribe(key);
    // Set while no publisher is on: when the playlist ends.
    let mut give_up: Option<Instant> = None;
    loop {
        let far = Instant::now() + Duration::from_secs(86_400);
        let delivery = tokio::select! {
            d = sub.next() => d,
            () = tokio::time::sleep_until(give_up.unwrap_or(far)), if give_up.is_some() => break,
            () = shutdown_signal(&mut shutdown) => break,
        };
        let closed = match delivery {
            Delivery::PublisherJoined => {
                give_up = None;
                segmenter.publisher_joined()
            }
            Delivery::Frame(f) => segmenter.frame(&f),
            Delivery::PublisherLeft => {
                give_up = Some(Instant::now() + hls.unpublish_wait);
                segmenter.close()
            }
            Delivery::Skipped(report) => {
                tracing::info!(stream = %sub.key(), skipped = report.skipped, "HLS segmenter fell behind; discontinuity");
                segmenter.skipped()
            }
            Delivery::NotFound => break,
        };
        if let Some(c) = closed {
            stream.add(c).await;
        }
    }
    drop(sub);
    if let Some(c) = segmenter.close() {
        stream.add(c).await;
    }
    stream.end().await;
    let keep = stream.listed_duration().max(hls.unpublish_wait);
    tokio::spawn(async move {
        tokio::time::sleep(keep).await;
        store.remove(&stream).await;
    });
}
