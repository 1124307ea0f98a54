//! A repository made safe to ask: git pointed at a private git directory.
//!
//! Overriding the repository's configuration key by key cannot be made safe: filter
//! drivers (`filter.<name>.clean`, `.process`), diff drivers and the like are named
//! by the repository itself, and a configuration read once to learn the names can be
//! another one when git reads it again (an `include.path` can be a FIFO that answers
//! each read differently, or a file swapped once the first read is seen). So git is
//! never given the repository's configuration while it looks at the tree: it runs
//! with `GIT_DIR` set to a private folder of ours — a `HEAD` (the commit read from
//! `.git`), a `config` we write, the repository's `info/exclude` — and reaches the
//! repository only through `GIT_INDEX_FILE`, `GIT_OBJECT_DIRECTORY` and
//! `GIT_WORK_TREE`: data, never programs. A driver the tree's `.gitattributes` names
//! is then defined nowhere (the user's own `~/.gitconfig` still applies, as it would
//! to any git they run).
//!
//! The few settings of the repository's configuration that change what git sees in
//! the tree (line endings, file modes, symlinks, case) are read first with
//! `git config --list` — reading configuration runs nothing — and passed on when
//! their value is one of the plain words they take.

use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::commands::{Change, RefCommand};
use super::error::GitError;
use super::files::Repository;
use super::object_id::ObjectId;
use super::runner::{self, Call, Limits, Printed, Query};

/// Settings passed on from the repository's configuration: each changes what git
/// counts as a change, none names a program.
const PASSED_ON: [&str; 8] = [
    "core.autocrlf",
    "core.checkstat",
    "core.eol",
    "core.filemode",
    "core.ignorecase",
    "core.precomposeunicode",
    "core.symlinks",
    "core.trustctime",
];
/// The longest value passed on (they are words such as `true`, `input`, `minimal`).
const MAX_SETTING: usize = 16;
/// The largest index copied into a scratch one (past it, git starts from an empty index).
const MAX_INDEX_COPY: u64 = 512 * 1024 * 1024;
/// How long reading the configuration may take.
const CONFIG_LIMITS: Limits = Limits { deadline: Duration::from_secs(5), max_bytes: 1024 * 1024 };

/// A repository ready to be asked [`Query`]s. Its private git directory is removed
/// when it is dropped. (Not `Debug`: it holds the environment git is given.)
pub struct Session {
    repository: Repository,
    head: Option<ObjectId>,
    settings: Vec<(String, String)>,
    private: tempfile::TempDir,
    inherited: Vec<(OsString, OsString)>,
    cwd: std::path::PathBuf,
    /// The index git uses: the repository's own, or a scratch one of ours.
    index: PathBuf,
    /// Where new objects go when they must not reach the repository (the repository's
    /// objects are then read as alternates).
    scratch_objects: Option<PathBuf>,
}

impl Session {
    /// Prepares to ask git about the repository that holds `folder` (git runs in
    /// `folder`, so paths it prints are as seen from there).
    pub async fn open(folder: &Path) -> Result<Session, GitError> {
        Session::open_with_environment(folder, std::env::vars_os().collect()).await
    }

    /// As [`Session::open`], with git's environment built from `inherited` instead of
    /// this process's.
    pub async fn open_with_environment(folder: &Path, inherited: Vec<(OsString, OsString)>) -> Result<Session, GitError> {
        let repository = Repository::find(folder).ok_or_else(|| GitError::NotARepository(folder.to_owned()))?;
        let head = repository.head();
        let listed = runner::run(Call {
            name: "config",
            argv: runner::argv(&[], runner::config_list_args()),
            env: runner::environment(inherited.iter().cloned(), &[("GIT_DIR", repository.git_dir.clone().into())]),
            cwd: &repository.top,
            limits: CONFIG_LIMITS,
        })
        .await?;
        if listed.cut {
            return Err(GitError::ConfigTooLarge(CONFIG_LIMITS.max_bytes));
        }
        let listed = parse_config_list(&listed.bytes);
        let head = match head {
            None if repository.uses_reftable() => head_from_git(&repository, &inherited).await?,
            head => head,
        };
        let sha256 = match setting(&listed, "extensions.objectformat") {
            Some(format) => format.eq_ignore_ascii_case("sha256"),
            None => head.as_ref().is_some_and(ObjectId::is_sha256),
        };
        let settings = passed_on(&listed);
        let private = private_git_dir(&repository, head.as_ref(), sha256).map_err(GitError::Private)?;
        let index = repository.git_dir.join("index");
        Ok(Session { repository, head, settings, private, inherited, cwd: folder.to_owned(), index, scratch_objects: None })
    }

