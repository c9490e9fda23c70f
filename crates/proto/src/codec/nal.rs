//! H.264 NAL units: type names, the two framings (length-prefixed AVCC as carried in FLV/RTMP,
//! Annex B start codes as carried in MPEG-TS) and emulation-prevention removal.

use std::borrow::Cow;

use super::error::{CodecError, CodecErrorKind};

/// H.264 `nal_unit_type` (the low 5 bits of the NAL header byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NalUnitType {
    /// 0
    Unspecified0,
    /// 1: coded slice of a non-IDR picture.
    NonIdrSlice,
    /// 2: coded slice data partition A.
    SliceDataPartitionA,
    /// 3: coded slice data partition B.
    SliceDataPartitionB,
    /// 4: coded slice data partition C.
    SliceDataPartitionC,
    /// 5: coded slice of an IDR picture (a keyframe).
    IdrSlice,
    /// 6: supplemental enhancement information.
    Sei,
    /// 7: sequence parameter set.
    Sps,
    /// 8: picture parameter set.
    Pps,
    /// 9: access unit delimiter (MPEG-TS wants one before each access unit).
    AccessUnitDelimiter,
    /// 10: end of sequence.
    EndOfSequence,
    /// 11: end of stream.
    EndOfStream,
    /// 12: filler data.
    FillerData,
    /// 13: sequence parameter set extension.
    SpsExtension,
    /// 14: prefix NAL unit (SVC/MVC).
    Prefix,
    /// 15: subset sequence parameter set (SVC/MVC).
    SubsetSps,
    /// 16: depth parameter set (3D-AVC).
    DepthParameterSet,
    /// 19: coded slice of an auxiliary coded picture without partitioning.
    AuxiliarySlice,
    /// 20: coded slice extension (SVC/MVC).
    SliceExtension,
    /// 21: coded slice extension for a depth view component (3D-AVC).
    SliceExtensionDepth,
    /// 17, 18, 22, 23: reserved.
    Reserved(u8),
    /// 24..=31: unspecified (used by RTP payload formats for aggregation and fragmentation).
    Unspecified(u8),
}

impl NalUnitType {
    /// The type of a NAL unit from its first (header) byte.
    pub fn from_header(byte: u8) -> Self {
        Self::from_u5(byte & 0x1f)
    }

    /// The type from its 5-bit value (higher bits are ignored).
    pub fn from_u5(value: u8) -> Self {
        use NalUnitType::*;
        match value & 0x1f {
            0 => Unspecified0,
            1 => NonIdrSlice,
            2 => SliceDataPartitionA,
            3 => SliceDataPartitionB,
            4 => SliceDataPartitionC,
            5 => IdrSlice,
            6 => Sei,
            7 => Sps,
            8 => Pps,
            9 => AccessUnitDelimiter,
            10 => EndOfSequence,
            11 => EndOfStream,
            12 => FillerData,
            13 => SpsExtension,
            14 => Prefix,
            15 => SubsetSps,
            16 => DepthParameterSet,
            19 => AuxiliarySlice,
            20 => SliceExtension,
            21 => SliceExtensionDepth,
            v @ (17 | 18 | 22 | 23) => Reserved(v),
            v => Unspecified(v),
        }
    }

    /// The 5-bit value.
    pub fn to_u5(self) -> u8 {
        use NalUnitType::*;
        match self {
            Unspecified0 => 0,
            NonIdrSlice => 1,
            SliceDataPartitionA => 2,
            SliceDataPartitionB => 3,
            SliceDataPartitionC => 4,
            IdrSlice => 5,
            Sei => 6,
            Sps => 7,
            Pps => 8,
            AccessUnitDelimiter => 9,
            EndOfSequence => 10,
            EndOfStream => 11,
            FillerData => 12,
            SpsExtension => 13,
            Prefix => 14,
            SubsetSps => 15,
            DepthParameterSet => 16,
            AuxiliarySlice => 19,
            SliceExtension => 20,
            SliceExtensionDepth => 21,
            Reserved(v) | Unspecified(v) => v & 0x1f,
        }
    }

    /// A short human-readable name, as a dissector shows it.
    pub fn name(self) -> &'static str {
        use NalUnitType::*;
        match self {
            Unspecified0 => "unspecified",
            NonIdrSlice => "non-IDR slice",
            SliceDataPartitionA => "slice data partition A",
            SliceDataPartitionB => "slice data partition B",
            SliceDataPartitionC => "slice data partition C",
            IdrSlice => "IDR slice",
            Sei => "SEI",
            Sps => "SPS",
            Pps => "PPS",
            AccessUnitDelimiter => "access unit delimiter",
            EndOfSequence => "end of sequence",
            EndOfStream => "end of stream",
            FillerData => "filler data",
            SpsExtension => "SPS extension",
            Prefix => "prefix NAL unit",
            SubsetSps => "subset SPS",
            DepthParameterSet => "depth parameter set",
            AuxiliarySlice => "auxiliary slice",
            SliceExtension => "slice extension",
            SliceExtensionDepth => "depth slice extension",
            Reserved(_) => "reserved",
            Unspecified(_) => "unspecified",
        }
    }

    /// Whether this NAL unit carries a coded slice (of a primary picture).
    pub fn is_slice(self) -> bool {
        matches!(
            self,
            NalUnitType::NonIdrSlice
                | NalUnitType::SliceDataPartitionA
                | NalUnitType::SliceDataPartitionB
                | NalUnitType::SliceDataPartitionC
                | NalUnitType::IdrSlice
        )
    }
}

