//! The jobs directory: where each job's folder is, listing them, reading and writing
//! their records, removing one. A record is believed only as far as the job's owner
//! bears it out: [`JobStore::read_meta`] is in [`settle`]. Beside it: making a job's
//! folder (`create`), reading its other files (`files`), removing finished jobs
//! ([`gc`]), and the record as its supervisor keeps it ([`kept`]).

mod create;
mod files;
pub mod gc;
pub mod kept;
pub mod settle;
#[cfg(test)]
mod tests;

use std::fs::{self, DirBuilder};
use std::io;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use crate::atomic::Durability;
use crate::jobs::error::{JobError, Result};
use crate::jobs::process::owner::{LOCK_FILE, OwnerLock, Probe};
use crate::jobs::record::id::JobId;
use crate::jobs::record::meta::JobMeta;

pub const META_FILE: &str = "meta.json";
pub const OUTPUT_FILE: &str = "output.txt";
pub const LAST_MESSAGE_FILE: &str = "last_message.txt";
pub const CANCEL_FILE: &str = "cancel_request.json";
/// The file a long prompt is kept in, in the job's folder.
pub const PROMPT_FILE: &str = "prompt.txt";
/// The agent's structured stream, byte for byte as it wrote it.
pub const EVENTS_FILE: &str = "events.jsonl";
/// Hidden folders in `jobs/` where new jobs are assembled before they appear.
pub const STAGING_PREFIX: &str = ".new-";
/// Disk space held for the job's final meta.json (see `JobMeta::reserve_space`).
pub const RESERVE_FILE: &str = ".meta.json.reserve";

/// The most of `last_message.txt` that is read back.
pub const MAX_LAST_MESSAGE_BYTES: u64 = 64 * 1024;

/// One folder in the jobs directory, as found by a listing.
#[derive(Clone, Debug)]
pub struct JobRecord {
    pub id: JobId,
    /// When the folder was created (its birth time where the file system keeps one).
    pub created: SystemTime,
    /// The job's meta, or why it could not be read.
    pub meta: std::result::Result<JobMeta, String>,
}

/// Device, inode and birth time of a folder: see [`JobStore::jobs_dir_identity`].
pub type FolderIdentity = (u64, u64, Option<SystemTime>);

/// A folder's birth time where the file system keeps one, else its last change.
fn created_time(meta: &fs::Metadata) -> SystemTime {
    meta.created().or_else(|_| meta.modified()).unwrap_or(SystemTime::UNIX_EPOCH)
}

/// How often this store touched the disk, for tests that prove an idle process reads
/// nothing (counts, not clocks).
#[derive(Debug, Default)]
pub struct StoreCounters {
    meta_reads: AtomicU64,
    listings: AtomicU64,
}

impl StoreCounters {
    /// `meta.json` files read.
    pub fn meta_reads(&self) -> u64 {
        self.meta_reads.load(Ordering::Relaxed)
    }

    /// Listings of the jobs folder.
    pub fn listings(&self) -> u64 {
        self.listings.load(Ordering::Relaxed)
    }
}

#[derive(Clone, Debug)]
pub struct JobStore {
    home: PathBuf,
    jobs: PathBuf,
    counters: Arc<StoreCounters>,
}

impl JobStore {
    pub fn new(home: impl Into<PathBuf>) -> Self {
        let home = home.into();
        let jobs = home.join("jobs");
        JobStore { home, jobs, counters: Arc::default() }
    }

    /// Reads and listings done through this store and its clones.
    pub fn counters(&self) -> &StoreCounters {
        &self.counters
    }

    /// `$CODEX_ASYNC_HOME`, or `~/.codex-async`.
    pub fn from_env() -> Result<Self> {
        let home = match std::env::var_os("CODEX_ASYNC_HOME").filter(|home| !home.is_empty()) {
            Some(home) => PathBuf::from(home),
            None => {
                let user_home = std::env::var_os("HOME").filter(|home| !home.is_empty()).ok_or_else(|| {
                    JobError::io("finding the home folder", "$HOME", io::Error::other("HOME is not set; set CODEX_ASYNC_HOME"))
                })?;
                Path::new(&user_home).join(".codex-async")
            }
        };
        // Not made here: a process that only reads leaves no folder behind.
        match fs::metadata(&home) {
            Ok(meta) if !meta.is_dir() => {
                Err(JobError::BadRequest(format!("{} is a file, not a folder: point CODEX_ASYNC_HOME at a folder", home.display())))
            }
            _ => Ok(Self::new(home)),
        }
    }

    pub fn home(&self) -> &Path {
        &self.home
    }

    pub fn jobs_dir(&self) -> &Path {
        &self.jobs
    }

    pub fn logs_dir(&self) -> PathBuf {
        self.home.join("logs")
    }

    pub fn servers_dir(&self) -> PathBuf {
        self.home.join("servers")
    }

    pub fn job_dir(&self, id: &JobId) -> PathBuf {
        self.jobs.join(id.as_str())
    }

