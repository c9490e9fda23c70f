//! The publisher's send time, carried inside each H.264 video frame so that players can
//! measure end-to-end latency through any server.
//!
//! # Where it goes
//!
//! `rtmpkit bench publish` puts one extra NAL unit at the front of every coded AVC video
//! frame (after an access unit delimiter if the frame starts with one): an SEI message of
//! type 5, *user data unregistered* (ITU-T H.264 D.1.6), whose 16-byte UUID is [`BENCH_UUID`]
//! and whose 8 payload bytes are the send time. The frame's FLV/RTMP video tag header is
//! unchanged; the NAL unit's length prefix has the size the stream's
//! AVCDecoderConfigurationRecord announces (`lengthSizeMinusOne + 1`).
//!
//! Why there: a server relays video payloads byte for byte (ours and nginx's RTMP module do;
//! both drop or rewrite custom AMF data messages), the time travels with the very frame it
//! describes (same chunks, same queue), and decoders skip user-data SEI with a UUID they do
//! not know, so ffplay, VLC and browsers play the stream as if it were not there.
//!
//! # The time field
//!
//! Microseconds since the Unix epoch (the publisher's wall clock; players compare it with
//! theirs, so both must run on one machine or on synchronised clocks), 56 bits written as
//! 8 groups of 7 bits, most significant first, each byte with its high bit set. No byte is
//! ever zero, so the NAL unit never contains `00 00 0x` and needs no emulation prevention.
//!
//! ```text
//! [len: 4 bytes = 27] 06 | 05 18 | UUID (16) | 8 time bytes (1ttttttt) | 80
//!                     NAL  type 5, size 24     payload                    rbsp trailing bits
//! ```

use bytes::{BufMut, Bytes, BytesMut};

/// The UUID that marks rtmpkit bench send times (random, no zero byte).
pub const BENCH_UUID: [u8; 16] = [
    0x72, 0x74, 0x6d, 0x70, 0x6b, 0x69, 0x74, 0xb3, 0x4e, 0x5c, 0x8a, 0x17, 0xd2, 0x9f, 0x61, 0x3c,
];

/// NAL unit type of SEI.
const NAL_SEI: u8 = 6;
/// NAL unit type of an access unit delimiter.
const NAL_AUD: u8 = 9;
/// SEI payload type: user data unregistered.
const SEI_USER_DATA_UNREGISTERED: u8 = 5;
/// UUID and time.
const SEI_PAYLOAD_SIZE: u8 = 24;
/// The whole NAL unit: header, payload type, size, payload, trailing bits.
const SEI_NAL_LEN: usize = 1 + 2 + SEI_PAYLOAD_SIZE as usize + 1;
/// Largest time the field holds (56 bits of microseconds: until the year 4253).
pub const MAX_TIME_US: u64 = (1 << 56) - 1;
/// NAL units looked at before giving up on finding the send time.
const NALS_SCANNED: usize = 3;

/// FLV video codec id of AVC, in the low nibble of the first byte.
const CODEC_AVC: u8 = 7;
/// AVCPacketType of a sequence header and of coded NAL units.
const AVC_SEQUENCE_HEADER: u8 = 0;
const AVC_NALU: u8 = 1;
/// Video tag header: frame type and codec, AVCPacketType, composition time (3).
const AVC_TAG_HEADER_LEN: usize = 5;

/// What kind of legacy AVC video message a payload is, as far as the send time cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AvcPayload {
    /// An AVC sequence header with the NAL unit length size it announces (1, 2 or 4).
    SequenceHeader { nal_length_size: u8 },
    /// Coded NAL units.
    Nalus,
    /// Not legacy AVC, or too short to tell.
    Other,
}

/// Classifies a video message payload (FLV video tag body).
pub fn classify(payload: &[u8]) -> AvcPayload {
    let (Some(&first), Some(&packet_type)) = (payload.first(), payload.get(1)) else {
        return AvcPayload::Other;
    };
    // Enhanced RTMP sets the high bit of the first byte: not legacy AVC.
    if first & 0x80 != 0 || first & 0x0f != CODEC_AVC {
        return AvcPayload::Other;
    }
    match packet_type {
        AVC_SEQUENCE_HEADER => {
            // AVCDecoderConfigurationRecord byte 4: 111111 lengthSizeMinusOne.
            match payload.get(AVC_TAG_HEADER_LEN + 4).map(|b| (b & 0x03) + 1) {
                Some(n @ (1 | 2 | 4)) => AvcPayload::SequenceHeader { nal_length_size: n },
                _ => AvcPayload::Other,
            }
        }
        AVC_NALU if payload.len() > AVC_TAG_HEADER_LEN => AvcPayload::Nalus,
        _ => AvcPayload::Other,
    }
}

