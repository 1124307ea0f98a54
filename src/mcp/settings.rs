//! The limits and ways of one MCP server.

use std::time::Duration;

use crate::config::Settings;
use crate::jobs::{Agents, ApprovalPolicy, JobLimits};

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
    /// The policy of a start that names none.
    pub default_policy: ApprovalPolicy,
    /// The queue limit and time limits a start gets unless it names its own.
    pub job_limits: JobLimits,
    /// Between SIGINT and SIGKILL when `codex_cancel` stops a job.
    pub cancel_grace: Duration,
    /// The agents a start may name, and the default one.
    pub agents: Agents,
    /// Whether starts get a worktree by default, where worktrees go, what is copied in.
    pub worktrees: crate::config::WorktreeSettings,
    /// How a job stopped by a usage limit is followed up, if by default.
    pub resume_on_limit: Option<crate::jobs::ResumeOnLimit>,
    /// The same, for a start that asks for it.
    pub resume: crate::jobs::ResumeOnLimit,
    /// Named queues and their limits.
    pub groups: std::collections::BTreeMap<String, Option<usize>>,
    /// How long finished jobs are kept at least (the config's `retention.older_than`).
    pub retention: Option<Duration>,
    /// Other machines this server acts for (`[hosts.NAME]`), connected on first use.
    pub hosts: crate::hosts::HostPool,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            max_wait: Duration::from_secs(45),
            progress_interval: PROGRESS_INTERVAL,
            max_policy: ApprovalPolicy::FullAuto,
            transport: Transport::Stdio,
            default_policy: ApprovalPolicy::Suggest,
            job_limits: JobLimits::default(),
            cancel_grace: crate::config::DEFAULT_CANCEL_GRACE,
            agents: Agents::default(),
            worktrees: crate::config::WorktreeSettings::default(),
            resume_on_limit: None,
            resume: crate::jobs::ResumeOnLimit {
                prompt: crate::config::DEFAULT_RESUME_PROMPT.to_owned(),
                max_waits: crate::config::DEFAULT_MAX_LIMIT_WAITS,
                waits: 0,
            },
            groups: Default::default(),
            retention: None,
            hosts: crate::hosts::HostPool::default(),
        }
    }
}

impl ServerSettings {
    /// A server's settings from the resolved configuration.
    pub fn from_config(config: &Settings, transport: Transport) -> Self {
        ServerSettings {
            max_wait: config.max_wait.value,
            progress_interval: PROGRESS_INTERVAL,
            max_policy: config.max_policy.value,
            transport,
            default_policy: config.policy.value,
            job_limits: config.job_limits(),
            cancel_grace: config.cancel_grace.value,
            agents: config.agents(),
            worktrees: config.worktrees.clone(),
            resume_on_limit: config.resume_on_limit(None),
            resume: config.resume.clone(),
            groups: config.groups.clone(),
            retention: config.housekeeping().retention.and_then(|rule| rule.older_than),
            hosts: crate::hosts::HostPool::new(&config.hosts),
        }
    }
}
