//! The server acting for its hosts (config.toml's `[hosts.NAME]`): a tool call that
//! names a host's job (`job_id` as `NAME:ID`, or `host`) goes to that host's
//! codex-async, and its answer, checked (ids as `NAME:ID`, `host` added), comes back
//! as the tool's; `codex_start` and `codex_reply` take `host`; `codex_list` takes
//! `all_hosts`. A start sent to a host is held to this server's policy ceiling as a
//! local one is (the host holds it to its own too).

use std::sync::Arc;
use std::time::Duration;

use rmcp::RoleServer;
use rmcp::model::{CallToolResult, ContentBlock, JsonObject, Tool};
use rmcp::service::RequestContext;
use serde_json::{Value, json};

use super::super::common::{ToolContext, ToolError, ToolResult, json_result};
use super::super::{await_any, cancel, list, reply, start, wait};
use super::waiting::{Progress, capped_timeout};
use crate::config::LOCAL_HOST;
use crate::hosts::{CALL_MARGIN, HostNote, HostPool, JobRef, job_ref};
use crate::jobs::{ApprovalPolicy, ListView};

/// A start waits on the host for the job's supervisor (and a worktree).
const START_DEADLINE: Duration = Duration::from_secs(60);
/// A cancel waits on the host for the job's grace period.
const CANCEL_DEADLINE: Duration = Duration::from_secs(120);

/// Answers a call that is a host's to answer; `None` leaves it to the local tool (with
/// a `local:` prefix or `host: "local"` taken off first).
pub async fn route(
    tool: &ToolContext<'_>,
    name: &str,
    arguments: &mut JsonObject,
    context: &RequestContext<RoleServer>,
) -> Option<ToolResult> {
    let host = match arguments.remove("host") {
        None | Some(Value::Null) => None,
        Some(Value::String(host)) => Some(host),
        Some(other) => return Some(Err(ToolError(format!("host must be a host's name, got {other}")))),
    };
    if name == list::NAME {
        return match (arguments.remove("all_hosts"), host) {
            (_, Some(_)) => Some(Err(ToolError("codex_list takes all_hosts (true: every host's jobs too), not host".to_owned()))),
            (Some(Value::Bool(true)), None) => Some(list_all(tool, arguments).await),
            (None | Some(Value::Null) | Some(Value::Bool(false)), None) => None,
            (Some(other), None) => Some(Err(ToolError(format!("all_hosts must be true or false, got {other}")))),
        };
    }
    if name == start::NAME {
        return match host.as_deref() {
            None | Some(LOCAL_HOST) => None,
            Some(host) => Some(forward(tool, host, name, std::mem::take(arguments), context).await),
        };
    }
    if name == await_any::NAME {
        return await_across(tool, arguments, context).await;
    }
    let raw = match arguments.get("job_id") {
        Some(Value::String(raw)) => raw.clone(),
        // The local tool says what is wrong with it.
        _ => return None,
    };
    match job_ref(host.as_deref(), &raw) {
        Err(err) => Some(Err(err.into())),
        Ok(JobRef::Local(id)) => {
            arguments.insert("job_id".to_owned(), Value::String(id));
            None
        }
        Ok(JobRef::Remote { host, id }) => {
            let mut arguments = std::mem::take(arguments);
            arguments.insert("job_id".to_owned(), Value::String(id));
            Some(forward(tool, &host, name, arguments, context).await)
        }
    }
}

/// Whether `arguments` name a host's job (`job_id` as `NAME:ID`) or a host (`host`),
/// other than this machine.
pub fn names_a_host(arguments: Option<&JsonObject>) -> bool {
    let Some(arguments) = arguments else { return false };
    let host = arguments.get("host").and_then(Value::as_str);
    let raw = arguments.get("job_id").and_then(Value::as_str).unwrap_or_default();
    matches!(job_ref(host, raw), Ok(JobRef::Remote { .. })) || host.is_some_and(|host| host != LOCAL_HOST)
}

/// A future of the race `codex_await_any` runs: a job's answer once one ended, `None`
/// when its time ran out first.
type Racer<'a> = std::pin::Pin<Box<dyn Future<Output = Result<Option<Value>, ToolError>> + Send + 'a>>;

