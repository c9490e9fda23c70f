//! One RTMP connection driven over a transport: the sans-I/O [`ClientSession`] fed by a reader
//! task, its output written with timeouts.

use std::io;

use bytes::{Bytes, BytesMut};
use rtmpkit_proto::amf::Amf0Value;
use rtmpkit_proto::rtmp::session::{ClientConfig, ClientEvent, ClientSession, SessionError};
use tokio::io::{AsyncReadExt, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::error::ClientError;
use crate::options::ConnectOptions;
use crate::transport::{BoxTransport, open_transport};
use crate::url::RtmpUrl;

/// Buffers smaller than this are gathered into one write.
const COALESCE_LIMIT: usize = 16 * 1024;
/// Read buffer size of the reader task.
const READ_CHUNK: usize = 64 * 1024;

/// A connected RTMP session and its transport.
pub(crate) struct Connection {
    session: ClientSession,
    writer: WriteHalf<BoxTransport>,
    incoming: mpsc::Receiver<io::Result<Bytes>>,
    reader: JoinHandle<()>,
    target: String,
    options: ConnectOptions,
    bytes_sent: u64,
    bytes_received: u64,
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

async fn read_loop(mut reader: ReadHalf<BoxTransport>, tx: mpsc::Sender<io::Result<Bytes>>) {
    let mut buf = BytesMut::new();
    loop {
        buf.reserve(READ_CHUNK);
        match reader.read_buf(&mut buf).await {
            Ok(0) => {
                let _ = tx.send(Ok(Bytes::new())).await;
                return;
            }
            Ok(_) => {
                if tx.send(Ok(buf.split().freeze())).await.is_err() {
                    return;
                }
            }
            Err(e) => {
                let _ = tx.send(Err(e)).await;
                return;
            }
        }
    }
}

/// The connect command's fields from the options.
pub(crate) fn apply_options(config: &mut ClientConfig, options: &ConnectOptions) {
    if let Some(v) = &options.flash_ver {
        config.connect.flash_ver = Some(v.clone());
    }
    if let Some(v) = &options.swf_url {
        config.connect.swf_url = Some(v.clone());
    }
    if let Some(v) = &options.page_url {
        config.connect.page_url = Some(v.clone());
    }
    config.connect.arguments = options.connect_args.clone();
    if options.advertise_reconnect {
        // Enhanced RTMP capsEx bit 0x01: the client can reconnect on request.
        config.connect.caps_ex = Some(1.0);
    }
    config.handshake = options.handshake.clone();
    config.chunk_size = options.chunk_size;
}

impl Connection {
    /// Connects, handshakes and sends `connect`; returns once the server accepted it, with the
    /// server's properties (`fmsVer`, `capabilities`).
    pub async fn open(
        url: &RtmpUrl,
        options: &ConnectOptions,
        config: ClientConfig,
    ) -> Result<(Connection, Amf0Value), ClientError> {
        let target = format!("{}:{}", url.host, url.port);
        let transport = open_transport(url, options).await?;
        let (read_half, writer) = tokio::io::split(transport);
        let (tx, incoming) = mpsc::channel(16);
        let reader = tokio::spawn(read_loop(read_half, tx));
        let session = ClientSession::new(config, 0, &mut rand::rng());
        let mut conn = Connection {
            session,
            writer,
            incoming,
            reader,
            target,
            options: options.clone(),
            bytes_sent: 0,
            bytes_received: 0,
        };
        conn.flush().await?;
        let deadline = Instant::now() + options.connect_timeout;
        loop {
            match conn
                .next_event_until(deadline, "RTMP handshake and connect")
                .await?
            {
                ClientEvent::HandshakeComplete(summary) => {
                    tracing::debug!(target = %conn.target, ?summary, "handshake complete");
                }
                ClientEvent::Connected { properties, .. } => {
                    tracing::debug!(target = %conn.target, app = %url.app, "connected");
                    return Ok((conn, properties));
                }
                ClientEvent::ConnectRejected { code, description } => {
                    return Err(ClientError::ConnectRejected {
                        target: conn.target.clone(),
                        app: url.app.clone(),
                        code,
                        description,
                    });
                }
                other => tracing::trace!(?other, "before connect"),
            }
        }
    }

    pub fn target(&self) -> &str {
        &self.target
    }

    pub fn session(&mut self) -> &mut ClientSession {
        &mut self.session
    }

    pub fn bytes_sent(&self) -> u64 {
        self.bytes_sent
    }

    pub fn bytes_received(&self) -> u64 {
        self.bytes_received
    }

    pub fn session_error(&self, source: SessionError) -> ClientError {
        ClientError::Session {
            target: self.target.clone(),
            source,
        }
    }

    async fn write(&mut self, data: &[u8]) -> Result<(), ClientError> {
        let after = self.options.write_timeout;
        match tokio::time::timeout(after, self.writer.write_all(data)).await {
            Ok(Ok(())) => {
                self.bytes_sent += data.len() as u64;
                Ok(())
            }
            Ok(Err(source)) => Err(ClientError::Io {
                target: self.target.clone(),
                source,
            }),
            Err(_) => Err(ClientError::Timeout {
                target: self.target.clone(),
                what: "write",
                after,
            }),
        }
    }

    /// Writes everything the session has queued; small buffers go out in one write.
    pub async fn flush(&mut self) -> Result<(), ClientError> {
        let mut batch = BytesMut::new();
        while let Some(bytes) = self.session.poll_transmit() {
            if bytes.len() >= COALESCE_LIMIT {
                if !batch.is_empty() {
                    let b = batch.split();
                    self.write(&b).await?;
                }
                self.write(&bytes).await?;
            } else {
                batch.extend_from_slice(&bytes);
            }
        }
        if !batch.is_empty() {
            self.write(&batch).await?;
        }
        if self.session.queued_bytes() == 0 {
            // Push TLS records and TCP segments out now rather than on the next write.
            let after = self.options.write_timeout;
            let _ = tokio::time::timeout(after, self.writer.flush()).await;
        }
        Ok(())
    }

    fn feed(&mut self, arrived: Option<io::Result<Bytes>>, what: &str) -> Result<(), ClientError> {
        match arrived {
            Some(Ok(bytes)) if !bytes.is_empty() => {
                self.bytes_received += bytes.len() as u64;
                self.session
                    .feed(&bytes)
                    .map_err(|source| ClientError::Session {
                        target: self.target.clone(),
                        source,
                    })
            }
            Some(Err(source)) => Err(ClientError::Io {
                target: self.target.clone(),
                source,
            }),
            Some(Ok(_)) | None => Err(ClientError::Closed {
                target: self.target.clone(),
                context: if what.is_empty() {
                    String::new()
                } else {
                    format!(" {what}")
                },
            }),
        }
    }

    /// Feeds whatever has arrived, without waiting. Events stay queued in the session.
    pub fn feed_ready(&mut self) -> Result<(), ClientError> {
        loop {
            match self.incoming.try_recv() {
                Ok(arrived) => self.feed(Some(arrived), "")?,
                Err(mpsc::error::TryRecvError::Empty) => return Ok(()),
                Err(mpsc::error::TryRecvError::Disconnected) => return self.feed(None, ""),
            }
        }
    }

    /// The next event, reading (and answering) as needed until `deadline`.
    pub async fn next_event_until(
        &mut self,
        deadline: Instant,
        what: &'static str,
    ) -> Result<ClientEvent, ClientError> {
        loop {
            if let Some(event) = self.session.poll_event() {
                return Ok(event);
            }
            self.flush().await?;
            match tokio::time::timeout_at(deadline, self.incoming.recv()).await {
                Ok(arrived) => self.feed(arrived, &format!("during {what}"))?,
                Err(_) => {
                    return Err(ClientError::Timeout {
                        target: self.target.clone(),
                        what,
                        after: self.options.connect_timeout,
                    });
                }
            }
        }
    }

    /// The next event, waiting at most the read timeout for each piece of data.
    pub async fn next_event(&mut self, what: &'static str) -> Result<ClientEvent, ClientError> {
        loop {
            if let Some(event) = self.session.poll_event() {
                return Ok(event);
            }
            self.flush().await?;
            let after = self.options.read_timeout;
            match tokio::time::timeout(after, self.incoming.recv()).await {
                Ok(arrived) => self.feed(arrived, &format!("during {what}"))?,
                Err(_) => {
                    return Err(ClientError::Timeout {
                        target: self.target.clone(),
                        what,
                        after,
                    });
                }
            }
        }
    }

    /// Sends what is queued and closes the transport (TLS close_notify, TCP FIN).
    pub async fn close(mut self) -> Result<(), ClientError> {
        self.flush().await?;
        let after = self.options.write_timeout;
        let _ = tokio::time::timeout(after, self.writer.shutdown()).await;
        Ok(())
    }
}
