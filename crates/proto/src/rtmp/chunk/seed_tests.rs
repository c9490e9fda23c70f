//! Test vectors from the seed captures (`/work/shared/seeds/000_*.txt`, `001_*.txt`).
//!
//! Seed 000's dumps are Wireshark's reassembled view: the message header followed by the whole
//! body. Bodies longer than the chunk size in force were carried in several chunks, so the
//! tests rebuild the wire form by inserting the type 3 basic header every chunk-size bytes.

use bytes::BytesMut;

use super::*;

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s.replace(' ', "")).unwrap()
}

const CONNECT: &str = concat!(
    "03 00 00 00 00 00 90 14 00 00 00 00 02 00 07 63 ",
    "6f 6e 6e 65 63 74 00 3f f0 00 00 00 00 00 00 03 ",
    "00 03 61 70 70 02 00 04 6c 69 76 65 00 04 74 79 ",
    "70 65 02 00 0a 6e 6f 6e 70 72 69 76 61 74 65 00 ",
    "08 66 6c 61 73 68 56 65 72 02 00 24 46 4d 4c 45 ",
    "2f 33 2e 30 20 28 63 6f 6d 70 61 74 69 62 6c 65 ",
    "3b 20 4c 61 76 66 36 30 2e 31 36 2e 31 30 30 29 ",
    "00 05 74 63 55 72 6c 02 00 1f 72 74 6d 70 3a 2f ",
    "2f 31 32 34 2e 32 32 32 2e 37 33 2e 32 33 31 3a ",
    "31 39 33 35 2f 6c 69 76 65 00 00 09 ",
);

const WINDOW_ACK_SIZE: &str = "02 00 00 00 00 00 04 05 00 00 00 00 00 4c 4b 40 ";

const SET_PEER_BANDWIDTH: &str =
    concat!("02 00 00 00 00 00 05 06 00 00 00 00 00 4c 4b 40 ", "02 ",);

const SET_CHUNK_SIZE: &str = "02 00 00 00 00 00 04 01 00 00 00 00 00 00 10 00 ";

const RESULT_CONNECT: &str = concat!(
    "03 00 00 00 00 00 be 14 00 00 00 00 02 00 07 5f ",
    "72 65 73 75 6c 74 00 3f f0 00 00 00 00 00 00 03 ",
    "00 06 66 6d 73 56 65 72 02 00 0d 46 4d 53 2f 33 ",
    "2c 30 2c 31 2c 31 32 33 00 0c 63 61 70 61 62 69 ",
    "6c 69 74 69 65 73 00 40 3f 00 00 00 00 00 00 00 ",
    "00 09 03 00 05 6c 65 76 65 6c 02 00 06 73 74 61 ",
    "74 75 73 00 04 63 6f 64 65 02 00 1d 4e 65 74 43 ",
    "6f 6e 6e 65 63 74 69 6f 6e 2e 43 6f 6e 6e 65 63 ",
    "74 2e 53 75 63 63 65 73 73 00 0b 64 65 73 63 72 ",
    "69 70 74 69 6f 6e 02 00 15 43 6f 6e 6e 65 63 74 ",
    "69 6f 6e 20 73 75 63 63 65 65 64 65 64 2e 00 0e ",
    "6f 62 6a 65 63 74 45 6e 63 6f 64 69 6e 67 00 00 ",
    "00 00 00 00 00 00 00 00 00 09 ",
);

const RELEASE_STREAM: &str = concat!(
    "43 00 00 00 00 00 21 14 02 00 0d 72 65 6c 65 61 ",
    "73 65 53 74 72 65 61 6d 00 40 00 00 00 00 00 00 ",
    "00 05 02 00 04 72 6f 6f 6d ",
);

const FC_PUBLISH: &str = concat!(
    "43 00 00 00 00 00 1d 14 02 00 09 46 43 50 75 62 ",
    "6c 69 73 68 00 40 08 00 00 00 00 00 00 05 02 00 ",
    "04 72 6f 6f 6d ",
);

