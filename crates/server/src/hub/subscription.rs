//! A player's subscription: a cursor into its stream's ring, nothing more.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use tokio::sync::watch;
use tokio::time::Instant;

use super::frame::Frame;
use super::frame_file::FileSlot;
use super::ring::{Entry, StreamState};
use super::{HubShared, Stream, StreamKey};

/// What a player's connection must do next.
#[derive(Debug, Clone)]
pub enum Delivery {
    /// A publisher is on the stream. The first delivery of every subscription that finds (or
    /// waits for) one: start playing (StreamBegin, `NetStream.Play.Start`); after a
    /// [`PublisherLeft`](Delivery::PublisherLeft) it means the publisher is back
    /// (`NetStream.Play.PublishNotify`). Metadata and sequence headers follow.
    PublisherJoined,
    /// Send this frame (see [`Frame::rtmp_chunks`]).
    Frame(Arc<Frame>),
    /// The publisher left or was replaced: send `NetStream.Play.UnpublishNotify` and Stream
    /// EOF; the subscription goes on and reports `PublisherJoined` if one comes back.
    PublisherLeft,
    /// The player fell too far behind and skipped ahead; log it. Frames follow.
    Skipped(SkipReport),
    /// No publisher came within the play wait timeout: send `NetStream.Play.StreamNotFound`.
    /// Final: every later call returns it again.
    NotFound,
}

/// A skip, as reported to the player's connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SkipReport {
    /// Ring entries passed over (frames and publisher events).
    pub skipped: u64,
    /// Whether the player resumes at a keyframe (`false`: at the newest frame, dropping video
    /// until the next keyframe while audio goes on).
    pub at_keyframe: bool,
    /// How far behind the player was, in stream time (ms), when it could still be measured
    /// (0 when its position had already left the ring).
    pub lag_ms: u64,
    /// This player's skips so far, this one included.
    pub total: u64,
}

/// A player's subscription to a stream, from [`Hub::subscribe`](super::Hub::subscribe).
///
/// It holds a position in the stream's ring, never frames: a player that stops calling
/// [`next`](Subscription::next) pins no memory, and when it comes back it skips to a keyframe.
/// Delivery order: [`Delivery::PublisherJoined`], the metadata, the sequence headers, the cached
/// GOP from its keyframe, then live frames.
#[derive(Debug)]
pub struct Subscription {
    pub(crate) hub: Arc<HubShared>,
    pub(crate) stream: Arc<Stream>,
    pub(crate) rx: watch::Receiver<u64>,
    pub(crate) id: u64,
    /// Until a publisher is seen, the wait ends here.
    pub(crate) deadline: Instant,
    pub(crate) pos: Position,
    /// Counted in the stream's file readers (see [`send_from_files`](Self::send_from_files)).
    pub(crate) reads_files: bool,
    /// This player in one of the stream's lanes, once handed to one (see
    /// [`hand_to_lane`](Self::hand_to_lane)).
    #[cfg(target_os = "linux")]
    pub(crate) lane: Option<Arc<super::lanes::LanePlayer>>,
    /// Whether the lane has the socket (as far as this side knows: the lane may have handed
    /// it back already, see [`poll_lane_return`](Self::poll_lane_return)).
    pub(crate) in_lane: bool,
}

/// Where a player is in its stream, and what it has been told.
#[derive(Debug, Default)]
pub(crate) struct Position {
    /// Next ring slot to read.
    cursor: u64,
    /// The publisher session whose frames this player receives.
    session: Option<u64>,
    /// Whether it has ever seen a publisher (until then, the wait timeout applies).
    started: bool,
    not_found: bool,
    /// Drop video deltas until a keyframe.
    need_keyframe: bool,
    /// Deliveries decided but not yet handed out: publisher events and headers, a few.
    pending: VecDeque<Delivery>,
    skips: u64,
    dropped_waiting_keyframe: u64,
}

impl Subscription {
    pub fn key(&self) -> &StreamKey {
        &self.stream.key
    }

    /// This subscription's id (unique in the hub, for logs).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Whether this player sends frames from the stream's frame file (see
    /// [`Frame::file_slot`]). The publisher writes the file only while some player does; the
    /// first such player writes what joiners are sent first (headers, cached GOP) itself, and
    /// older frames, published while nobody read the file, are sent from memory.
    pub fn send_from_files(&mut self, on: bool) {
        if on != self.reads_files {
            self.reads_files = on;
            if on {
                let before = self.stream.file_readers.fetch_add(1, Ordering::Relaxed);
                if before == 0 && self.hub.config.player_queue.send_file {
                    self.stream.state.write().file_join_burst();
                }
            } else {
                self.stream.file_readers.fetch_sub(1, Ordering::Relaxed);
            }
        }
    }

    /// How many times this player skipped ahead.
    pub fn skips(&self) -> u64 {
        self.pos.skips
    }

