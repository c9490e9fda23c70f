//! SOCKS4a and SOCKS5 client handshakes (RFC 1928, RFC 1929 and the SOCKS4a extension): the
//! proxy resolves the host name, so a client behind a proxy needs no DNS of its own.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Which SOCKS protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocksVersion {
    /// SOCKS4 with the 4a extension (host names resolved by the proxy).
    V4a,
    /// SOCKS5, with no authentication or username/password.
    V5,
}

/// A SOCKS proxy: `host:port` (SOCKS5), `socks5://[user:password@]host:port` or
/// `socks4a://[user@]host:port` (`socks4://` is read as SOCKS4a). IPv6 hosts in brackets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocksProxy {
    pub version: SocksVersion,
    pub host: String,
    pub port: u16,
    /// SOCKS5 username (RFC 1929) or SOCKS4 user id.
    pub username: Option<String>,
    /// SOCKS5 password (RFC 1929).
    pub password: Option<String>,
}

/// What went wrong talking to the proxy.
#[derive(Debug, thiserror::Error)]
pub enum SocksError {
    #[error(
        "bad --socks '{0}': expected host:port, socks5://[user:password@]host:port or socks4a://host:port"
    )]
    BadProxy(String),
    #[error("SOCKS proxy: {0}")]
    Io(#[from] std::io::Error),
    #[error("SOCKS proxy answered with version {0} (not a SOCKS{1} proxy?)")]
    Version(u8, u8),
    #[error("SOCKS5 proxy accepts none of our authentication methods (offered: {0})")]
    NoAcceptableMethod(&'static str),
    #[error("SOCKS5 proxy refused the username/password")]
    AuthFailed,
    #[error("SOCKS proxy refused the connection to {target}: {reason}")]
    Refused { target: String, reason: String },
    #[error("SOCKS proxy cannot reach {target}: {what}")]
    Unsupported { target: String, what: &'static str },
}

impl FromStr for SocksProxy {
    type Err = SocksError;

    fn from_str(s: &str) -> Result<SocksProxy, SocksError> {
        let bad = || SocksError::BadProxy(s.into());
        let (version, rest) = match s.split_once("://") {
            Some((scheme, rest)) => match scheme.to_ascii_lowercase().as_str() {
                "socks5" | "socks5h" => (SocksVersion::V5, rest),
                "socks4" | "socks4a" => (SocksVersion::V4a, rest),
                _ => return Err(bad()),
            },
            None => (SocksVersion::V5, s),
        };
        let rest = rest.trim_end_matches('/');
        let (credentials, address) = match rest.rsplit_once('@') {
            Some((c, a)) => (Some(c), a),
            None => (None, rest),
        };
        let (username, password) = match credentials {
            None => (None, None),
            Some(c) => match c.split_once(':') {
                Some((u, p)) => (Some(u.to_owned()), Some(p.to_owned())),
                None => (Some(c.to_owned()), None),
            },
        };
        let (host, port) = if let Some(v6) = address.strip_prefix('[') {
            let (host, port) = v6.split_once("]:").ok_or_else(bad)?;
            (host, port)
        } else {
            address.rsplit_once(':').ok_or_else(bad)?
        };
        let port: u16 = port.parse().map_err(|_| bad())?;
        if host.is_empty() || port == 0 {
            return Err(bad());
        }
        Ok(SocksProxy {
            version,
            host: host.to_owned(),
            port,
            username,
            password,
        })
    }
}

impl fmt::Display for SocksProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.version {
            SocksVersion::V4a => "socks4a",
            SocksVersion::V5 => "socks5",
        };
        if self.host.contains(':') {
            write!(f, "{scheme}://[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{scheme}://{}:{}", self.host, self.port)
        }
    }
}

/// Asks the proxy on `stream` to connect to `host:port`; on success the stream carries the
/// connection to the target.
pub async fn socks_connect<S>(
    stream: &mut S,
    proxy: &SocksProxy,
    host: &str,
    port: u16,
) -> Result<(), SocksError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    match proxy.version {
        SocksVersion::V4a => socks4a(stream, proxy, host, port).await,
        SocksVersion::V5 => socks5(stream, proxy, host, port).await,
    }
}

