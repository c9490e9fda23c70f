//! Bit-level reading and writing (MSB first), with H.264/HEVC Exp-Golomb codes.

use super::error::{CodecError, CodecErrorKind};

/// Reads bits MSB first from a byte slice. Every read is bounds-checked and reports the structure
/// and field it was reading.
#[derive(Debug, Clone)]
pub struct BitReader<'a> {
    data: &'a [u8],
    /// Position in bits from the start of `data`.
    pos: usize,
    what: &'static str,
}

impl<'a> BitReader<'a> {
    /// A reader over `data`; `what` names the structure in errors.
    pub fn new(data: &'a [u8], what: &'static str) -> Self {
        BitReader { data, pos: 0, what }
    }

    /// Bits not read yet.
    pub fn bits_left(&self) -> usize {
        (self.data.len() * 8).saturating_sub(self.pos)
    }

    /// Bits read so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    fn error(&self, field: &'static str, kind: CodecErrorKind) -> CodecError {
        CodecError::new(self.what, field, self.pos / 8, kind)
    }

    /// An error at the current position, for callers that validate what they read.
    pub fn invalid(&self, field: &'static str, value: u64) -> CodecError {
        self.error(field, CodecErrorKind::InvalidValue(value))
    }

    /// One bit.
    pub fn bit(&mut self, field: &'static str) -> Result<bool, CodecError> {
        Ok(self.bits(1, field)? == 1)
    }

    /// Up to 64 bits as an unsigned number.
    pub fn bits(&mut self, count: u32, field: &'static str) -> Result<u64, CodecError> {
        debug_assert!(count <= 64);
        if (count as usize) > self.bits_left() {
            return Err(self.error(field, CodecErrorKind::Truncated));
        }
        let mut value: u64 = 0;
        for _ in 0..count {
            let byte = self.data.get(self.pos / 8).copied().unwrap_or(0);
            let bit = (byte >> (7 - (self.pos % 8))) & 1;
            value = (value << 1) | u64::from(bit);
            self.pos += 1;
        }
        Ok(value)
    }

    /// Up to 32 bits.
    pub fn bits_u32(&mut self, count: u32, field: &'static str) -> Result<u32, CodecError> {
        debug_assert!(count <= 32);
        // At most 32 bits were read, so the value fits.
        Ok(self.bits(count, field)? as u32)
    }

    /// Up to 8 bits.
    pub fn bits_u8(&mut self, count: u32, field: &'static str) -> Result<u8, CodecError> {
        debug_assert!(count <= 8);
        Ok(self.bits(count, field)? as u8)
    }

    /// Skips `count` bits.
    pub fn skip(&mut self, count: usize, field: &'static str) -> Result<(), CodecError> {
        if count > self.bits_left() {
            return Err(self.error(field, CodecErrorKind::Truncated));
        }
        self.pos += count;
        Ok(())
    }

    /// Unsigned Exp-Golomb code `ue(v)`. Codes whose value would not fit 32 bits are errors,
    /// which also bounds the loop over leading zeros.
    pub fn ue(&mut self, field: &'static str) -> Result<u32, CodecError> {
        let mut leading_zeros = 0u32;
        while !self.bit(field)? {
            leading_zeros += 1;
            if leading_zeros > 31 {
                return Err(self.error(field, CodecErrorKind::ExpGolombOverflow));
            }
        }
        let suffix = self.bits(leading_zeros, field)?;
        let value = (1u64 << leading_zeros) - 1 + suffix;
        u32::try_from(value).map_err(|_| self.error(field, CodecErrorKind::ExpGolombOverflow))
    }

    /// Signed Exp-Golomb code `se(v)`.
    pub fn se(&mut self, field: &'static str) -> Result<i32, CodecError> {
        let k = i64::from(self.ue(field)?);
        let value = if k % 2 == 1 { (k + 1) / 2 } else { -(k / 2) };
        i32::try_from(value).map_err(|_| self.error(field, CodecErrorKind::ExpGolombOverflow))
    }

    /// `ue(v)` that must not exceed `max`.
    pub fn ue_max(&mut self, max: u32, field: &'static str) -> Result<u32, CodecError> {
        let value = self.ue(field)?;
        if value > max {
            return Err(self.error(field, CodecErrorKind::InvalidValue(value.into())));
        }
        Ok(value)
    }
}

/// Writes bits MSB first; the last byte is padded with zero bits.
#[derive(Debug, Clone, Default)]
pub struct BitWriter {
    bytes: Vec<u8>,
    /// Bits used in the last byte (0 means the last byte is full or there is none).
    used: u32,
}

impl BitWriter {
    pub fn new() -> Self {
        BitWriter::default()
    }

    /// Appends the low `count` bits of `value` (count ≤ 64).
    pub fn bits(&mut self, value: u64, count: u32) {
        for i in (0..count).rev() {
            let bit = ((value >> i) & 1) as u8;
            if self.used == 0 {
                self.bytes.push(0);
            }
            if let Some(last) = self.bytes.last_mut() {
                *last |= bit << (7 - self.used);
            }
            self.used = (self.used + 1) % 8;
        }
    }

    /// The bytes written, padded with zero bits to a byte boundary.
    pub fn finish(self) -> Vec<u8> {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_golomb_values() {
        // 1 | 010 | 011 | 00100 | 00101 | 0001000 => 0, 1, 2, 3, 4, 7
        let mut w = BitWriter::new();
        for (v, n) in [(1, 1), (2, 3), (3, 3), (4, 5), (5, 5), (8, 7)] {
            w.bits(v, n);
        }
        let data = w.finish();
        let mut r = BitReader::new(&data, "test");
        let got: Vec<u32> = (0..6).map(|_| r.ue("v").unwrap()).collect();
        assert_eq!(got, [0, 1, 2, 3, 4, 7]);
        let mut r = BitReader::new(&data, "test");
        let got: Vec<i32> = (0..6).map(|_| r.se("v").unwrap()).collect();
        assert_eq!(got, [0, 1, -1, 2, -2, 4]);
    }

    #[test]
    fn exp_golomb_overflow_and_truncation() {
        let zeros = [0u8; 8];
        let err = BitReader::new(&zeros, "t").ue("x").unwrap_err();
        assert_eq!(err.kind, CodecErrorKind::ExpGolombOverflow);
        let err = BitReader::new(&[0x00, 0x01], "t").ue("x").unwrap_err();
        assert_eq!(err.kind, CodecErrorKind::Truncated);
        // 32 leading zeros would be 2^32 - 1 + suffix: too big; 31 zeros is the largest allowed.
        let mut max = vec![0u8; 3];
        max.extend([0x01, 0xff, 0xff, 0xff, 0xfe]);
        let mut r = BitReader::new(&max, "t");
        assert_eq!(r.ue("x").unwrap(), u32::MAX - 1);
    }

    #[test]
    fn writer_pads_with_zeros() {
        let mut w = BitWriter::new();
        w.bits(0b101, 3);
        w.bits(0xabc, 12);
        assert_eq!(w.finish(), [0b1011_0101, 0b0111_1000]);
    }
}
