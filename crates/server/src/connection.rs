//! One RTMP connection: a [`ServerSession`] driven by a socket, a publisher or a player on the
//! hub, and the limits that keep one bad peer from hurting anyone else.
//!
//! The task reads, writes and takes frames from the hub in one `select!` loop, so a player
//! whose socket is full never stops the connection from reading (acks, pings, close), and no
//! frame is taken from the hub while earlier output is still unwritten: a slow player falls
//! behind in the hub's ring, where the hub makes it skip, instead of queueing here. A player
//! that has caught up and takes every frame from the stream's frame file is handed to a lane
//! of the hub, which sends its frames from then on; the task takes it back before it writes
//! anything itself, and when the lane gives it back (full socket, lag, publisher event).

use std::collections::VecDeque;
use std::future::poll_fn;
use std::io::IoSlice;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use rtmpkit_proto::rtmp::message::status;
use rtmpkit_proto::rtmp::session::{
    Direction, MediaKind, PlayRequest, PublishRequest, ServerConfig as SessionConfig, ServerEvent,
    ServerSession, SessionError, TraceRecord,
};
use rtmpkit_proto::rtmp::{chunk::ChunkLimits, message::Message};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::watch;
use tokio::time::{Instant, sleep_until};

use crate::config::ServerConfig;
use crate::hub::{
    Delivery, FileSlot, Frame, FrameKind, Hub, LaneSocket, PublishError, PublishOptions, Publisher,
    SHARED_STREAM_ID, StreamKey, Subscription,
};

/// Largest read from the socket at once (a publisher's).
const READ_SIZE: usize = 64 * 1024;
/// First read buffer: enough for the handshake and commands, all most players ever send.
const INITIAL_READ_SIZE: usize = 4 * 1024;
/// Input held while the application decides on a request; past this the socket is not read.
const MAX_UNPROCESSED_INPUT: usize = 1 << 20;
/// Longest chunk header: 3-byte basic header, 11-byte type 0 header, extended timestamp.
const MAX_CHUNK_HEADER: usize = 3 + 11 + 4;
/// Output queued for a player before no more frames are taken from the hub.
const OUTPUT_HIGH_WATER: usize = 256 * 1024;
/// The chunk streams of frames: a run of the frame file may hold any of them.
const MEDIA_CSIDS: [u32; 3] = [
    FrameKind::Audio.csid(),
    FrameKind::Video.csid(),
    FrameKind::Data.csid(),
];
/// Most buffers handed to one vectored write.
const MAX_IOVECS: usize = 64;
/// Time given to goodbyes on shutdown.
const SHUTDOWN_FLUSH: Duration = Duration::from_secs(2);

/// What every connection shares.
#[derive(Debug, Clone)]
pub struct ConnectionContext {
    pub config: Arc<ServerConfig>,
    pub hub: Hub,
    /// Becomes true when the server shuts down.
    pub shutdown: watch::Receiver<bool>,
    /// Process start, for the handshake's time field.
    pub epoch: Instant,
}

impl ConnectionContext {
    fn session_config(&self) -> SessionConfig {
        SessionConfig {
            chunk_limits: ChunkLimits {
                max_message_size: self.config.max_message_size,
                // Two largest messages may be in flight at once (audio and video interleaved).
                max_pending_bytes: 2 * self.config.max_message_size as usize,
                ..ChunkLimits::default()
            },
            chunk_size: self.config.chunk_size,
            window_ack_size: self.config.window_ack_size,
            peer_bandwidth: self.config.peer_bandwidth,
            trace: self.config.trace,
            ..SessionConfig::default()
        }
    }
}

/// How a connection ended, for its one log line.
#[derive(Debug)]
pub enum Ending {
    /// The peer closed the connection.
    PeerClosed,
    /// The server is shutting down.
    Shutdown,
    /// The peer broke the protocol or sent garbage.
    Protocol(SessionError),
    /// A limit was hit (timeout, stalled writes, …).
    Limit(String),
    /// The socket failed.
    Io(std::io::Error),
    /// Our answer ended the conversation (connect refused, stream not found, …).
    Refused(String),
}

impl Ending {
    /// A reset or a broken pipe is how many clients hang up; only other errors are failures.
    fn from_io(e: std::io::Error) -> Ending {
        use std::io::ErrorKind::*;
        match e.kind() {
            ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof => Ending::PeerClosed,
            _ => Ending::Io(e),
        }
    }
}

impl std::fmt::Display for Ending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ending::PeerClosed => write!(f, "closed by peer"),
            Ending::Shutdown => write!(f, "server shutting down"),
            Ending::Protocol(e) => write!(f, "protocol error: {e}"),
            Ending::Limit(what) => write!(f, "{what}"),
            Ending::Io(e) => write!(f, "socket error: {e}"),
            Ending::Refused(why) => write!(f, "{why}"),
        }
    }
}

