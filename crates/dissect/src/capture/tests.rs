use std::io::Read;

use super::*;
use crate::write::{PcapNgWriter, PcapWriter};

fn ts(secs: i64, nanos: u32) -> Timestamp {
    Timestamp { secs, nanos }
}

#[derive(Debug, PartialEq)]
struct Owned {
    frame: u64,
    ts: Timestamp,
    caplen: u32,
    origlen: u32,
    link: LinkType,
    iface: u32,
    data: Vec<u8>,
}

fn read_all(bytes: &[u8]) -> (Vec<Owned>, Vec<CaptureError>) {
    // Leaked: the reader thread needs 'static input (a few KiB per test).
    let bytes: &'static [u8] = bytes.to_vec().leak();
    read_from(bytes)
}

/// Reads `input` on this thread and with a reader thread: both must find the same.
fn read_from<R: Read + Send + Clone + 'static>(input: R) -> (Vec<Owned>, Vec<CaptureError>) {
    let inline = collect(CaptureReader::new(input.clone()).unwrap());
    let threaded = collect(CaptureReader::with_read_thread(input).unwrap());
    assert_eq!(
        inline, threaded,
        "same packets and errors with a reader thread"
    );
    inline
}

fn collect(mut r: CaptureReader<'_>) -> (Vec<Owned>, Vec<CaptureError>) {
    let mut pkts = Vec::new();
    let mut errs = Vec::new();
    loop {
        match r.next_packet() {
            Ok(Some(p)) => pkts.push(Owned {
                frame: p.frame,
                ts: p.timestamp,
                caplen: p.captured_len,
                origlen: p.original_len,
                link: p.link_type,
                iface: p.interface,
                data: p.data.to_vec(),
            }),
            Ok(None) => break,
            Err(e) => errs.push(e),
        }
        assert!(pkts.len() + errs.len() < 10_000, "reader must terminate");
    }
    (pkts, errs)
}

#[test]
fn pcap_micro_and_nanosecond() {
    for nano in [false, true] {
        let mut w = PcapWriter::new(LinkType::ETHERNET, 65535, nano);
        w.packet(ts(1_700_000_000, 123_456_789), b"first", 5);
        w.packet(ts(1_700_000_001, 1_000), b"cut", 1500);
        let bytes = w.into_bytes();
        let mut r = CaptureReader::new(bytes.as_slice()).unwrap();
        assert_eq!(r.format(), CaptureFormat::Pcap { nanosecond: nano });
        let p = r.next_packet().unwrap().unwrap();
        assert_eq!(p.frame, 1);
        assert_eq!(p.link_type, LinkType::ETHERNET);
        let want = if nano { 123_456_789 } else { 123_456_000 };
        assert_eq!(p.timestamp, ts(1_700_000_000, want));
        assert_eq!(p.data, b"first");
        let p = r.next_packet().unwrap().unwrap();
        assert_eq!((p.frame, p.captured_len, p.original_len), (2, 3, 1500));
        assert_eq!(p.timestamp, ts(1_700_000_001, 1_000));
        assert!(r.next_packet().unwrap().is_none());
        assert!(r.next_packet().unwrap().is_none());
        assert_eq!(r.offset(), bytes.len() as u64);
    }
}

#[test]
fn pcapng_interfaces_resolutions_and_block_kinds() {
    let mut w = PcapNgWriter::new();
    let eth = w.interface(LinkType::ETHERNET, 262_144, 6);
    let sll2 = w.interface(LinkType::LINUX_SLL2, 0, 9);
    w.packet(eth, ts(10, 500_000_000), b"a", 1);
    w.raw_block(0x0000_0bad, b"unknown block, skipped");
    w.packet(sll2, ts(11, 123_456_789), b"bb", 2);
    w.raw_block(5, &[0u8; 12]); // interface statistics: skipped
    w.simple_packet(b"ccc", 3);
    let (pkts, errs) = read_all(&w.into_bytes());
    assert!(errs.is_empty(), "{errs:?}");
    let got: Vec<_> = pkts
        .iter()
        .map(|p| (p.frame, p.iface, p.link, p.data.clone()))
        .collect();
    assert_eq!(
        got,
        vec![
            (1, 0, LinkType::ETHERNET, b"a".to_vec()),
            (2, 1, LinkType::LINUX_SLL2, b"bb".to_vec()),
            (3, 0, LinkType::ETHERNET, b"ccc".to_vec()),
        ]
    );
    assert_eq!(pkts[0].ts, ts(10, 500_000_000));
    assert_eq!(pkts[1].ts, ts(11, 123_456_789));
}

