//! `meta.json`: the job's record, compatible with the Python original's file.
//!
//! The original's keys keep their names and meanings; new keys are optional, so a
//! file the original wrote loads as it is, and keys this version does not know are
//! carried through every rewrite untouched.

use std::fmt;
#[cfg(test)]
use std::fs;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::atomic::{self, Durability};
use crate::jobs::error::{JobError, Result};

pub use super::timestamp::Timestamp;

/// The largest meta.json we read; anything bigger is reported as corrupt rather than
/// loaded into memory.
pub const MAX_META_BYTES: u64 = 1024 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Accepted but not yet running.
    Pending,
    Running,
    /// Running, but stopped (SIGSTOP) by a person until resumed; it keeps its slot.
    Paused,
    /// The agent exited with status 0.
    Done,
    /// The agent exited non-zero, was killed by a signal, never started, or lost its supervisor.
    Error,
    /// Someone asked for the job to stop.
    Cancelled,
}

impl Status {
    pub const ALL: [Status; 6] = [Status::Pending, Status::Running, Status::Done, Status::Error, Status::Cancelled, Status::Paused];

    pub fn is_finished(self) -> bool {
        matches!(self, Status::Done | Status::Error | Status::Cancelled)
    }

    /// Its agent has started and not ended: running, or paused.
    pub fn is_live(self) -> bool {
        matches!(self, Status::Running | Status::Paused)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Done => "done",
            Status::Error => "error",
            Status::Cancelled => "cancelled",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Tokens an agent reported.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    #[serde(default)]
    pub input_tokens: u64,
    #[serde(default)]
    pub cached_input_tokens: u64,
    #[serde(default)]
    pub output_tokens: u64,
    #[serde(default)]
    pub reasoning_output_tokens: u64,
    /// What the agent said the run cost, where it says (Claude Code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
}

impl Usage {
    /// Tokens in and out: what the tokens column shows, and what a budget counts.
    pub fn total(&self) -> u64 {
        self.input_tokens.saturating_add(self.output_tokens)
    }
}

/// A provider's usage limit that stopped the job: its kind (`usage_limit`, `five_hour`,
/// `daily_quota`, …) and when it resets, where the agent said.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Limit {
    pub kind: String,
    #[serde(default)]
    pub resets_at: Option<Timestamp>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobMeta {
    // The original's keys, always written (null when unknown), in the original's order.
    pub job_id: String,
    pub status: Status,
    pub prompt: String,
    pub cwd: String,
    #[serde(default = "default_policy")]
    pub approval_policy: String,
    #[serde(default)]
    pub pid: Option<i64>,
    #[serde(default)]
    pub started_at: Option<Timestamp>,
    #[serde(default)]
    pub finished_at: Option<Timestamp>,
    #[serde(default)]
    pub exit_code: Option<i64>,

    // New keys: optional, absent in the original's files.
    /// The new keys a poll shows too.
    #[serde(flatten)]
    pub details: JobDetails,
    /// When the prompt is too long for this file: the file in the job folder that holds it
    /// whole (`prompt` then holds its beginning).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_file: Option<String>,
    /// The commit checked out in `cwd` when the job started (its folder was a git
    /// repository): what the job changed is the tree against it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_head: Option<String>,
    /// Whether that tree had changes of its own already (uncommitted or untracked files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_dirty: Option<bool>,

    /// Keys this version does not know: kept as they were.
    #[serde(flatten)]
    pub extra: Map<String, Value>,

    /// Not stored: set by a reader that found the job's supervisor gone while
    /// processes of the job still run (the job reads `running` until they end).
    #[serde(skip)]
    pub supervisor_lost: bool,
}

/// What this version records about a job beyond the original's keys, and a poll shows
/// after them in the same order (all but `supervisor_start_ticks`, which only proves who
/// the supervisor is): each optional, absent from the original's files.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct JobDetails {
    /// Which agent runs the job (`codex`, `demo`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// The agent's full command line, as passed to exec (no shell).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    /// The agent's process group (equal to its pid: it leads its own group).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pgid: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supervisor_pid: Option<i64>,
    /// The supervisor's start time in clock ticks since boot (`/proc/<pid>/stat` field 22),
    /// so a reused pid is never mistaken for the supervisor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supervisor_start_ticks: Option<u64>,
    /// The signal that ended the agent, for example `SIGKILL`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Timestamp>,
    /// Why the job ended the way it did, when the status alone does not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Why a cancelled job was stopped: `requested`, `stalled` or `timed out`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel_reason: Option<String>,
    /// Not stored: a pending job's place in the queue (1 = next), as a reader finds it.
    #[serde(skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub queue_position: Option<usize>,
    /// A pending job starts once fewer than this many jobs run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_limit: Option<usize>,
    /// Cancelled (`stalled`) after this many seconds without new output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stall_timeout: Option<f64>,
    /// Cancelled (`timed out`) after running this many seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_duration: Option<f64>,
    /// The model asked for, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The codex profile asked for, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// Codex `-c key=value` overrides.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub config: Vec<String>,
    /// The agent's conversation, for follow-ups (codex's `thread_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// Tokens the agent reported, summed over this run's turns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// One short line: what the agent is doing now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity: Option<String>,
    /// The job this one follows up (continues the conversation of).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_job_id: Option<String>,
    /// Jobs that follow this one up.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub follow_ups: Vec<String>,
    /// Not stored: the oldest approval request a running `ask` job waits on, as a reader
    /// finds it in the job's folder.
    #[serde(skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub approval: Option<crate::jobs::approval::types::PendingApproval>,
    /// The worktree the job runs in (`cwd` stays the folder asked for: the origin).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worktree: Option<String>,
    /// The job's branch in that worktree (`codex-async/<id>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// The commit the worktree's branch was made from: the job's change is measured from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_commit: Option<String>,
    /// The job's change, frozen when its agent ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<super::change::ChangeStat>,
    /// When the change was applied to the origin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_at: Option<Timestamp>,
    /// When the worktree and its branch were removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discarded_at: Option<Timestamp>,
    /// The attempt set a job belongs to (the first attempt's id): one task tried N times.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt_group: Option<String>,
    /// Which attempt of its set (1..N).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u32>,
    /// Jobs that must end `done` before this one starts (`--after`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub after: Vec<String>,
    /// Cancelled (`over budget`) once its tokens in and out pass this (`--max-tokens`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u64>,
    /// Words to find the job by (`--label`). Anything but a list of words (a file
    /// written by hand or by another tool) reads as none, rather than a corrupt job.
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "words_or_none")]
    pub labels: Vec<String>,
    /// The named queue the job belongs to (`--group`); none: the default group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Its priority in its group's queue (higher starts first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i64>,
    /// The provider's usage limit that ended the job (`error`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<Limit>,
    /// When the job was paused (it is `paused`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused_at: Option<Timestamp>,
    /// Not started before this time (`--delay`, `--at`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<Timestamp>,
    /// What a pending job waits for besides a slot: `after 1a2b3c4d`, `starts at 14:30`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting: Option<String>,
    /// Hooks of events already recorded whose runner has not been started yet
    /// (`on_finish`): written with the event itself, cleared once the runner is on its
    /// way, so an owner killed in between leaves the debt to whoever settles the job next.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hooks_owed: Vec<String>,
}