/// `codex_await_any` over jobs of several machines: this server's own (through its own
/// tool) and each host's (that host's codex_await_any, its ids only), all asked at once;
/// the first job to end answers. Without a host's id the local tool answers alone
/// (with `local:` taken off the ids).
async fn await_across(tool: &ToolContext<'_>, arguments: &mut JsonObject, context: &RequestContext<RoleServer>) -> Option<ToolResult> {
    let Some(Value::Array(ids)) = arguments.get("job_ids") else { return None };
    let asked: Vec<Value> = ids.clone();
    let mut local = Vec::new();
    let mut remote: std::collections::BTreeMap<String, Vec<String>> = std::collections::BTreeMap::new();
    for id in &asked {
        let Value::String(raw) = id else { return None };
        match job_ref(None, raw) {
            Err(err) => return Some(Err(err.into())),
            Ok(JobRef::Local(id)) => local.push(Value::String(id)),
            Ok(JobRef::Remote { host, id }) => remote.entry(host).or_default().push(id),
        }
    }
    if remote.is_empty() {
        arguments.insert("job_ids".to_owned(), Value::Array(local));
        return None;
    }
    let asked_timeout = match arguments.get("timeout_seconds") {
        None | Some(Value::Null) => None,
        Some(Value::Number(number)) => number.as_f64(),
        Some(other) => return Some(Err(ToolError(format!("timeout_seconds must be a number of seconds, got {other}")))),
    };
    let timeout = match capped_timeout(asked_timeout, tool.settings.max_wait) {
        Ok(timeout) => timeout,
        Err(err) => return Some(Err(err)),
    };
    let mut racers: Vec<Racer<'_>> = Vec::new();
    if !local.is_empty() {
        let mut here = arguments.clone();
        here.insert("job_ids".to_owned(), Value::Array(local));
        here.insert("timeout_seconds".to_owned(), json!(timeout.as_secs_f64()));
        racers.push(Box::pin(async move { ended(await_any::handle(tool, here, context).await?) }));
    }
    for (host, ids) in remote {
        let mut there = JsonObject::new();
        there.insert("job_ids".to_owned(), json!(ids));
        there.insert("timeout_seconds".to_owned(), json!(timeout.as_secs_f64()));
        if let Some(tail) = arguments.get("tail_lines") {
            there.insert("tail_lines".to_owned(), tail.clone());
        }
        let pool = &tool.settings.hosts;
        racers.push(Box::pin(async move {
            let mut answer =
                pool.call(&host, await_any::NAME, there, timeout + CALL_MARGIN).await.map_err(|err| ToolError(err.to_string()))?;
            if answer.get("timed_out") == Some(&Value::Bool(true)) {
                return Ok(None);
            }
            crate::hosts::answers::qualify_job(&host, &mut answer)
                .map_err(|message| ToolError(format!("host {host} answered something unusable: {message}")))?;
            Ok(Some(answer))
        }));
    }
    let describe = || Some("waiting on this machine and its hosts".to_owned());
    let first = async move {
        while !racers.is_empty() {
            let (done, _, rest) = futures::future::select_all(racers).await;
            if let Some(answer) = done? {
                return Ok(answer);
            }
            racers = rest;
        }
        Ok(json!({"timed_out": true, "job_ids": asked,
            "message": format!("none of these jobs ended within {}: call again", crate::human::show_duration(timeout))}))
    };
    let progress = Progress { tool, context, describe: &describe };
    Some(progress.run(first).await.and_then(|answer| answer.map(json_result)))
}

/// The local tool's answer as a job that ended, or `None` when its time ran out.
fn ended(result: CallToolResult) -> Result<Option<Value>, ToolError> {
    let text = result.content.first().and_then(|block| block.as_text()).map(|text| text.text.clone()).unwrap_or_default();
    if result.is_error == Some(true) {
        let message = serde_json::from_str::<Value>(&text).ok().and_then(|value| value["error"].as_str().map(str::to_owned));
        return Err(ToolError(message.unwrap_or(text)));
    }
    let answer = result.structured_content.unwrap_or_default();
    Ok((answer.get("timed_out") != Some(&Value::Bool(true))).then_some(answer))
}

