//! A job that waits for its moment (`--after`, `--delay`, `--at`), in its own supervisor.
//!
//! The supervisor made the job `pending` and holds its lock; it has answered its starter.
//! Now it sleeps — on the change feed (without the fallback tick: no wake-up while nothing
//! happens) for the jobs it follows, on one timer for its time — and wakes only when one of
//! those jobs' records changes, the time comes, or it is asked to stop. A job it follows
//! that ends other than `done` ends this one `cancelled` ("dependency failed"), its agent
//! never started. When everything is met it takes its turn in the queue like any job.

use std::time::Duration;

use chrono::Utc;
use tokio::time::{Instant, sleep_until};

use super::run::Signals;
use crate::jobs::feed::{JobFeed, wait};
use crate::jobs::hooks::{self, HookEvent};
use crate::jobs::process::owner::OwnerLock;
use crate::jobs::schedule::{failed_dependency, hold};
use crate::jobs::start::queue;
use crate::jobs::store::kept::KeptMeta;
use crate::jobs::{JobId, JobMeta, JobStore, Result, StartRequest, Status, Timestamp};

/// How the wait ended.
pub enum Turn {
    /// Its moment came and a slot was free: the job is `running`, the agent is to start.
    Run(OwnerLock),
    /// Its moment came and it is queued (the queue starts it), or it ended while it
    /// waited: either way this supervisor has nothing more to do.
    Over(Result<()>),
}

/// Longer than any wait; the feed wakes the wait long before.
const FAR: Duration = Duration::from_secs(400 * 24 * 3600);

/// Waits for the job's moment, then takes its turn.
pub async fn until_turn(
    store: &JobStore,
    id: &JobId,
    owner: OwnerLock,
    record: &KeptMeta,
    start: &StartRequest,
    signals: &mut Signals,
) -> Turn {
    let feed = JobFeed::with_fallback(store.clone(), None);
    let mut remaining: Vec<JobId> = start.schedule.after.iter().filter_map(|raw| JobId::parse(raw).ok()).collect();
    let not_before = start.schedule.not_before;
    loop {
        // What has ended of what it follows (a job that ended before it was looked at counts).
        let mut still = Vec::with_capacity(remaining.len());
        for dependency in remaining {
            let meta = match store.read_meta(&dependency) {
                Ok(meta) => meta,
                // A job it follows that was deleted, or became unreadable, did not end `done`.
                Err(err) => {
                    return end(store, id, owner, record, "dependency failed", format!("dependency failed: job {dependency}: {err}"));
                }
            };
            match meta.status.is_finished() {
                true => {
                    if let Some(note) = failed_dependency(&dependency, meta.status) {
                        return end(store, id, owner, record, "dependency failed", note);
                    }
                }
                false => still.push(dependency),
            }
        }
        remaining = still;
        let now = Utc::now();
        let names: Vec<String> = remaining.iter().map(ToString::to_string).collect();
        let held = hold::active(store, start.agent.name());
        let reason = match (start.schedule.reason(&names, now), held) {
            (Some(reason), Some(until)) => Some(format!("{reason}; {}", hold::reason(start.agent.name(), until))),
            (None, Some(until)) => Some(hold::reason(start.agent.name(), until)),
            (reason, None) => reason,
        };
        if reason.is_none() {
            break;
        }
        if record.read(|meta| meta.details.waiting != reason) {
            let _ = record.update(|meta| meta.details.waiting = reason.clone());
        }
        // The timer runs on the monotonic clock; the wall clock is asked again on waking.
        let next_time = [not_before, held].into_iter().flatten().filter(|at| at.0 > now).min();
        let time_left = next_time.and_then(|at| (at.0 - now).to_std().ok());
        let wake_at = time_left.map(|left| Instant::now() + left);
        tokio::select! {
            finished = wait::first_finished(&feed, &remaining, FAR), if !remaining.is_empty() => {
                if let Err(err) = finished {
                    tracing::warn!(job = %id, %err, "could not wait for the jobs it follows");
                    return end(store, id, owner, record, "dependency failed", format!("dependency failed: could not watch them: {err}"));
                }
            }
            () = sleep_until(wake_at.unwrap_or_else(Instant::now)), if wake_at.is_some() => {}
            note = signals.stop() => return end(store, id, owner, record, "requested", format!("{note} before it started")),
        }
    }
    // Its moment: no reason left to show; then a slot, or a place in the queue.
    let _ = record.update(|meta| meta.details.waiting = None);
    let queued = record.snapshot();
    let run = || {
        record.update(|meta| {
            meta.status = Status::Running;
            meta.started_at = Some(Timestamp::now());
        })
    };
    match queue::take_turn(store, id, &queued, owner, run) {
        Ok(Some(owner)) => Turn::Run(owner),
        Ok(None) => {
            tracing::info!(job = %id, "its moment came; queued for a slot");
            Turn::Over(Ok(()))
        }
        Err(err) => Turn::Over(Err(err)),
    }
}

/// Ends the waiting job `cancelled` (its agent never ran), fires its finish hook.
fn end(store: &JobStore, id: &JobId, owner: OwnerLock, record: &KeptMeta, reason: &str, note: String) -> Turn {
    tracing::info!(job = %id, reason, %note, "the job ends before it started");
    let change = |meta: &mut JobMeta| {
        meta.status = Status::Cancelled;
        meta.finished_at = Some(Timestamp::now());
        meta.details.cancel_reason = Some(reason.to_owned());
        meta.details.note = Some(note.clone());
        meta.details.waiting = None;
        hooks::owed::owe(store, meta, HookEvent::OnFinish);
    };
    let written = record.finish(change, || {
        let _ = owner.keep_shared();
    });
    if written.is_ok() {
        hooks::owed::pay_kept(store, id, record);
    }
    drop(owner);
    Turn::Over(written)
}
