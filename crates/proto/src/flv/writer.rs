//! Building FLV files and HTTP-FLV streams from RTMP messages.

use super::error::FlvError;
use super::file::{FLV_HEADER_LEN, FlvHeader, TAG_HEADER_LEN, TagHeader, TagType};

/// Writes the FLV header, tags and PreviousTagSize fields. It keeps only a byte count, so one
/// writer per output file or HTTP-FLV connection costs nothing.
///
/// For zero-copy output, [`tag_prefix`](Self::tag_prefix) and
/// [`tag_suffix`](Self::tag_suffix) give the 11 bytes before and the 4 bytes after a payload
/// that is already in a shared buffer, to be written as one vectored write.
#[derive(Debug, Clone, Default)]
pub struct FlvWriter {
    written: u64,
}

impl FlvWriter {
    pub fn new() -> Self {
        FlvWriter::default()
    }

    /// Total bytes produced so far (the file offset of the next tag).
    pub fn bytes_written(&self) -> u64 {
        self.written
    }

    /// Appends the file header (padded with zeros up to its data offset) and PreviousTagSize0.
    pub fn write_header(&mut self, header: &FlvHeader, out: &mut Vec<u8>) {
        let start = out.len();
        out.extend_from_slice(&header.encode());
        let pad = (header.data_offset as usize).saturating_sub(FLV_HEADER_LEN);
        out.resize(out.len() + pad, 0);
        out.extend_from_slice(&0u32.to_be_bytes());
        self.written += (out.len() - start) as u64;
    }

    /// Appends one tag and its PreviousTagSize. `tag_type` is the RTMP message type (8 audio,
    /// 9 video, 18 data), `timestamp` the message timestamp in ms, `payload` the message body.
    pub fn write_tag(
        &mut self,
        tag_type: TagType,
        timestamp: u32,
        payload: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), FlvError> {
        let prefix = Self::tag_prefix(tag_type, timestamp, payload.len())?;
        out.extend_from_slice(&prefix);
        out.extend_from_slice(payload);
        out.extend_from_slice(&Self::tag_suffix(payload.len()));
        self.written += (TAG_HEADER_LEN + payload.len() + 4) as u64;
        Ok(())
    }

    /// Records `n` bytes written by the caller from `tag_prefix`/`tag_suffix` and a payload.
    pub fn note_written(&mut self, n: u64) {
        self.written += n;
    }

    /// The tag header for a payload of `payload_len` bytes (at most 2^24 − 1).
    pub fn tag_prefix(
        tag_type: TagType,
        timestamp: u32,
        payload_len: usize,
    ) -> Result<[u8; TAG_HEADER_LEN], FlvError> {
        let size = u32::try_from(payload_len).map_err(|_| FlvError::Unencodable {
            what: "FLV tag header",
            field: "DataSize",
            value: payload_len as u64,
        })?;
        TagHeader::new(tag_type, size, timestamp).encode()
    }

    /// The PreviousTagSize that follows a tag with `payload_len` bytes of data.
    pub fn tag_suffix(payload_len: usize) -> [u8; 4] {
        let size = u32::try_from(payload_len + TAG_HEADER_LEN).unwrap_or(u32::MAX);
        size.to_be_bytes()
    }
}
