//! The engine's verbs for a job's change: read it, apply it, discard its worktree.

use std::time::Duration;

use super::apply::{ApplyOptions, ApplyView};
use super::discard::DiscardView;
use super::review::{ChangeView, DiffShape};
use crate::jobs::start::follow::OwnerWait;
use crate::jobs::{Engine, JobError, JobId, JobMeta, Result, Timestamp};

impl Engine {
    /// Job `raw_id`'s change: frozen when it ended, or its folder now while it runs.
    pub async fn change(&self, raw_id: &str, shape: DiffShape) -> Result<ChangeView> {
        let id = self.store().existing(raw_id)?;
        let meta = self.store().read_meta(&id)?;
        super::review::change(self.store(), &id, &meta, shape).await
    }

    /// Brings job `raw_id`'s frozen change into its origin (see [`super::apply`]); with
    /// `discard_others`, then discards the other attempts of its set.
    pub async fn apply(&self, raw_id: &str, options: ApplyOptions) -> Result<ApplyView> {
        let id = self.store().existing(raw_id)?;
        let meta = self.store().read_meta(&id)?;
        let mut view = super::apply::apply(self.store(), &id, &meta, options).await?;
        if !view.applied {
            return Ok(view);
        }
        self.mark(&id, |meta| meta.details.applied_at = Some(Timestamp::now()))?;
        if options.discard_others
            && let Some(group) = meta.details.attempt_group.clone()
        {
            for other in self.store().list(None)? {
                let Ok(other_meta) = &other.meta else { continue };
                let same_set = other_meta.details.attempt_group.as_deref() == Some(group.as_str());
                if other.id == id || !same_set || other_meta.details.discarded_at.is_some() || other_meta.details.worktree.is_none() {
                    continue;
                }
                self.discard(other.id.as_str(), true).await?;
                view.discarded.push(other.id.to_string());
            }
        }
        Ok(view)
    }

    /// Removes job `raw_id`'s worktree and branch and keeps its record. A job that
    /// runs is refused, unless `force`: it is cancelled first.
    pub async fn discard(&self, raw_id: &str, force: bool) -> Result<DiscardView> {
        let id = self.store().existing(raw_id)?;
        let mut meta = self.store().read_meta(&id)?;
        if !meta.status.is_finished() {
            if !force {
                return Err(JobError::StillRunning { id: id.to_string(), status: meta.status.to_string() });
            }
            self.cancel(id.as_str(), crate::jobs::cancel::DEFAULT_GRACE).await?;
            meta = self.store().read_meta(&id)?;
        }
        if let Some(worktree) = &meta.details.worktree {
            for other in self.store().list(None)? {
                let Ok(other_meta) = &other.meta else { continue };
                if other.id != id && !other_meta.status.is_finished() && other_meta.details.worktree.as_ref() == Some(worktree) {
                    return Err(JobError::StillRunning {
                        id: other.id.to_string(),
                        status: format!("{} in the same worktree", other_meta.status),
                    });
                }
            }
        }
        let view = super::discard::discard(&id, &meta).await?;
        self.mark(&id, |meta| meta.details.discarded_at = Some(Timestamp::now()))?;
        Ok(view)
    }

    /// Discards the worktree of a job about to be deleted (a worktree already gone is
    /// fine); for the synchronous `delete` and `gc`.
    pub(crate) fn discard_before_delete(&self, id: &JobId) {
        let Ok(meta) = self.store().read_meta(id) else { return };
        if meta.details.worktree.is_none() || meta.details.discarded_at.is_some() || !meta.status.is_finished() {
            return;
        }
        let discarded = std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|err| err.to_string())?;
                    runtime.block_on(super::discard::discard(id, &meta)).map_err(|err| err.to_string())
                })
                .join()
        });
        match discarded {
            Ok(Ok(_)) => {}
            Ok(Err(err)) => tracing::warn!(job = %id, %err, "could not discard the worktree of a deleted job"),
            Err(_) => tracing::warn!(job = %id, "discarding the worktree of a deleted job panicked"),
        }
    }

    /// Changes a finished job's record, holding its lock (no other writer interleaves).
    fn mark(&self, id: &JobId, change: impl FnOnce(&mut JobMeta)) -> Result<()> {
        let _owner = OwnerWait::take(self.store(), id, MARK_DEADLINE)?;
        let mut meta = self.store().read_meta_raw(id)?;
        change(&mut meta);
        meta.write_to(&self.store().meta_path(id), crate::atomic::Durability::Durable)
    }
}

/// How long a mark waits for another writer of the job's record.
const MARK_DEADLINE: Duration = Duration::from_secs(5);
