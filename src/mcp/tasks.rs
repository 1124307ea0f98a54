//! MCP tasks (the `io.modelcontextprotocol/tasks` extension, as rmcp 3.9 speaks it):
//! a client that declares it gets `codex_start` and `codex_reply` answered with a task
//! whose id is the job's id. The task *is* the job — nothing is kept in memory — so
//! `tasks/get` reads the job, works for jobs started by any process, and survives a
//! restart of the server; `tasks/cancel` cancels the job.
//!
//! States: pending or running → `working` (the status message says what the agent does
//! now, or the queue position), or `input_required` while the job waits for an approval
//! and the client can ask its own user (the question as an `elicitation/create`, the
//! answer through `tasks/update`); done → `completed` with the `codex_poll` result; error
//! → `completed` too, the result marked `isError` (the extension keeps `failed` for a
//! JSON-RPC error, and the tool call itself went well: the job is what failed);
//! cancelled → `cancelled`.
//!
//! A task is found by its whole id only: the CLI's "start of an id" lookup would let
//! anyone who can reach the endpoint enumerate every task with a few probes.

use std::time::Duration;

use rmcp::ErrorData as McpError;
use rmcp::model::{
    CallToolResult, DetailedTask, InputRequest, InputRequests, InputResponses, JsonObject, Notification, ServerNotification, Task,
    TaskPayload, TaskStatusNotificationParams,
};
use rmcp::service::{Peer, RoleServer};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::jobs::{Engine, JobError, JobId, PollView, Status, TAIL_LINES};

/// How often a client should look at a job: jobs take minutes.
const POLL_INTERVAL_MS: u64 = 2_000;

/// The task of a job, from its record.
pub fn detailed(engine: &Engine, raw_id: &str) -> Result<DetailedTask, McpError> {
    detailed_for(engine, raw_id, Shown::default())
}

/// How a task is shown to one client.
#[derive(Clone, Copy, Debug, Default)]
pub struct Shown {
    /// The client asks its own user: a job that waits for an approval is then
    /// `input_required`, with the question as an `elicitation/create`.
    pub asks: bool,
    /// Finished jobs older than this are removed (the config's `retention`): an ended
    /// task's `ttlMs` says how long it is kept at least. Without it, `null` (kept until
    /// someone removes it).
    pub retention: Option<Duration>,
}

/// As [`detailed`], shown as `shown` says.
pub fn detailed_for(engine: &Engine, raw_id: &str, shown: Shown) -> Result<DetailedTask, McpError> {
    let unknown = || McpError::invalid_params(format!("unknown task: {raw_id} (a task's id is its job's whole id)"), None);
    let view = engine.poll(raw_id, TAIL_LINES).map_err(|err| match err {
        JobError::NotFound(_) | JobError::InvalidId(_) | JobError::Ambiguous { .. } => unknown(),
        other => McpError::internal_error(other.to_string(), None),
    })?;
    if view.job_id != raw_id {
        return Err(unknown());
    }
    Ok(from_view(view, shown))
}

