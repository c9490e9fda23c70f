//! The stream's timeline: publishers' timestamps mapped to the timestamps players see.
//!
//! # The rule
//!
//! 1. **Unwrap.** Each publisher session's 32-bit timestamps are extended to 64 bits: a
//!    timestamp's distance from the session's previous audio or video timestamp is taken as the
//!    signed 32-bit difference (serial number arithmetic), so a publisher that crosses 2^32 ms
//!    simply goes on; values past 2^24 ms (the extended timestamp field) are ordinary values.
//! 2. **Offset.** Output = unwrapped input + the session's offset. The first session of a
//!    stream starts with offset 0: its timestamps pass through unchanged. A later session
//!    (the publisher came back, or took over) gets the offset that puts its first frame at the
//!    highest timestamp the stream has sent, so players go on where the previous one left off.
//! 3. **Audio and video never go back.** If an audio or video frame would come out below the
//!    previous output of its own track, or below 0, the publisher's clock jumped back
//!    (an encoder restart, or one that wraps at 2^24): the offset grows so that this frame
//!    comes out at the highest timestamp sent so far, and later frames follow from there. Small
//!    differences *between* audio and video (interleaving) are kept exactly.
//! 4. **Data is clamped.** A data message (metadata is often stamped 0) never moves the offset;
//!    it comes out at `max(its own mapped time, highest timestamp sent so far)`.
//! 5. Players receive the output modulo 2^32 (the RTMP wire form);
//!    [`Frame::timestamp_ext`](super::Frame::timestamp_ext) keeps the unwrapped value.
//!
//! So per track (audio, video, data) the timestamps a player sees never decrease, across
//! publisher sessions too.

use super::frame::FrameKind;

/// The mapping state of one stream; outlives publisher sessions.
#[derive(Debug, Default)]
pub(crate) struct Timeline {
    /// Last output per track (audio, video, data).
    last_out: [Option<i64>; 3],
    /// Highest output so far, any track.
    max_out: Option<i64>,
    session: SessionClock,
}

/// The part that restarts with each publisher session.
#[derive(Debug, Default)]
struct SessionClock {
    offset: Option<i64>,
    /// Last audio/video input, raw and unwrapped.
    last_in: Option<(u32, i64)>,
}

impl Timeline {
    /// Starts a new publisher session: its first frame will continue the stream.
    pub fn start_session(&mut self) {
        self.session = SessionClock::default();
    }

    /// The highest output so far (0 before any frame).
    pub fn now(&self) -> u64 {
        self.max_out.map_or(0, |t| t.max(0) as u64)
    }

