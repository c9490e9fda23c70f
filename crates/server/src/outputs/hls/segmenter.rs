//! Cutting a stream's frames into TS segments at keyframes.

use bytes::{Bytes, BytesMut};
use rtmpkit_proto::mpegts::{MuxError, TsMuxer, TsMuxerConfig};

use crate::hub::{Frame, FrameKind, StreamKey};

/// A segment that outgrows this (no keyframe for a long time) is cut at the next frame anyway,
/// so that memory stays bounded.
const MAX_SEGMENT_BYTES: usize = 64 << 20;
/// Mux errors logged per stream at warn level; later ones at debug.
const LOGGED_ERRORS: u32 = 5;

/// A segment the segmenter finished.
#[derive(Debug)]
pub struct ClosedSegment {
    pub duration_ms: u64,
    pub discontinuity: bool,
    pub data: Bytes,
}

#[derive(Debug)]
struct OpenSegment {
    start_ms: u64,
    discontinuity: bool,
    data: BytesMut,
}

/// Frames in, closed segments out: one per stream, whatever the number of viewers.
///
/// A segment starts at a video keyframe (audio-only streams: at any audio frame) at least
/// `target_ms` after the start of the one before; each segment starts with PAT and PMT and, for
/// video, an IDR with its parameter sets, so it decodes on its own.
#[derive(Debug)]
pub struct Segmenter {
    key: StreamKey,
    muxer: TsMuxer,
    target_ms: u64,
    open: Option<OpenSegment>,
    /// The next segment starts with `EXT-X-DISCONTINUITY`.
    discontinuity_due: bool,
    seen_publisher: bool,
    /// Last media timestamp and the step before it (to estimate the last frame's duration).
    last_ts: Option<u64>,
    last_step: u64,
    errors: u32,
}

impl Segmenter {
    pub fn new(key: StreamKey, target_ms: u64) -> Segmenter {
        Segmenter {
            key,
            muxer: TsMuxer::new(TsMuxerConfig::default()),
            target_ms,
            open: None,
            discontinuity_due: false,
            seen_publisher: false,
            last_ts: None,
            last_step: 0,
            errors: 0,
        }
    }

    /// A publisher (re)joined: a returning one starts a discontinuity, with new codecs maybe.
    pub fn publisher_joined(&mut self) -> Option<ClosedSegment> {
        let closed = self.close();
        if self.seen_publisher {
            self.discontinuity_due = true;
            self.muxer.reset_tracks();
        }
        self.seen_publisher = true;
        closed
    }

    /// Frames were lost (the segmenter fell behind and skipped): the next segment starts a
    /// discontinuity.
    pub fn skipped(&mut self) -> Option<ClosedSegment> {
        self.discontinuity_due = true;
        self.close()
    }

    /// Muxes one frame; returns the segment it closed, if it starts a new one.
    pub fn frame(&mut self, f: &Frame) -> Option<ClosedSegment> {
        let video = match f.kind() {
            FrameKind::Data => return None,
            FrameKind::Video => true,
            FrameKind::Audio => false,
        };
        let ts = f.timestamp_ext();
        if f.is_sequence_header() {
            let _ = self.push(video, ts, f);
            return None;
        }
        let boundary = if self.muxer.has_video() {
            video && f.is_keyframe()
        } else {
            !video
        };
        let mut closed = None;
        let cut = match &self.open {
            None => boundary,
            Some(o) if o.data.len() >= MAX_SEGMENT_BYTES => {
                tracing::warn!(stream = %self.key, bytes = o.data.len(), "HLS segment without keyframe outgrew its bound; cut anyway");
                true
            }
            Some(o) => boundary && ts.saturating_sub(o.start_ms) >= self.target_ms,
        };
        if cut {
            closed = self.close_at(ts);
            self.open = Some(OpenSegment {
                start_ms: ts,
                discontinuity: std::mem::take(&mut self.discontinuity_due),
                data: BytesMut::new(),
            });
            self.muxer.force_psi();
        }
        if self.open.is_none() {
            // Before the first keyframe: nothing can decode it.
            return closed;
        }
        if let Some(packets) = self.push(video, ts, f)
            && let Some(o) = self.open.as_mut()
        {
            o.data.extend_from_slice(&packets);
        }
        if video == self.muxer.has_video() {
            if let Some(last) = self.last_ts
                && ts > last
            {
                self.last_step = ts - last;
            }
            self.last_ts = Some(ts);
        }
        closed
    }

    /// Closes the open segment at the end of its last frame (publisher gone, or the end).
    pub fn close(&mut self) -> Option<ClosedSegment> {
        let end = match (self.last_ts, &self.open) {
            (Some(t), _) => t + self.last_step,
            (None, Some(o)) => o.start_ms,
            (None, None) => return None,
        };
        self.close_at(end)
    }