fn words_or_none<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    let value = Value::deserialize(deserializer)?;
    Ok(serde_json::from_value(value).unwrap_or_default())
}

fn default_policy() -> String {
    "suggest".to_owned()
}

impl JobMeta {
    /// Whether a codex-async supervisor owns the job (the original's jobs have none).
    pub fn has_supervisor(&self) -> bool {
        self.details.supervisor_pid.is_some()
    }

    pub fn from_json(bytes: &[u8]) -> std::result::Result<Self, String> {
        let value: Value = serde_json::from_slice(bytes).map_err(|err| format!("meta.json is not valid JSON: {err}"))?;
        if !value.is_object() {
            return Err("meta.json is not a JSON object".to_owned());
        }
        serde_json::from_value(value).map_err(|err| format!("meta.json has the wrong shape: {err}"))
    }

    /// The original's layout: `json.dump(meta, f, indent=2)`.
    pub fn to_json(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }

    /// Reads `meta.json` without following a symlink and without loading an oversized
    /// file. The folder names the job: a meta whose `job_id` is another job's (a folder
    /// copied or restored by hand) is corrupt, so nobody acts on the other job through it.
    pub fn read(id: &str, path: &Path) -> Result<Self> {
        let bytes = super::jobfile::read_capped(path, MAX_META_BYTES).map_err(|err| match super::jobfile::refusal(&err) {
            Some(super::jobfile::Refused::Symlink(_)) => corrupt(id, "meta.json is a symlink; it is not followed"),
            Some(super::jobfile::Refused::NotRegular(_)) => corrupt(id, "meta.json is not a regular file; it is not read"),
            Some(super::jobfile::Refused::TooLarge { .. }) => corrupt(id, &format!("meta.json is larger than {MAX_META_BYTES} bytes")),
            None if err.kind() == std::io::ErrorKind::NotFound => corrupt(id, "meta.json is missing"),
            None => JobError::io("reading", path, err),
        })?;
        let meta = Self::from_json(&bytes).map_err(|reason| corrupt(id, &reason))?;
        if meta.job_id != id {
            let named: String = meta.job_id.chars().take(80).collect();
            return Err(corrupt(
                id,
                &format!("meta.json belongs to job {named:?}, not to this folder (copied or restored by hand?); it is not acted on"),
            ));
        }
        Ok(meta)
    }

