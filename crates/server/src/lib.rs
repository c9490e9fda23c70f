//! rtmpkit-server: the live streaming server's building blocks.
//!
//! | module | what it holds |
//! |---|---|
//! | [`config`] | [`ServerConfig`](config::ServerConfig), read from TOML, with the defaults in one place |
//! | [`hub`] | the stream registry and fan-out: publishers, GOP cache, players' subscriptions |
//!
//! Connections (listener, RTMP sessions) drive the hub; the hub itself never touches a socket.

pub mod config;
pub mod hub;
pub mod outputs;
