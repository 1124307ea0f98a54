//! The job engine: the only code that knows the on-disk format. Every front end
//! (CLI, MCP, dashboard) is a thin client of [`Engine`].

pub mod agent;
pub mod cancel;
mod error;
mod id;
pub mod meta;
pub mod output;
pub mod procfs;
pub mod spawn;
pub mod store;
pub mod supervisor;
pub mod tail;
pub mod view;
mod wait;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use agent::{AgentSpec, ApprovalPolicy};
pub use error::{JobError, Result};
pub use id::JobId;
pub use meta::{JobMeta, Status, Timestamp};
pub use spawn::StartRequest;
pub use store::{JobRecord, JobStore};
pub use view::{CancelView, ListView, PollView, StartView, WaitView};

/// A long-running dashboard or server whose binary was replaced (`cargo install`
/// again) sees its own path as "… (deleted)"; the new binary at that path supervises
/// new jobs just as well.
fn reinstalled_path(exe: PathBuf) -> PathBuf {
    match exe.to_str().and_then(|text| text.strip_suffix(" (deleted)")) {
        Some(original) if Path::new(original).is_file() => PathBuf::from(original),
        _ => exe,
    }
}

/// The jobs directory plus the program that supervises new jobs.
#[derive(Clone, Debug)]
pub struct Engine {
    store: JobStore,
    launcher: PathBuf,
    waits: wait::WaitHub,
}

impl Engine {
    /// `launcher` is the `codex-async` binary, re-run as each job's supervisor.
    pub fn new(store: JobStore, launcher: impl Into<PathBuf>) -> Self {
        Engine { store, launcher: launcher.into(), waits: wait::WaitHub::default() }
    }

    /// The jobs directory from `$CODEX_ASYNC_HOME`, supervised by this very binary.
    pub fn from_env() -> Result<Self> {
        let launcher = std::env::current_exe().map_err(|err| JobError::io("finding this program", "/proc/self/exe", err))?;
        Ok(Engine::new(JobStore::from_env()?, reinstalled_path(launcher)))
    }

    pub fn store(&self) -> &JobStore {
        &self.store
    }

    pub fn launcher(&self) -> &Path {
        &self.launcher
    }

    /// Starts a job and returns once its agent runs (or failed to start).
    pub fn start(&self, request: &StartRequest) -> Result<StartView> {
        spawn::launch(&self.launcher, self.store.home(), request)
    }

    /// Status and the last `tail_lines` lines of output (at most 8000 characters).
    pub fn poll(&self, raw_id: &str, tail_lines: usize) -> Result<PollView> {
        let id = self.store.existing(raw_id)?;
        let meta = self.store.read_meta(&id)?;
        self.poll_view(&id, meta, tail_lines)
    }

    fn poll_view(&self, id: &JobId, meta: JobMeta, tail_lines: usize) -> Result<PollView> {
        let output = self.store.tail(id, tail_lines, tail::MAX_OUTPUT_CHARS)?;
        Ok(PollView::new(meta, output, self.store.last_message(id)))
    }

    /// The newest `limit` jobs, corrupt ones listed as such.
    pub fn list(&self, limit: usize) -> Result<Vec<ListView>> {
        Ok(self.store.list(Some(limit))?.iter().map(ListView::from).collect())
    }

    /// Cancels a running job and waits (up to the grace period and a little more)
    /// until its result is recorded. A job that already ended is not an error.
    pub async fn cancel(&self, raw_id: &str, grace: Duration) -> Result<CancelView> {
        let id = self.store.existing(raw_id)?;
        // Settle a lost supervisor first: its job is not running any more.
        let meta = self.store.read_meta(&id)?;
        if meta.status.is_finished() {
            // A job whose supervisor was lost reads as ended, yet its processes may live on.
            let killed = meta.has_supervisor() && cancel::end_leftovers(&id, &meta, grace).await;
            return Ok(if killed {
                CancelView::Cancelled { job_id: id.to_string(), status: meta.status, killed, message: None }
            } else {
                CancelView::not_running(id.as_str(), meta.status)
            });
        }
        let status = match cancel::request(&self.store, &id, grace)? {
            cancel::Requested::AlreadyEnded(status) => return Ok(CancelView::not_running(id.as_str(), status)),
            cancel::Requested::Orphaned(meta) => cancel::end_orphaned(&self.store, &id, *meta, grace).await?.status,
            cancel::Requested::Supervisor => {
                let settle = grace + Duration::from_secs(3);
                // Report what is recorded: under heavy load the supervisor may not have
                // written the result yet, and then the job still reads `running`.
                match wait::first_finished(&self.store, &self.waits, std::slice::from_ref(&id), settle).await? {
                    Some((_, meta)) => meta.status,
                    None => self.store.read_meta(&id)?.status,
                }
            }
        };
        let message = (!status.is_finished())
            .then(|| "the job was signalled but has not recorded its end yet; poll it to see the final status".to_owned());
        Ok(CancelView::Cancelled { job_id: id.to_string(), status, killed: true, message })
    }

    /// Waits until the job ends or `timeout` passes; then `timed_out` says which.
    pub async fn wait(&self, raw_id: &str, timeout: Duration, tail_lines: usize) -> Result<WaitView> {
        let id = self.store.existing(raw_id)?;
        let finished = wait::first_finished(&self.store, &self.waits, std::slice::from_ref(&id), timeout).await?;
        let timed_out = finished.is_none();
        let meta = match finished {
            Some((_, meta)) => meta,
            None => self.store.read_meta(&id)?,
        };
        Ok(WaitView { poll: self.poll_view(&id, meta, tail_lines)?, timed_out })
    }

    /// Waits for the first of several jobs to end (one that already ended counts).
    /// `None` when `timeout` passes first.
    pub async fn wait_any(&self, raw_ids: &[String], timeout: Duration, tail_lines: usize) -> Result<Option<PollView>> {
        let ids = raw_ids.iter().map(|raw| self.store.existing(raw)).collect::<Result<Vec<_>>>()?;
        match wait::first_finished(&self.store, &self.waits, &ids, timeout).await? {
            Some((id, meta)) => Ok(Some(self.poll_view(&id, meta, tail_lines)?)),
            None => Ok(None),
        }
    }

    /// Ids of the jobs that are running now, newest first.
    pub fn running_ids(&self) -> Result<Vec<String>> {
        Ok(self
            .store
            .list(None)?
            .into_iter()
            .filter(|record| record.meta.as_ref().is_ok_and(|meta| !meta.status.is_finished()))
            .map(|record| record.id.to_string())
            .collect())
    }

    /// Removes a finished job's folder.
    pub fn delete(&self, raw_id: &str) -> Result<()> {
        self.store.delete(raw_id)
    }
}
