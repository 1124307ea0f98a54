//! A finished job's agent session, as a follow-up names it on the agent's command line.
//!
//! The id is read back from the parent's `meta.json`, which any process of the user can
//! rewrite, so it is held to the shape the agents give their ids before it becomes an
//! argument: codex thread ids and Claude Code and Gemini CLI session ids are all UUIDs,
//! written with hyphens (`tests/fixtures/*-events`). Anything else — a flag, `--last`,
//! Gemini's `latest` or an index — would become an option or pick another conversation.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An agent session id: a hyphenated UUID (so never an option, a path or a keyword).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SessionId(String);

/// Text that is not a session id.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an agent session id (a UUID such as 01a200e4-ffa2-79d1-a693-7d6df5f8f223)")]
pub struct NotASessionId(pub String);

impl SessionId {
    /// The hyphenated form only: 8-4-4-4-12 hexadecimal digits.
    pub fn parse(raw: &str) -> Result<Self, NotASessionId> {
        if raw.len() == 36 && uuid::Uuid::try_parse(raw).is_ok() {
            Ok(SessionId(raw.to_owned()))
        } else {
            Err(NotASessionId(raw.chars().take(80).collect()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for SessionId {
    type Error = NotASessionId;

    fn try_from(raw: String) -> Result<Self, NotASessionId> {
        SessionId::parse(&raw)
    }
}

impl From<SessionId> for String {
    fn from(id: SessionId) -> String {
        id.0
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_hyphenated_uuids_are_session_ids() {
        for good in ["01a200e4-ffa2-79d1-a693-7d6df5f8f223", "fe836e48-16a9-4676-b656-9108f948128a", "FE836E48-16A9-4676-B656-9108F948128A"]
        {
            assert_eq!(SessionId::parse(good).unwrap().as_str(), good);
        }
        for bad in [
            "",
            "--last",
            "--dangerously-bypass-approvals-and-sandbox",
            "-01a200e4-ffa2-79d1-a693-7d6df5f8f22",
            "latest",
            "5",
            "01a200e4ffa279d1a6937d6df5f8f223",
            "{01a200e4-ffa2-79d1-a693-7d6df5f8f223}",
            "urn:uuid:01a200e4-ffa2-79d1-a693-7d6df5f8f223",
            "01a200e4-ffa2-79d1-a693-7d6df5f8f22g",
            "01a200e4-ffa2-79d1-a693-7d6df5f8f223\n",
            " 1a200e4-ffa2-79d1-a693-7d6df5f8f223",
        ] {
            assert!(SessionId::parse(bad).is_err(), "{bad:?}");
        }
        let from_json: Result<SessionId, _> = serde_json::from_str("\"--last\"");
        assert!(from_json.is_err(), "a request read back from disk is checked too");
    }
}
