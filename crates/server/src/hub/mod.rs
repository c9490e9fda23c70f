//! The hub: streams by (app, name), each with one publisher and any number of players.
//!
//! # Fan-out
//!
//! Each stream has a bounded ring of `Arc<Frame>` with sequence numbers. The publisher
//! appends to it under the stream's lock (O(1) per frame, whatever the number of players) and
//! bumps a `watch` channel; each player's [`Subscription`] holds only a cursor (a sequence
//! number) and reads at it under a short read lock, in its own task, so one stream's players
//! run on every worker thread. Nothing on the per-frame path is hub-wide: the registry's lock
//! is taken only to publish, subscribe and leave. A caught-up player that sends every frame
//! from the stream's frame file is handed to one of the stream's lanes (one task per worker
//! thread, see [`Subscription::hand_to_lane`]), which writes each release straight into its
//! socket: one system call per player and release instead of a task's wake-up, until anything
//! else comes up and its connection takes it back.
//!
//! The ring keeps what a player within the lag bounds ([`PlayerQueueConfig`]) may still read,
//! plus the cached GOP ([`GopCacheConfig`]); older frames are dropped whatever the players do.
//! A player whose cursor falls out of the ring (or lags past the bounds outside the current
//! GOP) skips to the latest keyframe, or to the newest frame dropping video until the next
//! keyframe; the skip is reported ([`Delivery::Skipped`]) and counted. So a stalled player pins
//! nothing but the frames it is writing.
//!
//! Frames carry a shared RTMP serialization ([`Frame::rtmp_chunks`]) built by the first player
//! that needs it; with `player_queue.send_file` the publisher also writes it once to the
//! stream's memory file, from which plain-TCP players' sockets send it by reference
//! (`sendfile`), never copying it per player. Timestamps follow the [timeline rule](timeline).

mod frame;
pub(crate) mod frame_file;
#[cfg(target_os = "linux")]
mod lanes;
mod publisher;
mod ring;
mod subscription;
pub mod timeline;

#[cfg(test)]
pub(crate) mod tests;
#[cfg(test)]
mod tests_fanout;
#[cfg(all(test, target_os = "linux"))]
mod tests_lanes;
#[cfg(test)]
mod tests_release;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use parking_lot::{Mutex, RwLock};
use tokio::sync::{broadcast, watch};

use crate::config::{GopCacheConfig, PlayerQueueConfig, ServerConfig};

pub use frame::{Frame, FrameKind, SHARED_STREAM_ID};
pub use frame_file::FileSlot;
pub use publisher::{Publisher, PushError};
pub use subscription::{Delivery, SkipReport, Subscription};

/// A player's socket as a lane holds it: shared, so that it stays open while the lane may
/// send to it (see [`Subscription::hand_to_lane`]). It must be in non-blocking mode: a lane
/// sends while holding the player's state and serves all its players from one task, so a
/// send that blocked would stall every player of the lane.
pub type LaneSocket = Arc<dyn std::os::fd::AsFd + Send + Sync>;

use publisher::SessionFlag;
pub use ring::AUDIO_HOLD;
use ring::{Session, StreamState};
use subscription::Position;

/// A stream's name: the application (`connect`'s `app`) and the stream name (`publish` /
/// `play` argument, without any `?query`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StreamKey {
    pub app: String,
    pub name: String,
}

impl StreamKey {
    pub fn new(app: impl Into<String>, name: impl Into<String>) -> StreamKey {
        StreamKey {
            app: app.into(),
            name: name.into(),
        }
    }
}

impl fmt::Display for StreamKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.app, self.name)
    }
}

/// The part of [`ServerConfig`] the hub uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubConfig {
    pub gop_cache: GopCacheConfig,
    pub player_queue: PlayerQueueConfig,
    /// How long a player waits for a publisher before [`Delivery::NotFound`].
    pub play_wait_timeout: Duration,
    /// Whether a second publisher replaces the first.
    pub publisher_takeover: bool,
    /// The outgoing chunk size: frames share their serialization at this size.
    pub chunk_size: u32,
    /// When published frames become visible to players.
    pub release: ReleasePolicy,
}

