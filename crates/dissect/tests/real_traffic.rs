//! Real traffic: ffmpeg's RTP/MPEG-TS output captured by tshark (see tests/fixtures/README.md).

use rtmpkit_dissect::rtp_ts::{PidKind, UdpPayloadKind};
use rtmpkit_dissect::{CaptureReader, DiscardStreams, RtpTsAnalyzer, TcpReassembler, run_capture};
use rtmpkit_proto::mpegts::StreamType;

const FIXTURE: &[u8] = include_bytes!("fixtures/ffmpeg_rtp_mpegts.pcapng");

#[test]
fn ffmpeg_rtp_mpegts_capture() {
    let mut udp = RtpTsAnalyzer::default();
    let mut tcp = TcpReassembler::default();
    let sum = run_capture(FIXTURE, &mut tcp, &mut DiscardStreams, |f, t, d| {
        assert!(udp.push(f, t, d), "frame {f} recognised by the heuristic");
    })
    .unwrap();
    udp.finish();
    assert!(sum.capture_errors.is_empty() && sum.decode_errors.is_empty());
    assert_eq!(sum.frames, 41);
    assert_eq!(sum.udp_datagrams, 41);
    assert_eq!(tcp.connection_count(), 0);

    let streams = udp.streams();
    assert_eq!(streams.len(), 1);
    let s = &streams[0];
    assert_eq!(s.kind, UdpPayloadKind::Rtp);
    assert_eq!(s.dst.port(), 5004);
    let rtp = s.rtp.as_ref().unwrap();
    assert_eq!(rtp.payload_type, 33);
    assert_eq!(rtp.packets, 41);
    assert_eq!(
        (rtp.lost, rtp.duplicates, rtp.reordered, rtp.gap_count),
        (0, 0, 0, 0)
    );

    let ts = s.ts().unwrap();
    assert_eq!(ts.cc_errors(), 0, "{:#?}", ts.pids);
    assert_eq!(ts.sync_errors + ts.packet_errors + ts.trailing_bytes, 0);
    assert_eq!(ts.table_error_count, 0);
    let pat = &ts.pat.as_ref().unwrap().table;
    let pmt_pid = pat.pmt_pids().next().unwrap();
    assert_eq!(pmt_pid, 0x1000);
    let pmt = &ts.pmts[&pmt_pid].table;
    let types: Vec<_> = pmt.streams.iter().map(|s| s.stream_type).collect();
    assert!(
        types.contains(&StreamType::H264) && types.contains(&StreamType::AAC_ADTS),
        "{types:?}"
    );
    for es in &pmt.streams {
        let pid = &ts.pids[&es.pid];
        assert!(matches!(pid.kind, PidKind::Elementary { .. }));
        let pes = pid.pes.as_ref().unwrap();
        assert!(pes.count > 0, "PID {:#x} has PES", es.pid);
        assert_eq!(pes.with_pts, pes.count);
        assert_eq!(
            pes.decode_time_backwards, 0,
            "decode time monotonic on {:#x}",
            es.pid
        );
        // PTS monotonic per PID (no B-frames with zerolatency; audio always).
        let pts: Vec<u64> = pes.timings.iter().filter_map(|t| t.pts).collect();
        assert!(
            pts.windows(2).all(|w| w[0] < w[1]),
            "PTS monotonic on {:#x}: {pts:?}",
            es.pid
        );
        assert_eq!(pes.pts_backwards, 0);
        assert!(pid.bitrate_bps().unwrap() > 1000.0);
    }
    let video = &ts.pids[&pmt.pcr_pid];
    let pcr = video.pcr.unwrap();
    assert!(pcr.count > 5);
    assert_eq!(pcr.discontinuities, 0);
    assert!(pcr.max_interval_ms < 1000.0);
    assert!(video.random_access > 0, "keyframes flagged");
}

#[test]
fn capture_reader_sees_pcapng_metadata() {
    let mut r = CaptureReader::new(FIXTURE).unwrap();
    let mut last = None;
    let mut n = 0;
    while let Some(p) = r.next_packet().unwrap() {
        n += 1;
        assert_eq!(p.frame, n);
        assert_eq!(p.captured_len, p.original_len);
        if let Some(prev) = last {
            assert!(p.timestamp >= prev, "time goes forward");
        }
        last = Some(p.timestamp);
    }
    assert_eq!(n, 41);
}
