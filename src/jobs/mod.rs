//! The job engine: the only code that knows the on-disk format. Every front end
//! (CLI, MCP, dashboard) is a thin client of [`Engine`] and of what this module
//! re-exports; none names a module below it.
//!
//! From the bottom up: [`record`] is what a job's folder says (its id, `meta.json`, how
//! any of its files is opened); [`process`] what the kernel says (the owner's lock, the
//! processes marked with a job's id, proofs of a supervisor or an agent); [`store`] the
//! jobs directory, each record believed only as far as the kernel bears it out; [`agent`]
//! which agent runs and its command line; [`start`] the request, the supervisor launched
//! for it and the queue; [`feed`] the change feed and waits on it; [`output`] a job's
//! output read live or from its end; [`cancel`] the way to a job's owner and its end;
//! [`view`] the JSON shapes the front ends return; `housekeeping` what a long-lived
//! process does for the home; [`git`] the one way git is asked about a job's folder.

pub mod agent;
pub mod approval;
pub mod cancel;
mod endings;
mod error;
pub mod feed;
pub mod git;
pub mod hooks;
mod housekeeping;
pub mod output;
pub mod pause;
pub mod process;
pub mod record;
pub mod schedule;
pub mod start;
pub mod store;
pub mod view;
pub mod worktree;

use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::sys::signal::Signal;
use tokio::time::{Instant, sleep_until};
use tokio_util::sync::CancellationToken;

pub use agent::{AgentOptions, AgentSpec, Agents, ApprovalPolicy, MAX_PROMPT_BYTES};
pub use approval::{Answered, Answerer, ApprovalAnswer, ApprovalRequest, Decision, PendingApproval};
use cancel::CancelAsked;
pub use cancel::timeline as cancel_timeline;
pub use endings::{EndCursor, NextEnding};
pub use error::{JobError, Result};
pub use feed::wait::LOST_RECHECK;
pub use feed::{FeedEvent, JobFeed, Scope, Subscription, WhatChanged};
pub use git::project::init_with_first_commit as init_repository;
pub use git::{NoTreeDiff, ObjectId, TreeDiff, tree_diff};
pub use hooks::{HOOKS_LOG, HookEvent, HookSet, Hooks, failures as hook_failures, runner::main as hook_main};
pub use housekeeping::Housekeeping;
pub use output::tail::{TAIL_LINES, TRUNCATED_MARKER, screen_lines};
pub use output::{LineBlock, MAX_LINE_BYTES, OutputFollower, OutputLine, OutputPiece, OutputUpdate, split_lines, utf8_cut};
pub use pause::PauseView;
pub use process::this_program;
pub use record::change::ChangeStat;
pub use record::id::JobId;
pub use record::jobfile::open as open_job_file;
pub use record::meta::{JobDetails, JobMeta, Limit, Status, Timestamp, Usage};
pub use schedule::{Schedule, parse_at};
pub use start::ceiling::Ceiling;
pub use start::follow::{FollowUp, FollowUpRequest, Inherited};
pub use start::request::{JobLimits, ResumeOnLimit, StartRequest};
pub use store::gc::{GcReport, GcRule};
pub use store::settle::{LOST_NOTE, LOST_RUNNING_NOTE};
pub use store::{JobRecord, JobStore, PROMPT_FILE};
pub use view::{CancelView, ListView, PollView, StartView, WaitView, cut_prompt};
pub use worktree::{ApplyOptions, ApplyView, Attempt, ChangeView, DiffShape, DiscardView, FileChange, Isolation, MAX_ATTEMPTS};

use endings::Look;
use feed::wait;
use output::tail;
use process::marker;
use start::{follow, queue, spawn};
use store::gc;

/// The jobs directory, its change feed, and the program that supervises new jobs.
#[derive(Clone, Debug)]
pub struct Engine {
    store: JobStore,
    launcher: PathBuf,
    feed: JobFeed,
    start_deadline: Duration,
    /// A supervisor kept ready for the next start (long-lived processes only).
    spares: Option<spawn::Spares>,
}

