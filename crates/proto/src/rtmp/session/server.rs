//! The server side of an RTMP connection: handshake, connect, streams, publish and play.

use std::collections::{BTreeMap, VecDeque};

use bytes::Bytes;
use rand::RngCore;

use super::link::{HandshakeProgress, Link, Received, csid, drive_handshake};
use super::{MediaKind, SessionError, TraceRecord};
use crate::amf::Amf0Value;
use crate::rtmp::chunk::ChunkLimits;
use crate::rtmp::handshake::{HandshakeSummary, ServerHandshake};
use crate::rtmp::message::status::{self, level};
use crate::rtmp::message::{
    Aggregate, Command, CommandKind, DataMessage, LimitType, Message, PublishType, StatusInfo,
    UserControlEvent,
};

/// What a server session announces and enforces.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub handshake: crate::rtmp::handshake::ServerConfig,
    pub chunk_limits: ChunkLimits,
    /// Chunk size for what this side sends (announced with Set Chunk Size after connect).
    pub chunk_size: u32,
    /// Window Acknowledgement Size announced to the client.
    pub window_ack_size: u32,
    /// Set Peer Bandwidth sent to the client (with the dynamic limit type).
    pub peer_bandwidth: u32,
    /// `fmsVer` in the connect result.
    pub fms_version: String,
    /// Most message streams one connection may create.
    pub max_streams: u32,
    /// Record every message sent and received for [`ServerSession::poll_trace`].
    pub trace: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            handshake: Default::default(),
            chunk_limits: ChunkLimits::default(),
            chunk_size: 4096,
            window_ack_size: 2_500_000,
            peer_bandwidth: 2_500_000,
            fms_version: "FMS/3,0,1,123".to_owned(),
            max_streams: 16,
            trace: false,
        }
    }
}

/// A client's `connect`, waiting for [`ServerSession::accept_connect`] or
/// [`ServerSession::reject_connect`].
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectRequest {
    pub transaction_id: f64,
    /// The application, without trailing slashes (`live` for `rtmp://host/live/stream`).
    pub app: String,
    pub tc_url: Option<String>,
    pub flash_ver: Option<String>,
    /// 0 for AMF0, 3 for AMF3.
    pub object_encoding: f64,
    /// Enhanced RTMP: the client accepts NetConnection.Connect.ReconnectRequest.
    pub supports_reconnect: bool,
    /// The whole command, for anything not broken out above.
    pub command: Command,
}

/// A `publish` on a created stream, waiting for [`ServerSession::accept_publish`] or
/// [`ServerSession::reject_publish`].
#[derive(Debug, Clone, PartialEq)]
pub struct PublishRequest {
    pub stream_id: u32,
    /// The stream name before any `?`.
    pub name: String,
    /// What followed `?` in the name (e.g. `key=…`), kept for authentication.
    pub query: Option<String>,
    pub publish_type: PublishType,
}

/// A `play` (or `play2`) on a created stream, waiting for [`ServerSession::accept_play`] or
/// [`ServerSession::reject_play`].
#[derive(Debug, Clone, PartialEq)]
pub struct PlayRequest {
    pub stream_id: u32,
    pub name: String,
    pub query: Option<String>,
    /// Milliseconds: -2 live or recorded, -1 live only, >= 0 recorded from there.
    pub start: f64,
    /// Milliseconds to play, -1 to the end.
    pub duration: f64,
    pub reset: bool,
}

/// What happened on the connection that the application must know about.
#[derive(Debug, Clone, PartialEq)]
pub enum ServerEvent {
    /// The handshake is complete.
    HandshakeComplete(HandshakeSummary),
    ConnectRequested(ConnectRequest),
    PublishRequested(PublishRequest),
    PlayRequested(PlayRequest),
    /// Audio or video from a publishing stream (aggregates arrive already split).
    Media {
        stream_id: u32,
        kind: MediaKind,
        timestamp: u32,
        payload: Bytes,
    },
    /// A data message (`@setDataFrame`, `onMetaData`, `onTextData`, …) from a publishing stream.
    Data {
        stream_id: u32,
        timestamp: u32,
        data: DataMessage,
    },
    /// The publisher stopped (FCUnpublish, closeStream or deleteStream on a publishing stream).
    PublishStopped {
        stream_id: u32,
    },
    /// A player stopped (closeStream or deleteStream on a playing stream).
    PlayStopped {
        stream_id: u32,
    },
    /// `pause(true/false, position)`; the status reply has already been sent.
    Paused {
        stream_id: u32,
        paused: bool,
        position_ms: f64,
    },
    /// `receiveAudio`/`receiveVideo`.
    ReceiveMedia {
        stream_id: u32,
        kind: MediaKind,
        enabled: bool,
    },
    /// The client's Set Buffer Length.
    BufferLength {
        stream_id: u32,
        milliseconds: u32,
    },
    /// The client asked to close the connection (`close` command).
    CloseRequested,
}

