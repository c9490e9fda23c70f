use super::*;
use crate::rtmp::chunk::{ChunkReader, RawMessage};

fn h(timestamp: u32, type_id: u8, stream_id: u32) -> MessageHeader {
    MessageHeader {
        timestamp,
        type_id,
        stream_id,
    }
}

fn write(w: &mut ChunkWriter, csid: u32, hdr: MessageHeader, payload: &[u8]) -> Vec<u8> {
    let mut out = BytesMut::new();
    w.write_message(csid, &hdr, payload, &mut out).unwrap();
    out.to_vec()
}

fn read_back(bytes: &[u8]) -> Vec<RawMessage> {
    let mut r = ChunkReader::default();
    r.push(bytes);
    let mut v = Vec::new();
    while let Some(m) = r.poll_message().unwrap() {
        v.push(m);
    }
    v
}

#[test]
fn picks_most_compact_format() {
    let mut w = ChunkWriter::new();
    let cases: [(MessageHeader, usize, &[u8]); 8] = [
        (
            h(1000, 9, 1),
            5,
            &[0x06, 0x00, 0x03, 0xE8, 0, 0, 5, 9, 1, 0, 0, 0],
        ),
        (h(1040, 9, 1), 6, &[0x46, 0x00, 0x00, 0x28, 0, 0, 6, 9]), // length changed: type 1
        (h(1080, 9, 1), 6, &[0xC6]),                               // same delta 40: type 3
        (h(1100, 9, 1), 6, &[0x86, 0x00, 0x00, 0x14]),             // delta 20: type 2
        (h(1100, 8, 1), 6, &[0x46, 0, 0, 0, 0, 0, 6, 8]),          // type id changed: type 1
        (
            h(1000, 8, 1),
            6,
            &[0x06, 0x00, 0x03, 0xE8, 0, 0, 6, 8, 1, 0, 0, 0],
        ), // backward: type 0
        (
            h(1000, 8, 2),
            6,
            &[0x06, 0x00, 0x03, 0xE8, 0, 0, 6, 8, 2, 0, 0, 0],
        ), // stream id: type 0
        (h(1000, 8, 2), 6, &[0x86, 0, 0, 0]), // after type 0, delta 0 needs type 2 first
    ];
    let mut all = Vec::new();
    for (hdr, len, expected_header) in cases {
        let payload = vec![0xAB; len];
        let bytes = write(&mut w, 6, hdr, &payload);
        assert_eq!(&bytes[..expected_header.len()], expected_header, "{hdr:?}");
        assert_eq!(bytes.len(), expected_header.len() + len);
        all.extend_from_slice(&bytes);
    }
    let back = read_back(&all);
    assert_eq!(back.len(), cases.len());
    for (m, (hdr, len, _)) in back.iter().zip(cases) {
        assert_eq!(m.header(), hdr);
        assert_eq!(m.payload.len(), len);
    }
    // After a type 2 with delta 0, a same-timestamp message uses type 3.
    let bytes = write(&mut w, 6, h(1000, 8, 2), &[1; 6]);
    assert_eq!(bytes[0], 0xC6);
}

#[test]
fn wrapping_forward_timestamp_is_a_delta() {
    let mut w = ChunkWriter::new();
    let mut all = write(&mut w, 4, h(0xFFFF_FFF0, 8, 1), b"a");
    let second = write(&mut w, 4, h(0x10, 8, 1), b"b");
    assert_eq!(second, [0x84, 0, 0, 0x20, b'b']);
    all.extend_from_slice(&second);
    let ts: Vec<u32> = read_back(&all).iter().map(|m| m.timestamp).collect();
    assert_eq!(ts, [0xFFFF_FFF0, 0x10]);
}

#[test]
fn extended_timestamp_repeated_on_type3() {
    let mut w = ChunkWriter::new();
    let ts = 0x0123_4567u32;
    let payload = vec![5u8; 200];
    let bytes = write(&mut w, 6, h(ts, 9, 1), &payload);
    let mut expected = vec![0x06, 0xFF, 0xFF, 0xFF, 0, 0, 200, 9, 1, 0, 0, 0];
    expected.extend_from_slice(&ts.to_be_bytes());
    expected.extend_from_slice(&payload[..128]);
    expected.push(0xC6);
    expected.extend_from_slice(&ts.to_be_bytes());
    expected.extend_from_slice(&payload[128..]);
    assert_eq!(bytes, expected);
    let back = read_back(&bytes);
    assert_eq!(back[0].timestamp, ts);
    assert_eq!(back[0].info.missing_extended_repeats, 0);
}

#[test]
fn chunk_by_chunk_interleaving() {
    let mut w = ChunkWriter::new();
    let mut video = w
        .start_message(6, h(0, 9, 1), Bytes::from(vec![b'v'; 300]))
        .unwrap();
    let mut audio = w
        .start_message(4, h(0, 8, 1), Bytes::from(vec![b'a'; 130]))
        .unwrap();
    assert_eq!(
        w.start_message(6, h(0, 9, 1), Bytes::new()).unwrap_err(),
        ChunkError::ChunkStreamBusy { csid: 6 }
    );
    let mut out = BytesMut::new();
    assert_eq!(
        w.write_message(6, &h(0, 9, 1), b"", &mut out),
        Err(ChunkError::ChunkStreamBusy { csid: 6 })
    );
    assert!(!w.write_chunk(&mut video, &mut out));
    assert!(!w.write_chunk(&mut audio, &mut out));
    assert_eq!(audio.remaining(), 2);
    assert!(!w.write_chunk(&mut video, &mut out));
    assert!(w.write_chunk(&mut audio, &mut out));
    assert!(w.write_chunk(&mut video, &mut out));
    assert!(w.write_chunk(&mut video, &mut out), "done stays done");
    assert!(video.is_done() && audio.is_done());
    let back = read_back(&out);
    assert_eq!(back.len(), 2);
    assert_eq!((back[0].csid, back[0].payload.len()), (4, 130));
    assert_eq!((back[1].csid, back[1].payload.len()), (6, 300));
    // Both chunk streams are free again.
    w.write_message(6, &h(40, 9, 1), b"x", &mut out).unwrap();
}

