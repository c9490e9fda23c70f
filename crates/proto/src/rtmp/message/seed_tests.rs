//! Every message of seeds 000 and 001: decoded to the values the seeds print, re-encoded byte
//! for byte, and produced again by the constructors.

use bytes::Bytes;

use super::*;
use crate::amf::Amf0Value;

/// Seed 000, "connect('live')": the whole chunk (header and body).
const CONNECT: &str = "03 00 00 00 00 00 90 14 00 00 00 00 02 00 07 63 6f 6e 6e 65 63 74 00 3f f0 00 00 00 00 00 00 03
    00 03 61 70 70 02 00 04 6c 69 76 65 00 04 74 79 70 65 02 00 0a 6e 6f 6e 70 72 69 76 61 74 65 00
    08 66 6c 61 73 68 56 65 72 02 00 24 46 4d 4c 45 2f 33 2e 30 20 28 63 6f 6d 70 61 74 69 62 6c 65
    3b 20 4c 61 76 66 36 30 2e 31 36 2e 31 30 30 29 00 05 74 63 55 72 6c 02 00 1f 72 74 6d 70 3a 2f
    2f 31 32 34 2e 32 32 32 2e 37 33 2e 32 33 31 3a 31 39 33 35 2f 6c 69 76 65 00 00 09";

/// Seed 000, "Window Acknowledgement Size 5000000": the whole chunk (header and body).
const WINDOW_ACK: &str = "02 00 00 00 00 00 04 05 00 00 00 00 00 4c 4b 40";

/// Seed 000, "Set Peer Bandwidth 5000000,Dynamic": the whole chunk (header and body).
const PEER_BW: &str = "02 00 00 00 00 00 05 06 00 00 00 00 00 4c 4b 40 02";

/// Seed 000, "Set Chunk Size 4096": the whole chunk (header and body).
const CHUNK_SIZE: &str = "02 00 00 00 00 00 04 01 00 00 00 00 00 00 10 00";

/// Seed 000, "_result('NetConnection.Connect.Success')": the whole chunk (header and body).
const CONNECT_RESULT: &str = "03 00 00 00 00 00 be 14 00 00 00 00 02 00 07 5f 72 65 73 75 6c 74 00 3f f0 00 00 00 00 00 00 03
    00 06 66 6d 73 56 65 72 02 00 0d 46 4d 53 2f 33 2c 30 2c 31 2c 31 32 33 00 0c 63 61 70 61 62 69
    6c 69 74 69 65 73 00 40 3f 00 00 00 00 00 00 00 00 09 03 00 05 6c 65 76 65 6c 02 00 06 73 74 61
    74 75 73 00 04 63 6f 64 65 02 00 1d 4e 65 74 43 6f 6e 6e 65 63 74 69 6f 6e 2e 43 6f 6e 6e 65 63
    74 2e 53 75 63 63 65 73 73 00 0b 64 65 73 63 72 69 70 74 69 6f 6e 02 00 15 43 6f 6e 6e 65 63 74
    69 6f 6e 20 73 75 63 63 65 65 64 65 64 2e 00 0e 6f 62 6a 65 63 74 45 6e 63 6f 64 69 6e 67 00 00
    00 00 00 00 00 00 00 00 00 09";

/// Seed 000, "releaseStream('room')": the whole chunk (header and body).
const RELEASE_STREAM: &str = "43 00 00 00 00 00 21 14 02 00 0d 72 65 6c 65 61 73 65 53 74 72 65 61 6d 00 40 00 00 00 00 00 00
    00 05 02 00 04 72 6f 6f 6d";

/// Seed 000, "FCPublish('room')": the whole chunk (header and body).
const FC_PUBLISH: &str = "43 00 00 00 00 00 1d 14 02 00 09 46 43 50 75 62 6c 69 73 68 00 40 08 00 00 00 00 00 00 05 02 00
    04 72 6f 6f 6d";

/// Seed 000, "createStream()": the whole chunk (header and body).
const CREATE_STREAM: &str = "43 00 00 00 00 00 19 14 02 00 0c 63 72 65 61 74 65 53 74 72 65 61 6d 00 40 10 00 00 00 00 00 00
    05";

