//! Per-SSRC RTP statistics: sequence gaps, duplicates, reordering, interarrival jitter.

use rtmpkit_proto::rtp::{RtpHeader, SequenceExtender};

use crate::capture::Timestamp;

/// Most gap records kept per stream (the counters go on).
pub const MAX_GAP_RECORDS: usize = 1000;
/// Sequence numbers remembered for duplicate detection.
const WINDOW: u64 = 1024;

/// A jump in RTP sequence numbers: `missing` packets were not (yet) seen after `after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SequenceGap {
    /// Frame of the packet that jumped.
    pub frame: u64,
    /// Highest sequence number before the jump.
    pub after: u16,
    /// The sequence number that arrived.
    pub next: u16,
    /// Packets skipped.
    pub missing: u64,
}

/// Statistics of one RTP stream (one SSRC on one 4-tuple).
#[derive(Debug, Clone, PartialEq)]
pub struct RtpStats {
    /// Synchronisation source.
    pub ssrc: u32,
    /// Payload type of the first packet.
    pub payload_type: u8,
    /// Packets whose payload type differed from the first.
    pub payload_type_changes: u64,
    /// Packets received (duplicates included).
    pub packets: u64,
    /// Payload bytes (headers and padding excluded).
    pub payload_bytes: u64,
    /// First sequence number.
    pub first_sequence: u16,
    /// Highest sequence number (in extended order).
    pub highest_sequence: u16,
    /// Packets expected from the first to the highest sequence number.
    pub expected: u64,
    /// Expected minus distinct packets received (RFC 3550 "cumulative lost").
    pub lost: i64,
    /// Packets received twice.
    pub duplicates: u64,
    /// Packets that arrived after a higher sequence number.
    pub reordered: u64,
    /// Forward jumps of the sequence number (first [`MAX_GAP_RECORDS`]).
    pub gaps: Vec<SequenceGap>,
    /// Number of forward jumps.
    pub gap_count: u64,
    /// Packets with the marker bit.
    pub marker_packets: u64,
    /// First RTP timestamp.
    pub first_timestamp: u32,
    /// Last RTP timestamp.
    pub last_timestamp: u32,
    /// Clock rate used for jitter (from the static payload type, else 90 kHz assumed).
    pub clock_rate: u32,
    /// Whether `clock_rate` was assumed (dynamic payload type).
    pub clock_rate_assumed: bool,
    /// RFC 3550 interarrival jitter at the end, in timestamp units.
    pub jitter: f64,
    /// Largest interarrival jitter seen, in timestamp units.
    pub max_jitter: f64,
    /// Packets with a header extension.
    pub extension_packets: u64,
    /// Packets with padding.
    pub padding_packets: u64,
    seq: SequenceExtender,
    first_ext: u64,
    distinct: u64,
    seen: [u64; (WINDOW / 64) as usize],
    last_transit: Option<f64>,
}

/// Clock rate of static payload types (RFC 3551), `None` for dynamic ones.
pub fn static_clock_rate(pt: u8) -> Option<u32> {
    match pt {
        0 | 3 | 4 | 5 | 7 | 8 | 9 | 12 | 13 | 15 | 18 => Some(8000),
        6 => Some(16000),
        10 | 11 => Some(44100),
        14 | 25 | 26 | 28 | 31 | 32 | 33 | 34 => Some(90000),
        16 => Some(11025),
        17 => Some(22050),
        _ => None,
    }
}

impl RtpStats {
    /// Starts statistics at the first packet.
    pub fn new(header: &RtpHeader<'_>) -> Self {
        let rate = static_clock_rate(header.payload_type);
        RtpStats {
            ssrc: header.ssrc,
            payload_type: header.payload_type,
            payload_type_changes: 0,
            packets: 0,
            payload_bytes: 0,
            first_sequence: header.sequence,
            highest_sequence: header.sequence,
            expected: 0,
            lost: 0,
            duplicates: 0,
            reordered: 0,
            gaps: Vec::new(),
            gap_count: 0,
            marker_packets: 0,
            first_timestamp: header.timestamp,
            last_timestamp: header.timestamp,
            clock_rate: rate.unwrap_or(90_000),
            clock_rate_assumed: rate.is_none(),
            jitter: 0.0,
            max_jitter: 0.0,
            extension_packets: 0,
            padding_packets: 0,
            seq: SequenceExtender::default(),
            first_ext: 0,
            distinct: 0,
            seen: [0; (WINDOW / 64) as usize],
            last_transit: None,
        }
    }

