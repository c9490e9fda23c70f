//! The bounded big-endian byte reader both AMF decoders read through.

use super::{AmfError, AmfErrorKind};

/// A position in one input buffer. Every read is checked; running out of input is an
/// [`AmfErrorKind::Truncated`] at the absolute offset (`base` + position).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ByteReader<'a> {
    buf: &'a [u8],
    /// Position in `buf`.
    pub(crate) pos: usize,
    /// Offset of `buf` in the caller's buffer, added to every error offset.
    base: usize,
}

impl<'a> ByteReader<'a> {
    pub(crate) fn new(buf: &'a [u8], base: usize) -> Self {
        ByteReader { buf, pos: 0, base }
    }

    /// An error at position `offset` of this buffer.
    pub(crate) fn err(&self, offset: usize, kind: AmfErrorKind) -> AmfError {
        AmfError {
            offset: self.base + offset,
            kind,
        }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// The unread input.
    pub(crate) fn rest(&self) -> &'a [u8] {
        self.buf.get(self.pos..).unwrap_or_default()
    }

    /// The byte at the current position, without consuming it.
    pub(crate) fn peek(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], AmfError> {
        let rest = self.rest();
        match rest.get(..n) {
            Some(bytes) => {
                self.pos += n;
                Ok(bytes)
            }
            None => Err(self.err(
                self.pos,
                AmfErrorKind::Truncated {
                    needed: n - rest.len(),
                },
            )),
        }
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], AmfError> {
        let bytes = self.take(N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, AmfError> {
        Ok(self.array::<1>()?[0])
    }

    pub(crate) fn u16(&mut self) -> Result<u16, AmfError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    pub(crate) fn u32(&mut self) -> Result<u32, AmfError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    pub(crate) fn f64(&mut self) -> Result<f64, AmfError> {
        Ok(f64::from_be_bytes(self.array()?))
    }
}
