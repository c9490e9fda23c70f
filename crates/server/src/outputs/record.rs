//! Recording: each publish session of a recorded stream goes to an FLV file
//! `{directory}/{app}/{stream}-{YYYYMMDD-HHMMSS.mmm}.flv` (UTC start time; names made safe by
//! [`safe_component`]). One recorder's files sort by name in the order they were written.
//!
//! Files stay valid if the server dies: tags are written whole with their PreviousTagSize, and
//! reach the file at every keyframe and at least every `flush_interval_ms`, so a reader finds
//! every tag up to the last flush. Each file starts with the FLV header, the metadata and the
//! sequence headers, at timestamp 0, and its frames' timestamps count from its first keyframe.
//! With `max_bytes` or `max_duration_ms` a new file starts at the first keyframe past the bound
//! (audio-only streams: the first audio frame).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rtmpkit_proto::flv::{FlvHeader, FlvWriter, TagType};
use tokio::io::AsyncWriteExt;
use tokio::sync::watch;
use tokio::time::Instant;

use super::names::{app_dir, safe_component, utc_stamp};
use super::per_stream::shutdown_signal;
use crate::config::{RecordConfig, ServerConfig};
use crate::hub::{Delivery, Frame, FrameKind, Hub, StreamKey};

/// Buffered bytes that force a write even between keyframes.
const FLUSH_BYTES: usize = 1 << 20;

/// The headers a new file must start with.
#[derive(Debug, Default)]
struct Headers {
    metadata: Option<Arc<Frame>>,
    video: Option<Arc<Frame>>,
    audio: Option<Arc<Frame>>,
}

/// One open recording file.
struct RecordingFile {
    path: PathBuf,
    file: tokio::fs::File,
    writer: FlvWriter,
    buf: Vec<u8>,
    /// Stream time of the file's timestamp 0.
    base_ms: u64,
    last_flush: Instant,
}

impl RecordingFile {
    fn write_tag(&mut self, f: &Frame, ts_ms: u64) {
        let tag_type = TagType::from_u5(f.kind().type_id());
        // A file of 49 days wraps its 32-bit timestamps; FLV cannot say more.
        let ts = ts_ms.saturating_sub(self.base_ms) as u32;
        if let Err(e) = self
            .writer
            .write_tag(tag_type, ts, f.payload(), &mut self.buf)
        {
            tracing::warn!(path = %self.path.display(), error = %e, "recording: frame not written");
        }
    }

    async fn flush(&mut self) -> std::io::Result<()> {
        self.last_flush = Instant::now();
        if self.buf.is_empty() {
            return Ok(());
        }
        let r = self.file.write_all(&self.buf).await;
        self.buf.clear();
        r?;
        self.file.flush().await
    }

    async fn close(mut self) {
        if let Err(e) = self.flush().await {
            tracing::warn!(path = %self.path.display(), error = %e, "recording: write failed");
        }
        let _ = self.file.sync_data().await;
        tracing::info!(path = %self.path.display(), bytes = self.writer.bytes_written(), "recording closed");
    }
}

/// Creates `{dir}/{stream}-{YYYYMMDD-HHMMSS.mmm}.flv` stamped with the current time, or with
/// `not_before_ms` (milliseconds since the epoch) if the clock has not passed it yet; returns the
/// stamp used. If that name exists (another writer), `-1`, `-2`, … are tried.
async fn create_file(
    dir: &Path,
    stream: &str,
    not_before_ms: u64,
) -> std::io::Result<(PathBuf, tokio::fs::File, u64)> {
    tokio::fs::create_dir_all(dir).await?;
    // Milliseconds too, and never the same stamp twice from one recorder, so that the files of a
    // rotating recording sort in the order they were written: a keyframe-bounded rotation can
    // come within the same millisecond when frames arrive in a burst (a publisher catching up).
    let now_ms = SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, millis);
    let stamp_ms = now_ms.max(not_before_ms);
    let at = std::time::UNIX_EPOCH + Duration::from_millis(stamp_ms);
    let stem = format!(
        "{}-{}.{:03}",
        safe_component(stream),
        utc_stamp(at),
        stamp_ms % 1000
    );
    let mut n = 0u32;
    loop {
        let name = if n == 0 {
            format!("{stem}.flv")
        } else {
            format!("{stem}-{n}.flv")
        };
        let path = dir.join(name);
        match tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .await
        {
            Ok(f) => return Ok((path, f, stamp_ms)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 10_000 => n += 1,
            Err(e) => return Err(e),
        }
    }
}

struct Recorder {
    key: StreamKey,
    dir: PathBuf,
    config: RecordConfig,
    headers: Headers,
    file: Option<RecordingFile>,
    /// Set when the current file should end at the next boundary, or when opening failed
    /// (then nothing is recorded until the next session).
    failed: bool,
    /// The earliest stamp the next file's name may have: after the last one's.
    next_stamp_ms: u64,
}

