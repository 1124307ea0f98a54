//! The policy ceiling: the most a job may ask for, set by whoever runs codex-async
//! (`--max-policy`, `CODEX_ASYNC_MAX_POLICY`, `max_policy` in config.toml).
//!
//! The approval policy alone does not bound an agent. A codex setting can start a
//! program outside the sandbox (`notify`, `mcp_servers.*`), widen it
//! (`sandbox_workspace_write.*`) or replace it (`sandbox_mode`, a profile); and an agent
//! allowed to write in a folder that holds codex-async's own files can rewrite its
//! config, token and job records. So below `full-auto` a request is held to three
//! rules: its policy is at most the ceiling, its codex settings only tune the model
//! ([`ALLOWED_CONFIG`], no profile), and an agent that may write works in a project
//! folder, not in `/`, `$HOME`, codex-async's home or an agent's own configuration.
//! At `full-auto` nothing is capped: such a caller could run anything anyway.

use std::path::{Path, PathBuf};

use super::request::StartRequest;
use crate::jobs::agent::{AgentSpec, ApprovalPolicy};
use crate::jobs::error::JobError;

/// The codex settings (`-c key=value`) a job may give below `full-auto`, each with why
/// it is harmless: they change how the model thinks and answers, never what runs, what
/// is sandboxed or who is asked. Taken from codex's `ConfigToml`
/// (`codex-rs/config/src/config_toml.rs`); everything else is refused.
pub const ALLOWED_CONFIG: [(&str, &str); 10] = [
    ("model_reasoning_effort", "how hard the model reasons (minimal … xhigh)"),
    ("plan_mode_reasoning_effort", "the same, in plan mode"),
    ("model_reasoning_summary", "whether and how the model summarises its reasoning (auto, concise, detailed, none)"),
    ("model_supports_reasoning_summaries", "asks for reasoning summaries from a model codex does not know to give them"),
    ("model_verbosity", "how long the model's answers are (low, medium, high)"),
    ("model_context_window", "the context window codex assumes for the model, in tokens"),
    ("model_auto_compact_token_limit", "how many tokens of history are kept before codex compacts it"),
    ("model_auto_compact_token_limit_scope", "what that limit counts"),
    ("tool_output_token_limit", "how much of a tool's output is kept in the model's context"),
    ("personality", "the model's tone"),
];

/// Which part of a request a refusal is about (a follow-up says which it inherited).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Policy,
    Cwd,
    Profile,
    Config,
}

/// What the ceiling refused, before it becomes an error.
#[derive(Debug)]
pub struct Refusal {
    pub field: Field,
    what: String,
    reason: String,
}

impl Refusal {
    /// The error a caller sees; `inherited_from` names the job a follow-up took the
    /// refused value from.
    pub fn into_error(self, ceiling: ApprovalPolicy, inherited_from: Option<&str>) -> JobError {
        let what = match inherited_from {
            Some(parent) => format!("{} (inherited from job {parent})", self.what),
            None => self.what,
        };
        JobError::AboveCeiling { what, ceiling: ceiling.as_str(), reason: self.reason }
    }
}

/// A folder an agent that may write must not work in, and what it is.
#[derive(Clone, Debug)]
struct Guarded {
    path: PathBuf,
    /// Said of a cwd that is this folder.
    is: String,
    /// Said of a cwd that holds it (`None`: holding it is fine).
    holds: Option<String>,
    /// Said of a cwd inside it (`None`: being inside is fine).
    inside: Option<String>,
}

/// The most a job may ask for, and the folders a writing agent is kept out of.
#[derive(Clone, Debug)]
pub struct Ceiling {
    policy: ApprovalPolicy,
    guarded: Vec<Guarded>,
}

impl Ceiling {
    /// No cap: every policy, setting and folder (the default ceiling).
    pub fn unlimited() -> Self {
        Ceiling { policy: ApprovalPolicy::FullAuto, guarded: Vec::new() }
    }

