//! `discard`: a job's worktree and branch removed, its record kept (`discarded_at`).

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::kinds::FREEZE_DEADLINE;
use crate::jobs::error::{JobError, Result};
use crate::jobs::git::freeze::Budget;
use crate::jobs::git::worktree;
use crate::jobs::record::id::JobId;
use crate::jobs::record::meta::JobMeta;

/// What a discard did.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DiscardView {
    pub job_id: String,
    /// The worktree folder was there and is removed (false: it was already gone).
    pub removed_folder: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worktree: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
}

/// Removes the worktree and branch of job `id` (its record is `meta`, finished).
pub async fn discard(id: &JobId, meta: &JobMeta) -> Result<DiscardView> {
    let (Some(path), Some(branch)) = (&meta.details.worktree, &meta.details.branch) else {
        return Err(JobError::BadRequest(format!("job {id} did not run in a worktree: there is nothing to discard")));
    };
    let removed = worktree::remove(Path::new(&meta.cwd), Path::new(path), branch, id.as_str(), Budget::new(FREEZE_DEADLINE))
        .await
        .map_err(|err| JobError::BadRequest(format!("discarding job {id}'s worktree: {err}")))?;
    Ok(DiscardView { job_id: id.to_string(), removed_folder: removed, worktree: Some(path.clone()), branch: Some(branch.clone()) })
}
