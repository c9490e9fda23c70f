//! Publishing a live stream: connect, `releaseStream`, `FCPublish`, `createStream`,
//! `publish(name, 'live')`, then metadata and media — the sequence ffmpeg sends (seed 000).

use std::collections::VecDeque;

use rtmpkit_proto::amf::Amf0Value;
use rtmpkit_proto::rtmp::message::{DataMessage, PublishType, status};
use rtmpkit_proto::rtmp::session::client::StatusEvent;
use rtmpkit_proto::rtmp::session::{ClientConfig, ClientEvent, MediaKind};
use tokio::time::Instant;

use crate::connection::{Connection, apply_options};
use crate::error::ClientError;
use crate::options::ConnectOptions;
use crate::url::RtmpUrl;

/// Something the server said while we publish that is not an error.
#[derive(Debug, Clone, PartialEq)]
pub enum ServerNotice {
    /// Enhanced RTMP `NetConnection.Connect.ReconnectRequest`: reconnect, to `tc_url` if given.
    ReconnectRequested {
        tc_url: Option<String>,
        description: String,
    },
    /// An `onStatus` that is not an error (e.g. `NetStream.Publish.Idle`).
    Status(StatusEvent),
}

/// A live publisher on one RTMP connection.
pub struct Publisher {
    conn: Connection,
    url: RtmpUrl,
    stream_id: u32,
    notices: VecDeque<ServerNotice>,
}

impl Publisher {
    /// Connects and starts publishing `url.stream` as a live stream; returns once the server
    /// answered `NetStream.Publish.Start`. A refusal (e.g. `NetStream.Publish.BadName`) is
    /// [`ClientError::Refused`].
    pub async fn connect(
        url: &RtmpUrl,
        options: &ConnectOptions,
    ) -> Result<Publisher, ClientError> {
        let mut config = ClientConfig::publisher(&url.app, &url.tc_url);
        apply_options(&mut config, options);
        let (mut conn, _) = Connection::open(url, options, config).await?;
        let deadline = Instant::now() + options.connect_timeout;
        let session = conn.session();
        let queued = session
            .release_stream(&url.stream)
            .and_then(|_| session.fc_publish(&url.stream))
            .and_then(|_| session.create_stream());
        queued.map_err(|e| conn.session_error(e))?;
        let stream_id = loop {
            match conn.next_event_until(deadline, "createStream").await? {
                ClientEvent::StreamCreated { stream_id, .. } => break stream_id,
                ClientEvent::CallAnswered {
                    name,
                    success: false,
                    ..
                } if name == "createStream" => {
                    return Err(ClientError::Protocol {
                        target: conn.target().to_owned(),
                        what: "the server refused createStream".into(),
                    });
                }
                other => tracing::trace!(?other, "waiting for createStream"),
            }
        };
        conn.session()
            .publish(stream_id, &url.stream, &PublishType::Live)
            .map_err(|e| conn.session_error(e))?;
        loop {
            match conn.next_event_until(deadline, "publish").await? {
                ClientEvent::Status(s) if s.code == status::PUBLISH_START => break,
                ClientEvent::Status(s) if s.is_error() || is_refusal(&s.code) => {
                    return Err(refused(&conn, url, "publish", s));
                }
                other => tracing::trace!(?other, "waiting for NetStream.Publish.Start"),
            }
        }
        tracing::info!(target = %conn.target(), stream = %url.stream, stream_id, "publishing");
        Ok(Publisher {
            conn,
            url: url.clone(),
            stream_id,
            notices: VecDeque::new(),
        })
    }

    /// The URL this publisher is connected to.
    pub fn url(&self) -> &RtmpUrl {
        &self.url
    }

    /// The message stream id the server gave us.
    pub fn stream_id(&self) -> u32 {
        self.stream_id
    }

    /// Bytes written to the transport so far (handshake included).
    pub fn bytes_sent(&self) -> u64 {
        self.conn.bytes_sent()
    }

    /// Takes in what the server sent; an error status or a closed connection is an error.
    fn check_server(&mut self) -> Result<(), ClientError> {
        let fed = self.conn.feed_ready();
        while let Some(event) = self.conn.session().poll_event() {
            match event {
                ClientEvent::Status(s) if s.is_error() => {
                    return Err(refused(&self.conn, &self.url, "publish", s));
                }
                ClientEvent::Status(s) => self.notices.push_back(ServerNotice::Status(s)),
                ClientEvent::ReconnectRequested {
                    tc_url,
                    description,
                } => self.notices.push_back(ServerNotice::ReconnectRequested {
                    tc_url,
                    description,
                }),
                other => tracing::trace!(?other, "while publishing"),
            }
        }
        fed
    }

    /// The next notice from the server, if any arrived (checked on every send).
    pub fn poll_notice(&mut self) -> Option<ServerNotice> {
        self.notices.pop_front()
    }

    /// `@setDataFrame('onMetaData', metadata)`.
    pub async fn send_metadata(&mut self, metadata: Amf0Value) -> Result<(), ClientError> {
        self.send_data(0, &DataMessage::set_data_frame_metadata(metadata))
            .await
    }

    /// Any data message (type 18) on the stream.
    pub async fn send_data(
        &mut self,
        timestamp: u32,
        data: &DataMessage,
    ) -> Result<(), ClientError> {
        self.check_server()?;
        let id = self.stream_id;
        let sent = self.conn.session().send_data(id, timestamp, data);
        sent.map_err(|e| self.conn.session_error(e))?;
        self.conn.flush().await
    }

    /// An audio or video message: an FLV tag body (tag header byte(s) and codec data).
    pub async fn send_media(
        &mut self,
        kind: MediaKind,
        timestamp: u32,
        payload: &[u8],
    ) -> Result<(), ClientError> {
        self.check_server()?;
        let id = self.stream_id;
        let sent = self.conn.session().send_media(id, kind, timestamp, payload);
        sent.map_err(|e| self.conn.session_error(e))?;
        self.conn.flush().await
    }

    /// [`send_media`](Self::send_media) for audio.
    pub async fn send_audio(&mut self, timestamp: u32, payload: &[u8]) -> Result<(), ClientError> {
        self.send_media(MediaKind::Audio, timestamp, payload).await
    }

    /// [`send_media`](Self::send_media) for video.
    pub async fn send_video(&mut self, timestamp: u32, payload: &[u8]) -> Result<(), ClientError> {
        self.send_media(MediaKind::Video, timestamp, payload).await
    }

    /// Ends the publish as ffmpeg does (`FCUnpublish`, `deleteStream`) and closes the
    /// connection.
    pub async fn close(mut self) -> Result<(), ClientError> {
        let id = self.stream_id;
        let name = self.url.stream.clone();
        let session = self.conn.session();
        let queued = session
            .fc_unpublish(&name)
            .and_then(|_| session.delete_stream(id));
        queued.map_err(|e| self.conn.session_error(e))?;
        self.conn.close().await
    }
}

fn is_refusal(code: &str) -> bool {
    matches!(
        code,
        status::PUBLISH_BAD_NAME | status::STREAM_FAILED | status::PLAY_STREAM_NOT_FOUND
    )
}

pub(crate) fn refused(
    conn: &Connection,
    url: &RtmpUrl,
    action: &'static str,
    s: StatusEvent,
) -> ClientError {
    ClientError::Refused {
        target: conn.target().to_owned(),
        action,
        stream: url.stream.clone(),
        code: s.code,
        description: s.description,
    }
}
