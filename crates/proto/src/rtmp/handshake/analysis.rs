//! Passive reading of handshake messages: what a C1/S1 claims and proves, and what a C2/S2
//! answers. The dissector calls these on captured bytes; the server and client state machines
//! call the same functions on the bytes they receive.

use super::digest::{self, ChallengeDigest, DigestSchema, Sender};
use super::error::HandshakeError;
use super::wire::HANDSHAKE_SIZE;

/// The handshake scheme a challenge uses, or that a handshake settled on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HandshakeScheme {
    /// The RTMP specification's handshake: random bytes, echoed back.
    Simple,
    /// The Flash Player 9 digest handshake, with the digest block where the schema says.
    Digest(DigestSchema),
}

/// What a C1 or S1 says about itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChallengeInfo {
    /// The sender's epoch (bytes 0–3).
    pub time: u32,
    /// Bytes 4–7: zero for the simple scheme, else the sender's version (e.g. `[9, 0, 124, 2]`).
    pub version: [u8; 4],
    /// The digest, if one verifies with the sender's key in either schema.
    pub digest: Option<ChallengeDigest>,
}

impl ChallengeInfo {
    /// [`HandshakeScheme::Digest`] if a digest verified, else [`HandshakeScheme::Simple`].
    pub fn scheme(&self) -> HandshakeScheme {
        match self.digest {
            Some(d) => HandshakeScheme::Digest(d.schema),
            None => HandshakeScheme::Simple,
        }
    }

    /// True if the version field is non-zero: the sender claims the digest scheme. Together
    /// with `digest == None` this marks a challenge whose claimed digest does not verify.
    pub fn claims_digest(&self) -> bool {
        self.version != [0; 4]
    }
}

/// What a C2 or S2 turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResponseKind {
    /// Its last 32 bytes are the digest answer to the peer's challenge digest.
    DigestResponse,
    /// It echoes the peer's challenge: same time (bytes 0–3) and same random (8–1535); bytes
    /// 4–7 may differ, as the specification lets them carry the time the challenge was read.
    Echo,
    /// Neither. Many implementations never check the response, so this is reported, not
    /// treated as an error.
    Unrecognized,
}

/// Read a C1 (`sender` = [`Sender::Client`]) or S1 ([`Sender::Server`]) and check its digest.
pub fn analyze_challenge(bytes: &[u8], sender: Sender) -> Result<ChallengeInfo, HandshakeError> {
    Ok(inspect_challenge(as_message(bytes, "C1/S1")?, sender))
}

/// Classify a C2 (`sender` = [`Sender::Client`], `peer_challenge` = the S1 it answers) or an S2
/// (`sender` = [`Sender::Server`], `peer_challenge` = the C1).
pub fn analyze_response(
    response: &[u8],
    peer_challenge: &[u8],
    sender: Sender,
) -> Result<ResponseKind, HandshakeError> {
    let response = as_message(response, "C2/S2")?;
    let peer_challenge = as_message(peer_challenge, "C1/S1")?;
    let peer_digest = digest::find_challenge_digest(peer_challenge, sender.peer());
    Ok(classify_response(
        response,
        peer_challenge,
        peer_digest.as_ref().map(|d| &d.value),
        sender,
    ))
}

fn as_message<'a>(
    bytes: &'a [u8],
    message: &'static str,
) -> Result<&'a [u8; HANDSHAKE_SIZE], HandshakeError> {
    bytes.try_into().map_err(|_| HandshakeError::WrongLength {
        message,
        expected: HANDSHAKE_SIZE,
        actual: bytes.len(),
    })
}

pub(crate) fn inspect_challenge(bytes: &[u8; HANDSHAKE_SIZE], sender: Sender) -> ChallengeInfo {
    let [t0, t1, t2, t3, v0, v1, v2, v3, ..] = *bytes;
    ChallengeInfo {
        time: u32::from_be_bytes([t0, t1, t2, t3]),
        version: [v0, v1, v2, v3],
        digest: digest::find_challenge_digest(bytes, sender),
    }
}

