//! Everything the dashboard loop needs besides its state.

use std::path::PathBuf;

use tokio_util::sync::CancellationToken;

use crate::jobs::{Agents, Ceiling, Engine};

use super::notice::Terminal;

/// Everything the loop needs besides the state.
pub(crate) struct Context {
    pub(crate) engine: Engine,
    /// The agents the form may name.
    pub(crate) agents: Agents,
    /// What a job started or followed up from here may ask for (the configured
    /// `max_policy`): a follow-up or a run again is judged as a new request.
    pub(crate) ceiling: Ceiling,
    /// The queue and time limits a job started from the form gets.
    pub(crate) limits: crate::jobs::JobLimits,
    /// The named queues (`[groups.NAME]`) and their limits: a follow-up goes on in its
    /// parent's group.
    pub(crate) groups: std::collections::BTreeMap<String, Option<usize>>,
    /// Where a job started in its own worktree gets it, and what is copied in.
    pub(crate) worktrees: crate::config::WorktreeSettings,
    /// Between SIGINT and SIGKILL when `c` stops a job.
    pub(crate) cancel_grace: std::time::Duration,
    pub(crate) shutdown: CancellationToken,
    /// Where the settings to remember are written.
    pub(crate) state_path: PathBuf,
    /// The home folder, for `~` in folder completion.
    pub(crate) home: Option<String>,
    /// Which sequences the terminal takes.
    pub(crate) terminal: Terminal,
    /// The configured hosts, whose jobs the hosts view shows.
    pub(crate) hosts: crate::hosts::HostPool,
}