#[test]
fn truncated_pcap_reports_the_frame_and_stops() {
    let mut w = PcapWriter::new(LinkType::RAW, 65535, false);
    for i in 0..3u8 {
        w.packet(ts(1, 0), &[0x45, i, 0, 0, 0, 0, 0, 0, 0, 0], 10);
    }
    let mut bytes = w.into_bytes();
    bytes.truncate(bytes.len() - 4);
    let (pkts, errs) = read_all(&bytes);
    assert_eq!(pkts.len(), 2);
    assert_eq!(errs.len(), 1);
    let e = &errs[0];
    assert!(e.fatal);
    assert_eq!(e.frame, 3);
    assert_eq!(e.offset, 24 + 2 * 26);
    assert_eq!(e.kind, CaptureErrorKind::Truncated { bytes_left: 22 });
    assert!(e.to_string().contains("frame 3"), "{e}");
}

#[test]
fn truncated_pcapng_and_header() {
    let mut w = PcapNgWriter::new();
    w.interface(LinkType::ETHERNET, 0, 6);
    w.packet(0, ts(1, 0), &[1; 60], 60);
    w.packet(0, ts(2, 0), &[2; 60], 60);
    let bytes = w.into_bytes();
    let (pkts, errs) = read_all(&bytes[..bytes.len() - 30]);
    assert_eq!(pkts.len(), 1);
    assert_eq!((errs[0].frame, errs[0].fatal), (2, true));
    assert!(matches!(errs[0].kind, CaptureErrorKind::Truncated { .. }));
    // Cut inside the global header.
    let e = CaptureReader::new(&bytes[..10]).err().unwrap();
    assert!(matches!(
        e.kind,
        CaptureErrorKind::Truncated { bytes_left: 10 }
    ));
}

#[test]
fn bad_pcapng_blocks_are_skipped_with_errors() {
    let mut w = PcapNgWriter::new();
    w.interface(LinkType::ETHERNET, 0, 6);
    w.packet(0, ts(1, 0), b"one", 3);
    w.packet(7, ts(1, 0), b"no such interface", 17);
    w.packet(0, ts(1, 0), b"three", 5);
    let mut bytes = w.into_bytes();
    // Corrupt the trailing length of the third packet block: its lengths disagree.
    let third_end = bytes.len();
    bytes[third_end - 4] ^= 0x40;
    let mut w2 = PcapNgWriter::new();
    w2.packet(0, ts(1, 0), b"four", 4);
    // Append a valid block after the corrupted one (skip w2's section header: 28 bytes).
    let tail = w2.into_bytes();
    bytes.extend_from_slice(&tail[28..]);
    let (pkts, errs) = read_all(&bytes);
    let frames: Vec<_> = pkts.iter().map(|p| (p.frame, p.data.clone())).collect();
    assert_eq!(frames, vec![(1, b"one".to_vec()), (4, b"four".to_vec())]);
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert_eq!(errs[0].frame, 2);
    assert_eq!(errs[0].kind, CaptureErrorKind::UnknownInterface { id: 7 });
    assert!(!errs[0].fatal);
    assert_eq!(errs[1].frame, 3);
    assert!(matches!(
        errs[1].kind,
        CaptureErrorKind::BadBlock { block_type: 6, .. }
    ));
    assert!(!errs[1].fatal);
}

#[test]
fn rejects_non_captures() {
    assert_eq!(
        CaptureReader::new(&b""[..]).err().unwrap().kind,
        CaptureErrorKind::Empty
    );
    assert_eq!(
        CaptureReader::new(&b"GET / HTTP/1.1\r\n\r\n"[..])
            .err()
            .unwrap()
            .kind,
        CaptureErrorKind::NotACapture { magic: *b"GET " }
    );
}

#[test]
fn huge_record_is_refused_and_large_record_read() {
    let mut w = PcapWriter::new(LinkType::RAW, 0, false);
    let big = vec![0x45u8; 3 << 20]; // larger than the initial 1 MiB buffer
    w.packet(ts(1, 0), &big, big.len() as u32);
    let (pkts, errs) = read_all(&w.into_bytes());
    assert!(errs.is_empty(), "{errs:?}");
    assert_eq!(pkts[0].data.len(), 3 << 20);
    assert_eq!(pkts[0].caplen, 3 << 20);

    let mut bytes = PcapWriter::new(LinkType::RAW, 0, false).into_bytes();
    bytes.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0]);
    bytes.extend_from_slice(&0x7fff_0000u32.to_le_bytes());
    bytes.extend_from_slice(&0x7fff_0000u32.to_le_bytes());
    bytes.extend_from_slice(&[0; 5000]);
    let (pkts, errs) = read_all(&bytes);
    assert!(pkts.is_empty());
    assert_eq!(errs.len(), 1);
    assert!(errs[0].fatal);
    assert!(matches!(
        errs[0].kind,
        CaptureErrorKind::RecordTooLarge {
            length: 0x7fff_0000,
            ..
        }
    ));
}