/// `nal_ref_idc` (bits 5–6 of the header byte): 0 means the NAL unit is not used for reference.
pub fn nal_ref_idc(header: u8) -> u8 {
    (header >> 5) & 0x03
}

/// Iterates over length-prefixed (AVCC / "MP4") NAL units, the framing used in FLV and RTMP video
/// payloads. Yields each NAL unit without its length prefix. A length running past the end of the
/// data yields one error and ends the iteration.
#[derive(Debug, Clone)]
pub struct AvccNalUnits<'a> {
    data: &'a [u8],
    offset: usize,
    length_size: usize,
    failed: bool,
}

impl<'a> AvccNalUnits<'a> {
    /// `length_size` is 1, 2, 3 or 4 (`lengthSizeMinusOne + 1` from the decoder configuration);
    /// other values yield an error on the first call to `next`.
    pub fn new(data: &'a [u8], length_size: u8) -> Self {
        AvccNalUnits {
            data,
            offset: 0,
            length_size: usize::from(length_size),
            failed: false,
        }
    }

    fn fail(
        &mut self,
        field: &'static str,
        kind: CodecErrorKind,
    ) -> Option<Result<&'a [u8], CodecError>> {
        self.failed = true;
        Some(Err(CodecError::new(
            "AVCC NAL units",
            field,
            self.offset,
            kind,
        )))
    }
}

impl<'a> Iterator for AvccNalUnits<'a> {
    type Item = Result<&'a [u8], CodecError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.offset >= self.data.len() {
            return None;
        }
        if !(1..=4).contains(&self.length_size) {
            return self.fail(
                "length size",
                CodecErrorKind::InvalidValue(self.length_size as u64),
            );
        }
        let Some(prefix) = self.data.get(self.offset..self.offset + self.length_size) else {
            return self.fail("NAL unit length", CodecErrorKind::Truncated);
        };
        let len = prefix
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        let start = self.offset + self.length_size;
        let Some(nal) = start
            .checked_add(len)
            .and_then(|end| self.data.get(start..end))
        else {
            return self.fail("NAL unit", CodecErrorKind::Truncated);
        };
        self.offset = start + len;
        Some(Ok(nal))
    }
}

/// Iterates over Annex B NAL units separated by `00 00 01` or `00 00 00 01` start codes. Bytes
/// before the first start code are skipped; trailing zero bytes of each NAL unit (which belong to
/// the next start code or are `trailing_zero_8bits`) are not part of the yielded unit.
#[derive(Debug, Clone)]
pub struct AnnexBNalUnits<'a> {
    rest: &'a [u8],
}

impl<'a> AnnexBNalUnits<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        let rest = match find_start_code(data) {
            Some((_, after)) => data.get(after..).unwrap_or(&[]),
            None => &[],
        };
        AnnexBNalUnits { rest }
    }
}

/// Position of the first `00 00 01` and the index just after it.
fn find_start_code(data: &[u8]) -> Option<(usize, usize)> {
    let pos = data.windows(3).position(|w| w == [0, 0, 1])?;
    Some((pos, pos + 3))
}

impl<'a> Iterator for AnnexBNalUnits<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        loop {
            if self.rest.is_empty() {
                return None;
            }
            let (unit, rest) = match find_start_code(self.rest) {
                Some((pos, after)) => (
                    self.rest.get(..pos).unwrap_or(&[]),
                    self.rest.get(after..).unwrap_or(&[]),
                ),
                None => (self.rest, &[][..]),
            };
            self.rest = rest;
            let end = unit.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
            let unit = unit.get(..end).unwrap_or(&[]);
            // Two start codes back to back: nothing between them, keep looking.
            if !unit.is_empty() {
                return Some(unit);
            }
        }
    }
}

/// Removes emulation-prevention bytes: every `00 00 03` becomes `00 00`. Borrows when there is
/// nothing to remove (the common case for short parameter sets).
pub fn remove_emulation_prevention(data: &[u8]) -> Cow<'_, [u8]> {
    if !data.windows(3).any(|w| w == [0, 0, 3]) {
        return Cow::Borrowed(data);
    }
    let mut out = Vec::with_capacity(data.len());
    let mut zeros = 0usize;
    for &b in data {
        if zeros >= 2 && b == 3 {
            zeros = 0;
            continue;
        }
        zeros = if b == 0 { zeros + 1 } else { 0 };
        out.push(b);
    }
    Cow::Owned(out)
}

