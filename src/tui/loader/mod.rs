//! All file I/O of the dashboard, on its own thread so keys never wait on the disk.
//!
//! It turns `notify` events into fresh job records and output, collapsing events per
//! job and reading each changed job once per debounce period; it follows the selected
//! job's output incrementally; and every few seconds it rescans as a safety net
//! (missed events, a jobs folder that appears late or is deleted and recreated).

use std::collections::{HashMap, HashSet};
#[cfg(test)]
use std::io::Write;
use std::time::Duration;

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::jobs::output::{self, OutputFollower, OutputUpdate};
use crate::jobs::store::FolderIdentity;
use crate::jobs::{JobId, JobMeta, JobRecord, JobStore};
use crate::watch::{self, JobEvent, JobsWatcher};

use super::app::DataEvent;
use super::pane::{Fetch, PAGE_LINES, WINDOW_BYTES, WINDOW_LINES};

/// How long events for a job are collected before it is read.
pub const DEBOUNCE: Duration = Duration::from_millis(8);
/// The safety-net rescan.
pub const RESCAN: Duration = Duration::from_secs(3);
/// How often a missing jobs folder is looked for (one `stat`).
pub const MISSING_DIR_RETRY: Duration = Duration::from_millis(200);

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoaderCommand {
    /// Follow this job's output (or none).
    Watch(Option<JobId>),
    Fetch(Fetch),
}

/// Starts the loader thread; it stops when `shutdown` is cancelled or the command
/// channel closes.
pub fn spawn(
    store: JobStore,
    commands: UnboundedReceiver<LoaderCommand>,
    events: UnboundedSender<DataEvent>,
    shutdown: CancellationToken,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new().name("dashboard-loader".into()).spawn(move || {
        let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
            Ok(runtime) => runtime,
            Err(err) => {
                let _ = events.send(DataEvent::WatchProblem(Some(format!("no loader: {err}"))));
                return;
            }
        };
        let loader = Loader::new(store, events);
        runtime.block_on(loader.run(commands, shutdown));
    })
}

struct Loader {
    store: JobStore,
    events: UnboundedSender<DataEvent>,
    follower: Option<(JobId, OutputFollower)>,
    /// What was last sent per job, so unchanged records are not sent again.
    sent: HashMap<JobId, Result<JobMeta, String>>,
    dirty: HashSet<JobId>,
    rescan_pending: bool,
    watcher: Option<(JobsWatcher, UnboundedReceiver<JobEvent>, FolderIdentity)>,
    watch_problem: Option<String>,
}

impl Loader {
    fn new(store: JobStore, events: UnboundedSender<DataEvent>) -> Self {
        Loader {
            store,
            events,
            follower: None,
            sent: HashMap::new(),
            dirty: HashSet::new(),
            rescan_pending: false,
            watcher: None,
            watch_problem: None,
        }
    }

    async fn run(mut self, mut commands: UnboundedReceiver<LoaderCommand>, shutdown: CancellationToken) {
        self.ensure_watcher();
        self.full_scan(true);
        let mut rescan = tokio::time::interval_at(Instant::now() + RESCAN, RESCAN);
        rescan.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut flush_at: Option<Instant> = None;
        loop {
            tokio::select! {
                biased;
                _ = shutdown.cancelled() => break,
                command = commands.recv() => match command {
                    Some(command) => self.command(command),
                    None => break,
                },
                event = next_watch_event(&mut self.watcher) => match event {
                    Some(event) => {
                        self.note(event);
                        flush_at.get_or_insert_with(|| Instant::now() + DEBOUNCE);
                    }
                    None => self.watcher = None,
                },
                _ = sleep_until(flush_at), if flush_at.is_some() => {
                    flush_at = None;
                    if self.flush() {
                        // A flood is read in slices: come back at once for the rest.
                        flush_at = Some(Instant::now());
                    }
                }
                _ = tokio::time::sleep(MISSING_DIR_RETRY), if self.watcher.is_none() => {
                    self.ensure_watcher();
                    if self.watcher.is_some() {
                        self.rescan_pending = false;
                        self.full_scan(false);
                    }
                }
                _ = rescan.tick() => {
                    self.ensure_watcher();
                    self.rescan_pending = false;
                    self.full_scan(false);
                    if self.poll_output() {
                        flush_at = Some(Instant::now());
                    }
                }
            }
        }
    }

    fn send(&self, event: DataEvent) {
        let _ = self.events.send(event);
    }

    fn note(&mut self, event: JobEvent) {
        match event {
            JobEvent::Changed(id) => {
                self.dirty.insert(id);
            }
            JobEvent::Rescan => self.rescan_pending = true,
        }
        // Take everything already queued: one read per job per period.
        let mut more = Vec::new();
        if let Some((_, receiver, _)) = self.watcher.as_mut() {
            while let Ok(event) = receiver.try_recv() {
                more.push(event);
            }
        }
        for event in more {
            match event {
                JobEvent::Changed(id) => {
                    self.dirty.insert(id);
                }
                JobEvent::Rescan => self.rescan_pending = true,
            }
        }
    }

    /// Reads what changed. Returns whether output is still behind (a flood).
    fn flush(&mut self) -> bool {
        if std::mem::take(&mut self.rescan_pending) {
            self.ensure_watcher();
            self.full_scan(false);
        }
        let dirty: Vec<JobId> = self.dirty.drain().collect();
        let mut output_changed = false;
        for id in dirty {
            if self.follower.as_ref().is_some_and(|(followed, _)| followed == &id) {
                output_changed = true;
            }
            self.refresh_job(id);
        }
        output_changed && self.poll_output()
    }

