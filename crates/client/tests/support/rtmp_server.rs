//! A small in-process RTMP server on 127.0.0.1 driven by `rtmpkit_proto`'s `ServerSession`,
//! over TCP or TLS, that records what clients do and can misbehave on purpose (refuse, drop
//! the connection, ask for a reconnect).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use rtmpkit_proto::rtmp::message::{Command, DataMessage};
use rtmpkit_proto::rtmp::session::{MediaKind, ServerConfig, ServerEvent, ServerSession};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// What the server does.
#[derive(Clone, Default)]
pub struct Behaviour {
    /// Refuse every publish with this (code, description).
    pub reject_publish: Option<(String, String)>,
    /// Refuse every play with this (code, description).
    pub reject_play: Option<(String, String)>,
    /// To a player: this metadata and media, then UnpublishNotify and Stream EOF.
    pub play_metadata: Option<DataMessage>,
    pub play_media: Vec<(MediaKind, u32, Bytes)>,
    /// On the first connection: close it after this many audio/video messages arrived.
    pub drop_after: Option<usize>,
    /// On the first connection: after this many audio/video messages, ask the client to
    /// reconnect, to this tcUrl if given.
    pub reconnect_request: Option<(usize, Option<String>)>,
}

/// What one client connection did.
#[derive(Debug, Clone, Default)]
pub struct ConnectionLog {
    pub app: String,
    pub tc_url: Option<String>,
    pub flash_ver: Option<String>,
    pub supports_reconnect: bool,
    pub connect: Option<Command>,
    pub published: Option<String>,
    pub played: Option<String>,
    pub buffer_ms: Option<u32>,
    pub data: Vec<DataMessage>,
    pub media: Vec<(MediaKind, u32, Bytes)>,
    pub publish_stopped: bool,
    pub closed: bool,
}

pub struct TestServer {
    pub addr: SocketAddr,
    pub log: Arc<Mutex<Vec<ConnectionLog>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TestServer {
    /// Listens on 127.0.0.1 (any port), TLS if `tls` is given.
    pub async fn start(behaviour: Behaviour, tls: Option<TlsAcceptor>) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        Self::serve(listener, behaviour, tls)
    }

    /// Listens on [::1] (any port); `None` where the machine has no IPv6 loopback.
    pub async fn start_ipv6(behaviour: Behaviour) -> Option<TestServer> {
        let listener = TcpListener::bind("[::1]:0").await.ok()?;
        Some(Self::serve(listener, behaviour, None))
    }

    fn serve(listener: TcpListener, behaviour: Behaviour, tls: Option<TlsAcceptor>) -> TestServer {
        let addr = listener.local_addr().expect("local addr");
        let log: Arc<Mutex<Vec<ConnectionLog>>> = Arc::default();
        let task_log = log.clone();
        let task = tokio::spawn(async move {
            let mut index = 0;
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let log = task_log.clone();
                let behaviour = behaviour.clone();
                let slot = {
                    let mut l = log.lock().unwrap();
                    l.push(ConnectionLog::default());
                    l.len() - 1
                };
                let first = index == 0;
                index += 1;
                let tls = tls.clone();
                tokio::spawn(async move {
                    match tls {
                        Some(acceptor) => {
                            if let Ok(stream) = acceptor.accept(tcp).await {
                                serve(stream, behaviour, first, log, slot).await;
                            }
                        }
                        None => serve(tcp, behaviour, first, log, slot).await,
                    }
                });
            }
        });
        TestServer { addr, log, task }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn connections(&self) -> Vec<ConnectionLog> {
        self.log.lock().unwrap().clone()
    }
}

async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    behaviour: Behaviour,
    first: bool,
    log: Arc<Mutex<Vec<ConnectionLog>>>,
    slot: usize,
) {
    let (mut rd, mut wr) = tokio::io::split(stream);
    let mut session = ServerSession::new(ServerConfig::default(), 0, &mut rand::rng());
    let mut buf = vec![0u8; 64 * 1024];
    let mut media_count = 0usize;
    let update = |f: &mut dyn FnMut(&mut ConnectionLog)| {
        if let Some(c) = log.lock().unwrap().get_mut(slot) {
            f(c);
        }
    };
    'conn: loop {
        while let Some(out) = session.poll_transmit() {
            if wr.write_all(&out).await.is_err() {
                break 'conn;
            }
        }
        let n = match rd.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if session.feed(&buf[..n]).is_err() {
            break;
        }
        while let Some(event) = session.poll_event() {
            match event {
                ServerEvent::ConnectRequested(req) => {
                    update(&mut |c| {
                        c.app = req.app.clone();
                        c.tc_url = req.tc_url.clone();
                        c.flash_ver = req.flash_ver.clone();
                        c.supports_reconnect = req.supports_reconnect;
                        c.connect = Some(req.command.clone());
                    });
                    let _ = session.accept_connect();
                }
                ServerEvent::PublishRequested(req) => {
                    let name = match &req.query {
                        Some(q) => format!("{}?{q}", req.name),
                        None => req.name.clone(),
                    };
                    update(&mut |c| c.published = Some(name.clone()));
                    let _ = match &behaviour.reject_publish {
                        Some((code, desc)) => session.reject_publish(req.stream_id, code, desc),
                        None => session.accept_publish(req.stream_id),
                    };
                }
                ServerEvent::PlayRequested(req) => {
                    update(&mut |c| c.played = Some(req.name.clone()));
                    if let Some((code, desc)) = &behaviour.reject_play {
                        let _ = session.reject_play(req.stream_id, code, desc);
                        continue;
                    }
                    let id = req.stream_id;
                    let _ = session.accept_play(id);
                    if let Some(meta) = &behaviour.play_metadata {
                        let _ = session.send_data(id, 0, meta);
                    }
                    for (kind, ts, payload) in &behaviour.play_media {
                        let _ = session.send_media(id, *kind, *ts, payload);
                    }
                    let _ = session.send_unpublish_notify(id);
                }
                ServerEvent::Media {
                    kind,
                    timestamp,
                    payload,
                    ..
                } => {
                    update(&mut |c| c.media.push((kind, timestamp, payload.clone())));
                    media_count += 1;
                    if first && behaviour.drop_after == Some(media_count) {
                        break 'conn;
                    }
                    if let Some((after, tc_url)) = &behaviour.reconnect_request
                        && first
                        && *after == media_count
                    {
                        let _ = session.request_reconnect(tc_url.as_deref(), "please move");
                    }
                }
                ServerEvent::Data { data, .. } => update(&mut |c| c.data.push(data.clone())),
                ServerEvent::BufferLength { milliseconds, .. } => {
                    update(&mut |c| c.buffer_ms = Some(milliseconds))
                }
                ServerEvent::PublishStopped { .. } => update(&mut |c| c.publish_stopped = true),
                _ => {}
            }
        }
    }
    update(&mut |c| c.closed = true);
}

/// A self-signed certificate for `localhost` and 127.0.0.1: the TLS acceptor and the
/// certificate as PEM (for `--ca`).
pub fn tls_acceptor() -> (TlsAcceptor, String) {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
        .expect("rcgen certificate");
    let pem = cert.cert.pem();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(cert.signing_key.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocol versions")
    .with_no_client_auth()
    .with_single_cert(vec![cert.cert.der().clone()], key)
    .expect("server certificate");
    (TlsAcceptor::from(Arc::new(config)), pem)
}
