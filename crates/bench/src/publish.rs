//! `rtmpkit bench publish`: real-time publishers of one FLV file, looped, each H.264 frame
//! carrying its send time (see [`sendtime`](crate::sendtime)).
//!
//! The file is read once into memory and shared; every publisher is an
//! [`rtmpkit_client::Publisher`] in its own task, paced by the file's timestamps from the
//! moment it started publishing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use rtmpkit_client::{ConnectOptions, MediaKind, Publisher, RtmpUrl};
use rtmpkit_proto::amf::Amf0Value;
use rtmpkit_proto::flv::{FlvEvent, FlvReader, ScriptData, TagType};
use serde::Serialize;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::BenchError;
use crate::play::{stream_name, wall_us};
use crate::sendtime::{self, AvcPayload};

/// A frame of the source file.
#[derive(Debug, Clone)]
struct SourceFrame {
    kind: MediaKind,
    /// Milliseconds from the file's first frame.
    at_ms: u64,
    data: Bytes,
    /// Coded AVC NAL units: the send time goes in.
    avc: bool,
}

/// An FLV file in memory, ready to loop.
#[derive(Debug, Clone)]
pub struct Source {
    metadata: Option<Amf0Value>,
    video_header: Option<Bytes>,
    audio_header: Option<Bytes>,
    nal_length_size: u8,
    frames: Vec<SourceFrame>,
    /// How far each pass shifts timestamps: the file's span plus one frame.
    pass_ms: u64,
}

impl Source {
    /// Reads an FLV file.
    pub async fn load(path: &Path) -> Result<Source, BenchError> {
        let bytes = tokio::fs::read(path).await.map_err(|e| BenchError::Input {
            path: path.to_owned(),
            what: e.to_string(),
        })?;
        Source::parse(&bytes).map_err(|what| BenchError::Input {
            path: path.to_owned(),
            what,
        })
    }

    /// Parses a whole FLV file.
    pub fn parse(file: &[u8]) -> Result<Source, String> {
        let mut reader = FlvReader::new();
        reader.push(file);
        let mut source = Source {
            metadata: None,
            video_header: None,
            audio_header: None,
            nal_length_size: 4,
            frames: Vec::new(),
            pass_ms: 0,
        };
        let mut first: Option<u64> = None;
        let mut last_step = 40;
        let mut last_video: Option<u64> = None;
        while let Some(event) = reader.poll() {
            let tag = match event {
                Ok(FlvEvent::Tag(tag)) => tag,
                Ok(FlvEvent::Header(_)) => continue,
                Err(e) if e.is_warning() => continue,
                Err(e) => return Err(format!("offset {}: {e}", reader.position())),
            };
            let ts = u64::from(tag.header.timestamp);
            match tag.header.tag_type {
                TagType::Script => {
                    if source.metadata.is_none()
                        && let Ok(script) = ScriptData::decode(&tag.data)
                        && let Some(meta) = script.on_metadata()
                    {
                        source.metadata = Some(meta.value);
                    }
                }
                TagType::Video => match sendtime::classify(&tag.data) {
                    AvcPayload::SequenceHeader { nal_length_size } => {
                        source.nal_length_size = nal_length_size;
                        source.video_header.get_or_insert(tag.data);
                    }
                    class => {
                        let first = *first.get_or_insert(ts);
                        if let Some(prev) = last_video
                            && ts > prev
                        {
                            last_step = ts - prev;
                        }
                        last_video = Some(ts);
                        source.frames.push(SourceFrame {
                            kind: MediaKind::Video,
                            at_ms: ts.saturating_sub(first),
                            data: tag.data,
                            avc: class == AvcPayload::Nalus,
                        });
                    }
                },
                TagType::Audio => {
                    // AAC sequence header: SoundFormat 10, AACPacketType 0.
                    if tag.data.first().map(|b| b >> 4) == Some(10) && tag.data.get(1) == Some(&0) {
                        source.audio_header.get_or_insert(tag.data);
                        continue;
                    }
                    let first = *first.get_or_insert(ts);
                    source.frames.push(SourceFrame {
                        kind: MediaKind::Audio,
                        at_ms: ts.saturating_sub(first),
                        data: tag.data,
                        avc: false,
                    });
                }
                TagType::Other(_) => {}
            }
        }
        if source.frames.is_empty() {
            return Err("no audio or video frames".to_owned());
        }
        // Stable: frames of one timestamp keep their file order.
        source.frames.sort_by_key(|f| f.at_ms);
        let span = source.frames.last().map_or(0, |f| f.at_ms);
        source.pass_ms = span + last_step;
        Ok(source)
    }