/// Sends the call to `host` and answers with what it answered, checked.
async fn forward(
    tool: &ToolContext<'_>,
    host: &str,
    name: &str,
    mut arguments: JsonObject,
    context: &RequestContext<RoleServer>,
) -> ToolResult {
    let deadline = if name == wait::NAME {
        let asked = match arguments.get("timeout_seconds") {
            None | Some(Value::Null) => None,
            Some(Value::Number(number)) => number.as_f64(),
            Some(other) => return Err(ToolError(format!("timeout_seconds must be a number of seconds, got {other}"))),
        };
        let timeout = capped_timeout(asked, tool.settings.max_wait)?;
        arguments.insert("timeout_seconds".to_owned(), json!(timeout.as_secs_f64()));
        timeout + CALL_MARGIN
    } else if name == cancel::NAME || name == super::super::remove::DISCARD || name == super::super::remove::DELETE {
        // A discard with force cancels the job there first; a delete waits for its lock.
        // A grace the caller gave is the host's to check; the wait here covers it.
        let grace = super::super::common::some_duration(arguments.get("grace")).ok().flatten().unwrap_or_default().min(cancel::MAX_GRACE);
        CANCEL_DEADLINE.max(grace.saturating_add(CALL_MARGIN))
    } else if name == start::NAME || name == reply::NAME {
        hold_policy(tool, &mut arguments, name == start::NAME)?;
        START_DEADLINE
    } else {
        CALL_MARGIN
    };
    let answer = if name == wait::NAME {
        // The host's own progress says the job's newest line: passed on as this wait's.
        let newest = Arc::new(std::sync::Mutex::new(None::<String>));
        let hearing = match tool.settings.hosts.session(host).await {
            Ok(session) => Some(tokio::spawn(hear_progress(session.notes(), newest.clone()))),
            Err(_) => None, // the call says why
        };
        let describe = || {
            let newest = newest.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
            Some(newest.unwrap_or_else(|| format!("waiting on host {host}")))
        };
        let call = tool.settings.hosts.call_job(host, name, arguments, deadline);
        let answer = Progress { tool, context, describe: &describe }.run(call).await;
        if let Some(hearing) = hearing {
            hearing.abort();
        }
        answer?
    } else {
        tool.settings.hosts.call_job(host, name, arguments, deadline).await
    };
    Ok(json_result(answer.map_err(|err| ToolError(err.to_string()))?))
}

/// Keeps the newest line a host's progress notes carry in `newest`.
async fn hear_progress(mut notes: tokio::sync::broadcast::Receiver<HostNote>, newest: Arc<std::sync::Mutex<Option<String>>>) {
    loop {
        match notes.recv().await {
            Ok(HostNote::Progress { message: Some(line) }) if !line.is_empty() => {
                *newest.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(line);
            }
            Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
        }
    }
}

/// A start or follow-up sent to a host asks no more than this server's ceiling allows;
/// under a ceiling, a start that names no policy gets this server's default (so the
/// host's own default cannot go above it).
fn hold_policy(tool: &ToolContext<'_>, arguments: &mut JsonObject, fill_default: bool) -> Result<(), ToolError> {
    let ceiling = tool.ceiling.policy();
    match arguments.get("approval_policy") {
        Some(Value::String(raw)) => {
            let policy: ApprovalPolicy = raw.parse()?;
            if policy > ceiling {
                return Err(ToolError(format!(
                    "approval_policy {policy} is above this server's ceiling {ceiling}, which holds for its hosts' jobs too"
                )));
            }
        }
        None | Some(Value::Null) if fill_default && ceiling < ApprovalPolicy::FullAuto => {
            let policy = tool.settings.default_policy.min(ceiling);
            arguments.insert("approval_policy".to_owned(), Value::String(policy.to_string()));
        }
        _ => {}
    }
    Ok(())
}

