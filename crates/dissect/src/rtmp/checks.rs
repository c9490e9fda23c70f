//! Per-direction consistency checks: media timestamps, audio/video drift, sequence headers
//! before coded frames, acknowledgement windows.

use std::collections::HashMap;

use super::media::{
    MediaHeader, audio_codec_name, audio_needs_sequence_header, video_codec_name,
    video_needs_sequence_header,
};
use super::{ProblemKind, Severity};

/// A forward jump between consecutive timestamps of one media type larger than this is
/// reported (ms).
pub(crate) const JUMP_MS: i64 = 3000;
/// Audio and video further apart than this are reported as drifting (ms)…
pub(crate) const DRIFT_MS: i64 = 1000;
/// …until they come back within this.
const DRIFT_CLEAR_MS: i64 = 500;

/// What a check found: kind, severity, text.
pub(crate) type Finding = (ProblemKind, Severity, String);

#[derive(Debug, Default)]
struct StreamChecks {
    /// Last audio and video timestamp (known base only).
    last: [Option<u32>; 2],
    drifting: bool,
    seq_seen: [bool; 2],
    missing_reported: [bool; 2],
}

/// The checks of one direction.
#[derive(Debug, Default)]
pub(crate) struct DirChecks {
    streams: HashMap<u32, StreamChecks>,
    /// The window this direction's sender announced (Window Acknowledgement Size) and its frame.
    pub(crate) window: Option<(u32, u64)>,
    /// Bytes of this direction the peer acknowledged, unwrapped.
    pub(crate) peer_acked: u64,
    overrun_reported: bool,
}

fn kind_name(i: usize) -> &'static str {
    if i == 0 { "audio" } else { "video" }
}

impl DirChecks {
    /// Checks one audio or video message. `known`: its timestamp has a known base;
    /// `from_start`: this direction was decoded from its first message (so a missing
    /// sequence header is really missing, not just before the capture).
    pub(crate) fn media(
        &mut self,
        stream_id: u32,
        timestamp: u32,
        known: bool,
        header: &MediaHeader,
        from_start: bool,
        out: &mut Vec<Finding>,
    ) {
        let st = self.streams.entry(stream_id).or_default();
        let (i, needs, is_seq, is_coded, codec) = match header {
            MediaHeader::Audio(h, _) => {
                let codec = h.codec();
                (
                    0,
                    codec.is_some_and(audio_needs_sequence_header),
                    h.is_sequence_header(),
                    !h.is_sequence_header() && !h.is_sequence_end(),
                    codec.map(audio_codec_name),
                )
            }
            MediaHeader::Video(h, _) => {
                let codec = h.codec();
                (
                    1,
                    codec.is_some_and(video_needs_sequence_header),
                    h.is_sequence_header(),
                    !h.is_sequence_header() && !h.is_sequence_end() && !h.is_command(),
                    codec.map(video_codec_name),
                )
            }
            MediaHeader::Bad(_) => return,
        };
        if is_seq {
            st.seq_seen[i] = true;
        } else if is_coded && needs && !st.seq_seen[i] && !st.missing_reported[i] {
            st.missing_reported[i] = true;
            let codec = codec.unwrap_or_default();
            let what = if i == 0 {
                "AudioSpecificConfig"
            } else {
                "decoder configuration (SPS/PPS)"
            };
            out.push(if from_start {
                (
                    ProblemKind::NoSequenceHeader,
                    Severity::Error,
                    format!(
                        "{codec} {} frames on message stream {stream_id} before any sequence header: a player cannot decode them until the {what} arrives",
                        kind_name(i)
                    ),
                )
            } else {
                (
                    ProblemKind::NoSequenceHeader,
                    Severity::Note,
                    format!(
                        "{codec} {} frames on message stream {stream_id} without a sequence header in the capture: it was probably sent before the capture (or a gap) began",
                        kind_name(i)
                    ),
                )
            });
        }
        if !known {
            return;
        }
        if let Some(last) = st.last[i] {
            let diff = i64::from(timestamp.wrapping_sub(last) as i32);
            if diff < 0 {
                out.push((
                    ProblemKind::TimestampBackwards,
                    Severity::Warning,
                    format!(
                        "{} timestamp went backwards by {} ms ({last} -> {timestamp}) on message stream {stream_id}: players expect each media type's timestamps to grow; an encoder restart or reordering does this",
                        kind_name(i),
                        -diff
                    ),
                ));
            } else if diff > JUMP_MS {
                out.push((
                    ProblemKind::TimestampJump,
                    Severity::Warning,
                    format!(
                        "{} timestamp jumped forward {diff} ms ({last} -> {timestamp}) on message stream {stream_id}: a pause in the source, lost messages, or a new stream on the same connection",
                        kind_name(i)
                    ),
                ));
            }
        }
        st.last[i] = Some(timestamp);
        if let [Some(a), Some(v)] = st.last {
            let d = i64::from(a.wrapping_sub(v) as i32);
            if !st.drifting && d.abs() > DRIFT_MS {
                st.drifting = true;
                let (ahead, behind) = if d > 0 {
                    ("audio", "video")
                } else {
                    ("video", "audio")
                };
                out.push((
                    ProblemKind::AvDrift,
                    Severity::Warning,
                    format!(
                        "{ahead} is {} ms ahead of {behind} on message stream {stream_id} (audio {a} ms, video {v} ms): a player has to buffer or drop to keep them in sync",
                        d.abs()
                    ),
                ));
            } else if st.drifting && d.abs() < DRIFT_CLEAR_MS {
                st.drifting = false;
            }
        }
    }

    /// Notes that this direction's sender has sent `sent` bytes in total; reports when the
    /// peer leaves more than twice the announced window unacknowledged.
    pub(crate) fn sent(&mut self, sent: u64, sender: &str, peer: &str, out: &mut Vec<Finding>) {
        let Some((window, frame)) = self.window else {
            return;
        };
        let window = u64::from(window.max(1));
        let unacked = sent.saturating_sub(self.peer_acked);
        if unacked > 2 * window && !self.overrun_reported {
            self.overrun_reported = true;
            out.push((
                ProblemKind::AckWindow,
                Severity::Warning,
                format!(
                    "the {peer} has not acknowledged {unacked} bytes, more than twice the {window}-byte window the {sender} set in frame {frame}: it stopped reading, or never sends Acknowledgements"
                ),
            ));
        }
    }

    /// The peer acknowledged `sequence` bytes (a 32-bit count that wraps); `sent` is what this
    /// direction has sent so far.
    pub(crate) fn acknowledged(&mut self, sequence: u32, sent: u64) {
        let behind = u64::from((sent as u32).wrapping_sub(sequence));
        self.peer_acked = sent.saturating_sub(behind);
        self.overrun_reported = false;
    }
}
