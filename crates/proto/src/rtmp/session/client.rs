//! The client side of an RTMP connection: the librtmp/ffmpeg connect path (seed 003) and the
//! publish and play sequences (seeds 000 and 001), without I/O.

use std::collections::{HashMap, VecDeque};

use bytes::Bytes;
use rand::RngCore;

use super::link::{HandshakeProgress, Link, Received, drive_handshake};
use super::{MediaKind, SessionError, TraceRecord};
use crate::amf::Amf0Value;
use crate::rtmp::chunk::ChunkLimits;
use crate::rtmp::handshake::{ClientHandshake, HandshakeSummary};
use crate::rtmp::message::status;
use crate::rtmp::message::{
    Command, CommandKind, ConnectParams, DataMessage, Message, PublishType, UserControlEvent,
};

/// Chunk stream ids the client sends on, as ffmpeg does (seeds 000 and 001).
mod client_csid {
    pub const CONTROL: u32 = 2;
    pub const CONNECTION: u32 = 3;
    pub const DATA: u32 = 4;
    pub const AUDIO: u32 = 4;
    pub const VIDEO: u32 = 6;
    pub const STREAM: u32 = 8;
}

/// How the client connects.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub handshake: crate::rtmp::handshake::ClientConfig,
    pub chunk_limits: ChunkLimits,
    /// Chunk size for what this side sends, announced once connected (128 keeps the default and
    /// sends nothing).
    pub chunk_size: u32,
    /// Window Acknowledgement Size announced once connected (`None`: none sent).
    pub window_ack_size: Option<u32>,
    /// The connect command object.
    pub connect: ConnectParams,
    /// Record every message sent and received for [`ClientSession::poll_trace`].
    pub trace: bool,
}

impl ClientConfig {
    /// A configuration that connects to `app` with `tc_url`, publishing like ffmpeg does.
    pub fn publisher(app: &str, tc_url: &str) -> ClientConfig {
        ClientConfig {
            handshake: Default::default(),
            chunk_limits: ChunkLimits::default(),
            chunk_size: 4096,
            window_ack_size: None,
            connect: ConnectParams::publisher(app, "FMLE/3.0 (compatible; rtmpkit)", tc_url),
            trace: false,
        }
    }

    /// A configuration that connects to `app` with `tc_url`, playing like ffplay does.
    pub fn player(app: &str, tc_url: &str) -> ClientConfig {
        ClientConfig {
            window_ack_size: Some(2_500_000),
            connect: ConnectParams::player(app, "LNX 9,0,124,2", tc_url),
            ..ClientConfig::publisher(app, tc_url)
        }
    }
}

/// An `onStatus` the server sent.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusEvent {
    pub stream_id: u32,
    pub level: String,
    pub code: String,
    pub description: String,
    /// The whole information object.
    pub info: Amf0Value,
}

impl StatusEvent {
    /// Whether the level is `error`.
    pub fn is_error(&self) -> bool {
        self.level == status::level::ERROR
    }
}

/// What the server did.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientEvent {
    HandshakeComplete(HandshakeSummary),
    /// `_result` to connect.
    Connected {
        properties: Amf0Value,
        info: Amf0Value,
    },
    /// `_error` to connect: the server refused. The session is closed.
    ConnectRejected {
        code: String,
        description: String,
    },
    /// `_result` to createStream.
    StreamCreated {
        transaction_id: f64,
        stream_id: u32,
    },
    /// `_result` or `_error` to any other call of ours.
    CallAnswered {
        transaction_id: f64,
        name: String,
        success: bool,
        command: Command,
    },
    /// `onStatus` on a stream (or on the connection, stream 0).
    Status(StatusEvent),
    Media {
        stream_id: u32,
        kind: MediaKind,
        timestamp: u32,
        payload: Bytes,
    },
    Data {
        stream_id: u32,
        timestamp: u32,
        data: DataMessage,
    },
    StreamBegin {
        stream_id: u32,
    },
    StreamEof {
        stream_id: u32,
    },
    StreamDry {
        stream_id: u32,
    },
    /// Enhanced RTMP: the server asks us to reconnect, possibly to another tcUrl.
    ReconnectRequested {
        tc_url: Option<String>,
        description: String,
    },
    /// Any other command the server called (onBWDone, onFCPublish, …).
    ServerCall(Command),
}

#[derive(Debug, Clone, PartialEq)]
enum Phase {
    Handshake,
    Connecting,
    Connected,
    Closed,
}