#[test]
fn abort_message_frees_the_chunk_stream() {
    let mut w = ChunkWriter::new();
    let mut m = w
        .start_message(6, h(0, 9, 1), Bytes::from(vec![0u8; 300]))
        .unwrap();
    let mut out = BytesMut::new();
    w.write_chunk(&mut m, &mut out);
    assert_eq!(m.csid(), 6);
    assert_eq!(m.header(), h(0, 9, 1));
    w.abort_message(m);
    w.write_message(6, &h(0, 9, 1), b"y", &mut out).unwrap();
}

#[test]
fn zero_length_messages() {
    let mut w = ChunkWriter::new();
    let bytes = write(&mut w, 3, h(0, 20, 0), b"");
    assert_eq!(bytes.len(), 12);
    let mut m = w.start_message(3, h(0, 20, 0), Bytes::new()).unwrap();
    let mut out = BytesMut::from(&bytes[..]);
    assert!(w.write_chunk(&mut m, &mut out));
    let back = read_back(&out);
    assert_eq!(back.len(), 2);
    assert!(back.iter().all(|m| m.payload.is_empty()));
}

#[test]
fn set_chunk_size_message_and_switch() {
    let mut w = ChunkWriter::new();
    let mut out = BytesMut::new();
    w.write_set_chunk_size(4096, &mut out).unwrap();
    assert_eq!(
        out[..],
        [0x02, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 0, 0, 0, 0x10, 0][..]
    );
    assert_eq!(w.chunk_size(), 4096);
    w.write_message(6, &h(0, 9, 1), &[1u8; 5000], &mut out)
        .unwrap();
    let mut r = ChunkReader::default();
    r.push(&out);
    r.poll_message().unwrap().unwrap();
    let m = r.poll_message().unwrap().unwrap();
    assert_eq!(m.info.chunk_count, 2);
    assert_eq!(
        w.set_chunk_size(0),
        Err(ChunkError::ChunkSizeOutOfRange { value: 0 })
    );
    assert_eq!(
        w.write_set_chunk_size(0x8000_0000, &mut out),
        Err(ChunkError::ChunkSizeOutOfRange { value: 0x8000_0000 })
    );
}

#[test]
fn reset_chunk_stream_forces_type0() {
    let mut w = ChunkWriter::new();
    write(&mut w, 6, h(0, 9, 1), b"a");
    assert_eq!(write(&mut w, 6, h(40, 9, 1), b"b")[0] >> 6, 2);
    w.reset_chunk_stream(6);
    assert_eq!(write(&mut w, 6, h(80, 9, 1), b"c")[0] >> 6, 0);
}

#[test]
fn serialize_fmt0_is_stateless() {
    let payload = vec![3u8; 300];
    let hdr = h(0x0100_0000, 9, 1);
    let a = serialize_fmt0(128, 6, &hdr, &payload).unwrap();
    let b = serialize_fmt0(128, 6, &hdr, &payload).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.len(), 12 + 4 + 300 + 2 * (1 + 4));
    let back = read_back(&a);
    assert_eq!(back[0].header(), hdr);
    assert_eq!(back[0].payload[..], payload[..]);
    // Same bytes as a fresh writer's first message.
    let mut w = ChunkWriter::new();
    assert_eq!(write(&mut w, 6, hdr, &payload), a.to_vec());
}

#[test]
fn writer_argument_errors() {
    let mut w = ChunkWriter::new();
    let mut out = BytesMut::new();
    for csid in [0, 1, 65600] {
        assert_eq!(
            w.write_message(csid, &h(0, 9, 1), b"", &mut out),
            Err(ChunkError::InvalidChunkStreamId { csid })
        );
        assert_eq!(
            w.start_message(csid, h(0, 9, 1), Bytes::new()).unwrap_err(),
            ChunkError::InvalidChunkStreamId { csid }
        );
    }
    assert_eq!(
        serialize_fmt0(0, 6, &h(0, 9, 1), b""),
        Err(ChunkError::ChunkSizeOutOfRange { value: 0 })
    );
    let big = vec![0u8; 0x0100_0000];
    assert_eq!(
        w.write_message(6, &h(0, 9, 1), &big, &mut out),
        Err(ChunkError::PayloadTooLong {
            length: 0x0100_0000
        })
    );
    assert_eq!(
        serialize_fmt0(4096, 6, &h(0, 9, 1), &big),
        Err(ChunkError::PayloadTooLong {
            length: 0x0100_0000
        })
    );
    assert!(out.is_empty());
    // The largest encodable message works.
    serialize_fmt0(60000, 6, &h(0, 9, 1), &big[..0xFF_FFFF]).unwrap();
}

#[test]
fn encoded_len_is_exact() {
    for (csid, ts, len, cs) in [
        (2u32, 0u32, 0u32, 128usize),
        (64, 0xFFFFFF, 128, 128),
        (400, 7, 129, 128),
        (3, 0x7FFF_FFFF, 5000, 1),
    ] {
        let first = FirstHeader { fmt: 0, value: ts };
        let payload = vec![0u8; len as usize];
        let out = serialize_fmt0(cs as u32, csid, &h(ts, 9, 1), &payload).unwrap();
        assert_eq!(encoded_len(csid, first, len, cs), out.len());
    }
}