const CREATE_STREAM: &str = concat!(
    "43 00 00 00 00 00 19 14 02 00 0c 63 72 65 61 74 ",
    "65 53 74 72 65 61 6d 00 40 10 00 00 00 00 00 00 ",
    "05 ",
);

const RESULT_CREATE_STREAM: &str = concat!(
    "03 00 00 00 00 00 1d 14 00 00 00 00 02 00 07 5f ",
    "72 65 73 75 6c 74 00 40 10 00 00 00 00 00 00 05 ",
    "00 3f f0 00 00 00 00 00 00 ",
);

const PUBLISH: &str = concat!(
    "08 00 00 00 00 00 22 14 01 00 00 00 02 00 07 70 ",
    "75 62 6c 69 73 68 00 40 14 00 00 00 00 00 00 05 ",
    "02 00 04 72 6f 6f 6d 02 00 04 6c 69 76 65 ",
);

const ON_STATUS: &str = concat!(
    "05 00 00 00 00 00 69 14 01 00 00 00 02 00 08 6f ",
    "6e 53 74 61 74 75 73 00 00 00 00 00 00 00 00 00 ",
    "05 03 00 05 6c 65 76 65 6c 02 00 06 73 74 61 74 ",
    "75 73 00 04 63 6f 64 65 02 00 17 4e 65 74 53 74 ",
    "72 65 61 6d 2e 50 75 62 6c 69 73 68 2e 53 74 61 ",
    "72 74 00 0b 64 65 73 63 72 69 70 74 69 6f 6e 02 ",
    "00 10 53 74 61 72 74 20 70 75 62 6c 69 73 68 69 ",
    "6e 67 00 00 09 ",
);

const SET_DATA_FRAME: &str = concat!(
    "04 00 00 00 00 01 27 12 01 00 00 00 02 00 0d 40 ",
    "73 65 74 44 61 74 61 46 72 61 6d 65 02 00 0a 6f ",
    "6e 4d 65 74 61 44 61 74 61 08 00 00 00 0a 00 08 ",
    "64 75 72 61 74 69 6f 6e 00 00 00 00 00 00 00 00 ",
    "00 00 05 77 69 64 74 68 00 40 94 00 00 00 00 00 ",
    "00 00 06 68 65 69 67 68 74 00 40 86 80 00 00 00 ",
    "00 00 00 0d 76 69 64 65 6f 64 61 74 61 72 61 74 ",
    "65 00 40 d3 12 d0 00 00 00 00 00 09 66 72 61 6d ",
    "65 72 61 74 65 00 40 2e 00 00 00 00 00 00 00 0c ",
    "76 69 64 65 6f 63 6f 64 65 63 69 64 00 40 00 00 ",
    "00 00 00 00 00 00 05 74 69 74 6c 65 02 00 1a 48 ",
    "49 4b 20 4d 65 64 69 61 20 53 65 72 76 65 72 20 ",
    "56 34 2e 33 30 2e 30 38 35 00 07 63 6f 6d 6d 65 ",
    "6e 74 02 00 2f 48 49 4b 20 4d 65 64 69 61 20 53 ",
    "65 72 76 65 72 20 53 65 73 73 69 6f 6e 20 44 65 ",
    "73 63 72 69 70 74 69 6f 6e 20 3a 20 73 74 61 6e ",
    "64 61 72 64 00 07 65 6e 63 6f 64 65 72 02 00 0d ",
    "4c 61 76 66 36 30 2e 31 36 2e 31 30 30 00 08 66 ",
    "69 6c 65 73 69 7a 65 00 00 00 00 00 00 00 00 00 ",
    "00 00 09 ",
);

const VIDEO_DATA_START: &str = "06 00 00 00 00 71 1c 09 01 00 00 00 12 00 00 84 ";