impl Recorder {
    async fn frame(&mut self, f: Arc<Frame>) {
        let ts = f.timestamp_ext();
        if f.is_metadata() {
            self.headers.metadata = Some(f.clone());
        } else if f.is_sequence_header() {
            match f.kind() {
                FrameKind::Video => self.headers.video = Some(f.clone()),
                FrameKind::Audio => self.headers.audio = Some(f.clone()),
                FrameKind::Data => {}
            }
        }
        let header_like = f.is_metadata() || f.is_sequence_header();
        let boundary = if self.headers.video.is_some() {
            f.is_keyframe()
        } else {
            f.kind() == FrameKind::Audio && !header_like
        };
        if boundary && !self.failed {
            let rotate = self.file.as_ref().is_some_and(|file| {
                let c = &self.config;
                let bytes = file.writer.bytes_written() + file.buf.len() as u64;
                (c.max_bytes > 0 && bytes >= c.max_bytes)
                    || (!c.max_duration.is_zero()
                        && ts.saturating_sub(file.base_ms) >= millis(c.max_duration))
            });
            if rotate && let Some(old) = self.file.take() {
                old.close().await;
            }
            if self.file.is_none() {
                self.open(ts).await;
            }
        }
        let Some(file) = self.file.as_mut() else {
            return;
        };
        file.write_tag(&f, ts);
        let due = f.is_keyframe()
            || file.buf.len() >= FLUSH_BYTES
            || file.last_flush.elapsed() >= self.config.flush_interval;
        if due {
            self.flush().await;
        }
    }

    async fn open(&mut self, base_ms: u64) {
        let (path, file) = match create_file(&self.dir, &self.key.name, self.next_stamp_ms).await {
            Ok((path, file, stamp)) => {
                self.next_stamp_ms = stamp + 1;
                (path, file)
            }
            Err(e) => {
                tracing::warn!(stream = %self.key, dir = %self.dir.display(), error = %e, "recording: cannot create file");
                self.failed = true;
                return;
            }
        };
        tracing::info!(stream = %self.key, path = %path.display(), "recording");
        let mut rec = RecordingFile {
            path,
            file,
            writer: FlvWriter::new(),
            buf: Vec::with_capacity(64 << 10),
            base_ms,
            last_flush: Instant::now(),
        };
        let h = &self.headers;
        let header = FlvHeader::new(h.audio.is_some(), h.video.is_some());
        rec.writer.write_header(&header, &mut rec.buf);
        for f in [&h.metadata, &h.video, &h.audio].into_iter().flatten() {
            rec.write_tag(f, base_ms);
        }
        self.file = Some(rec);
        self.flush().await;
    }

    async fn flush(&mut self) {
        if let Some(file) = self.file.as_mut()
            && let Err(e) = file.flush().await
        {
            tracing::warn!(path = %file.path.display(), error = %e, "recording: write failed; recording stops");
            self.file = None;
            self.failed = true;
        }
    }

    async fn finish(&mut self) {
        if let Some(file) = self.file.take() {
            file.close().await;
        }
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Records one publish session of `key` (the task ends with it).
pub(crate) async fn run_recorder(
    hub: Hub,
    key: StreamKey,
    config: Arc<ServerConfig>,
    mut shutdown: watch::Receiver<bool>,
) {
    let record = &config.record;
    let Some(dir) = app_dir(&record.directory, &key.app) else {
        return;
    };
    let mut rec = Recorder {
        key: key.clone(),
        dir,
        config: record.clone(),
        headers: Headers::default(),
        file: None,
        failed: false,
        next_stamp_ms: 0,
    };
    let mut sub = hub.subscribe(key);
    let mut joined = false;
    loop {
        let delivery = tokio::select! {
            d = tokio::time::timeout(record.flush_interval, sub.next()) => d,
            () = shutdown_signal(&mut shutdown) => break,
        };
        match delivery {
            Err(_elapsed) => rec.flush().await,
            Ok(Delivery::PublisherJoined) if joined => break,
            Ok(Delivery::PublisherJoined) => joined = true,
            Ok(Delivery::Frame(f)) => rec.frame(f).await,
            Ok(Delivery::Skipped(r)) => {
                tracing::warn!(stream = %rec.key, skipped = r.skipped, "recording fell behind; frames skipped");
            }
            Ok(Delivery::PublisherLeft | Delivery::NotFound) => break,
        }
    }
    rec.finish().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn files_created_in_one_burst_sort_in_creation_order() {
        let dir = std::env::temp_dir().join(format!("rtmpkit-record-names-{}", std::process::id()));
        let mut names = Vec::new();
        let mut not_before = 0;
        // Far more files than milliseconds pass: each must still get a later stamp.
        for _ in 0..50 {
            let (path, _file, stamp) = create_file(&dir, "cam", not_before).await.unwrap();
            assert!(stamp >= not_before);
            not_before = stamp + 1;
            names.push(path.file_name().unwrap().to_string_lossy().into_owned());
        }
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(sorted, names);
        assert!(
            names
                .iter()
                .all(|n| n.starts_with("cam-") && n.ends_with(".flv"))
        );
        // A name someone else holds gets a suffix rather than failing or overwriting.
        let (taken, _f, stamp) = create_file(&dir, "cam", not_before + 1000).await.unwrap();
        let (other, _f, again) = create_file(&dir, "cam", stamp).await.unwrap();
        assert_eq!(again, stamp);
        assert_ne!(taken, other);
        let _ = std::fs::remove_dir_all(dir);
    }
}
