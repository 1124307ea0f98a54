//! `codex_cancel`: stops a job and everything it started, or takes a pending one out
//! of the queue.

use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use serde::Deserialize;
use serde_json::{Value, json};

use std::time::Duration;

use super::common::{ToolContext, ToolError, ToolResult, json_result, parse, some_duration, to_value};
use super::shared::schema::{define, job_id_property, status_property};

pub const NAME: &str = "codex_cancel";

const DESCRIPTION: &str = "Stop a running codex job and everything it started (SIGINT, then SIGTERM, then SIGKILL \
after a grace period). Returns {job_id, status: 'cancelled', killed} once the job has ended (on a very busy \
machine it may still say 'running' with a message: poll it to see the end), or \
{job_id, status, message: 'Job is not running'} when it had already ended (not an error). A pending job leaves \
the queue at once: {job_id, status: 'cancelled', killed: false}. grace (optional): the time between SIGINT and \
SIGKILL for this cancel, seconds or '90s' (at most an hour); else the server's cancel_grace. wait: false returns \
as soon as the cancel is asked for, with status 'running' and a message saying who ends the job (poll it to see the \
end).";

/// The tool as a model sees it.
pub fn definition() -> Tool {
    define(NAME, DESCRIPTION.to_owned(), input(), output())
        .with_annotations(ToolAnnotations::with_title("Cancel a codex job").read_only(false).destructive(true).idempotent(true))
}

fn input() -> Value {
    json!({"type": "object", "properties": {
        "job_id": job_id_property(),
        "grace": {"type": ["number", "string"], "description": "Between SIGINT and SIGKILL (SIGTERM halfway): seconds, or '90s'. At most an hour. Default: the server's cancel_grace."},
        "wait": {"type": "boolean", "default": true, "description": "false: return once the cancel is asked for, not once the job has ended."}
    }, "required": ["job_id"]})
}

fn output() -> Value {
    json!({"type": "object", "properties": {
        "job_id": {"type": "string"}, "status": status_property(), "killed": {"type": "boolean"}, "message": {"type": "string"}
    }, "required": ["job_id", "status"]})
}

/// The longest grace a caller may give a cancel.
pub const MAX_GRACE: Duration = Duration::from_secs(3600);

#[derive(Deserialize)]
struct Args {
    job_id: String,
    grace: Option<Value>,
    #[serde(default = "waits")]
    wait: bool,
}

fn waits() -> bool {
    true
}

pub async fn handle(tool: &ToolContext<'_>, arguments: JsonObject) -> ToolResult {
    let args: Args = parse(NAME, arguments)?;
    let grace = match some_duration(args.grace.as_ref()) {
        Ok(None) => tool.settings.cancel_grace,
        Ok(Some(grace)) if grace <= MAX_GRACE => grace,
        Ok(Some(_)) => return Err(ToolError(format!("invalid grace: at most {} (an hour)", MAX_GRACE.as_secs()))),
        Err(err) => return Err(ToolError(format!("invalid grace: {err}"))),
    };
    let view = if args.wait { tool.engine.cancel(&args.job_id, grace).await? } else { tool.engine.cancel_no_wait(&args.job_id, grace)? };
    Ok(json_result(to_value(view)?))
}
