//! `codex_start`: starts an agent job in the background and answers at once with its
//! id (or, over the queue's limit, its place in the queue).

use std::path::PathBuf;

use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use serde::Deserialize;
use serde_json::{Value, json};

use super::common::{LimitArgs, OneOrMany, OptionArgs, ToolContext, ToolError, ToolResult, json_result, parse, start_request};
use super::shared::schema::{define, nullable, object, option_properties, policy_property, status_property};
use super::shared::unattended::{self, UnattendedArgs};
use crate::jobs::{AgentOptions, Agents, ApprovalPolicy, Attempt, MAX_ATTEMPTS, StartRequest};
use crate::mcp::settings::Transport;

pub const NAME: &str = "codex_start";

const DESCRIPTION: &str = "Start a coding-agent job in the background and return at once with its job_id. \
Use it for long tasks (refactors, test fixes, reviews) that would exceed a tool-call timeout. \
Then call codex_wait (blocks until the job ends, up to a cap) or codex_poll (a quick look) with the job_id; \
codex_await_any when several jobs run at once; codex_reply to continue its conversation once it ended. \
The agents never stop to ask for approval, so every policy runs unattended; the policy only chooses what the agent may do. \
approval_policy: 'suggest' (default: read-only, the agent can look and answer but not change files), \
'auto-edit' (edits files inside cwd and runs commands there, such as the tests — the \
usual choice for a coding task), 'full-auto' (no sandbox at all: only inside a machine or container that is \
itself the sandbox; the server may refuse it). cwd: the project's absolute path. When the server limits how many jobs \
run at once, a start over the limit returns {job_id, status: 'pending', queue_position} and starts by itself when a \
slot frees. Returns {job_id, status, pid}. \
worktree: true runs the job in its own git worktree of the repository that holds cwd (branch codex-async/<id> from \
its HEAD, or from base), so parallel jobs never see each other's edits; review with codex_diff, accept with \
codex_apply. attempts: N (2-8) starts N such jobs at the same task (agent may list several, comma-separated, \
cycled over them) and returns every id in job_ids; codex_await_any waits for the first.";

/// The tool as a model sees it; the agents are this server's.
pub fn definition(agents: &Agents) -> Tool {
    define(NAME, format!("{DESCRIPTION}{}", agents_doc(agents)), input(agents), output())
        .with_annotations(ToolAnnotations::with_title("Start an agent job").read_only(false).destructive(false).open_world(true))
}

/// What the description says of the agents this server runs.
fn agents_doc(agents: &Agents) -> String {
    let names = agents.names().iter().map(|name| format!("'{name}'")).collect::<Vec<_>>().join(", ");
    format!(
        " agent: which agent runs the job: {names} (default '{}'); 'codex' is OpenAI's codex exec, 'claude' Claude Code, \
         'gemini' Gemini CLI, others are defined by the person running the server. model, profile (codex only) and config \
         (codex -c key=value overrides) are passed to the agent as given.",
        agents.default_name()
    )
}

fn input(agents: &Agents) -> Value {
    let mut properties = object(json!({
        "prompt": {"type": "string", "description": "What the agent should do, as you would tell a colleague."},
        "cwd": {"type": "string", "description": "The folder the agent works in: an existing directory, absolute path preferred."},
        "approval_policy": policy_property("the server's configured policy (suggest unless set)"),
        "agent": {"type": "string", "enum": agents.names(), "description": format!("The agent that runs the job. Default: '{}'.", agents.default_name())}
    }));
    properties.extend(option_properties());
    properties.extend(object(json!({
        "worktree": {"type": "boolean", "description": "Run in a new git worktree of cwd's repository (default: the server's isolation setting)."},
        "base": {"type": "string", "description": "With worktree: the branch, tag or commit to start from (default: HEAD)."},
        "attempts": {"type": "integer", "minimum": 2, "maximum": 8, "description": "Start this many attempts at the task, each in its own worktree."}
    })));
    properties.extend(unattended::properties());
    json!({"type": "object", "properties": properties, "required": ["prompt", "cwd"]})
}

/// What a start answers (a follow-up answers the same, and more).
pub fn output() -> Value {
    json!({"type": "object", "properties": {
        "job_id": {"type": "string"}, "status": status_property(), "pid": nullable("integer"),
        "error": {"type": "string", "description": "Why the job could not start, when it could not."},
        "queue_position": {"type": "integer", "description": "A pending job's place in the queue (1 = next)."},
        "notice": {"type": "string", "description": "What to know besides (the origin's uncommitted changes are not in the worktree)."},
        "worktree": {"type": "string"}, "branch": {"type": "string"},
        "job_ids": {"type": "array", "items": {"type": "string"}, "description": "With attempts: every attempt's id, first to last."},
        "attempt_group": {"type": "string", "description": "With attempts: the id of the attempt set."}
    }, "required": ["job_id", "status", "pid"]})
}