/// The 8 time bytes for `time_us` (clamped to [`MAX_TIME_US`]).
fn encode_time(time_us: u64) -> [u8; 8] {
    let t = time_us.min(MAX_TIME_US);
    let mut out = [0u8; 8];
    for (i, b) in out.iter_mut().enumerate() {
        let shift = 7 * (7 - i);
        *b = 0x80 | ((t >> shift) & 0x7f) as u8;
    }
    out
}

fn decode_time(bytes: &[u8]) -> Option<u64> {
    if bytes.len() != 8 || bytes.iter().any(|b| b & 0x80 == 0) {
        return None;
    }
    Some(
        bytes
            .iter()
            .fold(0u64, |t, b| (t << 7) | u64::from(b & 0x7f)),
    )
}

/// The SEI NAL unit (without length prefix) carrying `time_us`.
pub fn sei_nal(time_us: u64) -> [u8; SEI_NAL_LEN] {
    let mut nal = [0u8; SEI_NAL_LEN];
    nal[0] = NAL_SEI;
    nal[1] = SEI_USER_DATA_UNREGISTERED;
    nal[2] = SEI_PAYLOAD_SIZE;
    nal[3..19].copy_from_slice(&BENCH_UUID);
    nal[19..27].copy_from_slice(&encode_time(time_us));
    nal[27] = 0x80;
    nal
}

/// Why a send time could not be embedded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmbedError {
    #[error("not an AVC video frame with NAL units")]
    NotAvcNalus,
    #[error("NAL unit length size {0} is not 1, 2 or 4")]
    LengthSize(u8),
    #[error("NAL unit length at offset {offset} runs past the end of the frame")]
    Truncated { offset: usize },
}

/// The NAL unit at `offset` in an AVC payload: (its first byte's offset, its length).
fn nal_at(payload: &[u8], offset: usize, length_size: usize) -> Option<(usize, usize)> {
    let len_bytes = payload.get(offset..offset.checked_add(length_size)?)?;
    let len = len_bytes
        .iter()
        .fold(0usize, |n, b| (n << 8) | usize::from(*b));
    let start = offset + length_size;
    (start.checked_add(len)? <= payload.len()).then_some((start, len))
}

/// A copy of the AVC video `payload` with the send-time SEI inserted before its first NAL
/// unit (after a leading access unit delimiter).
pub fn embed(payload: &[u8], nal_length_size: u8, time_us: u64) -> Result<Bytes, EmbedError> {
    if classify(payload) != AvcPayload::Nalus {
        return Err(EmbedError::NotAvcNalus);
    }
    if !matches!(nal_length_size, 1 | 2 | 4) {
        return Err(EmbedError::LengthSize(nal_length_size));
    }
    let ls = usize::from(nal_length_size);
    let mut at = AVC_TAG_HEADER_LEN;
    let (start, len) = nal_at(payload, at, ls).ok_or(EmbedError::Truncated { offset: at })?;
    if payload.get(start).map(|b| b & 0x1f) == Some(NAL_AUD) {
        at = start + len;
    }
    let nal = sei_nal(time_us);
    let mut out = BytesMut::with_capacity(payload.len() + ls + nal.len());
    out.put_slice(&payload[..at]);
    out.put_slice(&(nal.len() as u32).to_be_bytes()[4 - ls..]);
    out.put_slice(&nal);
    out.put_slice(&payload[at..]);
    Ok(out.freeze())
}

