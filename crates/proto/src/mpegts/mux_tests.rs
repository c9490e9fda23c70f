use std::collections::HashMap;

use super::super::{
    AdaptationField, CcCheck, ContinuityChecker, PID_PAT, PesAssembler, Pmt, SectionAssembler,
    StreamType, TIMESTAMP_MODULUS, TsPacket,
};
use super::*;
use crate::codec::{AdtsHeader, AudioSpecificConfig, SamplingFrequency};

/// The AVC sequence header body of x264 High, 320x240 (also in codec::avc's tests).
const X264_HIGH_AVCC: &str = "0164000dffe100196764000dacd94141fb0110000003001000000303\
    20f142996001000668ebe3cb22c0fdf8f800";
const X265_HVCC: &[u8] = include_bytes!("../../tests/fixtures/x265_320x240.hvcc");

fn avc_sequence_header() -> Vec<u8> {
    let mut p = vec![0x17, 0x00, 0, 0, 0];
    p.extend(hex::decode(X264_HIGH_AVCC).unwrap());
    p
}

/// An AVC NALU message with the given NAL units (4-byte lengths).
fn avc_frame(key: bool, cts: i32, nals: &[&[u8]]) -> Vec<u8> {
    let c = cts.to_be_bytes();
    let mut p = vec![if key { 0x17 } else { 0x27 }, 0x01, c[1], c[2], c[3]];
    for n in nals {
        p.extend((n.len() as u32).to_be_bytes());
        p.extend_from_slice(n);
    }
    p
}

fn aac_sequence_header() -> Vec<u8> {
    let mut p = vec![0xaf, 0x00];
    AudioSpecificConfig::new(2, SamplingFrequency::Index(4), 2).encode(&mut p);
    p
}

fn aac_frame(len: usize) -> Vec<u8> {
    let mut p = vec![0xaf, 0x01];
    p.extend((0..len).map(|i| i as u8));
    p
}

/// PTS, DTS and payload of one PES.
type PesSeen = (Option<u64>, Option<u64>, Vec<u8>);

/// What an independent pass over the muxer's output (with the dissector's types) finds.
#[derive(Debug, Default)]
struct Demuxed {
    pats: usize,
    pmts: Vec<Pmt>,
    /// Per PID: (PTS, DTS, payload) of each PES.
    pes: HashMap<u16, Vec<PesSeen>>,
    /// (PID, PCR in 27 MHz ticks).
    pcrs: Vec<(u16, u64)>,
    cc_errors: usize,
    discontinuities: usize,
    random_access: usize,
}

fn demux(ts: &[u8]) -> Demuxed {
    assert_eq!(ts.len() % TS_PACKET_SIZE, 0, "whole packets");
    let mut d = Demuxed::default();
    let mut cc: HashMap<u16, ContinuityChecker> = HashMap::new();
    let mut sections: HashMap<u16, SectionAssembler> = HashMap::new();
    let mut pes: HashMap<u16, PesAssembler> = HashMap::new();
    let mut pmt_pid = None;
    for chunk in ts.chunks(TS_PACKET_SIZE) {
        let p = TsPacket::decode(chunk).expect("packet decodes");
        let pid = p.header.pid;
        let af = p.adaptation.unwrap_or_default();
        if af.discontinuity {
            d.discontinuities += 1;
        }
        if af.random_access {
            d.random_access += 1;
        }
        if !matches!(
            cc.entry(pid)
                .or_default()
                .check(&p.header, af.discontinuity),
            CcCheck::Ok
        ) {
            d.cc_errors += 1;
        }
        if let Some(pcr) = p.pcr() {
            d.pcrs.push((pid, pcr.to_27mhz()));
        }
        let pusi = p.header.payload_unit_start;
        if pid == PID_PAT || Some(pid) == pmt_pid {
            let mut found = Vec::new();
            sections.entry(pid).or_default().push(pusi, p.payload, |s| {
                found.push(s.expect("section").to_vec())
            });
            for s in found {
                if pid == PID_PAT {
                    let pat = Pat::decode(&s).expect("PAT with a valid CRC");
                    pmt_pid = pat.pmt_pids().next();
                    d.pats += 1;
                } else {
                    d.pmts.push(Pmt::decode(&s).expect("PMT with a valid CRC"));
                }
            }
            continue;
        }
        let out = &mut d.pes;
        pes.entry(pid)
            .or_insert_with(|| PesAssembler::new(pid, 1 << 20))
            .push(pusi, p.payload, |u| {
                let u = u.expect("PES");
                assert!(!u.incomplete);
                let o = u.header.optional.unwrap();
                out.entry(pid)
                    .or_default()
                    .push((o.pts, o.dts, u.payload.to_vec()));
            });
    }
    for (pid, a) in pes.iter_mut() {
        let out = &mut d.pes;
        a.flush(|u| {
            let u = u.expect("PES");
            let o = u.header.optional.unwrap();
            out.entry(*pid)
                .or_default()
                .push((o.pts, o.dts, u.payload.to_vec()));
        });
    }
    d
}

