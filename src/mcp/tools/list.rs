//! `codex_list`: the jobs, newest first, one short row each.

use rmcp::model::{CallToolResult, ContentBlock, JsonObject, Tool, ToolAnnotations};
use serde::Deserialize;
use serde_json::{Value, json};

use super::common::{ToolResult, parse, to_value};
use super::shared::schema::{STATUSES, define, nullable, usage_property};
use crate::jobs::Engine;

pub const NAME: &str = "codex_list";

const DESCRIPTION: &str = "List codex jobs, newest first: job_id, status, prompt (cut at 80 characters), cwd, \
started_at, finished_at, exit_code. Use it to find a job_id you lost or to see what is running. ";

/// The tool as a model sees it.
pub fn definition() -> Tool {
    define(NAME, format!("{DESCRIPTION}{STATUSES}"), input(), output())
        .with_annotations(ToolAnnotations::with_title("List codex jobs").read_only(true))
}

fn input() -> Value {
    json!({"type": "object", "properties": {"limit": {"type": "integer", "minimum": 0, "default": 20,
        "description": "How many jobs to return, newest first. Default: 20."}}})
}

/// The rows, wrapped in an object as structuredContent must be.
fn output() -> Value {
    json!({"type": "object", "properties": {"result": {"type": "array", "items": {"type": "object", "properties": {
        "job_id": {"type": "string"}, "status": {"type": "string", "description": "A job status, or 'corrupt' with an error."},
        "prompt": {"type": "string"}, "cwd": {"type": "string"}, "started_at": nullable("string"),
        "finished_at": nullable("string"), "exit_code": nullable("integer"), "approval_policy": {"type": "string"},
        "cancel_reason": {"type": "string"}, "queue_position": {"type": "integer"}, "agent": {"type": "string"},
        "activity": {"type": "string"}, "usage": usage_property(), "parent_job_id": {"type": "string"}, "error": {"type": "string"}
    }, "required": ["job_id", "status", "prompt", "cwd", "started_at", "finished_at"]}}}, "required": ["result"]})
}

#[derive(Deserialize)]
struct Args {
    limit: Option<usize>,
}

pub fn handle(engine: &Engine, arguments: JsonObject) -> ToolResult {
    let args: Args = parse(NAME, arguments)?;
    // `limit: 0` lists nothing, as the original's slice did (the CLI's `--limit 0` lists all).
    let rows = match args.limit.unwrap_or(20) {
        0 => Vec::new(),
        limit => engine.list(limit)?,
    };
    let rows = to_value(rows)?;
    // The original returned a bare list: keep it as the text, and wrap it for
    // structuredContent (which must be an object) the way FastMCP did.
    let mut result = CallToolResult::structured(json!({ "result": rows }));
    result.content = vec![ContentBlock::text(rows.to_string())];
    Ok(result)
}
