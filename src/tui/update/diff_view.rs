//! `D`: what a job changed in its folder — `git diff --stat` and the coloured diff of
//! the tree against the commit checked out when the job started (`git_head` in its
//! meta), with a word when other jobs worked in the same folder at the same time.
//! git runs on a blocking task (through the engine's hardened git runner), never on
//! the screen loop.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::jobs::{DiffShape, Engine, JobId, JobMeta, NoTreeDiff, ObjectId, TreeDiff, tree_diff};

use crate::tui::model::app::App;
use crate::tui::model::document::{DocKind, Document};
use crate::tui::model::message::Effect;

/// The most of a diff read (a larger one is cut, and says so).
pub const MAX_DIFF_BYTES: usize = 16 * 1024 * 1024;
/// The most untracked files named.
const MAX_UNTRACKED: usize = 200;
/// How long the view's git calls may take together.
const GIT_DEADLINE: Duration = Duration::from_secs(30);
/// What the view says of a base in the meta that is not a commit id.
pub const INVALID_BASE: &str =
    "The base recorded for this job is not a commit id (40 or 64 hex digits): it is not given to git, and no changes are shown.";

impl App {
    pub(super) fn open_diff(&mut self) -> Vec<Effect> {
        let Some(record) = self.selected_record() else {
            self.flash = Some("no job selected".to_owned());
            return Vec::new();
        };
        let Ok(meta) = &record.meta else {
            self.flash = Some(format!("job {} is corrupt: its folder is unknown", record.id));
            return Vec::new();
        };
        let (job, cwd, base) = (record.id.clone(), meta.cwd.clone(), meta.git_head.clone());
        let title = format!("changes of {job}");
        self.document = Some(Document::new(DocKind::Diff(job.clone()), title, "running git diff…".to_owned(), self.pane.wrap));
        vec![Effect::Diff { job, cwd: cwd.into(), base }]
    }

    /// The diff arrived: shown under what the view must say about the folder.
    pub(super) fn show_diff(&mut self, id: &JobId, diff: &str) {
        if !self.document.as_ref().is_some_and(|document| document.kind == DocKind::Diff(id.clone())) {
            return;
        }
        let Some(meta) = self.jobs.iter().find(|record| &record.id == id).and_then(|record| record.meta.as_ref().ok()) else { return };
        let mut text = String::new();
        let frozen_base = meta.details.base_commit.as_deref().or(meta.git_head.as_deref()).and_then(ObjectId::parse);
        if let (Some(_), Some(base), true) = (&meta.details.change, &frozen_base, meta.status.is_finished()) {
            let place = match (&meta.details.worktree, &meta.details.branch) {
                (Some(worktree), Some(branch)) => format!("branch {branch} (worktree {worktree})"),
                _ => format!("the tree in {}", meta.cwd),
            };
            text.push_str(&format!("Frozen when {id} ended: {place} against {}. Later edits are not in it.\n", base.short()));
            if meta.details.worktree.is_none() && meta.git_dirty == Some(true) {
                text.push_str("⚠ The tree had uncommitted changes of its own when the job started: they show here too.\n");
            }
        } else if meta.details.worktree.is_some() {
            text.push_str(&format!("The worktree of {id} now, against its base (it is frozen when the job ends).\n"));
        } else if let Some(head) = meta.git_head.as_deref().and_then(ObjectId::parse) {
            let short = head.short();
            text.push_str(&format!("The tree in {} now, against {short}: the commit checked out when {id} started.\n", meta.cwd));
            if meta.git_dirty == Some(true) {
                text.push_str("⚠ The tree had uncommitted changes of its own when the job started: they show here too.\n");
            }
        }
        let in_place = meta.details.worktree.is_none();
        let frozen = meta.details.change.is_some() && meta.status.is_finished();
        for line in self.shared_folder(id, meta, frozen).into_iter().filter(|_| in_place) {
            text.push_str(&line);
            text.push('\n');
        }
        text.push('\n');
        text.push_str(diff);
        if let Some(document) = self.document.as_mut() {
            document.replace_text(text);
        }
    }

