//! Program Association Table and Program Map Table, and the stream_type registry.

use std::fmt;

use super::{Descriptor, PsiSection, TsError, be16};

/// table_id of the PAT.
pub const TABLE_ID_PAT: u8 = 0x00;
/// table_id of the PMT.
pub const TABLE_ID_PMT: u8 = 0x02;

/// One PAT entry: program_number 0 names the network PID (NIT), others a PMT PID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PatProgram {
    /// program_number.
    pub program_number: u16,
    /// network_PID (program 0) or program_map_PID.
    pub pid: u16,
}

/// Program Association Table (one section).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pat {
    /// transport_stream_id.
    pub transport_stream_id: u16,
    /// version_number.
    pub version: u8,
    /// current_next_indicator.
    pub current_next: bool,
    /// section_number.
    pub section_number: u8,
    /// last_section_number.
    pub last_section_number: u8,
    /// The program loop.
    pub programs: Vec<PatProgram>,
}

fn expect_table(s: &PsiSection<'_>, expected: u8) -> Result<(), TsError> {
    if s.table_id != expected {
        return Err(TsError::WrongTable {
            expected,
            found: s.table_id,
        });
    }
    Ok(())
}

impl Pat {
    /// Decodes a complete PAT section (CRC checked).
    pub fn decode(section: &[u8]) -> Result<Self, TsError> {
        let s = PsiSection::decode(section)?;
        expect_table(&s, TABLE_ID_PAT)?;
        if s.body.len() % 4 != 0 {
            return Err(TsError::BadLoop {
                what: "PAT program loop",
                offset: 8,
                length: s.body.len(),
            });
        }
        let programs = s
            .body
            .chunks_exact(4)
            .map(|e| PatProgram {
                program_number: be16(e, 0),
                pid: be16(e, 2) & 0x1fff,
            })
            .collect();
        Ok(Pat {
            transport_stream_id: s.table_id_extension,
            version: s.version,
            current_next: s.current_next,
            section_number: s.section_number,
            last_section_number: s.last_section_number,
            programs,
        })
    }

    /// Writes the section (header, programs, CRC_32).
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), TsError> {
        let mut body = Vec::with_capacity(4 * self.programs.len());
        for p in &self.programs {
            body.extend_from_slice(&p.program_number.to_be_bytes());
            body.extend_from_slice(&(0xe000 | (p.pid & 0x1fff)).to_be_bytes());
        }
        PsiSection {
            table_id: TABLE_ID_PAT,
            private_indicator: false,
            table_id_extension: self.transport_stream_id,
            version: self.version,
            current_next: self.current_next,
            section_number: self.section_number,
            last_section_number: self.last_section_number,
            body: &body,
            crc32: 0,
        }
        .encode(out)
    }

    /// PMT PIDs (entries other than program 0).
    pub fn pmt_pids(&self) -> impl Iterator<Item = u16> + '_ {
        self.programs
            .iter()
            .filter(|p| p.program_number != 0)
            .map(|p| p.pid)
    }
}

/// stream_type of a PMT entry (ISO/IEC 13818-1 Table 2-34 and registered extensions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StreamType(pub u8);

impl StreamType {
    /// 0x01 ISO/IEC 11172-2 (MPEG-1) video.
    pub const MPEG1_VIDEO: Self = Self(0x01);
    /// 0x02 ITU-T H.262 / ISO/IEC 13818-2 (MPEG-2) video.
    pub const MPEG2_VIDEO: Self = Self(0x02);
    /// 0x03 ISO/IEC 11172-3 (MPEG-1) audio, layers I–III (MP3).
    pub const MPEG1_AUDIO: Self = Self(0x03);
    /// 0x04 ISO/IEC 13818-3 (MPEG-2) audio.
    pub const MPEG2_AUDIO: Self = Self(0x04);
    /// 0x05 private sections.
    pub const PRIVATE_SECTIONS: Self = Self(0x05);
    /// 0x06 PES private data (Opus, AC-3 and subtitles in DVB, identified by descriptors).
    pub const PRIVATE_PES: Self = Self(0x06);
    /// 0x0f AAC with ADTS framing.
    pub const AAC_ADTS: Self = Self(0x0f);
    /// 0x10 MPEG-4 Part 2 visual.
    pub const MPEG4_VISUAL: Self = Self(0x10);
    /// 0x11 AAC with LATM framing.
    pub const AAC_LATM: Self = Self(0x11);
    /// 0x15 metadata in PES (e.g. ID3 timed metadata).
    pub const METADATA_PES: Self = Self(0x15);
    /// 0x1b H.264 / AVC.
    pub const H264: Self = Self(0x1b);
    /// 0x24 H.265 / HEVC.
    pub const HEVC: Self = Self(0x24);
    /// 0x33 H.266 / VVC.
    pub const VVC: Self = Self(0x33);
    /// 0x81 AC-3 (ATSC).
    pub const AC3: Self = Self(0x81);
    /// 0x86 SCTE-35 splice information.
    pub const SCTE35: Self = Self(0x86);
    /// 0x87 E-AC-3 (ATSC).
    pub const EAC3: Self = Self(0x87);