struct Playing {
    stream_id: u32,
    key: StreamKey,
    subscription: Subscription,
    /// Whether `NetStream.Play.Start` went out (it waits for the first publisher).
    started: bool,
    paused: bool,
    audio: bool,
    video: bool,
    /// Video frames are dropped until a keyframe after unpausing or re-enabling video.
    need_keyframe: bool,
    /// `play`'s duration: stop after this much media time (None: to the end).
    duration_ms: Option<u32>,
    /// Timestamp of the first audio or video frame sent, for the duration.
    first_media_ts: Option<u32>,
}

impl Playing {
    /// Whether every frame the hub delivers goes out as it is: none of the filters of
    /// [`Connection::on_delivery`] applies now, so frames may be taken in runs
    /// ([`Connection::take_file_run`]). A filter added there must turn this off.
    fn takes_every_frame(&self) -> bool {
        self.audio && self.video && !self.need_keyframe && self.duration_ms.is_none()
    }
}

struct Publishing {
    stream_id: u32,
    publisher: Publisher,
}

/// What waits to be written, in order.
enum Out {
    /// Bytes in memory: the session's output, or chunks serialized for this player alone.
    Bytes(Bytes),
    /// Shared chunks of one frame, or of frames end to end, sent from the stream's frame
    /// file; `done` bytes are written.
    File { slot: FileSlot, done: usize },
}

impl Out {
    fn len(&self) -> usize {
        match self {
            Out::Bytes(b) => b.len(),
            Out::File { slot, done } => slot.len - done,
        }
    }
}

/// One connection's state beside its session.
struct Connection {
    id: u64,
    peer: SocketAddr,
    ctx: ConnectionContext,
    session: ServerSession,
    out: VecDeque<Out>,
    out_bytes: usize,
    /// Whether the socket sends frames from their file (plain TCP on Linux, while it works).
    send_files: bool,
    publishing: Option<Publishing>,
    playing: Option<Playing>,
    handshake_done: bool,
    /// Set when our last answer ends the conversation: flush, then close.
    closing: Option<Ending>,
}

/// Runs one connection to its end; returns how it ended. `reader` and `writer` are the two
/// halves of one socket (`TcpStream::into_split`, or `tokio::io::split` for TLS).
pub async fn serve_connection<R, W>(
    ctx: ConnectionContext,
    reader: R,
    writer: W,
    peer: SocketAddr,
    id: u64,
) -> Ending
where
    R: AsyncRead + Unpin,
    W: ConnectionWriter,
{
    let epoch_ms = ctx.epoch.elapsed().as_millis() as u32;
    let session = ServerSession::new(ctx.session_config(), epoch_ms, &mut rand::rng());
    let send_files = ctx.config.player_queue.send_file && writer.sends_files();
    let mut conn = Connection {
        id,
        peer,
        ctx,
        session,
        out: VecDeque::new(),
        out_bytes: 0,
        send_files,
        publishing: None,
        playing: None,
        handshake_done: false,
        closing: None,
    };
    let ending = conn.run(reader, writer).await;
    conn.leave();
    ending
}

/// When the connection's limits end it, as of the last read and write.
struct Clock {
    handshake_deadline: Instant,
    idle: Duration,
    last_read: Instant,
    last_write_progress: Instant,
}

impl Connection {
    /// The moment a limit ends the connection, `None` while none applies (a player waiting
    /// for frames sends nothing, and that is fine).
    fn deadline(&self, clock: &Clock) -> Option<Instant> {
        if !self.handshake_done {
            Some(clock.handshake_deadline)
        } else if !self.out.is_empty() {
            // Writes must make progress; a player that stopped reading is let go.
            Some(clock.last_write_progress + clock.idle)
        } else if self.playing.is_some() {
            None
        } else {
            Some(clock.last_read + clock.idle)
        }
    }

    fn limit_reached(&self, clock: &Clock) -> Ending {
        Ending::Limit(if !self.handshake_done {
            format!(
                "no handshake within {} ms",
                self.ctx.config.handshake_timeout.as_millis()
            )
        } else if !self.out.is_empty() {
            format!("peer read nothing for {} ms", clock.idle.as_millis())
        } else {
            format!("idle for {} ms", clock.idle.as_millis())
        })
    }

