//! H.264 sequence parameter set: the fields a server, muxer or dissector needs (profile, level,
//! chroma format, bit depth, picture size after cropping). VUI is not parsed.

use super::bits::BitReader;
use super::error::{CodecError, CodecErrorKind};
use super::nal::{NalUnitType, remove_emulation_prevention};

const WHAT: &str = "H.264 SPS";

/// Profiles whose SPS carries chroma format, bit depth and scaling matrices.
fn has_high_profile_fields(profile_idc: u8) -> bool {
    matches!(
        profile_idc,
        100 | 110 | 122 | 244 | 44 | 83 | 86 | 118 | 128 | 138 | 139 | 134 | 135
    )
}

/// Frame cropping offsets, in the units the SPS codes them (see [`H264Sps::width`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FrameCropping {
    pub left: u32,
    pub right: u32,
    pub top: u32,
    pub bottom: u32,
}

/// The parsed start of an H.264 `seq_parameter_set_rbsp`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct H264Sps {
    pub profile_idc: u8,
    /// `constraint_set0_flag` in bit 7 … `constraint_set5_flag` in bit 2, then 2 reserved bits.
    pub constraint_flags: u8,
    pub level_idc: u8,
    pub seq_parameter_set_id: u32,
    /// 0 monochrome, 1 4:2:0, 2 4:2:2, 3 4:4:4 (1 when the profile does not code it).
    pub chroma_format_idc: u32,
    pub separate_colour_plane: bool,
    pub bit_depth_luma: u32,
    pub bit_depth_chroma: u32,
    pub log2_max_frame_num: u32,
    pub pic_order_cnt_type: u32,
    pub max_num_ref_frames: u32,
    pub pic_width_in_mbs: u32,
    pub pic_height_in_map_units: u32,
    /// False for interlaced coding (field or MBAFF); the frame is then two map units high.
    pub frame_mbs_only: bool,
    pub mb_adaptive_frame_field: bool,
    pub direct_8x8_inference: bool,
    pub frame_cropping: Option<FrameCropping>,
    pub vui_parameters_present: bool,
}

impl H264Sps {
    /// Parses an SPS NAL unit (starting with its header byte, `0x67` usually), with
    /// emulation-prevention bytes still in it.
    pub fn decode(nal: &[u8]) -> Result<H264Sps, CodecError> {
        let Some(&header) = nal.first() else {
            return Err(CodecError::new(
                WHAT,
                "NAL header",
                0,
                CodecErrorKind::Truncated,
            ));
        };
        if NalUnitType::from_header(header) != NalUnitType::Sps {
            return Err(CodecError::new(
                WHAT,
                "nal_unit_type",
                0,
                CodecErrorKind::InvalidValue(u64::from(header & 0x1f)),
            ));
        }
        let rbsp = remove_emulation_prevention(nal.get(1..).unwrap_or(&[]));
        Self::decode_rbsp(&rbsp)
    }

