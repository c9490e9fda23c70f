//! Arbitrary bytes, pushed into a ChunkReader in arbitrary splits, polled until None or error.
//!
//! Input layout: byte 0 picks the limits (small limits reach the limit errors), bytes 1..3 seed
//! the split lengths, the rest is the stream.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rtmpkit_proto::rtmp::chunk::{ChunkLimits, ChunkReader};

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
        }
    };
    let mut reader = ChunkReader::new(limits);
    let mut seed = u32::from_le_bytes([s0, s1, mode, 0x5A]) | 1;
    let mut rest = stream;
    while !rest.is_empty() {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let n = (seed as usize % 300).min(rest.len()).max(1);
        let (piece, tail) = rest.split_at(n);
        rest = tail;
        reader.push(piece);
        loop {
            match reader.poll_message() {
                Ok(Some(msg)) => {
                    assert!(msg.info.start_offset < msg.info.end_offset);
                    assert!(msg.info.end_offset <= reader.bytes_consumed());
                    assert!(
                        msg.payload.len() as u64 <= msg.info.end_offset - msg.info.start_offset
                    );
                }
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
    assert_eq!(reader.bytes_received(), stream.len() as u64);
});