    /// Replaces `meta.json` whole (see [`atomic`]); `Durable` for what must survive a crash.
    pub fn write_to(&self, path: &Path, durability: Durability) -> Result<()> {
        atomic::write(path, &self.to_json(), durability).map_err(|err| JobError::io("writing", path, err))
    }

    /// Sets aside disk space for this job's final rewrite, so a full disk cannot stop
    /// its result from being recorded: blocks allocated now are overwritten later.
    pub fn reserve_space(&self, reserve: &Path) -> Result<()> {
        let size = (self.to_json().len() as i64) * 2 + 16 * 1024;
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            // A FIFO in its place fails at once (ENXIO) instead of holding the writer.
            .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_NONBLOCK)
            .open(reserve)
            .map_err(|err| JobError::io("creating", reserve, err))?;
        nix::fcntl::posix_fallocate(&file, 0, size).map_err(|err| JobError::io("reserving space in", reserve, err.into()))
    }

    /// Replaces `target` with this meta, written into the space [`JobMeta::reserve_space`]
    /// set aside; a plain durable write without a reserve. `placed` runs as soon as
    /// readers can see it (see [`atomic::write_into_reserve_with`]).
    pub fn write_reserved(&self, reserve: &Path, target: &Path, placed: impl FnOnce()) -> Result<()> {
        atomic::write_into_reserve_with(reserve, target, &self.to_json(), placed).map_err(|err| JobError::io("writing", target, err))
    }
}

fn corrupt(id: &str, reason: &str) -> JobError {
    JobError::Corrupt { id: id.to_owned(), reason: reason.to_owned() }
}

