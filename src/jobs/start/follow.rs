//! Follow-ups: a new job that continues a finished job's conversation (`codex exec
//! resume <session>`), in the parent's folder, with the parent's policy, agent and
//! options unless the caller overrides them. The parent lists its follow-ups.
//!
//! Once a job has ended its folder holds nothing the kernel vouches for: any process
//! of the user (a `full-auto` agent among them) can rewrite its `meta.json`. So what a
//! follow-up takes from it is checked like a new request — the session id against the
//! agents' id shape here, the rest by the policy ceiling — and said in every answer
//! ([`Inherited`]).

use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;

use super::ceiling::{Ceiling, Field};
use super::request::{Continues, JobLimits, ResumeOnLimit, StartRequest};
use crate::jobs::agent::session::SessionId;
use crate::jobs::agent::{AgentOptions, Agents, ApprovalPolicy};
use crate::jobs::error::{JobError, Result};
use crate::jobs::process::owner::OwnerLock;
use crate::jobs::record::id::JobId;
use crate::jobs::record::meta::JobMeta;
use crate::jobs::schedule::Schedule;
use crate::jobs::store::JobStore;

/// What a follow-up asks for; everything left `None` is the parent's.
#[derive(Clone, Debug, Default)]
pub struct FollowUp {
    pub prompt: String,
    pub policy: Option<ApprovalPolicy>,
    pub model: Option<String>,
    pub profile: Option<String>,
    pub config: Option<Vec<String>>,
    pub limits: JobLimits,
    /// What it waits for (`after`, a time: never the parent's), its labels, group and
    /// priority (each left out is the parent's).
    pub schedule: Schedule,
    /// Its token budget (`None`: the parent's, else the configured default).
    pub max_tokens: Option<u64>,
    /// Followed up in turn when a usage limit stops it (`None`: not).
    pub resume_on_limit: Option<ResumeOnLimit>,
}

/// What a follow-up took from its parent's record rather than from its caller (the
/// folder and the agent always; the rest unless given, and only when the parent had
/// one).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Inherited {
    /// The parent job.
    pub from: String,
    pub cwd: String,
    pub agent: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approval_policy: Option<ApprovalPolicy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u64>,
}

impl Inherited {
    /// Whether the value of `field` came from the parent.
    pub fn covers(&self, field: Field) -> bool {
        match field {
            Field::Cwd => true,
            Field::Policy => self.approval_policy.is_some(),
            Field::Profile => self.profile.is_some(),
            Field::Config => self.config.is_some(),
        }
    }

    /// `inherited from job X: cwd …, agent …, approval_policy …, model …, config …`.
    pub fn describe(&self) -> String {
        let mut text = format!("inherited from job {}: cwd {}, agent {}", self.from, self.cwd, self.agent);
        if let Some(policy) = self.approval_policy {
            let _ = write!(text, ", approval_policy {policy}");
        }
        if let Some(model) = &self.model {
            let _ = write!(text, ", model {model}");
        }
        if let Some(profile) = &self.profile {
            let _ = write!(text, ", profile {profile}");
        }
        if let Some(config) = &self.config {
            let _ = write!(text, ", config {}", config.join(" "));
        }
        if let Some(labels) = &self.labels {
            let _ = write!(text, ", labels {}", labels.join(" "));
        }
        if let Some(group) = &self.group {
            let _ = write!(text, ", group {group}");
        }
        if let Some(priority) = self.priority {
            let _ = write!(text, ", priority {priority}");
        }
        if let Some(max_tokens) = self.max_tokens {
            let _ = write!(text, ", max_tokens {max_tokens}");
        }
        text
    }
}

/// A follow-up ready to be judged and started, and what it inherited.
#[derive(Clone, Debug)]
pub struct FollowUpRequest {
    pub request: StartRequest,
    pub inherited: Inherited,
}

impl FollowUpRequest {
    /// Puts the follow-up in its group's queue, with the limit `limit_of` gives that group
    /// (the default group for none). A group that is no longer configured is refused,
    /// saying so when it came from the parent.
    pub fn queue_in(&mut self, limit_of: impl FnOnce(Option<&str>) -> Result<Option<usize>>) -> Result<()> {
        match limit_of(self.request.schedule.group.as_deref()) {
            Ok(limit) => {
                self.request.limits.max_running = limit;
                Ok(())
            }
            Err(err) if self.inherited.group.is_some() => Err(JobError::BadRequest(format!(
                "{err}; it is the group of job {}, which this follow-up continues: give a group to choose another",
                self.inherited.from
            ))),
            Err(err) => Err(err),
        }
    }

    /// Refuses what the ceiling does not allow, saying which refused value came from
    /// the parent.
    pub fn admit(&self, ceiling: &Ceiling) -> Result<()> {
        ceiling.check(&self.request).map_err(|refusal| {
            let from = self.inherited.covers(refusal.field).then_some(self.inherited.from.as_str());
            refusal.into_error(ceiling.policy(), from)
        })
    }
}

