//! Round trip: whatever the writer emits, in any interleaving and at any chunk size, the reader
//! gives back, however the bytes are split.

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;

use super::*;

#[derive(Debug, Clone)]
enum Event {
    Message {
        csid: u32,
        /// `Ok(absolute)` or `Err(delta)` from the previous message on this csid.
        time: Result<u32, u32>,
        type_id: u8,
        stream_id: u32,
        len: usize,
    },
    SetChunkSize(u32),
    /// Another message like an earlier one (same csid, type, stream, length), `delta` later:
    /// what makes the writer use type 2 and type 3 headers for new messages.
    Again {
        pick: usize,
        delta: u32,
    },
}

/// Turns `Again` events into messages.
fn resolve(events: &[Event]) -> Vec<Event> {
    let mut seen: Vec<Event> = Vec::new();
    let mut out = Vec::new();
    for e in events {
        match e {
            Event::Again { pick, delta } => {
                if let Some(Event::Message {
                    csid,
                    type_id,
                    stream_id,
                    len,
                    ..
                }) = seen.get(pick % seen.len().max(1)).cloned()
                {
                    let again = Event::Message {
                        csid,
                        time: Err(*delta),
                        type_id,
                        stream_id,
                        len,
                    };
                    out.push(again);
                }
            }
            Event::Message { .. } => {
                seen.push(e.clone());
                out.push(e.clone());
            }
            Event::SetChunkSize(_) => out.push(e.clone()),
        }
    }
    out
}

fn chunk_size() -> impl Strategy<Value = u32> {
    prop_oneof![1..=16u32, 17..=600u32, 601..=70_000u32]
}

fn event() -> impl Strategy<Value = Event> {
    let csid = prop_oneof![3..=10u32, 60..=70u32, 318..=330u32, 65_590..=65_599u32];
    let time = prop_oneof![
        any::<u32>().prop_map(Ok),
        prop_oneof![
            Just(0u32),
            Just(20),
            Just(40),
            Just(0xFF_FFFE),
            Just(0xFF_FFFF),
            Just(0x0100_0000)
        ]
        .prop_map(Err),
        (0xFF_FF00u32..0x0100_0100).prop_map(Ok),
        (0xFFFF_FF00u32..=u32::MAX).prop_map(Ok),
    ];
    let type_id = prop_oneof![Just(8u8), Just(9), Just(20), Just(18), 3..=255u8];
    let stream_id = prop_oneof![Just(0u32), Just(1), Just(u32::MAX), any::<u32>()];
    let len = prop_oneof![
        Just(0usize),
        Just(1),
        Just(128),
        Just(300),
        0..=300usize,
        0..=20_000usize
    ];
    prop_oneof![
        9 => (csid, time, type_id, stream_id, len).prop_map(|(csid, time, type_id, stream_id, len)| {
            Event::Message { csid, time, type_id, stream_id, len }
        }),
        1 => chunk_size().prop_map(Event::SetChunkSize),
        6 => (any::<usize>(), prop_oneof![Just(0u32), Just(20), Just(40), Just(0x0100_0000)])
            .prop_map(|(pick, delta)| Event::Again { pick, delta }),
    ]
}

/// What the reader must return, in order.
#[derive(Debug, PartialEq)]
struct Expected {
    csid: u32,
    header: MessageHeader,
    payload: Bytes,
}

/// Runs the events through a writer, interleaving chunks as `schedule` dictates. Returns the
/// wire bytes and the messages in the order they complete.
fn write_events(initial: u32, events: &[Event], schedule: &[u8]) -> (Vec<u8>, Vec<Expected>) {
    let mut w = ChunkWriter::new();
    w.set_chunk_size(initial).unwrap();
    let mut out = BytesMut::new();
    let mut done = Vec::new();
    let mut active: Vec<OutgoingMessage> = Vec::new();
    let mut last_ts = std::collections::HashMap::new();
    let mut next = 0;
    let mut step = 0usize;
    let mut counter = 0u8;
    while next < events.len() || !active.is_empty() {
        let pick = schedule
            .get(step % schedule.len().max(1))
            .copied()
            .unwrap_or(0) as usize;
        step += 1;
        let blocked = match events.get(next) {
            Some(Event::Message { csid, .. }) => active.iter().any(|m| m.csid() == *csid),
            Some(_) => false,
            None => true,
        };
        if !blocked && (active.is_empty() || pick.is_multiple_of(3)) {
            match events[next].clone() {
                Event::Again { .. } => {}
                Event::SetChunkSize(size) => {
                    w.write_set_chunk_size(size, &mut out).unwrap();
                    done.push(Expected {
                        csid: 2,
                        header: MessageHeader {
                            timestamp: 0,
                            type_id: 1,
                            stream_id: 0,
                        },
                        payload: Bytes::copy_from_slice(&size.to_be_bytes()),
                    });
                }
                Event::Message {
                    csid,
                    time,
                    type_id,
                    stream_id,
                    len,
                } => {
                    let timestamp = match time {
                        Ok(t) => t,
                        Err(d) => last_ts.get(&csid).copied().unwrap_or(0u32).wrapping_add(d),
                    };
                    last_ts.insert(csid, timestamp);
                    counter = counter.wrapping_add(1);
                    let payload: Bytes = (0..len)
                        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(counter))
                        .collect();
                    let header = MessageHeader {
                        timestamp,
                        type_id,
                        stream_id,
                    };
                    active.push(w.start_message(csid, header, payload).unwrap());
                }
            }
            next += 1;
        } else {
            let i = pick % active.len();
            if w.write_chunk(&mut active[i], &mut out) {
                let m = active.remove(i);
                done.push(Expected {
                    csid: m.csid(),
                    header: m.header(),
                    payload: m.payload().clone(),
                });
            }
        }
    }
    (out.to_vec(), done)
}

