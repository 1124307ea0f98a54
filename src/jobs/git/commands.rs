//! What codex-async asks git to write, beside what [`super::Query`] reads: building a
//! tree from a folder, a commit from a tree, the patch between two commits, a patch
//! applied to a tree (all through the private git directory of a [`super::Session`],
//! where the repository's configuration names no program), and the few ref
//! commands that must reach the repository itself ([`RefCommand`]).
//!
//! Every argument list is fixed here; revisions are checked [`ObjectId`]s or names
//! codex-async made, each after `--end-of-options`; paths are ones codex-async chose
//! (the patch lives in the private git directory, a worktree under its own folder).

use std::ffi::OsString;
use std::path::Path;

use super::object_id::ObjectId;

/// Options of every diff between commits: git's own code only, no colour (the patch is
/// stored and applied), whole ids and binary data (so it applies anywhere), no rename
/// detection (each file's change stands alone; cheaper on large changes).
const TREE_DIFF_OPTIONS: [&str; 6] =
    ["--no-color", "--no-ext-diff", "--no-textconv", "--ignore-submodules=all", "--no-renames", "--full-index"];

/// How a diff between two commits is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiffForm {
    /// The patch, binary files included: what `apply` takes.
    Patch,
    /// `--numstat -z`: added, deleted and path of each file (what the stat counts).
    NumStat,
    /// `--stat`, as people read it.
    Stat,
    /// `--name-only -z`.
    NameOnly,
}

/// How a patch is applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApplyTo {
    /// Only whether it would apply to the working tree; nothing changes.
    CheckTree,
    /// The working tree (all files or none: `git apply` is atomic).
    Tree,
    /// Whether it would apply to both the index and the working tree.
    CheckIndex,
    /// The index and the working tree.
    Index,
    /// The index only (a scratch index that builds a commit).
    Cached,
}