    /// The duration of one pass over the file, ms.
    pub fn pass_ms(&self) -> u64 {
        self.pass_ms
    }

    /// Audio and video frames in one pass.
    pub fn frame_count(&self) -> usize {
        self.frames.len()
    }
}

/// How a publish run goes.
#[derive(Debug, Clone)]
pub struct PublishConfig {
    pub url: RtmpUrl,
    pub publishers: usize,
    pub file: PathBuf,
    /// Stop after this long (`None`: until stopped).
    pub duration: Option<Duration>,
    pub connect: ConnectOptions,
}

/// What `rtmpkit bench publish` did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PublishReport {
    pub url: String,
    pub publishers: usize,
    pub connected: usize,
    pub failed: usize,
    pub failures: BTreeMap<String, usize>,
    /// Publishers whose connection ended before the run did.
    pub dropped: usize,
    pub seconds: f64,
    pub frames: u64,
    /// Video frames that carried a send time.
    pub timed_frames: u64,
    pub bytes: u64,
    /// Media bitrate per publisher, kbit/s (mean over connected publishers).
    pub bitrate_kbps: f64,
    /// Latest a frame went out after its due time, ms (the publisher's own lateness).
    pub max_late_ms: f64,
}

impl PublishReport {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    pub fn to_table(&self) -> String {
        let mut s = format!(
            "rtmpkit bench publish {}: {} publishers, {:.1} s\n",
            self.url, self.publishers, self.seconds
        );
        s.push_str(&format!(
            "  publishers    {} connected, {} failed, {} dropped\n",
            self.connected, self.failed, self.dropped
        ));
        for (why, n) in &self.failures {
            s.push_str(&format!("                {n} × {why}\n"));
        }
        s.push_str(&format!(
            "  sent          {} frames ({} with send times), {:.1} MB, {:.0} kbit/s per publisher\n",
            self.frames,
            self.timed_frames,
            self.bytes as f64 / 1e6,
            self.bitrate_kbps
        ));
        s.push_str(&format!("  late at most  {:.1} ms\n", self.max_late_ms));
        s
    }
}

#[derive(Debug, Default)]
struct PublisherResult {
    connected: bool,
    failure: Option<String>,
    frames: u64,
    timed_frames: u64,
    bytes: u64,
    max_late_us: u64,
}

/// Runs the publishers until `duration` or until `stop` completes.
pub async fn run_publish(
    config: PublishConfig,
    stop: impl Future<Output = ()>,
) -> Result<PublishReport, BenchError> {
    if config.publishers == 0 {
        return Err(BenchError::Usage("--publishers must be at least 1".into()));
    }
    let source = Arc::new(Source::load(&config.file).await?);
    tracing::info!(
        frames = source.frame_count(),
        pass_ms = source.pass_ms(),
        "source loaded"
    );
    let (stop_tx, stop_rx) = watch::channel(false);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..config.publishers {
        let mut url = config.url.clone();
        url.stream = stream_name(&config.url.stream, i, config.publishers);
        let source = source.clone();
        let options = config.connect.clone();
        let stop = stop_rx.clone();
        tasks.spawn(async move { publish_one(url, options, source, stop).await });
    }
    let limit = async {
        match config.duration {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending().await,
        }
    };
    let all_done = async {
        // Every publisher ended by itself (all failed): nothing left to wait for.
        let mut results = Vec::new();
        while let Some(r) = tasks.join_next().await {
            results.push(r);
        }
        results
    };
    tokio::pin!(all_done);
    let early = tokio::select! {
        _ = limit => None,
        _ = stop => None,
        r = &mut all_done => Some(r),
    };
    let _ = stop_tx.send(true);
    let joined = match early {
        Some(r) => r,
        None => all_done.await,
    };
    let seconds = started.elapsed().as_secs_f64();
    let mut report = PublishReport {
        url: config.url.to_string(),
        publishers: config.publishers,
        connected: 0,
        failed: 0,
        failures: BTreeMap::new(),
        dropped: 0,
        seconds,
        frames: 0,
        timed_frames: 0,
        bytes: 0,
        bitrate_kbps: 0.0,
        max_late_ms: 0.0,
    };
    let mut max_late_us = 0;
    for r in joined {
        let r = r.unwrap_or_else(|e| PublisherResult {
            failure: Some(format!("publisher task failed: {e}")),
            ..PublisherResult::default()
        });
        if r.connected {
            report.connected += 1;
            if r.failure.is_some() {
                report.dropped += 1;
            }
        } else {
            report.failed += 1;
        }
        if let Some(why) = r.failure {
            *report.failures.entry(why).or_insert(0) += 1;
        }
        report.frames += r.frames;
        report.timed_frames += r.timed_frames;
        report.bytes += r.bytes;
        max_late_us = max_late_us.max(r.max_late_us);
    }
    if report.connected > 0 && seconds > 0.0 {
        report.bitrate_kbps =
            report.bytes as f64 * 8.0 / 1000.0 / seconds / report.connected as f64;
    }
    report.max_late_ms = max_late_us as f64 / 1000.0;
    Ok(report)
}

