use super::*;
use crate::rtmp::chunk::header::{Type0Header, Type1Header, Type2Header};

fn basic(out: &mut Vec<u8>, fmt: u8, csid: u32) {
    let mut b = BytesMut::new();
    BasicHeader { fmt, csid }.encode(&mut b).unwrap();
    out.extend_from_slice(&b);
}

fn t0(csid: u32, ts: u32, len: u32, type_id: u8, sid: u32) -> Vec<u8> {
    let mut out = Vec::new();
    basic(&mut out, 0, csid);
    let mut b = BytesMut::new();
    Type0Header {
        timestamp_field: ts.min(0xFFFFFF),
        length: len,
        type_id,
        stream_id: sid,
    }
    .encode(&mut b);
    if ts >= 0xFFFFFF {
        b.put_u32(ts);
    }
    out.extend_from_slice(&b);
    out
}

fn t1(csid: u32, delta: u32, len: u32, type_id: u8) -> Vec<u8> {
    let mut out = Vec::new();
    basic(&mut out, 1, csid);
    let mut b = BytesMut::new();
    Type1Header {
        delta_field: delta.min(0xFFFFFF),
        length: len,
        type_id,
    }
    .encode(&mut b);
    if delta >= 0xFFFFFF {
        b.put_u32(delta);
    }
    out.extend_from_slice(&b);
    out
}

fn t2(csid: u32, delta: u32) -> Vec<u8> {
    let mut out = Vec::new();
    basic(&mut out, 2, csid);
    let mut b = BytesMut::new();
    Type2Header {
        delta_field: delta.min(0xFFFFFF),
    }
    .encode(&mut b);
    if delta >= 0xFFFFFF {
        b.put_u32(delta);
    }
    out.extend_from_slice(&b);
    out
}

fn t3(csid: u32) -> Vec<u8> {
    let mut out = Vec::new();
    basic(&mut out, 3, csid);
    out
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

fn read_all(r: &mut ChunkReader) -> Vec<RawMessage> {
    let mut v = Vec::new();
    while let Some(m) = r.poll_message().unwrap() {
        v.push(m);
    }
    v
}

fn read_bytes(bytes: &[u8]) -> Vec<RawMessage> {
    let mut r = ChunkReader::default();
    r.push(bytes);
    read_all(&mut r)
}

use bytes::BufMut;

#[test]
fn single_chunk_message() {
    let bytes = cat(&[&t0(3, 1000, 3, 20, 1), b"abc"]);
    let msgs = read_bytes(&bytes);
    assert_eq!(msgs.len(), 1);
    let m = &msgs[0];
    assert_eq!(
        (m.csid, m.timestamp, m.type_id, m.stream_id),
        (3, 1000, 20, 1)
    );
    assert_eq!(&m.payload[..], b"abc");
    assert_eq!(
        m.info,
        ChunkInfo {
            first_fmt: 0,
            timestamp_field: 1000,
            extended_timestamp: false,
            chunk_count: 1,
            missing_extended_repeats: 0,
            start_offset: 0,
            end_offset: 15,
        }
    );
    assert_eq!(m.header().timestamp, 1000);
}

#[test]
fn multi_chunk_message_offsets_and_counts() {
    let payload: Vec<u8> = (0..300u32).map(|i| i as u8).collect();
    let bytes = cat(&[
        b"\x02\x00\x00\x00\x00\x00\x01\x05\x00\x00\x00\x00x", // a 1-byte message first
        &t0(4, 0, 300, 9, 1),
        &payload[..128],
        &t3(4),
        &payload[128..256],
        &t3(4),
        &payload[256..],
    ]);
    let mut r = ChunkReader::default();
    r.push(&bytes);
    let msgs = read_all(&mut r);
    assert_eq!(msgs.len(), 2);
    assert_eq!(msgs[1].payload[..], payload[..]);
    assert_eq!(msgs[1].info.chunk_count, 3);
    assert_eq!(msgs[1].info.start_offset, 13);
    assert_eq!(msgs[1].info.end_offset, bytes.len() as u64);
    assert_eq!(r.bytes_consumed(), bytes.len() as u64);
    assert_eq!(r.bytes_received(), bytes.len() as u64);
    assert_eq!(r.buffered_len(), 0);
}

#[test]
fn byte_by_byte_push() {
    let payload = vec![7u8; 500];
    let bytes = cat(&[
        &t0(5, 40, 500, 8, 1),
        &payload[..128],
        &t3(5),
        &payload[128..256],
        &t3(5),
        &payload[256..384],
        &t3(5),
        &payload[384..],
    ]);
    let mut r = ChunkReader::default();
    let mut got = Vec::new();
    for b in &bytes {
        r.push(std::slice::from_ref(b));
        got.extend(read_all(&mut r));
    }
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].payload[..], payload[..]);
    assert_eq!(got[0].timestamp, 40);
}

