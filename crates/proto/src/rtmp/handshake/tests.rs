//! Server and client driven against each other in memory, in every combination and split.

use bytes::BytesMut;
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::*;

/// The start of seed 000's `connect('live')` chunk: what follows C2 in the same segment.
const CONNECT_PREFIX: &str = "030000000000901400000000020007636f6e6e656374";

const SCHEMES: [HandshakeScheme; 3] = [
    HandshakeScheme::Simple,
    HandshakeScheme::Digest(DigestSchema::KeyFirst),
    HandshakeScheme::Digest(DigestSchema::DigestFirst),
];

#[derive(Clone)]
struct Setup {
    server: ServerConfig,
    client: ClientConfig,
}

impl Setup {
    fn new(scheme: HandshakeScheme, allow_digest: bool, c2_early: bool) -> Self {
        Setup {
            server: ServerConfig {
                allow_digest,
                ..ServerConfig::default()
            },
            client: ClientConfig {
                scheme,
                send_c2_before_s2: c2_early,
                ..ClientConfig::default()
            },
        }
    }

    fn server(&self) -> ServerHandshake {
        ServerHandshake::new(
            self.server.clone(),
            0x0102_0304,
            &mut StdRng::seed_from_u64(7),
        )
    }

    fn client(&self) -> ClientHandshake {
        ClientHandshake::new(
            self.client.clone(),
            0x0a0b_0c0d,
            &mut StdRng::seed_from_u64(9),
        )
    }

    fn all() -> Vec<Setup> {
        let mut v = Vec::new();
        for scheme in SCHEMES {
            for allow in [true, false] {
                for early in [true, false] {
                    v.push(Setup::new(scheme, allow, early));
                }
            }
        }
        v
    }
}

fn drain(out: &mut Vec<u8>, mut next: impl FnMut() -> Option<bytes::Bytes>) {
    while let Some(b) = next() {
        assert!(!b.is_empty());
        out.extend_from_slice(&b);
    }
}

/// Everything each side sent in an unsplit run, with `connect` appended after the client's C2
/// and a chunk after the server's S2 (both must be left unconsumed).
struct Transcript {
    client_to_server: Vec<u8>,
    server_to_client: Vec<u8>,
    server: ServerHandshake,
    client: ClientHandshake,
}

fn run(setup: &Setup) -> Transcript {
    let mut server = setup.server();
    let mut client = setup.client();
    let (mut c2s, mut s2c) = (Vec::new(), Vec::new());
    let (mut c_sent, mut s_sent) = (0, 0);
    for _ in 0..10 {
        drain(&mut c2s, || client.poll_transmit());
        let n = server.feed(&c2s[c_sent..]).unwrap();
        c_sent += n;
        drain(&mut s2c, || server.poll_transmit());
        let n = client.feed(&s2c[s_sent..]).unwrap();
        s_sent += n;
        if server.is_complete() && client.is_complete() {
            break;
        }
    }
    drain(&mut c2s, || client.poll_transmit());
    assert!(server.is_complete() && client.is_complete());
    assert_eq!(server.feed(&c2s[c_sent..]).unwrap(), 0, "C2 consumed early");
    assert_eq!(c2s.len(), 1 + 2 * HANDSHAKE_SIZE);
    assert_eq!(s2c.len(), 1 + 2 * HANDSHAKE_SIZE);
    c2s.extend_from_slice(&hex::decode(CONNECT_PREFIX).unwrap());
    s2c.extend_from_slice(&[0x02, 0, 0, 0, 0, 0, 4, 5]);
    Transcript {
        client_to_server: c2s,
        server_to_client: s2c,
        server,
        client,
    }
}

fn expected_scheme(setup: &Setup) -> HandshakeScheme {
    match setup.client.scheme {
        HandshakeScheme::Digest(_) if setup.server.allow_digest => setup.client.scheme,
        _ => HandshakeScheme::Simple,
    }
}