/// The client side of one RTMP connection. The connect command goes out by itself as soon as
/// the handshake completes; everything after it is asked for with methods.
#[derive(Debug)]
pub struct ClientSession {
    config: ClientConfig,
    handshake: Option<ClientHandshake>,
    link: Link,
    phase: Phase,
    events: VecDeque<ClientEvent>,
    next_transaction: f64,
    /// Calls waiting for `_result`/`_error`, by transaction id.
    pending: HashMap<u64, String>,
}

const CONNECT_TRANSACTION: f64 = 1.0;

impl ClientSession {
    /// A session whose C0+C1 are already queued in [`ClientSession::poll_transmit`].
    pub fn new(config: ClientConfig, epoch_ms: u32, rng: &mut impl RngCore) -> ClientSession {
        let mut handshake = ClientHandshake::new(config.handshake.clone(), epoch_ms, rng);
        let mut link = Link::new(config.chunk_limits, config.trace);
        while let Some(bytes) = handshake.poll_transmit() {
            link.send_raw(bytes);
        }
        ClientSession {
            config,
            handshake: Some(handshake),
            link,
            phase: Phase::Handshake,
            events: VecDeque::new(),
            next_transaction: CONNECT_TRANSACTION + 1.0,
            pending: HashMap::new(),
        }
    }

    /// Takes bytes that arrived from the server. Any error ends the session.
    pub fn feed(&mut self, data: &[u8]) -> Result<(), SessionError> {
        if self.phase == Phase::Closed {
            return Err(SessionError::Closed);
        }
        let result = self.feed_inner(data);
        if result.is_err() {
            self.phase = Phase::Closed;
        }
        result
    }

    fn feed_inner(&mut self, data: &[u8]) -> Result<(), SessionError> {
        self.link.count_received(data.len())?;
        let data = match drive_handshake(&mut self.handshake, &mut self.link, data)? {
            HandshakeProgress::Pending => return Ok(()),
            HandshakeProgress::Done(data) => data,
            HandshakeProgress::Completed { summary, rest } => {
                if let Some(summary) = summary {
                    self.events
                        .push_back(ClientEvent::HandshakeComplete(summary));
                }
                self.phase = Phase::Connecting;
                let connect = Command::connect(CONNECT_TRANSACTION, &self.config.connect);
                self.send_command(client_csid::CONNECTION, 0, connect)?;
                rest
            }
        };
        self.link.push(data);
        while let Some(received) = self.link.next_message()? {
            self.on_message(received)?;
        }
        Ok(())
    }

