//! The handshake as captured: C0+C1, S0+S1+S2, C2, read with the core's handshake analysis
//! (version, time, simple or digest scheme and whether the digest verifies, echo or digest
//! response).

use rtmpkit_proto::rtmp::handshake::{
    ChallengeInfo, DigestSchema, HANDSHAKE_SIZE, HandshakeScheme, ResponseKind, Sender,
    analyze_challenge, analyze_response,
};

use super::analyzer::Ctx;
use super::conn::{Conn, HANDSHAKE_LEN};
use super::{HandshakeEvent, HandshakePart, ProblemKind, RtmpDir, RtmpEvent, Severity};

const C0C1: usize = 1 + HANDSHAKE_SIZE;
const ALL: usize = HANDSHAKE_LEN as usize;

/// Handshake bytes and findings of a connection.
#[derive(Debug, Default)]
pub(crate) struct HandshakeState {
    bytes: [Vec<u8>; 2],
    client: Option<ChallengeInfo>,
    server: Option<ChallengeInfo>,
    s2: Option<ResponseKind>,
    c2: Option<ResponseKind>,
}

impl HandshakeState {
    pub(crate) fn len(&self, dir: RtmpDir) -> usize {
        self.bytes[dir.index()].len()
    }

    fn challenge(&self, dir: RtmpDir) -> Option<&[u8]> {
        self.bytes[dir.index()].get(1..C0C1)
    }

    /// A one-line description for the flows view.
    fn describe(&self) -> String {
        let scheme = |c: &Option<ChallengeInfo>| match c {
            None => "not captured".to_owned(),
            Some(i) => match i.scheme() {
                HandshakeScheme::Simple if i.claims_digest() => format!(
                    "version {} claims a digest that does not verify",
                    version(i.version)
                ),
                HandshakeScheme::Simple => "simple".to_owned(),
                HandshakeScheme::Digest(s) => format!("digest ({}, verified)", schema(s)),
            },
        };
        let resp = |r: &Option<ResponseKind>| match r {
            None => "not checked",
            Some(ResponseKind::DigestResponse) => "digest answer",
            Some(ResponseKind::Echo) => "echo",
            Some(ResponseKind::Unrecognized) => "unrecognized",
        };
        format!(
            "C1 {}, S1 {}, S2 {}, C2 {}",
            scheme(&self.client),
            scheme(&self.server),
            resp(&self.s2),
            resp(&self.c2)
        )
    }
}

/// `9.0.124.2`.
pub fn version(v: [u8; 4]) -> String {
    format!("{}.{}.{}.{}", v[0], v[1], v[2], v[3])
}

/// `schema 0 (key first)` or `schema 1 (digest first)`.
pub fn schema(s: DigestSchema) -> &'static str {
    match s {
        DigestSchema::KeyFirst => "schema 0",
        DigestSchema::DigestFirst => "schema 1",
    }
}

impl Conn {
    /// Takes handshake bytes of `dir`; returns how many belonged to the handshake.
    pub(crate) fn handshake_bytes(
        &mut self,
        ctx: &mut Ctx<'_>,
        dir: RtmpDir,
        frame: u64,
        offset: u64,
        bytes: &[u8],
    ) -> usize {
        let i = dir.index();
        let before = self.hs.bytes[i].len();
        let take = (ALL - before).min(bytes.len());
        self.hs.bytes[i].extend_from_slice(bytes.get(..take).unwrap_or_default());
        let after = before + take;
        let start = offset - before as u64;
        if before == 0 && take > 0 && dir == RtmpDir::S2C {
            let s0 = bytes.first().copied().unwrap_or(0);
            let client_sent = self.hs.len(RtmpDir::C2S);
            if !self.forced && (s0 != 3 || client_sent < C0C1) {
                // Not RTMP after all (a protocol whose client also begins with 0x03).
                self.not_rtmp = true;
                self.problem(ctx, Some(dir), frame, ProblemKind::Handshake, Severity::Note, format!(
                    "not RTMP after all: the server's first byte is 0x{s0:02x} after {client_sent} client bytes (RTMP servers answer C0+C1 with S0 = 3)"
                ));
                return take;
            }
            if s0 != 3 {
                self.problem(ctx, Some(dir), frame, ProblemKind::Handshake, Severity::Warning, format!(
                    "the server answered with version {s0} (S0); plain RTMP is 3, 6 and 8 are encrypted RTMPE: decoding goes on as plain RTMP"
                ));
            }
        }
        let mut emit = |part: HandshakePart, version, challenge, response, at| {
            ctx.out.push(RtmpEvent::Handshake(HandshakeEvent {
                frame,
                at,
                part,
                version,
                challenge,
                response,
                stream_offset: start
                    + if part == HandshakePart::C2 {
                        C0C1 as u64
                    } else {
                        0
                    },
            }));
        };
        let at = self.conn_ref(dir);
        match dir {
            RtmpDir::C2S => {
                if before < C0C1 && after >= C0C1 {
                    self.hs.client = self
                        .hs
                        .challenge(dir)
                        .and_then(|c| analyze_challenge(c, Sender::Client).ok());
                    let c0 = self.hs.bytes[i].first().copied();
                    emit(HandshakePart::C0C1, c0, self.hs.client, None, at);
                }
                if after == ALL && before < ALL {
                    let s1 = self.hs.challenge(RtmpDir::S2C);
                    let c2 = self.hs.bytes[i].get(C0C1..);
                    self.hs.c2 = match (c2, s1) {
                        (Some(c2), Some(s1)) => analyze_response(c2, s1, Sender::Client).ok(),
                        _ => None,
                    };
                    emit(HandshakePart::C2, None, None, self.hs.c2, at);
                }
            }
            RtmpDir::S2C => {
                if after == ALL && before < ALL {
                    self.hs.server = self
                        .hs
                        .challenge(dir)
                        .and_then(|c| analyze_challenge(c, Sender::Server).ok());
                    let c1 = self.hs.challenge(RtmpDir::C2S);
                    let s2 = self.hs.bytes[i].get(C0C1..);
                    self.hs.s2 = match (s2, c1) {
                        (Some(s2), Some(c1)) => analyze_response(s2, c1, Sender::Server).ok(),
                        _ => None,
                    };
                    let s0 = self.hs.bytes[i].first().copied();
                    emit(HandshakePart::S0S1S2, s0, self.hs.server, self.hs.s2, at);
                }
            }
        }
        if after == ALL {
            self.start_chunks(dir);
            if self.hs.len(dir.reverse()) == ALL {
                self.report.handshake = Some(self.hs.describe());
                self.hs.bytes = [Vec::new(), Vec::new()];
            }
        }
        take
    }
}
