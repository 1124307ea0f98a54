//! The JSON shapes every front end returns: the original's keys first, new ones after.

use serde::{Deserialize, Serialize};

use super::record::meta::{JobDetails, JobMeta, Status, Timestamp, Usage};
use super::store::JobRecord;

/// The original's `codex_start` result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StartView {
    pub job_id: String,
    pub status: Status,
    pub pid: Option<i64>,
    /// Why the job failed at once (agent binary missing, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// A pending job's place in the queue (1 = next).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_position: Option<usize>,
    /// What the starter should know besides (the origin had uncommitted changes that a
    /// worktree does not carry).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<String>,
    /// The worktree the job runs in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worktree: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
}

/// The original's `codex_poll` result: its keys first, then the final answer and the
/// keys this version adds, in the record's own order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PollView {
    pub job_id: String,
    pub status: Status,
    pub exit_code: Option<i64>,
    pub output: String,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    pub prompt: String,
    pub cwd: String,
    /// The agent's final answer (`codex exec -o`), when it wrote one.
    pub last_message: Option<String>,
    pub approval_policy: String,
    pub pid: Option<i64>,
    /// The record's own keys beyond the original's, and a pending job's place in the queue.
    #[serde(flatten)]
    pub details: JobDetails,
    /// Hooks of this job that failed (`on_finish: exit status 3`); see `hooks.log`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hook_failures: Vec<String>,
}

impl PollView {
    pub fn new(meta: JobMeta, output: String, last_message: Option<String>) -> Self {
        // The first only proves who the supervisor is, the second is the recorder's
        // business: of no use to the caller.
        let details = JobDetails { supervisor_start_ticks: None, hooks_owed: Vec::new(), ..meta.details };
        PollView {
            job_id: meta.job_id,
            status: meta.status,
            exit_code: meta.exit_code,
            output,
            started_at: meta.started_at,
            finished_at: meta.finished_at,
            prompt: meta.prompt,
            cwd: meta.cwd,
            last_message,
            approval_policy: meta.approval_policy,
            pid: meta.pid,
            details,
            hook_failures: Vec::new(),
        }
    }
}

/// One row of the original's `codex_list`; a corrupt job has status `corrupt` and an `error`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ListView {
    pub job_id: String,
    pub status: String,
    pub prompt: String,
    pub cwd: String,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    pub exit_code: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_policy: Option<String>,
    /// Why a cancelled job was stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel_reason: Option<String>,
    /// A pending job's place in the queue (1 = next).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_position: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// What a running job's agent is doing now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_job_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The job's change, frozen when it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<super::record::change::ChangeStat>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discarded_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt_group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
}

/// The original cut prompts in listings at 80 characters and added `...`.
pub const LIST_PROMPT_CHARS: usize = 80;

impl From<&JobRecord> for ListView {
    fn from(record: &JobRecord) -> Self {
        match &record.meta {
            Ok(meta) => ListView {
                job_id: meta.job_id.clone(),
                status: meta.status.to_string(),
                prompt: cut_prompt(&meta.prompt),
                cwd: meta.cwd.clone(),
                started_at: meta.started_at,
                finished_at: meta.finished_at,
                exit_code: meta.exit_code,
                approval_policy: Some(meta.approval_policy.clone()),
                cancel_reason: meta.details.cancel_reason.clone(),
                queue_position: None,
                agent: meta.details.agent.clone(),
                activity: meta.details.activity.clone(),
                usage: meta.details.usage,
                parent_job_id: meta.details.parent_job_id.clone(),
                error: None,
                change: meta.details.change.clone(),
                branch: meta.details.branch.clone(),
                applied_at: meta.details.applied_at,
                discarded_at: meta.details.discarded_at,
                attempt_group: meta.details.attempt_group.clone(),
                attempt: meta.details.attempt,
                labels: meta.details.labels.clone(),
                group: meta.details.group.clone(),
            },
            Err(reason) => ListView {
                job_id: record.id.to_string(),
                status: "corrupt".to_owned(),
                prompt: String::new(),
                cwd: String::new(),
                started_at: None,
                finished_at: None,
                exit_code: None,
                approval_policy: None,
                cancel_reason: None,
                queue_position: None,
                agent: None,
                activity: None,
                usage: None,
                parent_job_id: None,
                error: Some(reason.clone()),
                change: None,
                branch: None,
                applied_at: None,
                discarded_at: None,
                attempt_group: None,
                attempt: None,
                labels: Vec::new(),
                group: None,
            },
        }
    }
}

pub fn cut_prompt(prompt: &str) -> String {
    match prompt.char_indices().nth(LIST_PROMPT_CHARS) {
        Some((at, _)) => format!("{}...", &prompt[..at]),
        None => prompt.to_owned(),
    }
}

/// The original's `codex_cancel` results: either the job was signalled, or it had
/// already ended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum CancelView {
    Cancelled {
        job_id: String,
        status: Status,
        killed: bool,
        /// Only when the job has not recorded its end yet (a very busy machine).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
    NotRunning {
        job_id: String,
        status: Status,
        message: String,
    },
}

impl CancelView {
    pub fn not_running(job_id: &str, status: Status) -> Self {
        CancelView::NotRunning { job_id: job_id.to_owned(), status, message: "Job is not running".to_owned() }
    }
}