impl Engine {
    /// `launcher` is the `codex-async` binary, re-run as each job's supervisor.
    pub fn new(store: JobStore, launcher: impl Into<PathBuf>) -> Self {
        let feed = JobFeed::new(store.clone());
        Engine { store, launcher: launcher.into(), feed, start_deadline: spawn::START_DEADLINE, spares: None }
    }

    /// The jobs directory from `$CODEX_ASYNC_HOME`, supervised by this very binary.
    pub fn from_env() -> Result<Self> {
        Ok(Engine::new(JobStore::from_env()?, this_program()?))
    }

    /// The same engine with its change feed's fallback rescan at another period, or
    /// none (tests prove that changes arrive by events alone).
    pub fn with_fallback_rescan(mut self, fallback: Option<Duration>) -> Self {
        self.feed = JobFeed::with_fallback(self.store.clone(), fallback);
        self
    }

    /// The same engine, keeping a supervisor ready for the next start so that a start
    /// does not wait for a process to be born (for servers; the first is made now).
    pub fn with_spare_supervisor(mut self) -> Self {
        let spares = spawn::Spares::default();
        spares.refill(&self.launcher, &self.store);
        self.spares = Some(spares);
        self
    }

    /// How long a start waits for its supervisor's answer.
    pub fn with_start_deadline(mut self, deadline: Duration) -> Self {
        self.start_deadline = deadline;
        self
    }

    pub fn store(&self) -> &JobStore {
        &self.store
    }

    /// The one change feed of this engine (and its clones).
    pub fn feed(&self) -> &JobFeed {
        &self.feed
    }

    pub fn launcher(&self) -> &Path {
        &self.launcher
    }

    /// Starts a job and returns once it is on disk and its agent runs (or failed to start).
    /// A follow-up is listed in its parent's `follow_ups`.
    pub fn start(&self, request: &StartRequest) -> Result<StartView> {
        // The jobs it follows must exist now (no cycle can be made), named whole.
        let resolved;
        let request = if request.schedule.after.is_empty() {
            request
        } else {
            resolved = request.clone().with_schedule(request.schedule.clone().resolved(&self.store)?);
            &resolved
        };
        // Making a worktree is a checkout: its start may take longer.
        let deadline = if request.isolation.is_some() { self.start_deadline.max(worktree::MAKE_DEADLINE) } else { self.start_deadline };
        let started = queue::start(&self.launcher, &self.store, request, deadline, self.spares.as_ref())?;
        if let Some(continues) = &request.continues
            && let Ok(parent) = JobId::parse(&continues.parent_job_id)
            && let Err(err) = follow::record(&self.store, &parent, &started.job_id)
        {
            tracing::warn!(%err, parent = %parent, child = %started.job_id, "could not list the follow-up in its parent");
        }
        Ok(started)
    }

    /// The request that continues job `raw_parent`'s conversation (judge it, then start
    /// it with [`Engine::start`]) and what it took from the parent's record; or a clear
    /// error: the parent still runs, has no valid session, or its agent cannot resume.
    pub fn follow_up(&self, raw_parent: &str, follow: FollowUp, agents: &Agents) -> Result<FollowUpRequest> {
        let parent = self.store.existing(raw_parent)?;
        let meta = self.store.read_meta(&parent)?;
        follow::request(&meta, follow, agents)
    }

    /// Starts pending jobs while their limits allow; the ids it started.
    pub fn advance_queue(&self) -> Result<Vec<String>> {
        queue::advance(&self.launcher, &self.store)
    }

    /// Status and the last `tail_lines` lines of output (at most 8000 characters).
    pub fn poll(&self, raw_id: &str, tail_lines: usize) -> Result<PollView> {
        let id = self.store.existing(raw_id)?;
        let meta = self.store.read_meta(&id)?;
        self.poll_view(&id, meta, tail_lines)
    }

