//! Codec configuration and bitstream helpers: what a server, an MPEG-TS muxer and a dissector
//! need to know about the media they carry without decoding it.
//!
//! | item | what |
//! |---|---|
//! | [`AvcDecoderConfigurationRecord`], [`H264Sps`] | H.264 sequence header and SPS (size, profile, level) |
//! | [`HevcDecoderConfigurationRecord`], [`HevcSps`] | HEVC sequence header and SPS size |
//! | [`AudioSpecificConfig`], [`AdtsHeader`] | AAC config and the ADTS header built from it |
//! | [`NalUnitType`], [`AvccNalUnits`], [`AnnexBNalUnits`] | H.264 NAL unit types and framings |
//!
//! Everything here decodes untrusted input: lengths are checked against the bytes present and
//! every failure is a [`CodecError`] naming the structure, field and offset.

mod aac;
mod avc;
pub mod bits;
mod error;
mod h264_sps;
mod hevc;
mod nal;

pub use aac::{
    AdtsHeader, AudioSpecificConfig, SAMPLING_FREQUENCIES, SamplingFrequency, SbrSignal,
};
pub use avc::{AvcConfigExtension, AvcDecoderConfigurationRecord};
pub use error::{CodecError, CodecErrorKind};
pub use h264_sps::{FrameCropping, H264Sps};
pub use hevc::{
    HevcDecoderConfigurationRecord, HevcNalArray, HevcSps, hevc_is_irap, hevc_nal_type,
    hevc_nal_type_name, nal_type as hevc_nal,
};
pub use nal::{
    AnnexBNalUnits, AvccNalUnits, NalUnitType, add_emulation_prevention, avcc_to_annex_b,
    nal_ref_idc, remove_emulation_prevention,
};
