//! The video tag header: the first bytes of an FLV video tag body and of an RTMP Video message
//! (type 9). Legacy (FLV spec E.4.3.1, plus the non-standard HEVC codec id 12) and Enhanced
//! RTMP (`IsExHeader` bit, FOURCC).

use super::error::{Cursor, FlvError, put_i24};
use super::ex::{
    AvMultitrackType, ExCodec, ModEx, PACKET_TYPE_MOD_EX, Tracks, read_mod_ex, write_mod_ex,
};
use super::fourcc::FourCc;
use super::media_codec::VideoCodec;

const WHAT: &str = "video tag header";
const IS_EX_HEADER: u8 = 0x80;
const VIDEO_PACKET_TYPE_MULTITRACK: u8 = 6;

/// `FrameType` (3 bits in the enhanced header, 4 in legacy with the top bit clear).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FrameType {
    /// 1: a seekable frame.
    KeyFrame,
    /// 2
    InterFrame,
    /// 3: H.263 only.
    DisposableInterFrame,
    /// 4: reserved for server use.
    GeneratedKeyFrame,
    /// 5: video info / command frame: a command byte instead of video data.
    Command,
    /// 0, 6, 7: reserved, kept as data.
    Reserved(u8),
}

impl FrameType {
    pub fn from_u3(v: u8) -> Self {
        match v & 0x07 {
            1 => FrameType::KeyFrame,
            2 => FrameType::InterFrame,
            3 => FrameType::DisposableInterFrame,
            4 => FrameType::GeneratedKeyFrame,
            5 => FrameType::Command,
            v => FrameType::Reserved(v),
        }
    }

    pub fn to_u3(self) -> u8 {
        match self {
            FrameType::KeyFrame => 1,
            FrameType::InterFrame => 2,
            FrameType::DisposableInterFrame => 3,
            FrameType::GeneratedKeyFrame => 4,
            FrameType::Command => 5,
            FrameType::Reserved(v) => v & 0x07,
        }
    }

    /// Key frame or generated key frame.
    pub fn is_key(self) -> bool {
        matches!(self, FrameType::KeyFrame | FrameType::GeneratedKeyFrame)
    }
}

/// Legacy `CodecID` (4 bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodecId {
    /// 1 (unused in practice)
    Jpeg,
    /// 2: Sorenson H.263 (what Flash and ffmpeg's `flv` encoder send).
    SorensonH263,
    /// 3
    Screen,
    /// 4: On2 VP6.
    Vp6,
    /// 5: On2 VP6 with alpha channel.
    Vp6Alpha,
    /// 6
    Screen2,
    /// 7: H.264; an AVCPacketType and composition time follow.
    Avc,
    /// 12: HEVC in the legacy layout, a non-standard extension some (mostly Chinese) servers
    /// and encoders use; the same header as AVC follows.
    Hevc,
    /// Any other value, kept as data.
    Other(u8),
}

impl CodecId {
    pub fn from_u4(v: u8) -> Self {
        match v & 0x0f {
            1 => CodecId::Jpeg,
            2 => CodecId::SorensonH263,
            3 => CodecId::Screen,
            4 => CodecId::Vp6,
            5 => CodecId::Vp6Alpha,
            6 => CodecId::Screen2,
            7 => CodecId::Avc,
            12 => CodecId::Hevc,
            v => CodecId::Other(v),
        }
    }

    pub fn to_u4(self) -> u8 {
        match self {
            CodecId::Jpeg => 1,
            CodecId::SorensonH263 => 2,
            CodecId::Screen => 3,
            CodecId::Vp6 => 4,
            CodecId::Vp6Alpha => 5,
            CodecId::Screen2 => 6,
            CodecId::Avc => 7,
            CodecId::Hevc => 12,
            CodecId::Other(v) => v & 0x0f,
        }
    }

    /// Whether the AVC-style packet type and composition time follow the first byte.
    pub fn has_avc_header(self) -> bool {
        matches!(self, CodecId::Avc | CodecId::Hevc)
    }
}

