/// Which handshake message a problem was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandshakePart {
    /// The client's version byte.
    C0,
    /// The client's challenge (time, version, random).
    C1,
    /// The client's response to S1.
    C2,
    /// The server's version byte.
    S0,
    /// The server's challenge.
    S1,
    /// The server's response to C1.
    S2,
}

impl std::fmt::Display for HandshakePart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self {
            HandshakePart::C0 => "C0",
            HandshakePart::C1 => "C1",
            HandshakePart::C2 => "C2",
            HandshakePart::S0 => "S0",
            HandshakePart::S1 => "S1",
            HandshakePart::S2 => "S2",
        };
        f.write_str(name)
    }
}

/// Why a handshake (or a handshake message) was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandshakeError {
    /// The peer asked for RTMPE (version byte 6, or 8/9 for its XTEA/Blowfish variants).
    #[error(
        "encrypted RTMPE not supported: {part} version byte is {version} (use plain RTMP, version 3, or RTMPS)"
    )]
    EncryptedNotSupported {
        /// C0 or S0.
        part: HandshakePart,
        /// The version byte received.
        version: u8,
    },
    /// A version byte other than 3 that the configured [`super::VersionPolicy`] does not accept.
    #[error("unsupported RTMP version: {part} version byte is 0x{version:02x}, expected 0x03")]
    UnsupportedVersion {
        /// C0 or S0.
        part: HandshakePart,
        /// The version byte received.
        version: u8,
    },
    /// A first byte that no RTMP version uses: 0x16 (a TLS ClientHello) or 32 and above
    /// (an HTTP request starts with `G`, `P` or `H`).
    #[error("not RTMP: {part} first byte is 0x{version:02x}; {guess}")]
    NotRtmp {
        /// C0 or S0.
        part: HandshakePart,
        /// The byte received.
        version: u8,
        /// What the byte suggests the peer is speaking.
        guess: &'static str,
    },
    /// A handshake message given to a decoder with the wrong length.
    #[error("{message} must be exactly {expected} bytes, got {actual}")]
    WrongLength {
        /// Which message ("C1/S1", "C2/S2").
        message: &'static str,
        /// Its fixed length.
        expected: usize,
        /// The length supplied.
        actual: usize,
    },
    /// `feed` was called again after an error; the handshake cannot continue.
    #[error("the handshake already failed; no more input is accepted")]
    AlreadyFailed,
}
