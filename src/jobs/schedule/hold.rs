//! An agent's queue held until its provider's usage limit resets.
//!
//! A job that ended on a usage limit leaves `queue/holds/<agent>.json` (the reset time,
//! and the job that met it); a hold is only ever moved later. Until then every job of
//! that agent that would start waits instead — its own supervisor waits for the reset, as
//! for `--at` — with the reason "waiting for codex's usage limit to reset at 15:45";
//! other agents' jobs go on.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::atomic::{self, Durability};
use crate::jobs::record::meta::{Limit, Timestamp};
use crate::jobs::store::JobStore;

/// How long an agent is held when its limit says no reset time.
pub const DEFAULT_HOLD: Duration = Duration::from_secs(30 * 60);

#[derive(Debug, Serialize, Deserialize)]
struct Hold {
    until: Timestamp,
    kind: String,
    job_id: String,
}

fn path(store: &JobStore, agent: &str) -> Option<PathBuf> {
    let safe = !agent.is_empty() && agent.len() <= 64 && agent.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    safe.then(|| store.home().join("queue").join("holds").join(format!("{agent}.json")))
}

/// When the agent's limit resets: `resets_at`, or [`DEFAULT_HOLD`] from now.
pub fn reset_time(limit: &Limit) -> Timestamp {
    limit.resets_at.unwrap_or_else(|| {
        let now = Timestamp::now().0;
        Timestamp(now + chrono::Duration::from_std(DEFAULT_HOLD).unwrap_or_default())
    })
}

/// Holds the agent's queue until `limit` resets (never sooner than a hold already there).
pub fn record(store: &JobStore, agent: &str, limit: &Limit, job_id: &str) -> Option<Timestamp> {
    let path = path(store, agent)?;
    let until = reset_time(limit).max(active(store, agent).unwrap_or(Timestamp(chrono::DateTime::UNIX_EPOCH)));
    let hold = Hold { until, kind: limit.kind.clone(), job_id: job_id.to_owned() };
    if let Some(folder) = path.parent() {
        let _ = JobStore::ensure_dir(folder);
    }
    let bytes = serde_json::to_vec(&hold).ok()?;
    match atomic::write(&path, &bytes, Durability::Durable) {
        Ok(()) => Some(until),
        Err(err) => {
            tracing::warn!(%err, agent, "could not hold the agent's queue");
            None
        }
    }
}

/// The time the agent's queue is held until, if it is held now.
pub fn active(store: &JobStore, agent: &str) -> Option<Timestamp> {
    let bytes = crate::jobs::record::jobfile::read_capped(&path(store, agent)?, 4096).ok()?;
    let hold: Hold = serde_json::from_slice(&bytes).ok()?;
    (hold.until.0 > chrono::Utc::now()).then_some(hold.until)
}

/// The reason a job held by its agent's limit shows.
pub fn reason(agent: &str, until: Timestamp) -> String {
    format!("waiting for {agent}'s usage limit to reset at {}", super::local_time_text(until.0, chrono::Utc::now()))
}
