//! FLV: the audio and video tag headers that start every RTMP Audio (8) and Video (9) message
//! and every FLV tag body, legacy and Enhanced RTMP (v1 and v2: FOURCC codecs, multitrack,
//! ModEx); script data (`onMetaData`); and the FLV file format with a sans-I/O reader and a
//! writer.
//!
//! | item | what |
//! |---|---|
//! | [`AudioTagHeader`], [`VideoTagHeader`] | `decode(payload) -> (header, body offset)`, `encode`, cheap queries |
//! | [`ExAudioHeader::tracks`], [`ExVideoHeader::tracks`] | the tracks of an enhanced (multitrack) body |
//! | [`FlvHeader`], [`TagHeader`], [`FlvTag`] | FLV file structures |
//! | [`FlvReader`], [`FlvReadIter`] | push bytes / poll tags; over `std::io::Read` |
//! | [`FlvWriter`] | header, tags and PreviousTagSize fields from RTMP messages |
//! | [`ScriptData`], [`OnMetaData`] | `@setDataFrame` / `onMetaData` |

mod audio;
mod error;
mod ex;
mod file;
mod fourcc;
mod media_codec;
mod reader;
mod script;
mod video;
mod writer;

#[cfg(test)]
mod header_proptests;
#[cfg(test)]
mod header_tests;
#[cfg(test)]
mod reader_tests;

pub use audio::{
    AacPacketType, AudioPacketType, AudioTagHeader, ExAudioHeader, LegacyAudioHeader, SoundFormat,
    SoundRate, SoundSize, SoundType,
};
pub use error::FlvError;
pub use ex::{AvMultitrackType, ExCodec, ModEx, Track, Tracks, encode_track};
pub use file::{
    FLV_HEADER_LEN, FlvHeader, FlvTag, PREVIOUS_TAG_SIZE_LEN, TAG_HEADER_LEN, TagHeader, TagType,
};
pub use fourcc::FourCc;
pub use media_codec::{AudioCodec, VideoCodec};
pub use reader::{FlvEvent, FlvReadIter, FlvReader};
pub use script::{
    MetadataCodecId, ON_METADATA, OnMetaData, SET_DATA_FRAME, ScriptData,
    set_data_frame_to_on_metadata,
};
pub use video::{
    AvcPacketType, CodecId, ExVideoContent, ExVideoHeader, FrameType, LegacyVideoHeader,
    LegacyVideoPacket, VideoCommand, VideoPacketType, VideoTagHeader,
};
pub use writer::FlvWriter;
