//! Acknowledgement accounting (RTMP 1.0 specification, 5.4.3 and 5.4.4).

/// Tracks received bytes against the window the peer set with Window Acknowledgement Size, and
/// says when an Acknowledgement (type 3) is due.
///
/// The sequence number of an Acknowledgement is the number of bytes received so far, modulo
/// 2^32. The caller decides what counts as received; the usual choice (FFmpeg, SRS) is every
/// byte read from the connection, handshake included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AckWindow {
    window: u32,
    received: u64,
    acked: u64,
}

impl AckWindow {
    /// No window yet: no Acknowledgement is due until [`set_window`](Self::set_window).
    pub fn new() -> Self {
        AckWindow::default()
    }

    /// Applies a Window Acknowledgement Size from the peer. 0 turns acknowledgements off.
    pub fn set_window(&mut self, size: u32) {
        self.window = size;
    }

    /// The current window (0: off).
    pub fn window(&self) -> u32 {
        self.window
    }

    /// Counts `n` received bytes. Returns `Some(sequence_number)` when at least a window's worth
    /// of bytes has arrived since the last Acknowledgement; the caller should send one with that
    /// sequence number. One call returns at most one Acknowledgement, however many windows
    /// `n` spans (its sequence number covers them all).
    pub fn on_received(&mut self, n: u64) -> Option<u32> {
        self.received = self.received.saturating_add(n);
        if self.window == 0 || self.received - self.acked < u64::from(self.window) {
            return None;
        }
        self.acked = self.received;
        Some(self.sequence_number())
    }

    /// Bytes received so far, modulo 2^32: the sequence number an Acknowledgement would carry.
    pub fn sequence_number(&self) -> u32 {
        self.received as u32
    }

    /// Bytes received so far (not wrapped).
    pub fn total_received(&self) -> u64 {
        self.received
    }

    /// Bytes received since the last Acknowledgement.
    pub fn unacknowledged(&self) -> u64 {
        self.received - self.acked
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_ack_without_window() {
        let mut w = AckWindow::new();
        assert_eq!(w.on_received(10_000_000), None);
        assert_eq!(w.total_received(), 10_000_000);
    }

    #[test]
    fn ack_when_window_filled() {
        let mut w = AckWindow::new();
        w.set_window(2_500_000); // seed 001: SRS's window
        assert_eq!(w.on_received(2_499_999), None);
        assert_eq!(w.on_received(1), Some(2_500_000));
        assert_eq!(w.unacknowledged(), 0);
        assert_eq!(w.on_received(2_499_999), None);
        assert_eq!(w.on_received(7), Some(5_000_006));
        // A burst spanning several windows yields one acknowledgement covering all of it.
        assert_eq!(w.on_received(10_000_000), Some(15_000_006));
        assert_eq!(w.on_received(1), None);
    }

    #[test]
    fn sequence_number_wraps() {
        let mut w = AckWindow::new();
        w.set_window(5_000_000);
        assert_eq!(w.on_received(u64::from(u32::MAX)), Some(u32::MAX));
        assert_eq!(w.on_received(5_000_001), Some(5_000_000));
        assert_eq!(w.total_received(), (1u64 << 32) + 5_000_000);
    }

    #[test]
    fn window_change_keeps_count() {
        let mut w = AckWindow::new();
        w.set_window(1000);
        assert_eq!(w.on_received(600), None);
        w.set_window(500);
        assert_eq!(w.on_received(0), Some(600));
        w.set_window(0);
        assert_eq!(w.on_received(10_000), None);
        assert_eq!(w.window(), 0);
    }
}