pub(crate) fn classify_response(
    response: &[u8; HANDSHAKE_SIZE],
    peer_challenge: &[u8; HANDSHAKE_SIZE],
    peer_digest: Option<&[u8; digest::DIGEST_SIZE]>,
    sender: Sender,
) -> ResponseKind {
    if let Some(peer_digest) = peer_digest
        && digest::verify_response(response, peer_digest, sender)
    {
        return ResponseKind::DigestResponse;
    }
    if response[..4] == peer_challenge[..4] && response[8..] == peer_challenge[8..] {
        return ResponseKind::Echo;
    }
    ResponseKind::Unrecognized
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(seed: u8) -> [u8; HANDSHAKE_SIZE] {
        let mut c = [0u8; HANDSHAKE_SIZE];
        for (i, b) in c.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(31).wrapping_add(seed);
        }
        c
    }

    #[test]
    fn seed_000_c1_prefix_is_a_digest_claim() {
        // Only the first 16 bytes of ffmpeg's C1 are in the seed: the version field claims the
        // digest scheme, the zero padding cannot carry a valid digest.
        let mut c1 = [0u8; HANDSHAKE_SIZE];
        c1[..15].copy_from_slice(&hex::decode("0000000009007c02f778551eceab8e").unwrap());
        let info = analyze_challenge(&c1, Sender::Client).unwrap();
        assert_eq!(info.time, 0);
        assert_eq!(info.version, [9, 0, 124, 2]);
        assert!(info.claims_digest());
        assert_eq!(info.digest, None);
        assert_eq!(info.scheme(), HandshakeScheme::Simple);
    }

    #[test]
    fn seed_000_c2_echoes_s1() {
        // ffmpeg publishing answers nginx's S1 with an echo; the seed shows C2 starting with
        // S1's first 16 bytes.
        let mut s1 = [0u8; HANDSHAKE_SIZE];
        s1[..16].copy_from_slice(&hex::decode("be0e85c40d0e0a0dd6b647a8555bf420").unwrap());
        let c2 = s1;
        assert_eq!(
            analyze_response(&c2, &s1, Sender::Client).unwrap(),
            ResponseKind::Echo
        );
        let info = analyze_challenge(&s1, Sender::Server).unwrap();
        assert_eq!(info.time, 0xbe0e_85c4);
        assert_eq!(info.version, [0x0d, 0x0e, 0x0a, 0x0d]);
    }

    #[test]
    fn signed_challenge_and_response_are_recognised() {
        for schema in DigestSchema::ALL {
            let mut c1 = pattern(1);
            c1[4..8].copy_from_slice(&[9, 0, 124, 2]);
            let d = digest::sign_challenge(&mut c1, schema, Sender::Client);
            let info = analyze_challenge(&c1, Sender::Client).unwrap();
            assert_eq!(info.scheme(), HandshakeScheme::Digest(schema));
            assert_eq!(info.digest, Some(d));
            // The same bytes read as an S1 do not verify: the key differs.
            assert_eq!(analyze_challenge(&c1, Sender::Server).unwrap().digest, None);

            let mut s2 = pattern(2);
            digest::sign_response(&mut s2, &d.value, Sender::Server);
            assert_eq!(
                analyze_response(&s2, &c1, Sender::Server).unwrap(),
                ResponseKind::DigestResponse
            );
            assert_eq!(
                analyze_response(&s2, &c1, Sender::Client).unwrap(),
                ResponseKind::Unrecognized
            );
        }
    }

    #[test]
    fn echo_may_change_time2_but_nothing_else() {
        let c1 = pattern(3);
        let mut s2 = c1;
        s2[4..8].copy_from_slice(&[1, 2, 3, 4]);
        assert_eq!(
            analyze_response(&s2, &c1, Sender::Server).unwrap(),
            ResponseKind::Echo
        );
        s2[100] ^= 1;
        assert_eq!(
            analyze_response(&s2, &c1, Sender::Server).unwrap(),
            ResponseKind::Unrecognized
        );
    }

    #[test]
    fn wrong_lengths() {
        assert!(analyze_challenge(&[0; 10], Sender::Client).is_err());
        assert!(analyze_response(&[0; 1536], &[0; 1535], Sender::Client).is_err());
    }
}
