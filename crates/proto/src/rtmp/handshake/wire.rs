//! The three handshake wire messages: the version byte (C0/S0), the challenge (C1/S1) and the
//! response (C2/S2). Each is a fixed size; the digest scheme only changes what the random
//! bytes hold, which is the business of [`super::digest`].

use bytes::{BufMut, BytesMut};

use super::error::{HandshakeError, HandshakePart};

/// Length of C1, S1, C2 and S2.
pub const HANDSHAKE_SIZE: usize = 1536;
/// Length of the random part of C1/S1 and C2/S2 (everything after the two 4-byte fields).
pub const RANDOM_SIZE: usize = HANDSHAKE_SIZE - 8;
/// The only RTMP version in use: plain RTMP.
pub const RTMP_VERSION: u8 = 3;
/// RTMPE (encrypted RTMP); 8 and 9 are its XTEA and Blowfish variants.
const RTMPE_VERSIONS: [u8; 3] = [6, 8, 9];

/// How strictly a received C0/S0 version byte is judged.
///
/// nginx's RTMP module and SRS both reject any C0 other than 3, and so does the default here.
/// The RTMP specification says a server that does not recognise the requested version
/// "should respond with 3" and leaves it to the client to carry on or not; [`Lenient`] does
/// that for the values the specification does not forbid. Whatever the policy, RTMPE
/// (6, 8, 9) and bytes that cannot be RTMP (0x16, which starts a TLS ClientHello, and
/// anything from 32 up) are refused with their own errors.
///
/// [`Lenient`]: VersionPolicy::Lenient
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VersionPolicy {
    /// Accept only 3 (as nginx-rtmp and SRS do).
    #[default]
    Strict,
    /// Also accept the deprecated (0–2) and reserved (4–31) values, answering with 3.
    Lenient,
}

impl VersionPolicy {
    /// Judge a received version byte; `part` (C0 or S0) names it in the error.
    pub fn check(self, part: HandshakePart, version: u8) -> Result<(), HandshakeError> {
        if version == RTMP_VERSION {
            return Ok(());
        }
        if RTMPE_VERSIONS.contains(&version) {
            return Err(HandshakeError::EncryptedNotSupported { part, version });
        }
        if version == 0x16 {
            return Err(HandshakeError::NotRtmp {
                part,
                version,
                guess: "it starts a TLS handshake (RTMPS sent to a plain RTMP port?)",
            });
        }
        if version >= 0x20 {
            let guess = match version {
                b'G' | b'P' | b'H' | b'O' | b'D' => "it looks like an HTTP request",
                _ => "RTMP version bytes are always below 0x20",
            };
            return Err(HandshakeError::NotRtmp {
                part,
                version,
                guess,
            });
        }
        match self {
            VersionPolicy::Lenient => Ok(()),
            VersionPolicy::Strict => Err(HandshakeError::UnsupportedVersion { part, version }),
        }
    }
}

/// C0 or S0: the single version byte that opens each side's handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VersionByte(pub u8);

impl VersionByte {
    /// Length on the wire.
    pub const LEN: usize = 1;

    /// Read the version byte from the first byte of `bytes` (which must not be empty).
    pub fn decode(bytes: &[u8]) -> Result<Self, HandshakeError> {
        match bytes.first() {
            Some(&v) => Ok(VersionByte(v)),
            None => Err(HandshakeError::WrongLength {
                message: "C0/S0",
                expected: Self::LEN,
                actual: 0,
            }),
        }
    }

    /// Append the byte to `out`.
    pub fn encode(&self, out: &mut BytesMut) {
        out.put_u8(self.0);
    }
}

/// C1 or S1: each side's challenge.
///
/// In the simple scheme `version` is zero and `random` is random. In the digest scheme
/// `version` is the sender's product version (Flash Player or FMS) and `random` carries a key
/// block and a digest block whose layout [`super::DigestSchema`] describes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// The sender's epoch in milliseconds (bytes 0–3, big-endian).
    pub time: u32,
    /// Bytes 4–7: zero in the simple scheme, else the sender's version (e.g. 9.0.124.2).
    pub version: [u8; 4],
    /// Bytes 8–1535.
    pub random: [u8; RANDOM_SIZE],
}

