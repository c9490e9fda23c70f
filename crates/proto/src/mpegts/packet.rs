//! The 188-byte transport packet: 4-byte header, optional adaptation field, payload.

use super::{PID_NULL, SYNC_BYTE, TS_PACKET_SIZE, TsError, take};

/// adaptation_field_control: which of adaptation field and payload the packet carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AdaptationFieldControl {
    /// '00': reserved; decoders discard such packets.
    Reserved,
    /// '01': payload only.
    PayloadOnly,
    /// '10': adaptation field only (183 bytes).
    AdaptationOnly,
    /// '11': adaptation field followed by payload.
    AdaptationAndPayload,
}

impl AdaptationFieldControl {
    /// From the 2-bit field value.
    pub fn from_bits(v: u8) -> Self {
        match v & 3 {
            0 => Self::Reserved,
            1 => Self::PayloadOnly,
            2 => Self::AdaptationOnly,
            _ => Self::AdaptationAndPayload,
        }
    }
    /// The 2-bit field value.
    pub fn bits(self) -> u8 {
        match self {
            Self::Reserved => 0,
            Self::PayloadOnly => 1,
            Self::AdaptationOnly => 2,
            Self::AdaptationAndPayload => 3,
        }
    }
    /// Whether a payload follows.
    pub fn has_payload(self) -> bool {
        matches!(self, Self::PayloadOnly | Self::AdaptationAndPayload)
    }
    /// Whether an adaptation field follows the header.
    pub fn has_adaptation(self) -> bool {
        matches!(self, Self::AdaptationOnly | Self::AdaptationAndPayload)
    }
}

/// The 4-byte packet header (after the sync byte 0x47).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TsHeader {
    /// transport_error_indicator: a demodulator found an uncorrectable error.
    pub transport_error: bool,
    /// payload_unit_start_indicator: a PES packet or PSI section starts here.
    pub payload_unit_start: bool,
    /// transport_priority.
    pub transport_priority: bool,
    /// 13-bit packet identifier.
    pub pid: u16,
    /// transport_scrambling_control (0 = not scrambled).
    pub scrambling_control: u8,
    /// adaptation_field_control.
    pub adaptation_field_control: AdaptationFieldControl,
    /// 4-bit continuity_counter.
    pub continuity_counter: u8,
}

impl TsHeader {
    /// Decodes the first 4 bytes of a packet.
    pub fn decode(buf: &[u8]) -> Result<Self, TsError> {
        let b = take(buf, 0, 4, "TS header")?;
        if b[0] != SYNC_BYTE {
            return Err(TsError::SyncLost { found: b[0] });
        }
        Ok(TsHeader {
            transport_error: b[1] & 0x80 != 0,
            payload_unit_start: b[1] & 0x40 != 0,
            transport_priority: b[1] & 0x20 != 0,
            pid: (u16::from(b[1] & 0x1f) << 8) | u16::from(b[2]),
            scrambling_control: b[3] >> 6,
            adaptation_field_control: AdaptationFieldControl::from_bits(b[3] >> 4),
            continuity_counter: b[3] & 0x0f,
        })
    }

    /// The 4 header bytes, sync byte first. Out-of-range PID, scrambling and counter values
    /// are masked to their field widths.
    pub fn encode(&self) -> [u8; 4] {
        [
            SYNC_BYTE,
            (u8::from(self.transport_error) << 7)
                | (u8::from(self.payload_unit_start) << 6)
                | (u8::from(self.transport_priority) << 5)
                | ((self.pid >> 8) as u8 & 0x1f),
            self.pid as u8,
            ((self.scrambling_control & 3) << 6)
                | (self.adaptation_field_control.bits() << 4)
                | (self.continuity_counter & 0x0f),
        ]
    }
}

/// A program clock reference: 33-bit base at 90 kHz and 9-bit extension (27 MHz = base·300 + ext).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pcr {
    /// 90 kHz part, 33 bits.
    pub base: u64,
    /// 27 MHz remainder, 0..300.
    pub extension: u16,
}