/// Seed 000, "_result()": the whole chunk (header and body).
const CREATE_STREAM_RESULT: &str = "03 00 00 00 00 00 1d 14 00 00 00 00 02 00 07 5f 72 65 73 75 6c 74 00 40 10 00 00 00 00 00 00 05
    00 3f f0 00 00 00 00 00 00";

/// Seed 000, "publish('room')": the whole chunk (header and body).
const PUBLISH: &str = "08 00 00 00 00 00 22 14 01 00 00 00 02 00 07 70 75 62 6c 69 73 68 00 40 14 00 00 00 00 00 00 05
    02 00 04 72 6f 6f 6d 02 00 04 6c 69 76 65";

/// Seed 000, "onStatus('NetStream.Publish.Start')": the whole chunk (header and body).
const ON_STATUS: &str = "05 00 00 00 00 00 69 14 01 00 00 00 02 00 08 6f 6e 53 74 61 74 75 73 00 00 00 00 00 00 00 00 00
    05 03 00 05 6c 65 76 65 6c 02 00 06 73 74 61 74 75 73 00 04 63 6f 64 65 02 00 17 4e 65 74 53 74
    72 65 61 6d 2e 50 75 62 6c 69 73 68 2e 53 74 61 72 74 00 0b 64 65 73 63 72 69 70 74 69 6f 6e 02
    00 10 53 74 61 72 74 20 70 75 62 6c 69 73 68 69 6e 67 00 00 09";

/// Seed 000, "@setDataFrame()": the whole chunk (header and body).
const SET_DATA_FRAME: &str = "04 00 00 00 00 01 27 12 01 00 00 00 02 00 0d 40 73 65 74 44 61 74 61 46 72 61 6d 65 02 00 0a 6f
    6e 4d 65 74 61 44 61 74 61 08 00 00 00 0a 00 08 64 75 72 61 74 69 6f 6e 00 00 00 00 00 00 00 00
    00 00 05 77 69 64 74 68 00 40 94 00 00 00 00 00 00 00 06 68 65 69 67 68 74 00 40 86 80 00 00 00
    00 00 00 0d 76 69 64 65 6f 64 61 74 61 72 61 74 65 00 40 d3 12 d0 00 00 00 00 00 09 66 72 61 6d
    65 72 61 74 65 00 40 2e 00 00 00 00 00 00 00 0c 76 69 64 65 6f 63 6f 64 65 63 69 64 00 40 00 00
    00 00 00 00 00 00 05 74 69 74 6c 65 02 00 1a 48 49 4b 20 4d 65 64 69 61 20 53 65 72 76 65 72 20
    56 34 2e 33 30 2e 30 38 35 00 07 63 6f 6d 6d 65 6e 74 02 00 2f 48 49 4b 20 4d 65 64 69 61 20 53
    65 72 76 65 72 20 53 65 73 73 69 6f 6e 20 44 65 73 63 72 69 70 74 69 6f 6e 20 3a 20 73 74 61 6e
    64 61 72 64 00 07 65 6e 63 6f 64 65 72 02 00 0d 4c 61 76 66 36 30 2e 31 36 2e 31 30 30 00 08 66
    69 6c 65 73 69 7a 65 00 00 00 00 00 00 00 00 00 00 00 09";

/// Seed 000, "Video Data": the whole chunk (header and body).
const VIDEO: &str = "06 00 00 00 00 71 1c 09 01 00 00 00 12 00 00 84";

fn hex(s: &str) -> Vec<u8> {
    let clean: String = s.chars().filter(char::is_ascii_hexdigit).collect();
    hex::decode(clean).expect("test vector is valid hex")
}

/// The type id, declared body size and body of a seed chunk (format 0 or 1, one-byte basic
/// header, no extended timestamp).
fn chunk_body(chunk: &str) -> (u8, usize, Bytes) {
    let bytes = hex(chunk);
    let header_len = match bytes[0] >> 6 {
        0 => 12,
        1 => 8,
        fmt => panic!("seed chunk with format {fmt}"),
    };
    let size = usize::from(bytes[4]) << 16 | usize::from(bytes[5]) << 8 | usize::from(bytes[6]);
    (bytes[7], size, Bytes::copy_from_slice(&bytes[header_len..]))
}

