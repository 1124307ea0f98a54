//! Which agent a job runs — codex, Claude Code, Gemini CLI, or an agent defined in the
//! config as an argv template — and what it is given: an approval policy (`policy`), a
//! model and settings (`options`), the session it continues (`session`), and the exact
//! command line made of them (`command`). No shell ever sees a prompt or an option: each
//! is one argument, and a value that would read as a flag is refused.
//!
//! The facts each mapping relies on (flags, versions, stdin, resume, streams) are in
//! `docs/agents.md` and, for codex, `CODEX-CLI.md`.

pub mod command;
mod options;
mod policy;
pub mod session;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use options::AgentOptions;
pub use policy::ApprovalPolicy;

use crate::jobs::error::JobError;

/// Linux refuses a single argument longer than this (`MAX_ARG_STRLEN`, 32 pages).
pub const MAX_ARGUMENT_BYTES: usize = 128 * 1024 - 1;
/// Prompts longer than this go on stdin, for agents that read it there.
pub const STDIN_PROMPT_FROM: usize = 64 * 1024;
/// The longest prompt taken at all.
pub const MAX_PROMPT_BYTES: usize = 10 * 1024 * 1024;
/// Gemini CLI cuts what it reads from stdin at 8 MiB.
const GEMINI_STDIN_MAX: usize = 8 * 1024 * 1024;

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

fn program_from_env(variable: &str, default: &str) -> String {
    std::env::var(variable).ok().filter(|bin| !bin.trim().is_empty()).unwrap_or_else(|| default.to_owned())
}

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
    /// The agents every codex-async knows.
    pub const BUILT_IN: [&str; 3] = ["codex", "claude", "gemini"];

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
        Self::BUILT_IN.iter().copied().chain(self.custom.keys().map(String::as_str)).collect()
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
                    let known: Vec<&str> = Agents::BUILT_IN.iter().copied().chain(custom.keys().map(String::as_str)).collect();
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

    /// Refuses the `ask` policy for an agent whose non-interactive mode cannot send its
    /// permission prompts to a program (see docs/agents.md, "Approvals").
    pub fn check_policy(&self, policy: ApprovalPolicy) -> Result<(), JobError> {
        if policy != ApprovalPolicy::Ask {
            return Ok(());
        }
        let why = match self {
            AgentSpec::Claude { .. } => return Ok(()),
            AgentSpec::Codex { .. } => {
                "`codex exec` has no approval channel: it runs with approvals 'never' (a command that wants more is refused                  by codex itself), and `codex mcp-server` is gone; only the experimental `codex app-server`, another                  protocol, asks a client"
            }
            AgentSpec::Gemini { .. } => {
                "Gemini CLI in headless mode (-p) denies whatever would need a question and does not offer those tools;                  only its --acp mode, another protocol, asks a client"
            }
            AgentSpec::Custom { .. } => "a custom agent's own command decides what it may do; codex-async cannot ask for it",
            AgentSpec::Demo { .. } => "the demo agent never asks",
        };
        Err(JobError::BadRequest(format!(
            "approval_policy 'ask' works with the claude agent only (it routes Claude Code's permission prompts to a person):              for agent '{}', {why}. Use 'suggest', 'auto-edit' or 'full-auto' with it, or agent 'claude'",
            self.name()
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
}
