use super::*;

/// Seed 004 video PES: start code 000001, stream id 0xe0, length 0 (unbounded video),
/// flags 0x80, 0xc0 (PTS and DTS), header data length 10, PTS 133200, DTS 126000.
const VIDEO_PES_HEAD: &str = "000001e0000080c00a31000910a1110007d861";

#[test]
fn decodes_seed_video_header_and_reencodes() {
    let mut bytes = hex::decode(VIDEO_PES_HEAD).unwrap();
    bytes.extend([0, 0, 0, 1, 0x09, 0xf0]); // access unit delimiter NAL (type 9)
    let (h, len) = PesHeader::decode(&bytes).unwrap();
    assert_eq!(len, 19);
    assert_eq!(h.stream_id, 0xe0);
    assert_eq!(h.packet_length, 0);
    let o = h.optional.unwrap();
    assert_eq!(o.pts, Some(133_200));
    assert_eq!(o.dts, Some(126_000));
    assert!(!o.data_alignment && !o.priority && o.scrambling_control == 0);
    assert!(o.tail.is_empty());
    assert_eq!(bytes[len + 4] & 0x1f, 9, "payload starts at the AUD NAL");
    let mut out = Vec::new();
    h.encode(&mut out).unwrap();
    assert_eq!(hex::encode(&out), VIDEO_PES_HEAD);
    assert_eq!(h.encoded_len(), 19);
}

#[test]
fn audio_header_with_pts_only() {
    // Seed 004 audio: stream id 0xc0, flags 0x80 then 0x80 (PTS only), header length 5.
    let h = PesHeader::with_timestamps(0xc0, Some(0x1_ffff_ffff), None);
    let mut h = h;
    h.packet_length = 0x0123;
    if let Some(o) = h.optional.as_mut() {
        o.data_alignment = false;
    }
    let mut out = Vec::new();
    h.encode(&mut out).unwrap();
    assert_eq!(hex::encode(&out), "000001c001238080052fffffffff");
    let (back, len) = PesHeader::decode(&out).unwrap();
    assert_eq!(len, 14);
    assert_eq!(back, h);
    // with_timestamps drops a DTS equal to the PTS.
    let h = PesHeader::with_timestamps(0xe0, Some(5), Some(5));
    assert_eq!(h.optional.unwrap().dts, None);
}

#[test]
fn rare_fields_round_trip() {
    let tail = [0x00u8, 0xff, 0xff]; // extension flags byte + stuffing, kept raw
    let h = PesHeader {
        stream_id: 0xbd,
        packet_length: 100,
        optional: Some(PesOptionalHeader {
            scrambling_control: 1,
            priority: true,
            data_alignment: true,
            copyright: true,
            original: true,
            pts: Some(1),
            dts: Some(0x1_2345_6789),
            escr: Some((0x1_8765_4321, 0x1ab)),
            es_rate: Some(0x3f_ffff),
            trick_mode: Some(0x55),
            additional_copy_info: Some(0x7f),
            previous_crc: Some(0xbeef),
            has_extension: true,
            tail: &tail,
        }),
    };
    let mut out = Vec::new();
    h.encode(&mut out).unwrap();
    let (back, len) = PesHeader::decode(&out).unwrap();
    assert_eq!(len, out.len());
    assert_eq!(back, h);
}

#[test]
fn header_errors() {
    assert_eq!(
        PesHeader::decode(&hex::decode("000002e00000").unwrap()),
        Err(TsError::BadStartCode { found: 2 })
    );
    // Flags announce PTS+DTS but the header data length is 5.
    let b = hex::decode("000001e0000080c00531000910a1").unwrap();
    assert_eq!(
        PesHeader::decode(&b),
        Err(TsError::PesHeaderTooShort {
            length: 5,
            needed: 10
        })
    );
    // Padding stream: no optional header.
    let padding = hex::decode("000001be0004ffffffff").unwrap();
    let (h, len) = PesHeader::decode(&padding).unwrap();
    assert_eq!(
        (h.stream_id, h.packet_length, h.optional, len),
        (0xbe, 4, None, 6)
    );
}

fn collect(
    a: &mut PesAssembler,
    pusi: bool,
    data: &[u8],
    out: &mut Vec<(Vec<u8>, usize, bool, Option<u64>)>,
) {
    a.push(pusi, data, |u| {
        let u = u.unwrap();
        out.push((
            u.payload.to_vec(),
            u.total_len,
            u.incomplete,
            u.header.optional.and_then(|o| o.pts),
        ));
    });
}

#[test]
fn assembler_splits_on_unit_start_and_on_length() {
    let head = hex::decode(VIDEO_PES_HEAD).unwrap();
    let mut a = PesAssembler::new(0x100, 1 << 20);
    let mut got = Vec::new();
    collect(&mut a, false, b"orphan", &mut got); // before any start: ignored
    collect(&mut a, true, &[head.as_slice(), b"abc"].concat(), &mut got);
    collect(&mut a, false, b"def", &mut got);
    assert!(got.is_empty());
    collect(&mut a, true, &[head.as_slice(), b"x"].concat(), &mut got);
    assert_eq!(got, vec![(b"abcdef".to_vec(), 25, false, Some(133_200))]);
    a.mark_incomplete();
    a.flush(|u| {
        let u = u.unwrap();
        assert!(u.incomplete);
        assert_eq!(u.payload, b"x");
    });
    // Bounded length: emitted as soon as complete; short one flagged incomplete.
    got.clear();
    let bounded = hex::decode("000001c0000c808005210001000161626364").unwrap(); // length 12 -> 18 total
    collect(&mut a, true, &bounded[..8], &mut got);
    collect(&mut a, false, &bounded[8..], &mut got);
    assert_eq!(got, vec![(b"abcd".to_vec(), 18, false, Some(0))]);
    got.clear();
    collect(&mut a, true, &bounded[..15], &mut got);
    collect(&mut a, true, &bounded, &mut got);
    assert!(got[0].2, "short bounded PES flagged");
    assert_eq!(got[1].0, b"abcd");
}

#[test]
fn assembler_limits_memory() {
    let head = hex::decode(VIDEO_PES_HEAD).unwrap();
    let mut a = PesAssembler::new(0x100, 100);
    let mut errors = 0;
    a.push(true, &head, |_| {});
    for _ in 0..10 {
        a.push(false, &[0u8; 184], |u| {
            assert_eq!(
                u,
                Err(TsError::PesTooLong {
                    pid: 0x100,
                    limit: 100
                })
            );
            errors += 1;
        });
    }
    assert_eq!(errors, 1);
    // Headers only: big payload counted, not kept.
    let mut a = PesAssembler::headers_only(0x100);
    a.push(true, &head, |_| {});
    for _ in 0..1000 {
        a.push(false, &[0u8; 184], |_| panic!("no unit yet"));
    }
    let mut n = 0;
    a.flush(|u| {
        let u = u.unwrap();
        assert_eq!(u.total_len, 19 + 184_000);
        assert!(u.payload.is_empty());
        n += 1;
    });
    assert_eq!(n, 1);
}

#[test]
fn never_panics_on_arbitrary_headers() {
    let mut b = hex::decode("000001e00000800000").unwrap();
    b.resize(40, 0);
    for f2 in 0..=255u8 {
        for len in [0u8, 1, 5, 10, 20, 31, 255] {
            b[7] = f2;
            b[8] = len;
            let _ = PesHeader::decode(&b);
        }
    }
}
