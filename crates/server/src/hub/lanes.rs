//! Lanes: the stream's frames written straight into its caught-up players' sockets by a few
//! tasks, instead of waking every player's task for every frame.
//!
//! A player that is caught up, sends every frame as the stream's frame file holds it and has
//! nothing of its own to write does the same thing on every release: `sendfile` the new run
//! of the file. Its connection can hand that to one of the stream's lanes (one per worker
//! thread, players spread over them by id, so one stream's players still use every core).
//! On each release a lane walks its players and sends each one the run that follows its
//! cursor; players at the same cursor (nearly all of them) share one look at the ring.
//! Per player and release that is one lock and one system call, where a task of its own
//! costs a wake-up, a scheduler turn and a poll of everything the connection waits on.
//!
//! The socket's write side always has one owner ([`Owner`], under the player's lock): while
//! the lane owns it the connection writes nothing, and it takes the player back
//! ([`Subscription::take_back`](super::Subscription::take_back)) before it does (its own
//! output, a command from the peer, shutdown). The lane hands the player back by itself when
//! sending is no longer the same thing for every player: the socket is full (with the part
//! of the run it did not take, for the connection to finish), the player lags, or the next
//! slot is not a frame of the file (a publisher event). The connection then goes on as
//! before, and hands the player to the lane again once it has caught up.
//!
//! A lane shares each socket with its connection ([`LaneSocket`]), so a connection that ends
//! while the lane is sending cannot have its descriptor closed and reused under it; a player
//! that leaves wakes its lane, which lets its share go at once. A lane's task ends when its
//! last player leaves.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};

use futures_util::task::AtomicWaker;
use parking_lot::Mutex;
use tokio::sync::Notify;

use super::frame_file::FileSlot;
use super::ring::StreamState;
use super::{HubConfig, HubShared, LaneSocket, Stream};

/// Most bytes of the file sent to one player in one call; a player further behind gets
/// several, up to [`RUNS_PER_TURN`] per release, then its connection takes it back.
const RUN_MAX: usize = 256 * 1024;
const RUNS_PER_TURN: usize = 4;
/// Players a lane serves before it lets the other tasks of its worker thread run, so that a
/// pass over thousands of players does not hold the thread for all of its length (about 2 ms
/// per slice for 8 KB sends on loopback).
const PASS_SLICE: usize = 256;

/// A stream's lanes, made with its first lane player.
#[derive(Debug)]
pub(crate) struct Lanes {
    lanes: Box<[Lane]>,
}

#[derive(Debug, Default)]
struct Lane {
    /// Woken on every release, and when a player joins or leaves.
    notify: Notify,
    joining: Mutex<Joining>,
}

#[derive(Debug, Default)]
struct Joining {
    players: Vec<Arc<LanePlayer>>,
    /// Whether the lane's task is running (it ends when it has no players).
    running: bool,
}

/// Who writes to a lane player's socket now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    Connection,
    Lane,
    /// The subscription ended: the lane drops the player.
    Gone,
}

/// One player as its lane sees it.
pub(crate) struct LanePlayer {
    socket: LaneSocket,
    lane: usize,
    state: Mutex<LaneState>,
    /// The connection's task, woken when the lane hands the player back.
    waker: AtomicWaker,
}

impl std::fmt::Debug for LanePlayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LanePlayer")
            .field("socket", &self.socket.as_fd())
            .field("lane", &self.lane)
            .field("state", &self.state)
            .finish()
    }
}

#[derive(Debug)]
struct LaneState {
    owner: Owner,
    /// Next ring slot to send.
    cursor: u64,
    session: u64,
    /// A run the socket took only part of: the slot and the bytes of it sent.
    unsent: Option<(FileSlot, usize)>,
}

/// What a lane does for a player at a cursor: the same for every player there.
#[derive(Debug)]
enum Step {
    /// Nothing new.
    Wait,
    /// Send `run`, then the player is at `next`; `more` when slots released before the look
    /// follow it (the run was cut at [`RUN_MAX`]).
    Send {
        run: FileSlot,
        next: u64,
        more: bool,
    },
    /// Not a plain run of the file: the connection takes over.
    HandBack,
}

