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
