//! Finding a chunk boundary in bytes of unknown state: after a gap, after a chunk the reader
//! rejected, or at the start of a capture that missed the handshake.
//!
//! A position is taken as the start of a chunk when the header there (type 0 or 1, the only
//! ones that carry a length and a type) is plausible — a known message type, a length that
//! fits it, a small message stream id, a body that starts the way the type's bodies start —
//! and the chain of chunks it implies holds: at the chunk size being tried, the next chunk of a
//! longer message starts with the type 3 header of the same chunk stream, and a new message
//! starts with another plausible header. Trying several chunk sizes on the same chain finds
//! the one the sender uses. This reads headers with the core's header decoders; the messages
//! themselves are left to the core's `ChunkReader`.

use rtmpkit_proto::rtmp::chunk::{BasicHeader, ChunkMessageHeader, ExtendedTimestamp};

/// Chunk sizes tried when the sender's is unknown: the default, what nginx, SRS and common
/// encoders set, and powers of two.
pub(crate) const COMMON_CHUNK_SIZES: [u32; 14] = [
    128, 4096, 60000, 65536, 1024, 2048, 8192, 16384, 32768, 1400, 256, 512, 1460, 131072,
];

/// Chunk headers a chain must confirm before a position is taken.
const CONFIRMATIONS: u32 = 3;

/// The outcome of a search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sync {
    /// A chunk starts at `pos`, cut at `chunk_size`.
    Found { pos: usize, chunk_size: u32 },
    /// A candidate at `keep_from` needs more bytes to be judged; nothing before it is one.
    NeedMore { keep_from: usize },
    /// No chunk starts in these bytes (the last few may still begin one: keep
    /// [`MAX_HEADER`] bytes).
    NotFound,
}

/// Longest chunk header: 3-byte basic header, 11-byte type 0 header, 4-byte extended timestamp.
pub(crate) const MAX_HEADER: usize = 18;

enum Verdict {
    Valid,
    Invalid,
    NeedMore,
}

/// A plausible type 0 or 1 header: its length on the wire and what it declares.
struct Header {
    csid: u32,
    len: usize,
    body_len: u32,
    extended: bool,
}

enum Plausible {
    Yes(Header),
    No,
    NeedMore,
}

fn length_fits(type_id: u8, len: u32) -> bool {
    match type_id {
        1 | 2 | 3 | 5 => len == 4,
        6 => len == 5,
        4 => (6..=10).contains(&len),
        8 | 9 => (1..=(16 << 20)).contains(&len),
        15..=20 => (1..=(1 << 20)).contains(&len),
        22 => (11..=(16 << 20)).contains(&len),
        _ => false,
    }
}

/// Whether the first body byte suits the type (checked only when present).
fn body_start_fits(type_id: u8, first: Option<&u8>) -> bool {
    let Some(&b) = first else { return true };
    match type_id {
        // AMF0 string (name) or, in data messages, the null some encoders start with.
        20 | 18 => b == 0x02 || (type_id == 18 && b == 0x05),
        // The AMF3 format selector.
        17 | 15 => b == 0x00,
        // Frame type 1..=5 (legacy and enhanced headers keep it in bits 4..6).
        9 => (1..=5).contains(&((b >> 4) & 0x07)),
        _ => true,
    }
}

fn plausible(buf: &[u8], pos: usize) -> Plausible {
    let Some(rest) = buf.get(pos..) else {
        return Plausible::NeedMore;
    };
    let Some((basic, basic_len)) = BasicHeader::decode(rest) else {
        return Plausible::NeedMore;
    };
    if basic.fmt > 1 {
        return Plausible::No;
    }
    let Some(header) = rest
        .get(basic_len..)
        .and_then(|r| ChunkMessageHeader::decode(basic.fmt, r))
    else {
        return Plausible::NeedMore;
    };
    let (type_id, body_len, stream_ok) = match header {
        ChunkMessageHeader::Type0(h) => {
            let control = (1..=6).contains(&h.type_id);
            let ok = if control {
                h.stream_id == 0
            } else {
                h.stream_id <= 0xFFFF
            };
            (h.type_id, h.length, ok)
        }
        ChunkMessageHeader::Type1(h) => (h.type_id, h.length, true),
        _ => return Plausible::No,
    };
    if !stream_ok || !length_fits(type_id, body_len) {
        return Plausible::No;
    }
    let mut len = basic_len + ChunkMessageHeader::len_for_fmt(basic.fmt);
    let extended = header.announces_extended_timestamp();
    if extended {
        if rest.len() < len + ExtendedTimestamp::LEN {
            return Plausible::NeedMore;
        }
        len += ExtendedTimestamp::LEN;
    }
    if !body_start_fits(type_id, rest.get(len)) {
        return Plausible::No;
    }
    Plausible::Yes(Header {
        csid: basic.csid,
        len,
        body_len,
        extended,
    })
}

