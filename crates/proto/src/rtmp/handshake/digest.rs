//! The digest ("complex", Flash Player 9+) handshake: where the digest sits in a C1/S1, how it
//! is computed, and the digest that a C2/S2 carries in answer.
//!
//! A digest challenge splits the 1528 random bytes into two 764-byte blocks, a *key block*
//! (for RTMPE's Diffie-Hellman key, random in plain RTMP) and a *digest block*:
//!
//! ```text
//! digest block: offset(4) | random(offset) | digest(32) | random(764 - 4 - offset - 32)
//!               offset = (sum of the 4 offset bytes) % 728
//! ```
//!
//! Schema 0 puts the key block first (digest block at byte 772), schema 1 the digest block
//! first (at byte 8). The digest is HMAC-SHA256 over the other 1504 bytes of the challenge,
//! keyed with the first 30 bytes of the Flash Player key (C1) or the first 36 of the Flash
//! Media Server key (S1). A response (C2/S2) is random bytes whose last 32 are
//! HMAC-SHA256(key = HMAC-SHA256(full sender key, peer's challenge digest), first 1504 bytes).

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::wire::HANDSHAKE_SIZE;

type HmacSha256 = Hmac<Sha256>;

/// Length of an HMAC-SHA256 digest.
pub const DIGEST_SIZE: usize = 32;

/// The Flash Player key: "Genuine Adobe Flash Player 001" followed by 32 constant bytes.
/// Its first 30 bytes sign C1; all 62 key the C2 digest.
pub const FLASH_PLAYER_KEY: [u8; 62] = concat_key(*b"Genuine Adobe Flash Player 001");

/// The Flash Media Server key: "Genuine Adobe Flash Media Server 001" followed by the same
/// 32 bytes. Its first 36 bytes sign S1; all 68 key the S2 digest.
pub const FLASH_MEDIA_SERVER_KEY: [u8; 68] = concat_key(*b"Genuine Adobe Flash Media Server 001");

const KEY_TAIL: [u8; 32] = [
    0xf0, 0xee, 0xc2, 0x4a, 0x80, 0x68, 0xbe, 0xe8, 0x2e, 0x00, 0xd0, 0xd1, 0x02, 0x9e, 0x7e, 0x57,
    0x6e, 0xec, 0x5d, 0x2d, 0x29, 0x80, 0x6f, 0xab, 0x93, 0xb8, 0xe6, 0x36, 0xcf, 0xeb, 0x31, 0xae,
];

const fn concat_key<const N: usize, const M: usize>(text: [u8; N]) -> [u8; M] {
    let mut out = [0u8; M];
    let mut i = 0;
    while i < N {
        out[i] = text[i];
        i += 1;
    }
    while i < M {
        out[i] = KEY_TAIL[i - N];
        i += 1;
    }
    out
}

/// Who sent a handshake message; it decides which key signs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sender {
    /// C1/C2: the Flash Player key.
    Client,
    /// S1/S2: the Flash Media Server key.
    Server,
}

impl Sender {
    /// The partial key that signs this side's challenge.
    fn challenge_key(self) -> &'static [u8] {
        match self {
            Sender::Client => &FLASH_PLAYER_KEY[..30],
            Sender::Server => &FLASH_MEDIA_SERVER_KEY[..36],
        }
    }

    /// The full key from which this side's response key is derived.
    fn response_key(self) -> &'static [u8] {
        match self {
            Sender::Client => &FLASH_PLAYER_KEY,
            Sender::Server => &FLASH_MEDIA_SERVER_KEY,
        }
    }

    /// The other side.
    pub fn peer(self) -> Sender {
        match self {
            Sender::Client => Sender::Server,
            Sender::Server => Sender::Client,
        }
    }
}

/// Where the digest block sits in a digest challenge.
///
/// Numbering follows SRS (schema 0 = key block first), which is also the order nginx-rtmp and
/// SRS try. librtmp and ffmpeg send schema 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DigestSchema {
    /// Schema 0: time, version, key block (bytes 8–771), digest block (772–1535).
    KeyFirst,
    /// Schema 1: time, version, digest block (bytes 8–771), key block (772–1535).
    DigestFirst,
}

