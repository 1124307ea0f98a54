//! All file I/O of the dashboard, on its own thread so keys never wait on the disk.
//!
//! It takes the engine's change feed and turns it into fresh job records and output:
//! events are collected per job and each changed job is read once per debounce
//! period; only a change to a job's record (its meta, its owner, its folder) reads the
//! meta, and only output of the followed job reads output — the bytes appended since
//! the last read. The feed's slow fallback tick asks for a rescan, which lists the
//! folder and reads only the jobs that can change without an event we saw. An idle
//! dashboard reads nothing.
//!
//! Between those it reads whole files in slices ([`scan`]): the followed job's line
//! count (for real line numbers) and whole-file searches. Keys and changes always come
//! before the next slice.

use std::collections::{HashMap, HashSet};
#[cfg(test)]
use std::io::Write;
use std::time::Duration;

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::jobs::{FeedEvent, JobFeed, JobId, JobMeta, JobRecord, JobStore, LineBlock, OutputFollower, OutputUpdate, Scope, Subscription};

use crate::tui::model::app::DataEvent;
pub use crate::tui::model::message::LoaderCommand;
use crate::tui::model::pane::{Fetch, PAGE_LINES, WINDOW_BYTES, WINDOW_LINES};

mod scan;

use scan::{FileSearch, LineIndex};

/// The most of a cut line read whole.
pub(crate) const MAX_WHOLE_LINE: usize = 16 * 1024 * 1024;

