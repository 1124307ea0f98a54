//! The tools as a model sees them: names, descriptions, input and output schemas.
//!
//! Names, argument names and defaults are the Python original's, so prompts and
//! permission lists written for it keep working. The descriptions are what a model
//! reads to choose a tool, so they say when to use which and what each status means.

use std::sync::Arc;
use std::time::Duration;

use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use serde_json::{Value, json};

use crate::jobs::Agents;

pub const START: &str = "codex_start";
pub const POLL: &str = "codex_poll";
pub const LIST: &str = "codex_list";
pub const CANCEL: &str = "codex_cancel";
pub const WAIT: &str = "codex_wait";
pub const AWAIT_ANY: &str = "codex_await_any";
pub const REPLY: &str = "codex_reply";

const STATUSES: &str = "Statuses: 'running' (the agent is still working), 'done' (it exited with status 0), \
'error' (it exited non-zero, was killed, could not start, or its supervisor died), 'cancelled' (someone stopped it), \
'pending' (accepted, not started yet).";

const START_DOC: &str = "Start a coding-agent job in the background and return at once with its job_id. \
Use it for long tasks (refactors, test fixes, reviews) that would exceed a tool-call timeout. \
Then call codex_wait (blocks until the job ends, up to a cap) or codex_poll (a quick look) with the job_id; \
codex_await_any when several jobs run at once; codex_reply to continue its conversation once it ended. \
The agents never stop to ask for approval, so every policy runs unattended; the policy only chooses what the agent may do. \
approval_policy: 'suggest' (default: read-only, the agent can look and answer but not change files), \
'auto-edit' (edits files inside cwd and runs commands there, such as the tests — the \
usual choice for a coding task), 'full-auto' (no sandbox at all: only inside a machine or container that is \
itself the sandbox; the server may refuse it). cwd: the project's absolute path. When the server limits how many jobs \
run at once, a start over the limit returns {job_id, status: 'pending', queue_position} and starts by itself when a \
slot frees. Returns {job_id, status, pid}.";

const REPLY_DOC: &str = "Continue a finished job's conversation with a new prompt: starts a new job (its own \
job_id, returned at once like codex_start) that resumes the same agent session, in the same cwd, with the same \
approval_policy, agent, model, profile and config unless given here. The parent must have ended (done, error or \
cancelled) and have a session_id (codex_poll shows it); its follow_ups list the jobs that continue it, and a \
follow-up can itself be continued. Use it to ask for changes to what a job did, or a next step, without repeating \
the context. It is judged as a new request: the server's ceiling applies to what it inherits too. Returns {job_id, \
status, pid, inherited} (inherited: what it took from the parent).";

const POLL_DOC: &str = "Look at a codex job once, without waiting: its status, exit_code, the last tail_lines \
lines of its output (at most 8000 characters), and the agent's final answer in last_message once it has one. \
Prefer codex_wait to wait for a job to finish instead of calling this in a loop. ";

const LIST_DOC: &str = "List codex jobs, newest first: job_id, status, prompt (cut at 80 characters), cwd, \
started_at, finished_at, exit_code. Use it to find a job_id you lost or to see what is running. ";

const CANCEL_DOC: &str = "Stop a running codex job and everything it started (SIGINT, then SIGTERM, then SIGKILL \
after a grace period). Returns {job_id, status: 'cancelled', killed} once the job has ended (on a very busy \
machine it may still say 'running' with a message: poll it to see the end), or \
{job_id, status, message: 'Job is not running'} when it had already ended (not an error). A pending job leaves \
the queue at once: {job_id, status: 'cancelled', killed: false}.";

const WAIT_DOC: &str = "Block until a codex job ends or timeout_seconds pass (default 30, capped by the server). Returns the same fields as codex_poll plus timed_out. When timed_out is true the job is \
still running: simply call codex_wait again. This is the way to wait for a job; it sends progress notifications \
with the newest output line while it waits. ";

