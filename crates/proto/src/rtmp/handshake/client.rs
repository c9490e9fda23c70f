//! The client side of the handshake: writes C0, C1, C2 and reads S0, S1, S2.

use bytes::{BufMut, Bytes, BytesMut};
use rand::RngCore;

use super::analysis::{self, ChallengeInfo, HandshakeScheme, ResponseKind};
use super::digest::{self, Sender};
use super::error::{HandshakeError, HandshakePart};
use super::wire::{HANDSHAKE_SIZE, RTMP_VERSION, VersionPolicy};
use super::{HandshakeSummary, MessageBuffer};

/// How the client handshakes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// Simple C1, or a digest C1 in the given schema. The default is
    /// `Digest(DigestFirst)`, what ffmpeg and librtmp send; some servers only serve H.264 to
    /// players that use the digest scheme.
    pub scheme: HandshakeScheme,
    /// The version field of a digest C1, a Flash Player version (the default 9.0.124.2 is
    /// what ffmpeg sends, seen in seed 000). A simple C1 always sends zero.
    pub flash_version: [u8; 4],
    /// Which S0 version bytes are accepted.
    pub version_policy: VersionPolicy,
    /// Send C2 as soon as S1 is read (like librtmp) rather than after S2 (like ffmpeg).
    pub send_c2_before_s2: bool,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            scheme: HandshakeScheme::Digest(digest::DigestSchema::DigestFirst),
            flash_version: [9, 0, 124, 2],
            version_policy: VersionPolicy::Strict,
            send_c2_before_s2: true,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    AwaitS0,
    AwaitS1,
    AwaitS2,
    Done,
    Failed,
}

/// A client's handshake with one server, sans I/O.
///
/// C0 and C1 are ready to send from the start. C2 is queued once S1 is read (or after S2,
/// see [`ClientConfig::send_c2_before_s2`]); the handshake is complete once S2 is read.
/// S2 is checked but not required to verify: many servers just echo C1, or send anything.
#[derive(Debug, Clone)]
pub struct ClientHandshake {
    config: ClientConfig,
    state: State,
    input: MessageBuffer,
    out: BytesMut,
    c1: Box<[u8; HANDSHAKE_SIZE]>,
    c1_digest: Option<digest::ChallengeDigest>,
    /// Random bytes for a digest C2, drawn up front.
    c2: Box<[u8; HANDSHAKE_SIZE]>,
    c2_held: bool,
    peer_version_byte: u8,
    peer_challenge: Option<ChallengeInfo>,
    scheme: HandshakeScheme,
    summary: Option<HandshakeSummary>,
}

impl ClientHandshake {
    /// A handshake with C0+C1 queued for sending. `epoch_ms` goes into C1's time field; `rng`
    /// supplies the random bytes of C1 and C2 (all drawn now).
    pub fn new(config: ClientConfig, epoch_ms: u32, rng: &mut impl RngCore) -> Self {
        let mut c1 = Box::new([0u8; HANDSHAKE_SIZE]);
        c1[..4].copy_from_slice(&epoch_ms.to_be_bytes());
        rng.fill_bytes(&mut c1[8..]);
        let c1_digest = match config.scheme {
            HandshakeScheme::Simple => None,
            HandshakeScheme::Digest(schema) => {
                c1[4..8].copy_from_slice(&config.flash_version);
                Some(digest::sign_challenge(&mut c1, schema, Sender::Client))
            }
        };
        let mut c2 = Box::new([0u8; HANDSHAKE_SIZE]);
        rng.fill_bytes(&mut c2[..]);
        let mut out = BytesMut::with_capacity(1 + HANDSHAKE_SIZE);
        out.put_u8(RTMP_VERSION);
        out.put_slice(&c1[..]);
        ClientHandshake {
            config,
            state: State::AwaitS0,
            input: MessageBuffer::default(),
            out,
            c1,
            c1_digest,
            c2,
            c2_held: false,
            peer_version_byte: 0,
            peer_challenge: None,
            scheme: HandshakeScheme::Simple,
            summary: None,
        }
    }

    /// Take in bytes from the server. Returns how many were handshake bytes; the rest of
    /// `data` (`&data[n..]`) follows S2 and belongs to the chunk stream. Returns `Ok(0)` once
    /// complete. After an error the handshake is dead.
    pub fn feed(&mut self, data: &[u8]) -> Result<usize, HandshakeError> {
        let mut used = 0;
        loop {
            let need = match self.state {
                State::AwaitS0 => 1,
                State::AwaitS1 | State::AwaitS2 => HANDSHAKE_SIZE,
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
            State::AwaitS0 => {
                let version = self.input.first_byte();
                self.config
                    .version_policy
                    .check(HandshakePart::S0, version)?;
                self.peer_version_byte = version;
                self.state = State::AwaitS1;
            }
            State::AwaitS1 => {
                let s1 = *self.input.message();
                let info = analysis::inspect_challenge(&s1, Sender::Server);
                self.build_c2(&s1, &info);
                if self.config.send_c2_before_s2 {
                    self.out.put_slice(&self.c2[..]);
                } else {
                    self.c2_held = true;
                }
                self.peer_challenge = Some(info);
                self.state = State::AwaitS2;
            }
            State::AwaitS2 => {
                let kind = analysis::classify_response(
                    self.input.message(),
                    &self.c1,
                    self.c1_digest.as_ref().map(|d| &d.value),
                    Sender::Server,
                );
                if self.c2_held {
                    self.out.put_slice(&self.c2[..]);
                    self.c2_held = false;
                }
                self.finish(kind);
            }
            State::Done | State::Failed => {}
        }
        Ok(())
    }

    /// A digest C2 if both sides' challenges carried verified digests, else an echo of S1.
    fn build_c2(&mut self, s1: &[u8; HANDSHAKE_SIZE], info: &ChallengeInfo) {
        match (self.c1_digest, info.digest) {
            (Some(ours), Some(theirs)) => {
                digest::sign_response(&mut self.c2, &theirs.value, Sender::Client);
                self.scheme = HandshakeScheme::Digest(ours.schema);
            }
            _ => {
                *self.c2 = *s1;
                self.scheme = HandshakeScheme::Simple;
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

    /// The next bytes to send to the server, if any.
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        (!self.out.is_empty()).then(|| self.out.split().freeze())
    }

    /// True once S2 has been read. Drain [`poll_transmit`](Self::poll_transmit) (C2 may still
    /// be queued) before sending `connect`.
    pub fn is_complete(&self) -> bool {
        self.state == State::Done
    }

    /// What was negotiated; `Some` once complete.
    pub fn summary(&self) -> Option<&HandshakeSummary> {
        self.summary.as_ref()
    }

    /// The server's S1 as read, once it has arrived.
    pub fn peer_challenge(&self) -> Option<&ChallengeInfo> {
        self.peer_challenge.as_ref()
    }
}