    async fn run<R, W>(&mut self, mut reader: R, mut writer: W) -> Ending
    where
        R: AsyncRead + Unpin,
        W: ConnectionWriter,
    {
        // Players and most peers send little: start small, grow for a publisher's stream.
        let mut buf = vec![0u8; INITIAL_READ_SIZE];
        // Pinned once: a `changed()` future made every turn would take the shutdown channel's
        // lock, shared by every connection, on every turn.
        let mut shutdown = self.ctx.shutdown.clone();
        let shutdown_signal = async move {
            let _ = shutdown.wait_for(|stop| *stop).await;
        };
        tokio::pin!(shutdown_signal);
        let now = Instant::now();
        let mut clock = Clock {
            handshake_deadline: now + self.ctx.config.handshake_timeout,
            idle: self.ctx.config.idle_timeout,
            last_read: now,
            last_write_progress: now,
        };
        // One timer for every limit, re-armed only when it fires early or must fire sooner:
        // a busy player's loop turns once per write, and re-creating a timer each turn costs.
        let mut armed = clock.handshake_deadline;
        let limit = sleep_until(armed);
        tokio::pin!(limit);
        // A publisher's frames held back for a merged write (see `Publisher::release_due`).
        let release = sleep_until(now);
        tokio::pin!(release);
        let mut release_armed: Option<Instant> = None;
        loop {
            self.collect_output();
            if self.in_lane() {
                if !self.out.is_empty() || self.closing.is_some() {
                    self.take_back(&mut clock);
                }
            } else {
                self.hand_to_lane(&writer);
            }
            if self.out.is_empty()
                && let Some(ending) = self.closing.take()
            {
                let _ = writer.shutdown().await;
                return ending;
            }
            if let Some(deadline) = self.deadline(&clock)
                && deadline < armed
            {
                armed = deadline;
                limit.as_mut().reset(armed);
            }
            let due = self
                .publishing
                .as_ref()
                .and_then(|p| p.publisher.release_due());
            if let Some(at) = due
                && release_armed != Some(at)
            {
                release.as_mut().reset(at);
            }
            release_armed = due;
            // A chunk is parsed only once all of it is here, and a peer with a large chunk size
            // sends a whole message as one chunk: always take in one chunk of the largest
            // message allowed, or such a message would never complete.
            let input_limit = MAX_UNPROCESSED_INPUT
                .max(self.ctx.config.max_message_size as usize + MAX_CHUNK_HEADER);
            let can_read = self.closing.is_none() && self.session.buffered_input() < input_limit;
            let in_lane = self.in_lane();
            let want_frames = self.closing.is_none()
                && self.out_bytes < OUTPUT_HIGH_WATER
                && self.playing.as_ref().is_some_and(|p| !p.paused)
                && !in_lane;
            let has_output = !self.out.is_empty();
            tokio::select! {
                biased;
                () = &mut shutdown_signal => {
                    self.take_back(&mut clock);
                    self.say_goodbye();
                    self.collect_output();
                    let _ = tokio::time::timeout(SHUTDOWN_FLUSH, flush_all(&mut writer, &mut self.out)).await;
                    return Ending::Shutdown;
                }
                written = poll_fn(|cx| poll_write_queue(cx, &mut writer, &self.out)), if has_output => {
                    if let Err(ending) = self.on_written(written, &mut clock) {
                        return ending;
                    }
                }
                read = reader.read(&mut buf), if can_read => {
                    match read {
                        Ok(0) => return Ending::PeerClosed,
                        Ok(n) => {
                            clock.last_read = Instant::now();
                            if !has_output {
                                clock.last_write_progress = clock.last_read;
                            }
                            // What the peer says may change what it is sent, or need an
                            // answer: the socket is the connection's again first.
                            self.take_back(&mut clock);
                            if let Err(e) = self.on_input(&buf[..n]) {
                                return Ending::Protocol(e);
                            }
                            if n == buf.len() && buf.len() < READ_SIZE {
                                buf.resize(READ_SIZE, 0);
                            }
                        }
                        Err(e) => return Ending::from_io(e),
                    }
                }
                delivery = next_delivery(&mut self.playing), if want_frames || in_lane => {
                    let Some(delivery) = delivery else {
                        // The lane handed the player back.
                        self.take_back(&mut clock);
                        continue;
                    };
                    if let Err(e) = self.on_delivery(delivery) {
                        return Ending::Protocol(e);
                    }
                    // Coalesce whatever else is ready into the same write.
                    while self.out_bytes < OUTPUT_HIGH_WATER {
                        if self.take_file_run() {
                            continue;
                        }
                        let Some(more) = self.playing.as_mut().and_then(|p| p.subscription.try_next()) else {
                            break;
                        };
                        if let Err(e) = self.on_delivery(more) {
                            return Ending::Protocol(e);
                        }
                        self.collect_output();
                    }
                    // A socket with room takes it now: no second turn of the loop for it.
                    self.collect_output();
                    if !self.out.is_empty() {
                        let mut cx = Context::from_waker(std::task::Waker::noop());
                        if let Poll::Ready(written) = poll_write_queue(&mut cx, &mut writer, &self.out)
                            && let Err(ending) = self.on_written(written, &mut clock)
                        {
                            return ending;
                        }
                    }
                }
                replaced = publisher_replaced(&self.publishing), if self.publishing.is_some() => {
                    let () = replaced;
                    self.on_replaced();
                }
                () = &mut release, if release_armed.is_some() => {
                    release_armed = None;
                    if let Some(p) = &self.publishing {
                        p.publisher.release();
                    }
                }
                () = &mut limit => {
                    let now = Instant::now();
                    match self.deadline(&clock) {
                        Some(deadline) if deadline <= now => return self.limit_reached(&clock),
                        Some(deadline) => armed = deadline,
                        None => armed = now + clock.idle,
                    }
                    limit.as_mut().reset(armed);
                }
            }
        }
    }

