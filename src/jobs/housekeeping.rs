//! What a long-lived process (a server, the dashboard) does for the home besides its own
//! work, in the background: it removes old finished jobs once at start (the config's
//! `retention`), and keeps the queue moving while a queue is in use.

use std::path::{Path, PathBuf};

use tokio_util::sync::CancellationToken;

use super::feed::{FeedEvent, JobFeed, Scope};
use super::start::queue::{self, Queue};
use super::store::JobStore;
use super::store::gc::{self, GcRule};

/// The chores of a long-lived process.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Housekeeping {
    /// Finished jobs removed once at start.
    pub retention: Option<GcRule>,
    /// A limit on running jobs is set: the queue is kept moving even if this home never
    /// used one yet.
    pub queue_limited: bool,
}

/// Starts the chores in the background; the queue's keeper stops with `shutdown`.
pub fn start(store: &JobStore, feed: &JobFeed, launcher: &Path, chores: Housekeeping, shutdown: &CancellationToken) {
    if let Some(rule) = chores.retention {
        let store = store.clone();
        tokio::task::spawn_blocking(move || match gc::collect(&store, rule, false) {
            Ok(report) if !report.removed.is_empty() => {
                tracing::info!(removed = report.removed.len(), bytes = report.bytes_freed, "retention removed finished jobs")
            }
            Ok(_) => {}
            Err(err) => tracing::warn!(%err, "retention"),
        });
    }
    if chores.queue_limited || Queue::of(store).in_use() {
        tokio::spawn(keep_moving(feed.clone(), launcher.to_owned(), shutdown.child_token()));
    }
}

/// Keeps the queue moving from a long-lived process (a server, the dashboard): first the
/// index is reconciled with the jobs folder, then whenever a job's record or owner
/// changes — a job ended, a supervisor died — pending jobs are started while their
/// limits allow. Supervisors move the queue on when their job ends; this covers the
/// ones that die without a word. Idle, it costs nothing.
async fn keep_moving(feed: JobFeed, launcher: PathBuf, stop: CancellationToken) {
    let mut events = match feed.subscribe(Scope::All) {
        Ok(events) => events,
        Err(err) => {
            tracing::warn!(%err, "cannot watch the jobs folder: the queue moves only when jobs end or a CLI call looks");
            return;
        }
    };
    let mut first = true;
    loop {
        if !first {
            let relevant = tokio::select! {
                () = stop.cancelled() => return,
                event = events.recv() => match event {
                    FeedEvent::Job(_, changes) => changes.owner || changes.meta,
                    FeedEvent::Rescan => true,
                },
            };
            if !relevant {
                continue;
            }
            // Take in the rest of the burst: one look for all of it.
            while events.try_recv().is_some() {}
        }
        let reconciling = std::mem::take(&mut first);
        let (store, launcher) = (feed.store().clone(), launcher.clone());
        let moved = tokio::task::spawn_blocking(move || {
            if reconciling && let Err(err) = queue::reconcile(&store) {
                tracing::warn!(%err, "could not reconcile the queue's index with the jobs folder");
            }
            queue::advance(&launcher, &store)
        });
        match moved.await {
            Ok(Ok(started)) if !started.is_empty() => tracing::info!(?started, "started pending jobs"),
            Ok(Err(err)) => tracing::warn!(%err, "could not move the queue on"),
            _ => {}
        }
    }
}