    fn bit(&mut self, ext: u64) -> (&mut u64, u64) {
        let i = (ext % WINDOW) as usize;
        let word = &mut self.seen[i / 64];
        (word, 1u64 << (i % 64))
    }

    /// Accounts one packet that arrived at `time` in `frame`.
    pub fn push(
        &mut self,
        frame: u64,
        time: Timestamp,
        header: &RtpHeader<'_>,
        payload_len: usize,
    ) {
        self.packets += 1;
        self.payload_bytes += payload_len as u64;
        self.marker_packets += u64::from(header.marker);
        self.extension_packets += u64::from(header.extension.is_some());
        self.padding_packets += u64::from(header.padding > 0);
        if header.payload_type != self.payload_type {
            self.payload_type_changes += 1;
        }
        let prev_highest = self.seq.highest();
        let ext = self.seq.extend(header.sequence);
        match prev_highest {
            None => {
                self.first_ext = ext;
                self.mark(ext);
                self.distinct = 1;
            }
            Some(h) if ext > h => {
                if ext > h + 1 {
                    self.gap_count += 1;
                    if self.gaps.len() < MAX_GAP_RECORDS {
                        self.gaps.push(SequenceGap {
                            frame,
                            after: h as u16,
                            next: header.sequence,
                            missing: ext - h - 1,
                        });
                    }
                }
                // Forget the window slots the stream moved past.
                let clear = (ext - h).min(WINDOW);
                for k in 1..=clear {
                    let (w, b) = self.bit(h + k);
                    *w &= !b;
                }
                self.mark(ext);
                self.distinct += 1;
                self.highest_sequence = header.sequence;
                self.last_timestamp = header.timestamp;
            }
            Some(h) => {
                let (w, b) = self.bit(ext);
                let known = h - ext < WINDOW && *w & b != 0;
                if known {
                    self.duplicates += 1;
                } else {
                    self.reordered += 1;
                    self.mark(ext);
                    self.distinct += 1;
                    if ext < self.first_ext {
                        self.first_ext = ext;
                        self.first_sequence = header.sequence;
                    }
                }
            }
        }
        let highest = self.seq.highest().unwrap_or(ext);
        self.expected = highest - self.first_ext + 1;
        self.lost = self.expected as i64 - self.distinct as i64;
        // RFC 3550 §6.4.1 / A.8: J += (|D| - J) / 16, transit in timestamp units.
        let arrival = time.as_secs_f64() * f64::from(self.clock_rate);
        let transit = arrival - f64::from(header.timestamp);
        if let Some(last) = self.last_transit {
            let mut d = (transit - last).abs();
            // A timestamp wrap makes one huge difference; ignore it.
            if d > f64::from(u32::MAX) / 2.0 {
                d = self.jitter;
            }
            self.jitter += (d - self.jitter) / 16.0;
            self.max_jitter = self.max_jitter.max(self.jitter);
        }
        self.last_transit = Some(transit);
    }

    fn mark(&mut self, ext: u64) {
        let (w, b) = self.bit(ext);
        *w |= b;
    }

    /// Jitter in milliseconds.
    pub fn jitter_ms(&self) -> f64 {
        self.jitter * 1000.0 / f64::from(self.clock_rate.max(1))
    }

    /// Largest jitter in milliseconds.
    pub fn max_jitter_ms(&self) -> f64 {
        self.max_jitter * 1000.0 / f64::from(self.clock_rate.max(1))
    }
}
