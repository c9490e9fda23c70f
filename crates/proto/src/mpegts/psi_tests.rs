use super::*;
use crate::mpegts::{Pat, PatProgram, Pmt, PmtStream, StreamType, TsPacket};

/// ffmpeg's PAT: transport_stream_id 1, version 0, program 1 -> PMT PID 0x1000.
const PAT: &str = "00b00d0001c100000001f0002ab104b2";
/// ffmpeg's PMT for H.264 on 0x100 (also PCR PID) and AAC ADTS on 0x101.
const PMT: &str = "02b0170001c10000e100f0001be100f0000fe101f0002f44b99b";

#[test]
fn seed_pat_decodes_and_reencodes() {
    let bytes = hex::decode(PAT).unwrap();
    let s = PsiSection::decode(&bytes).unwrap();
    assert_eq!(s.table_id, 0);
    assert_eq!(s.table_id_extension, 1);
    assert_eq!(
        (
            s.version,
            s.current_next,
            s.section_number,
            s.last_section_number
        ),
        (0, true, 0, 0)
    );
    assert_eq!(s.crc32, 0x2ab1_04b2);
    let pat = Pat::decode(&bytes).unwrap();
    assert_eq!(pat.transport_stream_id, 1);
    assert_eq!(
        pat.programs,
        vec![PatProgram {
            program_number: 1,
            pid: 0x1000
        }]
    );
    assert_eq!(pat.pmt_pids().collect::<Vec<_>>(), vec![0x1000]);
    let mut out = Vec::new();
    pat.encode(&mut out).unwrap();
    assert_eq!(hex::encode(out), PAT);
}

#[test]
fn seed_pmt_decodes_and_reencodes() {
    let bytes = hex::decode(PMT).unwrap();
    let pmt = Pmt::decode(&bytes).unwrap();
    assert_eq!(pmt.program_number, 1);
    assert_eq!(pmt.pcr_pid, 0x100);
    assert!(pmt.program_info.is_empty());
    assert_eq!(
        pmt.streams,
        vec![
            PmtStream {
                stream_type: StreamType::H264,
                pid: 0x100,
                es_info: vec![]
            },
            PmtStream {
                stream_type: StreamType::AAC_ADTS,
                pid: 0x101,
                es_info: vec![]
            },
        ]
    );
    assert_eq!(pmt.streams[0].codec_name(), "H.264");
    assert_eq!(pmt.streams[1].codec_name(), "AAC (ADTS)");
    let mut out = Vec::new();
    pmt.encode(&mut out).unwrap();
    assert_eq!(hex::encode(out), PMT);
}

#[test]
fn crc_and_table_errors() {
    let mut bytes = hex::decode(PAT).unwrap();
    bytes[10] ^= 1;
    assert!(matches!(
        PsiSection::decode(&bytes),
        Err(TsError::CrcMismatch {
            table_id: 0,
            found: 0x2ab1_04b2,
            ..
        })
    ));
    let pmt = hex::decode(PMT).unwrap();
    assert_eq!(
        Pat::decode(&pmt),
        Err(TsError::WrongTable {
            expected: 0,
            found: 2
        })
    );
    assert!(matches!(
        PsiSection::decode(&[0x00, 0x30, 0x05]),
        Err(TsError::NotLongForm { table_id: 0 })
    ));
    assert!(matches!(
        PsiSection::decode(&hex::decode(PAT).unwrap()[..10]),
        Err(TsError::Truncated { .. })
    ));
}

#[test]
fn opus_and_other_private_streams_are_named_by_descriptor() {
    let pmt = Pmt {
        program_number: 1,
        version: 3,
        current_next: true,
        section_number: 0,
        last_section_number: 0,
        pcr_pid: 0x1fff,
        program_info: vec![0x05, 0x04, b'H', b'D', b'M', b'V'],
        streams: vec![
            PmtStream {
                stream_type: StreamType::PRIVATE_PES,
                pid: 0x102,
                es_info: vec![0x05, 4, b'O', b'p', b'u', b's', 0x7f, 2, 0x80, 2],
            },
            PmtStream {
                stream_type: StreamType::PRIVATE_PES,
                pid: 0x103,
                es_info: vec![0x6a, 1, 0],
            },
            PmtStream {
                stream_type: StreamType::HEVC,
                pid: 0x104,
                es_info: vec![],
            },
            PmtStream {
                stream_type: StreamType(0x03),
                pid: 0x105,
                es_info: vec![],
            },
        ],
    };
    let mut out = Vec::new();
    pmt.encode(&mut out).unwrap();
    let back = Pmt::decode(&out).unwrap();
    assert_eq!(back, pmt);
    let names: Vec<_> = back.streams.iter().map(|s| s.codec_name()).collect();
    assert_eq!(names, ["Opus", "AC-3", "HEVC", "MPEG-1 audio (MP3)"]);
    let tags: Vec<_> = Descriptor::iter(&back.streams[0].es_info)
        .map(|d| d.unwrap().tag)
        .collect();
    assert_eq!(tags, [0x05, 0x7f]);
    let mut bad = Descriptor::iter(&[0x05, 9, 1]);
    assert!(matches!(bad.next(), Some(Err(TsError::Truncated { .. }))));
    assert!(bad.next().is_none());
}

