//! Removing finished jobs: `codex-async gc`, and a server's or the dashboard's
//! retention at start. Running and pending jobs are never touched — a job whose
//! supervisor still holds it is running whatever its meta says, and each removal goes
//! through [`JobStore::delete`], which takes the job's lock first; corrupt folders are
//! left for a person to look at.

use std::time::{Duration, SystemTime};

use serde::Serialize;

use super::JobStore;
use crate::jobs::error::{JobError, Result};
use crate::jobs::record::id::JobId;

/// What to remove: finished jobs that ended longer ago than `older_than`, except the
/// newest `keep` finished ones. At least one of the two must be given.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct GcRule {
    pub older_than: Option<Duration>,
    pub keep: Option<usize>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Removed {
    pub job_id: String,
    pub bytes: u64,
}

/// What a collection removed (or, on a dry run, would remove).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GcReport {
    pub removed: Vec<Removed>,
    pub bytes_freed: u64,
    pub dry_run: bool,
}

fn folder_bytes(path: &std::path::Path) -> u64 {
    std::fs::read_dir(path)
        .map(|entries| {
            entries
                .filter_map(|entry| entry.ok()?.metadata().ok())
                .map(|meta| if meta.is_dir() { 0 } else { std::os::unix::fs::MetadataExt::blocks(&meta) * 512 })
                .sum()
        })
        .unwrap_or(0)
}

pub fn collect(store: &JobStore, rule: GcRule, dry_run: bool) -> Result<GcReport> {
    if rule.older_than.is_none() && rule.keep.is_none() {
        return Err(JobError::BadRequest("say what to remove: --older-than AGE (for example 7d) and/or --keep N".into()));
    }
    let now = SystemTime::now();
    // Finished jobs, newest ending first.
    let mut finished: Vec<(SystemTime, JobId)> = store
        .list(None)?
        .into_iter()
        .filter_map(|record| {
            let meta = record.meta.ok()?;
            meta.status.is_finished().then(|| (meta.finished_at.map_or(record.created, |at| at.0.into()), record.id))
        })
        .collect();
    finished.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let mut removed = Vec::new();
    for (ended, id) in finished.into_iter().skip(rule.keep.unwrap_or(0)) {
        let old_enough = rule.older_than.is_none_or(|age| now.duration_since(ended).is_ok_and(|ago| ago > age));
        if !old_enough {
            continue;
        }
        let bytes = folder_bytes(&store.job_dir(&id));
        if !dry_run {
            // Checks again that it is finished: a folder that changed meanwhile stays.
            if let Err(err) = store.delete(id.as_str()) {
                tracing::warn!(job = %id, %err, "not removed");
                continue;
            }
        }
        removed.push(Removed { job_id: id.to_string(), bytes });
    }
    let bytes_freed = removed.iter().map(|removed| removed.bytes).sum();
    Ok(GcReport { removed, bytes_freed, dry_run })
}
