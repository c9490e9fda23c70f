//! Publishing an FLV file or pipe: metadata and sequence headers first, real-time pacing,
//! looping with continuous timestamps, and reconnecting with backoff (resuming at the next
//! keyframe, sequence headers again), including the Enhanced RTMP ReconnectRequest.

use std::path::PathBuf;
use std::pin::Pin;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use rtmpkit_proto::amf::Amf0Value;
use rtmpkit_proto::flv::{
    AudioTagHeader, FlvEvent, FlvReader, FlvTag, ScriptData, TagType, VideoTagHeader,
};
use rtmpkit_proto::rtmp::message::DataMessage;
use rtmpkit_proto::rtmp::session::MediaKind;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::time::Instant;

use crate::error::ClientError;
use crate::options::ConnectOptions;
use crate::publisher::{Publisher, ServerNotice};
use crate::url::RtmpUrl;

/// Where the FLV comes from.
pub enum FlvSource {
    /// A file (can be looped).
    File(PathBuf),
    /// Standard input.
    Stdin,
    /// Any reader, named for messages.
    Reader {
        name: String,
        reader: Box<dyn AsyncRead + Unpin + Send>,
    },
}

/// Reconnect timing: waits double from `initial` up to `max`; no connection for
/// `give_up_after` ends the publish with the last error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
    pub give_up_after: Option<Duration>,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_millis(500),
            max: Duration::from_secs(10),
            give_up_after: Some(Duration::from_secs(120)),
        }
    }
}

/// How to publish an FLV.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlvPublishOptions {
    /// As fast as the server accepts (`false`: paced at the FLV's timestamps, in real time).
    pub fast: bool,
    /// Start again at the end, timestamps continuing (files only).
    pub looping: bool,
    /// Survive lost connections and server restarts; `None` ends at the first error.
    pub reconnect: Option<Backoff>,
}

/// Where a publish stands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublishProgress {
    /// Media time published: last timestamp sent minus the first.
    pub media_ms: u64,
    /// Audio and video frames sent.
    pub frames: u64,
    /// Bytes of audio and video payload sent.
    pub media_bytes: u64,
    /// Frames skipped while waiting for a keyframe after a reconnect.
    pub dropped: u64,
    /// Successful reconnects (after a failure or a server request).
    pub reconnects: u32,
    /// Completed passes over a looped file.
    pub loops: u32,
}

struct TagReader {
    name: String,
    reader: Box<dyn AsyncRead + Unpin + Send>,
    flv: FlvReader,
    buf: BytesMut,
    eof: bool,
}

impl TagReader {
    async fn open(source: &mut FlvSource) -> Result<TagReader, ClientError> {
        let (name, reader): (String, Box<dyn AsyncRead + Unpin + Send>) = match source {
            FlvSource::File(path) => {
                let file =
                    tokio::fs::File::open(&path)
                        .await
                        .map_err(|source| ClientError::Input {
                            path: path.display().to_string(),
                            source,
                        })?;
                (path.display().to_string(), Box::new(file))
            }
            FlvSource::Stdin => ("standard input".into(), Box::new(tokio::io::stdin())),
            FlvSource::Reader { name, reader } => {
                let reader = std::mem::replace(reader, Box::new(tokio::io::empty()));
                (name.clone(), reader)
            }
        };
        Ok(TagReader {
            name,
            reader,
            flv: FlvReader::new(),
            buf: BytesMut::with_capacity(64 * 1024),
            eof: false,
        })
    }

    /// The next tag, `None` at the end of input. A file cut off inside a tag ends with a
    /// warning (a file still being written looks like that).
    async fn next(&mut self) -> Result<Option<FlvTag>, ClientError> {
        loop {
            match self.flv.poll() {
                Some(Ok(FlvEvent::Tag(tag))) => return Ok(Some(tag)),
                Some(Ok(FlvEvent::Header(h))) => {
                    tracing::debug!(input = %self.name, ?h, "FLV header");
                    continue;
                }
                Some(Err(e)) if e.is_warning() => {
                    tracing::warn!(input = %self.name, "{e}");
                    continue;
                }
                Some(Err(source)) => {
                    return Err(ClientError::Flv {
                        offset: self.flv.position(),
                        source,
                    });
                }
                None => {}
            }
            if self.eof {
                if let Err(e) = self.flv.finish() {
                    tracing::warn!(input = %self.name, "{e}");
                }
                return Ok(None);
            }
            self.buf.clear();
            self.buf.reserve(64 * 1024);
            let n = self
                .reader
                .read_buf(&mut self.buf)
                .await
                .map_err(|source| ClientError::Input {
                    path: self.name.clone(),
                    source,
                })?;
            if n == 0 {
                self.eof = true;
            } else {
                self.flv.push(&self.buf);
            }
        }
    }
}

