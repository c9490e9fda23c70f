//! Turning what a player receives into a valid FLV file: header, `onMetaData`, sequence
//! headers, then tags from the first keyframe.

use bytes::Bytes;
use rtmpkit_proto::amf::Amf0Value;
use rtmpkit_proto::flv::{AudioTagHeader, FlvError, FlvHeader, FlvWriter, TagType, VideoTagHeader};
use rtmpkit_proto::rtmp::message::DataMessage;
use rtmpkit_proto::rtmp::session::MediaKind;

use crate::player::PlayEvent;

/// Audio this long (by timestamps) with no video at all makes the stream audio-only.
const AUDIO_ONLY_AFTER_MS: u32 = 3000;

/// Milliseconds from `first` to `ts` in RTMP's wrapping 32-bit time (0 when `ts` is earlier,
/// as audio interleaved just before a keyframe can be).
fn elapsed(first: u32, ts: u32) -> u32 {
    u32::try_from(ts.wrapping_sub(first) as i32).unwrap_or(0)
}

/// Where a recording stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecorderProgress {
    /// Whether the file has begun (a keyframe arrived).
    pub started: bool,
    /// Media time written: last timestamp minus the first keyframe's.
    pub duration_ms: u32,
    /// Audio and video frames written (sequence headers not counted).
    pub frames: u64,
    /// Frames dropped before the first keyframe.
    pub skipped: u64,
    /// FLV bytes produced.
    pub bytes: u64,
}

/// Builds an FLV file from [`PlayEvent`]s. Nothing is written until the first video keyframe
/// (or, for an audio-only stream, the first audio frame): then the FLV header, the last
/// `onMetaData`, the sequence headers and the keyframe, all at the keyframe's timestamp.
/// Timestamps are kept as the server sent them. A stream is audio-only when its metadata names
/// an audio codec and no video codec, or when 3 s of audio arrive without any video.
#[derive(Debug, Default)]
pub struct FlvRecorder {
    writer: FlvWriter,
    metadata: Option<Amf0Value>,
    video_header: Option<Bytes>,
    audio_header: Option<Bytes>,
    seen_video: bool,
    first_audio: Option<u32>,
    first_ts: Option<u32>,
    progress: RecorderProgress,
}

impl FlvRecorder {
    pub fn new() -> FlvRecorder {
        FlvRecorder::default()
    }

    /// Where the recording stands.
    pub fn progress(&self) -> RecorderProgress {
        RecorderProgress {
            bytes: self.writer.bytes_written(),
            ..self.progress
        }
    }

    /// The timestamp the file starts at (the first keyframe's), once it has started.
    pub fn first_timestamp(&self) -> Option<u32> {
        self.first_ts
    }

    /// Milliseconds from the start of the file to `timestamp` (0 before it starts).
    pub fn elapsed_to(&self, timestamp: u32) -> u32 {
        self.first_ts.map_or(0, |first| elapsed(first, timestamp))
    }

    fn audio_only(&self, timestamp: u32) -> bool {
        if self.seen_video {
            return false;
        }
        if let Some(meta) = &self.metadata {
            let has = |key: &str| meta.get(key).is_some_and(|v| !v.is_null());
            if has("audiocodecid") && !has("videocodecid") {
                return true;
            }
        }
        self.first_audio
            .is_some_and(|first| elapsed(first, timestamp) >= AUDIO_ONLY_AFTER_MS)
    }

    fn start(&mut self, timestamp: u32, out: &mut Vec<u8>) -> Result<(), FlvError> {
        let meta_has = |key: &str| {
            self.metadata
                .as_ref()
                .is_some_and(|m| m.get(key).is_some_and(|v| !v.is_null()))
        };
        let has_audio =
            self.audio_header.is_some() || self.first_audio.is_some() || meta_has("audiocodecid");
        let has_video = self.seen_video || meta_has("videocodecid");
        self.writer
            .write_header(&FlvHeader::new(has_audio, has_video), out);
        if let Some(meta) = &self.metadata {
            let mut body = Vec::new();
            DataMessage::on_metadata(meta.clone()).encode(&mut body);
            self.writer
                .write_tag(TagType::Script, timestamp, &body, out)?;
        }
        if let Some(h) = &self.video_header {
            self.writer.write_tag(TagType::Video, timestamp, h, out)?;
        }
        if let Some(h) = &self.audio_header {
            self.writer.write_tag(TagType::Audio, timestamp, h, out)?;
        }
        self.progress.started = true;
        self.first_ts = Some(timestamp);
        Ok(())
    }

