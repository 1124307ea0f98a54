//! Which agent a job runs, and the exact command line: codex, Claude Code, Gemini CLI,
//! or an agent defined in the config as an argv template. No shell ever sees a prompt
//! or an option: each is one argument, and a value that would read as a flag is refused.
//!
//! The facts each mapping relies on (flags, versions, stdin, resume, streams) are in
//! `docs/agents.md` and, for codex, `CODEX-CLI.md`.

pub mod session;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::jobs::error::JobError;
use session::SessionId;

/// Linux refuses a single argument longer than this (`MAX_ARG_STRLEN`, 32 pages).
pub const MAX_ARGUMENT_BYTES: usize = 128 * 1024 - 1;
/// Prompts longer than this go on stdin, for agents that read it there.
pub const STDIN_PROMPT_FROM: usize = 64 * 1024;
/// The longest prompt taken at all.
pub const MAX_PROMPT_BYTES: usize = 10 * 1024 * 1024;
/// Gemini CLI cuts what it reads from stdin at 8 MiB.
const GEMINI_STDIN_MAX: usize = 8 * 1024 * 1024;

/// Ordered from least to most allowed, so a ceiling compares with `<=`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ApprovalPolicy {
    /// Read-only: the agent may look and answer, not change files.
    #[default]
    Suggest,
    /// Edits (and, for codex, commands) inside the working folder.
    AutoEdit,
    /// No sandbox and no approvals at all.
    FullAuto,
}

impl ApprovalPolicy {
    pub const VALID: &'static str = "'suggest' (read-only), 'auto-edit' (edits and commands in cwd), 'full-auto' (no sandbox)";
    pub const ALL: [ApprovalPolicy; 3] = [ApprovalPolicy::Suggest, ApprovalPolicy::AutoEdit, ApprovalPolicy::FullAuto];

    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalPolicy::Suggest => "suggest",
            ApprovalPolicy::AutoEdit => "auto-edit",
            ApprovalPolicy::FullAuto => "full-auto",
        }
    }

    /// The codex `exec` flags that give this policy (codex 0.169: `exec` never asks for
    /// approval, so the policy chooses the sandbox; `--full-auto` is gone).
    pub fn codex_flags(self) -> &'static [&'static str] {
        match self {
            ApprovalPolicy::Suggest => &["-s", "read-only"],
            ApprovalPolicy::AutoEdit => &["-s", "workspace-write"],
            ApprovalPolicy::FullAuto => &["--dangerously-bypass-approvals-and-sandbox"],
        }
    }

    /// Claude Code's permission flags: in `-p` nothing can be asked, so `dontAsk`
    /// refuses writes and commands, and the edit tools are removed outright.
    fn claude_flags(self) -> &'static [&'static str] {
        match self {
            ApprovalPolicy::Suggest => &["--permission-mode", "dontAsk", "--disallowedTools", "Edit,Write,NotebookEdit"],
            ApprovalPolicy::AutoEdit => &["--permission-mode", "acceptEdits"],
            ApprovalPolicy::FullAuto => &["--dangerously-skip-permissions"],
        }
    }

    /// Gemini CLI's approval modes (headless: tools that would need approval are not
    /// offered at all).
    fn gemini_mode(self) -> &'static str {
        match self {
            ApprovalPolicy::Suggest => "default",
            ApprovalPolicy::AutoEdit => "auto_edit",
            ApprovalPolicy::FullAuto => "yolo",
        }
    }
}

impl fmt::Display for ApprovalPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ApprovalPolicy {
    type Err = JobError;

    /// Accepts the documented names, ignoring case and `_` for `-`, so a hurried
    /// `Full_Auto` still works; anything else is an error naming the valid values.
    fn from_str(raw: &str) -> Result<Self, JobError> {
        let normal = raw.trim().to_ascii_lowercase().replace('_', "-");
        ApprovalPolicy::ALL
            .into_iter()
            .find(|policy| policy.as_str() == normal)
            .ok_or_else(|| JobError::UnknownPolicy { given: raw.chars().take(80).collect(), valid: ApprovalPolicy::VALID })
    }
}