type Stop = Pin<Box<dyn Future<Output = ()> + Send>>;

/// What one media tag is, as far as resuming is concerned.
struct Media {
    kind: MediaKind,
    timestamp: u32,
    payload: Bytes,
    keyframe: bool,
}

struct Job<'a> {
    url: RtmpUrl,
    connect: &'a ConnectOptions,
    options: &'a FlvPublishOptions,
    publisher: Option<Publisher>,
    stop: Stop,
    /// The file's onMetaData and the last sequence headers, sent again on every connection.
    metadata: Option<Amf0Value>,
    video_header: Option<Bytes>,
    audio_header: Option<Bytes>,
    seen_video: bool,
    /// The current connection has not yet had metadata and sequence headers.
    fresh: bool,
    /// Skip frames until a keyframe (after a reconnect).
    need_keyframe: bool,
    /// Move to this URL at the next keyframe (ReconnectRequest).
    move_to: Option<RtmpUrl>,
    /// Pacing: the instant the frame with timestamp `.1` was due.
    clock: Option<(Instant, u64)>,
    first_ts: Option<u64>,
    progress: PublishProgress,
}

enum Flow {
    Go,
    Stopped,
}

impl Job<'_> {
    async fn connect_with_backoff(&mut self, first: bool) -> Result<Flow, ClientError> {
        let Some(backoff) = self.options.reconnect.clone() else {
            self.publisher = Some(Publisher::connect(&self.url, self.connect).await?);
            return Ok(Flow::Go);
        };
        let started = Instant::now();
        let mut delay = backoff.initial;
        loop {
            match Publisher::connect(&self.url, self.connect).await {
                Ok(p) => {
                    self.publisher = Some(p);
                    return Ok(Flow::Go);
                }
                // A refusal on the first try is an answer; later it may be the server still
                // holding our previous connection's stream.
                Err(e) if e.is_local() || (first && e.is_refusal()) => return Err(e),
                Err(e) => {
                    if backoff
                        .give_up_after
                        .is_some_and(|limit| started.elapsed() >= limit)
                    {
                        return Err(e);
                    }
                    tracing::warn!("{e}; connecting again in {delay:?}");
                    tokio::select! {
                        _ = &mut self.stop => return Ok(Flow::Stopped),
                        _ = tokio::time::sleep(delay) => {}
                    }
                    delay = (delay * 2).min(backoff.max);
                }
            }
        }
    }

    /// After a failed send: reconnect if allowed, else the error.
    async fn recover(&mut self, e: ClientError) -> Result<Flow, ClientError> {
        self.publisher = None;
        if self.options.reconnect.is_none() || e.is_local() {
            return Err(e);
        }
        tracing::warn!("{e}; reconnecting");
        let flow = self.connect_with_backoff(false).await?;
        self.after_reconnect();
        Ok(flow)
    }

    fn after_reconnect(&mut self) {
        self.progress.reconnects += 1;
        self.fresh = true;
        self.need_keyframe = true;
        self.clock = None;
    }

    /// Metadata and sequence headers on a new connection, just before the first frame.
    async fn send_preamble(&mut self, timestamp: u32) -> Result<(), ClientError> {
        let Some(p) = self.publisher.as_mut() else {
            return Ok(());
        };
        if let Some(m) = &self.metadata {
            p.send_data(0, &DataMessage::set_data_frame_metadata(m.clone()))
                .await?;
        }
        if let Some(h) = &self.video_header {
            p.send_video(timestamp, h).await?;
        }
        if let Some(h) = &self.audio_header {
            p.send_audio(timestamp, h).await?;
        }
        Ok(())
    }

    /// Sends on the current connection (or reconnects and drops the message).
    async fn send(&mut self, f: Outgoing<'_>) -> Result<Flow, ClientError> {
        let Some(p) = self.publisher.as_mut() else {
            return Ok(Flow::Go);
        };
        let sent = match f {
            Outgoing::Data(ts, d) => p.send_data(ts, d).await,
            Outgoing::Media(kind, ts, payload) => p.send_media(kind, ts, payload).await,
        };
        let notices: Vec<ServerNotice> = std::iter::from_fn(|| p.poll_notice()).collect();
        for notice in notices {
            self.on_notice(notice)?;
        }
        match sent {
            Ok(()) => Ok(Flow::Go),
            Err(e) => self.recover(e).await,
        }
    }

    fn on_notice(&mut self, notice: ServerNotice) -> Result<(), ClientError> {
        match notice {
            ServerNotice::ReconnectRequested {
                tc_url,
                description,
            } if self.connect.advertise_reconnect => {
                let to = match tc_url.as_deref() {
                    Some(tc) => self.url.with_tc_url(tc)?,
                    None => self.url.clone(),
                };
                tracing::info!("server asks to reconnect to {to} ({description})");
                self.move_to = Some(to);
            }
            ServerNotice::ReconnectRequested { .. } => {}
            ServerNotice::Status(s) => {
                tracing::info!(code = %s.code, "{}", s.description)
            }
        }
        Ok(())
    }

    /// Moves to the requested server just before a keyframe, so no frame is lost.
    async fn follow_move(&mut self) -> Result<Flow, ClientError> {
        let Some(to) = self.move_to.take() else {
            return Ok(Flow::Go);
        };
        if let Some(old) = self.publisher.take()
            && let Err(e) = old.close().await
        {
            tracing::debug!("closing the old connection: {e}");
        }
        self.url = to;
        let flow = self.connect_with_backoff(false).await?;
        self.after_reconnect();
        // We are at a keyframe already: nothing to skip.
        self.need_keyframe = false;
        Ok(flow)
    }

    async fn on_media(&mut self, m: Media) -> Result<Flow, ClientError> {
        // Where a stream can start: a video keyframe, or any frame of a stream without video.
        let resume_point = m.keyframe || !self.seen_video;
        if resume_point && let Flow::Stopped = self.follow_move().await? {
            return Ok(Flow::Stopped);
        }
        if self.need_keyframe {
            if !resume_point {
                self.progress.dropped += 1;
                return Ok(Flow::Go);
            }
            self.need_keyframe = false;
        }
        let ts = u64::from(m.timestamp);
        if !self.options.fast {
            let (start, base) = *self.clock.get_or_insert((Instant::now(), ts));
            let due = start + Duration::from_millis(ts.saturating_sub(base));
            tokio::select! {
                _ = &mut self.stop => return Ok(Flow::Stopped),
                _ = tokio::time::sleep_until(due) => {}
            }
        }
        if self.fresh {
            self.fresh = false;
            if let Err(e) = self.send_preamble(m.timestamp).await {
                return self.recover(e).await;
            }
        }
        let flow = self
            .send(Outgoing::Media(m.kind, m.timestamp, &m.payload))
            .await?;
        self.progress.frames += 1;
        self.progress.media_bytes += m.payload.len() as u64;
        let first = *self.first_ts.get_or_insert(ts);
        self.progress.media_ms = ts.saturating_sub(first);
        Ok(flow)
    }
}