fn concat(units: &[TsUnit]) -> Vec<u8> {
    units.iter().flat_map(|u| u.packets.to_vec()).collect()
}

#[test]
fn avc_keyframe_gets_psi_aud_and_parameter_sets() {
    let mut m = TsMuxer::new(TsMuxerConfig::default());
    assert!(m.push_video(0, &avc_sequence_header()).unwrap().is_none());
    assert!(m.push_audio(0, &aac_sequence_header()).unwrap().is_none());
    let sei = [0x06, 0x05, 0x01, 0x80];
    let idr = [0x65, 0x88, 0x84, 0x00, 0x33];
    let unit = m
        .push_video(1000, &avc_frame(true, 80, &[&sei, &idr]))
        .unwrap()
        .unwrap();
    assert!(unit.psi && unit.random_access);
    assert_eq!(unit.dts, (1000 + 700) * 90);
    assert_eq!(unit.pts, unit.dts + 80 * 90);
    let d = demux(&unit.packets);
    assert_eq!(d.pats, 1);
    let pmt = &d.pmts[0];
    assert_eq!(pmt.pcr_pid, 0x100);
    let types: Vec<_> = pmt.streams.iter().map(|s| (s.stream_type, s.pid)).collect();
    assert_eq!(
        types,
        [(StreamType::H264, 0x100), (StreamType::AAC_ADTS, 0x101)]
    );
    let (pts, dts, es) = &d.pes[&0x100][0];
    assert_eq!((*pts, *dts), (Some(unit.pts), Some(unit.dts)));
    let mut expected = vec![0, 0, 0, 1, 0x09, 0xf0];
    let rec =
        crate::codec::AvcDecoderConfigurationRecord::decode(&hex::decode(X264_HIGH_AVCC).unwrap())
            .unwrap();
    rec.parameter_sets_annex_b(&mut expected);
    for n in [&sei[..], &idr[..]] {
        expected.extend([0, 0, 0, 1]);
        expected.extend_from_slice(n);
    }
    assert_eq!(es, &expected);
    assert_eq!(d.pcrs, [(0x100, 1000 * 90 * 300)]);
    assert_eq!(d.random_access, 1);
}

#[test]
fn inter_frame_has_aud_only_and_no_psi() {
    let mut m = TsMuxer::new(TsMuxerConfig::default());
    m.push_video(0, &avc_sequence_header()).unwrap();
    m.push_video(0, &avc_frame(true, 0, &[&[0x65, 1]])).unwrap();
    let slice = [0x41, 0x9a, 0x02];
    let unit = m
        .push_video(40, &avc_frame(false, 0, &[&slice]))
        .unwrap()
        .unwrap();
    assert!(!unit.psi && !unit.random_access);
    let d = demux(&unit.packets);
    assert_eq!(d.pats, 0);
    let (pts, dts, es) = &d.pes[&0x100][0];
    assert_eq!(*pts, Some((40 + 700) * 90));
    assert_eq!(*dts, None, "DTS equal to PTS is left out");
    assert_eq!(es, &[0, 0, 0, 1, 0x09, 0xf0, 0, 0, 0, 1, 0x41, 0x9a, 0x02]);
}

