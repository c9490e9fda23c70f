//! The RTMP protocol proper: handshake, chunk stream, messages and sessions.

pub mod chunk;
pub mod handshake;
pub mod message;
pub mod session;
