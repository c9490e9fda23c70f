//! The record framer under [`CaptureReader`](super::CaptureReader): pcap-parser's record
//! parsers applied to a window of input bytes, which is refilled either by reading on the
//! same thread or by taking blocks that a reader thread has already read.
//!
//! It replaces pcap-parser's own streaming readers, which read into a circular buffer of their
//! own: with a reader thread that would have been a second copy of every byte. Here a block
//! read by the thread becomes the window itself; only the unread end of the previous window
//! (the start of a record cut by the block boundary) is copied, into room kept free at the
//! front of every block. What `next` answers follows pcap-parser's readers exactly (the same
//! `Incomplete`, `BufferTooSmall`, `UnexpectedEof` and `Eof` rules), so the capture reader
//! above reports the same errors whichever way the bytes arrive.

use std::io::{self, Read};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};

use pcap_parser::nom::{self, Needed, Offset};
use pcap_parser::traits::PcapReaderIterator;
use pcap_parser::{
    LegacyPcapBlock, PcapBlockOwned, PcapError, PcapHeader, parse_block_be, parse_block_le,
    parse_pcap_frame, parse_pcap_frame_be, parse_pcap_frame_modified, parse_pcap_header,
    parse_sectionheaderblock,
};

/// Bytes the reader thread reads per block: small enough to stay in the cache between the
/// read and the parse.
const BLOCK: usize = 256 << 10;
/// Room before each block's data for the unread end of the previous window. A longer
/// remainder (a record over 64 KiB cut by the boundary) is joined by a copy instead.
const HEADROOM: usize = 64 << 10;
/// Blocks read ahead by the thread.
const READ_AHEAD: usize = 4;

type LegacyParse = fn(&[u8]) -> nom::IResult<&[u8], LegacyPcapBlock<'_>, PcapError<&[u8]>>;

enum Format {
    Legacy {
        header: PcapHeader,
        parse: LegacyParse,
    },
    Ng {
        big_endian: bool,
    },
}

/// A block from the reader thread: the bytes read, or the read error.
type Block = Result<Vec<u8>, String>;

enum Source<'r> {
    /// Reads on the caller's thread, into the window's own buffer.
    Inline(Box<dyn Read + Send + 'r>),
    /// Takes blocks from a reader thread (each with [`HEADROOM`] free bytes in front) and
    /// gives the used ones back to it.
    Thread {
        blocks: Receiver<Block>,
        spent: SyncSender<Vec<u8>>,
    },
}

/// See the [module](self).
pub(super) struct WindowReader<'r> {
    format: Format,
    source: Source<'r>,
    /// The window is `buf[start..end]`.
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// Largest window `next` waits for before answering `BufferTooSmall` (grown by `grow`),
    /// as pcap-parser's buffer capacity.
    capacity: usize,
    consumed: usize,
    exhausted: bool,
    last_io_error: Arc<Mutex<Option<String>>>,
}

