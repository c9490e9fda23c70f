use super::*;

fn packet(head: &[u8]) -> Vec<u8> {
    let mut p = head.to_vec();
    p.resize(TS_PACKET_SIZE, 0xff);
    p
}

#[test]
fn decodes_seed_header_fields() {
    // Seed 004: sync 0x47, TEI 0, PUSI 1, priority 0, PID 0 (PAT), scrambling 00,
    // adaptation_field_control 01 (payload only), continuity_counter 0.
    let h = TsHeader::decode(&[0x47, 0x40, 0x00, 0x10]).unwrap();
    assert!(!h.transport_error);
    assert!(h.payload_unit_start);
    assert!(!h.transport_priority);
    assert_eq!(h.pid, 0);
    assert_eq!(h.scrambling_control, 0);
    assert_eq!(
        h.adaptation_field_control,
        AdaptationFieldControl::PayloadOnly
    );
    assert_eq!(h.continuity_counter, 0);
    assert_eq!(h.encode(), [0x47, 0x40, 0x00, 0x10]);

    // TEI, priority, PID 0x1FFF, scrambling 10, AFC 11, CC 15.
    let h = TsHeader::decode(&[0x47, 0xbf, 0xff, 0xbf]).unwrap();
    assert!(h.transport_error && h.transport_priority && !h.payload_unit_start);
    assert_eq!(h.pid, 0x1fff);
    assert_eq!(h.scrambling_control, 2);
    assert_eq!(
        h.adaptation_field_control,
        AdaptationFieldControl::AdaptationAndPayload
    );
    assert_eq!(h.continuity_counter, 15);
    assert_eq!(h.encode(), [0x47, 0xbf, 0xff, 0xbf]);
    assert_eq!(
        TsHeader::decode(&[0x46, 0, 0, 0]),
        Err(TsError::SyncLost { found: 0x46 })
    );
}

#[test]
fn pcr_round_trips_and_converts() {
    let pcr = Pcr {
        base: 0x1_2345_6789,
        extension: 0x123,
    };
    let b = pcr.encode();
    assert_eq!(Pcr::decode(&b).unwrap(), pcr);
    assert_eq!(b[4] & 0x7e, 0x7e, "reserved bits set");
    assert_eq!(pcr.to_27mhz(), 0x1_2345_6789 * 300 + 0x123);
    assert_eq!(Pcr::from_27mhz(pcr.to_27mhz()), pcr);
    // ffmpeg's typical first video PCR: 1.4 s at 90 kHz = 126000, extension 0.
    let b = hex::decode("0000f6187e00").unwrap();
    assert_eq!(
        Pcr::decode(&b).unwrap(),
        Pcr {
            base: 126_000,
            extension: 0
        }
    );
}

#[test]
fn decodes_adaptation_field_with_every_option() {
    // AFC=11, PID 0x100, CC 7. Adaptation field: length 0x1c, flags: discontinuity, random
    // access, priority, PCR, OPCR, splicing, private data, extension.
    let af_len = 0x1c;
    let mut head = hex::decode("470100371cff").unwrap();
    head.extend(
        Pcr {
            base: 90_000,
            extension: 5,
        }
        .encode(),
    );
    head.extend(
        Pcr {
            base: 1,
            extension: 0,
        }
        .encode(),
    );
    head.push(0xfe); // splice_countdown -2
    head.extend(hex::decode("02abcd").unwrap()); // private data
    head.extend(hex::decode("0201ff").unwrap()); // extension (kept raw)
    head.resize(5 + af_len, 0xff); // stuffing
    head.extend(b"payload");
    let p = packet(&head);
    let pkt = TsPacket::decode(&p).unwrap();
    let af = pkt.adaptation.unwrap();
    assert!(af.discontinuity && af.random_access && af.es_priority);
    assert_eq!(
        af.pcr,
        Some(Pcr {
            base: 90_000,
            extension: 5
        })
    );
    assert_eq!(
        af.opcr,
        Some(Pcr {
            base: 1,
            extension: 0
        })
    );
    assert_eq!(af.splice_countdown, Some(-2));
    assert_eq!(af.private_data, Some(&[0xab, 0xcd][..]));
    assert_eq!(af.extension, Some(&[0x01, 0xff][..]));
    assert_eq!(af.stuffing, af_len - 20);
    assert_eq!(pkt.payload.len(), 188 - 4 - 1 - af_len);
    assert!(pkt.payload.starts_with(b"payload"));
    assert_eq!(pkt.pcr().unwrap().base, 90_000);

    // Re-encode the same field at the same total length: byte for byte.
    let mut out = Vec::new();
    af.encode(1 + af_len, &mut out).unwrap();
    assert_eq!(out, p[4..5 + af_len]);
}

