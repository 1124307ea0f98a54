//! What every tool's handler uses: the call's context, the error a caller can act on,
//! the shapes of a result, and the options and limits that `codex_start` and
//! `codex_reply` both take.

use std::time::Duration;

use rmcp::model::{CallToolResult, ContentBlock, JsonObject};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::jobs::EndCursor;
use crate::jobs::{Ceiling, Engine, JobError, JobLimits, StartRequest};
use crate::mcp::settings::ServerSettings;

/// What a tool call may use: the engine, the server's settings (its limits and ways),
/// and the session's state.
pub struct ToolContext<'a> {
    pub engine: &'a Engine,
    pub settings: &'a ServerSettings,
    /// The most a job started here may ask for: the settings' `max_policy`, with the
    /// folders it guards resolved once.
    pub ceiling: &'a Ceiling,
    /// The endings this session's `codex_await_any` already reported.
    pub endings: &'a tokio::sync::Mutex<EndCursor>,
}

/// A failure the caller can act on: becomes `isError: true`.
pub struct ToolError(pub String);

impl From<JobError> for ToolError {
    fn from(err: JobError) -> Self {
        let hint = match &err {
            JobError::NotFound(_) => "; codex_list shows the jobs that exist",
            _ => "",
        };
        ToolError(format!("{err}{hint}"))
    }
}

pub type ToolResult = Result<CallToolResult, ToolError>;

/// Arguments of the wrong shape are the caller's to fix, so they become a tool error.
pub fn parse<T: DeserializeOwned>(tool: &str, arguments: JsonObject) -> Result<T, ToolError> {
    serde_json::from_value(Value::Object(arguments))
        .map_err(|err| ToolError(format!("invalid arguments for {tool}: {err}; see the tool's input schema")))
}

pub fn error_result(message: &str) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(json!({ "error": message }).to_string())])
}

/// The original's JSON as text, and the same value as structuredContent.
pub fn json_result(value: Value) -> CallToolResult {
    CallToolResult::structured(value)
}

pub fn to_value(value: impl serde::Serialize) -> Result<Value, ToolError> {
    serde_json::to_value(value).map_err(|err| ToolError(format!("could not encode the result: {err}")))
}

/// Starts a checked request off the async threads (it waits for the supervisor).
pub async fn start_request(tool: &ToolContext<'_>, request: StartRequest) -> Result<Value, ToolError> {
    let engine = tool.engine.clone();
    let started = tokio::task::spawn_blocking(move || engine.start(&request))
        .await
        .map_err(|err| ToolError(format!("starting the job failed inside the server: {err}")))??;
    to_value(started)
}

/// The agent's model and settings.
#[derive(Deserialize)]
pub struct OptionArgs {
    pub model: Option<String>,
    pub profile: Option<String>,
    /// `key=value` overrides: a list, or one string.
    pub config: Option<OneOrMany>,
}

#[derive(Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
    /// `{"key": value}`: each becomes `key=value` (a string as it is, anything else as JSON,
    /// which codex reads as TOML).
    Map(serde_json::Map<String, Value>),
}

impl OneOrMany {
    pub fn into_vec(self) -> Vec<String> {
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
pub struct LimitArgs {
    stall_timeout: Option<Value>,
    max_duration: Option<Value>,
}

impl LimitArgs {
    /// The job's limits: the caller's, else the server's.
    pub fn limits(&self, server: JobLimits) -> Result<JobLimits, ToolError> {
        Ok(JobLimits {
            stall_timeout: duration_arg("stall_timeout", self.stall_timeout.as_ref())?.or(server.stall_timeout),
            max_duration: duration_arg("max_duration", self.max_duration.as_ref())?.or(server.max_duration),
            ..server
        })
    }
}

/// A duration argument: seconds (a number) or text with a unit (`"90s"`, `"20m"`); 0
/// is none.
fn duration_arg(name: &str, value: Option<&Value>) -> Result<Option<Duration>, ToolError> {
    let parsed = some_duration(value);
    parsed.map(|duration| duration.filter(|duration| !duration.is_zero())).map_err(|err| ToolError(format!("invalid {name}: {err}")))
}

/// A duration argument as given, 0 included, or why it is not one.
pub fn some_duration(value: Option<&Value>) -> Result<Option<Duration>, String> {
    Ok(Some(match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(number)) => number
            .as_f64()
            .filter(|seconds| seconds.is_finite() && *seconds >= 0.0)
            .and_then(|seconds| Duration::try_from_secs_f64(seconds).ok())
            .ok_or_else(|| format!("{number} is not a number of seconds, 0 or more"))?,
        Some(Value::String(text)) => crate::human::parse_duration(text)?,
        Some(other) => return Err(format!("expected seconds or text like \"20m\", got {other}")),
    }))
}
