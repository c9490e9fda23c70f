//! Capture file input: pcap (micro- and nanosecond, either byte order) and pcapng, read
//! as a stream with constant memory from any `Read` (a file, stdin).
//!
//! [`CaptureReader::next_packet`] lends each packet's bytes straight from the read buffer;
//! nothing is allocated per packet. Frame numbers count packets from 1, as Wireshark does.
//! [`CaptureReader::with_read_thread`] reads on a second thread, so that reading (the
//! kernel's copy of every byte) overlaps the decoding instead of adding to it.

mod types;
mod window;

use std::io::{self, Read};
use std::sync::{Arc, Mutex};

use pcap_parser::traits::PcapReaderIterator;
use pcap_parser::{Block, PcapBlockOwned, PcapError};

use window::WindowReader;

pub use types::{CaptureError, CaptureErrorKind, CaptureFormat, LinkType, Packet, Timestamp};

/// Initial read buffer; grown (up to [`MAX_RECORD`] · 2) when a record does not fit. Small
/// enough to stay in the CPU cache between the read and the parse (a 1 MiB buffer made the
/// kernel copy alone slower than `cat`).
const BUFFER_SIZE: usize = 256 << 10;
/// Largest record accepted (Wireshark's own limit for most link types is 256 KiB).
pub const MAX_RECORD: usize = 16 << 20;
/// Most bytes read to find the end of a pcapng section header block.
const MAX_SHB: usize = 64 << 10;

#[derive(Debug, Clone, Copy)]
struct Interface {
    link_type: LinkType,
    units_per_second: u64,
    offset_secs: i64,
    snaplen: u32,
}

/// Streaming reader of pcap and pcapng captures.
pub struct CaptureReader<'r> {
    reader: WindowReader<'r>,
    format: CaptureFormat,
    interfaces: Vec<Interface>,
    legacy: Option<Interface>,
    pending_consume: usize,
    offset: u64,
    frame: u64,
    buffer_size: usize,
    big_endian: bool,
    done: bool,
    last_io_error: Arc<Mutex<Option<String>>>,
}

/// Reads until `buf` has `n` bytes or the input ends.
fn fill(r: &mut impl Read, buf: &mut Vec<u8>, n: usize) -> io::Result<()> {
    while buf.len() < n {
        let start = buf.len();
        buf.resize(n, 0);
        match r.read(&mut buf[start..]) {
            Ok(0) => {
                buf.truncate(start);
                return Ok(());
            }
            Ok(k) => buf.truncate(start + k),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => buf.truncate(start),
            Err(e) => {
                buf.truncate(start);
                return Err(e);
            }
        }
    }
    Ok(())
}

/// The start of a capture: the first block read whole, and what it says.
struct Head {
    prefix: Vec<u8>,
    format: CaptureFormat,
    big_endian: bool,
    magic: [u8; 4],
    header_len: usize,
}

