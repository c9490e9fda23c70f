//! FLV reader, tag headers, script data and codec configuration decoders on arbitrary bytes.
//! Nothing may panic; whatever decodes must re-encode without error.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rtmpkit_proto::codec::{
    AdtsHeader, AnnexBNalUnits, AudioSpecificConfig, AvcDecoderConfigurationRecord, AvccNalUnits,
    H264Sps, HevcDecoderConfigurationRecord, HevcSps, remove_emulation_prevention,
};
use rtmpkit_proto::flv::{
    AudioTagHeader, FlvEvent, FlvReader, ScriptData, VideoTagHeader, set_data_frame_to_on_metadata,
};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    match selector % 4 {
        0 => read_file(rest, usize::from(selector / 4) + 1),
        1 => tag_headers(rest),
        2 => configs(rest),
        _ => {
            if let Ok(script) = ScriptData::decode(rest) {
                let mut out = Vec::new();
                script.encode(&mut out);
                if let Some(meta) = script.on_metadata() {
                    let _ = (meta.width(), meta.video_codec(), meta.audio_codec());
                    meta.encode_body(&mut out);
                }
            }
            let _ = set_data_frame_to_on_metadata(rest);
        }
    }
});

/// The reader, fed in pieces, plus every tag's body through the matching header decoder.
fn read_file(data: &[u8], chunk: usize) {
    // A valid header in front makes the tag parsing reachable.
    let mut reader = FlvReader::with_max_tag_size(1 << 20);
    reader.push(b"FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00");
    for piece in data.chunks(chunk) {
        reader.push(piece);
        while let Some(event) = reader.poll() {
            if let Ok(FlvEvent::Tag(tag)) = event {
                match tag.header.tag_type.to_u5() {
                    8 => drop(AudioTagHeader::decode(&tag.data)),
                    9 => drop(VideoTagHeader::decode(&tag.data)),
                    _ => drop(ScriptData::decode(&tag.data)),
                }
            }
        }
    }
    let _ = reader.finish();
}

fn tag_headers(data: &[u8]) {
    if let Ok((h, off)) = VideoTagHeader::decode(data) {
        assert!(off <= data.len());
        let mut out = Vec::new();
        h.encode(&mut out).expect("decoded video header re-encodes");
        let (back, _) = VideoTagHeader::decode(&out).expect("re-encoded video header decodes");
        assert_eq!(back, h);
        let _ = (
            h.is_keyframe(),
            h.is_sequence_header(),
            h.codec(),
            h.is_command(),
        );
        if let VideoTagHeader::Enhanced(ex) = &h {
            for track in ex.tracks(&data[off..]) {
                let _ = track;
            }
        }
    }
    if let Ok((h, off)) = AudioTagHeader::decode(data) {
        assert!(off <= data.len());
        let mut out = Vec::new();
        h.encode(&mut out).expect("decoded audio header re-encodes");
        let (back, _) = AudioTagHeader::decode(&out).expect("re-encoded audio header decodes");
        assert_eq!(back, h);
        if let AudioTagHeader::Enhanced(ex) = &h {
            for track in ex.tracks(&data[off..]) {
                let _ = track;
            }
        }
    }
}

fn configs(data: &[u8]) {
    if let Ok(rec) = AvcDecoderConfigurationRecord::decode(data) {
        let mut out = Vec::new();
        rec.encode(&mut out).expect("decoded AVC record re-encodes");
        assert_eq!(
            AvcDecoderConfigurationRecord::decode(&out).as_ref(),
            Ok(&rec)
        );
        if let Some(Ok(sps)) = rec.parse_sps() {
            let _ = (sps.width(), sps.height());
        }
    }
    if let Ok(rec) = HevcDecoderConfigurationRecord::decode(data) {
        let mut out = Vec::new();
        rec.encode(&mut out)
            .expect("decoded HEVC record re-encodes");
        assert_eq!(
            HevcDecoderConfigurationRecord::decode(&out).as_ref(),
            Ok(&rec)
        );
        if let Some(Ok(sps)) = rec.parse_sps() {
            let _ = (sps.width(), sps.height());
        }
    }
    if let Ok(asc) = AudioSpecificConfig::decode(data) {
        let mut out = Vec::new();
        asc.encode(&mut out);
        assert_eq!(out, data, "AudioSpecificConfig re-encodes exactly");
        let _ = asc.adts_header(data.len());
    }
    let _ = AdtsHeader::decode(data);
    if let Ok(sps) = H264Sps::decode(data) {
        let _ = (sps.width(), sps.height());
    }
    if let Ok(sps) = HevcSps::decode(data) {
        let _ = (sps.width(), sps.height());
    }
    for nal in AvccNalUnits::new(data, 4) {
        let _ = nal;
    }
    for nal in AnnexBNalUnits::new(data) {
        let _ = remove_emulation_prevention(nal);
    }
}
