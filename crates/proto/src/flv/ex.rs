//! Pieces shared by the Enhanced RTMP audio and video headers: ModEx packets, multitrack modes
//! and the walk over the tracks of a multitrack body.

use super::error::{Cursor, FlvError, put_u24};
use super::fourcc::FourCc;

/// Packet type value 7 (audio and video): a ModEx packet follows.
pub(crate) const PACKET_TYPE_MOD_EX: u8 = 7;

/// One ModEx ("modifier/extension") packet that precedes the real packet type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModEx {
    /// `AudioPacketModExType` / `VideoPacketModExType` (4 bits): 0 is TimestampOffsetNano.
    pub mod_ex_type: u8,
    /// 1..=65536 bytes.
    pub data: Vec<u8>,
}

impl ModEx {
    /// ModEx type 0: a nanosecond offset added to the message timestamp.
    pub const TIMESTAMP_OFFSET_NANO: u8 = 0;

    /// A TimestampOffsetNano packet (3 data bytes; the value should be below 1,000,000).
    pub fn timestamp_offset_nano(nanos: u32) -> Self {
        ModEx {
            mod_ex_type: Self::TIMESTAMP_OFFSET_NANO,
            data: nanos.min(0xff_ffff).to_be_bytes()[1..].to_vec(),
        }
    }

    /// The nanosecond offset, when this is a TimestampOffsetNano packet with at least 3 bytes.
    pub fn nanos(&self) -> Option<u32> {
        if self.mod_ex_type != Self::TIMESTAMP_OFFSET_NANO {
            return None;
        }
        let d = self.data.get(..3)?;
        Some(u32::from_be_bytes([0, d[0], d[1], d[2]]))
    }
}

/// Reads the packet type nibble of the first byte and any ModEx packets after it. Returns the
/// final packet type (low nibble) and the ModEx packets in wire order.
pub(crate) fn read_mod_ex(c: &mut Cursor<'_>, first: u8) -> Result<(u8, Vec<ModEx>), FlvError> {
    let mut packet_type = first & 0x0f;
    let mut mod_ex = Vec::new();
    // Each round consumes at least 3 bytes, so this ends with the input.
    while packet_type == PACKET_TYPE_MOD_EX {
        let mut size = usize::from(c.u8("modExDataSize")?) + 1;
        if size == 256 {
            size = usize::from(c.u16("modExDataSize (16-bit)")?) + 1;
        }
        let data = c.bytes(size, "modExData")?.to_vec();
        let next = c.u8("packetModExType")?;
        mod_ex.push(ModEx {
            mod_ex_type: next >> 4,
            data,
        });
        packet_type = next & 0x0f;
    }
    Ok((packet_type, mod_ex))
}

/// Writes the ModEx packets that follow a first byte whose low nibble was set to ModEx. Each
/// packet ends with a byte holding its ModEx type and the next packet type: ModEx again, or
/// `packet_type` after the last one. Writes nothing when `mod_ex` is empty.
pub(crate) fn write_mod_ex(
    out: &mut Vec<u8>,
    mod_ex: &[ModEx],
    packet_type: u8,
    what: &'static str,
) -> Result<(), FlvError> {
    for (i, m) in mod_ex.iter().enumerate() {
        let size = m.data.len();
        if size == 0 || size > 65536 {
            return Err(FlvError::Unencodable {
                what,
                field: "modExDataSize",
                value: size as u64,
            });
        }
        if size < 256 {
            out.push((size - 1) as u8);
        } else {
            out.push(0xff);
            out.extend_from_slice(&((size - 1) as u16).to_be_bytes());
        }
        out.extend_from_slice(&m.data);
        let next = if i + 1 < mod_ex.len() {
            PACKET_TYPE_MOD_EX
        } else {
            packet_type & 0x0f
        };
        out.push((m.mod_ex_type & 0x0f) << 4 | next);
    }
    Ok(())
}

/// `AvMultitrackType` (4 bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AvMultitrackType {
    /// One track, with a track id.
    OneTrack,
    /// Several tracks of one codec.
    ManyTracks,
    /// Several tracks, each with its own codec.
    ManyTracksManyCodecs,
    /// 3..=15: its layout is unknown, so the body after it is not interpreted.
    Reserved(u8),
}

impl AvMultitrackType {
    pub fn from_u4(v: u8) -> Self {
        match v & 0x0f {
            0 => AvMultitrackType::OneTrack,
            1 => AvMultitrackType::ManyTracks,
            2 => AvMultitrackType::ManyTracksManyCodecs,
            v => AvMultitrackType::Reserved(v),
        }
    }

    pub fn to_u4(self) -> u8 {
        match self {
            AvMultitrackType::OneTrack => 0,
            AvMultitrackType::ManyTracks => 1,
            AvMultitrackType::ManyTracksManyCodecs => 2,
            AvMultitrackType::Reserved(v) => v & 0x0f,
        }
    }
}

/// The codec part of an enhanced header: one FOURCC, or a multitrack mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExCodec {
    /// A single track of this codec; the body follows directly.
    Single(FourCc),
    /// Multitrack. `fourcc` is the codec shared by all tracks; `None` when each track names its
    /// own (`ManyTracksManyCodecs`) or when the mode is reserved.
    Multitrack {
        mode: AvMultitrackType,
        fourcc: Option<FourCc>,
    },
}

