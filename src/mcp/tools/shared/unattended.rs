//! The arguments of a job that runs unattended, shared by `codex_start` (and
//! `codex_reply`): what it waits for before it starts.

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::super::common::{OneOrMany, ToolError};
use super::schema::object;
use crate::jobs::{Schedule, Timestamp, parse_at};

#[derive(Deserialize, Default)]
pub struct UnattendedArgs {
    after: Option<OneOrMany>,
    delay: Option<Value>,
    at: Option<String>,
    pub max_tokens: Option<u64>,
    pub resume_on_limit: Option<bool>,
    labels: Option<OneOrMany>,
    pub group: Option<String>,
    priority: Option<i64>,
}

/// Their schema, added to the tool's input properties.
pub fn properties() -> Map<String, Value> {
    object(json!({
        "after": {"type": ["array", "string"], "items": {"type": "string"},
            "description": "Start only after these jobs (ids) have all ended done; if one ends otherwise this job ends cancelled (cancel_reason 'dependency failed') without running. Meanwhile it is pending, with 'waiting' saying what for."},
        "delay": {"type": ["number", "string"], "description": "Start no sooner than this from now: seconds, or text like \"20m\", \"2h\"."},
        "max_tokens": {"type": "integer", "minimum": 0, "description": "The job's token budget (tokens in + out as the agent reports them): past it the job is cancelled with cancel_reason 'over budget'. Only agents that report usage (codex, claude, gemini) take one. Default: the server's."},
        "resume_on_limit": {"type": "boolean", "description": "When the provider's usage limit stops the job (it ends 'error' with 'limit'), follow it up automatically at the reset, continuing its conversation; the follow-up is listed in follow_ups. Default: the server's."},
        "labels": {"type": ["array", "string"], "items": {"type": "string"}, "description": "Words to find the job by (codex_list's labels, the dashboard's label: filter)."},
        "group": {"type": "string", "description": "The named queue the job waits in, with its own limit of jobs at once (defined by the person running the server: [groups.NAME] max_running)."},
        "priority": {"type": "integer", "description": "Pending jobs of a group start highest priority first, ties in order of arrival. Default 0."},
        "at": {"type": "string", "description": "Start no sooner than this time: \"HH:MM\" (the server's local time; tomorrow once passed today) or RFC 3339."}
    }))
}

impl UnattendedArgs {
    /// How the job is followed up when a usage limit stops it: as asked, else as the
    /// server is configured.
    pub fn resume(&self, settings: &crate::mcp::settings::ServerSettings) -> Option<crate::jobs::ResumeOnLimit> {
        match self.resume_on_limit {
            Some(true) => Some(settings.resume.clone()),
            Some(false) => None,
            None => settings.resume_on_limit.clone(),
        }
    }

    pub fn schedule(&self) -> Result<Schedule, ToolError> {
        let now = chrono::Utc::now();
        let not_before = match (&self.at, &self.delay) {
            (Some(_), Some(_)) => return Err(ToolError("give either delay or at, not both".to_owned())),
            (Some(at), None) => Some(parse_at(at, now).map_err(|err| ToolError(err.to_string().replace("--at", "at")))?),
            (None, Some(delay)) => {
                let seconds = match delay {
                    Value::Number(number) => number.as_f64().filter(|s| s.is_finite() && *s >= 0.0).map(std::time::Duration::from_secs_f64),
                    Value::String(text) => crate::human::parse_duration(text).ok(),
                    _ => None,
                }
                .ok_or_else(|| ToolError(format!("invalid delay {delay}: give seconds or text like \"20m\"")))?;
                let delay = chrono::Duration::from_std(seconds).map_err(|_| ToolError("delay is too long".to_owned()))?;
                (!delay.is_zero()).then_some(Timestamp(now + delay))
            }
            (None, None) => None,
        };
        let after = match &self.after {
            Some(OneOrMany::One(one)) => vec![one.clone()],
            Some(OneOrMany::Many(many)) => many.clone(),
            Some(OneOrMany::Map(_)) => return Err(ToolError("after: give job ids, as a list or one string".to_owned())),
            None => Vec::new(),
        };
        let after = after.into_iter().map(|id| id.trim().to_owned()).filter(|id| !id.is_empty()).collect();
        let labels = match &self.labels {
            Some(OneOrMany::One(one)) => vec![one.clone()],
            Some(OneOrMany::Many(many)) => many.clone(),
            Some(OneOrMany::Map(_)) => return Err(ToolError("labels: give words, as a list or one string".to_owned())),
            None => Vec::new(),
        };
        Ok(Schedule { after, not_before, labels, group: self.group.clone(), priority: self.priority }.checked()?)
    }
}
