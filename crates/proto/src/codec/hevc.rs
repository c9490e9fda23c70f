//! HEVC: NAL unit types, `HEVCDecoderConfigurationRecord` (ISO/IEC 14496-15, 8.3.3.1) and the
//! picture size from an SPS.

use super::bits::BitReader;
use super::error::{CodecError, CodecErrorKind};
use super::nal::remove_emulation_prevention;

const WHAT: &str = "HEVCDecoderConfigurationRecord";

/// HEVC NAL unit type numbers used by muxers and servers.
pub mod nal_type {
    pub const BLA_W_LP: u8 = 16;
    pub const BLA_W_RADL: u8 = 17;
    pub const BLA_N_LP: u8 = 18;
    pub const IDR_W_RADL: u8 = 19;
    pub const IDR_N_LP: u8 = 20;
    pub const CRA_NUT: u8 = 21;
    pub const VPS: u8 = 32;
    pub const SPS: u8 = 33;
    pub const PPS: u8 = 34;
    pub const AUD: u8 = 35;
    pub const EOS: u8 = 36;
    pub const EOB: u8 = 37;
    pub const FD: u8 = 38;
    pub const PREFIX_SEI: u8 = 39;
    pub const SUFFIX_SEI: u8 = 40;
}

/// The `nal_unit_type` of an HEVC NAL unit from its first header byte.
pub fn hevc_nal_type(first_header_byte: u8) -> u8 {
    (first_header_byte >> 1) & 0x3f
}

/// Whether an HEVC NAL unit type is an IRAP picture (BLA, IDR or CRA): a random access point.
pub fn hevc_is_irap(nal_type: u8) -> bool {
    (16..=23).contains(&nal_type)
}

/// A short name for an HEVC NAL unit type.
pub fn hevc_nal_type_name(nal_type: u8) -> &'static str {
    match nal_type {
        0..=9 => "slice (non-IRAP)",
        16..=18 => "BLA slice",
        19 | 20 => "IDR slice",
        21 => "CRA slice",
        22 | 23 => "reserved IRAP",
        32 => "VPS",
        33 => "SPS",
        34 => "PPS",
        35 => "access unit delimiter",
        36 => "end of sequence",
        37 => "end of bitstream",
        38 => "filler data",
        39 => "prefix SEI",
        40 => "suffix SEI",
        48..=63 => "unspecified",
        _ => "reserved",
    }
}

/// One array of NAL units of a single type in the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HevcNalArray {
    /// `array_completeness`: all NAL units of this type are in the array (none in the stream).
    pub complete: bool,
    /// `NAL_unit_type` (6 bits): 32 VPS, 33 SPS, 34 PPS, 39/40 SEI, …
    pub nal_type: u8,
    /// Whole NAL units (2-byte header included).
    pub units: Vec<Vec<u8>>,
}

/// An HEVC decoder configuration record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HevcDecoderConfigurationRecord {
    /// `configurationVersion`, 1.
    pub version: u8,
    pub general_profile_space: u8,
    pub general_tier_flag: bool,
    pub general_profile_idc: u8,
    pub general_profile_compatibility_flags: u32,
    /// 48 bits.
    pub general_constraint_indicator_flags: u64,
    pub general_level_idc: u8,
    /// 12 bits.
    pub min_spatial_segmentation_idc: u16,
    /// 2 bits.
    pub parallelism_type: u8,
    /// `chroma_format_idc` (2 bits).
    pub chroma_format: u8,
    pub bit_depth_luma_minus8: u8,
    pub bit_depth_chroma_minus8: u8,
    /// Frames per 256 seconds, 0 when unspecified.
    pub avg_frame_rate: u16,
    /// 2 bits.
    pub constant_frame_rate: u8,
    /// 3 bits.
    pub num_temporal_layers: u8,
    pub temporal_id_nested: bool,
    /// Bytes in each NAL unit length prefix: 1, 2 or 4.
    pub nal_length_size: u8,
    pub arrays: Vec<HevcNalArray>,
}

