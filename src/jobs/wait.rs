//! Waiting for jobs to end, woken by `notify` on their folders.

use std::time::Duration;

use tokio::time::{Instant, sleep_until};

use super::error::Result;
use super::id::JobId;
use super::meta::JobMeta;
use super::store::JobStore;
use crate::watch;

/// Even with no file event, look again this often: a supervisor killed with SIGKILL
/// writes nothing, and only a fresh look notices it is gone.
const LIVENESS_RECHECK: Duration = Duration::from_secs(1);

/// Returns the first of `ids` to be finished (checked at once, so a job that ended
/// before the call counts), or `None` when `timeout` passes first.
pub async fn first_finished(store: &JobStore, ids: &[JobId], timeout: Duration) -> Result<Option<(JobId, JobMeta)>> {
    let deadline = Instant::now() + timeout;
    // Watch before looking, so a change between the look and the watch is not missed.
    let dirs: Vec<_> = ids.iter().map(|id| store.job_dir(id)).collect();
    let watched = watch::watch_many(store.jobs_dir(), &dirs);
    if let Err(err) = &watched {
        tracing::warn!(%err, "cannot watch job folders; looking every second instead");
    }
    let (_watcher, mut events) = match watched {
        Ok((watcher, events)) => (Some(watcher), Some(events)),
        Err(_) => (None, None),
    };
    loop {
        for id in ids {
            let meta = store.read_meta(id)?;
            if meta.status.is_finished() {
                return Ok(Some((id.clone(), meta)));
            }
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(None);
        }
        let wake = deadline.min(now + LIVENESS_RECHECK);
        tokio::select! {
            _ = async { events.as_mut()?.recv().await }, if events.is_some() => {}
            _ = sleep_until(wake) => {}
        }
        // Take the rest of a burst at once instead of re-reading per event.
        if let Some(events) = events.as_mut() {
            while events.try_recv().is_ok() {}
        }
    }
}
