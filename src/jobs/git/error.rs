//! Why git could not answer.

use std::io;
use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::Duration;

/// Why git could not answer (a job's tree is then left unjudged, or `D` says so).
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("{0} is not in a git repository")]
    NotARepository(PathBuf),

    #[error("cannot prepare a private git directory: {0}")]
    Private(#[source] io::Error),

    #[error("the repository's configuration is larger than {0} bytes")]
    ConfigTooLarge(usize),

    #[error("cannot run git: {0}")]
    Spawn(#[source] io::Error),

    #[error("reading what git {query} printed: {source}")]
    Read {
        query: &'static str,
        #[source]
        source: io::Error,
    },

    #[error("git {query} did not finish within {deadline:?}: it was ended")]
    TimedOut { query: &'static str, deadline: Duration },

    #[error("git {query} exited with {status}{}", first_line(said))]
    Failed { query: &'static str, status: ExitStatus, said: String },

    #[error("git {query} printed {printed:?}, not what it should")]
    Unexpected { query: &'static str, printed: String },

    #[error("git is not installed (no `git` on PATH): install git to use worktrees and diffs")]
    Missing,
}

/// git's first message line, after a colon (what a person reads of a failure).
fn first_line(said: &str) -> String {
    match said.lines().find(|line| !line.trim().is_empty()) {
        Some(line) => format!(": {}", line.trim()),
        None => String::new(),
    }
}