/// Model and settings a job asks its agent for.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentOptions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// A codex profile (`-p`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// Codex settings as `key=value` (`-c`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub config: Vec<String>,
}

impl AgentOptions {
    /// Refuses what could be read as a flag or cannot be one argument.
    pub fn check(&self) -> Result<(), JobError> {
        let bad = |what: &str, value: &str, why: &str| JobError::BadRequest(format!("{what} {value:?} {why}"));
        let plain = |what: &str, value: &str| -> Result<(), JobError> {
            if value.trim().is_empty() {
                return Err(bad(what, value, "is empty"));
            }
            if value.starts_with('-') {
                return Err(bad(what, value, "starts with '-': it would be read as a flag"));
            }
            if value.contains('\0') || value.contains('\n') {
                return Err(bad(what, value, "holds a NUL or a line break"));
            }
            Ok(())
        };
        if let Some(model) = &self.model {
            plain("model", model)?;
        }
        if let Some(profile) = &self.profile {
            plain("profile", profile)?;
        }
        for entry in &self.config {
            plain("config", entry)?;
            match entry.split_once('=') {
                Some((key, _)) if !key.trim().is_empty() && !key.contains(char::is_whitespace) => {}
                _ => return Err(bad("config", entry, "is not key=value (for example model_reasoning_effort=high)")),
            }
        }
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.model.is_none() && self.profile.is_none() && self.config.is_empty()
    }
}

/// How an agent reports what it does on stdout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    /// Text: stdout goes to `output.txt` as it comes.
    Plain,
    /// `codex exec --json`.
    CodexJson,
    /// Claude Code's `--output-format stream-json`.
    ClaudeStreamJson,
    /// Gemini CLI's `--output-format stream-json`.
    GeminiStreamJson,
}

/// What to run for a job.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum AgentSpec {
    /// `codex exec`, the program found as `$CODEX_BIN` (default `codex`).
    Codex { program: String },
    /// Claude Code's print mode, `$CLAUDE_BIN` (default `claude`).
    Claude { program: String },
    /// Gemini CLI headless, `$GEMINI_BIN` (default `gemini`).
    Gemini { program: String },
    /// An agent from the config: an argv template with `{prompt}`, `{cwd}` and
    /// `{last_message_file}` placeholders, each one argument.
    Custom { name: String, command: Vec<String> },
    /// This binary's built-in simulated agent (for `--demo`); `scenario` picks its script.
    Demo { program: String, scenario: String },
}

/// Everything that shapes one run of an agent.
pub struct Invocation<'a> {
    pub policy: ApprovalPolicy,
    pub prompt: &'a str,
    /// Give the prompt on stdin (from a file), not as an argument.
    pub prompt_on_stdin: bool,
    pub last_message: &'a Path,
    pub cwd: &'a Path,
    pub options: &'a AgentOptions,
    /// Continue this session instead of starting one.
    pub resume: Option<&'a SessionId>,
}

/// The command line and environment a job's agent runs with.
#[derive(Clone, Debug, PartialEq)]
pub struct AgentCommand {
    pub argv: Vec<OsString>,
    /// Added to the agent's environment.
    pub env: Vec<(String, String)>,
}

fn program_from_env(variable: &str, default: &str) -> String {
    std::env::var(variable).ok().filter(|bin| !bin.trim().is_empty()).unwrap_or_else(|| default.to_owned())
}

/// A template with its placeholders replaced in one pass: a value that itself looks
/// like a placeholder (a prompt saying `{cwd}`) is left as it is.
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut filled = String::with_capacity(template.len());
    let mut rest = template;
    while !rest.is_empty() {
        match values.iter().find(|(key, _)| rest.starts_with(key)) {
            Some((key, value)) => {
                filled.push_str(value);
                rest = &rest[key.len()..];
            }
            None => {
                let step = rest.chars().next().map_or(1, char::len_utf8);
                filled.push_str(&rest[..step]);
                rest = &rest[step..];
            }
        }
    }
    filled
}

/// The agents every codex-async knows.
pub const BUILT_IN: [&str; 3] = ["codex", "claude", "gemini"];