impl StreamState {
    fn lane_step(&self, cursor: u64, session: u64, config: &HubConfig) -> Step {
        if cursor >= self.released() {
            return Step::Wait;
        }
        if self.lag(cursor, config) {
            return Step::HandBack;
        }
        match self.file_run(cursor, session, RUN_MAX as u64) {
            Some((next, run)) => Step::Send {
                run,
                next,
                more: next < self.released(),
            },
            None => Step::HandBack,
        }
    }
}

impl Lanes {
    fn new(count: usize) -> Lanes {
        Lanes {
            lanes: (0..count.max(1)).map(|_| Lane::default()).collect(),
        }
    }

    /// Wakes every lane: frames were released.
    pub(crate) fn wake(&self) {
        for lane in &self.lanes {
            lane.notify.notify_one();
        }
    }
}

impl LanePlayer {
    /// Joins one of `stream`'s lanes with `socket`, whose writes stay the connection's until
    /// [`hand`](Self::hand). `None` outside a Tokio runtime: the connection then sends for
    /// itself.
    pub(crate) fn join(
        hub: &Arc<HubShared>,
        stream: &Arc<Stream>,
        socket: LaneSocket,
        id: u64,
    ) -> Option<Arc<LanePlayer>> {
        let runtime = tokio::runtime::Handle::try_current().ok()?;
        let lanes = stream
            .lanes
            .get_or_init(|| Lanes::new(runtime.metrics().num_workers()));
        let index = (id % lanes.lanes.len() as u64) as usize;
        let player = Arc::new(LanePlayer {
            socket,
            lane: index,
            state: Mutex::new(LaneState {
                owner: Owner::Connection,
                cursor: 0,
                session: 0,
                unsent: None,
            }),
            waker: AtomicWaker::new(),
        });
        let lane = &lanes.lanes[index];
        let mut joining = lane.joining.lock();
        joining.players.push(player.clone());
        if !joining.running {
            joining.running = true;
            runtime.spawn(run_lane(hub.clone(), stream.clone(), index));
        }
        Some(player)
    }

    /// Gives the socket's writes to the lane, the player being at `cursor` of `session`
    /// with nothing unwritten. Wakes the lane if frames were released meanwhile.
    pub(crate) fn hand(&self, stream: &Stream, cursor: u64, session: u64) {
        {
            let mut s = self.state.lock();
            s.owner = Owner::Lane;
            s.cursor = cursor;
            s.session = session;
            s.unsent = None;
            // Counted under the lock, as the hand-backs uncount it, so that a lane handing
            // the player back at once cannot take the count below zero for a moment.
            stream.lane_players.fetch_add(1, Ordering::Relaxed);
        }
        // A release between the caller's look and now woke the lane before it owned this
        // player: look again.
        if cursor < stream.state.read().released() {
            self.wake_lane(stream);
        }
    }

    /// Takes the socket's writes back: the player's cursor, and the run the lane sent only
    /// part of, if any (the connection writes the rest first).
    pub(crate) fn take_back(&self, stream: &Stream) -> (u64, Option<(FileSlot, usize)>) {
        let mut s = self.state.lock();
        if s.owner == Owner::Lane {
            stream.lane_players.fetch_sub(1, Ordering::Relaxed);
        }
        s.owner = Owner::Connection;
        (s.cursor, s.unsent.take())
    }

