//! Running git: the argument list, the environment and the process, the same for
//! every call codex-async makes.
//!
//! What git is asked is a closed set ([`Query`], plus reading the configuration for
//! [`super::session`]); each argument list starts with the options that keep git from
//! running programs named by configuration — fsmonitor, hooks, ssh, a pager — and has
//! `--end-of-options` before any revision and `--` after. The environment is the
//! inherited one without a single `GIT_*` variable (they can name another repository,
//! add configuration, an external diff, a pager, an ssh command), plus the few set
//! here. stdin is `/dev/null`; git runs in a process group of its own, which is
//! killed when the deadline passes or more than the cap is printed.

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::sys::wait::{Id, WaitPidFlag, waitid};
use nix::unistd::Pid;
use tokio::io::AsyncReadExt;
use tokio::time::Instant;

use super::error::GitError;
use super::object_id::ObjectId;

/// Global options of every call: no pager, and the configuration that names a
/// program set to none (command-line configuration outranks every file).
const HARDENING: [&str; 15] = [
    "--no-pager",
    "-c",
    "core.fsmonitor=false",
    "-c",
    "core.hooksPath=/dev/null",
    "-c",
    "core.sshCommand=false",
    "-c",
    "core.pager=cat",
    "-c",
    "core.untrackedCache=false",
    "-c",
    "protocol.allow=never",
    "-c",
    "submodule.recurse=false",
];

/// Set in git's environment after every inherited `GIT_*` variable is gone.
const ENVIRONMENT: [(&str, &str); 6] = [
    // No configuration or attributes from /etc either.
    ("GIT_CONFIG_NOSYSTEM", "1"),
    ("GIT_ATTR_NOSYSTEM", "1"),
    // A read never takes the index lock (nor rewrites the index).
    ("GIT_OPTIONAL_LOCKS", "0"),
    // Nothing asks a person, nothing fetches a missing object from a remote.
    ("GIT_TERMINAL_PROMPT", "0"),
    ("GIT_NO_LAZY_FETCH", "1"),
    ("GIT_NO_REPLACE_OBJECTS", "1"),
];

/// Diff options that keep a diff to git's own code: no `diff.external`, no
/// `diff.<driver>.command`, no textconv, no submodule walked.
const DIFF_OPTIONS: [&str; 4] = ["--color=always", "--no-ext-diff", "--no-textconv", "--ignore-submodules=all"];

/// What codex-async asks git about a working tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Query<'a> {
    /// `status --porcelain`: any line means the tree has changes of its own.
    Status,
    /// `diff --stat` of the tree against a commit.
    DiffStat(&'a ObjectId),
    /// The coloured patch of the tree against a commit.
    Diff(&'a ObjectId),
    /// The files git does not track and does not ignore.
    Untracked,
}

impl Query<'_> {
    /// The subcommand, for messages.
    pub fn name(&self) -> &'static str {
        match self {
            Query::Status => "status",
            Query::DiffStat(_) | Query::Diff(_) => "diff",
            Query::Untracked => "ls-files",
        }
    }

    /// Settings for this query alone. `status` looks at the tree on one thread: it runs
    /// beside other work (a worktree being written, the agent starting), and its dozens
    /// of index-preloading threads would take the cores that work needs.
    pub fn settings(&self) -> &'static [(&'static str, &'static str)] {
        match self {
            Query::Status => &[("core.preloadIndex", "false")],
            _ => &[],
        }
    }

    /// The subcommand and its arguments.
    pub fn args(&self) -> Vec<OsString> {
        let words: Vec<&str> = match self {
            Query::Status => vec!["status", "--porcelain", "--untracked-files=normal", "--ignore-submodules=all", "--no-renames"],
            Query::DiffStat(base) => [&["diff", "--stat"], &DIFF_OPTIONS[..], &["--end-of-options", base.as_str(), "--"]].concat(),
            Query::Diff(base) => [&["diff"], &DIFF_OPTIONS[..], &["--end-of-options", base.as_str(), "--"]].concat(),
            Query::Untracked => vec!["ls-files", "--others", "--exclude-standard", "--"],
        };
        words.into_iter().map(OsString::from).collect()
    }
}

/// Reading the effective configuration (`config -z --list --includes`): the one call
/// that sees the repository's own configuration, which reading never runs.
pub(super) fn config_list_args() -> Vec<OsString> {
    ["config", "-z", "--list", "--includes"].into_iter().map(OsString::from).collect()
}

/// The whole argument list after `git`: the hardening options, `settings` (`key=value`
/// pairs, given as `-c`), then the subcommand's. The hardening comes last among the
/// `-c`s so nothing can override it.
pub(super) fn argv(settings: &[(String, String)], subcommand: Vec<OsString>) -> Vec<OsString> {
    let mut argv: Vec<OsString> = Vec::with_capacity(HARDENING.len() + 2 * settings.len() + subcommand.len());
    argv.push(HARDENING[0].into());
    for (key, value) in settings {
        argv.push("-c".into());
        argv.push(format!("{key}={value}").into());
    }
    argv.extend(HARDENING[1..].iter().map(OsString::from));
    argv.extend(subcommand);
    argv
}