enum Outgoing<'a> {
    Data(u32, &'a DataMessage),
    Media(MediaKind, u32, &'a [u8]),
}

/// Publishes an FLV to `url` until its end (or forever with `looping`), or until `stop`
/// completes. Sequence headers and `onMetaData` go out first on every connection; with
/// `reconnect`, a lost connection is retried with backoff and publishing resumes at the next
/// keyframe. `progress` is called after every frame.
pub async fn publish_flv(
    mut source: FlvSource,
    url: &RtmpUrl,
    connect: &ConnectOptions,
    options: &FlvPublishOptions,
    stop: impl Future<Output = ()> + Send + 'static,
    progress: &mut (dyn FnMut(&PublishProgress) + Send),
) -> Result<PublishProgress, ClientError> {
    if options.looping && !matches!(source, FlvSource::File(_)) {
        return Err(ClientError::Input {
            path: "the FLV source".into(),
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "only a file can be looped",
            ),
        });
    }
    let mut tags = TagReader::open(&mut source).await?;
    let mut job = Job {
        url: url.clone(),
        connect,
        options,
        publisher: None,
        stop: Box::pin(stop),
        metadata: None,
        video_header: None,
        audio_header: None,
        seen_video: false,
        fresh: true,
        need_keyframe: false,
        move_to: None,
        clock: None,
        first_ts: None,
        progress: PublishProgress::default(),
    };
    if let Flow::Stopped = job.connect_with_backoff(true).await? {
        return Ok(job.progress);
    }
    // Timestamps of the current pass are shifted by `offset` (looping).
    let mut offset: u64 = 0;
    let mut video_times = PassTimes::default();
    let mut audio_times = PassTimes::default();
    loop {
        let tag = tokio::select! {
            _ = &mut job.stop => break,
            t = tags.next() => t?,
        };
        let Some(tag) = tag else {
            let Some(next) = video_times.next_offset().max(audio_times.next_offset()) else {
                break;
            };
            if !options.looping {
                break;
            }
            offset += next;
            video_times = PassTimes::default();
            audio_times = PassTimes::default();
            job.progress.loops += 1;
            tags = TagReader::open(&mut source).await?;
            continue;
        };
        let raw = u64::from(tag.header.timestamp);
        let ts = (raw + offset) as u32;
        let flow = match tag.header.tag_type {
            TagType::Script => {
                let Ok(script) = ScriptData::decode(&tag.data) else {
                    tracing::warn!("skipping a script tag that is not AMF0");
                    continue;
                };
                if script.on_metadata().is_some() {
                    if job.metadata.is_some() {
                        continue;
                    }
                    job.metadata = Some(meta_value(&script));
                    if job.fresh {
                        continue;
                    }
                    let data = DataMessage::set_data_frame_metadata(meta_value(&script));
                    job.send(Outgoing::Data(0, &data)).await?
                } else if job.fresh {
                    continue;
                } else {
                    match DataMessage::from_values(script.values) {
                        Ok(data) => job.send(Outgoing::Data(ts, &data)).await?,
                        Err(_) => continue,
                    }
                }
            }
            TagType::Video | TagType::Audio => {
                let video = tag.header.tag_type == TagType::Video;
                let (header, keyframe) = if video {
                    job.seen_video = true;
                    match VideoTagHeader::decode(&tag.data) {
                        Ok((h, _)) => (h.is_sequence_header(), h.is_keyframe()),
                        Err(_) => (false, false),
                    }
                } else {
                    let header = AudioTagHeader::decode(&tag.data)
                        .map(|(h, _)| h.is_sequence_header())
                        .unwrap_or(false);
                    (header, false)
                };
                let kind = if video {
                    MediaKind::Video
                } else {
                    MediaKind::Audio
                };
                if header {
                    let slot = if video {
                        &mut job.video_header
                    } else {
                        &mut job.audio_header
                    };
                    if slot.as_ref() == Some(&tag.data) {
                        continue;
                    }
                    *slot = Some(tag.data.clone());
                    if job.fresh {
                        continue;
                    }
                    job.send(Outgoing::Media(kind, ts, &tag.data)).await?
                } else {
                    if video {
                        video_times.note(raw);
                    } else {
                        audio_times.note(raw);
                    }
                    let media = Media {
                        kind,
                        timestamp: ts,
                        payload: tag.data,
                        keyframe,
                    };
                    let flow = job.on_media(media).await?;
                    progress(&job.progress);
                    flow
                }
            }
            TagType::Other(_) => continue,
        };
        if let Flow::Stopped = flow {
            break;
        }
    }
    if let Some(p) = job.publisher.take() {
        p.close().await?;
    }
    Ok(job.progress)
}

/// The timestamps of one kind of media in one pass over a looped file.
#[derive(Default)]
struct PassTimes {
    first: Option<u64>,
    last: u64,
    /// The last step between two frames (the frame duration, as far as we can tell).
    step: Option<u64>,
}

impl PassTimes {
    fn note(&mut self, ts: u64) {
        if self.first.is_none() {
            self.first = Some(ts);
        } else if ts > self.last {
            self.step = Some(ts - self.last);
        }
        self.last = self.last.max(ts);
    }

    /// How far the next pass must be shifted for this kind to go on one frame after its last:
    /// `None` when the pass had none of it.
    fn next_offset(&self) -> Option<u64> {
        let first = self.first?;
        Some(self.last + self.step.unwrap_or(40) - first)
    }
}

/// The metadata object of an `onMetaData` script tag (with or without `@setDataFrame`).
fn meta_value(script: &ScriptData) -> Amf0Value {
    script
        .values
        .iter()
        .find(|v| v.properties().is_some())
        .cloned()
        .unwrap_or(Amf0Value::Null)
}
