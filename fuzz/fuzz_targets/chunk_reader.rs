//! Arbitrary bytes, pushed into a ChunkReader in arbitrary splits, polled until None or error;
//! a second reader with a body prefix policy (keep 5 bytes of audio and video bodies, as the
//! dissector keeps their tag headers) must return the same messages, cut short.
//!
//! Input layout: byte 0 picks the limits (small limits reach the limit errors), bytes 1..3 seed
//! the split lengths, the rest is the stream.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rtmpkit_proto::rtmp::chunk::{ChunkLimits, ChunkReader, RawMessage};

/// Keeps the first 5 bytes of audio and video bodies, everything of the rest.
fn keep_media_headers(type_id: u8, _first_chunk: &[u8]) -> Option<usize> {
    matches!(type_id, 8 | 9).then_some(5)
}

/// Pushes `piece` and polls every message; `Err(())` once the reader failed.
fn feed(reader: &mut ChunkReader, piece: &[u8], out: &mut Vec<RawMessage>) -> Result<(), ()> {
    reader.push(piece);
    loop {
        match reader.poll_message() {
            Ok(Some(msg)) => {
                assert!(msg.info.start_offset < msg.info.end_offset);
                assert!(msg.info.end_offset <= reader.bytes_consumed());
                assert!(msg.payload.len() as u64 <= msg.info.end_offset - msg.info.start_offset);
                assert!(msg.payload.len() <= msg.length as usize);
                out.push(msg);
            }
            Ok(None) => return Ok(()),
            Err(_) => return Err(()),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let &[mode, s0, s1, ref stream @ ..] = data else {
        return;
    };
    let limits = if mode & 1 == 0 {
        ChunkLimits::default()
    } else {
        ChunkLimits {
            max_message_size: u32::from(mode) * 64,
            max_chunk_streams: usize::from(mode >> 4) + 1,
            max_pending_bytes: usize::from(mode) * 128,
        }
    };
    let mut whole = ChunkReader::new(limits);
    let mut cut = ChunkReader::new(limits);
    cut.set_body_prefix(Some(keep_media_headers));
    let (mut got_whole, mut got_cut) = (Vec::new(), Vec::new());
    let (mut whole_ok, mut cut_ok) = (true, true);
    let mut seed = u32::from_le_bytes([s0, s1, mode, 0x5A]) | 1;
    let mut rest = stream;
    while !rest.is_empty() && (whole_ok || cut_ok) {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let n = (seed as usize % 300).min(rest.len()).max(1);
        let (piece, tail) = rest.split_at(n);
        rest = tail;
        whole_ok = whole_ok && feed(&mut whole, piece, &mut got_whole).is_ok();
        cut_ok = cut_ok && feed(&mut cut, piece, &mut got_cut).is_ok();
    }
    if whole_ok {
        assert_eq!(whole.bytes_received(), stream.len() as u64);
    }
    // The pending-bytes limit counts what a reader keeps, so the policy may go on where the
    // whole reader stopped; up to there both saw the same messages.
    let seen = got_whole.len().min(got_cut.len());
    if whole_ok && cut_ok {
        assert_eq!(got_whole.len(), got_cut.len());
    }
    for (w, c) in got_whole.iter().zip(&got_cut).take(seen) {
        assert_eq!(
            (w.csid, w.timestamp, w.type_id, w.stream_id, w.info),
            (c.csid, c.timestamp, c.type_id, c.stream_id, c.info)
        );
        assert_eq!(c.length as usize, w.payload.len());
        let keep = keep_media_headers(w.type_id, &[]).unwrap_or(usize::MAX);
        assert_eq!(&c.payload[..], &w.payload[..w.payload.len().min(keep)]);
    }
});
