//! Tests of the audio and video tag headers: seed vectors, enhanced layouts, round trips.

use super::*;

fn hex(s: &str) -> Vec<u8> {
    hex::decode(s.replace(' ', "")).unwrap()
}

fn video(payload: &[u8]) -> (VideoTagHeader, usize) {
    let (h, off) = VideoTagHeader::decode(payload).unwrap();
    let mut out = Vec::new();
    h.encode(&mut out).unwrap();
    assert_eq!(out, payload[..off], "re-encoded header differs");
    (h, off)
}

fn audio(payload: &[u8]) -> (AudioTagHeader, usize) {
    let (h, off) = AudioTagHeader::decode(payload).unwrap();
    let mut out = Vec::new();
    h.encode(&mut out).unwrap();
    assert_eq!(out, payload[..off], "re-encoded header differs");
    (h, off)
}

#[test]
fn seed_000_sorenson_h263_keyframe() {
    // Seed 000, Video Data: "Control: 0x12 (keyframe Sorensen H.263)", then
    // "Video data: 000084008280016811a6fcfcfcfdffff37e7e7e7effff9bf3f3f3f7fffcdf9f..."
    // (The dump is cut mid-byte; its whole bytes are used.)
    let payload = hex("12 000084008280016811a6fcfcfcfdffff37e7e7e7effff9bf3f3f3f7fffcdf9");
    let (h, off) = video(&payload);
    assert_eq!(
        h,
        VideoTagHeader::Legacy(LegacyVideoHeader {
            frame_type: FrameType::KeyFrame,
            codec: CodecId::SorensonH263,
            packet: LegacyVideoPacket::Frame,
        })
    );
    assert_eq!(off, 1);
    // The H.263 picture start code (0000 1000 0000 0000 0000 00..) begins the body: no
    // SPS/PPS exists for this codec, hence no sequence header, which is what confused the seed.
    assert_eq!(&payload[off..off + 3], &[0x00, 0x00, 0x84]);
    assert!(h.is_keyframe());
    assert!(!h.is_sequence_header());
    assert!(!h.is_command());
    assert_eq!(h.codec(), Some(VideoCodec::SorensonH263));
    assert_eq!(h.composition_time(), 0);
}

#[test]
fn seed_001_aac_control_bytes() {
    // Seed 001: "Control: 0xA4" = 1010 0100: AAC, 11 kHz, 8 bit, mono.
    let (h, off) = audio(&[0xa4, 0x01, 0x21, 0x10]);
    assert_eq!(
        h,
        AudioTagHeader::Legacy(LegacyAudioHeader {
            format: SoundFormat::Aac,
            rate: SoundRate::Khz11,
            size: SoundSize::Bits8,
            channels: SoundType::Mono,
            aac_packet_type: Some(AacPacketType::Raw),
        })
    );
    assert_eq!(off, 2);
    assert!(!h.is_sequence_header());
    assert_eq!(h.codec(), Some(AudioCodec::Aac));
    // AAC always has an AACPacketType after the control byte.
    assert!(AudioTagHeader::decode(&[0xa4]).unwrap_err().is_truncated());
    // 0xAF: AAC, 44 kHz, 16 bit, stereo; 0x00 = sequence header (AudioSpecificConfig follows).
    let (h, off) = audio(&[0xaf, 0x00, 0x12, 0x10]);
    assert!(h.is_sequence_header());
    assert_eq!(off, 2);
    let AudioTagHeader::Legacy(l) = h else {
        panic!()
    };
    assert_eq!(
        (l.rate, l.size, l.channels),
        (SoundRate::Khz44, SoundSize::Bits16, SoundType::Stereo)
    );
    assert_eq!(l.rate.hz(), 44100);
    let asc = crate::codec::AudioSpecificConfig::decode(&[0x12, 0x10]).unwrap();
    assert_eq!(asc.sampling_rate(), Some(44100));
}

