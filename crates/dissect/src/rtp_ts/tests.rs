use rtmpkit_proto::mpegts::{
    AdaptationField, AdaptationFieldControl, Pat, PatProgram, Pcr, PesHeader, Pmt, PmtStream,
    StreamType, TsHeader, encode_packet, packetize_section,
};
use rtmpkit_proto::rtp::RtpHeader;

use super::*;

/// A tiny muxer: PAT, PMT (H.264 on 0x100 with PCR, AAC on 0x101), PES packets.
struct Mux {
    cc: [u8; 0x2000],
}

impl Mux {
    fn new() -> Self {
        Mux { cc: [0; 0x2000] }
    }
    fn tables(&mut self, out: &mut Vec<u8>) {
        let mut s = Vec::new();
        Pat {
            transport_stream_id: 1,
            version: 0,
            current_next: true,
            section_number: 0,
            last_section_number: 0,
            programs: vec![PatProgram {
                program_number: 1,
                pid: 0x1000,
            }],
        }
        .encode(&mut s)
        .unwrap();
        packetize_section(0, &s, &mut self.cc[0], out);
        s.clear();
        Pmt {
            program_number: 1,
            version: 0,
            current_next: true,
            section_number: 0,
            last_section_number: 0,
            pcr_pid: 0x100,
            program_info: vec![],
            streams: vec![
                PmtStream {
                    stream_type: StreamType::H264,
                    pid: 0x100,
                    es_info: vec![],
                },
                PmtStream {
                    stream_type: StreamType::AAC_ADTS,
                    pid: 0x101,
                    es_info: vec![],
                },
            ],
        }
        .encode(&mut s)
        .unwrap();
        packetize_section(0x1000, &s, &mut self.cc[0x1000], out);
    }
    fn pes(
        &mut self,
        pid: u16,
        pts: u64,
        dts: Option<u64>,
        pcr: Option<u64>,
        len: usize,
        out: &mut Vec<u8>,
    ) {
        let sid = if pid == 0x100 { 0xe0 } else { 0xc0 };
        let mut pes = Vec::new();
        PesHeader::with_timestamps(sid, Some(pts), dts)
            .encode(&mut pes)
            .unwrap();
        pes.extend(std::iter::repeat_n(0xabu8, len));
        let mut rest = pes.as_slice();
        let mut first = true;
        while !rest.is_empty() {
            let h = TsHeader {
                transport_error: false,
                payload_unit_start: first,
                transport_priority: false,
                pid,
                scrambling_control: 0,
                adaptation_field_control: AdaptationFieldControl::PayloadOnly,
                continuity_counter: self.cc[usize::from(pid)],
            };
            self.cc[usize::from(pid)] = (self.cc[usize::from(pid)] + 1) & 15;
            let af = AdaptationField {
                random_access: first && pcr.is_some(),
                pcr: pcr.filter(|_| first).map(Pcr::from_27mhz),
                ..Default::default()
            };
            let n = encode_packet(&h, af.has_content().then_some(&af), rest, out).unwrap();
            rest = &rest[n..];
            first = false;
        }
    }
}

fn udp<'a>(payload: &'a [u8]) -> UdpDatagram<'a> {
    UdpDatagram {
        src: "127.0.0.1:40000".parse().unwrap(),
        dst: "127.0.0.1:5004".parse().unwrap(),
        payload,
        wire_len: payload.len() as u32,
    }
}

fn rtp(seq: u16, ts: u32, ts_packets: &[u8]) -> Vec<u8> {
    let mut p = Vec::new();
    RtpHeader::new(33, seq, ts, 0x1234_5678)
        .encode(&mut p)
        .unwrap();
    p.extend_from_slice(ts_packets);
    p
}

fn at_ms(ms: u64) -> Timestamp {
    Timestamp {
        secs: (ms / 1000) as i64,
        nanos: ((ms % 1000) * 1_000_000) as u32,
    }
}