/// The send time in an AVC video payload, if [`embed`] put one there. Only the first few NAL
/// units are looked at, and nothing is copied; `payload` may be just the start of a frame.
pub fn find(payload: &[u8], nal_length_size: u8) -> Option<u64> {
    if classify(payload) != AvcPayload::Nalus || !matches!(nal_length_size, 1 | 2 | 4) {
        return None;
    }
    let ls = usize::from(nal_length_size);
    let mut offset = AVC_TAG_HEADER_LEN;
    for _ in 0..NALS_SCANNED {
        let len_bytes = payload.get(offset..offset + ls)?;
        let len = len_bytes
            .iter()
            .fold(0usize, |n, b| (n << 8) | usize::from(*b));
        let start = offset + ls;
        let nal = payload.get(start..)?;
        if len == SEI_NAL_LEN
            && nal.starts_with(&[NAL_SEI, SEI_USER_DATA_UNREGISTERED, SEI_PAYLOAD_SIZE])
            && nal.get(3..19) == Some(&BENCH_UUID[..])
        {
            return decode_time(nal.get(19..27)?);
        }
        offset = start.checked_add(len)?;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A keyframe with an IDR slice NAL unit (length size 4).
    fn idr(with_aud: bool) -> Vec<u8> {
        let mut p = vec![0x17, 0x01, 0x00, 0x00, 0x00];
        if with_aud {
            p.extend_from_slice(&[0, 0, 0, 2, 0x09, 0xf0]);
        }
        p.extend_from_slice(&[0, 0, 0, 5, 0x65, 0x88, 0x84, 0x00, 0x33]);
        p
    }

    #[test]
    fn time_bytes_round_trip_and_are_never_zero() {
        for t in [0, 1, 127, 128, 1_750_000_000_123_456, MAX_TIME_US] {
            let b = encode_time(t);
            assert!(b.iter().all(|&x| x != 0 && x & 0x80 != 0), "{b:02x?}");
            assert_eq!(decode_time(&b), Some(t));
        }
        assert_eq!(decode_time(&encode_time(u64::MAX)), Some(MAX_TIME_US));
        assert_eq!(decode_time(&[0x80; 7]), None);
        assert_eq!(decode_time(&[0x7f; 8]), None);
    }

    #[test]
    fn sei_layout() {
        let nal = sei_nal(0);
        assert_eq!(nal.len(), 28);
        assert_eq!(&nal[..3], &[0x06, 0x05, 0x18]);
        assert_eq!(&nal[3..19], &BENCH_UUID);
        assert_eq!(&nal[19..27], &[0x80; 8]);
        assert_eq!(nal[27], 0x80);
        // No start code emulation anywhere in the NAL unit.
        assert!(
            nal.windows(3)
                .all(|w| !(w[0] == 0 && w[1] == 0 && w[2] <= 3))
        );
    }

    #[test]
    fn embed_then_find() {
        let t = 1_750_000_000_654_321;
        let frame = idr(false);
        let out = embed(&frame, 4, t).unwrap();
        assert_eq!(out.len(), frame.len() + 4 + 28);
        assert_eq!(&out[..5], &frame[..5]);
        assert_eq!(&out[5..9], &[0, 0, 0, 28]);
        assert_eq!(&out[9 + 28..], &frame[5..]);
        assert_eq!(find(&out, 4), Some(t));
        // A prefix that holds the SEI is enough.
        assert_eq!(find(&out[..9 + 28], 4), Some(t));
        assert_eq!(find(&frame, 4), None);
    }

    #[test]
    fn embed_after_access_unit_delimiter() {
        let frame = idr(true);
        let out = embed(&frame, 4, 42).unwrap();
        assert_eq!(&out[5..11], &frame[5..11], "AUD stays first");
        assert_eq!(&out[11..15], &[0, 0, 0, 28]);
        assert_eq!(out[15], 0x06);
        assert_eq!(find(&out, 4), Some(42));
    }

    #[test]
    fn other_length_sizes() {
        for ls in [1u8, 2] {
            let mut frame = vec![0x27, 0x01, 0, 0, 0];
            frame.extend_from_slice(&[0u8; 4][..usize::from(ls) - 1]);
            frame.extend_from_slice(&[3, 0x41, 0x9a, 0x02]);
            let out = embed(&frame, ls, 7).unwrap();
            assert_eq!(find(&out, ls), Some(7));
            assert_eq!(find(&out, 4), None);
        }
        assert_eq!(embed(&idr(false), 3, 0), Err(EmbedError::LengthSize(3)));
    }

    #[test]
    fn classification() {
        let mut seq = vec![0x17, 0x00, 0, 0, 0, 0x01, 0x64, 0x00, 0x1f, 0xff];
        assert_eq!(
            classify(&seq),
            AvcPayload::SequenceHeader { nal_length_size: 4 }
        );
        seq[9] = 0xfd;
        assert_eq!(
            classify(&seq),
            AvcPayload::SequenceHeader { nal_length_size: 2 }
        );
        assert_eq!(classify(&idr(false)), AvcPayload::Nalus);
        assert_eq!(classify(&[0x1c, 0x01, 0, 0, 0, 1]), AvcPayload::Other);
        assert_eq!(classify(b"\x91hvc1"), AvcPayload::Other);
        assert_eq!(classify(&[0x17]), AvcPayload::Other);
        assert_eq!(
            embed(&[0xaf, 0x01, 0x21], 4, 0),
            Err(EmbedError::NotAvcNalus)
        );
    }

    #[test]
    fn garbage_never_panics() {
        let frame = embed(&idr(true), 4, 99).unwrap();
        for cut in 0..frame.len() {
            let _ = find(&frame[..cut], 4);
            let _ = embed(&frame[..cut], 4, 0);
        }
        // Lengths pointing far past the end.
        let bogus = [0x17, 0x01, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x06];
        assert_eq!(find(&bogus, 4), None);
        assert_eq!(
            embed(&bogus, 4, 0),
            Err(EmbedError::Truncated { offset: 5 })
        );
    }
}
