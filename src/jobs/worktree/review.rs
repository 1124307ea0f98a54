//! Reading a job's change: the patch frozen when it ended, or — while it runs — its
//! folder now against its base (taken with scratch objects: nothing is written into
//! the repository). The stat and the file names are read from the patch itself, so
//! a frozen change needs no git at all.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::freeze::MAX_PATCH_BYTES;
use super::kinds::FREEZE_DEADLINE;
use crate::jobs::error::{JobError, Result};
use crate::jobs::git::freeze::{Budget, change_between, snapshot_tree};
use crate::jobs::git::{ObjectId, Session};
use crate::jobs::record::change::{CHANGE_FILE, ChangeStat};
use crate::jobs::record::id::JobId;
use crate::jobs::record::jobfile;
use crate::jobs::record::meta::JobMeta;
use crate::jobs::store::JobStore;

/// What of a change is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiffShape {
    Patch,
    Stat,
    NameOnly,
}

/// A job's change as the front ends show it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChangeView {
    pub job_id: String,
    /// `frozen` (recorded as the job ended), `live` (the folder now, the job runs) or
    /// `none` (there is nothing to show: `note` says why).
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stat: Option<ChangeStat>,
    /// One entry per file: path, lines added, lines removed (binary files: none).
    pub files: Vec<FileChange>,
    /// The patch (plain, uncoloured), when asked for and kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch: Option<String>,
    /// What a reader must know: why there is nothing, what else shared the folder.
    pub notes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worktree: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_commit: Option<String>,
}

/// One file of a change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileChange {
    pub path: String,
    pub insertions: u64,
    pub deletions: u64,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub binary: bool,
}

/// Job `id`'s change (its record is `meta`).
pub async fn change(store: &JobStore, id: &JobId, meta: &JobMeta, shape: DiffShape) -> Result<ChangeView> {
    let mut view = ChangeView {
        job_id: id.to_string(),
        state: "none".to_owned(),
        stat: meta.details.change.clone(),
        files: Vec::new(),
        patch: None,
        notes: Vec::new(),
        worktree: meta.details.worktree.clone(),
        branch: meta.details.branch.clone(),
        base_commit: meta.details.base_commit.clone(),
    };
    let patch = if meta.status.is_finished() {
        match &meta.details.change {
            Some(stat) if stat.patch_dropped => {
                view.state = "frozen".to_owned();
                view.notes.push(format!(
                    "The patch was larger than {} MiB: only its stat was kept.{}",
                    MAX_PATCH_BYTES / (1024 * 1024),
                    meta.details.branch.as_ref().map(|branch| format!(" The whole change is on branch {branch}.")).unwrap_or_default()
                ));
                None
            }
            Some(stat) if stat.problem.is_some() && stat.files == 0 => {
                view.notes.push(format!("The change could not be frozen: {}", stat.problem.as_deref().unwrap_or_default()));
                None
            }
            Some(_) => {
                view.state = "frozen".to_owned();
                Some(read_patch(store, id)?)
            }
            None => {
                view.notes.push(no_change_reason(meta));
                None
            }
        }
    } else {
        match live_patch(meta).await {
            Ok(Some(patch)) => {
                view.state = "live".to_owned();
                view.notes.push("The job still runs: this is its folder now, against its base; it is frozen when the job ends.".to_owned());
                Some(patch)
            }
            Ok(None) => {
                view.notes.push(no_change_reason(meta));
                None
            }
            Err(err) => {
                view.notes.push(format!("git cannot be asked what changed: {err}"));
                None
            }
        }
    };
    if let Some(patch) = patch {
        view.files = patch_files(&patch);
        if view.stat.is_none() || view.state == "live" {
            view.stat = Some(ChangeStat {
                files: view.files.len() as u64,
                insertions: view.files.iter().map(|file| file.insertions).sum(),
                deletions: view.files.iter().map(|file| file.deletions).sum(),
                ..ChangeStat::default()
            });
        }
        if shape == DiffShape::Patch {
            view.patch = Some(String::from_utf8_lossy(&patch).into_owned());
        }
    }
    Ok(view)
}

/// The frozen patch of job `id`: a regular file of its folder, at most the cap.
pub fn read_patch(store: &JobStore, id: &JobId) -> Result<Vec<u8>> {
    let path = store.job_dir(id).join(CHANGE_FILE);
    match jobfile::read_capped(&path, MAX_PATCH_BYTES as u64) {
        Ok(bytes) => Ok(bytes),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(err) => Err(JobError::io("reading", path, err)),
    }
}

/// Why a finished job has no frozen change.
fn no_change_reason(meta: &JobMeta) -> String {
    if meta.git_head.is_none() && meta.details.worktree.is_none() {
        format!("{} was not in a git repository with a commit when the job started: there is no change to show.", meta.cwd)
    } else {
        "No change was recorded for this job (it ended before its change could be frozen).".to_owned()
    }
}

/// A running job's folder against its base, taken now.
async fn live_patch(meta: &JobMeta) -> std::result::Result<Option<Vec<u8>>, crate::jobs::git::GitError> {
    let (folder, base) = match (&meta.details.worktree, &meta.details.base_commit) {
        (Some(worktree), Some(base)) => (Path::new(worktree), base),
        _ => match &meta.git_head {
            Some(head) => (Path::new(&meta.cwd), head),
            None => return Ok(None),
        },
    };
    let Some(base) = ObjectId::parse(base) else { return Ok(None) };
    if !folder.is_dir() {
        return Ok(None);
    }
    let budget = Budget::new(FREEZE_DEADLINE);
    let mut session = Session::open(folder).await?;
    let tree = snapshot_tree(&mut session, true, budget).await?;
    let (patch, _) = change_between(&session, &base, &tree, MAX_PATCH_BYTES, budget).await?;
    Ok(Some(patch.unwrap_or_default()))
}

/// The files of a git patch, with their added and removed lines, in order.
pub fn patch_files(patch: &[u8]) -> Vec<FileChange> {
    let mut files: Vec<FileChange> = Vec::new();
    let mut in_hunk = false;
    for line in patch.split(|&byte| byte == b'\n') {
        if let Some(header) = line.strip_prefix(b"diff --git ") {
            files.push(FileChange { path: header_path(header), insertions: 0, deletions: 0, binary: false });
            in_hunk = false;
            continue;
        }
        let Some(file) = files.last_mut() else { continue };
        if line.starts_with(b"@@") {
            in_hunk = true;
        } else if !in_hunk {
            if line.starts_with(b"GIT binary patch") || line.starts_with(b"Binary files") {
                file.binary = true;
            } else if let Some(path) = line.strip_prefix(b"+++ b/") {
                file.path = String::from_utf8_lossy(path).into_owned();
            }
        } else if line.starts_with(b"+") {
            file.insertions += 1;
        } else if line.starts_with(b"-") {
            file.deletions += 1;
        }
    }
    files
}

/// The path of `a/X b/X` (the second half; quoted names kept as git wrote them).
fn header_path(header: &[u8]) -> String {
    let text = String::from_utf8_lossy(header);
    let half = text.len() / 2;
    let second = text.get(half..).map(str::trim).unwrap_or(&text);
    second.strip_prefix("b/").unwrap_or(second).to_owned()
}