impl ExCodec {
    /// The single codec of this message, if there is one.
    pub fn fourcc(&self) -> Option<FourCc> {
        match *self {
            ExCodec::Single(f) => Some(f),
            ExCodec::Multitrack { fourcc, .. } => fourcc,
        }
    }
}

/// One track of an enhanced audio or video message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Track<'a> {
    /// The track's codec.
    pub fourcc: FourCc,
    /// 0 for a single-track message; in multitrack, 0 is the default (highest priority) track.
    pub track_id: u8,
    /// Composition time offset in ms: `Some` for `avc1`/`hvc1` `CodedFrames` video.
    pub composition_time: Option<i32>,
    /// The track's body (codec data), after any per-track header.
    pub data: &'a [u8],
}

/// Iterator over the tracks of an enhanced message body. See `ExAudioHeader::tracks` and
/// `ExVideoHeader::tracks`. An error ends the iteration.
#[derive(Debug, Clone)]
pub struct Tracks<'a> {
    body: &'a [u8],
    pos: usize,
    codec: ExCodec,
    /// Single-track video: the composition time already read by the header decoder.
    single_cts: Option<i32>,
    /// Whether tracks of `avc1`/`hvc1` start with an SI24 composition time.
    coded_frames_video: bool,
    done: bool,
}

impl<'a> Tracks<'a> {
    pub(crate) fn new(
        body: &'a [u8],
        codec: ExCodec,
        single_cts: Option<i32>,
        coded_frames_video: bool,
    ) -> Self {
        Tracks {
            body,
            pos: 0,
            codec,
            single_cts,
            coded_frames_video,
            done: false,
        }
    }

    pub(crate) fn empty() -> Self {
        Tracks {
            body: &[],
            pos: 0,
            codec: ExCodec::Single(FourCc([0; 4])),
            single_cts: None,
            coded_frames_video: false,
            done: true,
        }
    }

    fn next_track(&mut self) -> Result<Option<Track<'a>>, FlvError> {
        let (mode, shared) = match self.codec {
            ExCodec::Single(fourcc) => {
                self.done = true;
                return Ok(Some(Track {
                    fourcc,
                    track_id: 0,
                    composition_time: self.single_cts,
                    data: self.body,
                }));
            }
            ExCodec::Multitrack { mode, fourcc } => (mode, fourcc),
        };
        if self.pos >= self.body.len() {
            return Ok(None);
        }
        let mut c = Cursor {
            data: self.body,
            pos: self.pos,
            what: "multitrack body",
        };
        let fourcc = match (mode, shared) {
            (AvMultitrackType::ManyTracksManyCodecs, _) => FourCc(c.array4("FourCC")?),
            (AvMultitrackType::Reserved(v), _) => {
                return Err(c.invalid("AvMultitrackType", v.into()));
            }
            (_, Some(f)) => f,
            (_, None) => return Err(c.invalid("FourCC", 0)),
        };
        let track_id = c.u8("trackId")?;
        let data = if mode == AvMultitrackType::OneTrack {
            c.bytes(c.remaining(), "track data")?
        } else {
            let size = c.u24("sizeOfTrack")? as usize;
            c.bytes(size, "track data")?
        };
        self.pos = c.pos;
        if mode == AvMultitrackType::OneTrack {
            self.done = true;
        }
        let (composition_time, data) =
            if self.coded_frames_video && matches!(fourcc, FourCc::AVC1 | FourCc::HVC1) {
                let mut t = Cursor::new(data, "multitrack body");
                let cts = t.i24("CompositionTime")?;
                (Some(cts), data.get(3..).unwrap_or(&[]))
            } else {
                (None, data)
            };
        Ok(Some(Track {
            fourcc,
            track_id,
            composition_time,
            data,
        }))
    }
}

impl<'a> Iterator for Tracks<'a> {
    type Item = Result<Track<'a>, FlvError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.next_track() {
            Ok(Some(t)) => Some(Ok(t)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// Appends one track of a multitrack body (the inverse of [`Tracks`]): the FOURCC when `mode`
/// is `ManyTracksManyCodecs`, the track id, the size (unless `OneTrack`), the composition time
/// when given, then `data`.
pub fn encode_track(
    out: &mut Vec<u8>,
    mode: AvMultitrackType,
    fourcc: FourCc,
    track_id: u8,
    composition_time: Option<i32>,
    data: &[u8],
) -> Result<(), FlvError> {
    const WHAT: &str = "multitrack body";
    if mode == AvMultitrackType::ManyTracksManyCodecs {
        out.extend_from_slice(&fourcc.0);
    }
    out.push(track_id);
    let cts_len = if composition_time.is_some() { 3 } else { 0 };
    if mode != AvMultitrackType::OneTrack {
        let size = u32::try_from(data.len() + cts_len).unwrap_or(u32::MAX);
        put_u24(out, size, WHAT, "sizeOfTrack")?;
    }
    if let Some(cts) = composition_time {
        super::error::put_i24(out, cts, WHAT, "CompositionTime")?;
    }
    out.extend_from_slice(data);
    Ok(())
}
