//! One direction of a TCP connection: sequence space, out-of-order buffer, gap detection.

use std::collections::BTreeMap;

use super::{Budget, CloseReason, DirectionStats, StreamEvent};
use crate::net::TcpSegment;

struct Buffered {
    frame: u64,
    data: Vec<u8>,
}

/// Reassembly state of one direction. Stream offset 0 is the byte after the SYN, or the
/// first byte seen when the capture missed the SYN.
#[derive(Default)]
pub(super) struct Half {
    pub(super) synced: bool,
    /// Sequence number of stream offset 0.
    base: u32,
    /// Initial sequence number when a SYN was seen.
    pub(super) isn: Option<u32>,
    /// Next stream offset to deliver.
    next: u64,
    fin_at: Option<u64>,
    pub(super) closed: bool,
    ooo: BTreeMap<u64, Buffered>,
    ooo_bytes: usize,
    pub(super) stats: DirectionStats,
}

type Emit<'e> = dyn FnMut(StreamEvent<'_>) + 'e;

impl Half {
    /// Stream offset of `seq`, placed in the 2^32 cycle nearest the delivery point (so
    /// streams longer than 4 GiB keep counting). Negative: before the stream's start.
    fn offset_of(&self, seq: u32) -> i64 {
        let rel = u64::from(seq.wrapping_sub(self.base));
        let next = self.next as i64;
        let mut cand = ((self.next & !0xffff_ffff) | rel) as i64;
        if cand - next > 1 << 31 {
            cand -= 1 << 32;
        } else if next - cand > 1 << 31 {
            cand += 1 << 32;
        }
        cand
    }

    pub(super) fn on_segment(
        &mut self,
        frame: u64,
        seg: &TcpSegment<'_>,
        budget: &mut Budget,
        emit: &mut Emit<'_>,
    ) {
        self.stats.segments += 1;
        if self.closed {
            self.stats.after_close_segments += 1;
            return;
        }
        let mut data_seq = seg.seq;
        if seg.flags.syn() {
            data_seq = seg.seq.wrapping_add(1);
            if !self.synced {
                self.synced = true;
                self.isn = Some(seg.seq);
                self.base = data_seq;
            }
        } else if !self.synced {
            self.synced = true;
            self.base = seg.seq;
        }
        let off = self.offset_of(data_seq);
        let wire = i64::from(seg.wire_len);
        if wire > 0 {
            self.accept(frame, off, seg.payload, wire, budget, emit);
        }
        if seg.flags.fin() && self.fin_at.is_none() && off + wire >= 0 {
            self.fin_at = Some((off + wire) as u64);
        }
        self.try_close(frame, emit);
    }

    /// The peer acknowledged up to `ack`: bytes before it that the capture lacks are lost.
    pub(super) fn on_ack(
        &mut self,
        frame: u64,
        ack: u32,
        budget: &mut Budget,
        emit: &mut Emit<'_>,
    ) {
        if !self.synced || self.closed {
            return;
        }
        let ack_off = self.offset_of(ack);
        if ack_off <= self.next as i64 || (ack_off as u64 - self.next) > budget.config.max_ack_jump
        {
            return;
        }
        let mut target = ack_off as u64;
        if let Some(f) = self.fin_at {
            target = target.min(f);
        }
        if let Some((&first, _)) = self.ooo.first_key_value() {
            target = target.min(first);
        }
        if target > self.next {
            self.gap_to(frame, target, emit);
            self.drain(budget, emit);
            self.try_close(frame, emit);
        }
    }

    /// Ends the direction: remaining holes become gaps, buffered data is delivered.
    pub(super) fn close(
        &mut self,
        frame: u64,
        reason: CloseReason,
        budget: &mut Budget,
        emit: &mut Emit<'_>,
    ) {
        if self.closed {
            return;
        }
        while let Some((&first, _)) = self.ooo.first_key_value() {
            self.gap_to(frame, first, emit);
            self.drain(budget, emit);
        }
        if let Some(f) = self.fin_at
            && f > self.next
        {
            self.gap_to(frame, f, emit);
        }
        let reason = if self.fin_at == Some(self.next) && reason == CloseReason::EndOfCapture {
            CloseReason::Fin
        } else {
            reason
        };
        self.closed = true;
        emit(StreamEvent::Closed { frame, reason });
    }

    fn try_close(&mut self, frame: u64, emit: &mut Emit<'_>) {
        if !self.closed && self.fin_at == Some(self.next) && self.ooo.is_empty() {
            self.closed = true;
            emit(StreamEvent::Closed {
                frame,
                reason: CloseReason::Fin,
            });
        }
    }

    fn gap_to(&mut self, frame: u64, target: u64, emit: &mut Emit<'_>) {
        if target <= self.next {
            return;
        }
        let len = target - self.next;
        self.stats.gaps += 1;
        self.stats.gap_bytes += len;
        emit(StreamEvent::Gap {
            frame,
            from: self.next,
            len,
        });
        self.next = target;
    }

