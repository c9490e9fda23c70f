//! RTP and MPEG-TS datagrams: a one-line summary and a per-packet tree (RTP header, TS
//! headers, PAT/PMT, PES headers with PTS/DTS, H.264 NAL unit types).

use std::fmt::Write;

use rtmpkit_proto::codec::{AnnexBNalUnits, NalUnitType};
use rtmpkit_proto::mpegts::{Pat, PesHeader, Pmt, SYNC_BYTE, TS_PACKET_SIZE, TsPacket};
use rtmpkit_proto::rtp::{PAYLOAD_TYPE_MP2T, RtpPacket};

use crate::rtp_ts::UdpPayloadKind;

fn ts_payload(kind: UdpPayloadKind, payload: &[u8]) -> Option<&[u8]> {
    match kind {
        UdpPayloadKind::MpegTs => Some(payload),
        UdpPayloadKind::Rtp => {
            let p = RtpPacket::decode(payload).ok()?;
            (p.header.payload_type == PAYLOAD_TYPE_MP2T || p.payload.first() == Some(&SYNC_BYTE))
                .then_some(p.payload)
        }
    }
}

fn pt_name(pt: u8) -> String {
    match pt {
        33 => "MPEG-II transport streams".into(),
        0 => "ITU-T G.711 PCMU".into(),
        8 => "ITU-T G.711 PCMA".into(),
        14 => "MPEG audio".into(),
        26 => "JPEG".into(),
        32 => "MPEG-I/II video".into(),
        96..=127 => format!("DynamicRTP-Type-{pt}"),
        other => format!("payload type {other}"),
    }
}

/// Protocol column and info of a datagram of a recognised flow.
pub fn summary(kind: UdpPayloadKind, payload: &[u8], out: &mut String) -> &'static str {
    let proto = match kind {
        UdpPayloadKind::Rtp => match RtpPacket::decode(payload) {
            Ok(p) => {
                let h = &p.header;
                let _ = write!(
                    out,
                    "PT={}, SSRC=0x{:08X}, Seq={}, Time={}{}",
                    pt_name(h.payload_type),
                    h.ssrc,
                    h.sequence,
                    h.timestamp,
                    if h.marker { ", Mark" } else { "" }
                );
                "RTP"
            }
            Err(e) => {
                let _ = write!(out, "not RTP: {e}");
                return "UDP";
            }
        },
        UdpPayloadKind::MpegTs => "MP2T",
    };
    if let Some(ts) = ts_payload(kind, payload) {
        let n = ts.len() / TS_PACKET_SIZE;
        let mut pids: Vec<u16> = Vec::new();
        for c in ts.chunks_exact(TS_PACKET_SIZE) {
            if let Ok(p) = TsPacket::decode(c)
                && !pids.contains(&p.header.pid)
            {
                pids.push(p.header.pid);
            }
        }
        let pids: Vec<String> = pids.iter().map(|p| format!("0x{p:04x}")).collect();
        if !out.is_empty() {
            out.push_str(", ");
        }
        let _ = write!(out, "{n} TS packets (PIDs {})", pids.join(" "));
    }
    proto
}

fn line(out: &mut String, depth: usize, text: &str) {
    for _ in 0..depth {
        out.push_str("    ");
    }
    out.push_str(text);
    out.push('\n');
}

/// Appends the tree of a datagram.
pub fn tree(kind: UdpPayloadKind, payload: &[u8], out: &mut String) {
    if kind == UdpPayloadKind::Rtp {
        match RtpPacket::decode(payload) {
            Ok(p) => {
                let h = &p.header;
                line(out, 0, "Real-Time Transport Protocol");
                line(out, 1, &format!("Version: {}", h.version));
                line(
                    out,
                    1,
                    &format!("Padding: {} ({} bytes)", h.padding > 0, h.padding),
                );
                line(out, 1, &format!("Extension: {}", h.extension.is_some()));
                line(
                    out,
                    1,
                    &format!("Contributing source identifiers count: {}", h.csrcs().len()),
                );
                line(out, 1, &format!("Marker: {}", h.marker));
                line(
                    out,
                    1,
                    &format!(
                        "Payload type: {} ({})",
                        pt_name(h.payload_type),
                        h.payload_type
                    ),
                );
                line(out, 1, &format!("Sequence number: {}", h.sequence));
                line(out, 1, &format!("Timestamp: {}", h.timestamp));
                line(
                    out,
                    1,
                    &format!(
                        "Synchronization Source identifier: 0x{:08x} ({})",
                        h.ssrc, h.ssrc
                    ),
                );
                for c in h.csrcs() {
                    line(
                        out,
                        1,
                        &format!("Contributing Source identifier: 0x{c:08x}"),
                    );
                }
                if let Some(x) = &h.extension {
                    line(
                        out,
                        1,
                        &format!(
                            "Header extension: profile 0x{:04x}, {} bytes",
                            x.profile,
                            x.data.len()
                        ),
                    );
                }
            }
            Err(e) => {
                line(out, 0, &format!("[Not RTP: {e}]"));
                return;
            }
        }
    }
    let Some(ts) = ts_payload(kind, payload) else {
        return;
    };
    line(out, 0, "ISO/IEC 13818-1 (MPEG transport stream)");
    for c in ts.chunks(TS_PACKET_SIZE) {
        ts_packet(out, c);
    }
}