#[test]
fn legacy_audio_formats() {
    // MP3 44 kHz 16-bit stereo: 0x2F, no packet type.
    let (h, off) = audio(&[0x2f, 0xff, 0xfb]);
    assert_eq!(off, 1);
    assert_eq!(h.codec(), Some(AudioCodec::Mp3));
    for (byte, format) in [
        (0x0, SoundFormat::LinearPcmPlatformEndian),
        (0x1, SoundFormat::Adpcm),
        (0x3, SoundFormat::LinearPcmLittleEndian),
        (0x4, SoundFormat::Nellymoser16kMono),
        (0x5, SoundFormat::Nellymoser8kMono),
        (0x6, SoundFormat::Nellymoser),
        (0x7, SoundFormat::G711ALaw),
        (0x8, SoundFormat::G711MuLaw),
        (0xb, SoundFormat::Speex),
        (0xc, SoundFormat::Reserved(12)),
        (0xd, SoundFormat::Reserved(13)),
        (0xe, SoundFormat::Mp3_8k),
        (0xf, SoundFormat::DeviceSpecific),
    ] {
        let (h, off) = audio(&[byte << 4 | 0x0a, 0]);
        assert_eq!(off, 1);
        let AudioTagHeader::Legacy(l) = h else {
            panic!()
        };
        assert_eq!(l.format, format);
        assert_eq!(l.rate, SoundRate::Khz22);
        assert_eq!(l.size, SoundSize::Bits16);
        assert_eq!(l.channels, SoundType::Mono);
    }
    assert!(AudioTagHeader::decode(&[]).unwrap_err().is_truncated());
}

#[test]
fn legacy_avc_and_hevc() {
    // AVC sequence header from the committed fixture: 17 00 000000 | record.
    let (h, off) = video(&hex("17 00 000000 0164000dffe1"));
    assert_eq!(off, 5);
    assert!(h.is_sequence_header());
    assert!(!h.is_keyframe());
    assert_eq!(h.codec(), Some(VideoCodec::Avc));
    // Keyframe NALU with composition time 80 ms.
    let (h, _) = video(&hex("17 01 000050 00000002 0605"));
    assert!(h.is_keyframe());
    assert_eq!(h.composition_time(), 80);
    // Inter frame with a negative composition time (-10).
    let (h, _) = video(&hex("27 01 fffff6"));
    assert!(!h.is_keyframe());
    assert_eq!(h.frame_type(), FrameType::InterFrame);
    assert_eq!(h.composition_time(), -10);
    // End of sequence.
    let (h, _) = video(&hex("17 02 000000"));
    assert!(h.is_sequence_end());
    // The non-standard HEVC codec id 12 uses the same layout.
    let (h, off) = video(&hex("1c 00 000000 01"));
    assert_eq!(off, 5);
    assert!(h.is_sequence_header());
    assert_eq!(h.codec(), Some(VideoCodec::Hevc));
    // Cut inside the composition time.
    assert!(
        VideoTagHeader::decode(&hex("17 01 00"))
            .unwrap_err()
            .is_truncated()
    );
    // Other legacy codecs have no packet header.
    for (id, codec) in [
        (3, CodecId::Screen),
        (4, CodecId::Vp6),
        (5, CodecId::Vp6Alpha),
        (6, CodecId::Screen2),
        (9, CodecId::Other(9)),
    ] {
        let (h, off) = video(&[0x20 | id, 0x00]);
        assert_eq!(off, 1);
        let VideoTagHeader::Legacy(l) = h else {
            panic!()
        };
        assert_eq!(l.codec, codec);
    }
}

#[test]
fn command_frames() {
    // Legacy: frame type 5, the command byte right after.
    let (h, off) = video(&[0x57, 0x01]);
    assert_eq!(off, 2);
    assert_eq!(h.command(), Some(VideoCommand::EndSeek));
    assert!(!h.is_keyframe());
    assert!(!h.is_sequence_header());
    // Enhanced: IsExHeader | frame type 5 | packet type 1, then the command byte, no FOURCC.
    let (h, off) = video(&[0xd1, 0x00]);
    assert_eq!(off, 2);
    assert_eq!(h.command(), Some(VideoCommand::StartSeek));
    assert_eq!(h.codec(), None);
    let VideoTagHeader::Enhanced(ex) = &h else {
        panic!()
    };
    assert_eq!(ex.tracks(&[]).count(), 0);
}

