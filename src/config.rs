//! `$CODEX_ASYNC_HOME/config.toml`: defaults for every process of a home.
//!
//! Each setting comes from, in this order: a command-line flag, an environment variable
//! (`CODEX_ASYNC_<KEY>`), the config file, the built-in default — and remembers which,
//! for `codex-async config`. What the file may hold, and how it is read, is in `file`.

mod file;
pub mod hosts;
#[cfg(test)]
mod tests;
mod worktree;
pub use worktree::WorktreeSettings;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use file::{AgentConfig, ConfigDuration, ConfigError, ConfigSize, EXAMPLE, FileConfig, HostConfig, Retention};
pub use hosts::{HostSpec, HostTransport, LOCAL_HOST, valid_host_name};

use crate::human::{parse_duration, parse_size, show_duration, show_size};
use crate::jobs::ApprovalPolicy;

pub const CONFIG_FILE: &str = "config.toml";

/// Where a setting's value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    Flag(&'static str),
    Env(&'static str),
    File(PathBuf),
    Default,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Flag(flag) => write!(f, "flag {flag}"),
            Source::Env(name) => write!(f, "environment {name}"),
            Source::File(path) => write!(f, "{}", path.display()),
            Source::Default => f.write_str("built-in default"),
        }
    }
}

/// A value and where it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Setting<T> {
    pub value: T,
    pub source: Source,
}

/// Values given on a command line (each `None` when not given).
#[derive(Clone, Debug, Default)]
pub struct Flags {
    pub policy: Option<ApprovalPolicy>,
    pub max_policy: Option<ApprovalPolicy>,
    pub agent: Option<String>,
    pub cancel_grace: Option<Duration>,
    pub max_wait: Option<Duration>,
    pub port: Option<u16>,
    pub max_running: Option<usize>,
    pub stall_timeout: Option<Duration>,
    pub max_duration: Option<Duration>,
}

/// Every setting of a process, resolved.
#[derive(Clone, Debug)]
pub struct Settings {
    pub path: PathBuf,
    pub policy: Setting<ApprovalPolicy>,
    pub max_policy: Setting<ApprovalPolicy>,
    pub agent: Setting<String>,
    pub cancel_grace: Setting<Duration>,
    pub max_wait: Setting<Duration>,
    pub port: Setting<u16>,
    /// `None`: no limit.
    pub max_running: Setting<Option<usize>>,
    pub stall_timeout: Setting<Option<Duration>>,
    pub max_duration: Setting<Option<Duration>>,
    /// `None`: a job's output is kept whole.
    pub max_output: Setting<Option<u64>>,
    /// `None`: no token budget unless a job sets one.
    pub max_tokens: Setting<Option<u64>>,
    /// How a job stopped by a usage limit is followed up, and whether by default.
    pub resume_on_limit: Setting<bool>,
    pub resume: crate::jobs::ResumeOnLimit,
    /// Named queues and their limits (`None`: no limit).
    pub groups: BTreeMap<String, Option<usize>>,
    pub retention: Setting<Option<Retention>>,
    /// How long an approval request waits before it is denied.
    pub approval_timeout: Setting<Duration>,
    pub agents: BTreeMap<String, AgentConfig>,
    /// Worktrees: whether jobs get one by default, where they live, what is copied in.
    pub worktrees: worktree::WorktreeSettings,
    /// Other machines' codex-async, by name (`[hosts.NAME]`).
    pub hosts: BTreeMap<String, HostSpec>,
}

/// The process environment, with empty values read as unset.
fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.trim().is_empty())
}

/// Where environment variables are read from (the process's, or a test's map).
type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

fn env_error(name: &str, message: String) -> ConfigError {
    ConfigError { place: format!("environment {name}"), message }
}