/// Decodes a seed chunk's body, checks it is complete and re-encodes to the same bytes.
fn decode_seed(chunk: &str) -> Message {
    let (type_id, size, body) = chunk_body(chunk);
    assert_eq!(body.len(), size, "the seed holds the whole body");
    roundtrip(type_id, body)
}

fn roundtrip(type_id: u8, body: Bytes) -> Message {
    let msg = Message::decode(type_id, body.clone()).expect("decodes");
    assert_eq!(
        msg.encode(),
        (type_id, body.clone()),
        "re-encodes byte for byte"
    );
    let mut out = Vec::new();
    msg.encode_payload(&mut out);
    assert_eq!(out, body);
    assert_eq!(msg.type_id(), type_id);
    msg
}

fn body_of(msg: &Message) -> Bytes {
    msg.encode().1
}

fn command(msg: &Message) -> &Command {
    msg.as_command().expect("a command")
}

fn string(s: &str) -> Amf0Value {
    Amf0Value::String(s.to_owned())
}

#[test]
fn seed_000_connect() {
    let msg = decode_seed(CONNECT);
    assert_eq!(msg.name(), "connect('live')");
    let c = command(&msg);
    assert!(matches!(msg, Message::Command(_)));
    assert_eq!(c.name(), "connect");
    assert_eq!(c.transaction_id(), 1.0);
    assert_eq!(c.values().len(), 3);
    let CommandKind::Connect(connect) = c.kind() else {
        panic!("not a connect: {c:?}");
    };
    assert_eq!(connect.object().properties().map(<[_]>::len), Some(4));
    assert_eq!(connect.app(), Some("live"));
    assert_eq!(connect.connect_type(), Some("nonprivate"));
    assert_eq!(
        connect.flash_ver(),
        Some("FMLE/3.0 (compatible; Lavf60.16.100)")
    );
    assert_eq!(connect.tc_url(), Some("rtmp://124.222.73.231:1935/live"));
    assert_eq!(connect.swf_url(), None);
    assert_eq!(connect.fpad(), None);
    assert_eq!(connect.object_encoding(), None);
    assert!(connect.extra_arguments().is_empty());

    let params = ConnectParams::publisher(
        "live",
        "FMLE/3.0 (compatible; Lavf60.16.100)",
        "rtmp://124.222.73.231:1935/live",
    );
    let built = Message::Command(Command::connect(1.0, &params));
    assert_eq!(built, msg);
    assert_eq!(body_of(&built), chunk_body(CONNECT).2);
}

#[test]
fn seed_000_control_messages() {
    let msg = decode_seed(WINDOW_ACK);
    assert_eq!(msg, Message::WindowAckSize(5_000_000));
    assert_eq!(msg.name(), "Window Acknowledgement Size 5000000");

    let msg = decode_seed(PEER_BW);
    assert_eq!(
        msg,
        Message::SetPeerBandwidth {
            window_size: 5_000_000,
            limit_type: LimitType::Dynamic
        }
    );
    assert_eq!(msg.name(), "Set Peer Bandwidth 5000000,Dynamic");

    let msg = decode_seed(CHUNK_SIZE);
    assert_eq!(msg, Message::SetChunkSize(4096));
    assert_eq!(msg.name(), "Set Chunk Size 4096");
    assert_eq!(msg.to_string(), "Set Chunk Size 4096");
}

#[test]
fn seed_000_connect_result() {
    let msg = decode_seed(CONNECT_RESULT);
    assert_eq!(msg.name(), "_result('NetConnection.Connect.Success')");
    let c = command(&msg);
    assert_eq!(c.transaction_id(), 1.0);
    let CommandKind::Result(r) = c.kind() else {
        panic!("not a _result: {c:?}");
    };
    assert_eq!(
        r.properties(),
        &Amf0Value::Object(vec![
            ("fmsVer".into(), string("FMS/3,0,1,123")),
            ("capabilities".into(), Amf0Value::Number(31.0)),
        ])
    );
    assert_eq!(
        r.information(),
        Some(&Amf0Value::Object(vec![
            ("level".into(), string("status")),
            ("code".into(), string("NetConnection.Connect.Success")),
            ("description".into(), string("Connection succeeded.")),
            ("objectEncoding".into(), Amf0Value::Number(0.0)),
        ]))
    );
    let s = r.status().expect("status");
    assert_eq!(s.level(), Some(status::level::STATUS));
    assert_eq!(s.code(), Some(status::CONNECT_SUCCESS));
    assert_eq!(s.description(), Some("Connection succeeded."));
    assert_eq!(s.get("objectEncoding"), Some(&Amf0Value::Number(0.0)));

    let built = Message::Command(Command::connect_result(1.0, "FMS/3,0,1,123", 31.0, 0.0));
    assert_eq!(body_of(&built), chunk_body(CONNECT_RESULT).2);
}