impl Head {
    fn read(input: &mut impl Read) -> Result<Head, CaptureError> {
        let err = |kind| CaptureError {
            frame: 1,
            offset: 0,
            kind,
            fatal: true,
        };
        // The format is detected from the whole first block (file or section header), so
        // read all of it up front: a pipe may deliver it in pieces.
        let mut prefix = Vec::with_capacity(256);
        fill(input, &mut prefix, 12).map_err(|e| err(CaptureErrorKind::Io(e.to_string())))?;
        if prefix.is_empty() {
            return Err(err(CaptureErrorKind::Empty));
        }
        let magic = [
            prefix.first().copied().unwrap_or(0),
            prefix.get(1).copied().unwrap_or(0),
            prefix.get(2).copied().unwrap_or(0),
            prefix.get(3).copied().unwrap_or(0),
        ];
        let format = match u32::from_le_bytes(magic) {
            0x0a0d_0d0a => CaptureFormat::PcapNg,
            0xa1b2_c3d4 | 0xd4c3_b2a1 | 0xa1b2_cd34 | 0x34cd_b2a1 => {
                CaptureFormat::Pcap { nanosecond: false }
            }
            0xa1b2_3c4d | 0x4d3c_b2a1 => CaptureFormat::Pcap { nanosecond: true },
            _ => return Err(err(CaptureErrorKind::NotACapture { magic })),
        };
        let big_endian = match format {
            CaptureFormat::PcapNg => prefix.get(8..12) == Some(&[0x1a, 0x2b, 0x3c, 0x4d][..]),
            CaptureFormat::Pcap { .. } => magic[0] == 0xa1,
        };
        let header_len = match format {
            CaptureFormat::PcapNg => {
                let bom = prefix.get(8..12).unwrap_or(&[0; 4]);
                let len_bytes = prefix
                    .get(4..8)
                    .map_or([0; 4], |b| [b[0], b[1], b[2], b[3]]);
                let len = if bom == [0x1a, 0x2b, 0x3c, 0x4d] {
                    u32::from_be_bytes(len_bytes)
                } else {
                    u32::from_le_bytes(len_bytes)
                } as usize;
                if len > MAX_SHB {
                    return Err(err(CaptureErrorKind::RecordTooLarge {
                        length: len as u64,
                        limit: MAX_SHB,
                    }));
                }
                len
            }
            CaptureFormat::Pcap { .. } => 24,
        };
        fill(input, &mut prefix, header_len)
            .map_err(|e| err(CaptureErrorKind::Io(e.to_string())))?;
        if prefix.len() < header_len {
            return Err(err(CaptureErrorKind::Truncated {
                bytes_left: prefix.len(),
            }));
        }
        Ok(Head {
            prefix,
            format,
            big_endian,
            magic,
            header_len,
        })
    }
}

