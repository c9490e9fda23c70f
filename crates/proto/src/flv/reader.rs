//! A sans-I/O FLV file reader: push bytes as they arrive, poll header and tags.

use std::io::Read;

use bytes::{Buf, BytesMut};

use super::error::FlvError;
use super::file::{
    FLV_HEADER_LEN, FlvHeader, FlvTag, PREVIOUS_TAG_SIZE_LEN, TAG_HEADER_LEN, TagHeader,
};

/// What the reader produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlvEvent {
    /// The file header (always first).
    Header(FlvHeader),
    /// One complete tag.
    Tag(FlvTag),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Header,
    /// Bytes of an oversized header (DataOffset > 9) still to skip.
    SkipHeader(u64),
    /// The PreviousTagSize field, and the value it should have.
    PreviousTagSize(u32),
    TagHeader,
    TagData(TagHeader),
    Failed,
}

/// Reads an FLV file or HTTP-FLV stream incrementally, in memory bounded by one tag plus what
/// the caller pushes between polls.
///
/// Call [`push`](Self::push) with input, then [`poll`](Self::poll) until it returns `None`;
/// at the end of input call [`finish`](Self::finish), which reports a file cut off inside a
/// header, tag or PreviousTagSize as [`FlvError::Truncated`] (every complete tag has already
/// been returned by then). A PreviousTagSize that does not match is returned as the warning
/// [`FlvError::PreviousTagSizeMismatch`] and reading goes on; other errors are fatal and later
/// polls return `None`.
#[derive(Debug)]
pub struct FlvReader {
    buf: BytesMut,
    /// File offset of `buf[0]`.
    offset: u64,
    state: State,
    max_tag_size: u32,
}

impl Default for FlvReader {
    fn default() -> Self {
        Self::new()
    }
}

impl FlvReader {
    /// A reader that accepts tags up to the format's maximum (16 MiB − 1).
    pub fn new() -> Self {
        Self::with_max_tag_size(0xff_ffff)
    }

    /// A reader that rejects tags whose data is larger than `max_tag_size` bytes.
    pub fn with_max_tag_size(max_tag_size: u32) -> Self {
        FlvReader {
            buf: BytesMut::new(),
            offset: 0,
            state: State::Header,
            max_tag_size,
        }
    }

    /// Appends input.
    pub fn push(&mut self, data: &[u8]) {
        if self.state != State::Failed {
            self.buf.extend_from_slice(data);
        }
    }

    /// Bytes consumed so far (the file offset of the next unread byte).
    pub fn position(&self) -> u64 {
        self.offset
    }

    /// Whether a fatal error was returned; the reader then ignores further input.
    pub fn is_failed(&self) -> bool {
        self.state == State::Failed
    }

