//! Golden conversations: bytes recorded from real ffmpeg, rtmpdump and GStreamer sessions
//! against nginx's RTMP module (tests/fixtures/README.md says how), replayed through the chunk
//! reader, the message decoder and both sessions.

use std::collections::BTreeMap;
use std::path::PathBuf;

use rand::SeedableRng;
use rand::rngs::StdRng;
use rtmpkit_proto::rtmp::chunk::{ChunkLimits, ChunkReader};
use rtmpkit_proto::rtmp::message::{Message, PublishType, status};
use rtmpkit_proto::rtmp::session::{
    ClientConfig, ClientEvent, ClientSession, MediaKind, ServerConfig, ServerEvent, ServerSession,
};

/// C0+C1+C2 (or S0+S1+S2): what precedes the chunk stream in each direction.
const HANDSHAKE_LEN: usize = 1 + 1536 + 1536;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Role {
    Publish,
    Play,
}

/// What the real peers did in each recording (counted independently of tshark and of this crate
/// by scripts/lib/rtmp_messages.py; see the fixture README's tables).
struct Fixture {
    name: &'static str,
    role: Role,
    stream: &'static str,
    /// Messages per type id in the client's bytes.
    c2s: &'static [(u8, usize)],
    /// Messages per type id in the server's bytes.
    s2c: &'static [(u8, usize)],
    /// The client's last bytes are a chunk header whose message never came (see the README).
    c2s_cut_short: bool,
}

const FIXTURES: &[Fixture] = &[
    Fixture {
        name: "ffmpeg-publish-nginx",
        role: Role::Publish,
        stream: "room",
        c2s: &[(8, 132), (9, 77), (18, 1), (20, 7)],
        s2c: &[(20, 4)],
        c2s_cut_short: false,
    },
    Fixture {
        name: "ffmpeg-play-nginx",
        role: Role::Play,
        stream: "room",
        c2s: &[(20, 5)],
        s2c: &[(8, 113), (9, 42), (18, 2), (20, 3)],
        c2s_cut_short: false,
    },
    Fixture {
        name: "rtmpdump-play-nginx",
        role: Role::Play,
        stream: "room",
        c2s: &[(20, 5)],
        s2c: &[(8, 132), (9, 77), (18, 2), (20, 4)],
        c2s_cut_short: false,
    },
    Fixture {
        name: "gst-publish-nginx",
        role: Role::Publish,
        stream: "gst",
        c2s: &[(8, 130), (9, 77), (18, 24), (20, 7)],
        s2c: &[(20, 4)],
        c2s_cut_short: false,
    },
    Fixture {
        name: "ffmpeg-publish-nginx-chunk60000",
        role: Role::Publish,
        stream: "room",
        c2s: &[(8, 175), (9, 102), (18, 1), (20, 7)],
        s2c: &[(20, 4)],
        c2s_cut_short: false,
    },
    Fixture {
        name: "ffmpeg-play-nginx-chunk60000",
        role: Role::Play,
        stream: "room",
        c2s: &[(20, 4)],
        s2c: &[(8, 111), (9, 66), (18, 2), (20, 3)],
        c2s_cut_short: true,
    },
];

fn bytes(name: &str, direction: &str) -> Vec<u8> {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "..",
        "..",
        "tests",
        "fixtures",
        &format!("{name}.{direction}.bin"),
    ]
    .iter()
    .collect();
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn count(pairs: &[(u8, usize)], type_id: u8) -> usize {
    pairs
        .iter()
        .find(|(t, _)| *t == type_id)
        .map_or(0, |(_, n)| *n)
}

/// The chunk reader and message decoder alone: every message decodes, the counts per type are
/// the real ones, and nothing is left over.
#[test]
fn every_message_of_every_recording_decodes() {
    for f in FIXTURES {
        for (direction, expected, cut_short) in
            [("c2s", f.c2s, f.c2s_cut_short), ("s2c", f.s2c, false)]
        {
            let data = bytes(f.name, direction);
            let mut reader = ChunkReader::new(ChunkLimits::default());
            // Push in TCP-sized pieces, as a socket would deliver them.
            let mut counts: BTreeMap<u8, usize> = BTreeMap::new();
            for piece in data[HANDSHAKE_LEN..].chunks(1448) {
                reader.push(piece);
                while let Some(raw) = reader
                    .poll_message()
                    .unwrap_or_else(|e| panic!("{} {direction}: {e}", f.name))
                {
                    Message::decode(raw.type_id, raw.payload.clone()).unwrap_or_else(|e| {
                        panic!(
                            "{} {direction}: type {} at {}: {e}",
                            f.name, raw.type_id, raw.info.start_offset
                        )
                    });
                    *counts.entry(raw.type_id).or_default() += 1;
                }
            }
            for type_id in [8u8, 9, 18, 20] {
                assert_eq!(
                    counts.get(&type_id).copied().unwrap_or(0),
                    count(expected, type_id),
                    "{} {direction}: messages of type {type_id}",
                    f.name
                );
            }
            if cut_short {
                assert!(reader.buffered_len() > 0);
            } else {
                assert_eq!(
                    reader.buffered_len(),
                    0,
                    "{} {direction}: left over",
                    f.name
                );
            }
        }
    }
}