    fn refresh_job(&mut self, id: JobId) {
        match self.store.folder_created(&id) {
            Some(created) => {
                let record = self.store.record(id, created);
                if self.sent.get(&record.id) != Some(&record.meta) {
                    self.sent.insert(record.id.clone(), record.meta.clone());
                    self.send(DataEvent::Job(Box::new(record)));
                }
            }
            None => {
                if self.sent.remove(&id).is_some() {
                    self.send(DataEvent::Removed(id));
                }
            }
        }
    }

    /// Lists every job. Finished jobs already read are not read again: only running
    /// and corrupt ones can change without an event we saw.
    fn full_scan(&mut self, always_send: bool) {
        let folders = match self.store.job_folders() {
            Ok(folders) => folders,
            Err(err) => {
                self.set_problem(Some(format!("can't list: {err}")));
                return;
            }
        };
        let mut changed = always_send || folders.len() != self.sent.len();
        let mut records = Vec::with_capacity(folders.len());
        let mut seen = HashMap::with_capacity(folders.len());
        for (id, created) in folders {
            let record = match self.sent.get(&id) {
                Some(Ok(meta)) if meta.status.is_finished() => JobRecord { id: id.clone(), created, meta: Ok(meta.clone()) },
                _ => self.store.record(id.clone(), created),
            };
            if self.sent.get(&id) != Some(&record.meta) {
                changed = true;
            }
            seen.insert(id, record.meta.clone());
            records.push(record);
        }
        self.sent = seen;
        if changed {
            self.send(DataEvent::Jobs(records));
        }
    }

    /// Keeps a watch on the jobs folder: made once it exists, made again when it was
    /// deleted and recreated (a new identity).
    fn ensure_watcher(&mut self) {
        let jobs_dir = self.store.jobs_dir().to_owned();
        let Some(identity) = self.store.jobs_dir_identity() else {
            self.watcher = None;
            self.set_problem(Some("not created yet; waiting".to_owned()));
            return;
        };
        if self.watcher.as_ref().is_some_and(|(_, _, watched)| *watched == identity) {
            return;
        }
        match watch::watch_jobs(&jobs_dir) {
            Ok((watcher, receiver)) => {
                self.watcher = Some((watcher, receiver, identity));
                self.set_problem(None);
                self.rescan_pending = true;
            }
            Err(err) => {
                self.watcher = None;
                self.set_problem(Some(format!("not watched ({err}); rescanning every {}s", RESCAN.as_secs())));
            }
        }
    }

    fn set_problem(&mut self, problem: Option<String>) {
        if self.watch_problem != problem {
            self.watch_problem = problem.clone();
            self.send(DataEvent::WatchProblem(problem));
        }
    }

    fn command(&mut self, command: LoaderCommand) {
        match command {
            LoaderCommand::Watch(job) => {
                self.follower = job.map(|id| {
                    let follower = OutputFollower::new(self.store.output_path(&id), WINDOW_LINES);
                    (id, follower)
                });
                self.poll_output();
            }
            LoaderCommand::Fetch(fetch) => self.fetch(fetch),
        }
    }

    fn fetch(&mut self, fetch: Fetch) {
        match fetch {
            Fetch::Older { job, before } => match output::read_before(&self.store.output_path(&job), before, PAGE_LINES) {
                Ok(block) => self.send(DataEvent::Older(job, block)),
                Err(err) => tracing::warn!(%job, %err, "reading older output"),
            },
            Fetch::Newer { job, after } => match output::read_after(&self.store.output_path(&job), after, PAGE_LINES) {
                // The end is near: follow the tail again instead.
                Ok(block) if block.lines.len() < PAGE_LINES => self.fetch(Fetch::Tail { job }),
                Ok(block) => self.send(DataEvent::Newer(job, block)),
                Err(err) => tracing::warn!(%job, %err, "reading newer output"),
            },
            Fetch::Start { job } => match output::read_after(&self.store.output_path(&job), 0, PAGE_LINES) {
                Ok(block) => self.send(DataEvent::Start(job, block)),
                Err(err) => tracing::warn!(%job, %err, "reading the start of the output"),
            },
            Fetch::Tail { job } => {
                let follower = OutputFollower::new(self.store.output_path(&job), WINDOW_LINES);
                self.follower = Some((job, follower));
                self.poll_output();
            }
        }
    }

    /// Reads new output of the followed job. Returns whether more is waiting.
    fn poll_output(&mut self) -> bool {
        let Some((id, follower)) = self.follower.as_mut() else { return false };
        match follower.poll() {
            Ok(OutputUpdate::Unchanged) => false,
            Ok(mut update) => {
                // A flood can bring more lines than the pane keeps: send only those.
                if let OutputUpdate::Appended { lines, .. } = &mut update {
                    let mut bytes = 0;
                    let keep = lines
                        .iter()
                        .rev()
                        .take(WINDOW_LINES)
                        .take_while(|line| {
                            bytes += line.text.len();
                            bytes <= WINDOW_BYTES
                        })
                        .count()
                        .max(1);
                    if keep < lines.len() {
                        lines.drain(..lines.len() - keep);
                    }
                }
                let behind = match &update {
                    OutputUpdate::Appended { file_len, .. } | OutputUpdate::Reset { file_len, .. } => follower.offset() < *file_len,
                    OutputUpdate::Unchanged => false,
                };
                let _ = self.events.send(DataEvent::Output(id.clone(), update));
                behind
            }
            Err(err) => {
                tracing::warn!(job = %id, %err, "reading output");
                false
            }
        }
    }
}

async fn next_watch_event(watcher: &mut Option<(JobsWatcher, UnboundedReceiver<JobEvent>, FolderIdentity)>) -> Option<JobEvent> {
    match watcher.as_mut() {
        Some((_, receiver, _)) => receiver.recv().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests;
