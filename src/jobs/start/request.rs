//! What a job is asked to do, checked before anything starts, and the record a new job
//! begins with.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::jobs::agent::command::{AgentCommand, Invocation};
use crate::jobs::agent::session::SessionId;
use crate::jobs::agent::{AgentOptions, AgentSpec, ApprovalPolicy, MAX_PROMPT_BYTES, STDIN_PROMPT_FROM};
use crate::jobs::error::{JobError, Result};
use crate::jobs::record::id::JobId;
use crate::jobs::record::meta::{JobDetails, JobMeta, Status, Timestamp};
use crate::jobs::schedule::Schedule;
use crate::jobs::store::JobStore;

/// How a job is scheduled and bounded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct JobLimits {
    /// Start only while fewer than this many jobs run; wait as `pending` otherwise.
    #[serde(default)]
    pub max_running: Option<usize>,
    /// Cancel (`stalled`) after this long without new output.
    #[serde(default)]
    pub stall_timeout: Option<Duration>,
    /// Cancel (`timed out`) after running this long.
    #[serde(default)]
    pub max_duration: Option<Duration>,
    /// Between SIGINT and SIGKILL when the job is stopped for one of those reasons.
    #[serde(default)]
    pub cancel_grace: Option<Duration>,
    /// Past this many bytes, `output.txt` (and `events.jsonl`) keep their head and
    /// their tail, and say how much was dropped between.
    #[serde(default)]
    pub max_output: Option<u64>,
    /// Cancel (`over budget`) once the tokens the agent reports pass this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u64>,
}

pub use crate::jobs::store::PROMPT_FILE;

/// A follow-up: the conversation it continues.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Continues {
    pub parent_job_id: String,
    pub session_id: SessionId,
}

/// What to run, as checked and sent to the supervisor on its stdin.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StartRequest {
    pub prompt: String,
    /// An absolute path to an existing folder.
    pub cwd: PathBuf,
    pub policy: ApprovalPolicy,
    pub agent: AgentSpec,
    #[serde(default)]
    pub limits: JobLimits,
    #[serde(default)]
    pub options: AgentOptions,
    #[serde(default)]
    pub continues: Option<Continues>,
    /// Run in a worktree of the repository that holds `cwd`, not in place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isolation: Option<crate::jobs::worktree::Isolation>,
    /// One of several attempts at the same task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt: Option<crate::jobs::worktree::Attempt>,
    /// What the job waits for before it takes a queue slot.
    #[serde(default, skip_serializing_if = "Schedule::is_default")]
    pub schedule: Schedule,
    /// Followed up at the reset when a provider's usage limit stops it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume_on_limit: Option<ResumeOnLimit>,
}

/// How a job stopped by a usage limit is followed up at the reset (`--resume-on-limit`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResumeOnLimit {
    /// What the follow-up tells the agent.
    pub prompt: String,
    /// How many follow-ups in a row a limit may cause.
    pub max_waits: u32,
    /// How many this chain has had so far.
    #[serde(default)]
    pub waits: u32,
}

impl StartRequest {
    /// Checks a request from outside: a prompt the agent can receive as one argument
    /// (and never as an option), a cwd that is an existing folder (made absolute).
    pub fn new(prompt: impl Into<String>, cwd: &Path, policy: ApprovalPolicy, agent: AgentSpec) -> Result<Self> {
        let prompt = prompt.into();
        if prompt.trim().is_empty() {
            return Err(JobError::EmptyPrompt);
        }
        if prompt.len() > MAX_PROMPT_BYTES {
            return Err(JobError::PromptTooLong { len: prompt.len(), max: MAX_PROMPT_BYTES, how: "the longest prompt taken".to_owned() });
        }
        // The agent must be able to receive it: as one argument, or on stdin.
        agent.prompt_on_stdin(prompt.len())?;
        // An argument cannot carry a NUL byte; drop it rather than fail on an invisible character.
        let prompt = if prompt.contains('\0') { prompt.replace('\0', "") } else { prompt };
        agent.check_prompt(&prompt)?;
        agent.check_policy(policy)?;
        let cwd = checked_cwd(cwd)?;
        Ok(StartRequest {
            prompt,
            cwd,
            policy,
            agent,
            limits: JobLimits::default(),
            options: AgentOptions::default(),
            continues: None,
            isolation: None,
            attempt: None,
            schedule: Schedule::default(),
            resume_on_limit: None,
        })
    }