async fn socks4a<S>(
    stream: &mut S,
    proxy: &SocksProxy,
    host: &str,
    port: u16,
) -> Result<(), SocksError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let target = format!("{host}:{port}");
    let mut request = vec![4, 1];
    request.extend_from_slice(&port.to_be_bytes());
    let by_name = match host.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => {
            request.extend_from_slice(&ip.octets());
            false
        }
        Ok(IpAddr::V6(_)) => {
            return Err(SocksError::Unsupported {
                target,
                what: "SOCKS4 has no IPv6 addresses (use socks5://)",
            });
        }
        // 0.0.0.x with x != 0 tells a SOCKS4a proxy that the host name follows the user id.
        Err(_) => {
            request.extend_from_slice(&[0, 0, 0, 1]);
            true
        }
    };
    request.extend_from_slice(proxy.username.as_deref().unwrap_or("").as_bytes());
    request.push(0);
    if by_name {
        request.extend_from_slice(host.as_bytes());
        request.push(0);
    }
    stream.write_all(&request).await?;
    let mut reply = [0u8; 8];
    stream.read_exact(&mut reply).await?;
    if reply[0] != 0 {
        return Err(SocksError::Version(reply[0], 4));
    }
    let reason = match reply[1] {
        0x5a => return Ok(()),
        0x5b => "request rejected or failed",
        0x5c => "the proxy cannot reach our identd",
        0x5d => "identd reported a different user id",
        _ => "unknown reply code",
    };
    Err(SocksError::Refused {
        target,
        reason: format!("{reason} (0x{:02x})", reply[1]),
    })
}

fn socks5_reply_meaning(code: u8) -> &'static str {
    match code {
        1 => "general SOCKS server failure",
        2 => "connection not allowed by ruleset",
        3 => "network unreachable",
        4 => "host unreachable",
        5 => "connection refused",
        6 => "TTL expired",
        7 => "command not supported",
        8 => "address type not supported",
        _ => "unknown reply code",
    }
}