    /// A short name for the stream type alone ("H.264", "AAC (ADTS)", "private PES", …).
    pub fn name(self) -> &'static str {
        match self.0 {
            0x01 => "MPEG-1 video",
            0x02 => "MPEG-2 video",
            0x03 => "MPEG-1 audio (MP3)",
            0x04 => "MPEG-2 audio (MP3)",
            0x05 => "private sections",
            0x06 => "private PES",
            0x0f => "AAC (ADTS)",
            0x10 => "MPEG-4 visual",
            0x11 => "AAC (LATM)",
            0x15 => "metadata (PES)",
            0x1b => "H.264",
            0x24 => "HEVC",
            0x33 => "VVC",
            0x81 => "AC-3",
            0x86 => "SCTE-35",
            0x87 => "E-AC-3",
            0x00 => "reserved",
            0x80..=0xff => "user private",
            _ => "other",
        }
    }

    /// The codec, refined by the ES_info descriptors where the stream type alone says only
    /// "private" (registration "Opus"/"AC-3"/"EAC3"/"HEVC", DVB AC-3/E-AC-3/subtitle tags).
    pub fn codec_name(self, es_info: &[u8]) -> &'static str {
        if self.0 == 0x06 || self.0 >= 0x80 {
            for d in Descriptor::iter(es_info).flatten() {
                match (d.registration().as_ref(), d.tag) {
                    (Some(b"Opus"), _) => return "Opus",
                    (Some(b"AC-3"), _) | (None, 0x6a) => return "AC-3",
                    (Some(b"EAC3"), _) | (None, 0x7a) => return "E-AC-3",
                    (Some(b"HEVC"), _) => return "HEVC",
                    (Some(b"ID3 "), _) => return "ID3",
                    (None, 0x59) => return "DVB subtitles",
                    (None, 0x56) => return "teletext",
                    (None, 0x7f) if d.data.first() == Some(&0x80) => return "Opus",
                    _ => {}
                }
            }
        }
        self.name()
    }

    /// Whether this type carries video.
    pub fn is_video(self) -> bool {
        matches!(self.0, 0x01 | 0x02 | 0x10 | 0x1b | 0x24 | 0x33)
    }

    /// Whether this type carries audio.
    pub fn is_audio(self) -> bool {
        matches!(self.0, 0x03 | 0x04 | 0x0f | 0x11 | 0x81 | 0x87)
    }
}

impl fmt::Display for StreamType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:02x} {}", self.0, self.name())
    }
}

/// One elementary stream of a PMT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PmtStream {
    /// stream_type.
    pub stream_type: StreamType,
    /// elementary_PID.
    pub pid: u16,
    /// ES_info descriptors, raw (iterate with [`Descriptor::iter`]).
    pub es_info: Vec<u8>,
}

impl PmtStream {
    /// The codec name, using descriptors where needed.
    pub fn codec_name(&self) -> &'static str {
        self.stream_type.codec_name(&self.es_info)
    }
}

/// Program Map Table (one section).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pmt {
    /// program_number.
    pub program_number: u16,
    /// version_number.
    pub version: u8,
    /// current_next_indicator.
    pub current_next: bool,
    /// section_number.
    pub section_number: u8,
    /// last_section_number.
    pub last_section_number: u8,
    /// PCR_PID (0x1FFF: no PCR).
    pub pcr_pid: u16,
    /// Program info descriptors, raw.
    pub program_info: Vec<u8>,
    /// The elementary stream loop.
    pub streams: Vec<PmtStream>,
}

impl Pmt {
    /// Decodes a complete PMT section (CRC checked).
    pub fn decode(section: &[u8]) -> Result<Self, TsError> {
        let s = PsiSection::decode(section)?;
        expect_table(&s, TABLE_ID_PMT)?;
        let b = s.body;
        let fixed = super::take(b, 0, 4, "PMT PCR_PID and program_info_length")?;
        let pcr_pid = be16(fixed, 0) & 0x1fff;
        let info_len = usize::from(be16(fixed, 2) & 0x0fff);
        let program_info = super::take(b, 4, info_len, "PMT program_info")?.to_vec();
        let mut pos = 4 + info_len;
        let mut streams = Vec::new();
        while pos < b.len() {
            let e = super::take(b, pos, 5, "PMT stream entry")?;
            let es_len = usize::from(be16(e, 3) & 0x0fff);
            let es_info = super::take(b, pos + 5, es_len, "PMT ES_info")?.to_vec();
            streams.push(PmtStream {
                stream_type: StreamType(e[0]),
                pid: be16(e, 1) & 0x1fff,
                es_info,
            });
            pos += 5 + es_len;
        }
        Ok(Pmt {
            program_number: s.table_id_extension,
            version: s.version,
            current_next: s.current_next,
            section_number: s.section_number,
            last_section_number: s.last_section_number,
            pcr_pid,
            program_info,
            streams,
        })
    }

    /// Writes the section (header, PCR_PID, descriptors, streams, CRC_32).
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), TsError> {
        let too_long = |what, n: usize| TsError::FieldOverflow {
            what,
            value: n as u64,
        };
        if self.program_info.len() > 0x0fff {
            return Err(too_long("program_info_length", self.program_info.len()));
        }
        let mut body = Vec::with_capacity(4 + self.program_info.len() + 5 * self.streams.len());
        body.extend_from_slice(&(0xe000 | (self.pcr_pid & 0x1fff)).to_be_bytes());
        body.extend_from_slice(&(0xf000 | self.program_info.len() as u16).to_be_bytes());
        body.extend_from_slice(&self.program_info);
        for s in &self.streams {
            if s.es_info.len() > 0x0fff {
                return Err(too_long("ES_info_length", s.es_info.len()));
            }
            body.push(s.stream_type.0);
            body.extend_from_slice(&(0xe000 | (s.pid & 0x1fff)).to_be_bytes());
            body.extend_from_slice(&(0xf000 | s.es_info.len() as u16).to_be_bytes());
            body.extend_from_slice(&s.es_info);
        }
        PsiSection {
            table_id: TABLE_ID_PMT,
            private_indicator: false,
            table_id_extension: self.program_number,
            version: self.version,
            current_next: self.current_next,
            section_number: self.section_number,
            last_section_number: self.last_section_number,
            body: &body,
            crc32: 0,
        }
        .encode(out)
    }
}