/// A message whose remaining chunks the chain expects.
#[derive(Clone, Copy)]
struct Open {
    csid: u32,
    remaining: u32,
    extended: bool,
}

fn validate(buf: &[u8], pos: usize, chunk_size: u32, eof: bool) -> Verdict {
    let root = match plausible(buf, pos) {
        Plausible::Yes(h) => h,
        Plausible::No => return Verdict::Invalid,
        Plausible::NeedMore => {
            return if eof {
                Verdict::Invalid
            } else {
                Verdict::NeedMore
            };
        }
    };
    let cs = chunk_size.max(1);
    let mut open: [Option<Open>; 4] = [None; 4];
    let start = |open: &mut [Option<Open>; 4], h: &Header, p: usize| -> usize {
        let take = h.body_len.min(cs);
        if h.body_len > take
            && let Some(slot) = open.iter_mut().find(|o| o.is_none())
        {
            *slot = Some(Open {
                csid: h.csid,
                remaining: h.body_len - take,
                extended: h.extended,
            });
        }
        p + h.len + take as usize
    };
    let mut p = start(&mut open, &root, pos);
    let mut confirmed = 1;
    while confirmed < CONFIRMATIONS {
        if p >= buf.len() {
            return if eof {
                // The data ends where a chunk would begin: the chain holds as far as it goes.
                if p == buf.len() {
                    Verdict::Valid
                } else {
                    Verdict::Invalid
                }
            } else {
                Verdict::NeedMore
            };
        }
        let Some((basic, basic_len)) = buf.get(p..).and_then(BasicHeader::decode) else {
            return if eof {
                Verdict::Invalid
            } else {
                Verdict::NeedMore
            };
        };
        let open_slot = open
            .iter_mut()
            .find(|o| o.is_some_and(|o| o.csid == basic.csid));
        match (basic.fmt, open_slot) {
            (3, Some(slot)) => {
                let Some(o) = slot.as_mut() else {
                    return Verdict::Invalid;
                };
                let take = o.remaining.min(cs);
                let ext = if o.extended {
                    ExtendedTimestamp::LEN
                } else {
                    0
                };
                o.remaining -= take;
                if o.remaining == 0 {
                    *slot = None;
                }
                p += basic_len + ext + take as usize;
                confirmed += 1;
            }
            // A new header on a chunk stream whose message is unfinished.
            (_, Some(_)) => return Verdict::Invalid,
            (0 | 1, None) => match plausible(buf, p) {
                Plausible::Yes(h) => {
                    p = start(&mut open, &h, p);
                    confirmed += 1;
                }
                Plausible::No => return Verdict::Invalid,
                Plausible::NeedMore => {
                    return if eof {
                        Verdict::Invalid
                    } else {
                        Verdict::NeedMore
                    };
                }
            },
            // Type 2/3 of a stream the chain does not know: its length cannot be checked.
            _ => return Verdict::Invalid,
        }
    }
    Verdict::Valid
}