impl DigestSchema {
    /// Both schemas, in the order a receiver tries them.
    pub const ALL: [DigestSchema; 2] = [DigestSchema::KeyFirst, DigestSchema::DigestFirst];

    /// 0 for [`KeyFirst`](Self::KeyFirst), 1 for [`DigestFirst`](Self::DigestFirst).
    pub fn number(self) -> u8 {
        match self {
            DigestSchema::KeyFirst => 0,
            DigestSchema::DigestFirst => 1,
        }
    }

    /// Byte position of the digest block in the challenge.
    pub fn digest_block_start(self) -> usize {
        match self {
            DigestSchema::KeyFirst => 772,
            DigestSchema::DigestFirst => 8,
        }
    }

    /// Byte position of the 32-byte digest in `challenge`, from the block's 4 offset bytes.
    /// Always within 12..=1503, so the digest fits.
    pub fn digest_offset(self, challenge: &[u8; HANDSHAKE_SIZE]) -> usize {
        let start = self.digest_block_start();
        let sum: usize = challenge[start..start + 4]
            .iter()
            .map(|&b| b as usize)
            .sum();
        start + 4 + sum % 728
    }
}

/// A verified digest found in a challenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChallengeDigest {
    /// The schema in which it was found.
    pub schema: DigestSchema,
    /// Its byte position in the 1536-byte challenge.
    pub offset: usize,
    /// The digest itself; it keys the peer's response.
    pub value: [u8; DIGEST_SIZE],
}

fn new_mac(key: &[u8]) -> HmacSha256 {
    // HMAC is defined for keys of every length, so this cannot fail.
    HmacSha256::new_from_slice(key).expect("HMAC-SHA256 accepts keys of any length")
}

/// HMAC over the challenge without the 32 bytes at `offset` (`offset` ≤ 1504).
fn challenge_mac(challenge: &[u8; HANDSHAKE_SIZE], offset: usize, sender: Sender) -> HmacSha256 {
    let mut mac = new_mac(sender.challenge_key());
    let end = (offset + DIGEST_SIZE).min(HANDSHAKE_SIZE);
    mac.update(challenge.get(..offset).unwrap_or_default());
    mac.update(challenge.get(end..).unwrap_or_default());
    mac
}

/// Look for a valid digest in `challenge` (a C1 if `sender` is the client, an S1 if the
/// server), trying schema 0 then schema 1.
pub fn find_challenge_digest(
    challenge: &[u8; HANDSHAKE_SIZE],
    sender: Sender,
) -> Option<ChallengeDigest> {
    DigestSchema::ALL.into_iter().find_map(|schema| {
        let offset = schema.digest_offset(challenge);
        let value: [u8; DIGEST_SIZE] = challenge
            .get(offset..offset + DIGEST_SIZE)?
            .try_into()
            .ok()?;
        challenge_mac(challenge, offset, sender)
            .verify_slice(&value)
            .ok()
            .map(|()| ChallengeDigest {
                schema,
                offset,
                value,
            })
    })
}

/// Write the digest into `challenge` (whose other bytes are already final) in `schema`.
pub fn sign_challenge(
    challenge: &mut [u8; HANDSHAKE_SIZE],
    schema: DigestSchema,
    sender: Sender,
) -> ChallengeDigest {
    let offset = schema.digest_offset(challenge);
    let value: [u8; DIGEST_SIZE] = challenge_mac(challenge, offset, sender)
        .finalize()
        .into_bytes()
        .into();
    challenge[offset..offset + DIGEST_SIZE].copy_from_slice(&value);
    ChallengeDigest {
        schema,
        offset,
        value,
    }
}

/// Byte position of the digest in a response: its last 32 bytes.
pub const RESPONSE_DIGEST_OFFSET: usize = HANDSHAKE_SIZE - DIGEST_SIZE;

fn response_mac(peer_digest: &[u8; DIGEST_SIZE], sender: Sender) -> HmacSha256 {
    let mut key_mac = new_mac(sender.response_key());
    key_mac.update(peer_digest);
    let key = key_mac.finalize().into_bytes();
    new_mac(&key)
}