/// git's environment: `inherited` without any `GIT_*` variable, then [`ENVIRONMENT`],
/// then `location` (where the repository is, for this call).
pub(super) fn environment(
    inherited: impl IntoIterator<Item = (OsString, OsString)>,
    location: &[(&'static str, OsString)],
) -> Vec<(OsString, OsString)> {
    let mut env: Vec<(OsString, OsString)> = inherited.into_iter().filter(|(name, _)| !name.as_bytes().starts_with(b"GIT_")).collect();
    env.extend(ENVIRONMENT.iter().map(|(name, value)| (OsString::from(name), OsString::from(value))));
    env.extend(location.iter().map(|(name, value)| (OsString::from(name), value.clone())));
    env
}

/// How long a call may take and how much of what it prints is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub deadline: Duration,
    pub max_bytes: usize,
}

/// What git printed, and whether it was cut at the cap (git was then ended).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Printed {
    pub bytes: Vec<u8>,
    pub cut: bool,
}

/// One call, fully described: nothing of it comes from the caller's environment.
pub(super) struct Call<'a> {
    /// The subcommand, for messages.
    pub name: &'static str,
    pub argv: Vec<OsString>,
    pub env: Vec<(OsString, OsString)>,
    pub cwd: &'a Path,
    pub limits: Limits,
}

/// Runs git as `call` says. A failed exit is an error unless the output was cut (git
/// was ended for it). Asynchronous: a supervisor keeps watching its agent meanwhile
/// (and, as a subreaper, may collect git itself: then what git printed decides).
pub(super) async fn run(call: Call<'_>) -> Result<Printed, GitError> {
    let Call { name, argv, env, cwd, limits } = call;
    let deadline = Instant::now() + limits.deadline;
    let program = super::program::locate(&env).ok_or(GitError::Missing)?;
    let mut child = tokio::process::Command::new(program)
        .args(&argv)
        .env_clear()
        .envs(env)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .map_err(|err| match err.kind() {
            std::io::ErrorKind::NotFound => GitError::Missing,
            _ => GitError::Spawn(err),
        })?;
    // Declared after the child, so dropped first: a call abandoned half-way (its
    // caller dropped it) ends the whole group too.
    let _group = child.id().map(ProcessGroup);
    let broken = || GitError::Read { query: name, source: std::io::ErrorKind::BrokenPipe.into() };
    let mut stdout = child.stdout.take().ok_or_else(broken)?;
    let mut stderr = child.stderr.take().ok_or_else(broken)?;
    let mut bytes = Vec::new();
    let mut complaint = Vec::new();
    let cap = limits.max_bytes as u64;
    // Both pipes at once: git blocked on a full stderr would never close stdout. Past
    // the cap on stdout, git is ended at once (it may be blocked writing more).
    let read_both = async {
        let mut out_pipe = (&mut stdout).take(cap + 1);
        let mut err_pipe = (&mut stderr).take(MAX_STDERR as u64);
        let mut out = std::pin::pin!(out_pipe.read_to_end(&mut bytes));
        let mut err = std::pin::pin!(err_pipe.read_to_end(&mut complaint));
        let (mut out_done, mut err_done) = (false, false);
        while !(out_done && err_done) {
            tokio::select! {
                read = &mut out, if !out_done => {
                    out_done = true;
                    if read? as u64 > cap {
                        return Ok(true);
                    }
                }
                read = &mut err, if !err_done => {
                    err_done = true;
                    read?;
                }
            }
        }
        Ok::<bool, std::io::Error>(false)
    };
    match tokio::time::timeout_at(deadline, read_both).await {
        Err(_) => return Err(GitError::TimedOut { query: name, deadline: limits.deadline }),
        Ok(Err(source)) => return Err(GitError::Read { query: name, source }),
        Ok(Ok(_)) => {}
    }
    if bytes.len() > limits.max_bytes {
        bytes.truncate(limits.max_bytes);
        return Ok(Printed { bytes, cut: true });
    }
    match tokio::time::timeout_at(deadline, child.wait()).await {
        Err(_) => Err(GitError::TimedOut { query: name, deadline: limits.deadline }),
        Ok(Ok(status)) if !status.success() => {
            Err(GitError::Failed { query: name, status, said: String::from_utf8_lossy(&complaint).trim_end().to_owned() })
        }
        // Collected by someone else (a subreaper's sweep): its output stands.
        Ok(_) => Ok(Printed { bytes, cut: false }),
    }
}

/// The most of git's own messages kept (a failure names what it could not do).
const MAX_STDERR: usize = 64 * 1024;

/// git's process group (git leads it). Dropping it kills the group while its leader
/// is provably not yet collected: until then no other process can get its number.
struct ProcessGroup(u32);

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        let Ok(raw) = i32::try_from(self.0) else { return };
        let leader = Pid::from_raw(raw);
        // WNOWAIT: a leader that ended stays a zombie (its number held); ECHILD: it
        // was collected, the number may be anyone's now, so nothing is sent.
        let uncollected = waitid(Id::Pid(leader), WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT).is_ok();
        if uncollected {
            let _ = killpg(leader, Signal::SIGKILL);
        }
    }
}
