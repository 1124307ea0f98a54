//! The tools' bodies: check the arguments, call the engine, shape the result.
//!
//! Every failure a caller can fix comes back as a tool result with `isError: true`
//! and a message that names what was wrong and what is valid; only an unknown tool
//! name is a protocol error.

use std::path::PathBuf;
use std::time::Duration;

use rmcp::ErrorData as McpError;
use rmcp::RoleServer;
use rmcp::model::{CallToolResult, ContentBlock, JsonObject, ProgressNotificationParam, ProgressToken};
use rmcp::service::RequestContext;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio::time::{Instant, MissedTickBehavior};

use super::schema;
use super::settings::Transport;
use crate::jobs::{
    AgentOptions, Agents, ApprovalPolicy, Ceiling, EndCursor, Engine, FollowUp, JobError, JobLimits, NextEnding, StartRequest,
};
use crate::jobs::{TAIL_LINES, TRUNCATED_MARKER};

/// What a tool call may use: the engine, the server's limits, and the session's state.
pub struct ToolContext<'a> {
    pub engine: &'a Engine,
    /// The longest one wait may block.
    pub max_wait: Duration,
    /// How often a blocking wait reports progress.
    pub progress_interval: Duration,
    /// The most a job started here may ask for.
    pub ceiling: &'a Ceiling,
    pub transport: Transport,
    /// The policy of a start that names none.
    pub default_policy: ApprovalPolicy,
    /// The limits a start gets unless it names its own.
    pub job_limits: JobLimits,
    /// Between SIGINT and SIGKILL when a job is cancelled.
    pub cancel_grace: Duration,
    /// The agents a start may name, and the default one.
    pub agents: &'a Agents,
    /// The endings this session's `codex_await_any` already reported.
    pub endings: &'a tokio::sync::Mutex<EndCursor>,
}

/// How much of the newest output line a progress notification carries.
const PROGRESS_LINE_CHARS: usize = 500;

#[derive(Deserialize)]
struct StartArgs {
    prompt: String,
    cwd: String,
    approval_policy: Option<String>,
    agent: Option<String>,
    #[serde(flatten)]
    options: OptionArgs,
    #[serde(flatten)]
    limits: LimitArgs,
}

#[derive(Deserialize)]
struct ReplyArgs {
    job_id: String,
    prompt: String,
    approval_policy: Option<String>,
    #[serde(flatten)]
    options: OptionArgs,
    #[serde(flatten)]
    limits: LimitArgs,
}

/// The agent's model and settings.
#[derive(Deserialize)]
struct OptionArgs {
    model: Option<String>,
    profile: Option<String>,
    /// `key=value` overrides: a list, or one string.
    config: Option<OneOrMany>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
    /// `{"key": value}`: each becomes `key=value` (a string as it is, anything else as JSON,
    /// which codex reads as TOML).
    Map(serde_json::Map<String, Value>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(one) => vec![one],
            OneOrMany::Many(many) => many,
            OneOrMany::Map(map) => map
                .into_iter()
                .map(|(key, value)| match value {
                    Value::String(text) => format!("{key}={text}"),
                    other => format!("{key}={other}"),
                })
                .collect(),
        }
    }
}

#[derive(Deserialize)]
struct LimitArgs {
    stall_timeout: Option<Value>,
    max_duration: Option<Value>,
}

impl LimitArgs {
    /// The job's limits: the caller's, else the server's.
    fn limits(&self, server: JobLimits) -> Result<JobLimits, ToolError> {
        Ok(JobLimits {
            stall_timeout: duration_arg("stall_timeout", self.stall_timeout.as_ref())?.or(server.stall_timeout),
            max_duration: duration_arg("max_duration", self.max_duration.as_ref())?.or(server.max_duration),
            ..server
        })
    }
}