    /// Takes in the outcome of a write; `Err` ends the connection.
    fn on_written(
        &mut self,
        written: std::io::Result<usize>,
        clock: &mut Clock,
    ) -> Result<(), Ending> {
        match written {
            Ok(0) => Err(Ending::PeerClosed),
            Ok(n) => {
                self.advance(n);
                clock.last_write_progress = Instant::now();
                Ok(())
            }
            Err(e) if self.send_files && sendfile_unsupported(&e) => {
                tracing::debug!(
                    conn = self.id,
                    "sendfile unsupported here ({e}); copying frames"
                );
                self.stop_sending_files().map_err(Ending::from_io)
            }
            Err(e) => Err(Ending::from_io(e)),
        }
    }

    /// Moves what the session wants sent into the write queue.
    fn collect_output(&mut self) {
        while let Some(b) = self.session.poll_transmit() {
            self.out_bytes += b.len();
            self.out.push_back(Out::Bytes(b));
        }
        self.print_trace();
    }

    /// Queues a frame's chunks: from the stream's frame file when the socket can send from
    /// it, otherwise from memory through the session.
    fn send_frame(&mut self, frame: Arc<Frame>, stream_id: u32) -> Result<(), SessionError> {
        let csid = frame.kind().csid();
        let chunk_size = self.session.chunk_size();
        match frame.file_slot(chunk_size, stream_id) {
            Some(slot) if self.send_files => self.queue_file(slot.clone(), &[csid]),
            _ => {
                let chunks = frame.rtmp_chunks(chunk_size, stream_id)?;
                self.session.send_prepared(csid, chunks);
            }
        }
        Ok(())
    }

    /// Queues shared chunks from the frame file, sent on chunk streams `csids`.
    fn queue_file(&mut self, slot: FileSlot, csids: &[u32]) {
        // After what the session queued before them (usually nothing), and the session must
        // know the chunk streams went on without it.
        if self.session.queued_bytes() > 0 {
            self.collect_output();
        }
        for &csid in csids {
            self.session.sent_prepared_elsewhere(csid);
        }
        self.out_bytes += slot.len;
        self.out.push_back(Out::File { slot, done: 0 });
    }

    /// Takes the frames ready now that lie end to end in the frame file in one piece, when
    /// this player is sent every frame as the file holds it: with merged writes a dozen frames
    /// or more per wake-up, each of which would otherwise be handled on its own. Returns
    /// whether it took any.
    fn take_file_run(&mut self) -> bool {
        if !self.sends_as_filed() {
            return false;
        }
        let Some(p) = &mut self.playing else {
            return false;
        };
        let room = OUTPUT_HIGH_WATER.saturating_sub(self.out_bytes);
        let Some(run) = p.subscription.try_next_run(room) else {
            return false;
        };
        self.queue_file(run, &MEDIA_CSIDS);
        true
    }

    /// Whether this player is sent every frame from the stream's frame file as it is there.
    fn sends_as_filed(&self) -> bool {
        self.playing.as_ref().is_some_and(|p| {
            self.send_files
                && p.takes_every_frame()
                && p.stream_id == SHARED_STREAM_ID
                && self.session.chunk_size() == p.subscription.shared_chunk_size()
        })
    }

    fn in_lane(&self) -> bool {
        self.playing
            .as_ref()
            .is_some_and(|p| p.subscription.in_lane())
    }

    /// Hands the sending of frames to the stream's lane when this player takes every frame
    /// from the file and has nothing else to write (see [`Subscription::hand_to_lane`]).
    fn hand_to_lane<W: ConnectionWriter>(&mut self, writer: &W) {
        if self.closing.is_some()
            || !self.out.is_empty()
            || self.session.queued_bytes() > 0
            || !self.sends_as_filed()
        {
            return;
        }
        let Some(p) = &mut self.playing else {
            return;
        };
        if p.paused || !p.subscription.hand_to_lane(|| writer.socket()) {
            return;
        }
        // The lane sends on the media chunk streams without the session.
        for csid in MEDIA_CSIDS {
            self.session.sent_prepared_elsewhere(csid);
        }
    }

    /// Takes the socket back from the lane, if it has it; what the lane left half sent is
    /// written first.
    fn take_back(&mut self, clock: &mut Clock) {
        let Some(p) = &mut self.playing else {
            return;
        };
        if let Some((slot, done)) = p.subscription.take_back() {
            if self.out.is_empty() {
                clock.last_write_progress = Instant::now();
            }
            self.out_bytes += slot.len - done;
            self.out.push_front(Out::File { slot, done });
        }
    }