/// Inserts emulation-prevention bytes so that the RBSP `data` can be put in a NAL unit: a `03` is
/// inserted after any two zero bytes that are followed by a byte ≤ 3.
pub fn add_emulation_prevention(data: &[u8], out: &mut Vec<u8>) {
    let mut zeros = 0usize;
    for &b in data {
        if zeros >= 2 && b <= 3 {
            out.push(3);
            zeros = 0;
        }
        zeros = if b == 0 { zeros + 1 } else { 0 };
        out.push(b);
    }
}

/// Rewrites length-prefixed NAL units as Annex B (each preceded by `00 00 00 01`), as an MPEG-TS
/// muxer needs. Fails without writing a partial unit when a length is wrong.
pub fn avcc_to_annex_b(data: &[u8], length_size: u8, out: &mut Vec<u8>) -> Result<(), CodecError> {
    for nal in AvccNalUnits::new(data, length_size) {
        let nal = nal?;
        out.extend_from_slice(&[0, 0, 0, 1]);
        out.extend_from_slice(nal);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_004_nal_type_table() {
        // The seed's table: 1 non-IDR, 5 IDR (keyframe), 6 SEI, 7 SPS, 8 PPS, 9 delimiter,
        // 10 end of sequence, 11 end of stream, 12 filler.
        assert_eq!(NalUnitType::from_header(0x67), NalUnitType::Sps);
        assert_eq!(NalUnitType::from_header(0x68), NalUnitType::Pps);
        assert_eq!(NalUnitType::from_header(0x65), NalUnitType::IdrSlice);
        assert_eq!(NalUnitType::from_header(0x41), NalUnitType::NonIdrSlice);
        assert_eq!(NalUnitType::from_header(0x06), NalUnitType::Sei);
        assert_eq!(
            NalUnitType::from_header(0x09),
            NalUnitType::AccessUnitDelimiter
        );
        assert_eq!(NalUnitType::from_u5(10), NalUnitType::EndOfSequence);
        assert_eq!(NalUnitType::from_u5(11), NalUnitType::EndOfStream);
        assert_eq!(NalUnitType::from_u5(12), NalUnitType::FillerData);
        assert_eq!(NalUnitType::from_u5(2).name(), "slice data partition A");
        assert_eq!(NalUnitType::from_u5(22), NalUnitType::Reserved(22));
        assert_eq!(NalUnitType::from_u5(28), NalUnitType::Unspecified(28));
        for v in 0..32u8 {
            assert_eq!(NalUnitType::from_u5(v).to_u5(), v);
        }
        assert_eq!(nal_ref_idc(0x67), 3);
        assert_eq!(nal_ref_idc(0x41), 2);
        assert_eq!(nal_ref_idc(0x01), 0);
    }

    #[test]
    fn avcc_iteration() {
        let data = [0, 0, 0, 2, 0x67, 0xaa, 0, 0, 0, 1, 0x68];
        let units: Vec<_> = AvccNalUnits::new(&data, 4).map(Result::unwrap).collect();
        assert_eq!(units, [&[0x67, 0xaa][..], &[0x68][..]]);
        let bad = [0, 0, 0, 9, 0x67];
        let mut it = AvccNalUnits::new(&bad, 4);
        assert!(it.next().unwrap().is_err());
        assert!(it.next().is_none());
        assert!(AvccNalUnits::new(&data, 5).next().unwrap().is_err());
        let mut out = Vec::new();
        avcc_to_annex_b(&data, 4, &mut out).unwrap();
        assert_eq!(out, [0, 0, 0, 1, 0x67, 0xaa, 0, 0, 0, 1, 0x68]);
    }

    #[test]
    fn annex_b_iteration() {
        let data = [
            0xff, 0, 0, 0, 1, 0x09, 0xf0, 0, 0, 1, 0x67, 0, 0, 0, 0, 1, 0x68, 0xce, 0, 0, 1,
        ];
        let units: Vec<_> = AnnexBNalUnits::new(&data).collect();
        assert_eq!(units, [&[0x09, 0xf0][..], &[0x67][..], &[0x68, 0xce][..]]);
        assert_eq!(AnnexBNalUnits::new(&[1, 2, 3]).count(), 0);
        assert_eq!(AnnexBNalUnits::new(&[0, 0, 1, 0, 0, 1]).count(), 0);
    }

    #[test]
    fn emulation_prevention_round_trip() {
        let escaped = [0x67, 0, 0, 3, 1, 0, 0, 3, 0, 0, 3, 3, 5];
        let raw = remove_emulation_prevention(&escaped);
        assert_eq!(&*raw, &[0x67, 0, 0, 1, 0, 0, 0, 0, 3, 5]);
        let mut back = Vec::new();
        add_emulation_prevention(&raw, &mut back);
        assert_eq!(back, escaped);
        assert!(matches!(
            remove_emulation_prevention(&[1, 2, 3]),
            Cow::Borrowed(_)
        ));
    }
}
