//! The RTMP handshake: C0/C1/C2 from the client, S0/S1/S2 from the server.
//!
//! Both the specification's simple handshake (random bytes, echoed) and the Flash Player 9
//! digest handshake (HMAC-SHA256 digests keyed with the Flash Player / FMS constants, digest
//! block in either schema) are supported, on both sides:
//!
//! - [`ServerHandshake`]: answers a C1 whose digest verifies with a digest S1 (same schema) and
//!   the digest S2; any other C1 gets a simple S1 and S2 = C1 echoed.
//! - [`ClientHandshake`]: sends a simple or digest C1 ([`ClientConfig::scheme`]), checks S1's
//!   digest and answers with a digest C2 or an S1 echo, and reports whether S2 verified.
//! - [`analyze_challenge`] / [`analyze_response`]: the same checks on captured bytes, for the
//!   dissector.
//!
//! Ordering (seed 002): the server sends S0 on C0 and S1+S2 on C1, and is done after C2; the
//! client sends C0+C1 at once and C2 after S1, and is done after S2. `feed` returns how many
//! bytes belonged to the handshake, so whatever follows in the same read (a client often sends
//! C2 and `connect` together) is left to the chunk reader.
//!
//! Version bytes: only 3 is accepted by default, as nginx-rtmp and SRS do; see
//! [`VersionPolicy`] for the lenient option and for what is always refused (RTMPE 6/8/9, TLS,
//! HTTP).

mod analysis;
mod client;
mod digest;
mod error;
mod server;
mod wire;

#[cfg(test)]
mod captures;
#[cfg(test)]
mod tests;

pub use analysis::{
    ChallengeInfo, HandshakeScheme, ResponseKind, analyze_challenge, analyze_response,
};
pub use client::{ClientConfig, ClientHandshake};
pub use digest::{
    ChallengeDigest, DIGEST_SIZE, DigestSchema, FLASH_MEDIA_SERVER_KEY, FLASH_PLAYER_KEY,
    RESPONSE_DIGEST_OFFSET, Sender, find_challenge_digest, sign_challenge, sign_response,
    verify_response,
};
pub use error::{HandshakeError, HandshakePart};
pub use server::{ServerConfig, ServerHandshake};
pub use wire::{
    Challenge, HANDSHAKE_SIZE, RANDOM_SIZE, RTMP_VERSION, Response, VersionByte, VersionPolicy,
};

/// What a completed handshake settled on, from one side's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HandshakeSummary {
    /// Digest if both challenges carried verified digests (the server: if C1's did and digests
    /// are allowed), else simple.
    pub scheme: HandshakeScheme,
    /// The peer's C0/S0 byte (3 unless [`VersionPolicy::Lenient`] let another through).
    pub peer_version_byte: u8,
    /// The peer's C1/S1: its time, version field and verified digest, if any.
    pub peer_challenge: ChallengeInfo,
    /// Whether the peer's C2/S2 carried the digest answer, echoed our challenge, or neither.
    pub peer_response: ResponseKind,
}

impl HandshakeSummary {
    /// True if the peer's response carried a valid digest answer to our challenge.
    pub fn peer_response_verified(&self) -> bool {
        self.peer_response == ResponseKind::DigestResponse
    }
}

/// Collects one fixed-size handshake message from input that may arrive in any split.
#[derive(Debug, Clone)]
struct MessageBuffer {
    buf: Box<[u8; HANDSHAKE_SIZE]>,
    len: usize,
}

impl Default for MessageBuffer {
    fn default() -> Self {
        MessageBuffer {
            buf: Box::new([0; HANDSHAKE_SIZE]),
            len: 0,
        }
    }
}

impl MessageBuffer {
    /// Copy from `data` until `need` bytes (at most one message) are held; returns the
    /// number of bytes taken.
    fn fill(&mut self, need: usize, data: &[u8]) -> usize {
        let need = need.min(HANDSHAKE_SIZE);
        let take = need.saturating_sub(self.len).min(data.len());
        if let (Some(dst), Some(src)) = (
            self.buf.get_mut(self.len..self.len + take),
            data.get(..take),
        ) {
            dst.copy_from_slice(src);
            self.len += take;
            take
        } else {
            0
        }
    }

    fn len(&self) -> usize {
        self.len
    }

    fn clear(&mut self) {
        self.len = 0;
    }

    fn first_byte(&self) -> u8 {
        self.buf[0]
    }

    fn message(&self) -> &[u8; HANDSHAKE_SIZE] {
        &self.buf
    }
}