const AWAIT_ANY_DOC: &str = "Block until a codex job ends or timeout_seconds pass (default 30, capped like \
codex_wait). Without job_ids: returns the next job that ended since this session's previous codex_await_any (or its \
start) and was not reported yet — jobs started meanwhile included — so calling it in a loop reports every ending \
exactly once, none missed. With job_ids: the first of those jobs to be finished (one that already ended counts). \
Returns that job's codex_poll fields with timed_out false, or {timed_out: true, job_ids, message} when none ended \
in time: call again. Use it to react to whichever of several parallel jobs finishes first. ";

pub const NAMES: [&str; 7] = [START, POLL, LIST, CANCEL, WAIT, AWAIT_ANY, REPLY];

/// What the start tool says of the agents this server runs.
fn agents_doc(agents: &Agents) -> String {
    let names = agents.names().iter().map(|name| format!("'{name}'")).collect::<Vec<_>>().join(", ");
    format!(
        " agent: which agent runs the job: {names} (default '{}'); 'codex' is OpenAI's codex exec, 'claude' Claude Code, \
         'gemini' Gemini CLI, others are defined by the person running the server. model, profile (codex only) and config \
         (codex -c key=value overrides) are passed to the agent as given.",
        agents.default_name()
    )
}

/// Every tool this server offers; `max_wait` is this server's cap on one wait.
pub fn tools(max_wait: Duration, agents: &Agents) -> Vec<Tool> {
    let cap = max_wait.as_secs_f64();
    vec![
        tool(START, format!("{START_DOC}{}", agents_doc(agents)), start_input(agents), start_output())
            .with_annotations(ToolAnnotations::with_title("Start an agent job").read_only(false).destructive(false).open_world(true)),
        tool(REPLY, REPLY_DOC.to_owned(), reply_input(), reply_output()).with_annotations(
            ToolAnnotations::with_title("Continue a finished job's conversation").read_only(false).destructive(false).open_world(true),
        ),
        tool(POLL, format!("{POLL_DOC}{STATUSES}"), poll_input(), poll_output(false))
            .with_annotations(ToolAnnotations::with_title("Poll a codex job").read_only(true)),
        tool(LIST, format!("{LIST_DOC}{STATUSES}"), list_input(), list_output())
            .with_annotations(ToolAnnotations::with_title("List codex jobs").read_only(true)),
        tool(CANCEL, CANCEL_DOC.to_owned(), job_id_only(), cancel_output())
            .with_annotations(ToolAnnotations::with_title("Cancel a codex job").read_only(false).destructive(true).idempotent(true)),
        tool(WAIT, format!("{WAIT_DOC}{STATUSES} On this server a wait lasts at most {cap} s."), wait_input(cap), poll_output(true))
            .with_annotations(ToolAnnotations::with_title("Wait for a codex job").read_only(true)),
        tool(
            AWAIT_ANY,
            format!("{AWAIT_ANY_DOC}{STATUSES} On this server a wait lasts at most {cap} s."),
            await_any_input(cap),
            await_any_output(),
        )
        .with_annotations(ToolAnnotations::with_title("Wait for the first of several codex jobs").read_only(true)),
    ]
}

fn tool(name: &'static str, description: String, input: Value, output: Value) -> Tool {
    Tool::new(name, description, object(input)).with_raw_output_schema(Arc::new(object(output)))
}

fn object(value: Value) -> JsonObject {
    match value {
        Value::Object(map) => map,
        _ => JsonObject::new(),
    }
}

fn job_id_property() -> Value {
    json!({"type": "string", "description": "The job_id returned by codex_start (8 hex characters, e.g. \"3f2a9c1d\")."})
}

fn tail_lines_property() -> Value {
    json!({"type": "integer", "minimum": 0, "default": 100, "description": "How many trailing lines of output to return. Default: 100."})
}

fn timeout_property(cap: f64) -> Value {
    json!({"type": "number", "minimum": 0, "default": 30,
        "description": format!("Seconds to wait at most (default 30; this server caps it at {cap} s).")})
}

