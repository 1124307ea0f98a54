//! `codex_delete` and `codex_discard`: take away a finished job's record, or its
//! worktree and branch. Both lose a job's work for good, so they are allowed only when
//! the server lets jobs edit (a ceiling of `auto-edit` or above), as `codex_apply` is.

use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use serde::Deserialize;
use serde_json::{Value, json};

use super::common::{ToolContext, ToolError, ToolResult, json_result, parse, to_value};
use super::shared::schema::{define, job_id_property};
use crate::jobs::ApprovalPolicy;

pub const DELETE: &str = "codex_delete";
pub const DISCARD: &str = "codex_discard";

const DELETE_DESCRIPTION: &str = "Delete a finished job: its folder (record, prompt, output) and, when it ran in a \
worktree, that worktree and its branch. A running or pending job is refused (codex_cancel it first). Returns \
{job_id, deleted: true}. Refused unless the server allows at least 'auto-edit'.";

const DISCARD_DESCRIPTION: &str = "Discard a finished job's worktree and branch (its change is lost; its record, \
prompt and output are kept). force: true cancels a running job first instead of refusing. Returns {job_id, \
removed_folder, worktree, branch} (removed_folder: false when the folder was already gone). Refused unless the \
server allows at least 'auto-edit'.";

pub fn definitions() -> [Tool; 2] {
    [
        define(DELETE, DELETE_DESCRIPTION.to_owned(), delete_input(), delete_output())
            .with_annotations(ToolAnnotations::with_title("Delete a job").read_only(false).destructive(true).idempotent(false)),
        define(DISCARD, DISCARD_DESCRIPTION.to_owned(), discard_input(), discard_output())
            .with_annotations(ToolAnnotations::with_title("Discard a job's worktree").read_only(false).destructive(true).idempotent(false)),
    ]
}

fn delete_input() -> Value {
    json!({"type": "object", "properties": {"job_id": job_id_property()}, "required": ["job_id"]})
}

fn delete_output() -> Value {
    json!({"type": "object", "properties": {"job_id": {"type": "string"}, "deleted": {"type": "boolean"}}, "required": ["job_id", "deleted"]})
}

fn discard_input() -> Value {
    json!({"type": "object", "properties": {
        "job_id": job_id_property(),
        "force": {"type": "boolean", "default": false, "description": "Cancel a running job first instead of refusing."}
    }, "required": ["job_id"]})
}

fn discard_output() -> Value {
    json!({"type": "object", "properties": {
        "job_id": {"type": "string"}, "removed_folder": {"type": "boolean"}, "worktree": {"type": "string"}, "branch": {"type": "string"}
    }, "required": ["job_id", "removed_folder"]})
}

#[derive(Deserialize)]
struct DeleteArgs {
    job_id: String,
}

#[derive(Deserialize)]
struct DiscardArgs {
    job_id: String,
    #[serde(default)]
    force: bool,
}

/// Refused under a ceiling that does not let jobs edit; `verb` is the CLI's.
fn allowed(tool: &ToolContext<'_>, name: &str, verb: &str, job_id: &str) -> Result<(), ToolError> {
    if tool.settings.max_policy < ApprovalPolicy::AutoEdit {
        return Err(ToolError(format!(
            "{name} is refused under the policy ceiling '{}': it loses a job's work, which needs at least 'auto-edit' \
             (a person can run `codex-async {verb} {job_id}`)",
            tool.settings.max_policy
        )));
    }
    Ok(())
}

pub async fn delete(tool: &ToolContext<'_>, arguments: JsonObject) -> ToolResult {
    let args: DeleteArgs = parse(DELETE, arguments)?;
    allowed(tool, DELETE, "delete", &args.job_id)?;
    let id = tool.engine.store().existing(&args.job_id)?;
    let engine = tool.engine.clone();
    let deleting = id.clone();
    // Removing a folder waits for its lock and its files: off the server's threads.
    tokio::task::spawn_blocking(move || engine.delete(deleting.as_str()))
        .await
        .map_err(|err| ToolError(format!("deleting job {id} stopped: {err}")))??;
    Ok(json_result(json!({"job_id": id.as_str(), "deleted": true})))
}

pub async fn discard(tool: &ToolContext<'_>, arguments: JsonObject) -> ToolResult {
    let args: DiscardArgs = parse(DISCARD, arguments)?;
    allowed(tool, DISCARD, "discard", &args.job_id)?;
    let view = tool.engine.discard(&args.job_id, args.force).await?;
    Ok(json_result(to_value(view)?))
}