/// `codex_list` with `all_hosts`: this server's jobs and every host's, each row with
/// its `host`, newest first; hosts asked at once, each within its own deadline, and a
/// host that fails named in `host_errors`.
async fn list_all(tool: &ToolContext<'_>, arguments: &JsonObject) -> ToolResult {
    let limit = match arguments.get("limit") {
        None | Some(Value::Null) => 20,
        Some(value) => value
            .as_u64()
            .ok_or_else(|| ToolError(format!("invalid arguments for codex_list: limit must be a whole number, got {value}")))?
            as usize,
    };
    let mut rows: Vec<(String, ListView)> = Vec::new();
    let mut errors = Vec::new();
    if limit > 0 {
        rows.extend(tool.engine.list(limit)?.into_iter().map(|row| (LOCAL_HOST.to_owned(), row)));
        let pool = &tool.settings.hosts;
        let names = pool.names();
        let answers = futures::future::join_all(names.iter().map(|name| pool.list_within_deadline(name, limit))).await;
        for (name, answer) in names.into_iter().zip(answers) {
            let typed = answer.map_err(|err| err.to_string()).and_then(|list| {
                list.into_iter()
                    .map(|row| serde_json::from_value::<ListView>(row).map_err(|err| format!("host {name}: a row is not a job: {err}")))
                    .collect::<Result<Vec<_>, _>>()
            });
            match typed {
                Ok(list) => rows.extend(list.into_iter().map(|row| (name.clone(), row))),
                Err(error) => errors.push(json!({"host": name, "error": error})),
            }
        }
    }
    rows.sort_by(|(_, a), (_, b)| match (a.started_at, b.started_at) {
        (None, None) => std::cmp::Ordering::Equal,
        (None, Some(_)) => std::cmp::Ordering::Less,
        (Some(_), None) => std::cmp::Ordering::Greater,
        (Some(a), Some(b)) => b.0.cmp(&a.0),
    });
    rows.truncate(limit);
    let mut shown = Vec::with_capacity(rows.len());
    for (host, row) in rows {
        let mut value = serde_json::to_value(row).map_err(|err| ToolError(format!("could not encode the result: {err}")))?;
        if let Value::Object(map) = &mut value {
            map.insert("host".to_owned(), Value::String(host));
        }
        shown.push(value);
    }
    let answer = json!({"result": shown, "host_errors": errors});
    let mut result = CallToolResult::structured(answer.clone());
    result.content = vec![ContentBlock::text(answer.to_string())];
    Ok(result)
}

/// What the tools say of the hosts, when there are any: `host` on codex_start and
/// codex_reply (naming them), `all_hosts` on codex_list, `NAME:ID` wherever a job_id goes.
pub fn describe_hosts(tools: &mut [Tool], pool: &HostPool) {
    if pool.is_empty() {
        return;
    }
    let names = pool.names();
    let listed = names.iter().map(|name| format!("'{name}'")).collect::<Vec<_>>().join(", ");
    let mut choices: Vec<Value> = names.iter().cloned().map(Value::String).collect();
    choices.push(Value::String(LOCAL_HOST.to_owned()));
    for tool in tools.iter_mut() {
        let name = tool.name.to_string();
        let (extra, property) = if name == start::NAME || name == reply::NAME {
            let host = json!({"type": "string", "enum": choices,
                "description": format!("The machine that runs the job: this server's hosts are {listed}; default: this machine ('local').")});
            (
                format!(
                    " host: run it on another machine of this server ({listed}); its job ids then read NAME:ID, and every tool takes them."
                ),
                Some(("host", host)),
            )
        } else if name == list::NAME {
            let all = json!({"type": "boolean", "default": false,
                "description": format!("List the jobs of this server's hosts ({listed}) too, each row with its host; a host that fails is named in host_errors.")});
            (" all_hosts: true lists every host's jobs too.".to_owned(), Some(("all_hosts", all)))
        } else if name == await_any::NAME {
            (format!(" job_ids may hold NAME:ID, jobs of this server's hosts ({listed}): the first job to end, wherever, answers."), None)
        } else if tool.input_schema.get("properties").and_then(|properties| properties.get("job_id")).is_some() {
            (format!(" job_id may be NAME:ID, a job of one of this server's hosts ({listed})."), None)
        } else {
            continue;
        };
        let description = tool.description.as_deref().unwrap_or_default();
        tool.description = Some(format!("{description}{extra}").into());
        if let Some((key, property)) = property {
            let schema = Arc::make_mut(&mut tool.input_schema);
            if let Some(Value::Object(properties)) = schema.get_mut("properties") {
                properties.insert(key.to_owned(), property);
            }
        }
    }
}
