//! The tree of one RTMP message (header and body) and of a handshake part.

use rtmpkit_proto::flv::{
    AacPacketType, AudioTagHeader, AvcPacketType, ExVideoContent, LegacyVideoPacket,
    VideoPacketType, VideoTagHeader,
};
use rtmpkit_proto::rtmp::handshake::{ChallengeInfo, HandshakeScheme, ResponseKind};
use rtmpkit_proto::rtmp::message::{Message, SharedObjectMessage, UserControlEvent, type_name};

use super::amf::amf0_tree;
use crate::rtmp::{
    HandshakeEvent, HandshakePart, MediaHeader, MessageEvent, describe_audio, describe_video,
    digest_schema_name, handshake_version, video_codec_name, video_needs_sequence_header,
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
    line(out, 2, &format!("Body size: {}", m.payload.len()));
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
        Message::Audio(_) | Message::Video(_) => media(out, d, m),
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

fn frame_type_name(v: u8) -> &'static str {
    match v {
        1 => "keyframe",
        2 => "inter frame",
        3 => "disposable inter frame",
        4 => "generated keyframe",
        5 => "video info/command frame",
        _ => "reserved",
    }
}

fn codec_id_name(v: u8) -> &'static str {
    match v {
        1 => "JPEG",
        2 => "Sorenson H.263",
        3 => "Screen video",
        4 => "On2 VP6",
        5 => "On2 VP6 with alpha",
        6 => "Screen video v2",
        7 => "H.264/AVC",
        12 => "HEVC",
        _ => "unknown",
    }
}

fn sound_format_name(v: u8) -> &'static str {
    match v {
        0 => "Linear PCM, platform endian",
        1 => "ADPCM",
        2 => "MP3",
        3 => "Linear PCM, little endian",
        4 => "Nellymoser 16 kHz mono",
        5 => "Nellymoser 8 kHz mono",
        6 => "Nellymoser",
        7 => "G.711 A-law",
        8 => "G.711 mu-law",
        9 => "enhanced (FourCC follows)",
        10 => "AAC",
        11 => "Speex",
        14 => "MP3 8 kHz",
        15 => "Device-specific",
        _ => "reserved",
    }
}

fn media(out: &mut String, d: usize, m: &MessageEvent) {
    let first = m.payload.first().copied().unwrap_or(0);
    let Some(header) = &m.media else { return };
    match header {
        MediaHeader::Bad(e) => {
            line(out, d, &format!("[Malformed tag header: {e}]"));
        }
        MediaHeader::Video(h, off) => {
            let body = m.payload.get(*off..).unwrap_or_default();
            video(out, d, first, h, body);
            line(out, d, &format!("Video data: {} bytes", body.len()));
        }
        MediaHeader::Audio(h, off) => {
            let body = m.payload.get(*off..).unwrap_or_default();
            audio(out, d, first, h, body);
            line(out, d, &format!("Audio data: {} bytes", body.len()));
        }
    }
}