#[test]
fn header_inheritance_and_deltas() {
    let bytes = cat(&[
        &t0(6, 100, 2, 9, 1),
        b"aa",
        &t1(6, 33, 3, 9), // ts 133, new length
        b"bbb",
        &t2(6, 34), // ts 167, same length
        b"ccc",
        &t3(6), // new message: re-applies delta 34 -> 201
        b"ddd",
        &t3(6), // -> 235
        b"eee",
    ]);
    let msgs = read_bytes(&bytes);
    let ts: Vec<u32> = msgs.iter().map(|m| m.timestamp).collect();
    assert_eq!(ts, [100, 133, 167, 201, 235]);
    let fmts: Vec<u8> = msgs.iter().map(|m| m.info.first_fmt).collect();
    assert_eq!(fmts, [0, 1, 2, 3, 3]);
    assert!(msgs.iter().all(|m| m.stream_id == 1 && m.type_id == 9));
    assert_eq!(msgs[4].payload[..], b"eee"[..]);
    assert_eq!(msgs[3].info.timestamp_field, 34);
}

#[test]
fn type3_after_type0_reapplies_the_type0_timestamp() {
    // RTMP 1.0 5.3.1.2.4: after a type 0, the delta of a type 3 is the type 0 timestamp.
    let bytes = cat(&[&t0(4, 20, 1, 8, 1), b"a", &t3(4), b"b", &t3(4), b"c"]);
    let ts: Vec<u32> = read_bytes(&bytes).iter().map(|m| m.timestamp).collect();
    assert_eq!(ts, [20, 40, 60]);
}

#[test]
fn timestamps_wrap() {
    let bytes = cat(&[
        &t0(4, 0xFFFF_FFF0, 1, 8, 1),
        b"a",
        &t2(4, 0x20),
        b"b",
        &t3(4),
        b"c",
    ]);
    let ts: Vec<u32> = read_bytes(&bytes).iter().map(|m| m.timestamp).collect();
    assert_eq!(ts, [0xFFFF_FFF0, 0x10, 0x30]);
}

#[test]
fn extended_timestamp_repeated_on_continuations() {
    let payload = [0xEEu8; 200];
    let ts = 0x0100_0000u32;
    let bytes = cat(&[
        &t0(6, ts, 200, 9, 1),
        &payload[..128],
        &t3(6),
        &ts.to_be_bytes(),
        &payload[128..],
    ]);
    let msgs = read_bytes(&bytes);
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0].timestamp, ts);
    assert_eq!(msgs[0].payload[..], payload[..]);
    assert!(msgs[0].info.extended_timestamp);
    assert_eq!(msgs[0].info.timestamp_field, ts);
    assert_eq!(msgs[0].info.missing_extended_repeats, 0);
}

#[test]
fn extended_timestamp_not_repeated_is_tolerated() {
    let payload = [0x11u8; 200];
    let ts = 0x0100_0000u32;
    let bytes = cat(&[
        &t0(6, ts, 200, 9, 1),
        &payload[..128],
        &t3(6),
        &payload[128..],
    ]);
    let msgs = read_bytes(&bytes);
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0].payload[..], payload[..]);
    assert_eq!(msgs[0].info.missing_extended_repeats, 1);
}

#[test]
fn extended_delta_continuation_may_repeat_absolute_timestamp() {
    // Type 1 with an extended delta; the continuation repeats the absolute timestamp instead.
    let payload = [0x22u8; 130];
    let delta = 0x0200_0000u32;
    let bytes = cat(&[
        &t0(6, 5, 1, 9, 1),
        b"x",
        &t1(6, delta, 130, 9),
        &payload[..128],
        &t3(6),
        &(delta + 5).to_be_bytes(),
        &payload[128..],
    ]);
    let msgs = read_bytes(&bytes);
    assert_eq!(msgs.len(), 2);
    assert_eq!(msgs[1].timestamp, delta + 5);
    assert_eq!(msgs[1].info.timestamp_field, delta);
    assert_eq!(msgs[1].payload[..], payload[..]);
    assert_eq!(msgs[1].info.missing_extended_repeats, 0);
}