    fn write_frame(
        &mut self,
        tag_type: TagType,
        timestamp: u32,
        payload: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), FlvError> {
        self.writer.write_tag(tag_type, timestamp, payload, out)?;
        self.progress.frames += 1;
        let first = self.first_ts.unwrap_or(timestamp);
        self.progress.duration_ms = self.progress.duration_ms.max(elapsed(first, timestamp));
        Ok(())
    }

    /// Takes one event; appends to `out` whatever the file gets from it.
    pub fn push(&mut self, event: &PlayEvent, out: &mut Vec<u8>) -> Result<(), FlvError> {
        match event {
            PlayEvent::Data { timestamp, data } => {
                if let Some(meta) = data.metadata() {
                    if self.progress.started {
                        let mut body = Vec::new();
                        DataMessage::on_metadata(meta.clone()).encode(&mut body);
                        self.writer
                            .write_tag(TagType::Script, *timestamp, &body, out)?;
                    } else {
                        self.metadata = Some(meta.clone());
                    }
                } else if self.progress.started && !data.name().starts_with('|') {
                    // `|RtmpSampleAccess` and the like are RTMP permissions, not content.
                    let mut body = Vec::new();
                    data.encode(&mut body);
                    self.writer
                        .write_tag(TagType::Script, *timestamp, &body, out)?;
                }
            }
            PlayEvent::Media {
                kind: MediaKind::Video,
                timestamp,
                payload,
            } => {
                self.seen_video = true;
                let (sequence_header, keyframe) = match VideoTagHeader::decode(payload) {
                    Ok((h, _)) => (h.is_sequence_header(), h.is_keyframe()),
                    Err(_) => (false, false),
                };
                if sequence_header {
                    self.video_header = Some(payload.clone());
                    if self.progress.started {
                        self.writer
                            .write_tag(TagType::Video, *timestamp, payload, out)?;
                    }
                } else if self.progress.started {
                    self.write_frame(TagType::Video, *timestamp, payload, out)?;
                } else if keyframe {
                    self.start(*timestamp, out)?;
                    self.write_frame(TagType::Video, *timestamp, payload, out)?;
                } else {
                    self.progress.skipped += 1;
                }
            }
            PlayEvent::Media {
                kind: MediaKind::Audio,
                timestamp,
                payload,
            } => {
                let sequence_header = AudioTagHeader::decode(payload)
                    .map(|(h, _)| h.is_sequence_header())
                    .unwrap_or(false);
                if sequence_header {
                    self.audio_header = Some(payload.clone());
                    if self.progress.started {
                        self.writer
                            .write_tag(TagType::Audio, *timestamp, payload, out)?;
                    }
                    return Ok(());
                }
                self.first_audio.get_or_insert(*timestamp);
                if !self.progress.started && self.audio_only(*timestamp) {
                    self.start(*timestamp, out)?;
                }
                if self.progress.started {
                    self.write_frame(TagType::Audio, *timestamp, payload, out)?;
                } else {
                    self.progress.skipped += 1;
                }
            }
            PlayEvent::Status(_) | PlayEvent::ReconnectRequested { .. } | PlayEvent::End(_) => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtmpkit_proto::flv::{FlvEvent, FlvReader};

    fn media(kind: MediaKind, timestamp: u32, payload: &[u8]) -> PlayEvent {
        PlayEvent::Media {
            kind,
            timestamp,
            payload: Bytes::copy_from_slice(payload),
        }
    }

    fn read_back(file: &[u8]) -> (FlvHeader, Vec<(TagType, u32, Vec<u8>)>) {
        let mut r = FlvReader::new();
        r.push(file);
        let mut header = None;
        let mut tags = Vec::new();
        while let Some(e) = r.poll() {
            match e.expect("valid FLV") {
                FlvEvent::Header(h) => header = Some(h),
                FlvEvent::Tag(t) => {
                    tags.push((t.header.tag_type, t.header.timestamp, t.data.to_vec()))
                }
            }
        }
        r.finish().expect("complete file");
        (header.expect("header"), tags)
    }

    #[test]
    fn starts_at_the_first_keyframe_with_headers_and_metadata() {
        let mut rec = FlvRecorder::new();
        let mut out = Vec::new();
        let meta =
            DataMessage::on_metadata(Amf0Value::object([("width", Amf0Value::Number(320.0))]));
        let events = [
            PlayEvent::Data {
                timestamp: 0,
                data: meta,
            },
            media(MediaKind::Video, 1000, &[0x17, 0, 0, 0, 0, 0xaa]), // AVC sequence header
            media(MediaKind::Audio, 1000, &[0xaf, 0, 0x12, 0x10]),    // AAC sequence header
            media(MediaKind::Video, 1040, &[0x27, 1, 0, 0, 0, 1]),    // inter frame: skipped
            media(MediaKind::Audio, 1050, &[0xaf, 1, 2]),             // audio before key: skipped
            media(MediaKind::Video, 1080, &[0x17, 1, 0, 0, 0, 2]),    // keyframe: start
            media(MediaKind::Audio, 1070, &[0xaf, 1, 3]),
            media(MediaKind::Video, 1120, &[0x27, 1, 0, 0, 0, 3]),
            PlayEvent::End(crate::EndReason::StreamEof),
        ];
        for e in &events {
            rec.push(e, &mut out).unwrap();
        }
        let (header, tags) = read_back(&out);
        assert!(header.has_audio && header.has_video);
        let kinds: Vec<_> = tags.iter().map(|t| (t.0, t.1)).collect();
        assert_eq!(
            kinds,
            vec![
                (TagType::Script, 1080),
                (TagType::Video, 1080),
                (TagType::Audio, 1080),
                (TagType::Video, 1080),
                (TagType::Audio, 1070),
                (TagType::Video, 1120),
            ]
        );
        let mut script = Vec::new();
        DataMessage::on_metadata(Amf0Value::object([("width", Amf0Value::Number(320.0))]))
            .encode(&mut script);
        assert_eq!(tags[0].2, script);
        assert_eq!(tags[1].2, [0x17, 0, 0, 0, 0, 0xaa]);
        assert_eq!(tags[3].2, [0x17, 1, 0, 0, 0, 2]);
        let p = rec.progress();
        assert_eq!((p.frames, p.skipped, p.duration_ms), (3, 2, 40));
        assert_eq!(p.bytes, out.len() as u64);
    }

    #[test]
    fn audio_only_streams_start_after_three_seconds_or_by_metadata() {
        let mut rec = FlvRecorder::new();
        let mut out = Vec::new();
        for ts in (0..=3000).step_by(500) {
            rec.push(&media(MediaKind::Audio, ts, &[0x2f, 1]), &mut out)
                .unwrap();
        }
        let (header, tags) = read_back(&out);
        assert!(header.has_audio && !header.has_video);
        assert_eq!(tags.len(), 1);
        assert_eq!(tags[0].1, 3000);

        let mut rec = FlvRecorder::new();
        let mut out = Vec::new();
        let meta = DataMessage::on_metadata(Amf0Value::object([(
            "audiocodecid",
            Amf0Value::Number(10.0),
        )]));
        rec.push(
            &PlayEvent::Data {
                timestamp: 0,
                data: meta,
            },
            &mut out,
        )
        .unwrap();
        rec.push(&media(MediaKind::Audio, 5, &[0xaf, 1, 9]), &mut out)
            .unwrap();
        let (_, tags) = read_back(&out);
        assert_eq!(tags.len(), 2);
        assert_eq!(tags[1], (TagType::Audio, 5, vec![0xaf, 1, 9]));
    }
}
