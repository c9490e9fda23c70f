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

use crate::config::ServerConfig;
use crate::connection::{ConnectionContext, Ending, serve_connection};
use crate::hub::{Hub, HubConfig};

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
}

/// A server with its listening socket open (so the caller knows the bound address before it
/// runs, e.g. with port 0 in tests).
pub struct Server {
    config: Arc<ServerConfig>,
    hub: Hub,
    rtmp: TcpListener,
}

impl Server {
    /// Opens the listening socket.
    pub async fn bind(config: ServerConfig) -> Result<Server, StartError> {
        let rtmp = bind(config.listen).await?;
        let hub = Hub::new(HubConfig::from(&config));
        Ok(Server {
            config: Arc::new(config),
            hub,
            rtmp,
        })
    }

    /// The RTMP address actually bound.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.rtmp.local_addr()
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
        let permits = Arc::new(Semaphore::new(self.config.max_connections));
        let ids = AtomicU64::new(1);
        let mut tasks = JoinSet::new();
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                accepted = self.rtmp.accept() => {
                    let (socket, peer) = match accepted {
                        Ok(a) => a,
                        Err(e) => {
                            // Out of file descriptors and the like: back off instead of spinning.
                            tracing::warn!(error = %e, "accept failed");
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    };
                    let id = ids.fetch_add(1, Ordering::Relaxed);
                    let Ok(permit) = permits.clone().try_acquire_owned() else {
                        tracing::warn!(conn = id, %peer, limit = self.config.max_connections, "connection refused: too many connections");
                        drop(socket);
                        continue;
                    };
                    let ctx = ctx.clone();
                    tasks.spawn(async move {
                        let _permit = permit;
                        handle(ctx, socket, peer, id).await;
                    });
                }
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            }
        }
        tracing::info!(connections = tasks.len(), "shutting down");
        let _ = stop_tx.send(true);
        let _ = tokio::time::timeout(SHUTDOWN_GRACE, async {
            while tasks.join_next().await.is_some() {}
        })
        .await;
        tasks.abort_all();
    }
}

async fn handle(ctx: ConnectionContext, socket: TcpStream, peer: SocketAddr, id: u64) {
    let _ = socket.set_nodelay(true);
    tracing::debug!(conn = id, %peer, "accepted");
    let ending = serve_connection(ctx, socket, peer, id).await;
    match &ending {
        Ending::PeerClosed | Ending::Shutdown => {
            tracing::info!(conn = id, %peer, "connection ended: {ending}")
        }
        _ => tracing::warn!(conn = id, %peer, "connection closed: {ending}"),
    }
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, StartError> {
    TcpListener::bind(addr).await.map_err(|source| {
        if source.kind() == std::io::ErrorKind::AddrInUse {
            StartError::AddressInUse { addr }
        } else {
            StartError::Bind { addr, source }
        }
    })
}
