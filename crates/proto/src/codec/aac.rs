//! AAC: `AudioSpecificConfig` (ISO/IEC 14496-3, 1.6.2.1), the body of an AAC sequence header in
//! FLV/RTMP, and the ADTS header that an MPEG-TS muxer puts before each raw AAC frame.

use super::bits::{BitReader, BitWriter};
use super::error::{CodecError, CodecErrorKind};

const WHAT: &str = "AudioSpecificConfig";

/// Sampling frequencies by `samplingFrequencyIndex` 0..=12.
pub const SAMPLING_FREQUENCIES: [u32; 13] = [
    96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
];

/// A sampling frequency as coded: a table index, or (index 15) an explicit 24-bit rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SamplingFrequency {
    /// `samplingFrequencyIndex` 0..=14 (13 and 14 are reserved and have no rate).
    Index(u8),
    /// Index 15 followed by the rate in Hz (24 bits).
    Explicit(u32),
}

impl SamplingFrequency {
    /// The rate in Hz, `None` for a reserved index.
    pub fn hz(self) -> Option<u32> {
        match self {
            SamplingFrequency::Index(i) => SAMPLING_FREQUENCIES.get(usize::from(i)).copied(),
            SamplingFrequency::Explicit(hz) => Some(hz),
        }
    }

    /// The table index for a rate, if it is one of the 13 standard rates.
    pub fn index_of(hz: u32) -> Option<u8> {
        SAMPLING_FREQUENCIES
            .iter()
            .position(|&f| f == hz)
            .map(|i| i as u8)
    }

    fn read(r: &mut BitReader<'_>, field: &'static str) -> Result<Self, CodecError> {
        let index = r.bits_u8(4, field)?;
        if index == 15 {
            Ok(SamplingFrequency::Explicit(
                r.bits_u32(24, "samplingFrequency")?,
            ))
        } else {
            Ok(SamplingFrequency::Index(index))
        }
    }

    fn write(self, w: &mut BitWriter) {
        match self {
            SamplingFrequency::Index(i) => w.bits(u64::from(i & 0x0f), 4),
            SamplingFrequency::Explicit(hz) => {
                w.bits(15, 4);
                w.bits(u64::from(hz & 0xff_ffff), 24);
            }
        }
    }
}

/// Explicit hierarchical SBR/PS signalling (object type 5 or 29 first): the output rate of the
/// SBR tool and the core object type that follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SbrSignal {
    pub extension_sampling: SamplingFrequency,
    pub core_object_type: u8,
}

/// An AAC AudioSpecificConfig. The object-type-specific configuration that follows the common
/// fields (GASpecificConfig, sync extensions, …) is kept as raw bits so the config re-encodes
/// exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioSpecificConfig {
    /// `audioObjectType` as first written: 1 Main, 2 LC, 3 SSR, 4 LTP, 5 SBR (HE-AAC), 29 PS
    /// (HE-AAC v2), … up to 95 (values from 32 use the escape code 31).
    pub object_type: u8,
    /// For explicit SBR/PS this is the core (AAC) rate.
    pub sampling: SamplingFrequency,
    /// `channelConfiguration` (4 bits): 1..=7 are fixed layouts, 0 means defined in the
    /// program config element.
    pub channel_configuration: u8,
    /// Present when `object_type` is 5 or 29.
    pub sbr: Option<SbrSignal>,
    /// The remaining bits, MSB first, padded with zeros to whole bytes.
    pub rest: Vec<u8>,
    /// How many bits of `rest` are meaningful.
    pub rest_bits: usize,
}

fn read_object_type(r: &mut BitReader<'_>, field: &'static str) -> Result<u8, CodecError> {
    let t = r.bits_u8(5, field)?;
    if t == 31 {
        Ok(32 + r.bits_u8(6, "audioObjectTypeExt")?)
    } else {
        Ok(t)
    }
}

fn write_object_type(w: &mut BitWriter, t: u8) {
    if t >= 31 {
        w.bits(31, 5);
        w.bits(u64::from(t.saturating_sub(32).min(63)), 6);
    } else {
        w.bits(u64::from(t), 5);
    }
}

