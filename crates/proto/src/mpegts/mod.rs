//! MPEG-2 transport stream (ISO/IEC 13818-1): 188-byte packets, adaptation fields and PCR,
//! PSI sections (PAT, PMT) with CRC-32, PES headers, and per-PID reassembly.
//!
//! Every wire type has `decode` and `encode` side by side so that the demuxer used by the
//! dissector and the muxer used for HLS and RTP output share one definition of the format.
//!
//! | file | what it holds |
//! |---|---|
//! | `packet` | [`TsHeader`], [`AdaptationField`], [`Pcr`], [`TsPacket`], [`encode_packet`], [`ContinuityChecker`] |
//! | `psi` | [`SectionAssembler`], [`PsiSection`], [`Descriptor`], [`packetize_section`] |
//! | `tables` | [`Pat`], [`Pmt`], [`StreamType`] |
//! | `pes` | [`PesHeader`], [`PesAssembler`] |
//! | `crc` | [`crc32_mpeg2`] |
//! | `mux` | [`TsMuxer`]: FLV audio/video payloads in, packets out (HLS, RTP/UDP outputs) |

mod crc;
mod mux;
mod mux_es;
mod packet;
mod pes;
mod psi;
mod tables;

pub use crc::crc32_mpeg2;
pub use mux::{MuxError, TsMuxer, TsMuxerConfig, TsTrack, TsUnit};
pub use packet::{
    AdaptationField, AdaptationFieldControl, CcCheck, ContinuityChecker, Pcr, TsHeader, TsPacket,
    encode_packet,
};
pub use pes::{PesAssembler, PesHeader, PesOptionalHeader, PesUnit, stream_id};
pub use psi::{Descriptor, DescriptorIter, PsiSection, SectionAssembler, packetize_section};
pub use tables::{Pat, PatProgram, Pmt, PmtStream, StreamType};

use thiserror::Error;

/// Size of one transport stream packet.
pub const TS_PACKET_SIZE: usize = 188;
/// The byte every packet starts with.
pub const SYNC_BYTE: u8 = 0x47;
/// PID of the Program Association Table.
pub const PID_PAT: u16 = 0x0000;
/// PID of null (stuffing) packets.
pub const PID_NULL: u16 = 0x1FFF;
/// Largest PID (13 bits).
pub const PID_MAX: u16 = 0x1FFF;
/// PCR and PTS/DTS base wrap around at 2^33.
pub const TIMESTAMP_MODULUS: u64 = 1 << 33;

/// Malformed or unencodable transport stream data. Offsets count from the start of the buffer
/// handed to the failing function.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TsError {
    /// Fewer bytes than the structure needs.
    #[error("{what} truncated at offset {offset}: {needed} bytes needed, {available} available")]
    Truncated {
        what: &'static str,
        offset: usize,
        needed: usize,
        available: usize,
    },
    /// The first byte of a packet is not 0x47.
    #[error("sync byte 0x{found:02x} instead of 0x47")]
    SyncLost { found: u8 },
    /// adaptation_field_length too large for the packet or for its adaptation_field_control.
    #[error("adaptation_field_length {length} invalid with adaptation_field_control {control}")]
    BadAdaptationLength { length: u8, control: u8 },
    /// A length inside the adaptation field runs past the field's end.
    #[error("adaptation field: {what} at offset {offset} runs past the field's end")]
    AdaptationOverrun { what: &'static str, offset: usize },
    /// pointer_field points past the end of the packet payload.
    #[error("pointer_field {pointer} points past the {available}-byte payload")]
    BadPointer { pointer: u8, available: usize },
    /// section_length beyond the format's maximum.
    #[error("section_length {length} exceeds the maximum {max} for table 0x{table_id:02x}")]
    SectionTooLong {
        table_id: u8,
        length: usize,
        max: usize,
    },
    /// A section whose CRC_32 does not match its contents.
    #[error("table 0x{table_id:02x}: CRC_32 0x{found:08x} in section, 0x{computed:08x} computed")]
    CrcMismatch {
        table_id: u8,
        found: u32,
        computed: u32,
    },
    /// A section that is not in long (syntax indicator = 1) form where one is required.
    #[error("table 0x{table_id:02x}: section_syntax_indicator is 0, long form required")]
    NotLongForm { table_id: u8 },
    /// A table id other than the one being decoded.
    #[error("table_id 0x{found:02x} where 0x{expected:02x} was expected")]
    WrongTable { expected: u8, found: u8 },
    /// A loop in a table whose entries do not fit its length exactly.
    #[error("{what}: loop of {length} bytes at offset {offset} does not hold whole entries")]
    BadLoop {
        what: &'static str,
        offset: usize,
        length: usize,
    },
    /// A PES packet not starting with 00 00 01.
    #[error("PES start code {found:06x} instead of 000001")]
    BadStartCode { found: u32 },
    /// A PES header whose PES_header_data_length is shorter than its flagged fields.
    #[error("PES header data length {length} shorter than the {needed} bytes its flags announce")]
    PesHeaderTooShort { length: u8, needed: usize },
    /// A PES packet exceeding the reassembly limit.
    #[error("PES packet on PID {pid} exceeds the {limit}-byte reassembly limit")]
    PesTooLong { pid: u16, limit: usize },
    /// A field value that does not fit its encoded width.
    #[error("{what} value {value} does not fit in the field")]
    FieldOverflow { what: &'static str, value: u64 },
    /// Adaptation field fields that do not fit in one packet.
    #[error("adaptation field of {length} bytes does not fit in a packet")]
    AdaptationTooLong { length: usize },
}

pub(crate) fn truncated(what: &'static str, offset: usize, needed: usize, len: usize) -> TsError {
    TsError::Truncated {
        what,
        offset,
        needed,
        available: len.saturating_sub(offset),
    }
}

/// Returns `buf[at..at + n]` or a [`TsError::Truncated`] naming `what`.
pub(crate) fn take<'a>(
    buf: &'a [u8],
    at: usize,
    n: usize,
    what: &'static str,
) -> Result<&'a [u8], TsError> {
    buf.get(at..at.saturating_add(n))
        .ok_or_else(|| truncated(what, at, n, buf.len()))
}

pub(crate) fn be16(b: &[u8], at: usize) -> u16 {
    match b.get(at..at + 2) {
        Some(s) => u16::from_be_bytes([s[0], s[1]]),
        None => 0,
    }
}

pub(crate) fn be32(b: &[u8], at: usize) -> u32 {
    match b.get(at..at + 4) {
        Some(s) => u32::from_be_bytes([s[0], s[1], s[2], s[3]]),
        None => 0,
    }
}