    /// The socket cannot send from files after all: every frame queued for it is sent from
    /// memory instead, read back from the file from where sending stopped.
    fn stop_sending_files(&mut self) -> std::io::Result<()> {
        self.send_files = false;
        if let Some(p) = &mut self.playing {
            p.subscription.send_from_files(false);
        }
        for out in &mut self.out {
            if let Out::File { slot, done } = out {
                *out = Out::Bytes(slot.read(*done)?);
            }
        }
        Ok(())
    }

    /// Drops `n` written bytes from the front of the queue.
    fn advance(&mut self, n: usize) {
        self.out_bytes -= n;
        advance(&mut self.out, n);
    }

    fn on_input(&mut self, data: &[u8]) -> Result<(), SessionError> {
        self.session.feed(data)?;
        self.handle_events()
    }

    fn handle_events(&mut self) -> Result<(), SessionError> {
        while let Some(event) = self.session.poll_event() {
            match event {
                ServerEvent::HandshakeComplete(summary) => {
                    self.handshake_done = true;
                    tracing::debug!(conn = self.id, peer = %self.peer, scheme = ?summary.scheme, "handshake complete");
                }
                ServerEvent::ConnectRequested(request) => {
                    if request.app.is_empty() {
                        self.session.reject_connect(
                            "An application name is required (rtmp://host/APP/stream).",
                        )?;
                        self.closing = Some(Ending::Refused(
                            "connect without an application name".to_owned(),
                        ));
                    } else {
                        tracing::info!(conn = self.id, peer = %self.peer, app = %request.app, tc_url = ?request.tc_url, "connect");
                        self.session.accept_connect()?;
                    }
                }
                ServerEvent::PublishRequested(request) => self.on_publish(request)?,
                ServerEvent::PlayRequested(request) => self.on_play(request)?,
                ServerEvent::Media {
                    stream_id,
                    kind,
                    timestamp,
                    payload,
                } => {
                    let frame = match kind {
                        MediaKind::Audio => Frame::audio(timestamp, payload),
                        MediaKind::Video => Frame::video(timestamp, payload),
                    };
                    self.push(stream_id, frame);
                }
                ServerEvent::Data {
                    stream_id,
                    timestamp,
                    data,
                } => {
                    let mut body = Vec::new();
                    data.encode(&mut body);
                    self.push(stream_id, Frame::data(timestamp, Bytes::from(body)));
                }
                ServerEvent::PublishStopped { stream_id } => {
                    if let Some(p) = self.publishing.take_if(|p| p.stream_id == stream_id) {
                        tracing::info!(conn = self.id, stream = %p.publisher.key(), "unpublished");
                    }
                }
                ServerEvent::PlayStopped { stream_id } => {
                    if self
                        .playing
                        .as_ref()
                        .is_some_and(|p| p.stream_id == stream_id)
                    {
                        self.playing = None;
                    }
                }
                ServerEvent::Paused { paused, .. } => {
                    if let Some(p) = &mut self.playing {
                        p.paused = paused;
                        p.need_keyframe = true;
                    }
                }
                ServerEvent::ReceiveMedia { kind, enabled, .. } => {
                    if let Some(p) = &mut self.playing {
                        match kind {
                            MediaKind::Audio => p.audio = enabled,
                            MediaKind::Video => {
                                p.need_keyframe |= enabled && !p.video;
                                p.video = enabled;
                            }
                        }
                    }
                }
                ServerEvent::BufferLength { .. } => {}
                ServerEvent::CloseRequested => {
                    self.closing = Some(Ending::PeerClosed);
                }
            }
        }
        Ok(())
    }

    fn key(&self, name: &str) -> StreamKey {
        StreamKey::new(self.session.app(), name)
    }

    fn on_publish(&mut self, request: PublishRequest) -> Result<(), SessionError> {
        if self.publishing.is_some() {
            return self.session.reject_publish(
                request.stream_id,
                status::PUBLISH_BAD_NAME,
                "This connection already publishes a stream.",
            );
        }
        let key = self.key(&request.name);
        let options = PublishOptions {
            label: format!("conn {} ({})", self.id, self.peer),
            takeover: None,
        };
        match self.ctx.hub.publish(key.clone(), options) {
            Ok(publisher) => {
                self.session.accept_publish(request.stream_id)?;
                tracing::info!(conn = self.id, peer = %self.peer, stream = %key, "publishing");
                self.publishing = Some(Publishing {
                    stream_id: request.stream_id,
                    publisher,
                });
                Ok(())
            }
            Err(PublishError::AlreadyPublishing { by, .. }) => {
                tracing::info!(conn = self.id, peer = %self.peer, stream = %key, %by, "publish refused: stream already published");
                let desc = format!("Stream {key} is already being published.");
                self.session
                    .reject_publish(request.stream_id, status::PUBLISH_BAD_NAME, &desc)
            }
        }
    }

