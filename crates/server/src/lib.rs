//! rtmpkit-server: the live streaming server's building blocks.
//!
//! | module | what it holds |
//! |---|---|
//! | [`config`] | [`ServerConfig`](config::ServerConfig), read from TOML, with the defaults in one place |
//! | [`hub`] | the stream registry and fan-out: publishers, GOP cache, players' subscriptions |
//! | [`connection`] | one RTMP connection: a sans-I/O session driven by a socket, on the hub |
//! | [`serve`] | listeners, the accept loop, the connection limit, graceful shutdown |
//!
//! Connections (listener, RTMP sessions) drive the hub; the hub itself never touches a socket.

pub mod config;
pub mod connection;
pub mod hub;
pub mod outputs;
pub mod serve;
pub mod socket;
pub mod tls;

pub use serve::{Server, StartError};
