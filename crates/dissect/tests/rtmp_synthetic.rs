//! Synthetic RTMP captures written by the test itself: reordered, retransmitted and lost
//! segments, chunk stream ids 64 and 320, extended timestamps, chunk size 60000, a capture
//! that starts mid-stream, a truncated file, garbage. Each is decoded correctly or reported
//! precisely, never a panic.

mod rtmp_support;

use rtmp_support::*;
use rtmpkit_dissect::DissectConfig;
use rtmpkit_dissect::rtmp::{ProblemKind, TcpDecodeAs};
use rtmpkit_dissect::view::Format;

#[test]
fn handshake_and_publish_on_any_port_at_chunk_size_60000() {
    let (bytes, media) = clean_capture(5555, 60_000, 70_000);
    let e = run(&bytes);
    assert!(e.problem_kinds().is_empty(), "{:?}", e.all);
    let c2s = shape(&e, true);
    assert_eq!(c2s.len(), 4 + media);
    assert_eq!(c2s.iter().filter(|m| m.0 == 9).count(), 7);
    // 70000-byte video at 60000: two chunks each, decoded whole.
    let big: Vec<_> = e
        .messages()
        .into_iter()
        .filter(|m| m.length > 60_000)
        .collect();
    assert_eq!(big.len(), 6);
    assert!(
        big.iter()
            .all(|m| m.chunk.chunk_count == 2 && m.chunk_size == 60_000)
    );
    let urls: Vec<_> = e.messages().iter().filter_map(|m| m.url.clone()).collect();
    assert_eq!(urls, ["rtmp://10.0.0.2/live/room"]);
    let results: Vec<_> = e
        .messages()
        .iter()
        .filter_map(|m| m.request_frame)
        .collect();
    assert_eq!(results.len(), 2, "both _result answer a request");
}

#[test]
fn coded_frames_keep_their_first_bytes_unless_asked_for_whole_bodies() {
    let (bytes, _) = clean_capture(5555, 4096, 9000);
    let cut = run(&bytes);
    let mut config = DissectConfig::default();
    config.rtmp.keep_media_bodies = true;
    let whole = run_with(&bytes, config);
    let (cut, whole) = (cut.messages(), whole.messages());
    assert_eq!(cut.len(), whole.len());
    let mut coded = 0;
    for (c, w) in cut.iter().zip(&whole) {
        assert_eq!((c.type_id, c.length), (w.type_id, w.length));
        assert_eq!(w.payload.len(), w.length as usize);
        assert!(w.payload.starts_with(&c.payload));
        if c.payload.len() < w.payload.len() {
            coded += 1;
            assert_eq!(c.type_id, 9);
            assert_eq!(
                c.media, w.media,
                "the tag header decodes the same from the prefix"
            );
            assert_eq!(c.payload.len(), 5 + 64);
        }
    }
    assert_eq!(
        coded, 6,
        "every 9000-byte frame is cut, the sequence header is not"
    );
}

#[test]
fn reordered_and_retransmitted_segments_decode_like_in_order_ones() {
    let (reference, _) = clean_capture(1935, 4096, 9000);
    let expected = shape(&run(&reference), true);

    let (hc, hs) = handshake();
    let (pub_bytes, _) = publish_stream(4096, 9000);
    let mut cap = Capture::new(1935, true);
    cap.send(true, &hc[..1537]);
    cap.send(false, &hs);
    cap.send(true, &hc[1537..]);
    let segs = cap.segments(true, &pub_bytes, 1000);
    // Swap pairs, and send every fifth segment twice.
    let mut order: Vec<usize> = (0..segs.len()).collect();
    for pair in order.chunks_mut(2) {
        pair.reverse();
    }
    for (k, &i) in order.iter().enumerate() {
        let (rel, p) = &segs[i];
        cap.segment_at(true, *rel, p);
        if k % 5 == 0 {
            cap.segment_at(true, *rel, p);
        }
    }
    cap.send(false, &server_stream());
    let e = run(&cap.bytes());
    assert_eq!(shape(&e, true), expected);
    assert!(e.problem_kinds().is_empty(), "{:?}", e.problem_kinds());
}

#[test]
fn lost_segment_is_reported_and_decoding_resumes() {
    let (hc, hs) = handshake();
    let (pub_bytes, _) = publish_stream(4096, 3000);
    let mut cap = Capture::new(1935, true);
    cap.send(true, &hc[..1537]);
    cap.send(false, &hs);
    cap.send(true, &hc[1537..]);
    let segs = cap.segments(true, &pub_bytes, 700);
    let lost = segs.len() / 2;
    let mut lost_frame = 0;
    for (i, (rel, p)) in segs.iter().enumerate() {
        if i == lost {
            continue;
        }
        let f = cap.segment_at(true, *rel, p);
        if i == lost + 1 {
            lost_frame = f;
        }
    }
    // The server acknowledges everything: the missing bytes are a gap, not a delay.
    cap.ack_from(false);
    let ack_frame = cap.frames;
    let e = run(&cap.bytes());
    let gaps = e.problems(ProblemKind::Gap);
    assert_eq!(gaps.len(), 1, "{:?}", e.all);
    assert!(
        gaps[0].1.starts_with("700 bytes missing at stream offset"),
        "{}",
        gaps[0].1
    );
    assert!(
        gaps[0].0 == ack_frame || gaps[0].0 == lost_frame,
        "{gaps:?}"
    );
    let resync = e.problems(ProblemKind::Resync);
    assert_eq!(resync.len(), 1, "{:?}", e.problem_kinds());
    // Messages after the gap are decoded; the last ones are the final audio and video.
    let c2s = shape(&e, true);
    let (_, all) = publish_stream(4096, 3000);
    assert!(
        c2s.len() >= all + 4 - 4 && c2s.len() < all + 4,
        "{} of {}",
        c2s.len(),
        all + 4
    );
    let last = c2s.last().unwrap();
    assert_eq!((last.0, last.1), (8, 205));
    assert!(
        e.messages().iter().all(|m| m.timestamp_known),
        "all type 0 after the gap"
    );
}

