//! `$CODEX_ASYNC_HOME/config.toml`: defaults for every process of a home.
//!
//! Each setting comes from, in this order: a command-line flag, an environment variable
//! (`CODEX_ASYNC_<KEY>`), the config file, the built-in default — and remembers which,
//! for `codex-async config`. The file is parsed into typed structs that refuse unknown
//! keys: a typo or a wrong type is an error naming the file, the line, the key and what
//! is valid, never silently ignored.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Deserializer};

use crate::jobs::ApprovalPolicy;

pub const CONFIG_FILE: &str = "config.toml";

/// A duration written as whole seconds (`90`) or with a unit: `90s`, `20m`, `2h`, `7d`
/// (a fraction is fine: `1.5h`).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| c.is_ascii_alphabetic()) {
        Some(at) => (&text[..at], &text[at..]),
        None => (text, "s"),
    };
    let seconds_per = match unit.trim() {
        "s" | "sec" | "secs" | "second" | "seconds" => 1.0,
        "m" | "min" | "mins" | "minute" | "minutes" => 60.0,
        "h" | "hour" | "hours" => 3600.0,
        "d" | "day" | "days" => 86_400.0,
        other => return Err(format!("{text:?}: unknown unit {other:?}; write seconds or a number with s, m, h or d (90s, 20m, 2h, 7d)")),
    };
    let value: f64 = number.trim().parse().map_err(|_| format!("{text:?} is not a duration; write seconds or 90s, 20m, 2h, 7d"))?;
    if !value.is_finite() || value < 0.0 {
        return Err(format!("{text:?}: a duration must be 0 or more"));
    }
    Duration::try_from_secs_f64(value * seconds_per).map_err(|_| format!("{text:?} is too long"))
}

/// `90s`, `20m`, `2h30m`: a duration as a person writes it.
pub fn show_duration(duration: Duration) -> String {
    let seconds = duration.as_secs();
    if duration.subsec_millis() != 0 && seconds < 60 {
        return format!("{}s", duration.as_secs_f64());
    }
    match seconds {
        s if s % 86_400 == 0 && s > 0 => format!("{}d", s / 86_400),
        s if s % 3600 == 0 && s > 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 && s > 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

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

/// A size written as bytes (`1048576`) or with a unit: `500KB`, `200MB`, `2GB` (powers
/// of 1000) or `512KiB`, `200MiB`, `2GiB` (powers of 1024); a fraction is fine (`1.5GB`).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| c.is_ascii_alphabetic()) {
        Some(at) => (&text[..at], &text[at..]),
        None => (text, "B"),
    };
    let per_unit: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "b" | "byte" | "bytes" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        other => return Err(format!("{text:?}: unknown unit {other:?}; write bytes or a number with KB, MB, GB (or KiB, MiB, GiB)")),
    };
    let value: f64 = number.trim().parse().map_err(|_| format!("{text:?} is not a size; write bytes or 500KB, 200MB, 2GB"))?;
    let bytes = value * per_unit;
    if !bytes.is_finite() || bytes < 0.0 || bytes >= u64::MAX as f64 {
        return Err(format!("{text:?}: a size must be 0 or more bytes"));
    }
    Ok(bytes.round() as u64)
}

/// `200MB`, `1.5GB`, `4096 bytes`: a size as a person writes it.
pub fn show_size(bytes: u64) -> String {
    match bytes {
        bytes if bytes >= 1_000_000_000 && bytes % 10_000_000 == 0 => format!("{}GB", bytes as f64 / 1e9),
        bytes if bytes >= 1_000_000 && bytes % 10_000 == 0 => format!("{}MB", bytes as f64 / 1e6),
        bytes if bytes >= 1_000 && bytes % 10 == 0 => format!("{}KB", bytes as f64 / 1e3),
        bytes => format!("{bytes} bytes"),
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
    pub retention: Option<Retention>,
    #[serde(default)]
    pub agents: BTreeMap<String, AgentConfig>,
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
            if crate::jobs::agent::BUILT_IN.contains(&name.as_str()) {
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
    pub retention: Setting<Option<Retention>>,
    pub agents: BTreeMap<String, AgentConfig>,
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

/// Built-in defaults.
pub const DEFAULT_CANCEL_GRACE: Duration = Duration::from_secs(5);
pub const DEFAULT_MAX_WAIT: Duration = Duration::from_secs(45);
pub const DEFAULT_PORT: u16 = 8765;

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
            retention: match &file.retention {
                Some(retention) => Setting { value: Some(retention.clone()), source: Source::File(path.clone()) },
                None => Setting { value: None, source: Source::Default },
            },
            agents: file.agents.clone(),
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
        for (name, agent) in &self.agents {
            rows.push(("agents", format!("{name} = {:?}", agent.command), self.path.display().to_string()));
        }
        rows
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

# Finished jobs a server or the dashboard removes when it starts (as `codex-async gc`).
# [retention]
# older_than = "30d"
# keep = 200

# Agents of your own: an argv (no shell) with {prompt}, and optionally {cwd} and
# {last_message_file}; each placeholder stays within its argument. Put "--" before a
# {prompt} that is a whole argument, so that a prompt starting with "-" is not read as
# an option (without it, such a prompt is refused), or put {prompt} inside an option:
# [agents.mytool]
# command = ["mytool", "--cwd={cwd}", "--", "{prompt}"]
# [agents.aider]
# command = ["aider", "--yes-always", "--message={prompt}"]
"#;

#[cfg(test)]
mod tests;
