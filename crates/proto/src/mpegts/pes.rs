//! PES packet header (13818-1 §2.4.3.6) and reassembly of PES packets from one PID.

use super::{TIMESTAMP_MODULUS, TsError, be16, take};

/// Common stream_id values.
pub mod stream_id {
    /// program_stream_map (no optional header).
    pub const PROGRAM_STREAM_MAP: u8 = 0xbc;
    /// private_stream_1 (AC-3, Opus and other private data).
    pub const PRIVATE_STREAM_1: u8 = 0xbd;
    /// padding_stream (no optional header).
    pub const PADDING: u8 = 0xbe;
    /// private_stream_2 (no optional header).
    pub const PRIVATE_STREAM_2: u8 = 0xbf;
    /// First MPEG audio stream id (0xc0–0xdf).
    pub const AUDIO_FIRST: u8 = 0xc0;
    /// First video stream id (0xe0–0xef).
    pub const VIDEO_FIRST: u8 = 0xe0;
    /// Metadata stream / extended stream ids (0xfc, 0xfd).
    pub const METADATA: u8 = 0xfc;

    /// Whether a PES packet with this stream_id has the optional header (flags, PTS, DTS…).
    pub fn has_optional_header(id: u8) -> bool {
        !matches!(id, 0xbc | 0xbe | 0xbf | 0xf0 | 0xf1 | 0xf2 | 0xf8 | 0xff)
    }
}

/// The optional PES header: flags, PTS/DTS and the rarer fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PesOptionalHeader<'a> {
    /// PES_scrambling_control, 2 bits.
    pub scrambling_control: u8,
    /// PES_priority.
    pub priority: bool,
    /// data_alignment_indicator: the payload starts with an access unit / NAL start code.
    pub data_alignment: bool,
    /// copyright.
    pub copyright: bool,
    /// original_or_copy.
    pub original: bool,
    /// Presentation timestamp, 90 kHz, 33 bits.
    pub pts: Option<u64>,
    /// Decoding timestamp, 90 kHz, 33 bits (only with a PTS).
    pub dts: Option<u64>,
    /// ESCR base (33 bits) and extension (9 bits).
    pub escr: Option<(u64, u16)>,
    /// ES_rate, 22 bits, in units of 50 bytes/s.
    pub es_rate: Option<u32>,
    /// DSM trick mode byte.
    pub trick_mode: Option<u8>,
    /// additional_copy_info, 7 bits.
    pub additional_copy_info: Option<u8>,
    /// previous_PES_CRC.
    pub previous_crc: Option<u16>,
    /// PES_extension_flag: the extension's bytes start `tail`.
    pub has_extension: bool,
    /// Bytes after the decoded fields up to PES_header_data_length: the extension (if any)
    /// and stuffing, kept as data.
    pub tail: &'a [u8],
}

/// A PES packet header: start code, stream_id, PES_packet_length, optional header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PesHeader<'a> {
    /// stream_id (0xe0 video, 0xc0 audio, 0xbd private stream 1, …).
    pub stream_id: u8,
    /// PES_packet_length: bytes after this field; 0 = unbounded (video).
    pub packet_length: u16,
    /// Present for all stream ids except the few listed in [`stream_id::has_optional_header`].
    pub optional: Option<PesOptionalHeader<'a>>,
}

fn decode_timestamp(b: &[u8]) -> u64 {
    (u64::from(b[0] >> 1 & 0x07) << 30)
        | (u64::from(b[1]) << 22)
        | (u64::from(b[2] >> 1) << 15)
        | (u64::from(b[3]) << 7)
        | u64::from(b[4] >> 1)
}

fn encode_timestamp(prefix: u8, ts: u64, out: &mut Vec<u8>) {
    let ts = ts % TIMESTAMP_MODULUS;
    out.push((prefix << 4) | ((ts >> 29) as u8 & 0x0e) | 1);
    out.push((ts >> 22) as u8);
    out.push(((ts >> 14) as u8 & 0xfe) | 1);
    out.push((ts >> 7) as u8);
    out.push(((ts << 1) as u8) | 1);
}

