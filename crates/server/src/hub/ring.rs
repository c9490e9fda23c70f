//! One stream's shared state: the ring of recent frames, the stored headers, the GOP
//! bookkeeping and the timeline. Guarded by the stream's lock, which the publisher takes once
//! per frame (O(1) work, independent of the number of players) and players take briefly to
//! read at their cursor.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::frame::{Frame, FrameKind};
use super::frame_file::{FileSlot, FrameFile};
use super::timeline::Timeline;
use super::{HubConfig, ReleasePolicy};

/// Sequence headers kept per kind: one per track of a multitrack stream, at most this many.
const MAX_HEADERS_PER_KIND: usize = 16;

/// Bytes a marker counts for in the ring's byte bound.
const MARKER_COST: u64 = 64;

/// In the default release policy ([`ReleasePolicy::LowLatency`]), how long an audio frame
/// may wait for the next video frame so that both reach the players in one write: less than
/// one frame interval at 30 fps.
pub const AUDIO_HOLD: Duration = Duration::from_millis(30);

/// What a ring slot holds.
#[derive(Debug, Clone)]
pub(crate) enum Entry {
    Frame(Arc<Frame>),
    /// A publisher session started.
    Joined,
    /// The publisher session left (unpublished, disconnected or was replaced).
    Left,
}

#[derive(Debug)]
pub(crate) struct Slot {
    pub entry: Entry,
    /// The publisher session this slot belongs to.
    pub session: u64,
    /// Stream time (ms, unwrapped) at this slot.
    pub ts: u64,
    /// Cost of everything pushed before this slot.
    pub start_bytes: u64,
    pub cost: u64,
    /// For a frame in the frame file: the first slot of the run of frames of its session that
    /// lie end to end in the file up to it ([`NO_RUN`] for anything else). A run is a stretch
    /// of consecutive slots and every slot after it starts later, so a player finds where its
    /// run ends by bisection.
    pub run_start: u64,
}

/// [`Slot::run_start`] of a slot that is not in the frame file.
const NO_RUN: u64 = u64::MAX;

impl Slot {
    fn file_frame(&self) -> Option<&FileSlot> {
        match &self.entry {
            Entry::Frame(f) => f.file(),
            _ => None,
        }
    }
}

/// The run a slot at `seq` belongs to, given the slot before it (see [`Slot::run_start`]).
fn run_start(prev: Option<&Slot>, seq: u64, entry: &Entry, session: u64) -> u64 {
    let Entry::Frame(frame) = entry else {
        return NO_RUN;
    };
    let Some(file) = frame.file() else {
        return NO_RUN;
    };
    match prev {
        Some(p)
            if p.run_start != NO_RUN
                && p.session == session
                && p.file_frame().is_some_and(|f| f.is_followed_by(file)) =>
        {
            p.run_start
        }
        _ => seq,
    }
}

/// A header kept for new players, with the ring position it was pushed at.
#[derive(Debug, Clone)]
pub(crate) struct Stored {
    pub seq: u64,
    pub frame: Arc<Frame>,
}

/// The GOP being cached: from the latest keyframe, while within the cache bounds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Gop {
    pub start: u64,
    pub start_ts: u64,
    pub frames: usize,
    pub bytes: u64,
}

/// The current publisher session.
#[derive(Debug)]
pub(crate) struct Session {
    pub id: u64,
    pub flag: Arc<super::publisher::SessionFlag>,
    pub label: String,
}

#[derive(Debug, Default)]
pub(crate) struct StreamState {
    slots: VecDeque<Slot>,
    /// Sequence number of `slots[0]`.
    base: u64,
    /// Cost of everything ever pushed.
    total_bytes: u64,
    /// Cost of what the ring holds.
    ring_bytes: u64,
    pub publisher: Option<Session>,
    pub metadata: Option<Stored>,
    pub video_headers: Vec<Stored>,
    pub audio_headers: Vec<Stored>,
    /// Latest video keyframe of the current session.
    last_keyframe: Option<u64>,
    pub gop: Option<Gop>,
    pub timeline: Timeline,
    pub subscribers: usize,
    pub frames_pushed: u64,
    /// Players read the slots before this one (see [`StreamState::released`]).
    released: u64,
    /// When the oldest slot not yet released was pushed.
    held_since: Option<Instant>,
    /// Whether the current session has sent video (audio is held for it only then).
    session_has_video: bool,
    /// Where frames go for players' `sendfile` (`player_queue.send_file`), while some player
    /// sends from it.
    pub frame_file: FrameFile,
}