/// The result of waiting: the poll fields, and whether the time ran out first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WaitView {
    #[serde(flatten)]
    pub poll: PollView,
    pub timed_out: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompts_are_cut_at_80_characters_like_the_original() {
        assert_eq!(cut_prompt("short"), "short");
        let exactly = "a".repeat(80);
        assert_eq!(cut_prompt(&exactly), exactly);
        let long = "é".repeat(81);
        assert_eq!(cut_prompt(&long), format!("{}...", "é".repeat(80)));
    }

    /// A record with every key this version writes, and one it does not know.
    const EVERY_KEY: &str = r#"{"job_id": "3f2a9c1d", "status": "pending", "prompt": "p", "cwd": "/w", "approval_policy": "auto-edit",
        "pid": 7, "started_at": "2026-04-29T10:00:00+00:00", "finished_at": null, "exit_code": null, "agent": "claude",
        "command": ["claude", "-p"], "pgid": 7, "supervisor_pid": 6, "supervisor_start_ticks": 99, "signal": "SIGTERM",
        "created_at": "2026-04-29T09:59:59+00:00", "note": "n", "cancel_reason": "stalled", "queue_limit": 2, "stall_timeout": 60.0,
        "max_duration": 3600.5, "model": "m", "profile": "pr", "config": ["a=b"], "session_id": "s", "usage": {"input_tokens": 5,
        "cached_input_tokens": 1, "output_tokens": 2, "reasoning_output_tokens": 0, "cost_usd": 0.5}, "activity": "act",
        "parent_job_id": "0badf00d", "follow_ups": ["1234abcd"], "prompt_file": "prompt.txt", "git_head": "h", "git_dirty": true,
        "unknown_key": {"kept": 1}}"#;

    #[test]
    fn a_poll_shows_the_original_keys_first_then_the_new_ones_in_the_records_order() {
        let meta = JobMeta::from_json(EVERY_KEY.as_bytes()).unwrap();
        let mut view = PollView::new(meta, "out".to_owned(), Some("last".to_owned()));
        view.details.queue_position = Some(3);
        let expected = concat!(
            r#"{"job_id":"3f2a9c1d","status":"pending","exit_code":null,"output":"out","started_at":"2026-04-29T10:00:00+00:00","#,
            r#""finished_at":null,"prompt":"p","cwd":"/w","last_message":"last","approval_policy":"auto-edit","pid":7,"#,
            r#""agent":"claude","command":["claude","-p"],"pgid":7,"supervisor_pid":6,"signal":"SIGTERM","#,
            r#""created_at":"2026-04-29T09:59:59+00:00","note":"n","cancel_reason":"stalled","queue_position":3,"queue_limit":2,"#,
            r#""stall_timeout":60.0,"max_duration":3600.5,"model":"m","profile":"pr","config":["a=b"],"session_id":"s","#,
            r#""usage":{"input_tokens":5,"cached_input_tokens":1,"output_tokens":2,"reasoning_output_tokens":0,"cost_usd":0.5},"#,
            r#""activity":"act","parent_job_id":"0badf00d","follow_ups":["1234abcd"]}"#
        );
        assert_eq!(serde_json::to_string(&view).unwrap(), expected);
        let waited = serde_json::to_string(&WaitView { poll: view, timed_out: true }).unwrap();
        assert_eq!(waited, format!("{},\"timed_out\":true}}", &expected[..expected.len() - 1]));
    }

    #[test]
    fn a_record_is_written_back_in_its_own_key_order() {
        let meta = JobMeta::from_json(EVERY_KEY.as_bytes()).unwrap();
        let written = String::from_utf8(meta.to_json()).unwrap();
        let keys: Vec<&str> = written.lines().filter_map(|line| line.strip_prefix("  \"")?.split('"').next()).collect();
        assert_eq!(
            keys,
            [
                "job_id",
                "status",
                "prompt",
                "cwd",
                "approval_policy",
                "pid",
                "started_at",
                "finished_at",
                "exit_code",
                "agent",
                "command",
                "pgid",
                "supervisor_pid",
                "supervisor_start_ticks",
                "signal",
                "created_at",
                "note",
                "cancel_reason",
                "queue_limit",
                "stall_timeout",
                "max_duration",
                "model",
                "profile",
                "config",
                "session_id",
                "usage",
                "activity",
                "parent_job_id",
                "follow_ups",
                "prompt_file",
                "git_head",
                "git_dirty",
                "unknown_key"
            ]
        );
        assert_eq!(JobMeta::from_json(written.as_bytes()).unwrap(), meta, "read back as written");
        let bare = JobMeta::from_json(br#"{"job_id":"3f2a9c1d","status":"done","prompt":"p","cwd":"/w"}"#).unwrap();
        let bare_view = serde_json::to_string(&PollView::new(bare, String::new(), None)).unwrap();
        assert!(!bare_view.contains("agent") && !bare_view.contains("queue_position"), "absent keys stay absent: {bare_view}");
    }

    #[test]
    fn cancel_views_have_the_original_keys() {
        let cancelled =
            serde_json::to_value(CancelView::Cancelled { job_id: "ab".into(), status: Status::Cancelled, killed: true, message: None })
                .unwrap();
        assert_eq!(cancelled, serde_json::json!({"job_id": "ab", "status": "cancelled", "killed": true}));
        let ended = serde_json::to_value(CancelView::not_running("ab", Status::Done)).unwrap();
        assert_eq!(ended, serde_json::json!({"job_id": "ab", "status": "done", "message": "Job is not running"}));
    }
}