    /// The job's output from byte `from` on (at most [`OutputPiece::MAX_BYTES`]): for a
    /// reader elsewhere that follows it in pieces (`codex_poll`'s `output_from`).
    pub fn output_piece(&self, raw_id: &str, from: u64) -> Result<OutputPiece> {
        let id = self.store.existing(raw_id)?;
        // Looked at first: once its end is recorded, its output is whole.
        let finished = self.store.read_meta(&id)?.status.is_finished();
        self.store.output_piece(&id, from, finished)
    }

    fn poll_view(&self, id: &JobId, meta: JobMeta, tail_lines: usize) -> Result<PollView> {
        let output = self.store.tail(id, tail_lines, tail::MAX_OUTPUT_CHARS)?;
        let position = (meta.status == Status::Pending).then(|| queue::Queue::of(&self.store).position(id)).flatten();
        let mut view = PollView::new(meta, output, self.store.last_message(id));
        view.details.queue_position = position;
        view.hook_failures = hooks::failures(&self.store, id);
        Ok(view)
    }

    /// The newest `limit` jobs (all with 0), corrupt ones listed as such; pending ones
    /// with their place in the queue.
    pub fn list(&self, limit: usize) -> Result<Vec<ListView>> {
        let limit = if limit == 0 { None } else { Some(limit) };
        let mut rows: Vec<ListView> = self.store.list(limit)?.iter().map(ListView::from).collect();
        if rows.iter().any(|row| row.status == Status::Pending.as_str()) {
            let order = queue::Queue::of(&self.store).pending_order();
            for row in rows.iter_mut().filter(|row| row.status == Status::Pending.as_str()) {
                row.queue_position = order.iter().position(|id| id.as_str() == row.job_id).map(|at| at + 1);
            }
        }
        Ok(rows)
    }

    /// Cancels a job and waits (up to the grace period and a little more) until its
    /// result is recorded (see [`cancel`]). A job that already ended is not an error, and
    /// gets no signal.
    pub async fn cancel(&self, raw_id: &str, grace: Duration) -> Result<CancelView> {
        let id = self.store.existing(raw_id)?;
        cancel::cancel(&self.store, &self.feed, &id, grace).await
    }

    /// Asks for a job to be cancelled and returns at once, saying who ends it: its
    /// supervisor, or — a job whose supervisor is gone — this program run again on its
    /// own (its own process group), which waits for the end as a cancel does. The view
    /// says `running` with that message until the end is recorded.
    pub fn cancel_no_wait(&self, raw_id: &str, grace: Duration) -> Result<CancelView> {
        let id = self.store.existing(raw_id)?;
        let asked = |message: String| CancelView::Cancelled {
            job_id: id.to_string(),
            status: Status::Running,
            killed: false,
            message: Some(message),
        };
        Ok(match cancel::ask(&self.store, &id, grace)? {
            CancelAsked::Over(view) => view,
            CancelAsked::Told => asked(format!("its supervisor ends it: {}", cancel::timeline(grace))),
            CancelAsked::Ownerless => {
                let pid = cancel::end_in_background(&id, grace)?;
                asked(format!("its supervisor is gone: codex-async (pid {pid}) ends it: {}", cancel::timeline(grace)))
            }
        })
    }

    /// Pauses a running job (`pause`) or resumes a paused one, through its supervisor (see
    /// [`pause`]); returns once the change is recorded.
    pub async fn set_paused(&self, raw_id: &str, paused: bool) -> Result<PauseView> {
        let id = self.store.existing(raw_id)?;
        pause::set(&self.store, &self.feed, &id, paused).await
    }

    /// Waits until the job ends or `timeout` passes; then `timed_out` says which.
    pub async fn wait(&self, raw_id: &str, timeout: Duration, tail_lines: usize) -> Result<WaitView> {
        let id = self.store.existing(raw_id)?;
        let finished = wait::first_finished(&self.feed, std::slice::from_ref(&id), timeout).await?;
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
        match wait::first_finished(&self.feed, &ids, timeout).await? {
            Some((id, meta)) => Ok(Some(self.poll_view(&id, meta, tail_lines)?)),
            None => Ok(None),
        }
    }