/// A duration argument: seconds (a number) or text with a unit (`"90s"`, `"20m"`).
fn duration_arg(name: &str, value: Option<&Value>) -> Result<Option<Duration>, ToolError> {
    let parsed = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(number)) => number
            .as_f64()
            .filter(|seconds| seconds.is_finite() && *seconds >= 0.0)
            .and_then(|seconds| Duration::try_from_secs_f64(seconds).ok())
            .ok_or_else(|| format!("{number} is not a number of seconds, 0 or more")),
        Some(Value::String(text)) => crate::human::parse_duration(text),
        Some(other) => Err(format!("expected seconds or text like \"20m\", got {other}")),
    };
    parsed.map(|duration| (!duration.is_zero()).then_some(duration)).map_err(|err| ToolError(format!("invalid {name}: {err}")))
}

#[derive(Deserialize)]
struct PollArgs {
    job_id: String,
    tail_lines: Option<usize>,
}

#[derive(Deserialize)]
struct ListArgs {
    limit: Option<usize>,
}

#[derive(Deserialize)]
struct CancelArgs {
    job_id: String,
}

#[derive(Deserialize)]
struct WaitArgs {
    job_id: String,
    timeout_seconds: Option<f64>,
    tail_lines: Option<usize>,
}

#[derive(Deserialize)]
struct AwaitAnyArgs {
    job_ids: Option<Vec<String>>,
    timeout_seconds: Option<f64>,
    tail_lines: Option<usize>,
}

/// A failure the caller can act on: becomes `isError: true`.
struct ToolError(String);

impl From<JobError> for ToolError {
    fn from(err: JobError) -> Self {
        let hint = match &err {
            JobError::NotFound(_) => "; codex_list shows the jobs that exist",
            _ => "",
        };
        ToolError(format!("{err}{hint}"))
    }
}

type ToolResult = Result<CallToolResult, ToolError>;

/// Runs one tool call. `Err` only for a tool name this server does not have.
pub async fn call(
    tool: &ToolContext<'_>,
    name: &str,
    arguments: Option<JsonObject>,
    context: RequestContext<RoleServer>,
) -> Result<CallToolResult, McpError> {
    let arguments = arguments.unwrap_or_default();
    let result = match name {
        schema::START => start(tool, arguments).await,
        schema::REPLY => reply(tool, arguments).await,
        schema::POLL => poll(tool.engine, arguments),
        schema::LIST => list(tool.engine, arguments),
        schema::CANCEL => cancel(tool, arguments).await,
        schema::WAIT => wait(tool, arguments, &context).await,
        schema::AWAIT_ANY => await_any(tool, arguments, &context).await,
        other => {
            let names = schema::NAMES.join(", ");
            return Err(McpError::invalid_params(format!("unknown tool {other:?}: this server has {names}"), None));
        }
    };
    Ok(result.unwrap_or_else(|ToolError(message)| error_result(&message)))
}

/// Arguments of the wrong shape are the caller's to fix, so they become a tool error.
fn parse<T: DeserializeOwned>(tool: &str, arguments: JsonObject) -> Result<T, ToolError> {
    serde_json::from_value(Value::Object(arguments))
        .map_err(|err| ToolError(format!("invalid arguments for {tool}: {err}; see the tool's input schema")))
}

pub fn error_result(message: &str) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(json!({ "error": message }).to_string())])
}

/// The original's JSON as text, and the same value as structuredContent.
fn json_result(value: Value) -> CallToolResult {
    CallToolResult::structured(value)
}

fn to_value(value: impl serde::Serialize) -> Result<Value, ToolError> {
    serde_json::to_value(value).map_err(|err| ToolError(format!("could not encode the result: {err}")))
}

/// Starts a checked request off the async threads (it waits for the supervisor).
async fn start_request(tool: &ToolContext<'_>, request: StartRequest) -> Result<Value, ToolError> {
    let engine = tool.engine.clone();
    let started = tokio::task::spawn_blocking(move || engine.start(&request))
        .await
        .map_err(|err| ToolError(format!("starting the job failed inside the server: {err}")))??;
    to_value(started)
}