    fn deliver(&mut self, frame: u64, bytes: &[u8], emit: &mut Emit<'_>) {
        if bytes.is_empty() {
            return;
        }
        self.stats.bytes += bytes.len() as u64;
        emit(StreamEvent::Data {
            frame,
            stream_offset: self.next,
            bytes,
        });
        self.next += bytes.len() as u64;
    }

    /// Takes the bytes [off, off + wire) of which `payload` (the start) was captured.
    fn accept(
        &mut self,
        frame: u64,
        off: i64,
        payload: &[u8],
        wire: i64,
        budget: &mut Budget,
        emit: &mut Emit<'_>,
    ) {
        let next = self.next as i64;
        let end = off + wire;
        if end <= next {
            self.stats.retransmitted_segments += 1;
            self.stats.duplicate_bytes += wire as u64;
            return;
        }
        // Bytes before offset 0 belong to a part of the stream the capture never started.
        let (mut off, mut payload) = (off, payload);
        if off < 0 {
            let skip = (-off) as usize;
            self.stats.before_start_bytes += skip as u64;
            payload = payload.get(skip..).unwrap_or(&[]);
            off = 0;
        }
        if off < next {
            let skip = (next - off) as usize;
            self.stats.duplicate_bytes += skip.min(payload.len()) as u64;
            payload = payload.get(skip..).unwrap_or(&[]);
            off = next;
        }
        let cap_end = off + payload.len() as i64;
        if off == next {
            self.deliver(frame, payload, emit);
            self.drain(budget, emit);
        } else if !payload.is_empty() {
            self.stats.out_of_order_segments += 1;
            self.buffer(frame, off as u64, payload, budget, emit);
        }
        // Bytes the capture cut off: lost for good once delivery reaches them.
        if cap_end < end && cap_end <= self.next as i64 && (self.next as i64) < end {
            self.gap_to(frame, end as u64, emit);
            self.drain(budget, emit);
        }
    }

    /// Delivers buffered segments that now continue the stream.
    fn drain(&mut self, budget: &mut Budget, emit: &mut Emit<'_>) {
        while let Some(entry) = self.ooo.first_entry() {
            let start = *entry.key();
            if start > self.next {
                break;
            }
            let b = entry.remove();
            self.ooo_bytes -= b.data.len();
            budget.buffered_total = budget.buffered_total.saturating_sub(b.data.len());
            let end = start + b.data.len() as u64;
            if end > self.next {
                let skip = (self.next - start) as usize;
                self.deliver(b.frame, b.data.get(skip..).unwrap_or(&[]), emit);
            }
        }
    }

    /// Keeps the parts of [start, start + data.len()) not already buffered.
    fn buffer(
        &mut self,
        frame: u64,
        start: u64,
        data: &[u8],
        budget: &mut Budget,
        emit: &mut Emit<'_>,
    ) {
        let len = data.len();
        let cfg = budget.config;
        // Make room: the oldest hole is declared lost and what follows it delivered.
        while !self.ooo.is_empty()
            && (self.ooo_bytes + len > cfg.max_buffer_per_direction
                || budget.buffered_total + len > cfg.max_buffer_total)
        {
            if let Some((&first, _)) = self.ooo.first_key_value() {
                self.gap_to(frame, first, emit);
            }
            self.drain(budget, emit);
        }
        if start <= self.next
            || len > cfg.max_buffer_per_direction
            || budget.buffered_total + len > cfg.max_buffer_total
        {
            // Either the stream caught up with this segment, or it can never be buffered:
            // declare the hole before it and deliver it now.
            let skip = self.next.saturating_sub(start) as usize;
            self.gap_to(frame, start, emit);
            self.deliver(frame, data.get(skip..).unwrap_or(&[]), emit);
            self.drain(budget, emit);
            return;
        }
        let end = start + len as u64;
        // Buffered entries never overlap, so those overlapping [start, end) are contiguous.
        let mut covered: Vec<(u64, u64)> = self
            .ooo
            .range(..end)
            .rev()
            .map(|(&s, b)| (s, s + b.data.len() as u64))
            .take_while(|&(_, e)| e > start)
            .collect();
        covered.reverse();
        let mut cur = start;
        for (s, e) in covered.into_iter().chain(std::iter::once((end, end))) {
            if cur < s {
                let piece = data
                    .get((cur - start) as usize..(s.min(end) - start) as usize)
                    .unwrap_or(&[]);
                self.ooo_bytes += piece.len();
                budget.buffered_total += piece.len();
                self.ooo.insert(
                    cur,
                    Buffered {
                        frame,
                        data: piece.to_vec(),
                    },
                );
            }
            if e > cur {
                self.stats.duplicate_bytes += e.min(end) - cur.max(s);
            }
            cur = cur.max(e);
        }
    }
}
