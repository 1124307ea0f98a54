//! The open-files limit (`RLIMIT_NOFILE`): raised by a process that serves HTTP, given
//! back to the jobs it starts.
//!
//! Every HTTP connection is a descriptor, and the usual soft limit (1024, or less) is
//! far below the hard one; a server that stays at the soft limit runs out of
//! descriptors long before it runs out of anything else. So an endpoint raises its soft
//! limit to the hard one at start. Its children must not inherit that: a program that
//! closes every possible descriptor before it runs a command (many do) takes as long as
//! the limit is high, and `select(2)` cannot handle descriptors past 1024. The
//! supervisors it starts get the limit from before the raise in [`LIMIT_ENV`] and put
//! it back before they start an agent.

use std::sync::OnceLock;

use nix::sys::resource::{Resource, getrlimit, setrlimit};

/// Set on a supervisor by a starter that raised its own limit: the soft limit it had
/// before, for the supervisor (and so the agent) to run with.
pub const LIMIT_ENV: &str = "CODEX_ASYNC_NOFILE";

/// The soft limit this process had before [`raise`] changed it.
static BEFORE_RAISE: OnceLock<u64> = OnceLock::new();

/// Raises the soft open-files limit to the hard one; returns the soft limit in effect
/// afterwards (the old one when it cannot be raised).
pub fn raise() -> u64 {
    let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) else { return 1024 };
    if soft >= hard {
        return soft;
    }
    match setrlimit(Resource::RLIMIT_NOFILE, hard, hard) {
        Ok(()) => {
            // A second endpoint in the process keeps the first one's record.
            let _ = BEFORE_RAISE.set(soft);
            tracing::debug!(from = soft, to = hard, "raised the open-files limit");
            hard
        }
        Err(err) => {
            tracing::warn!(%err, soft, hard, "could not raise the open-files limit");
            soft
        }
    }
}

/// The soft limit a child of this process should run with, when [`raise`] changed it.
pub fn before_raise() -> Option<u64> {
    BEFORE_RAISE.get().copied()
}

/// In a supervisor: lowers the soft limit back to the one [`LIMIT_ENV`] names (never
/// raises it; a value that does not read as a number is ignored).
pub fn restore_from_env() {
    let Some(wanted) = std::env::var(LIMIT_ENV).ok().and_then(|value| value.trim().parse::<u64>().ok()) else { return };
    let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) else { return };
    if wanted < soft {
        let _ = setrlimit(Resource::RLIMIT_NOFILE, wanted, hard);
    }
}