fn ts_packet(out: &mut String, c: &[u8]) {
    let p = match TsPacket::decode(c) {
        Ok(p) => p,
        Err(e) => {
            line(out, 1, &format!("[Malformed TS packet: {e}]"));
            return;
        }
    };
    let h = &p.header;
    line(
        out,
        1,
        &format!(
            "PID 0x{:04x}: sync 0x47, TEI {}, PUSI {}, priority {}, scrambling {}, adaptation field control {}, CC {}",
            h.pid,
            u8::from(h.transport_error),
            u8::from(h.payload_unit_start),
            u8::from(h.transport_priority),
            h.scrambling_control,
            h.adaptation_field_control.bits(),
            h.continuity_counter
        ),
    );
    if let Some(a) = &p.adaptation {
        let mut s = format!(
            "Adaptation field: discontinuity {}, random access {}",
            u8::from(a.discontinuity),
            u8::from(a.random_access)
        );
        if let Some(pcr) = a.pcr {
            let _ = write!(
                s,
                ", PCR {} (base {}, ext {}, {:.6} s)",
                pcr.to_27mhz(),
                pcr.base,
                pcr.extension,
                pcr.to_27mhz() as f64 / 27e6
            );
        }
        if a.stuffing > 0 {
            let _ = write!(s, ", {} stuffing bytes", a.stuffing);
        }
        line(out, 2, &s);
    }
    if !h.payload_unit_start || p.payload.is_empty() {
        return;
    }
    if p.payload.starts_with(&[0, 0, 1]) {
        pes(out, p.payload);
    } else {
        section(out, p.payload);
    }
}

fn section(out: &mut String, payload: &[u8]) {
    let pointer = usize::from(payload.first().copied().unwrap_or(0));
    let Some(sec) = payload.get(1 + pointer..) else {
        return;
    };
    let table_id = sec.first().copied().unwrap_or(0xff);
    let len = sec
        .get(1..3)
        .map_or(0, |b| usize::from(u16::from_be_bytes([b[0] & 0x0f, b[1]])));
    let Some(sec) = sec.get(..3 + len) else {
        line(
            out,
            2,
            &format!("Table 0x{table_id:02x}: section continues in later packets"),
        );
        return;
    };
    match table_id {
        0x00 => match Pat::decode(sec) {
            Ok(pat) => {
                line(
                    out,
                    2,
                    &format!(
                        "Program Association Table (transport stream id {}, version {})",
                        pat.transport_stream_id, pat.version
                    ),
                );
                for prog in &pat.programs {
                    let what = if prog.program_number == 0 {
                        "network PID"
                    } else {
                        "program map PID"
                    };
                    line(
                        out,
                        3,
                        &format!("Program {}: {what} 0x{:04x}", prog.program_number, prog.pid),
                    );
                }
            }
            Err(e) => line(out, 2, &format!("[Malformed PAT: {e}]")),
        },
        0x02 => match Pmt::decode(sec) {
            Ok(pmt) => {
                line(
                    out,
                    2,
                    &format!(
                        "Program Map Table (program {}, version {}, PCR PID 0x{:04x})",
                        pmt.program_number, pmt.version, pmt.pcr_pid
                    ),
                );
                for s in &pmt.streams {
                    line(
                        out,
                        3,
                        &format!(
                            "Stream type 0x{:02x} {} on PID 0x{:04x} ({})",
                            s.stream_type.0,
                            s.stream_type.name(),
                            s.pid,
                            s.codec_name()
                        ),
                    );
                }
            }
            Err(e) => line(out, 2, &format!("[Malformed PMT: {e}]")),
        },
        t => {
            let name = match t {
                0x01 => "Conditional Access Table",
                0x40 | 0x41 => "Network Information Table",
                0x42 | 0x46 => "Service Description Table",
                0x4e..=0x6f => "Event Information Table",
                0x70 => "Time and Date Table",
                0x73 => "Time Offset Table",
                0xfc => "SCTE-35 splice information",
                _ => "table",
            };
            line(out, 2, &format!("{name} (table id 0x{t:02x}, {len} bytes)"))
        }
    }
}

fn pes(out: &mut String, payload: &[u8]) {
    match PesHeader::decode(payload) {
        Ok((h, len)) => {
            let mut s = format!(
                "PES: stream id 0x{:02x}, length {}",
                h.stream_id, h.packet_length
            );
            if let Some(o) = &h.optional {
                if let Some(pts) = o.pts {
                    let _ = write!(s, ", PTS {pts} ({:.6} s)", pts as f64 / 90000.0);
                }
                if let Some(dts) = o.dts {
                    let _ = write!(s, ", DTS {dts} ({:.6} s)", dts as f64 / 90000.0);
                }
            }
            line(out, 2, &s);
            if (0xe0..=0xef).contains(&h.stream_id) {
                let body = payload.get(len..).unwrap_or_default();
                let nals: Vec<String> = AnnexBNalUnits::new(body)
                    .filter_map(|n| n.first().copied())
                    .map(|b| {
                        let t = NalUnitType::from_header(b);
                        format!("{} ({})", t.name(), t.to_u5())
                    })
                    .collect();
                if !nals.is_empty() {
                    line(
                        out,
                        3,
                        &format!("H.264 NAL units starting here: {}", nals.join(", ")),
                    );
                }
            }
        }
        Err(e) => line(out, 2, &format!("[Malformed PES header: {e}]")),
    }
}
