//! Property tests of the audio and video tag headers: generated headers round-trip, and
//! arbitrary bytes decode without panicking and re-encode to themselves when canonical.

use proptest::prelude::*;

use super::*;

fn fourcc() -> impl Strategy<Value = FourCc> {
    prop_oneof![
        Just(FourCc::AVC1),
        Just(FourCc::HVC1),
        Just(FourCc::AV01),
        Just(FourCc::MP4A),
        Just(FourCc::OPUS),
        any::<[u8; 4]>().prop_map(FourCc),
    ]
}

fn mod_ex() -> impl Strategy<Value = Vec<ModEx>> {
    prop::collection::vec(
        (0u8..16, prop::collection::vec(any::<u8>(), 1..300)).prop_map(|(t, data)| ModEx {
            mod_ex_type: t,
            data,
        }),
        0..3,
    )
}

fn multitrack_mode() -> impl Strategy<Value = AvMultitrackType> {
    (0u8..16).prop_map(AvMultitrackType::from_u4)
}

fn legacy_video() -> impl Strategy<Value = VideoTagHeader> {
    (
        0u8..8,
        0u8..16,
        any::<u8>(),
        -(1i32 << 23)..(1 << 23),
        any::<u8>(),
    )
        .prop_map(|(ft, codec, pt, cts, cmd)| {
            let frame_type = FrameType::from_u3(ft);
            let codec = CodecId::from_u4(codec);
            let packet = if frame_type == FrameType::Command {
                LegacyVideoPacket::Command(VideoCommand::from_u8(cmd))
            } else if codec.has_avc_header() {
                LegacyVideoPacket::Avc {
                    packet_type: AvcPacketType::from_u8(pt),
                    composition_time: cts,
                }
            } else {
                LegacyVideoPacket::Frame
            };
            VideoTagHeader::Legacy(LegacyVideoHeader {
                frame_type,
                codec,
                packet,
            })
        })
}

fn enhanced_video() -> impl Strategy<Value = VideoTagHeader> {
    (
        0u8..8,
        mod_ex(),
        0u8..16,
        fourcc(),
        -(1i32 << 23)..(1 << 23),
        any::<u8>(),
        multitrack_mode(),
        0u8..3,
    )
        .prop_filter("multitrack and ModEx are not packet types", |t| {
            t.2 != 6 && t.2 != 7
        })
        .prop_map(|(ft, mod_ex, pt, fourcc, cts, cmd, mode, shape)| {
            let frame_type = FrameType::from_u3(ft);
            let packet_type = VideoPacketType::from_u4(pt);
            // A command frame is a command unless its packet type is Metadata; a multitrack
            // command frame would read back as a command, so Metadata commands stay single.
            let content = if frame_type == FrameType::Command && pt != 4 {
                ExVideoContent::Command(VideoCommand::from_u8(cmd))
            } else if shape == 0 || frame_type == FrameType::Command {
                let cts = (pt == 1 && matches!(fourcc, FourCc::AVC1 | FourCc::HVC1)).then_some(cts);
                ExVideoContent::Single {
                    fourcc,
                    composition_time: cts,
                }
            } else {
                let fourcc = matches!(
                    mode,
                    AvMultitrackType::OneTrack | AvMultitrackType::ManyTracks
                )
                .then_some(fourcc);
                ExVideoContent::Multitrack { mode, fourcc }
            };
            VideoTagHeader::Enhanced(ExVideoHeader {
                frame_type,
                mod_ex,
                packet_type,
                content,
            })
        })
}

fn any_audio() -> impl Strategy<Value = AudioTagHeader> {
    let legacy = (0u8..16, 0u8..4, any::<bool>(), any::<bool>(), any::<u8>())
        .prop_filter("9 is the enhanced marker", |t| t.0 != 9)
        .prop_map(|(f, r, s, c, pt)| {
            let format = SoundFormat::from_u4(f).unwrap();
            AudioTagHeader::Legacy(LegacyAudioHeader {
                format,
                rate: SoundRate::from_u2(r),
                size: if s {
                    SoundSize::Bits16
                } else {
                    SoundSize::Bits8
                },
                channels: if c {
                    SoundType::Stereo
                } else {
                    SoundType::Mono
                },
                aac_packet_type: (format == SoundFormat::Aac).then(|| AacPacketType::from_u8(pt)),
            })
        });
    let enhanced = (
        mod_ex(),
        0u8..16,
        fourcc(),
        multitrack_mode(),
        any::<bool>(),
    )
        .prop_filter("multitrack and ModEx are not packet types", |t| {
            t.1 != 5 && t.1 != 7
        })
        .prop_map(|(mod_ex, pt, fourcc, mode, multi)| {
            let codec = if multi {
                let fourcc = matches!(
                    mode,
                    AvMultitrackType::OneTrack | AvMultitrackType::ManyTracks
                )
                .then_some(fourcc);
                ExCodec::Multitrack { mode, fourcc }
            } else {
                ExCodec::Single(fourcc)
            };
            AudioTagHeader::Enhanced(ExAudioHeader {
                mod_ex,
                packet_type: AudioPacketType::from_u4(pt),
                codec,
            })
        });
    prop_oneof![legacy, enhanced]
}

proptest! {
    #[test]
    fn video_header_round_trip(h in prop_oneof![legacy_video(), enhanced_video()], body in prop::collection::vec(any::<u8>(), 0..8)) {
        let mut out = Vec::new();
        h.encode(&mut out).unwrap();
        let len = out.len();
        out.extend_from_slice(&body);
        let (back, off) = VideoTagHeader::decode(&out).unwrap();
        prop_assert_eq!(back, h);
        prop_assert_eq!(off, len);
    }

    #[test]
    fn audio_header_round_trip(h in any_audio(), body in prop::collection::vec(any::<u8>(), 0..8)) {
        let mut out = Vec::new();
        h.encode(&mut out).unwrap();
        let len = out.len();
        out.extend_from_slice(&body);
        let (back, off) = AudioTagHeader::decode(&out).unwrap();
        prop_assert_eq!(back, h);
        prop_assert_eq!(off, len);
    }

    #[test]
    fn arbitrary_bytes_decode_and_reencode(data in prop::collection::vec(any::<u8>(), 0..40)) {
        if let Ok((h, off)) = VideoTagHeader::decode(&data) {
            prop_assert!(off <= data.len());
            let mut out = Vec::new();
            h.encode(&mut out).unwrap();
            let canonical = !matches!(&h, VideoTagHeader::Enhanced(e) if !e.mod_ex.is_empty());
            if canonical {
                prop_assert_eq!(&out[..], &data[..off]);
            }
            if let VideoTagHeader::Enhanced(e) = &h {
                for t in e.tracks(&data[off..]).flatten() {
                    prop_assert!(t.data.len() <= data.len());
                }
            }
        }
        if let Ok((h, off)) = AudioTagHeader::decode(&data) {
            prop_assert!(off <= data.len());
            let mut out = Vec::new();
            h.encode(&mut out).unwrap();
            if !matches!(&h, AudioTagHeader::Enhanced(e) if !e.mod_ex.is_empty()) {
                prop_assert_eq!(&out[..], &data[..off]);
            }
        }
    }
}
