//! Playing a stream: connect, `createStream`, `play(name, start)`, Set Buffer Length — the
//! sequence ffplay sends (seed 001) — then metadata and media until the stream ends.

use bytes::Bytes;
use rtmpkit_proto::rtmp::message::{DataMessage, status};
use rtmpkit_proto::rtmp::session::client::StatusEvent;
use rtmpkit_proto::rtmp::session::{ClientConfig, ClientEvent, MediaKind};
use tokio::time::Instant;

use crate::connection::{Connection, apply_options};
use crate::error::ClientError;
use crate::options::{ConnectOptions, PlayOptions};
use crate::publisher::refused;
use crate::url::RtmpUrl;

/// Why a played stream ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndReason {
    /// User Control Stream EOF.
    StreamEof,
    /// `NetStream.Play.UnpublishNotify`: the publisher stopped.
    UnpublishNotify,
    /// `NetStream.Play.Stop` (or `NetStream.Play.Complete`).
    PlayStop,
    /// The server closed the connection after media had arrived.
    ConnectionClosed,
}

/// What arrived on a played stream.
#[derive(Debug, Clone, PartialEq)]
pub enum PlayEvent {
    /// A data message: `onMetaData` and others (`onTextData`, `|RtmpSampleAccess`, …).
    Data { timestamp: u32, data: DataMessage },
    /// An audio or video message: an FLV tag body.
    Media {
        kind: MediaKind,
        timestamp: u32,
        payload: Bytes,
    },
    /// An `onStatus` that neither ends nor fails the stream (`Play.Reset`, `Play.Start`,
    /// `Play.PublishNotify`, …).
    Status(StatusEvent),
    /// Enhanced RTMP: the server asks us to reconnect, possibly to `tc_url`.
    ReconnectRequested {
        tc_url: Option<String>,
        description: String,
    },
    /// The stream ended; every later call returns this again.
    End(EndReason),
}

/// A player on one RTMP connection.
pub struct Player {
    conn: Connection,
    url: RtmpUrl,
    stream_id: u32,
    media_seen: bool,
    ended: Option<EndReason>,
}

impl Player {
    /// Connects and asks to play `url.stream`; returns once the server answered the play (or
    /// started sending). `NetStream.Play.StreamNotFound` and other errors are
    /// [`ClientError::Refused`].
    pub async fn connect(
        url: &RtmpUrl,
        options: &ConnectOptions,
        play: &PlayOptions,
    ) -> Result<Player, ClientError> {
        let mut config = ClientConfig::player(&url.app, &url.tc_url);
        apply_options(&mut config, options);
        let (mut conn, _) = Connection::open(url, options, config).await?;
        let deadline = Instant::now() + options.connect_timeout;
        conn.session()
            .create_stream()
            .map_err(|e| conn.session_error(e))?;
        let stream_id = loop {
            match conn.next_event_until(deadline, "createStream").await? {
                ClientEvent::StreamCreated { stream_id, .. } => break stream_id,
                other => tracing::trace!(?other, "waiting for createStream"),
            }
        };
        let session = conn.session();
        let queued = session
            .play(stream_id, &url.stream, play.start, None, None)
            .and_then(|_| session.set_buffer_length(stream_id, play.buffer_ms));
        queued.map_err(|e| conn.session_error(e))?;
        conn.flush().await?;
        tracing::info!(target = %conn.target(), stream = %url.stream, stream_id, "playing");
        Ok(Player {
            conn,
            url: url.clone(),
            stream_id,
            media_seen: false,
            ended: None,
        })
    }

    /// The URL this player is connected to.
    pub fn url(&self) -> &RtmpUrl {
        &self.url
    }

    /// Bytes read from the transport so far.
    pub fn bytes_received(&self) -> u64 {
        self.conn.bytes_received()
    }

    /// The next thing that arrived on the stream. Waits at most the read timeout for data.
    /// Stream EOF and `UnpublishNotify` end the stream only once media has arrived (a server
    /// may announce them for a stream nobody publishes yet); `Play.Stop` always does.
    pub async fn next(&mut self) -> Result<PlayEvent, ClientError> {
        loop {
            if let Some(reason) = &self.ended {
                return Ok(PlayEvent::End(reason.clone()));
            }
            let event = match self.conn.next_event("play").await {
                Ok(e) => e,
                Err(ClientError::Closed { .. }) if self.media_seen => {
                    self.ended = Some(EndReason::ConnectionClosed);
                    continue;
                }
                Err(e) => return Err(e),
            };
            if let Some(event) = self.on_event(event)? {
                return Ok(event);
            }
        }
    }

    fn end(&mut self, reason: EndReason) -> Option<PlayEvent> {
        self.ended = Some(reason.clone());
        Some(PlayEvent::End(reason))
    }

    fn on_event(&mut self, event: ClientEvent) -> Result<Option<PlayEvent>, ClientError> {
        let ours = self.stream_id;
        Ok(match event {
            ClientEvent::Media {
                stream_id,
                kind,
                timestamp,
                payload,
            } if stream_id == ours => {
                self.media_seen = true;
                Some(PlayEvent::Media {
                    kind,
                    timestamp,
                    payload,
                })
            }
            ClientEvent::Data {
                stream_id,
                timestamp,
                data,
            } if stream_id == ours || stream_id == 0 => Some(PlayEvent::Data { timestamp, data }),
            ClientEvent::StreamEof { stream_id } if stream_id == ours && self.media_seen => {
                self.end(EndReason::StreamEof)
            }
            ClientEvent::Status(s) => match s.code.as_str() {
                status::PLAY_STOP | status::PLAY_COMPLETE => self.end(EndReason::PlayStop),
                status::PLAY_UNPUBLISH_NOTIFY if self.media_seen => {
                    self.end(EndReason::UnpublishNotify)
                }
                status::PLAY_STREAM_NOT_FOUND | status::PLAY_FAILED => {
                    return Err(refused(&self.conn, &self.url, "play", s));
                }
                _ if s.is_error() => return Err(refused(&self.conn, &self.url, "play", s)),
                _ => Some(PlayEvent::Status(s)),
            },
            ClientEvent::ReconnectRequested {
                tc_url,
                description,
            } => Some(PlayEvent::ReconnectRequested {
                tc_url,
                description,
            }),
            other => {
                tracing::trace!(?other, "while playing");
                None
            }
        })
    }

    /// `deleteStream` and close the connection.
    pub async fn close(mut self) -> Result<(), ClientError> {
        let id = self.stream_id;
        let deleted = self.conn.session().delete_stream(id);
        deleted.map_err(|e| self.conn.session_error(e))?;
        self.conn.close().await
    }
}
