use super::*;

/// Seed 004 layout: V=2, P=0, X=0, CC=0, M=0, PT=33 (MPEG-TS), sequence, 90 kHz timestamp, SSRC,
/// then 188-byte TS packets starting with sync byte 0x47.
fn seed_packet() -> Vec<u8> {
    let mut p = hex::decode("80211a2b000249f0deadbeef").unwrap();
    p.extend_from_slice(&[0x47, 0x40, 0x00, 0x10]);
    p.extend(std::iter::repeat_n(0xffu8, 184));
    p
}

#[test]
fn decodes_seed_mpegts_header() {
    let bytes = seed_packet();
    let p = RtpPacket::decode(&bytes).unwrap();
    assert_eq!(p.header.version, 2);
    assert!(!p.header.marker);
    assert_eq!(p.header.payload_type, PAYLOAD_TYPE_MP2T);
    assert_eq!(p.header.sequence, 0x1a2b);
    assert_eq!(p.header.timestamp, 150_000);
    assert_eq!(p.header.ssrc, 0xdead_beef);
    assert!(p.header.csrcs().is_empty());
    assert_eq!(p.header.extension, None);
    assert_eq!(p.header.padding, 0);
    assert_eq!(p.payload.len(), 188);
    assert_eq!(p.payload[0], 0x47);
    let mut out = Vec::new();
    p.encode(&mut out).unwrap();
    assert_eq!(out, bytes);
}

#[test]
fn decodes_csrcs_extension_padding_and_reencodes() {
    // V=2 P=1 X=1 CC=2, M=1 PT=96, seq 0xffff, ts 1, ssrc 2, csrc 3 and 4,
    // extension profile 0xBEDE length 1 word, payload "abc", 3 padding bytes.
    let bytes = hex::decode(concat!(
        "b2e0ffff0000000100000002",
        "0000000300000004",
        "bede000110ff0000",
        "616263",
        "000003"
    ))
    .unwrap();
    let p = RtpPacket::decode(&bytes).unwrap();
    assert!(p.header.marker);
    assert_eq!(p.header.payload_type, 96);
    assert_eq!(p.header.sequence, 0xffff);
    assert_eq!(p.header.csrcs(), &[3, 4]);
    let ext = p.header.extension.unwrap();
    assert_eq!(ext.profile, 0xbede);
    assert_eq!(ext.data, &[0x10, 0xff, 0, 0]);
    assert_eq!(p.header.padding, 3);
    assert_eq!(p.payload, b"abc");
    assert_eq!(p.header.header_len(), 12 + 8 + 8);
    let mut out = Vec::new();
    p.encode(&mut out).unwrap();
    assert_eq!(out, bytes);
}

#[test]
fn rejects_bad_input_with_position() {
    assert_eq!(
        RtpPacket::decode(&[0x80, 0x21, 0]),
        Err(RtpError::Truncated {
            offset: 0,
            what: "fixed header",
            needed: 12,
            available: 3
        })
    );
    let mut v1 = seed_packet();
    v1[0] = 0x40;
    assert_eq!(RtpPacket::decode(&v1), Err(RtpError::BadVersion(1)));
    // CC=3 but only one CSRC present.
    let short = hex::decode("83210000000000000000000000000001").unwrap();
    assert!(matches!(
        RtpPacket::decode(&short),
        Err(RtpError::Truncated {
            offset: 12,
            what: "CSRC list",
            ..
        })
    ));
    // Padding count larger than the payload.
    let pad = hex::decode("a0210000000000000000000061620009").unwrap();
    assert!(matches!(
        RtpPacket::decode(&pad),
        Err(RtpError::BadPadding { count: 9, .. })
    ));
    // Extension length pointing past the end.
    let ext = hex::decode("9021000000000000000000000000ffff").unwrap();
    assert!(matches!(
        RtpPacket::decode(&ext),
        Err(RtpError::Truncated {
            what: "extension body",
            ..
        })
    ));
}

#[test]
fn builds_header_from_parts() {
    let mut h = RtpHeader::new(33, 7, 90_000, 0x1234_5678);
    h.marker = true;
    h.set_csrcs(&[9]).unwrap();
    assert!(h.set_csrcs(&[0; 16]).is_err());
    let mut out = Vec::new();
    h.encode(&mut out).unwrap();
    assert_eq!(hex::encode(&out), "81a1000700015f901234567800000009");
    let bad = RtpHeader {
        extension: Some(RtpExtension {
            profile: 1,
            data: &[1, 2, 3],
        }),
        ..RtpHeader::new(33, 0, 0, 0)
    };
    assert_eq!(bad.encode(&mut out), Err(RtpError::BadExtensionLength(3)));
}

#[test]
fn sequence_extender_handles_wrap_and_reorder() {
    let mut e = SequenceExtender::default();
    let a = e.extend(65534);
    let b = e.extend(65535);
    let c = e.extend(0);
    let d = e.extend(65533); // late packet from before the wrap
    let f = e.extend(1);
    assert_eq!(b, a + 1);
    assert_eq!(c, a + 2);
    assert_eq!(d, a - 1);
    assert_eq!(f, a + 3);
    assert_eq!(e.highest(), Some(f));
}

#[test]
fn never_panics_on_short_or_random_input() {
    for len in 0..40 {
        for seed in 0..=255u8 {
            let buf: Vec<u8> = (0..len)
                .map(|i| seed.wrapping_mul(31).wrapping_add(i as u8).wrapping_mul(7))
                .collect();
            let _ = RtpPacket::decode(&buf);
        }
    }
}