    /// The ceiling `policy` for jobs of the codex-async home `own_home`, with the
    /// user's home and the agents' folders taken from this process's environment.
    pub fn new(policy: ApprovalPolicy, own_home: &Path) -> Self {
        let env = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty()).map(PathBuf::from);
        Self::with_folders(policy, own_home, env("HOME").as_deref(), &env)
    }

    /// As [`Ceiling::new`], with the environment given (tests).
    pub fn with_folders(policy: ApprovalPolicy, own_home: &Path, user_home: Option<&Path>, env: &dyn Fn(&str) -> Option<PathBuf>) -> Self {
        if policy == ApprovalPolicy::FullAuto {
            return Self::unlimited();
        }
        const OWN: &str = "codex-async's own folder (its config, token and job records)";
        const HOME: &str = "your home folder (shell startup files and every tool's configuration)";
        // The widest first: a folder that holds `$HOME` is named for that.
        let mut guarded = Vec::new();
        if let Some(home) = user_home.filter(|home| home.is_absolute()) {
            guarded.push(Guarded {
                path: resolved(home),
                is: format!("it is {HOME}"),
                holds: Some(format!("it holds {HOME}")),
                inside: None,
            });
        }
        guarded.push(Guarded {
            path: resolved(own_home),
            is: format!("it is {OWN}"),
            holds: Some(format!("it holds {OWN}")),
            inside: Some(format!("it is inside {OWN}")),
        });
        let home_folder = |name: &str| user_home.map(|home| home.join(name));
        let agent_folders = [
            (env("CODEX_HOME").or_else(|| home_folder(".codex")), "codex's"),
            (env("CLAUDE_CONFIG_DIR").or_else(|| home_folder(".claude")), "Claude Code's"),
            (env("GEMINI_CLI_HOME").or_else(|| user_home.map(Path::to_owned)).map(|home| home.join(".gemini")), "Gemini CLI's"),
        ];
        for (folder, agent) in agent_folders {
            if let Some(folder) = folder.filter(|folder| folder.is_absolute()) {
                guarded.push(Guarded {
                    path: resolved(&folder),
                    is: format!("it is {agent} configuration folder"),
                    holds: None,
                    inside: Some(format!("it is inside {agent} configuration folder")),
                });
            }
        }
        Ceiling { policy, guarded }
    }

    pub fn policy(&self) -> ApprovalPolicy {
        self.policy
    }

    /// Refuses a request that asks for more than the ceiling allows.
    pub fn admit(&self, request: &StartRequest) -> Result<(), JobError> {
        self.check(request).map_err(|refusal| refusal.into_error(self.policy, None))
    }

    /// The first thing about `request` the ceiling refuses.
    pub fn check(&self, request: &StartRequest) -> Result<(), Refusal> {
        if self.policy == ApprovalPolicy::FullAuto {
            return Ok(());
        }
        self.check_policy(request.policy)?;
        if let Some(profile) = &request.options.profile {
            return Err(Refusal {
                field: Field::Profile,
                what: format!("profile {profile:?}"),
                reason: format!(
                    "a codex profile can set anything (the sandbox, approvals, MCP servers, notifications), so only 'full-auto' \
                     takes one; leave it out {RAISE_HINT}"
                ),
            });
        }
        for entry in &request.options.config {
            check_config(entry)?;
        }
        if let Some(writer) = writer(request) {
            self.check_cwd(&request.cwd, &writer)?;
        }
        Ok(())
    }

    fn check_policy(&self, policy: ApprovalPolicy) -> Result<(), Refusal> {
        if policy <= self.policy {
            return Ok(());
        }
        Err(Refusal {
            field: Field::Policy,
            what: format!("approval_policy '{policy}'"),
            reason: format!(
                "ask for '{ceiling}' or less, or have the person who runs codex-async raise the ceiling (--max-policy {policy}, \
                 CODEX_ASYNC_MAX_POLICY={policy}, or max_policy in config.toml)",
                ceiling = self.policy
            ),
        })
    }

    /// `cwd` is canonical (a checked request's).
    fn check_cwd(&self, cwd: &Path, writer: &Writer) -> Result<(), Refusal> {
        let why = if cwd.parent().is_none() {
            Some("it is the root of the file system")
        } else {
            // The folder itself first: `$HOME` is "your home folder" before it is the
            // one that holds codex-async's.
            let is = self.guarded.iter().find(|guarded| cwd == guarded.path).map(|guarded| guarded.is.as_str());
            is.or_else(|| {
                self.guarded.iter().find_map(|guarded| {
                    if guarded.path.starts_with(cwd) {
                        guarded.holds.as_deref()
                    } else if cwd.starts_with(&guarded.path) {
                        guarded.inside.as_deref()
                    } else {
                        None
                    }
                })
            })
        };
        match why {
            None => Ok(()),
            Some(why) => Err(Refusal {
                field: Field::Cwd,
                what: format!("cwd {:?} for {}", cwd.display().to_string(), writer.who),
                reason: format!("{why}; give the project's own folder{} {RAISE_HINT}", writer.instead),
            }),
        }
    }
}

