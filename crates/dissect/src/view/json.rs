//! One JSON object per line: each RTMP message (`"kind":"message"`), handshake part, problem
//! and RTP/TS datagram as the capture is read, then one per connection and UDP stream.

use std::io::{self, Write};

use rtmpkit_proto::flv::{AudioTagHeader, VideoTagHeader};
use rtmpkit_proto::rtmp::handshake::ResponseKind;
use rtmpkit_proto::rtmp::message::{Message, UserControlEvent, type_name};
use rtmpkit_proto::rtp::RtpPacket;
use serde_json::{Map, Value, json};

use super::amf::amf0_json;
use super::{View, flows};
use crate::dissector::{DissectReport, FrameContent, FrameCtx, FrameObserver};
use crate::rtmp::{
    HandshakeEvent, MediaHeader, MessageEvent, Problem, RtmpEvent, describe_audio, describe_video,
};
use crate::rtp_ts::UdpPayloadKind;

/// The `json` format.
pub struct JsonView<W: Write> {
    out: W,
}

impl<W: Write> JsonView<W> {
    /// A view writing to `out`.
    pub fn new(out: W) -> Self {
        JsonView { out }
    }

    fn emit(&mut self, v: &Value) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, v)?;
        self.out.write_all(b"\n")
    }
}

fn media_json(m: &MessageEvent) -> Value {
    let mut o = Map::new();
    match &m.media {
        Some(MediaHeader::Video(h, off)) => {
            let body = m.payload.get(*off..).unwrap_or_default();
            o.insert(
                "codec".into(),
                json!(h.codec().map(crate::rtmp::video_codec_name)),
            );
            o.insert("frame_type".into(), json!(format!("{:?}", h.frame_type())));
            o.insert("keyframe".into(), json!(h.is_keyframe()));
            o.insert("sequence_header".into(), json!(h.is_sequence_header()));
            o.insert("composition_time".into(), json!(h.composition_time()));
            o.insert(
                "enhanced".into(),
                json!(matches!(h, VideoTagHeader::Enhanced(_))),
            );
            if let Some(Ok(d)) = describe_video(h, body) {
                o.insert(
                    "config".into(),
                    json!({
                        "profile": d.profile, "level": d.level,
                        "width": d.size.map(|s| s.0), "height": d.size.map(|s| s.1),
                    }),
                );
            }
            o.insert("data_len".into(), json!(m.body_len(*off)));
        }
        Some(MediaHeader::Audio(h, off)) => {
            let body = m.payload.get(*off..).unwrap_or_default();
            o.insert(
                "codec".into(),
                json!(h.codec().map(crate::rtmp::audio_codec_name)),
            );
            o.insert("sequence_header".into(), json!(h.is_sequence_header()));
            o.insert(
                "enhanced".into(),
                json!(matches!(h, AudioTagHeader::Enhanced(_))),
            );
            if h.is_sequence_header()
                && let Some(d) = describe_audio(h, body)
            {
                o.insert(
                    "config".into(),
                    json!({"codec": d.codec, "rate": d.rate, "channels": d.channels}),
                );
            }
            o.insert("data_len".into(), json!(m.body_len(*off)));
        }
        Some(MediaHeader::Bad(e)) => {
            o.insert("error".into(), json!(e.to_string()));
        }
        None => {}
    }
    Value::Object(o)
}

fn body_json(m: &MessageEvent) -> Value {
    let msg = match &m.message {
        Ok(msg) => msg,
        Err(e) => return json!({"error": e.to_string(), "length": m.length}),
    };
    match msg {
        Message::SetChunkSize(v) => json!({"chunk_size": v}),
        Message::Abort { chunk_stream_id } => json!({"chunk_stream_id": chunk_stream_id}),
        Message::Acknowledgement { sequence_number } => {
            json!({"sequence_number": sequence_number})
        }
        Message::WindowAckSize(v) => json!({"window_size": v}),
        Message::SetPeerBandwidth {
            window_size,
            limit_type,
        } => json!({"window_size": window_size, "limit_type": limit_type.to_string()}),
        Message::UserControl(ev) => {
            let mut o = json!({"event": ev.event_name(), "event_type": ev.event_type()});
            if let Some(id) = ev.stream_id() {
                o["stream_id"] = json!(id);
            }
            match ev {
                UserControlEvent::SetBufferLength { buffer_ms, .. } => {
                    o["buffer_ms"] = json!(buffer_ms)
                }
                UserControlEvent::PingRequest { timestamp }
                | UserControlEvent::PingResponse { timestamp } => o["timestamp"] = json!(timestamp),
                _ => {}
            }
            o
        }
        Message::Audio(_) | Message::Video(_) => media_json(m),
        Message::Command(c) | Message::CommandAmf3(c) => json!({
            "name": c.name(),
            "transaction_id": c.transaction_id(),
            "values": c.values().iter().map(amf0_json).collect::<Vec<_>>(),
        }),
        Message::Data(d) | Message::DataAmf3(d) => json!({
            "name": d.name(),
            "values": d.values().iter().map(amf0_json).collect::<Vec<_>>(),
        }),
        Message::Aggregate(a) => json!({
            "messages": a.parts.iter().map(|p| json!({
                "type_id": p.type_id, "type": type_name(p.type_id),
                "timestamp": p.timestamp, "stream_id": p.stream_id, "length": p.payload.len(),
            })).collect::<Vec<_>>(),
        }),
        Message::SharedObject(b) | Message::SharedObjectAmf3(b) => json!({"length": b.len()}),
        Message::Unknown { payload, .. } => {
            let hex: String = payload
                .iter()
                .take(64)
                .map(|x| format!("{x:02x}"))
                .collect();
            json!({"length": payload.len(), "hex": hex})
        }
    }
}

