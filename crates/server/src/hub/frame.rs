//! A published media frame: its payload, what the hub learned about it, and its shared RTMP
//! serialization.

use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use rtmpkit_proto::amf::amf0;
use rtmpkit_proto::flv::{
    AudioTagHeader, FlvWriter, ON_METADATA, SET_DATA_FRAME, TagType, VideoTagHeader,
    set_data_frame_to_on_metadata,
};
use rtmpkit_proto::rtmp::chunk::{ChunkError, MessageHeader, serialize_fmt0};

use super::SerializationCounters;
use super::frame_file::{FileSlot, FrameFile};

/// The message stream id whose chunks are shared between players: the id a server gives the
/// first (normally only) stream a client creates.
pub const SHARED_STREAM_ID: u32 = 1;

/// What a frame carries, as the RTMP message type says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FrameKind {
    /// Message type 8.
    Audio,
    /// Message type 9.
    Video,
    /// Message type 18 (AMF0 data): metadata, cue points, text.
    Data,
}

impl FrameKind {
    /// The RTMP message type id.
    pub fn type_id(self) -> u8 {
        match self {
            FrameKind::Audio => 8,
            FrameKind::Video => 9,
            FrameKind::Data => 18,
        }
    }

    /// The kind for an RTMP message type id (8, 9, 18).
    pub fn from_type_id(type_id: u8) -> Option<FrameKind> {
        match type_id {
            8 => Some(FrameKind::Audio),
            9 => Some(FrameKind::Video),
            18 => Some(FrameKind::Data),
            _ => None,
        }
    }

    /// The chunk stream id the server sends this kind on: 6 audio, 7 video, 5 data.
    pub const fn csid(self) -> u32 {
        match self {
            FrameKind::Audio => 6,
            FrameKind::Video => 7,
            FrameKind::Data => 5,
        }
    }

    pub(crate) fn index(self) -> usize {
        match self {
            FrameKind::Audio => 0,
            FrameKind::Video => 1,
            FrameKind::Data => 2,
        }
    }
}

/// What the hub learned from a frame's header, once, when it was pushed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct FrameClass {
    pub keyframe: bool,
    pub sequence_header: bool,
    pub metadata: bool,
    /// For a multitrack sequence header: its first track's id, so each track keeps its own.
    pub track: Option<u8>,
}

/// One audio, video or data message of a stream.
///
/// A publisher's connection builds it with [`Frame::audio`], [`Frame::video`] or
/// [`Frame::data`] and hands it to [`Publisher::push`](super::Publisher::push); players get it
/// back as `Arc<Frame>`, shared, never copied. After the push, [`timestamp`](Frame::timestamp)
/// is the stream's (rebased) timestamp, the same for every player.
#[derive(Debug)]
pub struct Frame {
    kind: FrameKind,
    timestamp: u32,
    timestamp_ext: u64,
    payload: Bytes,
    pub(crate) class: FrameClass,
    /// The publisher session that pushed it (0 before the push).
    pub(crate) session: u64,
    shared_chunk_size: u32,
    shared: OnceLock<Result<Bytes, ChunkError>>,
    counters: Option<Arc<SerializationCounters>>,
    flv_tag: OnceLock<Option<Bytes>>,
    /// The shared serialization's place in the stream's frame file, when it has one: set
    /// once, by the publisher's push or when the first player to send from the file joins.
    file: OnceLock<FileSlot>,
}

impl Frame {
    /// A frame of `kind` with the publisher's timestamp (ms).
    pub fn new(kind: FrameKind, timestamp: u32, payload: Bytes) -> Frame {
        Frame {
            kind,
            timestamp,
            timestamp_ext: u64::from(timestamp),
            payload,
            class: FrameClass::default(),
            session: 0,
            shared_chunk_size: 0,
            shared: OnceLock::new(),
            counters: None,
            flv_tag: OnceLock::new(),
            file: OnceLock::new(),
        }
    }

    /// An audio message (type 8).
    pub fn audio(timestamp: u32, payload: Bytes) -> Frame {
        Frame::new(FrameKind::Audio, timestamp, payload)
    }

    /// A video message (type 9).
    pub fn video(timestamp: u32, payload: Bytes) -> Frame {
        Frame::new(FrameKind::Video, timestamp, payload)
    }

    /// An AMF0 data message (type 18), e.g. `@setDataFrame` `onMetaData`.
    pub fn data(timestamp: u32, payload: Bytes) -> Frame {
        Frame::new(FrameKind::Data, timestamp, payload)
    }

    pub fn kind(&self) -> FrameKind {
        self.kind
    }

    /// The timestamp players see (ms, wrapping at 2^32 as on the wire); before the push, the
    /// publisher's.
    pub fn timestamp(&self) -> u32 {
        self.timestamp
    }