/// When a published frame becomes visible to players. Frames released together reach each
/// player in one write, and on a TCP socket a write costs mostly per call, not per byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReleasePolicy {
    /// Each frame at once (one write per frame and player).
    Immediate,
    /// Video, data and publisher events at once; audio with the next video frame, waiting at
    /// most [`AUDIO_HOLD`] (audio-only streams: at once). The server adds less than one
    /// frame interval of latency. The default.
    LowLatency,
    /// Everything in batches, released when the oldest frame held has waited this long.
    Merged(Duration),
}

impl ReleasePolicy {
    /// The policy `player_queue.merged_write_ms` asks for.
    pub fn from_merged_write(merged_write: Duration) -> ReleasePolicy {
        if merged_write.is_zero() {
            ReleasePolicy::LowLatency
        } else {
            ReleasePolicy::Merged(merged_write)
        }
    }
}

impl From<&ServerConfig> for HubConfig {
    fn from(c: &ServerConfig) -> HubConfig {
        HubConfig {
            gop_cache: c.gop_cache.clone(),
            player_queue: c.player_queue.clone(),
            play_wait_timeout: c.play_wait_timeout,
            publisher_takeover: c.publisher_takeover,
            chunk_size: c.chunk_size,
            release: ReleasePolicy::from_merged_write(c.player_queue.merged_write),
        }
    }
}

impl Default for HubConfig {
    fn default() -> Self {
        HubConfig::from(&ServerConfig::default())
    }
}

/// How a publisher claims a stream.
#[derive(Debug, Clone, Default)]
pub struct PublishOptions {
    /// Who publishes (connection id, peer address), for logs.
    pub label: String,
    /// Overrides [`HubConfig::publisher_takeover`] for this claim.
    pub takeover: Option<bool>,
}

/// Why a stream could not be published.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublishError {
    #[error("stream {key} is already being published by {by}")]
    AlreadyPublishing { key: StreamKey, by: String },
}

/// A stream's publisher came or went: what per-stream outputs (HLS, recording, RTP push)
/// start on. See [`Hub::events`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamEvent {
    /// A publisher session began (also after a takeover).
    Published(StreamKey),
    /// The stream's publisher session ended.
    Unpublished(StreamKey),
}

/// Events buffered per [`Hub::events`] receiver before it lags.
const EVENT_CAPACITY: usize = 1024;

/// Hub-wide counters of rare events, and the serialization counts of removed streams.
#[derive(Debug, Default)]
pub(crate) struct HubCounters {
    pub skips: AtomicU64,
    pub takeovers: AtomicU64,
    pub retired_shared: AtomicU64,
    pub retired_private: AtomicU64,
}

/// Serializations built for one stream's frames. Per stream, so that the per-frame path
/// touches nothing hub-wide.
#[derive(Debug, Default)]
pub(crate) struct SerializationCounters {
    pub shared: AtomicU64,
    pub private: AtomicU64,
}

/// A snapshot of the hub's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HubStats {
    /// Streams with a publisher or players.
    pub streams: usize,
    /// Player skips, all streams, since start.
    pub skips: u64,
    /// Shared RTMP serializations built in memory (one per frame at most; players served
    /// from the stream's frame file need none).
    pub shared_serializations: u64,
    /// Per-player serializations (other chunk size or stream id).
    pub private_serializations: u64,
    /// Publishers replaced by a takeover.
    pub takeovers: u64,
}

/// A snapshot of one stream.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StreamStats {
    pub publishing: bool,
    pub subscribers: usize,
    /// Ring entries held (frames and publisher events).
    pub ring_len: usize,
    /// Bytes the ring accounts for (payloads plus a fixed cost per entry).
    pub ring_bytes: u64,
    /// Frames in the cached GOP (0 when none is cached).
    pub gop_frames: usize,
    pub frames_pushed: u64,
    pub skips: u64,
    /// Players whose frames a lane sends now (see [`Subscription::hand_to_lane`]).
    pub lane_players: usize,
}

/// One stream: its state and the channel that wakes its players.
#[derive(Debug)]
pub(crate) struct Stream {
    key: StreamKey,
    state: RwLock<StreamState>,
    wake: watch::Sender<u64>,
    skips: AtomicU64,
    serializations: Arc<SerializationCounters>,
    /// Players that send frames from the stream's frame file: while there are none, the
    /// publisher writes no frame file (no copy of the ring in memory files, no descriptors).
    file_readers: AtomicUsize,
    /// The tasks that send frames to caught-up players, made with the first such player.
    #[cfg(target_os = "linux")]
    lanes: std::sync::OnceLock<lanes::Lanes>,
    /// Players a lane sends to now.
    lane_players: AtomicUsize,
}