impl Pcr {
    /// From a 27 MHz tick count (taken modulo 2^33·300).
    pub fn from_27mhz(ticks: u64) -> Self {
        let ticks = ticks % ((1u64 << 33) * 300);
        Pcr {
            base: ticks / 300,
            extension: (ticks % 300) as u16,
        }
    }
    /// The value in 27 MHz ticks.
    pub fn to_27mhz(self) -> u64 {
        (self.base & ((1 << 33) - 1)) * 300 + u64::from(self.extension & 0x1ff)
    }
    /// Decodes the 6-byte wire form.
    pub fn decode(b: &[u8]) -> Result<Self, TsError> {
        let b = take(b, 0, 6, "PCR")?;
        let base = (u64::from(b[0]) << 25)
            | (u64::from(b[1]) << 17)
            | (u64::from(b[2]) << 9)
            | (u64::from(b[3]) << 1)
            | u64::from(b[4] >> 7);
        let extension = (u16::from(b[4] & 1) << 8) | u16::from(b[5]);
        Ok(Pcr { base, extension })
    }
    /// The 6-byte wire form (6 reserved bits set to 1).
    pub fn encode(self) -> [u8; 6] {
        let base = self.base & ((1 << 33) - 1);
        let ext = self.extension & 0x1ff;
        [
            (base >> 25) as u8,
            (base >> 17) as u8,
            (base >> 9) as u8,
            (base >> 1) as u8,
            ((base as u8 & 1) << 7) | 0x7e | (ext >> 8) as u8,
            ext as u8,
        ]
    }
}

/// The adaptation field. Fields this type does not interpret (the extension) are kept as bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AdaptationField<'a> {
    /// discontinuity_indicator: the continuity counter or PCR restarts here.
    pub discontinuity: bool,
    /// random_access_indicator: the next PES starts a random access point (keyframe).
    pub random_access: bool,
    /// elementary_stream_priority_indicator.
    pub es_priority: bool,
    /// Program clock reference.
    pub pcr: Option<Pcr>,
    /// Original program clock reference.
    pub opcr: Option<Pcr>,
    /// splice_countdown (packets until a splicing point).
    pub splice_countdown: Option<i8>,
    /// transport_private_data bytes.
    pub private_data: Option<&'a [u8]>,
    /// adaptation_field_extension bytes, after its length byte.
    pub extension: Option<&'a [u8]>,
    /// Number of stuffing bytes at the end of the field (when decoded).
    pub stuffing: usize,
}

impl<'a> AdaptationField<'a> {
    /// Decodes an adaptation field starting at its length byte. Returns the field and the bytes
    /// it occupies including the length byte.
    pub fn decode(buf: &'a [u8]) -> Result<(Self, usize), TsError> {
        let len = usize::from(
            *buf.first()
                .ok_or_else(|| super::truncated("adaptation_field_length", 0, 1, buf.len()))?,
        );
        let body = take(buf, 1, len, "adaptation field")?;
        let mut af = AdaptationField::default();
        if len == 0 {
            return Ok((af, 1));
        }
        let flags = body[0];
        af.discontinuity = flags & 0x80 != 0;
        af.random_access = flags & 0x40 != 0;
        af.es_priority = flags & 0x20 != 0;
        let mut pos = 1;
        let overrun = |what, pos| TsError::AdaptationOverrun {
            what,
            offset: pos + 1,
        };
        if flags & 0x10 != 0 {
            af.pcr =
                Some(Pcr::decode(body.get(pos..).unwrap_or(&[])).map_err(|_| overrun("PCR", pos))?);
            pos += 6;
        }
        if flags & 0x08 != 0 {
            af.opcr = Some(
                Pcr::decode(body.get(pos..).unwrap_or(&[])).map_err(|_| overrun("OPCR", pos))?,
            );
            pos += 6;
        }
        if flags & 0x04 != 0 {
            let b = *body
                .get(pos)
                .ok_or_else(|| overrun("splice_countdown", pos))?;
            af.splice_countdown = Some(b as i8);
            pos += 1;
        }
        if flags & 0x02 != 0 {
            let n = usize::from(
                *body
                    .get(pos)
                    .ok_or_else(|| overrun("private data length", pos))?,
            );
            af.private_data = Some(
                body.get(pos + 1..pos + 1 + n)
                    .ok_or_else(|| overrun("transport_private_data", pos))?,
            );
            pos += 1 + n;
        }
        if flags & 0x01 != 0 {
            let n = usize::from(
                *body
                    .get(pos)
                    .ok_or_else(|| overrun("extension length", pos))?,
            );
            af.extension = Some(
                body.get(pos + 1..pos + 1 + n)
                    .ok_or_else(|| overrun("adaptation_field_extension", pos))?,
            );
            pos += 1 + n;
        }
        af.stuffing = len.saturating_sub(pos);
        Ok((af, 1 + len))
    }

