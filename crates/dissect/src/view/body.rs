//! The tree of one RTMP message (header and body) and of a handshake part.

use rtmpkit_proto::rtmp::handshake::{ChallengeInfo, HandshakeScheme, ResponseKind};
use rtmpkit_proto::rtmp::message::{Message, SharedObjectMessage, UserControlEvent, type_name};

use super::amf::amf0_tree;
use crate::rtmp::{
    HandshakeEvent, HandshakePart, MessageEvent, digest_schema_name, handshake_version,
};

fn line(out: &mut String, depth: usize, text: &str) {
    for _ in 0..depth {
        out.push_str("    ");
    }
    out.push_str(text);
    out.push('\n');
}

/// Appends the tree of a handshake part.
pub fn handshake_tree(out: &mut String, h: &HandshakeEvent) {
    line(
        out,
        0,
        &format!("Real Time Messaging Protocol ({})", h.part.name()),
    );
    if let Some(v) = h.version {
        let what = match v {
            3 => "plain RTMP",
            6 | 8 | 9 => "encrypted RTMPE",
            _ => "not a known RTMP version",
        };
        line(out, 1, &format!("Protocol version: {v} ({what})"));
    }
    let (challenge, response) = match h.part {
        HandshakePart::C0C1 => ("C1", None),
        HandshakePart::S0S1S2 => ("S1", Some(("S2", "C1"))),
        HandshakePart::C2 => ("", Some(("C2", "S1"))),
    };
    if let Some(c) = &h.challenge {
        challenge_lines(out, challenge, c);
    }
    if let Some((name, answers)) = response {
        let what = match h.response {
            Some(ResponseKind::Echo) => format!("echo of {answers}"),
            Some(ResponseKind::DigestResponse) => {
                format!("digest answer to {answers}'s digest (verifies)")
            }
            Some(ResponseKind::Unrecognized) => format!(
                "neither an echo of {answers} nor a valid digest answer (many peers never check it)"
            ),
            None => format!("not checked: {answers} was not captured"),
        };
        line(out, 1, &format!("{name}: {what}"));
    }
    line(out, 1, &format!("[Stream offset: {}]", h.stream_offset));
}

fn challenge_lines(out: &mut String, name: &str, c: &ChallengeInfo) {
    line(out, 1, &format!("{name} time: {}", c.time));
    let version = handshake_version(c.version);
    let scheme = match c.scheme() {
        HandshakeScheme::Simple if c.claims_digest() => {
            format!("{name} version: {version} (claims the digest scheme, but no digest verifies)")
        }
        HandshakeScheme::Simple => format!("{name} version: {version} (zero: simple handshake)"),
        HandshakeScheme::Digest(_) => format!("{name} version: {version}"),
    };
    line(out, 1, &scheme);
    if let Some(d) = &c.digest {
        line(
            out,
            1,
            &format!(
                "{name} digest: {} at byte {}, verifies (digest handshake)",
                digest_schema_name(d.schema),
                d.offset
            ),
        );
    }
}

fn fmt_bits(fmt: u8, csid: u32) -> (String, String) {
    let f = format!("{:02b}.. .... = Format: {fmt}", fmt & 3);
    let c = if csid < 64 {
        let b = csid as u8;
        format!(
            "..{:02b} {:04b} = Chunk Stream ID: {csid}",
            (b >> 4) & 3,
            b & 0x0f
        )
    } else if csid < 320 {
        format!(
            "..00 0000 = Chunk Stream ID: {csid} (2-byte basic header: 64 + {})",
            csid - 64
        )
    } else {
        format!(
            "..00 0001 = Chunk Stream ID: {csid} (3-byte basic header: 64 + {})",
            csid - 64
        )
    };
    (f, c)
}

/// Appends the tree of a message: header as Wireshark shows it, then the body.
pub fn message_tree(out: &mut String, m: &MessageEvent) {
    let mut summary = String::new();
    let _ = m.write_summary(&mut summary);
    let prefix = type_name_short(m);
    let title = if prefix.is_empty() || summary == prefix {
        summary
    } else {
        format!("{prefix} {summary}")
    };
    line(out, 0, &format!("Real Time Messaging Protocol ({title})"));
    if let Some(f) = m.response_frame {
        line(out, 1, &format!("Response to this call in frame: {f}"));
    }
    if let Some(f) = m.request_frame {
        line(out, 1, &format!("Call for this response in frame: {f}"));
    }
    if let Some(url) = &m.url {
        line(out, 1, &format!("[Stream URL: {url}]"));
    }
    line(out, 1, "RTMP Header");
    let (f, c) = fmt_bits(m.chunk.first_fmt, m.csid);
    line(out, 2, &f);
    line(out, 2, &c);
    let ts_note = if m.timestamp_known {
        ""
    } else {
        " (base unknown: this chunk stream's type 0 header was not captured)"
    };
    match m.chunk.first_fmt {
        0 => line(out, 2, &format!("Timestamp: {}{ts_note}", m.timestamp)),
        1 | 2 => {
            line(
                out,
                2,
                &format!("Timestamp delta: {}", m.chunk.timestamp_field),
            );
            line(
                out,
                2,
                &format!("[Timestamp: {} (calculated){ts_note}]", m.timestamp),
            );
        }
        _ => {
            line(
                out,
                2,
                &format!("[Timestamp delta: {} (inherited)]", m.chunk.timestamp_field),
            );
            line(
                out,
                2,
                &format!("[Timestamp: {} (calculated){ts_note}]", m.timestamp),
            );
        }
    }
    if m.chunk.extended_timestamp {
        line(
            out,
            2,
            &format!("Extended timestamp: {}", m.chunk.timestamp_field),
        );
    }
    line(out, 2, &format!("Body size: {}", m.length));
    line(
        out,
        2,
        &format!("Type ID: {} (0x{:02x})", type_name(m.type_id), m.type_id),
    );
    let sid_note = if m.chunk.first_fmt == 0 {
        ""
    } else {
        " (from an earlier header)"
    };
    line(out, 2, &format!("Stream ID: {}{sid_note}", m.stream_id));
    let mut chunks = format!(
        "[Chunks: {} at chunk size {}, stream offset {}..{}",
        m.chunk.chunk_count, m.chunk_size, m.stream_offset, m.chunk.end_offset
    );
    if m.chunk.missing_extended_repeats > 0 {
        chunks.push_str(&format!(
            ", {} continuation chunks without the extended timestamp",
            m.chunk.missing_extended_repeats
        ));
    }
    chunks.push(']');
    line(out, 2, &chunks);
    line(out, 1, "RTMP Body");
    body(out, m);
}

