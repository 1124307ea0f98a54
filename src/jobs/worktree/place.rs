//! Where a job's agent runs, decided by its supervisor before the job is made: in a
//! new worktree, or in the worktree of the job it follows up.

use std::path::{Path, PathBuf};

use super::kinds::{Isolation, MAKE_DEADLINE};
use crate::jobs::git::freeze::Budget;
use crate::jobs::git::worktree::{self, BRANCH_PREFIX, WorktreePlan};
use crate::jobs::git::{ObjectId, Repository};
use crate::jobs::record::meta::JobMeta;

/// A job placed in a worktree.
#[derive(Clone, Debug)]
pub struct Placed {
    /// The folder asked for (kept as the job's `cwd`).
    pub origin: PathBuf,
    pub worktree: PathBuf,
    /// Where the agent runs (the origin's subfolder in the worktree).
    pub run_folder: PathBuf,
    pub branch: String,
    pub base_commit: ObjectId,
    /// Commit what the agent left uncommitted when it ends.
    pub commit: bool,
    /// What the starter is told besides the id.
    pub notice: Option<String>,
}

impl Placed {
    /// Writes where the job runs into its record (`cwd` stays the origin).
    pub fn mark(&self, meta: &mut JobMeta) {
        meta.cwd = self.origin.to_string_lossy().into_owned();
        meta.details.worktree = Some(self.worktree.to_string_lossy().into_owned());
        meta.details.branch = Some(self.branch.clone());
        meta.details.base_commit = Some(self.base_commit.to_string());
    }
}

/// Makes (or checks) the worktree job `id` runs in; `origin` is the folder asked for.
pub async fn place(isolation: &Isolation, origin: &Path, id: &str) -> Result<Placed, String> {
    match isolation {
        Isolation::New { base, dir, copy, commit } => {
            let plan = WorktreePlan { origin, path: dir.join(id), id, base: base.as_deref(), copy };
            let made = worktree::make(plan, Budget::new(MAKE_DEADLINE)).await.map_err(|err| err.to_string())?;
            let notice = (made.origin_dirty == Some(true)).then(|| {
                format!(
                    "{} has uncommitted changes: they are not in the worktree (it starts from commit {})",
                    origin.display(),
                    made.base.short()
                )
            });
            Ok(Placed {
                origin: origin.to_owned(),
                worktree: made.path,
                run_folder: made.run_folder,
                branch: made.branch,
                base_commit: made.base,
                commit: *commit,
                notice,
            })
        }
        Isolation::Reuse { worktree, branch, base_commit, commit } => {
            let base_commit = ObjectId::parse(base_commit).ok_or_else(|| format!("the base commit {base_commit:?} is not a commit id"))?;
            if !branch.starts_with(BRANCH_PREFIX) || branch.bytes().any(|byte| !(byte.is_ascii_alphanumeric() || b"/-_".contains(&byte))) {
                return Err(format!("the branch {branch:?} is not one codex-async made"));
            }
            let origin_repository =
                Repository::find(origin).ok_or_else(|| format!("{} is not in a git repository any more", origin.display()))?;
            let found = Repository::find(worktree).filter(|found| &found.top == worktree);
            let Some(found) = found else {
                return Err(format!("the worktree {} is gone: start a new job instead", worktree.display()));
            };
            if !found.same_repository(&origin_repository) || !found.is_linked_worktree() {
                return Err(format!("{} is not a worktree of the repository at {}", worktree.display(), origin_repository.top.display()));
            }
            let inside = origin.strip_prefix(&origin_repository.top).unwrap_or(Path::new(""));
            let run_folder = worktree.join(inside);
            std::fs::create_dir_all(&run_folder).map_err(|err| format!("{}: {err}", run_folder.display()))?;
            Ok(Placed {
                origin: origin.to_owned(),
                worktree: worktree.clone(),
                run_folder,
                branch: branch.clone(),
                base_commit,
                commit: *commit,
                notice: None,
            })
        }
    }
}