async fn socks5<S>(
    stream: &mut S,
    proxy: &SocksProxy,
    host: &str,
    port: u16,
) -> Result<(), SocksError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let target = format!("{host}:{port}");
    let with_password = proxy.username.is_some();
    let (greeting, offered): (&[u8], &'static str) = if with_password {
        (&[5, 2, 0, 2], "none, username/password")
    } else {
        (&[5, 1, 0], "none")
    };
    stream.write_all(greeting).await?;
    let mut choice = [0u8; 2];
    stream.read_exact(&mut choice).await?;
    if choice[0] != 5 {
        return Err(SocksError::Version(choice[0], 5));
    }
    match choice[1] {
        0 => {}
        2 if with_password => {
            let user = proxy.username.as_deref().unwrap_or("").as_bytes();
            let pass = proxy.password.as_deref().unwrap_or("").as_bytes();
            let (Ok(ulen), Ok(plen)) = (u8::try_from(user.len()), u8::try_from(pass.len())) else {
                return Err(SocksError::BadProxy(
                    "username and password are at most 255 bytes each".into(),
                ));
            };
            let mut auth = vec![1, ulen];
            auth.extend_from_slice(user);
            auth.push(plen);
            auth.extend_from_slice(pass);
            stream.write_all(&auth).await?;
            let mut status = [0u8; 2];
            stream.read_exact(&mut status).await?;
            if status[1] != 0 {
                return Err(SocksError::AuthFailed);
            }
        }
        _ => return Err(SocksError::NoAcceptableMethod(offered)),
    }
    let mut request = vec![5, 1, 0];
    match host.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => {
            request.push(1);
            request.extend_from_slice(&ip.octets());
        }
        Ok(IpAddr::V6(ip)) => {
            request.push(4);
            request.extend_from_slice(&ip.octets());
        }
        Err(_) => {
            let Ok(len) = u8::try_from(host.len()) else {
                return Err(SocksError::Unsupported {
                    target,
                    what: "host names are at most 255 bytes in SOCKS5",
                });
            };
            request.push(3);
            request.push(len);
            request.extend_from_slice(host.as_bytes());
        }
    }
    request.extend_from_slice(&port.to_be_bytes());
    stream.write_all(&request).await?;
    let mut head = [0u8; 4];
    stream.read_exact(&mut head).await?;
    if head[0] != 5 {
        return Err(SocksError::Version(head[0], 5));
    }
    if head[1] != 0 {
        return Err(SocksError::Refused {
            target,
            reason: format!("{} (0x{:02x})", socks5_reply_meaning(head[1]), head[1]),
        });
    }
    // The bound address that follows is of no use to us, but must be read off the stream.
    let address_len = match head[3] {
        1 => 4,
        4 => 16,
        3 => usize::from(stream.read_u8().await?),
        other => {
            return Err(SocksError::Refused {
                target,
                reason: format!("reply with unknown address type {other}"),
            });
        }
    };
    let mut rest = vec![0u8; address_len + 2];
    stream.read_exact(&mut rest).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_forms() {
        let p: SocksProxy = "127.0.0.1:1080".parse().unwrap();
        assert_eq!(p.version, SocksVersion::V5);
        assert_eq!((p.host.as_str(), p.port), ("127.0.0.1", 1080));
        let p: SocksProxy = "socks4a://proxy:9050".parse().unwrap();
        assert_eq!(p.version, SocksVersion::V4a);
        let p: SocksProxy = "socks5://me:pw@[::1]:1081".parse().unwrap();
        assert_eq!(p.host, "::1");
        assert_eq!(p.port, 1081);
        assert_eq!(p.username.as_deref(), Some("me"));
        assert_eq!(p.password.as_deref(), Some("pw"));
        assert_eq!(p.to_string(), "socks5://[::1]:1081");
        for bad in ["proxy", "http://p:1", "p:0", "p:x", ":1080"] {
            let e = bad.parse::<SocksProxy>().unwrap_err();
            assert!(matches!(e, SocksError::BadProxy(_)), "{bad}: {e}");
        }
    }

    /// A scripted proxy: checks the exact request bytes and answers with fixed bytes.
    async fn scripted(
        proxy: &SocksProxy,
        host: &str,
        exchanges: Vec<(Vec<u8>, Vec<u8>)>,
    ) -> Result<(), SocksError> {
        let (mut client, mut server) = tokio::io::duplex(1024);
        let script = tokio::spawn(async move {
            for (expect, answer) in exchanges {
                let mut got = vec![0u8; expect.len()];
                server.read_exact(&mut got).await.unwrap();
                assert_eq!(got, expect);
                server.write_all(&answer).await.unwrap();
            }
            server
        });
        let result = socks_connect(&mut client, proxy, host, 1935).await;
        drop(client);
        script.await.unwrap();
        result
    }

    #[tokio::test]
    async fn socks4a_sends_the_name() {
        let proxy: SocksProxy = "socks4a://u@p:1".parse().unwrap();
        let mut req = vec![4, 1, 0x07, 0x8f, 0, 0, 0, 1, b'u', 0];
        req.extend_from_slice(b"example.com\0");
        scripted(
            &proxy,
            "example.com",
            vec![(req, vec![0, 0x5a, 0, 0, 0, 0, 0, 0])],
        )
        .await
        .unwrap();
        let req = vec![4, 1, 0x07, 0x8f, 10, 0, 0, 1, 0];
        let e = scripted(
            &"socks4://p:1".parse().unwrap(),
            "10.0.0.1",
            vec![(req, vec![0, 0x5b, 0, 0, 0, 0, 0, 0])],
        )
        .await
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "SOCKS proxy refused the connection to 10.0.0.1:1935: request rejected or failed (0x5b)"
        );
    }

    #[tokio::test]
    async fn socks5_with_password_and_ipv6() {
        let proxy: SocksProxy = "socks5://ab:c@p:1".parse().unwrap();
        let mut connect = vec![5, 1, 0, 4];
        connect.extend_from_slice(&[0; 15]);
        connect.push(1);
        connect.extend_from_slice(&[0x07, 0x8f]);
        scripted(
            &proxy,
            "::1",
            vec![
                (vec![5, 2, 0, 2], vec![5, 2]),
                (vec![1, 2, b'a', b'b', 1, b'c'], vec![1, 0]),
                (connect, vec![5, 0, 0, 3, 2, b'h', b'i', 0, 1]),
            ],
        )
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn socks5_refusals() {
        let proxy: SocksProxy = "p:1".parse().unwrap();
        let mut connect = vec![5, 1, 0, 3, 1, b'h'];
        connect.extend_from_slice(&[0x07, 0x8f]);
        let e = scripted(
            &proxy,
            "h",
            vec![
                (vec![5, 1, 0], vec![5, 0]),
                (connect, vec![5, 5, 0, 1, 0, 0, 0, 0, 0, 0]),
            ],
        )
        .await
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "SOCKS proxy refused the connection to h:1935: connection refused (0x05)"
        );
        let e = scripted(&proxy, "h", vec![(vec![5, 1, 0], vec![5, 0xff])])
            .await
            .unwrap_err();
        assert!(matches!(e, SocksError::NoAcceptableMethod("none")), "{e}");
        let e = scripted(&proxy, "h", vec![(vec![5, 1, 0], vec![4, 0])])
            .await
            .unwrap_err();
        assert!(matches!(e, SocksError::Version(4, 5)), "{e}");
    }
}