    /// The same timestamp without the 32-bit wrap: never decreases within a track.
    pub fn timestamp_ext(&self) -> u64 {
        self.timestamp_ext
    }

    /// The message body. For `@setDataFrame` data it is the body without that first string
    /// (what players receive).
    pub fn payload(&self) -> &Bytes {
        &self.payload
    }

    /// A video message that carries a coded keyframe (not a sequence header).
    pub fn is_keyframe(&self) -> bool {
        self.class.keyframe
    }

    /// Decoder configuration: AVC/HEVC sequence header, AAC sequence header, or an Enhanced
    /// RTMP `SequenceStart` (any FourCC codec).
    pub fn is_sequence_header(&self) -> bool {
        self.class.sequence_header
    }

    /// Stream metadata (`onMetaData`, with or without `@setDataFrame` on the publisher's side).
    pub fn is_metadata(&self) -> bool {
        self.class.metadata
    }

    /// A video message that is neither a keyframe nor decoder configuration; a player that
    /// waits for a keyframe drops these.
    pub(crate) fn is_video_delta(&self) -> bool {
        self.kind == FrameKind::Video && !self.class.keyframe && !self.class.sequence_header
    }

    /// Bytes this frame accounts for in bounds: payload plus a fixed cost for the frame itself,
    /// so that floods of tiny frames are bounded too.
    pub(crate) fn cost(&self) -> u64 {
        const OVERHEAD: u64 = (std::mem::size_of::<Frame>() + 64) as u64;
        self.payload.len() as u64 + OVERHEAD
    }

    /// The whole message as RTMP chunks (a type 0 chunk with the absolute timestamp, then
    /// type 3 continuations) on the chunk stream for its kind ([`FrameKind::csid`]).
    ///
    /// With the hub's configured chunk size and [`SHARED_STREAM_ID`] the bytes are built once,
    /// by the first player that asks, and shared by all; other combinations are built on each
    /// call. A connection that also writes with a `ChunkWriter` on the same csid must reset
    /// that chunk stream after sending these bytes.
    pub fn rtmp_chunks(&self, chunk_size: u32, stream_id: u32) -> Result<Bytes, ChunkError> {
        self.rtmp_chunks_on(chunk_size, self.kind.csid(), stream_id)
    }

    /// [`rtmp_chunks`](Frame::rtmp_chunks) on chunk stream `csid`.
    pub fn rtmp_chunks_on(
        &self,
        chunk_size: u32,
        csid: u32,
        stream_id: u32,
    ) -> Result<Bytes, ChunkError> {
        let shared = self.counters.is_some()
            && chunk_size == self.shared_chunk_size
            && csid == self.kind.csid()
            && stream_id == SHARED_STREAM_ID;
        if shared {
            return self
                .shared
                .get_or_init(|| {
                    if let Some(c) = &self.counters {
                        c.shared.fetch_add(1, Ordering::Relaxed);
                    }
                    self.serialize(chunk_size, csid, stream_id)
                })
                .clone();
        }
        if let Some(c) = &self.counters {
            c.private.fetch_add(1, Ordering::Relaxed);
        }
        self.serialize(chunk_size, csid, stream_id)
    }

    /// Where the chunks [`rtmp_chunks`](Frame::rtmp_chunks) gives for `chunk_size` and
    /// `stream_id` also lie in the stream's frame file, if they do: a socket may send them
    /// from there (`sendfile`) instead of from memory.
    pub(crate) fn file_slot(&self, chunk_size: u32, stream_id: u32) -> Option<&FileSlot> {
        self.file
            .get()
            .filter(|_| chunk_size == self.shared_chunk_size && stream_id == SHARED_STREAM_ID)
    }

    /// Where the shared serialization lies in the stream's frame file, if it does.
    pub(crate) fn file(&self) -> Option<&FileSlot> {
        self.file.get()
    }

    /// Writes the shared serialization to `file` unless it is there already (the caller holds
    /// the stream's write lock, which orders the file). Without a file players are served from
    /// memory, as they are anyway when the serialization fails (they then get the error from
    /// [`rtmp_chunks`](Frame::rtmp_chunks)).
    pub(crate) fn write_to(&self, file: &mut FrameFile) {
        if self.file.get().is_some() {
            return;
        }
        if let Ok(chunks) =
            self.serialize(self.shared_chunk_size, self.kind.csid(), SHARED_STREAM_ID)
            && let Some(slot) = file.append(&chunks)
        {
            let _ = self.file.set(slot);
        }
    }

    fn serialize(&self, chunk_size: u32, csid: u32, stream_id: u32) -> Result<Bytes, ChunkError> {
        let header = MessageHeader {
            timestamp: self.timestamp,
            type_id: self.kind.type_id(),
            stream_id,
        };
        serialize_fmt0(chunk_size, csid, &header, &self.payload)
    }