/// Write the digest into the last 32 bytes of `response` (a C2 if `sender` is the client, an
/// S2 if the server), keyed by the digest of the peer's challenge.
pub fn sign_response(
    response: &mut [u8; HANDSHAKE_SIZE],
    peer_digest: &[u8; DIGEST_SIZE],
    sender: Sender,
) {
    let mut mac = response_mac(peer_digest, sender);
    mac.update(&response[..RESPONSE_DIGEST_OFFSET]);
    let value = mac.finalize().into_bytes();
    response[RESPONSE_DIGEST_OFFSET..].copy_from_slice(&value);
}

/// True if `response` carries the digest answer to a challenge whose digest was `peer_digest`.
pub fn verify_response(
    response: &[u8; HANDSHAKE_SIZE],
    peer_digest: &[u8; DIGEST_SIZE],
    sender: Sender,
) -> bool {
    let mut mac = response_mac(peer_digest, sender);
    mac.update(&response[..RESPONSE_DIGEST_OFFSET]);
    mac.verify_slice(&response[RESPONSE_DIGEST_OFFSET..])
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_the_well_known_constants() {
        assert_eq!(&FLASH_PLAYER_KEY[..30], b"Genuine Adobe Flash Player 001");
        assert_eq!(
            &FLASH_MEDIA_SERVER_KEY[..36],
            b"Genuine Adobe Flash Media Server 001"
        );
        assert_eq!(FLASH_PLAYER_KEY[30..], KEY_TAIL);
        assert_eq!(FLASH_MEDIA_SERVER_KEY[36..], KEY_TAIL);
        assert_eq!(FLASH_MEDIA_SERVER_KEY[67], 0xae);
    }

    #[test]
    fn digest_offsets_stay_inside_their_block() {
        let mut c = [0u8; HANDSHAKE_SIZE];
        assert_eq!(DigestSchema::DigestFirst.digest_offset(&c), 12);
        assert_eq!(DigestSchema::KeyFirst.digest_offset(&c), 776);
        c[8..12].copy_from_slice(&[0xff; 4]);
        c[772..776].copy_from_slice(&[0xff; 4]);
        // 4 * 255 = 1020; 1020 % 728 = 292.
        assert_eq!(DigestSchema::DigestFirst.digest_offset(&c), 12 + 292);
        assert_eq!(DigestSchema::KeyFirst.digest_offset(&c), 776 + 292);
        for sum in 0..=1020usize {
            let off = sum % 728;
            assert!(12 + off + 32 <= 772 && 776 + off + 32 <= 1536);
        }
    }

    #[test]
    fn hmac_matches_rfc4231_case_2() {
        // Make sure the HMAC plumbing is the standard one.
        let mut mac = new_mac(b"Jefe");
        mac.update(b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn sign_then_find_in_both_schemas_and_not_with_wrong_key() {
        for schema in DigestSchema::ALL {
            for sender in [Sender::Client, Sender::Server] {
                let mut c = [0u8; HANDSHAKE_SIZE];
                for (i, b) in c.iter_mut().enumerate() {
                    *b = (i * 7 + 3) as u8;
                }
                let signed = sign_challenge(&mut c, schema, sender);
                assert_eq!(signed.schema, schema);
                assert_eq!(find_challenge_digest(&c, sender), Some(signed));
                assert_eq!(find_challenge_digest(&c, sender.peer()), None);
                c[signed.offset] ^= 1;
                assert_eq!(find_challenge_digest(&c, sender), None);
            }
        }
    }

    #[test]
    fn response_digest_round_trip() {
        let peer = [0x5a; DIGEST_SIZE];
        let mut r = [0x11u8; HANDSHAKE_SIZE];
        sign_response(&mut r, &peer, Sender::Server);
        assert!(verify_response(&r, &peer, Sender::Server));
        assert!(!verify_response(&r, &peer, Sender::Client));
        assert!(!verify_response(&r, &[0; DIGEST_SIZE], Sender::Server));
        r[0] ^= 0x80;
        assert!(!verify_response(&r, &peer, Sender::Server));
    }
}