#[test]
fn existing_aud_and_sps_are_not_duplicated() {
    let mut m = TsMuxer::new(TsMuxerConfig::default());
    m.push_video(0, &avc_sequence_header()).unwrap();
    let aud = [0x09, 0x10];
    let sps = [0x67, 0x42, 0x00, 0x0a];
    let pps = [0x68, 0xce];
    let idr = [0x65, 0x11];
    let unit = m
        .push_video(0, &avc_frame(true, 0, &[&aud, &sps, &pps, &idr]))
        .unwrap()
        .unwrap();
    let d = demux(&unit.packets);
    let es = &d.pes[&0x100][0].2;
    let mut expected = Vec::new();
    for n in [&aud[..], &sps, &pps, &idr] {
        expected.extend([0, 0, 0, 1]);
        expected.extend_from_slice(n);
    }
    assert_eq!(es, &expected);
}

#[test]
fn every_payload_size_packs_into_whole_packets_and_reassembles() {
    let mut m = TsMuxer::new(TsMuxerConfig::default());
    m.push_video(0, &avc_sequence_header()).unwrap();
    m.push_audio(0, &aac_sequence_header()).unwrap();
    let mut units = Vec::new();
    let mut expected_audio = Vec::new();
    for (i, len) in (0..420).enumerate() {
        let t = i as u64 * 10;
        let mut nal = vec![0x41];
        nal.extend((0..len).map(|b| (b * 7) as u8));
        units.push(
            m.push_video(t, &avc_frame(i % 50 == 0, 0, &[&nal]))
                .unwrap()
                .unwrap(),
        );
        let raw = aac_frame(len % 300);
        units.push(m.push_audio(t, &raw).unwrap().unwrap());
        expected_audio.push(raw[2..].to_vec());
    }
    let ts = concat(&units);
    let d = demux(&ts);
    assert_eq!(d.cc_errors, 0);
    assert_eq!(d.pes[&0x100].len(), 420);
    assert_eq!(d.pes[&0x101].len(), 420);
    for (i, (_, _, es)) in d.pes[&0x101].iter().enumerate() {
        let adts = AdtsHeader::decode(es).unwrap();
        assert_eq!(usize::from(adts.frame_length), es.len());
        assert_eq!((adts.object_type, adts.sampling_index), (2, 4));
        assert_eq!(&es[7..], &expected_audio[i][..]);
    }
    for (i, (_, _, es)) in d.pes[&0x100].iter().enumerate() {
        let body_len = es.len() - 6 - 5 - if i % 50 == 0 { 4 + 25 + 4 + 6 } else { 0 };
        assert_eq!(body_len, i, "video unit {i}");
    }
    // PCRs only on the video PID, strictly increasing; PSI once per keyframe.
    assert!(d.pcrs.iter().all(|(pid, _)| *pid == 0x100));
    assert!(d.pcrs.windows(2).all(|w| w[0].1 < w[1].1));
    assert_eq!(d.pats, 420 / 50 + 1);
}

#[test]
fn timestamps_wrap_at_33_bits_on_the_wire_only() {
    let mut m = TsMuxer::new(TsMuxerConfig {
        delay_ms: 0,
        ..TsMuxerConfig::default()
    });
    m.push_video(0, &avc_sequence_header()).unwrap();
    // 2^33 / 90 ms is about 26.5 hours; straddle it.
    let wrap_ms = TIMESTAMP_MODULUS / 90;
    let mut units = Vec::new();
    for i in 0..10u64 {
        let t = wrap_ms - 200 + i * 40;
        let key = i == 0;
        units.push(
            m.push_video(
                t,
                &avc_frame(key, 40, &[&[if key { 0x65 } else { 0x41 }, 0]]),
            )
            .unwrap()
            .unwrap(),
        );
    }
    assert!(units.windows(2).all(|w| w[0].dts < w[1].dts));
    let d = demux(&concat(&units));
    let wire: Vec<_> = d.pes[&0x100]
        .iter()
        .map(|(_, dts, _)| dts.unwrap())
        .collect();
    for (u, w) in units.iter().zip(&wire) {
        assert_eq!(*w, u.dts % TIMESTAMP_MODULUS);
    }
    assert!(wire.iter().any(|&w| w < 90 * 200), "wrapped: {wire:?}");
    for (u, (_, pcr)) in units.iter().zip(&d.pcrs) {
        assert_eq!(*pcr, (u.timestamp_ms * 90 % TIMESTAMP_MODULUS) * 300);
    }
}