    pub fn meta_path(&self, id: &JobId) -> PathBuf {
        self.job_dir(id).join(META_FILE)
    }

    pub fn output_path(&self, id: &JobId) -> PathBuf {
        self.job_dir(id).join(OUTPUT_FILE)
    }

    pub fn last_message_path(&self, id: &JobId) -> PathBuf {
        self.job_dir(id).join(LAST_MESSAGE_FILE)
    }

    pub fn events_path(&self, id: &JobId) -> PathBuf {
        self.job_dir(id).join(EVENTS_FILE)
    }

    pub fn reserve_path(&self, id: &JobId) -> PathBuf {
        self.job_dir(id).join(RESERVE_FILE)
    }

    pub fn cancel_path(&self, id: &JobId) -> PathBuf {
        self.job_dir(id).join(CANCEL_FILE)
    }

    pub fn lock_path(&self, id: &JobId) -> PathBuf {
        self.job_dir(id).join(LOCK_FILE)
    }

    /// Creates a private folder (0700) and its parents.
    pub fn ensure_dir(path: &Path) -> Result<()> {
        DirBuilder::new().recursive(true).mode(0o700).create(path).map_err(|err| JobError::io("creating folder", path, err))
    }

    /// The job `raw_id` names — a whole id, or the start of exactly one — checked to be
    /// a real job folder (not a symlink leading elsewhere).
    pub fn existing(&self, raw_id: &str) -> Result<JobId> {
        let id = JobId::parse(raw_id)?;
        match fs::symlink_metadata(self.job_dir(&id)) {
            Ok(meta) if meta.is_dir() => Ok(id),
            Ok(_) => Err(JobError::Corrupt { id: id.to_string(), reason: "the job folder is not a folder (a symlink?)".into() }),
            Err(err) if err.kind() == io::ErrorKind::NotFound => self.by_prefix(&id),
            Err(err) => Err(JobError::io("reading", self.job_dir(&id), err)),
        }
    }