impl<'r> CaptureReader<'r> {
    /// Opens a capture, detecting pcap or pcapng from its first bytes.
    pub fn new<R: Read + Send + 'r>(mut input: R) -> Result<Self, CaptureError> {
        let mut head = Head::read(&mut input)?;
        let last_io_error: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
        let prefix = std::mem::take(&mut head.prefix);
        let reader = WindowReader::inline(prefix, input, BUFFER_SIZE, last_io_error.clone());
        Self::with(head, reader, last_io_error)
    }

    /// As [`new`](Self::new), with the input read ahead on a thread of its own (in blocks of
    /// 256 KiB, a few blocks ahead): on a machine with a core to spare the decoding no longer
    /// waits for reads. The thread ends with the input, or when the reader is dropped.
    pub fn with_read_thread<R: Read + Send + 'static>(mut input: R) -> Result<Self, CaptureError> {
        let mut head = Head::read(&mut input)?;
        let last_io_error: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
        let prefix = std::mem::take(&mut head.prefix);
        let reader = WindowReader::threaded(prefix, input, BUFFER_SIZE, last_io_error.clone());
        Self::with(head, reader, last_io_error)
    }

    fn with(
        head: Head,
        reader: Result<WindowReader<'r>, PcapError<&'static [u8]>>,
        last_io_error: Arc<Mutex<Option<String>>>,
    ) -> Result<Self, CaptureError> {
        let Head {
            format,
            big_endian,
            magic,
            header_len,
            ..
        } = head;
        let err = |kind| CaptureError {
            frame: 1,
            offset: 0,
            kind,
            fatal: true,
        };
        let reader = reader.map_err(|e| {
            err(match e {
                PcapError::Eof => CaptureErrorKind::Empty,
                PcapError::ReadError => CaptureErrorKind::Io(
                    last_io_error
                        .lock()
                        .ok()
                        .and_then(|l| l.clone())
                        .unwrap_or_else(|| "read failed".into()),
                ),
                PcapError::HeaderNotRecognized => CaptureErrorKind::NotACapture { magic },
                _ => CaptureErrorKind::BadBlock {
                    block_type: u32::from_le_bytes(magic),
                    length: header_len as u32,
                },
            })
        })?;
        Ok(CaptureReader {
            reader,
            format,
            interfaces: Vec::new(),
            legacy: None,
            pending_consume: 0,
            offset: 0,
            frame: 0,
            buffer_size: BUFFER_SIZE,
            big_endian,
            done: false,
            last_io_error,
        })
    }

    /// The detected file format.
    pub fn format(&self) -> CaptureFormat {
        self.format
    }

    /// Bytes of input consumed so far (records fully read).
    pub fn offset(&self) -> u64 {
        self.offset + self.pending_consume as u64
    }

    /// Number of packets returned so far (the last frame number).
    pub fn frames(&self) -> u64 {
        self.frame
    }

    fn error(&mut self, kind: CaptureErrorKind, fatal: bool) -> CaptureError {
        if fatal {
            self.done = true;
        }
        CaptureError {
            frame: self.frame + 1,
            offset: self.offset,
            kind,
            fatal,
        }
    }

    /// The next packet, `Ok(None)` at the end of the input (or after a fatal error).
    pub fn next_packet(&mut self) -> Result<Option<Packet<'_>>, CaptureError> {
        loop {
            if self.pending_consume > 0 {
                // No shift here: refill moves the unread rest once, when it must.
                self.reader.consume_noshift(self.pending_consume);
                self.offset += self.pending_consume as u64;
                self.pending_consume = 0;
            }
            if self.done {
                return Ok(None);
            }
            if let Some(length) = self.implausible_block_length() {
                let block_type = self.u32_at(self.reader.data(), 0).unwrap_or(0);
                let kind = CaptureErrorKind::BadBlock { block_type, length };
                return Err(self.error(kind, true));
            }
            let base = self.reader.data().as_ptr() as usize;
            let step = match self.reader.next() {
                Ok((len, block)) => {
                    self.pending_consume = len;
                    Step::from_block(block, base)
                }
                Err(PcapError::Eof) => Step::Eof,
                Err(PcapError::Incomplete(_)) => Step::Refill,
                Err(PcapError::UnexpectedEof) => Step::Truncated,
                Err(PcapError::BufferTooSmall) => Step::Grow,
                Err(PcapError::ReadError) => Step::ReadError,
                Err(_) => Step::Malformed,
            };
            match step {
                Step::Skip => continue,
                Step::Eof => {
                    self.done = true;
                    return Ok(None);
                }
                Step::Refill => {
                    if self.reader.refill().is_err() {
                        let msg = self.io_message();
                        return Err(self.error(CaptureErrorKind::Io(msg), true));
                    }
                }
                Step::ReadError => {
                    let msg = self.io_message();
                    return Err(self.error(CaptureErrorKind::Io(msg), true));
                }
                Step::Truncated => {
                    let bytes_left = self.reader.data().len();
                    return Err(self.error(CaptureErrorKind::Truncated { bytes_left }, true));
                }
                Step::Grow => {
                    let length = self.record_length_hint();
                    if length > MAX_RECORD as u64 || self.buffer_size >= 2 * MAX_RECORD {
                        let kind = CaptureErrorKind::RecordTooLarge {
                            length,
                            limit: MAX_RECORD,
                        };
                        return Err(self.error(kind, true));
                    }
                    self.buffer_size = (self.buffer_size * 2).min(2 * MAX_RECORD);
                    self.reader.grow(self.buffer_size);
                    if self.reader.refill().is_err() {
                        let msg = self.io_message();
                        return Err(self.error(CaptureErrorKind::Io(msg), true));
                    }
                }
                Step::Malformed => return Err(self.malformed()),
                Step::LegacyHeader(iface) => {
                    self.legacy = Some(iface);
                }
                Step::Section(big_endian) => {
                    self.interfaces.clear();
                    self.big_endian = big_endian;
                }
                Step::Interface(iface) => self.interfaces.push(iface),
                Step::Packet(raw) => return self.packet(raw),
            }
        }
    }

    fn packet(&mut self, raw: RawPacket) -> Result<Option<Packet<'_>>, CaptureError> {
        self.frame += 1;
        let iface = match raw.interface {
            None => self.legacy,
            Some(id) => self.interfaces.get(id as usize).copied(),
        };
        let Some(iface) = iface else {
            // The record is skipped but keeps its frame number, as Wireshark numbers it.
            let kind = match raw.interface {
                Some(id) if !self.interfaces.is_empty() => {
                    CaptureErrorKind::UnknownInterface { id }
                }
                _ => CaptureErrorKind::NoInterface,
            };
            return Err(CaptureError {
                frame: self.frame,
                offset: self.offset,
                kind,
                fatal: false,
            });
        };
        let timestamp = match raw.time {
            RawTime::Legacy { secs, frac } => {
                let nanos = match self.format {
                    CaptureFormat::Pcap { nanosecond: true } => u64::from(frac),
                    _ => u64::from(frac) * 1000,
                };
                Timestamp::from_units(u64::from(secs) * 1_000_000_000 + nanos, 1_000_000_000, 0)
            }
            RawTime::Ng(units) => {
                Timestamp::from_units(units, iface.units_per_second, iface.offset_secs)
            }
        };
        let mut caplen = raw.caplen;
        if raw.simple && iface.snaplen != 0 {
            caplen = caplen.min(iface.snaplen as usize);
        }
        let data = self
            .reader
            .data()
            .get(raw.start..raw.start.saturating_add(caplen));
        let Some(data) = data else {
            // Cannot happen: the slice came from this buffer. Report, do not panic.
            self.done = true;
            return Err(CaptureError {
                frame: self.frame,
                offset: self.offset,
                kind: CaptureErrorKind::BadRecord,
                fatal: true,
            });
        };
        Ok(Some(Packet {
            frame: self.frame,
            timestamp,
            captured_len: data.len() as u32,
            original_len: raw.origlen.max(data.len() as u32),
            link_type: iface.link_type,
            interface: raw.interface.unwrap_or(0),
            data,
        }))
    }

    fn io_message(&self) -> String {
        self.last_io_error
            .lock()
            .ok()
            .and_then(|l| l.clone())
            .unwrap_or_else(|| "read failed".into())
    }

    fn u32_at(&self, d: &[u8], at: usize) -> Option<u32> {
        let b = d.get(at..at + 4)?;
        let b = [b[0], b[1], b[2], b[3]];
        Some(if self.big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    }

    /// A pcapng block length below the 12-byte minimum or not a multiple of 4: the block
    /// cannot be skipped, and some pcap-parser versions underflow on it.
    fn implausible_block_length(&self) -> Option<u32> {
        if self.format != CaptureFormat::PcapNg {
            return None;
        }
        let d = self.reader.data();
        let (t, l) = (d.get(0..4)?, d.get(4..8)?);
        let length = if t == [0x0a, 0x0d, 0x0d, 0x0a] {
            // A section header: its own byte-order magic decides how to read the length.
            let bom = d.get(8..12)?;
            let l = [l[0], l[1], l[2], l[3]];
            if bom == [0x1a, 0x2b, 0x3c, 0x4d] {
                u32::from_be_bytes(l)
            } else {
                u32::from_le_bytes(l)
            }
        } else {
            self.u32_at(d, 4)?
        };
        (length < 12 || length % 4 != 0).then_some(length)
    }

    /// Reads the length the unreadable record claims (for error messages).
    fn record_length_hint(&self) -> u64 {
        let at = match self.format {
            CaptureFormat::Pcap { .. } => 8,
            CaptureFormat::PcapNg => 4,
        };
        u64::from(self.u32_at(self.reader.data(), at).unwrap_or(0))
    }

    /// A block pcap-parser rejects. In pcapng the block's own length lets us skip it; a pcap
    /// record cannot be resynchronised.
    fn malformed(&mut self) -> CaptureError {
        let d = self.reader.data();
        match self.format {
            CaptureFormat::Pcap { .. } => self.error(CaptureErrorKind::BadRecord, true),
            CaptureFormat::PcapNg => {
                let (Some(block_type), Some(length)) = (self.u32_at(d, 0), self.u32_at(d, 4))
                else {
                    return self.error(CaptureErrorKind::BadRecord, true);
                };
                let kind = CaptureErrorKind::BadBlock { block_type, length };
                let skippable = length >= 12 && length % 4 == 0 && (length as usize) <= d.len();
                // A bad packet block still had a frame number.
                let is_packet = matches!(block_type, 2 | 3 | 6);
                if skippable {
                    self.pending_consume = length as usize;
                    let mut e = self.error(kind, false);
                    if is_packet {
                        self.frame += 1;
                        e.frame = self.frame;
                    }
                    e
                } else {
                    self.error(kind, true)
                }
            }
        }
    }
}