#[test]
fn enhanced_video_single_track() {
    // hvc1 sequence start.
    let (h, off) = video(b"\x90hvc1\x01\x01");
    assert_eq!(off, 5);
    assert!(h.is_sequence_header());
    assert_eq!(h.codec(), Some(VideoCodec::Hevc));
    // hvc1 coded frames: SI24 composition time in the header.
    let (h, off) = video(b"\x91hvc1\xff\xff\xfe\x00\x00\x00\x01\x26");
    assert_eq!(off, 8);
    assert!(h.is_keyframe());
    assert_eq!(h.composition_time(), -2);
    // CodedFramesX: no composition time.
    let (h, off) = video(b"\xa3avc1\x00");
    assert_eq!(off, 5);
    assert!(!h.is_keyframe());
    assert_eq!(h.frame_type(), FrameType::InterFrame);
    // av01 coded frames have no composition time either.
    let (h, off) = video(b"\x91av01\x12\x00");
    assert_eq!(off, 5);
    assert_eq!(h.codec(), Some(VideoCodec::Av1));
    // AV1 MPEG-2 TS sequence start counts as configuration.
    let (h, _) = video(b"\x95av01");
    assert!(h.is_sequence_header());
    // vp09, vp08, sequence end, metadata, unknown FOURCC.
    assert_eq!(video(b"\x90vp09").0.codec(), Some(VideoCodec::Vp9));
    assert_eq!(video(b"\x91vp08").0.codec(), Some(VideoCodec::Vp8));
    assert!(video(b"\x92avc1").0.is_sequence_end());
    let (h, _) = video(b"\x94hvc1\x02\x00\x09colorInfo");
    let VideoTagHeader::Enhanced(ex) = &h else {
        panic!()
    };
    assert_eq!(ex.packet_type, VideoPacketType::Metadata);
    assert_eq!(h.codec(), Some(VideoCodec::Hevc));
    assert_eq!(
        video(b"\x91xyz9").0.codec(),
        Some(VideoCodec::UnknownFourCc(FourCc(*b"xyz9")))
    );
    assert_eq!(video(b"\x98avc1").0.frame_type(), FrameType::KeyFrame);
    assert!(
        VideoTagHeader::decode(b"\x91hv")
            .unwrap_err()
            .is_truncated()
    );
}