    /// The frame as one FLV tag: tag header (with [`timestamp`](Frame::timestamp)), payload
    /// and PreviousTagSize. Built once, by the first HTTP-FLV viewer that asks, and shared by
    /// all. `None` for a payload too long for an FLV tag (2^24 bytes or more).
    pub fn flv_tag(&self) -> Option<Bytes> {
        self.flv_tag
            .get_or_init(|| {
                let tag_type = TagType::from_u5(self.kind.type_id());
                let prefix =
                    FlvWriter::tag_prefix(tag_type, self.timestamp, self.payload.len()).ok()?;
                let mut out = Vec::with_capacity(prefix.len() + self.payload.len() + 4);
                out.extend_from_slice(&prefix);
                out.extend_from_slice(&self.payload);
                out.extend_from_slice(&FlvWriter::tag_suffix(self.payload.len()));
                Some(Bytes::from(out))
            })
            .clone()
    }

    /// Classifies the frame (and strips `@setDataFrame`); done once, before the push.
    pub(crate) fn classify(&mut self) {
        self.class = match self.kind {
            FrameKind::Video => classify_video(&self.payload),
            FrameKind::Audio => classify_audio(&self.payload),
            FrameKind::Data => {
                let (class, body) = classify_data(&self.payload);
                if let Some(body) = body {
                    self.payload = body;
                }
                class
            }
        };
    }

    /// Sets what the hub decided at the push.
    pub(crate) fn stamp(
        &mut self,
        timestamp_ext: u64,
        session: u64,
        shared_chunk_size: u32,
        counters: Arc<SerializationCounters>,
    ) {
        self.timestamp_ext = timestamp_ext;
        // Wire timestamps wrap at 2^32: the truncation is the point.
        self.timestamp = timestamp_ext as u32;
        self.session = session;
        self.shared_chunk_size = shared_chunk_size;
        self.counters = Some(counters);
    }
}

fn classify_video(payload: &[u8]) -> FrameClass {
    let Ok((header, body)) = VideoTagHeader::decode(payload) else {
        // Not a header we understand: forwarded as an ordinary (non-key) frame.
        return FrameClass::default();
    };
    let sequence_header = header.is_sequence_header();
    let track = match &header {
        VideoTagHeader::Enhanced(h) if sequence_header && header.is_multitrack() => h
            .tracks(payload.get(body..).unwrap_or(&[]))
            .next()
            .and_then(Result::ok)
            .map(|t| t.track_id),
        _ => None,
    };
    FrameClass {
        keyframe: header.is_keyframe(),
        sequence_header,
        metadata: false,
        track,
    }
}

fn classify_audio(payload: &[u8]) -> FrameClass {
    if payload.is_empty() {
        return FrameClass::default();
    }
    let Ok((header, body)) = AudioTagHeader::decode(payload) else {
        return FrameClass::default();
    };
    let sequence_header = header.is_sequence_header();
    let track = match &header {
        AudioTagHeader::Enhanced(h) if sequence_header && header.is_multitrack() => h
            .tracks(payload.get(body..).unwrap_or(&[]))
            .next()
            .and_then(Result::ok)
            .map(|t| t.track_id),
        _ => None,
    };
    FrameClass {
        keyframe: false,
        sequence_header,
        metadata: false,
        track,
    }
}

/// The class of a data message, and its body without `@setDataFrame` when it had one.
fn classify_data(payload: &Bytes) -> (FrameClass, Option<Bytes>) {
    let mut body = None;
    let mut rest: &[u8] = payload;
    if leading_string(rest).as_deref() == Some(SET_DATA_FRAME)
        && let Ok(Some(after)) = set_data_frame_to_on_metadata(payload)
    {
        let offset = payload.len() - after.len();
        body = Some(payload.slice(offset..));
        rest = after;
    }
    let class = FrameClass {
        metadata: leading_string(rest).as_deref() == Some(ON_METADATA),
        ..FrameClass::default()
    };
    (class, body)
}

