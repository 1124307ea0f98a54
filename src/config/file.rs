//! The file itself: typed structs that refuse unknown keys, so a typo or a wrong type
//! is an error naming the file, the line, the key and what is valid, never silently
//! ignored; and the example `codex-async config --init` writes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Deserializer};

use crate::human::{parse_duration, parse_size};
use crate::jobs::{Agents, ApprovalPolicy, Hooks};

/// A duration in the file: a number of seconds or a string with a unit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ConfigDuration(pub Duration);

impl<'de> Deserialize<'de> for ConfigDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Seconds(u64),
            Fraction(f64),
            Text(String),
        }
        let parsed = match Raw::deserialize(deserializer)
            .map_err(|_| serde::de::Error::custom("expected a duration: seconds (90) or text (\"90s\", \"20m\", \"2h\", \"7d\")"))?
        {
            Raw::Seconds(seconds) => Ok(Duration::from_secs(seconds)),
            Raw::Fraction(seconds) => parse_duration(&seconds.to_string()),
            Raw::Text(text) => parse_duration(&text),
        };
        parsed.map(ConfigDuration).map_err(serde::de::Error::custom)
    }
}

/// A size in the file: a number of bytes or a string with a unit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ConfigSize(pub u64);

impl<'de> Deserialize<'de> for ConfigSize {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Bytes(u64),
            Text(String),
        }
        let parsed = match Raw::deserialize(deserializer)
            .map_err(|_| serde::de::Error::custom("expected a size: bytes (1048576) or text (\"500KB\", \"200MB\", \"2GB\")"))?
        {
            Raw::Bytes(bytes) => Ok(bytes),
            Raw::Text(text) => parse_size(&text),
        };
        parsed.map(ConfigSize).map_err(serde::de::Error::custom)
    }
}

/// When a server or the dashboard starts, finished jobs beyond these go (`codex-async gc`).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Retention {
    /// Finished jobs that ended longer ago than this.
    pub older_than: Option<ConfigDuration>,
    /// Always keep this many newest finished jobs.
    pub keep: Option<usize>,
}

/// An agent defined in the config: an argv template (no shell). `{prompt}` is required;
/// `{cwd}` and `{last_message_file}` may appear; each placeholder is one argument.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    pub command: Vec<String>,
}

/// A named queue: how many of its jobs run at once (0: no limit).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupConfig {
    pub max_running: usize,
}

/// One host as written in the file.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostConfig {
    /// A program and its arguments that speak MCP on their stdin and stdout.
    pub command: Option<Vec<String>>,
    /// A streamable HTTP endpoint (`https://box:8765/mcp`, or `http://` on loopback).
    pub url: Option<String>,
    /// The environment variable that holds the host's bearer token.
    pub token_env: Option<String>,
    /// PEM certificates an https host's certificate may chain to, besides the system's.
    pub ca_file: Option<std::path::PathBuf>,
    /// How long connecting may take (default 10 s).
    pub connect_timeout: Option<ConfigDuration>,
}

/// The file as written: every key optional.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub policy: Option<ApprovalPolicy>,
    pub max_policy: Option<ApprovalPolicy>,
    pub agent: Option<String>,
    pub cancel_grace: Option<ConfigDuration>,
    pub max_wait: Option<ConfigDuration>,
    pub port: Option<u16>,
    pub max_running: Option<usize>,
    pub stall_timeout: Option<ConfigDuration>,
    pub max_duration: Option<ConfigDuration>,
    pub max_output: Option<ConfigSize>,
    /// The token budget of a job that sets none (agents that report usage only).
    pub max_tokens: Option<u64>,
    /// Follow up a job stopped by a usage limit at the reset, unless it says otherwise.
    pub resume_on_limit: Option<bool>,
    /// What that follow-up tells the agent.
    pub resume_prompt: Option<String>,
    /// How many follow-ups in a row a limit may cause.
    pub max_limit_waits: Option<u32>,
    pub retention: Option<Retention>,
    pub approval_timeout: Option<ConfigDuration>,
    #[serde(default)]
    pub agents: BTreeMap<String, AgentConfig>,
    /// `none` (jobs run in place) or `worktree` (each job in its own git worktree).
    pub isolation: Option<String>,
    /// Where worktrees go (default: `$CODEX_ASYNC_HOME/worktrees`).
    pub worktree_dir: Option<PathBuf>,
    /// Ignored files of the origin copied into each new worktree (`.env`, …).
    pub worktree_copy: Option<Vec<String>>,
    /// Commit what the agent leaves uncommitted on the job's branch when it ends (default true).
    pub worktree_commit: Option<bool>,
    /// Named queues, each with its own limit (`--group`).
    #[serde(default)]
    pub groups: BTreeMap<String, GroupConfig>,
    /// Programs told when a job starts or ends (see `jobs::hooks`).
    pub hooks: Option<Hooks>,
    pub hook_timeout: Option<ConfigDuration>,
    /// Other machines' codex-async (see `config::hosts`).
    #[serde(default)]
    pub hosts: BTreeMap<String, HostConfig>,
}