#[test]
fn extended_delta_on_type3_new_message() {
    let delta = 0x0100_0000u32;
    let bytes = cat(&[
        &t0(4, 0, 1, 8, 1),
        b"a",
        &t2(4, delta),
        b"b",
        &t3(4),
        &delta.to_be_bytes(),
        b"c",
        &t3(4), // this encoder forgot the repeat
        b"d",
        // The reader needs 4 bytes after a type 3 header to decide; a following chunk gives them.
        &t0(3, 0, 0, 20, 0),
    ]);
    let msgs = read_bytes(&bytes);
    let ts: Vec<u32> = msgs.iter().map(|m| m.timestamp).collect();
    assert_eq!(ts, [0, delta, 2 * delta, 3 * delta, 0]);
    assert_eq!(msgs[2].payload[..], b"c"[..]);
    assert!(msgs[2].info.extended_timestamp);
    assert_eq!(msgs[3].payload[..], b"d"[..]);
    assert_eq!(msgs[3].info.missing_extended_repeats, 1);
}

#[test]
fn type3_waits_for_four_bytes_before_deciding() {
    let ts = 0x0100_0000u32;
    let payload = [0x33u8; 130];
    let bytes = cat(&[
        &t0(6, ts, 130, 9, 1),
        &payload[..128],
        &t3(6),
        &ts.to_be_bytes(),
        &payload[128..],
    ]);
    let mut r = ChunkReader::default();
    let split = 12 + 4 + 128 + 1 + 2; // inside the repeated extended timestamp
    r.push(&bytes[..split]);
    assert_eq!(r.poll_message().unwrap(), None);
    r.push(&bytes[split..]);
    let m = r.poll_message().unwrap().unwrap();
    assert_eq!(m.payload[..], payload[..]);
}

#[test]
fn interleaved_chunk_streams() {
    let a = [b'a'; 200];
    let v = vec![b'v'; 300];
    let bytes = cat(&[
        &t0(6, 0, 300, 9, 1),
        &v[..128],
        &t0(4, 0, 200, 8, 1),
        &a[..128],
        &t3(6),
        &v[128..256],
        &t3(4),
        &a[128..],
        &t3(6),
        &v[256..],
    ]);
    let msgs = read_bytes(&bytes);
    assert_eq!(msgs.len(), 2);
    assert_eq!((msgs[0].csid, &msgs[0].payload[..]), (4, &a[..]));
    assert_eq!((msgs[1].csid, &msgs[1].payload[..]), (6, &v[..]));
    assert_eq!(msgs[1].info.start_offset, 0);
    assert_eq!(msgs[1].info.chunk_count, 3);
}

#[test]
fn set_chunk_size_applies_immediately() {
    let payload = vec![9u8; 300];
    let bytes = cat(&[
        &t0(2, 0, 4, 1, 0),
        &300u32.to_be_bytes(),
        &t0(6, 0, 300, 9, 1),
        &payload,
    ]);
    let mut r = ChunkReader::default();
    r.push(&bytes);
    let msgs = read_all(&mut r);
    assert_eq!(msgs.len(), 2);
    assert_eq!(msgs[0].type_id, 1);
    assert_eq!(r.chunk_size(), 300);
    assert_eq!(msgs[1].info.chunk_count, 1);
}

#[test]
fn huge_chunk_size_needs_no_allocation() {
    let bytes = cat(&[
        &t0(2, 0, 4, 1, 0),
        &0x7FFF_FFFFu32.to_be_bytes(),
        &t0(6, 0, 10, 9, 1),
        b"0123456789",
    ]);
    let msgs = read_bytes(&bytes);
    assert_eq!(msgs[1].payload[..], b"0123456789"[..]);
}

#[test]
fn abort_discards_partial_message() {
    let bytes = cat(&[
        &t0(6, 0, 300, 9, 1),
        &[1u8; 128],
        &t0(2, 0, 4, 2, 0),
        &6u32.to_be_bytes(),
        &t3(6), // new message: re-applies delta (the type 0 timestamp, 0)
        &[2u8; 128],
        &t3(6),
        &[2u8; 128],
        &t3(6),
        &[2u8; 44],
    ]);
    let msgs = read_bytes(&bytes);
    assert_eq!(msgs.len(), 2);
    assert_eq!(msgs[0].type_id, 2);
    assert_eq!(msgs[1].payload[..], [2u8; 300][..]);
    assert_eq!(msgs[1].info.first_fmt, 3);
    // Abort for a chunk stream that does not exist is harmless.
    let msgs = read_bytes(&cat(&[&t0(2, 0, 4, 2, 0), &77u32.to_be_bytes()]));
    assert_eq!(msgs.len(), 1);
}

