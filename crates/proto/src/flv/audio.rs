//! The audio tag header: the first byte(s) of an FLV audio tag body and of an RTMP Audio
//! message (type 8). Legacy (FLV spec E.4.2.1) and Enhanced RTMP (`SoundFormat` 9, FOURCC).

use super::error::{Cursor, FlvError};
use super::ex::{
    AvMultitrackType, ExCodec, ModEx, PACKET_TYPE_MOD_EX, Tracks, read_mod_ex, write_mod_ex,
};
use super::fourcc::FourCc;
use super::media_codec::AudioCodec;

const WHAT: &str = "audio tag header";
const SOUND_FORMAT_EX_HEADER: u8 = 9;
const AUDIO_PACKET_TYPE_MULTITRACK: u8 = 5;

/// Legacy `SoundFormat` (4 bits). Value 9 is not here: it switches to the enhanced header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SoundFormat {
    /// 0: linear PCM, platform endian.
    LinearPcmPlatformEndian,
    /// 1
    Adpcm,
    /// 2
    Mp3,
    /// 3: linear PCM, little endian.
    LinearPcmLittleEndian,
    /// 4
    Nellymoser16kMono,
    /// 5
    Nellymoser8kMono,
    /// 6
    Nellymoser,
    /// 7
    G711ALaw,
    /// 8
    G711MuLaw,
    /// 10: an `AACPacketType` byte follows.
    Aac,
    /// 11
    Speex,
    /// 14
    Mp3_8k,
    /// 15
    DeviceSpecific,
    /// 12 and 13: reserved, kept as data.
    Reserved(u8),
}

impl SoundFormat {
    /// From the 4-bit value; `None` for 9 (the enhanced header marker).
    pub fn from_u4(v: u8) -> Option<Self> {
        use SoundFormat::*;
        Some(match v & 0x0f {
            0 => LinearPcmPlatformEndian,
            1 => Adpcm,
            2 => Mp3,
            3 => LinearPcmLittleEndian,
            4 => Nellymoser16kMono,
            5 => Nellymoser8kMono,
            6 => Nellymoser,
            7 => G711ALaw,
            8 => G711MuLaw,
            9 => return None,
            10 => Aac,
            11 => Speex,
            14 => Mp3_8k,
            15 => DeviceSpecific,
            v => Reserved(v),
        })
    }

    pub fn to_u4(self) -> u8 {
        use SoundFormat::*;
        match self {
            LinearPcmPlatformEndian => 0,
            Adpcm => 1,
            Mp3 => 2,
            LinearPcmLittleEndian => 3,
            Nellymoser16kMono => 4,
            Nellymoser8kMono => 5,
            Nellymoser => 6,
            G711ALaw => 7,
            G711MuLaw => 8,
            Aac => 10,
            Speex => 11,
            Mp3_8k => 14,
            DeviceSpecific => 15,
            Reserved(v) => v & 0x0f,
        }
    }
}

/// Legacy `SoundRate` (2 bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SoundRate {
    /// 0: 5.5 kHz
    Khz5_5,
    /// 1: 11 kHz
    Khz11,
    /// 2: 22 kHz
    Khz22,
    /// 3: 44 kHz (always used for AAC, whatever the real rate)
    Khz44,
}

impl SoundRate {
    pub fn from_u2(v: u8) -> Self {
        match v & 0x03 {
            0 => SoundRate::Khz5_5,
            1 => SoundRate::Khz11,
            2 => SoundRate::Khz22,
            _ => SoundRate::Khz44,
        }
    }

    pub fn to_u2(self) -> u8 {
        self as u8
    }

    /// The nominal rate in Hz (5512, 11025, 22050, 44100).
    pub fn hz(self) -> u32 {
        match self {
            SoundRate::Khz5_5 => 5512,
            SoundRate::Khz11 => 11025,
            SoundRate::Khz22 => 22050,
            SoundRate::Khz44 => 44100,
        }
    }
}

/// Legacy `SoundSize` (1 bit): bits per sample of uncompressed formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SoundSize {
    Bits8,
    Bits16,
}

/// Legacy `SoundType` (1 bit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SoundType {
    Mono,
    Stereo,
}

/// `AACPacketType` (legacy AAC only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AacPacketType {
    /// 0: the body is an AudioSpecificConfig.
    SequenceHeader,
    /// 1: the body is a raw AAC frame.
    Raw,
    /// Any other value, kept as data.
    Other(u8),
}