/// A command through the private git directory that writes objects, an index or files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change<'a> {
    /// Fills an empty working tree and its index from a commit (`read-tree --reset -u`).
    CheckOut(&'a ObjectId),
    /// Sets the index to a commit's tree without touching files.
    ReadTree(&'a ObjectId),
    /// Takes every file of the working tree into the index (`add -A`), ignored ones left out.
    AddAll,
    /// Writes the index as a tree; prints its id.
    WriteTree,
    /// A commit of `tree` on `parent` (a first commit without); prints its id. Never
    /// signed (no program runs).
    Commit { tree: &'a ObjectId, parent: Option<&'a ObjectId>, message: &'a str },
    /// The diff from one commit (or tree) to another.
    Diff { from: &'a ObjectId, to: &'a ObjectId, form: DiffForm },
    /// Applies the patch file at `patch` (a file of the private git directory).
    Apply { patch: &'a Path, to: ApplyTo, reverse: bool },
}

impl Change<'_> {
    pub fn name(&self) -> &'static str {
        match self {
            Change::CheckOut(_) | Change::ReadTree(_) => "read-tree",
            Change::AddAll => "add",
            Change::WriteTree => "write-tree",
            Change::Commit { .. } => "commit-tree",
            Change::Diff { .. } => "diff",
            Change::Apply { .. } => "apply",
        }
    }

    pub fn args(&self) -> Vec<OsString> {
        let words = |words: &[&str]| words.iter().map(OsString::from).collect::<Vec<_>>();
        match self {
            Change::CheckOut(commit) => words(&["read-tree", "--reset", "-u", "--end-of-options", commit.as_str()]),
            Change::ReadTree(commit) => words(&["read-tree", "--end-of-options", commit.as_str()]),
            Change::AddAll => words(&["add", "-A", "--"]),
            Change::WriteTree => words(&["write-tree"]),
            Change::Commit { tree, parent, message } => {
                let mut args = words(&["commit-tree", "--no-gpg-sign"]);
                if let Some(parent) = parent {
                    args.extend(words(&["-p", parent.as_str()]));
                }
                args.push("-m".into());
                args.push(OsString::from(*message));
                args.extend(words(&["--end-of-options", tree.as_str()]));
                args
            }
            Change::Diff { from, to, form } => {
                let form: &[&str] = match form {
                    DiffForm::Patch => &["--binary"],
                    DiffForm::NumStat => &["--numstat", "-z"],
                    DiffForm::Stat => &["--stat=200"],
                    DiffForm::NameOnly => &["--name-only", "-z"],
                };
                let mut args = words(&["diff"]);
                args.extend(words(form));
                args.extend(words(&TREE_DIFF_OPTIONS));
                args.extend(words(&["--end-of-options", from.as_str(), to.as_str(), "--"]));
                args
            }
            Change::Apply { patch, to, reverse } => {
                let mut args = words(&["apply", "--whitespace=nowarn"]);
                args.extend(words(match to {
                    ApplyTo::CheckTree => &["--check"][..],
                    ApplyTo::Tree => &[],
                    ApplyTo::CheckIndex => &["--check", "--index"],
                    ApplyTo::Index => &["--index"],
                    ApplyTo::Cached => &["--cached"],
                }));
                if *reverse {
                    args.push("-R".into());
                }
                // `git apply` takes no `--` (it would read it as a patch file).
                args.push("--end-of-options".into());
                args.push(patch.as_os_str().to_owned());
                args
            }
        }
    }
}

/// A command run against the repository's own git directory: only refs and the list
/// of worktrees, which reading the repository's configuration runs no program for
/// (hooks are off, and none of these checks out, diffs or filters a file).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefCommand<'a> {
    /// The commit a revision names (`rev-parse --verify`), for `--base`.
    Resolve(&'a str),
    /// Registers an empty worktree at `path` on a new branch made at `commit`.
    AddWorktree { path: &'a Path, branch: &'a str, commit: &'a ObjectId },
    /// Forgets worktrees whose folder is gone.
    PruneWorktrees,
    /// Moves `name` to `new` if it is at `old` now (compare and swap).
    Update { name: &'a str, new: &'a ObjectId, old: &'a ObjectId, deref: bool },
    /// Deletes the ref `name`.
    Delete(&'a str),
}

impl RefCommand<'_> {
    pub fn name(&self) -> &'static str {
        match self {
            RefCommand::Resolve(_) => "rev-parse",
            RefCommand::AddWorktree { .. } | RefCommand::PruneWorktrees => "worktree",
            RefCommand::Update { .. } | RefCommand::Delete(_) => "update-ref",
        }
    }

    pub fn args(&self) -> Vec<OsString> {
        let words = |words: &[&str]| words.iter().map(OsString::from).collect::<Vec<_>>();
        match self {
            RefCommand::Resolve(revision) => {
                words(&["rev-parse", "--verify", "--quiet", "--end-of-options", &format!("{revision}^{{commit}}")])
            }
            RefCommand::AddWorktree { path, branch, commit } => {
                let mut args = words(&["worktree", "add", "--no-checkout", "--quiet", "-b", branch, "--end-of-options"]);
                args.push(path.as_os_str().to_owned());
                args.push(commit.as_str().into());
                args
            }
            RefCommand::PruneWorktrees => words(&["worktree", "prune"]),
            RefCommand::Update { name, new, old, deref } => {
                let mut args = words(&["update-ref", "-m", "codex-async"]);
                if !deref {
                    args.push("--no-deref".into());
                }
                args.extend(words(&["--end-of-options", name, new.as_str(), old.as_str()]));
                args
            }
            RefCommand::Delete(name) => words(&["update-ref", "-d", "-m", "codex-async", "--end-of-options", name]),
        }
    }
}

/// A revision a person named (`--base`): a ref name or an id, never an option, nothing
/// a ref cannot hold.
pub fn is_revision(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 256
        && !text.starts_with('-')
        && !text.bytes().any(|byte| byte < 0x20 || byte == 0x7f || b" :?*[\\".contains(&byte))
        && !text.contains("..")
        && !text.contains("@{")
}