#[test]
fn zero_length_message() {
    let msgs = read_bytes(&cat(&[&t0(3, 0, 0, 20, 0), &t2(3, 5)]));
    assert_eq!(msgs.len(), 2);
    assert!(msgs[0].payload.is_empty());
    assert_eq!(msgs[1].timestamp, 5);
}

#[test]
fn declared_large_message_reserves_only_what_arrived() {
    let limits = ChunkLimits {
        max_message_size: 16 << 20,
        ..ChunkLimits::default()
    };
    let mut r = ChunkReader::new(limits);
    r.push(&cat(&[
        &t0(2, 0, 4, 1, 0),
        &4096u32.to_be_bytes(),
        &t0(6, 0, 0xFF_FFFF, 9, 1),
    ]));
    assert_eq!(r.poll_message().unwrap().unwrap().type_id, 1);
    r.push(&[0u8; 4096]);
    r.push(&t3(6));
    r.push(&[0u8; 1000]);
    assert_eq!(r.poll_message().unwrap(), None);
    let cap = r
        .streams
        .get(6)
        .unwrap()
        .partial
        .as_ref()
        .unwrap()
        .data
        .capacity();
    assert!(cap <= 2 * 4096, "capacity {cap} after 4096 bytes");
    assert_eq!(r.buffered_len(), 1001);
}

#[test]
fn append_bounded_never_exceeds_total() {
    let mut v = Vec::new();
    for _ in 0..10 {
        append_bounded(&mut v, &[0u8; 100], 100, 950);
        assert!(v.capacity() <= 1000);
    }
    // With more bytes already received, one reservation takes them all, up to the total.
    let mut v = Vec::new();
    append_bounded(&mut v, &[0u8; 100], 700, 950);
    assert_eq!(v.capacity(), 700);
    let mut v = Vec::new();
    append_bounded(&mut v, &[0u8; 100], 5000, 950);
    assert_eq!(v.capacity(), 950);
}

// ---- errors ----

fn first_error(bytes: &[u8], limits: ChunkLimits) -> ChunkError {
    let mut r = ChunkReader::new(limits);
    r.push(bytes);
    loop {
        match r.poll_message() {
            Ok(Some(_)) => {}
            Ok(None) => panic!("no error"),
            Err(e) => {
                // Sticky.
                assert_eq!(r.poll_message(), Err(e.clone()));
                return e;
            }
        }
    }
}

#[test]
fn error_first_chunk_not_type0() {
    for (fmt, bytes) in [(1u8, t1(5, 0, 1, 8)), (2, t2(5, 0)), (3, t3(5))] {
        let mut with_prefix = cat(&[&t0(4, 0, 1, 8, 1), b"a"]);
        with_prefix.extend_from_slice(&bytes);
        let e = first_error(&with_prefix, ChunkLimits::default());
        assert_eq!(
            e,
            ChunkError::FirstChunkNotType0 {
                csid: 5,
                fmt,
                offset: 13
            }
        );
        assert!(e.to_string().contains("must be type 0"), "{e}");
    }
}

#[test]
fn error_too_many_chunk_streams() {
    let limits = ChunkLimits {
        max_chunk_streams: 2,
        ..ChunkLimits::default()
    };
    let bytes = cat(&[
        &t0(3, 0, 0, 20, 0),
        &t0(4, 0, 0, 20, 0),
        &t0(3, 0, 0, 20, 0), // reuse is fine
        &t0(5, 0, 0, 20, 0),
    ]);
    assert_eq!(
        first_error(&bytes, limits),
        ChunkError::TooManyChunkStreams {
            csid: 5,
            count: 3,
            limit: 2,
            offset: 36
        }
    );
}

#[test]
fn error_message_too_large_before_payload_arrives() {
    let limits = ChunkLimits {
        max_message_size: 1000,
        ..ChunkLimits::default()
    };
    // Only the header: the error must not wait for (or allocate) the payload.
    let bytes = t0(6, 0, 1001, 9, 1);
    assert_eq!(
        first_error(&bytes, limits),
        ChunkError::MessageTooLarge {
            csid: 6,
            length: 1001,
            limit: 1000,
            offset: 0
        }
    );
    // Type 1 declaring a larger length on an existing chunk stream.
    let bytes = cat(&[&t0(6, 0, 1, 9, 1), b"x", &t1(6, 0, 5000, 9)]);
    assert!(matches!(
        first_error(&bytes, limits),
        ChunkError::MessageTooLarge {
            length: 5000,
            offset: 13,
            ..
        }
    ));
}