fn policy_property(default: &str) -> Value {
    json!({"type": "string", "enum": ["suggest", "auto-edit", "full-auto"],
        "description": format!("'suggest' (read-only), 'auto-edit' (edits and runs commands inside cwd), 'full-auto' (no sandbox at all: only inside a machine that is itself the sandbox). Default: {default}.")})
}

/// Model, profile, config, and the two time limits: shared by start and reply.
fn option_properties() -> serde_json::Map<String, Value> {
    object(json!({
        "model": {"type": "string", "description": "The model the agent uses (its own -m/--model value)."},
        "profile": {"type": "string", "description": "A codex config profile (-p). Refused when the server's ceiling is below full-auto."},
        "config": {"type": ["array", "string", "object"], "items": {"type": "string"},
            "description": "codex config overrides, each 'key=value' (-c), e.g. [\"model_reasoning_effort=high\"]. When the server's \
                ceiling is below full-auto only settings of the model are taken (model_reasoning_effort, model_reasoning_summary, \
                model_verbosity, model_context_window and the like)."},
        "stall_timeout": {"type": ["number", "string"], "description": "Cancel the job (cancel_reason 'stalled') when it prints nothing for this long: seconds, or '90s', '20m', '2h'."},
        "max_duration": {"type": ["number", "string"], "description": "Cancel the job (cancel_reason 'timed out') when it runs longer than this: seconds, or '20m', '2h'."}
    }))
}

fn start_input(agents: &Agents) -> Value {
    let mut properties = object(json!({
        "prompt": {"type": "string", "description": "What the agent should do, as you would tell a colleague."},
        "cwd": {"type": "string", "description": "The folder the agent works in: an existing directory, absolute path preferred."},
        "approval_policy": policy_property("the server's configured policy (suggest unless set)"),
        "agent": {"type": "string", "enum": agents.names(), "description": format!("The agent that runs the job. Default: '{}'.", agents.default_name())}
    }));
    properties.extend(option_properties());
    json!({"type": "object", "properties": properties, "required": ["prompt", "cwd"]})
}

fn reply_input() -> Value {
    let mut properties = object(json!({
        "job_id": {"type": "string", "description": "The finished job whose conversation to continue."},
        "prompt": {"type": "string", "description": "The next message to the agent, as in a conversation."},
        "approval_policy": policy_property("the parent job's")
    }));
    properties.extend(option_properties());
    json!({"type": "object", "properties": properties, "required": ["job_id", "prompt"]})
}

fn poll_input() -> Value {
    json!({"type": "object", "properties": {"job_id": job_id_property(), "tail_lines": tail_lines_property()}, "required": ["job_id"]})
}

fn list_input() -> Value {
    json!({"type": "object", "properties": {"limit": {"type": "integer", "minimum": 0, "default": 20,
        "description": "How many jobs to return, newest first. Default: 20."}}})
}

fn job_id_only() -> Value {
    json!({"type": "object", "properties": {"job_id": job_id_property()}, "required": ["job_id"]})
}

fn wait_input(cap: f64) -> Value {
    json!({"type": "object", "properties": {
        "job_id": job_id_property(), "timeout_seconds": timeout_property(cap), "tail_lines": tail_lines_property()
    }, "required": ["job_id"]})
}

fn await_any_input(cap: f64) -> Value {
    json!({"type": "object", "properties": {
        "job_ids": {"type": "array", "items": {"type": "string"},
            "description": "The jobs to wait for; default: any job, each ending reported once per session."},
        "timeout_seconds": timeout_property(cap), "tail_lines": tail_lines_property()
    }})
}

fn status_property() -> Value {
    json!({"type": "string", "enum": ["pending", "running", "done", "error", "cancelled"]})
}

fn nullable(kind: &str) -> Value {
    json!({"type": [kind, "null"]})
}