#[derive(Debug, Clone, PartialEq)]
enum Phase {
    Handshake,
    AwaitingConnect,
    ConnectPending { transaction_id: f64 },
    Connected,
    Closed,
}

#[derive(Debug, Clone, PartialEq)]
enum StreamRole {
    Idle,
    PublishPending,
    Publishing,
    PlayPending,
    Playing,
}

#[derive(Debug)]
struct StreamState {
    role: StreamRole,
    name: String,
}

/// The server side of one RTMP connection.
#[derive(Debug)]
pub struct ServerSession {
    config: ServerConfig,
    handshake: Option<ServerHandshake>,
    link: Link,
    phase: Phase,
    events: VecDeque<ServerEvent>,
    streams: BTreeMap<u32, StreamState>,
    next_stream_id: u32,
    amf3_commands: bool,
    app: String,
    supports_reconnect: bool,
}

impl ServerSession {
    /// A session waiting for C0. `epoch_ms` is the server's uptime clock for S1's time field.
    pub fn new(config: ServerConfig, epoch_ms: u32, rng: &mut impl RngCore) -> ServerSession {
        let handshake = ServerHandshake::new(config.handshake.clone(), epoch_ms, rng);
        let link = Link::new(config.chunk_limits, config.trace);
        ServerSession {
            config,
            handshake: Some(handshake),
            link,
            phase: Phase::Handshake,
            events: VecDeque::new(),
            streams: BTreeMap::new(),
            next_stream_id: 1,
            amf3_commands: false,
            app: String::new(),
            supports_reconnect: false,
        }
    }