/// `AVCPacketType` (legacy AVC and HEVC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AvcPacketType {
    /// 0: the body is a decoder configuration record.
    SequenceHeader,
    /// 1: the body is length-prefixed NAL units.
    Nalu,
    /// 2: end of sequence, no body.
    EndOfSequence,
    /// Any other value, kept as data.
    Other(u8),
}

impl AvcPacketType {
    pub fn from_u8(v: u8) -> Self {
        match v {
            0 => AvcPacketType::SequenceHeader,
            1 => AvcPacketType::Nalu,
            2 => AvcPacketType::EndOfSequence,
            v => AvcPacketType::Other(v),
        }
    }

    pub fn to_u8(self) -> u8 {
        match self {
            AvcPacketType::SequenceHeader => 0,
            AvcPacketType::Nalu => 1,
            AvcPacketType::EndOfSequence => 2,
            AvcPacketType::Other(v) => v,
        }
    }
}

/// The command byte of a command frame (frame type 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VideoCommand {
    /// 0: start of client-side seeking video frame sequence.
    StartSeek,
    /// 1: end of client-side seeking video frame sequence.
    EndSeek,
    /// Any other value, kept as data.
    Other(u8),
}

impl VideoCommand {
    pub fn from_u8(v: u8) -> Self {
        match v {
            0 => VideoCommand::StartSeek,
            1 => VideoCommand::EndSeek,
            v => VideoCommand::Other(v),
        }
    }

    pub fn to_u8(self) -> u8 {
        match self {
            VideoCommand::StartSeek => 0,
            VideoCommand::EndSeek => 1,
            VideoCommand::Other(v) => v,
        }
    }
}

/// Enhanced `VideoPacketType` (4 bits). `Multitrack` and `ModEx` do not appear here: they are
/// unwrapped into [`ExVideoContent::Multitrack`] and [`ExVideoHeader::mod_ex`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VideoPacketType {
    /// 0: decoder configuration record.
    SequenceStart,
    /// 1: coded frames; for `avc1`/`hvc1` an SI24 composition time comes first.
    CodedFrames,
    /// 2
    SequenceEnd,
    /// 3: coded frames with an implied composition time of 0.
    CodedFramesX,
    /// 4: AMF-encoded metadata (e.g. `colorInfo`); the frame type is to be ignored.
    Metadata,
    /// 5: an MPEG-2 TS descriptor starts the sequence (AV1).
    Mpeg2TsSequenceStart,
    /// 8..=15: reserved, kept as data.
    Reserved(u8),
}

impl VideoPacketType {
    pub(crate) fn from_u4(v: u8) -> Self {
        match v & 0x0f {
            0 => VideoPacketType::SequenceStart,
            1 => VideoPacketType::CodedFrames,
            2 => VideoPacketType::SequenceEnd,
            3 => VideoPacketType::CodedFramesX,
            4 => VideoPacketType::Metadata,
            5 => VideoPacketType::Mpeg2TsSequenceStart,
            v => VideoPacketType::Reserved(v),
        }
    }

    fn to_u4(self) -> u8 {
        match self {
            VideoPacketType::SequenceStart => 0,
            VideoPacketType::CodedFrames => 1,
            VideoPacketType::SequenceEnd => 2,
            VideoPacketType::CodedFramesX => 3,
            VideoPacketType::Metadata => 4,
            VideoPacketType::Mpeg2TsSequenceStart => 5,
            VideoPacketType::Reserved(v) => v & 0x0f,
        }
    }
}

/// What follows a legacy first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LegacyVideoPacket {
    /// Codecs without a packet header (H.263, screen, VP6): the body is the frame.
    Frame,
    /// AVC (7) and HEVC (12): packet type and composition time offset in ms (SI24).
    Avc {
        packet_type: AvcPacketType,
        composition_time: i32,
    },
    /// Frame type 5: a command byte right after the first byte (as Enhanced RTMP documents the
    /// legacy layout), no video data.
    Command(VideoCommand),
}