impl<'r> WindowReader<'r> {
    /// A framer for the capture starting with `prefix` (at least its file header) and going
    /// on with `rest`, read on the caller's thread. Fails as pcap-parser's `create_reader`.
    pub(super) fn inline<R: Read + Send + 'r>(
        prefix: Vec<u8>,
        rest: R,
        capacity: usize,
        last_io_error: Arc<Mutex<Option<String>>>,
    ) -> Result<Self, PcapError<&'static [u8]>> {
        let format = detect(&prefix)?;
        Ok(Self::with_source(
            format,
            Source::Inline(Box::new(rest)),
            prefix,
            capacity,
            last_io_error,
        ))
    }

    /// As [`inline`](Self::inline), with `rest` read ahead by a thread of its own (see
    /// [`read_blocks`]).
    pub(super) fn threaded<R: Read + Send + 'static>(
        prefix: Vec<u8>,
        rest: R,
        capacity: usize,
        last_io_error: Arc<Mutex<Option<String>>>,
    ) -> Result<Self, PcapError<&'static [u8]>> {
        let format = detect(&prefix)?;
        let (tx, blocks) = sync_channel::<Block>(READ_AHEAD);
        let (spent, free) = sync_channel::<Vec<u8>>(READ_AHEAD + 2);
        let spawned = std::thread::Builder::new()
            .name("capture-read".into())
            .spawn(move || read_blocks(rest, &tx, &free));
        if let Err(e) = spawned {
            return Err(Self::keep_error(
                &last_io_error,
                format!("cannot start the reader thread: {e}"),
            ));
        }
        let source = Source::Thread { blocks, spent };
        Ok(Self::with_source(
            format,
            source,
            prefix,
            capacity,
            last_io_error,
        ))
    }

    fn with_source(
        format: Format,
        source: Source<'r>,
        prefix: Vec<u8>,
        capacity: usize,
        last_io_error: Arc<Mutex<Option<String>>>,
    ) -> Self {
        let end = prefix.len();
        WindowReader {
            format,
            source,
            buf: prefix,
            start: 0,
            end,
            capacity,
            consumed: 0,
            exhausted: false,
            last_io_error,
        }
    }

    fn keep_error(last: &Mutex<Option<String>>, e: String) -> PcapError<&'static [u8]> {
        if let Ok(mut l) = last.lock() {
            *l = Some(e);
        }
        PcapError::ReadError
    }

    /// Reads more on this thread: moves the window to the front, then reads once into the
    /// room left up to the capacity, as pcap-parser's buffer refill does.
    fn refill_inline(&mut self) -> Result<(), PcapError<&'static [u8]>> {
        let Source::Inline(input) = &mut self.source else {
            return Ok(());
        };
        self.buf.copy_within(self.start..self.end, 0);
        self.end -= self.start;
        self.start = 0;
        let room = self.capacity.max(self.end + 1);
        self.buf.resize(room, 0);
        let read = loop {
            match input.read(self.buf.get_mut(self.end..).unwrap_or_default()) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other,
            }
        };
        match read {
            Ok(n) => {
                self.end += n;
                self.exhausted = n == 0;
                Ok(())
            }
            Err(e) => Err(Self::keep_error(&self.last_io_error, e.to_string())),
        }
    }

    /// Takes the next block from the reader thread and puts the window's unread bytes
    /// just in front of its data.
    fn refill_threaded(&mut self) -> Result<(), PcapError<&'static [u8]>> {
        let Source::Thread { blocks, spent } = &self.source else {
            return Ok(());
        };
        let block = match blocks.recv() {
            Ok(Ok(block)) => block,
            Ok(Err(e)) => return Err(Self::keep_error(&self.last_io_error, e)),
            // The thread only stops after sending the end of the input or an error.
            Err(_) => {
                self.exhausted = true;
                return Ok(());
            }
        };
        if block.len() <= HEADROOM {
            // An empty block: the end of the input.
            self.exhausted = true;
            let _ = spent.send(block);
            return Ok(());
        }
        let tail = self.end - self.start;
        if tail <= HEADROOM {
            let mut block = block;
            let at = HEADROOM - tail;
            if let (Some(dst), Some(src)) = (
                block.get_mut(at..HEADROOM),
                self.buf.get(self.start..self.end),
            ) {
                dst.copy_from_slice(src);
            }
            let old = std::mem::replace(&mut self.buf, block);
            self.start = at;
            self.end = self.buf.len();
            // The first window (the file header) did not come from the thread.
            if old.capacity() >= HEADROOM + BLOCK {
                let _ = spent.send(old);
            }
        } else {
            // A long record cut by the boundary: this buffer grows instead.
            self.buf.truncate(self.end);
            self.buf.drain(..self.start);
            self.buf
                .extend_from_slice(block.get(HEADROOM..).unwrap_or_default());
            self.start = 0;
            self.end = self.buf.len();
            let _ = spent.send(block);
        }
        Ok(())
    }
}

/// Which format the file header says, as pcap-parser's `create_reader` decides it.
fn detect(prefix: &[u8]) -> Result<Format, PcapError<&'static [u8]>> {
    if parse_sectionheaderblock(prefix).is_ok() {
        return Ok(Format::Ng { big_endian: false });
    }
    match parse_pcap_header(prefix) {
        Ok((_, header)) => {
            let parse: LegacyParse = if header.is_modified_format() {
                parse_pcap_frame_modified
            } else if header.is_bigendian() {
                parse_pcap_frame_be
            } else {
                parse_pcap_frame
            };
            Ok(Format::Legacy { header, parse })
        }
        Err(nom::Err::Incomplete(Needed::Size(n))) => Err(PcapError::Incomplete(n.into())),
        Err(nom::Err::Incomplete(Needed::Unknown)) => Err(PcapError::Incomplete(0)),
        Err(_) => Err(PcapError::HeaderNotRecognized),
    }
}

/// Blocks the reader thread allocates at most: the ones queued ([`READ_AHEAD`]), the parser's
/// window, and the one being filled. Past that it waits for the parser to give one back.
const POOL: usize = READ_AHEAD + 2;