    fn on_play(&mut self, request: PlayRequest) -> Result<(), SessionError> {
        let key = self.key(&request.name);
        if request.start >= 0.0 {
            tracing::debug!(conn = self.id, stream = %key, start = request.start, "recorded playback asked; serving live");
        }
        // A new play on the connection replaces the old one.
        let mut subscription = self.ctx.hub.subscribe(key.clone());
        subscription.send_from_files(self.send_files);
        tracing::info!(conn = self.id, peer = %self.peer, stream = %key, "play");
        self.playing = Some(Playing {
            stream_id: request.stream_id,
            key,
            subscription,
            started: false,
            paused: false,
            audio: true,
            video: true,
            need_keyframe: false,
            // Negative is "to the end"; so is a duration too long to count.
            duration_ms: (request.duration > 0.0 && request.duration < f64::from(u32::MAX))
                .then_some(request.duration as u32),
            first_media_ts: None,
        });
        Ok(())
    }

    fn push(&mut self, stream_id: u32, frame: Frame) {
        let Some(p) = &mut self.publishing else {
            return;
        };
        if p.stream_id != stream_id {
            return;
        }
        if p.publisher.push(frame).is_err() {
            self.on_replaced();
        }
    }

    fn on_replaced(&mut self) {
        if let Some(p) = self.publishing.take() {
            tracing::info!(conn = self.id, peer = %self.peer, stream = %p.publisher.key(), "publisher replaced by a new one");
            let desc = format!("{} is now published by another client.", p.publisher.key());
            let _ = self.session.send_status(
                p.stream_id,
                rtmpkit_proto::rtmp::message::StatusInfo::new(
                    status::level::STATUS,
                    status::UNPUBLISH_SUCCESS,
                    &desc,
                ),
            );
            self.closing = Some(Ending::Refused("replaced by another publisher".to_owned()));
        }
    }

    fn on_delivery(&mut self, delivery: Delivery) -> Result<(), SessionError> {
        let Some(p) = &mut self.playing else {
            return Ok(());
        };
        let stream_id = p.stream_id;
        match delivery {
            Delivery::PublisherJoined => {
                if p.started {
                    self.session.send_publish_notify(stream_id)?;
                } else {
                    p.started = true;
                    self.session.accept_play(stream_id)?;
                }
            }
            Delivery::Frame(frame) => {
                // Each filter here has its part in `Playing::takes_every_frame`.
                let kind = frame.kind();
                let wanted = match kind {
                    FrameKind::Audio => p.audio,
                    FrameKind::Video => p.video,
                    FrameKind::Data => true,
                };
                if !wanted {
                    return Ok(());
                }
                if kind == FrameKind::Video && p.need_keyframe {
                    if frame.is_keyframe() {
                        p.need_keyframe = false;
                    } else if !frame.is_sequence_header() {
                        return Ok(());
                    }
                }
                if let (Some(limit), FrameKind::Audio | FrameKind::Video) = (p.duration_ms, kind) {
                    let first = *p.first_media_ts.get_or_insert(frame.timestamp());
                    if frame.timestamp().wrapping_sub(first) >= limit {
                        self.session.send_play_stop(stream_id)?;
                        tracing::info!(conn = self.id, stream = %p.key, duration_ms = limit, "play: duration reached");
                        self.playing = None;
                        return Ok(());
                    }
                }
                self.send_frame(frame, stream_id)?;
            }
            Delivery::PublisherLeft => {
                if p.started {
                    self.session.send_unpublish_notify(stream_id)?;
                }
            }
            Delivery::Skipped(report) => {
                tracing::info!(
                    conn = self.id,
                    peer = %self.peer,
                    stream = %p.key,
                    skipped = report.skipped,
                    lag_ms = report.lag_ms,
                    at_keyframe = report.at_keyframe,
                    total = report.total,
                    "slow player skipped ahead"
                );
            }
            Delivery::NotFound => {
                let key = p.key.clone();
                let desc = format!("No stream {key} is being published.");
                if p.started {
                    self.session.send_play_stop(stream_id)?;
                } else {
                    self.session
                        .reject_play(stream_id, status::PLAY_STREAM_NOT_FOUND, &desc)?;
                }
                self.playing = None;
                tracing::info!(conn = self.id, peer = %self.peer, stream = %key, "play: stream not found");
            }
        }
        Ok(())
    }

    /// Tells the peer the server is going away.
    fn say_goodbye(&mut self) {
        if self.session.supports_reconnect() {
            let _ = self
                .session
                .request_reconnect(None, "The server is restarting; please reconnect.");
        }
        if let Some(p) = &self.playing {
            let stream_id = p.stream_id;
            let _ = self.session.send_play_stop(stream_id);
        }
        if let Some(p) = &self.publishing {
            let _ = self.session.send_status(
                p.stream_id,
                rtmpkit_proto::rtmp::message::StatusInfo::new(
                    status::level::STATUS,
                    status::UNPUBLISH_SUCCESS,
                    "The server is shutting down.",
                ),
            );
        }
    }

    /// Leaves the hub (dropping the publisher unpublishes).
    fn leave(&mut self) {
        self.publishing = None;
        self.playing = None;
    }

