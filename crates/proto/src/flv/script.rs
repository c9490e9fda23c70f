//! Script data: the AMF0 body of an RTMP Data message (type 18) or an FLV script tag, in
//! particular `@setDataFrame` / `onMetaData`.

use crate::amf::{Amf0Value, amf0};

use super::audio::SoundFormat;
use super::error::FlvError;
use super::fourcc::FourCc;
use super::media_codec::{AudioCodec, VideoCodec};
use super::video::CodecId;

/// The handler name a publisher uses to ask the server to store metadata.
pub const SET_DATA_FRAME: &str = "@setDataFrame";
/// The handler name of stream metadata.
pub const ON_METADATA: &str = "onMetaData";

/// A decoded script data body: a handler name followed by its arguments, as AMF0 values.
#[derive(Debug, Clone, PartialEq)]
pub struct ScriptData {
    /// All values in wire order; the first is normally the handler name (a string).
    pub values: Vec<Amf0Value>,
}

impl ScriptData {
    /// Decodes every AMF0 value in `payload`.
    pub fn decode(payload: &[u8]) -> Result<ScriptData, FlvError> {
        Ok(ScriptData {
            values: amf0::decode_all(payload)?,
        })
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        amf0::encode_all(&self.values, out);
    }

    /// The leading string values (handler names), e.g. `["@setDataFrame", "onMetaData"]`.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.values.iter().map_while(Amf0Value::as_str)
    }

    /// The handler name: the first value, when it is a string.
    pub fn name(&self) -> Option<&str> {
        self.values.first().and_then(Amf0Value::as_str)
    }

    /// The stream metadata, for `onMetaData` bodies with or without the `@setDataFrame`
    /// prefix: the first object or ECMA array after the name(s).
    pub fn on_metadata(&self) -> Option<OnMetaData> {
        let mut names = self.names();
        let first = names.next()?;
        let second = names.next();
        let is_metadata =
            first == ON_METADATA || (first == SET_DATA_FRAME && second == Some(ON_METADATA));
        if !is_metadata {
            return None;
        }
        self.values
            .iter()
            .find(|v| v.properties().is_some())
            .map(|v| OnMetaData { value: v.clone() })
    }
}

/// The body to store and send to players for a `@setDataFrame` message: the payload without its
/// first AMF0 value (the `@setDataFrame` string), as servers do. `None` when the payload does not
/// start with `@setDataFrame`. The result is a sub-slice: nothing is re-encoded.
pub fn set_data_frame_to_on_metadata(payload: &[u8]) -> Result<Option<&[u8]>, FlvError> {
    let (first, used) = amf0::decode(payload)?;
    if first.as_str() != Some(SET_DATA_FRAME) {
        return Ok(None);
    }
    Ok(payload.get(used..))
}

/// A codec id as `onMetaData` gives it: a legacy number, or a FOURCC (as its UI32 number, or
/// as a 4-character string, which some encoders write).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetadataCodecId {
    Legacy(u8),
    FourCc(FourCc),
}

impl MetadataCodecId {
    fn from_value(v: &Amf0Value) -> Option<Self> {
        if let Some(n) = v.as_f64() {
            if !(n >= 0.0 && n <= f64::from(u32::MAX) && n.fract() == 0.0) {
                return None;
            }
            let n = n as u32;
            return Some(match u8::try_from(n) {
                Ok(id) if id < 16 => MetadataCodecId::Legacy(id),
                _ => MetadataCodecId::FourCc(FourCc::from_u32(n)),
            });
        }
        let s = v.as_str()?.as_bytes();
        let b: [u8; 4] = s.try_into().ok()?;
        Some(MetadataCodecId::FourCc(FourCc(b)))
    }
}

/// Stream metadata (`onMetaData`): the properties of its object or ECMA array, with typed
/// accessors for the common ones. The original value is kept so it re-encodes unchanged.
#[derive(Debug, Clone, PartialEq)]
pub struct OnMetaData {
    /// An [`Amf0Value::EcmaArray`] or [`Amf0Value::Object`] (or typed object).
    pub value: Amf0Value,
}

impl OnMetaData {
    /// Empty metadata as an ECMA array (what encoders send).
    pub fn new() -> Self {
        OnMetaData {
            value: Amf0Value::EcmaArray {
                count: 0,
                properties: Vec::new(),
            },
        }
    }

    /// Sets `key` (replacing an existing property of that name).
    pub fn set(&mut self, key: &str, v: Amf0Value) {
        let props = match &mut self.value {
            Amf0Value::EcmaArray { count, properties } => {
                if !properties.iter().any(|(k, _)| k == key) {
                    *count = count.saturating_add(1);
                }
                properties
            }
            Amf0Value::Object(p) | Amf0Value::TypedObject { properties: p, .. } => p,
            other => {
                *other = Amf0Value::EcmaArray {
                    count: 1,
                    properties: Vec::new(),
                };
                let Amf0Value::EcmaArray { properties, .. } = other else {
                    return;
                };
                properties
            }
        };
        match props.iter_mut().find(|(k, _)| k == key) {
            Some((_, slot)) => *slot = v,
            None => props.push((key.to_string(), v)),
        }
    }

