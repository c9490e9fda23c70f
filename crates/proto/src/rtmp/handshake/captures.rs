//! Handshakes recorded from implementations we did not write (testdata/):
//!
//! - `ffmpeg_c0c1.bin`: C0+C1 from ffmpeg 5.1 (`ffmpeg -i rtmp://…`). ffmpeg's C1 random comes
//!   from a fixed-seed generator and its time is 0, so this is byte for byte the C0+C1 whose
//!   first 16 bytes seed 000 prints.
//! - `nginx_s0s1s2_for_ffmpeg.bin`: nginx-rtmp (Debian's libnginx-mod-rtmp) answering it.
//! - `rtmpkit_client_to_nginx.bin` / `nginx_to_rtmpkit_client.bin`: a digest handshake between
//!   our client (schema 1) and nginx-rtmp, C0+C1+C2 and S0+S1+S2.

use rand::RngCore;

use super::*;

const FFMPEG_C0C1: &[u8; 1537] = include_bytes!("testdata/ffmpeg_c0c1.bin");
const NGINX_FOR_FFMPEG: &[u8; 3073] = include_bytes!("testdata/nginx_s0s1s2_for_ffmpeg.bin");
const OURS_TO_NGINX: &[u8; 3073] = include_bytes!("testdata/rtmpkit_client_to_nginx.bin");
const NGINX_TO_OURS: &[u8; 3073] = include_bytes!("testdata/nginx_to_rtmpkit_client.bin");

#[test]
fn ffmpeg_c1_is_the_seed_000_c1_and_its_digest_verifies() {
    // Seed 000: "03 00 00 00 00 09 00 7c 02 f7 78 55 1e ce ab 8e".
    assert_eq!(
        hex::encode(&FFMPEG_C0C1[..16]),
        "030000000009007c02f778551eceab8e"
    );
    assert_eq!(VersionByte::decode(FFMPEG_C0C1).unwrap(), VersionByte(3));
    let c1 = Challenge::decode(&FFMPEG_C0C1[1..]).unwrap();
    assert_eq!(c1.time, 0);
    assert_eq!(c1.version, [9, 0, 124, 2]);
    assert_eq!(&c1.to_bytes()[..], &FFMPEG_C0C1[1..]);

    let info = analyze_challenge(&FFMPEG_C0C1[1..], Sender::Client).unwrap();
    let d = info.digest.expect("ffmpeg signs C1");
    assert_eq!(d.schema, DigestSchema::DigestFirst);
    assert_eq!(d.offset, 494);
    assert_eq!(
        info.scheme(),
        HandshakeScheme::Digest(DigestSchema::DigestFirst)
    );
}

#[test]
fn nginx_answer_to_ffmpeg_verifies() {
    let (s0, s1, s2) = split(NGINX_FOR_FFMPEG);
    assert_eq!(s0, 3);
    let info = analyze_challenge(s1, Sender::Server).unwrap();
    // nginx-rtmp's version field, as in seed 000's S1 (0d 0e 0a 0d).
    assert_eq!(info.version, [13, 14, 10, 13]);
    // nginx always signs S1 in schema 1, whatever the client used.
    assert_eq!(
        info.digest.map(|d| d.schema),
        Some(DigestSchema::DigestFirst)
    );
    assert_eq!(
        analyze_response(s2, &FFMPEG_C0C1[1..], Sender::Server).unwrap(),
        ResponseKind::DigestResponse
    );
    // Not an echo, and not valid against another C1.
    assert_eq!(
        analyze_response(s2, s1, Sender::Server).unwrap(),
        ResponseKind::Unrecognized
    );
}

#[test]
fn our_server_answers_ffmpeg_c1_in_its_schema() {
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(3);
    let mut server = ServerHandshake::new(ServerConfig::default(), 1000, &mut rng);
    assert_eq!(server.feed(FFMPEG_C0C1).unwrap(), 1537);
    let out = server.poll_transmit().unwrap();
    let (s0, s1, s2) = split(out[..].try_into().unwrap());
    assert_eq!(s0, 3);
    let info = analyze_challenge(s1, Sender::Server).unwrap();
    assert_eq!(info.time, 1000);
    assert_eq!(info.version, [3, 0, 1, 123]);
    assert_eq!(
        info.digest.map(|d| d.schema),
        Some(DigestSchema::DigestFirst)
    );
    assert_eq!(
        analyze_response(s2, &FFMPEG_C0C1[1..], Sender::Server).unwrap(),
        ResponseKind::DigestResponse
    );
}

/// Plays back recorded bytes as "random" output, so a recorded C1/C2 can be rebuilt.
struct Playback<'a>(&'a [u8]);

impl RngCore for Playback<'_> {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0; 4];
        self.fill_bytes(&mut b);
        u32::from_be_bytes(b)
    }
    fn next_u64(&mut self) -> u64 {
        let mut b = [0; 8];
        self.fill_bytes(&mut b);
        u64::from_be_bytes(b)
    }
    fn fill_bytes(&mut self, dst: &mut [u8]) {
        let n = dst.len().min(self.0.len());
        dst[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
    }
}

#[test]
fn our_client_against_nginx_replayed() {
    // Rebuild the client that made the recording: C1 random is C1[8..], then C2's 1536 bytes.
    let mut random = OURS_TO_NGINX[9..1537].to_vec();
    random.extend_from_slice(&OURS_TO_NGINX[1537..]);
    let mut client = ClientHandshake::new(ClientConfig::default(), 0, &mut Playback(&random));
    assert_eq!(&client.poll_transmit().unwrap()[..], &OURS_TO_NGINX[..1537]);

    assert_eq!(client.feed(NGINX_TO_OURS).unwrap(), 3073);
    assert!(client.is_complete());
    assert_eq!(&client.poll_transmit().unwrap()[..], &OURS_TO_NGINX[1537..]);
    let sum = *client.summary().unwrap();
    assert_eq!(
        sum.scheme,
        HandshakeScheme::Digest(DigestSchema::DigestFirst)
    );
    assert_eq!(sum.peer_challenge.version, [13, 14, 10, 13]);
    assert!(
        sum.peer_response_verified(),
        "nginx's S2 carries the digest answer"
    );
}

fn split(stream: &[u8; 3073]) -> (u8, &[u8], &[u8]) {
    (stream[0], &stream[1..1537], &stream[1537..])
}