enum RawTime {
    Legacy { secs: u32, frac: u32 },
    Ng(u64),
}

struct RawPacket {
    interface: Option<u32>,
    time: RawTime,
    caplen: usize,
    origlen: u32,
    start: usize,
    simple: bool,
}

enum Step {
    Skip,
    Eof,
    Refill,
    ReadError,
    Truncated,
    Grow,
    Malformed,
    LegacyHeader(Interface),
    Section(bool),
    Interface(Interface),
    Packet(RawPacket),
}

fn units_per_second(tsresol: u8) -> u64 {
    let exp = u32::from(tsresol & 0x7f);
    if tsresol & 0x80 == 0 {
        10u64.checked_pow(exp).unwrap_or(1_000_000)
    } else {
        1u64.checked_shl(exp)
            .filter(|_| exp < 64)
            .unwrap_or(1_000_000)
    }
}

impl Step {
    fn from_block(block: PcapBlockOwned<'_>, base: usize) -> Step {
        let start_of = |data: &[u8]| (data.as_ptr() as usize).wrapping_sub(base);
        match block {
            PcapBlockOwned::LegacyHeader(h) => Step::LegacyHeader(Interface {
                link_type: LinkType(h.network.0 as u16),
                units_per_second: 1_000_000_000,
                offset_secs: 0,
                snaplen: h.snaplen,
            }),
            PcapBlockOwned::Legacy(b) => Step::Packet(RawPacket {
                interface: None,
                time: RawTime::Legacy {
                    secs: b.ts_sec,
                    frac: b.ts_usec,
                },
                caplen: (b.caplen as usize).min(b.data.len()),
                origlen: b.origlen,
                start: start_of(b.data),
                simple: false,
            }),
            PcapBlockOwned::NG(Block::SectionHeader(shb)) => Step::Section(shb.big_endian()),
            PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => Step::Interface(Interface {
                link_type: LinkType(idb.linktype.0 as u16),
                units_per_second: units_per_second(idb.if_tsresol),
                offset_secs: idb.if_tsoffset,
                snaplen: idb.snaplen,
            }),
            PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => Step::Packet(RawPacket {
                interface: Some(epb.if_id),
                time: RawTime::Ng((u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low)),
                caplen: (epb.caplen as usize).min(epb.data.len()),
                origlen: epb.origlen,
                start: start_of(epb.data),
                simple: false,
            }),
            PcapBlockOwned::NG(Block::SimplePacket(spb)) => Step::Packet(RawPacket {
                interface: Some(0),
                time: RawTime::Ng(0),
                caplen: (spb.origlen as usize).min(spb.data.len()),
                origlen: spb.origlen,
                start: start_of(spb.data),
                simple: true,
            }),
            PcapBlockOwned::NG(_) => Step::Skip,
        }
    }
}

#[cfg(test)]
mod tests;