fn start_output() -> Value {
    json!({"type": "object", "properties": {
        "job_id": {"type": "string"}, "status": status_property(), "pid": nullable("integer"),
        "error": {"type": "string", "description": "Why the job could not start, when it could not."},
        "queue_position": {"type": "integer", "description": "A pending job's place in the queue (1 = next)."}
    }, "required": ["job_id", "status", "pid"]})
}

/// A follow-up's answer also says what it took from its parent.
fn reply_output() -> Value {
    let mut output = start_output();
    output["properties"]["inherited"] = json!({"type": "object",
        "description": "What the follow-up took from its parent's record rather than from this call: the parent (from), \
            cwd and agent always; approval_policy, model, profile and config when not given here.",
        "properties": {
            "from": {"type": "string"}, "cwd": {"type": "string"}, "agent": {"type": "string"},
            "approval_policy": {"type": "string"}, "model": {"type": "string"}, "profile": {"type": "string"},
            "config": {"type": "array", "items": {"type": "string"}}
        }, "required": ["from", "cwd", "agent"]});
    output
}

fn poll_properties() -> serde_json::Map<String, Value> {
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
        "follow_ups": {"type": "array", "items": {"type": "string"}, "description": "The jobs that continue this one, oldest first."}
    }))
}

fn poll_output(with_timed_out: bool) -> Value {
    let mut properties = poll_properties();
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

fn list_output() -> Value {
    json!({"type": "object", "properties": {"result": {"type": "array", "items": {"type": "object", "properties": {
        "job_id": {"type": "string"}, "status": {"type": "string", "description": "A job status, or 'corrupt' with an error."},
        "prompt": {"type": "string"}, "cwd": {"type": "string"}, "started_at": nullable("string"),
        "finished_at": nullable("string"), "exit_code": nullable("integer"), "approval_policy": {"type": "string"},
        "cancel_reason": {"type": "string"}, "queue_position": {"type": "integer"}, "agent": {"type": "string"},
        "activity": {"type": "string"}, "usage": usage_property(), "parent_job_id": {"type": "string"}, "error": {"type": "string"}
    }, "required": ["job_id", "status", "prompt", "cwd", "started_at", "finished_at"]}}}, "required": ["result"]})
}

fn usage_property() -> Value {
    json!({"type": "object", "description": "Tokens the agent reported, summed over its turns.", "properties": {
        "input_tokens": {"type": "integer"}, "cached_input_tokens": {"type": "integer"}, "output_tokens": {"type": "integer"},
        "reasoning_output_tokens": {"type": "integer"}, "cost_usd": {"type": "number"}
    }})
}

fn cancel_output() -> Value {
    json!({"type": "object", "properties": {
        "job_id": {"type": "string"}, "status": status_property(), "killed": {"type": "boolean"}, "message": {"type": "string"}
    }, "required": ["job_id", "status"]})
}

fn await_any_output() -> Value {
    let mut properties = poll_properties();
    properties.insert("timed_out".to_owned(), json!({"type": "boolean"}));
    properties.insert("job_ids".to_owned(), json!({"type": "array", "items": {"type": "string"}}));
    properties.insert("message".to_owned(), json!({"type": "string"}));
    json!({"type": "object", "properties": properties, "required": ["timed_out"]})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tool_has_object_schemas_and_unique_names() {
        let tools = tools(Duration::from_secs(45), &Agents::default());
        assert!(tools.iter().any(|tool| tool.description.as_deref().is_some_and(|text| text.contains("at most 45 s"))));
        let mut names: Vec<_> = tools.iter().map(|tool| tool.name.to_string()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), NAMES.len());
        for tool in &tools {
            assert_eq!(tool.input_schema.get("type"), Some(&json!("object")), "{}", tool.name);
            let output = tool.output_schema.as_ref().map(|schema| schema.get("type").cloned());
            assert_eq!(output, Some(Some(json!("object"))), "{}", tool.name);
        }
    }
}