/// The first AMF0 value when it is a string; nothing else is decoded, so a large object costs
/// nothing here.
fn leading_string(buf: &[u8]) -> Option<String> {
    const STRING_MARKER: u8 = 0x02;
    if buf.first() != Some(&STRING_MARKER) {
        return None;
    }
    let (value, _) = amf0::decode(buf).ok()?;
    value.as_str().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtmpkit_proto::amf::Amf0Value;

    fn amf(values: &[Amf0Value]) -> Bytes {
        let mut out = Vec::new();
        amf0::encode_all(values, &mut out);
        Bytes::from(out)
    }

    fn class_of(kind: FrameKind, payload: &[u8]) -> FrameClass {
        let mut f = Frame::new(kind, 0, Bytes::copy_from_slice(payload));
        f.classify();
        f.class
    }

    #[test]
    fn avc_and_hevc_legacy() {
        let c = class_of(FrameKind::Video, &[0x17, 0x00, 0, 0, 0, 1, 2]);
        assert!(c.sequence_header && !c.keyframe);
        let c = class_of(FrameKind::Video, &[0x17, 0x01, 0, 0, 0, 1, 2]);
        assert!(c.keyframe && !c.sequence_header);
        let c = class_of(FrameKind::Video, &[0x27, 0x01, 0, 0, 0, 1, 2]);
        assert!(!c.keyframe && !c.sequence_header);
        // Legacy HEVC (codec id 12), as some encoders send it.
        let c = class_of(FrameKind::Video, &[0x1c, 0x00, 0, 0, 0, 1]);
        assert!(c.sequence_header);
    }

    #[test]
    fn enhanced_fourcc_video() {
        // IsExHeader | key | SequenceStart, 'hvc1'
        let c = class_of(FrameKind::Video, b"\x90hvc1\x01\x02");
        assert!(c.sequence_header && !c.keyframe);
        // key | CodedFramesX, 'av01'
        let c = class_of(FrameKind::Video, b"\x93av01\x12\x00");
        assert!(c.keyframe && !c.sequence_header);
        // inter | CodedFrames, 'vp09'
        let c = class_of(FrameKind::Video, b"\xa1vp09\x00");
        assert!(!c.keyframe && !c.sequence_header);
    }

    #[test]
    fn audio_sequence_headers() {
        assert!(class_of(FrameKind::Audio, &[0xaf, 0x00, 0x12, 0x10]).sequence_header);
        assert!(!class_of(FrameKind::Audio, &[0xaf, 0x01, 0x21]).sequence_header);
        // Enhanced: SoundFormat 9 | SequenceStart, 'Opus'
        assert!(class_of(FrameKind::Audio, b"\x90Opus\x01").sequence_header);
        assert!(!class_of(FrameKind::Audio, b"\x91Opus\x01").sequence_header);
        assert_eq!(class_of(FrameKind::Audio, &[]), FrameClass::default());
    }

    #[test]
    fn garbage_is_forwarded_unclassified() {
        assert_eq!(class_of(FrameKind::Video, &[]), FrameClass::default());
        assert_eq!(class_of(FrameKind::Video, &[0x17]), FrameClass::default());
        assert_eq!(
            class_of(FrameKind::Data, &[0x02, 0xff]),
            FrameClass::default()
        );
    }

    #[test]
    fn set_data_frame_is_stripped() {
        let meta = Amf0Value::EcmaArray {
            count: 1,
            properties: vec![("width".into(), Amf0Value::Number(1280.0))],
        };
        let published = amf(&[
            Amf0Value::String(SET_DATA_FRAME.into()),
            Amf0Value::String(ON_METADATA.into()),
            meta.clone(),
        ]);
        let mut f = Frame::data(0, published);
        f.classify();
        assert!(f.is_metadata());
        assert_eq!(
            f.payload(),
            &amf(&[Amf0Value::String(ON_METADATA.into()), meta.clone()])
        );
        // Plain onMetaData is metadata too, unchanged.
        let plain = amf(&[Amf0Value::String(ON_METADATA.into()), meta]);
        let mut f = Frame::data(0, plain.clone());
        f.classify();
        assert!(f.is_metadata());
        assert_eq!(f.payload(), &plain);
        // Other data passes through unclassified.
        let cue = amf(&[Amf0Value::String("onCuePoint".into()), Amf0Value::Null]);
        let mut f = Frame::data(0, cue.clone());
        f.classify();
        assert!(!f.is_metadata());
        assert_eq!(f.payload(), &cue);
    }

    #[test]
    fn flv_tag_is_built_once_and_shared() {
        let f = Frame::video(0x0123_4567, Bytes::from_static(&[0x17, 1, 0, 0, 0, 9]));
        let tag = f.flv_tag().unwrap();
        assert_eq!(
            &tag[..],
            &[
                9, 0, 0, 6, 0x23, 0x45, 0x67, 0x01, 0, 0, 0, 0x17, 1, 0, 0, 0, 9, 0, 0, 0, 17
            ]
        );
        assert_eq!(
            f.flv_tag().unwrap().as_ptr(),
            tag.as_ptr(),
            "the same bytes"
        );
    }

    #[test]
    fn kinds_map_to_rtmp() {
        for k in [FrameKind::Audio, FrameKind::Video, FrameKind::Data] {
            assert_eq!(FrameKind::from_type_id(k.type_id()), Some(k));
        }
        assert_eq!(FrameKind::from_type_id(20), None);
        assert_eq!(FrameKind::Audio.csid(), 6);
        assert_eq!(FrameKind::Video.csid(), 7);
        assert_eq!(FrameKind::Data.csid(), 5);
    }
}