    /// Model, profile and settings for the agent, checked against what it takes.
    pub fn with_options(mut self, options: AgentOptions) -> Result<Self> {
        self.agent.check_options(&options)?;
        self.options = options;
        Ok(self)
    }

    /// Makes this a follow-up of another job's conversation.
    pub fn continuing(mut self, continues: Continues) -> Result<Self> {
        if !self.agent.can_resume() {
            return Err(JobError::BadRequest(format!("agent '{}' cannot continue a conversation", self.agent.name())));
        }
        self.continues = Some(continues);
        Ok(self)
    }

    /// Whether the prompt goes to the agent on stdin (from [`PROMPT_FILE`]).
    pub fn prompt_on_stdin(&self) -> bool {
        self.agent.prompt_on_stdin(self.prompt.len()).unwrap_or(false)
    }

    /// Whether the prompt is kept in its own file (too long for meta.json).
    pub fn prompt_in_file(&self) -> bool {
        self.prompt.len() > STDIN_PROMPT_FROM
    }

    /// The files a job folder starts with besides its meta: the whole prompt, when it is
    /// too long for the meta or goes to the agent on stdin.
    pub fn files(&self) -> Vec<(&'static str, &[u8])> {
        if self.prompt_in_file() || self.prompt_on_stdin() { vec![(PROMPT_FILE, self.prompt.as_bytes())] } else { Vec::new() }
    }

    /// The agent's command line for job `id`.
    pub fn command(&self, store: &JobStore, id: &JobId) -> AgentCommand {
        let last_message = store.last_message_path(id);
        self.agent.command(&Invocation {
            policy: self.policy,
            prompt: &self.prompt,
            prompt_on_stdin: self.prompt_on_stdin(),
            last_message: &last_message,
            cwd: &self.cwd,
            options: &self.options,
            resume: self.continues.as_ref().map(|continues| &continues.session_id),
            approval_config: &store.job_dir(id).join(crate::jobs::approval::ENDPOINT_CONFIG_FILE),
        })
    }

    /// Runs the job in a worktree (see [`crate::jobs::worktree`]).
    pub fn isolated(mut self, isolation: crate::jobs::worktree::Isolation) -> Self {
        self.isolation = Some(isolation);
        self
    }

    /// Makes the job wait for other jobs or a time (ids checked by [`Schedule::resolved`]).
    pub fn with_schedule(mut self, schedule: Schedule) -> Self {
        self.schedule = schedule;
        self
    }

    /// Followed up at the reset when a usage limit stops it (`None`: not).
    pub fn with_resume_on_limit(mut self, resume: Option<ResumeOnLimit>) -> Self {
        self.resume_on_limit = resume;
        self
    }

