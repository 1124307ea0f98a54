//! The approval policy a job runs under, and what it means for each agent's flags.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::jobs::error::JobError;

/// Ordered from least to most allowed, so a ceiling compares with `<=`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ApprovalPolicy {
    /// Read-only: the agent may look and answer, not change files.
    #[default]
    Suggest,
    /// Anything a person approves: each command or change the agent wants waits for an
    /// answer (Claude Code only: it sends its permission prompts to codex-async).
    Ask,
    /// Edits (and, for codex, commands) inside the working folder.
    AutoEdit,
    /// No sandbox and no approvals at all.
    FullAuto,
}

impl ApprovalPolicy {
    pub const VALID: &'static str = "'suggest' (read-only), 'ask' (a person approves each command or edit; Claude Code), 'auto-edit' (edits and commands in cwd), 'full-auto' (no sandbox)";
    pub const ALL: [ApprovalPolicy; 4] = [ApprovalPolicy::Suggest, ApprovalPolicy::Ask, ApprovalPolicy::AutoEdit, ApprovalPolicy::FullAuto];

    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalPolicy::Suggest => "suggest",
            ApprovalPolicy::Ask => "ask",
            ApprovalPolicy::AutoEdit => "auto-edit",
            ApprovalPolicy::FullAuto => "full-auto",
        }
    }

    /// The codex `exec` flags that give this policy (codex 0.169: `exec` never asks for
    /// approval, so the policy chooses the sandbox; `--full-auto` is gone).
    pub fn codex_flags(self) -> &'static [&'static str] {
        match self {
            // No codex job runs under `ask` (refused at the start): read-only if one did.
            ApprovalPolicy::Suggest | ApprovalPolicy::Ask => &["-s", "read-only"],
            ApprovalPolicy::AutoEdit => &["-s", "workspace-write"],
            ApprovalPolicy::FullAuto => &["--dangerously-bypass-approvals-and-sandbox"],
        }
    }

    /// Claude Code's permission flags: in `-p` nothing can be asked, so `dontAsk`
    /// refuses writes and commands, and the edit tools are removed outright.
    pub(super) fn claude_flags(self) -> &'static [&'static str] {
        match self {
            ApprovalPolicy::Suggest => &["--permission-mode", "dontAsk", "--disallowedTools", "Edit,Write,NotebookEdit"],
            // Claude's own rules first; what they would ask goes to the prompt tool (the
            // job's approval endpoint, added by the command line).
            ApprovalPolicy::Ask => &["--permission-mode", "default"],
            ApprovalPolicy::AutoEdit => &["--permission-mode", "acceptEdits"],
            ApprovalPolicy::FullAuto => &["--dangerously-skip-permissions"],
        }
    }

    /// Gemini CLI's approval modes (headless: tools that would need approval are not
    /// offered at all).
    pub(super) fn gemini_mode(self) -> &'static str {
        match self {
            ApprovalPolicy::Suggest | ApprovalPolicy::Ask => "default",
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