impl<'a> PesHeader<'a> {
    /// A header for an audio or video PES with the given timestamps (DTS only when it differs
    /// from the PTS), data_alignment set, and `packet_length` to be filled by the muxer.
    pub fn with_timestamps(stream_id: u8, pts: Option<u64>, dts: Option<u64>) -> Self {
        PesHeader {
            stream_id,
            packet_length: 0,
            optional: Some(PesOptionalHeader {
                data_alignment: true,
                pts,
                dts: dts.filter(|d| Some(*d) != pts && pts.is_some()),
                ..Default::default()
            }),
        }
    }

    /// Decodes the header at the start of a PES packet; returns it and its length in bytes
    /// (where the payload starts).
    pub fn decode(buf: &'a [u8]) -> Result<(Self, usize), TsError> {
        let fixed = take(buf, 0, 6, "PES header")?;
        let start = (u32::from(fixed[0]) << 16) | (u32::from(fixed[1]) << 8) | u32::from(fixed[2]);
        if start != 1 {
            return Err(TsError::BadStartCode { found: start });
        }
        let stream_id = fixed[3];
        let packet_length = be16(fixed, 4);
        if !stream_id::has_optional_header(stream_id) {
            return Ok((
                PesHeader {
                    stream_id,
                    packet_length,
                    optional: None,
                },
                6,
            ));
        }
        let o = take(buf, 6, 3, "PES optional header")?;
        let (f1, f2, data_len) = (o[0], o[1], o[2]);
        let data = take(buf, 9, usize::from(data_len), "PES header data")?;
        let mut h = PesOptionalHeader {
            scrambling_control: (f1 >> 4) & 3,
            priority: f1 & 0x08 != 0,
            data_alignment: f1 & 0x04 != 0,
            copyright: f1 & 0x02 != 0,
            original: f1 & 0x01 != 0,
            has_extension: f2 & 0x01 != 0,
            ..Default::default()
        };
        let pts_dts = f2 >> 6;
        let needed = match pts_dts {
            2 => 5,
            3 => 10,
            _ => 0,
        } + if f2 & 0x20 != 0 { 6 } else { 0 }
            + if f2 & 0x10 != 0 { 3 } else { 0 }
            + usize::from(f2 & 0x08 != 0)
            + usize::from(f2 & 0x04 != 0)
            + if f2 & 0x02 != 0 { 2 } else { 0 };
        if needed > data.len() {
            return Err(TsError::PesHeaderTooShort {
                length: data_len,
                needed,
            });
        }
        let mut pos = 0;
        if pts_dts >= 2 {
            h.pts = Some(decode_timestamp(&data[pos..pos + 5]));
            pos += 5;
        }
        if pts_dts == 3 {
            h.dts = Some(decode_timestamp(&data[pos..pos + 5]));
            pos += 5;
        }
        if f2 & 0x20 != 0 {
            let e = &data[pos..pos + 6];
            let base = (u64::from(e[0] >> 3 & 0x07) << 30)
                | (u64::from(e[0] & 0x03) << 28)
                | (u64::from(e[1]) << 20)
                | (u64::from(e[2] >> 3) << 15)
                | (u64::from(e[2] & 0x03) << 13)
                | (u64::from(e[3]) << 5)
                | u64::from(e[4] >> 3);
            let ext = (u16::from(e[4] & 0x03) << 7) | u16::from(e[5] >> 1);
            h.escr = Some((base, ext));
            pos += 6;
        }
        if f2 & 0x10 != 0 {
            let r = &data[pos..pos + 3];
            h.es_rate = Some(
                ((u32::from(r[0]) & 0x7f) << 15) | (u32::from(r[1]) << 7) | u32::from(r[2] >> 1),
            );
            pos += 3;
        }
        if f2 & 0x08 != 0 {
            h.trick_mode = Some(data[pos]);
            pos += 1;
        }
        if f2 & 0x04 != 0 {
            h.additional_copy_info = Some(data[pos] & 0x7f);
            pos += 1;
        }
        if f2 & 0x02 != 0 {
            h.previous_crc = Some(be16(data, pos));
            pos += 2;
        }
        h.tail = &data[pos..];
        Ok((
            PesHeader {
                stream_id,
                packet_length,
                optional: Some(h),
            },
            9 + usize::from(data_len),
        ))
    }