    /// Parses the RBSP (after the NAL header, emulation prevention already removed).
    pub fn decode_rbsp(rbsp: &[u8]) -> Result<H264Sps, CodecError> {
        let mut r = BitReader::new(rbsp, WHAT);
        let profile_idc = r.bits_u8(8, "profile_idc")?;
        let constraint_flags = r.bits_u8(8, "constraint_set flags")?;
        let level_idc = r.bits_u8(8, "level_idc")?;
        let seq_parameter_set_id = r.ue_max(31, "seq_parameter_set_id")?;
        let mut chroma_format_idc = 1;
        let mut separate_colour_plane = false;
        let mut bit_depth_luma = 8;
        let mut bit_depth_chroma = 8;
        if has_high_profile_fields(profile_idc) {
            chroma_format_idc = r.ue_max(3, "chroma_format_idc")?;
            if chroma_format_idc == 3 {
                separate_colour_plane = r.bit("separate_colour_plane_flag")?;
            }
            bit_depth_luma = r.ue_max(6, "bit_depth_luma_minus8")? + 8;
            bit_depth_chroma = r.ue_max(6, "bit_depth_chroma_minus8")? + 8;
            r.skip(1, "qpprime_y_zero_transform_bypass_flag")?;
            if r.bit("seq_scaling_matrix_present_flag")? {
                let lists = if chroma_format_idc == 3 { 12 } else { 8 };
                for i in 0..lists {
                    if r.bit("seq_scaling_list_present_flag")? {
                        skip_scaling_list(&mut r, if i < 6 { 16 } else { 64 })?;
                    }
                }
            }
        }
        let log2_max_frame_num = r.ue_max(12, "log2_max_frame_num_minus4")? + 4;
        let pic_order_cnt_type = r.ue_max(2, "pic_order_cnt_type")?;
        match pic_order_cnt_type {
            0 => {
                r.ue_max(12, "log2_max_pic_order_cnt_lsb_minus4")?;
            }
            1 => {
                r.skip(1, "delta_pic_order_always_zero_flag")?;
                r.se("offset_for_non_ref_pic")?;
                r.se("offset_for_top_to_bottom_field")?;
                let cycle = r.ue_max(255, "num_ref_frames_in_pic_order_cnt_cycle")?;
                for _ in 0..cycle {
                    r.se("offset_for_ref_frame")?;
                }
            }
            _ => {}
        }
        let max_num_ref_frames = r.ue("max_num_ref_frames")?;
        r.skip(1, "gaps_in_frame_num_value_allowed_flag")?;
        let pic_width_in_mbs = r.ue("pic_width_in_mbs_minus1")?.saturating_add(1);
        let pic_height_in_map_units = r.ue("pic_height_in_map_units_minus1")?.saturating_add(1);
        let frame_mbs_only = r.bit("frame_mbs_only_flag")?;
        let mb_adaptive_frame_field = if frame_mbs_only {
            false
        } else {
            r.bit("mb_adaptive_frame_field_flag")?
        };
        let direct_8x8_inference = r.bit("direct_8x8_inference_flag")?;
        let frame_cropping = if r.bit("frame_cropping_flag")? {
            Some(FrameCropping {
                left: r.ue("frame_crop_left_offset")?,
                right: r.ue("frame_crop_right_offset")?,
                top: r.ue("frame_crop_top_offset")?,
                bottom: r.ue("frame_crop_bottom_offset")?,
            })
        } else {
            None
        };
        let vui_parameters_present = r.bit("vui_parameters_present_flag")?;
        Ok(H264Sps {
            profile_idc,
            constraint_flags,
            level_idc,
            seq_parameter_set_id,
            chroma_format_idc,
            separate_colour_plane,
            bit_depth_luma,
            bit_depth_chroma,
            log2_max_frame_num,
            pic_order_cnt_type,
            max_num_ref_frames,
            pic_width_in_mbs,
            pic_height_in_map_units,
            frame_mbs_only,
            mb_adaptive_frame_field,
            direct_8x8_inference,
            frame_cropping,
            vui_parameters_present,
        })
    }

    /// `constraint_set{n}_flag` for n in 0..=5.
    pub fn constraint_set(&self, n: u8) -> bool {
        n <= 5 && self.constraint_flags & (0x80 >> n) != 0
    }

    /// `ChromaArrayType`: 0 when the colour planes are coded separately (or monochrome).
    fn chroma_array_type(&self) -> u32 {
        if self.separate_colour_plane {
            0
        } else {
            self.chroma_format_idc
        }
    }

    /// Horizontal and vertical crop units (spec 7.4.2.1.1, `CropUnitX`/`CropUnitY`).
    fn crop_units(&self) -> (u64, u64) {
        let frame_factor = if self.frame_mbs_only { 1 } else { 2 };
        match self.chroma_array_type() {
            0 => (1, frame_factor),
            1 => (2, 2 * frame_factor),
            2 => (2, frame_factor),
            _ => (1, frame_factor),
        }
    }

    /// Width of the decoded picture in luma samples, after cropping. Saturates at 0 when the
    /// cropping is larger than the picture (a broken SPS).
    pub fn width(&self) -> u32 {
        let full = u64::from(self.pic_width_in_mbs) * 16;
        let crop = self.frame_cropping.map_or(0, |c| {
            (u64::from(c.left) + u64::from(c.right)) * self.crop_units().0
        });
        clamp_u32(full.saturating_sub(crop))
    }

    /// Height of the decoded frame in luma samples, after cropping.
    pub fn height(&self) -> u32 {
        let frame_factor = if self.frame_mbs_only { 1 } else { 2 };
        let full = frame_factor * u64::from(self.pic_height_in_map_units) * 16;
        let crop = self.frame_cropping.map_or(0, |c| {
            (u64::from(c.top) + u64::from(c.bottom)) * self.crop_units().1
        });
        clamp_u32(full.saturating_sub(crop))
    }
}