impl AudioSpecificConfig {
    /// A plain config with no object-specific bits beyond the GASpecificConfig defaults (three
    /// zero bits: 1024-sample frames, no core coder, no extension).
    pub fn new(object_type: u8, sampling: SamplingFrequency, channel_configuration: u8) -> Self {
        AudioSpecificConfig {
            object_type,
            sampling,
            channel_configuration,
            sbr: None,
            rest: vec![0],
            rest_bits: 3,
        }
    }

    pub fn decode(data: &[u8]) -> Result<Self, CodecError> {
        let mut r = BitReader::new(data, WHAT);
        let object_type = read_object_type(&mut r, "audioObjectType")?;
        if object_type == 0 {
            return Err(r.invalid("audioObjectType", 0));
        }
        let sampling = SamplingFrequency::read(&mut r, "samplingFrequencyIndex")?;
        let channel_configuration = r.bits_u8(4, "channelConfiguration")?;
        let sbr = if object_type == 5 || object_type == 29 {
            let extension_sampling =
                SamplingFrequency::read(&mut r, "extensionSamplingFrequencyIndex")?;
            let core_object_type = read_object_type(&mut r, "audioObjectType (core)")?;
            Some(SbrSignal {
                extension_sampling,
                core_object_type,
            })
        } else {
            None
        };
        let rest_bits = r.bits_left();
        let mut w = BitWriter::new();
        let mut left = rest_bits;
        while left > 0 {
            let n = left.min(64) as u32;
            w.bits(r.bits(n, "rest")?, n);
            left -= n as usize;
        }
        Ok(AudioSpecificConfig {
            object_type,
            sampling,
            channel_configuration,
            sbr,
            rest: w.finish(),
            rest_bits,
        })
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        let mut w = BitWriter::new();
        write_object_type(&mut w, self.object_type);
        self.sampling.write(&mut w);
        w.bits(u64::from(self.channel_configuration & 0x0f), 4);
        if let Some(sbr) = self.sbr {
            sbr.extension_sampling.write(&mut w);
            write_object_type(&mut w, sbr.core_object_type);
        }
        let mut r = BitReader::new(&self.rest, WHAT);
        let mut left = self.rest_bits.min(self.rest.len() * 8);
        while left > 0 {
            let n = left.min(64) as u32;
            // Cannot fail: `left` never exceeds the bits in `rest`.
            w.bits(r.bits(n, "rest").unwrap_or(0), n);
            left -= n as usize;
        }
        out.extend_from_slice(&w.finish());
    }

    /// The object type of the AAC core: the one after the SBR/PS signal, else `object_type`.
    pub fn core_object_type(&self) -> u8 {
        self.sbr.map_or(self.object_type, |s| s.core_object_type)
    }

    /// The output sampling rate: the SBR rate when signalled explicitly, else the core rate.
    pub fn sampling_rate(&self) -> Option<u32> {
        match self.sbr {
            Some(s) => s.extension_sampling.hz(),
            None => self.sampling.hz(),
        }
    }

    /// Channel count for configurations 1..=7 (7 means 7.1, eight channels).
    pub fn channel_count(&self) -> Option<u8> {
        match self.channel_configuration {
            1..=6 => Some(self.channel_configuration),
            7 => Some(8),
            _ => None,
        }
    }

    /// The ADTS header for one raw AAC frame of `payload_len` bytes under this config. ADTS can
    /// only describe object types 1..=4 (core types after SBR/PS), standard sampling rates and
    /// channel configurations 0..=7, and frames up to 8191 bytes including the header.
    pub fn adts_header(&self, payload_len: usize) -> Result<AdtsHeader, CodecError> {
        let err = |field, v: u64| {
            CodecError::new("ADTS header", field, 0, CodecErrorKind::Unencodable(v))
        };
        let core = self.core_object_type();
        if !(1..=4).contains(&core) {
            return Err(err("profile", core.into()));
        }
        let sampling_index = match self.sampling {
            SamplingFrequency::Index(i) if i < 13 => i,
            SamplingFrequency::Index(i) => return Err(err("sampling_frequency_index", i.into())),
            SamplingFrequency::Explicit(hz) => SamplingFrequency::index_of(hz)
                .ok_or_else(|| err("sampling_frequency_index", hz.into()))?,
        };
        if self.channel_configuration > 7 {
            return Err(err(
                "channel_configuration",
                self.channel_configuration.into(),
            ));
        }
        let frame_length = payload_len
            .checked_add(AdtsHeader::LEN)
            .filter(|&l| l <= 0x1fff)
            .ok_or_else(|| err("frame_length", payload_len as u64))?;
        Ok(AdtsHeader {
            mpeg2: false,
            protection_absent: true,
            object_type: core,
            sampling_index,
            channel_configuration: self.channel_configuration,
            frame_length: frame_length as u16,
            buffer_fullness: 0x7ff,
            raw_data_blocks: 1,
        })
    }
}