    fn print_trace(&mut self) {
        while let Some(t) = self.session.poll_trace() {
            tracing::info!(target: "rtmpkit::trace", conn = self.id, "{}", trace_line(&t));
        }
    }
}

/// One traced message in the dissector's summary notation.
pub fn trace_line(t: &TraceRecord) -> String {
    let arrow = match t.direction {
        Direction::Received => "<-",
        Direction::Sent => "->",
    };
    let what = match &t.message {
        Message::Audio(p) | Message::Video(p) => {
            format!("{} ({} bytes)", t.message.name(), p.len())
        }
        m => m.name(),
    };
    format!(
        "{arrow} csid {} ts {} stream {}: {what}",
        t.csid, t.timestamp, t.stream_id
    )
}

/// The player's next delivery; `None` when its lane hands it back (see
/// [`Subscription::hand_to_lane`]).
async fn next_delivery(playing: &mut Option<Playing>) -> Option<Delivery> {
    match playing {
        Some(p) if p.subscription.in_lane() => {
            poll_fn(|cx| p.subscription.poll_lane_return(cx)).await;
            None
        }
        Some(p) => Some(p.subscription.next().await),
        None => std::future::pending().await,
    }
}

async fn publisher_replaced(publishing: &Option<Publishing>) {
    match publishing {
        Some(p) => p.publisher.replaced().await,
        None => std::future::pending().await,
    }
}

/// Writes from the front of `out`: the frames that lie end to end in one frame file with one
/// `sendfile`, or the buffers in memory up to the next such frame with one vectored write.
/// The list of slices lives on the stack for the call only, not in the connection's future
/// (which every connection keeps for its lifetime).
fn poll_write_queue<W: ConnectionWriter>(
    cx: &mut Context<'_>,
    writer: &mut W,
    out: &VecDeque<Out>,
) -> Poll<std::io::Result<usize>> {
    let mut items = out.iter();
    if let Some(Out::File { slot: first, done }) = out.front() {
        let mut last = first;
        let mut len = first.len - done;
        for item in items.skip(1) {
            match item {
                Out::File { slot: next, .. } if last.is_followed_by(next) => {
                    len += next.len;
                    last = next;
                }
                _ => break,
            }
        }
        return writer.poll_send_file(cx, first, *done, len);
    }
    let mut iov = [IoSlice::new(&[]); MAX_IOVECS];
    let mut count = 0;
    for slot in iov.iter_mut() {
        let Some(Out::Bytes(buf)) = items.next() else {
            break;
        };
        *slot = IoSlice::new(buf);
        count += 1;
    }
    Pin::new(writer).poll_write_vectored(cx, &iov[..count])
}

/// Drops `n` written bytes from the front of `out`.
fn advance(out: &mut VecDeque<Out>, mut n: usize) {
    while n > 0 {
        let Some(front) = out.front_mut() else {
            break;
        };
        let len = front.len();
        if n >= len {
            n -= len;
            out.pop_front();
        } else {
            match front {
                Out::Bytes(b) => {
                    let _ = b.split_to(n);
                }
                Out::File { done, .. } => *done += n,
            }
            n = 0;
        }
    }
}

/// Whether a `sendfile` error means "not on this socket" rather than a broken connection.
fn sendfile_unsupported(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(e.kind(), Unsupported | InvalidInput)
}

async fn flush_all<W: AsyncWrite + Unpin>(
    writer: &mut W,
    out: &mut VecDeque<Out>,
) -> std::io::Result<()> {
    while let Some(item) = out.pop_front() {
        match item {
            Out::Bytes(b) => writer.write_all(&b).await?,
            Out::File { slot, done } => writer.write_all(&slot.read(done)?).await?,
        }
    }
    writer.flush().await
}

/// The writing half of a connection's transport. Plain TCP sockets also send frames straight
/// from the stream's frame file (`sendfile(2)`: the kernel takes the file's pages by
/// reference, no copy per player); other transports (TLS) write them from memory.
pub trait ConnectionWriter: AsyncWrite + Unpin {
    /// Whether [`poll_send_file`](Self::poll_send_file) can work here.
    fn sends_files(&self) -> bool {
        false
    }

    /// The socket, for a lane to send frames into (see [`Subscription::hand_to_lane`]):
    /// plain TCP on Linux only.
    fn socket(&self) -> Option<LaneSocket> {
        None
    }

    /// Sends up to `len` bytes of the file that holds `slot`, from `skip` bytes into the slot
    /// (they may run past the slot, into the frames that follow it in the file).
    fn poll_send_file(
        &mut self,
        _cx: &mut Context<'_>,
        _slot: &FileSlot,
        _skip: usize,
        _len: usize,
    ) -> Poll<std::io::Result<usize>> {
        Poll::Ready(Err(std::io::ErrorKind::Unsupported.into()))
    }
}

impl<T: AsyncRead + AsyncWrite> ConnectionWriter for tokio::io::WriteHalf<T> {}

