//! All file I/O of the dashboard, on its own thread so keys never wait on the disk.
//!
//! It takes the engine's change feed and turns it into fresh job records and output:
//! events are collected per job and each changed job is read once per debounce
//! period; only a change to a job's record (its meta, its owner, its folder) reads the
//! meta, and only output of the followed job reads output — the bytes appended since
//! the last read. The feed's slow fallback tick asks for a rescan, which lists the
//! folder and reads only the jobs that can change without an event we saw. An idle
//! dashboard reads nothing.

use std::collections::{HashMap, HashSet};
#[cfg(test)]
use std::io::Write;
use std::time::Duration;

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::jobs::feed::{FeedEvent, Subscription};
use crate::jobs::output::{self, OutputFollower, OutputUpdate};
use crate::jobs::{JobFeed, JobId, JobMeta, JobRecord, JobStore, Scope};

use super::app::DataEvent;
use super::pane::{Fetch, PAGE_LINES, WINDOW_BYTES, WINDOW_LINES};

/// The least time between two reads of what changed: the first change after a quiet
/// spell is read at once, the ones that follow are gathered for up to this long.
pub const DEBOUNCE: Duration = Duration::from_millis(8);
/// Without a watch (the kernel's limit reached), how often everything is looked at.
pub const UNWATCHED_RESCAN: Duration = Duration::from_secs(3);

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoaderCommand {
    /// Follow this job's output (or none).
    Watch(Option<JobId>),
    Fetch(Fetch),
}

/// Starts the loader thread; it stops when `shutdown` is cancelled or the command
/// channel closes.
pub fn spawn(
    feed: JobFeed,
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
        let loader = Loader::new(feed, events);
        runtime.block_on(loader.run(commands, shutdown));
    })
}

struct Loader {
    store: JobStore,
    feed: JobFeed,
    events: UnboundedSender<DataEvent>,
    follower: Option<(JobId, OutputFollower)>,
    /// What was last sent per job, so unchanged records are not sent again.
    sent: HashMap<JobId, Result<JobMeta, String>>,
    dirty: HashSet<JobId>,
    output_dirty: bool,
    rescan_pending: bool,
    subscription: Option<Subscription>,
    watch_problem: Option<String>,
}

impl Loader {
    fn new(feed: JobFeed, events: UnboundedSender<DataEvent>) -> Self {
        Loader {
            store: feed.store().clone(),
            feed,
            events,
            follower: None,
            sent: HashMap::new(),
            dirty: HashSet::new(),
            output_dirty: false,
            rescan_pending: false,
            subscription: None,
            watch_problem: None,
        }
    }

    async fn run(mut self, mut commands: UnboundedReceiver<LoaderCommand>, shutdown: CancellationToken) {
        self.subscribe();
        self.full_scan(true);
        let mut flush_at: Option<Instant> = None;
        let mut last_flush = Instant::now() - DEBOUNCE;
        loop {
            tokio::select! {
                biased;
                _ = shutdown.cancelled() => break,
                command = commands.recv() => match command {
                    Some(command) => self.command(command),
                    None => break,
                },
                event = next_event(&mut self.subscription) => {
                    self.note(event);
                    flush_at.get_or_insert_with(|| (last_flush + DEBOUNCE).max(Instant::now()));
                }
                _ = sleep_until(flush_at), if flush_at.is_some() => {
                    flush_at = None;
                    last_flush = Instant::now();
                    if self.flush() {
                        // A flood is read in slices: come back at once for the rest.
                        flush_at = Some(Instant::now());
                    }
                }
                // Only without a watch: look at everything now and then, and try to watch again.
                _ = tokio::time::sleep(UNWATCHED_RESCAN), if self.subscription.is_none() => {
                    self.subscribe();
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

    fn subscribe(&mut self) {
        match self.feed.subscribe(Scope::All) {
            Ok(subscription) => {
                self.subscription = Some(subscription);
                self.set_problem(None);
            }
            Err(err) => {
                self.subscription = None;
                self.set_problem(Some(format!("not watched ({err}); rescanning every {}s", UNWATCHED_RESCAN.as_secs())));
            }
        }
    }

    fn note(&mut self, first: FeedEvent) {
        // Take everything already queued: one read per job per period.
        let mut more = vec![first];
        if let Some(subscription) = self.subscription.as_mut() {
            more.extend(std::iter::from_fn(|| subscription.try_recv()));
        }
        for event in more {
            match event {
                FeedEvent::Job(id, changes) => {
                    if changes.record() {
                        self.dirty.insert(id.clone());
                    }
                    if changes.output && self.follower.as_ref().is_some_and(|(followed, _)| *followed == id) {
                        self.output_dirty = true;
                    }
                }
                FeedEvent::Rescan => self.rescan_pending = true,
            }
        }
    }

    /// Reads what changed. Returns whether output is still behind (a flood).
    fn flush(&mut self) -> bool {
        if std::mem::take(&mut self.rescan_pending) {
            self.full_scan(false);
            self.output_dirty = true;
        }
        for id in std::mem::take(&mut self.dirty) {
            self.refresh_job(id);
        }
        std::mem::take(&mut self.output_dirty) && self.poll_output()
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

async fn next_event(subscription: &mut Option<Subscription>) -> FeedEvent {
    match subscription.as_mut() {
        Some(subscription) => subscription.recv().await,
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