/// (dump, fmt, csid, timestamp or delta field, body size, type id, stream id for type 0)
type SeedVector = (&'static str, u8, u32, u32, u32, u8, Option<u32>);

const SEED_000: &[SeedVector] = &[
    (CONNECT, 0, 3, 0, 144, 0x14, Some(0)),
    (WINDOW_ACK_SIZE, 0, 2, 0, 4, 0x05, Some(0)),
    (SET_PEER_BANDWIDTH, 0, 2, 0, 5, 0x06, Some(0)),
    (SET_CHUNK_SIZE, 0, 2, 0, 4, 0x01, Some(0)),
    (RESULT_CONNECT, 0, 3, 0, 190, 0x14, Some(0)),
    (RELEASE_STREAM, 1, 3, 0, 33, 0x14, None),
    (FC_PUBLISH, 1, 3, 0, 29, 0x14, None),
    (CREATE_STREAM, 1, 3, 0, 25, 0x14, None),
    (RESULT_CREATE_STREAM, 0, 3, 0, 29, 0x14, Some(0)),
    (PUBLISH, 0, 8, 0, 34, 0x14, Some(1)),
    (ON_STATUS, 0, 5, 0, 105, 0x14, Some(1)),
    (SET_DATA_FRAME, 0, 4, 0, 295, 0x12, Some(1)),
    (VIDEO_DATA_START, 0, 6, 0, 28956, 0x09, Some(1)),
];

#[test]
fn seed_000_headers_decode_and_reencode() {
    for &(dump, fmt, csid, ts, len, type_id, sid) in SEED_000 {
        let bytes = unhex(dump);
        let (h, n) = ChunkHeader::decode(&bytes, false).unwrap();
        assert_eq!(h.basic, BasicHeader { fmt, csid });
        assert_eq!(h.extended_timestamp, None);
        assert_eq!(h.timestamp_value(), Some(ts));
        match h.message {
            ChunkMessageHeader::Type0(t) => {
                assert_eq!(
                    (t.length, t.type_id, Some(t.stream_id)),
                    (len, type_id, sid)
                );
                assert_eq!(n, 12);
            }
            ChunkMessageHeader::Type1(t) => {
                assert_eq!((t.length, t.type_id, sid), (len, type_id, None));
                assert_eq!(n, 8);
            }
            other => panic!("unexpected header {other:?}"),
        }
        let mut out = BytesMut::new();
        h.encode(&mut out).unwrap();
        assert_eq!(out[..], bytes[..n], "re-encode of {dump}");
        if len < 28956 {
            assert_eq!(bytes.len() - n, len as usize, "body size of {dump}");
        }
    }
}

/// Cuts a reassembled dump (header + whole body) into chunks at `chunk_size`.
fn chunked(dump: &str, chunk_size: usize) -> Vec<u8> {
    let bytes = unhex(dump);
    let (h, n) = ChunkHeader::decode(&bytes, false).unwrap();
    let mut out = bytes[..n].to_vec();
    for (i, part) in bytes[n..].chunks(chunk_size).enumerate() {
        if i > 0 {
            out.push(0xC0 | h.basic.csid as u8);
        }
        out.extend_from_slice(part);
    }
    out
}

fn body(dump: &str) -> Vec<u8> {
    let bytes = unhex(dump);
    let (_, n) = ChunkHeader::decode(&bytes, false).unwrap();
    bytes[n..].to_vec()
}

/// ffmpeg's side of the publish: connect at chunk size 128, then Set Chunk Size 4096.
const CLIENT_SIDE: &[(&str, usize)] = &[
    (CONNECT, 128),
    (SET_CHUNK_SIZE, 128),
    (RELEASE_STREAM, 4096),
    (FC_PUBLISH, 4096),
    (CREATE_STREAM, 4096),
    (PUBLISH, 4096),
    (SET_DATA_FRAME, 4096),
];

#[test]
fn seed_000_client_side_reads_back() {
    let mut wire = Vec::new();
    for &(dump, cs) in CLIENT_SIDE {
        wire.extend_from_slice(&chunked(dump, cs));
    }
    let mut r = ChunkReader::default();
    r.push(&wire);
    let mut msgs = Vec::new();
    while let Some(m) = r.poll_message().unwrap() {
        msgs.push(m);
    }
    assert_eq!(msgs.len(), CLIENT_SIDE.len());
    assert_eq!(r.chunk_size(), 4096);
    for (m, &(dump, _)) in msgs.iter().zip(CLIENT_SIDE) {
        let &(_, fmt, csid, ts, len, type_id, sid) = SEED_000.iter().find(|v| v.0 == dump).unwrap();
        assert_eq!(m.info.first_fmt, fmt);
        assert_eq!((m.csid, m.timestamp, m.type_id), (csid, ts, type_id));
        assert_eq!(m.payload.len(), len as usize);
        assert_eq!(m.payload[..], body(dump)[..]);
        // Type 1 headers inherit the stream id from connect's type 0 header.
        assert_eq!(m.stream_id, sid.unwrap_or(0));
    }
    assert_eq!(msgs[0].info.chunk_count, 2);
    assert_eq!(msgs[0].info.end_offset, 157);
    assert_eq!(r.bytes_consumed(), wire.len() as u64);
}

#[test]
fn seed_000_client_side_writer_reproduces_bytes() {
    let mut w = ChunkWriter::new();
    let mut out = BytesMut::new();
    let mut expected = Vec::new();
    for &(dump, cs) in CLIENT_SIDE {
        let bytes = unhex(dump);
        let (h, _) = ChunkHeader::decode(&bytes, false).unwrap();
        let sid = match h.message {
            ChunkMessageHeader::Type0(t) => t.stream_id,
            _ => 0,
        };
        let header = MessageHeader {
            timestamp: 0,
            type_id: bytes[7],
            stream_id: sid,
        };
        if dump == SET_CHUNK_SIZE {
            w.write_set_chunk_size(4096, &mut out).unwrap();
        } else {
            w.write_message(h.basic.csid, &header, &body(dump), &mut out)
                .unwrap();
        }
        expected.extend_from_slice(&chunked(dump, cs));
    }
    assert_eq!(out[..], expected[..]);
}

#[test]
fn seed_000_server_side_fmt0_messages() {
    // nginx's replies: every message with a type 0 header; _result after Set Chunk Size 4096.
    let server: &[(&str, u32)] = &[
        (WINDOW_ACK_SIZE, 128),
        (SET_PEER_BANDWIDTH, 128),
        (SET_CHUNK_SIZE, 128),
        (RESULT_CONNECT, 4096),
        (RESULT_CREATE_STREAM, 4096),
        (ON_STATUS, 4096),
    ];
    let mut wire = Vec::new();
    for &(dump, cs) in server {
        let bytes = unhex(dump);
        let (h, n) = ChunkHeader::decode(&bytes, false).unwrap();
        let ChunkMessageHeader::Type0(t) = h.message else {
            panic!("type 0 expected")
        };
        let header = MessageHeader {
            timestamp: t.timestamp_field,
            type_id: t.type_id,
            stream_id: t.stream_id,
        };
        let frame = serialize_fmt0(cs, h.basic.csid, &header, &bytes[n..]).unwrap();
        assert_eq!(frame[..], bytes[..], "{dump}");
        wire.extend_from_slice(&frame);
    }
    let mut r = ChunkReader::default();
    r.push(&wire);
    let mut n = 0;
    while let Some(m) = r.poll_message().unwrap() {
        assert_eq!(m.payload[..], body(server[n].0)[..]);
        n += 1;
    }
    assert_eq!(n, server.len());
    // Window Acknowledgement Size 5000000 and Set Peer Bandwidth 5000000 Dynamic.
    assert_eq!(body(WINDOW_ACK_SIZE), 5_000_000u32.to_be_bytes());
    assert_eq!(body(SET_PEER_BANDWIDTH)[4], 2);
}

#[test]
fn seed_000_video_header_first_chunk() {
    // Body size 28956 at chunk size 4096: the first chunk holds 4096 bytes, control byte 0x12.
    let mut r = ChunkReader::default();
    r.set_chunk_size(4096).unwrap();
    let mut payload = vec![0u8; 28956];
    payload[..4].copy_from_slice(&[0x12, 0x00, 0x00, 0x84]);
    let header = MessageHeader {
        timestamp: 0,
        type_id: 9,
        stream_id: 1,
    };
    let wire = serialize_fmt0(4096, 6, &header, &payload).unwrap();
    assert_eq!(wire[..16], unhex(VIDEO_DATA_START)[..]);
    r.push(&wire);
    let m = r.poll_message().unwrap().unwrap();
    assert_eq!(m.info.chunk_count, 8);
    assert_eq!(m.payload[..], payload[..]);
}

// Seed 001 has no hex dumps; these vectors are built from its printed fields.

#[test]
fn seed_001_window_ack_size_with_timestamp_16() {
    let bytes = unhex("02 00 00 10 00 00 04 05 00 00 00 00 00 26 25 a0");
    let (h, n) = ChunkHeader::decode(&bytes, false).unwrap();
    assert_eq!((h.basic.csid, h.timestamp_value(), n), (2, Some(16), 12));
    let mut r = ChunkReader::default();
    r.push(&bytes);
    let m = r.poll_message().unwrap().unwrap();
    assert_eq!((m.timestamp, m.type_id), (16, 5));
    assert_eq!(m.payload[..], 2_500_000u32.to_be_bytes());
    let header = m.header();
    assert_eq!(
        serialize_fmt0(128, 2, &header, &m.payload).unwrap()[..],
        bytes[..]
    );
}

#[test]
fn seed_001_audio_type2_delta() {
    // "Timestamp delta: 6770207, Timestamp: 7984253 (calculated)" on csid 4, control byte 0xA4.
    let base = 7_984_253 - 6_770_207;
    let mut w = ChunkWriter::new();
    let mut out = BytesMut::new();
    let audio = |ts| MessageHeader {
        timestamp: ts,
        type_id: 8,
        stream_id: 1,
    };
    w.write_message(4, &audio(base), &[0xA4, 1, 2], &mut out)
        .unwrap();
    let second_at = out.len();
    w.write_message(4, &audio(7_984_253), &[0xA4, 3, 4], &mut out)
        .unwrap();
    assert_eq!(out[second_at..second_at + 4], [0x84, 0x67, 0x4E, 0x1F]);
    let (h, _) = ChunkHeader::decode(&out[second_at..], false).unwrap();
    assert_eq!(
        h.message,
        ChunkMessageHeader::Type2(Type2Header {
            delta_field: 6_770_207
        })
    );
    let mut r = ChunkReader::default();
    r.push(&out);
    r.poll_message().unwrap().unwrap();
    let m = r.poll_message().unwrap().unwrap();
    assert_eq!(
        (m.timestamp, m.info.first_fmt, m.info.timestamp_field),
        (7_984_253, 2, 6_770_207)
    );
    assert_eq!(m.payload[0], 0xA4);
}

#[test]
fn seed_001_chunk_size_60000() {
    let scs = unhex("02 00 00 00 00 00 04 01 00 00 00 00 00 00 ea 60");
    let mut r = ChunkReader::default();
    r.push(&scs);
    assert_eq!(
        r.poll_message().unwrap().unwrap().payload[..],
        60000u32.to_be_bytes()
    );
    assert_eq!(r.chunk_size(), 60000);
    let payload: Vec<u8> = (0..70_000u32).map(|i| (i * 7) as u8).collect();
    let header = MessageHeader {
        timestamp: 40,
        type_id: 9,
        stream_id: 1,
    };
    let wire = serialize_fmt0(60000, 6, &header, &payload).unwrap();
    assert_eq!(wire.len(), 12 + 70_000 + 1);
    assert_eq!(wire[12 + 60000], 0xC6);
    r.push(&wire);
    let m = r.poll_message().unwrap().unwrap();
    assert_eq!((m.info.chunk_count, m.payload.len()), (2, 70_000));
    assert_eq!(m.payload[..], payload[..]);
}

#[test]
fn seed_001_csid_65_two_byte_form() {
    let (h, n) = BasicHeader::decode(&[0x80, 0x01]).unwrap();
    assert_eq!((h, n), (BasicHeader { fmt: 2, csid: 65 }, 2));
    let mut out = BytesMut::new();
    h.encode(&mut out).unwrap();
    assert_eq!(out[..], [0x80, 0x01]);
}
