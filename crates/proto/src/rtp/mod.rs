//! RTP fixed header (RFC 3550 §5.1), its CSRC list, header extension (§5.3.1) and padding.
//!
//! Decoding borrows from the datagram: [`RtpPacket::decode`] returns the header, the extension
//! body and the payload as slices of the input, so analysing a capture allocates nothing per
//! packet. [`RtpHeader::encode`] writes the same wire form back.

use thiserror::Error;

/// The only RTP version in use (RFC 3550).
pub const RTP_VERSION: u8 = 2;
/// Static payload type of MPEG-2 transport streams over RTP (RFC 3551, RFC 2250).
pub const PAYLOAD_TYPE_MP2T: u8 = 33;
/// Clock rate of payload type 33 (and of all video payload types): 90 kHz.
pub const MP2T_CLOCK_RATE: u32 = 90_000;
/// Most CSRC identifiers a header can carry (the CC field is 4 bits).
pub const MAX_CSRCS: usize = 15;

/// A malformed RTP packet, with the byte offset where the problem was found.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RtpError {
    /// Fewer bytes than the part being read needs.
    #[error(
        "RTP packet truncated at offset {offset}: {what} needs {needed} bytes, {available} left"
    )]
    Truncated {
        offset: usize,
        what: &'static str,
        needed: usize,
        available: usize,
    },
    /// The version field is not 2.
    #[error("RTP version {0} at offset 0 (only version 2 exists)")]
    BadVersion(u8),
    /// The padding count in the last byte is 0 or larger than what follows the header.
    #[error(
        "RTP padding count {count} at offset {offset} is invalid for a {available}-byte payload"
    )]
    BadPadding {
        offset: usize,
        count: u8,
        available: usize,
    },
    /// More CSRCs than the 4-bit CC field can express (encoding only).
    #[error("{0} CSRCs given, at most 15 fit in the CC field")]
    TooManyCsrcs(usize),
    /// Extension body not a multiple of 4 bytes or longer than 65535 words (encoding only).
    #[error("extension body of {0} bytes cannot be encoded (multiple of 4, at most 262140)")]
    BadExtensionLength(usize),
}

/// Header extension (RFC 3550 §5.3.1): a 16-bit profile-defined value and a body of 32-bit words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpExtension<'a> {
    /// "defined by profile" field (e.g. 0xBEDE for RFC 8285 one-byte header extensions).
    pub profile: u16,
    /// The extension body (length field × 4 bytes), kept as data.
    pub data: &'a [u8],
}

/// The RTP fixed header plus CSRC list and extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpHeader<'a> {
    /// V: protocol version; always 2 once decoded.
    pub version: u8,
    /// M: marker bit (for video, the last packet of a frame).
    pub marker: bool,
    /// PT: payload type, 7 bits.
    pub payload_type: u8,
    /// Sequence number, +1 per packet, wraps at 2^16.
    pub sequence: u16,
    /// Media timestamp (90 kHz for video and MPEG-TS).
    pub timestamp: u32,
    /// Synchronisation source.
    pub ssrc: u32,
    csrc_count: u8,
    csrcs: [u32; MAX_CSRCS],
    /// X=1: the header extension.
    pub extension: Option<RtpExtension<'a>>,
    /// P=1: number of padding bytes at the end of the packet (including the count byte), else 0.
    pub padding: u8,
}

impl<'a> RtpHeader<'a> {
    /// A version-2 header with no CSRCs, no extension and no padding.
    pub fn new(payload_type: u8, sequence: u16, timestamp: u32, ssrc: u32) -> Self {
        RtpHeader {
            version: RTP_VERSION,
            marker: false,
            payload_type: payload_type & 0x7f,
            sequence,
            timestamp,
            ssrc,
            csrc_count: 0,
            csrcs: [0; MAX_CSRCS],
            extension: None,
            padding: 0,
        }
    }

    /// The contributing sources (CC of them).
    pub fn csrcs(&self) -> &[u32] {
        &self.csrcs[..usize::from(self.csrc_count).min(MAX_CSRCS)]
    }

    /// Sets the CSRC list; at most 15 entries.
    pub fn set_csrcs(&mut self, csrcs: &[u32]) -> Result<(), RtpError> {
        if csrcs.len() > MAX_CSRCS {
            return Err(RtpError::TooManyCsrcs(csrcs.len()));
        }
        self.csrcs = [0; MAX_CSRCS];
        self.csrcs[..csrcs.len()].copy_from_slice(csrcs);
        self.csrc_count = csrcs.len() as u8;
        Ok(())
    }

    /// Bytes the header occupies before the payload (12 + 4·CC + extension).
    pub fn header_len(&self) -> usize {
        12 + 4 * usize::from(self.csrc_count) + self.extension.map_or(0, |e| 4 + e.data.len())
    }