    /// Other jobs in the same folder: during this one (their changes are mixed in), or
    /// after it (theirs are in the tree now too).
    /// A frozen change is not touched by jobs that ran after it: they are not named.
    fn shared_folder(&self, id: &JobId, meta: &JobMeta, frozen: bool) -> Vec<String> {
        let (start, end) = span(meta, self.now);
        let mut during = Vec::new();
        let mut after = Vec::new();
        for record in &self.jobs {
            let Ok(other) = &record.meta else { continue };
            if &record.id == id || other.cwd != meta.cwd || other.started_at.is_none() {
                continue;
            }
            let (other_start, other_end) = span(other, self.now);
            if other_start < end && start < other_end {
                during.push(format!("{} ({}–{})", record.id, other_start.format("%H:%M:%S"), clock(other, other_end)));
            } else if other_start >= end {
                after.push(record.id.to_string());
            }
        }
        let mut lines = Vec::new();
        if !during.is_empty() {
            lines.push(format!(
                "⚠ Also working in this folder while {id} ran: {}. One tree: their changes are mixed in.",
                during.join(", ")
            ));
        }
        if !after.is_empty() && !frozen {
            lines.push(format!("Ran in this folder after it: {} (their changes are in the tree now too).", after.join(", ")));
        }
        lines
    }
}

fn span(meta: &JobMeta, now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = meta.started_at.or(meta.details.created_at).map_or(now, |at| at.0);
    let end = meta.finished_at.map_or(now, |at| at.0);
    (start, end.max(start))
}

fn clock(meta: &JobMeta, end: DateTime<Utc>) -> String {
    if meta.finished_at.is_some() { end.format("%H:%M:%S").to_string() } else { "now".to_owned() }
}

/// The text of the view for job `id`: its change frozen when it ended (or, while a
/// worktree or in-place job runs, its folder now against its base) — its notes, its
/// stat and its coloured patch; for a job with no recorded change (it is older than
/// freezing, or ran outside a repository), the tree now as [`git_diff`] shows it.
pub async fn job_diff(engine: &Engine, id: &JobId, cwd: &Path, base: Option<&str>) -> String {
    // A record whose base was rewritten is not believed, frozen change or not.
    if base.is_some_and(|base| ObjectId::parse(base).is_none()) {
        return INVALID_BASE.to_owned();
    }
    let view = match engine.change(id.as_str(), DiffShape::Patch).await {
        Ok(view) if view.state != "none" => view,
        Ok(view) if view.stat.is_some() => return view.notes.join("\n"),
        _ => return git_diff(cwd, base).await,
    };
    let mut text = String::new();
    for note in &view.notes {
        text.push_str(note);
        text.push('\n');
    }
    let width = view.files.iter().map(|file| file.path.chars().count()).max().unwrap_or(0);
    for file in &view.files {
        let counts = if file.binary { "Bin".to_owned() } else { (file.insertions + file.deletions).to_string() };
        text.push_str(&format!(
            " {:<width$} | {counts} \x1b[32m{}\x1b[31m{}\x1b[m\n",
            file.path,
            "+".repeat(file.insertions.min(40) as usize),
            "-".repeat(file.deletions.min(40) as usize)
        ));
    }
    if let Some(stat) = &view.stat {
        text.push_str(&format!(" {}\n", stat.summary()));
    }
    text.push('\n');
    for line in view.patch.as_deref().unwrap_or_default().lines() {
        text.push_str(&crate::human::colour_patch_line(line));
        text.push('\n');
    }
    if view.files.is_empty() {
        text.push_str("No change.\n");
    }
    text
}