#[test]
fn rejects_bad_adaptation_fields() {
    // Adaptation-only with length 184.
    let p = packet(&hex::decode("47000020b8").unwrap());
    assert!(matches!(
        TsPacket::decode(&p),
        Err(TsError::BadAdaptationLength {
            length: 184,
            control: 2
        })
    ));
    // AF+payload with length 183 (no room for payload).
    let p = packet(&hex::decode("47000030b7").unwrap());
    assert!(matches!(
        TsPacket::decode(&p),
        Err(TsError::BadAdaptationLength { .. })
    ));
    // Private data length running past the field.
    let p = packet(&hex::decode("4700003003 02 0a".replace(' ', "").as_str()).unwrap());
    assert!(matches!(
        TsPacket::decode(&p),
        Err(TsError::AdaptationOverrun {
            what: "transport_private_data",
            ..
        })
    ));
    // PCR flagged in a 2-byte field.
    let p = packet(&hex::decode("470000300210").unwrap());
    assert!(matches!(
        TsPacket::decode(&p),
        Err(TsError::AdaptationOverrun {
            what: "PCR",
            offset: 6
        })
    ));
    assert!(matches!(
        TsPacket::decode(&[0x47, 0, 0]),
        Err(TsError::Truncated { needed: 188, .. })
    ));
}

#[test]
fn encode_packet_fills_with_stuffing_and_round_trips() {
    let header = TsHeader {
        transport_error: false,
        payload_unit_start: true,
        transport_priority: false,
        pid: 0x101,
        scrambling_control: 0,
        adaptation_field_control: AdaptationFieldControl::Reserved,
        continuity_counter: 3,
    };
    // Full payload: no adaptation field.
    let big = vec![0xaa; 500];
    let mut out = Vec::new();
    assert_eq!(encode_packet(&header, None, &big, &mut out).unwrap(), 184);
    assert_eq!(out.len(), 188);
    assert_eq!(out[3], 0x13);
    // 183 bytes: a one-byte (length 0) adaptation field.
    out.clear();
    assert_eq!(
        encode_packet(&header, None, &big[..183], &mut out).unwrap(),
        183
    );
    assert_eq!(&out[3..5], &[0x33, 0x00]);
    let pkt = TsPacket::decode(&out).unwrap();
    assert_eq!(pkt.payload.len(), 183);
    // 10 bytes with a PCR and random access: field padded with 0xFF.
    out.clear();
    let af = AdaptationField {
        random_access: true,
        pcr: Some(Pcr {
            base: 12345,
            extension: 6,
        }),
        ..Default::default()
    };
    assert_eq!(
        encode_packet(&header, Some(&af), &big[..10], &mut out).unwrap(),
        10
    );
    assert_eq!(out.len(), 188);
    let pkt = TsPacket::decode(&out).unwrap();
    let got = pkt.adaptation.unwrap();
    assert!(got.random_access);
    assert_eq!(got.pcr, af.pcr);
    assert_eq!(got.stuffing, 184 - 10 - 1 - 7);
    assert_eq!(pkt.payload, &big[..10]);
    // No payload: adaptation only.
    out.clear();
    assert_eq!(encode_packet(&header, Some(&af), &[], &mut out).unwrap(), 0);
    let pkt = TsPacket::decode(&out).unwrap();
    assert_eq!(
        pkt.header.adaptation_field_control,
        AdaptationFieldControl::AdaptationOnly
    );
    assert!(pkt.payload.is_empty());
}

#[test]
fn continuity_checker_follows_the_rules() {
    let mk = |cc: u8, afc: AdaptationFieldControl| TsHeader {
        transport_error: false,
        payload_unit_start: false,
        transport_priority: false,
        pid: 0x100,
        scrambling_control: 0,
        adaptation_field_control: afc,
        continuity_counter: cc,
    };
    let p = AdaptationFieldControl::PayloadOnly;
    let a = AdaptationFieldControl::AdaptationOnly;
    let mut c = ContinuityChecker::default();
    assert_eq!(c.check(&mk(14, p), false), CcCheck::Ok);
    assert_eq!(c.check(&mk(15, p), false), CcCheck::Ok);
    assert_eq!(
        c.check(&mk(15, a), false),
        CcCheck::Ok,
        "no payload: no increment"
    );
    assert_eq!(c.check(&mk(0, p), false), CcCheck::Ok, "wraps");
    assert_eq!(c.check(&mk(0, p), false), CcCheck::Duplicate);
    assert_eq!(
        c.check(&mk(0, p), false),
        CcCheck::Error {
            expected: 1,
            found: 0,
            missing: 15
        },
        "second duplicate is an error"
    );
    assert_eq!(
        c.check(&mk(4, p), false),
        CcCheck::Error {
            expected: 1,
            found: 4,
            missing: 3
        }
    );
    assert_eq!(
        c.check(&mk(9, p), true),
        CcCheck::Ok,
        "discontinuity indicator"
    );
    assert_eq!(c.check(&mk(10, p), false), CcCheck::Ok);
}

#[test]
fn never_panics_on_arbitrary_packets() {
    let mut p = vec![0u8; 188];
    p[0] = 0x47;
    for afc in 0..4u8 {
        for len in 0..=255u8 {
            for flags in [0u8, 0xff, 0x1f, 0x03, 0x02, 0x01] {
                p[3] = afc << 4;
                p[4] = len;
                p[5] = flags;
                p[6] = len;
                let _ = TsPacket::decode(&p);
            }
        }
    }
}