    /// A session of another working tree of the same repository, whose `HEAD` is
    /// `head` (a worktree just made): the settings read for this one hold for it (they
    /// are the repository's), so its configuration is not read again.
    pub fn for_worktree(&self, folder: &Path, head: &ObjectId) -> Result<Session, GitError> {
        let repository = Repository::find(folder).ok_or_else(|| GitError::NotARepository(folder.to_owned()))?;
        if !repository.same_repository(&self.repository) {
            return Err(GitError::NotARepository(folder.to_owned()));
        }
        let private = private_git_dir(&repository, Some(head), head.is_sha256()).map_err(GitError::Private)?;
        let index = repository.git_dir.join("index");
        Ok(Session {
            repository,
            head: Some(head.clone()),
            settings: self.settings.clone(),
            private,
            inherited: self.inherited.clone(),
            cwd: folder.to_owned(),
            index,
            scratch_objects: None,
        })
    }

    /// The commit checked out, as read from `.git` when the session was opened.
    pub fn head(&self) -> Option<&ObjectId> {
        self.head.as_ref()
    }

    /// Commits made from now on name `name <email>` as author and committer.
    pub fn set_identity(&mut self, name: &str, email: &str) {
        self.settings.push(("user.name".to_owned(), name.to_owned()));
        self.settings.push(("user.email".to_owned(), email.to_owned()));
    }

    /// The repository, as its `.git` describes it.
    pub fn repository(&self) -> &Repository {
        &self.repository
    }

    /// A file of the private git directory (removed with the session).
    pub fn private_path(&self, name: &str) -> PathBuf {
        self.private.path().join(name)
    }

    /// From now on git uses a scratch index of ours (the repository's own stays as it
    /// is): a copy of the repository's when `copy` and it can be read (so git knows
    /// which files it already hashed), else an empty one.
    ///
    /// The copy keeps the original's modification time: git trusts an entry's recorded
    /// size and time only for files older than the index itself, and re-reads the rest
    /// ("racily clean" entries). A copy dated now would make a file rewritten in the same
    /// second as the last `git add`, to the same size, look unchanged.
    pub fn use_scratch_index(&mut self, copy: bool) -> Result<(), GitError> {
        let scratch = self.private.path().join("scratch-index");
        if copy && let Ok(mut from) = super::files::open_regular(&self.index) {
            let modified = from.metadata().and_then(|meta| meta.modified());
            let written = std::fs::File::create(&scratch).and_then(|mut to| {
                let bytes = std::io::copy(&mut (&mut from).take(MAX_INDEX_COPY), &mut to)?;
                to.set_modified(modified?)?;
                Ok(bytes)
            });
            if written.is_err() || written.is_ok_and(|bytes| bytes >= MAX_INDEX_COPY) {
                let _ = std::fs::remove_file(&scratch);
            }
        }
        self.index = scratch;
        Ok(())
    }

    /// From now on new objects go to a scratch folder of ours: nothing is written into
    /// the repository (its objects are still read).
    pub fn use_scratch_objects(&mut self) -> Result<(), GitError> {
        let objects = self.private.path().join("objects");
        std::fs::create_dir_all(&objects).map_err(GitError::Private)?;
        self.scratch_objects = Some(objects);
        Ok(())
    }

    /// Runs `change` through the private git directory within `limits`.
    pub async fn change(&self, change: Change<'_>, limits: Limits) -> Result<Printed, GitError> {
        runner::run(Call {
            name: change.name(),
            argv: runner::argv(&self.settings, change.args()),
            env: runner::environment(self.inherited.iter().cloned(), &self.location()),
            cwd: &self.cwd,
            limits,
        })
        .await
    }

    /// Runs `command` against the repository's own git directory (refs and worktrees
    /// only; see [`RefCommand`]).
    pub async fn refs(&self, command: RefCommand<'_>, limits: Limits) -> Result<Printed, GitError> {
        refs_of(&self.repository, &self.inherited, command, limits).await
    }

    /// Asks git `query` within `limits`.
    pub async fn run(&self, query: Query<'_>, limits: Limits) -> Result<Printed, GitError> {
        let mut settings = self.settings.clone();
        settings.extend(query.settings().iter().map(|(key, value)| ((*key).to_owned(), (*value).to_owned())));
        runner::run(Call {
            name: query.name(),
            argv: runner::argv(&settings, query.args()),
            env: runner::environment(self.inherited.iter().cloned(), &self.location()),
            cwd: &self.cwd,
            limits,
        })
        .await
    }