/// The legacy video tag header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LegacyVideoHeader {
    pub frame_type: FrameType,
    pub codec: CodecId,
    pub packet: LegacyVideoPacket,
}

/// What follows the packet type of an enhanced header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExVideoContent {
    /// Frame type 5 (and packet type not Metadata): a command byte, no FOURCC, no body.
    Command(VideoCommand),
    /// One track of this codec. `composition_time` is `Some` exactly for `CodedFrames` of
    /// `avc1`/`hvc1`, where the SI24 is part of the header.
    Single {
        fourcc: FourCc,
        composition_time: Option<i32>,
    },
    /// Multitrack: the mode and the shared FOURCC (`None` for `ManyTracksManyCodecs`). Per-track
    /// ids, sizes and composition times are in the body: see [`ExVideoHeader::tracks`].
    Multitrack {
        mode: AvMultitrackType,
        fourcc: Option<FourCc>,
    },
}

/// The Enhanced RTMP video header (`ExVideoTagHeader`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExVideoHeader {
    pub frame_type: FrameType,
    /// ModEx packets before the packet type, in wire order (usually none).
    pub mod_ex: Vec<ModEx>,
    /// The packet type (for multitrack, the one shared by all tracks).
    pub packet_type: VideoPacketType,
    pub content: ExVideoContent,
}

/// A video tag header, legacy or enhanced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VideoTagHeader {
    Legacy(LegacyVideoHeader),
    Enhanced(ExVideoHeader),
}

impl VideoTagHeader {
    /// Decodes the header at the start of a video payload; returns it and the offset of the
    /// body. For an enhanced multitrack message the body is the track list (see
    /// [`ExVideoHeader::tracks`]).
    pub fn decode(payload: &[u8]) -> Result<(VideoTagHeader, usize), FlvError> {
        let mut c = Cursor::new(payload, WHAT);
        let first = c.u8("FrameType")?;
        let frame_type = FrameType::from_u3((first >> 4) & 0x07);
        if first & IS_EX_HEADER != 0 {
            return Self::decode_enhanced(&mut c, first, frame_type);
        }
        let codec = CodecId::from_u4(first);
        let packet = if frame_type == FrameType::Command {
            LegacyVideoPacket::Command(VideoCommand::from_u8(c.u8("VideoCommand")?))
        } else if codec.has_avc_header() {
            let packet_type = AvcPacketType::from_u8(c.u8("AVCPacketType")?);
            let composition_time = c.i24("CompositionTime")?;
            LegacyVideoPacket::Avc {
                packet_type,
                composition_time,
            }
        } else {
            LegacyVideoPacket::Frame
        };
        let header = LegacyVideoHeader {
            frame_type,
            codec,
            packet,
        };
        Ok((VideoTagHeader::Legacy(header), c.pos))
    }

    fn decode_enhanced(
        c: &mut Cursor<'_>,
        first: u8,
        frame_type: FrameType,
    ) -> Result<(VideoTagHeader, usize), FlvError> {
        let (mut packet_type, mod_ex) = read_mod_ex(c, first)?;
        let content = if packet_type != 4 && frame_type == FrameType::Command {
            ExVideoContent::Command(VideoCommand::from_u8(c.u8("VideoCommand")?))
        } else if packet_type == VIDEO_PACKET_TYPE_MULTITRACK {
            let b = c.u8("AvMultitrackType")?;
            let mode = AvMultitrackType::from_u4(b >> 4);
            packet_type = b & 0x0f;
            if packet_type == VIDEO_PACKET_TYPE_MULTITRACK || packet_type == PACKET_TYPE_MOD_EX {
                return Err(c.invalid("VideoPacketType inside multitrack", packet_type.into()));
            }
            let fourcc = match mode {
                AvMultitrackType::OneTrack | AvMultitrackType::ManyTracks => {
                    Some(FourCc(c.array4("VideoFourCc")?))
                }
                _ => None,
            };
            ExVideoContent::Multitrack { mode, fourcc }
        } else {
            let fourcc = FourCc(c.array4("VideoFourCc")?);
            let composition_time =
                if packet_type == 1 && matches!(fourcc, FourCc::AVC1 | FourCc::HVC1) {
                    Some(c.i24("CompositionTime")?)
                } else {
                    None
                };
            ExVideoContent::Single {
                fourcc,
                composition_time,
            }
        };
        let header = ExVideoHeader {
            frame_type,
            mod_ex,
            packet_type: VideoPacketType::from_u4(packet_type),
            content,
        };
        Ok((VideoTagHeader::Enhanced(header), c.pos))
    }