    /// The next event, oldest first.
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }

    /// The next buffer to write to the server, oldest first.
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        self.link.poll_transmit()
    }

    /// Bytes waiting in [`ClientSession::poll_transmit`].
    pub fn queued_bytes(&self) -> usize {
        self.link.queued_bytes()
    }

    /// The next traced message (only with [`ClientConfig::trace`]).
    pub fn poll_trace(&mut self) -> Option<TraceRecord> {
        self.link.poll_trace()
    }

    /// Whether connect succeeded and the session has not ended.
    pub fn is_connected(&self) -> bool {
        self.phase == Phase::Connected
    }

    /// Bytes received after the handshake that are not yet part of a complete message (a
    /// message still arriving, or input waiting for a decision).
    pub fn buffered_input(&self) -> usize {
        self.link.buffered_input()
    }

    /// Whether the session ended.
    pub fn is_closed(&self) -> bool {
        self.phase == Phase::Closed
    }

    fn on_message(&mut self, m: Received) -> Result<(), SessionError> {
        match m.message {
            Message::Command(command) | Message::CommandAmf3(command) => {
                self.on_command(m.stream_id, command)
            }
            Message::Audio(payload) => {
                self.push_media(m.stream_id, MediaKind::Audio, m.timestamp, payload);
                Ok(())
            }
            Message::Video(payload) => {
                self.push_media(m.stream_id, MediaKind::Video, m.timestamp, payload);
                Ok(())
            }
            Message::Data(data) | Message::DataAmf3(data) => {
                self.events.push_back(ClientEvent::Data {
                    stream_id: m.stream_id,
                    timestamp: m.timestamp,
                    data,
                });
                Ok(())
            }
            Message::Aggregate(aggregate) => {
                let parts: Vec<_> = aggregate.messages(m.timestamp).collect();
                for part in parts {
                    let message =
                        Message::decode(part.type_id, part.payload).map_err(|source| {
                            SessionError::BadMessage {
                                type_id: part.type_id,
                                csid: m.csid,
                                source,
                            }
                        })?;
                    if matches!(
                        message,
                        Message::Audio(_) | Message::Video(_) | Message::Data(_)
                    ) {
                        self.on_message(Received {
                            csid: m.csid,
                            timestamp: part.timestamp,
                            stream_id: m.stream_id,
                            message,
                        })?;
                    }
                }
                Ok(())
            }
            Message::UserControl(event) => {
                let event = match event {
                    UserControlEvent::StreamBegin { stream_id } => {
                        ClientEvent::StreamBegin { stream_id }
                    }
                    UserControlEvent::StreamEof { stream_id } => {
                        ClientEvent::StreamEof { stream_id }
                    }
                    UserControlEvent::StreamDry { stream_id } => {
                        ClientEvent::StreamDry { stream_id }
                    }
                    _ => return Ok(()),
                };
                self.events.push_back(event);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn push_media(&mut self, stream_id: u32, kind: MediaKind, timestamp: u32, payload: Bytes) {
        self.events.push_back(ClientEvent::Media {
            stream_id,
            kind,
            timestamp,
            payload,
        });
    }

    fn on_command(&mut self, stream_id: u32, command: Command) -> Result<(), SessionError> {
        let tid = command.transaction_id();
        match command.kind() {
            CommandKind::Result(response)
                if self.phase == Phase::Connecting && tid == CONNECT_TRANSACTION =>
            {
                let properties = response.properties().clone();
                let info = response.information().cloned().unwrap_or(Amf0Value::Null);
                self.phase = Phase::Connected;
                if let Some(size) = self.config.window_ack_size {
                    self.link.announce_window(size)?;
                }
                if self.config.chunk_size != crate::rtmp::chunk::DEFAULT_CHUNK_SIZE {
                    self.link.set_chunk_size(self.config.chunk_size)?;
                }
                self.events
                    .push_back(ClientEvent::Connected { properties, info });
                Ok(())
            }
            CommandKind::Error(response)
                if self.phase == Phase::Connecting && tid == CONNECT_TRANSACTION =>
            {
                let status = response.status();
                let code = status.and_then(|s| s.code()).unwrap_or_default().to_owned();
                let description = status
                    .and_then(|s| s.description())
                    .unwrap_or_default()
                    .to_owned();
                self.phase = Phase::Closed;
                self.events
                    .push_back(ClientEvent::ConnectRejected { code, description });
                Ok(())
            }
            CommandKind::Result(response) | CommandKind::Error(response) => {
                let success = command.name() == crate::rtmp::message::command_name::RESULT;
                let Some(name) = self.pending.remove(&tid.to_bits()) else {
                    // An answer to nothing we asked (or asked twice): nothing waits for it.
                    return Ok(());
                };
                let created = response.stream_id().and_then(stream_id_of);
                if let (true, Some(stream_id)) = (
                    success && name == crate::rtmp::message::command_name::CREATE_STREAM,
                    created,
                ) {
                    self.events.push_back(ClientEvent::StreamCreated {
                        transaction_id: tid,
                        stream_id,
                    });
                    return Ok(());
                }
                self.events.push_back(ClientEvent::CallAnswered {
                    transaction_id: tid,
                    name,
                    success,
                    command,
                });
                Ok(())
            }
            CommandKind::OnStatus(s) => {
                if s.code() == Some(status::CONNECT_RECONNECT_REQUEST) {
                    let tc_url = s
                        .get("tcUrl")
                        .and_then(Amf0Value::as_str)
                        .map(str::to_owned);
                    let description = s.description().unwrap_or_default().to_owned();
                    self.events.push_back(ClientEvent::ReconnectRequested {
                        tc_url,
                        description,
                    });
                    return Ok(());
                }
                let event = StatusEvent {
                    stream_id,
                    level: s.level().unwrap_or_default().to_owned(),
                    code: s.code().unwrap_or_default().to_owned(),
                    description: s.description().unwrap_or_default().to_owned(),
                    info: s.info().clone(),
                };
                self.events.push_back(ClientEvent::Status(event));
                Ok(())
            }
            _ => {
                self.events.push_back(ClientEvent::ServerCall(command));
                Ok(())
            }
        }
    }

    fn require_connected(&self, what: &str) -> Result<(), SessionError> {
        if self.phase == Phase::Connected {
            Ok(())
        } else {
            Err(SessionError::Protocol(format!(
                "{what} needs a connected session"
            )))
        }
    }

    fn next_tid(&mut self) -> f64 {
        let tid = self.next_transaction;
        self.next_transaction += 1.0;
        tid
    }

    /// Calls a command that expects an answer; returns its transaction id.
    fn call(&mut self, csid: u32, stream_id: u32, command: Command) -> Result<f64, SessionError> {
        let tid = command.transaction_id();
        self.pending
            .insert(tid.to_bits(), command.name().to_owned());
        self.send_command(csid, stream_id, command)?;
        Ok(tid)
    }

    /// `createStream()`; [`ClientEvent::StreamCreated`] carries the new stream id.
    pub fn create_stream(&mut self) -> Result<f64, SessionError> {
        self.require_connected("createStream")?;
        let tid = self.next_tid();
        self.call(client_csid::CONNECTION, 0, Command::create_stream(tid))
    }

    /// `releaseStream(name)`, as FMLE-style publishers send before publishing.
    pub fn release_stream(&mut self, name: &str) -> Result<f64, SessionError> {
        self.require_connected("releaseStream")?;
        let tid = self.next_tid();
        self.call(
            client_csid::CONNECTION,
            0,
            Command::release_stream(tid, name),
        )
    }

    /// `FCPublish(name)`.
    pub fn fc_publish(&mut self, name: &str) -> Result<f64, SessionError> {
        self.require_connected("FCPublish")?;
        let tid = self.next_tid();
        self.call(client_csid::CONNECTION, 0, Command::fc_publish(tid, name))
    }

    /// `FCUnpublish(name)`.
    pub fn fc_unpublish(&mut self, name: &str) -> Result<f64, SessionError> {
        self.require_connected("FCUnpublish")?;
        let tid = self.next_tid();
        self.call(client_csid::CONNECTION, 0, Command::fc_unpublish(tid, name))
    }

    /// `publish(name, type)` on a created stream; the answer is an `onStatus`.
    pub fn publish(
        &mut self,
        stream_id: u32,
        name: &str,
        publish_type: &PublishType,
    ) -> Result<(), SessionError> {
        self.require_connected("publish")?;
        let tid = self.next_tid();
        let command = Command::publish(tid, name, publish_type);
        self.send_command(client_csid::STREAM, stream_id, command)
    }

    /// `getStreamLength(name)`.
    pub fn get_stream_length(&mut self, name: &str) -> Result<f64, SessionError> {
        self.require_connected("getStreamLength")?;
        let tid = self.next_tid();
        self.call(
            client_csid::STREAM,
            0,
            Command::get_stream_length(tid, name),
        )
    }

    /// `play(name, start, duration, reset)` on a created stream; answers come as `onStatus`.
    pub fn play(
        &mut self,
        stream_id: u32,
        name: &str,
        start: f64,
        duration: Option<f64>,
        reset: Option<bool>,
    ) -> Result<(), SessionError> {
        self.require_connected("play")?;
        let tid = self.next_tid();
        let command = Command::play(tid, name, Some(start), duration, reset);
        self.send_command(client_csid::STREAM, stream_id, command)
    }

    /// User Control Set Buffer Length (ffplay sends 13000 ms, seed 001).
    pub fn set_buffer_length(
        &mut self,
        stream_id: u32,
        buffer_ms: u32,
    ) -> Result<(), SessionError> {
        let event = UserControlEvent::SetBufferLength {
            stream_id,
            buffer_ms,
        };
        self.link
            .send(client_csid::CONTROL, 0, 0, &Message::UserControl(event))
    }

    /// `deleteStream(stream_id)`.
    pub fn delete_stream(&mut self, stream_id: u32) -> Result<(), SessionError> {
        self.require_connected("deleteStream")?;
        let tid = self.next_tid();
        let command = Command::delete_stream(tid, stream_id);
        self.send_command(client_csid::STREAM, 0, command)
    }

    /// Sends audio or video on a publishing stream.
    pub fn send_media(
        &mut self,
        stream_id: u32,
        kind: MediaKind,
        timestamp: u32,
        payload: &[u8],
    ) -> Result<(), SessionError> {
        let csid = match kind {
            MediaKind::Audio => client_csid::AUDIO,
            MediaKind::Video => client_csid::VIDEO,
        };
        self.link
            .send_payload(csid, timestamp, stream_id, kind.type_id(), payload)
    }

    /// Sends a data message (`@setDataFrame`, …) on a publishing stream.
    pub fn send_data(
        &mut self,
        stream_id: u32,
        timestamp: u32,
        data: &DataMessage,
    ) -> Result<(), SessionError> {
        self.link.send(
            client_csid::DATA,
            timestamp,
            stream_id,
            &Message::Data(data.clone()),
        )
    }

    fn send_command(
        &mut self,
        csid: u32,
        stream_id: u32,
        command: Command,
    ) -> Result<(), SessionError> {
        self.link
            .send(csid, 0, stream_id, &Message::Command(command))
    }
}

/// A stream id from a `createStream` result (a whole number in range).
fn stream_id_of(n: f64) -> Option<u32> {
    (n.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&n)).then_some(n as u32)
}