    /// Whether any flag or optional field is set (else a zero-length field can stand for it).
    pub fn has_content(&self) -> bool {
        self.discontinuity
            || self.random_access
            || self.es_priority
            || self.pcr.is_some()
            || self.opcr.is_some()
            || self.splice_countdown.is_some()
            || self.private_data.is_some()
            || self.extension.is_some()
    }

    /// Bytes the field needs without stuffing, including its length byte.
    pub fn min_encoded_len(&self) -> usize {
        if !self.has_content() {
            return 1;
        }
        2 + 6 * usize::from(self.pcr.is_some())
            + 6 * usize::from(self.opcr.is_some())
            + usize::from(self.splice_countdown.is_some())
            + self.private_data.map_or(0, |d| 1 + d.len())
            + self.extension.map_or(0, |d| 1 + d.len())
    }

    /// Writes the field (length byte first) padded with 0xFF stuffing to exactly `total_len`
    /// bytes. `total_len` 1 writes just a zero length byte (only valid for an empty field).
    pub fn encode(&self, total_len: usize, out: &mut Vec<u8>) -> Result<(), TsError> {
        if total_len == 1 && !self.has_content() {
            out.push(0);
            return Ok(());
        }
        let min = self.min_encoded_len();
        if total_len < min || total_len > TS_PACKET_SIZE - 4 {
            return Err(TsError::AdaptationTooLong {
                length: min.max(total_len),
            });
        }
        for (what, d) in [
            ("private data", self.private_data),
            ("extension", self.extension),
        ] {
            if let Some(d) = d
                && d.len() > 255
            {
                return Err(TsError::FieldOverflow {
                    what,
                    value: d.len() as u64,
                });
            }
        }
        let start = out.len();
        out.push((total_len - 1) as u8);
        out.push(
            (u8::from(self.discontinuity) << 7)
                | (u8::from(self.random_access) << 6)
                | (u8::from(self.es_priority) << 5)
                | (u8::from(self.pcr.is_some()) << 4)
                | (u8::from(self.opcr.is_some()) << 3)
                | (u8::from(self.splice_countdown.is_some()) << 2)
                | (u8::from(self.private_data.is_some()) << 1)
                | u8::from(self.extension.is_some()),
        );
        if let Some(p) = self.pcr {
            out.extend_from_slice(&p.encode());
        }
        if let Some(p) = self.opcr {
            out.extend_from_slice(&p.encode());
        }
        if let Some(s) = self.splice_countdown {
            out.push(s as u8);
        }
        for d in [self.private_data, self.extension].into_iter().flatten() {
            out.push(d.len() as u8);
            out.extend_from_slice(d);
        }
        out.resize(start + total_len, 0xff);
        Ok(())
    }
}

/// A decoded transport packet borrowing its 188 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TsPacket<'a> {
    /// The 4-byte header.
    pub header: TsHeader,
    /// The adaptation field when adaptation_field_control says there is one.
    pub adaptation: Option<AdaptationField<'a>>,
    /// The payload (empty for adaptation-only and reserved packets).
    pub payload: &'a [u8],
}

impl<'a> TsPacket<'a> {
    /// Decodes the first 188 bytes of `buf`.
    pub fn decode(buf: &'a [u8]) -> Result<Self, TsError> {
        let pkt = take(buf, 0, TS_PACKET_SIZE, "TS packet")?;
        let header = TsHeader::decode(pkt)?;
        let afc = header.adaptation_field_control;
        let mut pos = 4;
        let mut adaptation = None;
        if afc.has_adaptation() {
            let len = pkt[4];
            let max = if afc.has_payload() { 182 } else { 183 };
            if len > max {
                return Err(TsError::BadAdaptationLength {
                    length: len,
                    control: afc.bits(),
                });
            }
            let (af, used) = AdaptationField::decode(&pkt[4..]).map_err(|e| shift_offset(e, 4))?;
            adaptation = Some(af);
            pos += used;
        }
        let payload = if afc.has_payload() { &pkt[pos..] } else { &[] };
        Ok(TsPacket {
            header,
            adaptation,
            payload,
        })
    }

