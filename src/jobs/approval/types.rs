//! The request, the answer and the views of them (no file access here: the job's
//! record embeds [`PendingApproval`]).

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The activity of a running job while a request waits for its answer.
pub const WAITING_ACTIVITY: &str = "waiting for approval";

/// How long a request waits for a person before it is denied (`approval_timeout`).
pub const DEFAULT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30 * 60);

/// The longest text kept of a person's message to the agent.
pub const MAX_MESSAGE_CHARS: usize = 2_000;

/// One question an agent asked: may this tool run with this input?
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalRequest {
    /// 1, 2, … in the order the job asked.
    pub number: u32,
    /// The agent's tool (`Bash`, `Write`, `Edit`, …).
    pub tool_name: String,
    /// What the tool would run with: the command, the file and its text or change.
    pub input: Value,
    /// The agent's id of this tool call, which identifies a repeated question.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_use_id: Option<String>,
    /// Why the agent wants it, when it says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub asked_at: DateTime<Utc>,
    /// Denied unanswered at this time.
    pub deadline: DateTime<Utc>,
}

impl ApprovalRequest {
    /// One line saying what is asked: the command, or the file, or the tool.
    pub fn summary(&self) -> String {
        let field = |name: &str| self.input.get(name).and_then(Value::as_str);
        let what = field("command").or_else(|| field("file_path")).or_else(|| field("path")).or_else(|| field("url"));
        match what {
            Some(what) => format!("{}: {what}", self.tool_name),
            None => self.tool_name.clone(),
        }
    }
}

/// Allow or deny.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Allow,
    Deny,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allow => "allow",
            Decision::Deny => "deny",
        }
    }
}

/// Who gave an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Answerer {
    /// `codex-async approve`.
    Cli,
    /// The dashboard's approval view.
    Dashboard,
    /// An MCP client: `codex_approve`, or its user through an elicitation.
    Mcp,
    /// Nobody in time: denied when the request's deadline passed.
    Timeout,
    /// An earlier answer allowed the tool for the rest of the job.
    Always,
    /// The job was stopped while it waited.
    Cancel,
}

impl Answerer {
    pub fn as_str(self) -> &'static str {
        match self {
            Answerer::Cli => "cli",
            Answerer::Dashboard => "dashboard",
            Answerer::Mcp => "mcp",
            Answerer::Timeout => "timeout",
            Answerer::Always => "always",
            Answerer::Cancel => "cancel",
        }
    }
}

/// The answer to one request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalAnswer {
    pub decision: Decision,
    /// What the agent is told (a denial always says something).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Allow this tool without asking for the rest of the job.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub always: bool,
    pub by: Answerer,
    pub answered_at: DateTime<Utc>,
}

impl ApprovalAnswer {
    /// An answer given now; the message is cut to [`MAX_MESSAGE_CHARS`] and stripped of
    /// control characters (it goes to the agent and onto screens).
    pub fn new(decision: Decision, message: Option<&str>, always: bool, by: Answerer) -> Self {
        let message = message
            .map(|text| text.chars().filter(|ch| !ch.is_control() || *ch == '\n').take(MAX_MESSAGE_CHARS).collect::<String>())
            .filter(|text| !text.trim().is_empty());
        // Only an allow can be for the rest of the job.
        ApprovalAnswer { decision, message, always: always && decision == Decision::Allow, by, answered_at: now() }
    }

    /// What the agent is told on a denial.
    pub fn denial_message(&self) -> String {
        match (&self.message, self.by) {
            (Some(message), _) => message.clone(),
            (None, Answerer::Timeout) => "Nobody answered the approval request in time, so it was denied.".to_owned(),
            (None, Answerer::Cancel) => "The job was stopped while waiting for approval.".to_owned(),
            (None, _) => "A person denied this.".to_owned(),
        }
    }
}

/// A running job's oldest unanswered request, as poll, list and the dashboard show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingApproval {
    #[serde(flatten)]
    pub request: ApprovalRequest,
    /// How many requests wait (an agent may ask for several tools at once).
    pub waiting: usize,
}

/// What became of an answer that was given.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Answered {
    pub job_id: String,
    pub request: ApprovalRequest,
    pub answer: ApprovalAnswer,
}

/// Now, to the microsecond (as job records keep times).
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}