#[test]
fn every_combination_completes_with_the_expected_summary() {
    for setup in Setup::all() {
        let t = run(&setup);
        let scheme = expected_scheme(&setup);
        let digest = scheme != HandshakeScheme::Simple;
        let want_response = if digest {
            ResponseKind::DigestResponse
        } else {
            ResponseKind::Echo
        };

        let s = *t.server.summary().unwrap();
        assert_eq!(s.scheme, scheme);
        assert_eq!(s.peer_version_byte, 3);
        assert_eq!(s.peer_challenge.time, 0x0a0b_0c0d);
        let client_digest = setup.client.scheme != HandshakeScheme::Simple;
        assert_eq!(s.peer_challenge.digest.is_some(), client_digest);
        assert_eq!(s.peer_challenge.scheme(), setup.client.scheme);
        let flash = if client_digest {
            [9, 0, 124, 2]
        } else {
            [0; 4]
        };
        assert_eq!(s.peer_challenge.version, flash);
        assert_eq!(s.peer_response, want_response);
        assert_eq!(s.peer_response_verified(), digest);

        let c = *t.client.summary().unwrap();
        assert_eq!(c.scheme, scheme);
        assert_eq!(c.peer_version_byte, 3);
        assert_eq!(c.peer_challenge.time, 0x0102_0304);
        assert_eq!(c.peer_challenge.scheme(), scheme);
        let fms = if digest { [3, 0, 1, 123] } else { [0; 4] };
        assert_eq!(c.peer_challenge.version, fms);
        assert_eq!(c.peer_response, want_response);

        // The passive analysis sees the same thing in the transcript.
        let (c2s, s2c) = (&t.client_to_server, &t.server_to_client);
        let (c1, c2) = (&c2s[1..1537], &c2s[1537..3073]);
        let (s1, s2) = (&s2c[1..1537], &s2c[1537..3073]);
        assert_eq!(
            analyze_challenge(c1, Sender::Client).unwrap(),
            s.peer_challenge
        );
        assert_eq!(
            analyze_challenge(s1, Sender::Server).unwrap(),
            c.peer_challenge
        );
        assert_eq!(
            analyze_response(s2, c1, Sender::Server).unwrap(),
            want_response
        );
        assert_eq!(
            analyze_response(c2, s1, Sender::Client).unwrap(),
            want_response
        );
        if !digest {
            assert_eq!(s2, c1, "simple S2 is C1 echoed");
            assert_eq!(c2, s1, "simple C2 is S1 echoed");
        }
    }
}

#[test]
fn same_seed_same_bytes() {
    let setup = Setup::new(SCHEMES[2], true, true);
    let (a, b) = (run(&setup), run(&setup));
    assert_eq!(a.client_to_server, b.client_to_server);
    assert_eq!(a.server_to_client, b.server_to_client);
}

/// Feed a recorded peer stream to a fresh endpoint in the given pieces; return what it sent
/// and how many bytes it consumed.
fn replay<E: Endpoint>(mut e: E, stream: &[u8], cuts: &[usize]) -> (Vec<u8>, usize, E) {
    let mut sent = Vec::new();
    let mut used = 0;
    let mut start = 0;
    for &end in cuts.iter().chain(std::iter::once(&stream.len())) {
        drain(&mut sent, || e.poll());
        let piece = &stream[start..end];
        let n = e.feed(piece).unwrap();
        assert!(n <= piece.len());
        used += n;
        if n < piece.len() {
            assert!(e.done(), "stopped consuming before completion");
        }
        start = end;
    }
    drain(&mut sent, || e.poll());
    (sent, used, e)
}

trait Endpoint {
    fn feed(&mut self, data: &[u8]) -> Result<usize, HandshakeError>;
    fn poll(&mut self) -> Option<bytes::Bytes>;
    fn done(&self) -> bool;
}