    /// The PCR in this packet's adaptation field, if any.
    pub fn pcr(&self) -> Option<Pcr> {
        self.adaptation.and_then(|a| a.pcr)
    }
}

fn shift_offset(e: TsError, by: usize) -> TsError {
    match e {
        TsError::AdaptationOverrun { what, offset } => TsError::AdaptationOverrun {
            what,
            offset: offset + by,
        },
        TsError::Truncated {
            what,
            offset,
            needed,
            available,
        } => TsError::Truncated {
            what,
            offset: offset + by,
            needed,
            available,
        },
        other => other,
    }
}

/// Writes one 188-byte packet carrying as much of `payload` as fits, and returns how many
/// payload bytes it took. `header.adaptation_field_control` is computed; an adaptation field
/// is added (with 0xFF stuffing) when `adaptation` is given or the payload is short.
pub fn encode_packet(
    header: &TsHeader,
    adaptation: Option<&AdaptationField<'_>>,
    payload: &[u8],
    out: &mut Vec<u8>,
) -> Result<usize, TsError> {
    let af_min = adaptation.map_or(0, |a| a.min_encoded_len());
    if af_min > TS_PACKET_SIZE - 4 {
        return Err(TsError::AdaptationTooLong { length: af_min });
    }
    let take_len = payload.len().min(TS_PACKET_SIZE - 4 - af_min);
    let af_len = TS_PACKET_SIZE - 4 - take_len;
    let control = match (af_len > 0, take_len > 0) {
        (false, _) => AdaptationFieldControl::PayloadOnly,
        (true, true) => AdaptationFieldControl::AdaptationAndPayload,
        (true, false) => AdaptationFieldControl::AdaptationOnly,
    };
    let mut h = *header;
    h.adaptation_field_control = control;
    out.reserve(TS_PACKET_SIZE);
    out.extend_from_slice(&h.encode());
    if af_len > 0 {
        let empty = AdaptationField::default();
        adaptation.unwrap_or(&empty).encode(af_len, out)?;
    }
    out.extend_from_slice(&payload[..take_len]);
    Ok(take_len)
}

/// Outcome of checking one packet's continuity_counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CcCheck {
    /// As expected (or the first packet on the PID, or after a discontinuity indicator).
    Ok,
    /// Same counter as the previous packet with payload: a permitted duplicate packet.
    Duplicate,
    /// Counter jumped: `expected` was due, `found` came; `missing` packets were lost (mod 16).
    Error {
        expected: u8,
        found: u8,
        missing: u8,
    },
}

/// Tracks the continuity_counter of one PID (13818-1 §2.4.3.3): it increments by one per
/// packet with payload, stays put on adaptation-only packets, may repeat once (duplicate), and
/// restarts freely where discontinuity_indicator is set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ContinuityChecker {
    last: Option<u8>,
    duplicate_seen: bool,
}

impl ContinuityChecker {
    /// Checks `header` (with its adaptation field's discontinuity_indicator) and remembers it.
    pub fn check(&mut self, header: &TsHeader, discontinuity: bool) -> CcCheck {
        let cc = header.continuity_counter & 0x0f;
        if header.pid == PID_NULL {
            return CcCheck::Ok;
        }
        let Some(last) = self.last.filter(|_| !discontinuity) else {
            self.last = Some(cc);
            self.duplicate_seen = false;
            return CcCheck::Ok;
        };
        let has_payload = header.adaptation_field_control.has_payload();
        let expected = if has_payload { (last + 1) & 0x0f } else { last };
        if cc == expected {
            self.last = Some(cc);
            self.duplicate_seen = false;
            return CcCheck::Ok;
        }
        if has_payload && cc == last && !self.duplicate_seen {
            self.duplicate_seen = true;
            return CcCheck::Duplicate;
        }
        self.last = Some(cc);
        self.duplicate_seen = false;
        CcCheck::Error {
            expected,
            found: cc,
            missing: cc.wrapping_sub(expected) & 0x0f,
        }
    }

    /// Forgets the last counter (the next packet starts afresh).
    pub fn reset(&mut self) {
        *self = Self::default();
    }
}

#[cfg(test)]
#[path = "packet_tests.rs"]
mod tests;