impl Challenge {
    /// Length on the wire.
    pub const LEN: usize = HANDSHAKE_SIZE;

    /// Decode a C1/S1; `bytes` must be exactly 1536 bytes long.
    pub fn decode(bytes: &[u8]) -> Result<Self, HandshakeError> {
        let (time, version, random) = split_fields(bytes, "C1/S1")?;
        Ok(Challenge {
            time,
            version,
            random,
        })
    }

    /// Append the 1536 bytes to `out`.
    pub fn encode(&self, out: &mut BytesMut) {
        out.put_slice(&self.to_bytes());
    }

    /// The 1536 wire bytes.
    pub fn to_bytes(&self) -> [u8; HANDSHAKE_SIZE] {
        join_fields(self.time, self.version, &self.random)
    }

    /// True if the version field is non-zero, i.e. the sender claims to use the digest scheme.
    pub fn claims_digest(&self) -> bool {
        self.version != [0; 4]
    }
}

/// C2 or S2: each side's response to the other's challenge.
///
/// In the simple scheme it echoes the peer's challenge (`time` = the peer's time, `time2` =
/// when the challenge was read, `random` = the peer's random). In the digest scheme it is
/// random bytes whose last 32 are a digest keyed by the peer's challenge digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Bytes 0–3: the peer's challenge time (simple scheme).
    pub time: u32,
    /// Bytes 4–7: when the peer's challenge was read (simple scheme).
    pub time2: u32,
    /// Bytes 8–1535.
    pub random: [u8; RANDOM_SIZE],
}

impl Response {
    /// Length on the wire.
    pub const LEN: usize = HANDSHAKE_SIZE;

    /// Decode a C2/S2; `bytes` must be exactly 1536 bytes long.
    pub fn decode(bytes: &[u8]) -> Result<Self, HandshakeError> {
        let (time, time2, random) = split_fields(bytes, "C2/S2")?;
        Ok(Response {
            time,
            time2: u32::from_be_bytes(time2),
            random,
        })
    }

    /// Append the 1536 bytes to `out`.
    pub fn encode(&self, out: &mut BytesMut) {
        out.put_slice(&self.to_bytes());
    }

    /// The 1536 wire bytes.
    pub fn to_bytes(&self) -> [u8; HANDSHAKE_SIZE] {
        join_fields(self.time, self.time2.to_be_bytes(), &self.random)
    }
}

type Fields = (u32, [u8; 4], [u8; RANDOM_SIZE]);

fn split_fields(bytes: &[u8], message: &'static str) -> Result<Fields, HandshakeError> {
    let whole: &[u8; HANDSHAKE_SIZE] =
        bytes.try_into().map_err(|_| HandshakeError::WrongLength {
            message,
            expected: HANDSHAKE_SIZE,
            actual: bytes.len(),
        })?;
    // Fixed-size array, constant ranges: these slices cannot go out of bounds.
    let [t0, t1, t2, t3, v0, v1, v2, v3, ..] = *whole;
    let mut random = [0u8; RANDOM_SIZE];
    random.copy_from_slice(&whole[8..]);
    Ok((
        u32::from_be_bytes([t0, t1, t2, t3]),
        [v0, v1, v2, v3],
        random,
    ))
}