/// The agents a process can run: the built-in ones, those its config defines, and the
/// one a job gets when it names none.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Agents {
    default: String,
    custom: BTreeMap<String, Vec<String>>,
    /// The demo's simulated agent (this program), the only one the demo runs.
    demo: Option<String>,
}

impl Default for Agents {
    fn default() -> Self {
        Agents { default: "codex".to_owned(), custom: BTreeMap::new(), demo: None }
    }
}

/// The demo agent's name, and the scenario a job started from a form plays.
const DEMO: &str = "demo";
const DEMO_SCENARIO: &str = "success";

impl Agents {
    /// `custom`: name → argv template, as the config defines them.
    pub fn new(default: impl Into<String>, custom: BTreeMap<String, Vec<String>>) -> Self {
        Agents { default: default.into(), custom, demo: None }
    }

    /// Only the demo's simulated agent, played by `program` (this binary).
    pub fn demo(program: impl Into<String>) -> Self {
        Agents { default: DEMO.to_owned(), custom: BTreeMap::new(), demo: Some(program.into()) }
    }

    /// The agent called `name`, or the default one; unknown names are an error that
    /// lists the known ones.
    pub fn resolve(&self, name: Option<&str>) -> Result<AgentSpec, JobError> {
        let name = name.unwrap_or(&self.default);
        match &self.demo {
            Some(program) if name.trim() == DEMO => Ok(AgentSpec::Demo { program: program.clone(), scenario: DEMO_SCENARIO.to_owned() }),
            Some(_) => Err(JobError::BadRequest(format!(
                "unknown agent {:?}: the demo runs only its simulated agent, {DEMO}",
                name.chars().take(80).collect::<String>()
            ))),
            None => AgentSpec::named(name, &self.custom),
        }
    }

    pub fn default_name(&self) -> &str {
        &self.default
    }

    /// Every name a job may ask for: the built-in ones first.
    pub fn names(&self) -> Vec<&str> {
        if self.demo.is_some() {
            return vec![DEMO];
        }
        BUILT_IN.iter().copied().chain(self.custom.keys().map(String::as_str)).collect()
    }
}

impl AgentSpec {
    pub fn codex_from_env() -> Self {
        AgentSpec::Codex { program: program_from_env("CODEX_BIN", "codex") }
    }

    /// An agent by name: a built-in one, or one the config defines (which may shadow
    /// none of the built-ins). Unknown names are an error listing the known ones.
    pub fn named(name: &str, custom: &BTreeMap<String, Vec<String>>) -> Result<Self, JobError> {
        match name.trim() {
            "codex" => Ok(Self::codex_from_env()),
            "claude" => Ok(AgentSpec::Claude { program: program_from_env("CLAUDE_BIN", "claude") }),
            "gemini" => Ok(AgentSpec::Gemini { program: program_from_env("GEMINI_BIN", "gemini") }),
            other => match custom.get(other) {
                Some(command) => Ok(AgentSpec::Custom { name: other.to_owned(), command: command.clone() }),
                None => {
                    let known: Vec<&str> = BUILT_IN.iter().copied().chain(custom.keys().map(String::as_str)).collect();
                    let shown: String = other.chars().take(80).collect();
                    Err(JobError::BadRequest(format!("unknown agent {shown:?}: the agents are {}", known.join(", "))))
                }
            },
        }
    }

    pub fn name(&self) -> &str {
        match self {
            AgentSpec::Codex { .. } => "codex",
            AgentSpec::Claude { .. } => "claude",
            AgentSpec::Gemini { .. } => "gemini",
            AgentSpec::Custom { name, .. } => name,
            AgentSpec::Demo { .. } => "demo",
        }
    }

    pub fn program(&self) -> &str {
        match self {
            AgentSpec::Codex { program }
            | AgentSpec::Claude { program }
            | AgentSpec::Gemini { program }
            | AgentSpec::Demo { program, .. } => program,
            AgentSpec::Custom { command, .. } => command.first().map_or("", String::as_str),
        }
    }

