//! Job ids: made here from a v4 uuid, or checked strictly when they come from outside.

use std::fmt;

use crate::jobs::error::JobError;

/// A job id that is safe to join onto a path: it can never name a parent folder,
/// an absolute path, or anything but one folder inside the jobs directory.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobId(String);

impl JobId {
    pub const MAX_LEN: usize = 64;

    /// Checks an id that came from outside (an MCP argument, the command line, a folder name).
    pub fn parse(raw: &str) -> Result<Self, JobError> {
        let valid =
            !raw.is_empty() && raw.len() <= Self::MAX_LEN && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if valid {
            Ok(JobId(raw.to_owned()))
        } else {
            let mut shown: String = raw.chars().take(80).collect();
            if shown.len() < raw.len() {
                shown.push('…');
            }
            Err(JobError::InvalidId(shown))
        }
    }

    /// A fresh id as the original made them: the first 8 hex digits of a v4 uuid.
    pub fn generate() -> Self {
        let hex = uuid::Uuid::new_v4().simple().to_string();
        JobId(hex[..8].to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for JobId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_eight_lowercase_hex_digits() {
        for _ in 0..100 {
            let id = JobId::generate();
            assert_eq!(id.as_str().len(), 8);
            assert!(id.as_str().bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
            assert_eq!(JobId::parse(id.as_str()).unwrap(), id);
        }
    }

    #[test]
    fn accepts_the_documented_alphabet() {
        for ok in ["a", "3f2a9c1d", "ABC_def-123", &"x".repeat(64)] {
            assert!(JobId::parse(ok).is_ok(), "{ok:?} should be valid");
        }
    }

    #[test]
    fn rejects_anything_that_could_escape_or_confuse_a_path() {
        let long = "a".repeat(65);
        let huge = "a".repeat(10_000);
        for bad in ["", ".", "..", "../x", "a/b", "/etc", "a\0b", "a b", "é", "日本", "a.b", &long, &huge] {
            let err = JobId::parse(bad).unwrap_err();
            assert!(err.to_string().starts_with("invalid job id"), "{bad:?}: {err}");
        }
    }

    #[test]
    fn error_message_never_echoes_an_unbounded_id() {
        let err = JobId::parse(&"/".repeat(10_000)).unwrap_err().to_string();
        assert!(err.len() < 400, "{}", err.len());
    }
}
