//! The one change feed of a process: a single `notify` watch of the jobs folder,
//! shared (broadcast) by everything that wants to know — the dashboard's loader, MCP
//! resource notifications, waits ([`wait`]).
//!
//! It reports only changes: creates, writes, renames, deletes, and a supervisor's
//! lock being closed (its death). Opens, reads and attribute changes are dropped, so
//! reading a job can never come back as news about it. Each event says what changed
//! ([`WhatChanged`]: the meta, the output, the owner, the folder), so a wait is not woken
//! by output and a viewer does not re-read a meta because a line was printed. Bursts are
//! collapsed per job; a slow fallback tick ([`FALLBACK_RESCAN`]) asks for a look at
//! everything in case the kernel dropped events. An idle process costs nothing,
//! however many jobs are stored.
//!
//! Watching starts with the first subscriber. [`Scope::Jobs`] watches just those job
//! folders (a CLI `wait`); [`Scope::All`] watches the whole jobs folder recursively,
//! after which every job is covered.

#[cfg(test)]
mod tests;
pub mod wait;

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak, mpsc};
use std::time::{Duration, Instant};

use notify::event::{AccessKind, AccessMode, EventKind, ModifyKind, RenameMode};
use notify::{Config, EventKindMask, RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::broadcast;

use crate::jobs::error::{JobError, Result};
use crate::jobs::process::owner::LOCK_FILE;
use crate::jobs::record::id::JobId;
use crate::jobs::store::{EVENTS_FILE, JobStore, META_FILE, OUTPUT_FILE};

/// How often, without any event, everyone is asked to look again.
pub const FALLBACK_RESCAN: Duration = Duration::from_secs(30);
/// While the jobs folder is missing, how often to look for it (one `stat`).
const MISSING_FOLDER_RETRY: Duration = Duration::from_millis(250);
/// Events a slow subscriber may fall behind by before it is told to rescan.
const CAPACITY: usize = 4096;

/// What the kernel reports to the feed: creations, removals, renames, writes and the
/// close after a write (a supervisor's lock released, an output file finished). Opens,
/// closes after reading and attribute changes are left out at the source, so a reader
/// polling a job does not wake every watcher of the folder.
const WATCHED_KINDS: EventKindMask = EventKindMask::CREATE
    .union(EventKindMask::REMOVE)
    .union(EventKindMask::MODIFY_DATA)
    .union(EventKindMask::MODIFY_NAME)
    .union(EventKindMask::ACCESS_CLOSE);

/// What changed in one job's folder.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WhatChanged {
    /// `meta.json` was replaced or written.
    pub meta: bool,
    /// `output.txt` grew, or was truncated or replaced.
    pub output: bool,
    /// The job's owner may be gone: its supervisor closed its lock (it ended or died),
    /// or the last holder of the agent's output closed it.
    pub owner: bool,
    /// The folder itself appeared, went, or was renamed.
    pub folder: bool,
    /// Some other file of the job changed (the final message, a cancel request, …).
    pub other: bool,
}

impl WhatChanged {
    pub const META: WhatChanged = WhatChanged { meta: true, output: false, owner: false, folder: false, other: false };
    pub const OUTPUT: WhatChanged = WhatChanged { meta: false, output: true, owner: false, folder: false, other: false };
    pub const OWNER: WhatChanged = WhatChanged { meta: false, output: false, owner: true, folder: false, other: false };
    pub const FOLDER: WhatChanged = WhatChanged { meta: false, output: false, owner: false, folder: true, other: false };
    pub const OTHER: WhatChanged = WhatChanged { meta: false, output: false, owner: false, folder: false, other: true };

    pub fn merge(self, other: WhatChanged) -> WhatChanged {
        WhatChanged {
            meta: self.meta || other.meta,
            output: self.output || other.output,
            owner: self.owner || other.owner,
            folder: self.folder || other.folder,
            other: self.other || other.other,
        }
    }

