//! The part of a session that both roles share once the handshake is over: chunk reader and
//! writer, acknowledgement accounting, the protocol-control replies every peer must give, and the
//! queue of bytes to send.

use std::collections::VecDeque;

use bytes::{Bytes, BytesMut};

use super::{Direction, SessionError, TraceRecord};
use crate::rtmp::chunk::{AckWindow, ChunkLimits, ChunkReader, ChunkWriter, MessageHeader};
use crate::rtmp::handshake::{ClientHandshake, HandshakeError, HandshakeSummary, ServerHandshake};
use crate::rtmp::message::{LimitType, Message, UserControlEvent};

/// Chunk stream ids used for what this side sends, by kind (nginx's RTMP module uses the same).
pub mod csid {
    /// Protocol control and user control messages.
    pub const CONTROL: u32 = 2;
    /// NetConnection commands (connect, createStream and their results).
    pub const CONNECTION: u32 = 3;
    /// NetStream commands and data (onStatus, play, publish, metadata).
    pub const STREAM: u32 = 5;
    /// Audio messages.
    pub const AUDIO: u32 = 6;
    /// Video messages.
    pub const VIDEO: u32 = 7;
}

/// What the sessions need of either side's handshake.
pub(crate) trait Handshake {
    fn feed(&mut self, data: &[u8]) -> Result<usize, HandshakeError>;
    fn poll_transmit(&mut self) -> Option<Bytes>;
    fn is_complete(&self) -> bool;
    fn summary(&self) -> Option<&HandshakeSummary>;
}

macro_rules! handshake_impl {
    ($t:ty) => {
        impl Handshake for $t {
            fn feed(&mut self, data: &[u8]) -> Result<usize, HandshakeError> {
                <$t>::feed(self, data)
            }
            fn poll_transmit(&mut self) -> Option<Bytes> {
                <$t>::poll_transmit(self)
            }
            fn is_complete(&self) -> bool {
                <$t>::is_complete(self)
            }
            fn summary(&self) -> Option<&HandshakeSummary> {
                <$t>::summary(self)
            }
        }
    };
}
handshake_impl!(ServerHandshake);
handshake_impl!(ClientHandshake);

/// Where the bytes of one `feed` go while the handshake runs.
pub(crate) enum HandshakeProgress<'a> {
    /// The handshake took everything and is not done yet.
    Pending,
    /// The handshake completed with this call; `rest` is chunk-stream data that followed it.
    Completed {
        summary: Option<HandshakeSummary>,
        rest: &'a [u8],
    },
    /// The handshake was already over: all of `data` is chunk-stream data.
    Done(&'a [u8]),
}

/// Runs `data` through the handshake while there is one, queueing its replies on `link`, and
/// drops the handshake once it completes.
pub(crate) fn drive_handshake<'a, H: Handshake>(
    handshake: &mut Option<H>,
    link: &mut Link,
    data: &'a [u8],
) -> Result<HandshakeProgress<'a>, HandshakeError> {
    let Some(h) = handshake else {
        return Ok(HandshakeProgress::Done(data));
    };
    let used = h.feed(data)?;
    while let Some(bytes) = h.poll_transmit() {
        link.send_raw(bytes);
    }
    if !h.is_complete() {
        return Ok(HandshakeProgress::Pending);
    }
    let summary = h.summary().copied();
    *handshake = None;
    Ok(HandshakeProgress::Completed {
        summary,
        rest: data.get(used..).unwrap_or_default(),
    })
}

/// One received message: its chunk-level header and its decoded form.
#[derive(Debug, Clone)]
pub struct Received {
    pub csid: u32,
    pub timestamp: u32,
    pub stream_id: u32,
    pub message: Message,
}

/// The chunk-stream half of a session.
#[derive(Debug)]
pub(crate) struct Link {
    reader: ChunkReader,
    writer: ChunkWriter,
    /// Acknowledgements we owe the peer, against the window it announced.
    ack: AckWindow,
    /// The window size we last announced to the peer, if any.
    announced_window: Option<u32>,
    /// Small writes accumulate here and are frozen into `out` before anything else is queued.
    pending: BytesMut,
    out: VecDeque<Bytes>,
    queued_bytes: usize,
    trace: bool,
    traces: VecDeque<TraceRecord>,
}

impl Link {
    pub fn new(limits: ChunkLimits, trace: bool) -> Link {
        Link {
            reader: ChunkReader::new(limits),
            writer: ChunkWriter::new(),
            ack: AckWindow::new(),
            announced_window: None,
            pending: BytesMut::new(),
            out: VecDeque::new(),
            queued_bytes: 0,
            trace,
            traces: VecDeque::new(),
        }
    }

    /// Counts bytes that arrived from the peer (handshake bytes included, as ffmpeg and SRS do),
    /// queueing an Acknowledgement when a window's worth has arrived.
    pub fn count_received(&mut self, n: usize) -> Result<(), SessionError> {
        if let Some(sequence_number) = self.ack.on_received(n as u64) {
            self.send(
                csid::CONTROL,
                0,
                0,
                &Message::Acknowledgement { sequence_number },
            )?;
        }
        Ok(())
    }

    /// Hands chunk-stream bytes to the reader (they must already have been counted).
    pub fn push(&mut self, data: &[u8]) {
        self.reader.push(data);
    }