    /// Bytes pushed but not yet consumed.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    fn consume(&mut self, n: usize) {
        self.buf.advance(n);
        self.offset += n as u64;
    }

    fn fail(&mut self, e: FlvError) -> Option<Result<FlvEvent, FlvError>> {
        self.state = State::Failed;
        self.buf = BytesMut::new();
        Some(Err(e))
    }

    /// The next header, tag or error, or `None` when more input is needed.
    pub fn poll(&mut self) -> Option<Result<FlvEvent, FlvError>> {
        loop {
            match self.state {
                State::Failed => return None,
                State::Header => {
                    let bytes = self.buf.get(..FLV_HEADER_LEN)?;
                    let header = match FlvHeader::decode(bytes) {
                        Ok(h) => h,
                        Err(e) => return self.fail(e),
                    };
                    self.consume(FLV_HEADER_LEN);
                    let extra = u64::from(header.data_offset) - FLV_HEADER_LEN as u64;
                    self.state = if extra > 0 {
                        State::SkipHeader(extra)
                    } else {
                        State::PreviousTagSize(0)
                    };
                    return Some(Ok(FlvEvent::Header(header)));
                }
                State::SkipHeader(left) => {
                    let n = usize::try_from(left)
                        .unwrap_or(usize::MAX)
                        .min(self.buf.len());
                    self.consume(n);
                    let left = left - n as u64;
                    if left > 0 {
                        self.state = State::SkipHeader(left);
                        return None;
                    }
                    self.state = State::PreviousTagSize(0);
                }
                State::PreviousTagSize(expected) => {
                    let b = self.buf.get(..PREVIOUS_TAG_SIZE_LEN)?;
                    let found = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
                    let offset = self.offset;
                    self.consume(PREVIOUS_TAG_SIZE_LEN);
                    self.state = State::TagHeader;
                    if found != expected {
                        return Some(Err(FlvError::PreviousTagSizeMismatch {
                            offset,
                            expected,
                            found,
                        }));
                    }
                }
                State::TagHeader => {
                    let bytes = self.buf.get(..TAG_HEADER_LEN)?;
                    let header = match TagHeader::decode(bytes) {
                        Ok(h) => h,
                        Err(e) => return self.fail(e),
                    };
                    if header.data_size > self.max_tag_size {
                        let e = FlvError::TagTooLarge {
                            offset: self.offset,
                            size: header.data_size,
                            limit: self.max_tag_size,
                        };
                        return self.fail(e);
                    }
                    self.consume(TAG_HEADER_LEN);
                    self.state = State::TagData(header);
                }
                State::TagData(header) => {
                    let size = header.data_size as usize;
                    if self.buf.len() < size {
                        // No reservation from the declared size: the buffer only grows with
                        // bytes that actually arrive.
                        return None;
                    }
                    let data = self.buf.split_to(size).freeze();
                    self.offset += size as u64;
                    self.state = State::PreviousTagSize(header.tag_size());
                    return Some(Ok(FlvEvent::Tag(FlvTag { header, data })));
                }
            }
        }
    }

    /// Declares the end of input. `Ok` when the input ended cleanly after a PreviousTagSize
    /// (or after a fatal error already reported); otherwise `Truncated` naming what was cut.
    pub fn finish(&self) -> Result<(), FlvError> {
        let (field, needed) = match self.state {
            State::Failed => return Ok(()),
            State::TagHeader if self.buf.is_empty() => return Ok(()),
            State::Header => ("FLV header", FLV_HEADER_LEN),
            State::SkipHeader(left) => ("FLV header", usize::try_from(left).unwrap_or(usize::MAX)),
            State::PreviousTagSize(_) => ("PreviousTagSize", PREVIOUS_TAG_SIZE_LEN),
            State::TagHeader => ("tag header", TAG_HEADER_LEN),
            State::TagData(h) => ("tag data", h.data_size as usize),
        };
        Err(FlvError::Truncated {
            what: "FLV file",
            field,
            offset: self.offset,
            needed: needed.saturating_sub(self.buf.len()) as u64,
        })
    }
}

/// Reads FLV events from a [`Read`] source through an [`FlvReader`], in fixed-size reads. At
/// end of input it yields the `Truncated` error from [`FlvReader::finish`], if any, then ends.
#[derive(Debug)]
pub struct FlvReadIter<R> {
    source: R,
    reader: FlvReader,
    chunk: Vec<u8>,
    eof: bool,
}

impl<R: Read> FlvReadIter<R> {
    pub fn new(source: R) -> Self {
        Self::with_reader(source, FlvReader::new())
    }

    /// Uses a configured reader (e.g. with a smaller tag size limit).
    pub fn with_reader(source: R, reader: FlvReader) -> Self {
        FlvReadIter {
            source,
            reader,
            chunk: vec![0; 64 * 1024],
            eof: false,
        }
    }
}

impl<R: Read> Iterator for FlvReadIter<R> {
    type Item = Result<FlvEvent, FlvError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(event) = self.reader.poll() {
                return Some(event);
            }
            if self.eof || self.reader.is_failed() {
                return None;
            }
            match self.source.read(&mut self.chunk) {
                Ok(0) => {
                    self.eof = true;
                    if let Err(e) = self.reader.finish() {
                        return Some(Err(e));
                    }
                }
                Ok(n) => self.reader.push(self.chunk.get(..n).unwrap_or(&[])),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.eof = true;
                    return Some(Err(FlvError::Io {
                        kind: e.kind(),
                        message: e.to_string(),
                    }));
                }
            }
        }
    }
}
