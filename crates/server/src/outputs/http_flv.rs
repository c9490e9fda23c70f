//! HTTP-FLV and WebSocket-FLV: one hub subscription per viewer, the FLV file header, then each
//! frame's shared FLV tag ([`Frame::flv_tag`]).

use std::collections::VecDeque;
use std::sync::Arc;

use axum::extract::ws::{Message, WebSocket};
use bytes::Bytes;
use futures_util::SinkExt;
use rtmpkit_proto::flv::{FlvHeader, FlvWriter, FrameType, ScriptData};
use tokio::sync::watch;

use super::per_stream::shutdown_signal;
use crate::hub::{Delivery, Frame, FrameKind, Hub, StreamKey, Subscription};

/// Deliveries read ahead to learn which tracks the stream has (at most one GOP cache).
const LOOKAHEAD: usize = 4096;
/// How long a new viewer waits for the first coded frame before the header is sent anyway.
const LOOKAHEAD_TIME: std::time::Duration = std::time::Duration::from_secs(2);

/// A viewer's FLV byte stream: the file header first, then one tag per frame. It ends when the
/// publisher leaves (the viewer reconnects to follow a new one) or at shutdown.
pub(crate) struct FlvSource {
    sub: Subscription,
    shutdown: watch::Receiver<bool>,
    /// Read ahead while choosing the header's flags, not yet sent.
    pending: VecDeque<Delivery>,
    header: Option<Bytes>,
    done: bool,
    /// Frames not sent because they cannot be an FLV tag (payload ≥ 16 MiB).
    pub dropped: u64,
}

/// Why there is no FLV stream to send.
pub(crate) enum NoStream {
    /// No publisher came within the play wait timeout.
    NotFound,
    /// The server is shutting down.
    Shutdown,
}

impl FlvSource {
    /// Subscribes and waits (bounded by the play wait timeout) for a publisher.
    pub async fn open(
        hub: &Hub,
        key: StreamKey,
        mut shutdown: watch::Receiver<bool>,
    ) -> Result<FlvSource, NoStream> {
        let mut sub = hub.subscribe(key);
        let first = tokio::select! {
            d = sub.next() => d,
            () = shutdown_signal(&mut shutdown) => return Err(NoStream::Shutdown),
        };
        match first {
            Delivery::PublisherJoined => {}
            Delivery::NotFound => return Err(NoStream::NotFound),
            // The first delivery of a subscription is one of the two above.
            _ => return Err(NoStream::NotFound),
        }
        // Read ahead to the first coded frame (or a bounded time) to learn the tracks: the
        // header comes before anything else.
        let mut pending = VecDeque::new();
        let deadline = tokio::time::Instant::now() + LOOKAHEAD_TIME;
        while pending.len() < LOOKAHEAD {
            let d = match sub.try_next() {
                Some(d) => d,
                None => match tokio::time::timeout_at(deadline, sub.next()).await {
                    Ok(d) => d,
                    Err(_) => break,
                },
            };
            let last = match &d {
                Delivery::Frame(f) => {
                    f.kind() != FrameKind::Data && !f.is_sequence_header() && !is_command(f)
                }
                Delivery::PublisherLeft | Delivery::NotFound => true,
                Delivery::PublisherJoined | Delivery::Skipped(_) => false,
            };
            pending.push_back(d);
            if last {
                break;
            }
        }
        let (has_audio, has_video) = tracks(&pending);
        let mut header = Vec::with_capacity(13);
        FlvWriter::new().write_header(&FlvHeader::new(has_audio, has_video), &mut header);
        Ok(FlvSource {
            sub,
            shutdown,
            pending,
            header: Some(Bytes::from(header)),
            done: false,
            dropped: 0,
        })
    }

    /// The next bytes to send; `None` at the end of the stream.
    pub async fn next_chunk(&mut self) -> Option<Bytes> {
        loop {
            // What is ready goes without a wait (the HTTP body is polled again at once while
            // its write buffer has room); shutdown is looked at when nothing is.
            if let Some(chunk) = self.ready_chunk() {
                return Some(chunk);
            }
            if self.done {
                return None;
            }
            let delivery = tokio::select! {
                biased;
                () = shutdown_signal(&mut self.shutdown) => {
                    self.done = true;
                    return None;
                }
                d = self.sub.next() => d,
            };
            if let Some(tag) = self.tag(delivery) {
                return Some(tag);
            }
        }
    }

