//! The capture reader's data types: packets, times, link types, errors.

use std::fmt;

use thiserror::Error;

/// A packet time: seconds and nanoseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    /// Whole seconds.
    pub secs: i64,
    /// Nanoseconds, 0..1e9.
    pub nanos: u32,
}

impl Timestamp {
    /// Nanoseconds since the epoch.
    pub fn as_nanos(self) -> i128 {
        i128::from(self.secs) * 1_000_000_000 + i128::from(self.nanos)
    }
    /// Seconds as a float (for rates and display).
    pub fn as_secs_f64(self) -> f64 {
        self.secs as f64 + f64::from(self.nanos) / 1e9
    }
    pub(crate) fn from_units(units: u64, per_second: u64, offset_secs: i64) -> Self {
        let per_second = per_second.max(1);
        let frac = u128::from(units % per_second) * 1_000_000_000 / u128::from(per_second);
        Timestamp {
            secs: offset_secs.saturating_add((units / per_second) as i64),
            nanos: frac as u32,
        }
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:09}", self.secs, self.nanos)
    }
}

/// A link-layer header type (LINKTYPE_* value).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LinkType(pub u16);

impl LinkType {
    /// BSD loopback: 4-byte address family in host byte order.
    pub const NULL: Self = Self(0);
    /// Ethernet II / 802.3.
    pub const ETHERNET: Self = Self(1);
    /// Raw IP (DLT_RAW on most systems).
    pub const RAW_12: Self = Self(12);
    /// Raw IP (DLT_RAW on OpenBSD).
    pub const RAW_14: Self = Self(14);
    /// Raw IPv4 or IPv6 (LINKTYPE_RAW).
    pub const RAW: Self = Self(101);
    /// OpenBSD loopback: 4-byte address family, big-endian.
    pub const LOOP: Self = Self(108);
    /// Linux cooked capture v1 (`any` device).
    pub const LINUX_SLL: Self = Self(113);
    /// Raw IPv4.
    pub const IPV4: Self = Self(228);
    /// Raw IPv6.
    pub const IPV6: Self = Self(229);
    /// Linux cooked capture v2.
    pub const LINUX_SLL2: Self = Self(276);
}

/// Which file format the reader found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureFormat {
    /// Classic pcap.
    Pcap {
        /// Timestamps in nanoseconds (magic 0xa1b23c4d).
        nanosecond: bool,
    },
    /// pcapng.
    PcapNg,
}

/// One captured packet, borrowing the reader's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<'a> {
    /// 1-based frame number (count of packet records so far).
    pub frame: u64,
    /// Capture time.
    pub timestamp: Timestamp,
    /// Bytes captured (`data.len()`).
    pub captured_len: u32,
    /// Bytes on the wire (larger than `captured_len` when the snap length cut the packet).
    pub original_len: u32,
    /// Link-layer type of `data`.
    pub link_type: LinkType,
    /// pcapng interface id (0 for pcap).
    pub interface: u32,
    /// The captured bytes, link-layer header first.
    pub data: &'a [u8],
}

/// What was wrong with the capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaptureErrorKind {
    /// Reading the input failed.
    Io(String),
    /// The input is empty.
    Empty,
    /// The input starts with neither a pcap nor a pcapng header.
    NotACapture { magic: [u8; 4] },
    /// The input ends inside a record (a truncated file).
    Truncated { bytes_left: usize },
    /// A record longer than this reader accepts.
    RecordTooLarge { length: u64, limit: usize },
    /// A pcapng block that cannot be parsed; `block_type` as read.
    BadBlock { block_type: u32, length: u32 },
    /// A pcap record that cannot be parsed.
    BadRecord,
    /// A packet block names an interface no description block introduced.
    UnknownInterface { id: u32 },
    /// A packet before any interface description.
    NoInterface,
}

impl fmt::Display for CaptureErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "read error: {e}"),
            Self::Empty => write!(f, "the input is empty"),
            Self::NotACapture { magic } => write!(
                f,
                "not a pcap or pcapng file (starts with {:02x}{:02x}{:02x}{:02x})",
                magic[0], magic[1], magic[2], magic[3]
            ),
            Self::Truncated { bytes_left } => write!(
                f,
                "the file ends inside a record ({bytes_left} bytes of it present): truncated capture"
            ),
            Self::RecordTooLarge { length, limit } => {
                write!(f, "record of {length} bytes exceeds the {limit}-byte limit")
            }
            Self::BadBlock { block_type, length } => write!(
                f,
                "malformed pcapng block (type 0x{block_type:08x}, length {length})"
            ),
            Self::BadRecord => write!(f, "malformed pcap record header"),
            Self::UnknownInterface { id } => {
                write!(f, "packet names interface {id}, which was not described")
            }
            Self::NoInterface => write!(f, "packet before any interface description block"),
        }
    }
}

/// A capture problem: where (frame number, file offset) and what. After a `fatal` error
/// the reader returns no more packets; otherwise reading continues with the next record.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("frame {frame} (file offset {offset}): {kind}")]
pub struct CaptureError {
    /// The frame the record would have been (last good frame + 1).
    pub frame: u64,
    /// Byte offset of the record in the input.
    pub offset: u64,
    /// What was wrong.
    pub kind: CaptureErrorKind,
    /// No more packets can be read.
    pub fatal: bool,
}