impl HevcDecoderConfigurationRecord {
    /// Decodes a record; bytes after the last array are ignored.
    pub fn decode(data: &[u8]) -> Result<Self, CodecError> {
        if data.len() < 23 {
            return Err(CodecError::new(
                WHAT,
                "fixed fields",
                data.len(),
                CodecErrorKind::Truncated,
            ));
        }
        let b = |i: usize| data.get(i).copied().unwrap_or(0);
        let version = b(0);
        if version != 1 {
            return Err(CodecError::new(
                WHAT,
                "configurationVersion",
                0,
                CodecErrorKind::InvalidValue(version.into()),
            ));
        }
        let length_size_minus_one = b(21) & 0x03;
        if length_size_minus_one == 2 {
            return Err(CodecError::new(
                WHAT,
                "lengthSizeMinusOne",
                21,
                CodecErrorKind::InvalidValue(2),
            ));
        }
        let be = |range: std::ops::Range<usize>| {
            data.get(range)
                .unwrap_or(&[])
                .iter()
                .fold(0u64, |acc, &x| (acc << 8) | u64::from(x))
        };
        let num_arrays = b(22);
        let mut pos = 23;
        let mut arrays = Vec::new();
        for _ in 0..num_arrays {
            let head = *data.get(pos).ok_or_else(|| {
                CodecError::new(WHAT, "NAL_unit_type", pos, CodecErrorKind::Truncated)
            })?;
            let count = data
                .get(pos + 1..pos + 3)
                .map(|s| u16::from_be_bytes([s[0], s[1]]))
                .ok_or_else(|| {
                    CodecError::new(WHAT, "numNalus", pos + 1, CodecErrorKind::Truncated)
                })?;
            pos += 3;
            let mut units = Vec::new();
            for _ in 0..count {
                let len = data
                    .get(pos..pos + 2)
                    .map(|s| usize::from(u16::from_be_bytes([s[0], s[1]])))
                    .ok_or_else(|| {
                        CodecError::new(WHAT, "nalUnitLength", pos, CodecErrorKind::Truncated)
                    })?;
                let unit = data.get(pos + 2..pos + 2 + len).ok_or_else(|| {
                    CodecError::new(WHAT, "nalUnit", pos + 2, CodecErrorKind::Truncated)
                })?;
                units.push(unit.to_vec());
                pos += 2 + len;
            }
            arrays.push(HevcNalArray {
                complete: head & 0x80 != 0,
                nal_type: head & 0x3f,
                units,
            });
        }
        Ok(HevcDecoderConfigurationRecord {
            version,
            general_profile_space: b(1) >> 6,
            general_tier_flag: b(1) & 0x20 != 0,
            general_profile_idc: b(1) & 0x1f,
            general_profile_compatibility_flags: be(2..6) as u32,
            general_constraint_indicator_flags: be(6..12),
            general_level_idc: b(12),
            min_spatial_segmentation_idc: (be(13..15) & 0x0fff) as u16,
            parallelism_type: b(15) & 0x03,
            chroma_format: b(16) & 0x03,
            bit_depth_luma_minus8: b(17) & 0x07,
            bit_depth_chroma_minus8: b(18) & 0x07,
            avg_frame_rate: be(19..21) as u16,
            constant_frame_rate: b(21) >> 6,
            num_temporal_layers: (b(21) >> 3) & 0x07,
            temporal_id_nested: b(21) & 0x04 != 0,
            nal_length_size: length_size_minus_one + 1,
            arrays,
        })
    }