/// A config problem, with where it is.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{place}: {message}")]
pub struct ConfigError {
    /// `config.toml line 3 (max_runing)`, or `CODEX_ASYNC_PORT`, or `--port`.
    pub place: String,
    pub message: String,
}

impl FileConfig {
    /// Reads the file; a missing file is an empty config.
    pub fn load(path: &Path) -> Result<FileConfig, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(FileConfig::default()),
            Err(err) => return Err(ConfigError { place: path.display().to_string(), message: format!("cannot read it: {err}") }),
        };
        Self::parse(&text, path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<FileConfig, ConfigError> {
        let config: FileConfig = toml::from_str(text).map_err(|err| {
            let (line, key) = match err.span() {
                Some(span) => {
                    let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
                    let key = key_on_line(text, line, &text[span.clone()]);
                    (Some(line), key)
                }
                None => (None, None),
            };
            let mut place = path.display().to_string();
            if let Some(line) = line {
                place.push_str(&format!(" line {line}"));
            }
            if let Some(key) = key {
                place.push_str(&format!(" ({key})"));
            }
            ConfigError { place, message: err.message().trim().to_owned() }
        })?;
        for (name, agent) in &config.agents {
            if Agents::BUILT_IN.contains(&name.as_str()) {
                return Err(ConfigError {
                    place: format!("{} ([agents.{name}])", path.display()),
                    message: format!("'{name}' is a built-in agent: give yours another name"),
                });
            }
            if !agent.command.iter().any(|arg| arg.contains("{prompt}")) {
                return Err(ConfigError {
                    place: format!("{} ([agents.{name}] command)", path.display()),
                    message: "the command has no {prompt}: say where the prompt goes, as one argument".to_owned(),
                });
            }
            if agent.command.first().is_none_or(|program| program.trim().is_empty() || program.contains('{')) {
                return Err(ConfigError {
                    place: format!("{} ([agents.{name}] command)", path.display()),
                    message: "the command must start with the program to run".to_owned(),
                });
            }
        }
        if let Some(hooks) = &config.hooks {
            hooks.check().map_err(|message| ConfigError { place: format!("{} ([hooks])", path.display()), message })?;
        }
        Ok(config)
    }
}

/// The key a line sets (`key = …`), or the spanned text when the line has none.
fn key_on_line(text: &str, line: usize, spanned: &str) -> Option<String> {
    let source = text.lines().nth(line - 1)?;
    match source.split_once('=') {
        Some((key, _)) => Some(key.trim().trim_matches('"').to_owned()),
        None => Some(spanned.trim().trim_matches(['[', ']']).to_owned()).filter(|key| !key.is_empty()),
    }
}

/// The file `codex-async config --init` writes: every key, commented out, with its default.
pub const EXAMPLE: &str = r#"# codex-async configuration. Every key is optional; a flag or a CODEX_ASYNC_<KEY>
# environment variable overrides the value here. `codex-async config` shows what applies.

# The approval policy of a job started without one: suggest | auto-edit | full-auto.
# policy = "suggest"

# The most a job may ask for: over MCP (serve and the dashboard's endpoint), from the
# dashboard's forms and from the command line. Below full-auto it also limits codex
# settings to those of the model (model_reasoning_effort, model_verbosity, …; no
# profile), and keeps an agent that may write out of /, your home folder and this
# folder; a follow-up is held to it with what it inherits.
# max_policy = "full-auto"

# The agent a job runs when none is named.
# agent = "codex"

