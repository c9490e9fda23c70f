//! The publisher's handle on a stream.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::Notify;
use tokio::time::Instant;

use super::frame::Frame;
use super::{HubShared, Stream, StreamKey};

/// Set when a session is replaced by a takeover.
#[derive(Debug, Default)]
pub(crate) struct SessionFlag {
    replaced: AtomicBool,
    notify: Notify,
}

impl SessionFlag {
    pub fn set_replaced(&self) {
        self.replaced.store(true, Ordering::Release);
        self.notify.notify_waiters();
    }

    fn is_replaced(&self) -> bool {
        self.replaced.load(Ordering::Acquire)
    }
}

/// Why a push was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PushError {
    /// Another publisher took the stream over; this one should close its connection.
    #[error("stream {key}: this publisher was replaced by another one")]
    Replaced { key: StreamKey },
}

/// A publisher's claim on a stream, from [`Hub::publish`](super::Hub::publish). Frames go in
/// with [`push`](Publisher::push); dropping it unpublishes the stream (players get
/// [`Delivery::PublisherLeft`](super::Delivery::PublisherLeft)).
#[derive(Debug)]
pub struct Publisher {
    pub(crate) hub: Arc<HubShared>,
    pub(crate) stream: Arc<Stream>,
    pub(crate) session: u64,
    pub(crate) flag: Arc<SessionFlag>,
}

impl Publisher {
    pub fn key(&self) -> &StreamKey {
        &self.stream.key
    }

    /// This publisher session's id (unique in the hub, for logs).
    pub fn session_id(&self) -> u64 {
        self.session
    }

    /// Publishes one frame: classifies it, gives it the stream's timestamp (see the
    /// [timeline rule](super::timeline)), appends it to the stream's ring and, when the
    /// release policy lets it go now, wakes the players. O(1), whatever the number of players.
    ///
    /// A frame may be held back for a few milliseconds so that players write it together
    /// with the next one (`player_queue.merged_write_ms`); the connection then calls
    /// [`release`](Self::release) at [`release_due`](Self::release_due) if no frame
    /// released it first.
    pub fn push(&mut self, mut frame: Frame) -> Result<(), PushError> {
        frame.classify();
        let released = {
            let mut st = self.stream.state.write();
            if st.session_id() != Some(self.session) {
                return Err(PushError::Replaced {
                    key: self.stream.key.clone(),
                });
            }
            let ts = st.timeline.map(frame.kind(), frame.timestamp());
            frame.stamp(
                ts,
                self.session,
                self.hub.config.chunk_size,
                self.stream.serializations.clone(),
            );
            if self.hub.config.player_queue.send_file
                && self.stream.file_readers.load(Ordering::Relaxed) > 0
            {
                frame.write_to(&mut st.frame_file);
            } else {
                // Nobody sends from the file: let its last segment go with its last frame.
                st.frame_file.pause();
            }
            st.push_frame(Arc::new(frame), &self.hub.config, Instant::now())
        };
        if released {
            self.stream.wake();
        }
        Ok(())
    }

    /// When the frames held back must go out, if any are held.
    pub fn release_due(&self) -> Option<Instant> {
        let st = self.stream.state.read();
        if st.session_id() != Some(self.session) {
            return None;
        }
        st.release_due(&self.hub.config)
    }

    /// Hands every frame held back to the players now.
    pub fn release(&self) {
        let released = {
            let mut st = self.stream.state.write();
            st.session_id() == Some(self.session) && st.release()
        };
        if released {
            self.stream.wake();
        }
    }

    /// Whether another publisher took the stream over.
    pub fn is_replaced(&self) -> bool {
        self.flag.is_replaced()
    }

    /// Resolves when another publisher takes the stream over (never, without takeover).
    /// Cancel-safe: use it in a `select!` beside the connection's reads.
    pub async fn replaced(&self) {
        loop {
            let notified = self.flag.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.flag.is_replaced() {
                return;
            }
            notified.await;
        }
    }

    /// Players currently subscribed to the stream.
    pub fn subscribers(&self) -> usize {
        self.stream.state.read().subscribers
    }
}

impl Drop for Publisher {
    fn drop(&mut self) {
        self.hub.unpublish(&self.stream, self.session);
    }
}
