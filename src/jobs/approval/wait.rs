//! Waiting for an answer, and waiting for a job to end *or* ask: both woken by the
//! change feed (an answer or a request is a record change of its job), never by a
//! timer while something is watched.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::time::{Instant, sleep_until};

use super::types::ApprovalAnswer;
use crate::jobs::error::Result;
use crate::jobs::feed::wait::LOST_RECHECK;
use crate::jobs::feed::{FeedEvent, JobFeed, Scope, Subscription};
use crate::jobs::record::id::JobId;
use crate::jobs::record::meta::JobMeta;

/// Without a watcher (the kernel's limit reached), how often the files are looked at.
const UNWATCHED_RECHECK: Duration = Duration::from_secs(1);

/// The answer to request `number` of job `id`, or `None` once `deadline` passes
/// unanswered.
pub async fn answer(feed: &JobFeed, id: &JobId, number: u32, deadline: DateTime<Utc>) -> Result<Option<ApprovalAnswer>> {
    let ids = std::slice::from_ref(id);
    // Subscribe before looking, so an answer between the look and the watch is not missed.
    let mut events = feed.subscribe(Scope::Jobs(ids)).ok();
    loop {
        if let Some(answer) = super::files::read_answer(&feed.store().job_dir(id), number) {
            return Ok(Some(answer));
        }
        let left = (deadline - Utc::now()).to_std().unwrap_or(Duration::ZERO);
        if left.is_zero() {
            return Ok(None);
        }
        let recheck = events.is_none().then_some(UNWATCHED_RECHECK);
        sleep_until_change(events.as_mut(), ids, Instant::now() + left, recheck).await;
    }
}

/// The first of `ids` that is finished or waits for an approval (one that already does
/// counts), with its record as readers see it; `None` when `timeout` passes first.
pub async fn first_ended_or_asking(feed: &JobFeed, ids: &[JobId], timeout: Duration) -> Result<Option<(JobId, JobMeta)>> {
    let store = feed.store();
    let deadline = Instant::now() + timeout;
    let mut events = feed.subscribe(Scope::Jobs(ids)).ok();
    loop {
        let mut lost = false;
        for id in ids {
            let meta = store.read_meta(id)?;
            if meta.status.is_finished() || meta.details.approval.is_some() {
                return Ok(Some((id.clone(), meta)));
            }
            lost |= meta.supervisor_lost;
        }
        let recheck = match (&events, lost) {
            (None, _) => Some(UNWATCHED_RECHECK),
            (Some(_), true) => Some(LOST_RECHECK),
            (Some(_), false) => None,
        };
        if !sleep_until_change(events.as_mut(), ids, deadline, recheck).await {
            return Ok(None);
        }
    }
}

/// Sleeps until a record change of one of `ids`, a recheck, or the deadline; `false` at
/// the deadline.
async fn sleep_until_change(mut events: Option<&mut Subscription>, ids: &[JobId], deadline: Instant, recheck: Option<Duration>) -> bool {
    let wake = recheck.map(|every| (Instant::now() + every).min(deadline));
    loop {
        let relevant = tokio::select! {
            event = async { Some(events.as_mut()?.recv().await) }, if events.is_some() => match event {
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
