//! Server and client sessions talking to each other in memory.

use bytes::{Bytes, BytesMut};
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::*;
use crate::amf::Amf0Value;
use crate::rtmp::chunk::{ChunkWriter, MessageHeader, serialize_fmt0};
use crate::rtmp::handshake::{ClientHandshake, HandshakeScheme};
use crate::rtmp::message::status;
use crate::rtmp::message::{
    Command, ConnectParams, DataMessage, Message, PublishType, UserControlEvent,
};

fn rng() -> StdRng {
    StdRng::seed_from_u64(7)
}

fn server() -> ServerSession {
    ServerSession::new(ServerConfig::default(), 0, &mut rng())
}

fn trace_server() -> ServerSession {
    let config = ServerConfig {
        trace: true,
        ..ServerConfig::default()
    };
    ServerSession::new(config, 0, &mut rng())
}

fn client(config: ClientConfig) -> ClientSession {
    ClientSession::new(config, 0, &mut rng())
}

/// Moves bytes both ways until neither side has anything to send. Server events are collected;
/// connect, publish and play requests are accepted.
fn pump(c: &mut ClientSession, s: &mut ServerSession) -> (Vec<ServerEvent>, Vec<ClientEvent>) {
    let mut server_events = Vec::new();
    let mut client_events = Vec::new();
    for _ in 0..100 {
        let mut moved = false;
        while let Some(b) = c.poll_transmit() {
            moved = true;
            s.feed(&b).expect("server accepts the client's bytes");
        }
        while let Some(e) = s.poll_event() {
            match &e {
                ServerEvent::ConnectRequested(_) => s.accept_connect().expect("accept connect"),
                ServerEvent::PublishRequested(p) => {
                    s.accept_publish(p.stream_id).expect("accept publish")
                }
                ServerEvent::PlayRequested(p) => s.accept_play(p.stream_id).expect("accept play"),
                _ => {}
            }
            server_events.push(e);
        }
        while let Some(b) = s.poll_transmit() {
            moved = true;
            c.feed(&b).expect("client accepts the server's bytes");
        }
        while let Some(e) = c.poll_event() {
            client_events.push(e);
        }
        if !moved {
            return (server_events, client_events);
        }
    }
    panic!("conversation did not settle");
}

fn connected_pair(config: ClientConfig) -> (ClientSession, ServerSession) {
    connected_pair_with(config, server())
}

fn connected_pair_with(
    config: ClientConfig,
    mut s: ServerSession,
) -> (ClientSession, ServerSession) {
    let mut c = client(config);
    let (se, ce) = pump(&mut c, &mut s);
    assert!(matches!(se[0], ServerEvent::HandshakeComplete(_)));
    let ServerEvent::ConnectRequested(req) = &se[1] else {
        panic!("expected a connect request, got {se:?}");
    };
    assert_eq!(req.app, "live");
    assert_eq!(req.tc_url.as_deref(), Some("rtmp://127.0.0.1/live"));
    assert!(
        ce.iter()
            .any(|e| matches!(e, ClientEvent::Connected { .. })),
        "{ce:?}"
    );
    assert!(c.is_connected());
    (c, s)
}

fn created_stream(c: &mut ClientSession, s: &mut ServerSession) -> u32 {
    c.create_stream().expect("createStream");
    let (_, ce) = pump(c, s);
    ce.iter()
        .find_map(|e| match e {
            ClientEvent::StreamCreated { stream_id, .. } => Some(*stream_id),
            _ => None,
        })
        .expect("stream created")
}

