//! Other machines' codex-async, spoken to over MCP: each host keeps its own jobs folder
//! and supervisors, and stays the truth for its jobs; this machine only asks. Nothing is
//! shared and nothing is scheduled across hosts: the caller chooses the host.
//!
//! - [`address`]: `NAME:ID` and `--host NAME`, the one way a job of another host is named.
//! - [`connect`]: reaching a host (a command's stdio, or streamable HTTP with its token),
//!   within its connect deadline, and what its codex-async says it is.
//! - [`session`]: a tool call to a connected host, with its own deadline; what the host
//!   answers is checked by [`answers`] (ids, shape, size) before anything uses it.
//! - [`notes`]: what a host sends unasked (a wait's progress, changed resources), passed
//!   on to whoever listens.
//! - [`pool`]: the hosts of one process, each connected on first use and on its own
//!   lock, so a slow host never holds up another.
//! - [`probe`]: every host's state at once (`codex-async hosts`).
//! - [`watch`]: one host's jobs kept live for the dashboard, each host on its own task,
//!   reconnected with backoff.
//!
//! A host's answers are untrusted input: ids are checked against the id shape before
//! they name anything here, text is bounded, and what reaches a terminal goes through
//! the one sanitizer ([`crate::term`]). This machine's own token never goes to a host.

pub mod address;
pub mod answers;
pub mod connect;
mod error;
pub mod notes;
pub mod pool;
pub mod probe;
pub mod session;
mod stderr;
pub mod watch;

pub use address::{JobRef, job_ref, qualified};
pub use error::{CALL_MARGIN, HostError, known_hosts, shown};
pub use notes::HostNote;
pub use pool::HostPool;
pub use probe::{HostState, probe_all};
pub use session::HostSession;