fn read_split(wire: &[u8], splits: &[usize], initial: u32) -> Vec<Expected> {
    read_split_raw(wire, splits, initial, None)
        .into_iter()
        .map(|m| Expected {
            csid: m.csid,
            header: m.header(),
            payload: m.payload,
        })
        .collect()
}

/// Keeps the first 5 bytes of every body.
fn keep_five(_type_id: u8, _first_chunk: &[u8]) -> Option<usize> {
    Some(5)
}

fn read_split_raw(
    wire: &[u8],
    splits: &[usize],
    initial: u32,
    policy: Option<BodyPrefix>,
) -> Vec<RawMessage> {
    let mut r = ChunkReader::default();
    r.set_chunk_size(initial).unwrap();
    r.set_body_prefix(policy);
    let mut got = Vec::new();
    let mut cuts: Vec<usize> = splits.iter().map(|s| s % (wire.len() + 1)).collect();
    cuts.push(0);
    cuts.push(wire.len());
    cuts.sort_unstable();
    for pair in cuts.windows(2) {
        r.push(&wire[pair[0]..pair[1]]);
        while let Some(m) = r.poll_message().unwrap() {
            got.push(m);
        }
        assert_eq!(
            r.bytes_consumed() + r.buffered_len() as u64,
            r.bytes_received()
        );
    }
    assert_eq!(r.bytes_consumed(), wire.len() as u64);
    assert_eq!(r.buffered_len(), 0);
    got
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(crate::test_support::proptest_cases(160)))]

    #[test]
    fn round_trip_any_interleaving_any_split(
        initial in chunk_size(),
        events in prop::collection::vec(event(), 1..20),
        schedule in prop::collection::vec(any::<u8>(), 1..64),
        splits in prop::collection::vec(any::<usize>(), 0..24),
    ) {
        let (wire, expected) = write_events(initial, &resolve(&events), &schedule);
        let got = read_split(&wire, &splits, initial);
        prop_assert_eq!(got, expected);
    }

    #[test]
    fn body_prefix_reads_the_same_however_split(
        initial in chunk_size(),
        events in prop::collection::vec(event(), 1..20),
        schedule in prop::collection::vec(any::<u8>(), 1..64),
        splits in prop::collection::vec(any::<usize>(), 0..24),
    ) {
        let (wire, expected) = write_events(initial, &resolve(&events), &schedule);
        let whole = read_split_raw(&wire, &[], initial, Some(keep_five));
        let got = read_split_raw(&wire, &splits, initial, Some(keep_five));
        prop_assert_eq!(&got, &whole);
        prop_assert_eq!(got.len(), expected.len());
        for (m, e) in got.iter().zip(&expected) {
            prop_assert_eq!(m.length as usize, e.payload.len());
            prop_assert_eq!(&m.payload[..], &e.payload[..e.payload.len().min(5)]);
        }
    }

    #[test]
    fn serialize_fmt0_reads_back(
        cs in chunk_size(),
        csid in prop_oneof![2..=63u32, 64..=319u32, 320..=65_599u32],
        timestamp in any::<u32>(),
        type_id in 3..=255u8,
        stream_id in any::<u32>(),
        len in 0..=20_000usize,
        splits in prop::collection::vec(any::<usize>(), 0..8),
    ) {
        let payload: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let header = MessageHeader { timestamp, type_id, stream_id };
        let wire = serialize_fmt0(cs, csid, &header, &payload).unwrap();
        let got = read_split(&wire, &splits, cs);
        prop_assert_eq!(got.len(), 1);
        prop_assert_eq!(got[0].csid, csid);
        prop_assert_eq!(got[0].header, header);
        prop_assert_eq!(&got[0].payload[..], &payload[..]);
    }

    #[test]
    fn body_prefix_arbitrary_bytes_read_the_same_however_split(
        bytes in prop::collection::vec(
            prop_oneof![any::<u8>(), Just(0xC6u8), Just(0x06u8), Just(0x09u8)],
            0..3000,
        ),
        splits in prop::collection::vec(any::<usize>(), 0..16),
    ) {
        // Messages and the first error, pushing all at once or in pieces with polls between.
        let read = |cuts: &[usize]| {
            let mut r = ChunkReader::default();
            r.set_body_prefix(Some(keep_five));
            let mut out = Vec::new();
            for pair in cuts.windows(2) {
                r.push(&bytes[pair[0]..pair[1]]);
                loop {
                    match r.poll_message() {
                        Ok(Some(m)) => out.push(Ok(m)),
                        Ok(None) => break,
                        Err(e) => {
                            out.push(Err(e));
                            return out;
                        }
                    }
                }
            }
            out
        };
        let mut cuts: Vec<usize> = splits.iter().map(|s| s % (bytes.len() + 1)).collect();
        cuts.push(0);
        cuts.push(bytes.len());
        cuts.sort_unstable();
        prop_assert_eq!(read(&cuts), read(&[0, bytes.len()]));
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..2000),
        splits in prop::collection::vec(any::<usize>(), 0..8),
    ) {
        let mut r = ChunkReader::default();
        let mut cuts: Vec<usize> = splits.iter().map(|s| s % (bytes.len() + 1)).collect();
        cuts.push(0);
        cuts.push(bytes.len());
        cuts.sort_unstable();
        'outer: for pair in cuts.windows(2) {
            r.push(&bytes[pair[0]..pair[1]]);
            loop {
                match r.poll_message() {
                    Ok(Some(m)) => prop_assert!(m.info.end_offset <= r.bytes_consumed()),
                    Ok(None) => break,
                    Err(_) => break 'outer,
                }
            }
        }
        prop_assert!(r.bytes_consumed() <= bytes.len() as u64);
    }
}