    /// Where git finds the repository: the private git directory, and of the
    /// repository only its working tree, index and objects.
    fn location(&self) -> Vec<(&'static str, OsString)> {
        let objects = self.repository.common_dir.join("objects");
        let mut location = vec![
            ("GIT_DIR", self.private.path().into()),
            ("GIT_WORK_TREE", self.repository.top.clone().into()),
            ("GIT_INDEX_FILE", self.index.clone().into()),
        ];
        match &self.scratch_objects {
            Some(scratch) => {
                location.push(("GIT_OBJECT_DIRECTORY", scratch.clone().into()));
                location.push(("GIT_ALTERNATE_OBJECT_DIRECTORIES", objects.into()));
            }
            None => location.push(("GIT_OBJECT_DIRECTORY", objects.into())),
        }
        location
    }
}

/// Runs `command` against `repository`'s own git directory, with git's environment
/// built from `inherited`: what [`Session::refs`] runs, for a caller with no session yet
/// (ref commands never need the settings a session reads).
pub async fn refs_of(
    repository: &Repository,
    inherited: &[(OsString, OsString)],
    command: RefCommand<'_>,
    limits: Limits,
) -> Result<Printed, GitError> {
    runner::run(Call {
        name: command.name(),
        argv: runner::argv(&[], command.args()),
        env: runner::environment(inherited.iter().cloned(), &[("GIT_DIR", repository.git_dir.clone().into())]),
        cwd: &repository.top,
        limits,
    })
    .await
}

/// The commit checked out, asked of git (`rev-parse --verify HEAD`, which runs no
/// program): for refs kept in a reftable, which are not files to read.
async fn head_from_git(repository: &Repository, inherited: &[(OsString, OsString)]) -> Result<Option<ObjectId>, GitError> {
    let asked = runner::run(Call {
        name: "rev-parse",
        argv: runner::argv(&[], RefCommand::Resolve("HEAD").args()),
        env: runner::environment(inherited.iter().cloned(), &[("GIT_DIR", repository.git_dir.clone().into())]),
        cwd: &repository.top,
        limits: CONFIG_LIMITS,
    })
    .await;
    match asked {
        Ok(printed) => Ok(ObjectId::parse(String::from_utf8_lossy(&printed.bytes).trim())),
        Err(GitError::Failed { .. }) => Ok(None),
        Err(err) => Err(err),
    }
}

/// The private git directory: `HEAD` (the commit, or an unborn branch), a `config`
/// that only says which hash the objects use, an empty `refs/`, and the repository's
/// `info/exclude`.
fn private_git_dir(repository: &Repository, head: Option<&ObjectId>, sha256: bool) -> std::io::Result<tempfile::TempDir> {
    let private = tempfile::Builder::new().prefix("codex-async-git-").tempdir()?;
    let head_line = match head {
        Some(id) => format!("{id}\n"),
        None => "ref: refs/heads/unborn\n".to_owned(),
    };
    std::fs::write(private.path().join("HEAD"), head_line)?;
    let config = if sha256 {
        "[core]\n\trepositoryformatversion = 1\n\tbare = false\n[extensions]\n\tobjectformat = sha256\n"
    } else {
        "[core]\n\trepositoryformatversion = 0\n\tbare = false\n"
    };
    std::fs::write(private.path().join("config"), config)?;
    std::fs::create_dir(private.path().join("refs"))?;
    if let Some(patterns) = repository.exclude_patterns() {
        std::fs::create_dir(private.path().join("info"))?;
        std::fs::write(private.path().join("info").join("exclude"), patterns)?;
    }
    Ok(private)
}

/// `git config -z --list` output: entries end with NUL, a key is separated from its
/// value by the first newline, and a key alone means `true`.
pub(super) fn parse_config_list(bytes: &[u8]) -> Vec<(String, String)> {
    bytes
        .split(|&byte| byte == 0)
        .filter(|entry| !entry.is_empty())
        .filter_map(|entry| {
            let entry = std::str::from_utf8(entry).ok()?;
            Some(match entry.split_once('\n') {
                Some((key, value)) => (key.to_owned(), value.to_owned()),
                None => (entry.to_owned(), "true".to_owned()),
            })
        })
        .collect()
}

/// The value git uses for `key` (the last one listed), keys compared as git does for
/// sections and names: without case.
fn setting<'a>(listed: &'a [(String, String)], key: &str) -> Option<&'a str> {
    listed.iter().rev().find(|(listed_key, _)| listed_key.eq_ignore_ascii_case(key)).map(|(_, value)| value.as_str())
}

/// The settings of [`PASSED_ON`] that have a plain value.
pub(super) fn passed_on(listed: &[(String, String)]) -> Vec<(String, String)> {
    PASSED_ON
        .iter()
        .filter_map(|&key| {
            let value = setting(listed, key)?;
            let plain = !value.is_empty()
                && value.len() <= MAX_SETTING
                && value.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_');
            plain.then(|| (key.to_owned(), value.to_owned()))
        })
        .collect()
}