#[test]
fn audio_only_puts_pcr_on_audio_and_repeats_psi() {
    let mut m = TsMuxer::new(TsMuxerConfig::default());
    m.push_audio(0, &aac_sequence_header()).unwrap();
    let units: Vec<_> = (0..50u64)
        .map(|i| m.push_audio(i * 23, &aac_frame(200)).unwrap().unwrap())
        .collect();
    assert!(units.iter().all(|u| u.random_access));
    let d = demux(&concat(&units));
    assert_eq!(d.cc_errors, 0);
    assert_eq!(d.pmts[0].pcr_pid, 0x101);
    assert_eq!(d.pmts[0].streams.len(), 1);
    assert_eq!(d.pmts[0].streams[0].stream_type, StreamType::AAC_ADTS);
    assert_eq!(d.pcrs.len(), 50);
    // 50 frames over 1127 ms with a 500 ms interval: at 0, 506, 1012.
    assert_eq!(d.pats, 3);
    // Forced PSI comes before the next unit.
    m.force_psi();
    assert!(m.push_audio(2000, &aac_frame(10)).unwrap().unwrap().psi);
}

#[test]
fn video_only_has_one_stream() {
    let mut m = TsMuxer::new(TsMuxerConfig::default());
    m.push_video(0, &avc_sequence_header()).unwrap();
    let u = m
        .push_video(0, &avc_frame(true, 0, &[&[0x65, 0]]))
        .unwrap()
        .unwrap();
    let d = demux(&u.packets);
    assert_eq!(d.pmts[0].streams.len(), 1);
    assert_eq!(d.pmts[0].pcr_pid, 0x100);
}

#[test]
fn hevc_irap_gets_vps_sps_pps_and_stream_type_0x24() {
    let mut m = TsMuxer::new(TsMuxerConfig::default());
    let mut seq = vec![0x1c, 0x00, 0, 0, 0];
    seq.extend_from_slice(X265_HVCC);
    m.push_video(0, &seq).unwrap();
    assert!(m.has_video());
    // IDR_W_RADL (19): header 0x26 0x01.
    let idr = [0x26, 0x01, 0xaf, 0x09];
    let mut frame = vec![0x1c, 0x01, 0, 0, 0];
    frame.extend((idr.len() as u32).to_be_bytes());
    frame.extend(idr);
    let u = m.push_video(0, &frame).unwrap().unwrap();
    assert!(u.random_access);
    let d = demux(&u.packets);
    assert_eq!(d.pmts[0].streams[0].stream_type, StreamType::HEVC);
    let es = &d.pes[&0x100][0].2;
    assert_eq!(&es[..7], &[0, 0, 0, 1, 0x46, 0x01, 0x50], "HEVC AUD first");
    let rec = crate::codec::HevcDecoderConfigurationRecord::decode(X265_HVCC).unwrap();
    let mut params = Vec::new();
    rec.parameter_sets_annex_b(&mut params);
    assert_eq!(&es[7..7 + params.len()], &params[..]);
    assert_eq!(
        &es[7 + params.len()..],
        &[0, 0, 0, 1, 0x26, 0x01, 0xaf, 0x09]
    );
    // Enhanced RTMP 'hvc1' CodedFramesX (no composition time), a TRAIL_R (1) frame.
    let mut ex = b"\xa3hvc1".to_vec();
    ex.extend(3u32.to_be_bytes());
    ex.extend([0x02, 0x01, 0xd0]);
    let u = m.push_video(40, &ex).unwrap().unwrap();
    assert!(!u.random_access && !u.psi);
}