/// The text of the view: `git diff --stat`, the untracked files, and the coloured
/// diff of the tree in `cwd` against `base` — or why there is none. `base` comes from
/// the job's meta (which the job can write): only a commit id is given to git.
pub async fn git_diff(cwd: &Path, base: Option<&str>) -> String {
    if !cwd.is_dir() {
        return format!("The folder {} is gone: no changes to show.", cwd.display());
    }
    let recorded = match base {
        Some(text) => match ObjectId::parse(text) {
            Some(id) => Some(id),
            None => return INVALID_BASE.to_owned(),
        },
        None => None,
    };
    let found = match tree_diff(cwd, recorded, GIT_DEADLINE, MAX_DIFF_BYTES).await {
        Ok(found) => found,
        Err(NoTreeDiff::NotARepository) => {
            return format!("{} is not in a git repository: codex-async cannot tell what the job changed there.", cwd.display());
        }
        Err(NoTreeDiff::Git(err)) => return format!("git cannot be asked what changed in {}: {err}", cwd.display()),
        Err(NoTreeDiff::NoCommit) => {
            return "This job recorded no commit when it started, and the repository has none yet: nothing to compare the tree with."
                .to_owned();
        }
    };
    let TreeDiff { base, against_head, stat, diff, untracked } = found;
    let mut text = if against_head {
        "This job recorded no commit when it started (it is older than that, or its folder was not a repository then):\nthe tree against HEAD instead.\n\n".to_owned()
    } else {
        String::new()
    };
    match (stat, diff) {
        (Ok(stat), Ok(diff)) if stat.bytes.trim_ascii().is_empty() && diff.bytes.trim_ascii().is_empty() && !diff.cut => {
            text.push_str(&format!("No changes to tracked files against {}.\n", base.short()));
        }
        (Ok(stat), Ok(diff)) => {
            text.push_str(&String::from_utf8_lossy(&stat.bytes));
            text.push('\n');
            text.push_str(&String::from_utf8_lossy(&diff.bytes));
            if diff.cut {
                text.push_str(&format!("\n… (the diff is longer than {} MiB: cut here)\n", MAX_DIFF_BYTES / (1024 * 1024)));
            }
        }
        (Err(err), _) | (_, Err(err)) => text.push_str(&format!("git diff against {} failed: {err}\n", base.short())),
    }
    if let Ok(untracked) = untracked {
        let untracked = String::from_utf8_lossy(&untracked.bytes);
        let files: Vec<&str> = untracked.lines().collect();
        if !files.is_empty() {
            text.push_str(&format!("\nNew files git does not track yet (not in the diff): {}\n", files.len()));
            for file in files.iter().take(MAX_UNTRACKED) {
                text.push_str(&format!("  {file}\n"));
            }
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use std::process::{Command, Stdio};

    use super::*;

    fn run(cwd: &Path, args: &[&str]) {
        let status = Command::new("git").arg("-C").arg(cwd).args(args).stdout(Stdio::null()).stderr(Stdio::null()).status().unwrap();
        assert!(status.success(), "git {args:?}");
    }

    #[tokio::test]
    async fn the_diff_against_the_base_names_files_and_folders_that_are_not_repositories() {
        let folder = tempfile::tempdir().unwrap();
        assert!(git_diff(folder.path(), None).await.contains("is not in a git repository"));
        run(folder.path(), &["init", "-q"]);
        assert!(git_diff(folder.path(), None).await.contains("the repository has none yet"));
        run(folder.path(), &["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "base"]);
        std::fs::write(folder.path().join("tracked.txt"), "one\n").unwrap();
        run(folder.path(), &["add", "tracked.txt"]);
        run(folder.path(), &["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "first"]);
        let base = crate::jobs::git::head(folder.path()).unwrap();
        assert!(git_diff(folder.path(), Some(&base)).await.contains("No changes to tracked files"));
        std::fs::write(folder.path().join("tracked.txt"), "one\ntwo\n").unwrap();
        std::fs::write(folder.path().join("new.txt"), "new\n").unwrap();
        let text = git_diff(folder.path(), Some(&base)).await;
        let plain = crate::term::sanitize_line(&text.replace('\n', " "), usize::MAX, false);
        assert!(plain.contains("tracked.txt | 1 +"), "{plain}");
        assert!(plain.contains("+two"), "{plain}");
        assert!(plain.contains("New files git does not track yet (not in the diff): 1   new.txt"), "{plain}");
        assert!(git_diff(folder.path(), None).await.contains("recorded no commit"));
        assert!(git_diff(&folder.path().join("gone"), None).await.contains("is gone"));
        let unknown = "0".repeat(40);
        assert!(git_diff(folder.path(), Some(&unknown)).await.contains("git diff against 000000000000 failed"));
    }

    #[tokio::test]
    async fn a_base_that_is_not_a_commit_id_is_not_given_to_git() {
        let folder = tempfile::tempdir().unwrap();
        run(folder.path(), &["init", "-q"]);
        run(folder.path(), &["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "base"]);
        let written = folder.path().join("written");
        for forged in [format!("--output={}", written.display()), "HEAD".to_owned(), "main~1".to_owned()] {
            assert_eq!(git_diff(folder.path(), Some(&forged)).await, INVALID_BASE, "{forged}");
        }
        assert!(!written.exists());
    }
}