impl Endpoint for ServerHandshake {
    fn feed(&mut self, data: &[u8]) -> Result<usize, HandshakeError> {
        ServerHandshake::feed(self, data)
    }
    fn poll(&mut self) -> Option<bytes::Bytes> {
        self.poll_transmit()
    }
    fn done(&self) -> bool {
        self.is_complete()
    }
}

impl Endpoint for ClientHandshake {
    fn feed(&mut self, data: &[u8]) -> Result<usize, HandshakeError> {
        ClientHandshake::feed(self, data)
    }
    fn poll(&mut self) -> Option<bytes::Bytes> {
        self.poll_transmit()
    }
    fn done(&self) -> bool {
        self.is_complete()
    }
}

const HANDSHAKE_STREAM: usize = 1 + 2 * HANDSHAKE_SIZE;

/// Split positions to try: every one for the three client schemes against a digest-capable
/// server; for the other combinations, the neighbourhood of each message boundary and a
/// sample (debug-build HMAC is slow enough that all of them would take half a minute).
fn split_points(setup: &Setup, len: usize, rng: &mut StdRng) -> Vec<usize> {
    use rand::Rng;
    if setup.server.allow_digest && setup.client.send_c2_before_s2 {
        return (0..=len).collect();
    }
    let mut v: Vec<usize> = [0, 1, 1537, 3073]
        .iter()
        .flat_map(|&b: &usize| b.saturating_sub(3)..=b + 3)
        .chain((0..40).map(|_| rng.random_range(0..=len)))
        .filter(|&p| p <= len)
        .collect();
    v.push(len);
    v
}

#[test]
fn every_two_way_split_of_either_stream() {
    let mut rng = StdRng::seed_from_u64(5);
    for setup in Setup::all() {
        let t = run(&setup);
        let (c2s, s2c) = (&t.client_to_server, &t.server_to_client);
        let fresh_server = setup.server();
        for p in split_points(&setup, c2s.len(), &mut rng) {
            let (sent, used, server) = replay(fresh_server.clone(), c2s, &[p]);
            assert!(server.is_complete(), "split at {p}");
            assert_eq!(used, HANDSHAKE_STREAM, "split at {p}");
            assert_eq!(&sent[..], &s2c[..HANDSHAKE_STREAM], "split at {p}");
            assert_eq!(server.summary(), t.server.summary());
        }
        let fresh_client = setup.client();
        for p in split_points(&setup, s2c.len(), &mut rng) {
            let (sent, used, client) = replay(fresh_client.clone(), s2c, &[p]);
            assert!(client.is_complete(), "split at {p}");
            assert_eq!(used, HANDSHAKE_STREAM, "split at {p}");
            assert_eq!(&sent[..], &c2s[..HANDSHAKE_STREAM], "split at {p}");
            assert_eq!(client.summary(), t.client.summary());
        }
    }
}

#[test]
fn byte_by_byte_and_random_multi_splits() {
    use rand::Rng;
    let mut rng = StdRng::seed_from_u64(42);
    for setup in Setup::all() {
        let t = run(&setup);
        let (c2s, s2c) = (&t.client_to_server, &t.server_to_client);
        for stream_is_c2s in [true, false] {
            let stream = if stream_is_c2s { c2s } else { s2c };
            let every: Vec<usize> = (1..stream.len()).collect();
            let mut plans = vec![every];
            for _ in 0..20 {
                let mut cuts: Vec<usize> = (0..rng.random_range(1..8))
                    .map(|_| rng.random_range(0..=stream.len()))
                    .collect();
                cuts.sort_unstable();
                plans.push(cuts);
            }
            for cuts in plans {
                let (sent, used, done) = if stream_is_c2s {
                    let (s, u, e) = replay(setup.server(), stream, &cuts);
                    (s, u, e.is_complete())
                } else {
                    let (s, u, e) = replay(setup.client(), stream, &cuts);
                    (s, u, e.is_complete())
                };
                let other = if stream_is_c2s { s2c } else { c2s };
                assert!(done);
                assert_eq!(used, HANDSHAKE_STREAM);
                assert_eq!(&sent[..], &other[..HANDSHAKE_STREAM]);
            }
        }
    }
}