    /// Ready once the lane has handed the player back.
    pub(crate) fn poll_returned(&self, cx: &mut Context<'_>) -> Poll<()> {
        self.waker.register(cx.waker());
        if self.state.lock().owner == Owner::Lane {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    }

    /// The subscription ended: the lane lets the player (and its descriptor) go.
    pub(crate) fn leave(&self, stream: &Stream) {
        {
            let mut s = self.state.lock();
            if s.owner == Owner::Lane {
                stream.lane_players.fetch_sub(1, Ordering::Relaxed);
            }
            s.owner = Owner::Gone;
            s.unsent = None;
        }
        self.wake_lane(stream);
    }

    fn wake_lane(&self, stream: &Stream) {
        if let Some(lanes) = stream.lanes.get() {
            lanes.lanes[self.lane].notify.notify_one();
        }
    }

    /// Sends `run` from its start; the bytes the socket took (0 when it is full).
    fn send(&self, run: &FileSlot) -> std::io::Result<usize> {
        let mut offset = run.offset;
        match rustix::fs::sendfile(&*self.socket, run.segment.fd(), Some(&mut offset), run.len) {
            Ok(n) => Ok(n),
            Err(rustix::io::Errno::AGAIN) => Ok(0),
            Err(e) => Err(e.into()),
        }
    }
}

/// A lane's task: on every wake-up, sends each of its players what was released.
async fn run_lane(hub: Arc<HubShared>, stream: Arc<Stream>, index: usize) {
    let Some(lanes) = stream.lanes.get() else {
        return;
    };
    let lane = &lanes.lanes[index];
    let mut players: Vec<Arc<LanePlayer>> = Vec::new();
    loop {
        {
            let mut joining = lane.joining.lock();
            players.append(&mut joining.players);
            if players.is_empty() {
                joining.running = false;
                return;
            }
        }
        let mut look = Look::default();
        let mut at = 0;
        while at < players.len() {
            at = deliver(&hub.config, &stream, &mut players, at, &mut look);
            if at < players.len() {
                // Let the thread's other tasks (the publisher among them) run.
                tokio::task::yield_now().await;
            }
        }
        if !players.is_empty() {
            lane.notify.notified().await;
        }
    }
}

/// The last look at the ring in a pass, for the next player at the same place.
#[derive(Default)]
struct Look {
    last: Option<(u64, u64, Step)>,
}

impl Look {
    /// Borrowed, not cloned: a clone would take a reference on the run's memory file, one
    /// atomic on a line every lane shares, per player and release.
    fn step(&mut self, stream: &Stream, config: &HubConfig, cursor: u64, session: u64) -> &Step {
        if !matches!(&self.last, Some((c, s, _)) if *c == cursor && *s == session) {
            self.last = None;
        }
        let (_, _, step) = self.last.get_or_insert_with(|| {
            let step = stream.state.read().lane_step(cursor, session, config);
            (cursor, session, step)
        });
        step
    }
}

/// Serves up to [`PASS_SLICE`] of a lane's players from `from` on, dropping those that left
/// (the last player takes a leaver's place); returns where the next slice starts.
fn deliver(
    config: &HubConfig,
    stream: &Stream,
    players: &mut Vec<Arc<LanePlayer>>,
    from: usize,
    look: &mut Look,
) -> usize {
    let mut at = from;
    let mut served = 0;
    while at < players.len() && served < PASS_SLICE {
        if serve(config, stream, &players[at], look) {
            at += 1;
            served += 1;
        } else {
            players.swap_remove(at);
        }
    }
    at
}

/// Sends one player what was released, if the lane has it; `false` when it left.
fn serve(config: &HubConfig, stream: &Stream, p: &LanePlayer, look: &mut Look) -> bool {
    let mut s = p.state.lock();
    match s.owner {
        Owner::Gone => return false,
        Owner::Connection => return true,
        Owner::Lane => {}
    }
    let mut hand_back = false;
    let mut runs = 0;
    loop {
        match look.step(stream, config, s.cursor, s.session) {
            Step::Wait => break,
            Step::HandBack => {
                hand_back = true;
                break;
            }
            Step::Send { run, next, more } => {
                let more = *more;
                s.cursor = *next;
                // An error is left for the connection to meet on its own write.
                let sent = p.send(run).unwrap_or(0);
                if sent < run.len {
                    s.unsent = Some((run.clone(), sent));
                    hand_back = true;
                    break;
                }
                runs += 1;
                if more && runs == RUNS_PER_TURN {
                    // Still behind after its share of this pass: its connection catches it up.
                    hand_back = true;
                }
                if !more || hand_back {
                    break;
                }
            }
        }
    }
    if hand_back {
        s.owner = Owner::Connection;
        stream.lane_players.fetch_sub(1, Ordering::Relaxed);
        drop(s);
        p.waker.wake();
    }
    true
}
