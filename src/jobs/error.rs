//! Errors of the job engine, with the context a person (or a model) needs to act on them.

use std::io;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("invalid job id {0:?}: a job id is 1 to 64 characters of A-Z, a-z, 0-9, '_' or '-' (for example \"3f2a9c1d\")")]
    InvalidId(String),

    #[error("job '{0}' not found")]
    NotFound(String),

    #[error("'{prefix}' is the start of {count} job ids: {}{}; give more of it", matches.join(", "), if *count > matches.len() { ", …" } else { "" })]
    Ambiguous { prefix: String, count: usize, matches: Vec<String> },

    #[error("job '{id}' is corrupt: {reason}")]
    Corrupt { id: String, reason: String },

    #[error("cwd {0:?} does not exist: give an existing folder")]
    CwdMissing(PathBuf),

    #[error("cwd {0:?} is not a folder: give an existing folder")]
    CwdNotDir(PathBuf),

    #[error("unknown approval policy {given:?}: valid values are {valid}")]
    UnknownPolicy { given: String, valid: &'static str },

    #[error("the prompt is empty: say what the agent should do")]
    EmptyPrompt,

    #[error("the prompt is {len} bytes; {max} bytes is {how}")]
    PromptTooLong { len: usize, max: usize, how: String },

    #[error("job '{id}' is {status}: cancel it first")]
    StillRunning { id: String, status: String },

    /// A request that cannot be carried out as asked; the message says what to change.
    #[error("{0}")]
    BadRequest(String),

    /// More than the policy ceiling lets a job ask for.
    #[error("{what} is refused under the policy ceiling '{ceiling}': {reason}")]
    AboveCeiling { what: String, ceiling: &'static str, reason: String },

    /// The worktree a job was to run in could not be made (nothing was left).
    #[error("{0}")]
    Unplaced(String),

    #[error("could not start the job's supervisor: {0}")]
    Supervisor(String),

    #[error("job id '{0}' is taken")]
    IdTaken(String),

    /// An approval request already had its answer: the first one given counts.
    #[error("approval request {number} of job '{id}' was already answered ({decision}, by {by}); the first answer counts")]
    AlreadyAnswered { id: String, number: u32, decision: String, by: String },

    #[error("{action} {path:?}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl JobError {
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        JobError::Io { action, path: path.into(), source }
    }
}

pub type Result<T, E = JobError> = std::result::Result<T, E>;