impl Stream {
    fn new(key: StreamKey) -> Stream {
        Stream {
            key,
            state: RwLock::new(StreamState::default()),
            wake: watch::Sender::new(0),
            skips: AtomicU64::new(0),
            serializations: Arc::default(),
            file_readers: AtomicUsize::new(0),
            #[cfg(target_os = "linux")]
            lanes: std::sync::OnceLock::new(),
            lane_players: AtomicUsize::new(0),
        }
    }

    fn wake(&self) {
        #[cfg(target_os = "linux")]
        if let Some(lanes) = self.lanes.get() {
            lanes.wake();
        }
        self.wake.send_modify(|v| *v = v.wrapping_add(1));
    }
}

#[derive(Debug)]
pub(crate) struct HubShared {
    config: HubConfig,
    streams: Mutex<HashMap<StreamKey, Arc<Stream>>>,
    counters: Arc<HubCounters>,
    next_id: AtomicU64,
    events: broadcast::Sender<StreamEvent>,
}

/// The stream registry. Cheap to clone; every clone is the same hub.
#[derive(Debug, Clone)]
pub struct Hub {
    shared: Arc<HubShared>,
}

impl Hub {
    pub fn new(config: HubConfig) -> Hub {
        Hub {
            shared: Arc::new(HubShared {
                config,
                streams: Mutex::new(HashMap::new()),
                counters: Arc::default(),
                next_id: AtomicU64::new(1),
                events: broadcast::Sender::new(EVENT_CAPACITY),
            }),
        }
    }

    pub fn config(&self) -> &HubConfig {
        &self.shared.config
    }

    /// Claims `key` for a publisher. If it already has one, the claim is refused with
    /// [`PublishError::AlreadyPublishing`], unless takeover is on: then the old publisher is
    /// replaced (its [`Publisher::replaced`] resolves and its pushes fail), players get
    /// `PublisherLeft` then `PublisherJoined` and go on with the new publisher's frames.
    pub fn publish(
        &self,
        key: StreamKey,
        options: PublishOptions,
    ) -> Result<Publisher, PublishError> {
        let shared = &self.shared;
        let takeover = options.takeover.unwrap_or(shared.config.publisher_takeover);
        let id = shared.next_id.fetch_add(1, Ordering::Relaxed);
        let flag = Arc::new(SessionFlag::default());
        let stream = {
            let mut streams = shared.streams.lock();
            let stream = streams
                .entry(key.clone())
                .or_insert_with(|| Arc::new(Stream::new(key.clone())))
                .clone();
            let mut st = stream.state.write();
            if let Some(current) = &st.publisher {
                if !takeover {
                    return Err(PublishError::AlreadyPublishing {
                        key,
                        by: current.label.clone(),
                    });
                }
                if let Some(old) = st.end_session(&shared.config) {
                    old.flag.set_replaced();
                    shared.counters.takeovers.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(stream = %key, old = %old.label, new = %options.label, "publisher replaced by takeover");
                }
            }
            st.begin_session(
                Session {
                    id,
                    flag: flag.clone(),
                    label: options.label.clone(),
                },
                &shared.config,
            );
            drop(st);
            stream
        };
        stream.wake();
        // Sent after the state changed, so a receiver that checks the stream finds it published.
        let _ = shared.events.send(StreamEvent::Published(key.clone()));
        tracing::info!(stream = %key, publisher = %options.label, session = id, "publishing");
        Ok(Publisher {
            hub: shared.clone(),
            stream,
            session: id,
            flag,
        })
    }