fn join_fields(time: u32, second: [u8; 4], random: &[u8; RANDOM_SIZE]) -> [u8; HANDSHAKE_SIZE] {
    let mut out = [0u8; HANDSHAKE_SIZE];
    out[..4].copy_from_slice(&time.to_be_bytes());
    out[4..8].copy_from_slice(&second);
    out[8..].copy_from_slice(random);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pad a seed prefix (the capture shows only the first 16 bytes) to `len` bytes.
    pub(crate) fn padded(prefix: &[u8], len: usize) -> Vec<u8> {
        let mut v = prefix.to_vec();
        v.resize(len, 0);
        v
    }

    #[test]
    fn seed_000_c0_c1_fields() {
        // Seed 000, "c0 + c1" from ffmpeg publishing to nginx-rtmp.
        let wire = hex::decode("0300000000 09007c02 f778551eceab8e".replace(' ', "")).unwrap();
        let all = padded(&wire, 1 + HANDSHAKE_SIZE);
        let c0 = VersionByte::decode(&all).unwrap();
        assert_eq!(c0, VersionByte(3));
        let c1 = Challenge::decode(&all[1..]).unwrap();
        assert_eq!(c1.time, 0);
        assert_eq!(c1.version, [9, 0, 124, 2]);
        assert!(c1.claims_digest());
        assert_eq!(&c1.random[..7], &hex::decode("f778551eceab8e").unwrap()[..]);
        let mut out = BytesMut::new();
        c0.encode(&mut out);
        c1.encode(&mut out);
        assert_eq!(&out[..], &all[..]);
    }

    #[test]
    fn seed_000_s0_s1_and_c2_fields() {
        let s0s1 = hex::decode("03be0e85c40d0e0a0dd6b647a8555bf4").unwrap();
        let all = padded(&s0s1, 1 + HANDSHAKE_SIZE);
        assert_eq!(VersionByte::decode(&all).unwrap(), VersionByte(3));
        let s1 = Challenge::decode(&all[1..]).unwrap();
        assert_eq!(s1.time, 0xbe0e_85c4);
        assert_eq!(s1.version, [13, 14, 10, 13]);
        assert_eq!(s1.to_bytes()[..], all[1..]);

        // S2, as far as Wireshark printed it: random plus digest, so time/time2 are noise.
        let s2 = padded(
            &hex::decode("6277d56adbc51935eb6b801a44a36f4c").unwrap(),
            1536,
        );
        let s2 = Response::decode(&s2).unwrap();
        assert_eq!(s2.time, 0x6277_d56a);
        assert_eq!(s2.time2, 0xdbc5_1935);

        // C2 from ffmpeg (publishing): an echo of S1, so its fields are S1's.
        let c2 = padded(
            &hex::decode("be0e85c40d0e0a0dd6b647a8555bf420").unwrap(),
            1536,
        );
        let c2r = Response::decode(&c2).unwrap();
        assert_eq!(c2r.time, 0xbe0e_85c4);
        assert_eq!(c2r.time2, 0x0d0e_0a0d);
        assert_eq!(c2r.to_bytes()[..], c2[..]);
    }

    #[test]
    fn wrong_lengths_are_errors() {
        assert_eq!(
            Challenge::decode(&[0; 1535]),
            Err(HandshakeError::WrongLength {
                message: "C1/S1",
                expected: 1536,
                actual: 1535
            })
        );
        assert!(Response::decode(&[0; 1537]).is_err());
        assert!(VersionByte::decode(&[]).is_err());
    }

    #[test]
    fn version_policy() {
        use HandshakePart::C0;
        assert_eq!(VersionPolicy::Strict.check(C0, 3), Ok(()));
        for v in [6, 8, 9] {
            for p in [VersionPolicy::Strict, VersionPolicy::Lenient] {
                let e = p.check(C0, v).unwrap_err();
                assert_eq!(
                    e,
                    HandshakeError::EncryptedNotSupported {
                        part: C0,
                        version: v
                    }
                );
                assert!(e.to_string().contains("encrypted RTMPE not supported"));
            }
        }
        let e = VersionPolicy::Strict.check(C0, 4).unwrap_err();
        assert!(e.to_string().contains("0x04"), "{e}");
        assert_eq!(VersionPolicy::Lenient.check(C0, 4), Ok(()));
        assert_eq!(VersionPolicy::Lenient.check(C0, 0), Ok(()));
        let e = VersionPolicy::Lenient.check(C0, b'G').unwrap_err();
        assert!(e.to_string().contains("HTTP"), "{e}");
        let e = VersionPolicy::Lenient.check(C0, 0x16).unwrap_err();
        assert!(e.to_string().contains("TLS"), "{e}");
        assert!(matches!(
            VersionPolicy::Lenient.check(C0, 0xff),
            Err(HandshakeError::NotRtmp { .. })
        ));
    }
}
