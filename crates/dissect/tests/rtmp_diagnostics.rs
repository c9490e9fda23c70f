//! The diagnostics on synthetic captures (each with its frame and an explanation), timestamps
//! of streams joined mid-way, the JSON keys, and RTP loss in the summary.

mod rtmp_support;

use bytes::BytesMut;
use rtmp_support::*;
use rtmpkit_dissect::DissectConfig;
use rtmpkit_dissect::rtmp::ProblemKind;
use rtmpkit_dissect::view::Format;
use rtmpkit_dissect::write::PcapWriter;
use rtmpkit_proto::amf::Amf0Value;

#[test]
fn joined_mid_stream_timestamps_are_unknown_until_a_type_0_header() {
    // ffmpeg-style type 1 headers: no absolute timestamp, no stream id, until a type 0.
    let mut b = vec![0x55; 57]; // the end of a message whose header was not captured
    for i in 0..3u8 {
        b.extend(fmt1(4, 23, 8, &[0xaf, 1, i, i]));
    }
    let body = video(false, 300, 9);
    let mut v = vec![0x46];
    v.extend_from_slice(&40u32.to_be_bytes()[1..]);
    v.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    v.push(9);
    for (i, c) in body.chunks(128).enumerate() {
        if i > 0 {
            v.push(0xC6);
        }
        v.extend_from_slice(c);
    }
    b.extend(v);
    b.extend(fmt0(128, 4, 5000, 8, 1, &[0xaf, 1, 9, 9]));
    b.extend(fmt1(4, 23, 8, &[0xaf, 1, 8, 8]));
    let mut cap = Capture::new(1935, false);
    cap.send(true, &b);
    let e = run(&cap.bytes());
    let got: Vec<(u32, u8, u32, bool, u32)> = e
        .messages()
        .iter()
        .map(|m| {
            (
                m.csid,
                m.type_id,
                m.timestamp,
                m.timestamp_known,
                m.stream_id,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (4, 8, 23, false, 1),
            (4, 8, 46, false, 1),
            (4, 8, 69, false, 1),
            (6, 9, 40, false, 1),
            (4, 8, 5000, true, 1),
            (4, 8, 5023, true, 1),
        ]
    );
    // Unknown bases are not compared: no timestamp problem from the jump to 5000.
    assert!(e.problems(ProblemKind::TimestampJump).is_empty());
    let tree = render(&cap.bytes(), Format::Tree, DissectConfig::default());
    assert!(
        tree.contains("[Timestamp: 23 (calculated) (base unknown"),
        "{tree}"
    );
}

#[test]
fn diagnostics_explain_what_is_wrong() {
    let (hc, hs) = handshake();
    let mut b = fmt0(128, 3, 0, 20, 0, &connect());
    // Sorenson H.263 keyframe: no sequence header needed, no problem.
    b.extend(fmt0(128, 6, 0, 9, 1, &[0x12, 0, 0, 0x84, 0]));
    // AVC coded frame before any AVC sequence header on stream 2.
    b.extend(fmt0(128, 7, 0, 9, 2, &video(true, 20, 0)));
    // Message type 7 does not exist.
    b.extend(fmt0(128, 3, 0, 7, 0, &[1, 2, 3]));
    // Audio timestamps backwards, then a jump, then drift against video.
    b.extend(fmt0(128, 4, 1000, 8, 1, &[0x2f, 1]));
    b.extend(fmt0(128, 4, 900, 8, 1, &[0x2f, 1]));
    b.extend(fmt0(128, 4, 9000, 8, 1, &[0x2f, 1]));
    // A chunk stream that starts with a type 1 header.
    b.extend(fmt1(9, 40, 8, &[0x2f, 2]));
    // Set Chunk Size 0, and a Window Acknowledgement Size with a 5-byte body.
    b.extend(fmt0(128, 2, 0, 1, 0, &u32be(0)));
    b.extend(fmt0(128, 2, 0, 5, 0, &[0, 0, 16, 0, 1]));
    b.extend(fmt0(128, 4, 9023, 8, 1, &[0x2f, 3]));
    // Server: a 1000-byte window, then 5000 unacknowledged bytes.
    let mut s = fmt0(128, 2, 0, 5, 0, &u32be(1000));
    for i in 0..5 {
        s.extend(fmt0(
            4096,
            3,
            i,
            20,
            0,
            &command("onStatus", 0.0, vec![Amf0Value::string("x".repeat(1000))]),
        ));
    }
    let mut cap = Capture::new(1935, true);
    cap.send(true, &hc[..1537]);
    cap.send(false, &hs);
    cap.send(true, &hc[1537..]);
    cap.send(true, &b);
    cap.send(false, &s);
    let bytes = cap.bytes();
    let e = run(&bytes);
    let nosh = e.problems(ProblemKind::NoSequenceHeader);
    assert_eq!(nosh.len(), 1, "{nosh:?}");
    assert!(
        nosh[0]
            .1
            .contains("H.264/AVC video frames on message stream 2 before any sequence header"),
        "{}",
        nosh[0].1
    );
    assert_eq!(e.problems(ProblemKind::UnknownType).len(), 1);
    assert!(
        e.problems(ProblemKind::TimestampBackwards)[0]
            .1
            .contains("went backwards by 100 ms (1000 -> 900)")
    );
    assert!(
        e.problems(ProblemKind::TimestampJump)[0]
            .1
            .contains("jumped forward 8100 ms")
    );
    assert_eq!(
        e.problems(ProblemKind::AvDrift).len(),
        1,
        "{:?}",
        e.problem_kinds()
    );
    assert!(
        e.problems(ProblemKind::FirstChunkNotType0)[0]
            .1
            .contains("chunk stream 9 starts with a type 1 header")
    );
    assert!(
        e.problems(ProblemKind::InvalidChunkSize)[0]
            .1
            .contains("Set Chunk Size 0")
    );
    let bad = e.problems(ProblemKind::BadMessage);
    assert!(
        bad.iter().any(|b| b
            .1
            .starts_with("Window Acknowledgement Size on chunk stream 2 does not decode")),
        "{bad:?}"
    );
    assert!(
        e.problems(ProblemKind::AckWindow)[0]
            .1
            .contains("the client has not acknowledged")
    );
    // Decoding went on after each problem: the last audio message is there.
    assert!(e.messages().iter().any(|m| m.timestamp == 9023));
    // The tree explains H.263's missing sequence header instead of leaving the reader guessing.
    let tree = render(&bytes, Format::Tree, DissectConfig::default());
    assert!(
        tree.contains("Sorenson H.263 has no sequence header (no SPS/PPS)"),
        "{tree}"
    );
}

#[test]
fn json_lines_carry_the_required_keys() {
    let (bytes, _) = clean_capture(1935, 4096, 500);
    let text = render(&bytes, Format::Json, DissectConfig::default());
    let mut messages = 0;
    for l in text.lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        if v["kind"] == "message" {
            messages += 1;
            for k in [
                "frame",
                "conn",
                "src",
                "dst",
                "dir",
                "csid",
                "type_id",
                "type",
                "timestamp",
                "stream_id",
                "body",
            ] {
                assert!(v.get(k).is_some(), "{k} missing in {l}");
            }
            assert!(v["timestamp"].is_u64() && v["type_id"].is_u64());
        }
    }
    assert_eq!(messages, 4 + 14 + 3);
    assert!(text.contains(r#""kind":"connection""#));
    assert!(text.contains(r#""url":"rtmp://10.0.0.2/live/room""#));
    let _ = BytesMut::new();
}

#[test]
#[ignore = "writes sample captures to /tmp for manual inspection"]
fn write_samples() {
    let (bytes, _) = mid_stream_capture(1935);
    std::fs::write("/tmp/mid.pcap", bytes).unwrap();
    let (hc, hs) = handshake();
    let (pub_bytes, _) = publish_stream(4096, 3000);
    let mut cap = Capture::new(1935, true);
    cap.send(true, &hc[..1537]);
    cap.send(false, &hs);
    cap.send(true, &hc[1537..]);
    let segs = cap.segments(true, &pub_bytes, 700);
    for (i, (rel, p)) in segs.iter().enumerate() {
        if i != segs.len() / 2 {
            cap.segment_at(true, *rel, p);
        }
    }
    cap.ack_from(false);
    std::fs::write("/tmp/gap.pcap", cap.bytes()).unwrap();
}

#[test]
fn rtp_loss_shows_in_the_summary_and_flows() {
    // The recorded RTP/MPEG-TS fixture without its tenth datagram.
    let original = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/ffmpeg_rtp_mpegts.pcapng"),
    )
    .unwrap();
    let mut reader = rtmpkit_dissect::CaptureReader::new(&original[..]).unwrap();
    let mut out: Option<PcapWriter> = None;
    while let Some(p) = reader.next_packet().unwrap() {
        let w = out.get_or_insert_with(|| PcapWriter::new(p.link_type, 262_144, true));
        if p.frame != 10 {
            w.packet(p.timestamp, p.data, p.original_len);
        }
    }
    let bytes = out.unwrap().into_bytes();
    let summary = render(&bytes, Format::Summary, DissectConfig::default());
    assert!(
        summary.contains("RTP SSRC 0xa95c0045: 1 packets lost"),
        "{summary}"
    );
    assert!(summary.contains("continuity counter errors"), "{summary}");
    let flows = render(&bytes, Format::Flows, DissectConfig::default());
    assert!(flows.contains("lost 1"), "{flows}");
}
