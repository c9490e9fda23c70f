//! What one player observes, kept small: counters, a few timestamps and the latency samples.
//! The RTMP and HTTP-FLV players feed the same [`Tally`], so both are judged alike.

use crate::sendtime::{self, AvcPayload};

/// A forward jump in a player's video timestamps larger than this is the server skipping it
/// ahead (frames dropped), not the stream's own rhythm.
pub const SKIP_GAP_MS: u32 = 500;

/// Audio or video, as both transports name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Track {
    Audio,
    Video,
}

/// One player's observations. Times are microseconds on the run's monotonic clock (see
/// [`RunClock`](crate::play::RunClock)); wall-clock times are microseconds since the Unix
/// epoch.
#[derive(Debug, Clone)]
pub struct Tally {
    /// When the connection attempt began.
    pub started_us: u64,
    /// When the play request went out (RTMP `play`, HTTP `GET`).
    pub playing_us: Option<u64>,
    /// Wall clock at the play request: frames sent before it came from the GOP cache.
    pub play_wall_us: u64,
    /// When the first audio or video frame arrived.
    pub first_media_us: Option<u64>,
    /// When the newest frame arrived.
    pub last_media_us: u64,
    /// Bytes read from the socket, all of them.
    pub bytes: u64,
    /// Bytes read when the measurement window opened and closed.
    pub window_bytes: Option<(u64, u64)>,
    window_open_at: Option<u64>,
    in_window: bool,
    /// Audio and video frames received.
    pub frames: u64,
    /// Arrival time (ms) minus stream timestamp, smallest so far and for the newest frame.
    pub min_offset_ms: i64,
    pub last_offset_ms: i64,
    last_video_ts: Option<u32>,
    /// Skips seen inside the window (video timestamp jumps over [`SKIP_GAP_MS`]).
    pub skips: u32,
    /// End-to-end latencies (µs) of live video frames received inside the window.
    pub latencies_us: Vec<u32>,
    nal_length_size: u8,
}

impl Tally {
    pub fn new(started_us: u64) -> Tally {
        Tally {
            started_us,
            playing_us: None,
            play_wall_us: 0,
            first_media_us: None,
            last_media_us: 0,
            bytes: 0,
            window_bytes: None,
            window_open_at: None,
            in_window: false,
            frames: 0,
            min_offset_ms: i64::MAX,
            last_offset_ms: 0,
            last_video_ts: None,
            skips: 0,
            latencies_us: Vec::new(),
            nal_length_size: 4,
        }
    }

    /// The play request went out.
    pub fn play_sent(&mut self, now_us: u64, wall_us: u64) {
        self.playing_us = Some(now_us);
        self.play_wall_us = wall_us;
    }

    /// The measurement window opened.
    pub fn open_window(&mut self) {
        if self.window_open_at.is_none() {
            self.window_open_at = Some(self.bytes);
            self.in_window = true;
        }
    }

    /// The measurement window closed.
    pub fn close_window(&mut self) {
        if let Some(start) = self.window_open_at
            && self.in_window
        {
            self.window_bytes = Some((start, self.bytes));
        }
        self.in_window = false;
    }

    /// Bytes received in the window (0 when it never opened for this player).
    pub fn window_bytes(&self) -> u64 {
        self.window_bytes.map_or(0, |(a, b)| b.saturating_sub(a))
    }

    /// One audio or video frame. `head` is the start of its payload (the whole payload or at
    /// least its first few dozen bytes): enough for the video tag header and the send time.
    pub fn on_media(
        &mut self,
        track: Track,
        timestamp: u32,
        head: &[u8],
        now_us: u64,
        wall_us: u64,
    ) {
        if self.first_media_us.is_none() {
            self.first_media_us = Some(now_us);
        }
        self.frames += 1;
        self.last_media_us = now_us;
        let offset = (now_us / 1000) as i64 - i64::from(timestamp);
        self.min_offset_ms = self.min_offset_ms.min(offset);
        self.last_offset_ms = offset;
        if track != Track::Video {
            return;
        }
        if let Some(prev) = self.last_video_ts
            && self.in_window
            && timestamp > prev
            && timestamp - prev > SKIP_GAP_MS
        {
            self.skips += 1;
        }
        self.last_video_ts = Some(timestamp);
        match sendtime::classify(head) {
            AvcPayload::SequenceHeader { nal_length_size } => {
                self.nal_length_size = nal_length_size;
            }
            AvcPayload::Nalus if self.in_window => {
                if let Some(sent) = sendtime::find(head, self.nal_length_size)
                    && sent >= self.play_wall_us
                {
                    let latency = wall_us.saturating_sub(sent).min(u64::from(u32::MAX));
                    self.latencies_us.push(latency as u32);
                }
            }
            _ => {}
        }
    }

