//! FLV reader and writer tests against a real file: `ffmpeg -f lavfi -i
//! testsrc=size=320x240:rate=25 -f lavfi -i sine -t 1 -c:v libx264 -pix_fmt yuv420p -c:a aac`.

use crate::codec::{AudioSpecificConfig, AvcDecoderConfigurationRecord, AvccNalUnits, NalUnitType};

use super::*;

const FIXTURE: &[u8] = include_bytes!("../../tests/fixtures/testsrc_320x240_h264_aac.flv");

/// Pushes `data` in pieces of `chunk` bytes and collects every poll result.
fn read_all(data: &[u8], chunk: usize) -> (Vec<Result<FlvEvent, FlvError>>, FlvReader) {
    let mut reader = FlvReader::new();
    let mut events = Vec::new();
    for piece in data.chunks(chunk.max(1)) {
        reader.push(piece);
        while let Some(e) = reader.poll() {
            events.push(e);
        }
    }
    (events, reader)
}

fn tags(events: &[Result<FlvEvent, FlvError>]) -> Vec<FlvTag> {
    events
        .iter()
        .filter_map(|e| match e {
            Ok(FlvEvent::Tag(t)) => Some(t.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn reads_ffmpeg_fixture() {
    let (events, reader) = read_all(FIXTURE, FIXTURE.len());
    assert!(reader.finish().is_ok());
    assert_eq!(reader.position(), FIXTURE.len() as u64);
    assert!(events.iter().all(Result::is_ok));
    let Ok(FlvEvent::Header(header)) = &events[0] else {
        panic!("header first")
    };
    assert_eq!(*header, FlvHeader::new(true, true));
    let tags = tags(&events);

    // Script tag first: onMetaData with the stream's parameters.
    assert_eq!(tags[0].header.tag_type, TagType::Script);
    let meta = ScriptData::decode(&tags[0].data)
        .unwrap()
        .on_metadata()
        .unwrap();
    assert_eq!((meta.width(), meta.height()), (Some(320.0), Some(240.0)));
    assert_eq!(meta.framerate(), Some(25.0));
    assert_eq!(meta.video_codec(), Some(VideoCodec::Avc));
    assert_eq!(meta.audio_codec(), Some(AudioCodec::Aac));
    assert_eq!(meta.audiosamplerate(), Some(44100.0));
    assert_eq!(meta.stereo(), Some(false));

    // AVC sequence header: SPS says 320x240.
    let video: Vec<_> = tags
        .iter()
        .filter(|t| t.header.tag_type == TagType::Video)
        .collect();
    let (vh, off) = VideoTagHeader::decode(&video[0].data).unwrap();
    assert!(vh.is_sequence_header());
    let rec = AvcDecoderConfigurationRecord::decode(&video[0].data[off..]).unwrap();
    let sps = rec.parse_sps().unwrap().unwrap();
    assert_eq!((sps.width(), sps.height()), (320, 240));
    assert_eq!(sps.profile_idc, 100);
    let mut reencoded = Vec::new();
    rec.encode(&mut reencoded).unwrap();
    assert_eq!(reencoded, video[0].data[off..]);

    // 26 coded frames (ffmpeg's `-t 1` at 25 fps); the first is a keyframe holding an IDR slice; B-frames give non-zero
    // composition times.
    let frames: Vec<_> = video[1..]
        .iter()
        .map(|t| (t, VideoTagHeader::decode(&t.data).unwrap()))
        .collect();
    assert_eq!(frames.len(), 26);
    assert!(frames[0].1.0.is_keyframe());
    assert_eq!(
        frames.iter().filter(|(_, (h, _))| h.is_keyframe()).count(),
        1
    );
    assert!(frames.iter().any(|(_, (h, _))| h.composition_time() > 0));
    let first = &frames[0];
    let nal_types: Vec<_> = AvccNalUnits::new(&first.0.data[first.1.1..], rec.nal_length_size)
        .map(|n| NalUnitType::from_header(n.unwrap()[0]))
        .collect();
    assert!(nal_types.contains(&NalUnitType::IdrSlice));
    for (t, (_, off)) in &frames {
        assert!(AvccNalUnits::new(&t.data[*off..], 4).all(|n| n.is_ok()));
    }

    // AAC sequence header: LC, 44.1 kHz, mono.
    let audio: Vec<_> = tags
        .iter()
        .filter(|t| t.header.tag_type == TagType::Audio)
        .collect();
    let (ah, off) = AudioTagHeader::decode(&audio[0].data).unwrap();
    assert!(ah.is_sequence_header());
    let asc = AudioSpecificConfig::decode(&audio[0].data[off..]).unwrap();
    assert_eq!(
        (
            asc.object_type,
            asc.sampling_rate(),
            asc.channel_configuration
        ),
        (2, Some(44100), 1)
    );
    assert!(audio[1..].iter().all(|t| {
        let (h, _) = AudioTagHeader::decode(&t.data).unwrap();
        !h.is_sequence_header() && h.codec() == Some(AudioCodec::Aac)
    }));
    // Timestamps never go backwards per stream.
    assert!(
        audio
            .windows(2)
            .all(|w| w[0].header.timestamp <= w[1].header.timestamp)
    );
}

#[test]
fn byte_by_byte_equals_one_push() {
    let (all, _) = read_all(FIXTURE, FIXTURE.len());
    for chunk in [1, 7, 4096] {
        let (events, reader) = read_all(FIXTURE, chunk);
        assert_eq!(events, all, "chunk size {chunk}");
        assert!(reader.finish().is_ok());
    }
}

#[test]
fn writer_reproduces_the_file() {
    let (events, _) = read_all(FIXTURE, FIXTURE.len());
    let mut writer = FlvWriter::new();
    let mut out = Vec::new();
    writer.write_header(&FlvHeader::new(true, true), &mut out);
    for t in tags(&events) {
        writer
            .write_tag(t.header.tag_type, t.header.timestamp, &t.data, &mut out)
            .unwrap();
    }
    assert_eq!(out, FIXTURE);
    assert_eq!(writer.bytes_written(), FIXTURE.len() as u64);
    // FlvTag::encode and the zero-copy prefix/suffix produce the same bytes.
    let tag = &tags(&events)[3];
    let mut a = Vec::new();
    tag.encode(&mut a).unwrap();
    let mut b = FlvWriter::tag_prefix(tag.header.tag_type, tag.header.timestamp, tag.data.len())
        .unwrap()
        .to_vec();
    b.extend_from_slice(&tag.data);
    b.extend_from_slice(&FlvWriter::tag_suffix(tag.data.len()));
    assert_eq!(a, b);
    assert!(FlvWriter::tag_prefix(TagType::Video, 0, 1 << 24).is_err());
}

#[test]
fn truncated_file_keeps_complete_tags() {
    let (all, _) = read_all(FIXTURE, FIXTURE.len());
    let all_tags = tags(&all);
    // Tag boundaries: file offsets right after each PreviousTagSize.
    let mut boundaries = vec![13u64];
    let mut pos = 13u64;
    for t in &all_tags {
        pos += u64::from(t.header.tag_size()) + 4;
        boundaries.push(pos);
    }
    for cut in (0..FIXTURE.len())
        .step_by(97)
        .chain([9, 12, 13, 14, 24, 25, FIXTURE.len() - 1])
    {
        let (events, reader) = read_all(&FIXTURE[..cut], 512);
        assert!(events.iter().all(Result::is_ok), "cut {cut}");
        let got = tags(&events);
        assert_eq!(got, all_tags[..got.len()], "cut {cut}");
        let finish = reader.finish();
        if boundaries.contains(&(cut as u64)) {
            assert!(finish.is_ok(), "cut {cut} is on a boundary");
        } else {
            let err = finish.unwrap_err();
            assert!(err.is_truncated(), "cut {cut}: {err}");
        }
    }
}

#[test]
fn previous_tag_size_mismatch_is_a_warning() {
    let mut data = FIXTURE.to_vec();
    // The first tag is the script tag at offset 13; its PreviousTagSize follows it.
    let script_size = u32::from_be_bytes([0, data[14], data[15], data[16]]);
    let pts_at = 13 + 11 + script_size as usize;
    data[pts_at + 3] ^= 0x40;
    let (events, reader) = read_all(&data, 1000);
    assert!(reader.finish().is_ok());
    let warnings: Vec<_> = events.iter().filter_map(|e| e.as_ref().err()).collect();
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].is_warning());
    assert!(matches!(
        warnings[0],
        FlvError::PreviousTagSizeMismatch { offset, expected, .. }
            if *offset == pts_at as u64 && *expected == script_size + 11
    ));
    let (clean, _) = read_all(FIXTURE, FIXTURE.len());
    assert_eq!(tags(&events), tags(&clean));
}

#[test]
fn fatal_errors() {
    let (events, reader) = read_all(b"FLX\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00", 100);
    assert!(matches!(events[..], [Err(FlvError::BadSignature { .. })]));
    assert!(reader.is_failed());
    assert!(reader.finish().is_ok());
    // A tag over the limit.
    let mut reader = FlvReader::with_max_tag_size(1000);
    reader.push(&FIXTURE[..13]);
    reader.push(&[9, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert!(matches!(reader.poll(), Some(Ok(FlvEvent::Header(_)))));
    assert!(matches!(
        reader.poll(),
        Some(Err(FlvError::TagTooLarge { size: 4096, .. }))
    ));
    assert!(reader.poll().is_none());
    // A header whose data offset is larger than 9: the extra bytes are skipped.
    let mut data = b"FLV\x01\x01\x00\x00\x00\x0cXYZ\x00\x00\x00\x00".to_vec();
    let mut w = FlvWriter::new();
    w.write_tag(
        TagType::Video,
        0x0102_0304,
        &[0x17, 0x02, 0, 0, 0],
        &mut data,
    )
    .unwrap();
    let (events, reader) = read_all(&data, 2);
    assert!(reader.finish().is_ok());
    let got = tags(&events);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].header.timestamp, 0x0102_0304);
}

#[test]
fn read_iterator() {
    let events: Vec<_> = FlvReadIter::new(FIXTURE).collect();
    let (all, _) = read_all(FIXTURE, FIXTURE.len());
    assert_eq!(events, all);
    let cut: Vec<_> = FlvReadIter::new(&FIXTURE[..FIXTURE.len() - 5]).collect();
    assert!(cut.last().unwrap().as_ref().unwrap_err().is_truncated());
    assert_eq!(tags(&cut).len(), tags(&all).len() - 1);
}