#[test]
fn publish_flow_delivers_metadata_and_media() {
    let (mut c, mut s) = connected_pair(ClientConfig::publisher("live", "rtmp://127.0.0.1/live"));
    c.release_stream("room").expect("releaseStream");
    c.fc_publish("room").expect("FCPublish");
    let id = created_stream(&mut c, &mut s);
    assert_eq!(id, 1);
    c.publish(id, "room?key=secret", &PublishType::Live)
        .expect("publish");
    let (se, ce) = pump(&mut c, &mut s);
    let publish = se
        .iter()
        .find_map(|e| match e {
            ServerEvent::PublishRequested(p) => Some(p.clone()),
            _ => None,
        })
        .expect("publish request");
    assert_eq!(publish.name, "room");
    assert_eq!(publish.query.as_deref(), Some("key=secret"));
    let start = ce
        .iter()
        .find_map(|e| match e {
            ClientEvent::Status(st) => Some(st.clone()),
            _ => None,
        })
        .expect("status");
    assert_eq!(start.code, status::PUBLISH_START);
    assert_eq!(start.stream_id, id);

    let meta = DataMessage::set_data_frame_metadata(Amf0Value::EcmaArray {
        count: 1,
        properties: vec![("width".into(), Amf0Value::Number(320.0))],
    });
    c.send_data(id, 0, &meta).expect("metadata");
    let video = Bytes::from(vec![0x17u8; 9000]);
    c.send_media(id, MediaKind::Video, 40, &video)
        .expect("video");
    c.send_media(id, MediaKind::Audio, 0x0100_0000, &[0xaf, 1, 2])
        .expect("audio with an extended timestamp");
    let (se, _) = pump(&mut c, &mut s);
    assert!(matches!(&se[0], ServerEvent::Data { data, .. } if *data == meta));
    assert_eq!(
        se[1],
        ServerEvent::Media {
            stream_id: id,
            kind: MediaKind::Video,
            timestamp: 40,
            payload: video,
        }
    );
    assert_eq!(
        se[2],
        ServerEvent::Media {
            stream_id: id,
            kind: MediaKind::Audio,
            timestamp: 0x0100_0000,
            payload: Bytes::from_static(&[0xaf, 1, 2]),
        }
    );

    c.delete_stream(id).expect("deleteStream");
    let (se, _) = pump(&mut c, &mut s);
    assert_eq!(se, vec![ServerEvent::PublishStopped { stream_id: id }]);
}

