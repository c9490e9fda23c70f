//! The client's errors: each names the peer or the stream and what went wrong.

use std::time::Duration;

use rtmpkit_proto::flv::FlvError;
use rtmpkit_proto::rtmp::session::SessionError;

use crate::conn_args::ConnArgError;
use crate::socks::SocksError;
use crate::url::UrlError;

/// Why a connection, a publish or a play failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(transparent)]
    Url(#[from] UrlError),
    #[error(transparent)]
    ConnArg(#[from] ConnArgError),
    #[error("cannot resolve {host}: {source}")]
    Resolve {
        host: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot connect to {target}: {source}")]
    Connect {
        target: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{target}: {what} timed out after {after:?}")]
    Timeout {
        target: String,
        what: &'static str,
        after: Duration,
    },
    #[error("via {proxy}: {source}")]
    Socks {
        proxy: String,
        #[source]
        source: SocksError,
    },
    #[error("TLS setup: {0}")]
    TlsConfig(String),
    #[error("TLS with {target}: {source}")]
    Tls {
        target: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{target}: {source}")]
    Io {
        target: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{target}: the server closed the connection{context}")]
    Closed { target: String, context: String },
    #[error("{target}: {source}")]
    Session {
        target: String,
        #[source]
        source: SessionError,
    },
    #[error("{target}: connect to app '{app}' refused: {code}{}", describe(.description))]
    ConnectRejected {
        target: String,
        app: String,
        code: String,
        description: String,
    },
    #[error("{target}: {action} '{stream}' refused: {code}{}", describe(.description))]
    Refused {
        target: String,
        action: &'static str,
        stream: String,
        code: String,
        description: String,
    },
    #[error("{target}: {what}")]
    Protocol { target: String, what: String },
    #[error("FLV input at byte {offset}: {source}")]
    Flv {
        offset: u64,
        #[source]
        source: FlvError,
    },
    #[error("reading {path}: {source}")]
    Input {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

fn describe(description: &str) -> String {
    if description.is_empty() {
        String::new()
    } else {
        format!(" ({description})")
    }
}

impl ClientError {
    /// Whether the server said no (connect, publish or play refused): retrying the same
    /// request is unlikely to help.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            ClientError::ConnectRejected { .. } | ClientError::Refused { .. }
        )
    }

    /// Whether the error is about our own input or configuration (URL, arguments, TLS files,
    /// the FLV source), which no reconnect can fix.
    pub fn is_local(&self) -> bool {
        matches!(
            self,
            ClientError::Url(_)
                | ClientError::ConnArg(_)
                | ClientError::TlsConfig(_)
                | ClientError::Flv { .. }
                | ClientError::Input { .. }
        )
    }

    /// The status code of a refusal (`NetStream.Publish.BadName`, …).
    pub fn status_code(&self) -> Option<&str> {
        match self {
            ClientError::ConnectRejected { code, .. } | ClientError::Refused { code, .. } => {
                Some(code)
            }
            _ => None,
        }
    }
}