/// 25 fps video (4 PES of ~1000 bytes) and audio, PAT/PMT first, 7 TS packets per datagram.
fn stream() -> Vec<Vec<u8>> {
    let mut mux = Mux::new();
    let mut ts = Vec::new();
    mux.tables(&mut ts);
    for i in 0..8u64 {
        let dts = 126_000 + i * 3600;
        mux.pes(
            0x100,
            dts + 3600,
            Some(dts),
            Some(dts * 300 - 27_000_000 / 10),
            1000,
            &mut ts,
        );
        mux.pes(0x101, dts, None, None, 300, &mut ts);
    }
    ts.chunks(7 * 188).map(<[u8]>::to_vec).collect()
}

#[test]
fn rtp_mpegts_recognised_and_analysed() {
    let chunks = stream();
    let mut a = RtpTsAnalyzer::default();
    for (i, c) in chunks.iter().enumerate() {
        let p = rtp(100 + i as u16, 90 * 40 * i as u32, c);
        assert!(a.push(i as u64 + 1, at_ms(40 * i as u64), &udp(&p)));
    }
    let mut other = udp(b"not rtp");
    other.src.set_port(40001);
    assert!(!a.push(99, at_ms(1000), &other));
    a.finish();
    assert_eq!(a.ignored(), 1);
    let s = &a.streams()[0];
    assert_eq!(a.streams().len(), 1);
    assert_eq!(s.kind, UdpPayloadKind::Rtp);
    let r = s.rtp.as_ref().unwrap();
    assert_eq!(
        (r.ssrc, r.payload_type, r.clock_rate),
        (0x1234_5678, 33, 90_000)
    );
    assert_eq!(
        (r.lost, r.duplicates, r.reordered, r.gap_count),
        (0, 0, 0, 0)
    );
    assert_eq!(r.expected, chunks.len() as u64);
    let ts = s.ts().unwrap();
    assert_eq!(ts.cc_errors(), 0);
    assert_eq!(ts.sync_errors + ts.packet_errors + ts.trailing_bytes, 0);
    let pat = &ts.pat.as_ref().unwrap().table;
    assert_eq!(
        pat.programs,
        vec![PatProgram {
            program_number: 1,
            pid: 0x1000
        }]
    );
    let pmt = &ts.pmts[&0x1000].table;
    let types: Vec<_> = pmt.streams.iter().map(|s| s.stream_type).collect();
    assert_eq!(types, [StreamType::H264, StreamType::AAC_ADTS]);
    let video = &ts.pids[&0x100];
    assert_eq!(
        video.kind,
        PidKind::Elementary {
            stream_type: StreamType::H264,
            codec: "H.264"
        }
    );
    let pes = video.pes.as_ref().unwrap();
    assert_eq!(
        (pes.count, pes.with_dts, pes.decode_time_backwards),
        (8, 8, 0)
    );
    let dts: Vec<_> = pes.timings.iter().map(|t| t.dts.unwrap()).collect();
    assert_eq!(dts[..4], [126_000, 129_600, 133_200, 136_800]);
    assert_eq!(pes.timings[0].pts, Some(129_600));
    assert_eq!(video.random_access, 8);
    let pcr = video.pcr.unwrap();
    assert_eq!(pcr.count, 8);
    assert!((pcr.max_interval_ms - 40.0).abs() < 1e-6, "{pcr:?}");
    assert_eq!(pcr.discontinuities, 0);
    let audio = &ts.pids[&0x101];
    let apes = audio.pes.as_ref().unwrap();
    assert_eq!(
        (
            apes.count,
            apes.with_pts,
            apes.pts_backwards,
            apes.incomplete
        ),
        (8, 8, 0, 0)
    );
    assert!(video.bitrate_bps().unwrap() > 0.0);
    assert!(matches!(ts.pids[&0x1000].kind, PidKind::Pmt { program: 1 }));
    assert!(ts.pat.as_ref().unwrap().repeats == 0);
}