fn sections(
    asm: &mut SectionAssembler,
    pusi: bool,
    payload: &[u8],
    out: &mut Vec<Result<Vec<u8>, TsError>>,
) {
    asm.push(pusi, payload, |s| out.push(s.map(|b| b.to_vec())));
}

#[test]
fn assembles_sections_across_packets_and_pointer_fields() {
    // A PMT with a long descriptor loop, split over three packets by packetize_section.
    let pmt = Pmt {
        program_number: 7,
        version: 1,
        current_next: true,
        section_number: 0,
        last_section_number: 0,
        pcr_pid: 0x100,
        program_info: vec![0x0a; 400],
        streams: vec![PmtStream {
            stream_type: StreamType::H264,
            pid: 0x100,
            es_info: vec![],
        }],
    };
    let mut section = Vec::new();
    pmt.encode(&mut section).unwrap();
    let mut cc = 14;
    let mut ts = Vec::new();
    assert_eq!(packetize_section(0x1000, &section, &mut cc, &mut ts), 3);
    assert_eq!(cc, 1);
    let mut asm = SectionAssembler::new();
    let mut got = Vec::new();
    for p in ts.chunks(188) {
        let pkt = TsPacket::decode(p).unwrap();
        assert_eq!(pkt.header.pid, 0x1000);
        sections(
            &mut asm,
            pkt.header.payload_unit_start,
            pkt.payload,
            &mut got,
        );
    }
    assert_eq!(got.len(), 1);
    assert_eq!(Pmt::decode(got[0].as_ref().unwrap()).unwrap(), pmt);

    // Two sections in one payload, the tail of a previous one before the pointer.
    let pat = hex::decode(PAT).unwrap();
    let mut asm = SectionAssembler::new();
    got.clear();
    let mut first = vec![0u8];
    first.extend_from_slice(&pat[..10]);
    sections(&mut asm, true, &first, &mut got);
    let mut second = vec![(pat.len() - 10) as u8];
    second.extend_from_slice(&pat[10..]);
    second.extend_from_slice(&pat);
    second.extend_from_slice(&pat);
    second.extend_from_slice(&[0xff; 20]);
    sections(&mut asm, true, &second, &mut got);
    assert_eq!(got.len(), 3);
    assert!(got.iter().all(|s| s.as_deref() == Ok(&pat[..])));
    // Non-start packet after a completed section: stuffing, no new section.
    sections(&mut asm, false, &pat, &mut got);
    assert_eq!(got.len(), 3);
}

#[test]
fn reports_framing_errors() {
    let mut asm = SectionAssembler::new();
    let mut got = Vec::new();
    sections(&mut asm, true, &[200, 1, 2], &mut got);
    assert_eq!(
        got,
        vec![Err(TsError::BadPointer {
            pointer: 200,
            available: 2
        })]
    );
    got.clear();
    sections(&mut asm, true, &[0, 0x02, 0xbf, 0xff, 1, 2], &mut got);
    assert!(matches!(
        got[0],
        Err(TsError::SectionTooLong {
            table_id: 2,
            length: 4095,
            ..
        })
    ));
    got.clear();
    // A section cut short by the next one's start.
    let pat = hex::decode(PAT).unwrap();
    sections(&mut asm, true, &[&[0u8][..], &pat[..12]].concat(), &mut got);
    sections(&mut asm, true, &[&[0u8][..], &pat[..]].concat(), &mut got);
    assert!(matches!(got[0], Err(TsError::Truncated { .. })));
    assert_eq!(got[1].as_deref(), Ok(&pat[..]));
}