    /// Bytes [`encode`](Self::encode) writes.
    pub fn encoded_len(&self) -> usize {
        6 + self
            .optional
            .as_ref()
            .map_or(0, |o| 3 + optional_data_len(o))
    }

    /// Writes the header. A DTS without a PTS is dropped (the flags cannot express it).
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), TsError> {
        out.extend_from_slice(&[0, 0, 1, self.stream_id]);
        out.extend_from_slice(&self.packet_length.to_be_bytes());
        let Some(o) = &self.optional else {
            return Ok(());
        };
        let data_len = optional_data_len(o);
        let data_len = u8::try_from(data_len).map_err(|_| TsError::FieldOverflow {
            what: "PES_header_data_length",
            value: data_len as u64,
        })?;
        let pts_dts = match (o.pts, o.dts) {
            (Some(_), Some(_)) => 3,
            (Some(_), None) => 2,
            _ => 0,
        };
        out.push(
            0x80 | ((o.scrambling_control & 3) << 4)
                | (u8::from(o.priority) << 3)
                | (u8::from(o.data_alignment) << 2)
                | (u8::from(o.copyright) << 1)
                | u8::from(o.original),
        );
        out.push(
            (pts_dts << 6)
                | (u8::from(o.escr.is_some()) << 5)
                | (u8::from(o.es_rate.is_some()) << 4)
                | (u8::from(o.trick_mode.is_some()) << 3)
                | (u8::from(o.additional_copy_info.is_some()) << 2)
                | (u8::from(o.previous_crc.is_some()) << 1)
                | u8::from(o.has_extension),
        );
        out.push(data_len);
        if let Some(pts) = o.pts {
            encode_timestamp(if pts_dts == 3 { 3 } else { 2 }, pts, out);
            if let Some(dts) = o.dts {
                encode_timestamp(1, dts, out);
            }
        }
        if let Some((base, ext)) = o.escr {
            let b = base % TIMESTAMP_MODULUS;
            out.extend_from_slice(&[
                0xc0 | ((b >> 27) as u8 & 0x38) | 0x04 | ((b >> 28) as u8 & 0x03),
                (b >> 20) as u8,
                ((b >> 12) as u8 & 0xf8) | 0x04 | ((b >> 13) as u8 & 0x03),
                (b >> 5) as u8,
                ((b << 3) as u8) | 0x04 | ((ext >> 7) as u8 & 0x03),
                ((ext << 1) as u8) | 1,
            ]);
        }
        if let Some(r) = o.es_rate {
            out.extend_from_slice(&[0x80 | (r >> 15) as u8, (r >> 7) as u8, ((r << 1) as u8) | 1]);
        }
        if let Some(t) = o.trick_mode {
            out.push(t);
        }
        if let Some(c) = o.additional_copy_info {
            out.push(0x80 | c);
        }
        if let Some(c) = o.previous_crc {
            out.extend_from_slice(&c.to_be_bytes());
        }
        out.extend_from_slice(o.tail);
        Ok(())
    }
}

fn optional_data_len(o: &PesOptionalHeader<'_>) -> usize {
    let ts = match (o.pts, o.dts) {
        (Some(_), Some(_)) => 10,
        (Some(_), None) => 5,
        _ => 0,
    };
    ts + 6 * usize::from(o.escr.is_some())
        + 3 * usize::from(o.es_rate.is_some())
        + usize::from(o.trick_mode.is_some())
        + usize::from(o.additional_copy_info.is_some())
        + 2 * usize::from(o.previous_crc.is_some())
        + o.tail.len()
}

/// A reassembled PES packet handed out by [`PesAssembler`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PesUnit<'a> {
    /// The decoded header.
    pub header: PesHeader<'a>,
    /// The elementary stream bytes (empty when the assembler keeps headers only).
    pub payload: &'a [u8],
    /// Total bytes of the PES packet seen, header included.
    pub total_len: usize,
    /// Packets of this PES were lost (continuity error) or it ended before its declared length.
    pub incomplete: bool,
}

