//! Arbitrary bytes in arbitrary splits into a server and a client handshake: no panic, and the
//! byte accounting of `feed` stays consistent.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rtmpkit_proto::rtmp::handshake::{
    ClientConfig, ClientHandshake, DigestSchema, HandshakeError, HandshakeScheme, Sender,
    ServerConfig, ServerHandshake, VersionPolicy, analyze_challenge, analyze_response,
};

/// A fixed "random" source, so a crash reproduces from its input alone.
struct Counter(u8);

impl rand::RngCore for Counter {
    fn next_u32(&mut self) -> u32 {
        u32::from(self.next_byte())
    }
    fn next_u64(&mut self) -> u64 {
        u64::from(self.next_byte())
    }
    fn fill_bytes(&mut self, dst: &mut [u8]) {
        for b in dst {
            *b = self.next_byte();
        }
    }
}

impl Counter {
    fn next_byte(&mut self) -> u8 {
        self.0 = self.0.wrapping_mul(73).wrapping_add(41);
        self.0
    }
}

/// Feed `stream` in pieces whose sizes come from `sizes`; check what `feed` reports.
fn drive(
    mut feed: impl FnMut(&[u8]) -> Result<usize, HandshakeError>,
    mut poll: impl FnMut() -> usize,
    done: impl Fn() -> bool,
    stream: &[u8],
    sizes: &[u8],
) {
    let mut at = 0;
    let mut i = 0;
    while at < stream.len() {
        let size = sizes
            .get(i % sizes.len().max(1))
            .map_or(stream.len(), |&s| {
                // Mostly small pieces, sometimes whole messages.
                if s == 0 { 1537 } else { usize::from(s) * 13 }
            });
        i += 1;
        let end = (at + size).min(stream.len());
        let piece = &stream[at..end];
        match feed(piece) {
            Ok(n) => {
                assert!(n <= piece.len());
                if n < piece.len() {
                    assert!(done(), "left bytes unconsumed before completion");
                }
            }
            Err(_) => {
                assert!(matches!(feed(piece), Err(HandshakeError::AlreadyFailed)));
                return;
            }
        }
        while poll() > 0 {}
        at = end;
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let Some((&n_sizes, rest)) = rest.split_first() else {
        return;
    };
    let (sizes, stream) = rest.split_at(usize::from(n_sizes % 16).min(rest.len()));

    let policy = if flags & 1 != 0 {
        VersionPolicy::Lenient
    } else {
        VersionPolicy::Strict
    };
    let scheme = match (flags >> 1) % 3 {
        0 => HandshakeScheme::Simple,
        1 => HandshakeScheme::Digest(DigestSchema::KeyFirst),
        _ => HandshakeScheme::Digest(DigestSchema::DigestFirst),
    };
    let server_cfg = ServerConfig {
        version_policy: policy,
        allow_digest: flags & 0x10 != 0,
        ..ServerConfig::default()
    };
    let client_cfg = ClientConfig {
        scheme,
        version_policy: policy,
        send_c2_before_s2: flags & 0x20 != 0,
        ..ClientConfig::default()
    };

    let server = std::cell::RefCell::new(ServerHandshake::new(server_cfg, 1, &mut Counter(flags)));
    drive(
        |b| server.borrow_mut().feed(b),
        || server.borrow_mut().poll_transmit().map_or(0, |b| b.len()),
        || server.borrow().is_complete(),
        stream,
        sizes,
    );
    let _ = server.borrow().summary();

    let client =
        std::cell::RefCell::new(ClientHandshake::new(client_cfg, 2, &mut Counter(n_sizes)));
    drive(
        |b| client.borrow_mut().feed(b),
        || client.borrow_mut().poll_transmit().map_or(0, |b| b.len()),
        || client.borrow().is_complete(),
        stream,
        sizes,
    );
    let _ = client.borrow().summary();

    // The passive analysis on whatever 1536-byte windows the input has.
    if let (Some(a), Some(b)) = (stream.get(..1536), stream.get(1536..3072)) {
        let _ = analyze_challenge(a, Sender::Client);
        let _ = analyze_challenge(b, Sender::Server);
        let _ = analyze_response(b, a, Sender::Server);
        let _ = analyze_response(a, b, Sender::Client);
    }
});
