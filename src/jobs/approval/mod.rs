//! Approvals that reach a person: a job under the `ask` policy asks before its agent
//! runs a command or changes a file, and waits for an answer.
//!
//! Everything is a file in the job's folder, so nothing is lost when a server, the
//! dashboard or the job's approval endpoint restarts, and every process of the home
//! sees the same requests:
//!
//! - `approval-<n>.json`: request number `n` (1, 2, … in the order asked): the tool, its
//!   input (the command; the file and its new text), the agent's reason when it gives
//!   one, when it was asked and when it is denied unanswered;
//! - `approval-<n>.answer.json`: its answer: allow or deny, the message the agent is
//!   told, whether the tool is allowed for the rest of the job, who answered and when.
//!
//! Both appear whole (written aside, then linked into place), and an answer is linked
//! with `link(2)`, which fails when the name exists: of two answers given at once the
//! first wins and the other is told who answered first ([`JobError::AlreadyAnswered`]).
//! The feed reports these files as changes of the job's record, so a wait, a poll, a
//! list and the dashboard see a job start or stop waiting as soon as it happens.
//!
//! A request is untrusted input (the agent's own process writes it): it is read with a
//! cap, never through a symlink, and only ever shown or compared, never run.

mod engine;
pub mod files;
pub mod overlay;
pub mod types;
pub mod wait;

pub use files::{MAX_REQUESTS, Question, is_approval_file};
pub use types::*;

use crate::jobs::error::{JobError, Result};
use crate::jobs::record::id::JobId;
use crate::jobs::store::JobStore;

/// Every request of a job with its answer, in the order asked.
pub fn requests(store: &JobStore, id: &JobId) -> Result<Vec<(ApprovalRequest, Option<ApprovalAnswer>)>> {
    files::requests(&store.job_dir(id), id)
}

/// The oldest request still waiting for an answer, and how many wait.
pub fn pending(store: &JobStore, id: &JobId) -> Result<Option<PendingApproval>> {
    files::pending(&store.job_dir(id), id)
}

/// Whether an earlier answer allowed `tool_name` for the rest of the job.
pub fn always_allowed(store: &JobStore, id: &JobId, tool_name: &str) -> Result<bool> {
    files::always_allowed(&store.job_dir(id), id, tool_name)
}

/// Records a request (see [`files::ask`]).
pub fn ask(store: &JobStore, id: &JobId, question: Question<'_>) -> Result<ApprovalRequest> {
    files::ask(&store.job_dir(id), id, question)
}

/// Answers a request; the first answer wins (see [`files::answer`]).
pub fn answer(store: &JobStore, id: &JobId, number: Option<u32>, answer: ApprovalAnswer) -> Result<Answered> {
    files::answer(&store.job_dir(id), id, number, answer)
}

/// The answer to request `number`, if it has one.
pub fn read_answer(store: &JobStore, id: &JobId, number: u32) -> Option<ApprovalAnswer> {
    files::read_answer(&store.job_dir(id), number)
}

/// The MCP configuration Claude Code is given (`--mcp-config`): how to start the job's
/// approval endpoint, `codex-async __approvals <job id>`.
pub const ENDPOINT_CONFIG_FILE: &str = "approvals-mcp.json";

/// Writes the job's [`ENDPOINT_CONFIG_FILE`]: `program` (this binary) serves the
/// endpoint for job `id` of this home.
pub fn write_endpoint_config(store: &JobStore, id: &JobId, program: &std::path::Path) -> Result<()> {
    use crate::jobs::agent::command::APPROVAL_SERVER;
    let config = serde_json::json!({"mcpServers": {APPROVAL_SERVER: {
        "type": "stdio",
        "command": program,
        "args": ["__approvals", id.as_str()],
        "env": {"CODEX_ASYNC_HOME": store.home()},
    }}});
    let path = store.job_dir(id).join(ENDPOINT_CONFIG_FILE);
    let bytes = serde_json::to_vec_pretty(&config).unwrap_or_default();
    crate::atomic::write(&path, &bytes, crate::atomic::Durability::Quick).map_err(|err| JobError::io("writing", path, err))
}