    /// The first of `ids` to be finished (one that already is counts), with its meta;
    /// `None` when `timeout` passes first.
    pub async fn first_finished(&self, ids: &[JobId], timeout: Duration) -> Result<Option<(JobId, JobMeta)>> {
        wait::first_finished(&self.feed, ids, timeout).await
    }

    /// The next ending `cursor` has not reported, waiting up to `timeout` for one.
    pub async fn next_ending(&self, cursor: &mut EndCursor, timeout: Duration, tail_lines: usize) -> Result<NextEnding> {
        let deadline = Instant::now() + timeout;
        // Subscribe before looking, so an ending between the look and the watch is not missed.
        let mut events = self.feed.subscribe(Scope::All).ok();
        let mut first_look = true;
        loop {
            let running = match cursor.look(&self.store)? {
                Look::Ended(id, meta) => return Ok(NextEnding::Ended(Box::new(self.poll_view(&id, *meta, tail_lines)?))),
                Look::Nothing { running } => running,
            };
            // A job running since before the cursor began left its folder untouched:
            // look further, newest first, until one running job is found.
            if first_look && !running && !self.store.any_running()? {
                return Ok(NextEnding::NothingRunning);
            }
            first_look = false;
            // Sleep until some job's record changes (a job that started meanwhile counts).
            loop {
                let wake = tokio::select! {
                    event = async { events.as_mut()?.recv().await.into() }, if events.is_some() => match event {
                        Some(FeedEvent::Job(_, changes)) => changes.record(),
                        Some(FeedEvent::Rescan) | None => true,
                    },
                    () = sleep_until(deadline) => return Ok(NextEnding::TimedOut),
                    // Without a watcher, look every second.
                    () = tokio::time::sleep(Duration::from_secs(1)), if events.is_none() => true,
                };
                if wake {
                    break;
                }
            }
        }
    }

    /// Ids of the jobs that are running now, newest first.
    pub fn running_ids(&self) -> Result<Vec<String>> {
        Ok(running_ids(&self.store.list(None)?))
    }

    /// Removes a finished job's folder (and its worktree, if it has one).
    pub fn delete(&self, raw_id: &str) -> Result<()> {
        if let Ok(id) = self.store.existing(raw_id) {
            self.discard_before_delete(&id);
        }
        self.store.delete(raw_id)
    }

    /// Removes finished jobs by age and count (never running or pending ones).
    pub fn gc(&self, rule: GcRule, dry_run: bool) -> Result<GcReport> {
        if !dry_run {
            for removed in gc::collect(&self.store, rule, true)?.removed {
                if let Ok(id) = JobId::parse(&removed.job_id) {
                    self.discard_before_delete(&id);
                }
            }
        }
        gc::collect(&self.store, rule, dry_run)
    }

    /// Kills every process marked with the job's id (see [`process::marker`]); never its
    /// supervisor, which records the end. How many got the signal.
    pub fn kill(&self, id: &JobId) -> usize {
        marker::signal_all(id, Signal::SIGKILL)
    }

    /// Starts what a long-lived process does for the home besides its own work (see
    /// [`Housekeeping`]); the queue's keeper stops with `shutdown`.
    pub fn start_housekeeping(&self, chores: Housekeeping, shutdown: &CancellationToken) {
        housekeeping::start(&self.store, &self.feed, &self.launcher, chores, shutdown);
    }
}

/// The ids of the records that are not finished (pending or running), in order.
pub fn running_ids(records: &[JobRecord]) -> Vec<String> {
    records
        .iter()
        .filter(|record| record.meta.as_ref().is_ok_and(|meta| !meta.status.is_finished()))
        .map(|record| record.id.to_string())
        .collect()
}