    /// Appends the header (the body is the caller's to append).
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), FlvError> {
        match self {
            VideoTagHeader::Legacy(h) => {
                out.push(h.frame_type.to_u3() << 4 | h.codec.to_u4());
                match h.packet {
                    LegacyVideoPacket::Frame => {}
                    LegacyVideoPacket::Avc {
                        packet_type,
                        composition_time,
                    } => {
                        out.push(packet_type.to_u8());
                        put_i24(out, composition_time, WHAT, "CompositionTime")?;
                    }
                    LegacyVideoPacket::Command(cmd) => out.push(cmd.to_u8()),
                }
                Ok(())
            }
            VideoTagHeader::Enhanced(h) => {
                let outer = match h.content {
                    ExVideoContent::Multitrack { .. } => VIDEO_PACKET_TYPE_MULTITRACK,
                    _ => h.packet_type.to_u4(),
                };
                let first_type = if h.mod_ex.is_empty() {
                    outer
                } else {
                    PACKET_TYPE_MOD_EX
                };
                out.push(IS_EX_HEADER | h.frame_type.to_u3() << 4 | first_type);
                write_mod_ex(out, &h.mod_ex, outer, WHAT)?;
                match h.content {
                    ExVideoContent::Command(cmd) => out.push(cmd.to_u8()),
                    ExVideoContent::Single {
                        fourcc,
                        composition_time,
                    } => {
                        out.extend_from_slice(&fourcc.0);
                        if let Some(cts) = composition_time {
                            put_i24(out, cts, WHAT, "CompositionTime")?;
                        }
                    }
                    ExVideoContent::Multitrack { mode, fourcc } => {
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

    /// The frame type (for enhanced `Metadata` packets it carries no meaning).
    pub fn frame_type(&self) -> FrameType {
        match self {
            VideoTagHeader::Legacy(h) => h.frame_type,
            VideoTagHeader::Enhanced(h) => h.frame_type,
        }
    }

    /// Whether the body is decoder configuration (legacy AVC/HEVC sequence header, enhanced
    /// `SequenceStart` or `MPEG2TSSequenceStart`): a server keeps it for new players.
    pub fn is_sequence_header(&self) -> bool {
        match self {
            VideoTagHeader::Legacy(h) => matches!(
                h.packet,
                LegacyVideoPacket::Avc {
                    packet_type: AvcPacketType::SequenceHeader,
                    ..
                }
            ),
            VideoTagHeader::Enhanced(h) => {
                !matches!(h.content, ExVideoContent::Command(_))
                    && matches!(
                        h.packet_type,
                        VideoPacketType::SequenceStart | VideoPacketType::Mpeg2TsSequenceStart
                    )
            }
        }
    }

    /// Whether this is a legacy AVC end of sequence or an enhanced `SequenceEnd`.
    pub fn is_sequence_end(&self) -> bool {
        match self {
            VideoTagHeader::Legacy(h) => matches!(
                h.packet,
                LegacyVideoPacket::Avc {
                    packet_type: AvcPacketType::EndOfSequence,
                    ..
                }
            ),
            VideoTagHeader::Enhanced(h) => {
                !matches!(h.content, ExVideoContent::Command(_))
                    && h.packet_type == VideoPacketType::SequenceEnd
            }
        }
    }

    /// Whether this message carries a coded key frame: frame type key (or generated key) and a
    /// body of coded frames. Sequence headers, ends, metadata and commands are not key frames,
    /// so a GOP cache can start at the first message for which this is true.
    pub fn is_keyframe(&self) -> bool {
        if !self.frame_type().is_key() {
            return false;
        }
        match self {
            VideoTagHeader::Legacy(h) => match h.packet {
                LegacyVideoPacket::Frame => true,
                LegacyVideoPacket::Avc { packet_type, .. } => packet_type == AvcPacketType::Nalu,
                LegacyVideoPacket::Command(_) => false,
            },
            VideoTagHeader::Enhanced(h) => {
                !matches!(h.content, ExVideoContent::Command(_))
                    && matches!(
                        h.packet_type,
                        VideoPacketType::CodedFrames | VideoPacketType::CodedFramesX
                    )
            }
        }
    }

    /// Whether this is a command frame (frame type 5) with a command byte instead of video.
    pub fn is_command(&self) -> bool {
        self.command().is_some()
    }

    /// The command of a command frame.
    pub fn command(&self) -> Option<VideoCommand> {
        match self {
            VideoTagHeader::Legacy(LegacyVideoHeader {
                packet: LegacyVideoPacket::Command(c),
                ..
            }) => Some(*c),
            VideoTagHeader::Enhanced(ExVideoHeader {
                content: ExVideoContent::Command(c),
                ..
            }) => Some(*c),
            _ => None,
        }
    }

    /// The codec; `None` for enhanced command frames and for multitrack messages whose tracks
    /// each name their own codec.
    pub fn codec(&self) -> Option<VideoCodec> {
        match self {
            VideoTagHeader::Legacy(h) => Some(VideoCodec::from_codec_id(h.codec)),
            VideoTagHeader::Enhanced(h) => match h.content {
                ExVideoContent::Command(_) => None,
                ExVideoContent::Single { fourcc, .. } => Some(VideoCodec::from_fourcc(fourcc)),
                ExVideoContent::Multitrack { fourcc, .. } => fourcc.map(VideoCodec::from_fourcc),
            },
        }
    }

    /// The composition time offset (PTS − DTS) in ms carried in the header; 0 when absent.
    /// Multitrack messages carry one per track instead.
    pub fn composition_time(&self) -> i32 {
        match self {
            VideoTagHeader::Legacy(LegacyVideoHeader {
                packet:
                    LegacyVideoPacket::Avc {
                        composition_time, ..
                    },
                ..
            }) => *composition_time,
            VideoTagHeader::Enhanced(ExVideoHeader {
                content:
                    ExVideoContent::Single {
                        composition_time: Some(cts),
                        ..
                    },
                ..
            }) => *cts,
            _ => 0,
        }
    }

    /// Whether this is an enhanced multitrack message.
    pub fn is_multitrack(&self) -> bool {
        matches!(
            self,
            VideoTagHeader::Enhanced(ExVideoHeader {
                content: ExVideoContent::Multitrack { .. },
                ..
            })
        )
    }
}

impl ExVideoHeader {
    /// The tracks of `body` (the payload after the header): one for a single-track message,
    /// none for a command frame. For `CodedFrames` of `avc1`/`hvc1` each track's composition
    /// time is read from the start of its data.
    pub fn tracks<'a>(&self, body: &'a [u8]) -> Tracks<'a> {
        let coded = self.packet_type == VideoPacketType::CodedFrames;
        match self.content {
            ExVideoContent::Command(_) => Tracks::empty(),
            ExVideoContent::Single {
                fourcc,
                composition_time,
            } => Tracks::new(body, ExCodec::Single(fourcc), composition_time, coded),
            ExVideoContent::Multitrack { mode, fourcc } => {
                Tracks::new(body, ExCodec::Multitrack { mode, fourcc }, None, coded)
            }
        }
    }
}