async fn start(tool: &ToolContext<'_>, arguments: JsonObject) -> ToolResult {
    let args: StartArgs = parse(schema::START, arguments)?;
    let policy: ApprovalPolicy = match args.approval_policy.as_deref() {
        Some(raw) => raw.parse()?,
        None => tool.default_policy,
    };
    let limits = args.limits.limits(tool.job_limits)?;
    let agent = tool.agents.resolve(args.agent.as_deref())?;
    let options = AgentOptions {
        model: args.options.model,
        profile: args.options.profile,
        config: args.options.config.map(OneOrMany::into_vec).unwrap_or_default(),
    };
    let cwd = PathBuf::from(&args.cwd);
    if tool.transport == Transport::Http && !cwd.is_absolute() && !args.cwd.starts_with('~') {
        return Err(ToolError(format!(
            "cwd must be an absolute path over HTTP (got {:?}): the server's own folder means nothing to the caller; give the project's full path",
            args.cwd.chars().take(200).collect::<String>()
        )));
    }
    let request = StartRequest::new(args.prompt, &cwd, policy, agent)?.with_options(options)?.with_limits(limits);
    tool.ceiling.admit(&request)?;
    Ok(json_result(start_request(tool, request).await?))
}

async fn reply(tool: &ToolContext<'_>, arguments: JsonObject) -> ToolResult {
    let args: ReplyArgs = parse(schema::REPLY, arguments)?;
    let policy: Option<ApprovalPolicy> = args.approval_policy.as_deref().map(str::parse).transpose()?;
    let follow = FollowUp {
        prompt: args.prompt,
        policy,
        model: args.options.model,
        profile: args.options.profile,
        config: args.options.config.map(OneOrMany::into_vec),
        limits: args.limits.limits(tool.job_limits)?,
    };
    // Judged as a new request, whatever the parent's record says.
    let follow_up = tool.engine.follow_up(&args.job_id, follow, tool.agents)?;
    follow_up.admit(tool.ceiling)?;
    let mut started = start_request(tool, follow_up.request).await?;
    if let Value::Object(map) = &mut started {
        map.insert("inherited".to_owned(), to_value(&follow_up.inherited)?);
    }
    Ok(json_result(started))
}

fn poll(engine: &Engine, arguments: JsonObject) -> ToolResult {
    let args: PollArgs = parse(schema::POLL, arguments)?;
    let view = engine.poll(&args.job_id, args.tail_lines.unwrap_or(TAIL_LINES))?;
    Ok(json_result(to_value(view)?))
}

fn list(engine: &Engine, arguments: JsonObject) -> ToolResult {
    let args: ListArgs = parse(schema::LIST, arguments)?;
    // `limit: 0` lists nothing, as the original's slice did (the CLI's `--limit 0` lists all).
    let rows = match args.limit.unwrap_or(20) {
        0 => Vec::new(),
        limit => engine.list(limit)?,
    };
    let rows = to_value(rows)?;
    // The original returned a bare list: keep it as the text, and wrap it for
    // structuredContent (which must be an object) the way FastMCP did.
    let mut result = CallToolResult::structured(json!({ "result": rows }));
    result.content = vec![ContentBlock::text(rows.to_string())];
    Ok(result)
}

async fn cancel(tool: &ToolContext<'_>, arguments: JsonObject) -> ToolResult {
    let args: CancelArgs = parse(schema::CANCEL, arguments)?;
    let view = tool.engine.cancel(&args.job_id, tool.cancel_grace).await?;
    Ok(json_result(to_value(view)?))
}

/// A timeout the caller asked for, capped by the server's limit.
fn capped_timeout(requested: Option<f64>, max_wait: Duration) -> Result<Duration, ToolError> {
    let seconds = requested.unwrap_or(30.0);
    if !seconds.is_finite() || seconds < 0.0 {
        return Err(ToolError(format!("timeout_seconds must be a number of seconds, 0 or more; got {seconds}")));
    }
    Ok(Duration::from_secs_f64(seconds.min(max_wait.as_secs_f64())))
}