impl ConnectionWriter for crate::socket::TcpWriter {
    fn sends_files(&self) -> bool {
        cfg!(target_os = "linux")
    }

    #[cfg(target_os = "linux")]
    fn socket(&self) -> Option<LaneSocket> {
        Some(self.stream().clone())
    }

    #[cfg(target_os = "linux")]
    fn poll_send_file(
        &mut self,
        cx: &mut Context<'_>,
        slot: &FileSlot,
        skip: usize,
        len: usize,
    ) -> Poll<std::io::Result<usize>> {
        self.poll_io(cx, |socket| {
            // Through `try_io`, so that a full socket clears its readiness.
            socket.try_io(tokio::io::Interest::WRITABLE, || {
                let mut offset = slot.offset + skip as u64;
                Ok(rustix::fs::sendfile(
                    socket,
                    slot.segment.fd(),
                    Some(&mut offset),
                    len,
                )?)
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hub::tests::{audio, hub_with, inter_frame, key, key_frame, publish};

    /// A transport that records what it was asked to send and takes all of it.
    #[derive(Default)]
    struct Recorder {
        files: Vec<(u64, usize)>,
        writes: Vec<usize>,
    }

    impl AsyncWrite for Recorder {
        fn poll_write(
            self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<std::io::Result<usize>> {
            self.get_mut().writes.push(buf.len());
            Poll::Ready(Ok(buf.len()))
        }

        fn poll_write_vectored(
            self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
            bufs: &[IoSlice<'_>],
        ) -> Poll<std::io::Result<usize>> {
            let n = bufs.iter().map(|b| b.len()).sum();
            self.get_mut().writes.push(n);
            Poll::Ready(Ok(n))
        }

        fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
            Poll::Ready(Ok(()))
        }

        fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    impl ConnectionWriter for Recorder {
        fn sends_files(&self) -> bool {
            true
        }

        fn poll_send_file(
            &mut self,
            _cx: &mut Context<'_>,
            slot: &FileSlot,
            skip: usize,
            len: usize,
        ) -> Poll<std::io::Result<usize>> {
            self.files.push((slot.offset + skip as u64, len));
            Poll::Ready(Ok(len))
        }
    }

    fn frames_with_files(n: usize) -> Vec<Arc<Frame>> {
        let hub = hub_with(|_| {});
        let mut sub = hub.subscribe(key());
        sub.send_from_files(true);
        let mut p = publish(&hub);
        p.push(key_frame(0)).unwrap();
        for i in 1..n as u32 {
            p.push(if i % 2 == 0 {
                inter_frame(i * 33)
            } else {
                audio(i * 20)
            })
            .unwrap();
        }
        std::iter::from_fn(|| sub.try_next())
            .filter_map(|d| match d {
                Delivery::Frame(f) => Some(f),
                _ => None,
            })
            .collect()
    }

    /// Writes the queue the way the connection does, one call at a time.
    fn write_all(w: &mut Recorder, out: &mut VecDeque<Out>) {
        let waker = std::task::Waker::noop();
        let mut cx = Context::from_waker(waker);
        while !out.is_empty() {
            let Poll::Ready(Ok(n)) = poll_write_queue(&mut cx, w, out) else {
                panic!("the recorder takes everything");
            };
            advance(out, n);
        }
    }

    #[test]
    fn frames_end_to_end_go_in_one_sendfile_and_bytes_in_one_writev() {
        let frames = frames_with_files(4);
        let slots: Vec<_> = frames.iter().map(|f| f.file().unwrap().clone()).collect();
        let file = |i: usize| Out::File {
            slot: slots[i].clone(),
            done: 0,
        };
        let mut out = VecDeque::from([
            Out::Bytes(Bytes::from_static(b"status")),
            Out::Bytes(Bytes::from_static(b"ack")),
            file(0),
            file(1),
            file(2),
            Out::Bytes(Bytes::from_static(b"ping")),
            file(3),
        ]);
        let mut w = Recorder::default();
        write_all(&mut w, &mut out);
        assert_eq!(w.writes, [9, 4]);
        let three: usize = slots[..3].iter().map(|s| s.len).sum();
        assert_eq!(
            w.files,
            [(slots[0].offset, three), (slots[3].offset, slots[3].len)]
        );
    }

    #[test]
    fn a_partly_sent_frame_goes_on_from_where_it_stopped() {
        let frames = frames_with_files(2);
        let slots: Vec<_> = frames.iter().map(|f| f.file().unwrap().clone()).collect();
        let mut out = VecDeque::from([
            Out::File {
                slot: slots[0].clone(),
                done: 5,
            },
            Out::File {
                slot: slots[1].clone(),
                done: 0,
            },
        ]);
        assert_eq!(out[0].len(), slots[0].len - 5);
        let mut w = Recorder::default();
        write_all(&mut w, &mut out);
        assert_eq!(
            w.files,
            [(slots[0].offset + 5, slots[0].len - 5 + slots[1].len)]
        );
    }
}
