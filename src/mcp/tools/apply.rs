//! `codex_apply`: brings a finished job's change into its origin folder, all or nothing.
//! It writes the caller's working tree, so it is allowed only when the server lets
//! jobs edit (a ceiling of `auto-edit` or above).

use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use serde::Deserialize;
use serde_json::{Value, json};

use super::common::{ToolContext, ToolError, ToolResult, json_result, parse, to_value};
use super::shared::schema::{define, job_id_property};
use crate::jobs::{ApplyOptions, ApprovalPolicy};

pub const NAME: &str = "codex_apply";

const DESCRIPTION: &str = "Apply a finished job's change (see codex_diff) to the folder it was started in, all or \
nothing: when any part does not apply (the folder moved on, or has uncommitted changes on the same lines) nothing \
is changed and the answer has applied: false and the conflicting files. commit: true also commits it on the \
folder's current branch with the prompt as message. discard_others: true then discards the other attempts of the \
same attempt set (worktrees and branches; records kept). Returns {job_id, applied, origin, files, conflicts, reason, \
commit, discarded}. Refused unless the server allows at least 'auto-edit'.";

pub fn definition() -> Tool {
    define(NAME, DESCRIPTION.to_owned(), input(), output())
        .with_annotations(ToolAnnotations::with_title("Apply a job's change").read_only(false).destructive(false).idempotent(false))
}

fn input() -> Value {
    json!({"type": "object", "properties": {
        "job_id": job_id_property(),
        "commit": {"type": "boolean", "default": false, "description": "Also commit the change on the current branch."},
        "discard_others": {"type": "boolean", "default": false, "description": "Discard the other attempts of its set."}
    }, "required": ["job_id"]})
}

fn output() -> Value {
    json!({"type": "object", "properties": {
        "job_id": {"type": "string"}, "applied": {"type": "boolean"}, "origin": {"type": "string"},
        "files": {"type": "array", "items": {"type": "string"}}, "conflicts": {"type": "array", "items": {"type": "string"}},
        "reason": {"type": "string"}, "commit": {"type": "string"}, "discarded": {"type": "array", "items": {"type": "string"}}
    }, "required": ["job_id", "applied", "origin", "files"]})
}

#[derive(Deserialize)]
struct Args {
    job_id: String,
    #[serde(default)]
    commit: bool,
    #[serde(default)]
    discard_others: bool,
}

pub async fn handle(tool: &ToolContext<'_>, arguments: JsonObject) -> ToolResult {
    let args: Args = parse(NAME, arguments)?;
    if tool.settings.max_policy < ApprovalPolicy::AutoEdit {
        return Err(ToolError(format!(
            "codex_apply is refused under the policy ceiling '{}': applying writes the origin folder, which needs at least \
             'auto-edit' (a person can run `codex-async apply {}`)",
            tool.settings.max_policy, args.job_id
        )));
    }
    let view = tool.engine.apply(&args.job_id, ApplyOptions { commit: args.commit, discard_others: args.discard_others }).await?;
    Ok(json_result(to_value(view)?))
}