#[test]
fn mp3_stream_type_follows_the_mpeg_version() {
    let mut m = TsMuxer::new(TsMuxerConfig::default());
    // SoundFormat 2 (MP3), 44 kHz, 16 bit, stereo; MPEG-1 layer III frame header.
    let u = m
        .push_audio(0, &[0x2f, 0xff, 0xfb, 0x90, 0x64, 1, 2, 3])
        .unwrap()
        .unwrap();
    let d = demux(&u.packets);
    assert_eq!(d.pmts[0].streams[0].stream_type, StreamType::MPEG1_AUDIO);
    assert_eq!(d.pes[&0x101][0].2, [0xff, 0xfb, 0x90, 0x64, 1, 2, 3]);
    // An MPEG-2 (22.05 kHz) frame: the PMT changes version and type.
    let u = m
        .push_audio(26, &[0x2f, 0xff, 0xf3, 0x90, 0x64])
        .unwrap()
        .unwrap();
    assert!(u.psi);
    let d = demux(&u.packets);
    assert_eq!(d.pmts[0].streams[0].stream_type, StreamType::MPEG2_AUDIO);
    assert_eq!(d.pmts[0].version, 1);
}

#[test]
fn bad_input_is_an_error_and_the_muxer_goes_on() {
    let mut m = TsMuxer::new(TsMuxerConfig::default());
    assert_eq!(
        m.push_video(0, &avc_frame(true, 0, &[&[0x65]])),
        Err(MuxError::MissingConfig {
            track: TsTrack::Video
        })
    );
    assert_eq!(
        m.push_audio(0, &aac_frame(3)),
        Err(MuxError::MissingConfig {
            track: TsTrack::Audio
        })
    );
    assert!(matches!(
        m.push_video(0, &[0x14, 0, 0]),
        Err(MuxError::Unsupported { .. })
    ));
    assert!(matches!(
        m.push_audio(0, &[0x6f, 0]),
        Err(MuxError::Unsupported { .. })
    ));
    assert!(matches!(m.push_video(0, &[]), Err(MuxError::Flv(_))));
    m.push_video(0, &avc_sequence_header()).unwrap();
    // A NAL length running past the payload.
    let mut bad = avc_frame(true, 0, &[&[0x65, 1, 2]]);
    bad[8] = 0x40;
    assert!(matches!(m.push_video(0, &bad), Err(MuxError::Codec(_))));
    assert!(
        m.push_video(0, &avc_frame(true, 0, &[&[0x65]]))
            .unwrap()
            .is_some()
    );
    // Commands and end of sequence produce nothing.
    assert_eq!(m.push_video(0, &[0x17, 0x02, 0, 0, 0]), Ok(None));
    assert_eq!(m.push_audio(0, &[]), Ok(None));
}

#[test]
fn large_video_unit_has_open_length_and_reset_marks_discontinuity() {
    let mut m = TsMuxer::new(TsMuxerConfig::default());
    m.push_video(0, &avc_sequence_header()).unwrap();
    let big = vec![0x65; 100_000];
    let u = m
        .push_video(0, &avc_frame(true, 0, &[&big]))
        .unwrap()
        .unwrap();
    // PAT, PMT, then the video PES.
    let first = TsPacket::decode(&u.packets[376..564]).unwrap();
    let p = &u.packets[564..752];
    let pusi = first.payload;
    assert_eq!(&pusi[..6], &[0, 0, 1, 0xe0, 0, 0], "PES_packet_length 0");
    assert!(TsPacket::decode(p).unwrap().adaptation.is_none());
    let d = demux(&u.packets);
    assert_eq!(d.pes[&0x100][0].2.len(), 6 + 39 + 4 + 100_000);
    m.reset_tracks();
    assert!(m.push_video(40, &avc_frame(false, 0, &[&[0x41]])).is_err());
    m.push_video(40, &avc_sequence_header()).unwrap();
    let u = m
        .push_video(40, &avc_frame(true, 0, &[&[0x65]]))
        .unwrap()
        .unwrap();
    assert!(u.psi);
    let d = demux(&u.packets);
    assert_eq!(d.discontinuities, 1);
    assert_eq!(d.pmts[0].version, 0, "same tracks: same PMT version");
    let af: Option<AdaptationField<'_>> =
        TsPacket::decode(&u.packets[376..564]).unwrap().adaptation;
    assert!(af.unwrap().discontinuity && af.unwrap().pcr.is_some());
}