/// Looks for the first chunk boundary in `buf`, trying `current` first and, when `detect`,
/// the common chunk sizes. `eof`: no more bytes will come, judge with what is there.
pub(crate) fn find_sync(buf: &[u8], current: u32, detect: bool, eof: bool) -> Sync {
    let sizes: &[u32] = if detect { &COMMON_CHUNK_SIZES } else { &[] };
    for pos in 0..buf.len() {
        let Some(&b) = buf.get(pos) else { break };
        if b >> 6 > 1 {
            continue;
        }
        let mut need_more = false;
        for &cs in std::iter::once(&current).chain(sizes.iter().filter(|&&s| s != current)) {
            match validate(buf, pos, cs, eof) {
                Verdict::Valid => {
                    return Sync::Found {
                        pos,
                        chunk_size: cs,
                    };
                }
                Verdict::NeedMore => need_more = true,
                Verdict::Invalid => {}
            }
        }
        if need_more {
            return Sync::NeedMore { keep_from: pos };
        }
    }
    Sync::NotFound
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0(csid: u8, ts: u32, len: u32, type_id: u8, sid: u32) -> Vec<u8> {
        let mut v = vec![csid];
        v.extend_from_slice(&ts.to_be_bytes()[1..]);
        v.extend_from_slice(&len.to_be_bytes()[1..]);
        v.push(type_id);
        v.extend_from_slice(&sid.to_le_bytes());
        v
    }

    fn t1(csid: u8, delta: u32, len: u32, type_id: u8) -> Vec<u8> {
        let mut v = vec![0x40 | csid];
        v.extend_from_slice(&delta.to_be_bytes()[1..]);
        v.extend_from_slice(&len.to_be_bytes()[1..]);
        v.push(type_id);
        v
    }

    /// Audio messages on csid 4 and a 300-byte video message on csid 6 cut at `cs`.
    fn stream(cs: usize) -> Vec<u8> {
        let mut v = Vec::new();
        for i in 0..4u32 {
            v.extend(t1(4, 23, 10, 8));
            v.extend([0xAF, 1, 2, 3, 4, 5, 6, 7, 8, (i & 0xff) as u8]);
        }
        v.extend(t1(6, 40, 300, 9));
        let body: Vec<u8> = (0..300u32)
            .map(|i| if i == 0 { 0x27 } else { (i * 7) as u8 })
            .collect();
        for (i, c) in body.chunks(cs).enumerate() {
            if i > 0 {
                v.push(0xC6);
            }
            v.extend_from_slice(c);
        }
        v.extend(t1(4, 23, 10, 8));
        v.extend([0xAF; 10]);
        v
    }

    #[test]
    fn finds_the_first_header_after_garbage() {
        let mut buf = vec![0xC6, 0x13, 0x37, 0xFF, 0x80, 0x99];
        let garbage = buf.len();
        buf.extend(stream(128));
        assert_eq!(
            find_sync(&buf, 128, false, true),
            Sync::Found {
                pos: garbage,
                chunk_size: 128
            }
        );
    }

    #[test]
    fn detects_the_chunk_size_from_continuation_headers() {
        // Start at the video message: only the right size puts 0xC6 where the chain expects.
        let video_at = 4 * 18;
        let s = stream(128);
        assert_eq!(
            find_sync(&s[video_at..], 4096, true, true),
            Sync::Found {
                pos: 0,
                chunk_size: 128
            }
        );
        let s = stream(4096);
        assert_eq!(
            find_sync(&s[video_at..], 128, true, true),
            Sync::Found {
                pos: 0,
                chunk_size: 4096
            }
        );
        // An uncommon size is found only when given.
        let s = stream(100);
        assert_eq!(
            find_sync(&s[video_at..], 100, false, true),
            Sync::Found {
                pos: 0,
                chunk_size: 100
            }
        );
    }

    #[test]
    fn waits_for_more_bytes_when_a_candidate_is_undecided() {
        let s = stream(128);
        assert_eq!(
            find_sync(&s[..20], 128, false, false),
            Sync::NeedMore { keep_from: 0 }
        );
    }

    #[test]
    fn rejects_implausible_headers() {
        // Type 0 Window Ack Size with the wrong length, a command not starting with a string.
        let mut buf = t0(2, 0, 5, 5, 0);
        buf.extend([0; 5]);
        buf.extend(t0(3, 0, 4, 20, 0));
        buf.extend([0x00, 1, 2, 3]);
        assert_eq!(find_sync(&buf, 128, false, true), Sync::NotFound);
        // A plausible Set Chunk Size then end of data.
        let mut ok = t0(2, 0, 4, 1, 0);
        ok.extend([0, 0, 16, 0]);
        assert_eq!(
            find_sync(&ok, 128, false, true),
            Sync::Found {
                pos: 0,
                chunk_size: 128
            }
        );
    }
}