    /// Whether the job's status or record may read differently now.
    pub fn record(self) -> bool {
        self.meta || self.owner || self.folder
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FeedEvent {
    Job(JobId, WhatChanged),
    /// Events may have been missed (the kernel's queue overflowed, the jobs folder was
    /// replaced, a subscriber fell behind, or the fallback tick): look at everything.
    Rescan,
}

/// What a subscriber wants watched.
#[derive(Clone, Copy, Debug)]
pub enum Scope<'a> {
    /// Every job, present and future.
    All,
    /// These jobs only.
    Jobs(&'a [JobId]),
}

/// The feed of one jobs folder; clones share it.
#[derive(Clone)]
pub struct JobFeed {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for JobFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobFeed").field("jobs", &self.inner.store.jobs_dir()).finish()
    }
}

struct Inner {
    store: JobStore,
    /// How many watchers (inotify instances) this feed has made: one, however many subscribe.
    watchers_made: std::sync::atomic::AtomicUsize,
    /// How many raw events the OS watcher has handed over (a reader's opens must not count).
    raw_events: Arc<AtomicU64>,
    fallback: Option<Duration>,
    sender: broadcast::Sender<FeedEvent>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    watcher: Option<RecommendedWatcher>,
    /// The whole jobs folder is watched (recursively).
    all: bool,
    /// Folders watched for [`Scope::Jobs`] subscribers, with how many want each.
    per_job: HashMap<PathBuf, usize>,
}

impl JobFeed {
    /// A feed that looks again every [`FALLBACK_RESCAN`] without events.
    pub fn new(store: JobStore) -> Self {
        Self::with_fallback(store, Some(FALLBACK_RESCAN))
    }

    /// `fallback: None` turns the fallback tick off (tests prove the event path with it).
    pub fn with_fallback(store: JobStore, fallback: Option<Duration>) -> Self {
        let (sender, _) = broadcast::channel(CAPACITY);
        JobFeed {
            inner: Arc::new(Inner {
                store,
                watchers_made: std::sync::atomic::AtomicUsize::new(0),
                raw_events: Arc::default(),
                fallback,
                sender,
                state: Mutex::new(State::default()),
            }),
        }
    }

    pub fn store(&self) -> &JobStore {
        &self.inner.store
    }

    /// How many OS watchers this feed has made so far (one at most while it lives).
    pub fn watchers_made(&self) -> usize {
        self.inner.watchers_made.load(Ordering::Relaxed)
    }

    /// How many raw events the OS has delivered to this feed so far.
    pub fn raw_events(&self) -> u64 {
        self.inner.raw_events.load(Ordering::Relaxed)
    }

    /// How many subscriptions are alive: each wait holds one while it waits, so a test
    /// can tell that a wait has ended (a count, not a clock).
    pub fn subscriptions(&self) -> usize {
        self.inner.sender.receiver_count()
    }

