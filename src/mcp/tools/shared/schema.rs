//! The parts of the tools' schemas that several tools share: the properties they have
//! in common, and how a tool's definition is put together.

use std::sync::Arc;

use rmcp::model::{JsonObject, Tool};
use serde_json::{Value, json};

/// What each status means, for the tools that report one.
pub const STATUSES: &str = "Statuses: 'running' (the agent is still working), 'done' (it exited with status 0), \
'error' (it exited non-zero, was killed, could not start, or its supervisor died), 'cancelled' (someone stopped it), \
'pending' (accepted, not started yet).";

/// A tool with its input and output schemas.
pub fn define(name: &'static str, description: String, input: Value, output: Value) -> Tool {
    Tool::new(name, description, object(input)).with_raw_output_schema(Arc::new(object(output)))
}

pub fn object(value: Value) -> JsonObject {
    match value {
        Value::Object(map) => map,
        _ => JsonObject::new(),
    }
}

pub fn job_id_property() -> Value {
    json!({"type": "string", "description": "The job_id returned by codex_start (8 hex characters, e.g. \"3f2a9c1d\")."})
}

pub fn tail_lines_property() -> Value {
    json!({"type": "integer", "minimum": 0, "default": 100, "description": "How many trailing lines of output to return. Default: 100."})
}

pub fn timeout_property(cap: f64) -> Value {
    json!({"type": "number", "minimum": 0, "default": 30,
        "description": format!("Seconds to wait at most (default 30; this server caps it at {cap} s).")})
}

pub fn policy_property(default: &str) -> Value {
    json!({"type": "string", "enum": ["suggest", "ask", "auto-edit", "full-auto"],
        "description": format!("'suggest' (read-only), 'ask' (agent 'claude' only: each command or edit waits for a person's approval; codex_wait returns when one is asked, codex_approve answers), 'auto-edit' (edits and runs commands inside cwd), 'full-auto' (no sandbox at all: only inside a machine that is itself the sandbox). Default: {default}.")})
}

/// Model, profile, config, and the two time limits: shared by start and reply.
pub fn option_properties() -> serde_json::Map<String, Value> {
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

pub fn status_property() -> Value {
    json!({"type": "string", "enum": ["pending", "running", "paused", "done", "error", "cancelled"]})
}

pub fn nullable(kind: &str) -> Value {
    json!({"type": [kind, "null"]})
}

pub fn usage_property() -> Value {
    json!({"type": "object", "description": "Tokens the agent reported, summed over its turns.", "properties": {
        "input_tokens": {"type": "integer"}, "cached_input_tokens": {"type": "integer"}, "output_tokens": {"type": "integer"},
        "reasoning_output_tokens": {"type": "integer"}, "cost_usd": {"type": "number"}
    }})
}
