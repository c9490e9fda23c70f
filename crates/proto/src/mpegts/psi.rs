//! PSI sections: assembly across packets (pointer_field), the long-form section header with
//! CRC-32, descriptors, and splitting a section into packets for a muxer.

use super::{
    AdaptationFieldControl, TS_PACKET_SIZE, TsError, TsHeader, be16, be32, crc32_mpeg2, take,
};

/// Longest section: section_length is 12 bits, at most 4093 for private sections
/// (1021 for PAT/PMT), plus the 3 bytes before it.
const MAX_SECTION: usize = 4096;

/// Collects the sections of one PID from consecutive packet payloads.
///
/// A section may span packets and several may share one; the first section starting in a
/// packet is found through its pointer_field. Memory is bounded by one section (4 KiB).
#[derive(Debug, Clone, Default)]
pub struct SectionAssembler {
    buf: Vec<u8>,
    collecting: bool,
}

impl SectionAssembler {
    /// An empty assembler.
    pub fn new() -> Self {
        Self::default()
    }

    /// Drops a partly collected section (call after a continuity error on the PID).
    pub fn reset(&mut self) {
        self.buf.clear();
        self.collecting = false;
    }

    /// Feeds one packet payload. Each complete section (header to CRC inclusive, not yet
    /// CRC-checked) is passed to `on_section`; malformed framing is reported through it too.
    pub fn push(
        &mut self,
        payload_unit_start: bool,
        payload: &[u8],
        mut on_section: impl FnMut(Result<&[u8], TsError>),
    ) {
        if payload_unit_start {
            let Some((&pointer, after)) = payload.split_first() else {
                self.reset();
                return;
            };
            let pointer = usize::from(pointer);
            if pointer > after.len() {
                self.reset();
                on_section(Err(TsError::BadPointer {
                    pointer: pointer as u8,
                    available: after.len(),
                }));
                return;
            }
            if self.collecting {
                self.append(&after[..pointer], false, &mut on_section);
            }
            if let Some(total) = self.section_len().filter(|_| !self.buf.is_empty()) {
                // The previous section was cut short (packets lost): report and drop it.
                on_section(Err(TsError::Truncated {
                    what: "section (next section started)",
                    offset: self.buf.len(),
                    needed: total,
                    available: self.buf.len(),
                }));
            }
            self.reset();
            let rest = &after[pointer..];
            self.collecting = true;
            self.append(rest, true, &mut on_section);
        } else if self.collecting {
            self.append(payload, false, &mut on_section);
        }
    }

    /// Appends bytes to the section being collected. A new section may start after a complete
    /// one only in a packet with payload_unit_start set (`may_start`); elsewhere the rest of
    /// the packet is stuffing.
    fn append(
        &mut self,
        mut data: &[u8],
        may_start: bool,
        on_section: &mut impl FnMut(Result<&[u8], TsError>),
    ) {
        while self.collecting && !data.is_empty() {
            if self.buf.is_empty() && (data[0] == 0xff || !may_start) {
                self.collecting = false;
                return;
            }
            // Complete the 3-byte header first, then the body.
            let target = self.section_len().unwrap_or(3);
            let want = target.saturating_sub(self.buf.len());
            let n = want.min(data.len());
            self.buf.extend_from_slice(&data[..n]);
            data = &data[n..];
            match self.section_len() {
                Some(total) if total > MAX_SECTION => {
                    on_section(Err(TsError::SectionTooLong {
                        table_id: self.buf[0],
                        length: total - 3,
                        max: MAX_SECTION - 3,
                    }));
                    self.reset();
                    return;
                }
                Some(total) if self.buf.len() == total => {
                    on_section(Ok(&self.buf));
                    self.buf.clear();
                }
                _ => {}
            }
        }
    }

    fn section_len(&self) -> Option<usize> {
        let b = self.buf.get(..3)?;
        Some(3 + usize::from(be16(b, 1) & 0x0fff))
    }
}

/// A long-form (section_syntax_indicator = 1) PSI section with its CRC checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PsiSection<'a> {
    /// table_id (0x00 PAT, 0x02 PMT, …).
    pub table_id: u8,
    /// The bit after section_syntax_indicator ('0' in PAT/PMT, private_indicator elsewhere).
    pub private_indicator: bool,
    /// transport_stream_id (PAT), program_number (PMT), or table-specific.
    pub table_id_extension: u16,
    /// version_number, 5 bits.
    pub version: u8,
    /// current_next_indicator.
    pub current_next: bool,
    /// section_number.
    pub section_number: u8,
    /// last_section_number.
    pub last_section_number: u8,
    /// Table-specific bytes between the header and the CRC.
    pub body: &'a [u8],
    /// The CRC_32 field (equal to the computed CRC when decoding succeeded).
    pub crc32: u32,
}

