//! Follow-ups: a new job that continues a finished job's conversation (`codex exec
//! resume <session>`), in the parent's folder, with the parent's policy, agent and
//! options unless the caller overrides them. The parent lists its follow-ups.

use std::time::Duration;

use super::agent::{AgentOptions, Agents, ApprovalPolicy};
use super::error::{JobError, Result};
use super::id::JobId;
use super::meta::JobMeta;
use super::owner::OwnerLock;
use super::request::{Continues, JobLimits, StartRequest};
use super::store::JobStore;

/// What a follow-up asks for; everything left `None` is the parent's.
#[derive(Clone, Debug, Default)]
pub struct FollowUp {
    pub prompt: String,
    pub policy: Option<ApprovalPolicy>,
    pub model: Option<String>,
    pub profile: Option<String>,
    pub config: Option<Vec<String>>,
    pub limits: JobLimits,
}

/// The request that continues `parent` (a finished job, its meta settled), or why it
/// cannot be continued.
pub fn request(parent: &JobMeta, follow: FollowUp, agents: &Agents) -> Result<StartRequest> {
    let id = &parent.job_id;
    if !parent.status.is_finished() {
        return Err(JobError::BadRequest(format!(
            "job '{id}' is {}: a follow-up continues a finished conversation; wait for it to end (codex_wait), or cancel it",
            parent.status
        )));
    }
    let agent_name = parent.agent.as_deref().unwrap_or("codex");
    let agent = agents
        .resolve(Some(agent_name))
        .map_err(|err| JobError::BadRequest(format!("job '{id}' ran agent '{agent_name}', which this server cannot run now: {err}")))?;
    if !agent.can_resume() {
        return Err(JobError::BadRequest(format!(
            "job '{id}' ran agent '{agent_name}', which cannot continue a conversation: start a new job with the whole context instead"
        )));
    }
    let Some(session_id) = parent.session_id.clone() else {
        return Err(JobError::BadRequest(format!(
            "job '{id}' has no session id to continue: its agent never reported one (it failed before its conversation began, \
             or it was started by a version that did not record sessions)"
        )));
    };
    let policy = match follow.policy {
        Some(policy) => policy,
        None => parent.approval_policy.parse()?,
    };
    let options = AgentOptions {
        model: follow.model.or_else(|| parent.model.clone()),
        profile: follow.profile.or_else(|| parent.profile.clone()),
        config: follow.config.unwrap_or_else(|| parent.config.clone()),
    };
    StartRequest::new(follow.prompt, std::path::Path::new(&parent.cwd), policy, agent)?
        .with_options(options)?
        .continuing(Continues { parent_job_id: id.clone(), session_id })
        .map(|request| request.with_limits(follow.limits))
}

/// How long recording a follow-up waits for another writer of the parent's meta.
const RECORD_DEADLINE: Duration = Duration::from_secs(2);

/// Adds `child` to the parent's `follow_ups`, holding the parent's lock so that no
/// other writer (another follow-up, a reader settling it) interleaves.
pub fn record(store: &JobStore, parent: &JobId, child: &str) -> Result<()> {
    let folder = store.job_dir(parent);
    let began = std::time::Instant::now();
    let _owner = loop {
        match OwnerLock::create(&folder) {
            Ok(owner) => break owner,
            Err(err) if err.kind() == std::io::ErrorKind::WouldBlock && began.elapsed() < RECORD_DEADLINE => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(err) => return Err(JobError::io("locking", store.lock_path(parent), err)),
        }
    };
    let mut meta = store.read_meta_raw(parent)?;
    if !meta.follow_ups.iter().any(|known| known == child) {
        meta.follow_ups.push(child.to_owned());
    }
    meta.write_to(&store.meta_path(parent), super::atomic::Durability::Durable)
}
