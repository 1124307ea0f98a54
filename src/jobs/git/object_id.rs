//! An object id as git prints it: the only form of a commit codex-async passes to git.
//! Ids come from `.git` and from a job's `meta.json`, both writable by the job, so
//! each is checked here before it can reach an argument list (`--output=FILE` is not
//! a commit).

use std::fmt;

/// A SHA-1 (40) or SHA-256 (64) object id: hex digits only, kept in lower case.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ObjectId(String);

impl ObjectId {
    /// The id `text` spells, or `None` when it is anything else (surrounding space
    /// included: a line of `.git/HEAD` is trimmed by its reader, not here).
    pub fn parse(text: &str) -> Option<ObjectId> {
        let is_id = matches!(text.len(), 40 | 64) && text.bytes().all(|byte| byte.is_ascii_hexdigit());
        is_id.then(|| ObjectId(text.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first 12 digits, as the dashboard shows a commit.
    pub fn short(&self) -> &str {
        &self.0[..12]
    }

    /// Whether the repository it comes from uses SHA-256 (git must be told).
    pub fn is_sha256(&self) -> bool {
        self.0.len() == 64
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl From<ObjectId> for String {
    fn from(id: ObjectId) -> String {
        id.0
    }
}
