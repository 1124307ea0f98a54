//! `start --host NAME` and `reply` to a host's job: the request made into the host's
//! codex_start or codex_reply arguments, held to this machine's policy ceiling (the
//! host holds it to its own too), and the answer shown as a local start's.

use std::process::ExitCode;

use serde_json::{Map, Value, json};

use super::context::{Remote, emit_json, view};
use crate::cli::args::{AgentArgs, ReplyArgs, StartArgs, TimeLimitArgs, UnattendedArgs};
use crate::cli::render::{self, Out};
use crate::config::Settings;
use crate::hosts::{CALL_MARGIN, JobRef, job_ref};
use crate::jobs::{ApprovalPolicy, JobError, StartView, Status};

/// A start waits on the host for the job's supervisor (and a worktree): longer than a plain call.
const START_DEADLINE: std::time::Duration = std::time::Duration::from_secs(60);

pub fn start(settings: &Settings, host: &str, args: &StartArgs, prompt: String) -> anyhow::Result<ExitCode> {
    let cwd = args.cwd.to_string_lossy();
    if !(args.cwd.is_absolute() || cwd.starts_with('~')) {
        return Err(JobError::BadRequest(format!(
            "--cwd {cwd:?}: give the folder on host {host} the agent works in, as an absolute path (or ~/…); this machine's folders mean nothing there"
        ))
        .into());
    }
    if args.limits.max_running.is_some() {
        return Err(JobError::BadRequest(format!("--max-running: host {host}'s own limits apply to its jobs")).into());
    }
    let mut request = Map::new();
    request.insert("prompt".into(), Value::String(prompt));
    request.insert("cwd".into(), Value::String(cwd.into_owned()));
    if let Some(policy) = held_policy(settings, args.approval_policy)? {
        request.insert("approval_policy".into(), Value::String(policy.to_string()));
    }
    if let Some(agent) = &args.agent {
        request.insert("agent".into(), Value::String(agent.clone()));
    }
    agent_options(&mut request, &args.options, &args.time_limits);
    let isolation = &args.isolation;
    if let Some(asked) = isolation.asked() {
        request.insert("worktree".into(), Value::Bool(asked));
    }
    if let Some(base) = &isolation.base {
        request.insert("base".into(), Value::String(base.clone()));
    }
    if let Some(attempts) = isolation.attempts {
        request.insert("attempts".into(), Value::from(attempts));
    }
    unattended(&mut request, host, &args.unattended)?;
    started(settings, host, "codex_start", request, args.json)
}

pub fn reply(settings: &Settings, host: &str, id: &str, args: &ReplyArgs, prompt: String) -> anyhow::Result<ExitCode> {
    if args.limits.max_running.is_some() {
        return Err(JobError::BadRequest(format!("--max-running: host {host}'s own limits apply to its jobs")).into());
    }
    let mut request = Map::new();
    request.insert("job_id".into(), Value::String(id.to_owned()));
    request.insert("prompt".into(), Value::String(prompt));
    if let Some(policy) = args.approval_policy {
        held_policy(settings, Some(policy))?;
        request.insert("approval_policy".into(), Value::String(policy.to_string()));
    }
    agent_options(&mut request, &args.options, &args.time_limits);
    unattended(&mut request, host, &args.unattended)?;
    started(settings, host, "codex_reply", request, args.json)
}

/// When the job starts, its budget, labels, group and priority, as the tools name them
/// (`--after` ids must be the same host's).
fn unattended(request: &mut Map<String, Value>, host: &str, waits: &UnattendedArgs) -> Result<(), JobError> {
    if !waits.after.is_empty() {
        let after = waits.after.iter().map(|id| same_host_id(host, id)).collect::<Result<Vec<_>, _>>()?;
        request.insert("after".into(), json!(after));
    }
    if let Some(delay) = waits.delay {
        request.insert("delay".into(), json!(delay.as_secs_f64()));
    }
    if let Some(at) = &waits.at {
        request.insert("at".into(), Value::String(at.clone()));
    }
    if let Some(max_tokens) = waits.max_tokens {
        request.insert("max_tokens".into(), Value::from(max_tokens));
    }
    if waits.resume_on_limit {
        request.insert("resume_on_limit".into(), Value::Bool(true));
    }
    if !waits.label.is_empty() {
        request.insert("labels".into(), json!(waits.label));
    }
    if let Some(group) = &waits.group {
        request.insert("group".into(), Value::String(group.clone()));
    }
    if let Some(priority) = waits.priority {
        request.insert("priority".into(), Value::from(priority));
    }
    Ok(())
}

/// The policy a start asks of a host: the one given, or, under a ceiling, this
/// machine's default (so the host's own default cannot go above the ceiling). A
/// policy above the ceiling is refused as a local start's is.
fn held_policy(settings: &Settings, asked: Option<ApprovalPolicy>) -> Result<Option<ApprovalPolicy>, JobError> {
    let ceiling = settings.max_policy.value;
    match asked {
        Some(policy) if policy > ceiling => Err(JobError::BadRequest(format!(
            "approval policy {policy} is above this machine's ceiling {ceiling} (max_policy, {}), which holds for a host's jobs started from here too",
            settings.max_policy.source
        ))),
        Some(policy) => Ok(Some(policy)),
        None if ceiling < ApprovalPolicy::FullAuto => Ok(Some(settings.policy.value.min(ceiling))),
        None => Ok(None),
    }
}

/// Model, profile, config and time limits, as the tools name them.
fn agent_options(request: &mut Map<String, Value>, options: &AgentArgs, limits: &TimeLimitArgs) {
    if let Some(model) = &options.model {
        request.insert("model".into(), Value::String(model.clone()));
    }
    if let Some(profile) = &options.profile {
        request.insert("profile".into(), Value::String(profile.clone()));
    }
    if !options.config.is_empty() {
        request.insert("config".into(), json!(options.config));
    }
    if let Some(stall) = limits.stall_timeout {
        request.insert("stall_timeout".into(), json!(stall.as_secs_f64()));
    }
    if let Some(max) = limits.max_duration {
        request.insert("max_duration".into(), json!(max.as_secs_f64()));
    }
}

/// An `--after` id of a host's start: a job of that same host (`ID` or `NAME:ID`).
fn same_host_id(host: &str, raw: &str) -> Result<String, JobError> {
    match job_ref(Some(host), raw.trim())? {
        JobRef::Remote { id, .. } => Ok(id),
        JobRef::Local(_) => Err(JobError::BadRequest(format!("--after {raw}: a job of host {host} waits only for jobs of that host"))),
    }
}

fn started(settings: &Settings, host: &str, tool: &str, request: Map<String, Value>, json: bool) -> anyhow::Result<ExitCode> {
    let remote = Remote::new(settings, host)?;
    let answer = remote.call_job(tool, Value::Object(request), START_DEADLINE + CALL_MARGIN)?;
    let view: StartView = view(host, &answer)?;
    if json {
        emit_json(&answer)?;
    } else {
        let mut out = Out::default();
        render::started(&mut out, &view);
        out.flush();
    }
    Ok(if view.status == Status::Error { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}