#[test]
fn error_header_inside_message() {
    let bytes = cat(&[&t0(6, 0, 200, 9, 1), &[0u8; 128], &t2(6, 10)]);
    assert_eq!(
        first_error(&bytes, ChunkLimits::default()),
        ChunkError::HeaderInsideMessage {
            csid: 6,
            fmt: 2,
            received: 128,
            length: 200,
            offset: 140
        }
    );
}

#[test]
fn error_invalid_chunk_size() {
    for value in [0u32, 0x8000_0000, u32::MAX] {
        let bytes = cat(&[&t0(2, 0, 4, 1, 0), &value.to_be_bytes()]);
        assert_eq!(
            first_error(&bytes, ChunkLimits::default()),
            ChunkError::InvalidChunkSize { value, offset: 0 }
        );
    }
}

#[test]
fn error_control_message_too_short() {
    for type_id in [1u8, 2] {
        let bytes = cat(&[&t0(3, 0, 0, 20, 0), &t0(2, 0, 3, type_id, 0), b"abc"]);
        assert_eq!(
            first_error(&bytes, ChunkLimits::default()),
            ChunkError::ControlMessageTooShort {
                type_id,
                length: 3,
                offset: 12
            }
        );
    }
}

#[test]
fn set_chunk_size_override_is_checked() {
    let mut r = ChunkReader::default();
    assert_eq!(
        r.set_chunk_size(0),
        Err(ChunkError::ChunkSizeOutOfRange { value: 0 })
    );
    assert_eq!(
        r.set_chunk_size(0x8000_0000),
        Err(ChunkError::ChunkSizeOutOfRange { value: 0x8000_0000 })
    );
    r.set_chunk_size(60000).unwrap();
    assert_eq!(r.chunk_size(), 60000);
}