    /// How it reports on stdout.
    pub fn stream(&self) -> Stream {
        match self {
            // The demo agent speaks codex's events.
            AgentSpec::Codex { .. } | AgentSpec::Demo { .. } => Stream::CodexJson,
            AgentSpec::Claude { .. } => Stream::ClaudeStreamJson,
            AgentSpec::Gemini { .. } => Stream::GeminiStreamJson,
            AgentSpec::Custom { .. } => Stream::Plain,
        }
    }

    /// Whether a finished job's conversation can be continued.
    pub fn can_resume(&self) -> bool {
        matches!(self, AgentSpec::Codex { .. } | AgentSpec::Claude { .. } | AgentSpec::Gemini { .. } | AgentSpec::Demo { .. })
    }

    /// The longest prompt this agent can read from stdin (`None`: it cannot).
    pub fn stdin_prompt_limit(&self) -> Option<usize> {
        match self {
            AgentSpec::Codex { .. } | AgentSpec::Claude { .. } => Some(MAX_PROMPT_BYTES),
            AgentSpec::Gemini { .. } => Some(GEMINI_STDIN_MAX),
            AgentSpec::Custom { .. } | AgentSpec::Demo { .. } => None,
        }
    }

    /// Whether a prompt of `len` bytes goes on stdin; an error when it fits nowhere.
    pub fn prompt_on_stdin(&self, len: usize) -> Result<bool, JobError> {
        let stdin = self.stdin_prompt_limit();
        if len <= STDIN_PROMPT_FROM.min(MAX_ARGUMENT_BYTES) {
            return Ok(false);
        }
        match stdin {
            Some(limit) if len <= limit => Ok(true),
            Some(limit) => {
                Err(JobError::PromptTooLong { len, max: limit, how: format!("the most agent '{}' reads from stdin", self.name()) })
            }
            None if len <= MAX_ARGUMENT_BYTES => Ok(false),
            None => Err(JobError::PromptTooLong {
                len,
                max: MAX_ARGUMENT_BYTES,
                how: format!("the most one command-line argument can carry, and agent '{}' cannot read its prompt from stdin", self.name()),
            }),
        }
    }

    /// Refuses a prompt this agent would read as an option: a custom agent's command
    /// with `{prompt}` as a whole argument and no `--` before it gets a prompt starting
    /// with `-` as a flag (the built-in agents put theirs after `--` or in `--prompt=`).
    pub fn check_prompt(&self, prompt: &str) -> Result<(), JobError> {
        let AgentSpec::Custom { name, command } = self else { return Ok(()) };
        if !prompt.starts_with('-') {
            return Ok(());
        }
        let unguarded =
            command.iter().enumerate().any(|(at, part)| part == "{prompt}" && !command[..at].iter().any(|earlier| earlier == "--"));
        if !unguarded {
            return Ok(());
        }
        Err(JobError::BadRequest(format!(
            "agent '{name}' would read this prompt as an option: it starts with \"-\" and the agent's command has {{prompt}} \
             as a whole argument with no \"--\" before it. Put \"--\" before \"{{prompt}}\" in [agents.{name}] command in \
             config.toml (or write it inside an option, as \"--message={{prompt}}\"), or start the prompt with another character"
        )))
    }

    /// Refuses options this agent has no place for.
    pub fn check_options(&self, options: &AgentOptions) -> Result<(), JobError> {
        options.check()?;
        let name = self.name();
        let refuse = |what: &str| Err(JobError::BadRequest(format!("agent '{name}' takes no {what}")));
        match self {
            AgentSpec::Codex { .. } => Ok(()),
            AgentSpec::Claude { .. } | AgentSpec::Gemini { .. } if options.profile.is_some() => refuse("profile (only codex has profiles)"),
            AgentSpec::Claude { .. } | AgentSpec::Gemini { .. } if !options.config.is_empty() => {
                refuse("config overrides (they are codex's -c key=value)")
            }
            AgentSpec::Claude { .. } | AgentSpec::Gemini { .. } => Ok(()),
            AgentSpec::Custom { .. } | AgentSpec::Demo { .. } if !options.is_empty() => refuse("model, profile or config options"),
            AgentSpec::Custom { .. } | AgentSpec::Demo { .. } => Ok(()),
        }
    }

