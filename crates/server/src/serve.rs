//! The server: listeners, the accept loop, the connection limit and graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

use tokio_rustls::TlsAcceptor;

use crate::config::ServerConfig;
use crate::connection::{ConnectionContext, Ending, serve_connection};
use crate::hub::{Hub, HubConfig};
use crate::tls::{TlsSetupError, acceptor};

/// Longest wait for connections to say goodbye after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on {addr}: the address is already in use (is another server running?)")]
    AddressInUse { addr: SocketAddr },
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("RTMPS: {0}")]
    Tls(#[from] TlsSetupError),
}

/// A server with its listening socket open (so the caller knows the bound address before it
/// runs, e.g. with port 0 in tests).
pub struct Server {
    config: Arc<ServerConfig>,
    hub: Hub,
    rtmp: TcpListener,
    rtmps: Option<(TcpListener, TlsAcceptor)>,
    http: TcpListener,
}

impl Server {
    /// Opens the listening socket.
    pub async fn bind(config: ServerConfig) -> Result<Server, StartError> {
        // The TLS files are read first: a bad certificate should not leave a port bound.
        let tls = match (config.rtmps_listen, &config.tls_cert, &config.tls_key) {
            (None, _, _) => None,
            (Some(addr), Some(cert), Some(key)) => Some((addr, acceptor(cert, key)?)),
            (Some(_), _, _) => return Err(TlsSetupError::MissingFiles.into()),
        };
        let rtmp = bind(config.listen).await?;
        let rtmps = match tls {
            Some((addr, acceptor)) => Some((bind(addr).await?, acceptor)),
            None => None,
        };
        let http = bind(config.http_listen).await?;
        raise_open_file_limit(config.max_connections);
        let hub = Hub::new(HubConfig::from(&config));
        Ok(Server {
            config: Arc::new(config),
            hub,
            rtmp,
            rtmps,
            http,
        })
    }

    /// The RTMP address actually bound.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.rtmp.local_addr()
    }

    /// The HTTP address actually bound (HTTP-FLV, WebSocket-FLV, HLS).
    pub fn http_addr(&self) -> std::io::Result<SocketAddr> {
        self.http.local_addr()
    }

    /// The RTMPS address actually bound, if RTMPS is on.
    pub fn rtmps_addr(&self) -> Option<SocketAddr> {
        self.rtmps.as_ref().and_then(|(l, _)| l.local_addr().ok())
    }

    /// The stream registry (for status pages and tests).
    pub fn hub(&self) -> &Hub {
        &self.hub
    }

    /// Serves until `shutdown` completes, then tells every peer goodbye and waits (bounded) for
    /// the connections to end.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let (stop_tx, stop_rx) = watch::channel(false);
        let ctx = ConnectionContext {
            config: self.config.clone(),
            hub: self.hub.clone(),
            shutdown: stop_rx,
            epoch: Instant::now(),
        };
        let http = tokio::spawn(crate::outputs::http::serve(
            self.http,
            self.hub.clone(),
            self.config.clone(),
            ctx.shutdown.clone(),
        ));
        let push = crate::outputs::start_push_outputs(
            &self.hub,
            self.config.clone(),
            ctx.shutdown.clone(),
        );
        let permits = Arc::new(Semaphore::new(self.config.max_connections));
        let ids = AtomicU64::new(1);
        let mut tasks = JoinSet::new();
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                accepted = self.rtmp.accept() => {
                    let Some((socket, peer, id, permit)) = admit(accepted, &ids, &permits, &self.config).await else {
                        continue;
                    };
                    let ctx = ctx.clone();
                    tasks.spawn(async move {
                        let _permit = permit;
                        handle(ctx, socket, peer, id).await;
                    });
                }
                accepted = accept_tls(&self.rtmps) => {
                    let Some((socket, peer, id, permit)) = admit(accepted, &ids, &permits, &self.config).await else {
                        continue;
                    };
                    let Some((_, acceptor)) = &self.rtmps else {
                        continue;
                    };
                    let (ctx, acceptor) = (ctx.clone(), acceptor.clone());
                    tasks.spawn(async move {
                        let _permit = permit;
                        handle_tls(ctx, acceptor, socket, peer, id).await;
                    });
                }
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            }
        }
        tracing::info!(connections = tasks.len(), "shutting down");
        let _ = stop_tx.send(true);
        let _ = tokio::time::timeout(SHUTDOWN_GRACE, async {
            while tasks.join_next().await.is_some() {}
            // Recordings are flushed and closed before the process ends.
            let _ = push.await;
            if let Ok(Err(e)) = http.await {
                tracing::warn!(error = %e, "HTTP listener failed");
            }
        })
        .await;
        tasks.abort_all();
    }
}

type Admitted = (
    TcpStream,
    SocketAddr,
    u64,
    tokio::sync::OwnedSemaphorePermit,
);