fn type_name_short(m: &MessageEvent) -> String {
    match m.type_id {
        1..=6 | 8 | 9 => String::new(),
        _ => type_name(m.type_id),
    }
}

fn body(out: &mut String, m: &MessageEvent) {
    let d = 2;
    let msg = match &m.message {
        Ok(msg) => msg,
        Err(e) => {
            line(out, d, &format!("[Malformed: {e}]"));
            hex_preview(out, d, &m.payload);
            return;
        }
    };
    match msg {
        Message::SetChunkSize(v) => line(out, d, &format!("Chunk size: {v}")),
        Message::Abort { chunk_stream_id } => {
            line(out, d, &format!("Chunk stream ID: {chunk_stream_id}"))
        }
        Message::Acknowledgement { sequence_number } => {
            line(out, d, &format!("Sequence number: {sequence_number}"))
        }
        Message::WindowAckSize(v) => line(out, d, &format!("Window acknowledgement size: {v}")),
        Message::SetPeerBandwidth {
            window_size,
            limit_type,
        } => {
            line(out, d, &format!("Window size: {window_size}"));
            line(
                out,
                d,
                &format!("Limit type: {limit_type} ({})", limit_type.to_u8()),
            );
        }
        Message::UserControl(ev) => user_control(out, d, ev),
        Message::Audio(_) | Message::Video(_) => super::media_tree::media(out, d, m),
        Message::Command(c) | Message::CommandAmf3(c) => {
            for v in c.values() {
                amf0_tree(out, d, v);
            }
        }
        Message::Data(x) | Message::DataAmf3(x) => {
            for v in x.values() {
                amf0_tree(out, d, v);
            }
        }
        Message::SharedObject(b) | Message::SharedObjectAmf3(b) => {
            match SharedObjectMessage::decode(b) {
                Ok(so) => {
                    line(
                        out,
                        d,
                        &format!("Shared object: '{}' version {}", so.name, so.version),
                    );
                    for ev in &so.events {
                        line(
                            out,
                            d + 1,
                            &format!("Event {:?} ({} bytes)", ev.event_type, ev.data.len()),
                        );
                    }
                }
                Err(e) => line(out, d, &format!("[Malformed shared object: {e}]")),
            }
        }
        Message::Aggregate(a) => {
            line(out, d, &format!("Aggregate of {} messages", a.parts.len()));
            for p in &a.parts {
                line(
                    out,
                    d + 1,
                    &format!(
                        "{} (0x{:02x}), timestamp {}, stream {}, {} bytes",
                        type_name(p.type_id),
                        p.type_id,
                        p.timestamp,
                        p.stream_id,
                        p.payload.len()
                    ),
                );
            }
        }
        Message::Unknown { payload, .. } => {
            line(out, d, "[Unknown message type: the body is kept as bytes]");
            hex_preview(out, d, payload);
        }
    }
}

fn hex_preview(out: &mut String, d: usize, b: &[u8]) {
    let shown: String = b.iter().take(32).map(|x| format!("{x:02x}")).collect();
    let more = if b.len() > 32 { "…" } else { "" };
    line(out, d, &format!("Data ({} bytes): {shown}{more}", b.len()));
}

fn user_control(out: &mut String, d: usize, ev: &UserControlEvent) {
    line(
        out,
        d,
        &format!("Event type: {} ({})", ev.event_name(), ev.event_type()),
    );
    match ev {
        UserControlEvent::SetBufferLength {
            stream_id,
            buffer_ms,
        } => {
            line(out, d, &format!("Stream ID: {stream_id}"));
            line(out, d, &format!("Buffer length: {buffer_ms} ms"));
        }
        UserControlEvent::PingRequest { timestamp }
        | UserControlEvent::PingResponse { timestamp } => {
            line(out, d, &format!("Timestamp: {timestamp}"))
        }
        UserControlEvent::SwfVerificationResponse { data }
        | UserControlEvent::Unknown { data, .. } => hex_preview(out, d, data),
        other => {
            if let Some(id) = other.stream_id() {
                line(out, d, &format!("Stream ID: {id}"));
            }
        }
    }
}