#[derive(Deserialize)]
struct Args {
    prompt: String,
    cwd: String,
    approval_policy: Option<String>,
    agent: Option<String>,
    #[serde(flatten)]
    options: OptionArgs,
    #[serde(flatten)]
    limits: LimitArgs,
    worktree: Option<bool>,
    base: Option<String>,
    attempts: Option<u32>,
    #[serde(flatten)]
    unattended: UnattendedArgs,
}

pub async fn handle(tool: &ToolContext<'_>, arguments: JsonObject) -> ToolResult {
    let args: Args = parse(NAME, arguments)?;
    let policy: ApprovalPolicy = match args.approval_policy.as_deref() {
        Some(raw) => raw.parse()?,
        None => tool.settings.default_policy,
    };
    let limits = args.limits.limits(tool.settings.job_limits)?;
    let agent = match args.attempts {
        Some(_) => tool.settings.agents.resolve(args.agent.as_deref().and_then(|list| list.split(',').next()).map(str::trim))?,
        None => tool.settings.agents.resolve(args.agent.as_deref())?,
    };
    let options = AgentOptions {
        model: args.options.model,
        profile: args.options.profile,
        config: args.options.config.map(OneOrMany::into_vec).unwrap_or_default(),
    };
    let cwd = PathBuf::from(&args.cwd);
    if tool.settings.transport == Transport::Http && !cwd.is_absolute() && !args.cwd.starts_with('~') {
        return Err(ToolError(format!(
            "cwd must be an absolute path over HTTP (got {:?}): the server's own folder means nothing to the caller; give the project's full path",
            args.cwd.chars().take(200).collect::<String>()
        )));
    }
    let asked = if args.base.is_some() || args.attempts.is_some() { Some(true) } else { args.worktree };
    let isolation = tool.settings.worktrees.isolation(tool.engine.store().home(), asked, args.base.clone());
    let count = args.attempts.unwrap_or(1);
    if args.attempts.is_some() && !(2..=MAX_ATTEMPTS).contains(&count) {
        return Err(ToolError(format!("attempts {count}: give 2 to {MAX_ATTEMPTS} (or leave it out for one job)")));
    }
    let names: Vec<Option<String>> = match (&args.agent, args.attempts) {
        (Some(list), Some(_)) => list.split(',').map(|name| Some(name.trim().to_owned())).collect(),
        (agent, _) => vec![agent.clone()],
    };
    let schedule = args.unattended.schedule()?;
    let resume_on_limit = args.unattended.resume(tool.settings);
    let mut requests = Vec::new();
    for number in 1..=count {
        let agent = match names[(number as usize - 1) % names.len()].as_deref() {
            Some(name) if args.attempts.is_some() => tool.settings.agents.resolve(Some(name))?,
            _ => agent.clone(),
        };
        let mut request = StartRequest::new(args.prompt.clone(), &cwd, policy, agent)?
            .with_options(options.clone())?
            .with_limits(limits)
            .with_schedule(schedule.clone())
            .with_max_tokens(args.unattended.max_tokens)?
            .with_resume_on_limit(resume_on_limit.clone());
        request.limits.max_running =
            crate::config::queue_limit(&tool.settings.groups, tool.settings.job_limits.max_running, request.schedule.group.as_deref())?;
        if let Some(isolation) = &isolation {
            request = request.isolated(isolation.clone());
        }
        tool.ceiling.admit(&request)?;
        requests.push(request);
    }
    if args.attempts.is_none() {
        let request = requests.remove(0);
        return Ok(json_result(start_request(tool, request).await?));
    }
    let mut group: Option<String> = None;
    let mut first: Option<Value> = None;
    let mut ids = Vec::new();
    for (number, mut request) in (1..=count).zip(requests) {
        request.attempt = Some(Attempt { group: group.clone(), number });
        let started = start_request(tool, request).await?;
        let id = started["job_id"].as_str().unwrap_or_default().to_owned();
        group.get_or_insert_with(|| id.clone());
        ids.push(Value::String(id));
        first.get_or_insert(started);
    }
    let mut answer = first.unwrap_or_default();
    if let Value::Object(map) = &mut answer {
        map.insert("job_ids".to_owned(), Value::Array(ids));
        map.insert("attempt_group".to_owned(), group.map_or(Value::Null, Value::String));
    }
    Ok(json_result(answer))
}
