//! The body tree of audio and video messages: tag header bits, packet types, enhanced RTMP
//! FourCC and tracks, and what a sequence header says.

use rtmpkit_proto::flv::{
    AacPacketType, AudioTagHeader, AvcPacketType, ExVideoContent, LegacyVideoPacket,
    VideoPacketType, VideoTagHeader,
};

use crate::rtmp::{
    MediaHeader, MessageEvent, describe_audio, describe_video, video_codec_name,
    video_needs_sequence_header,
};

fn line(out: &mut String, depth: usize, text: &str) {
    for _ in 0..depth {
        out.push_str("    ");
    }
    out.push_str(text);
    out.push('\n');
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

pub(super) fn media(out: &mut String, d: usize, m: &MessageEvent) {
    let first = m.payload.first().copied().unwrap_or(0);
    let Some(header) = &m.media else { return };
    match header {
        MediaHeader::Bad(e) => {
            line(out, d, &format!("[Malformed tag header: {e}]"));
        }
        MediaHeader::Video(h, off) => {
            let body = m.payload.get(*off..).unwrap_or_default();
            video(out, d, first, h, body);
            line(out, d, &format!("Video data: {} bytes", m.body_len(*off)));
        }
        MediaHeader::Audio(h, off) => {
            let body = m.payload.get(*off..).unwrap_or_default();
            audio(out, d, first, h, body);
            line(out, d, &format!("Audio data: {} bytes", m.body_len(*off)));
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