impl AacPacketType {
    pub fn from_u8(v: u8) -> Self {
        match v {
            0 => AacPacketType::SequenceHeader,
            1 => AacPacketType::Raw,
            v => AacPacketType::Other(v),
        }
    }

    pub fn to_u8(self) -> u8 {
        match self {
            AacPacketType::SequenceHeader => 0,
            AacPacketType::Raw => 1,
            AacPacketType::Other(v) => v,
        }
    }
}

/// Enhanced `AudioPacketType` (4 bits). `Multitrack` and `ModEx` do not appear here: they are
/// unwrapped into [`ExAudioHeader::codec`] and [`ExAudioHeader::mod_ex`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AudioPacketType {
    /// 0: codec configuration (AAC AudioSpecificConfig, Opus ID header, FLAC STREAMINFO, …).
    SequenceStart,
    /// 1
    CodedFrames,
    /// 2
    SequenceEnd,
    /// 4: channel order and count.
    MultichannelConfig,
    /// 3, 6, 8..=15: reserved, kept as data.
    Reserved(u8),
}

impl AudioPacketType {
    pub(crate) fn from_u4(v: u8) -> Self {
        match v & 0x0f {
            0 => AudioPacketType::SequenceStart,
            1 => AudioPacketType::CodedFrames,
            2 => AudioPacketType::SequenceEnd,
            4 => AudioPacketType::MultichannelConfig,
            v => AudioPacketType::Reserved(v),
        }
    }

    fn to_u4(self) -> u8 {
        match self {
            AudioPacketType::SequenceStart => 0,
            AudioPacketType::CodedFrames => 1,
            AudioPacketType::SequenceEnd => 2,
            AudioPacketType::MultichannelConfig => 4,
            AudioPacketType::Reserved(v) => v & 0x0f,
        }
    }
}

/// The legacy one-byte header (plus the `AACPacketType` for AAC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LegacyAudioHeader {
    pub format: SoundFormat,
    pub rate: SoundRate,
    pub size: SoundSize,
    pub channels: SoundType,
    /// `Some` exactly when `format` is AAC (encoding an AAC header with `None` writes Raw).
    pub aac_packet_type: Option<AacPacketType>,
}

/// The Enhanced RTMP audio header (`ExAudioTagHeader`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExAudioHeader {
    /// ModEx packets before the packet type, in wire order (usually none).
    pub mod_ex: Vec<ModEx>,
    /// The packet type (for multitrack, the one shared by all tracks).
    pub packet_type: AudioPacketType,
    pub codec: ExCodec,
}

/// An audio tag header, legacy or enhanced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AudioTagHeader {
    Legacy(LegacyAudioHeader),
    Enhanced(ExAudioHeader),
}

impl LegacyAudioHeader {
    /// The first byte.
    pub fn flags_byte(&self) -> u8 {
        self.format.to_u4() << 4
            | self.rate.to_u2() << 2
            | u8::from(self.size == SoundSize::Bits16) << 1
            | u8::from(self.channels == SoundType::Stereo)
    }
}

impl AudioTagHeader {
    /// Decodes the header at the start of an audio payload; returns it and the offset of the
    /// body. For an enhanced multitrack message the body is the track list (see
    /// [`ExAudioHeader::tracks`]).
    /// An empty payload (the "silence" message) is a `Truncated` error: check for it first.
    pub fn decode(payload: &[u8]) -> Result<(AudioTagHeader, usize), FlvError> {
        let mut c = Cursor::new(payload, WHAT);
        let first = c.u8("SoundFormat")?;
        let Some(format) = SoundFormat::from_u4(first >> 4) else {
            return Self::decode_enhanced(&mut c, first);
        };
        let aac_packet_type = if format == SoundFormat::Aac {
            Some(AacPacketType::from_u8(c.u8("AACPacketType")?))
        } else {
            None
        };
        let header = LegacyAudioHeader {
            format,
            rate: SoundRate::from_u2(first >> 2),
            size: if first & 0x02 != 0 {
                SoundSize::Bits16
            } else {
                SoundSize::Bits8
            },
            channels: if first & 0x01 != 0 {
                SoundType::Stereo
            } else {
                SoundType::Mono
            },
            aac_packet_type,
        };
        Ok((AudioTagHeader::Legacy(header), c.pos))
    }

