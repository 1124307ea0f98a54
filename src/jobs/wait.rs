//! Waiting for jobs to end, woken by `notify` on their folders.
//!
//! All waits of one engine share a single watcher: each wait adds (reference-counted)
//! watches on the folders of the jobs it waits for and hears every event through a
//! broadcast channel. A thousand concurrent waits cost one inotify instance, not a
//! thousand (Linux allows 128 per user by default).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::broadcast;
use tokio::time::{Instant, sleep_until};

use super::error::Result;
use super::id::JobId;
use super::meta::JobMeta;
use super::store::JobStore;
use crate::watch::{self, JobEvent};

/// Even with no file event, look again this often: a supervisor killed with SIGKILL
/// writes nothing, and only a fresh look notices it is gone.
const LIVENESS_RECHECK: Duration = Duration::from_secs(1);

/// One watcher shared by every wait of an engine.
#[derive(Clone, Default)]
pub struct WaitHub {
    inner: Arc<Mutex<Option<HubInner>>>,
}

struct HubInner {
    watcher: RecommendedWatcher,
    watched: HashMap<PathBuf, usize>,
    events: broadcast::Sender<JobEvent>,
}

impl std::fmt::Debug for WaitHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WaitHub")
    }
}

/// Events for some job folders until dropped.
struct Subscription {
    hub: WaitHub,
    dirs: Vec<PathBuf>,
    events: broadcast::Receiver<JobEvent>,
}

impl WaitHub {
    fn subscribe(&self, store: &JobStore, dirs: Vec<PathBuf>) -> notify::Result<Subscription> {
        let mut guard = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let inner = match guard.as_mut() {
            Some(inner) => inner,
            None => guard.insert(HubInner::new(store)?),
        };
        let receiver = inner.events.subscribe();
        let mut added = Vec::new();
        for dir in &dirs {
            if !inner.watched.contains_key(dir)
                && let Err(err) = inner.watcher.watch(dir, RecursiveMode::NonRecursive)
            {
                drop(guard);
                self.release(&added);
                return Err(err);
            }
            *inner.watched.entry(dir.clone()).or_default() += 1;
            added.push(dir.clone());
        }
        Ok(Subscription { hub: self.clone(), dirs, events: receiver })
    }

    fn release(&self, dirs: &[PathBuf]) {
        let mut guard = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(inner) = guard.as_mut() else { return };
        for dir in dirs {
            if let Some(count) = inner.watched.get_mut(dir) {
                *count -= 1;
                if *count == 0 {
                    inner.watched.remove(dir);
                    let _ = inner.watcher.unwatch(dir);
                }
            }
        }
    }
}

impl HubInner {
    fn new(store: &JobStore) -> notify::Result<Self> {
        let (events, _) = broadcast::channel(4096);
        let sender = events.clone();
        let root = store.jobs_dir().to_owned();
        let watcher = notify::recommended_watcher(move |event| {
            for job_event in watch::classify(&root, event) {
                let _ = sender.send(job_event);
            }
        })?;
        Ok(HubInner { watcher, watched: HashMap::new(), events })
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.hub.release(&self.dirs);
    }
}

/// Returns the first of `ids` to be finished (checked at once, so a job that ended
/// before the call counts), or `None` when `timeout` passes first.
pub async fn first_finished(store: &JobStore, hub: &WaitHub, ids: &[JobId], timeout: Duration) -> Result<Option<(JobId, JobMeta)>> {
    let deadline = Instant::now() + timeout;
    // Watch before looking, so a change between the look and the watch is not missed.
    let mut events = match hub.subscribe(store, ids.iter().map(|id| store.job_dir(id)).collect()) {
        Ok(subscription) => Some(subscription),
        Err(err) => {
            tracing::warn!(%err, "cannot watch job folders; looking every second instead");
            None
        }
    };
    loop {
        for id in ids {
            let meta = store.read_meta(id)?;
            if meta.status.is_finished() {
                return Ok(Some((id.clone(), meta)));
            }
        }
        // Sleep until an event about one of these jobs, a recheck, or the deadline.
        loop {
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            let wake = deadline.min(now + LIVENESS_RECHECK);
            let relevant = tokio::select! {
                event = async { events.as_mut()?.events.recv().await.ok() }, if events.is_some() => match event {
                    Some(JobEvent::Changed(id)) => ids.contains(&id),
                    // A rescan, or events were dropped (lagged): look again.
                    _ => true,
                },
                _ = sleep_until(wake) => true,
            };
            if relevant {
                break;
            }
        }
    }
}
