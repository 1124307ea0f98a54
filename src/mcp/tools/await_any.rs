//! `codex_await_any`: blocks until the first of several jobs ends, or, without ids,
//! reports each ending once per session (a cursor over the endings).

use std::time::Duration;

use rmcp::RoleServer;
use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use rmcp::service::RequestContext;
use serde::Deserialize;
use serde_json::{Value, json};

use super::common::{ToolContext, ToolError, ToolResult, json_result, parse, to_value};
use super::poll;
use super::shared::schema::{STATUSES, define, tail_lines_property, timeout_property};
use super::shared::waiting::{Progress, capped_timeout};
use crate::jobs::TAIL_LINES;
use crate::jobs::{EndCursor, NextEnding};

pub const NAME: &str = "codex_await_any";

const DESCRIPTION: &str = "Block until a codex job ends or timeout_seconds pass (default 30, capped like \
codex_wait). Without job_ids: returns the next job that ended since this session's previous codex_await_any (or its \
start) and was not reported yet — jobs started meanwhile included — so calling it in a loop reports every ending \
exactly once, none missed. With job_ids: the first of those jobs to be finished (one that already ended counts). \
Returns that job's codex_poll fields with timed_out false, or {timed_out: true, job_ids, message} when none ended \
in time: call again. Without job_ids the answer also has a `cursor`: pass it back as `cursor` to go on exactly where \
the last call left off, across sessions (a client without a session needs it). Use it to react to whichever of several parallel jobs finishes first. ";

/// The tool as a model sees it; `max_wait` is this server's cap on one wait.
pub fn definition(max_wait: Duration) -> Tool {
    let cap = max_wait.as_secs_f64();
    define(NAME, format!("{DESCRIPTION}{STATUSES} On this server a wait lasts at most {cap} s."), input(cap), output())
        .with_annotations(ToolAnnotations::with_title("Wait for the first of several codex jobs").read_only(true))
}

fn input(cap: f64) -> Value {
    json!({"type": "object", "properties": {
        "job_ids": {"type": "array", "items": {"type": "string"},
            "description": "The jobs to wait for; default: any job, each ending reported once per session."},
        "cursor": {"type": "string",
            "description": "Without job_ids: the cursor of a previous answer; endings are reported from where it left off (default: this session's own)."},
        "timeout_seconds": timeout_property(cap), "tail_lines": tail_lines_property()
    }})
}

/// A poll view with `timed_out: false`, or [`timed_out`]'s answer.
fn output() -> Value {
    let mut properties = poll::properties();
    properties.insert("timed_out".to_owned(), json!({"type": "boolean"}));
    properties.insert("job_ids".to_owned(), json!({"type": "array", "items": {"type": "string"}}));
    properties.insert("message".to_owned(), json!({"type": "string"}));
    properties.insert("cursor".to_owned(), json!({"type": "string"}));
    json!({"type": "object", "properties": properties, "required": ["timed_out"]})
}

#[derive(Deserialize)]
struct Args {
    job_ids: Option<Vec<String>>,
    timeout_seconds: Option<f64>,
    tail_lines: Option<usize>,
    cursor: Option<String>,
}

pub async fn handle(tool: &ToolContext<'_>, arguments: JsonObject, context: &RequestContext<RoleServer>) -> ToolResult {
    let args: Args = parse(NAME, arguments)?;
    let timeout = capped_timeout(args.timeout_seconds, tool.settings.max_wait)?;
    let tail_lines = args.tail_lines.unwrap_or(TAIL_LINES);
    let engine = tool.engine;
    let ended = match args.job_ids {
        Some(ids) if ids.is_empty() => {
            return Err(ToolError("job_ids is empty: give the jobs to wait for, or leave it out for any job".into()));
        }
        Some(ids) => {
            let count = ids.len();
            let describe = move || Some(format!("waiting for {count} job(s)"));
            let waiting = engine.wait_any(&ids, timeout, tail_lines);
            let progress = Progress { tool, context, describe: &describe };
            match progress.run(waiting).await?? {
                Some(view) => view,
                None => return Ok(json_result(timed_out(&ids, timeout))),
            }
        }
        None => {
            // One caller at a time walks this session's cursor; a token is its own.
            let mut session = tool.endings.lock().await;
            let mut given = match &args.cursor {
                Some(token) => Some(EndCursor::from_token(token).map_err(ToolError)?),
                None => None,
            };
            let cursor = given.as_mut().unwrap_or(&mut session);
            let describe = || Some("waiting for the next job to end".to_owned());
            let waiting = engine.next_ending(cursor, timeout, tail_lines);
            let progress = Progress { tool, context, describe: &describe };
            let next = progress.run(waiting).await??;
            let token = given.as_ref().unwrap_or(&session).to_token();
            match next {
                NextEnding::Ended(view) => return Ok(json_result(ended_value(*view, Some(token))?)),
                NextEnding::TimedOut => {
                    let mut value = timed_out(&[], timeout);
                    value["cursor"] = Value::String(token);
                    return Ok(json_result(value));
                }
                NextEnding::NothingRunning => {
                    return Err(ToolError("no job is running and every ending was already reported: start one with codex_start".into()));
                }
            }
        }
    };
    Ok(json_result(ended_value(ended, None)?))
}

/// An ended job's poll fields with `timed_out: false` (and the cursor, when waited
/// for any job).
fn ended_value(ended: crate::jobs::PollView, cursor: Option<String>) -> Result<Value, ToolError> {
    let mut value = to_value(ended)?;
    if let Value::Object(map) = &mut value {
        map.insert("timed_out".to_owned(), Value::Bool(false));
        if let Some(cursor) = cursor {
            map.insert("cursor".to_owned(), Value::String(cursor));
        }
    }
    Ok(value)
}

/// The answer when no job ended in time.
fn timed_out(ids: &[String], timeout: Duration) -> Value {
    json!({
        "timed_out": true,
        "job_ids": ids,
        "message": format!("no job ended within {:.0} s; call codex_await_any again", timeout.as_secs_f64()),
    })
}