async fn wait(tool: &ToolContext<'_>, arguments: JsonObject, context: &RequestContext<RoleServer>) -> ToolResult {
    let args: WaitArgs = parse(schema::WAIT, arguments)?;
    let timeout = capped_timeout(args.timeout_seconds, tool.max_wait)?;
    let engine = tool.engine;
    // Check the id before waiting so a typo fails at once.
    let id = engine.store().existing(&args.job_id)?;
    let waiting = engine.wait(&args.job_id, timeout, args.tail_lines.unwrap_or(TAIL_LINES));
    let progress = Progress { tool, context, describe: &|| newest_line(engine, &id) };
    let view = progress.run(waiting).await?;
    Ok(json_result(to_value(view?)?))
}

async fn await_any(tool: &ToolContext<'_>, arguments: JsonObject, context: &RequestContext<RoleServer>) -> ToolResult {
    let args: AwaitAnyArgs = parse(schema::AWAIT_ANY, arguments)?;
    let timeout = capped_timeout(args.timeout_seconds, tool.max_wait)?;
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
            // One caller at a time walks this session's cursor.
            let mut cursor = tool.endings.lock().await;
            let describe = || Some("waiting for the next job to end".to_owned());
            let waiting = engine.next_ending(&mut cursor, timeout, tail_lines);
            let progress = Progress { tool, context, describe: &describe };
            match progress.run(waiting).await?? {
                NextEnding::Ended(view) => *view,
                NextEnding::TimedOut => return Ok(json_result(timed_out(&[], timeout))),
                NextEnding::NothingRunning => {
                    return Err(ToolError("no job is running and every ending was already reported: start one with codex_start".into()));
                }
            }
        }
    };
    let mut value = to_value(ended)?;
    if let Value::Object(map) = &mut value {
        map.insert("timed_out".to_owned(), Value::Bool(false));
    }
    Ok(json_result(value))
}

fn timed_out(ids: &[String], timeout: Duration) -> Value {
    json!({
        "timed_out": true,
        "job_ids": ids,
        "message": format!("no job ended within {:.0} s; call codex_await_any again", timeout.as_secs_f64()),
    })
}

fn newest_line(engine: &Engine, id: &crate::jobs::JobId) -> Option<String> {
    let tail = engine.store().tail(id, 1, PROGRESS_LINE_CHARS).ok()?;
    let line = tail.strip_prefix(TRUNCATED_MARKER).unwrap_or(&tail).trim();
    (!line.is_empty()).then(|| line.to_owned())
}

/// Runs a wait, sending progress while it lasts when the client asked for it, and
/// giving up at once when the client cancels the request.
struct Progress<'a> {
    tool: &'a ToolContext<'a>,
    context: &'a RequestContext<RoleServer>,
    describe: &'a (dyn Fn() -> Option<String> + Sync),
}

impl Progress<'_> {
    async fn run<T>(self, waiting: impl Future<Output = T>) -> Result<T, ToolError> {
        let token: Option<ProgressToken> = self.context.meta.get_progress_token();
        let interval = self.tool.progress_interval;
        let started = Instant::now();
        let mut ticker = tokio::time::interval_at(started + interval, interval);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        tokio::pin!(waiting);
        loop {
            tokio::select! {
                done = &mut waiting => return Ok(done),
                () = self.context.ct.cancelled() => {
                    return Err(ToolError("the client cancelled this request".into()));
                }
                _ = ticker.tick(), if token.is_some() => {
                    let Some(token) = token.clone() else { continue };
                    // Progress must grow with every notification: seconds waited, to the
                    // millisecond. No total: how far the job has come is unknown.
                    let elapsed = started.elapsed().as_millis() as f64 / 1000.0;
                    let mut param = ProgressNotificationParam::new(token, elapsed);
                    if let Some(message) = (self.describe)() {
                        param = param.with_message(message);
                    }
                    if let Err(err) = self.context.peer.notify_progress(param).await {
                        tracing::debug!(%err, "could not send progress");
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
