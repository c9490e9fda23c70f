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

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;
    use crate::hub::{Delivery, HubConfig, PublishOptions};

    async fn until(what: &str, f: impl Fn() -> bool) {
        for _ in 0..500 {
            if f() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("never: {what}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_task_per_publish_session_of_selected_streams() {
        let hub = Hub::new(HubConfig::default());
        let early = hub
            .publish(StreamKey::new("live", "early"), PublishOptions::default())
            .unwrap();
        let (stop, rx) = watch::channel(false);
        let started = Arc::new(AtomicUsize::new(0));
        let (task_hub, task_stop, count) = (hub.clone(), rx.clone(), started.clone());
        let runner = run_per_stream(
            hub.clone(),
            rx,
            "test",
            Box::new(move |key| {
                if key.app != "live" {
                    return None;
                }
                count.fetch_add(1, Ordering::SeqCst);
                let mut sub = task_hub.subscribe(key.clone());
                let mut stop = task_stop.clone();
                Some(Box::pin(async move {
                    loop {
                        tokio::select! {
                            d = sub.next() => if matches!(d, Delivery::PublisherLeft | Delivery::NotFound) {
                                break;
                            },
                            () = shutdown_signal(&mut stop) => break,
                        }
                    }
                }))
            }),
        );
        // A stream published before the runner started is found by the first scan.
        until("early stream started", || {
            started.load(Ordering::SeqCst) == 1
        })
        .await;
        let key = StreamKey::new("live", "a");
        let p = hub.publish(key.clone(), PublishOptions::default()).unwrap();
        let _other = hub
            .publish(StreamKey::new("other", "b"), PublishOptions::default())
            .unwrap();
        until("live/a started", || started.load(Ordering::SeqCst) == 2).await;
        until("its subscription", || {
            hub.stream_stats(&key).is_some_and(|s| s.subscribers == 1)
        })
        .await;
        // The session ends: so does the task, releasing the stream; a new session, a new task.
        drop(p);
        until("task ended", || hub.stream_stats(&key).is_none()).await;
        let _p = hub.publish(key.clone(), PublishOptions::default()).unwrap();
        until("live/a restarted", || started.load(Ordering::SeqCst) == 3).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(started.load(Ordering::SeqCst), 3, "one task per session");
        stop.send(true).unwrap();
        tokio::time::timeout(Duration::from_secs(5), runner)
            .await
            .expect("runner stops after its tasks")
            .unwrap();
        drop(early);
    }
}