    /// Video frames dropped while waiting for a keyframe (after joining without a cached GOP,
    /// or after a skip to the newest frame).
    pub fn dropped_waiting_keyframe(&self) -> u64 {
        self.pos.dropped_waiting_keyframe
    }

    /// The next delivery; waits for the publisher. Before the first publisher the wait is
    /// bounded by the play wait timeout ([`Delivery::NotFound`]); after a
    /// [`Delivery::PublisherLeft`] it is not (the connection's own timeouts apply).
    /// Cancel-safe: dropping the future loses nothing, so it can sit in a `select!` beside the
    /// connection's reads.
    pub async fn next(&mut self) -> Delivery {
        loop {
            self.rx.borrow_and_update();
            if let Some(d) = self.try_next() {
                return d;
            }
            let changed = if self.pos.started {
                self.rx.changed().await
            } else {
                match tokio::time::timeout_at(self.deadline, self.rx.changed()).await {
                    Ok(r) => r,
                    Err(_) => {
                        tracing::debug!(stream = %self.stream.key, subscription = self.id, "no publisher came in time");
                        self.pos.not_found = true;
                        return Delivery::NotFound;
                    }
                }
            };
            if changed.is_err() {
                // The stream keeps its sender while we hold it; this cannot happen.
                self.pos.not_found = true;
                return Delivery::NotFound;
            }
        }
    }

    /// The frames ready now that lie end to end in the stream's frame file, as one piece of
    /// it, when nothing else comes first: what [`try_next`](Self::try_next) would return as
    /// frames one by one, for a player that sends every frame of the stream from the file as
    /// it is (see [`Frame::file_slot`]; the caller checks that). At least one frame, then as
    /// many as `max_bytes` allows. `None` when the next delivery is anything else (a publisher
    /// event, a skip, a frame to leave out or one not in the file): take it with `try_next`.
    pub fn try_next_run(&mut self, max_bytes: usize) -> Option<FileSlot> {
        let pos = &mut self.pos;
        if !self.reads_files || !pos.pending.is_empty() || pos.not_found || pos.need_keyframe {
            return None;
        }
        let session = pos.session?;
        let st = self.stream.state.read();
        if st.lag(pos.cursor, &self.hub.config) {
            return None;
        }
        let (next, run) = st.file_run(pos.cursor, session, max_bytes as u64)?;
        pos.cursor = next;
        Some(run)
    }

    /// Hands the sending of this player's frames to one of the stream's lanes (a task per
    /// worker thread that walks its players on each release and `sendfile`s each the run of
    /// the frame file that follows its cursor, straight into `socket`), when the player is
    /// caught up and its next deliveries are frames as the file holds them (the caller checks
    /// that it sends every frame so, and that nothing of its own is unwritten).
    /// Returns whether the lane has the socket now; from then until
    /// [`take_back`](Self::take_back) the caller writes nothing to it and does not call
    /// [`next`](Self::next).
    pub fn hand_to_lane(&mut self, socket: impl FnOnce() -> Option<super::LaneSocket>) -> bool {
        #[cfg(target_os = "linux")]
        {
            let pos = &self.pos;
            if self.in_lane {
                return true;
            }
            if !self.reads_files || !pos.pending.is_empty() || pos.not_found || pos.need_keyframe {
                return false;
            }
            let Some(session) = pos.session else {
                return false;
            };
            {
                let st = self.stream.state.read();
                if pos.cursor < st.released() || st.session_id() != Some(session) {
                    return false;
                }
            }
            if self.lane.is_none() {
                let Some(socket) = socket() else {
                    return false;
                };
                self.lane =
                    super::lanes::LanePlayer::join(&self.hub, &self.stream, socket, self.id);
            }
            let Some(lane) = &self.lane else {
                return false;
            };
            lane.hand(&self.stream, pos.cursor, session);
            self.in_lane = true;
            true
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = socket;
            false
        }
    }

    /// Whether a lane has this player's socket (see [`hand_to_lane`](Self::hand_to_lane)).
    pub fn in_lane(&self) -> bool {
        self.in_lane
    }

    /// Ready when the lane handed the player back by itself (its socket is full, it fell
    /// behind, or something other than a run of frames comes next): call
    /// [`take_back`](Self::take_back). Pending while not in a lane.
    pub fn poll_lane_return(&self, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        #[cfg(target_os = "linux")]
        if self.in_lane
            && let Some(lane) = &self.lane
        {
            return lane.poll_returned(cx);
        }
        let _ = cx;
        std::task::Poll::Pending
    }