/// An ADTS fixed + variable header (7 bytes, no CRC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdtsHeader {
    /// The ID bit: true for MPEG-2 AAC, false for MPEG-4.
    pub mpeg2: bool,
    /// True when no CRC follows the header (then the header is 7 bytes, else 9).
    pub protection_absent: bool,
    /// Audio object type 1..=4 (the header codes `profile = object_type - 1`).
    pub object_type: u8,
    pub sampling_index: u8,
    pub channel_configuration: u8,
    /// Length of the frame including this header (13 bits).
    pub frame_length: u16,
    /// 11 bits; 0x7FF means variable bit rate.
    pub buffer_fullness: u16,
    /// Raw data blocks in the frame, 1..=4.
    pub raw_data_blocks: u8,
}

impl AdtsHeader {
    /// Bytes in a header without CRC.
    pub const LEN: usize = 7;

    /// The 7 header bytes (a CRC, if `protection_absent` is false, is the caller's to append).
    pub fn encode(&self) -> [u8; 7] {
        let mut w = BitWriter::new();
        w.bits(0xfff, 12);
        w.bits(u64::from(self.mpeg2), 1);
        w.bits(0, 2); // layer
        w.bits(u64::from(self.protection_absent), 1);
        w.bits(u64::from(self.object_type.saturating_sub(1) & 0x03), 2);
        w.bits(u64::from(self.sampling_index & 0x0f), 4);
        w.bits(0, 1); // private bit
        w.bits(u64::from(self.channel_configuration & 0x07), 3);
        w.bits(0, 4); // original/copy, home, copyright id bit and start
        w.bits(u64::from(self.frame_length & 0x1fff), 13);
        w.bits(u64::from(self.buffer_fullness & 0x7ff), 11);
        w.bits(u64::from(self.raw_data_blocks.saturating_sub(1) & 0x03), 2);
        let v = w.finish();
        let mut out = [0u8; 7];
        out.copy_from_slice(&v[..7]);
        out
    }