#[test]
fn seed_000_publisher_stream_commands() {
    let cases = [
        (
            RELEASE_STREAM,
            "releaseStream('room')",
            2.0,
            Command::release_stream(2.0, "room"),
        ),
        (
            FC_PUBLISH,
            "FCPublish('room')",
            3.0,
            Command::fc_publish(3.0, "room"),
        ),
        (
            CREATE_STREAM,
            "createStream()",
            4.0,
            Command::create_stream(4.0),
        ),
        (
            PUBLISH,
            "publish('room')",
            5.0,
            Command::publish(5.0, "room", &PublishType::Live),
        ),
    ];
    for (chunk, name, tx, built) in cases {
        let msg = decode_seed(chunk);
        assert_eq!(msg.name(), name);
        let c = command(&msg);
        assert_eq!(c.transaction_id(), tx);
        assert_eq!(c.command_object(), &Amf0Value::Null);
        assert_eq!(c, &built, "{name}");
        assert_eq!(body_of(&Message::Command(built)), chunk_body(chunk).2);
    }
    let msg = decode_seed(RELEASE_STREAM);
    assert_eq!(
        command(&msg).kind(),
        CommandKind::ReleaseStream {
            stream_name: "room"
        }
    );
    let msg = decode_seed(FC_PUBLISH);
    assert_eq!(
        command(&msg).kind(),
        CommandKind::FcPublish {
            stream_name: "room"
        }
    );
    let msg = decode_seed(CREATE_STREAM);
    assert_eq!(command(&msg).kind(), CommandKind::CreateStream);
    assert_eq!(command(&msg).values().len(), 3);
    let msg = decode_seed(PUBLISH);
    assert_eq!(
        command(&msg).kind(),
        CommandKind::Publish {
            stream_name: "room",
            publish_type: PublishType::Live
        }
    );
    assert_eq!(command(&msg).arguments(), &[string("room"), string("live")]);
}

#[test]
fn seed_000_create_stream_result() {
    let msg = decode_seed(CREATE_STREAM_RESULT);
    assert_eq!(msg.name(), "_result()");
    let c = command(&msg);
    assert_eq!(
        c.values(),
        &[
            string("_result"),
            Amf0Value::Number(4.0),
            Amf0Value::Null,
            Amf0Value::Number(1.0)
        ]
    );
    let CommandKind::Result(r) = c.kind() else {
        panic!("not a _result");
    };
    assert_eq!(r.transaction_id(), 4.0);
    assert_eq!(r.stream_id(), Some(1.0));
    assert_eq!(r.status(), None);
    let built = Message::Command(Command::create_stream_result(4.0, 1));
    assert_eq!(body_of(&built), chunk_body(CREATE_STREAM_RESULT).2);
}

#[test]
fn seed_000_on_status_publish_start() {
    let msg = decode_seed(ON_STATUS);
    assert_eq!(msg.name(), "onStatus('NetStream.Publish.Start')");
    let c = command(&msg);
    assert_eq!(c.transaction_id(), 0.0);
    assert_eq!(c.command_object(), &Amf0Value::Null);
    let CommandKind::OnStatus(s) = c.kind() else {
        panic!("not onStatus");
    };
    assert_eq!(s.level(), Some("status"));
    assert_eq!(s.code(), Some(status::PUBLISH_START));
    assert_eq!(s.description(), Some("Start publishing"));
    assert_eq!(s.extra().count(), 0);
    let built = Message::Command(Command::on_status(
        status::level::STATUS,
        status::PUBLISH_START,
        "Start publishing",
    ));
    assert_eq!(body_of(&built), chunk_body(ON_STATUS).2);
}

