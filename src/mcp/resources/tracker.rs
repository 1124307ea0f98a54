//! Which resources changed, from the engine's change feed (step 2 of a change's way
//! to a client, see [`super`]).
//!
//! Jobs written by any process count: a CLI `start`, another server, the dashboard.
//! Events come in bursts (a flood of output), so they are collected for a moment and
//! each job is looked at once; a resource is reported only when what a reader would
//! see changed. Looking costs a `stat` per file; a meta is read only when its job's
//! owner may be gone, so that the reader settles it.

use std::collections::{HashMap, HashSet};
use std::os::unix::fs::MetadataExt;
use std::time::Duration;

use super::{Part, uri};
use crate::jobs::{FeedEvent, Subscription, WhatChanged};
use crate::jobs::{JobFeed, JobId, JobStore, Scope};

/// How long to gather a burst of events before looking.
const SETTLE: Duration = Duration::from_millis(50);

/// What a client following the resources hears of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResourceChange {
    /// A job appeared or went away.
    ListChanged,
    /// This resource's content changed.
    Updated(String),
}

/// What a reader of a job's two resources would see, by `stat`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Fingerprint {
    output_len: u64,
    /// Inode, size and modification time of meta.json (replaced whole on every write).
    meta: Option<(u64, u64, i64, i64)>,
}

pub struct ChangeTracker {
    store: JobStore,
    events: Subscription,
    known: HashSet<JobId>,
    seen: HashMap<JobId, Fingerprint>,
}

impl ChangeTracker {
    /// Subscribes before looking at the folder, so no job slips in between.
    pub fn new(feed: &JobFeed) -> crate::jobs::Result<Self> {
        let events = feed.subscribe(Scope::All)?;
        let store = feed.store().clone();
        let known = job_ids(&store);
        Ok(ChangeTracker { store, events, known, seen: HashMap::new() })
    }

    /// Waits for the next batch of changes.
    pub async fn next(&mut self) -> Vec<ResourceChange> {
        loop {
            let first = self.events.recv().await;
            tokio::time::sleep(SETTLE).await;
            let mut rescan = false;
            let mut jobs: Vec<(JobId, WhatChanged)> = Vec::new();
            for event in std::iter::once(first).chain(std::iter::from_fn(|| self.events.try_recv())) {
                match event {
                    FeedEvent::Rescan => rescan = true,
                    FeedEvent::Job(id, changes) => match jobs.iter_mut().find(|(known, _)| *known == id) {
                        Some((_, known)) => *known = known.merge(changes),
                        None => jobs.push((id, changes)),
                    },
                }
            }
            let changes = self.look(rescan, jobs);
            if !changes.is_empty() {
                return changes;
            }
        }
    }

    fn look(&mut self, rescan: bool, mut jobs: Vec<(JobId, WhatChanged)>) -> Vec<ResourceChange> {
        let mut changes = Vec::new();
        if rescan {
            let now = job_ids(&self.store);
            if now != self.known {
                changes.push(ResourceChange::ListChanged);
            }
            self.seen.retain(|id, _| now.contains(id));
            let everything = WhatChanged::META.merge(WhatChanged::OUTPUT);
            for id in self.seen.keys() {
                if !jobs.iter().any(|(known, _)| known == id) {
                    jobs.push((id.clone(), everything));
                }
            }
            self.known = now;
        }
        for (id, what) in jobs {
            let exists = self.store.job_dir(&id).is_dir();
            let listed = if exists { self.known.insert(id.clone()) } else { self.known.remove(&id) };
            if listed && !changes.contains(&ResourceChange::ListChanged) {
                changes.push(ResourceChange::ListChanged);
            }
            if !exists {
                self.seen.remove(&id);
                continue;
            }
            if what.owner {
                // Settles a job whose supervisor died; the settled meta comes back as news.
                let _ = self.store.read_meta(&id);
            }
            let now = self.fingerprint(&id);
            let before = self.seen.insert(id.clone(), now).unwrap_or_default();
            if before.output_len != now.output_len || before.meta.is_none() {
                changes.push(ResourceChange::Updated(uri(id.as_str(), Part::Output)));
            }
            if before.meta != now.meta {
                changes.push(ResourceChange::Updated(uri(id.as_str(), Part::Meta)));
            }
        }
        changes
    }

    fn fingerprint(&self, id: &JobId) -> Fingerprint {
        let output_len = self.store.output_len(id);
        let meta =
            std::fs::symlink_metadata(self.store.meta_path(id)).ok().map(|meta| (meta.ino(), meta.size(), meta.mtime(), meta.mtime_nsec()));
        Fingerprint { output_len, meta }
    }
}

fn job_ids(store: &JobStore) -> HashSet<JobId> {
    store.job_folders().map(|folders| folders.into_iter().map(|(id, _)| id).collect()).unwrap_or_default()
}