    /// Writes the header (not the payload, not the padding) to `out`.
    ///
    /// The P bit is set when `padding > 0`; the caller appends the payload and then
    /// `padding` bytes whose last one equals `padding` (see [`write_padding`]).
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), RtpError> {
        if let Some(ext) = &self.extension
            && (ext.data.len() % 4 != 0 || ext.data.len() / 4 > usize::from(u16::MAX))
        {
            return Err(RtpError::BadExtensionLength(ext.data.len()));
        }
        let b0 = (RTP_VERSION << 6)
            | (u8::from(self.padding > 0) << 5)
            | (u8::from(self.extension.is_some()) << 4)
            | self.csrc_count.min(15);
        out.push(b0);
        out.push((u8::from(self.marker) << 7) | (self.payload_type & 0x7f));
        out.extend_from_slice(&self.sequence.to_be_bytes());
        out.extend_from_slice(&self.timestamp.to_be_bytes());
        out.extend_from_slice(&self.ssrc.to_be_bytes());
        for c in self.csrcs() {
            out.extend_from_slice(&c.to_be_bytes());
        }
        if let Some(ext) = &self.extension {
            out.extend_from_slice(&ext.profile.to_be_bytes());
            out.extend_from_slice(&((ext.data.len() / 4) as u16).to_be_bytes());
            out.extend_from_slice(ext.data);
        }
        Ok(())
    }
}

/// Appends RTP padding: `count - 1` zero bytes and then `count` itself (`count` ≥ 1).
pub fn write_padding(count: u8, out: &mut Vec<u8>) {
    if count == 0 {
        return;
    }
    out.extend(std::iter::repeat_n(0u8, usize::from(count) - 1));
    out.push(count);
}

/// A decoded RTP packet borrowing the datagram it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpPacket<'a> {
    /// Fixed header, CSRCs, extension, padding count.
    pub header: RtpHeader<'a>,
    /// The payload, without header and padding.
    pub payload: &'a [u8],
}

fn need(buf: &[u8], offset: usize, needed: usize, what: &'static str) -> Result<(), RtpError> {
    let available = buf.len().saturating_sub(offset);
    if available < needed {
        return Err(RtpError::Truncated {
            offset,
            what,
            needed,
            available,
        });
    }
    Ok(())
}

fn be16(b: &[u8], at: usize) -> u16 {
    match b.get(at..at + 2) {
        Some(s) => u16::from_be_bytes([s[0], s[1]]),
        None => 0,
    }
}

fn be32(b: &[u8], at: usize) -> u32 {
    match b.get(at..at + 4) {
        Some(s) => u32::from_be_bytes([s[0], s[1], s[2], s[3]]),
        None => 0,
    }
}

impl<'a> RtpPacket<'a> {
    /// Decodes one RTP packet (a whole UDP payload).
    pub fn decode(buf: &'a [u8]) -> Result<Self, RtpError> {
        need(buf, 0, 12, "fixed header")?;
        let b0 = buf[0];
        let version = b0 >> 6;
        if version != RTP_VERSION {
            return Err(RtpError::BadVersion(version));
        }
        let has_padding = b0 & 0x20 != 0;
        let has_extension = b0 & 0x10 != 0;
        let csrc_count = b0 & 0x0f;
        let b1 = buf[1];
        let mut header = RtpHeader {
            version,
            marker: b1 & 0x80 != 0,
            payload_type: b1 & 0x7f,
            sequence: be16(buf, 2),
            timestamp: be32(buf, 4),
            ssrc: be32(buf, 8),
            csrc_count,
            csrcs: [0; MAX_CSRCS],
            extension: None,
            padding: 0,
        };
        let mut pos = 12;
        let csrc_bytes = 4 * usize::from(csrc_count);
        need(buf, pos, csrc_bytes, "CSRC list")?;
        for (i, c) in header
            .csrcs
            .iter_mut()
            .take(usize::from(csrc_count))
            .enumerate()
        {
            *c = be32(buf, pos + 4 * i);
        }
        pos += csrc_bytes;
        if has_extension {
            need(buf, pos, 4, "extension header")?;
            let profile = be16(buf, pos);
            let len = 4 * usize::from(be16(buf, pos + 2));
            pos += 4;
            need(buf, pos, len, "extension body")?;
            header.extension = Some(RtpExtension {
                profile,
                data: &buf[pos..pos + len],
            });
            pos += len;
        }
        let mut end = buf.len();
        if has_padding {
            let count = buf[end - 1];
            let available = end - pos;
            if count == 0 || usize::from(count) > available {
                return Err(RtpError::BadPadding {
                    offset: end - 1,
                    count,
                    available,
                });
            }
            header.padding = count;
            end -= usize::from(count);
        }
        Ok(RtpPacket {
            header,
            payload: &buf[pos..end],
        })
    }

    /// Writes header, payload and padding.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), RtpError> {
        self.header.encode(out)?;
        out.extend_from_slice(self.payload);
        write_padding(self.header.padding, out);
        Ok(())
    }
}

/// Extends 16-bit RTP sequence numbers to a monotonic 64-bit count (RFC 3550 A.1 idea):
/// each new value is placed in the 2^16 cycle that puts it nearest the highest seen so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SequenceExtender {
    highest: Option<u64>,
}

impl SequenceExtender {
    /// Returns the extended value of `seq`; the highest value seen is updated.
    pub fn extend(&mut self, seq: u16) -> u64 {
        let Some(highest) = self.highest else {
            // Start one cycle up so that slightly-older packets do not go negative.
            let v = (1u64 << 16) + u64::from(seq);
            self.highest = Some(v);
            return v;
        };
        let delta = seq.wrapping_sub(highest as u16) as i16;
        let v = (highest as i64 + i64::from(delta)).max(0) as u64;
        if v > highest {
            self.highest = Some(v);
        }
        v
    }

    /// Highest extended sequence number seen, if any.
    pub fn highest(&self) -> Option<u64> {
        self.highest
    }
}

#[cfg(test)]
mod tests;