/// The reader thread: reads `input` into blocks (recycled from `free` when the parser has
/// given some back), each with [`HEADROOM`] free bytes in front, and sends them; then an
/// empty block at the end of the input, or the read error. Stops when the receiver is gone
/// (the capture reader was dropped).
///
/// Once [`POOL`] blocks exist it waits for a used one rather than allocating another: a
/// fresh block costs an allocation, the zeroing below and the kernel's page faults, where a
/// recycled one is already full length (`resize` is then a no-op).
fn read_blocks<R: Read>(mut input: R, tx: &SyncSender<Block>, free: &Receiver<Vec<u8>>) {
    let mut allocated = 0;
    loop {
        let mut block = match free.try_recv() {
            Ok(block) => block,
            Err(_) if allocated < POOL => {
                allocated += 1;
                Vec::with_capacity(HEADROOM + BLOCK)
            }
            Err(_) => match free.recv() {
                Ok(block) => block,
                // The capture reader was dropped.
                Err(_) => return,
            },
        };
        block.resize(HEADROOM + BLOCK, 0);
        let mut len = HEADROOM;
        // Fill the block: a pipe delivers a few KiB per read.
        let result = loop {
            match input.read(block.get_mut(len..).unwrap_or_default()) {
                Ok(0) => break Ok(()),
                Ok(n) => {
                    len += n;
                    if len == block.len() {
                        break Ok(());
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break Err(e.to_string()),
            }
        };
        block.truncate(len);
        let end = len == HEADROOM;
        match result {
            Ok(()) => {
                if tx.send(Ok(block)).is_err() || end {
                    return;
                }
            }
            Err(e) => {
                // The bytes read before the error come first.
                if !end {
                    let _ = tx.send(Ok(block));
                }
                let _ = tx.send(Err(e));
                return;
            }
        }
    }
}

impl PcapReaderIterator for WindowReader<'_> {
    fn next(&mut self) -> Result<(usize, PcapBlockOwned<'_>), PcapError<&[u8]>> {
        let data = self.buf.get(self.start..self.end).unwrap_or_default();
        let parsed = match &mut self.format {
            Format::Legacy { header, parse } => {
                if self.consumed == 0 {
                    return Ok((header.size(), PcapBlockOwned::from(header.clone())));
                }
                if data.is_empty() && self.exhausted {
                    return Err(PcapError::Eof);
                }
                match parse(data) {
                    Ok((rem, b)) => Ok((data.offset(rem), PcapBlockOwned::from(b))),
                    Err(e) => Err(e),
                }
            }
            Format::Ng { big_endian } => {
                if data.is_empty() && self.exhausted {
                    return Err(PcapError::Eof);
                }
                let parse = if *big_endian {
                    parse_block_be
                } else {
                    parse_block_le
                };
                match parse(data) {
                    Ok((rem, b)) => {
                        if let pcap_parser::Block::SectionHeader(ref shb) = b {
                            *big_endian = shb.big_endian();
                        }
                        Ok((data.offset(rem), PcapBlockOwned::from(b)))
                    }
                    Err(e) => Err(e),
                }
            }
        };
        match parsed {
            Ok(v) => Ok(v),
            Err(nom::Err::Error(e)) | Err(nom::Err::Failure(e)) => Err(e),
            Err(nom::Err::Incomplete(_)) if self.exhausted => Err(PcapError::UnexpectedEof),
            Err(nom::Err::Incomplete(Needed::Size(n))) => {
                if data.len() + usize::from(n) >= self.capacity {
                    Err(PcapError::BufferTooSmall)
                } else {
                    Err(PcapError::Incomplete(n.into()))
                }
            }
            Err(nom::Err::Incomplete(Needed::Unknown)) => Err(PcapError::Incomplete(0)),
        }
    }

    fn consume(&mut self, offset: usize) {
        self.consume_noshift(offset);
    }

    fn consume_noshift(&mut self, offset: usize) {
        let offset = offset.min(self.end - self.start);
        self.consumed += offset;
        self.start += offset;
    }

    fn consumed(&self) -> usize {
        self.consumed
    }

    fn refill(&mut self) -> Result<(), PcapError<&[u8]>> {
        match self.source {
            Source::Inline(_) => self.refill_inline(),
            Source::Thread { .. } => self.refill_threaded(),
        }
    }

    fn position(&self) -> usize {
        self.start
    }

    fn grow(&mut self, new_size: usize) -> bool {
        self.capacity = self.capacity.max(new_size);
        true
    }

    fn data(&self) -> &[u8] {
        self.buf.get(self.start..self.end).unwrap_or_default()
    }

    fn reader_exhausted(&self) -> bool {
        self.exhausted
    }
}