/// An environment variable's name, and how its text becomes a value.
type EnvVar<T> = (&'static str, fn(&str) -> Result<T, String>);

/// flag > environment > file > default, for one setting.
fn layer<T: Clone>(
    flag: (Option<T>, &'static str),
    env: EnvVar<T>,
    file: Option<T>,
    context: (&Path, Env<'_>),
    default: T,
) -> Result<Setting<T>, ConfigError> {
    let (path, lookup) = context;
    if let Some(value) = flag.0 {
        return Ok(Setting { value, source: Source::Flag(flag.1) });
    }
    if let Some(raw) = lookup(env.0).filter(|value| !value.trim().is_empty()) {
        let value = (env.1)(&raw).map_err(|message| env_error(env.0, message))?;
        return Ok(Setting { value, source: Source::Env(env.0) });
    }
    if let Some(value) = file {
        return Ok(Setting { value, source: Source::File(path.to_owned()) });
    }
    Ok(Setting { value: default, source: Source::Default })
}

fn parse_policy(raw: &str) -> Result<ApprovalPolicy, String> {
    raw.parse().map_err(|err: crate::jobs::JobError| err.to_string())
}

fn parse_count(raw: &str) -> Result<Option<usize>, String> {
    let count: usize = raw.trim().parse().map_err(|_| format!("{raw:?} is not a whole number (0 means no limit)"))?;
    Ok((count > 0).then_some(count))
}

fn parse_port(raw: &str) -> Result<u16, String> {
    raw.trim().parse().map_err(|_| format!("{raw:?} is not a port number (0 to 65535)"))
}

fn parse_some_duration(raw: &str) -> Result<Option<Duration>, String> {
    parse_duration(raw).map(|duration| (!duration.is_zero()).then_some(duration))
}

fn parse_some_size(raw: &str) -> Result<Option<u64>, String> {
    parse_size(raw).map(|bytes| (bytes > 0).then_some(bytes))
}

/// A group's limit among `groups`, or `default` for no group.
pub fn queue_limit(
    groups: &BTreeMap<String, Option<usize>>,
    default: Option<usize>,
    group: Option<&str>,
) -> Result<Option<usize>, crate::jobs::JobError> {
    let Some(group) = group else { return Ok(default) };
    groups.get(group).copied().ok_or_else(|| {
        let known = if groups.is_empty() { "none".to_owned() } else { groups.keys().cloned().collect::<Vec<_>>().join(", ") };
        crate::jobs::JobError::BadRequest(format!(
            "unknown group {group:?}: groups are named in config.toml as [groups.NAME] max_running = N (known: {known})"
        ))
    })
}

/// Built-in defaults.
pub const DEFAULT_CANCEL_GRACE: Duration = Duration::from_secs(5);
pub const DEFAULT_MAX_WAIT: Duration = Duration::from_secs(45);
pub const DEFAULT_PORT: u16 = 8765;
pub const DEFAULT_RESUME_PROMPT: &str = "You were stopped by a usage limit, which has reset now. Continue the task where you left off.";
pub const DEFAULT_MAX_LIMIT_WAITS: u32 = 3;

impl Settings {
    /// Resolves every setting for a home: `flags` over the environment over the file
    /// over the defaults.
    pub fn load(home: &Path, flags: &Flags) -> Result<Settings, ConfigError> {
        let path = home.join(CONFIG_FILE);
        let file = FileConfig::load(&path)?;
        Self::resolve(path, &file, flags, &process_env)
    }

    /// The defaults, the environment and flags alone (`--ignore-config`).
    pub fn without_file(home: &Path, flags: &Flags) -> Result<Settings, ConfigError> {
        Self::resolve(home.join(CONFIG_FILE), &FileConfig::default(), flags, &process_env)
    }

    /// Resolves with `env` as the environment.
    pub fn resolve(path: PathBuf, file: &FileConfig, flags: &Flags, env: Env<'_>) -> Result<Settings, ConfigError> {
        let context = (path.as_path(), env);
        let dur = |value: Option<ConfigDuration>| value.map(|value| value.0);
        let some_dur = |value: Option<ConfigDuration>| value.map(|value| (!value.0.is_zero()).then_some(value.0));
        let settings = Settings {
            policy: layer(
                (flags.policy, "--approval-policy"),
                ("CODEX_ASYNC_POLICY", parse_policy),
                file.policy,
                context,
                ApprovalPolicy::Suggest,
            )?,
            max_policy: layer(
                (flags.max_policy, "--max-policy"),
                ("CODEX_ASYNC_MAX_POLICY", parse_policy),
                file.max_policy,
                context,
                ApprovalPolicy::FullAuto,
            )?,
            agent: layer(
                (flags.agent.clone(), "--agent"),
                ("CODEX_ASYNC_AGENT", |raw| Ok(raw.trim().to_owned())),
                file.agent.clone(),
                context,
                "codex".to_owned(),
            )?,
            cancel_grace: layer(
                (flags.cancel_grace, "--grace"),
                ("CODEX_ASYNC_CANCEL_GRACE", parse_duration),
                dur(file.cancel_grace),
                context,
                DEFAULT_CANCEL_GRACE,
            )?,
            max_wait: layer(
                (flags.max_wait, "--max-wait"),
                ("CODEX_ASYNC_MAX_WAIT", parse_duration),
                dur(file.max_wait),
                context,
                DEFAULT_MAX_WAIT,
            )?,
            port: layer((flags.port, "--port"), ("CODEX_ASYNC_PORT", parse_port), file.port, context, DEFAULT_PORT)?,
            max_running: layer(
                (flags.max_running.map(|count| (count > 0).then_some(count)), "--max-running"),
                ("CODEX_ASYNC_MAX_RUNNING", parse_count),
                file.max_running.map(|count| (count > 0).then_some(count)),
                context,
                None,
            )?,
            stall_timeout: layer(
                (flags.stall_timeout.map(|value| (!value.is_zero()).then_some(value)), "--stall-timeout"),
                ("CODEX_ASYNC_STALL_TIMEOUT", parse_some_duration),
                some_dur(file.stall_timeout),
                context,
                None,
            )?,
            max_duration: layer(
                (flags.max_duration.map(|value| (!value.is_zero()).then_some(value)), "--max-duration"),
                ("CODEX_ASYNC_MAX_DURATION", parse_some_duration),
                some_dur(file.max_duration),
                context,
                None,
            )?,
            max_output: layer(
                (None, "max_output"),
                ("CODEX_ASYNC_MAX_OUTPUT", parse_some_size),
                file.max_output.map(|size| (size.0 > 0).then_some(size.0)),
                context,
                None,
            )?,
            max_tokens: layer(
                (None, "max_tokens"),
                ("CODEX_ASYNC_MAX_TOKENS", |raw| {
                    raw.trim()
                        .parse::<u64>()
                        .map(|count| (count > 0).then_some(count))
                        .map_err(|_| format!("{raw:?} is not a number of tokens"))
                }),
                file.max_tokens.map(|count| (count > 0).then_some(count)),
                context,
                None,
            )?,
            groups: file.groups.iter().map(|(name, group)| (name.clone(), (group.max_running > 0).then_some(group.max_running))).collect(),
            resume_on_limit: match file.resume_on_limit {
                Some(value) => Setting { value, source: Source::File(path.clone()) },
                None => Setting { value: false, source: Source::Default },
            },
            resume: crate::jobs::ResumeOnLimit {
                prompt: file
                    .resume_prompt
                    .clone()
                    .filter(|prompt| !prompt.trim().is_empty())
                    .unwrap_or_else(|| DEFAULT_RESUME_PROMPT.to_owned()),
                max_waits: file.max_limit_waits.unwrap_or(DEFAULT_MAX_LIMIT_WAITS),
                waits: 0,
            },
            retention: match &file.retention {
                Some(retention) => Setting { value: Some(retention.clone()), source: Source::File(path.clone()) },
                None => Setting { value: None, source: Source::Default },
            },
            approval_timeout: layer(
                (None, "approval_timeout"),
                ("CODEX_ASYNC_APPROVAL_TIMEOUT", parse_duration),
                dur(file.approval_timeout),
                context,
                crate::jobs::approval::DEFAULT_TIMEOUT,
            )?,
            agents: file.agents.clone(),
            worktrees: worktree::WorktreeSettings::from_file(file, &path)?,
            hosts: hosts::check_hosts(&file.hosts, &path)?,
            path,
        };
        // The default agent must be one that exists.
        if let Err(err) = settings.agents().resolve(None) {
            return Err(ConfigError { place: settings.agent.source.to_string(), message: err.to_string() });
        }
        Ok(settings)
    }

    /// The agents jobs may name, and the default one.
    pub fn agents(&self) -> crate::jobs::Agents {
        let custom = self.agents.iter().map(|(name, agent)| (name.clone(), agent.command.clone())).collect();
        crate::jobs::Agents::new(self.agent.value.clone(), custom)
    }

    /// What a job started with these settings is bounded by.
    pub fn job_limits(&self) -> crate::jobs::JobLimits {
        crate::jobs::JobLimits {
            max_running: self.max_running.value,
            stall_timeout: self.stall_timeout.value,
            max_duration: self.max_duration.value,
            cancel_grace: Some(self.cancel_grace.value),
            max_output: self.max_output.value,
            max_tokens: self.max_tokens.value,
        }
    }

    /// How many jobs of `group` may run at once: the group's own limit, or `max_running`
    /// for the default group. An unknown group is refused, naming the known ones.
    pub fn queue_limit(&self, group: Option<&str>) -> Result<Option<usize>, crate::jobs::JobError> {
        queue_limit(&self.groups, self.max_running.value, group)
    }

    /// How a job is followed up when a usage limit stops it: `asked` (a flag or an
    /// argument) or the config's `resume_on_limit`; `None` for neither.
    pub fn resume_on_limit(&self, asked: Option<bool>) -> Option<crate::jobs::ResumeOnLimit> {
        asked.unwrap_or(self.resume_on_limit.value).then(|| self.resume.clone())
    }

    /// What a long-lived process (a server, the dashboard) does for the home besides its
    /// own work: the config's retention, and a queue kept moving when a limit is set.
    pub fn housekeeping(&self) -> crate::jobs::Housekeeping {
        let retention = self
            .retention
            .value
            .as_ref()
            .map(|retention| crate::jobs::GcRule { older_than: retention.older_than.map(|age| age.0), keep: retention.keep });
        crate::jobs::Housekeeping {
            retention,
            queue_limited: self.max_running.value.is_some() || self.groups.values().any(Option::is_some),
        }
    }

    /// `key  value  (source)` lines, for `codex-async config`.
    pub fn describe(&self) -> Vec<(&'static str, String, String)> {
        let optional = |value: Option<Duration>| value.map_or("off".to_owned(), show_duration);
        let mut rows = vec![
            ("policy", self.policy.value.to_string(), self.policy.source.to_string()),
            ("max_policy", self.max_policy.value.to_string(), self.max_policy.source.to_string()),
            ("agent", self.agent.value.clone(), self.agent.source.to_string()),
            ("cancel_grace", show_duration(self.cancel_grace.value), self.cancel_grace.source.to_string()),
            ("max_wait", show_duration(self.max_wait.value), self.max_wait.source.to_string()),
            ("port", self.port.value.to_string(), self.port.source.to_string()),
            (
                "max_running",
                self.max_running.value.map_or("unlimited".to_owned(), |count| count.to_string()),
                self.max_running.source.to_string(),
            ),
            ("stall_timeout", optional(self.stall_timeout.value), self.stall_timeout.source.to_string()),
            ("max_duration", optional(self.max_duration.value), self.max_duration.source.to_string()),
            ("max_output", self.max_output.value.map_or("off".to_owned(), show_size), self.max_output.source.to_string()),
            ("max_tokens", self.max_tokens.value.map_or("off".to_owned(), |count| count.to_string()), self.max_tokens.source.to_string()),
        ];
        let retention = match &self.retention.value {
            None => "off".to_owned(),
            Some(retention) => {
                let older = retention.older_than.map(|value| format!("older than {}", show_duration(value.0)));
                let keep = retention.keep.map(|keep| format!("keeping the newest {keep}"));
                [older, keep].into_iter().flatten().collect::<Vec<_>>().join(", ")
            }
        };
        rows.push(("retention", retention, self.retention.source.to_string()));
        rows.push(("approval_timeout", show_duration(self.approval_timeout.value), self.approval_timeout.source.to_string()));
        let resume = if self.resume_on_limit.value { format!("on, up to {} times", self.resume.max_waits) } else { "off".to_owned() };
        rows.push(("resume_on_limit", resume, self.resume_on_limit.source.to_string()));
        for (name, limit) in &self.groups {
            rows.push((
                "groups",
                format!("{name}: {}", limit.map_or("unlimited".to_owned(), |n| format!("{n} at once"))),
                self.path.display().to_string(),
            ));
        }
        for (name, agent) in &self.agents {
            rows.push(("agents", format!("{name} = {:?}", agent.command), self.path.display().to_string()));
        }
        for (name, host) in &self.hosts {
            rows.push(("hosts", format!("{name} = {}", host.describe()), self.path.display().to_string()));
        }
        rows
    }
}