    fn decode_enhanced(c: &mut Cursor<'_>, first: u8) -> Result<(AudioTagHeader, usize), FlvError> {
        let (mut packet_type, mod_ex) = read_mod_ex(c, first)?;
        let codec = if packet_type == AUDIO_PACKET_TYPE_MULTITRACK {
            let b = c.u8("AvMultitrackType")?;
            let mode = AvMultitrackType::from_u4(b >> 4);
            packet_type = b & 0x0f;
            if packet_type == AUDIO_PACKET_TYPE_MULTITRACK || packet_type == PACKET_TYPE_MOD_EX {
                return Err(c.invalid("AudioPacketType inside multitrack", packet_type.into()));
            }
            let fourcc = match mode {
                AvMultitrackType::OneTrack | AvMultitrackType::ManyTracks => {
                    Some(FourCc(c.array4("AudioFourCc")?))
                }
                _ => None,
            };
            ExCodec::Multitrack { mode, fourcc }
        } else {
            ExCodec::Single(FourCc(c.array4("AudioFourCc")?))
        };
        let header = ExAudioHeader {
            mod_ex,
            packet_type: AudioPacketType::from_u4(packet_type),
            codec,
        };
        Ok((AudioTagHeader::Enhanced(header), c.pos))
    }

    /// Appends the header (the body is the caller's to append).
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), FlvError> {
        match self {
            AudioTagHeader::Legacy(h) => {
                if h.format.to_u4() == SOUND_FORMAT_EX_HEADER {
                    return Err(FlvError::Unencodable {
                        what: WHAT,
                        field: "SoundFormat",
                        value: 9,
                    });
                }
                out.push(h.flags_byte());
                match (h.format, h.aac_packet_type) {
                    (SoundFormat::Aac, Some(t)) => out.push(t.to_u8()),
                    (SoundFormat::Aac, None) => out.push(AacPacketType::Raw.to_u8()),
                    _ => {}
                }
                Ok(())
            }
            AudioTagHeader::Enhanced(h) => {
                let outer = match h.codec {
                    ExCodec::Single(_) => h.packet_type.to_u4(),
                    ExCodec::Multitrack { .. } => AUDIO_PACKET_TYPE_MULTITRACK,
                };
                let first_type = if h.mod_ex.is_empty() {
                    outer
                } else {
                    PACKET_TYPE_MOD_EX
                };
                out.push(SOUND_FORMAT_EX_HEADER << 4 | first_type);
                write_mod_ex(out, &h.mod_ex, outer, WHAT)?;
                match h.codec {
                    ExCodec::Single(f) => out.extend_from_slice(&f.0),
                    ExCodec::Multitrack { mode, fourcc } => {
                        out.push(mode.to_u4() << 4 | h.packet_type.to_u4());
                        if matches!(
                            mode,
                            AvMultitrackType::OneTrack | AvMultitrackType::ManyTracks
                        ) {
                            out.extend_from_slice(&fourcc.unwrap_or(FourCc([0; 4])).0);
                        }
                    }
                }
                Ok(())
            }
        }
    }

    /// Whether the body is codec configuration (legacy AAC sequence header or enhanced
    /// `SequenceStart`): a server keeps it to send to every new player.
    pub fn is_sequence_header(&self) -> bool {
        match self {
            AudioTagHeader::Legacy(h) => h.aac_packet_type == Some(AacPacketType::SequenceHeader),
            AudioTagHeader::Enhanced(h) => h.packet_type == AudioPacketType::SequenceStart,
        }
    }

    /// Whether this is an enhanced `SequenceEnd`.
    pub fn is_sequence_end(&self) -> bool {
        matches!(self, AudioTagHeader::Enhanced(h) if h.packet_type == AudioPacketType::SequenceEnd)
    }

    /// The codec, `None` for multitrack messages whose tracks each name their own.
    pub fn codec(&self) -> Option<AudioCodec> {
        match self {
            AudioTagHeader::Legacy(h) => Some(AudioCodec::from_sound_format(h.format)),
            AudioTagHeader::Enhanced(h) => h.codec.fourcc().map(AudioCodec::from_fourcc),
        }
    }

    /// Whether this is an enhanced multitrack message.
    pub fn is_multitrack(&self) -> bool {
        matches!(
            self,
            AudioTagHeader::Enhanced(ExAudioHeader {
                codec: ExCodec::Multitrack { .. },
                ..
            })
        )
    }
}

impl ExAudioHeader {
    /// The tracks of `body` (the payload after the header): one for a single-track message.
    pub fn tracks<'a>(&self, body: &'a [u8]) -> Tracks<'a> {
        Tracks::new(body, self.codec, None, false)
    }
}