fn seed_000_metadata() -> Amf0Value {
    let n = Amf0Value::Number;
    Amf0Value::EcmaArray {
        count: 10,
        properties: vec![
            ("duration".into(), n(0.0)),
            ("width".into(), n(1280.0)),
            ("height".into(), n(720.0)),
            ("videodatarate".into(), n(19531.25)),
            ("framerate".into(), n(15.0)),
            ("videocodecid".into(), n(2.0)),
            ("title".into(), string("HIK Media Server V4.30.085")),
            (
                "comment".into(),
                string("HIK Media Server Session Description : standard"),
            ),
            ("encoder".into(), string("Lavf60.16.100")),
            ("filesize".into(), n(0.0)),
        ],
    }
}

#[test]
fn seed_000_set_data_frame() {
    let msg = decode_seed(SET_DATA_FRAME);
    assert_eq!(msg.name(), "@setDataFrame()");
    let Message::Data(d) = &msg else {
        panic!("not AMF0 data: {msg:?}");
    };
    assert_eq!(d.name(), "@setDataFrame");
    let want = seed_000_metadata();
    assert_eq!(
        d.kind(),
        DataKind::SetDataFrame {
            handler: "onMetaData",
            value: Some(&want)
        }
    );
    assert_eq!(d.metadata(), Some(&want));
    let built = Message::Data(DataMessage::set_data_frame_metadata(want.clone()));
    assert_eq!(body_of(&built), chunk_body(SET_DATA_FRAME).2);
    let relayed = d.without_set_data_frame().expect("set data frame");
    assert_eq!(Message::Data(relayed).name(), "onMetaData()");
}

#[test]
fn seed_000_video_data() {
    // The seed shows the first bytes of a 28956-byte body.
    let (type_id, size, body) = chunk_body(VIDEO);
    assert_eq!((type_id, size), (type_id::VIDEO, 28956));
    let msg = roundtrip(type_id, body.clone());
    assert_eq!(msg, Message::Video(body.clone()));
    assert_eq!(msg.name(), "Video Data");
    // Control 0x12: keyframe (1), Sorensen H.263 (2).
    assert_eq!((body[0] >> 4, body[0] & 0x0f), (1, 2));
    // Encoding shares the payload rather than copying it.
    let (_, encoded) = msg.encode();
    assert_eq!(encoded.as_ptr(), body.as_ptr());
}