#[test]
fn play_flow_sends_the_start_sequence_and_media() {
    let (mut c, mut s) = connected_pair(ClientConfig::player("live", "rtmp://127.0.0.1/live"));
    let id = created_stream(&mut c, &mut s);
    c.play(id, "livestream", -2000.0, None, None).expect("play");
    c.set_buffer_length(id, 13000).expect("buffer");
    let (se, ce) = pump(&mut c, &mut s);
    let play = se
        .iter()
        .find_map(|e| match e {
            ServerEvent::PlayRequested(p) => Some(p.clone()),
            _ => None,
        })
        .expect("play request");
    assert_eq!((play.name.as_str(), play.start), ("livestream", -2000.0));
    assert!(se.contains(&ServerEvent::BufferLength {
        stream_id: id,
        milliseconds: 13000
    }));
    assert_eq!(ce[0], ClientEvent::StreamBegin { stream_id: id });
    let codes: Vec<&str> = ce
        .iter()
        .filter_map(|e| match e {
            ClientEvent::Status(st) => Some(st.code.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(codes, [status::PLAY_RESET, status::PLAY_START]);

    // Per-connection serialization and shared (format 0) chunks both arrive intact.
    let frame = vec![0x27u8; 10_000];
    s.send_media(id, MediaKind::Video, 1000, &frame)
        .expect("send media");
    let header = MessageHeader {
        timestamp: 1040,
        type_id: MediaKind::Video.type_id(),
        stream_id: id,
    };
    let shared = serialize_fmt0(s.chunk_size(), csid::VIDEO, &header, &frame).expect("serialize");
    s.send_prepared(csid::VIDEO, shared);
    s.send_media(id, MediaKind::Video, 1080, &frame)
        .expect("send media after prepared chunks");
    let (_, ce) = pump(&mut c, &mut s);
    let stamps = media_stamps(&ce, &frame);
    assert_eq!(stamps, [1000, 1040, 1080]);

    // Shared chunks the application writes to the transport itself (as from a file), after
    // what the session queued: the session only forgets the chunk stream.
    s.send_media(id, MediaKind::Video, 1120, &frame)
        .expect("send media");
    while let Some(b) = s.poll_transmit() {
        c.feed(&b).expect("client accepts the server's bytes");
    }
    let header = MessageHeader {
        timestamp: 1160,
        ..header
    };
    let shared = serialize_fmt0(s.chunk_size(), csid::VIDEO, &header, &frame).expect("serialize");
    c.feed(&shared).expect("client accepts the shared chunks");
    s.sent_prepared_elsewhere(csid::VIDEO);
    s.send_media(id, MediaKind::Video, 1200, &frame)
        .expect("send media after chunks sent elsewhere");
    let (_, ce) = pump(&mut c, &mut s);
    let stamps = media_stamps(&ce, &frame);
    assert_eq!(stamps, [1120, 1160, 1200]);

    s.send_unpublish_notify(id).expect("unpublish notify");
    let (_, ce) = pump(&mut c, &mut s);
    assert!(ce.contains(&ClientEvent::StreamEof { stream_id: id }));
}

/// The timestamps of the media messages among `events` that carry `payload`.
fn media_stamps(events: &[ClientEvent], payload: &[u8]) -> Vec<u32> {
    events
        .iter()
        .filter_map(|e| match e {
            ClientEvent::Media {
                timestamp,
                payload: p,
                ..
            } if p[..] == payload[..] => Some(*timestamp),
            _ => None,
        })
        .collect()
}

/// Client bytes: handshake C0C1 and C2, then `messages` chunked at 128, in one buffer.
fn raw_client_bytes(s: &mut ServerSession, messages: &[(u32, u32, Message)]) -> Vec<u8> {
    let mut hs = ClientHandshake::new(
        crate::rtmp::handshake::ClientConfig {
            scheme: HandshakeScheme::Simple,
            ..Default::default()
        },
        0,
        &mut rng(),
    );
    let mut c0c1 = Vec::new();
    while let Some(b) = hs.poll_transmit() {
        c0c1.extend_from_slice(&b);
    }
    s.feed(&c0c1).expect("c0c1");
    while let Some(b) = s.poll_transmit() {
        hs.feed(&b).expect("s0s1s2");
    }
    let mut out = Vec::new();
    while let Some(b) = hs.poll_transmit() {
        out.extend_from_slice(&b);
    }
    let mut writer = ChunkWriter::new();
    let mut buf = BytesMut::new();
    for (csid, stream_id, m) in messages {
        let (type_id, payload) = m.encode();
        let header = MessageHeader {
            timestamp: 0,
            type_id,
            stream_id: *stream_id,
        };
        writer
            .write_message(*csid, &header, &payload, &mut buf)
            .expect("write");
    }
    out.extend_from_slice(&buf);
    out
}

fn connect_command() -> Message {
    Message::Command(Command::connect(
        1.0,
        &ConnectParams::publisher("live", "FMLE/3.0", "rtmp://127.0.0.1/live"),
    ))
}

#[test]
fn pipelined_commands_wait_for_the_decision() {
    let mut s = trace_server();
    let bytes = raw_client_bytes(
        &mut s,
        &[
            (3, 0, connect_command()),
            (3, 0, Message::Command(Command::create_stream(2.0))),
            (
                8,
                1,
                Message::Command(Command::publish(3.0, "room", &PublishType::Live)),
            ),
            (
                6,
                1,
                Message::Video(Bytes::from_static(&[0x17, 0, 0, 0, 0])),
            ),
        ],
    );
    s.feed(&bytes).expect("feed");
    assert!(matches!(
        s.poll_event(),
        Some(ServerEvent::HandshakeComplete(_))
    ));
    assert!(matches!(
        s.poll_event(),
        Some(ServerEvent::ConnectRequested(_))
    ));
    assert_eq!(
        s.poll_event(),
        None,
        "nothing past connect before the answer"
    );
    s.accept_connect().expect("accept");
    let Some(ServerEvent::PublishRequested(p)) = s.poll_event() else {
        panic!("publish request expected");
    };
    assert_eq!(s.poll_event(), None, "media waits for the publish decision");
    s.accept_publish(p.stream_id).expect("accept publish");
    assert!(matches!(
        s.poll_event(),
        Some(ServerEvent::Media {
            kind: MediaKind::Video,
            ..
        })
    ));
    // The createStream result went out between the connect result and onStatus.
    let sent: Vec<String> = std::iter::from_fn(|| s.poll_trace())
        .filter(|t| t.direction == Direction::Sent)
        .map(|t| format!("{:?}", t.message))
        .collect();
    let result_at = sent
        .iter()
        .position(|m| m.contains("_result") && m.contains("Number(1.0)]"))
        .expect("createStream result");
    let status_at = sent
        .iter()
        .position(|m| m.contains(status::PUBLISH_START))
        .expect("publish start");
    assert!(result_at < status_at);
}

#[test]
fn commands_before_connect_end_the_session() {
    let mut s = server();
    let bytes = raw_client_bytes(
        &mut s,
        &[(3, 0, Message::Command(Command::create_stream(2.0)))],
    );
    let err = s.feed(&bytes).expect_err("createStream before connect");
    assert!(
        err.to_string().contains("createStream' before connect"),
        "{err}"
    );
    assert!(matches!(s.feed(&[0]), Err(SessionError::Closed)));
}

#[test]
fn unknown_commands_get_an_error_answer() {
    let (_c, mut s2) = connected_pair_with(
        ClientConfig::publisher("live", "rtmp://127.0.0.1/live"),
        trace_server(),
    );
    // A call nobody implements.
    let bytes = {
        let mut w = ChunkWriter::new();
        let mut buf = BytesMut::new();
        let (type_id, payload) =
            Message::Command(Command::call("frobnicate", 5.0, vec![Amf0Value::Null])).encode();
        let header = MessageHeader {
            timestamp: 0,
            type_id,
            stream_id: 0,
        };
        w.write_message(9, &header, &payload, &mut buf)
            .expect("write");
        buf
    };
    s2.feed(&bytes).expect("feed");
    let error = std::iter::from_fn(|| s2.poll_trace())
        .filter(|t| t.direction == Direction::Sent)
        .find_map(|t| match t.message {
            Message::Command(c) if c.name() == "_error" => Some(c),
            _ => None,
        })
        .expect("_error sent");
    assert_eq!(error.transaction_id(), 5.0);
    assert!(format!("{error:?}").contains("Method not found (frobnicate)."));
}

#[test]
fn rejected_connect_reaches_the_client() {
    let mut c = client(ClientConfig::publisher("live", "rtmp://127.0.0.1/live"));
    let mut s = server();
    let mut rejected = Vec::new();
    for _ in 0..10 {
        while let Some(b) = c.poll_transmit() {
            s.feed(&b).expect("feed");
        }
        while let Some(e) = s.poll_event() {
            if matches!(e, ServerEvent::ConnectRequested(_)) {
                s.reject_connect("no such app").expect("reject");
            }
        }
        while let Some(b) = s.poll_transmit() {
            c.feed(&b).expect("client feed");
        }
        rejected.extend(std::iter::from_fn(|| c.poll_event()));
    }
    assert!(rejected.contains(&ClientEvent::ConnectRejected {
        code: status::CONNECT_REJECTED.to_owned(),
        description: "no such app".to_owned(),
    }));
    assert!(s.is_closed() && c.is_closed());
}

#[test]
fn rejected_publish_frees_the_stream() {
    let (mut c, mut s) = connected_pair(ClientConfig::publisher("live", "rtmp://127.0.0.1/live"));
    let id = created_stream(&mut c, &mut s);
    c.publish(id, "taken", &PublishType::Live).expect("publish");
    while let Some(b) = c.poll_transmit() {
        s.feed(&b).expect("feed");
    }
    let Some(ServerEvent::PublishRequested(p)) = s.poll_event() else {
        panic!("publish request");
    };
    s.reject_publish(p.stream_id, status::PUBLISH_BAD_NAME, "already publishing")
        .expect("reject");
    let (_, ce) = pump(&mut c, &mut s);
    assert!(ce.iter().any(|e| matches!(e,
        ClientEvent::Status(st) if st.code == status::PUBLISH_BAD_NAME && st.is_error())));
    // The stream can publish again under another name.
    c.publish(id, "free", &PublishType::Live)
        .expect("publish again");
    let (se, _) = pump(&mut c, &mut s);
    assert!(
        se.iter()
            .any(|e| matches!(e, ServerEvent::PublishRequested(p) if p.name == "free"))
    );
}

#[test]
fn acknowledgements_follow_the_announced_window() {
    let mut config = ClientConfig::publisher("live", "rtmp://127.0.0.1/live");
    config.window_ack_size = Some(1000);
    config.trace = true;
    let (mut c, mut s) = connected_pair(config);
    let id = created_stream(&mut c, &mut s);
    c.publish(id, "room", &PublishType::Live).expect("publish");
    pump(&mut c, &mut s);
    // One read per message, each more than a window: each read is acknowledged.
    for i in 0..5 {
        c.send_media(id, MediaKind::Audio, i * 20, &[0xaf; 1000])
            .expect("audio");
        pump(&mut c, &mut s);
    }
    let acks: Vec<u32> = std::iter::from_fn(|| c.poll_trace())
        .filter_map(|t| match (t.direction, t.message) {
            (Direction::Received, Message::Acknowledgement { sequence_number }) => {
                Some(sequence_number)
            }
            _ => None,
        })
        .collect();
    assert!(acks.len() >= 5, "{acks:?}");
    assert!(acks.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn pings_are_answered() {
    let mut config = ClientConfig::player("live", "rtmp://127.0.0.1/live");
    config.trace = true;
    let (mut c, mut s) = connected_pair(config);
    s.send_user_control(UserControlEvent::PingRequest { timestamp: 4242 })
        .expect("ping");
    pump(&mut c, &mut s);
    let answered = std::iter::from_fn(|| c.poll_trace()).any(|t| {
        t.direction == Direction::Sent
            && t.message == Message::UserControl(UserControlEvent::PingResponse { timestamp: 4242 })
    });
    assert!(answered);
}

#[test]
fn amf3_clients_get_amf3_commands() {
    let mut config = ClientConfig::player("live", "rtmp://127.0.0.1/live");
    config.connect.object_encoding = Some(3.0);
    config.trace = true;
    let (mut c, _s) = connected_pair(config);
    let result = std::iter::from_fn(|| c.poll_trace())
        .find(|t| {
            t.direction == Direction::Received && matches!(t.message, Message::CommandAmf3(_))
        })
        .expect("an AMF3 command from the server");
    let Message::CommandAmf3(command) = result.message else {
        unreachable!()
    };
    assert_eq!(command.name(), "_result");
}

#[test]
fn digest_and_simple_handshakes_both_connect() {
    for scheme in [
        HandshakeScheme::Simple,
        HandshakeScheme::Digest(crate::rtmp::handshake::DigestSchema::KeyFirst),
        HandshakeScheme::Digest(crate::rtmp::handshake::DigestSchema::DigestFirst),
    ] {
        let mut config = ClientConfig::player("live", "rtmp://127.0.0.1/live");
        config.handshake.scheme = scheme;
        connected_pair(config);
    }
}

#[test]
fn every_split_of_a_publish_conversation_reads_the_same() {
    // Record the client's bytes of a whole publish, then feed them to fresh servers in pieces.
    let mut s = server();
    let bytes = raw_client_bytes(
        &mut s,
        &[
            (3, 0, connect_command()),
            (3, 0, Message::Command(Command::create_stream(2.0))),
            (
                8,
                1,
                Message::Command(Command::publish(3.0, "room", &PublishType::Live)),
            ),
            (6, 1, Message::Video(Bytes::from(vec![0x17; 700]))),
            (4, 1, Message::Audio(Bytes::from(vec![0xaf; 300]))),
        ],
    );
    for split in [1usize, 2, 3, 7, 100, 1537, 4000] {
        let mut s = server();
        let mut events = Vec::new();
        // The same (seeded) client handshake as the recording: C0C1 first, then the rest.
        let mut hs_client = ClientHandshake::new(
            crate::rtmp::handshake::ClientConfig {
                scheme: HandshakeScheme::Simple,
                ..Default::default()
            },
            0,
            &mut rng(),
        );
        let mut c0c1 = Vec::new();
        while let Some(b) = hs_client.poll_transmit() {
            c0c1.extend_from_slice(&b);
        }
        for piece in c0c1.chunks(split).chain(bytes.chunks(split)) {
            s.feed(piece).expect("feed");
            while let Some(e) = s.poll_event() {
                match &e {
                    ServerEvent::ConnectRequested(_) => s.accept_connect().expect("accept"),
                    ServerEvent::PublishRequested(p) => {
                        s.accept_publish(p.stream_id).expect("publish")
                    }
                    _ => {}
                }
                events.push(e);
            }
        }
        let media = events
            .iter()
            .filter(|e| matches!(e, ServerEvent::Media { .. }))
            .count();
        assert_eq!(media, 2, "split {split}: {events:?}");
    }
}