impl StreamState {
    /// Sequence number the next slot will get.
    pub fn head(&self) -> u64 {
        self.base + self.slots.len() as u64
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn ring_bytes(&self) -> u64 {
        self.ring_bytes
    }

    /// Sequence number of the first slot players may not read yet. Frames are released to
    /// players in batches so that each player writes several frames at once: the cost of a
    /// write on a TCP socket is mostly per call, not per byte. See [`Self::push_frame`].
    pub fn released(&self) -> u64 {
        self.released
    }

    /// When the frames held now must be released, if any are held.
    pub fn release_due(&self, config: &HubConfig) -> Option<Instant> {
        Some(self.held_since? + hold_limit(config.release))
    }

    /// Releases every slot pushed so far. Returns whether anything was held.
    pub fn release(&mut self) -> bool {
        self.held_since = None;
        let head = self.head();
        let any = self.released < head;
        self.released = head;
        any
    }

    pub fn slot(&self, seq: u64) -> Option<&Slot> {
        let i = usize::try_from(seq.checked_sub(self.base)?).ok()?;
        self.slots.get(i)
    }

    pub fn session_id(&self) -> Option<u64> {
        self.publisher.as_ref().map(|s| s.id)
    }

    /// The latest keyframe still in the ring.
    pub fn last_keyframe(&self) -> Option<u64> {
        self.last_keyframe.filter(|&k| k >= self.base)
    }

    /// Where a new player starts: the cached GOP's keyframe, or else the head (it then waits
    /// for the next keyframe).
    pub fn join_point(&self) -> u64 {
        match self.gop {
            Some(g) if g.start >= self.base => g.start,
            _ => self.head(),
        }
    }

    /// The stored headers a player starting at `from..to` has not seen, in push order.
    pub fn headers_between(&self, from: u64, to: u64) -> Vec<Arc<Frame>> {
        let mut v: Vec<&Stored> = self
            .metadata
            .iter()
            .chain(&self.video_headers)
            .chain(&self.audio_headers)
            .filter(|s| s.seq >= from && s.seq < to)
            .collect();
        v.sort_by_key(|s| s.seq);
        v.into_iter().map(|s| s.frame.clone()).collect()
    }

    /// Writes to the frame file what a player joining now is sent first, the stored headers
    /// and the cached GOP, in that order, where they are not in the file yet: for the first
    /// player that sends from the file, whose arrival starts the publisher writing to it.
    pub fn file_join_burst(&mut self) {
        let from = self.join_point();
        for frame in self.headers_between(0, from) {
            frame.write_to(&mut self.frame_file);
        }
        let skip = usize::try_from(from.saturating_sub(self.base)).unwrap_or(usize::MAX);
        for slot in self.slots.iter().skip(skip) {
            if let Entry::Frame(frame) = &slot.entry {
                frame.write_to(&mut self.frame_file);
            }
        }
        // Those frames are in the file now: link their runs.
        for i in skip..self.slots.len() {
            let seq = self.base + i as u64;
            let slot = &self.slots[i];
            let start = run_start(
                i.checked_sub(1).map(|p| &self.slots[p]),
                seq,
                &slot.entry,
                slot.session,
            );
            self.slots[i].run_start = start;
        }
    }

    /// Starts publisher session `session`.
    pub fn begin_session(&mut self, session: Session, config: &HubConfig) {
        let id = session.id;
        self.publisher = Some(session);
        self.session_has_video = false;
        self.timeline.start_session();
        self.push_slot(Entry::Joined, id, MARKER_COST, config);
    }

    /// Ends the current publisher session: players get `PublisherLeft`, and what it
    /// published for new players (metadata, headers, GOP) is forgotten.
    pub fn end_session(&mut self, config: &HubConfig) -> Option<Session> {
        let session = self.publisher.take()?;
        self.metadata = None;
        self.video_headers.clear();
        self.audio_headers.clear();
        self.last_keyframe = None;
        self.gop = None;
        self.push_slot(Entry::Left, session.id, MARKER_COST, config);
        Some(session)
    }

    /// Appends a frame of the current session (already stamped), arrived at `now`. Returns
    /// whether players should be woken: whether the frame released what was held (see
    /// [`ReleasePolicy`]). With [`ReleasePolicy::LowLatency`] an audio/video stream reaches
    /// each player in one write per video frame.
    pub fn push_frame(&mut self, frame: Arc<Frame>, config: &HubConfig, now: Instant) -> bool {
        let kind = frame.kind();
        self.session_has_video |= kind == FrameKind::Video;
        self.push_frame_slot(frame, config);
        let held_since = *self.held_since.get_or_insert(now);
        let may_hold = match config.release {
            ReleasePolicy::Immediate => false,
            ReleasePolicy::LowLatency => kind == FrameKind::Audio && self.session_has_video,
            ReleasePolicy::Merged(_) => true,
        };
        if may_hold && now < held_since + hold_limit(config.release) {
            return false;
        }
        self.release()
    }

    fn push_frame_slot(&mut self, frame: Arc<Frame>, config: &HubConfig) {
        let seq = self.head();
        let cost = frame.cost();
        let ts = frame.timestamp_ext();
        self.frames_pushed += 1;
        if frame.is_keyframe() {
            self.last_keyframe = Some(seq);
            self.gop = config.gop_cache.enabled.then_some(Gop {
                start: seq,
                start_ts: ts,
                frames: 0,
                bytes: 0,
            });
        }
        if let Some(g) = &mut self.gop {
            g.frames += 1;
            g.bytes += cost;
            let gc = &config.gop_cache;
            let duration = ts.saturating_sub(g.start_ts);
            if g.frames > gc.max_frames
                || duration > gc.max_duration.as_millis() as u64
                || g.bytes > gc.max_bytes as u64
            {
                tracing::debug!(
                    frames = g.frames,
                    bytes = g.bytes,
                    duration_ms = duration,
                    "GOP outgrew the cache; new players wait for the next keyframe"
                );
                self.gop = None;
            }
        }
        if frame.is_metadata() {
            self.metadata = Some(Stored {
                seq,
                frame: frame.clone(),
            });
        } else if frame.is_sequence_header() {
            let list = match frame.kind() {
                FrameKind::Video => &mut self.video_headers,
                _ => &mut self.audio_headers,
            };
            let track = frame.class.track;
            // A single-track header replaces everything; a track's header replaces that track's.
            if track.is_none() {
                list.clear();
            }
            list.retain(|s| s.frame.class.track.is_some() && s.frame.class.track != track);
            if list.len() >= MAX_HEADERS_PER_KIND {
                list.remove(0);
            }
            list.push(Stored {
                seq,
                frame: frame.clone(),
            });
        }
        let session = frame.session;
        self.push_slot(Entry::Frame(frame), session, cost, config);
    }

    fn push_slot(&mut self, entry: Entry, session: u64, cost: u64, config: &HubConfig) {
        if !matches!(entry, Entry::Frame(_)) {
            // Publisher events and everything before them go out at once.
            self.released = self.head() + 1;
            self.held_since = None;
        }
        let run_start = run_start(self.slots.back(), self.head(), &entry, session);
        self.slots.push_back(Slot {
            entry,
            session,
            ts: self.timeline.now(),
            start_bytes: self.total_bytes,
            cost,
            run_start,
        });
        self.total_bytes += cost;
        self.ring_bytes += cost;
        self.evict(config);
    }

    /// Drops the oldest slots that no player may still read: those before the cached GOP and
    /// outside the lag bounds. Amortised O(1) per push: each slot is dropped once.
    fn evict(&mut self, config: &HubConfig) {
        let protect_from = match self.gop {
            Some(g) => g.start,
            None => self.head(),
        };
        let now = self.timeline.now();
        let max_lag = config.player_queue.max_lag.as_millis() as u64;
        let max_bytes = config.player_queue.max_bytes as u64;
        while let Some(front) = self.slots.front() {
            if self.base >= protect_from {
                break;
            }
            let too_old = now.saturating_sub(front.ts) > max_lag;
            let too_far = self.total_bytes - front.start_bytes > max_bytes;
            if !(too_old || too_far) {
                break;
            }
            self.ring_bytes -= front.cost;
            self.slots.pop_front();
            self.base += 1;
        }
    }

    /// The released frames of `session` from `cursor` on that lie end to end in the frame
    /// file, as one piece of the file, and the slot after them: at least the frame at
    /// `cursor`, then as many as keep the run within `max_cost` (see [`Slot::cost`]). `None`
    /// when the slot at `cursor` is not such a frame.
    pub fn file_run(&self, cursor: u64, session: u64, max_cost: u64) -> Option<(u64, FileSlot)> {
        let first = self.slot(cursor)?;
        if first.run_start == NO_RUN || first.session != session || cursor >= self.released {
            return None;
        }
        let limit = first.start_bytes.saturating_add(max_cost);
        let in_run = |s: &Slot| s.run_start <= cursor && s.start_bytes + s.cost <= limit;
        // The run ends at the first slot (after `cursor`) not in it; both tests only turn
        // from true to false along the ring.
        let (mut lo, mut hi) = (cursor + 1, self.released);
        while lo < hi {
            let mid = lo + (hi - lo).div_ceil(2);
            if self.slot(mid - 1).is_some_and(in_run) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        let last = self.slot(lo - 1)?.file_frame()?;
        let run = first.file_frame()?.through(last)?;
        Some((lo, run))
    }

    /// Whether a player whose next slot is `cursor` is too far behind: out of the ring, or
    /// (outside the current GOP) beyond the lag bounds.
    pub fn lag(&self, cursor: u64, config: &HubConfig) -> bool {
        let Some(slot) = self.slot(cursor) else {
            return cursor < self.base;
        };
        if self.last_keyframe().is_some_and(|k| cursor >= k) {
            return false;
        }
        let lag_ms = self.timeline.now().saturating_sub(slot.ts);
        lag_ms > config.player_queue.max_lag.as_millis() as u64
            || self.total_bytes - slot.start_bytes > config.player_queue.max_bytes as u64
    }
}

/// How long frames may be held before release (see [`StreamState::push_frame`]).
fn hold_limit(policy: ReleasePolicy) -> Duration {
    match policy {
        ReleasePolicy::Immediate => Duration::ZERO,
        ReleasePolicy::LowLatency => AUDIO_HOLD,
        ReleasePolicy::Merged(d) => d,
    }
}
