//! The byte stream under RTMP: name resolution, TCP (directly or through a SOCKS proxy),
//! TCP_NODELAY, and TLS for `rtmps://` — librtmp's `RTMP_Connect0`/`RTMP_Connect1` path
//! (seed 003) before the handshake.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::error::ClientError;
use crate::options::ConnectOptions;
use crate::socks::socks_connect;
use crate::url::{RtmpUrl, Scheme};

/// A bidirectional byte stream (TCP or TLS over TCP).
pub trait Transport: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Transport for T {}

/// A boxed [`Transport`].
pub type BoxTransport = Box<dyn Transport>;

async fn within<T>(
    target: &str,
    what: &'static str,
    after: Duration,
    f: impl Future<Output = Result<T, ClientError>>,
) -> Result<T, ClientError> {
    match tokio::time::timeout(after, f).await {
        Ok(r) => r,
        Err(_) => Err(ClientError::Timeout {
            target: target.to_owned(),
            what,
            after,
        }),
    }
}

/// Resolves `host` (IPv4 and IPv6, in the resolver's order) and connects to the first address
/// that answers, each try bounded by the connect timeout.
async fn tcp_connect(host: &str, port: u16, timeout: Duration) -> Result<TcpStream, ClientError> {
    let target = format!("{host}:{port}");
    let addresses: Vec<SocketAddr> = within(&target, "name resolution", timeout, async {
        tokio::net::lookup_host((host, port))
            .await
            .map(Iterator::collect)
            .map_err(|source| ClientError::Resolve {
                host: host.to_owned(),
                source,
            })
    })
    .await?;
    let mut last = None;
    for address in &addresses {
        match tokio::time::timeout(timeout, TcpStream::connect(address)).await {
            Ok(Ok(stream)) => return Ok(stream),
            Ok(Err(e)) => {
                tracing::debug!(%address, error = %e, "connect failed");
                last = Some(ClientError::Connect {
                    target: address.to_string(),
                    source: e,
                });
            }
            Err(_) => {
                last = Some(ClientError::Timeout {
                    target: address.to_string(),
                    what: "TCP connect",
                    after: timeout,
                })
            }
        }
    }
    Err(last.unwrap_or_else(|| ClientError::Resolve {
        host: host.to_owned(),
        source: std::io::Error::new(std::io::ErrorKind::NotFound, "no addresses"),
    }))
}

/// Opens the stream to the server of `url`: TCP (through `options.socks` if set), then TLS for
/// `rtmps://`. The RTMP handshake is not done here.
pub async fn open_transport(
    url: &RtmpUrl,
    options: &ConnectOptions,
) -> Result<BoxTransport, ClientError> {
    let target = format!("{}:{}", url.host, url.port);
    let timeout = options.connect_timeout;
    // Checked first so that a bad CA file is reported before any network traffic.
    let tls = match url.scheme {
        Scheme::Rtmps => Some((
            crate::tls::client_config(&options.tls)?,
            crate::tls::server_name(&url.host, &options.tls)?,
        )),
        Scheme::Rtmp => None,
    };
    let tcp = match &options.socks {
        Some(proxy) => {
            let mut tcp = tcp_connect(&proxy.host, proxy.port, timeout).await?;
            within(&target, "SOCKS negotiation", timeout, async {
                socks_connect(&mut tcp, proxy, &url.host, url.port)
                    .await
                    .map_err(|source| ClientError::Socks {
                        proxy: proxy.to_string(),
                        source,
                    })
            })
            .await?;
            tcp
        }
        None => tcp_connect(&url.host, url.port, timeout).await?,
    };
    if let Err(e) = tcp.set_nodelay(options.nodelay) {
        tracing::warn!(%target, error = %e, "cannot set TCP_NODELAY");
    }
    match tls {
        None => Ok(Box::new(tcp)),
        Some((config, name)) => {
            let stream = within(&target, "TLS handshake", timeout, async {
                TlsConnector::from(config)
                    .connect(name, tcp)
                    .await
                    .map_err(|source| ClientError::Tls {
                        target: target.clone(),
                        source,
                    })
            })
            .await?;
            Ok(Box::new(stream))
        }
    }
}