    /// Takes the socket back from the lane (no-op when not in one): deliveries go on from
    /// where the lane stopped. Returns the run of the file the lane sent only part of, with
    /// the bytes sent: the caller writes the rest before anything else.
    pub fn take_back(&mut self) -> Option<(FileSlot, usize)> {
        if !self.in_lane {
            return None;
        }
        self.in_lane = false;
        #[cfg(target_os = "linux")]
        if let Some(lane) = &self.lane {
            let (cursor, unsent) = lane.take_back(&self.stream);
            self.pos.cursor = cursor;
            return unsent;
        }
        None
    }

    /// The chunk size of the frames' shared serialization (see [`Frame::file_slot`]).
    pub fn shared_chunk_size(&self) -> u32 {
        self.hub.config.chunk_size
    }

    /// The next delivery if one is ready now. A connection can drain these after `next()` to
    /// coalesce everything already published into one vectored write.
    pub fn try_next(&mut self) -> Option<Delivery> {
        if let Some(d) = self.pos.pending.pop_front() {
            return Some(d);
        }
        if self.pos.not_found {
            return Some(Delivery::NotFound);
        }
        let st = self.stream.state.read();
        self.pos.read(&st, &self.hub, &self.stream, self.id)
    }
}

impl Position {
    /// Reads from the ring at the cursor, skipping ahead first if the player lags.
    fn read(
        &mut self,
        st: &StreamState,
        hub: &HubShared,
        stream: &Stream,
        id: u64,
    ) -> Option<Delivery> {
        loop {
            if self.cursor >= st.released() {
                return None;
            }
            if st.lag(self.cursor, &hub.config) {
                self.skip(st, hub, stream, id);
                return self.pending.pop_front();
            }
            let slot = st.slot(self.cursor)?;
            self.cursor += 1;
            match &slot.entry {
                Entry::Joined => {
                    self.session = Some(slot.session);
                    self.started = true;
                    self.need_keyframe = true;
                    return Some(Delivery::PublisherJoined);
                }
                Entry::Left => {
                    if self.session.take().is_some() {
                        return Some(Delivery::PublisherLeft);
                    }
                }
                Entry::Frame(f) => {
                    if self.session != Some(f.session) {
                        continue;
                    }
                    if self.need_keyframe && f.is_video_delta() {
                        self.dropped_waiting_keyframe += 1;
                        continue;
                    }
                    if f.is_keyframe() {
                        self.need_keyframe = false;
                    }
                    return Some(Delivery::Frame(f.clone()));
                }
            }
        }
    }

    /// Positions a new subscription: at the cached GOP if a publisher is on, else at the head
    /// to wait for one.
    pub(crate) fn start(&mut self, st: &StreamState) {
        match st.session_id() {
            Some(session) => {
                let at = st.join_point();
                self.pending.push_back(Delivery::PublisherJoined);
                self.enter(st, session, 0, at);
            }
            None => self.cursor = st.head(),
        }
    }

    /// Moves to `at` in `session`, queueing the stored headers pushed in `from..at` first.
    fn enter(&mut self, st: &StreamState, session: u64, from: u64, at: u64) {
        self.session = Some(session);
        self.started = true;
        self.need_keyframe = true;
        self.pending.extend(
            st.headers_between(from, at)
                .into_iter()
                .map(Delivery::Frame),
        );
        self.cursor = at;
    }

    /// Skips a lagging player ahead: to the latest keyframe, or else to the head (then video
    /// waits for the next keyframe while audio goes on).
    fn skip(&mut self, st: &StreamState, hub: &HubShared, stream: &Stream, id: u64) {
        if !self.started {
            // Not playing yet: this is a start, not a skip.
            self.start(st);
            return;
        }
        let from = self.cursor;
        let (to, at_keyframe) = match st.last_keyframe() {
            Some(k) if k > from => (k, true),
            _ => (st.released(), false),
        };
        let lag_ms = st
            .slot(from)
            .map_or(0, |s| st.timeline.now().saturating_sub(s.ts));
        self.skips += 1;
        hub.counters.skips.fetch_add(1, Ordering::Relaxed);
        stream.skips.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(
            stream = %stream.key,
            subscription = id,
            skipped = to - from,
            lag_ms,
            at_keyframe,
            "player fell behind; skipping ahead"
        );
        self.pending.push_back(Delivery::Skipped(SkipReport {
            skipped: to - from,
            at_keyframe,
            lag_ms,
            total: self.skips,
        }));
        let current = st.session_id();
        if self.session == current {
            match current {
                Some(session) => self.enter(st, session, from, to),
                None => self.cursor = to,
            }
            return;
        }
        if self.session.take().is_some() {
            self.pending.push_back(Delivery::PublisherLeft);
        }
        match current {
            Some(session) => {
                self.pending.push_back(Delivery::PublisherJoined);
                self.enter(st, session, 0, to);
            }
            None => self.cursor = to,
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        #[cfg(target_os = "linux")]
        if let Some(lane) = self.lane.take() {
            lane.leave(&self.stream);
        }
        self.send_from_files(false);
        self.hub.release(&self.stream);
    }
}