    /// The full command line. The prompt is one argument after `--` (or in
    /// `--prompt=`, for Gemini, which drops what follows `--`), or on stdin.
    pub fn command(&self, run: &Invocation<'_>) -> AgentCommand {
        let mut argv: Vec<OsString> = vec![self.program().into()];
        let mut env = Vec::new();
        let options = run.options;
        match self {
            AgentSpec::Codex { .. } => {
                argv.push("exec".into());
                argv.extend(run.policy.codex_flags().iter().map(OsString::from));
                // `resume` takes neither a sandbox nor a profile: they stay before it.
                if let Some(profile) = &options.profile {
                    argv.extend(["-p".into(), profile.into()]);
                }
                if run.resume.is_some() {
                    argv.push("resume".into());
                }
                argv.extend(["--json", "-o"].map(OsString::from));
                argv.push(run.last_message.into());
                if let Some(model) = &options.model {
                    argv.extend(["-m".into(), model.into()]);
                }
                for entry in &options.config {
                    argv.extend(["-c".into(), entry.into()]);
                }
                // `exec resume` takes it as a positional argument; a session id is a UUID,
                // so it can never read as an option.
                if let Some(session) = run.resume {
                    argv.push(session.as_str().into());
                }
                if run.prompt_on_stdin {
                    argv.push("-".into());
                } else {
                    argv.push("--".into());
                    argv.push(run.prompt.into());
                }
            }
            AgentSpec::Claude { .. } => {
                argv.extend(["-p", "--output-format", "stream-json", "--verbose"].map(OsString::from));
                argv.extend(run.policy.claude_flags().iter().map(OsString::from));
                if run.policy == ApprovalPolicy::FullAuto && nix::unistd::geteuid().is_root() {
                    // Claude Code refuses to skip permissions as root unless told it is sandboxed.
                    env.push(("IS_SANDBOX".to_owned(), "1".to_owned()));
                }
                if let Some(model) = &options.model {
                    argv.extend(["--model".into(), model.into()]);
                }
                // One argument: Commander takes `--resume=ID` whole, whatever ID looks like.
                if let Some(session) = run.resume {
                    argv.push(format!("--resume={session}").into());
                }
                if !run.prompt_on_stdin {
                    argv.push("--".into());
                    // A leading `/` would run a slash command instead of asking the model.
                    let prompt = if run.prompt.starts_with('/') { format!(" {}", run.prompt) } else { run.prompt.to_owned() };
                    argv.push(prompt.into());
                }
            }
            AgentSpec::Gemini { .. } => {
                env.push(("GEMINI_CLI_NO_RELAUNCH".to_owned(), "1".to_owned()));
                argv.extend(
                    ["--skip-trust", "--approval-mode", run.policy.gemini_mode(), "--output-format", "stream-json"].map(OsString::from),
                );
                if let Some(model) = &options.model {
                    argv.extend(["-m".into(), model.into()]);
                }
                // One argument, as the prompt is (yargs reads `--resume=ID` whole).
                if let Some(session) = run.resume {
                    argv.push(format!("--resume={session}").into());
                }
                if !run.prompt_on_stdin {
                    argv.push(format!("--prompt={}", run.prompt).into());
                }
            }
            AgentSpec::Custom { command, .. } => {
                let cwd = run.cwd.to_string_lossy();
                let last_message = run.last_message.to_string_lossy();
                let values = [("{prompt}", run.prompt), ("{cwd}", cwd.as_ref()), ("{last_message_file}", last_message.as_ref())];
                argv = command.iter().map(|part| fill(part, &values).into()).collect();
            }
            AgentSpec::Demo { scenario, .. } => {
                argv.extend(["demo-agent", "--scenario"].map(OsString::from));
                argv.push(scenario.into());
                // codex's sandbox for the policy: the simulated agent edits only where it may.
                let sandbox = run.policy.codex_flags().get(1).copied().unwrap_or("danger-full-access");
                argv.push(format!("--sandbox={sandbox}").into());
                if let Some(session) = run.resume {
                    argv.push(format!("--resume={session}").into());
                }
                argv.push("-o".into());
                argv.push(run.last_message.into());
                argv.push("--".into());
                argv.push(run.prompt.into());
            }
        }
        AgentCommand { argv, env }
    }
}
