//! `AVCDecoderConfigurationRecord` (ISO/IEC 14496-15, 5.3.3.1): the body of an AVC sequence
//! header in FLV/RTMP (legacy `AVCPacketType` 0 or enhanced `avc1` `SequenceStart`).

use super::error::{CodecError, CodecErrorKind};
use super::h264_sps::H264Sps;

const WHAT: &str = "AVCDecoderConfigurationRecord";

/// Profiles for which no extension fields are defined (Baseline, Main, Extended).
fn profile_without_extension(profile: u8) -> bool {
    matches!(profile, 66 | 77 | 88)
}

/// The fields that follow the PPS list for profiles other than Baseline/Main/Extended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvcConfigExtension {
    /// `chroma_format_idc` (2 bits).
    pub chroma_format: u8,
    /// `bit_depth_luma_minus8` (3 bits).
    pub bit_depth_luma_minus8: u8,
    /// `bit_depth_chroma_minus8` (3 bits).
    pub bit_depth_chroma_minus8: u8,
    /// SPS extension NAL units.
    pub sps_ext: Vec<Vec<u8>>,
}

/// An AVC decoder configuration record. Parameter sets are whole NAL units (header byte
/// included, emulation prevention kept), as they appear in the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvcDecoderConfigurationRecord {
    /// `configurationVersion`, 1.
    pub version: u8,
    /// `AVCProfileIndication` (profile_idc of the SPS).
    pub profile: u8,
    /// `profile_compatibility` (the SPS constraint flags byte).
    pub compatibility: u8,
    /// `AVCLevelIndication` (level_idc).
    pub level: u8,
    /// Bytes in each NAL unit length prefix of the coded frames: 1, 2 or 4.
    pub nal_length_size: u8,
    pub sps: Vec<Vec<u8>>,
    pub pps: Vec<Vec<u8>>,
    /// Present when the record carries the high-profile extension fields. Many encoders omit
    /// them even for High profile, so their absence is not an error.
    pub extension: Option<AvcConfigExtension>,
}

struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn err(&self, field: &'static str, kind: CodecErrorKind) -> CodecError {
        CodecError::new(WHAT, field, self.pos, kind)
    }

    fn u8(&mut self, field: &'static str) -> Result<u8, CodecError> {
        let b = *self
            .data
            .get(self.pos)
            .ok_or_else(|| self.err(field, CodecErrorKind::Truncated))?;
        self.pos += 1;
        Ok(b)
    }

    fn bytes(&mut self, len: usize, field: &'static str) -> Result<&'a [u8], CodecError> {
        let s = self
            .pos
            .checked_add(len)
            .and_then(|end| self.data.get(self.pos..end))
            .ok_or_else(|| self.err(field, CodecErrorKind::Truncated))?;
        self.pos += len;
        Ok(s)
    }

    fn u16(&mut self, field: &'static str) -> Result<u16, CodecError> {
        let b = self.bytes(2, field)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    /// `count` parameter sets, each prefixed by a 16-bit length. The vector grows only as units
    /// are actually read, so a large count cannot allocate more than the input holds.
    fn nal_list(&mut self, count: usize, field: &'static str) -> Result<Vec<Vec<u8>>, CodecError> {
        let mut list = Vec::new();
        for _ in 0..count {
            let len = self.u16(field)?;
            list.push(self.bytes(usize::from(len), field)?.to_vec());
        }
        Ok(list)
    }

    fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }
}

impl AvcDecoderConfigurationRecord {
    /// Decodes a record. Bytes after the record (or after the PPS list when the extension is
    /// absent and fewer than 4 bytes follow) are ignored.
    pub fn decode(data: &[u8]) -> Result<Self, CodecError> {
        let mut c = Cursor { data, pos: 0 };
        let version = c.u8("configurationVersion")?;
        if version != 1 {
            return Err(c.err(
                "configurationVersion",
                CodecErrorKind::InvalidValue(version.into()),
            ));
        }
        let profile = c.u8("AVCProfileIndication")?;
        let compatibility = c.u8("profile_compatibility")?;
        let level = c.u8("AVCLevelIndication")?;
        let length_size_minus_one = c.u8("lengthSizeMinusOne")? & 0x03;
        if length_size_minus_one == 2 {
            return Err(c.err("lengthSizeMinusOne", CodecErrorKind::InvalidValue(2)));
        }
        let num_sps = c.u8("numOfSequenceParameterSets")? & 0x1f;
        let sps = c.nal_list(usize::from(num_sps), "sequenceParameterSetNALUnit")?;
        let num_pps = c.u8("numOfPictureParameterSets")?;
        let pps = c.nal_list(usize::from(num_pps), "pictureParameterSetNALUnit")?;
        let extension = if !profile_without_extension(profile) && c.remaining() >= 4 {
            let chroma_format = c.u8("chroma_format")? & 0x03;
            let bit_depth_luma_minus8 = c.u8("bit_depth_luma_minus8")? & 0x07;
            let bit_depth_chroma_minus8 = c.u8("bit_depth_chroma_minus8")? & 0x07;
            let num_ext = c.u8("numOfSequenceParameterSetExt")?;
            let sps_ext = c.nal_list(usize::from(num_ext), "sequenceParameterSetExtNALUnit")?;
            Some(AvcConfigExtension {
                chroma_format,
                bit_depth_luma_minus8,
                bit_depth_chroma_minus8,
                sps_ext,
            })
        } else {
            None
        };
        Ok(AvcDecoderConfigurationRecord {
            version,
            profile,
            compatibility,
            level,
            nal_length_size: length_size_minus_one + 1,
            sps,
            pps,
            extension,
        })
    }