    /// Subscribes a player to `key`. Never fails: without a publisher the subscription waits
    /// (see [`Subscription::next`]) until one comes or the play wait timeout ends it with
    /// [`Delivery::NotFound`].
    pub fn subscribe(&self, key: StreamKey) -> Subscription {
        let shared = &self.shared;
        let stream = {
            let mut streams = shared.streams.lock();
            let stream = streams
                .entry(key.clone())
                .or_insert_with(|| Arc::new(Stream::new(key)))
                .clone();
            stream.state.write().subscribers += 1;
            stream
        };
        let rx = stream.wake.subscribe();
        let mut pos = Position::default();
        pos.start(&stream.state.read());
        Subscription {
            hub: shared.clone(),
            id: shared.next_id.fetch_add(1, Ordering::Relaxed),
            deadline: tokio::time::Instant::now() + shared.config.play_wait_timeout,
            stream,
            rx,
            pos,
            reads_files: false,
            #[cfg(target_os = "linux")]
            lane: None,
            in_lane: false,
        }
    }

    /// Publisher changes from now on. A receiver that lags (more than a thousand events behind)
    /// gets `RecvError::Lagged` and should look at [`Hub::streams`] again.
    pub fn events(&self) -> broadcast::Receiver<StreamEvent> {
        self.shared.events.subscribe()
    }

    /// The hub's counters now.
    pub fn stats(&self) -> HubStats {
        let c = &self.shared.counters;
        let streams = self.shared.streams.lock();
        let (mut shared, mut private) = (
            c.retired_shared.load(Ordering::Relaxed),
            c.retired_private.load(Ordering::Relaxed),
        );
        for s in streams.values() {
            shared += s.serializations.shared.load(Ordering::Relaxed);
            private += s.serializations.private.load(Ordering::Relaxed);
        }
        HubStats {
            streams: streams.len(),
            skips: c.skips.load(Ordering::Relaxed),
            shared_serializations: shared,
            private_serializations: private,
            takeovers: c.takeovers.load(Ordering::Relaxed),
        }
    }

    /// One stream's state now; `None` when it has neither publisher nor players.
    pub fn stream_stats(&self, key: &StreamKey) -> Option<StreamStats> {
        let stream = self.shared.streams.lock().get(key)?.clone();
        let st = stream.state.read();
        Some(StreamStats {
            publishing: st.publisher.is_some(),
            subscribers: st.subscribers,
            ring_len: st.len(),
            ring_bytes: st.ring_bytes(),
            gop_frames: st.gop.map_or(0, |g| g.frames),
            frames_pushed: st.frames_pushed,
            skips: stream.skips.load(Ordering::Relaxed),
            lane_players: stream.lane_players.load(Ordering::Relaxed),
        })
    }

    /// The streams that have a publisher or players, sorted.
    pub fn streams(&self) -> Vec<StreamKey> {
        let mut keys: Vec<StreamKey> = self.shared.streams.lock().keys().cloned().collect();
        keys.sort();
        keys
    }
}

impl HubShared {
    /// Ends publisher session `session` if it is still the stream's.
    fn unpublish(&self, stream: &Arc<Stream>, session: u64) {
        let mut streams = self.streams.lock();
        let mut st = stream.state.write();
        let ended = st.session_id() == Some(session);
        if ended {
            st.end_session(&self.config);
            tracing::info!(stream = %stream.key, session, "unpublished");
        }
        let idle = st.subscribers == 0 && st.publisher.is_none();
        drop(st);
        if idle {
            self.remove_if_same(&mut streams, stream);
        }
        drop(streams);
        stream.wake();
        if ended {
            let _ = self
                .events
                .send(StreamEvent::Unpublished(stream.key.clone()));
        }
    }

    /// A subscription ended.
    fn release(&self, stream: &Arc<Stream>) {
        let mut streams = self.streams.lock();
        let mut st = stream.state.write();
        st.subscribers = st.subscribers.saturating_sub(1);
        let idle = st.subscribers == 0 && st.publisher.is_none();
        drop(st);
        if idle {
            self.remove_if_same(&mut streams, stream);
        }
    }

    /// Forgets an idle stream (keeping its counts for [`Hub::stats`]).
    fn remove_if_same(&self, streams: &mut HashMap<StreamKey, Arc<Stream>>, stream: &Arc<Stream>) {
        if streams
            .get(&stream.key)
            .is_some_and(|s| Arc::ptr_eq(s, stream))
        {
            streams.remove(&stream.key);
            let c = &self.counters;
            let s = &stream.serializations;
            c.retired_shared
                .fetch_add(s.shared.load(Ordering::Relaxed), Ordering::Relaxed);
            c.retired_private
                .fetch_add(s.private.load(Ordering::Relaxed), Ordering::Relaxed);
        }
    }
}