    /// Appends the record; reserved bits are written as ones (the array reserved bit as zero).
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
        let num_arrays = u8::try_from(self.arrays.len())
            .map_err(|_| unencodable("numOfArrays", self.arrays.len()))?;
        out.push(self.version);
        out.push(
            (self.general_profile_space & 0x03) << 6
                | u8::from(self.general_tier_flag) << 5
                | (self.general_profile_idc & 0x1f),
        );
        out.extend_from_slice(&self.general_profile_compatibility_flags.to_be_bytes());
        out.extend_from_slice(&self.general_constraint_indicator_flags.to_be_bytes()[2..]);
        out.push(self.general_level_idc);
        out.extend_from_slice(
            &(0xf000 | (self.min_spatial_segmentation_idc & 0x0fff)).to_be_bytes(),
        );
        out.push(0xfc | (self.parallelism_type & 0x03));
        out.push(0xfc | (self.chroma_format & 0x03));
        out.push(0xf8 | (self.bit_depth_luma_minus8 & 0x07));
        out.push(0xf8 | (self.bit_depth_chroma_minus8 & 0x07));
        out.extend_from_slice(&self.avg_frame_rate.to_be_bytes());
        out.push(
            (self.constant_frame_rate & 0x03) << 6
                | (self.num_temporal_layers & 0x07) << 3
                | u8::from(self.temporal_id_nested) << 2
                | (self.nal_length_size - 1),
        );
        out.push(num_arrays);
        for array in &self.arrays {
            let count = u16::try_from(array.units.len())
                .map_err(|_| unencodable("numNalus", array.units.len()))?;
            out.push(u8::from(array.complete) << 7 | (array.nal_type & 0x3f));
            out.extend_from_slice(&count.to_be_bytes());
            for unit in &array.units {
                let len = u16::try_from(unit.len())
                    .map_err(|_| unencodable("nalUnitLength", unit.len()))?;
                out.extend_from_slice(&len.to_be_bytes());
                out.extend_from_slice(unit);
            }
        }
        Ok(())
    }

    /// The NAL units of one type (e.g. [`nal_type::SPS`]), over all arrays of that type.
    pub fn units_of_type(&self, nal_type: u8) -> impl Iterator<Item = &[u8]> {
        self.arrays
            .iter()
            .filter(move |a| a.nal_type == nal_type)
            .flat_map(|a| a.units.iter().map(Vec::as_slice))
    }

    /// The first SPS, parsed.
    pub fn parse_sps(&self) -> Option<Result<HevcSps, CodecError>> {
        self.units_of_type(nal_type::SPS)
            .next()
            .map(HevcSps::decode)
    }

    /// VPS, SPS and PPS units, each preceded by a `00 00 00 01` start code (for MPEG-TS).
    pub fn parameter_sets_annex_b(&self, out: &mut Vec<u8>) {
        for t in [nal_type::VPS, nal_type::SPS, nal_type::PPS] {
            for unit in self.units_of_type(t) {
                out.extend_from_slice(&[0, 0, 0, 1]);
                out.extend_from_slice(unit);
            }
        }
    }
}

/// The start of an HEVC `seq_parameter_set_rbsp`, up to the bit depths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HevcSps {
    pub max_sub_layers: u8,
    pub general_profile_idc: u8,
    pub general_level_idc: u8,
    pub chroma_format_idc: u32,
    pub separate_colour_plane: bool,
    pub pic_width_in_luma_samples: u32,
    pub pic_height_in_luma_samples: u32,
    /// Conformance window offsets (left, right, top, bottom) in chroma units.
    pub conformance_window: Option<[u32; 4]>,
    pub bit_depth_luma: u32,
    pub bit_depth_chroma: u32,
}

impl HevcSps {
    /// Parses an SPS NAL unit (2-byte header included, emulation prevention still in it).
    pub fn decode(nal: &[u8]) -> Result<HevcSps, CodecError> {
        const W: &str = "HEVC SPS";
        let header = nal
            .get(..2)
            .ok_or_else(|| CodecError::new(W, "NAL header", 0, CodecErrorKind::Truncated))?;
        let t = hevc_nal_type(header[0]);
        if t != nal_type::SPS {
            return Err(CodecError::new(
                W,
                "nal_unit_type",
                0,
                CodecErrorKind::InvalidValue(t.into()),
            ));
        }
        let rbsp = remove_emulation_prevention(nal.get(2..).unwrap_or(&[]));
        let mut r = BitReader::new(&rbsp, W);
        r.skip(4, "sps_video_parameter_set_id")?;
        let max_sub_layers_minus1 = r.bits_u8(3, "sps_max_sub_layers_minus1")?;
        r.skip(1, "sps_temporal_id_nesting_flag")?;
        // profile_tier_level(1, max_sub_layers_minus1)
        r.skip(3, "general_profile_space, general_tier_flag")?;
        let general_profile_idc = r.bits_u8(5, "general_profile_idc")?;
        r.skip(32 + 48, "general compatibility and constraint flags")?;
        let general_level_idc = r.bits_u8(8, "general_level_idc")?;
        let mut sub_layer_flags = Vec::new();
        for _ in 0..max_sub_layers_minus1 {
            let profile = r.bit("sub_layer_profile_present_flag")?;
            let level = r.bit("sub_layer_level_present_flag")?;
            sub_layer_flags.push((profile, level));
        }
        if max_sub_layers_minus1 > 0 {
            r.skip(
                2 * (8 - usize::from(max_sub_layers_minus1)),
                "reserved_zero_2bits",
            )?;
        }
        for (profile, level) in sub_layer_flags {
            if profile {
                r.skip(88, "sub_layer profile")?;
            }
            if level {
                r.skip(8, "sub_layer_level_idc")?;
            }
        }
        r.ue_max(15, "sps_seq_parameter_set_id")?;
        let chroma_format_idc = r.ue_max(3, "chroma_format_idc")?;
        let separate_colour_plane =
            chroma_format_idc == 3 && r.bit("separate_colour_plane_flag")?;
        let pic_width_in_luma_samples = r.ue("pic_width_in_luma_samples")?;
        let pic_height_in_luma_samples = r.ue("pic_height_in_luma_samples")?;
        let conformance_window = if r.bit("conformance_window_flag")? {
            Some([
                r.ue("conf_win_left_offset")?,
                r.ue("conf_win_right_offset")?,
                r.ue("conf_win_top_offset")?,
                r.ue("conf_win_bottom_offset")?,
            ])
        } else {
            None
        };
        let bit_depth_luma = r.ue_max(8, "bit_depth_luma_minus8")? + 8;
        let bit_depth_chroma = r.ue_max(8, "bit_depth_chroma_minus8")? + 8;
        Ok(HevcSps {
            max_sub_layers: max_sub_layers_minus1 + 1,
            general_profile_idc,
            general_level_idc,
            chroma_format_idc,
            separate_colour_plane,
            pic_width_in_luma_samples,
            pic_height_in_luma_samples,
            conformance_window,
            bit_depth_luma,
            bit_depth_chroma,
        })
    }