/// The request that continues `parent` (a finished job, its meta settled), or why it
/// cannot be continued.
pub fn request(parent: &JobMeta, follow: FollowUp, agents: &Agents) -> Result<FollowUpRequest> {
    let id = &parent.job_id;
    if !parent.status.is_finished() {
        return Err(JobError::BadRequest(format!(
            "job '{id}' is {}: a follow-up continues a finished conversation; wait for it to end (codex_wait), or cancel it",
            parent.status
        )));
    }
    let agent_name = parent.details.agent.as_deref().unwrap_or("codex");
    let agent = agents
        .resolve(Some(agent_name))
        .map_err(|err| JobError::BadRequest(format!("job '{id}' ran agent '{agent_name}', which this server cannot run now: {err}")))?;
    if !agent.can_resume() {
        return Err(JobError::BadRequest(format!(
            "job '{id}' ran agent '{agent_name}', which cannot continue a conversation: start a new job with the whole context instead"
        )));
    }
    let Some(raw_session) = parent.details.session_id.as_deref() else {
        return Err(JobError::BadRequest(format!(
            "job '{id}' has no session id to continue: its agent never reported one (it failed before its conversation began, \
             or it was started by a version that did not record sessions)"
        )));
    };
    let session_id = SessionId::parse(raw_session).map_err(|err| {
        JobError::BadRequest(format!(
            "job '{id}' cannot be continued: the session id in its record is not one its agent gave ({err}); the record was \
             changed after the job ran"
        ))
    })?;
    let inherited = Inherited {
        from: id.clone(),
        cwd: String::new(),
        agent: agent.name().to_owned(),
        approval_policy: None,
        model: follow.model.is_none().then(|| parent.details.model.clone()).flatten(),
        profile: follow.profile.is_none().then(|| parent.details.profile.clone()).flatten(),
        config: (follow.config.is_none() && !parent.details.config.is_empty()).then(|| parent.details.config.clone()),
        labels: (follow.schedule.labels.is_empty() && !parent.details.labels.is_empty()).then(|| parent.details.labels.clone()),
        group: follow.schedule.group.is_none().then(|| parent.details.group.clone()).flatten(),
        priority: follow.schedule.priority.is_none().then_some(parent.details.priority).flatten(),
        max_tokens: follow.max_tokens.is_none().then_some(parent.details.max_tokens).flatten(),
    };
    // Where the parent was queued and what it was labelled goes on with its conversation;
    // what it waited for does not. The parent's values are checked as given ones are.
    let schedule = Schedule {
        labels: inherited.labels.clone().unwrap_or(follow.schedule.labels),
        group: follow.schedule.group.or_else(|| inherited.group.clone()),
        priority: follow.schedule.priority.or(inherited.priority),
        ..follow.schedule
    }
    .checked()?;
    let (policy, inherited_policy) = match follow.policy {
        Some(policy) => (policy, None),
        None => {
            let policy: ApprovalPolicy = parent.approval_policy.parse()?;
            (policy, Some(policy))
        }
    };
    let options = AgentOptions {
        model: follow.model.or_else(|| parent.details.model.clone()),
        profile: follow.profile.or_else(|| parent.details.profile.clone()),
        config: follow.config.unwrap_or_else(|| parent.details.config.clone()),
    };
    let request = StartRequest::new(follow.prompt, std::path::Path::new(&parent.cwd), policy, agent)?
        .with_options(options)?
        .continuing(Continues { parent_job_id: id.clone(), session_id })?
        .with_limits(follow.limits)
        .with_schedule(schedule)
        .with_max_tokens(follow.max_tokens.or(inherited.max_tokens))?
        .with_resume_on_limit(follow.resume_on_limit);
    // A worktree job's follow-up runs in the same worktree, on the same branch.
    let request = match (&parent.details.worktree, &parent.details.branch, &parent.details.base_commit) {
        (Some(worktree), Some(branch), Some(base_commit)) if parent.details.discarded_at.is_none() => {
            request.isolated(crate::jobs::worktree::Isolation::Reuse {
                worktree: worktree.into(),
                branch: branch.clone(),
                base_commit: base_commit.clone(),
                commit: true,
            })
        }
        (Some(worktree), _, _) => {
            return Err(JobError::BadRequest(format!(
                "job '{id}''s worktree {worktree} was discarded: start a new job instead of a follow-up"
            )));
        }
        _ => request,
    };
    let inherited = Inherited { cwd: request.cwd.display().to_string(), approval_policy: inherited_policy, ..inherited };
    Ok(FollowUpRequest { request, inherited })
}

/// How long recording a follow-up waits for another writer of the parent's meta.
const RECORD_DEADLINE: Duration = Duration::from_secs(2);

/// Adds `child` to the parent's `follow_ups`, holding the parent's lock so that no
/// other writer (another follow-up, a reader settling it) interleaves.
pub fn record(store: &JobStore, parent: &JobId, child: &str) -> Result<()> {
    let _owner = OwnerWait::take(store, parent, RECORD_DEADLINE)?;
    let mut meta = store.read_meta_raw(parent)?;
    if !meta.details.follow_ups.iter().any(|known| known == child) {
        meta.details.follow_ups.push(child.to_owned());
    }
    meta.write_to(&store.meta_path(parent), crate::atomic::Durability::Durable)
}

/// Taking a finished job's lock to write its record, waiting a little for another writer.
pub struct OwnerWait;

impl OwnerWait {
    pub fn take(store: &JobStore, id: &JobId, deadline: Duration) -> Result<OwnerLock> {
        let folder = store.job_dir(id);
        let began = std::time::Instant::now();
        loop {
            match OwnerLock::create(&folder) {
                Ok(owner) => return Ok(owner),
                Err(err) if err.kind() == std::io::ErrorKind::WouldBlock && began.elapsed() < deadline => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(err) => return Err(JobError::io("locking", store.lock_path(id), err)),
            }
        }
    }
}