#[test]
fn rtp_sequence_problems_and_cc_errors() {
    let chunks = stream();
    let order = [0usize, 1, 3, 2, 2, 5, 6]; // 3 before 2 (reorder), 2 twice, 4 lost
    let mut a = RtpTsAnalyzer::default();
    for (frame, &i) in order.iter().enumerate() {
        let p = rtp(65534u16.wrapping_add(i as u16), 3600 * i as u32, &chunks[i]);
        a.push(frame as u64 + 1, at_ms(40 * frame as u64), &udp(&p));
    }
    a.finish();
    let s = &a.streams()[0];
    let r = s.rtp.as_ref().unwrap();
    assert_eq!(r.expected, 7);
    assert_eq!(r.lost, 1);
    assert_eq!(r.duplicates, 1);
    assert_eq!(r.reordered, 1);
    assert_eq!(r.gap_count, 2);
    assert_eq!(
        r.gaps[0],
        SequenceGap {
            frame: 3,
            after: 65535,
            next: 1,
            missing: 1
        }
    );
    // Losing datagram 4 (and reordering/duplicating the TS inside) breaks continuity.
    let ts = s.ts().unwrap();
    assert!(ts.cc_errors() > 0);
    let ev = ts
        .pids
        .values()
        .flat_map(|p| &p.cc_error_events)
        .next()
        .unwrap();
    assert!(ev.frame >= 3);
}

#[test]
fn raw_udp_ts_and_decode_as_rules() {
    let chunks = stream();
    let mut a = RtpTsAnalyzer::default();
    for (i, c) in chunks.iter().enumerate() {
        assert!(a.push(i as u64 + 1, at_ms(i as u64), &udp(c)));
    }
    a.finish();
    let s = &a.streams()[0];
    assert_eq!(s.kind, UdpPayloadKind::MpegTs);
    assert!(s.rtp.is_none());
    assert_eq!(s.ts().unwrap().cc_errors(), 0);

    // Dynamic payload type: only a rule makes it RTP (no TS inside).
    let mut p = Vec::new();
    RtpHeader::new(96, 1, 0, 7).encode(&mut p).unwrap();
    p.extend_from_slice(b"h264 bytes");
    let mut plain = RtpTsAnalyzer::default();
    assert!(!plain.push(1, at_ms(0), &udp(&p)));
    let rule: DecodeAs = "udp.port==5004,rtp".parse().unwrap();
    assert_eq!(
        rule,
        DecodeAs {
            port: 5004,
            kind: UdpPayloadKind::Rtp
        }
    );
    assert_eq!(rule.to_string(), "udp.port==5004,rtp");
    let mut ruled = RtpTsAnalyzer::new(vec![rule], false);
    assert!(ruled.push(1, at_ms(0), &udp(&p)));
    assert!(ruled.push(2, at_ms(1), &udp(b"garbage")));
    let s = &ruled.streams()[0];
    let r = s.rtp.as_ref().unwrap();
    assert!(r.clock_rate_assumed);
    assert_eq!(s.rtp_errors, 1);
    assert!(s.ts().is_none());
}

#[test]
fn decode_as_parsing() {
    let r: DecodeAs = " udp.port == 1234 , mp2t ".parse().unwrap();
    assert_eq!(
        r,
        DecodeAs {
            port: 1234,
            kind: UdpPayloadKind::MpegTs
        }
    );
    for bad in [
        "tcp.port==1,rtp",
        "udp.port==x,rtp",
        "udp.port==1",
        "udp.port==1,h264",
        "udp.port==70000,rtp",
    ] {
        assert!(bad.parse::<DecodeAs>().is_err(), "{bad}");
    }
}

#[test]
fn broken_tables_are_reported() {
    let mut mux = Mux::new();
    let mut ts = Vec::new();
    mux.tables(&mut ts);
    // Flip a byte inside the PAT section: CRC mismatch.
    ts[5 + 8] ^= 0xff;
    let mut a = TsAnalyzer::new();
    a.push_datagram(7, at_ms(0), &ts);
    a.push_datagram(8, at_ms(1), &[0x00; 188]); // no sync byte
    a.push_datagram(9, at_ms(2), &[0x47; 10]); // not a whole packet
    let st = a.stats();
    assert!(st.pat.is_none());
    assert_eq!(st.table_error_count, 1);
    assert_eq!(st.table_errors[0].frame, 7);
    assert_eq!(st.table_errors[0].pid, 0);
    assert!(matches!(
        st.table_errors[0].error,
        rtmpkit_proto::mpegts::TsError::CrcMismatch { .. }
    ));
    assert_eq!(st.sync_errors, 1);
    assert_eq!(st.trailing_bytes, 10);
}