#[test]
fn enhanced_video_multitrack() {
    // Keyframe, Multitrack; ManyTracks of avc1 CodedFrames; two tracks.
    let mut p = vec![0x96, 0x11];
    p.extend_from_slice(b"avc1");
    encode_track(
        &mut p,
        AvMultitrackType::ManyTracks,
        FourCc::AVC1,
        0,
        Some(40),
        &[9, 9],
    )
    .unwrap();
    encode_track(
        &mut p,
        AvMultitrackType::ManyTracks,
        FourCc::AVC1,
        1,
        Some(-40),
        &[8],
    )
    .unwrap();
    let (h, off) = video(&p);
    assert_eq!(off, 6);
    assert!(h.is_multitrack());
    assert!(h.is_keyframe());
    assert_eq!(h.codec(), Some(VideoCodec::Avc));
    let VideoTagHeader::Enhanced(ex) = &h else {
        panic!()
    };
    let tracks: Vec<_> = ex.tracks(&p[off..]).map(Result::unwrap).collect();
    assert_eq!(tracks.len(), 2);
    assert_eq!(
        (
            tracks[0].track_id,
            tracks[0].composition_time,
            tracks[0].data
        ),
        (0, Some(40), &[9, 9][..])
    );
    assert_eq!(
        (
            tracks[1].track_id,
            tracks[1].composition_time,
            tracks[1].data
        ),
        (1, Some(-40), &[8][..])
    );

    // ManyTracksManyCodecs sequence start: each track names its codec.
    let mut p = vec![0x96, 0x20];
    encode_track(
        &mut p,
        AvMultitrackType::ManyTracksManyCodecs,
        FourCc::HVC1,
        0,
        None,
        b"cfg0",
    )
    .unwrap();
    encode_track(
        &mut p,
        AvMultitrackType::ManyTracksManyCodecs,
        FourCc::AV01,
        2,
        None,
        b"c",
    )
    .unwrap();
    let (h, off) = video(&p);
    assert_eq!(off, 2);
    assert!(h.is_sequence_header());
    assert_eq!(h.codec(), None);
    let VideoTagHeader::Enhanced(ex) = &h else {
        panic!()
    };
    let tracks: Vec<_> = ex.tracks(&p[off..]).map(Result::unwrap).collect();
    assert_eq!(tracks[0].fourcc, FourCc::HVC1);
    assert_eq!(tracks[1].fourcc, FourCc::AV01);
    assert_eq!((tracks[1].track_id, tracks[1].data), (2, &b"c"[..]));

    // OneTrack: track id then the rest.
    let (h, off) = video(b"\x96\x01vp09\x05DATA");
    let VideoTagHeader::Enhanced(ex) = &h else {
        panic!()
    };
    let t: Vec<_> = ex.tracks(b"\x05DATA").map(Result::unwrap).collect();
    assert_eq!(off, 6);
    assert_eq!((t.len(), t[0].track_id, t[0].data), (1, 5, &b"DATA"[..]));

    // A track size running past the end is an error, after the good tracks.
    let bad = [0x00, 0x00, 0x00, 0x09, 0x01];
    let mut it = ex.tracks(&bad);
    assert!(it.next().unwrap().is_ok());
    let ex_many = ExVideoHeader {
        content: ExVideoContent::Multitrack {
            mode: AvMultitrackType::ManyTracks,
            fourcc: Some(FourCc::VP09),
        },
        ..ex.clone()
    };
    let mut it = ex_many.tracks(&bad);
    assert!(it.next().unwrap().is_err());
    assert!(it.next().is_none());
    // Multitrack inside multitrack is refused.
    assert!(VideoTagHeader::decode(b"\x96\x16avc1").is_err());
    // A reserved multitrack mode keeps the body unparsed.
    let (h, off) = video(b"\x96\x31??");
    assert_eq!(off, 2);
    let VideoTagHeader::Enhanced(ex) = &h else {
        panic!()
    };
    assert!(ex.tracks(b"??").next().unwrap().is_err());
}

#[test]
fn enhanced_mod_ex_timestamp_offset_nano() {
    // Keyframe, ModEx; 3 bytes of data (size - 1 = 2) = 500000 ns; then type 0 / CodedFrames.
    let p = b"\x97\x02\x07\xa1\x20\x01avc1\x00\x00\x00";
    let (h, off) = video(p);
    assert_eq!(off, p.len());
    let VideoTagHeader::Enhanced(ex) = &h else {
        panic!()
    };
    assert_eq!(ex.mod_ex, vec![ModEx::timestamp_offset_nano(500_000)]);
    assert_eq!(ex.mod_ex[0].nanos(), Some(500_000));
    assert_eq!(ex.packet_type, VideoPacketType::CodedFrames);
    assert!(h.is_keyframe());
    // A 300-byte ModEx uses the 16-bit size escape; two ModEx packets chain.
    let big = ModEx {
        mod_ex_type: 3,
        data: vec![7; 300],
    };
    let hdr = VideoTagHeader::Enhanced(ExVideoHeader {
        frame_type: FrameType::InterFrame,
        mod_ex: vec![big.clone(), ModEx::timestamp_offset_nano(1)],
        packet_type: VideoPacketType::CodedFramesX,
        content: ExVideoContent::Single {
            fourcc: FourCc::AVC1,
            composition_time: None,
        },
    });
    let mut out = Vec::new();
    hdr.encode(&mut out).unwrap();
    assert_eq!(&out[..4], &[0xa7, 0xff, 0x01, 0x2b]);
    let (back, off) = VideoTagHeader::decode(&out).unwrap();
    assert_eq!(back, hdr);
    assert_eq!(off, out.len());
    assert_eq!(big.nanos(), None);
    // Audio ModEx the same way.
    let (h, off) = audio(b"\x97\x02\x00\x00\x01\x01Opus");
    assert_eq!(off, 10);
    let AudioTagHeader::Enhanced(ex) = &h else {
        panic!()
    };
    assert_eq!(ex.mod_ex[0].nanos(), Some(1));
    assert_eq!(h.codec(), Some(AudioCodec::Opus));
    // Empty or truncated ModEx data.
    assert!(
        VideoTagHeader::decode(b"\x97\x05\x00")
            .unwrap_err()
            .is_truncated()
    );
}

