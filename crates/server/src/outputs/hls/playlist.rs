//! A stream's HLS media playlist: the segments held, the window listed, and its text.

use std::collections::VecDeque;
use std::fmt::Write;

use bytes::Bytes;

/// A finished segment.
#[derive(Debug, Clone)]
pub struct Segment {
    /// Media sequence number.
    pub seq: u64,
    pub duration_ms: u64,
    /// Preceded by `EXT-X-DISCONTINUITY` (a new publisher, or frames were skipped).
    pub discontinuity: bool,
    /// Whole TS packets, starting with PAT and PMT.
    pub data: Bytes,
}

/// The segments of one stream, oldest first: the playlist lists the newest `listed`; `retained`
/// more are still served.
#[derive(Debug)]
pub struct Playlist {
    segments: VecDeque<Segment>,
    next_seq: u64,
    /// Discontinuity tags on segments dropped from `segments`.
    dropped_discontinuities: u64,
    listed: usize,
    retained: usize,
    min_target_secs: u64,
    ended: bool,
}

impl Playlist {
    pub fn new(listed: usize, retained: usize, target_ms: u64) -> Playlist {
        Playlist {
            segments: VecDeque::new(),
            next_seq: 0,
            dropped_discontinuities: 0,
            listed: listed.max(1),
            retained,
            min_target_secs: target_ms.div_ceil(1000).max(1),
            ended: false,
        }
    }

    /// Adds a segment; returns those that are no longer served.
    pub fn push(&mut self, duration_ms: u64, discontinuity: bool, data: Bytes) -> Vec<Segment> {
        self.ended = false;
        self.segments.push_back(Segment {
            seq: self.next_seq,
            duration_ms,
            discontinuity,
            data,
        });
        self.next_seq += 1;
        let mut gone = Vec::new();
        while self.segments.len() > self.listed + self.retained {
            if let Some(s) = self.segments.pop_front() {
                self.dropped_discontinuities += u64::from(s.discontinuity);
                gone.push(s);
            }
        }
        gone
    }

    /// Marks the stream finished: `EXT-X-ENDLIST`.
    pub fn end(&mut self) {
        self.ended = true;
    }

    pub fn is_ended(&self) -> bool {
        self.ended
    }

    /// Whether any segment is listed yet.
    pub fn is_empty(&self) -> bool {
        self.segments.is_empty()
    }

    /// A served segment.
    pub fn segment(&self, seq: u64) -> Option<&Segment> {
        let first = self.segments.front()?.seq;
        self.segments
            .get(usize::try_from(seq.checked_sub(first)?).ok()?)
    }

    pub fn segments(&self) -> impl Iterator<Item = &Segment> {
        self.segments.iter()
    }

    /// The playlist text; `uri` names a segment by its sequence number.
    pub fn render(&self, uri: impl Fn(u64) -> String) -> String {
        let skip = self.segments.len().saturating_sub(self.listed);
        let window = self.segments.iter().skip(skip);
        let discontinuity_sequence = self.dropped_discontinuities
            + self
                .segments
                .iter()
                .take(skip)
                .filter(|s| s.discontinuity)
                .count() as u64;
        // EXTINF rounded to the nearest second may not exceed the target duration.
        let target = window
            .clone()
            .map(|s| (s.duration_ms + 500) / 1000)
            .fold(self.min_target_secs, u64::max);
        let media_sequence = self.segments.get(skip).map_or(self.next_seq, |s| s.seq);
        let mut out = String::with_capacity(128 + 48 * self.listed);
        out.push_str("#EXTM3U\n#EXT-X-VERSION:3\n");
        let _ = writeln!(out, "#EXT-X-TARGETDURATION:{target}");
        let _ = writeln!(out, "#EXT-X-MEDIA-SEQUENCE:{media_sequence}");
        if discontinuity_sequence > 0 {
            let _ = writeln!(
                out,
                "#EXT-X-DISCONTINUITY-SEQUENCE:{discontinuity_sequence}"
            );
        }
        for s in window {
            if s.discontinuity {
                out.push_str("#EXT-X-DISCONTINUITY\n");
            }
            let _ = writeln!(
                out,
                "#EXTINF:{}.{:03},\n{}",
                s.duration_ms / 1000,
                s.duration_ms % 1000,
                uri(s.seq)
            );
        }
        if self.ended {
            out.push_str("#EXT-X-ENDLIST\n");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(p: &mut Playlist, ms: u64, disc: bool) -> Vec<u64> {
        p.push(ms, disc, Bytes::from_static(b"x"))
            .iter()
            .map(|s| s.seq)
            .collect()
    }

    #[test]
    fn window_sequence_and_discontinuities() {
        let mut p = Playlist::new(3, 1, 2000);
        assert!(p.is_empty());
        assert_eq!(
            p.render(|n| format!("s-{n}.ts")),
            "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n"
        );
        assert!(seg(&mut p, 2000, false).is_empty());
        assert!(seg(&mut p, 2040, true).is_empty());
        assert!(seg(&mut p, 1960, false).is_empty());
        assert!(seg(&mut p, 2600, false).is_empty());
        // 0 is retained (served) but no longer listed; the discontinuity on 1 is listed.
        let text = p.render(|n| format!("s-{n}.ts"));
        assert_eq!(
            text,
            "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:3\n#EXT-X-MEDIA-SEQUENCE:1\n\
             #EXT-X-DISCONTINUITY\n#EXTINF:2.040,\ns-1.ts\n#EXTINF:1.960,\ns-2.ts\n\
             #EXTINF:2.600,\ns-3.ts\n"
        );
        assert!(p.segment(0).is_some() && p.segment(4).is_none());
        assert_eq!(seg(&mut p, 2000, false), [0]);
        assert!(p.segment(0).is_none());
        // Segment 1 (with the discontinuity) leaves the window: the count moves to the header.
        let text = p.render(|n| format!("s-{n}.ts"));
        assert!(text.contains("#EXT-X-MEDIA-SEQUENCE:2\n#EXT-X-DISCONTINUITY-SEQUENCE:1\n"));
        assert!(!text.contains("#EXT-X-DISCONTINUITY\n"));
        assert_eq!(seg(&mut p, 2000, false), [1]);
        let text = p.render(|n| format!("s-{n}.ts"));
        assert!(text.contains("#EXT-X-DISCONTINUITY-SEQUENCE:1\n"));
        p.end();
        assert!(
            p.render(|n| format!("s-{n}.ts"))
                .ends_with("#EXT-X-ENDLIST\n")
        );
        seg(&mut p, 10, false);
        assert!(!p.is_ended(), "a new segment reopens the playlist");
    }
}
