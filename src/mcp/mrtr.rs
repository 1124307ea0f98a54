//! Approvals asked through the caller's own client (MCP 2026-07-28 multi-round-trip
//! requests, SEP-2322). When a job waits for approval, `codex_wait` from a client that
//! speaks 2026-07-28 and declared `elicitation` does not return the request for
//! `codex_approve`: it answers `input_required` with an `elicitation/create` form, so the
//! client asks its own user. The client retries the same call with the user's answer in
//! `inputResponses` and the `requestState` it was given; the answer is recorded (as from
//! `codex_approve`, the first answer wins) and the wait goes on.
//!
//! `requestState` names the job and the request. It is sealed (HMAC-SHA256, rmcp's
//! `RequestStateCodec`) with a key from the home's secret and bound to the call's job
//! id, with an expiry: a state that was changed, made for another job, or is too old is
//! refused with a JSON-RPC error, as the SEP requires.

use std::path::Path;
use std::time::Duration;

use rmcp::ErrorData as McpError;
use rmcp::model::{CallToolResult, InputRequiredResult, InputResponses, ProtocolVersion, RequestStateCodec, SealOptions};
use rmcp::service::{RequestContext, RoleServer};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::jobs::{Answerer, ApprovalAnswer, Decision, Engine};

/// How long a sealed state may come back.
const STATE_TTL: Duration = Duration::from_secs(60 * 60);
/// Keys one domain of the home's secret: a state is no token, and a token no state.
const KEY_DOMAIN: &str = "codex-async request-state v1:";

#[derive(Serialize, Deserialize)]
struct State {
    job_id: String,
    number: u32,
}

/// The codec for this home: keyed by its secret (the token file, made if missing).
pub fn codec(home: &Path) -> std::io::Result<RequestStateCodec> {
    let secret = super::token::load_or_create(home)?;
    RequestStateCodec::try_new(format!("{KEY_DOMAIN}{secret}").into_bytes()).map_err(std::io::Error::other)
}

/// Whether this call's client can be asked: it speaks 2026-07-28 and takes elicitations.
pub fn supported(context: &RequestContext<RoleServer>) -> bool {
    let modern = context.protocol_version().is_some_and(|version| version >= ProtocolVersion::V_2026_07_28);
    modern && context.client_capabilities().is_some_and(|capabilities| capabilities.elicitation.is_some())
}

fn input_key(job_id: &str, number: u32) -> String {
    format!("approval-{job_id}-{number}")
}

/// The answer a retry carries, recorded. A state that fails verification is an error;
/// a retry without an answer for the request (or a dismissed form) records nothing.
/// Returns whether the person dismissed the form (`cancel`): then the caller gets the
/// plain result, to answer another way.
pub fn take_answer(
    engine: &Engine,
    codec: &RequestStateCodec,
    job_id: &str,
    state: &str,
    responses: Option<&InputResponses>,
) -> Result<bool, McpError> {
    let state: State = codec
        .open_json_with(state, job_id.as_bytes())
        .map_err(|err| McpError::invalid_params(format!("requestState failed verification: {err}"), None))?;
    if state.job_id != job_id {
        return Err(McpError::invalid_params("requestState was made for another job", None));
    }
    let Some(response) = responses.and_then(|responses| responses.get(&input_key(&state.job_id, state.number))) else {
        return Ok(false);
    };
    record(engine, job_id, state.number, response)
}

/// Records the person's answer `response` (an `elicitation/create` result) to request
/// `number` of job `job_id`. Whether they dismissed the form (`cancel`): nothing is
/// recorded then.
pub fn record(engine: &Engine, job_id: &str, number: u32, response: &Value) -> Result<bool, McpError> {
    let content = response.get("content");
    let field = |name: &str| content.and_then(|content| content.get(name)).and_then(Value::as_str);
    let (decision, always) = match (response.get("action").and_then(Value::as_str), field("decision")) {
        (Some("accept"), Some("allow")) => (Decision::Allow, false),
        (Some("accept"), Some("always")) => (Decision::Allow, true),
        (Some("accept"), Some("deny")) | (Some("decline"), _) => (Decision::Deny, false),
        (Some("cancel"), _) => return Ok(true),
        _ => return Err(McpError::invalid_params("the elicitation's answer has no decision: allow, deny or always", None)),
    };
    let answer = ApprovalAnswer::new(decision, field("message"), always, Answerer::Mcp);
    match engine.approve(job_id, Some(number), answer) {
        // Someone answered first, or the job ended: the wait reports what happened.
        Ok(_) | Err(crate::jobs::JobError::AlreadyAnswered { .. }) | Err(crate::jobs::JobError::BadRequest(_)) => Ok(false),
        Err(err) => Err(McpError::internal_error(err.to_string(), None)),
    }
}

/// The request number an input key of job `job_id` names (`approval-<job>-<n>`).
pub fn request_number(job_id: &str, key: &str) -> Option<u32> {
    key.strip_prefix("approval-")?.strip_prefix(job_id)?.strip_prefix('-')?.parse().ok()
}

/// The `elicitation/create` request that asks a person about the approval `view` (a
/// job as `codex_poll` shows it) waits for, under its input key; `None` when the job
/// waits for nothing.
pub fn elicitation(view: &Value) -> Option<(String, u32, Value)> {
    let approval = view.get("approval")?;
    let job_id = view.get("job_id")?.as_str()?;
    let number = u32::try_from(approval.get("number")?.as_u64()?).ok()?;
    let tool = approval.get("tool_name").and_then(Value::as_str).unwrap_or("a tool");
    let input = approval.get("input").cloned().unwrap_or(Value::Null);
    let what = ["command", "file_path", "path", "url"].iter().find_map(|name| input.get(*name).and_then(Value::as_str));
    let shown: String = what.map_or_else(|| input.to_string(), str::to_owned).chars().take(2_000).collect();
    let message = format!("Job {job_id} asks to run {tool}: {shown}\nAllow it?");
    let request = json!({"method": "elicitation/create", "params": {
        "mode": "form",
        "message": message,
        "requestedSchema": {"type": "object", "properties": {
            "decision": {"type": "string", "title": "Decision", "enum": ["allow", "deny", "always"],
                "description": "allow once, deny, or allow this tool for the rest of the job"},
            "message": {"type": "string", "title": "Message to the agent", "description": "Optional: why, or what to do instead"}
        }, "required": ["decision"]}
    }});
    Some((input_key(job_id, number), number, request))
}

/// `input_required` for a wait that returned because its job asks; `None` otherwise.
pub fn ask(codec: &RequestStateCodec, waited: &CallToolResult) -> Option<InputRequiredResult> {
    let view = waited.structured_content.as_ref()?;
    let job_id = view.get("job_id")?.as_str()?;
    let (key, number, request) = elicitation(view)?;
    let options = SealOptions::new().associated_data(job_id.as_bytes()).ttl(STATE_TTL);
    let state = codec.seal_json_with(&State { job_id: job_id.to_owned(), number }, &options).ok()?;
    let result = json!({
        "resultType": "input_required",
        "inputRequests": {key: request},
        "requestState": state,
    });
    serde_json::from_value(result).map_err(|err| tracing::warn!(%err, "building input_required")).ok()
}
