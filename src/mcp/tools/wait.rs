//! `codex_wait`: blocks until one job ends or the time runs out, sending the newest
//! output line as progress meanwhile.

use std::time::Duration;

use rmcp::RoleServer;
use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use rmcp::service::RequestContext;
use serde::Deserialize;
use serde_json::{Value, json};

use super::common::{ToolContext, ToolResult, json_result, parse, to_value};
use super::poll;
use super::shared::schema::{STATUSES, define, job_id_property, tail_lines_property, timeout_property};
use super::shared::waiting::{Progress, capped_timeout};
use crate::jobs::{Engine, TAIL_LINES, TRUNCATED_MARKER};

pub const NAME: &str = "codex_wait";

const DESCRIPTION: &str = "Block until a codex job ends or timeout_seconds pass (default 30, capped by the server). Returns the same fields as codex_poll plus timed_out. When timed_out is true the job is \
still running: simply call codex_wait again. This is the way to wait for a job; it sends progress notifications \
with the newest output line while it waits. A job started with approval_policy 'ask' makes it return early, timed_out false and status 'running', as soon as the agent waits for a person's approval: 'approval' then holds the request (tool_name, input, number); show it to the user and answer with codex_approve (or pass wait_through_approvals: true to wait for the end regardless, while someone answers elsewhere). ";

/// How much of the newest output line a progress notification carries.
const PROGRESS_LINE_CHARS: usize = 500;

/// The tool as a model sees it; `max_wait` is this server's cap on one wait.
pub fn definition(max_wait: Duration) -> Tool {
    let cap = max_wait.as_secs_f64();
    define(NAME, format!("{DESCRIPTION}{STATUSES} On this server a wait lasts at most {cap} s."), input(cap), poll::output(true))
        .with_annotations(ToolAnnotations::with_title("Wait for a codex job").read_only(true))
}

fn input(cap: f64) -> Value {
    json!({"type": "object", "properties": {
        "job_id": job_id_property(), "timeout_seconds": timeout_property(cap), "tail_lines": tail_lines_property(),
        "wait_through_approvals": {"type": "boolean", "default": false,
            "description": "Do not return when the job waits for approval (someone answers on the dashboard or the CLI)."}
    }, "required": ["job_id"]})
}

#[derive(Deserialize)]
struct Args {
    job_id: String,
    timeout_seconds: Option<f64>,
    tail_lines: Option<usize>,
    wait_through_approvals: Option<bool>,
}

pub async fn handle(tool: &ToolContext<'_>, arguments: JsonObject, context: &RequestContext<RoleServer>) -> ToolResult {
    let args: Args = parse(NAME, arguments)?;
    let timeout = capped_timeout(args.timeout_seconds, tool.settings.max_wait)?;
    let engine = tool.engine;
    // Check the id before waiting so a typo fails at once.
    let id = engine.store().existing(&args.job_id)?;
    let tail_lines = args.tail_lines.unwrap_or(TAIL_LINES);
    let waiting = async {
        if args.wait_through_approvals.unwrap_or(false) {
            engine.wait(&args.job_id, timeout, tail_lines).await
        } else {
            engine.wait_or_ask(&args.job_id, timeout, tail_lines).await
        }
    };
    let progress = Progress { tool, context, describe: &|| newest_line(engine, &id) };
    let view = progress.run(waiting).await?;
    Ok(json_result(to_value(view?)?))
}

fn newest_line(engine: &Engine, id: &crate::jobs::JobId) -> Option<String> {
    let tail = engine.store().tail(id, 1, PROGRESS_LINE_CHARS).ok()?;
    let line = tail.strip_prefix(TRUNCATED_MARKER).unwrap_or(&tail).trim();
    (!line.is_empty()).then(|| line.to_owned())
}