    pub fn with_limits(mut self, limits: JobLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The record a new job begins with (`running` under a supervisor, or `pending`).
    pub fn meta(&self, store: &JobStore, id: &JobId, status: Status) -> JobMeta {
        let now = Timestamp::now();
        let argv = self.command(store, id).argv;
        let prompt = if self.prompt_in_file() {
            let mut cut = STDIN_PROMPT_FROM;
            while !self.prompt.is_char_boundary(cut) {
                cut -= 1;
            }
            format!("{}\n… ({} bytes in all; {PROMPT_FILE} holds the whole prompt)", &self.prompt[..cut], self.prompt.len())
        } else {
            self.prompt.clone()
        };
        JobMeta {
            job_id: id.to_string(),
            status,
            prompt,
            cwd: self.cwd.to_string_lossy().into_owned(),
            approval_policy: self.policy.to_string(),
            pid: None,
            started_at: (status == Status::Running).then_some(now),
            finished_at: None,
            exit_code: None,
            details: JobDetails {
                agent: Some(self.agent.name().to_owned()),
                command: Some(argv.iter().map(|arg| arg.to_string_lossy().into_owned()).collect()),
                pgid: None,
                supervisor_pid: None,
                supervisor_start_ticks: None,
                signal: None,
                created_at: Some(now),
                note: None,
                cancel_reason: None,
                queue_position: None,
                queue_limit: self.limits.max_running,
                stall_timeout: self.limits.stall_timeout.map(|limit| limit.as_secs_f64()),
                max_duration: self.limits.max_duration.map(|limit| limit.as_secs_f64()),
                model: self.options.model.clone(),
                profile: self.options.profile.clone(),
                config: self.options.config.clone(),
                session_id: None,
                usage: None,
                activity: None,
                parent_job_id: self.continues.as_ref().map(|continues| continues.parent_job_id.clone()),
                follow_ups: Vec::new(),
                approval: None,
                worktree: None,
                branch: None,
                base_commit: None,
                change: None,
                applied_at: None,
                discarded_at: None,
                attempt_group: self.attempt.as_ref().map(|attempt| attempt.group.clone().unwrap_or_else(|| id.to_string())),
                attempt: self.attempt.as_ref().map(|attempt| attempt.number),
                after: self.schedule.after.clone(),
                starts_at: self.schedule.not_before,
                waiting: None,
                paused_at: None,
                max_tokens: self.limits.max_tokens,
                limit: None,
                labels: self.schedule.labels.clone(),
                group: self.schedule.group.clone(),
                priority: self.schedule.priority.filter(|priority| *priority != 0),
                hooks_owed: Vec::new(),
            },
            prompt_file: (self.prompt_in_file() || self.prompt_on_stdin()).then(|| PROMPT_FILE.to_owned()),
            // Recorded by the supervisor once the agent runs.
            git_head: None,
            git_dirty: None,
            extra: Default::default(),
            supervisor_lost: false,
        }
    }
}

fn checked_cwd(cwd: &Path) -> Result<PathBuf> {
    let expanded = expand_tilde(cwd);
    match std::fs::metadata(&expanded) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => return Err(JobError::CwdNotDir(cwd.to_owned())),
        Err(_) => return Err(JobError::CwdMissing(cwd.to_owned())),
    }
    std::fs::canonicalize(&expanded).map_err(|err| JobError::io("resolving", cwd, err))
}

/// `~` and `~/x` as a shell would read them: agents often send them verbatim.
fn expand_tilde(path: &Path) -> PathBuf {
    let Some(text) = path.to_str() else { return path.to_owned() };
    let home = std::env::var_os("HOME").filter(|home| !home.is_empty());
    match (text, home) {
        ("~", Some(home)) => PathBuf::from(home),
        (rest, Some(home)) if rest.starts_with("~/") => Path::new(&home).join(&rest[2..]),
        _ => path.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent() -> AgentSpec {
        AgentSpec::Codex { program: "codex".into() }
    }

    #[test]
    fn rejects_bad_cwds_and_prompts() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file.txt");
        std::fs::write(&file, "x").unwrap();
        let policy = ApprovalPolicy::Suggest;
        assert!(matches!(StartRequest::new("p", &dir.path().join("nope"), policy, agent()), Err(JobError::CwdMissing(_))));
        assert!(matches!(StartRequest::new("p", &file, policy, agent()), Err(JobError::CwdNotDir(_))));
        assert!(matches!(StartRequest::new("  \n", dir.path(), policy, agent()), Err(JobError::EmptyPrompt)));
        let huge = "x".repeat(MAX_PROMPT_BYTES + 1);
        let big = "x".repeat(1024 * 1024);
        assert!(StartRequest::new(big, dir.path(), policy, agent()).unwrap().prompt_on_stdin(), "codex reads a big prompt on stdin");
        assert!(matches!(StartRequest::new(huge, dir.path(), policy, agent()), Err(JobError::PromptTooLong { .. })));
    }

    #[test]
    fn cwd_becomes_absolute_and_tilde_expands() {
        let dir = tempfile::tempdir().unwrap();
        let request = StartRequest::new("p", dir.path(), ApprovalPolicy::Suggest, agent()).unwrap();
        assert!(request.cwd.is_absolute());
        if let Some(home) = std::env::var_os("HOME") {
            assert_eq!(expand_tilde(Path::new("~")), PathBuf::from(&home));
            assert_eq!(expand_tilde(Path::new("~/x")), Path::new(&home).join("x"));
        }
    }
}