    /// Parses a header at the start of `data` (checking the sync word).
    pub fn decode(data: &[u8]) -> Result<AdtsHeader, CodecError> {
        let mut r = BitReader::new(data, "ADTS header");
        let sync = r.bits_u32(12, "syncword")?;
        if sync != 0xfff {
            return Err(r.invalid("syncword", sync.into()));
        }
        let mpeg2 = r.bit("ID")?;
        r.skip(2, "layer")?;
        let protection_absent = r.bit("protection_absent")?;
        let object_type = r.bits_u8(2, "profile")? + 1;
        let sampling_index = r.bits_u8(4, "sampling_frequency_index")?;
        r.skip(1, "private_bit")?;
        let channel_configuration = r.bits_u8(3, "channel_configuration")?;
        r.skip(4, "original_copy, home, copyright bits")?;
        let frame_length = r.bits_u32(13, "frame_length")? as u16;
        let buffer_fullness = r.bits_u32(11, "adts_buffer_fullness")? as u16;
        let raw_data_blocks = r.bits_u8(2, "number_of_raw_data_blocks_in_frame")? + 1;
        Ok(AdtsHeader {
            mpeg2,
            protection_absent,
            object_type,
            sampling_index,
            channel_configuration,
            frame_length,
            buffer_fullness,
            raw_data_blocks,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ffmpeg_lc_44100_mono_with_sync_extension() {
        // The AAC sequence header of the committed fixture: af 00 | 12 08 56 e5 00.
        let bytes = [0x12, 0x08, 0x56, 0xe5, 0x00];
        let asc = AudioSpecificConfig::decode(&bytes).unwrap();
        assert_eq!(asc.object_type, 2);
        assert_eq!(asc.sampling, SamplingFrequency::Index(4));
        assert_eq!(asc.sampling_rate(), Some(44100));
        assert_eq!(asc.channel_configuration, 1);
        assert_eq!(asc.channel_count(), Some(1));
        assert_eq!(asc.sbr, None);
        assert_eq!(asc.rest_bits, 40 - 13);
        let mut out = Vec::new();
        asc.encode(&mut out);
        assert_eq!(out, bytes);
    }

    #[test]
    fn common_configs() {
        // LC 44.1 kHz stereo, the classic 0x1210.
        let asc = AudioSpecificConfig::decode(&[0x12, 0x10]).unwrap();
        assert_eq!(
            (
                asc.object_type,
                asc.sampling_rate(),
                asc.channel_configuration
            ),
            (2, Some(44100), 2)
        );
        assert_eq!(
            asc,
            AudioSpecificConfig::new(2, SamplingFrequency::Index(4), 2)
        );
        let mut out = Vec::new();
        asc.encode(&mut out);
        assert_eq!(out, [0x12, 0x10]);
        // HE-AAC explicit: SBR (5), core 24 kHz, stereo, output 48 kHz, core LC.
        let mut w = BitWriter::new();
        w.bits(5, 5);
        w.bits(6, 4);
        w.bits(2, 4);
        w.bits(3, 4);
        w.bits(2, 5);
        w.bits(0, 3);
        let he = w.finish();
        let asc = AudioSpecificConfig::decode(&he).unwrap();
        assert_eq!(asc.core_object_type(), 2);
        assert_eq!(asc.sampling_rate(), Some(48000));
        assert_eq!(asc.sampling.hz(), Some(24000));
        let mut out = Vec::new();
        asc.encode(&mut out);
        assert_eq!(out, he);
        let adts = asc.adts_header(100).unwrap();
        assert_eq!((adts.object_type, adts.sampling_index), (2, 6));
    }

    #[test]
    fn escape_object_type_and_explicit_rate() {
        let asc = AudioSpecificConfig {
            object_type: 42,
            sampling: SamplingFrequency::Explicit(44100),
            channel_configuration: 2,
            sbr: None,
            rest: vec![0xa0],
            rest_bits: 3,
        };
        let mut out = Vec::new();
        asc.encode(&mut out);
        // 11111 001010 1111 <24-bit 44100> 0010 101
        let back = AudioSpecificConfig::decode(&out).unwrap();
        assert_eq!(back.object_type, 42);
        assert_eq!(back.sampling, SamplingFrequency::Explicit(44100));
        assert_eq!(back.channel_configuration, 2);
        assert_eq!(back.rest_bits, out.len() * 8 - (5 + 6 + 4 + 24 + 4));
        assert!(AudioSpecificConfig::decode(&[0x00, 0x00]).is_err());
        assert!(AudioSpecificConfig::decode(&[0x12]).is_err());
    }

    #[test]
    fn adts_header_bytes() {
        let asc = AudioSpecificConfig::new(2, SamplingFrequency::Index(4), 2);
        let h = asc.adts_header(371).unwrap();
        let bytes = h.encode();
        // FFF1 | profile LC(1), index 4, channels 2 | length 378 | fullness 7FF | 1 block
        assert_eq!(bytes, [0xff, 0xf1, 0x50, 0x80, 0x2f, 0x5f, 0xfc]);
        assert_eq!(AdtsHeader::decode(&bytes).unwrap(), h);
        assert!(asc.adts_header(8190).is_err());
        assert!(
            AudioSpecificConfig::new(42, SamplingFrequency::Index(4), 2)
                .adts_header(1)
                .is_err()
        );
        assert!(AdtsHeader::decode(&[0xff, 0xe1, 0, 0, 0, 0, 0]).is_err());
    }
}