/// A reader that hands out one byte per call, like a slow pipe.
#[derive(Clone)]
struct Trickle<'a>(&'a [u8]);

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match (self.0.split_first(), buf.first_mut()) {
            (Some((b, rest)), Some(out)) => {
                *out = *b;
                self.0 = rest;
                Ok(1)
            }
            _ => Ok(0),
        }
    }
}

#[test]
fn reads_from_a_trickling_pipe() {
    let mut w = PcapNgWriter::new();
    w.interface(LinkType::ETHERNET, 0, 6);
    for i in 0..20u8 {
        w.packet(0, ts(i64::from(i), 0), &[i; 100], 100);
    }
    let bytes = w.into_bytes();
    let (pkts, errs) = read_from(Trickle(bytes.leak()));
    assert!(errs.is_empty(), "{errs:?}");
    assert_eq!(pkts.len(), 20);
    assert_eq!(pkts[19].data, vec![19u8; 100]);
    assert_eq!(pkts[19].origlen, 100);
}

#[test]
fn io_errors_are_reported() {
    #[derive(Clone)]
    struct Failing(Vec<u8>);
    impl Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0.is_empty() {
                return Err(std::io::Error::other("disk on fire"));
            }
            let n = self.0.len().min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0.drain(..n);
            Ok(n)
        }
    }
    let mut w = PcapWriter::new(LinkType::RAW, 0, false);
    w.packet(ts(1, 0), &[0x45; 20], 20);
    let (pkts, errs) = read_from(Failing(w.into_bytes()));
    assert_eq!(pkts.len(), 1);
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].frame, 2);
    assert!(errs[0].fatal);
    assert_eq!(errs[0].kind, CaptureErrorKind::Io("disk on fire".into()));
}

#[test]
fn impossible_pcapng_block_lengths_are_fatal_errors_not_panics() {
    for (block_type, length) in [(0x8000_0001u32, 5u32), (6, 8), (6, 30), (0x0a0d_0d0a, 4)] {
        let mut w = PcapNgWriter::new();
        w.interface(LinkType::NULL, 0, 6);
        w.packet(0, ts(1, 0), b"ok", 2);
        let mut bytes = w.into_bytes();
        bytes.extend_from_slice(&block_type.to_le_bytes());
        bytes.extend_from_slice(&length.to_le_bytes());
        bytes.extend_from_slice(&[0; 32]);
        let (pkts, errs) = read_all(&bytes);
        assert_eq!(pkts.len(), 1);
        assert_eq!(errs.len(), 1, "{block_type:#x}/{length}: {errs:?}");
        assert!(errs[0].fatal);
        assert_eq!(errs[0].frame, 2);
        assert_eq!(
            errs[0].kind,
            CaptureErrorKind::BadBlock { block_type, length }
        );
    }
}

#[test]
fn records_across_read_block_boundaries() {
    // Over a megabyte of records of odd sizes: with a reader thread (256 KiB blocks) many
    // are cut by a block boundary; the last one is cut by the end of the file.
    let mut w = PcapNgWriter::new();
    w.interface(LinkType::RAW, 0, 6);
    let mut p = PcapWriter::new(LinkType::RAW, 0, false);
    for i in 0..6000u32 {
        let len = 100 + (i as usize * 37) % 700;
        let data = vec![(i % 251) as u8; len];
        w.packet(0, ts(i64::from(i), 0), &data, len as u32);
        p.packet(ts(i64::from(i), 0), &data, len as u32);
    }
    for mut bytes in [w.into_bytes(), p.into_bytes()] {
        assert!(bytes.len() > 1 << 20);
        bytes.truncate(bytes.len() - 10);
        let (pkts, errs) = read_all(&bytes);
        assert_eq!(pkts.len(), 5999);
        assert!(
            pkts.iter()
                .enumerate()
                .all(|(i, p)| p.data[0] == (i % 251) as u8)
        );
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].frame, 6000);
        assert!(matches!(errs[0].kind, CaptureErrorKind::Truncated { .. }));
    }
}
