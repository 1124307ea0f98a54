//! Option groups several verbs share (`start`, `reply`, `rerun`): the agent's model and
//! settings, the queue's limit, the time limits, and how a policy is read.

use std::time::Duration;

use clap::Args;

use crate::human::parse_duration;
use crate::jobs::{ApprovalPolicy, JobError};

/// Options every job-starting command shares.
#[derive(Debug, Clone, Args)]
pub struct LimitArgs {
    /// Run at most N jobs at once; the rest wait as `pending`, started in order (0: no limit).
    #[arg(long, value_name = "N")]
    pub max_running: Option<usize>,
}

/// How long one job may run quietly, and at all.
#[derive(Debug, Clone, Args)]
pub struct TimeLimitArgs {
    /// Cancel the job (reason: stalled) when it prints nothing for this long: seconds, or 90s, 20m, 2h.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub stall_timeout: Option<Duration>,
    /// Cancel the job (reason: timed out) when it runs longer than this: seconds, or 90s, 20m, 2h.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub max_duration: Option<Duration>,
}

/// The agent's model and settings, passed to it as separate arguments (never through a shell).
#[derive(Debug, Clone, Args)]
pub struct AgentArgs {
    /// The model the agent uses (its own -m/--model).
    #[arg(long, short = 'm', value_name = "MODEL")]
    pub model: Option<String>,
    /// A codex config profile (codex -p).
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// A codex config override, key=value (codex -c); repeat it for more.
    #[arg(long, short = 'c', value_name = "KEY=VALUE")]
    pub config: Vec<String>,
}

impl AgentArgs {
    pub fn options(&self) -> crate::jobs::AgentOptions {
        crate::jobs::AgentOptions { model: self.model.clone(), profile: self.profile.clone(), config: self.config.clone() }
    }
}

pub fn parse_policy(raw: &str) -> Result<ApprovalPolicy, String> {
    raw.parse().map_err(|err: JobError| err.to_string())
}
