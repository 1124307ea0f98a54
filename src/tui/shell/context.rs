//! Everything the dashboard loop needs besides its state.

use std::path::PathBuf;

use tokio_util::sync::CancellationToken;

use crate::jobs::{Agents, Engine};

use super::notice::Terminal;

/// Everything the loop needs besides the state.
pub struct Context {
    pub engine: Engine,
    /// The agents the form may name.
    pub agents: Agents,
    /// The queue and time limits a job started from the form gets.
    pub limits: crate::jobs::JobLimits,
    /// Between SIGINT and SIGKILL when `c` stops a job.
    pub cancel_grace: std::time::Duration,
    pub shutdown: CancellationToken,
    /// Where the settings to remember are written.
    pub state_path: PathBuf,
    /// The home folder, for `~` in folder completion.
    pub home: Option<String>,
    /// Which sequences the terminal takes.
    pub terminal: Terminal,
}