impl<'a> PsiSection<'a> {
    /// Decodes a complete section as produced by [`SectionAssembler`], checking its CRC.
    pub fn decode(section: &'a [u8]) -> Result<Self, TsError> {
        let h = take(section, 0, 3, "section header")?;
        let table_id = h[0];
        if h[1] & 0x80 == 0 {
            return Err(TsError::NotLongForm { table_id });
        }
        let length = usize::from(be16(h, 1) & 0x0fff);
        let all = take(section, 0, 3 + length, "section")?;
        if length < 9 {
            return Err(TsError::Truncated {
                what: "long-form section",
                offset: 3,
                needed: 9,
                available: length,
            });
        }
        let crc_at = all.len() - 4;
        let found = be32(all, crc_at);
        let computed = crc32_mpeg2(&all[..crc_at]);
        if found != computed {
            return Err(TsError::CrcMismatch {
                table_id,
                found,
                computed,
            });
        }
        Ok(PsiSection {
            table_id,
            private_indicator: h[1] & 0x40 != 0,
            table_id_extension: be16(all, 3),
            version: (all[5] >> 1) & 0x1f,
            current_next: all[5] & 1 != 0,
            section_number: all[6],
            last_section_number: all[7],
            body: &all[8..crc_at],
            crc32: found,
        })
    }

    /// Writes the section: header, body, CRC_32. Reserved bits are set to 1.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), TsError> {
        let length = 5 + self.body.len() + 4;
        if length > MAX_SECTION - 3 {
            return Err(TsError::SectionTooLong {
                table_id: self.table_id,
                length,
                max: MAX_SECTION - 3,
            });
        }
        let start = out.len();
        out.push(self.table_id);
        out.push(0x80 | (u8::from(self.private_indicator) << 6) | 0x30 | (length >> 8) as u8);
        out.push(length as u8);
        out.extend_from_slice(&self.table_id_extension.to_be_bytes());
        out.push(0xc0 | ((self.version & 0x1f) << 1) | u8::from(self.current_next));
        out.push(self.section_number);
        out.push(self.last_section_number);
        out.extend_from_slice(self.body);
        let crc = crc32_mpeg2(&out[start..]);
        out.extend_from_slice(&crc.to_be_bytes());
        Ok(())
    }
}

/// One descriptor (tag, length, data) from a descriptor loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Descriptor<'a> {
    /// descriptor_tag (e.g. 0x05 registration, 0x0a ISO 639 language).
    pub tag: u8,
    /// The descriptor's bytes after its length.
    pub data: &'a [u8],
}

impl<'a> Descriptor<'a> {
    /// Iterates a descriptor loop.
    pub fn iter(buf: &'a [u8]) -> DescriptorIter<'a> {
        DescriptorIter { buf, pos: 0 }
    }

    /// Appends tag, length and data.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), TsError> {
        let len = u8::try_from(self.data.len()).map_err(|_| TsError::FieldOverflow {
            what: "descriptor_length",
            value: self.data.len() as u64,
        })?;
        out.push(self.tag);
        out.push(len);
        out.extend_from_slice(self.data);
        Ok(())
    }

    /// The format_identifier of a registration descriptor (tag 0x05), e.g. `*b"Opus"`.
    pub fn registration(&self) -> Option<[u8; 4]> {
        match (self.tag, self.data.get(..4)) {
            (0x05, Some(id)) => Some([id[0], id[1], id[2], id[3]]),
            _ => None,
        }
    }
}

/// Iterator over a descriptor loop; yields an error (once) where a length overruns the loop.
#[derive(Debug, Clone)]
pub struct DescriptorIter<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for DescriptorIter<'a> {
    type Item = Result<Descriptor<'a>, TsError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.buf.len() {
            return None;
        }
        let res = take(self.buf, self.pos, 2, "descriptor header").and_then(|h| {
            let (tag, len) = (h[0], usize::from(h[1]));
            let data = take(self.buf, self.pos + 2, len, "descriptor")?;
            Ok((Descriptor { tag, data }, 2 + len))
        });
        match res {
            Ok((d, used)) => {
                self.pos += used;
                Some(Ok(d))
            }
            Err(e) => {
                self.pos = self.buf.len();
                Some(Err(e))
            }
        }
    }
}

/// Splits one section into packets on `pid` (pointer_field 0, the last packet padded with
/// 0xFF), advancing `continuity_counter` per packet. Returns the number of packets written.
pub fn packetize_section(
    pid: u16,
    section: &[u8],
    continuity_counter: &mut u8,
    out: &mut Vec<u8>,
) -> usize {
    let mut rest = section;
    let mut first = true;
    let mut count = 0;
    while first || !rest.is_empty() {
        let header = TsHeader {
            transport_error: false,
            payload_unit_start: first,
            transport_priority: false,
            pid,
            scrambling_control: 0,
            adaptation_field_control: AdaptationFieldControl::PayloadOnly,
            continuity_counter: *continuity_counter & 0x0f,
        };
        *continuity_counter = (*continuity_counter + 1) & 0x0f;
        let start = out.len();
        out.extend_from_slice(&header.encode());
        if first {
            out.push(0);
        }
        let room = TS_PACKET_SIZE - (out.len() - start);
        let n = room.min(rest.len());
        out.extend_from_slice(&rest[..n]);
        rest = &rest[n..];
        out.resize(start + TS_PACKET_SIZE, 0xff);
        first = false;
        count += 1;
    }
    count
}

#[cfg(test)]
#[path = "psi_tests.rs"]
mod tests;