fn clamp_u32(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// Reads past one `scaling_list()` (7.3.2.1.1.1); the values are not kept.
fn skip_scaling_list(r: &mut BitReader<'_>, size: usize) -> Result<(), CodecError> {
    let mut last_scale: i64 = 8;
    let mut next_scale: i64 = 8;
    for _ in 0..size {
        if next_scale != 0 {
            let delta = i64::from(r.se("delta_scale")?);
            if !(-128..=127).contains(&delta) {
                return Err(r.invalid("delta_scale", delta as u64));
            }
            next_scale = (last_scale + delta + 256) % 256;
        }
        if next_scale != 0 {
            last_scale = next_scale;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    // SPS from the committed fixture (x264, High profile, 320x240, level 1.3).
    const X264_HIGH_320X240: &str = "6764000dacd94141fb0110000003001000000303 20f1429960";

    fn hex(s: &str) -> Vec<u8> {
        hex::decode(s.replace(' ', "")).unwrap()
    }

    #[test]
    fn x264_high_profile_sps() {
        let sps = H264Sps::decode(&hex(X264_HIGH_320X240)).unwrap();
        assert_eq!(sps.profile_idc, 100);
        assert_eq!(sps.constraint_flags, 0);
        assert_eq!(sps.level_idc, 13);
        assert_eq!(sps.chroma_format_idc, 1);
        assert_eq!(sps.bit_depth_luma, 8);
        assert!(sps.frame_mbs_only);
        assert_eq!(sps.pic_width_in_mbs, 20);
        assert_eq!(sps.pic_height_in_map_units, 15);
        assert_eq!((sps.width(), sps.height()), (320, 240));
        assert!(sps.vui_parameters_present);
    }

    #[test]
    fn x264_high444_sps() {
        // From `ffmpeg -f lavfi -i testsrc=size=320x240 -c:v libx264` (rgb input, so 4:4:4).
        let sps =
            H264Sps::decode(&hex("67f4000d919b28283f6022000003000200000300641e28532c")).unwrap();
        assert_eq!(sps.profile_idc, 244);
        assert_eq!(sps.chroma_format_idc, 3);
        assert!(!sps.separate_colour_plane);
        assert_eq!((sps.width(), sps.height()), (320, 240));
    }

    #[test]
    fn baseline_with_cropping() {
        // Built by hand: Baseline 66, constraint_set1, level 31, 1920x1080 coded as 120x68 MBs
        // cropped by 4 (x2 for 4:2:0) lines at the bottom.
        let mut w = crate::codec::bits::BitWriter::new();
        w.bits(66, 8);
        w.bits(0x40, 8);
        w.bits(31, 8);
        let ue = |w: &mut crate::codec::bits::BitWriter, v: u32| {
            let v = u64::from(v) + 1;
            let len = 64 - v.leading_zeros();
            w.bits(0, len - 1);
            w.bits(v, len);
        };
        ue(&mut w, 0); // sps id
        ue(&mut w, 0); // log2_max_frame_num_minus4
        ue(&mut w, 2); // poc type 2
        ue(&mut w, 1); // max_num_ref_frames
        w.bits(0, 1); // gaps
        ue(&mut w, 119); // width in MBs - 1
        ue(&mut w, 67); // height in map units - 1
        w.bits(1, 1); // frame_mbs_only
        w.bits(1, 1); // direct_8x8
        w.bits(1, 1); // cropping
        ue(&mut w, 0);
        ue(&mut w, 0);
        ue(&mut w, 0);
        ue(&mut w, 4);
        w.bits(0, 1); // no VUI
        w.bits(1, 1); // rbsp stop bit
        let mut nal = vec![0x67];
        crate::codec::nal::add_emulation_prevention(&w.finish(), &mut nal);
        let sps = H264Sps::decode(&nal).unwrap();
        assert!(sps.constraint_set(1));
        assert!(!sps.constraint_set(0));
        assert_eq!((sps.width(), sps.height()), (1920, 1080));
    }

    #[test]
    fn rejects_wrong_nal_and_truncation() {
        assert!(H264Sps::decode(&[0x68, 0x64]).is_err());
        assert!(H264Sps::decode(&[]).is_err());
        let full = hex(X264_HIGH_320X240);
        // Everything up to vui_parameters_present_flag lies in the first 9 bytes.
        for cut in 1..9 {
            assert!(H264Sps::decode(&full[..cut]).is_err(), "cut at {cut}");
        }
        assert!(H264Sps::decode(&full[..9]).is_ok());
    }
}