fn video(out: &mut String, d: usize, first: u8, h: &VideoTagHeader, body: &[u8]) {
    let ft = (first >> 4) & 0x07;
    match h {
        VideoTagHeader::Legacy(l) => {
            let cid = first & 0x0f;
            line(
                out,
                d,
                &format!(
                    "Control: 0x{first:02x} ({} {})",
                    frame_type_name(ft),
                    codec_id_name(cid)
                ),
            );
            line(
                out,
                d + 1,
                &format!(
                    "{:04b} .... = Type: {} ({ft})",
                    first >> 4,
                    frame_type_name(ft)
                ),
            );
            line(
                out,
                d + 1,
                &format!(".... {cid:04b} = Format: {} ({cid})", codec_id_name(cid)),
            );
            match l.packet {
                LegacyVideoPacket::Avc {
                    packet_type,
                    composition_time,
                } => {
                    let pt = match packet_type {
                        AvcPacketType::SequenceHeader => "sequence header (0)".to_owned(),
                        AvcPacketType::Nalu => "NALU (1)".to_owned(),
                        AvcPacketType::EndOfSequence => "end of sequence (2)".to_owned(),
                        AvcPacketType::Other(v) => format!("reserved ({v})"),
                    };
                    let name = if cid == 12 { "HEVC" } else { "AVC" };
                    line(out, d, &format!("{name} packet type: {pt}"));
                    line(out, d, &format!("Composition time: {composition_time}"));
                }
                LegacyVideoPacket::Command(c) => line(out, d, &format!("Video command: {c:?}")),
                LegacyVideoPacket::Frame => {
                    if let Some(c) = h.codec()
                        && !video_needs_sequence_header(c)
                    {
                        line(
                            out,
                            d,
                            &format!(
                                "[{} has no sequence header (no SPS/PPS): each keyframe carries the picture size and decodes on its own, so nothing is missing]",
                                video_codec_name(c)
                            ),
                        );
                    }
                }
            }
        }
        VideoTagHeader::Enhanced(e) => {
            line(
                out,
                d,
                &format!(
                    "Control: 0x{first:02x} (enhanced RTMP, {})",
                    frame_type_name(ft)
                ),
            );
            line(out, d + 1, "1... .... = IsExHeader: true");
            line(
                out,
                d + 1,
                &format!(
                    ".{:03b} .... = Frame type: {} ({ft})",
                    ft,
                    frame_type_name(ft)
                ),
            );
            let pt = match e.packet_type {
                VideoPacketType::SequenceStart => "SequenceStart (0)".to_owned(),
                VideoPacketType::CodedFrames => "CodedFrames (1)".to_owned(),
                VideoPacketType::SequenceEnd => "SequenceEnd (2)".to_owned(),
                VideoPacketType::CodedFramesX => "CodedFramesX (3)".to_owned(),
                VideoPacketType::Metadata => "Metadata (4)".to_owned(),
                VideoPacketType::Mpeg2TsSequenceStart => "MPEG2TSSequenceStart (5)".to_owned(),
                VideoPacketType::Reserved(v) => format!("reserved ({v})"),
            };
            line(out, d + 1, &format!("Packet type: {pt}"));
            for m in &e.mod_ex {
                line(
                    out,
                    d + 1,
                    &format!("ModEx type {} ({} bytes)", m.mod_ex_type, m.data.len()),
                );
            }
            match &e.content {
                ExVideoContent::Command(c) => line(out, d, &format!("Video command: {c:?}")),
                ExVideoContent::Single {
                    fourcc,
                    composition_time,
                } => {
                    line(out, d, &format!("FourCC: '{fourcc}'"));
                    if let Some(ct) = composition_time {
                        line(out, d, &format!("Composition time: {ct}"));
                    }
                }
                ExVideoContent::Multitrack { mode, fourcc } => {
                    line(
                        out,
                        d,
                        &format!(
                            "Multitrack: {mode:?}{}",
                            fourcc
                                .map(|f| format!(", FourCC '{f}'"))
                                .unwrap_or_default()
                        ),
                    );
                    for t in e.tracks(body) {
                        match t {
                            Ok(t) => line(
                                out,
                                d + 1,
                                &format!(
                                    "Track {}: '{}'{}, {} bytes",
                                    t.track_id,
                                    t.fourcc,
                                    t.composition_time
                                        .map(|c| format!(", composition time {c}"))
                                        .unwrap_or_default(),
                                    t.data.len()
                                ),
                            ),
                            Err(e) => line(out, d + 1, &format!("[Malformed track: {e}]")),
                        }
                    }
                }
            }
        }
    }
    match describe_video(h, body) {
        Some(Ok(desc)) => {
            let sets: Vec<String> = desc
                .parameter_sets
                .iter()
                .map(|(n, c)| format!("{c} {n}"))
                .collect();
            let record = if matches!(h.codec(), Some(rtmpkit_proto::flv::VideoCodec::Hevc)) {
                "HEVCDecoderConfigurationRecord"
            } else {
                "AVCDecoderConfigurationRecord"
            };
            line(
                out,
                d,
                &format!(
                    "{record}: {}{}",
                    desc.short(),
                    if sets.is_empty() {
                        String::new()
                    } else {
                        format!(", {}", sets.join(", "))
                    }
                ),
            );
        }
        Some(Err(e)) => line(out, d, &format!("[Malformed decoder configuration: {e}]")),
        None => {}
    }
}

fn audio(out: &mut String, d: usize, first: u8, h: &AudioTagHeader, body: &[u8]) {
    let fmt = first >> 4;
    match h {
        AudioTagHeader::Legacy(l) => {
            let rate = ["5.5 kHz", "11 kHz", "22 kHz", "44 kHz"][usize::from((first >> 2) & 3)];
            let size = if first & 2 != 0 { "16 bit" } else { "8 bit" };
            let ch = if first & 1 != 0 { "stereo" } else { "mono" };
            line(
                out,
                d,
                &format!(
                    "Control: 0x{first:02x} ({} {rate} {size} {ch})",
                    sound_format_name(fmt)
                ),
            );
            line(
                out,
                d + 1,
                &format!(
                    "{fmt:04b} .... = Format: {} ({fmt})",
                    sound_format_name(fmt)
                ),
            );
            line(
                out,
                d + 1,
                &format!(
                    ".... {:02b}.. = Sample rate: {rate} ({})",
                    (first >> 2) & 3,
                    (first >> 2) & 3
                ),
            );
            line(
                out,
                d + 1,
                &format!(
                    ".... ..{}. = Sample size: {size} ({})",
                    (first >> 1) & 1,
                    (first >> 1) & 1
                ),
            );
            line(
                out,
                d + 1,
                &format!(".... ...{} = Channels: {ch} ({})", first & 1, first & 1),
            );
            if let Some(pt) = l.aac_packet_type {
                let pt = match pt {
                    AacPacketType::SequenceHeader => "sequence header (0)".to_owned(),
                    AacPacketType::Raw => "raw (1)".to_owned(),
                    AacPacketType::Other(v) => format!("reserved ({v})"),
                };
                line(out, d, &format!("AAC packet type: {pt}"));
            }
        }
        AudioTagHeader::Enhanced(e) => {
            line(
                out,
                d,
                &format!("Control: 0x{first:02x} (enhanced RTMP audio)"),
            );
            line(out, d + 1, &format!("Packet type: {:?}", e.packet_type));
            match e.codec.fourcc() {
                Some(f) => line(out, d, &format!("FourCC: '{f}'")),
                None => line(out, d, &format!("Multitrack: {:?}", e.codec)),
            }
        }
    }
    if h.is_sequence_header()
        && let Some(desc) = describe_audio(h, body)
    {
        line(out, d, &format!("AudioSpecificConfig: {}", desc.short()));
    }
}