    fn close_at(&mut self, end_ms: u64) -> Option<ClosedSegment> {
        let o = self.open.take()?;
        if o.data.is_empty() {
            return None;
        }
        Some(ClosedSegment {
            duration_ms: end_ms.saturating_sub(o.start_ms),
            discontinuity: o.discontinuity,
            data: o.data.freeze(),
        })
    }

    fn push(&mut self, video: bool, ts: u64, f: &Frame) -> Option<Bytes> {
        let result = if video {
            self.muxer.push_video(ts, f.payload())
        } else {
            self.muxer.push_audio(ts, f.payload())
        };
        match result {
            Ok(unit) => unit.map(|u| u.packets),
            Err(e) => {
                self.log_error(&e);
                None
            }
        }
    }

    fn log_error(&mut self, e: &MuxError) {
        self.errors += 1;
        if self.errors <= LOGGED_ERRORS {
            tracing::warn!(stream = %self.key, error = %e, "HLS: frame not muxed");
        } else {
            tracing::debug!(stream = %self.key, error = %e, "HLS: frame not muxed");
        }
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    const AVCC: &str = "0164000dffe100196764000dacd94141fb0110000003001000000303\
        20f142996001000668ebe3cb22c0fdf8f800";

    fn frame(kind: FrameKind, ts: u32, payload: Vec<u8>) -> Frame {
        let mut f = Frame::new(kind, ts, Bytes::from(payload));
        f.classify();
        f
    }

    fn video(ts: u32, key: bool) -> Frame {
        let nal: &[u8] = if key { &[0x65, 0x88] } else { &[0x41, 0x9a] };
        let mut p = vec![if key { 0x17 } else { 0x27 }, 1, 0, 0, 0, 0, 0, 0, 2];
        p.extend_from_slice(nal);
        frame(FrameKind::Video, ts, p)
    }

    fn headers(s: &mut Segmenter, with_video: bool) {
        if with_video {
            let mut p = vec![0x17, 0, 0, 0, 0];
            p.extend(
                (0..AVCC.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(&AVCC[i..i + 2], 16).unwrap()),
            );
            assert!(s.frame(&frame(FrameKind::Video, 0, p)).is_none());
        }
        assert!(
            s.frame(&frame(FrameKind::Audio, 0, vec![0xaf, 0, 0x12, 0x10]))
                .is_none()
        );
    }

    #[test]
    fn cuts_at_keyframes_past_the_target() {
        let mut s = Segmenter::new(StreamKey::new("a", "b"), 2000);
        assert!(s.publisher_joined().is_none());
        headers(&mut s, true);
        // Frames before the first keyframe cannot start a segment.
        assert!(s.frame(&video(0, false)).is_none());
        let mut closed = Vec::new();
        for i in 1..=150u32 {
            let ts = i * 40;
            closed.extend(s.frame(&video(ts, i % 25 == 0)));
            closed.extend(s.frame(&frame(FrameKind::Audio, ts, vec![0xaf, 1, 0x21, 0x10])));
        }
        closed.extend(s.close());
        let durations: Vec<u64> = closed.iter().map(|c| c.duration_ms).collect();
        // Keyframes every second from 1 s: segments of 2 s, the last one to the last frame.
        assert_eq!(durations, [2000, 2000, 1040]);
        assert!(
            closed
                .iter()
                .all(|c| !c.discontinuity && c.data.len() % 188 == 0)
        );
        assert!(
            closed.iter().all(|c| c.data[..3] == [0x47, 0x40, 0x00]),
            "PAT first"
        );
    }

    #[test]
    fn audio_only_cuts_anywhere_and_a_returning_publisher_is_a_discontinuity() {
        let mut s = Segmenter::new(StreamKey::new("a", "b"), 1000);
        s.publisher_joined();
        headers(&mut s, false);
        let mut closed = Vec::new();
        for i in 0..100u32 {
            closed.extend(s.frame(&frame(FrameKind::Audio, i * 23, vec![0xaf, 1, 0x21, 0x10])));
        }
        assert_eq!(closed.len(), 2);
        assert!(closed.iter().all(|c| c.duration_ms == 1012));
        closed.extend(s.close());
        assert!(s.publisher_joined().is_none(), "nothing open any more");
        headers(&mut s, false);
        for i in 100..150u32 {
            closed.extend(s.frame(&frame(FrameKind::Audio, i * 23, vec![0xaf, 1, 0x21, 0x10])));
        }
        closed.extend(s.close());
        let flags: Vec<bool> = closed.iter().map(|c| c.discontinuity).collect();
        assert_eq!(flags, [false, false, false, true, false]);
    }
}