#[test]
fn chunk_stream_ids_64_and_320_and_extended_timestamps() {
    let (hc, hs) = handshake();
    let mut b = fmt0(128, 3, 0, 20, 0, &connect());
    b.extend(fmt0(128, 64, 100, 8, 1, &[0xaf, 1, 1, 2, 3]));
    b.extend(fmt0(128, 320, 200, 9, 1, &video(true, 300, 1)));
    // Extended timestamps: a 3-chunk message at 0x01000000 (type 3 chunks repeat it).
    b.extend(fmt0(128, 6, 0x0100_0000, 9, 1, &video(false, 300, 2)));
    b.extend(fmt0(128, 6, 0x0100_0028, 9, 1, &video(false, 10, 3)));
    let mut cap = Capture::new(1935, true);
    cap.send(true, &hc[..1537]);
    cap.send(false, &hs);
    cap.send(true, &hc[1537..]);
    cap.send(true, &b);
    let bytes = cap.bytes();
    let e = run(&bytes);
    let c2s = shape(&e, true);
    assert_eq!(
        c2s.iter().map(|m| (m.3, m.1)).collect::<Vec<_>>(),
        [
            (3, 0),
            (64, 100),
            (320, 200),
            (6, 0x0100_0000),
            (6, 0x0100_0028)
        ]
    );
    let ext: Vec<_> = e
        .messages()
        .iter()
        .map(|m| m.chunk.extended_timestamp)
        .collect();
    assert_eq!(ext, [false, false, false, true, true]);
    let tree = render(&bytes, Format::Tree, DissectConfig::default());
    assert!(
        tree.contains("Chunk Stream ID: 64 (2-byte basic header: 64 + 0)"),
        "{tree}"
    );
    assert!(tree.contains("Chunk Stream ID: 320 (3-byte basic header: 64 + 256)"));
    assert!(tree.contains("Extended timestamp: 16777216"));
}

#[test]
fn capture_starting_mid_stream_is_decoded_with_a_detected_chunk_size() {
    let (bytes, _) = mid_stream_capture(1935);
    let e = run(&bytes);
    let notes = e.problems(ProblemKind::MidStream);
    assert_eq!(notes.len(), 2, "one per direction: {:?}", e.all);
    assert!(
        notes
            .iter()
            .any(|n| n.1.contains("chunk size 4096 (detected")),
        "{notes:?}"
    );
    let c2s = shape(&e, true);
    let (_, total) = publish_stream(4096, 6000);
    assert!(c2s.len() >= total / 2, "{} messages", c2s.len());
    assert_eq!(c2s.last().map(|m| (m.0, m.1)), Some((8, 205)));
    // The same on another port needs --decode-as; --chunk-size fixes the size.
    let (other, _) = mid_stream_capture(8000);
    assert!(run(&other).messages().is_empty());
    let mut config = DissectConfig::default();
    config.rtmp.decode_as = vec![TcpDecodeAs { port: 8000 }];
    config.rtmp.chunk_size = Some(4096);
    let e = run_with(&other, config);
    assert_eq!(shape(&e, true), c2s);
    assert!(
        e.problems(ProblemKind::MidStream)
            .iter()
            .any(|n| n.1.contains("chunk size 4096 (given)"))
    );
}

#[test]
fn truncated_file_reports_where_and_keeps_what_it_has() {
    let (bytes, _) = clean_capture(1935, 4096, 5000);
    let full = run(&bytes).messages().len();
    for cut in [bytes.len() - 1, bytes.len() - 700, bytes.len() / 2, 30] {
        let e = run(&bytes[..cut]);
        let cap = e.problems(ProblemKind::Capture);
        assert_eq!(cap.len(), 1, "cut {cut}: {:?}", e.problem_kinds());
        assert!(cap[0].1.contains("capture file"), "{}", cap[0].1);
        assert!(e.messages().len() <= full);
    }
}

#[test]
fn garbage_never_panics() {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for round in 0..40 {
        let (hc, hs) = handshake();
        let mut cap = Capture::new(1935, round % 2 == 0);
        if round % 2 == 0 {
            cap.send(true, &hc[..1537]);
            cap.send(false, &hs);
            cap.send(true, &hc[1537..]);
        }
        let (mut b, _) = publish_stream(4096, 2000);
        // Flip bytes, and splice in random runs.
        for _ in 0..20 {
            let i = (next() as usize) % b.len();
            b[i] = next() as u8;
        }
        let junk: Vec<u8> = (0..(next() % 5000) as usize)
            .map(|_| next() as u8)
            .collect();
        let at = (next() as usize) % b.len();
        b.splice(at..at, junk);
        cap.send(true, &b);
        for f in [Format::Summary, Format::Tree, Format::Json, Format::Flows] {
            let _ = render(&cap.pcap.clone().into_bytes(), f, DissectConfig::default());
        }
    }
}