/// The least time between two reads of what changed: the first change after a quiet
/// spell is read at once, the ones that follow are gathered for up to this long.
pub(crate) const DEBOUNCE: Duration = Duration::from_millis(8);
/// Without a watch (the kernel's limit reached), how often everything is looked at.
pub(crate) const UNWATCHED_RESCAN: Duration = Duration::from_secs(3);

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
    /// The followed job's line count, being read.
    index: Option<LineIndex>,
    /// The follower has read before: a reset from it means the file was cut or replaced.
    follower_read: bool,
    search: Option<FileSearch>,
    /// One slice of a file at a time (kept between slices).
    buffer: Vec<u8>,
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
            index: None,
            follower_read: false,
            search: None,
            buffer: Vec::new(),
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
                // Last: a slice of a whole-file read, when nothing else waits.
                _ = std::future::ready(()), if self.search.is_some() || self.index.as_ref().is_some_and(LineIndex::busy) => self.read_slice(),
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
                self.follower = job.clone().map(|id| {
                    let follower = OutputFollower::new(self.store.output_path(&id), WINDOW_LINES);
                    (id, follower)
                });
                self.index = job.map(|id| LineIndex::new(id.clone(), self.store.output_path(&id)));
                self.follower_read = false;
                self.search = None;
                self.poll_output();
            }
            LoaderCommand::Fetch(fetch) => self.fetch(fetch),
            LoaderCommand::Search { job, id, matcher } => {
                let path = self.store.output_path(&job);
                self.search = Some(FileSearch::new(job, id, matcher, path));
            }
        }
    }

    /// One slice of the search, or else of the line count.
    fn read_slice(&mut self) {
        if let Some(search) = self.search.as_mut() {
            let (job, id, file_len) = (search.job.clone(), search.id, search.end);
            let event = match search.step(&mut self.buffer) {
                Ok(progress) => {
                    if progress.done {
                        self.search = None;
                    }
                    DataEvent::SearchProgress { job, id, found: progress.found, scanned: progress.scanned, file_len, done: progress.done }
                }
                Err(err) => {
                    tracing::warn!(%job, %err, "searching the output");
                    self.search = None;
                    DataEvent::SearchProgress { job, id, found: Vec::new(), scanned: file_len, file_len, done: true }
                }
            };
            self.send(event);
            return;
        }
        let Some(index) = self.index.as_mut() else { return };
        if let Err(err) = index.step(&mut self.buffer) {
            tracing::warn!(job = %index.job, %err, "counting the output's lines");
            self.index = None;
            return;
        }
        let job = index.job.clone();
        let counted = index.counted();
        for (offset, line) in index.answers() {
            self.send(DataEvent::LineNumber { job: job.clone(), offset, line });
        }
        if let Some((offset, lines)) = counted {
            self.send(DataEvent::LineCount { job, offset, lines });
        }
        if !self.index.as_ref().is_some_and(LineIndex::busy) {
            // Nothing waits for the count: the slice buffer goes.
            self.buffer = Vec::new();
        }
    }

    /// Asks the line count for the number of the line that starts at `offset`; answers
    /// at once when it got that far.
    fn want_number(&mut self, job: &JobId, offset: u64) {
        let Some(index) = self.index.as_mut().filter(|index| &index.job == job) else { return };
        index.want(offset);
        for (offset, line) in index.answers() {
            let _ = self.events.send(DataEvent::LineNumber { job: job.clone(), offset, line });
        }
    }

    fn fetch(&mut self, fetch: Fetch) {
        match fetch {
            Fetch::Older { job, before } => match self.store.output_before(&job, before, PAGE_LINES) {
                Ok(block) => self.send(DataEvent::Older(job, block)),
                Err(err) => tracing::warn!(%job, %err, "reading older output"),
            },
            Fetch::Newer { job, after } => match self.store.output_after(&job, after, PAGE_LINES) {
                // The end is near: follow the tail again instead.
                Ok(block) if block.lines.len() < PAGE_LINES => self.fetch(Fetch::Tail { job }),
                Ok(block) => self.send(DataEvent::Newer(job, block)),
                Err(err) => tracing::warn!(%job, %err, "reading newer output"),
            },
            Fetch::Start { job } => match self.store.output_after(&job, 0, PAGE_LINES) {
                Ok(block) => self.send(DataEvent::Start(job, block)),
                Err(err) => tracing::warn!(%job, %err, "reading the start of the output"),
            },
            Fetch::Around { job, offset } => {
                let around = self
                    .store
                    .output_before(&job, offset, PAGE_LINES / 2)
                    .and_then(|before| self.store.output_after(&job, offset, PAGE_LINES).map(|after| (before, after)));
                match around {
                    Ok((before, after)) => {
                        let block =
                            LineBlock { start: before.start, end: after.end, lines: before.lines.into_iter().chain(after.lines).collect() };
                        let number = self.index.as_ref().filter(|index| index.job == job).and_then(|index| index.number_of(block.start));
                        let start = block.start;
                        self.send(DataEvent::Around(job.clone(), block, number));
                        if number.is_none() {
                            self.want_number(&job, start);
                        }
                    }
                    Err(err) => tracing::warn!(%job, %err, "reading the output around a match"),
                }
            }
            Fetch::WholeLine { job, offset } => match read_whole_line(&self.store.output_path(&job), offset) {
                Ok((text, total)) => self.send(DataEvent::WholeLine { job, offset, text, total }),
                Err(err) => tracing::warn!(%job, %err, "reading a whole line"),
            },
            Fetch::Tail { job } => {
                let follower = OutputFollower::new(self.store.output_path(&job), WINDOW_LINES);
                self.follower = Some((job, follower));
                self.follower_read = false;
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
                let mut skipped = 0;
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
                        skipped = (lines.len() - keep) as u64;
                        lines.drain(..lines.len() - keep);
                    }
                }
                let behind = match &update {
                    OutputUpdate::Appended { file_len, .. } | OutputUpdate::Reset { file_len, .. } => follower.offset() < *file_len,
                    OutputUpdate::Unchanged => false,
                };
                let tail_start = match &update {
                    OutputUpdate::Reset { tail, .. } if tail.start > 0 => Some(tail.lines.first().map_or(tail.start, |line| line.offset)),
                    _ => None,
                };
                let id = id.clone();
                let cut = matches!(update, OutputUpdate::Reset { .. }) && std::mem::replace(&mut self.follower_read, true);
                self.follower_read = true;
                if cut {
                    // The file was cut or replaced: its lines are counted again.
                    self.index = Some(LineIndex::new(id.clone(), self.store.output_path(&id)));
                }
                if skipped > 0 {
                    let _ = self.events.send(DataEvent::OutputGap(id.clone(), skipped));
                }
                let _ = self.events.send(DataEvent::Output(id.clone(), update));
                if let Some(start) = tail_start {
                    self.want_number(&id, start);
                }
                behind
            }
            Err(err) => {
                tracing::warn!(job = %id, %err, "reading output");
                false
            }
        }
    }
}

/// The line that starts at `offset`, up to [`MAX_WHOLE_LINE`] bytes of it, and its
/// length in bytes (read on to its end, a slice at a time, when it is longer).
fn read_whole_line(path: &std::path::Path, offset: u64) -> std::io::Result<(String, u64)> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = crate::jobs::open_job_file(path)?;
    file.seek(SeekFrom::Start(offset))?;
    let mut kept = Vec::new();
    let mut total = 0u64;
    let mut chunk = vec![0u8; 1024 * 1024];
    loop {
        let read = file.read(&mut chunk)?;
        if read == 0 {
            break;
        }
        let (part, ended) = match memchr::memchr(b'\n', &chunk[..read]) {
            Some(end) => (&chunk[..end], true),
            None => (&chunk[..read], false),
        };
        total += part.len() as u64;
        let room = MAX_WHOLE_LINE.saturating_sub(kept.len());
        kept.extend_from_slice(&part[..part.len().min(room)]);
        if ended {
            break;
        }
    }
    Ok((String::from_utf8_lossy(&kept).into_owned(), total))
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
