//! The bytes of an HTTP-FLV response, without I/O: the response head, chunked transfer
//! decoding, WebSocket framing (WebSocket-FLV) and an FLV tag scanner that keeps each tag's
//! first bytes and skips the rest.

/// Longest response head accepted.
const MAX_HEAD: usize = 16 * 1024;
/// Longest chunk-size line accepted (hex digits and extensions).
const MAX_CHUNK_LINE: usize = 1024;
/// Bytes of each tag's data kept for the tally: the video tag header and the send-time SEI.
pub const TAG_HEAD: usize = 64;

/// Why an HTTP-FLV response could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpFlvError {
    #[error("response head longer than {MAX_HEAD} bytes")]
    HeadTooLong,
    #[error("malformed status line: {0:?}")]
    StatusLine(String),
    #[error("HTTP {0}")]
    Status(u16),
    #[error("malformed chunk size line")]
    ChunkLine,
    #[error("chunk data not followed by CRLF")]
    ChunkEnd,
    #[error("not an FLV stream (signature {0:02x?})")]
    NotFlv([u8; 3]),
    #[error("WebSocket handshake: {0}")]
    Handshake(String),
    #[error("bad WebSocket frame: {0}")]
    WsFrame(&'static str),
}

/// How the response body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    Chunked,
    Length(u64),
    UntilClose,
}

/// The status line and the headers that matter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    pub status: u16,
    pub framing: Framing,
    /// `Sec-WebSocket-Accept`, for an upgrade.
    pub websocket_accept: Option<String>,
}

impl ResponseHead {
    /// Parses a response head at the start of `buf`: `Ok(None)` until the blank line has
    /// arrived, else the head and its length.
    pub fn parse(buf: &[u8]) -> Result<Option<(ResponseHead, usize)>, HttpFlvError> {
        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
            return if buf.len() > MAX_HEAD {
                Err(HttpFlvError::HeadTooLong)
            } else {
                Ok(None)
            };
        };
        let text = String::from_utf8_lossy(&buf[..end]);
        let mut lines = text.split("\r\n");
        let status_line = lines.next().unwrap_or_default();
        let mut parts = status_line.splitn(3, ' ');
        let version = parts.next().unwrap_or_default();
        let status = parts
            .next()
            .and_then(|s| s.parse::<u16>().ok())
            .filter(|_| version.starts_with("HTTP/1."))
            .ok_or_else(|| HttpFlvError::StatusLine(status_line.to_owned()))?;
        let mut framing = Framing::UntilClose;
        let mut websocket_accept = None;
        for line in lines {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            if name.eq_ignore_ascii_case("transfer-encoding")
                && value.to_ascii_lowercase().contains("chunked")
            {
                framing = Framing::Chunked;
            } else if name.eq_ignore_ascii_case("content-length")
                && framing != Framing::Chunked
                && let Ok(n) = value.parse()
            {
                framing = Framing::Length(n);
            } else if name.eq_ignore_ascii_case("sec-websocket-accept") {
                websocket_accept = Some(value.to_owned());
            }
        }
        let head = ResponseHead {
            status,
            framing,
            websocket_accept,
        };
        Ok(Some((head, end + 4)))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChunkState {
    /// Reading the size line; the value so far and whether extensions started.
    Size {
        value: u64,
        digits: usize,
        ext: bool,
        len: usize,
    },
    /// Expecting the LF of the size line.
    SizeLf {
        value: u64,
    },
    Data(u64),
    DataCr,
    DataLf,
    /// After the last chunk: trailers, ignored.
    Trailers,
}

/// Chunked transfer coding (RFC 9112 §7.1), decoded in place: data comes out as slices of the
/// input.
#[derive(Debug, Clone)]
pub struct ChunkedDecoder {
    state: ChunkState,
}

impl Default for ChunkedDecoder {
    fn default() -> Self {
        ChunkedDecoder {
            state: ChunkState::Size {
                value: 0,
                digits: 0,
                ext: false,
                len: 0,
            },
        }
    }
}

impl ChunkedDecoder {
    /// Decodes `input`, handing each run of body bytes to `out`.
    pub fn decode<'a>(
        &mut self,
        mut input: &'a [u8],
        mut out: impl FnMut(&'a [u8]),
    ) -> Result<(), HttpFlvError> {
        while let Some((&byte, rest)) = input.split_first() {
            match &mut self.state {
                ChunkState::Data(remaining) => {
                    let n = input
                        .len()
                        .min(usize::try_from(*remaining).unwrap_or(usize::MAX));
                    let (data, rest) = input.split_at(n);
                    out(data);
                    *remaining -= n as u64;
                    if *remaining == 0 {
                        self.state = ChunkState::DataCr;
                    }
                    input = rest;
                    continue;
                }
                ChunkState::Size {
                    value,
                    digits,
                    ext,
                    len,
                } => {
                    *len += 1;
                    if *len > MAX_CHUNK_LINE {
                        return Err(HttpFlvError::ChunkLine);
                    }
                    match byte {
                        b'\r' if *digits > 0 => self.state = ChunkState::SizeLf { value: *value },
                        _ if *ext => {}
                        b';' | b' ' | b'\t' if *digits > 0 => *ext = true,
                        _ => {
                            let d = (byte as char).to_digit(16).ok_or(HttpFlvError::ChunkLine)?;
                            *digits += 1;
                            if *digits > 15 {
                                return Err(HttpFlvError::ChunkLine);
                            }
                            *value = (*value << 4) | u64::from(d);
                        }
                    }
                }
                ChunkState::SizeLf { value } => {
                    if byte != b'\n' {
                        return Err(HttpFlvError::ChunkLine);
                    }
                    self.state = if *value == 0 {
                        ChunkState::Trailers
                    } else {
                        ChunkState::Data(*value)
                    };
                }
                ChunkState::DataCr => {
                    if byte != b'\r' {
                        return Err(HttpFlvError::ChunkEnd);
                    }
                    self.state = ChunkState::DataLf;
                }
                ChunkState::DataLf => {
                    if byte != b'\n' {
                        return Err(HttpFlvError::ChunkEnd);
                    }
                    self.state = ChunkState::default_size();
                }
                ChunkState::Trailers => {}
            }
            input = rest;
        }
        Ok(())
    }

