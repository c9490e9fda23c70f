//! Codec identities that are the same whether a message names them by legacy id or by FOURCC.

use super::audio::SoundFormat;
use super::fourcc::FourCc;
use super::video::CodecId;

/// The audio codec of a message, the same for a legacy id and its FOURCC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AudioCodec {
    /// Linear PCM (platform or little endian).
    Pcm,
    Adpcm,
    Mp3,
    Nellymoser,
    G711ALaw,
    G711MuLaw,
    Aac,
    Speex,
    DeviceSpecific,
    Opus,
    Flac,
    Ac3,
    Eac3,
    /// A reserved legacy `SoundFormat`.
    Reserved(u8),
    /// A FOURCC this crate does not know.
    Unknown(FourCc),
}

impl AudioCodec {
    pub fn from_fourcc(f: FourCc) -> Self {
        match f {
            FourCc::MP4A => AudioCodec::Aac,
            FourCc::MP3 => AudioCodec::Mp3,
            FourCc::OPUS => AudioCodec::Opus,
            FourCc::FLAC => AudioCodec::Flac,
            FourCc::AC3 => AudioCodec::Ac3,
            FourCc::EAC3 => AudioCodec::Eac3,
            f => AudioCodec::Unknown(f),
        }
    }

    pub fn from_sound_format(f: SoundFormat) -> Self {
        use SoundFormat::*;
        match f {
            LinearPcmPlatformEndian | LinearPcmLittleEndian => AudioCodec::Pcm,
            Adpcm => AudioCodec::Adpcm,
            Mp3 | Mp3_8k => AudioCodec::Mp3,
            Nellymoser16kMono | Nellymoser8kMono | Nellymoser => AudioCodec::Nellymoser,
            G711ALaw => AudioCodec::G711ALaw,
            G711MuLaw => AudioCodec::G711MuLaw,
            Aac => AudioCodec::Aac,
            Speex => AudioCodec::Speex,
            DeviceSpecific => AudioCodec::DeviceSpecific,
            Reserved(v) => AudioCodec::Reserved(v),
        }
    }
}

/// The video codec of a message, the same for a legacy id and its FOURCC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VideoCodec {
    Jpeg,
    SorensonH263,
    Screen,
    Vp6,
    Vp6Alpha,
    Screen2,
    Avc,
    Hevc,
    Av1,
    Vp9,
    Vp8,
    /// A legacy codec id this crate does not know.
    UnknownId(u8),
    /// A FOURCC this crate does not know.
    UnknownFourCc(FourCc),
}

impl VideoCodec {
    pub fn from_codec_id(id: CodecId) -> Self {
        match id {
            CodecId::Jpeg => VideoCodec::Jpeg,
            CodecId::SorensonH263 => VideoCodec::SorensonH263,
            CodecId::Screen => VideoCodec::Screen,
            CodecId::Vp6 => VideoCodec::Vp6,
            CodecId::Vp6Alpha => VideoCodec::Vp6Alpha,
            CodecId::Screen2 => VideoCodec::Screen2,
            CodecId::Avc => VideoCodec::Avc,
            CodecId::Hevc => VideoCodec::Hevc,
            CodecId::Other(v) => VideoCodec::UnknownId(v),
        }
    }

    pub fn from_fourcc(f: FourCc) -> Self {
        match f {
            FourCc::AVC1 => VideoCodec::Avc,
            FourCc::HVC1 => VideoCodec::Hevc,
            FourCc::AV01 => VideoCodec::Av1,
            FourCc::VP09 => VideoCodec::Vp9,
            FourCc::VP08 => VideoCodec::Vp8,
            f => VideoCodec::UnknownFourCc(f),
        }
    }
}