# How long an `ask` job's approval request waits for a person before it is denied
# (the agent is told, and goes on without it).
# approval_timeout = "30m"

# Between SIGINT and SIGKILL when a job is cancelled (SIGTERM comes halfway).
# cancel_grace = "5s"

# The longest one codex_wait or codex_await_any call blocks.
# max_wait = "45s"

# The dashboard's MCP port (on 127.0.0.1).
# port = 8765

# How many jobs may run at once; the rest wait as `pending`, started in order as
# slots free. Leave it out (or 0) for no limit.
# max_running = 4

# Cancel a job that prints nothing for this long (reason: stalled), or that runs
# longer than this (reason: timed out). Off unless set; a job can set its own.
# stall_timeout = "20m"
# max_duration = "2h"

# A job's output is kept twice when its agent streams events (events.jsonl, and the
# transcript in output.txt), and whole by default. Past this size each file keeps its
# first part and its last 4 MiB (at most half the size), and says how much was
# dropped between. Off unless set.
# max_output = "200MB"

# A job's token budget (tokens in + out, as its agent reports them): past it, the job
# is cancelled (reason: over budget). Only for agents that report usage (codex,
# claude, gemini); a job can set its own (--max-tokens, max_tokens). Off unless set.
# max_tokens = 200000

# Named queues, each with its own limit: `start --group NAME` (group on codex_start)
# waits in that queue; jobs without a group are the default group, limited by
# max_running. Pending jobs of a group start highest --priority first.
# [groups.review]
# max_running = 1

# A job stopped by its provider's usage limit ends `error` with `limit` in its meta, and
# that agent's other jobs wait until the reset (other agents' go on). With
# resume_on_limit (or --resume-on-limit, resume_on_limit on codex_start), the job is
# followed up at the reset with resume_prompt, up to max_limit_waits times in a row.
# resume_on_limit = false
# resume_prompt = "You were stopped by a usage limit, which has reset now. Continue the task where you left off."
# max_limit_waits = 3

# Finished jobs a server or the dashboard removes when it starts (as `codex-async gc`).
# [retention]
# older_than = "30d"
# keep = 200

# Jobs in their own git worktree (a new branch codex-async/<id> from the origin's HEAD)
# instead of in the folder asked for: "none" (the default) or "worktree"; a job can ask
# either way (--worktree / "worktree": true). Where worktrees go, which ignored files
# of the origin are copied in (copies, never links), and whether what the agent left
# uncommitted is committed on its branch when it ends:
# isolation = "worktree"
# worktree_dir = "/home/me/worktrees"
# worktree_copy = [".env", ".env.local"]
# worktree_commit = true

# Agents of your own: an argv (no shell) with {prompt}, and optionally {cwd} and
# {last_message_file}; each placeholder stays within its argument. Put "--" before a
# {prompt} that is a whole argument, so that a prompt starting with "-" is not read as
# an option (without it, such a prompt is refused), or put {prompt} inside an option:
# [agents.mytool]
# command = ["mytool", "--cwd={cwd}", "--", "{prompt}"]
# [agents.aider]
# command = ["aider", "--yes-always", "--message={prompt}"]

# Programs told when a job starts (its agent runs) and when it ends: an argv (no
# shell) with {job_id}, {status}, {exit_code} and {agent} filled in. The job's
# `poll --json` view comes on stdin; CODEX_ASYNC_HOOK_EVENT says on_start or
# on_finish; output goes to the job folder's hooks.log. Each fires once per job.
# A hook still running after hook_timeout is killed.
# hook_timeout = "30s"
# [hooks]
# on_start = ["notify-send", "codex-async", "job {job_id} started ({agent})"]
# on_finish = ["notify-send", "codex-async", "job {job_id}: {status} (exit {exit_code})"]

# Other machines' codex-async (`codex-async hosts`, `--host NAME`, ids NAME:ID): MCP over
# a command's stdin and stdout (ssh, with your keys, agent, jump hosts, ControlMaster),
# or streamable HTTP on a loopback address (an SSH tunnel) with the host's own token
# from an environment variable. Connecting gives up after connect_timeout (10s).
# [hosts.box]
# command = ["ssh", "box", "codex-async", "serve"]
# [hosts.gpu]
# url = "http://127.0.0.1:9876/mcp"
# token_env = "GPU_TOKEN"
# connect_timeout = "5s"
"#;