    /// Maps one input timestamp; returns the output (never negative).
    pub fn map(&mut self, kind: FrameKind, ts: u32) -> u64 {
        let input = match self.session.last_in {
            None => i64::from(ts),
            // The signed 32-bit difference: a wrap past 2^32 is a small step forward.
            Some((raw, ext)) => ext + i64::from(ts.wrapping_sub(raw) as i32),
        };
        if kind != FrameKind::Data {
            self.session.last_in = Some((ts, input));
        }
        let max_out = self.max_out.unwrap_or(0);
        let offset = *self.session.offset.get_or_insert(match self.max_out {
            None => 0,
            Some(m) => m - input,
        });
        let mut out = input + offset;
        let track = kind.index();
        match kind {
            FrameKind::Data => out = out.max(max_out).max(self.last_out[track].unwrap_or(0)),
            FrameKind::Audio | FrameKind::Video => {
                if out < 0 || self.last_out[track].is_some_and(|last| out < last) {
                    tracing::debug!(
                        ?kind,
                        input = ts,
                        would_be = out,
                        resumes_at = max_out,
                        "publisher timestamp went back; rebasing"
                    );
                    self.session.offset = Some(offset + (max_out - out));
                    out = max_out;
                }
            }
        }
        self.last_out[track] = Some(out);
        self.max_out = Some(self.max_out.map_or(out, |m| m.max(out)));
        out as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use FrameKind::{Audio as A, Data as D, Video as V};

    fn run(t: &mut Timeline, frames: &[(FrameKind, u32)]) -> Vec<u64> {
        frames.iter().map(|&(k, ts)| t.map(k, ts)).collect()
    }

    #[test]
    fn first_session_passes_through_with_interleaving_kept() {
        let mut t = Timeline::default();
        t.start_session();
        let out = run(
            &mut t,
            &[(D, 0), (V, 0), (A, 0), (V, 40), (A, 23), (A, 46), (V, 80)],
        );
        assert_eq!(out, [0, 0, 0, 40, 23, 46, 80]);
    }

    #[test]
    fn first_session_starting_late_keeps_its_times() {
        let mut t = Timeline::default();
        t.start_session();
        assert_eq!(run(&mut t, &[(V, 90_000), (A, 90_010)]), [90_000, 90_010]);
    }

    #[test]
    fn next_session_continues_where_the_previous_left_off() {
        let mut t = Timeline::default();
        t.start_session();
        run(&mut t, &[(V, 1000), (A, 1010), (V, 5000), (A, 5020)]);
        t.start_session();
        let out = run(&mut t, &[(D, 0), (V, 0), (A, 0), (V, 40), (A, 21)]);
        assert_eq!(out, [5020, 5020, 5020, 5060, 5041]);
    }

    #[test]
    fn backward_jump_rebases_and_keeps_tracks_monotonic() {
        let mut t = Timeline::default();
        t.start_session();
        let out = run(
            &mut t,
            &[
                (V, 10_000),
                (A, 10_010),
                (V, 10_040),
                (V, 0),
                (A, 5),
                (V, 40),
            ],
        );
        // V 0 would be below V 10_040: it resumes at the max (10_040); A 5 maps to 10_045.
        assert_eq!(out, [10_000, 10_010, 10_040, 10_040, 10_045, 10_080]);
    }

    #[test]
    fn wrap_past_2_32_goes_on() {
        let mut t = Timeline::default();
        t.start_session();
        let out = run(
            &mut t,
            &[(V, u32::MAX - 40), (V, u32::MAX), (V, 39), (A, 30), (V, 79)],
        );
        let base = u64::from(u32::MAX);
        assert_eq!(out, [base - 40, base, base + 40, base + 31, base + 80]);
        // The wire form wraps like the input did.
        assert_eq!(
            out.iter().map(|&o| o as u32).collect::<Vec<_>>(),
            [u32::MAX - 40, u32::MAX, 39, 30, 79]
        );
    }

    #[test]
    fn values_past_2_24_are_ordinary_and_a_24_bit_wrap_is_rebased() {
        let mut t = Timeline::default();
        t.start_session();
        let top = 0xFF_FFFF;
        let out = run(&mut t, &[(V, top - 40), (V, top), (V, top + 40)]);
        assert_eq!(out, [top as u64 - 40, top as u64, top as u64 + 40]);
        // An encoder that wraps at 2^24 instead of going on: a jump back, rebased.
        let out = run(&mut t, &[(V, 0), (V, 40)]);
        assert_eq!(out, [top as u64 + 40, top as u64 + 80]);
    }

    #[test]
    fn data_never_goes_back_nor_moves_the_offset() {
        let mut t = Timeline::default();
        t.start_session();
        let out = run(&mut t, &[(V, 3000), (D, 0), (V, 3040), (D, 5000), (D, 10)]);
        assert_eq!(out, [3000, 3000, 3040, 5000, 5000]);
    }

    #[test]
    fn never_negative() {
        let mut t = Timeline::default();
        t.start_session();
        // 5 then "-16" (0xFFFFFFF0 is 21 ms before 5 in serial arithmetic).
        assert_eq!(run(&mut t, &[(A, 5), (V, 0xFFFF_FFF0), (V, 0)]), [5, 5, 21]);
    }
}