    /// The one job whose id starts with `prefix`.
    fn by_prefix(&self, prefix: &JobId) -> Result<JobId> {
        let entries = match fs::read_dir(&self.jobs) {
            Ok(entries) => entries,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Err(JobError::NotFound(prefix.to_string())),
            Err(err) => return Err(JobError::io("listing", &self.jobs, err)),
        };
        let mut matches: Vec<String> = entries
            .flatten()
            .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_dir()))
            .filter_map(|entry| entry.file_name().into_string().ok())
            .filter(|name| name.starts_with(prefix.as_str()) && !name.starts_with('.'))
            .collect();
        matches.sort();
        match matches.len() {
            0 => Err(JobError::NotFound(prefix.to_string())),
            1 => JobId::parse(&matches[0]),
            count => Err(JobError::Ambiguous { prefix: prefix.to_string(), count, matches: matches.into_iter().take(10).collect() }),
        }
    }

    /// The meta as written, without any liveness check.
    pub fn read_meta_raw(&self, id: &JobId) -> Result<JobMeta> {
        self.counters.meta_reads.fetch_add(1, Ordering::Relaxed);
        JobMeta::read(id.as_str(), &self.meta_path(id))
    }

    /// Replaces a job's meta, atomically but unsynced: for updates that a crash may lose
    /// (the agent's pid, its activity). Only the job's owner calls this.
    pub fn write_meta(&self, meta: &JobMeta) -> Result<()> {
        let id = JobId::parse(&meta.job_id)?;
        meta.write_to(&self.meta_path(&id), Durability::Quick)
    }

    /// Writes a job's last meta into the space reserved at its start, so it lands even
    /// on a full disk; synced. Only the job's owner calls this.
    pub fn write_final_meta(&self, meta: &JobMeta) -> Result<()> {
        self.write_final_meta_with(meta, || {})
    }

    /// As [`JobStore::write_final_meta`]; `placed` runs as soon as readers can see it,
    /// before it is synced.
    pub fn write_final_meta_with(&self, meta: &JobMeta, placed: impl FnOnce()) -> Result<()> {
        let id = JobId::parse(&meta.job_id)?;
        meta.write_reserved(&self.reserve_path(&id), &self.meta_path(&id), placed)
    }

    /// Job folders, newest first. Only folder metadata is read here; the metas of
    /// a page are read by [`JobStore::list`].
    pub fn job_folders(&self) -> Result<Vec<(JobId, SystemTime)>> {
        self.counters.listings.fetch_add(1, Ordering::Relaxed);
        let entries = match fs::read_dir(&self.jobs) {
            Ok(entries) => entries,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(err) => return Err(JobError::io("listing", &self.jobs, err)),
        };
        let mut folders: Vec<(JobId, SystemTime)> = entries
            .filter_map(|entry| {
                let entry = entry.ok()?;
                let id = JobId::parse(entry.file_name().to_str()?).ok()?;
                let meta = entry.metadata().ok()?;
                meta.is_dir().then(|| (id, created_time(&meta)))
            })
            .collect();
        folders.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Ok(folders)
    }

    /// Job folders whose entries changed at or after `since` (a replaced meta.json
    /// changes its folder's modification time): where endings since then are.
    pub fn folders_touched_since(&self, since: SystemTime) -> Result<Vec<JobId>> {
        self.counters.listings.fetch_add(1, Ordering::Relaxed);
        let entries = match fs::read_dir(&self.jobs) {
            Ok(entries) => entries,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(err) => return Err(JobError::io("listing", &self.jobs, err)),
        };
        Ok(entries
            .filter_map(|entry| {
                let entry = entry.ok()?;
                let id = JobId::parse(entry.file_name().to_str()?).ok()?;
                let meta = entry.metadata().ok()?;
                (meta.is_dir() && meta.modified().ok()? >= since).then_some(id)
            })
            .collect())
    }

    /// Whether any job is pending or running (newest first, stopping at the first).
    pub fn any_running(&self) -> Result<bool> {
        Ok(self.job_folders()?.into_iter().any(|(id, _)| self.read_meta(&id).is_ok_and(|meta| !meta.status.is_finished())))
    }

    /// When a job's folder was made, if it is a real folder (a symlink is not followed).
    pub fn folder_created(&self, id: &JobId) -> Option<SystemTime> {
        fs::symlink_metadata(self.job_dir(id)).ok().filter(fs::Metadata::is_dir).map(|meta| created_time(&meta))
    }

    /// Which jobs folder is on disk now, `None` if there is none. A watch dies with
    /// its folder, so watchers compare this to know when to watch again; a folder
    /// deleted and made again may get its inode back, and its birth time tells them apart.
    pub fn jobs_dir_identity(&self) -> Option<FolderIdentity> {
        use std::os::unix::fs::MetadataExt;
        fs::metadata(&self.jobs).ok().filter(fs::Metadata::is_dir).map(|meta| (meta.dev(), meta.ino(), meta.created().ok()))
    }

    /// The newest `limit` jobs (all with `None`), corrupt ones included as such.
    pub fn list(&self, limit: Option<usize>) -> Result<Vec<JobRecord>> {
        let folders = self.job_folders()?;
        let take = limit.unwrap_or(usize::MAX);
        Ok(folders.into_iter().take(take).map(|(id, created)| self.record(id, created)).collect())
    }

    pub fn record(&self, id: JobId, created: SystemTime) -> JobRecord {
        let meta = self.read_meta(&id).map_err(|err| match err {
            JobError::Corrupt { reason, .. } => reason,
            other => other.to_string(),
        });
        JobRecord { id, created, meta }
    }

    /// Removes a finished job's folder. A running job must be cancelled first; a job
    /// whose lock is held (its supervisor runs it or still ends what it left, whatever
    /// its meta says) is not removed. A supervisor records the result before it ends
    /// what the agent left, so a `wait` returns while it still holds the job: a finished
    /// job is given [`LET_GO_WAIT`] to be let go. The lock is held while the folder goes,
    /// so nobody takes the job meanwhile.
    pub fn delete(&self, raw_id: &str) -> Result<()> {
        let id = self.existing(raw_id)?;
        let still_running = |status: String| JobError::StillRunning { id: id.to_string(), status };
        // Judged first: a job whose supervisor is gone is settled on the way.
        if let Ok(meta) = self.read_meta(&id)
            && !meta.status.is_finished()
        {
            return Err(still_running(meta.status.to_string()));
        }
        let dir = self.job_dir(&id);
        let _held = match probe_until_let_go(&dir) {
            Ok(Probe::Held) => return Err(still_running("running (its supervisor still holds it)".to_owned())),
            Ok(Probe::Taken(lock)) => {
                // Read again under the lock: what was settled is still finished.
                if let Ok(meta) = self.read_meta_raw(&id)
                    && !meta.status.is_finished()
                {
                    return Err(still_running(meta.status.to_string()));
                }
                Some(lock)
            }
            Ok(Probe::NoLockFile) => None,
            Err(err) => return Err(JobError::io("locking", self.lock_path(&id), err)),
        };
        fs::remove_dir_all(&dir).map_err(|err| JobError::io("deleting", dir, err))
    }
}

/// How long deleting a finished job waits for its supervisor to let it go: it ends what
/// the agent left within the cancel grace period (5 s by default) and a little more.
pub const LET_GO_WAIT: Duration = Duration::from_secs(10);

/// The job's lock, taken once its holder lets go (within [`LET_GO_WAIT`]), or `Held`.
/// Only a finished job is waited for, and only by a command that asked to delete it.
fn probe_until_let_go(dir: &Path) -> io::Result<Probe> {
    let deadline = Instant::now() + LET_GO_WAIT;
    loop {
        match OwnerLock::probe(dir)? {
            Probe::Held if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            probe => return Ok(probe),
        }
    }
}
