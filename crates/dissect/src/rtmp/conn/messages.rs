//! One decoded message: its decoding, the session facts it teaches (URL, role, codecs,
//! request/response pairs) and the checks it goes through, then its event.

use rtmpkit_proto::rtmp::chunk::RawMessage;
use rtmpkit_proto::rtmp::message::{CommandKind, Message};

use super::Conn;
use crate::rtmp::analyzer::Ctx;
use crate::rtmp::checks::Finding;
use crate::rtmp::media::{MediaHeader, describe_audio, describe_video, video_codec_name};
use crate::rtmp::{MessageEvent, ProblemKind, RtmpDir, RtmpEvent, Severity};

impl Conn {
    pub(crate) fn message(&mut self, ctx: &mut Ctx<'_>, dir: RtmpDir, raw: RawMessage) {
        let i = dir.index();
        let now = self.now.0;
        let d = &mut self.dirs[i];
        let frame = d
            .frames
            .frame_at(raw.info.end_offset.saturating_sub(1))
            .unwrap_or(now);
        let chunk_size = if raw.type_id == 1 {
            d.chunk_size
        } else {
            d.reader.chunk_size()
        };
        d.chunk_size = d.reader.chunk_size();
        let chunk_size_now = d.chunk_size;
        let first_fmt = raw.info.first_fmt;
        let mut starts_without_type0 = false;
        let known = if first_fmt == 0 {
            d.ts_known.insert(raw.csid, true);
            true
        } else {
            match d.ts_known.get(&raw.csid) {
                Some(&k) => k,
                None => {
                    d.ts_known.insert(raw.csid, false);
                    starts_without_type0 = d.from_start;
                    false
                }
            }
        };
        if starts_without_type0 {
            self.problem(ctx, Some(dir), frame, ProblemKind::FirstChunkNotType0, Severity::Warning, format!(
                "chunk stream {} starts with a type {first_fmt} header (RTMP requires type 0 first): message stream id assumed {}, timestamps count from its first delta",
                raw.csid, raw.stream_id
            ));
        }
        let report = &mut self.report.dirs[i];
        report.messages += 1;
        *report.by_type.entry(raw.type_id).or_insert(0) += 1;
        report.chunk_size = chunk_size_now;

        let message = Message::decode(raw.type_id, raw.payload.clone());
        let media = MediaHeader::decode(raw.type_id, &raw.payload);
        let mut found = Vec::new();
        let mut request_frame = None;
        let mut response_frame = None;
        let mut url = None;
        match &message {
            Err(e) => found.push((
                ProblemKind::BadMessage,
                Severity::Error,
                format!(
                    "{} on chunk stream {} does not decode: {e}",
                    rtmpkit_proto::rtmp::message::type_name(raw.type_id),
                    raw.csid
                ),
            )),
            Ok(Message::Unknown { type_id, payload }) => found.push((
                ProblemKind::UnknownType,
                Severity::Warning,
                format!(
                    "message type {type_id} ({} bytes) on chunk stream {} is not an RTMP message type: kept as bytes",
                    payload.len(),
                    raw.csid
                ),
            )),
            Ok(Message::SetChunkSize(v)) if *v > 0x00FF_FFFF => found.push((
                ProblemKind::InvalidChunkSize,
                Severity::Note,
                format!(
                    "chunk size {v} is larger than any message can be (16777215 bytes): every message now travels in one chunk"
                ),
            )),
            Ok(Message::WindowAckSize(w)) => self.dirs[i].checks.window = Some((*w, frame)),
            Ok(Message::Acknowledgement { sequence_number }) => {
                let o = &mut self.dirs[dir.reverse().index()];
                let sent = o.reader.bytes_received();
                o.checks.acknowledged(*sequence_number, sent);
            }
            Ok(m) => {
                if let Some(cmd) = m.as_command() {
                    let txn = cmd.transaction_id();
                    match cmd.kind() {
                        CommandKind::Result(_) | CommandKind::Error(_) => {
                            if let Some(req) = self.pending.remove(&(dir.reverse(), txn.to_bits())) {
                                request_frame = Some(req);
                                ctx.found.insert(self.report.index, req, txn, frame);
                            }
                        }
                        CommandKind::OnStatus(_) => {}
                        _ if txn != 0.0 => {
                            if self.pending.len() > 4096 {
                                self.pending.clear();
                            }
                            self.pending.insert((dir, txn.to_bits()), frame);
                            response_frame = ctx
                                .config
                                .transactions
                                .as_ref()
                                .and_then(|t| t.response(self.report.index, frame, txn));
                        }
                        _ => {}
                    }
                    if dir == RtmpDir::C2S {
                        url = self.report.learn(cmd, Some(self.server));
                    }
                }
            }
        }
        if let Some(h) = &media {
            self.media(dir, &raw, known, h, &mut found);
        }
        let sender = if dir == RtmpDir::C2S {
            "client"
        } else {
            "server"
        };
        let peer = if dir == RtmpDir::C2S {
            "server"
        } else {
            "client"
        };
        self.dirs[i]
            .checks
            .sent(raw.info.end_offset, sender, peer, &mut found);
        let d = &mut self.dirs[i];
        if raw.stream_id != 0
            && raw.stream_id != d.open_sid
            && matches!(raw.type_id, 8 | 9 | 18 | 20)
        {
            d.open_sid = raw.stream_id;
            d.reader.set_open_on_type1(Some(raw.stream_id));
        }
        self.findings(ctx, dir, frame, found);
        let stream_offset = raw.info.start_offset;
        ctx.out.push(RtmpEvent::Message(Box::new(MessageEvent {
            frame,
            at: self.conn_ref(dir),
            csid: raw.csid,
            timestamp: raw.timestamp,
            timestamp_known: known,
            type_id: raw.type_id,
            stream_id: raw.stream_id,
            payload: raw.payload,
            length: raw.length,
            chunk: raw.info,
            stream_offset,
            chunk_size,
            message,
            media,
            request_frame,
            response_frame,
            url,
        })));
    }

    fn media(
        &mut self,
        dir: RtmpDir,
        raw: &RawMessage,
        known: bool,
        h: &MediaHeader,
        found: &mut Vec<Finding>,
    ) {
        let i = dir.index();
        let from_start = self.dirs[i].from_start;
        self.dirs[i]
            .checks
            .media(raw.stream_id, raw.timestamp, known, h, from_start, found);
        match h {
            MediaHeader::Video(v, off) => {
                let body = raw.payload.get(*off..).unwrap_or_default();
                match describe_video(v, body) {
                    Some(Ok(desc)) => self.report.video = Some(desc),
                    Some(Err(e)) => found.push((
                        ProblemKind::BadMessage,
                        Severity::Error,
                        format!("video sequence header does not decode: {e}"),
                    )),
                    None => {
                        if self.report.video.is_none()
                            && let Some(c) = v.codec()
                        {
                            self.report.video = Some(crate::rtmp::VideoDescription {
                                codec: video_codec_name(c),
                                profile: None,
                                level: None,
                                size: None,
                                parameter_sets: Vec::new(),
                            });
                        }
                    }
                }
            }
            MediaHeader::Audio(a, off) => {
                if a.is_sequence_header() || self.report.audio.is_none() {
                    let body = raw.payload.get(*off..).unwrap_or_default();
                    if let Some(desc) = describe_audio(a, body) {
                        self.report.audio = Some(desc);
                    }
                }
            }
            MediaHeader::Bad(e) => found.push((
                ProblemKind::BadMessage,
                Severity::Warning,
                format!("media tag header does not decode: {e}"),
            )),
        }
    }
}