    /// The property named `key`.
    pub fn get(&self, key: &str) -> Option<&Amf0Value> {
        self.value.get(key)
    }

    /// All properties in wire order.
    pub fn properties(&self) -> &[(String, Amf0Value)] {
        self.value.properties().unwrap_or(&[])
    }

    fn number(&self, key: &str) -> Option<f64> {
        self.get(key)?.as_f64()
    }

    /// Seconds (0 for live streams).
    pub fn duration(&self) -> Option<f64> {
        self.number("duration")
    }
    /// Pixels.
    pub fn width(&self) -> Option<f64> {
        self.number("width")
    }
    /// Pixels.
    pub fn height(&self) -> Option<f64> {
        self.number("height")
    }
    /// Frames per second.
    pub fn framerate(&self) -> Option<f64> {
        self.number("framerate")
    }
    /// Kilobits per second.
    pub fn videodatarate(&self) -> Option<f64> {
        self.number("videodatarate")
    }
    /// Kilobits per second.
    pub fn audiodatarate(&self) -> Option<f64> {
        self.number("audiodatarate")
    }
    /// Hz.
    pub fn audiosamplerate(&self) -> Option<f64> {
        self.number("audiosamplerate")
    }
    /// Bits per sample.
    pub fn audiosamplesize(&self) -> Option<f64> {
        self.number("audiosamplesize")
    }
    /// Bytes (0 for live streams).
    pub fn filesize(&self) -> Option<f64> {
        self.number("filesize")
    }
    pub fn stereo(&self) -> Option<bool> {
        self.get("stereo")?.as_bool()
    }
    /// The `encoder` string (e.g. `Lavf60.16.100`).
    pub fn encoder(&self) -> Option<&str> {
        self.get("encoder")?.as_str()
    }

    /// `videocodecid` as written.
    pub fn videocodecid(&self) -> Option<MetadataCodecId> {
        MetadataCodecId::from_value(self.get("videocodecid")?)
    }

    /// `audiocodecid` as written.
    pub fn audiocodecid(&self) -> Option<MetadataCodecId> {
        MetadataCodecId::from_value(self.get("audiocodecid")?)
    }

    /// The video codec named by `videocodecid`.
    pub fn video_codec(&self) -> Option<VideoCodec> {
        Some(match self.videocodecid()? {
            MetadataCodecId::Legacy(id) => VideoCodec::from_codec_id(CodecId::from_u4(id)),
            MetadataCodecId::FourCc(f) => VideoCodec::from_fourcc(f),
        })
    }

    /// The audio codec named by `audiocodecid` (`None` for id 9, which is not a codec).
    pub fn audio_codec(&self) -> Option<AudioCodec> {
        Some(match self.audiocodecid()? {
            MetadataCodecId::Legacy(id) => AudioCodec::from_sound_format(SoundFormat::from_u4(id)?),
            MetadataCodecId::FourCc(f) => AudioCodec::from_fourcc(f),
        })
    }

    /// The body of an `onMetaData` data message or script tag: the name, then the value.
    pub fn encode_body(&self, out: &mut Vec<u8>) {
        amf0::encode(&Amf0Value::String(ON_METADATA.to_string()), out);
        amf0::encode(&self.value, out);
    }
}

impl Default for OnMetaData {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Seed 000, `@setDataFrame`: the message body after the 12-byte chunk header.
    const SEED_000_SET_DATA_FRAME: &str = "\
        02 00 0d 40 73 65 74 44 61 74 61 46 72 61 6d 65 02 00 0a 6f
        6e 4d 65 74 61 44 61 74 61 08 00 00 00 0a 00 08
        64 75 72 61 74 69 6f 6e 00 00 00 00 00 00 00 00
        00 00 05 77 69 64 74 68 00 40 94 00 00 00 00 00
        00 00 06 68 65 69 67 68 74 00 40 86 80 00 00 00
        00 00 00 0d 76 69 64 65 6f 64 61 74 61 72 61 74
        65 00 40 d3 12 d0 00 00 00 00 00 09 66 72 61 6d
        65 72 61 74 65 00 40 2e 00 00 00 00 00 00 00 0c
        76 69 64 65 6f 63 6f 64 65 63 69 64 00 40 00 00
        00 00 00 00 00 00 05 74 69 74 6c 65 02 00 1a 48
        49 4b 20 4d 65 64 69 61 20 53 65 72 76 65 72 20
        56 34 2e 33 30 2e 30 38 35 00 07 63 6f 6d 6d 65
        6e 74 02 00 2f 48 49 4b 20 4d 65 64 69 61 20 53
        65 72 76 65 72 20 53 65 73 73 69 6f 6e 20 44 65
        73 63 72 69 70 74 69 6f 6e 20 3a 20 73 74 61 6e
        64 61 72 64 00 07 65 6e 63 6f 64 65 72 02 00 0d
        4c 61 76 66 36 30 2e 31 36 2e 31 30 30 00 08 66
        69 6c 65 73 69 7a 65 00 00 00 00 00 00 00 00 00
        00 00 09";

