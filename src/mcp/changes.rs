//! Which resources changed, from the `notify` watcher on the jobs directory.
//!
//! Jobs written by any process count: a CLI `start`, another server, the dashboard.
//! Raw events come in bursts (an output line is a write, a meta rewrite is a
//! create and a rename), so they are collected for a moment and each job is looked
//! at once; a resource is reported only when what a reader would see changed.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use tokio::sync::mpsc::UnboundedReceiver;

use super::resources::{Part, uri};
use crate::jobs::store::FolderIdentity;
use crate::jobs::{JobId, JobStore};
use crate::watch::{self, JobEvent, JobsWatcher};

/// How long to gather a burst of file events before looking.
const SETTLE: Duration = Duration::from_millis(50);
/// How often to check that the watched jobs folder is still the one on disk: a folder
/// deleted and made again takes its watch with it, and only a look notices.
const REWATCH_CHECK: Duration = Duration::from_secs(2);

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// A job appeared or went away.
    ListChanged,
    /// This resource's content changed.
    Updated(String),
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Fingerprint {
    output_len: u64,
    meta: Option<String>,
}

pub struct ChangeFeed {
    store: JobStore,
    _watcher: JobsWatcher,
    events: UnboundedReceiver<JobEvent>,
    /// Which jobs folder is watched (device, inode, birth time), `None` once it is gone.
    watched: Option<FolderIdentity>,
    known: HashSet<JobId>,
    seen: HashMap<JobId, Fingerprint>,
}

impl ChangeFeed {
    /// Starts watching before looking at the folder, so no job slips in between.
    pub fn new(store: JobStore) -> anyhow::Result<Self> {
        JobStore::ensure_dir(store.jobs_dir())?;
        let watched = store.jobs_dir_identity();
        let (watcher, events) = watch::watch_jobs(store.jobs_dir())?;
        let known = job_ids(&store);
        Ok(ChangeFeed { store, _watcher: watcher, events, watched, known, seen: HashMap::new() })
    }

    /// Watches the jobs folder again if it was replaced; says whether it was.
    fn rewatch_if_replaced(&mut self) -> bool {
        let now = self.store.jobs_dir_identity();
        if now == self.watched {
            return false;
        }
        if now.is_some() {
            match watch::watch_jobs(self.store.jobs_dir()) {
                Ok((watcher, events)) => (self._watcher, self.events) = (watcher, events),
                Err(err) => {
                    tracing::warn!(%err, "cannot watch the recreated jobs folder yet");
                    return false;
                }
            }
        }
        tracing::info!(recreated = now.is_some(), "the jobs folder was replaced");
        self.watched = now;
        true
    }

    /// Waits for the next batch of changes; `None` once the watcher is gone.
    pub async fn next(&mut self) -> Option<Vec<Change>> {
        loop {
            let first = tokio::select! {
                event = self.events.recv() => event?,
                () = tokio::time::sleep(REWATCH_CHECK) => {
                    if !self.rewatch_if_replaced() {
                        continue;
                    }
                    JobEvent::Rescan
                }
            };
            tokio::time::sleep(SETTLE).await;
            let mut rescan = false;
            let mut jobs: Vec<JobId> = Vec::new();
            for event in std::iter::once(first).chain(std::iter::from_fn(|| self.events.try_recv().ok())) {
                match event {
                    JobEvent::Rescan => {
                        rescan = true;
                        // The folder itself went: its watch went with it.
                        if !self.store.jobs_dir().is_dir() {
                            self.watched = None;
                        }
                    }
                    JobEvent::Changed(id) if !jobs.contains(&id) => jobs.push(id),
                    JobEvent::Changed(_) => {}
                }
            }
            let changes = self.look(rescan, jobs);
            if !changes.is_empty() {
                return Some(changes);
            }
        }
    }

    fn look(&mut self, rescan: bool, mut jobs: Vec<JobId>) -> Vec<Change> {
        let mut changes = Vec::new();
        if rescan {
            let now = job_ids(&self.store);
            if now != self.known {
                changes.push(Change::ListChanged);
            }
            self.seen.retain(|id, _| now.contains(id));
            jobs.extend(self.seen.keys().filter(|id| !jobs.contains(id)).cloned().collect::<Vec<_>>());
            self.known = now;
        }
        for id in jobs {
            let exists = self.store.job_dir(&id).is_dir();
            let listed = if exists { self.known.insert(id.clone()) } else { self.known.remove(&id) };
            if listed && !changes.contains(&Change::ListChanged) {
                changes.push(Change::ListChanged);
            }
            if !exists {
                self.seen.remove(&id);
                continue;
            }
            let now = self.fingerprint(&id);
            let before = self.seen.insert(id.clone(), now.clone());
            let before = before.unwrap_or_default();
            if before.output_len != now.output_len || before.meta.is_none() {
                changes.push(Change::Updated(uri(id.as_str(), Part::Output)));
            }
            if before.meta != now.meta {
                changes.push(Change::Updated(uri(id.as_str(), Part::Meta)));
            }
        }
        changes
    }

    fn fingerprint(&self, id: &JobId) -> Fingerprint {
        let output_len = self.store.output_len(id);
        let meta = self.store.read_meta(id).ok().and_then(|meta| serde_json::to_string(&meta).ok());
        Fingerprint { output_len, meta }
    }
}

fn job_ids(store: &JobStore) -> HashSet<JobId> {
    store.job_folders().map(|folders| folders.into_iter().map(|(id, _)| id).collect()).unwrap_or_default()
}