#[test]
fn incomplete_messages_together_are_bounded() {
    // Four chunk streams each start a 1000-byte message at chunk size 128 and never finish it:
    // 512 bytes pending is within a 600-byte limit, the fifth stream's first chunk is not.
    let limits = ChunkLimits {
        max_pending_bytes: 600,
        ..ChunkLimits::default()
    };
    let mut r = ChunkReader::new(limits);
    for csid in 3..7 {
        r.push(&cat(&[&t0(csid, 0, 1000, 9, 1), &[0u8; 128]]));
    }
    assert_eq!(r.poll_message().unwrap(), None);
    r.push(&cat(&[&t0(7, 0, 1000, 9, 1), &[0u8; 128]]));
    let err = r.poll_message().unwrap_err();
    assert!(
        matches!(
            err,
            ChunkError::TooMuchPending {
                pending: 640,
                limit: 600,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn completed_and_aborted_messages_release_their_bytes() {
    let limits = ChunkLimits {
        max_pending_bytes: 300,
        ..ChunkLimits::default()
    };
    let mut r = ChunkReader::new(limits);
    // 100 rounds of a two-chunk message: only one is ever pending at a time.
    for _ in 0..100 {
        r.push(&cat(&[
            &t0(4, 0, 200, 9, 1),
            &[1u8; 128],
            &t3(4),
            &[2u8; 72],
        ]));
        assert_eq!(r.poll_message().unwrap().unwrap().payload.len(), 200);
    }
    // An aborted half message frees its bytes too.
    for _ in 0..10 {
        r.push(&cat(&[&t0(5, 0, 200, 9, 1), &[3u8; 128]]));
        r.push(&cat(&[&t0(2, 0, 4, 2, 0), &5u32.to_be_bytes()]));
        assert_eq!(r.poll_message().unwrap().unwrap().type_id, 2);
    }
    assert_eq!(r.pending, 0);
}

#[test]
fn skip_resumes_after_an_error_keeping_chunk_streams() {
    // csid 4 opened, then a type 3 chunk of an unknown stream (error), then csid 4 goes on.
    let bytes = cat(&[
        &t0(4, 100, 1, 8, 1),
        b"a",
        &t3(9),
        b"zz",
        &t1(4, 20, 1, 8),
        b"b",
    ]);
    let mut r = ChunkReader::default();
    r.push(&bytes);
    assert_eq!(r.poll_message().unwrap().unwrap().payload, &b"a"[..]);
    let e = r.poll_message().unwrap_err();
    assert_eq!(
        e,
        ChunkError::FirstChunkNotType0 {
            csid: 9,
            fmt: 3,
            offset: 13
        }
    );
    assert_eq!(r.unparsed().first(), Some(&0xC9));
    r.skip(3); // the basic header and the two stray bytes
    let m = r.poll_message().unwrap().unwrap();
    assert_eq!(
        (m.timestamp, m.stream_id, &m.payload[..]),
        (120, 1, &b"b"[..])
    );
    assert_eq!(m.info.start_offset, 16, "skipped bytes still count");
    assert_eq!(r.poll_message(), Ok(None));
}

#[test]
fn open_on_type1_joins_mid_stream() {
    let bytes = cat(&[&t1(6, 40, 2, 9), b"vv", &t1(2, 0, 4, 5), &[0, 0, 0, 9]]);
    assert!(matches!(
        first_error(&bytes, ChunkLimits::default()),
        ChunkError::FirstChunkNotType0 { fmt: 1, .. }
    ));
    let mut r = ChunkReader::default();
    r.set_open_on_type1(Some(7));
    r.push(&bytes);
    let msgs = read_all(&mut r);
    assert_eq!(msgs.len(), 2);
    assert_eq!((msgs[0].timestamp, msgs[0].stream_id), (40, 7));
    assert_eq!(msgs[0].info.first_fmt, 1);
    assert_eq!(msgs[1].stream_id, 0, "control messages live on stream 0");
    // Type 2 and 3 still cannot open a stream: their length is unknown.
    let mut r = ChunkReader::default();
    r.set_open_on_type1(Some(1));
    r.push(&t2(5, 0));
    assert!(r.poll_message().is_err());
}

#[test]
fn lost_bytes_forgets_streams_and_keeps_offsets() {
    let mut r = ChunkReader::default();
    r.push(&cat(&[&t0(4, 0, 200, 8, 1), &[0; 50]]));
    assert_eq!(r.poll_message(), Ok(None));
    assert!(
        r.incomplete_messages().is_empty(),
        "nothing committed mid-chunk"
    );
    r.push(&[0; 78]); // completes the first chunk (128 bytes)
    assert_eq!(r.poll_message(), Ok(None));
    assert_eq!(r.incomplete_messages(), vec![(4, 128, 200)]);
    r.push(&cat(&[&t3(4), &[0; 10]])); // part of the second chunk
    assert_eq!(r.poll_message(), Ok(None));
    assert_eq!(r.unparsed().len(), 11);
    r.lost_bytes(1000);
    assert!(r.incomplete_messages().is_empty());
    assert_eq!(r.bytes_consumed(), 140 + 11 + 1000);
    r.push(&t3(4));
    assert!(matches!(
        r.poll_message(),
        Err(ChunkError::FirstChunkNotType0 { offset: 1151, .. })
    ));
    r.lost_bytes(0);
    assert_eq!(r.bytes_consumed(), 1152);
    r.push(&cat(&[&t0(3, 5, 1, 20, 0), b"x"]));
    let m = r.poll_message().unwrap().unwrap();
    assert_eq!(m.info.start_offset, 1152);
}

#[test]
fn discard_incomplete_lets_a_new_header_in() {
    let bytes = cat(&[&t0(4, 0, 200, 8, 1), &[0; 128], &t0(4, 10, 1, 8, 1), b"n"]);
    let mut r = ChunkReader::default();
    r.push(&bytes);
    assert!(matches!(
        r.poll_message(),
        Err(ChunkError::HeaderInsideMessage { csid: 4, .. })
    ));
    assert_eq!(r.discard_incomplete(4), Some((128, 200)));
    assert_eq!(r.discard_incomplete(4), None);
    r.skip(0);
    let m = r.poll_message().unwrap().unwrap();
    assert_eq!((m.timestamp, &m.payload[..]), (10, &b"n"[..]));
}

// ---- body prefix policy ----

/// Keeps 3 bytes of video (type 9) bodies that start with 0x27, everything else whole.
fn video_prefix(type_id: u8, first: &[u8]) -> Option<usize> {
    (type_id == 9 && first.first() == Some(&0x27)).then_some(3)
}

#[test]
fn body_prefix_keeps_the_chosen_bytes_and_reports_the_declared_length() {
    let bytes = cat(&[
        &t0(6, 0, 300, 9, 1),
        &[0x27; 128],
        &t0(4, 0, 200, 9, 1), // interleaved: a video message the policy keeps whole
        &[0x17; 128],
        &t3(6),
        &[1; 128],
        &t3(4),
        &[2; 72],
        &t3(6),
        &[3; 44],
        &t0(5, 0, 5, 9, 1), // single chunk, cut
        &[0x27, 1, 2, 3, 4],
        &t0(3, 0, 4, 20, 0), // another type, whole
        b"abcd",
    ]);
    let mut r = ChunkReader::default();
    r.set_body_prefix(Some(video_prefix));
    r.push(&bytes);
    let msgs = read_all(&mut r);
    let got: Vec<_> = msgs
        .iter()
        .map(|m| (m.csid, m.length, m.payload.len(), m.info.chunk_count))
        .collect();
    assert_eq!(
        got,
        vec![(4, 200, 200, 2), (6, 300, 3, 3), (5, 5, 3, 1), (3, 4, 4, 1)]
    );
    assert_eq!(msgs[1].payload[..], [0x27; 3][..]);
    assert_eq!(msgs[2].payload[..], [0x27, 1, 2][..]);
    assert_eq!(
        msgs[1].info.end_offset,
        r.bytes_consumed() - 5 - 12 - 4 - 12
    );
    assert_eq!(r.pending, 0);
    // Without a policy nothing changes: the declared length is the payload's.
    let plain = read_bytes(&bytes);
    assert!(plain.iter().all(|m| m.length as usize == m.payload.len()));
    assert_eq!(plain[1].payload.len(), 300);
}

#[test]
fn body_prefix_counts_only_kept_bytes_as_pending_but_received_bytes_as_progress() {
    let limits = ChunkLimits {
        max_pending_bytes: 10,
        ..ChunkLimits::default()
    };
    let mut r = ChunkReader::new(limits);
    r.set_body_prefix(Some(video_prefix));
    r.push(&cat(&[
        &t0(6, 0, 1000, 9, 1),
        &[0x27; 128],
        &t3(6),
        &[0; 128],
    ]));
    assert_eq!(r.poll_message(), Ok(None));
    assert_eq!(r.pending, 3);
    assert_eq!(r.incomplete_messages(), vec![(6, 256, 1000)]);
    assert_eq!(r.discard_incomplete(6), Some((256, 1000)));
    assert_eq!(r.pending, 0);
    // A body kept whole is still bounded by max_pending_bytes.
    r.push(&cat(&[&t0(4, 0, 1000, 9, 1), &[0x17; 128]]));
    assert!(matches!(
        r.poll_message(),
        Err(ChunkError::TooMuchPending { pending: 128, .. })
    ));
}

#[test]
fn body_prefix_is_decided_per_message() {
    // Same chunk stream, a cut message then a whole one; the policy sees each first chunk.
    let bytes = cat(&[
        &t0(6, 0, 130, 9, 1),
        &[0x27; 128],
        &t3(6),
        &[9; 2],
        &t2(6, 40),
        &[0x17; 128],
        &t3(6),
        &[8; 2],
    ]);
    let mut r = ChunkReader::default();
    r.set_body_prefix(Some(video_prefix));
    r.push(&bytes);
    let msgs = read_all(&mut r);
    assert_eq!(msgs.len(), 2);
    assert_eq!((msgs[0].length, msgs[0].payload.len()), (130, 3));
    assert_eq!((msgs[1].length, msgs[1].payload.len()), (130, 130));
    assert_eq!(&msgs[1].payload[128..], &[8, 8][..]);
    assert_eq!(msgs[1].timestamp, 40);
}

/// A 300-byte video message cut to 3 bytes, in three chunks, then a small message.
fn cut_message_then_another() -> Vec<u8> {
    cat(&[
        &t0(6, 0, 300, 9, 1),
        &[0x27; 128],
        &t3(6),
        &[1; 128],
        &t3(6),
        &[2; 44],
        &t0(3, 0, 4, 20, 0),
        b"abcd",
    ])
}

#[test]
fn body_prefix_drops_continuation_payloads_as_they_arrive() {
    let bytes = cut_message_then_another();
    let mut whole = ChunkReader::default();
    whole.set_body_prefix(Some(video_prefix));
    whole.push(&bytes);
    let expected = read_all(&mut whole);

    let mut r = ChunkReader::default();
    r.set_body_prefix(Some(video_prefix));
    let mut got = Vec::new();
    for (i, b) in bytes.iter().enumerate() {
        r.push(std::slice::from_ref(b));
        got.extend(read_all(&mut r));
        // Offsets behave as if the chunk being dropped were still unparsed.
        assert_eq!(r.bytes_received(), i as u64 + 1);
        assert_eq!(
            r.bytes_consumed() + r.buffered_len() as u64,
            r.bytes_received()
        );
        // Inside the second chunk's payload nothing is buffered, and the chunk is not yet
        // counted as received.
        if (12 + 128 + 1 + 10..12 + 128 + 128).contains(&i) {
            assert!(r.unparsed().is_empty());
            assert_eq!(r.bytes_consumed(), 12 + 128);
            assert_eq!(r.incomplete_messages(), vec![(6, 128, 300)]);
        }
    }
    assert_eq!(got, expected);
    assert_eq!((got[0].length, got[0].payload.len()), (300, 3));
    assert_eq!(got[0].info.chunk_count, 3);
    assert_eq!(r.bytes_consumed(), bytes.len() as u64);
    assert_eq!(r.pending, 0);
}

#[test]
fn lost_bytes_and_skip_during_a_dropped_payload() {
    let bytes = cut_message_then_another();
    let mid = 12 + 128 + 1 + 50;

    // A gap: the message is forgotten, offsets go on counting.
    let mut r = ChunkReader::default();
    r.set_body_prefix(Some(video_prefix));
    r.push(&bytes[..mid]);
    assert_eq!(r.poll_message(), Ok(None));
    assert_eq!(r.buffered_len(), 51);
    r.lost_bytes(100);
    assert_eq!(r.bytes_consumed(), mid as u64 + 100);
    assert!(r.incomplete_messages().is_empty());
    assert_eq!(r.pending, 0);

    // A skip abandons the chunk and its message; later bytes are parsed as chunks.
    let mut r = ChunkReader::default();
    r.set_body_prefix(Some(video_prefix));
    r.push(&bytes[..mid]);
    assert_eq!(r.poll_message(), Ok(None));
    r.skip(0);
    assert!(r.incomplete_messages().is_empty());
    assert_eq!(r.bytes_consumed(), mid as u64);
    let tail = &bytes[bytes.len() - 16..];
    r.push(tail);
    let msgs = read_all(&mut r);
    assert_eq!(msgs.len(), 1);
    assert_eq!(&msgs[0].payload[..], b"abcd");
}

#[test]
fn push_drops_whole_continuation_chunks_without_buffering_them() {
    // A 600-byte video message cut to 3 bytes: a first chunk, then four continuations.
    let first = cat(&[&t0(6, 0, 600, 9, 1), &[0x27; 128]]);
    let middle = cat(&[&t3(6), &[1; 128], &t3(6), &[2; 128], &t3(6), &[3; 128]]);
    let last = cat(&[&t3(6), &[4; 88], &t0(3, 0, 4, 20, 0), b"abcd"]);
    let mut r = ChunkReader::default();
    r.set_body_prefix(Some(video_prefix));
    r.push(&first);
    assert_eq!(r.poll_message(), Ok(None));
    // Three whole continuation chunks and the start of a fourth: read and dropped in push,
    // before any poll; the message is not complete, so nothing waits to be returned.
    r.push(&middle);
    r.push(&last[..10]);
    assert!(r.unparsed().is_empty());
    assert_eq!(r.incomplete_messages(), vec![(6, 128 * 4, 600)]);
    assert_eq!(r.bytes_consumed(), (first.len() + middle.len()) as u64);
    assert_eq!(r.buffered_len(), 10);
    // The chunk that completes the message is left to poll_message; what follows is buffered.
    r.push(&last[10..]);
    let msgs = read_all(&mut r);
    let mut whole = ChunkReader::default();
    whole.set_body_prefix(Some(video_prefix));
    whole.push(&cat(&[&first, &middle, &last]));
    assert_eq!(msgs, read_all(&mut whole));
    assert_eq!(msgs.len(), 2);
    assert_eq!(msgs[0].info.chunk_count, 5);
}

#[test]
fn push_reads_no_chunk_header_after_a_skip() {
    let first = cat(&[&t0(6, 0, 600, 9, 1), &[0x27; 128]]);
    let mut r = ChunkReader::default();
    r.set_body_prefix(Some(video_prefix));
    r.push(&first);
    assert_eq!(r.poll_message(), Ok(None));
    // After a skip the caller may be hunting for a header: bytes are buffered, not parsed,
    // even when they look like a continuation chunk.
    r.skip(0);
    let next = cat(&[&t3(6), &[1; 128]]);
    r.push(&next);
    assert_eq!(r.unparsed(), &next[..]);
    // Once a chunk is parsed again, push may read the next header itself.
    assert_eq!(r.poll_message(), Ok(None));
    r.push(&next);
    assert!(r.unparsed().is_empty());
    assert_eq!(r.incomplete_messages(), vec![(6, 128 * 3, 600)]);
}