/// The client's bytes through a server session that accepts everything: it sees the same
/// request and the same media the real server did.
#[test]
fn server_session_replays_real_clients() {
    for f in FIXTURES {
        let data = bytes(f.name, "c2s");
        let mut s = ServerSession::new(ServerConfig::default(), 0, &mut StdRng::seed_from_u64(1));
        let mut events = Vec::new();
        for piece in data.chunks(1448) {
            s.feed(piece).unwrap_or_else(|e| panic!("{}: {e}", f.name));
            while let Some(e) = s.poll_event() {
                match &e {
                    ServerEvent::ConnectRequested(c) => {
                        assert_eq!(c.app, "live", "{}", f.name);
                        s.accept_connect().expect("accept connect");
                    }
                    ServerEvent::PublishRequested(p) => {
                        s.accept_publish(p.stream_id).expect("accept publish")
                    }
                    ServerEvent::PlayRequested(p) => {
                        s.accept_play(p.stream_id).expect("accept play")
                    }
                    _ => {}
                }
                events.push(e);
            }
            while s.poll_transmit().is_some() {}
        }
        let media = |kind| {
            events
                .iter()
                .filter(|e| matches!(e, ServerEvent::Media { kind: k, .. } if *k == kind))
                .count()
        };
        let data_messages = events
            .iter()
            .filter(|e| matches!(e, ServerEvent::Data { .. }))
            .count();
        match f.role {
            Role::Publish => {
                assert!(
                    events.iter().any(
                        |e| matches!(e, ServerEvent::PublishRequested(p) if p.name == f.stream)
                    ),
                    "{}: publish request",
                    f.name
                );
                assert_eq!(media(MediaKind::Video), count(f.c2s, 9), "{} video", f.name);
                assert_eq!(media(MediaKind::Audio), count(f.c2s, 8), "{} audio", f.name);
                assert_eq!(data_messages, count(f.c2s, 18), "{} data", f.name);
                assert!(
                    events
                        .iter()
                        .any(|e| matches!(e, ServerEvent::PublishStopped { .. })),
                    "{}: the publisher stops at the end",
                    f.name
                );
            }
            Role::Play => {
                let play = events
                    .iter()
                    .find_map(|e| match e {
                        ServerEvent::PlayRequested(p) => Some(p.clone()),
                        _ => None,
                    })
                    .unwrap_or_else(|| panic!("{}: play request", f.name));
                assert_eq!(play.name, f.stream);
                assert!(play.start < 0.0, "{}: live start {}", f.name, play.start);
            }
        }
        if f.c2s_cut_short {
            assert!(s.buffered_input() > 0);
        } else {
            assert_eq!(s.buffered_input(), 0, "{}: left over", f.name);
        }
    }
}

/// The server's bytes through a client session that makes the same calls the real client
/// made, fed one byte at a time so each answer arrives after its question: the client reaches
/// the state the real one reached and receives every media message.
#[test]
fn client_session_replays_real_servers() {
    for f in FIXTURES {
        let data = bytes(f.name, "s2c");
        let tc_url = "rtmp://127.0.0.1:19350/live";
        let config = match f.role {
            Role::Publish => ClientConfig::publisher("live", tc_url),
            Role::Play => ClientConfig::player("live", tc_url),
        };
        let mut c = ClientSession::new(config, 0, &mut StdRng::seed_from_u64(2));
        let mut events = Vec::new();
        for byte in data.chunks(1) {
            c.feed(byte).unwrap_or_else(|e| panic!("{}: {e}", f.name));
            while let Some(e) = c.poll_event() {
                match &e {
                    ClientEvent::Connected { .. } => match f.role {
                        Role::Publish => {
                            c.release_stream(f.stream).expect("releaseStream");
                            c.fc_publish(f.stream).expect("FCPublish");
                            c.create_stream().expect("createStream");
                        }
                        Role::Play => {
                            c.create_stream().expect("createStream");
                        }
                    },
                    ClientEvent::StreamCreated { stream_id, .. } => match f.role {
                        Role::Publish => c
                            .publish(*stream_id, f.stream, &PublishType::Live)
                            .expect("publish"),
                        Role::Play => c
                            .play(*stream_id, f.stream, -2000.0, None, None)
                            .expect("play"),
                    },
                    _ => {}
                }
                events.push(e);
            }
            while c.poll_transmit().is_some() {}
        }
        assert!(
            events
                .iter()
                .any(|e| matches!(e, ClientEvent::StreamCreated { stream_id: 1, .. })),
            "{}: stream created ({events:?})",
            f.name
        );
        let codes: Vec<&str> = events
            .iter()
            .filter_map(|e| match e {
                ClientEvent::Status(s) => Some(s.code.as_str()),
                _ => None,
            })
            .collect();
        let media = |kind| {
            events
                .iter()
                .filter(|e| matches!(e, ClientEvent::Media { kind: k, .. } if *k == kind))
                .count()
        };
        match f.role {
            Role::Publish => {
                assert_eq!(
                    codes,
                    [status::PUBLISH_START, status::UNPUBLISH_SUCCESS],
                    "{}",
                    f.name
                );
            }
            Role::Play => {
                assert!(codes.contains(&status::PLAY_START), "{}: {codes:?}", f.name);
                assert_eq!(media(MediaKind::Video), count(f.s2c, 9), "{} video", f.name);
                assert_eq!(media(MediaKind::Audio), count(f.s2c, 8), "{} audio", f.name);
                assert!(
                    events
                        .iter()
                        .any(|e| matches!(e, ClientEvent::StreamBegin { stream_id: 1 })),
                    "{}",
                    f.name
                );
            }
        }
        assert_eq!(c.buffered_input(), 0, "{}: left over", f.name);
    }
}
