//! The hosts of one process (a CLI command, a server): each connected on first use and
//! kept, each behind its own lock, so connecting to a slow host holds up only the calls
//! to that host. A session found closed is connected again before a call; a call whose
//! session drops midway fails (it is not sent again: a start sent twice would start two
//! jobs), and the next call connects afresh.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use rmcp::model::JsonObject;
use serde_json::Value;
use tokio::sync::Mutex;

use super::connect::connect;
use super::error::{HostError, known_hosts, shown};
use super::session::HostSession;
use crate::config::HostSpec;

/// Shared by every clone: one set of sessions per process.
#[derive(Clone, Default)]
pub struct HostPool {
    hosts: Arc<BTreeMap<String, Slot>>,
}

struct Slot {
    spec: HostSpec,
    session: Mutex<Option<Arc<HostSession>>>,
}

impl std::fmt::Debug for HostPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.hosts.keys()).finish()
    }
}

impl HostPool {
    pub fn new(specs: &BTreeMap<String, HostSpec>) -> Self {
        let hosts = specs.iter().map(|(name, spec)| (name.clone(), Slot { spec: spec.clone(), session: Mutex::new(None) })).collect();
        HostPool { hosts: Arc::new(hosts) }
    }

    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty()
    }

    /// The configured hosts' names, in order.
    pub fn names(&self) -> Vec<String> {
        self.hosts.keys().cloned().collect()
    }

    pub fn spec(&self, name: &str) -> Result<&HostSpec, HostError> {
        self.slot(name).map(|slot| &slot.spec)
    }

    fn slot(&self, name: &str) -> Result<&Slot, HostError> {
        self.hosts.get(name).ok_or_else(|| HostError::Unknown { name: shown(name, 40), known: known_hosts(self.hosts.keys()) })
    }

    /// The host's session: the one kept, or a new one when there is none or it ended.
    pub async fn session(&self, name: &str) -> Result<Arc<HostSession>, HostError> {
        let slot = self.slot(name)?;
        let mut kept = slot.session.lock().await;
        if let Some(session) = kept.as_ref().filter(|session| !session.is_closed()) {
            return Ok(session.clone());
        }
        *kept = None;
        let session = Arc::new(connect(&slot.spec).await?);
        *kept = Some(session.clone());
        Ok(session)
    }

    /// Calls `tool` on host `name` (connecting first if need be); the answer unchecked.
    /// A session that failed midway is let go, so the next call connects afresh.
    pub async fn call(&self, name: &str, tool: &str, arguments: JsonObject, deadline: Duration) -> Result<Value, HostError> {
        let session = self.session(name).await?;
        let answer = session.call(tool, arguments, deadline).await;
        if let Err(HostError::Lost { .. }) = &answer {
            self.forget(name, &session).await;
        }
        answer
    }

    /// Lets go of `session` if it is still the one kept for `name`.
    pub async fn forget(&self, name: &str, session: &Arc<HostSession>) {
        if let Ok(slot) = self.slot(name) {
            let mut kept = slot.session.lock().await;
            if kept.as_ref().is_some_and(|kept| Arc::ptr_eq(kept, session)) {
                *kept = None;
            }
        }
    }
}

/// The most rows asked of a host for "all its jobs" (`codex_list`'s `limit: 0` lists none).
pub const LIST_ALL: usize = 100_000;

impl HostPool {
    /// Calls a tool that answers about one job, and checks the answer (its ids become
    /// `NAME:ID`; see [`super::answers`]).
    pub async fn call_job(&self, name: &str, tool: &str, arguments: JsonObject, deadline: Duration) -> Result<Value, HostError> {
        // A follow-up's answer is about the new job.
        let asked = arguments.get("job_id").and_then(Value::as_str).filter(|_| tool != "codex_reply").map(str::to_owned);
        let mut answer = self.call(name, tool, arguments, deadline).await?;
        let bad = |message| HostError::BadAnswer { host: name.to_owned(), message };
        super::answers::qualify_job(name, &mut answer).map_err(bad)?;
        if let Some(asked) = asked {
            super::answers::about(name, &answer, &asked).map_err(bad)?;
        }
        Ok(answer)
    }

    /// Host `name`'s newest `limit` jobs (0: all), each row checked, ids as `NAME:ID`.
    pub async fn list(&self, name: &str, limit: usize) -> Result<Vec<Value>, HostError> {
        let limit = if limit == 0 { LIST_ALL } else { limit };
        let mut arguments = JsonObject::new();
        arguments.insert("limit".to_owned(), Value::from(limit));
        let answer = self.call(name, "codex_list", arguments, super::error::CALL_MARGIN).await?;
        super::answers::qualify_list(name, answer).map_err(|message| HostError::BadAnswer { host: name.to_owned(), message })
    }

    /// [`Self::list`] within the host's whole deadline (connecting and answering), so a
    /// slow host costs its own deadline and no more.
    pub async fn list_within_deadline(&self, name: &str, limit: usize) -> Result<Vec<Value>, HostError> {
        let deadline = self.spec(name)?.connect_timeout + super::error::CALL_MARGIN;
        tokio::time::timeout(deadline, self.list(name, limit)).await.unwrap_or_else(|_| {
            Err(HostError::Unreachable {
                host: name.to_owned(),
                message: format!("no list within {}", crate::human::show_duration(deadline)),
            })
        })
    }
}