    /// Takes bytes that arrived from the client. Any error ends the session.
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
                        .push_back(ServerEvent::HandshakeComplete(summary));
                }
                self.phase = Phase::AwaitingConnect;
                rest
            }
        };
        self.link.push(data);
        self.process()
    }

    /// Decodes and handles buffered messages until none is left or one needs a decision of the
    /// application (connect, publish, play): input after such a request waits in the chunk
    /// reader until the answer is given, so a client that pipelines (connect and createStream in
    /// one packet, publish followed at once by media) is served in order.
    fn process(&mut self) -> Result<(), SessionError> {
        while !self.awaiting_decision() {
            let Some(received) = self.link.next_message()? else {
                break;
            };
            self.on_message(received)?;
        }
        Ok(())
    }

    /// Resumes after the application answered a request.
    fn resume(&mut self) -> Result<(), SessionError> {
        if self.phase == Phase::Closed {
            return Ok(());
        }
        let result = self.process();
        if result.is_err() {
            self.phase = Phase::Closed;
        }
        result
    }

    fn awaiting_decision(&self) -> bool {
        matches!(self.phase, Phase::ConnectPending { .. })
            || self
                .streams
                .values()
                .any(|s| matches!(s.role, StreamRole::PublishPending | StreamRole::PlayPending))
    }

    /// The next event, oldest first.
    pub fn poll_event(&mut self) -> Option<ServerEvent> {
        self.events.pop_front()
    }

    /// The next buffer to write to the client, oldest first.
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        self.link.poll_transmit()
    }

    /// Bytes waiting in [`ServerSession::poll_transmit`].
    pub fn queued_bytes(&self) -> usize {
        self.link.queued_bytes()
    }

    /// The next traced message (only with [`ServerConfig::trace`]).
    pub fn poll_trace(&mut self) -> Option<TraceRecord> {
        self.link.poll_trace()
    }

    /// The application the client connected to (empty before connect).
    pub fn app(&self) -> &str {
        &self.app
    }

    /// Whether the client said (Enhanced RTMP `capsEx`) that it handles reconnect requests.
    pub fn supports_reconnect(&self) -> bool {
        self.supports_reconnect
    }

    /// The chunk size this side sends with.
    pub fn chunk_size(&self) -> u32 {
        self.link.chunk_size()
    }

    /// Bytes received after the handshake that are not yet part of a complete message (a
    /// message still arriving, or input waiting for a decision).
    pub fn buffered_input(&self) -> usize {
        self.link.buffered_input()
    }

    /// Whether the session ended (an error, or a rejected connect).
    pub fn is_closed(&self) -> bool {
        self.phase == Phase::Closed
    }

    fn on_message(&mut self, m: Received) -> Result<(), SessionError> {
        match m.message {
            Message::Command(command) | Message::CommandAmf3(command) => {
                self.on_command(m.stream_id, command)
            }
            Message::Audio(payload) => {
                self.on_media(m.stream_id, MediaKind::Audio, m.timestamp, payload);
                Ok(())
            }
            Message::Video(payload) => {
                self.on_media(m.stream_id, MediaKind::Video, m.timestamp, payload);
                Ok(())
            }
            Message::Data(data) | Message::DataAmf3(data) => {
                if self.is_publishing(m.stream_id) {
                    self.events.push_back(ServerEvent::Data {
                        stream_id: m.stream_id,
                        timestamp: m.timestamp,
                        data,
                    });
                }
                Ok(())
            }
            Message::Aggregate(aggregate) => self.on_aggregate(m.stream_id, m.timestamp, aggregate),
            Message::UserControl(UserControlEvent::SetBufferLength {
                stream_id,
                buffer_ms,
            }) => {
                self.events.push_back(ServerEvent::BufferLength {
                    stream_id,
                    milliseconds: buffer_ms,
                });
                Ok(())
            }
            // Protocol control was handled by the link; shared objects and the rest are not
            // served by a live server.
            _ => Ok(()),
        }
    }

    fn is_publishing(&self, stream_id: u32) -> bool {
        self.streams
            .get(&stream_id)
            .is_some_and(|s| s.role == StreamRole::Publishing)
    }

    fn on_media(&mut self, stream_id: u32, kind: MediaKind, timestamp: u32, payload: Bytes) {
        // Media before the publish was accepted, or on a stream that isn't publishing, has no
        // destination; real encoders never send it, so it is dropped.
        if self.is_publishing(stream_id) {
            self.events.push_back(ServerEvent::Media {
                stream_id,
                kind,
                timestamp,
                payload,
            });
        }
    }

    fn on_aggregate(
        &mut self,
        stream_id: u32,
        timestamp: u32,
        aggregate: Aggregate,
    ) -> Result<(), SessionError> {
        let parts: Vec<_> = aggregate.messages(timestamp).collect();
        for part in parts {
            let message = Message::decode(part.type_id, part.payload).map_err(|source| {
                SessionError::BadMessage {
                    type_id: part.type_id,
                    csid: 0,
                    source,
                }
            })?;
            let received = Received {
                csid: 0,
                timestamp: part.timestamp,
                stream_id,
                message,
            };
            match received.message {
                Message::Audio(_) | Message::Video(_) | Message::Data(_) => {
                    self.on_message(received)?
                }
                _ => {
                    return Err(SessionError::Protocol(format!(
                        "aggregate message carries a type {} message; only audio, video and data may be aggregated",
                        part.type_id
                    )));
                }
            }
        }
        Ok(())
    }

    fn on_command(&mut self, stream_id: u32, command: Command) -> Result<(), SessionError> {
        let tid = command.transaction_id();
        let kind = command.kind();
        if !matches!(self.phase, Phase::Connected) {
            return match kind {
                CommandKind::Connect(_) if self.phase == Phase::AwaitingConnect => {
                    self.on_connect(&command)
                }
                CommandKind::Connect(_) => Err(SessionError::Protocol(
                    "a second connect on one connection".to_owned(),
                )),
                _ => Err(SessionError::Protocol(format!(
                    "'{}' before connect",
                    command.name()
                ))),
            };
        }
        match kind {
            CommandKind::Connect(_) => Err(SessionError::Protocol(
                "a second connect on one connection".to_owned(),
            )),
            CommandKind::CreateStream => self.on_create_stream(tid),
            CommandKind::ReleaseStream { .. } => self.send_result(tid, Amf0Value::Undefined),
            CommandKind::FcPublish { stream_name } => {
                let desc = format!("FCPublish to stream {stream_name}.");
                let notify = Command::on_fc_publish(status::PUBLISH_START, &desc);
                self.send_command(csid::CONNECTION, 0, &notify)?;
                self.send_result(tid, Amf0Value::Undefined)
            }
            CommandKind::FcUnpublish { stream_name } => {
                let desc = format!("FCUnpublish to stream {stream_name}.");
                let notify = Command::on_fc_unpublish(status::UNPUBLISH_SUCCESS, &desc);
                self.send_command(csid::CONNECTION, 0, &notify)?;
                self.send_result(tid, Amf0Value::Undefined)?;
                // FCUnpublish names the stream, not its id: stop whichever stream publishes it.
                let stopped: Vec<u32> = self
                    .streams
                    .iter()
                    .filter(|(_, s)| s.role == StreamRole::Publishing && s.name == stream_name)
                    .map(|(id, _)| *id)
                    .collect();
                for id in stopped {
                    self.stop_stream(id);
                }
                Ok(())
            }
            CommandKind::FcSubscribe { .. } | CommandKind::CheckBandwidth => {
                self.send_result(tid, Amf0Value::Undefined)
            }
            CommandKind::GetStreamLength { .. } => self.send_result(tid, Amf0Value::Number(0.0)),
            CommandKind::Publish {
                stream_name,
                publish_type,
            } => {
                let (name, query) = split_query(stream_name);
                self.on_publish(stream_id, name, query, publish_type)
            }
            CommandKind::Play(play) => {
                let (name, query) = split_query(play.stream_name);
                let request = PlayRequest {
                    stream_id,
                    name,
                    query,
                    start: play.start.unwrap_or(-2.0),
                    duration: play.duration.unwrap_or(-1.0),
                    reset: play.reset.unwrap_or(true),
                };
                self.on_play(request)
            }
            CommandKind::Play2 { parameters } => {
                let Some(stream_name) = parameters.get("streamName").and_then(Amf0Value::as_str)
                else {
                    return self.send_error(tid, "play2 without a streamName");
                };
                let (name, query) = split_query(stream_name);
                let request = PlayRequest {
                    stream_id,
                    name,
                    query,
                    start: parameters
                        .get("start")
                        .and_then(Amf0Value::as_f64)
                        .unwrap_or(-2.0),
                    duration: parameters
                        .get("len")
                        .and_then(Amf0Value::as_f64)
                        .unwrap_or(-1.0),
                    reset: true,
                };
                self.on_play(request)
            }
            CommandKind::Pause {
                pause,
                milliseconds,
            } => {
                self.require_stream(stream_id)?;
                let position_ms = milliseconds.unwrap_or(0.0);
                let (code, desc) = if pause {
                    (status::PAUSE_NOTIFY, "Paused live")
                } else {
                    (status::UNPAUSE_NOTIFY, "Unpaused live")
                };
                self.send_status(stream_id, StatusInfo::new(level::STATUS, code, desc))?;
                self.events.push_back(ServerEvent::Paused {
                    stream_id,
                    paused: pause,
                    position_ms,
                });
                Ok(())
            }
            CommandKind::Seek { .. } => {
                // A live stream has no position to seek to.
                self.require_stream(stream_id)?;
                self.send_status(
                    stream_id,
                    StatusInfo::new(
                        level::ERROR,
                        status::SEEK_FAILED,
                        "Seeking is not possible in a live stream.",
                    ),
                )
            }
            CommandKind::ReceiveAudio { enabled } | CommandKind::ReceiveVideo { enabled } => {
                let kind = if matches!(kind, CommandKind::ReceiveAudio { .. }) {
                    MediaKind::Audio
                } else {
                    MediaKind::Video
                };
                self.events.push_back(ServerEvent::ReceiveMedia {
                    stream_id,
                    kind,
                    enabled,
                });
                Ok(())
            }
            CommandKind::DeleteStream { stream_id: id } => {
                // Only whole, in-range numbers can name a stream; anything else names none.
                if id.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&id) {
                    let id = id as u32;
                    self.stop_stream(id);
                    self.streams.remove(&id);
                }
                Ok(())
            }
            CommandKind::CloseStream => {
                self.stop_stream(stream_id);
                if let Some(s) = self.streams.get_mut(&stream_id) {
                    s.role = StreamRole::Idle;
                }
                Ok(())
            }
            CommandKind::Close => {
                self.events.push_back(ServerEvent::CloseRequested);
                Ok(())
            }
            // Answers from the client (to onBWDone, say) and notifications need no reply.
            CommandKind::Result(_)
            | CommandKind::Error(_)
            | CommandKind::OnStatus(_)
            | CommandKind::OnBwDone
            | CommandKind::OnFcPublish(_)
            | CommandKind::OnFcUnpublish(_) => Ok(()),
            CommandKind::Call(c) => {
                let desc = format!("Method not found ({}).", c.name());
                self.send_error(tid, &desc)
            }
        }
    }

    fn on_connect(&mut self, command: &Command) -> Result<(), SessionError> {
        let CommandKind::Connect(connect) = command.kind() else {
            return Err(SessionError::Protocol(
                "connect without a command object".to_owned(),
            ));
        };
        let app = connect
            .app()
            .unwrap_or_default()
            .trim_matches('/')
            .to_owned();
        let object_encoding = connect.object_encoding().unwrap_or(0.0);
        // Enhanced RTMP capsEx bit 0x01: the client reconnects when asked.
        let supports_reconnect = connect.caps_ex().is_some_and(|c| (c as u32) & 0x01 != 0);
        let request = ConnectRequest {
            transaction_id: connect.transaction_id(),
            app: app.clone(),
            tc_url: connect.tc_url().map(str::to_owned),
            flash_ver: connect.flash_ver().map(str::to_owned),
            object_encoding,
            supports_reconnect,
            command: command.clone(),
        };
        self.app = app;
        self.amf3_commands = object_encoding == 3.0;
        self.supports_reconnect = supports_reconnect;
        self.phase = Phase::ConnectPending {
            transaction_id: request.transaction_id,
        };
        self.events
            .push_back(ServerEvent::ConnectRequested(request));
        Ok(())
    }

    /// Accepts the pending connect: Window Acknowledgement Size, Set Peer Bandwidth, Set Chunk
    /// Size and `_result('NetConnection.Connect.Success')`, in the order nginx's RTMP module
    /// uses (seed 000), then `onBWDone` as FMS and SRS send it.
    pub fn accept_connect(&mut self) -> Result<(), SessionError> {
        let Phase::ConnectPending { transaction_id } = self.phase else {
            return Err(SessionError::Protocol(
                "accept_connect without a pending connect".to_owned(),
            ));
        };
        self.link.announce_window(self.config.window_ack_size)?;
        self.link.send(
            csid::CONTROL,
            0,
            0,
            &Message::SetPeerBandwidth {
                window_size: self.config.peer_bandwidth,
                limit_type: LimitType::Dynamic,
            },
        )?;
        self.link.set_chunk_size(self.config.chunk_size)?;
        let object_encoding = if self.amf3_commands { 3.0 } else { 0.0 };
        let result = Command::connect_result(
            transaction_id,
            &self.config.fms_version,
            31.0,
            object_encoding,
        );
        self.send_command(csid::CONNECTION, 0, &result)?;
        self.send_command(csid::CONNECTION, 0, &Command::on_bw_done())?;
        self.phase = Phase::Connected;
        self.resume()
    }

    /// Refuses the pending connect with `_error('NetConnection.Connect.Rejected')`; the session
    /// is closed once the caller has written out what [`ServerSession::poll_transmit`] holds.
    pub fn reject_connect(&mut self, description: &str) -> Result<(), SessionError> {
        let Phase::ConnectPending { transaction_id } = self.phase else {
            return Err(SessionError::Protocol(
                "reject_connect without a pending connect".to_owned(),
            ));
        };
        let error = Command::connect_rejected(transaction_id, description);
        self.send_command(csid::CONNECTION, 0, &error)?;
        self.phase = Phase::Closed;
        Ok(())
    }

    fn on_create_stream(&mut self, tid: f64) -> Result<(), SessionError> {
        if self.streams.len() >= self.config.max_streams as usize {
            return self.send_error(tid, "Too many streams on this connection.");
        }
        // Ids are never reused on a connection, so a late message can't land on a new stream.
        let id = self.next_stream_id;
        let Some(next) = id.checked_add(1) else {
            return self.send_error(tid, "No stream ids left on this connection.");
        };
        self.next_stream_id = next;
        self.streams.insert(
            id,
            StreamState {
                role: StreamRole::Idle,
                name: String::new(),
            },
        );
        self.send_command(csid::CONNECTION, 0, &Command::create_stream_result(tid, id))
    }

    fn require_stream(&self, stream_id: u32) -> Result<(), SessionError> {
        if self.streams.contains_key(&stream_id) {
            Ok(())
        } else {
            Err(SessionError::UnknownStream(stream_id))
        }
    }

    fn on_publish(
        &mut self,
        stream_id: u32,
        name: String,
        query: Option<String>,
        publish_type: PublishType,
    ) -> Result<(), SessionError> {
        self.require_stream(stream_id)?;
        if name.is_empty() {
            return self.send_status(
                stream_id,
                StatusInfo::new(
                    level::ERROR,
                    status::PUBLISH_BAD_NAME,
                    "Publishing needs a stream name.",
                ),
            );
        }
        if let Some(s) = self.streams.get_mut(&stream_id) {
            if s.role != StreamRole::Idle {
                return Err(SessionError::Protocol(format!(
                    "publish on stream {stream_id}, which is already in use"
                )));
            }
            s.role = StreamRole::PublishPending;
            s.name = name.clone();
        }
        self.events
            .push_back(ServerEvent::PublishRequested(PublishRequest {
                stream_id,
                name,
                query,
                publish_type,
            }));
        Ok(())
    }

    /// Accepts a pending publish: `onStatus('NetStream.Publish.Start')`.
    pub fn accept_publish(&mut self, stream_id: u32) -> Result<(), SessionError> {
        let name = self.take_pending(
            stream_id,
            StreamRole::PublishPending,
            StreamRole::Publishing,
        )?;
        let desc = format!("{name} is now published.");
        self.send_status(
            stream_id,
            StatusInfo::new(level::STATUS, status::PUBLISH_START, &desc)
                .with("details", Amf0Value::string(name)),
        )?;
        self.resume()
    }

    /// Refuses a pending publish with an error status (e.g. `NetStream.Publish.BadName` when
    /// the stream already has a publisher). The stream can be used again.
    pub fn reject_publish(
        &mut self,
        stream_id: u32,
        code: &str,
        description: &str,
    ) -> Result<(), SessionError> {
        self.take_pending(stream_id, StreamRole::PublishPending, StreamRole::Idle)?;
        self.send_status(stream_id, StatusInfo::new(level::ERROR, code, description))?;
        self.resume()
    }

    fn on_play(&mut self, request: PlayRequest) -> Result<(), SessionError> {
        let stream_id = request.stream_id;
        self.require_stream(stream_id)?;
        if let Some(s) = self.streams.get_mut(&stream_id) {
            if s.role == StreamRole::Publishing || s.role == StreamRole::PublishPending {
                return Err(SessionError::Protocol(format!(
                    "play on stream {stream_id}, which is publishing"
                )));
            }
            // A play on a playing stream switches it (play with reset, as Flash does).
            s.role = StreamRole::PlayPending;
            s.name = request.name.clone();
        }
        self.events.push_back(ServerEvent::PlayRequested(request));
        Ok(())
    }

    /// Starts a pending play: Stream Begin, `NetStream.Play.Reset`, `NetStream.Play.Start`,
    /// `|RtmpSampleAccess` and `NetStream.Data.Start`, as FMS and SRS send them. Media follows
    /// with [`ServerSession::send_media`] or [`ServerSession::send_prepared`].
    pub fn accept_play(&mut self, stream_id: u32) -> Result<(), SessionError> {
        let name = self.take_pending(stream_id, StreamRole::PlayPending, StreamRole::Playing)?;
        self.send_user_control(UserControlEvent::StreamBegin { stream_id })?;
        let desc = format!("Playing and resetting {name}.");
        self.send_status(
            stream_id,
            StatusInfo::new(level::STATUS, status::PLAY_RESET, &desc)
                .with("details", Amf0Value::string(name.clone())),
        )?;
        let desc = format!("Started playing {name}.");
        self.send_status(
            stream_id,
            StatusInfo::new(level::STATUS, status::PLAY_START, &desc)
                .with("details", Amf0Value::string(name)),
        )?;
        let access = DataMessage::new(
            "|RtmpSampleAccess",
            vec![Amf0Value::Boolean(true), Amf0Value::Boolean(true)],
        );
        self.send_data(stream_id, 0, &access)?;
        let start = DataMessage::new(
            "onStatus",
            vec![Amf0Value::object([(
                "code",
                Amf0Value::string(status::DATA_START),
            )])],
        );
        self.send_data(stream_id, 0, &start)?;
        self.resume()
    }

    /// Refuses a pending play (e.g. `NetStream.Play.StreamNotFound`).
    pub fn reject_play(
        &mut self,
        stream_id: u32,
        code: &str,
        description: &str,
    ) -> Result<(), SessionError> {
        self.take_pending(stream_id, StreamRole::PlayPending, StreamRole::Idle)?;
        self.send_status(stream_id, StatusInfo::new(level::ERROR, code, description))?;
        self.resume()
    }

    fn take_pending(
        &mut self,
        stream_id: u32,
        pending: StreamRole,
        next: StreamRole,
    ) -> Result<String, SessionError> {
        let s = self
            .streams
            .get_mut(&stream_id)
            .ok_or(SessionError::UnknownStream(stream_id))?;
        if s.role != pending {
            return Err(SessionError::Protocol(format!(
                "stream {stream_id} has no pending request to answer"
            )));
        }
        s.role = next;
        Ok(s.name.clone())
    }

    /// Tells a player the publisher left: `NetStream.Play.UnpublishNotify` and Stream EOF.
    pub fn send_unpublish_notify(&mut self, stream_id: u32) -> Result<(), SessionError> {
        let name = self.stream_name(stream_id);
        let desc = format!("{name} is now unpublished.");
        self.send_status(
            stream_id,
            StatusInfo::new(level::STATUS, status::PLAY_UNPUBLISH_NOTIFY, &desc),
        )?;
        self.send_user_control(UserControlEvent::StreamEof { stream_id })
    }

    /// Tells a player a publisher (re)started: Stream Begin and `NetStream.Play.PublishNotify`.
    pub fn send_publish_notify(&mut self, stream_id: u32) -> Result<(), SessionError> {
        let name = self.stream_name(stream_id);
        self.send_user_control(UserControlEvent::StreamBegin { stream_id })?;
        let desc = format!("{name} is now published.");
        self.send_status(
            stream_id,
            StatusInfo::new(level::STATUS, status::PLAY_PUBLISH_NOTIFY, &desc),
        )
    }

    /// Ends a play: `NetStream.Play.Stop` and Stream EOF.
    pub fn send_play_stop(&mut self, stream_id: u32) -> Result<(), SessionError> {
        let name = self.stream_name(stream_id);
        let desc = format!("Stopped playing {name}.");
        self.send_status(
            stream_id,
            StatusInfo::new(level::STATUS, status::PLAY_STOP, &desc),
        )?;
        self.send_user_control(UserControlEvent::StreamEof { stream_id })
    }

    /// Asks an Enhanced RTMP client to reconnect (e.g. before shutdown), optionally elsewhere.
    pub fn request_reconnect(
        &mut self,
        tc_url: Option<&str>,
        description: &str,
    ) -> Result<(), SessionError> {
        let mut info = StatusInfo::new(
            level::STATUS,
            status::CONNECT_RECONNECT_REQUEST,
            description,
        );
        if let Some(url) = tc_url {
            info = info.with("tcUrl", Amf0Value::string(url));
        }
        self.send_command(csid::CONNECTION, 0, &Command::on_status_info(&info))
    }

    /// Sends an `onStatus` on a message stream.
    pub fn send_status(&mut self, stream_id: u32, info: StatusInfo) -> Result<(), SessionError> {
        self.send_command(csid::STREAM, stream_id, &Command::on_status_info(&info))
    }

    /// Sends a User Control event.
    pub fn send_user_control(&mut self, event: UserControlEvent) -> Result<(), SessionError> {
        self.link
            .send(csid::CONTROL, 0, 0, &Message::UserControl(event))
    }

    /// Sends audio or video to a player (serialized for this connection only).
    pub fn send_media(
        &mut self,
        stream_id: u32,
        kind: MediaKind,
        timestamp: u32,
        payload: &[u8],
    ) -> Result<(), SessionError> {
        self.link
            .send_payload(kind.csid(), timestamp, stream_id, kind.type_id(), payload)
    }

    /// Sends a data message (metadata) to a player.
    pub fn send_data(
        &mut self,
        stream_id: u32,
        timestamp: u32,
        data: &DataMessage,
    ) -> Result<(), SessionError> {
        self.link.send(
            csid::STREAM,
            timestamp,
            stream_id,
            &Message::Data(data.clone()),
        )
    }

    /// Queues chunks serialized once for many players (format 0 first chunk on `csid`, at this
    /// session's chunk size).
    pub fn send_prepared(&mut self, csid: u32, chunks: Bytes) {
        self.link.send_prepared(csid, chunks);
    }

    /// Like [`send_prepared`](Self::send_prepared) for chunks the application writes to the
    /// transport itself (from a file, say), right after everything [`poll_transmit`]
    /// (Self::poll_transmit) has given so far: only forgets what the writer remembers of `csid`,
    /// so that the next message on it starts with a format 0 chunk.
    pub fn sent_prepared_elsewhere(&mut self, csid: u32) {
        self.link.sent_prepared_elsewhere(csid);
    }

    fn stream_name(&self, stream_id: u32) -> String {
        self.streams
            .get(&stream_id)
            .map(|s| s.name.clone())
            .unwrap_or_default()
    }

    /// Ends whatever a stream does and tells the application.
    fn stop_stream(&mut self, stream_id: u32) {
        let Some(s) = self.streams.get_mut(&stream_id) else {
            return;
        };
        let event = match s.role {
            StreamRole::Publishing | StreamRole::PublishPending => {
                ServerEvent::PublishStopped { stream_id }
            }
            StreamRole::Playing | StreamRole::PlayPending => ServerEvent::PlayStopped { stream_id },
            StreamRole::Idle => return,
        };
        s.role = StreamRole::Idle;
        self.events.push_back(event);
    }

    fn send_command(
        &mut self,
        csid: u32,
        stream_id: u32,
        command: &Command,
    ) -> Result<(), SessionError> {
        let message = if self.amf3_commands {
            Message::CommandAmf3(command.clone())
        } else {
            Message::Command(command.clone())
        };
        self.link.send(csid, 0, stream_id, &message)
    }

    fn send_result(&mut self, tid: f64, value: Amf0Value) -> Result<(), SessionError> {
        // Transaction 0 is a notification: nobody waits for an answer.
        if tid == 0.0 {
            return Ok(());
        }
        let result = Command::result(tid, Amf0Value::Null, vec![value]);
        self.send_command(csid::CONNECTION, 0, &result)
    }

    fn send_error(&mut self, tid: f64, description: &str) -> Result<(), SessionError> {
        if tid == 0.0 {
            return Ok(());
        }
        let info = StatusInfo::new(level::ERROR, status::CALL_FAILED, description);
        let error = Command::error(tid, Amf0Value::Null, info.to_object());
        self.send_command(csid::CONNECTION, 0, &error)
    }
}

/// Splits `name?query` into the name and the query.
fn split_query(stream_name: &str) -> (String, Option<String>) {
    match stream_name.split_once('?') {
        Some((name, query)) => (name.to_owned(), Some(query.to_owned())),
        None => (stream_name.to_owned(), None),
    }
}