    /// The next complete message. Protocol control that any peer must honour is handled here:
    /// the peer's window (acknowledgements), Set Peer Bandwidth (answered with our window when it
    /// changes) and pings. Every message is still returned, so the role can see it.
    pub fn next_message(&mut self) -> Result<Option<Received>, SessionError> {
        let Some(raw) = self.reader.poll_message()? else {
            return Ok(None);
        };
        let message = Message::decode(raw.type_id, raw.payload).map_err(|source| {
            SessionError::BadMessage {
                type_id: raw.type_id,
                csid: raw.csid,
                source,
            }
        })?;
        match &message {
            Message::WindowAckSize(size) => self.ack.set_window(*size),
            Message::SetPeerBandwidth {
                window_size,
                limit_type,
            } => {
                // A soft limit only lowers; a dynamic one is treated as hard once a hard limit was
                // seen. Either way the answer is our acknowledgement window when it changes.
                let apply = match limit_type {
                    LimitType::Soft => self.announced_window.is_none_or(|w| *window_size < w),
                    _ => true,
                };
                if apply && self.announced_window != Some(*window_size) {
                    self.announce_window(*window_size)?;
                }
            }
            Message::UserControl(UserControlEvent::PingRequest { timestamp }) => {
                let reply = UserControlEvent::PingResponse {
                    timestamp: *timestamp,
                };
                self.send(csid::CONTROL, 0, 0, &Message::UserControl(reply))?;
            }
            _ => {}
        }
        let received = Received {
            csid: raw.csid,
            timestamp: raw.timestamp,
            stream_id: raw.stream_id,
            message,
        };
        if self.trace {
            self.traces.push_back(TraceRecord {
                direction: Direction::Received,
                csid: received.csid,
                timestamp: received.timestamp,
                stream_id: received.stream_id,
                message: received.message.clone(),
            });
        }
        Ok(Some(received))
    }

    /// Tells the peer how often to acknowledge (Window Acknowledgement Size).
    pub fn announce_window(&mut self, size: u32) -> Result<(), SessionError> {
        self.announced_window = Some(size);
        self.send(csid::CONTROL, 0, 0, &Message::WindowAckSize(size))
    }

    /// Sends Set Chunk Size and uses the new size for everything sent after it.
    pub fn set_chunk_size(&mut self, size: u32) -> Result<(), SessionError> {
        self.send(csid::CONTROL, 0, 0, &Message::SetChunkSize(size))?;
        self.writer.set_chunk_size(size)?;
        Ok(())
    }

    /// The chunk size this side sends with.
    pub fn chunk_size(&self) -> u32 {
        self.writer.chunk_size()
    }

    /// Serializes `message` on `csid` with the most compact headers.
    pub fn send(
        &mut self,
        csid: u32,
        timestamp: u32,
        stream_id: u32,
        message: &Message,
    ) -> Result<(), SessionError> {
        let (type_id, payload) = message.encode();
        self.send_payload(csid, timestamp, stream_id, type_id, &payload)?;
        if self.trace {
            self.traces.push_back(TraceRecord {
                direction: Direction::Sent,
                csid,
                timestamp,
                stream_id,
                message: message.clone(),
            });
        }
        Ok(())
    }

    /// Serializes an already-encoded message body.
    pub fn send_payload(
        &mut self,
        csid: u32,
        timestamp: u32,
        stream_id: u32,
        type_id: u8,
        payload: &[u8],
    ) -> Result<(), SessionError> {
        let before = self.pending.len();
        let header = MessageHeader {
            timestamp,
            type_id,
            stream_id,
        };
        self.writer
            .write_message(csid, &header, payload, &mut self.pending)?;
        self.queued_bytes += self.pending.len() - before;
        Ok(())
    }

    /// Queues bytes that were serialized elsewhere (a frame's chunks shared by many players).
    /// Whoever made them used `csid` with a format-0 first chunk, so our writer's memory of that
    /// chunk stream is forgotten to keep the next message self-describing.
    pub fn send_prepared(&mut self, csid: u32, chunks: Bytes) {
        self.flush_pending();
        self.queued_bytes += chunks.len();
        self.out.push_back(chunks);
        self.writer.reset_chunk_stream(csid);
    }

    /// Prepared chunks went to the transport by another way, after all queued output.
    pub fn sent_prepared_elsewhere(&mut self, csid: u32) {
        self.writer.reset_chunk_stream(csid);
    }

    fn flush_pending(&mut self) {
        if !self.pending.is_empty() {
            self.out.push_back(self.pending.split().freeze());
        }
    }

    /// Queues raw bytes (handshake messages) ahead of anything written later.
    pub fn send_raw(&mut self, bytes: Bytes) {
        self.flush_pending();
        self.queued_bytes += bytes.len();
        self.out.push_back(bytes);
    }

    /// The next buffer to write to the transport, oldest first.
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        self.flush_pending();
        let next = self.out.pop_front()?;
        self.queued_bytes -= next.len();
        Some(next)
    }

    /// Bytes queued and not yet taken by [`Link::poll_transmit`].
    pub fn queued_bytes(&self) -> usize {
        self.queued_bytes
    }

    pub fn poll_trace(&mut self) -> Option<TraceRecord> {
        self.traces.pop_front()
    }

    /// Bytes received but not yet part of a complete message.
    pub fn buffered_input(&self) -> usize {
        self.reader.buffered_len()
    }
}
