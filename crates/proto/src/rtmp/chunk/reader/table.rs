//! The reader's per-chunk-stream states, by chunk stream id.
//!
//! Every chunk looks its stream up, so the lookup is on the hottest path of the reader. Real
//! peers use a handful of ids below 64 (the ones a one-byte basic header can name): those live
//! in a small vector indexed by the id, without hashing. Higher ids (2- and 3-byte basic
//! headers, which only unusual or hostile peers send) go to a hash map.

use std::collections::HashMap;

/// Ids below this are indexed directly.
const DIRECT: u32 = 64;

/// Chunk stream states by id; `len` counts both parts (for `max_chunk_streams`).
#[derive(Debug)]
pub(super) struct StreamTable<T> {
    /// Index = csid; grown only as far as the highest id seen, at most [`DIRECT`] slots.
    low: Vec<Option<T>>,
    high: HashMap<u32, T>,
    len: usize,
}

impl<T> Default for StreamTable<T> {
    fn default() -> Self {
        StreamTable {
            low: Vec::new(),
            high: HashMap::new(),
            len: 0,
        }
    }
}

impl<T> StreamTable<T> {
    /// Number of streams present.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    pub(super) fn get(&self, csid: u32) -> Option<&T> {
        if csid < DIRECT {
            self.low.get(csid as usize).and_then(Option::as_ref)
        } else {
            self.high.get(&csid)
        }
    }

    pub(super) fn get_mut(&mut self, csid: u32) -> Option<&mut T> {
        if csid < DIRECT {
            self.low.get_mut(csid as usize).and_then(Option::as_mut)
        } else {
            self.high.get_mut(&csid)
        }
    }

    /// The state of `csid`, inserting `make()` first when it has none.
    pub(super) fn get_or_insert_with(&mut self, csid: u32, make: impl FnOnce() -> T) -> &mut T {
        if csid < DIRECT {
            let i = csid as usize;
            if self.low.len() <= i {
                self.low.resize_with(i + 1, || None);
            }
            // `resize_with` above made index `i` exist; `get_mut` cannot fail, but a fallback
            // through the map keeps this free of panicking indexing.
            if let Some(slot) = self.low.get_mut(i) {
                if slot.is_none() {
                    self.len += 1;
                }
                return slot.get_or_insert_with(make);
            }
        }
        let len = &mut self.len;
        self.high.entry(csid).or_insert_with(|| {
            *len += 1;
            make()
        })
    }

    /// Forgets every stream.
    pub(super) fn clear(&mut self) {
        self.low.clear();
        self.high.clear();
        self.len = 0;
    }

    /// Every stream with its id, in no particular order.
    pub(super) fn iter(&self) -> impl Iterator<Item = (u32, &T)> {
        let low = self
            .low
            .iter()
            .enumerate()
            .filter_map(|(i, s)| Some((i as u32, s.as_ref()?)));
        low.chain(self.high.iter().map(|(&c, s)| (c, s)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn low_and_high_ids_are_counted_and_found() {
        let mut t = StreamTable::default();
        for csid in [2, 63, 64, 65_599, 2] {
            *t.get_or_insert_with(csid, || 0) += 1;
        }
        assert_eq!(t.len(), 4);
        assert_eq!(t.get(2), Some(&2));
        assert_eq!(t.get(63), Some(&1));
        assert_eq!(t.get(64), Some(&1));
        assert_eq!(t.get(65_599), Some(&1));
        assert_eq!(t.get(3), None);
        assert_eq!(t.get(100), None);
        *t.get_mut(65_599).unwrap() = 7;
        let mut all: Vec<_> = t.iter().map(|(c, &v)| (c, v)).collect();
        all.sort_unstable();
        assert_eq!(all, vec![(2, 2), (63, 1), (64, 1), (65_599, 7)]);
        t.clear();
        assert_eq!((t.len(), t.get(2), t.iter().count()), (0, None, 0));
    }
}