    /// Events from now on, for `scope`. Subscribe *before* looking at the jobs, so a
    /// change between the look and the subscription is not missed. Watching all jobs
    /// creates the jobs folder if it does not exist yet.
    pub fn subscribe(&self, scope: Scope<'_>) -> Result<Subscription> {
        let receiver = self.inner.sender.subscribe();
        let mut state = self.lock();
        self.start_watcher(&mut state)?;
        let mut dirs = Vec::new();
        match scope {
            Scope::All => self.watch_all(&mut state)?,
            Scope::Jobs(ids) => {
                for id in ids {
                    let dir = self.inner.store.job_dir(id);
                    if let Err(err) = self.watch_job(&mut state, &dir) {
                        drop(state);
                        self.release(&dirs);
                        return Err(err);
                    }
                    dirs.push(dir);
                }
            }
        }
        Ok(Subscription { feed: self.clone(), dirs, receiver })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn start_watcher(&self, state: &mut State) -> Result<()> {
        if state.watcher.is_some() {
            return Ok(());
        }
        let (raw_sender, raw_receiver) = mpsc::channel();
        let raw_events = Arc::clone(&self.inner.raw_events);
        // The handler runs on notify's thread: it only counts the event and hands it on.
        let watcher = RecommendedWatcher::new(
            move |event| {
                raw_events.fetch_add(1, Ordering::Relaxed);
                let _ = raw_sender.send(event);
            },
            Config::default().with_event_kinds(WATCHED_KINDS),
        )
        .map_err(|err| watch_error(self.inner.store.jobs_dir(), err))?;
        let feed = Arc::downgrade(&self.inner);
        let jobs_dir = self.inner.store.jobs_dir().to_owned();
        let sender = self.inner.sender.clone();
        let fallback = self.inner.fallback;
        std::thread::Builder::new()
            .name("jobs-feed".into())
            .spawn(move || run(&feed, &raw_receiver, &jobs_dir, &sender, fallback))
            .map_err(|err| JobError::io("starting the change feed for", self.inner.store.jobs_dir(), err))?;
        state.watcher = Some(watcher);
        self.inner.watchers_made.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn watch_all(&self, state: &mut State) -> Result<()> {
        if state.all {
            return Ok(());
        }
        let jobs_dir = self.inner.store.jobs_dir().to_owned();
        JobStore::ensure_dir(&jobs_dir)?;
        let Some(watcher) = state.watcher.as_mut() else { return Ok(()) };
        // One recursive watch covers every job folder; the single ones go.
        for dir in state.per_job.keys() {
            let _ = watcher.unwatch(dir);
        }
        watcher.watch(&jobs_dir, RecursiveMode::Recursive).map_err(|err| watch_error(&jobs_dir, err))?;
        state.all = true;
        Ok(())
    }

    fn watch_job(&self, state: &mut State, dir: &Path) -> Result<()> {
        let count = state.per_job.get(dir).copied().unwrap_or(0);
        if count == 0
            && !state.all
            && let Some(watcher) = state.watcher.as_mut()
        {
            watcher.watch(dir, RecursiveMode::NonRecursive).map_err(|err| watch_error(dir, err))?;
        }
        state.per_job.insert(dir.to_owned(), count + 1);
        Ok(())
    }

    fn release(&self, dirs: &[PathBuf]) {
        let mut state = self.lock();
        for dir in dirs {
            let Some(count) = state.per_job.get_mut(dir) else { continue };
            *count -= 1;
            if *count == 0 {
                state.per_job.remove(dir);
                if !state.all
                    && let Some(watcher) = state.watcher.as_mut()
                {
                    let _ = watcher.unwatch(dir);
                }
            }
        }
    }

    /// Watches the jobs folder again after it was deleted and made again.
    fn rewatch_all(&self) -> bool {
        let mut state = self.lock();
        let jobs_dir = self.inner.store.jobs_dir().to_owned();
        if !state.all {
            return false;
        }
        let Some(watcher) = state.watcher.as_mut() else { return false };
        let _ = watcher.unwatch(&jobs_dir);
        watcher.watch(&jobs_dir, RecursiveMode::Recursive).is_ok()
    }
}

fn watch_error(path: &Path, err: notify::Error) -> JobError {
    let source = match err.kind {
        notify::ErrorKind::Io(io) => io,
        other => std::io::Error::other(format!("{other:?}")),
    };
    JobError::io("watching", path, source)
}

/// Events until dropped.
pub struct Subscription {
    feed: JobFeed,
    dirs: Vec<PathBuf>,
    receiver: broadcast::Receiver<FeedEvent>,
}

impl Subscription {
    /// The next event. Falling behind reads as [`FeedEvent::Rescan`].
    pub async fn recv(&mut self) -> FeedEvent {
        loop {
            match self.receiver.recv().await {
                Ok(event) => return event,
                Err(broadcast::error::RecvError::Lagged(_)) => return FeedEvent::Rescan,
                // The feed lives as long as this subscription holds it: never closed.
                Err(broadcast::error::RecvError::Closed) => std::future::pending::<()>().await,
            }
        }
    }

    /// An event already waiting, if any.
    pub fn try_recv(&mut self) -> Option<FeedEvent> {
        match self.receiver.try_recv() {
            Ok(event) => Some(event),
            Err(broadcast::error::TryRecvError::Lagged(_)) => Some(FeedEvent::Rescan),
            Err(_) => None,
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.feed.release(&self.dirs);
    }
}

/// The feed's thread: classifies raw events, collapses each burst per job, broadcasts.
fn run(
    feed: &Weak<Inner>,
    raw: &mpsc::Receiver<notify::Result<notify::Event>>,
    jobs_dir: &Path,
    sender: &broadcast::Sender<FeedEvent>,
    fallback: Option<Duration>,
) {
    let mut folder_missing = false;
    let mut next_fallback = fallback.map(|every| Instant::now() + every);
    loop {
        let wake = if folder_missing { Some(Instant::now() + MISSING_FOLDER_RETRY) } else { next_fallback };
        let first = match wake {
            Some(at) => raw.recv_timeout(at.saturating_duration_since(Instant::now())),
            None => raw.recv().map_err(|_| mpsc::RecvTimeoutError::Disconnected),
        };
        let mut burst = Burst::default();
        match first {
            Ok(event) => {
                burst.add(jobs_dir, event);
                while let Ok(event) = raw.try_recv() {
                    burst.add(jobs_dir, event);
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
            Err(mpsc::RecvTimeoutError::Timeout) if folder_missing => {
                if !jobs_dir.is_dir() {
                    continue;
                }
                let Some(inner) = feed.upgrade() else { return };
                if !(JobFeed { inner }).rewatch_all() {
                    continue;
                }
                tracing::info!("the jobs folder was made again; watching it");
                folder_missing = false;
                burst.rescan = true;
            }
            Err(mpsc::RecvTimeoutError::Timeout) => burst.rescan = true,
        }
        if burst.folder_gone {
            tracing::info!("the jobs folder went away");
            folder_missing = !jobs_dir.is_dir() || {
                let rewatched = feed.upgrade().is_some_and(|inner| JobFeed { inner }.rewatch_all());
                !rewatched
            };
            burst.rescan = true;
        }
        if burst.rescan {
            next_fallback = fallback.map(|every| Instant::now() + every);
        }
        for (id, changes) in burst.jobs {
            let _ = sender.send(FeedEvent::Job(id, changes));
        }
        if burst.rescan {
            let _ = sender.send(FeedEvent::Rescan);
        }
    }
}

/// Raw events collapsed per job, in order of first appearance.
#[derive(Default)]
struct Burst {
    jobs: Vec<(JobId, WhatChanged)>,
    rescan: bool,
    folder_gone: bool,
}

impl Burst {
    fn add(&mut self, jobs_dir: &Path, event: notify::Result<notify::Event>) {
        let event = match event {
            Ok(event) => event,
            Err(err) => {
                tracing::debug!(%err, "watch error; rescanning");
                self.rescan = true;
                return;
            }
        };
        if event.need_rescan() {
            self.rescan = true;
        }
        for path in &event.paths {
            match classify(jobs_dir, &event.kind, path) {
                Some(Classified::Job(id, changes)) => match self.jobs.iter_mut().find(|(known, _)| *known == id) {
                    Some((_, known)) => *known = known.merge(changes),
                    None => self.jobs.push((id, changes)),
                },
                Some(Classified::FolderGone) => self.folder_gone = true,
                None => {}
            }
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Classified {
    Job(JobId, WhatChanged),
    /// The jobs folder itself was deleted or moved away.
    FolderGone,
}

/// What one raw event on `path` means, if anything.
fn classify(jobs_dir: &Path, kind: &EventKind, path: &Path) -> Option<Classified> {
    // Looking is not changing: opens, reads, closes after reading, and attribute
    // changes (atime, chmod) are never news.
    let is_close_write = matches!(kind, EventKind::Access(AccessKind::Close(AccessMode::Write)));
    if matches!(kind, EventKind::Access(_)) && !is_close_write {
        return None;
    }
    if matches!(kind, EventKind::Modify(ModifyKind::Metadata(_))) {
        return None;
    }
    let relative = path.strip_prefix(jobs_dir).ok()?;
    let mut parts = relative.components().map(|part| match part {
        Component::Normal(name) => name.to_str(),
        _ => None,
    });
    let (folder, file, deeper) = (parts.next(), parts.next(), parts.next());
    if deeper.is_some() {
        return None;
    }
    let Some(folder) = folder else {
        let gone = matches!(kind, EventKind::Remove(_) | EventKind::Modify(ModifyKind::Name(RenameMode::From)));
        return gone.then_some(Classified::FolderGone);
    };
    // Hidden entries are jobs still being assembled and temporary files; the rename
    // that puts one in place is reported under its real name.
    let id = JobId::parse(folder?).ok()?;
    let changes = match file {
        None if is_close_write => return None,
        None => WhatChanged::FOLDER,
        Some(file) => match file? {
            META_FILE => WhatChanged::META,
            OUTPUT_FILE if is_close_write => WhatChanged::OUTPUT.merge(WhatChanged::OWNER),
            OUTPUT_FILE => WhatChanged::OUTPUT,
            LOCK_FILE if is_close_write || matches!(kind, EventKind::Remove(_)) => WhatChanged::OWNER,
            LOCK_FILE => return None,
            // The raw stream is read by nobody live; its transcript lands in the output.
            EVENTS_FILE => return None,
            name if name.starts_with('.') => return None,
            // A request or an answer changes what the job's record says (it waits, or not).
            name if crate::jobs::approval::files::is_approval_file(name) => WhatChanged::META,
            _ => WhatChanged::OTHER,
        },
    };
    Some(Classified::Job(id, changes))
}