#[test]
fn trailing_connect_is_left_for_the_chunk_reader() {
    let setup = Setup::new(SCHEMES[1], true, true);
    let t = run(&setup);
    let mut server = setup.server();
    let all = &t.client_to_server;
    let n = server.feed(all).unwrap();
    assert_eq!(n, HANDSHAKE_STREAM);
    assert!(server.is_complete());
    assert_eq!(hex::encode(&all[n..]), CONNECT_PREFIX);
    assert_eq!(server.feed(&all[n..]).unwrap(), 0);
}

#[test]
fn wire_sizes_match_the_seed_capture() {
    // Seed 003's capture: C0+C1 is 1537 bytes, S0+S1+S2 3073, C2 1536.
    let setup = Setup::new(SCHEMES[2], true, true);
    let mut client = setup.client();
    let mut server = setup.server();
    let c0c1 = client.poll_transmit().unwrap();
    assert_eq!(c0c1.len(), 1537);
    assert_eq!(client.poll_transmit(), None);
    server.feed(&c0c1).unwrap();
    let s0s1s2 = server.poll_transmit().unwrap();
    assert_eq!(s0s1s2.len(), 3073);
    client.feed(&s0s1s2).unwrap();
    let c2 = client.poll_transmit().unwrap();
    assert_eq!(c2.len(), 1536);
}

#[test]
fn ordering_rules() {
    let setup = Setup::new(SCHEMES[1], true, false);
    let mut server = setup.server();
    let mut client = setup.client();
    let c0c1 = client.poll_transmit().unwrap();

    // S0 goes out on C0 alone; S1 and S2 not before C1 is complete.
    assert_eq!(server.feed(&c0c1[..1]).unwrap(), 1);
    assert_eq!(server.poll_transmit().as_deref(), Some(&[3u8][..]));
    assert_eq!(server.feed(&c0c1[1..1536]).unwrap(), 1535);
    assert_eq!(server.poll_transmit(), None);
    assert_eq!(server.feed(&c0c1[1536..]).unwrap(), 1);
    let s1s2 = server.poll_transmit().unwrap();
    assert_eq!(s1s2.len(), 2 * HANDSHAKE_SIZE);
    assert!(!server.is_complete());

    // With send_c2_before_s2 = false the client holds C2 until S2 is read.
    client.feed(&[3]).unwrap();
    client.feed(&s1s2[..HANDSHAKE_SIZE]).unwrap();
    assert_eq!(client.poll_transmit(), None);
    assert!(!client.is_complete());
    client.feed(&s1s2[HANDSHAKE_SIZE..]).unwrap();
    assert!(client.is_complete());
    let c2 = client.poll_transmit().unwrap();
    assert_eq!(c2.len(), HANDSHAKE_SIZE);
    assert_eq!(server.feed(&c2).unwrap(), HANDSHAKE_SIZE);
    assert!(server.is_complete());
    assert_eq!(server.poll_transmit(), None);
}