async fn publish_one(
    url: RtmpUrl,
    options: ConnectOptions,
    source: Arc<Source>,
    mut stop: watch::Receiver<bool>,
) -> PublisherResult {
    let mut result = PublisherResult::default();
    let connect = tokio::select! {
        p = Publisher::connect(&url, &options) => p,
        _ = stop.wait_for(|s| *s) => return result,
    };
    let mut publisher = match connect {
        Ok(p) => p,
        Err(e) => {
            result.failure = Some(e.to_string());
            return result;
        }
    };
    result.connected = true;
    if let Err(e) = send_all(&mut publisher, &source, &mut stop, &mut result).await {
        result.failure = Some(e.to_string());
        return result;
    }
    if let Err(e) = publisher.close().await {
        tracing::debug!("closing {url}: {e}");
    }
    result
}

async fn send_all(
    publisher: &mut Publisher,
    source: &Source,
    stop: &mut watch::Receiver<bool>,
    result: &mut PublisherResult,
) -> Result<(), rtmpkit_client::ClientError> {
    if let Some(meta) = &source.metadata {
        publisher.send_metadata(meta.clone()).await?;
    }
    if let Some(h) = &source.video_header {
        publisher.send_video(0, h).await?;
    }
    if let Some(h) = &source.audio_header {
        publisher.send_audio(0, h).await?;
    }
    let start = Instant::now();
    for pass in 0u64.. {
        for frame in &source.frames {
            let at = pass * source.pass_ms + frame.at_ms;
            let due = start + Duration::from_millis(at);
            tokio::select! {
                _ = tokio::time::sleep_until(due) => {}
                _ = stop.wait_for(|s| *s) => return Ok(()),
            }
            let late = Instant::now().saturating_duration_since(due);
            result.max_late_us = result.max_late_us.max(late.as_micros() as u64);
            let payload = if frame.avc {
                match sendtime::embed(&frame.data, source.nal_length_size, wall_us()) {
                    Ok(p) => {
                        result.timed_frames += 1;
                        p
                    }
                    Err(_) => frame.data.clone(),
                }
            } else {
                frame.data.clone()
            };
            // Wire timestamps wrap at 2^32 ms, as RTMP's do.
            publisher
                .send_media(frame.kind, at as u32, &payload)
                .await?;
            result.frames += 1;
            result.bytes += payload.len() as u64;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(kind: u8, ts: u32, data: &[u8]) -> Vec<u8> {
        let mut out = vec![kind];
        out.extend_from_slice(&(data.len() as u32).to_be_bytes()[1..]);
        out.extend_from_slice(&ts.to_be_bytes()[1..]);
        out.push((ts >> 24) as u8);
        out.extend_from_slice(&[0, 0, 0]);
        out.extend_from_slice(data);
        out.extend_from_slice(&(data.len() as u32 + 11).to_be_bytes());
        out
    }

    #[test]
    fn parses_a_file() {
        let mut f = b"FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00".to_vec();
        let mut meta = Vec::new();
        rtmpkit_proto::amf::amf0::encode_all(
            &[
                Amf0Value::string("onMetaData"),
                Amf0Value::object([("width", Amf0Value::Number(320.0))]),
            ],
            &mut meta,
        );
        f.extend(tag(18, 0, &meta));
        f.extend(tag(9, 1000, &[0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f, 0xff]));
        f.extend(tag(8, 1000, &[0xaf, 0, 0x12, 0x10]));
        f.extend(tag(9, 1000, &[0x17, 1, 0, 0, 0, 0, 0, 0, 1, 0x65]));
        f.extend(tag(8, 1010, &[0xaf, 1, 0x21]));
        f.extend(tag(9, 1040, &[0x27, 1, 0, 0, 0, 0, 0, 0, 1, 0x41]));
        let s = Source::parse(&f).unwrap();
        assert!(s.metadata.is_some());
        assert!(s.video_header.is_some() && s.audio_header.is_some());
        assert_eq!(s.frame_count(), 3);
        assert_eq!(
            s.frames.iter().map(|f| f.at_ms).collect::<Vec<_>>(),
            vec![0, 10, 40]
        );
        assert!(s.frames[0].avc && !s.frames[1].avc);
        assert_eq!(s.pass_ms(), 80);
        assert!(Source::parse(b"FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00").is_err());
    }
}
