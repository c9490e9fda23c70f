//! Which frame carried the byte at a given stream offset.

use std::collections::VecDeque;

/// Maps stream offsets of one direction to the frames that carried them.
///
/// Record every [`StreamEvent::Data`](super::StreamEvent::Data) with [`record`](Self::record);
/// ask [`frame_at`](Self::frame_at) (a binary search); call
/// [`discard_before`](Self::discard_before) once bytes are consumed so memory stays bounded
/// by what the consumer still holds.
#[derive(Debug, Clone, Default)]
pub struct OffsetFrameMap {
    /// (first stream offset, frame), ascending offsets; each run lasts until the next.
    runs: VecDeque<(u64, u64)>,
    end: u64,
}

impl OffsetFrameMap {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Notes that `len` bytes from `stream_offset` came in `frame`. Offsets must not go
    /// backwards; a gap between records is attributed to the frame before it.
    pub fn record(&mut self, stream_offset: u64, len: usize, frame: u64) {
        if len == 0 || stream_offset < self.end {
            return;
        }
        if self.runs.back().is_none_or(|&(_, f)| f != frame) {
            self.runs.push_back((stream_offset, frame));
        }
        self.end = stream_offset + len as u64;
    }

    /// The frame that carried the byte at `offset`, if recorded and not discarded.
    pub fn frame_at(&self, offset: u64) -> Option<u64> {
        if offset >= self.end {
            return None;
        }
        let i = self.runs.partition_point(|&(start, _)| start <= offset);
        i.checked_sub(1)
            .and_then(|i| self.runs.get(i))
            .map(|&(_, f)| f)
    }

    /// Forgets runs that end before `offset`.
    pub fn discard_before(&mut self, offset: u64) {
        while self.runs.len() > 1 && self.runs.get(1).is_some_and(|&(s, _)| s <= offset) {
            self.runs.pop_front();
        }
    }

    /// Number of runs held (for memory accounting).
    pub fn len(&self) -> usize {
        self.runs.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_and_discards() {
        let mut m = OffsetFrameMap::new();
        m.record(0, 100, 5);
        m.record(100, 50, 5); // same frame: merged
        m.record(150, 10, 9);
        m.record(200, 10, 12); // after a gap
        assert_eq!(m.len(), 3);
        assert_eq!(m.frame_at(0), Some(5));
        assert_eq!(m.frame_at(149), Some(5));
        assert_eq!(m.frame_at(150), Some(9));
        assert_eq!(m.frame_at(205), Some(12));
        assert_eq!(m.frame_at(210), None);
        m.discard_before(160);
        assert_eq!(m.frame_at(159), Some(9));
        assert_eq!(m.frame_at(10), None, "discarded");
        m.discard_before(1000);
        assert_eq!(m.len(), 1);
        m.record(100, 5, 99); // backwards: ignored
        assert_eq!(m.frame_at(205), Some(12));
    }
}