    fn seed_body() -> Vec<u8> {
        hex::decode(
            SEED_000_SET_DATA_FRAME
                .split_whitespace()
                .collect::<String>(),
        )
        .unwrap()
    }

    #[test]
    fn seed_000_set_data_frame() {
        let body = seed_body();
        assert_eq!(body.len(), 295);
        let script = ScriptData::decode(&body).unwrap();
        assert_eq!(
            script.names().collect::<Vec<_>>(),
            [SET_DATA_FRAME, ON_METADATA]
        );
        assert_eq!(script.name(), Some(SET_DATA_FRAME));
        let meta = script.on_metadata().unwrap();
        assert_eq!(meta.properties().len(), 10);
        assert_eq!(meta.duration(), Some(0.0));
        assert_eq!(meta.width(), Some(1280.0));
        assert_eq!(meta.height(), Some(720.0));
        assert_eq!(meta.videodatarate(), Some(19531.25));
        assert_eq!(meta.framerate(), Some(15.0));
        assert_eq!(meta.videocodecid(), Some(MetadataCodecId::Legacy(2)));
        assert_eq!(meta.video_codec(), Some(VideoCodec::SorensonH263));
        assert_eq!(
            meta.get("title").and_then(Amf0Value::as_str),
            Some("HIK Media Server V4.30.085")
        );
        assert_eq!(
            meta.get("comment").and_then(Amf0Value::as_str),
            Some("HIK Media Server Session Description : standard")
        );
        assert_eq!(meta.encoder(), Some("Lavf60.16.100"));
        assert_eq!(meta.filesize(), Some(0.0));
        assert_eq!(meta.audiocodecid(), None);
        assert_eq!(meta.stereo(), None);
        // Re-encodes byte for byte (the ECMA array count 10 is kept).
        let mut out = Vec::new();
        script.encode(&mut out);
        assert_eq!(out, body);
    }

    #[test]
    fn strip_set_data_frame() {
        let body = seed_body();
        let stored = set_data_frame_to_on_metadata(&body).unwrap().unwrap();
        assert_eq!(stored, &body[16..]);
        assert_eq!(&stored[..13], b"\x02\x00\x0aonMetaData");
        let script = ScriptData::decode(stored).unwrap();
        assert_eq!(script.name(), Some(ON_METADATA));
        let meta = script.on_metadata().unwrap();
        assert_eq!(meta.width(), Some(1280.0));
        // Building the body from the metadata gives the same bytes.
        let mut built = Vec::new();
        meta.encode_body(&mut built);
        assert_eq!(built, stored);
        // Not @setDataFrame: nothing to strip. Not AMF: an error.
        assert_eq!(set_data_frame_to_on_metadata(stored).unwrap(), None);
        assert!(set_data_frame_to_on_metadata(&[0x02, 0x00]).is_err());
    }

    #[test]
    fn other_script_data_is_not_metadata() {
        let mut body = Vec::new();
        amf0::encode_all(
            &[
                Amf0Value::String("onCuePoint".into()),
                Amf0Value::object([("name", Amf0Value::string("x"))]),
            ],
            &mut body,
        );
        let script = ScriptData::decode(&body).unwrap();
        assert_eq!(script.name(), Some("onCuePoint"));
        assert!(script.on_metadata().is_none());
    }

    #[test]
    fn codec_ids_as_fourcc_and_strings() {
        let mut meta = OnMetaData::new();
        meta.set(
            "videocodecid",
            Amf0Value::Number(f64::from(FourCc::HVC1.to_u32())),
        );
        meta.set("audiocodecid", Amf0Value::string("Opus"));
        meta.set("width", Amf0Value::Number(320.0));
        meta.set("width", Amf0Value::Number(640.0));
        assert_eq!(meta.video_codec(), Some(VideoCodec::Hevc));
        assert_eq!(meta.audio_codec(), Some(AudioCodec::Opus));
        assert_eq!(meta.width(), Some(640.0));
        assert!(matches!(meta.value, Amf0Value::EcmaArray { count: 3, .. }));
        meta.set("audiocodecid", Amf0Value::Number(10.0));
        assert_eq!(meta.audio_codec(), Some(AudioCodec::Aac));
        meta.set("audiocodecid", Amf0Value::Number(-1.0));
        assert_eq!(meta.audiocodecid(), None);
        meta.set("videocodecid", Amf0Value::Number(7.0));
        assert_eq!(meta.video_codec(), Some(VideoCodec::Avc));
    }
}