#[test]
fn tolerates_peers_that_answer_with_garbage() {
    // A digest client talking to a server whose S1 carries no digest and whose S2 is noise.
    let setup = Setup::new(SCHEMES[2], true, true);
    let mut client = setup.client();
    let _c0c1 = client.poll_transmit().unwrap();
    let mut stream = BytesMut::new();
    stream.extend_from_slice(&[3]);
    stream.extend_from_slice(&[0x55; HANDSHAKE_SIZE]);
    stream.extend_from_slice(&[0x66; HANDSHAKE_SIZE]);
    assert_eq!(client.feed(&stream).unwrap(), HANDSHAKE_STREAM);
    let sum = *client.summary().unwrap();
    assert_eq!(sum.scheme, HandshakeScheme::Simple);
    assert_eq!(sum.peer_response, ResponseKind::Unrecognized);
    // C2 falls back to an echo of S1.
    assert_eq!(
        &client.poll_transmit().unwrap()[..],
        &[0x55; HANDSHAKE_SIZE][..]
    );

    // A server whose client sends a C2 that is neither echo nor digest.
    let mut server = setup.server();
    let mut c = vec![3u8];
    c.extend_from_slice(&[0; HANDSHAKE_SIZE]);
    c.extend_from_slice(&[0x77; HANDSHAKE_SIZE]);
    assert_eq!(server.feed(&c).unwrap(), HANDSHAKE_STREAM);
    let sum = *server.summary().unwrap();
    assert_eq!(sum.scheme, HandshakeScheme::Simple);
    assert_eq!(sum.peer_response, ResponseKind::Unrecognized);
}

#[test]
fn version_errors() {
    let setup = Setup::new(HandshakeScheme::Simple, true, true);
    let mut server = setup.server();
    let err = server.feed(&[6, 0, 0]).unwrap_err();
    assert_eq!(
        err,
        HandshakeError::EncryptedNotSupported {
            part: HandshakePart::C0,
            version: 6
        }
    );
    assert!(err.to_string().contains("encrypted RTMPE not supported"));
    assert_eq!(server.poll_transmit(), None, "no S0 for a refused C0");
    assert_eq!(server.feed(&[3]), Err(HandshakeError::AlreadyFailed));
    assert!(!server.is_complete());

    let err = setup.server().feed(&[4]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "unsupported RTMP version: C0 version byte is 0x04, expected 0x03"
    );
    let err = setup.server().feed(b"GET / HTTP/1.1\r\n").unwrap_err();
    assert!(
        matches!(err, HandshakeError::NotRtmp { version: b'G', .. }),
        "{err}"
    );
    let err = setup.server().feed(&[0x16, 3, 1]).unwrap_err();
    assert!(err.to_string().contains("TLS"), "{err}");

    let mut client = setup.client();
    let err = client.feed(&[6]).unwrap_err();
    assert_eq!(
        err,
        HandshakeError::EncryptedNotSupported {
            part: HandshakePart::S0,
            version: 6
        }
    );
    assert_eq!(client.feed(&[3]), Err(HandshakeError::AlreadyFailed));
}

#[test]
fn lenient_policy_answers_other_versions_with_3() {
    let mut setup = Setup::new(SCHEMES[2], true, true);
    setup.server.version_policy = VersionPolicy::Lenient;
    let t = run(&setup);
    let mut c2s = t.client_to_server.clone();
    c2s[0] = 0; // a deprecated version byte
    let mut server = setup.server();
    assert_eq!(server.feed(&c2s).unwrap(), HANDSHAKE_STREAM);
    assert!(server.is_complete());
    let sum = server.summary().unwrap();
    assert_eq!(sum.peer_version_byte, 0);
    let out = server.poll_transmit().unwrap();
    assert_eq!(out[0], 3);
    assert_eq!(&out[..], &t.server_to_client[..HANDSHAKE_STREAM]);
    // Still no RTMPE.
    assert!(setup.server().feed(&[9]).is_err());
}

#[test]
fn digest_refused_by_config_gives_simple_answer_to_a_digest_client() {
    let setup = Setup::new(SCHEMES[1], false, true);
    let t = run(&setup);
    let s1 = &t.server_to_client[1..1537];
    assert_eq!(&s1[4..8], &[0; 4]);
    assert_eq!(
        &t.server_to_client[1537..3073],
        &t.client_to_server[1..1537]
    );
    assert_eq!(
        t.server
            .summary()
            .unwrap()
            .peer_challenge
            .digest
            .map(|d| d.schema),
        Some(DigestSchema::KeyFirst)
    );
}