fn from_view(view: PollView, shown: Shown) -> DetailedTask {
    let created = view.details.created_at.or(view.started_at).map(|at| at.to_string()).unwrap_or_default();
    let updated = view.finished_at.or(view.started_at).map(|at| at.to_string()).unwrap_or_else(|| created.clone());
    let mut task =
        Task::new(view.job_id.clone(), rmcp::model::TaskStatus::Working, created, updated).with_poll_interval_ms(POLL_INTERVAL_MS);
    // A job is kept until someone removes it, or (with a retention) at least until it
    // has been over for that long; a running job has no end yet.
    task.ttl_ms = match (shown.retention, view.details.created_at.or(view.started_at), view.finished_at) {
        (Some(keep), Some(created), Some(finished)) if view.status.is_finished() => {
            let lived = (finished.0 - created.0).to_std().unwrap_or_default();
            u64::try_from((lived + keep).as_millis()).ok()
        }
        _ => None,
    };
    let message = match view.status {
        Status::Pending => Some(match view.details.queue_position {
            Some(position) => format!("pending: #{position} in the queue"),
            None => "pending".to_owned(),
        }),
        Status::Running => Some(view.details.activity.clone().unwrap_or_else(|| "running".to_owned())),
        Status::Paused => Some("paused (codex_resume goes on)".to_owned()),
        _ => view.details.note.clone(),
    };
    if let Some(message) = message {
        task = task.with_status_message(message);
    }
    let payload = match view.status {
        Status::Running if shown.asks => input_required(&view).unwrap_or(TaskPayload::Working),
        Status::Pending | Status::Running | Status::Paused => TaskPayload::Working,
        Status::Cancelled => TaskPayload::Cancelled,
        Status::Done => TaskPayload::Completed { result: poll_result(&view, false) },
        Status::Error => TaskPayload::Completed { result: poll_result(&view, true) },
    };
    DetailedTask::new(task, payload)
}

/// `input_required` with the approval the job waits for, if it waits for one.
fn input_required(view: &PollView) -> Option<TaskPayload> {
    let (key, _, request) = super::mrtr::elicitation(&serde_json::to_value(view).ok()?)?;
    let request: InputRequest = serde_json::from_value(request).map_err(|err| tracing::warn!(%err, "building an input request")).ok()?;
    Some(TaskPayload::InputRequired { input_requests: InputRequests::from([(key, request)]) })
}

/// Records the answers a client gives to what task `task_id` asked (`tasks/update`):
/// each key must name one of the task's approval requests; the first answer to a
/// request counts, as from `codex_approve`.
pub fn update(engine: &Engine, task_id: &str, responses: &InputResponses) -> Result<(), McpError> {
    detailed(engine, task_id)?;
    for (key, response) in responses {
        let number = super::mrtr::request_number(task_id, key)
            .ok_or_else(|| McpError::invalid_params(format!("{key:?} is not an input request of task {task_id}"), None))?;
        super::mrtr::record(engine, task_id, number, response)?;
    }
    Ok(())
}

/// What `codex_poll` returns for the job, as the task's result; a job that ended in
/// error gives a result marked `isError`, as a failed tool call would.
fn poll_result(view: &PollView, failed: bool) -> JsonObject {
    let value = serde_json::to_value(view).unwrap_or(Value::Null);
    let result = if failed { CallToolResult::structured_error(value) } else { CallToolResult::structured(value) };
    match serde_json::to_value(result) {
        Ok(Value::Object(object)) => object,
        _ => JsonObject::new(),
    }
}

/// The task of the job a start made; none when the start was refused (that is a plain
/// tool error). A job quick enough to have ended already is still a task, ended.
pub fn created(engine: &Engine, started: &CallToolResult, shown: Shown) -> Option<DetailedTask> {
    if started.is_error == Some(true) {
        return None;
    }
    let job_id = started.structured_content.as_ref()?.get("job_id")?.as_str()?;
    detailed_for(engine, job_id, shown).ok()
}

/// Tells the client when the job ends (clients poll too; this saves them a poll), for
/// as long as its session lasts.
pub fn notify_on_end(engine: Engine, id: JobId, shown: Shown, peer: Peer<RoleServer>, session_over: CancellationToken) {
    tokio::spawn(async move {
        let ended = tokio::select! {
            ended = engine.first_finished(std::slice::from_ref(&id), Duration::MAX / 4) => ended,
            () = session_over.cancelled() => return,
        };
        if !matches!(ended, Ok(Some(_))) {
            return;
        }
        if let Ok(task) = detailed_for(&engine, id.as_str(), shown) {
            let notification = ServerNotification::TaskStatusNotification(Notification::new(TaskStatusNotificationParams::new(task)));
            if let Err(err) = peer.send_notification(notification).await {
                tracing::debug!(%err, job = %id, "the session ended before its task did");
            }
        }
    });
}
