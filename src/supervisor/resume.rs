//! `--resume-on-limit`: a job that a provider's usage limit stopped is followed up at the
//! reset, continuing its conversation with a configured prompt, and listed as its
//! follow-up. The follow-up is a job that waits for its moment (its own supervisor waits
//! for the reset); one that meets the limit again waits again, up to `max_waits` times.

use crate::jobs::agent::session::SessionId;
use crate::jobs::schedule::hold;
use crate::jobs::start::follow;
use crate::jobs::start::request::Continues;
use crate::jobs::start::spawn;
use crate::jobs::{JobId, JobMeta, JobStore, Schedule, StartRequest};

/// Starts the follow-up of job `id` that ended as `ended`, when it met a usage limit and
/// its request asks for it. Runs after the job was let go (its lock free, so the
/// follow-up is listed in it, and the new supervisor is none of this one's descendants).
pub fn after_limit(store: &JobStore, id: &JobId, start: &StartRequest, ended: &JobMeta) {
    let (Some(limit), Some(resume)) = (&ended.details.limit, &start.resume_on_limit) else { return };
    if resume.waits >= resume.max_waits {
        tracing::info!(job = %id, waits = resume.waits, "met a usage limit again; no more follow-ups (max_limit_waits)");
        return;
    }
    let Some(session) = ended.details.session_id.as_deref().and_then(|raw| SessionId::parse(raw).ok()) else {
        tracing::warn!(job = %id, "met a usage limit but has no session to continue");
        return;
    };
    let mut next = start.clone();
    next.prompt = resume.prompt.clone();
    next.continues = Some(Continues { parent_job_id: id.to_string(), session_id: session });
    next.schedule = Schedule { after: Vec::new(), not_before: Some(hold::reset_time(limit)), ..start.schedule.clone() };
    if let Some(resume) = next.resume_on_limit.as_mut() {
        resume.waits += 1;
    }
    let launched = crate::jobs::this_program().and_then(|launcher| spawn::launch(&launcher, store, &next, spawn::START_DEADLINE, None));
    match launched {
        Ok(view) => {
            tracing::info!(job = %id, follow_up = %view.job_id, "followed up at the limit's reset");
            if let Err(err) = follow::record(store, id, &view.job_id) {
                tracing::warn!(job = %id, %err, "could not list the follow-up");
            }
        }
        Err(err) => tracing::warn!(job = %id, %err, "could not start the follow-up at the limit's reset"),
    }
}