/// Creates a file for appending agent output, readable only by its owner (see
/// [`super::jobfile::open_append`]: never through a symlink, never a FIFO).
pub fn open_append(path: &Path) -> Result<File> {
    super::jobfile::open_append(path).map_err(|err| JobError::io("opening for append", path, err))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGINAL: &str = r#"{
  "job_id": "3f2a9c1d",
  "status": "done",
  "prompt": "Refactor the parser",
  "cwd": "/home/me/project",
  "approval_policy": "suggest",
  "pid": 4242,
  "started_at": "2026-04-29T10:00:00.123456+00:00",
  "finished_at": "2026-04-29T10:05:00+00:00",
  "exit_code": 0
}"#;

    #[test]
    fn loads_a_file_written_by_the_python_original() {
        let meta = JobMeta::from_json(ORIGINAL.as_bytes()).unwrap();
        assert_eq!(meta.job_id, "3f2a9c1d");
        assert_eq!(meta.status, Status::Done);
        assert_eq!(meta.pid, Some(4242));
        assert_eq!(meta.exit_code, Some(0));
        assert!(!meta.has_supervisor());
        assert_eq!(meta.started_at.unwrap().to_string(), "2026-04-29T10:00:00.123456+00:00");
        assert_eq!(meta.finished_at.unwrap().to_string(), "2026-04-29T10:05:00+00:00");
    }

    #[test]
    fn rewriting_an_original_file_keeps_its_keys_order_and_values() {
        let meta = JobMeta::from_json(ORIGINAL.as_bytes()).unwrap();
        let written = String::from_utf8(meta.to_json()).unwrap();
        assert_eq!(written.trim_end(), ORIGINAL);
    }

    #[test]
    fn running_original_job_has_null_finish_fields() {
        let text = ORIGINAL.replace("\"done\"", "\"running\"").replace(
            "\"finished_at\": \"2026-04-29T10:05:00+00:00\",\n  \"exit_code\": 0",
            "\"finished_at\": null,\n  \"exit_code\": null",
        );
        let meta = JobMeta::from_json(text.as_bytes()).unwrap();
        assert_eq!(meta.status, Status::Running);
        assert_eq!(meta.finished_at, None);
        assert_eq!(meta.exit_code, None);
        let round = String::from_utf8(meta.to_json()).unwrap();
        assert!(round.contains("\"finished_at\": null"), "{round}");
        assert!(round.contains("\"exit_code\": null"), "{round}");
    }

    #[test]
    fn unknown_keys_survive_a_rewrite() {
        let text = ORIGINAL.replace("\"exit_code\": 0", "\"exit_code\": 0,\n  \"queue_position\": 3,\n  \"tags\": {\"team\": \"infra\"}");
        let mut meta = JobMeta::from_json(text.as_bytes()).unwrap();
        meta.details.note = Some("checked".into());
        let again = JobMeta::from_json(&meta.to_json()).unwrap();
        assert_eq!(again.extra["queue_position"], 3);
        assert_eq!(again.extra["tags"]["team"], "infra");
        assert_eq!(again.details.note.as_deref(), Some("checked"));
    }

    #[test]
    fn new_keys_round_trip() {
        let mut meta = JobMeta::from_json(ORIGINAL.as_bytes()).unwrap();
        meta.details.agent = Some("codex".into());
        meta.details.command = Some(vec!["codex".into(), "exec".into(), "--".into(), "hi".into()]);
        meta.details.pgid = Some(4242);
        meta.details.supervisor_pid = Some(4241);
        meta.details.supervisor_start_ticks = Some(123_456);
        meta.details.signal = Some("SIGKILL".into());
        meta.details.created_at = Some(Timestamp::now());
        assert_eq!(JobMeta::from_json(&meta.to_json()).unwrap(), meta);
    }

    #[test]
    fn naive_timestamps_read_as_utc() {
        let at = Timestamp::parse("2026-04-29T10:00:00").unwrap();
        assert_eq!(at.to_string(), "2026-04-29T10:00:00+00:00");
    }

    #[test]
    fn wrong_shapes_are_reported_not_panicked() {
        for bad in ["", "{", "[]", "42", "null", r#"{"job_id": 5}"#, r#"{"job_id":"a","status":"exploded","prompt":"","cwd":""}"#] {
            assert!(JobMeta::from_json(bad.as_bytes()).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn atomic_write_then_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("meta.json");
        let meta = JobMeta::from_json(ORIGINAL.as_bytes()).unwrap();
        meta.write_to(&path, Durability::Quick).unwrap();
        assert_eq!(JobMeta::read("3f2a9c1d", &path).unwrap(), meta);
        let leftovers: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(leftovers, vec!["meta.json"]);
    }

    #[test]
    fn symlinked_and_oversized_meta_are_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("elsewhere.json");
        fs::write(&target, ORIGINAL).unwrap();
        let link = dir.path().join("meta.json");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let err = JobMeta::read("x", &link).unwrap_err().to_string();
        assert!(err.contains("symlink"), "{err}");

        let big = dir.path().join("big.json");
        fs::write(&big, vec![b' '; (MAX_META_BYTES + 10) as usize]).unwrap();
        let err = JobMeta::read("x", &big).unwrap_err().to_string();
        assert!(err.contains("larger than"), "{err}");
    }
}