#[test]
fn enhanced_audio() {
    let (h, off) = audio(b"\x90mp4a\x12\x10");
    assert_eq!(off, 5);
    assert!(h.is_sequence_header());
    assert_eq!(h.codec(), Some(AudioCodec::Aac));
    for (fourcc, codec) in [
        (b".mp3", AudioCodec::Mp3),
        (b"Opus", AudioCodec::Opus),
        (b"fLaC", AudioCodec::Flac),
        (b"ac-3", AudioCodec::Ac3),
        (b"ec-3", AudioCodec::Eac3),
        (b"abcd", AudioCodec::Unknown(FourCc(*b"abcd"))),
    ] {
        let mut p = vec![0x91];
        p.extend_from_slice(fourcc);
        let (h, _) = audio(&p);
        assert_eq!(h.codec(), Some(codec));
        assert!(!h.is_sequence_header());
    }
    assert!(audio(b"\x92Opus").0.is_sequence_end());
    let (h, _) = audio(b"\x94Opus\x01\x02\x00\x00\x00\x03");
    let AudioTagHeader::Enhanced(ex) = &h else {
        panic!()
    };
    assert_eq!(ex.packet_type, AudioPacketType::MultichannelConfig);
    let (h, _) = audio(b"\x9cOpus");
    let AudioTagHeader::Enhanced(ex) = &h else {
        panic!()
    };
    assert_eq!(ex.packet_type, AudioPacketType::Reserved(12));

    // Multitrack, ManyTracksManyCodecs, coded frames: AAC track 0 and Opus track 1.
    let mut p = vec![0x95, 0x21];
    encode_track(
        &mut p,
        AvMultitrackType::ManyTracksManyCodecs,
        FourCc::MP4A,
        0,
        None,
        &[1, 2, 3],
    )
    .unwrap();
    encode_track(
        &mut p,
        AvMultitrackType::ManyTracksManyCodecs,
        FourCc::OPUS,
        1,
        None,
        &[4],
    )
    .unwrap();
    let (h, off) = audio(&p);
    assert!(h.is_multitrack());
    assert_eq!(h.codec(), None);
    let AudioTagHeader::Enhanced(ex) = &h else {
        panic!()
    };
    let t: Vec<_> = ex.tracks(&p[off..]).map(Result::unwrap).collect();
    assert_eq!(t.len(), 2);
    assert_eq!(
        (t[0].fourcc, t[0].data, t[0].composition_time),
        (FourCc::MP4A, &[1, 2, 3][..], None)
    );
    assert_eq!((t[1].fourcc, t[1].track_id), (FourCc::OPUS, 1));
    // Single track: one track with id 0 and the whole body.
    let AudioTagHeader::Enhanced(ex) = audio(b"\x91Opus").0 else {
        panic!()
    };
    let t: Vec<_> = ex.tracks(&[7, 7]).map(Result::unwrap).collect();
    assert_eq!((t.len(), t[0].track_id, t[0].data), (1, 0, &[7, 7][..]));
    assert!(AudioTagHeader::decode(b"\x95\x25mp4a").is_err());
}
