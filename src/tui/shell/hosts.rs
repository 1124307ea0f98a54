//! Carrying out what the hosts view and the job form ask of a host: each a tool call on
//! that host's session (connected on first use, shared with the host's watching task),
//! on a task of its own, its answer checked before it is believed and its result sent
//! back as a [`TaskResult`].

use std::time::Duration;

use serde_json::{Map, Value};
use tokio::sync::mpsc::UnboundedSender;

use crate::hosts::{HostPool, JobRef, job_ref};
use crate::jobs::{ApplyView, ApprovalPolicy, ChangeView, DiscardView};
use crate::tui::model::hosts::HostAct;
use crate::tui::model::message::{Started, TaskResult};

/// A cancel waits there for the job's grace; an apply or a discard for git.
const ACT_DEADLINE: Duration = Duration::from_secs(120);
/// A start waits there for the job's supervisor (and a worktree).
const START_DEADLINE: Duration = Duration::from_secs(60);
/// The most of a change's patch asked of a host (its codex_diff's own cap).
const MAX_PATCH_CHARS: usize = 512_000;

/// Does `act` to `job` (`NAME:ID`) on its host.
pub(super) fn act(pool: &HostPool, job: String, act: HostAct, results: &UnboundedSender<TaskResult>) {
    let pool = pool.clone();
    let results = results.clone();
    tokio::spawn(async move {
        let outcome = match job_ref(None, &job) {
            Ok(JobRef::Remote { host, id }) => on_host(&pool, &host, &id, act).await,
            Ok(JobRef::Local(_)) => Err("not a host's job".to_owned()),
            Err(err) => Err(err.to_string()),
        };
        let _ = results.send(TaskResult::OnHost { job, act, outcome });
    });
}

async fn on_host(pool: &HostPool, host: &str, id: &str, act: HostAct) -> Result<String, String> {
    let mut asked = Map::new();
    asked.insert("job_id".to_owned(), Value::String(id.to_owned()));
    let tool = match act {
        HostAct::Cancel => "codex_cancel",
        HostAct::Apply => "codex_apply",
        HostAct::Discard => "codex_discard",
        HostAct::Diff => {
            asked.insert("max_chars".to_owned(), Value::from(MAX_PATCH_CHARS));
            "codex_diff"
        }
    };
    let answer = pool.call_job(host, tool, asked, ACT_DEADLINE).await.map_err(|err| err.to_string())?;
    let unusable = |err: serde_json::Error| format!("host {host} answered {tool} with something unusable: {err}");
    match act {
        HostAct::Cancel => Ok(answer.get("status").and_then(Value::as_str).unwrap_or("asked").to_owned()),
        HostAct::Apply => {
            let applied: ApplyView = serde_json::from_value(answer).map_err(unusable)?;
            Ok(if applied.applied {
                format!("applied to {host}:{}: {}", applied.origin, applied.files.join(", "))
            } else {
                let conflicts = if applied.conflicts.is_empty() { "(git named no file)".to_owned() } else { applied.conflicts.join(", ") };
                format!("does not apply to {host}:{}; nothing was changed. Not applying: {conflicts}", applied.origin)
            })
        }
        HostAct::Discard => {
            let discarded: DiscardView = serde_json::from_value(answer).map_err(unusable)?;
            Ok(format!("discarded: {host}:{} and branch {}", discarded.worktree.unwrap_or_default(), discarded.branch.unwrap_or_default()))
        }
        HostAct::Diff => {
            let truncated = answer.get("patch_truncated") == Some(&Value::Bool(true));
            let change: ChangeView = serde_json::from_value(answer).map_err(unusable)?;
            Ok(change_text(host, &change, truncated))
        }
    }
}

/// A change as the view shows it: what to know, a line a file, then the patch.
fn change_text(host: &str, change: &ChangeView, truncated: bool) -> String {
    let mut text = String::new();
    for note in &change.notes {
        text.push_str(&format!("{note}\n"));
    }
    if change.files.is_empty() && change.notes.is_empty() {
        text.push_str("no changes\n");
    }
    for file in &change.files {
        let counts = if file.binary { "binary".to_owned() } else { format!("+{} -{}", file.insertions, file.deletions) };
        text.push_str(&format!(" {}  {counts}\n", file.path));
    }
    if let Some(patch) = &change.patch {
        text.push('\n');
        text.push_str(patch);
        if truncated {
            text.push_str(&format!("\n… host {host} sent the start of the patch only (`codex-async diff` there shows all of it)\n"));
        }
    }
    text
}

/// Starts a job on `host` (or follows one up there): held to this dashboard's ceiling
/// first, as a local start is (the host holds it to its own too).
pub(super) fn start(
    pool: &HostPool,
    host: String,
    tool: &'static str,
    arguments: Map<String, Value>,
    policy: ApprovalPolicy,
    ceiling: ApprovalPolicy,
    results: &UnboundedSender<TaskResult>,
) {
    let pool = pool.clone();
    let results = results.clone();
    tokio::spawn(async move {
        let outcome = if policy > ceiling {
            Err(format!(
                "approval policy {policy} is above this dashboard's ceiling {ceiling} (max_policy), which holds for a host's jobs too"
            ))
        } else {
            pool.call_job(&host, tool, arguments, START_DEADLINE)
                .await
                .map_err(|err| err.to_string())
                .and_then(|answer| started(&host, &answer))
        };
        let _ = results.send(TaskResult::Started(outcome));
    });
}

/// The host's answer to a start: the new job (`NAME:ID`, checked) and why it failed
/// at once.
fn started(host: &str, answer: &Value) -> Result<Started, String> {
    let id = answer.get("job_id").and_then(Value::as_str).ok_or_else(|| format!("host {host} answered a start without a job id"))?;
    let failed = answer.get("error").and_then(Value::as_str).map(|text| crate::hosts::shown(text, 500));
    Ok(Started { id: id.to_owned(), failed, inherited: Some(format!("on host {host}")) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_start_above_the_ceiling_is_refused_before_any_host_is_asked() {
        let pool = HostPool::new(&std::collections::BTreeMap::new());
        let (results, mut heard) = tokio::sync::mpsc::unbounded_channel();
        start(&pool, "box".into(), "codex_start", Map::new(), ApprovalPolicy::FullAuto, ApprovalPolicy::Suggest, &results);
        match heard.recv().await {
            Some(TaskResult::Started(Err(message))) => {
                assert!(message.contains("full-auto is above this dashboard's ceiling suggest"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        // Within the ceiling it goes to the host, here one that is not configured.
        start(&pool, "box".into(), "codex_start", Map::new(), ApprovalPolicy::Suggest, ApprovalPolicy::Suggest, &results);
        match heard.recv().await {
            Some(TaskResult::Started(Err(message))) => assert!(message.contains("unknown host"), "{message}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_change_reads_notes_files_then_the_patch() {
        let change: ChangeView = serde_json::from_value(serde_json::json!({"job_id": "box:a1b2c3d4", "state": "frozen",
            "files": [{"path": "x.txt", "insertions": 1, "deletions": 0}, {"path": "img.png", "insertions": 0, "deletions": 0, "binary": true}],
            "patch": "+x", "notes": ["the folder moved on"]}))
        .unwrap();
        let text = change_text("box", &change, true);
        assert!(text.starts_with("the folder moved on\n x.txt  +1 -0\n img.png  binary\n\n+x"), "{text}");
        assert!(text.contains("host box sent the start of the patch only"), "{text}");
    }
}