/// How a person lifts what the ceiling refuses.
const RAISE_HINT: &str = "(or have the ceiling raised to 'full-auto': --max-policy, CODEX_ASYNC_MAX_POLICY or max_policy in config.toml)";

/// A folder as the kernel resolves it (symbolic links followed), or as given when it
/// does not exist yet (an agent could make it).
fn resolved(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned())
}

/// An agent that may change files, as a refusal names it.
struct Writer {
    who: String,
    /// What else the caller could ask for.
    instead: &'static str,
}

/// The job's agent if it may change files. A custom agent's own command line decides
/// what it may do, whatever the policy says, so it counts as one that may.
fn writer(request: &StartRequest) -> Option<Writer> {
    match &request.agent {
        AgentSpec::Custom { name, .. } => {
            Some(Writer { who: format!("agent '{name}', whose own command decides what it may change"), instead: "" })
        }
        // `ask` writes whatever a person approves: guarded as a writer.
        _ if request.policy >= ApprovalPolicy::Ask => Some(Writer {
            who: format!("an agent that may write ('{}')", request.policy),
            instead: ", or ask for 'suggest' (read-only jobs may run anywhere)",
        }),
        _ => None,
    }
}

/// One `key=value` setting: its key exactly one of [`ALLOWED_CONFIG`], as codex reads
/// it (split at the first `=`, the key trimmed; codex splits a key at every `.` and
/// takes quotes literally, so only a bare, exact name sets an allowed key), and its
/// value one plain word or number.
fn check_config(entry: &str) -> Result<(), Refusal> {
    let (raw_key, value) = entry.split_once('=').unwrap_or((entry, ""));
    let key = raw_key.trim();
    let refuse = |reason: String| Refusal { field: Field::Config, what: format!("config key {key:?}"), reason };
    if !ALLOWED_CONFIG.iter().any(|(allowed, _)| *allowed == key) {
        let names: Vec<&str> = ALLOWED_CONFIG.iter().map(|(name, _)| *name).collect();
        return Err(refuse(format!(
            "below 'full-auto' only these settings of the model may be given, each as a bare key: {}; other keys can start \
             programs outside the sandbox or change it (raise the ceiling to 'full-auto' for them)",
            names.join(", ")
        )));
    }
    if !is_plain_value(value) {
        return Err(refuse(format!(
            "its value must be one word or number (high, \"concise\", 200000, true), not {:?}",
            value.trim().chars().take(80).collect::<String>()
        )));
    }
    Ok(())
}

/// A value every allowed key takes (a name, a number, a boolean), bare or quoted, in
/// characters no TOML parser reads as anything but that one value: no table, array,
/// date, escape or second line, whichever TOML version codex was built with.
fn is_plain_value(value: &str) -> bool {
    let value = value.trim();
    let inner = ['"', '\''].iter().find_map(|quote| value.strip_prefix(*quote).and_then(|rest| rest.strip_suffix(*quote))).unwrap_or(value);
    !inner.is_empty() && inner.chars().all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '_' | '.' | '+' | '-'))
}

#[cfg(test)]
mod tests;