    /// `(SubWidthC, SubHeightC)`.
    fn sub_wh(&self) -> (u64, u64) {
        match (self.chroma_format_idc, self.separate_colour_plane) {
            (1, _) => (2, 2),
            (2, _) => (2, 1),
            _ => (1, 1),
        }
    }

    /// Width in luma samples after the conformance window.
    pub fn width(&self) -> u32 {
        let crop = self
            .conformance_window
            .map_or(0, |w| (u64::from(w[0]) + u64::from(w[1])) * self.sub_wh().0);
        u32::try_from(u64::from(self.pic_width_in_luma_samples).saturating_sub(crop)).unwrap_or(0)
    }

    /// Height in luma samples after the conformance window.
    pub fn height(&self) -> u32 {
        let crop = self
            .conformance_window
            .map_or(0, |w| (u64::from(w[2]) + u64::from(w[3])) * self.sub_wh().1);
        u32::try_from(u64::from(self.pic_height_in_luma_samples).saturating_sub(crop)).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const X265_HVCC: &[u8] = include_bytes!("../../tests/fixtures/x265_320x240.hvcc");

    #[test]
    fn x265_record_round_trip() {
        let rec = HevcDecoderConfigurationRecord::decode(X265_HVCC).unwrap();
        assert_eq!(rec.version, 1);
        assert_eq!(rec.general_profile_space, 0);
        assert!(!rec.general_tier_flag);
        assert_eq!(rec.general_profile_idc, 1);
        assert_eq!(rec.general_profile_compatibility_flags, 0x6000_0000);
        assert_eq!(rec.general_constraint_indicator_flags, 0x9000_0000_0000);
        assert_eq!(rec.general_level_idc, 60);
        assert_eq!(rec.chroma_format, 1);
        assert_eq!(rec.nal_length_size, 4);
        assert_eq!(rec.num_temporal_layers, 1);
        assert!(rec.temporal_id_nested);
        let types: Vec<u8> = rec.arrays.iter().map(|a| a.nal_type).collect();
        assert_eq!(types, [32, 33, 34, 39]);
        assert!(rec.arrays.iter().all(|a| a.units.len() == 1));
        let sps = rec.parse_sps().unwrap().unwrap();
        assert_eq!((sps.width(), sps.height()), (320, 240));
        assert_eq!(sps.general_level_idc, 60);
        assert_eq!(sps.chroma_format_idc, 1);
        let mut out = Vec::new();
        rec.encode(&mut out).unwrap();
        assert_eq!(out, X265_HVCC);
        let mut annex_b = Vec::new();
        rec.parameter_sets_annex_b(&mut annex_b);
        assert_eq!(&annex_b[..5], &[0, 0, 0, 1, 0x40]);
    }

    #[test]
    fn nal_types() {
        assert_eq!(hevc_nal_type(0x40), nal_type::VPS);
        assert_eq!(hevc_nal_type(0x42), nal_type::SPS);
        assert_eq!(hevc_nal_type(0x26), nal_type::IDR_W_RADL);
        assert!(hevc_is_irap(nal_type::CRA_NUT));
        assert!(!hevc_is_irap(1));
        assert_eq!(hevc_nal_type_name(34), "PPS");
    }

    #[test]
    fn truncated_records_fail() {
        for cut in 0..200 {
            assert!(HevcDecoderConfigurationRecord::decode(&X265_HVCC[..cut]).is_err());
        }
    }
}
