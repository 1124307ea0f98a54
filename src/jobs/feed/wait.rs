//! Waiting for jobs to end, woken by the change feed.
//!
//! A wait reads its jobs' metas once, then sleeps until the feed reports a change to
//! one of their records (meta, owner, folder) — never because output was printed, and
//! never on a timer: an idle wait reads nothing. The one exception is a job whose
//! supervisor was lost while its agent runs on: no file changes when those processes
//! end, so such a job is looked at again every [`LOST_RECHECK`].
//!
//! A job is finished as [`JobStore::read_meta`](crate::jobs::JobStore::read_meta)
//! judges it: an ending written into the folder while the supervisor still runs the job
//! (holds its lock exclusively) is not one, and the wait sleeps on. The supervisor's own result is:
//! right after putting it in place the supervisor turns its hold shared and says so on
//! the feed (an owner change), so a wait returns with the result, not after the cleanup
//! that follows it.

use std::time::Duration;

use tokio::time::{Instant, sleep_until};

use super::{FeedEvent, JobFeed, Scope, Subscription};
use crate::jobs::error::Result;
use crate::jobs::record::id::JobId;
use crate::jobs::record::meta::JobMeta;

/// How often a job whose supervisor was lost is looked at while its agent runs on.
pub const LOST_RECHECK: Duration = Duration::from_secs(2);
/// Without a watcher (the kernel's limit reached), how often jobs are looked at.
const UNWATCHED_RECHECK: Duration = Duration::from_secs(1);

/// Returns the first of `ids` to be finished (checked at once, so a job that ended
/// before the call counts), or `None` when `timeout` passes first.
pub async fn first_finished(feed: &JobFeed, ids: &[JobId], timeout: Duration) -> Result<Option<(JobId, JobMeta)>> {
    let store = feed.store();
    let deadline = Instant::now() + timeout;
    // Subscribe before looking, so a change between the look and the watch is not missed.
    let mut events = match feed.subscribe(Scope::Jobs(ids)) {
        Ok(subscription) => Some(subscription),
        Err(err) => {
            tracing::warn!(%err, "cannot watch job folders; looking every second instead");
            None
        }
    };
    loop {
        let mut lost = false;
        for id in ids {
            let meta = store.read_meta(id)?;
            if meta.status.is_finished() {
                return Ok(Some((id.clone(), meta)));
            }
            lost |= meta.supervisor_lost;
        }
        let recheck = match (&events, lost) {
            (None, _) => Some(UNWATCHED_RECHECK),
            (Some(_), true) => Some(LOST_RECHECK),
            (Some(_), false) => None,
        };
        if !sleep_until_relevant(events.as_mut(), ids, deadline, recheck).await {
            return Ok(None);
        }
    }
}

/// Sleeps until a change that may end one of `ids`, a recheck, or the deadline;
/// returns `false` at the deadline.
async fn sleep_until_relevant(mut events: Option<&mut Subscription>, ids: &[JobId], deadline: Instant, recheck: Option<Duration>) -> bool {
    let wake = recheck.map(|every| (Instant::now() + every).min(deadline));
    loop {
        let relevant = tokio::select! {
            event = async { events.as_mut()?.recv().await.into() }, if events.is_some() => match event {
                Some(FeedEvent::Job(id, changes)) => changes.record() && ids.contains(&id),
                Some(FeedEvent::Rescan) | None => true,
            },
            () = sleep_until(wake.unwrap_or(deadline)) => return Instant::now() < deadline,
        };
        if relevant {
            return true;
        }
    }
}

/// Waits until nobody holds the job's lock — its supervisor has exited, its cleanup
/// done — or `timeout` passes; returns whether it was let go.
pub async fn owner_released(feed: &JobFeed, id: &JobId, timeout: Duration) -> bool {
    use crate::jobs::process::owner::{OwnerLock, Probe};
    let deadline = Instant::now() + timeout;
    let folder = feed.store().job_dir(id);
    let mut events = feed.subscribe(Scope::Jobs(std::slice::from_ref(id))).ok();
    loop {
        if !matches!(OwnerLock::probe(&folder), Ok(Probe::Held)) {
            return true;
        }
        let recheck = if events.is_some() { None } else { Some(UNWATCHED_RECHECK) };
        let wake = recheck.map(|every| (Instant::now() + every).min(deadline));
        loop {
            let relevant = tokio::select! {
                event = async { events.as_mut()?.recv().await.into() }, if events.is_some() => match event {
                    Some(FeedEvent::Job(job, changes)) => job == *id && (changes.owner || changes.folder),
                    Some(FeedEvent::Rescan) | None => true,
                },
                () = sleep_until(wake.unwrap_or(deadline)) => {
                    if Instant::now() >= deadline {
                        return false;
                    }
                    true
                }
            };
            if relevant {
                break;
            }
        }
    }
}
