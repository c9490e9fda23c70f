//! The server side of the handshake: reads C0, C1, C2 and writes S0, S1, S2.

use bytes::{BufMut, Bytes, BytesMut};
use rand::RngCore;

use super::analysis::{self, ChallengeInfo, HandshakeScheme, ResponseKind};
use super::digest::{self, Sender};
use super::error::{HandshakeError, HandshakePart};
use super::wire::{HANDSHAKE_SIZE, RTMP_VERSION, VersionPolicy};
use super::{HandshakeSummary, MessageBuffer};

/// How the server answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// Which C0 version bytes are accepted.
    pub version_policy: VersionPolicy,
    /// The version field of a digest S1 (FMS sends its own version; the default,
    /// 3.0.1.123, matches the `fmsVer` "FMS/3,0,1,123" that nginx-rtmp reports).
    pub server_version: [u8; 4],
    /// Answer a C1 whose digest verifies with the digest scheme. When false every client
    /// gets the simple handshake (clients that sent a digest usually accept an echo).
    pub allow_digest: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            version_policy: VersionPolicy::Strict,
            server_version: [3, 0, 1, 123],
            allow_digest: true,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    AwaitC0,
    AwaitC1,
    AwaitC2,
    Done,
    Failed,
}

/// A server's handshake with one client, sans I/O.
///
/// Feed it what the client sends; send what [`poll_transmit`](Self::poll_transmit) returns.
/// S0 goes out as soon as C0 is read, S1 and S2 as soon as C1 is read (seed 002's rules);
/// the handshake is complete once C2 is read. Bytes after C2 (often the `connect` command,
/// sent in the same segment) are not consumed: `feed` says how many bytes it used.
#[derive(Debug, Clone)]
pub struct ServerHandshake {
    config: ServerConfig,
    epoch: u32,
    state: State,
    input: MessageBuffer,
    out: BytesMut,
    /// Random bytes for S1 (8..) and a digest S2 (..1504), drawn up front.
    s1: Box<[u8; HANDSHAKE_SIZE]>,
    s2_random: Box<[u8; HANDSHAKE_SIZE]>,
    s1_digest: Option<[u8; digest::DIGEST_SIZE]>,
    peer_version_byte: u8,
    peer_challenge: Option<ChallengeInfo>,
    scheme: HandshakeScheme,
    summary: Option<HandshakeSummary>,
}

impl ServerHandshake {
    /// A handshake waiting for C0. `epoch_ms` goes into S1's time field; `rng` supplies the
    /// random bytes of S1 and S2 (all drawn now).
    pub fn new(config: ServerConfig, epoch_ms: u32, rng: &mut impl RngCore) -> Self {
        let mut s1 = Box::new([0u8; HANDSHAKE_SIZE]);
        rng.fill_bytes(&mut s1[8..]);
        let mut s2_random = Box::new([0u8; HANDSHAKE_SIZE]);
        rng.fill_bytes(&mut s2_random[..]);
        ServerHandshake {
            config,
            epoch: epoch_ms,
            state: State::AwaitC0,
            input: MessageBuffer::default(),
            out: BytesMut::new(),
            s1,
            s2_random,
            s1_digest: None,
            peer_version_byte: 0,
            peer_challenge: None,
            scheme: HandshakeScheme::Simple,
            summary: None,
        }
    }

    /// Take in bytes from the client. Returns how many were handshake bytes; the rest of
    /// `data` (`&data[n..]`) follows the handshake and belongs to the chunk stream. Returns
    /// `Ok(0)` once complete. After an error the handshake is dead.
    pub fn feed(&mut self, data: &[u8]) -> Result<usize, HandshakeError> {
        let mut used = 0;
        loop {
            let need = match self.state {
                State::AwaitC0 => 1,
                State::AwaitC1 | State::AwaitC2 => HANDSHAKE_SIZE,
                State::Done => return Ok(used),
                State::Failed => return Err(HandshakeError::AlreadyFailed),
            };
            let rest = data.get(used..).unwrap_or_default();
            used += self.input.fill(need, rest);
            if self.input.len() < need {
                return Ok(used);
            }
            if let Err(e) = self.on_message() {
                self.state = State::Failed;
                return Err(e);
            }
            self.input.clear();
        }
    }

    fn on_message(&mut self) -> Result<(), HandshakeError> {
        match self.state {
            State::AwaitC0 => {
                let version = self.input.first_byte();
                self.config
                    .version_policy
                    .check(HandshakePart::C0, version)?;
                self.peer_version_byte = version;
                self.out.put_u8(RTMP_VERSION);
                self.state = State::AwaitC1;
            }
            State::AwaitC1 => {
                let c1 = *self.input.message();
                let info = analysis::inspect_challenge(&c1, Sender::Client);
                self.answer_c1(&c1, &info);
                self.peer_challenge = Some(info);
                self.state = State::AwaitC2;
            }
            State::AwaitC2 => {
                let kind = analysis::classify_response(
                    self.input.message(),
                    &self.s1,
                    self.s1_digest.as_ref(),
                    Sender::Client,
                );
                self.finish(kind);
            }
            State::Done | State::Failed => {}
        }
        Ok(())
    }

    fn answer_c1(&mut self, c1: &[u8; HANDSHAKE_SIZE], info: &ChallengeInfo) {
        self.s1[..4].copy_from_slice(&self.epoch.to_be_bytes());
        match info.digest.filter(|_| self.config.allow_digest) {
            Some(c1_digest) => {
                self.s1[4..8].copy_from_slice(&self.config.server_version);
                let s1_digest =
                    digest::sign_challenge(&mut self.s1, c1_digest.schema, Sender::Server);
                self.s1_digest = Some(s1_digest.value);
                digest::sign_response(&mut self.s2_random, &c1_digest.value, Sender::Server);
                self.scheme = HandshakeScheme::Digest(c1_digest.schema);
                self.out.put_slice(&self.s1[..]);
                self.out.put_slice(&self.s2_random[..]);
            }
            None => {
                self.s1[4..8].fill(0);
                self.scheme = HandshakeScheme::Simple;
                self.out.put_slice(&self.s1[..]);
                self.out.put_slice(c1);
            }
        }
    }

    fn finish(&mut self, peer_response: ResponseKind) {
        if let Some(peer_challenge) = self.peer_challenge {
            self.summary = Some(HandshakeSummary {
                scheme: self.scheme,
                peer_version_byte: self.peer_version_byte,
                peer_challenge,
                peer_response,
            });
        }
        self.state = State::Done;
    }

    /// The next bytes to send to the client, if any.
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        (!self.out.is_empty()).then(|| self.out.split().freeze())
    }

    /// True once C2 has been read. Drain [`poll_transmit`](Self::poll_transmit) before
    /// sending anything else.
    pub fn is_complete(&self) -> bool {
        self.state == State::Done
    }

    /// What was negotiated; `Some` once complete.
    pub fn summary(&self) -> Option<&HandshakeSummary> {
        self.summary.as_ref()
    }

    /// The client's C1 as read, once it has arrived.
    pub fn peer_challenge(&self) -> Option<&ChallengeInfo> {
        self.peer_challenge.as_ref()
    }
}
