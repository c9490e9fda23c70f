//! rtmpkit-client: an RTMP(S) client over tokio, on the sans-I/O sessions of `rtmpkit-proto`.
//!
//! - [`RtmpUrl`]: `rtmp://host[:port]/app[/instance]/stream[?query]`, `rtmps://`, IPv6
//!   literals, rtmpdump-style overrides ([`UrlOverrides`], [`parse_conn_args`]).
//! - [`ConnectOptions`]: timeouts, SOCKS4a/5 proxy, TCP_NODELAY, TLS roots, connect fields.
//! - [`Publisher`] and [`Player`]: one stream each, on their own connection.
//! - [`publish_flv`]: an FLV file or pipe, paced at real time, looped, reconnecting.
//! - [`FlvRecorder`]: what a [`Player`] receives as a valid FLV file.
//!
//! ```no_run
//! use rtmpkit_client::{ConnectOptions, PlayEvent, PlayOptions, Player, Publisher, RtmpUrl};
//! use rtmpkit_client::MediaKind;
//!
//! # async fn run() -> Result<(), rtmpkit_client::ClientError> {
//! let options = ConnectOptions::default();
//!
//! // Publish: metadata, then FLV tag bodies (here an AVC sequence header).
//! let url = RtmpUrl::parse("rtmp://127.0.0.1/live/room?key=secret")?;
//! let mut publisher = Publisher::connect(&url, &options).await?;
//! publisher
//!     .send_metadata(rtmpkit_proto::amf::Amf0Value::object([(
//!         "width",
//!         rtmpkit_proto::amf::Amf0Value::Number(320.0),
//!     )]))
//!     .await?;
//! publisher.send_video(0, &[0x17, 0x00, 0, 0, 0, 1, 0x64, 0, 0x1f]).await?;
//! publisher.close().await?;
//!
//! // Play until the publisher stops.
//! let url = RtmpUrl::parse("rtmp://127.0.0.1/live/room")?;
//! let mut player = Player::connect(&url, &options, &PlayOptions::default()).await?;
//! loop {
//!     match player.next().await? {
//!         PlayEvent::Media { kind: MediaKind::Video, timestamp, payload } => {
//!             println!("video at {timestamp} ms, {} bytes", payload.len());
//!         }
//!         PlayEvent::End(reason) => {
//!             println!("ended: {reason:?}");
//!             break;
//!         }
//!         _ => {}
//!     }
//! }
//! player.close().await?;
//! # Ok(())
//! # }
//! ```

mod conn_args;
mod connection;
mod error;
mod flv_publish;
mod options;
mod player;
mod publisher;
mod record;
mod socks;
mod tls;
mod transport;
mod url;

pub use conn_args::{ConnArgError, parse_conn_args};
pub use error::ClientError;
pub use flv_publish::{Backoff, FlvPublishOptions, FlvSource, PublishProgress, publish_flv};
pub use options::{ConnectOptions, PlayOptions, TlsOptions};
pub use player::{EndReason, PlayEvent, Player};
pub use publisher::{Publisher, ServerNotice};
pub use record::{FlvRecorder, RecorderProgress};
pub use rtmpkit_proto::rtmp::session::MediaKind;
pub use rtmpkit_proto::rtmp::session::client::StatusEvent;
pub use socks::{SocksError, SocksProxy, SocksVersion, socks_connect};
pub use transport::{BoxTransport, Transport, open_transport};
pub use url::{RtmpUrl, Scheme, UrlError, UrlOverrides};
