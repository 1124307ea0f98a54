//! The limits and ways of one MCP server.

use std::time::Duration;

use crate::jobs::ApprovalPolicy;

/// How often a waiting tool reports progress (clients reset their timeouts on it).
pub const PROGRESS_INTERVAL: Duration = Duration::from_secs(3);

/// How a client reaches the server: it decides what a relative `cwd` means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// The client started the server in its project: a relative `cwd` is that project.
    Stdio,
    /// The server's own folder means nothing to the caller: a `cwd` must be absolute.
    Http,
}

/// The limits and ways of one server.
#[derive(Clone, Debug)]
pub struct ServerSettings {
    /// The longest one `codex_wait` or `codex_await_any` call blocks.
    pub max_wait: Duration,
    /// How often a blocking wait reports progress.
    pub progress_interval: Duration,
    /// The most a job started over MCP may ask for.
    pub max_policy: ApprovalPolicy,
    pub transport: Transport,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            max_wait: Duration::from_secs(45),
            progress_interval: PROGRESS_INTERVAL,
            max_policy: ApprovalPolicy::FullAuto,
            transport: Transport::Stdio,
        }
    }
}