/// Numbers an accepted connection and takes a connection permit for it, or refuses it.
async fn admit(
    accepted: std::io::Result<(TcpStream, SocketAddr)>,
    ids: &AtomicU64,
    permits: &Arc<Semaphore>,
    config: &ServerConfig,
) -> Option<Admitted> {
    let (socket, peer) = match accepted {
        Ok(a) => a,
        Err(e) => {
            // Out of file descriptors and the like: back off instead of spinning.
            tracing::warn!(error = %e, "accept failed");
            tokio::time::sleep(Duration::from_millis(50)).await;
            return None;
        }
    };
    let id = ids.fetch_add(1, Ordering::Relaxed);
    let Ok(permit) = permits.clone().try_acquire_owned() else {
        tracing::warn!(conn = id, %peer, limit = config.max_connections, "connection refused: too many connections");
        return None;
    };
    let _ = socket.set_nodelay(true);
    Some((socket, peer, id, permit))
}

async fn accept_tls(
    rtmps: &Option<(TcpListener, TlsAcceptor)>,
) -> std::io::Result<(TcpStream, SocketAddr)> {
    match rtmps {
        Some((listener, _)) => listener.accept().await,
        None => std::future::pending().await,
    }
}

async fn handle_tls(
    ctx: ConnectionContext,
    acceptor: TlsAcceptor,
    socket: TcpStream,
    peer: SocketAddr,
    id: u64,
) {
    let limit = ctx.config.handshake_timeout;
    match tokio::time::timeout(limit, acceptor.accept(socket)).await {
        Ok(Ok(stream)) => {
            tracing::debug!(conn = id, %peer, "TLS established");
            let (reader, writer) = tokio::io::split(stream);
            log_ending(
                id,
                peer,
                serve_connection(ctx, reader, writer, peer, id).await,
            );
        }
        Ok(Err(e)) => tracing::warn!(conn = id, %peer, "TLS handshake failed: {e}"),
        Err(_) => {
            tracing::warn!(conn = id, %peer, "TLS handshake failed: no handshake within {} ms", limit.as_millis())
        }
    }
}

async fn handle(ctx: ConnectionContext, socket: TcpStream, peer: SocketAddr, id: u64) {
    tracing::debug!(conn = id, %peer, "accepted");
    // Halves with no lock between reading and writing, unlike `tokio::io::split`.
    let (reader, writer) = crate::socket::split(socket);
    log_ending(
        id,
        peer,
        serve_connection(ctx, reader, writer, peer, id).await,
    );
}

/// Raises the soft limit on open files to the hard limit, as nginx's `worker_rlimit_nofile`
/// does, so that a default soft limit of 1024 does not cut `max_connections` short (every
/// connection is a file, and so are the streams' frame files); warns when even the hard limit
/// is below what `max_connections` needs.
#[cfg(target_os = "linux")]
fn raise_open_file_limit(max_connections: usize) {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    // An unlimited hard limit still stops at the kernel's nr_open.
    let ceiling = limit.maximum.unwrap_or_else(|| {
        std::fs::read_to_string("/proc/sys/fs/nr_open")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(1 << 20)
    });
    let mut soft = limit.current.unwrap_or(ceiling);
    if soft < ceiling {
        let raised = Rlimit {
            current: Some(ceiling),
            maximum: limit.maximum,
        };
        match setrlimit(Resource::Nofile, raised) {
            Ok(()) => {
                tracing::debug!(from = soft, to = ceiling, "raised the open file limit");
                soft = ceiling;
            }
            Err(e) => tracing::debug!("cannot raise the open file limit from {soft}: {e}"),
        }
    }
    // The listeners, frame files, recordings and HLS segments need some beyond connections.
    let wanted = max_connections as u64 + 256;
    if soft < wanted {
        tracing::warn!(
            "open files are limited to {soft}: fewer than max_connections ({max_connections}) \
             connections can be accepted; raise the limit (ulimit -n) or lower max_connections"
        );
    }
}

#[cfg(not(target_os = "linux"))]
fn raise_open_file_limit(_max_connections: usize) {}

fn log_ending(id: u64, peer: SocketAddr, ending: Ending) {
    match &ending {
        Ending::PeerClosed | Ending::Shutdown => {
            tracing::info!(conn = id, %peer, "connection ended: {ending}")
        }
        _ => tracing::warn!(conn = id, %peer, "connection closed: {ending}"),
    }
}

/// Pending connections the kernel queues before the accept loop takes them: enough for a
/// thousand players arriving at once (tokio's default of 128 makes the rest retry a second later).
const LISTEN_BACKLOG: u32 = 1024;

async fn bind(addr: SocketAddr) -> Result<TcpListener, StartError> {
    let classify = |source: std::io::Error| {
        if source.kind() == std::io::ErrorKind::AddrInUse {
            StartError::AddressInUse { addr }
        } else {
            StartError::Bind { addr, source }
        }
    };
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()
    } else {
        tokio::net::TcpSocket::new_v6()
    }
    .map_err(classify)?;
    // A restarted server can bind again while old connections sit in TIME_WAIT.
    socket.set_reuseaddr(true).map_err(classify)?;
    socket.bind(addr).map_err(classify)?;
    socket.listen(LISTEN_BACKLOG).map_err(classify)
}
