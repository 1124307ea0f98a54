//! What goes wrong with a host, and the small helpers every part of a host's handling
//! shares: naming the known hosts, making a host's text safe to show.

use std::time::Duration;

/// How long one tool call to a host may take beyond what the call itself waits for.
pub const CALL_MARGIN: Duration = Duration::from_secs(15);

/// What went wrong with a host, naming it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostError {
    #[error("unknown host {name:?}: {known}")]
    Unknown { name: String, known: String },
    /// Connecting failed or took longer than the host's connect deadline.
    #[error("host {host} is unreachable: {message}")]
    Unreachable { host: String, message: String },
    /// The session ended or stopped answering during a call.
    #[error("host {host}: {message}")]
    Lost { host: String, message: String },
    /// The host's codex-async refused the request (an unknown job, a bad argument).
    #[error("host {host}: {message}")]
    Refused { host: String, message: String },
    /// The host's codex-async lacks a tool this one asks for (an older version).
    #[error("host {host} runs {version}, which has no {tool}: update it there (the rest works)")]
    Missing { host: String, version: String, tool: String },
    /// The host answered something that is not a valid answer.
    #[error("host {host} answered something unusable: {message}")]
    BadAnswer { host: String, message: String },
}

impl HostError {
    /// Whether the person asked for something wrong (an unknown host, a request the host
    /// refused), rather than the host failing.
    pub fn is_usage(&self) -> bool {
        matches!(self, HostError::Unknown { .. } | HostError::Refused { .. })
    }

    /// The host it is about.
    pub fn host(&self) -> &str {
        match self {
            HostError::Unknown { name, .. } => name,
            HostError::Unreachable { host, .. }
            | HostError::Lost { host, .. }
            | HostError::Refused { host, .. }
            | HostError::Missing { host, .. }
            | HostError::BadAnswer { host, .. } => host,
        }
    }
}

/// The known hosts, for an error about an unknown one.
pub fn known_hosts<'a>(names: impl IntoIterator<Item = &'a String>) -> String {
    let names: Vec<&str> = names.into_iter().map(String::as_str).collect();
    if names.is_empty() {
        "no hosts are configured (add [hosts.NAME] to config.toml: see `codex-async config --init`)".to_owned()
    } else {
        format!("the hosts are {}", names.join(", "))
    }
}

/// A line of text from a host, made safe to show and bounded.
pub fn shown(text: &str, max_chars: usize) -> String {
    crate::term::sanitize_line(text, max_chars, false)
}