/// Reassembles the PES packets of one PID from packet payloads.
///
/// A unit ends when the next payload_unit_start arrives, when PES_packet_length bytes are
/// in, or at [`flush`](Self::flush). Memory is bounded by `limit` bytes; in headers-only
/// mode only the first bytes (enough for the largest header) are kept.
#[derive(Debug, Clone)]
pub struct PesAssembler {
    pid: u16,
    buf: Vec<u8>,
    total: usize,
    active: bool,
    incomplete: bool,
    headers_only: bool,
    limit: usize,
}

/// Longest possible PES header: 9 fixed bytes + 255 bytes of header data.
const MAX_PES_HEADER: usize = 9 + 255;

impl PesAssembler {
    /// Keeps whole PES packets up to `limit` bytes each.
    pub fn new(pid: u16, limit: usize) -> Self {
        PesAssembler {
            pid,
            buf: Vec::new(),
            total: 0,
            active: false,
            incomplete: false,
            headers_only: false,
            limit,
        }
    }

    /// Keeps only the headers (payloads are counted, not stored): for analysis.
    pub fn headers_only(pid: u16) -> Self {
        PesAssembler {
            headers_only: true,
            ..Self::new(pid, usize::MAX)
        }
    }

    /// Marks the unit in progress as damaged (packets were lost on the PID).
    pub fn mark_incomplete(&mut self) {
        if self.active {
            self.incomplete = true;
        }
    }

    /// Feeds one packet payload; a completed PES packet (or why it could not be read) goes to
    /// `on_unit`.
    pub fn push(
        &mut self,
        payload_unit_start: bool,
        payload: &[u8],
        mut on_unit: impl FnMut(Result<PesUnit<'_>, TsError>),
    ) {
        if payload_unit_start {
            if self.active {
                self.incomplete |= self.declared_len().is_some_and(|n| self.total < n);
                self.emit(&mut on_unit);
            }
            self.active = true;
            self.incomplete = false;
        } else if !self.active {
            return;
        }
        self.total += payload.len();
        let keep = if self.headers_only {
            MAX_PES_HEADER
                .saturating_sub(self.buf.len())
                .min(payload.len())
        } else {
            payload.len()
        };
        if self.buf.len() + keep > self.limit {
            on_unit(Err(TsError::PesTooLong {
                pid: self.pid,
                limit: self.limit,
            }));
            self.clear();
            return;
        }
        self.buf.extend_from_slice(&payload[..keep]);
        if self.declared_len().is_some_and(|n| self.total >= n) {
            self.emit(&mut on_unit);
        }
    }

    /// Hands out the unit in progress (end of stream).
    pub fn flush(&mut self, mut on_unit: impl FnMut(Result<PesUnit<'_>, TsError>)) {
        if self.active {
            self.incomplete |= self.declared_len().is_some_and(|n| self.total < n);
            self.emit(&mut on_unit);
        }
    }

    fn declared_len(&self) -> Option<usize> {
        let n = usize::from(be16(self.buf.get(..6)?, 4));
        (n != 0).then_some(6 + n)
    }

    fn emit(&mut self, on_unit: &mut impl FnMut(Result<PesUnit<'_>, TsError>)) {
        match PesHeader::decode(&self.buf) {
            Ok((header, hlen)) => {
                let end = if self.headers_only {
                    hlen
                } else {
                    let declared = self.declared_len().unwrap_or(self.buf.len());
                    declared.min(self.buf.len())
                };
                on_unit(Ok(PesUnit {
                    header,
                    payload: self.buf.get(hlen..end.max(hlen)).unwrap_or(&[]),
                    total_len: self.total,
                    incomplete: self.incomplete,
                }));
            }
            Err(e) => on_unit(Err(e)),
        }
        self.clear();
    }

    fn clear(&mut self) {
        self.buf.clear();
        self.total = 0;
        self.active = false;
        self.incomplete = false;
    }
}

#[cfg(test)]
#[path = "pes_tests.rs"]
mod tests;
