//! Running one task per published stream (an HLS segmenter, a recorder, an RTP sender), started
//! by the hub's [`StreamEvent`]s.

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

use crate::hub::{Hub, StreamEvent, StreamKey};

/// A stream's output task.
pub(crate) type OutputTask = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// Builds the task for a stream, or `None` when this output does not apply to it.
pub(crate) type StartTask = Box<dyn Fn(&StreamKey) -> Option<OutputTask> + Send + Sync>;

/// Resolves when `shutdown` turns true (or its sender is gone).
pub(crate) async fn shutdown_signal(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// Whether `shutdown` is true now.
pub(crate) fn is_shutdown(shutdown: &watch::Receiver<bool>) -> bool {
    *shutdown.borrow()
}

struct Runner {
    hub: Hub,
    what: &'static str,
    start: StartTask,
    running: Mutex<HashSet<StreamKey>>,
    shutdown: watch::Receiver<bool>,
}

impl Runner {
    /// Builds the task for `key` unless one runs; marks it running.
    fn claim(&self, key: &StreamKey) -> Option<OutputTask> {
        let mut running = self.running.lock();
        if running.contains(key) || is_shutdown(&self.shutdown) {
            return None;
        }
        let task = (self.start)(key)?;
        running.insert(key.clone());
        Some(task)
    }

    fn publishing(&self, key: &StreamKey) -> bool {
        self.hub.stream_stats(key).is_some_and(|s| s.publishing)
    }
}

/// Runs `start`'s task for every stream that is or becomes published, at most one per stream.
/// A task ends when it wants (normally when the publisher left); if the stream is published
/// again by then, it is started anew. The returned handle resolves after shutdown, once every
/// task has finished.
pub(crate) fn run_per_stream(
    hub: Hub,
    shutdown: watch::Receiver<bool>,
    what: &'static str,
    start: StartTask,
) -> JoinHandle<()> {
    let mut events = hub.events();
    let runner = Arc::new(Runner {
        hub,
        what,
        start,
        running: Mutex::new(HashSet::new()),
        shutdown: shutdown.clone(),
    });
    let mut stop = shutdown;
    tokio::spawn(async move {
        let mut tasks = JoinSet::new();
        let spawn = |tasks: &mut JoinSet<()>, key: StreamKey| {
            if let Some(task) = runner.claim(&key) {
                tracing::debug!(stream = %key, output = runner.what, "output starts");
                tasks.spawn(supervise(runner.clone(), key, task));
            }
        };
        let rescan = |tasks: &mut JoinSet<()>| {
            for key in runner.hub.streams() {
                if runner.publishing(&key) {
                    spawn(tasks, key);
                }
            }
        };
        rescan(&mut tasks);
        loop {
            tokio::select! {
                () = shutdown_signal(&mut stop) => break,
                event = events.recv() => match event {
                    Ok(StreamEvent::Published(key)) => spawn(&mut tasks, key),
                    Ok(StreamEvent::Unpublished(_)) => {}
                    Err(RecvError::Lagged(n)) => {
                        tracing::warn!(output = runner.what, missed = n, "stream events lagged; rescanning streams");
                        rescan(&mut tasks);
                    }
                    Err(RecvError::Closed) => break,
                },
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            }
        }
        while tasks.join_next().await.is_some() {}
    })
}

/// Runs a stream's task; when it ends, starts it again if the stream is published (a publisher
/// came while it was finishing), else releases the stream.
async fn supervise(runner: Arc<Runner>, key: StreamKey, mut task: OutputTask) {
    loop {
        task.await;
        let mut running = runner.running.lock();
        // The hub sends `Published` after the stream is marked published, and the event loop
        // claims under this lock: either we see the publisher here, or the loop sees the
        // stream released.
        if runner.publishing(&key)
            && !is_shutdown(&runner.shutdown)
            && let Some(next) = (runner.start)(&key)
        {
            drop(running);
            tracing::debug!(stream = %key, output = runner.what, "output restarts");
            task = next;
            continue;
        }
        running.remove(&key);
        return;
    }
}