    /// Whether the last (zero-size) chunk has arrived.
    pub fn is_done(&self) -> bool {
        self.state == ChunkState::Trailers
    }
}

impl ChunkState {
    fn default_size() -> ChunkState {
        ChunkState::Size {
            value: 0,
            digits: 0,
            ext: false,
            len: 0,
        }
    }
}

/// What a WebSocket server sends, unframed (RFC 6455 §5.2) in place: the payload of binary
/// data frames comes out as slices of the input, pings and pongs are skipped, a close frame
/// ends the stream. Frames from a server are never masked, and no extension was negotiated.
#[derive(Debug, Clone, Default)]
pub struct WsDecoder {
    state: WsState,
    /// The frame header so far (2 to 10 bytes).
    head: [u8; 10],
    head_len: usize,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum WsState {
    #[default]
    Head,
    /// Payload bytes still to come; `data`: they are the stream's (else a control frame's).
    Payload {
        left: u64,
        data: bool,
    },
    Closed,
}

/// What [`WsDecoder::decode`] reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WsProgress {
    /// All the input was taken.
    Open,
    /// A close frame came: the stream is over, what follows it is ignored.
    Closed,
}

impl WsDecoder {
    /// Decodes `input`, handing each run of binary message payload to `out`.
    pub fn decode<'a>(
        &mut self,
        mut input: &'a [u8],
        mut out: impl FnMut(&'a [u8]),
    ) -> Result<WsProgress, HttpFlvError> {
        while !input.is_empty() {
            match self.state {
                WsState::Closed => break,
                WsState::Payload { left, data } => {
                    let n = input.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                    let (payload, rest) = input.split_at(n);
                    if data {
                        out(payload);
                    }
                    input = rest;
                    self.state = if left == n as u64 {
                        WsState::Head
                    } else {
                        WsState::Payload {
                            left: left - n as u64,
                            data,
                        }
                    };
                }
                WsState::Head => {
                    let need = match self.head_len {
                        0 | 1 => 2,
                        _ => match self.head[1] & 0x7f {
                            126 => 4,
                            127 => 10,
                            _ => 2,
                        },
                    };
                    let n = (need - self.head_len).min(input.len());
                    self.head[self.head_len..self.head_len + n].copy_from_slice(&input[..n]);
                    self.head_len += n;
                    input = &input[n..];
                    // The length's size is known after two bytes: look again.
                    if self.head_len == 2 && need == 2 && self.head[1] & 0x7f >= 126 {
                        continue;
                    }
                    if self.head_len == need {
                        self.head_len = 0;
                        self.state = self.frame(need)?;
                    }
                }
            }
        }
        Ok(if self.state == WsState::Closed {
            WsProgress::Closed
        } else {
            WsProgress::Open
        })
    }