    /// Appends the record; reserved bits are written as ones.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        let unencodable = |field, v: usize| {
            CodecError::new(WHAT, field, 0, CodecErrorKind::Unencodable(v as u64))
        };
        if !matches!(self.nal_length_size, 1 | 2 | 4) {
            return Err(unencodable(
                "lengthSizeMinusOne",
                self.nal_length_size.into(),
            ));
        }
        if self.sps.len() > 31 {
            return Err(unencodable("numOfSequenceParameterSets", self.sps.len()));
        }
        let pps_count = u8::try_from(self.pps.len())
            .map_err(|_| unencodable("numOfPictureParameterSets", self.pps.len()))?;
        out.extend_from_slice(&[
            self.version,
            self.profile,
            self.compatibility,
            self.level,
            0xfc | (self.nal_length_size - 1),
            0xe0 | self.sps.len() as u8,
        ]);
        write_nal_list(&self.sps, out, "sequenceParameterSetNALUnit")?;
        out.push(pps_count);
        write_nal_list(&self.pps, out, "pictureParameterSetNALUnit")?;
        if let Some(ext) = &self.extension {
            let ext_count = u8::try_from(ext.sps_ext.len())
                .map_err(|_| unencodable("numOfSequenceParameterSetExt", ext.sps_ext.len()))?;
            out.extend_from_slice(&[
                0xfc | (ext.chroma_format & 0x03),
                0xf8 | (ext.bit_depth_luma_minus8 & 0x07),
                0xf8 | (ext.bit_depth_chroma_minus8 & 0x07),
                ext_count,
            ]);
            write_nal_list(&ext.sps_ext, out, "sequenceParameterSetExtNALUnit")?;
        }
        Ok(())
    }

    /// The first SPS, parsed.
    pub fn parse_sps(&self) -> Option<Result<H264Sps, CodecError>> {
        self.sps.first().map(|s| H264Sps::decode(s))
    }

    /// The record as an MPEG-TS muxer needs it before a keyframe: every SPS and PPS, each
    /// preceded by a `00 00 00 01` start code.
    pub fn parameter_sets_annex_b(&self, out: &mut Vec<u8>) {
        for nal in self.sps.iter().chain(&self.pps) {
            out.extend_from_slice(&[0, 0, 0, 1]);
            out.extend_from_slice(nal);
        }
    }
}

pub(crate) fn write_nal_list(
    list: &[Vec<u8>],
    out: &mut Vec<u8>,
    field: &'static str,
) -> Result<(), CodecError> {
    for nal in list {
        let len = u16::try_from(nal.len()).map_err(|_| {
            CodecError::new(
                WHAT,
                field,
                0,
                CodecErrorKind::Unencodable(nal.len() as u64),
            )
        })?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(nal);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The AVC sequence header body of the committed fixture (x264 High, 320x240).
    pub(crate) const X264_HIGH_AVCC: &str = "0164000dffe100196764000dacd94141fb0110000003001000000303\
        20f142996001000668ebe3cb22c0fdf8f800";

    fn hex(s: &str) -> Vec<u8> {
        hex::decode(s.replace(' ', "")).unwrap()
    }

    #[test]
    fn x264_high_record_round_trip() {
        let bytes = hex(X264_HIGH_AVCC);
        let rec = AvcDecoderConfigurationRecord::decode(&bytes).unwrap();
        assert_eq!(rec.version, 1);
        assert_eq!(rec.profile, 100);
        assert_eq!(rec.compatibility, 0);
        assert_eq!(rec.level, 13);
        assert_eq!(rec.nal_length_size, 4);
        assert_eq!(rec.sps.len(), 1);
        assert_eq!(rec.sps[0].len(), 25);
        assert_eq!(rec.pps, vec![hex("68ebe3cb22c0")]);
        let ext = rec.extension.clone().unwrap();
        assert_eq!(ext.chroma_format, 1);
        assert_eq!(ext.bit_depth_luma_minus8, 0);
        assert!(ext.sps_ext.is_empty());
        let sps = rec.parse_sps().unwrap().unwrap();
        assert_eq!((sps.width(), sps.height()), (320, 240));
        let mut out = Vec::new();
        rec.encode(&mut out).unwrap();
        assert_eq!(out, bytes);
        let mut annex_b = Vec::new();
        rec.parameter_sets_annex_b(&mut annex_b);
        assert_eq!(&annex_b[..5], &[0, 0, 0, 1, 0x67]);
        assert_eq!(annex_b.len(), 4 + 25 + 4 + 6);
    }

    #[test]
    fn high_profile_without_extension() {
        let bytes = hex(X264_HIGH_AVCC);
        let short = &bytes[..bytes.len() - 4];
        let rec = AvcDecoderConfigurationRecord::decode(short).unwrap();
        assert!(rec.extension.is_none());
        let mut out = Vec::new();
        rec.encode(&mut out).unwrap();
        assert_eq!(out, short);
    }

    #[test]
    fn truncated_and_invalid() {
        let bytes = hex(X264_HIGH_AVCC);
        for cut in 0..bytes.len() - 4 {
            assert!(
                AvcDecoderConfigurationRecord::decode(&bytes[..cut]).is_err(),
                "cut at {cut}"
            );
        }
        let mut v0 = bytes.clone();
        v0[0] = 0;
        assert_eq!(
            AvcDecoderConfigurationRecord::decode(&v0)
                .unwrap_err()
                .field,
            "configurationVersion"
        );
        let mut huge = vec![1, 100, 0, 13, 0xff, 0xff];
        huge.extend([0xff, 0xff]);
        assert!(AvcDecoderConfigurationRecord::decode(&huge).is_err());
    }
}
