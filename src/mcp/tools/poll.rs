//! `codex_poll`: one look at a job, without waiting. Its answer (the engine's poll
//! view) is also what `codex_wait` and `codex_await_any` answer with.

use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use serde::Deserialize;
use serde_json::{Value, json};

use super::common::{ToolResult, json_result, parse, to_value};
use super::shared::schema::{STATUSES, define, job_id_property, nullable, object, status_property, tail_lines_property, usage_property};
use crate::jobs::{Engine, TAIL_LINES};

pub const NAME: &str = "codex_poll";

const DESCRIPTION: &str = "Look at a codex job once, without waiting: its status, exit_code, the last tail_lines \
lines of its output (at most 8000 characters), and the agent's final answer in last_message once it has one. \
Prefer codex_wait to wait for a job to finish instead of calling this in a loop. ";

/// The tool as a model sees it.
pub fn definition() -> Tool {
    define(NAME, format!("{DESCRIPTION}{STATUSES}"), input(), output(false))
        .with_annotations(ToolAnnotations::with_title("Poll a codex job").read_only(true))
}

fn input() -> Value {
    json!({"type": "object", "properties": {
        "job_id": job_id_property(), "tail_lines": tail_lines_property(),
        "output_from": {"type": "integer", "minimum": 0, "description": "Also answer output_piece: the output from this byte on \
            (at most 256 KiB; 0 for its start), to follow a job's whole output in pieces: the next call starts at its next."}
    }, "required": ["job_id"]})
}

/// The fields of a job's poll view.
pub fn properties() -> serde_json::Map<String, Value> {
    object(json!({
        "job_id": {"type": "string"}, "status": status_property(), "exit_code": nullable("integer"),
        "output": {"type": "string", "description": "The last lines of the agent's stdout and stderr."},
        "started_at": nullable("string"), "finished_at": nullable("string"), "prompt": {"type": "string"},
        "cwd": {"type": "string"},
        "last_message": {"type": ["string", "null"], "description": "The agent's final answer, once it wrote one."},
        "approval_policy": {"type": "string"}, "pid": nullable("integer"), "agent": {"type": "string"},
        "command": {"type": "array", "items": {"type": "string"}}, "pgid": {"type": "integer"},
        "supervisor_pid": {"type": "integer"}, "signal": {"type": "string"}, "created_at": {"type": "string"},
        "note": {"type": "string"},
        "cancel_reason": {"type": "string", "description": "Why a cancelled job stopped: 'requested', 'stalled' or 'timed out'."},
        "queue_position": {"type": "integer", "description": "A pending job's place in the queue (1 = next)."},
        "queue_limit": {"type": "integer", "description": "How many jobs may run at once while this one waits."},
        "stall_timeout": {"type": "number"}, "max_duration": {"type": "number"},
        "model": {"type": "string"}, "profile": {"type": "string"}, "config": {"type": "array", "items": {"type": "string"}},
        "session_id": {"type": "string", "description": "The agent's conversation: codex_reply continues it."},
        "usage": usage_property(),
        "activity": {"type": "string", "description": "What the agent is doing now, in a few words (running jobs)."},
        "parent_job_id": {"type": "string", "description": "The job this one continues."},
        "follow_ups": {"type": "array", "items": {"type": "string"}, "description": "The jobs that continue this one, oldest first."},
        "approval": {"type": "object", "description": "The approval request a running 'ask' job waits on (the oldest one): number, tool_name, input, reason, asked_at, deadline, and how many are waiting. Answer it with codex_approve."},
        "worktree": {"type": "string", "description": "The git worktree the job runs in (cwd stays the folder asked for)."},
        "branch": {"type": "string"}, "base_commit": {"type": "string"},
        "change": {"type": "object", "description": "The job's change, frozen when it ended: {files, insertions, deletions}."},
        "applied_at": {"type": "string"}, "discarded_at": {"type": "string"},
        "attempt_group": {"type": "string", "description": "The attempt set (its first job's id)."}, "attempt": {"type": "integer"}
    }))
}

/// A poll view; `codex_wait`'s also says whether its time ran out.
pub fn output(with_timed_out: bool) -> Value {
    let mut properties = properties();
    properties.insert(
        "output_piece".to_owned(),
        json!({"type": "object", "description": "With output_from: bytes from..next of the output as text (a character cut at \
            the end waits for the next piece, unless the job has ended), and the output's size when read.",
            "properties": {"from": {"type": "integer"}, "text": {"type": "string"}, "next": {"type": "integer"}, "size": {"type": "integer"}},
            "required": ["from", "text", "next", "size"]}),
    );
    let mut required = vec!["job_id", "status", "exit_code", "output", "started_at", "finished_at", "prompt", "cwd"];
    if with_timed_out {
        properties.insert(
            "timed_out".to_owned(),
            json!({"type": "boolean", "description": "True when the time ran out and the job is still running: call again."}),
        );
        required.push("timed_out");
    }
    json!({"type": "object", "properties": properties, "required": required})
}

#[derive(Deserialize)]
struct Args {
    job_id: String,
    tail_lines: Option<usize>,
    output_from: Option<u64>,
}

pub fn handle(engine: &Engine, arguments: JsonObject) -> ToolResult {
    let args: Args = parse(NAME, arguments)?;
    let view = engine.poll(&args.job_id, args.tail_lines.unwrap_or(TAIL_LINES))?;
    let mut answer = to_value(view)?;
    if let Some(from) = args.output_from {
        // After the view: what it says ended is in the piece.
        let piece = engine.output_piece(&args.job_id, from)?;
        answer["output_piece"] = to_value(piece)?;
    }
    Ok(json_result(answer))
}
