//! Which command line a job runs.
//!
//! Flags follow today's codex CLI (0.169): `exec` already runs with approval
//! `never`, so a policy only chooses the sandbox. The original mapped `auto-edit`
//! to `--full-auto`, which codex no longer accepts (usage error, exit 2).

use std::ffi::OsString;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::error::JobError;

/// Linux refuses a single argument longer than this (`MAX_ARG_STRLEN`, 32 pages).
pub const MAX_PROMPT_BYTES: usize = 128 * 1024 - 1;

/// Ordered from least to most allowed, so a ceiling compares with `<=`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ApprovalPolicy {
    /// Read-only sandbox: the agent may look and answer, not change files.
    #[default]
    Suggest,
    /// Workspace-write sandbox: edits inside the working folder.
    AutoEdit,
    /// No sandbox and no approvals: for unattended edits and commands.
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

    /// The codex `exec` flags that give this policy.
    pub fn codex_flags(self) -> &'static [&'static str] {
        match self {
            ApprovalPolicy::Suggest => &["-s", "read-only"],
            ApprovalPolicy::AutoEdit => &["-s", "workspace-write"],
            ApprovalPolicy::FullAuto => &["--dangerously-bypass-approvals-and-sandbox"],
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

/// What to run for a job.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum AgentSpec {
    /// `codex exec`, the program found as `$CODEX_BIN` (default `codex`).
    Codex { program: String },
    /// This binary's built-in simulated agent (for `--demo`); `scenario` picks its script.
    Demo { program: String, scenario: String },
}

impl AgentSpec {
    pub fn codex_from_env() -> Self {
        let program = std::env::var("CODEX_BIN").ok().filter(|bin| !bin.trim().is_empty()).unwrap_or_else(|| "codex".to_owned());
        AgentSpec::Codex { program }
    }

    pub fn name(&self) -> &'static str {
        match self {
            AgentSpec::Codex { .. } => "codex",
            AgentSpec::Demo { .. } => "demo",
        }
    }

    pub fn program(&self) -> &str {
        match self {
            AgentSpec::Codex { program } | AgentSpec::Demo { program, .. } => program,
        }
    }

    /// The full argv. The prompt is one element after `--`, so a prompt that starts
    /// with `-` is never read as a flag, and no shell ever sees it.
    pub fn argv(&self, policy: ApprovalPolicy, last_message: &Path, prompt: &str) -> Vec<OsString> {
        let mut argv: Vec<OsString> = vec![self.program().into()];
        match self {
            AgentSpec::Codex { .. } => {
                argv.push("exec".into());
                argv.extend(policy.codex_flags().iter().map(OsString::from));
                argv.push("-o".into());
                argv.push(last_message.into());
            }
            AgentSpec::Demo { scenario, .. } => {
                argv.push("demo-agent".into());
                argv.push("--scenario".into());
                argv.push(scenario.into());
                argv.push("-o".into());
                argv.push(last_message.into());
            }
        }
        argv.push("--".into());
        argv.push(prompt.into());
        argv
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codex_argv(policy: ApprovalPolicy) -> Vec<String> {
        let spec = AgentSpec::Codex { program: "codex".into() };
        spec.argv(policy, Path::new("/j/last_message.txt"), "--help me").into_iter().map(|a| a.into_string().unwrap()).collect()
    }

    #[test]
    fn policies_map_to_todays_codex_flags() {
        assert_eq!(
            codex_argv(ApprovalPolicy::Suggest),
            ["codex", "exec", "-s", "read-only", "-o", "/j/last_message.txt", "--", "--help me"]
        );
        assert_eq!(
            codex_argv(ApprovalPolicy::AutoEdit),
            ["codex", "exec", "-s", "workspace-write", "-o", "/j/last_message.txt", "--", "--help me"]
        );
        assert_eq!(
            codex_argv(ApprovalPolicy::FullAuto),
            ["codex", "exec", "--dangerously-bypass-approvals-and-sandbox", "-o", "/j/last_message.txt", "--", "--help me"]
        );
        for policy in ApprovalPolicy::ALL {
            assert!(!codex_argv(policy).iter().any(|a| a == "--full-auto"), "codex 0.169 rejects --full-auto");
        }
    }

    #[test]
    fn policy_names_parse_leniently_and_fail_clearly() {
        assert_eq!("suggest".parse::<ApprovalPolicy>().unwrap(), ApprovalPolicy::Suggest);
        assert_eq!("Full_Auto".parse::<ApprovalPolicy>().unwrap(), ApprovalPolicy::FullAuto);
        assert_eq!(" auto-edit ".parse::<ApprovalPolicy>().unwrap(), ApprovalPolicy::AutoEdit);
        let err = "yolo".parse::<ApprovalPolicy>().unwrap_err().to_string();
        assert!(err.contains("\"yolo\"") && err.contains("suggest") && err.contains("auto-edit") && err.contains("full-auto"), "{err}");
    }
}