    /// The next bytes to send if they are ready now.
    pub fn ready_chunk(&mut self) -> Option<Bytes> {
        if let Some(h) = self.header.take() {
            return Some(h);
        }
        while !self.done {
            let delivery = self.pending.pop_front().or_else(|| self.sub.try_next())?;
            if let Some(tag) = self.tag(delivery) {
                return Some(tag);
            }
        }
        None
    }

    /// What a delivery puts on the wire: a frame's tag; nothing for an event (the publisher
    /// leaving ends the stream) or for a frame no FLV tag can hold.
    fn tag(&mut self, delivery: Delivery) -> Option<Bytes> {
        match delivery {
            Delivery::Frame(f) => {
                let tag = f.flv_tag();
                if tag.is_none() {
                    self.dropped += 1;
                }
                tag
            }
            Delivery::PublisherJoined | Delivery::Skipped(_) => None,
            Delivery::PublisherLeft | Delivery::NotFound => {
                self.done = true;
                None
            }
        }
    }

    pub fn key(&self) -> &StreamKey {
        self.sub.key()
    }
}

/// Which tracks the stream has, from its metadata if it names codecs, else from the frames
/// read ahead; both when nothing tells.
fn tracks(pending: &VecDeque<Delivery>) -> (bool, bool) {
    let frames = || {
        pending.iter().filter_map(|d| match d {
            Delivery::Frame(f) => Some(f),
            _ => None,
        })
    };
    if let Some(meta) = frames()
        .filter(|f| f.is_metadata())
        .find_map(|f| ScriptData::decode(f.payload()).ok()?.on_metadata())
    {
        let audio = meta.get("audiocodecid").is_some();
        let video = meta.get("videocodecid").is_some();
        if audio || video {
            return (audio, video);
        }
    }
    let has = |kind: FrameKind| frames().any(|f: &Arc<Frame>| f.kind() == kind && !is_command(f));
    match (has(FrameKind::Audio), has(FrameKind::Video)) {
        (false, false) => (true, true),
        known => known,
    }
}

fn is_command(f: &Frame) -> bool {
    f.kind() == FrameKind::Video
        && f.payload()
            .first()
            .is_some_and(|b| FrameType::from_u3((b >> 4) & 7) == FrameType::Command)
}

/// Largest binary message a WebSocket-FLV viewer is sent. Players join the messages into one
/// byte stream (a message need not hold whole tags), and the WebSocket library's write buffer
/// keeps the capacity of the largest batch it held: whole keyframes would leave every viewer
/// holding the stream's largest keyframe.
const WS_MESSAGE_MAX: usize = 8 * 1024;

/// Sends the stream over a WebSocket in binary messages of at most [`WS_MESSAGE_MAX`] bytes,
/// until it ends or the client goes away.
pub(crate) async fn websocket_session(mut socket: WebSocket, mut source: FlvSource) {
    loop {
        let chunk = tokio::select! {
            chunk = source.next_chunk() => chunk,
            msg = socket.recv() => match msg {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                // Pings are answered by the library; anything else from the client is ignored.
                Some(Ok(_)) => continue,
            },
        };
        let Some(chunk) = chunk else { break };
        // Frames released together go out together, in writes of about WS_WRITE_BUFFER.
        let mut chunk = Some(chunk);
        while let Some(mut c) = chunk {
            while !c.is_empty() {
                let piece = c.split_to(c.len().min(WS_MESSAGE_MAX));
                if socket.feed(Message::Binary(piece)).await.is_err() {
                    return;
                }
            }
            chunk = source.ready_chunk();
        }
        if socket.flush().await.is_err() {
            return;
        }
    }
    tracing::debug!(stream = %source.key(), "websocket-flv stream ended");
    let _ = socket.send(Message::Close(None)).await;
}