    /// The state after a complete frame header of `len` bytes.
    fn frame(&self, len: usize) -> Result<WsState, HttpFlvError> {
        let (b0, b1) = (self.head[0], self.head[1]);
        if b0 & 0x70 != 0 {
            return Err(HttpFlvError::WsFrame("reserved bits set"));
        }
        if b1 & 0x80 != 0 {
            return Err(HttpFlvError::WsFrame("masked by the server"));
        }
        let size = match len {
            4 => u64::from(u16::from_be_bytes([self.head[2], self.head[3]])),
            10 => {
                let mut b = [0u8; 8];
                b.copy_from_slice(&self.head[2..10]);
                let size = u64::from_be_bytes(b);
                if size >> 63 != 0 {
                    return Err(HttpFlvError::WsFrame("length over 2^63"));
                }
                size
            }
            _ => u64::from(b1 & 0x7f),
        };
        let opcode = b0 & 0x0f;
        if opcode >= 8 && (b0 & 0x80 == 0 || size > 125) {
            return Err(HttpFlvError::WsFrame("fragmented or long control frame"));
        }
        let data = match opcode {
            0 | 2 => true,
            1 => return Err(HttpFlvError::WsFrame("text message in an FLV stream")),
            8 => return Ok(WsState::Closed),
            9 | 10 => false,
            _ => return Err(HttpFlvError::WsFrame("unknown opcode")),
        };
        Ok(if size == 0 {
            WsState::Head
        } else {
            WsState::Payload { left: size, data }
        })
    }
}

/// `Sec-WebSocket-Accept` for a request's `Sec-WebSocket-Key` (RFC 6455 §4.2.2).
pub fn websocket_accept(key: &str) -> String {
    use base64::Engine as _;
    use sha1::Digest as _;
    let mut sha = sha1::Sha1::new();
    sha.update(key.as_bytes());
    sha.update(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    base64::engine::general_purpose::STANDARD.encode(sha.finalize())
}

/// One FLV tag as the scanner saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScannedTag<'a> {
    /// FLV tag type (8 audio, 9 video, 18 script), filter bit cleared.
    pub tag_type: u8,
    /// Timestamp with its extension byte.
    pub timestamp: u32,
    pub data_size: u32,
    /// The first [`TAG_HEAD`] bytes of the data (fewer for shorter tags).
    pub head: &'a [u8],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ScanState {
    /// The 9-byte file header (and PreviousTagSize0): bytes still to read.
    Header {
        need: usize,
    },
    /// Bytes of the header beyond 9 (DataOffset) and PreviousTagSize0 to skip.
    Skip(u64),
    TagHeader,
    /// Tag data: bytes still to read.
    TagData(u32),
}

/// Walks an FLV byte stream tag by tag, keeping only each tag's header and first bytes.
#[derive(Debug, Clone)]
pub struct FlvScanner {
    state: ScanState,
    /// Header bytes, or the current tag's 11-byte header.
    small: [u8; 11],
    small_len: usize,
    head: [u8; TAG_HEAD],
    head_len: usize,
}

impl Default for FlvScanner {
    fn default() -> Self {
        FlvScanner {
            state: ScanState::Header { need: 9 },
            small: [0; 11],
            small_len: 0,
            head: [0; TAG_HEAD],
            head_len: 0,
        }
    }
}

impl FlvScanner {
    /// Scans `input`, calling `on_tag` for each complete tag.
    pub fn push(
        &mut self,
        mut input: &[u8],
        mut on_tag: impl FnMut(ScannedTag<'_>),
    ) -> Result<(), HttpFlvError> {
        while !input.is_empty() {
            match self.state {
                ScanState::Header { need } => {
                    let n = need.min(input.len());
                    self.small[self.small_len..self.small_len + n].copy_from_slice(&input[..n]);
                    self.small_len += n;
                    input = &input[n..];
                    if n < need {
                        self.state = ScanState::Header { need: need - n };
                        continue;
                    }
                    let sig = [self.small[0], self.small[1], self.small[2]];
                    if &sig != b"FLV" {
                        return Err(HttpFlvError::NotFlv(sig));
                    }
                    let offset = u32::from_be_bytes([
                        self.small[5],
                        self.small[6],
                        self.small[7],
                        self.small[8],
                    ]);
                    self.small_len = 0;
                    // Skip to DataOffset, then PreviousTagSize0.
                    self.state = ScanState::Skip(u64::from(offset.saturating_sub(9)) + 4);
                }
                ScanState::Skip(n) => {
                    let k = input.len().min(usize::try_from(n).unwrap_or(usize::MAX));
                    input = &input[k..];
                    let left = n - k as u64;
                    self.state = if left == 0 {
                        ScanState::TagHeader
                    } else {
                        ScanState::Skip(left)
                    };
                }
                ScanState::TagHeader => {
                    let n = (11 - self.small_len).min(input.len());
                    self.small[self.small_len..self.small_len + n].copy_from_slice(&input[..n]);
                    self.small_len += n;
                    input = &input[n..];
                    if self.small_len == 11 {
                        let s = &self.small;
                        let size = u32::from_be_bytes([0, s[1], s[2], s[3]]);
                        self.head_len = 0;
                        self.state = ScanState::TagData(size);
                        if size == 0 {
                            self.finish_tag(&mut on_tag);
                        }
                    }
                }
                ScanState::TagData(left) => {
                    let k = input.len().min(left as usize);
                    let keep = (TAG_HEAD - self.head_len).min(k);
                    self.head[self.head_len..self.head_len + keep].copy_from_slice(&input[..keep]);
                    self.head_len += keep;
                    input = &input[k..];
                    let left = left - k as u32;
                    self.state = ScanState::TagData(left);
                    if left == 0 {
                        self.finish_tag(&mut on_tag);
                    }
                }
            }
        }
        Ok(())
    }

    fn finish_tag(&mut self, on_tag: &mut impl FnMut(ScannedTag<'_>)) {
        let s = &self.small;
        on_tag(ScannedTag {
            tag_type: s[0] & 0x1f,
            timestamp: u32::from_be_bytes([s[7], s[4], s[5], s[6]]),
            data_size: u32::from_be_bytes([0, s[1], s[2], s[3]]),
            head: &self.head[..self.head_len],
        });
        self.small_len = 0;
        self.state = ScanState::Skip(4);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_heads() {
        let r = b"HTTP/1.1 200 OK\r\nContent-Type: video/x-flv\r\nTransfer-Encoding: chunked\r\n\r\nXYZ";
        let (head, used) = ResponseHead::parse(r).unwrap().unwrap();
        assert_eq!(head.status, 200);
        assert_eq!(head.framing, Framing::Chunked);
        assert_eq!(&r[used..], b"XYZ");
        let r = b"HTTP/1.0 404 Not Found\r\ncontent-length: 12\r\n\r\n";
        let (head, _) = ResponseHead::parse(r).unwrap().unwrap();
        assert_eq!((head.status, head.framing), (404, Framing::Length(12)));
        let (head, _) = ResponseHead::parse(b"HTTP/1.1 200 OK\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(head.framing, Framing::UntilClose);
        assert_eq!(ResponseHead::parse(b"HTTP/1.1 200 OK\r\n").unwrap(), None);
        assert!(matches!(
            ResponseHead::parse(b"SSH-2.0 hi\r\n\r\n"),
            Err(HttpFlvError::StatusLine(_))
        ));
        assert_eq!(
            ResponseHead::parse(&[b'a'; MAX_HEAD + 1]),
            Err(HttpFlvError::HeadTooLong)
        );
    }

    fn decode_all(d: &mut ChunkedDecoder, pieces: &[&[u8]]) -> Result<Vec<u8>, HttpFlvError> {
        let mut out = Vec::new();
        for p in pieces {
            d.decode(p, |b| out.extend_from_slice(b))?;
        }
        Ok(out)
    }

    #[test]
    fn chunked_in_any_split() {
        let wire = b"5\r\nhello\r\nA;ext=1\r\n0123456789\r\n0\r\nX-Trailer: y\r\n\r\n";
        for cut in 0..wire.len() {
            let mut d = ChunkedDecoder::default();
            let out = decode_all(&mut d, &[&wire[..cut], &wire[cut..]]).unwrap();
            assert_eq!(out, b"hello0123456789", "cut at {cut}");
            assert!(d.is_done());
        }
        let mut d = ChunkedDecoder::default();
        assert_eq!(
            decode_all(&mut d, &[b"zz\r\n"]),
            Err(HttpFlvError::ChunkLine)
        );
        let mut d = ChunkedDecoder::default();
        assert_eq!(
            decode_all(&mut d, &[b"1\r\nab"]),
            Err(HttpFlvError::ChunkEnd)
        );
        let mut d = ChunkedDecoder::default();
        assert_eq!(
            decode_all(&mut d, &[b"fffffffffffffffff\r\n"]),
            Err(HttpFlvError::ChunkLine)
        );
    }

    /// A server's frame (unmasked) with `opcode`, FIN set unless `more`.
    fn ws_frame(opcode: u8, more: bool, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![if more { opcode } else { 0x80 | opcode }];
        match payload.len() {
            n @ 0..=125 => out.push(n as u8),
            n @ 126..=0xffff => {
                out.push(126);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                out.push(127);
                out.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        out.extend_from_slice(payload);
        out
    }

    fn ws_decode(
        d: &mut WsDecoder,
        pieces: &[&[u8]],
    ) -> Result<(Vec<u8>, WsProgress), HttpFlvError> {
        let mut out = Vec::new();
        let mut progress = WsProgress::Open;
        for p in pieces {
            progress = d.decode(p, |b| out.extend_from_slice(b))?;
        }
        Ok((out, progress))
    }

    #[test]
    fn websocket_frames_in_any_split() {
        let medium: Vec<u8> = (0..300u32).map(|i| i as u8).collect();
        let large: Vec<u8> = (0..70_000u32).map(|i| (i * 7) as u8).collect();
        let mut wire = ws_frame(2, false, b"FLV");
        wire.extend(ws_frame(9, false, b"ping"));
        wire.extend(ws_frame(2, true, &medium));
        wire.extend(ws_frame(10, false, b""));
        wire.extend(ws_frame(0, false, &large));
        wire.extend(ws_frame(2, false, b""));
        let close_at = wire.len();
        wire.extend(ws_frame(8, false, &[0x03, 0xe8]));
        wire.extend(ws_frame(2, false, b"after close"));
        let mut expected = b"FLV".to_vec();
        expected.extend(&medium);
        expected.extend(&large);
        // Every cut through the headers and the first payloads, then a sample of the rest.
        let cuts = (0..400)
            .chain((400..wire.len()).step_by(997))
            .chain([close_at]);
        for cut in cuts {
            let mut d = WsDecoder::default();
            let (out, progress) = ws_decode(&mut d, &[&wire[..cut], &wire[cut..]]).unwrap();
            assert_eq!(out.len(), expected.len(), "cut at {cut}");
            assert!(out == expected, "cut at {cut}");
            assert_eq!(progress, WsProgress::Closed, "cut at {cut}");
        }
        let (_, progress) = ws_decode(&mut WsDecoder::default(), &[&wire[..close_at]]).unwrap();
        assert_eq!(progress, WsProgress::Open);
    }

    #[test]
    fn websocket_frames_a_client_must_refuse() {
        let bad = |wire: &[u8]| ws_decode(&mut WsDecoder::default(), &[wire]).unwrap_err();
        let masked = [0x82, 0x83, 1, 2, 3, 4, 0, 0, 0];
        assert_eq!(bad(&masked), HttpFlvError::WsFrame("masked by the server"));
        assert_eq!(
            bad(&[0xc2, 0x00]),
            HttpFlvError::WsFrame("reserved bits set")
        );
        assert_eq!(
            bad(&ws_frame(1, false, b"{}")),
            HttpFlvError::WsFrame("text message in an FLV stream")
        );
        assert_eq!(
            bad(&ws_frame(9, true, b"")),
            HttpFlvError::WsFrame("fragmented or long control frame")
        );
        assert_eq!(
            bad(&ws_frame(9, false, &[0; 126])),
            HttpFlvError::WsFrame("fragmented or long control frame")
        );
        assert_eq!(
            bad(&ws_frame(3, false, b"")),
            HttpFlvError::WsFrame("unknown opcode")
        );
        let mut huge = vec![0x82, 127];
        huge.extend_from_slice(&u64::MAX.to_be_bytes());
        assert_eq!(bad(&huge), HttpFlvError::WsFrame("length over 2^63"));
    }

    #[test]
    fn websocket_upgrade_head() {
        // RFC 6455 §1.3's example key and answer.
        let accept = websocket_accept("dGhlIHNhbXBsZSBub25jZQ==");
        assert_eq!(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        let r = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nsec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n\x82\x03FLV";
        let (head, used) = ResponseHead::parse(r).unwrap().unwrap();
        assert_eq!(head.status, 101);
        assert_eq!(head.websocket_accept.as_deref(), Some(accept.as_str()));
        assert_eq!(&r[used..], b"\x82\x03FLV");
    }

    fn flv(tags: &[(u8, u32, Vec<u8>)]) -> Vec<u8> {
        let mut out = b"FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00".to_vec();
        for (t, ts, data) in tags {
            let size = data.len() as u32;
            out.push(*t);
            out.extend_from_slice(&size.to_be_bytes()[1..]);
            out.extend_from_slice(&ts.to_be_bytes()[1..]);
            out.push((ts >> 24) as u8);
            out.extend_from_slice(&[0, 0, 0]);
            out.extend_from_slice(data);
            out.extend_from_slice(&(size + 11).to_be_bytes());
        }
        out
    }

    #[test]
    fn scanner_sees_every_tag_in_any_split() {
        let big: Vec<u8> = (0..200u32).map(|i| i as u8).collect();
        let stream = flv(&[
            (18, 0, vec![2, 0, 1, b'x']),
            (9, 0, vec![0x17, 0, 0, 0, 0]),
            (8, 23, vec![0xaf, 1, 7]),
            (9, 0x0100_0040, big.clone()),
            (8, 50, vec![]),
        ]);
        for cut in [0, 1, 5, 13, 14, 30, 100, stream.len()] {
            let mut s = FlvScanner::default();
            let mut seen = Vec::new();
            for part in [&stream[..cut], &stream[cut..]] {
                s.push(part, |t| {
                    seen.push((t.tag_type, t.timestamp, t.data_size, t.head.to_vec()))
                })
                .unwrap();
            }
            assert_eq!(seen.len(), 5, "cut {cut}");
            assert_eq!(seen[1], (9, 0, 5, vec![0x17, 0, 0, 0, 0]));
            assert_eq!(seen[3].1, 0x0100_0040);
            assert_eq!(seen[3].2, 200);
            assert_eq!(seen[3].3, big[..TAG_HEAD].to_vec());
            assert_eq!(seen[4], (8, 50, 0, vec![]));
        }
        let mut s = FlvScanner::default();
        assert_eq!(
            s.push(b"GIF89a...", |_| {}),
            Err(HttpFlvError::NotFlv(*b"GIF"))
        );
    }
}