    /// Time to first frame (µs), from the connection attempt.
    pub fn ttff_us(&self) -> Option<u64> {
        self.first_media_us
            .map(|t| t.saturating_sub(self.started_us))
    }

    /// Time from the play request to the first frame (µs): the server's part of the start,
    /// without the connection setup before it.
    pub fn first_frame_after_play_us(&self) -> Option<u64> {
        Some(self.first_media_us?.saturating_sub(self.playing_us?))
    }

    /// How far behind the live edge this player was at `end_us` (ms): the age of its newest
    /// frame plus how late that frame was compared with the best arrival any player saw
    /// (`global_min_offset_ms`).
    pub fn lag_at(&self, end_us: u64, global_min_offset_ms: i64) -> Option<u64> {
        self.first_media_us?;
        let age = end_us.saturating_sub(self.last_media_us) / 1000;
        let late = self
            .last_offset_ms
            .saturating_sub(global_min_offset_ms)
            .max(0) as u64;
        Some(age + late)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sendtime::embed;

    const AVC_SEQ: [u8; 10] = [0x17, 0x00, 0, 0, 0, 0x01, 0x64, 0x00, 0x1f, 0xff];
    const IDR: [u8; 10] = [0x17, 0x01, 0, 0, 0, 0, 0, 0, 1, 0x65];

    #[test]
    fn latency_counts_live_frames_in_the_window_only() {
        let mut t = Tally::new(1_000);
        t.play_sent(2_000, 5_000_000);
        t.on_media(Track::Video, 0, &AVC_SEQ, 3_000, 5_001_000);
        // From the GOP cache (sent before the play request): no latency sample.
        let cached = embed(&IDR, 4, 4_000_000).unwrap();
        t.on_media(Track::Video, 0, &cached, 3_500, 5_001_500);
        // Live, but before the window.
        let live = embed(&IDR, 4, 5_100_000).unwrap();
        t.on_media(Track::Video, 33, &live, 4_000, 5_102_000);
        assert!(t.latencies_us.is_empty());
        t.open_window();
        t.on_media(Track::Video, 66, &live, 4_500, 5_103_000);
        assert_eq!(t.latencies_us, vec![3_000]);
        assert_eq!(t.ttff_us(), Some(2_000));
        assert_eq!(t.frames, 4);
    }

    #[test]
    fn skips_and_lag() {
        let mut t = Tally::new(0);
        t.open_window();
        t.on_media(Track::Video, 1_000, &IDR, 1_000_000, 0);
        t.on_media(Track::Video, 1_040, &IDR, 1_040_000, 0);
        t.on_media(Track::Audio, 3_000, &[0xaf, 1], 1_060_000, 0);
        assert_eq!(t.skips, 0, "audio jumps are not skips");
        t.on_media(Track::Video, 2_000, &IDR, 1_100_000, 0);
        assert_eq!(t.skips, 1);
        // Offsets: 0, 0, -1940, -900; the newest frame is 940 ms later than the best.
        assert_eq!(t.min_offset_ms, -1_940);
        assert_eq!(t.lag_at(1_200_000, -1_940), Some(100 + 1_040));
        let fresh = Tally::new(0);
        assert_eq!(fresh.lag_at(5, 0), None);
    }

    #[test]
    fn window_bytes() {
        let mut t = Tally::new(0);
        t.bytes = 100;
        t.close_window();
        assert_eq!(t.window_bytes(), 0);
        t.open_window();
        t.bytes = 350;
        t.close_window();
        t.bytes = 400;
        assert_eq!(t.window_bytes(), 250);
    }
}