fn message_json(m: &MessageEvent, time: f64) -> Value {
    let mut summary = String::new();
    let _ = m.write_summary(&mut summary);
    let mut o = json!({
        "kind": "message",
        "frame": m.frame,
        "time": time,
        "conn": m.at.conn,
        "src": m.at.src.to_string(),
        "dst": m.at.dst.to_string(),
        "dir": m.at.dir.as_str(),
        "csid": m.csid,
        "fmt": m.chunk.first_fmt,
        "type_id": m.type_id,
        "type": type_name(m.type_id),
        "summary": summary,
        "timestamp": m.timestamp,
        "timestamp_known": m.timestamp_known,
        "stream_id": m.stream_id,
        "length": m.length,
        "chunks": m.chunk.chunk_count,
        "chunk_size": m.chunk_size,
        "extended_timestamp": m.chunk.extended_timestamp,
        "stream_offset": m.stream_offset,
        "body": body_json(m),
    });
    if m.chunk.first_fmt != 0 {
        o["timestamp_delta"] = json!(m.chunk.timestamp_field);
    }
    if let Some(f) = m.request_frame {
        o["request_frame"] = json!(f);
    }
    if let Some(f) = m.response_frame {
        o["response_frame"] = json!(f);
    }
    if let Some(u) = &m.url {
        o["url"] = json!(u);
    }
    o
}

fn handshake_json(h: &HandshakeEvent, time: f64) -> Value {
    let mut o = json!({
        "kind": "handshake",
        "frame": h.frame,
        "time": time,
        "conn": h.at.conn,
        "src": h.at.src.to_string(),
        "dst": h.at.dst.to_string(),
        "dir": h.at.dir.as_str(),
        "part": h.part.name(),
        "stream_offset": h.stream_offset,
    });
    if let Some(v) = h.version {
        o["version"] = json!(v);
    }
    if let Some(c) = &h.challenge {
        o["time_field"] = json!(c.time);
        o["version_field"] = json!(crate::rtmp::handshake_version(c.version));
        o["digest"] = match &c.digest {
            Some(d) => {
                json!({"schema": crate::rtmp::digest_schema_name(d.schema), "offset": d.offset, "verified": true})
            }
            None => Value::Null,
        };
    }
    if let Some(r) = h.response {
        o["response"] = json!(match r {
            ResponseKind::Echo => "echo",
            ResponseKind::DigestResponse => "digest",
            ResponseKind::Unrecognized => "unrecognized",
        });
    }
    o
}

fn problem_json(p: &Problem) -> Value {
    let mut o = json!({
        "kind": "problem",
        "frame": p.frame,
        "severity": p.severity.as_str(),
        "problem": p.kind.as_str(),
        "text": p.text,
    });
    if let Some(at) = &p.at {
        o["conn"] = json!(at.conn);
        o["dir"] = json!(at.dir.as_str());
        o["src"] = json!(at.src.to_string());
        o["dst"] = json!(at.dst.to_string());
    }
    o
}

impl<W: Write> FrameObserver for JsonView<W> {
    fn frame(&mut self, f: &FrameCtx<'_>, events: &[RtmpEvent]) -> io::Result<()> {
        for ev in events {
            let v = match ev {
                RtmpEvent::Message(m) => message_json(m, f.rel_time),
                RtmpEvent::Handshake(h) => handshake_json(h, f.rel_time),
                RtmpEvent::Problem(p) => problem_json(p),
            };
            self.emit(&v)?;
        }
        if let FrameContent::Udp {
            datagram,
            kind: Some(kind),
        } = &f.content
        {
            let mut o = json!({
                "kind": match kind { UdpPayloadKind::Rtp => "rtp", UdpPayloadKind::MpegTs => "mp2t" },
                "frame": f.frame,
                "time": f.rel_time,
                "src": datagram.src.to_string(),
                "dst": datagram.dst.to_string(),
                "length": datagram.payload.len(),
            });
            if *kind == UdpPayloadKind::Rtp
                && let Ok(p) = RtpPacket::decode(datagram.payload)
            {
                let h = &p.header;
                o["rtp"] = json!({
                    "payload_type": h.payload_type, "sequence": h.sequence,
                    "timestamp": h.timestamp, "ssrc": h.ssrc, "marker": h.marker,
                    "csrc_count": h.csrcs().len(), "extension": h.extension.is_some(),
                    "padding": h.padding,
                });
            }
            let mut info = String::new();
            let _ = super::udp::summary(*kind, datagram.payload, &mut info);
            o["summary"] = json!(info);
            self.emit(&o)?;
        }
        Ok(())
    }

    fn trailing(&mut self, events: &[RtmpEvent]) -> io::Result<()> {
        for ev in events {
            let v = match ev {
                RtmpEvent::Message(m) => message_json(m, f64::NAN),
                RtmpEvent::Handshake(h) => handshake_json(h, f64::NAN),
                RtmpEvent::Problem(p) => problem_json(p),
            };
            self.emit(&v)?;
        }
        Ok(())
    }
}

impl<W: Write> View for JsonView<W> {
    fn finish(&mut self, report: &DissectReport) -> io::Result<()> {
        for v in flows::report_json(report) {
            self.emit(&v)?;
        }
        self.out.flush()
    }
}
