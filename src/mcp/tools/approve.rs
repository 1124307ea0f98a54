//! `codex_approve`: answers the approval request an `ask` job waits on (allow, deny
//! with a message, or allow the tool for the rest of the job). The first answer wins,
//! whoever gives it (this tool, the CLI, the dashboard); a later one is an error that
//! says who answered first.

use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use serde::Deserialize;
use serde_json::{Value, json};

use super::common::{ToolContext, ToolError, ToolResult, json_result, parse, to_value};
use super::shared::schema::{define, job_id_property};
use crate::jobs::{Answerer, ApprovalAnswer, Decision};

pub const NAME: &str = "codex_approve";

const DESCRIPTION: &str = "Answer the approval request a job started with approval_policy 'ask' waits on: the agent \
wants to run a tool (a shell command, a file write or edit) and waits for a person's answer. codex_wait returns as \
soon as a job asks, with the request in 'approval' (tool_name, input, number); show it to the user and pass their \
answer here: decision 'allow' (default) or 'deny' (with a message the agent is told; it may try something else), \
always: true to allow that tool for the rest of the job. Answer only what the user decided. A request nobody answers \
is denied after the server's approval_timeout. The first answer counts: a second is refused and says who answered.";

pub fn definition() -> Tool {
    define(NAME, DESCRIPTION.to_owned(), input(), output())
        .with_annotations(ToolAnnotations::with_title("Answer a job's approval request").read_only(false).destructive(false))
}

fn input() -> Value {
    json!({"type": "object", "properties": {
        "job_id": job_id_property(),
        "decision": {"type": "string", "enum": ["allow", "deny"], "default": "allow"},
        "message": {"type": "string", "description": "What the agent is told (why it was denied, or a hint)."},
        "always": {"type": "boolean", "default": false, "description": "Allow this tool for the rest of the job (allow only)."},
        "request": {"type": "integer", "minimum": 1, "description": "The request's number; default: the oldest one waiting."}
    }, "required": ["job_id"]})
}

fn output() -> Value {
    json!({"type": "object", "properties": {
        "job_id": {"type": "string"},
        "request": {"type": "object", "description": "The request answered: number, tool_name, input, asked_at, deadline."},
        "answer": {"type": "object", "description": "decision, message, always, by, answered_at."}
    }, "required": ["job_id", "request", "answer"]})
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Args {
    job_id: String,
    decision: Option<String>,
    message: Option<String>,
    always: Option<bool>,
    request: Option<u32>,
}

pub fn handle(tool: &ToolContext<'_>, arguments: JsonObject, by: Answerer) -> ToolResult {
    let args: Args = parse(NAME, arguments)?;
    let decision = match args.decision.as_deref().map(str::trim) {
        None | Some("allow") => Decision::Allow,
        Some("deny") => Decision::Deny,
        Some(other) => return Err(ToolError(format!("decision {other:?} is not one: give 'allow' or 'deny'"))),
    };
    let always = args.always.unwrap_or(false);
    if always && decision == Decision::Deny {
        return Err(ToolError("always: true goes with decision 'allow' only".to_owned()));
    }
    let answer = ApprovalAnswer::new(decision, args.message.as_deref(), always, by);
    let answered = tool.engine.approve(&args.job_id, args.request, answer)?;
    Ok(json_result(to_value(answered)?))
}
