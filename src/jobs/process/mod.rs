//! Which processes are a job's, as the kernel says: who holds the job's lock (its
//! owner), which processes carry its marker, which one is proven to be its supervisor
//! or the Python original's agent, and what `/proc` says about each. Nothing here
//! believes a pid read back from a job's folder.

pub mod marker;
pub mod owner;
pub mod procfs;
pub mod proven;

/// The hidden subcommand that runs a supervisor: how a starter runs one, and how a
/// supervisor is told from other processes.
pub const SUPERVISE_COMMAND: &str = "__supervise";