/// Seed 001 prints no hex for its messages; these bodies are built from the values it
/// describes and checked against hand-assembled bytes.
#[test]
fn seed_001_play_session() {
    // play('livestream', -2000), transaction 5.
    let play = hex("02 0004 706c6179  00 4014000000000000  05
         02 000a 6c69766573747265616d  00 c09f400000000000");
    let msg = roundtrip(type_id::COMMAND_AMF0, Bytes::from(play.clone()));
    assert_eq!(msg.name(), "play('livestream')");
    let c = command(&msg);
    assert_eq!(c.transaction_id(), 5.0);
    assert_eq!(
        c.kind(),
        CommandKind::Play(Play {
            stream_name: "livestream",
            start: Some(-2000.0),
            duration: None,
            reset: None
        })
    );
    let built = Command::play(5.0, "livestream", Some(-2000.0), None, None);
    assert_eq!(body_of(&Message::Command(built)), play);

    // getStreamLength('livestream'), transaction 4.
    let gsl = hex(
        "02 000f 67657453747265616d4c656e677468  00 4010000000000000  05
         02 000a 6c69766573747265616d",
    );
    let msg = roundtrip(type_id::COMMAND_AMF0, Bytes::from(gsl.clone()));
    assert_eq!(
        command(&msg).kind(),
        CommandKind::GetStreamLength {
            stream_name: "livestream"
        }
    );
    assert_eq!(
        body_of(&Message::Command(Command::get_stream_length(
            4.0,
            "livestream"
        ))),
        gsl
    );

    // createStream() transaction 2, _checkbw() transaction 3, _result(2, null).
    let create = hex("02 000c 63726561746553747265616d 00 4000000000000000 05");
    let msg = roundtrip(type_id::COMMAND_AMF0, Bytes::from(create.clone()));
    assert_eq!(msg, Message::Command(Command::create_stream(2.0)));
    let checkbw = hex("02 0008 5f636865636b6277 00 4008000000000000 05");
    let msg = roundtrip(type_id::COMMAND_AMF0, Bytes::from(checkbw.clone()));
    assert_eq!(msg.name(), "_checkbw()");
    assert_eq!(command(&msg).kind(), CommandKind::CheckBandwidth);
    assert_eq!(msg, Message::Command(Command::check_bw(3.0)));
    let result = hex("02 0007 5f726573756c74 00 4000000000000000 05");
    let msg = roundtrip(type_id::COMMAND_AMF0, Bytes::from(result));
    let CommandKind::Result(r) = command(&msg).kind() else {
        panic!("not a _result");
    };
    assert_eq!(r.transaction_id(), 2.0);
    assert_eq!(r.properties(), &Amf0Value::Null);
    assert_eq!(r.information(), None);
}

#[test]
fn seed_001_control_and_media() {
    let cases: [(u8, &str, Message, &str); 7] = [
        (
            type_id::WINDOW_ACK_SIZE,
            "002625a0",
            Message::WindowAckSize(2_500_000),
            "Window Acknowledgement Size 2500000",
        ),
        (
            type_id::SET_PEER_BANDWIDTH,
            "002625a0 02",
            Message::SetPeerBandwidth {
                window_size: 2_500_000,
                limit_type: LimitType::Dynamic,
            },
            "Set Peer Bandwidth 2500000,Dynamic",
        ),
        (
            type_id::SET_CHUNK_SIZE,
            "0000ea60",
            Message::SetChunkSize(60_000),
            "Set Chunk Size 60000",
        ),
        (
            type_id::USER_CONTROL,
            "0003 00000001 000032c8",
            Message::UserControl(UserControlEvent::SetBufferLength {
                stream_id: 1,
                buffer_ms: 13_000,
            }),
            "User Control Message Set Buffer Length 1,13000ms",
        ),
        (
            type_id::USER_CONTROL,
            "0000 00000001",
            Message::UserControl(UserControlEvent::StreamBegin { stream_id: 1 }),
            "User Control Message Stream Begin 1",
        ),
        (
            type_id::AUDIO,
            "a4 2104",
            Message::Audio(Bytes::from_static(&[0xa4, 0x21, 0x04])),
            "Audio Data",
        ),
        (
            type_id::AUDIO,
            "af 01 2104",
            Message::Audio(Bytes::from_static(&[0xaf, 0x01, 0x21, 0x04])),
            "Audio Data",
        ),
    ];
    for (type_id, body, want, name) in cases {
        let msg = roundtrip(type_id, Bytes::from(hex(body)));
        assert_eq!(msg, want);
        assert_eq!(msg.name(), name);
        assert_eq!(body_of(&want), hex(body));
    }
    // 0xA4: AAC (10), 11 kHz (1), 8-bit (0), mono (0), as the seed reads it.
    let b = 0xa4u8;
    assert_eq!((b >> 4, (b >> 2) & 3, (b >> 1) & 1, b & 1), (10, 1, 0, 0));
}

/// ffplay's `connect`: 8 properties, 199 bytes (seed 001), flashVer "LNX 9,0,124,2".
#[test]
fn seed_001_player_connect() {
    let params = ConnectParams::player("live", "LNX 9,0,124,2", "rtmp://10.22.79.251:1935/live");
    let msg = Message::Command(Command::connect(1.0, &params));
    let body = body_of(&msg);
    assert_eq!(body.len(), 199);
    let back = roundtrip(type_id::COMMAND_AMF0, body);
    let CommandKind::Connect(c) = command(&back).kind() else {
        panic!("not a connect");
    };
    assert_eq!(c.object().properties().map(<[_]>::len), Some(8));
    assert_eq!(c.capabilities(), Some(15.0));
    assert_eq!(c.audio_codecs(), Some(4071.0));
    assert_eq!(c.video_codecs(), Some(252.0));
    assert_eq!(c.video_function(), Some(1.0));
    assert_eq!(c.fpad(), Some(false));
}
