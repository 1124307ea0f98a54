//! A job's record as its supervisor keeps it.
//!
//! While a job runs, its supervisor is the only legitimate writer of its `meta.json`,
//! and the file itself is untrusted: any process of the user (the job's own agent
//! included) can rewrite it. So the supervisor never reads its record back. It holds the
//! record in memory — the facts of its start request (prompt, cwd, agent, policy,
//! options, ids, command) and everything it learns — changes it there, and writes it
//! whole every time. Whatever was forged into the file is gone with the next write, and
//! its last write is its own result.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::JobStore;
use crate::jobs::error::Result;
use crate::jobs::record::id::JobId;
use crate::jobs::record::meta::JobMeta;

/// A job's meta held by its owner; clones share it (the supervisor's main task, its
/// stream pump and its git check write through one record).
#[derive(Clone, Debug)]
pub struct KeptMeta {
    store: JobStore,
    meta: Arc<Mutex<JobMeta>>,
}

impl KeptMeta {
    pub fn new(store: &JobStore, meta: JobMeta) -> Self {
        KeptMeta { store: store.clone(), meta: Arc::new(Mutex::new(meta)) }
    }

    fn lock(&self) -> MutexGuard<'_, JobMeta> {
        self.meta.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A copy of the record as it stands.
    pub fn snapshot(&self) -> JobMeta {
        self.lock().clone()
    }

    /// Reads something from the record.
    pub fn read<T>(&self, look: impl FnOnce(&JobMeta) -> T) -> T {
        look(&self.lock())
    }

    /// Changes the record and writes it whole, quickly (a crash may lose it: the pid, the
    /// activity). Writes are in the order of the changes.
    pub fn update(&self, change: impl FnOnce(&mut JobMeta)) -> Result<()> {
        let mut meta = self.lock();
        change(&mut meta);
        self.store.write_meta(&meta)
    }

    /// Changes the record and writes it whole into the space reserved for the job's last
    /// meta, synced: the result. `placed` runs as soon as readers can see it.
    pub fn finish(&self, change: impl FnOnce(&mut JobMeta), placed: impl FnOnce()) -> Result<()> {
        let mut meta = self.lock();
        change(&mut meta);
        self.store.write_final_meta_with(&meta, placed)
    }

    /// Writes the record again if the file says anything else, before the owner lets the
    /// job go: whatever was written into the folder since its last write does not
    /// outlive it. The jobs that continue this one (`follow_ups`) are the one thing others
    /// add, under the job's lock, once its result is recorded: they are kept.
    pub fn restore(&self) -> Result<bool> {
        let mut meta = self.lock();
        let id = JobId::parse(&meta.job_id)?;
        let on_disk = self.store.read_meta_raw(&id).ok();
        if let Some(on_disk) = &on_disk {
            for follow_up in &on_disk.details.follow_ups {
                if JobId::parse(follow_up).is_ok() && !meta.details.follow_ups.contains(follow_up) {
                    meta.details.follow_ups.push(follow_up.clone());
                }
            }
        }
        if on_disk.as_ref() == Some(&*meta) {
            return Ok(false);
        }
        self.store.write_final_meta(&meta)?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::record::meta::Status;

    fn running(store: &JobStore) -> JobMeta {
        let id = store.reserve().unwrap();
        let json = serde_json::json!({"job_id": id.as_str(), "status": "running", "prompt": "the prompt", "cwd": "/work",
            "approval_policy": "suggest", "pid": 42, "started_at": null, "finished_at": null, "exit_code": null, "future": 1});
        JobMeta::from_json(json.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn every_write_is_the_record_whole_whatever_the_file_says() {
        let home = tempfile::tempdir().unwrap();
        let store = JobStore::new(home.path());
        let kept = KeptMeta::new(&store, running(&store));
        let id = super::JobId::parse(&kept.snapshot().job_id).unwrap();
        kept.update(|_| {}).unwrap();
        let mut forged = store.read_meta_raw(&id).unwrap();
        forged.status = Status::Done;
        forged.prompt = "forged".into();
        forged.cwd = "/forged".into();
        store.write_meta(&forged).unwrap();

        kept.update(|meta| meta.details.activity = Some("reading".into())).unwrap();
        let written = store.read_meta_raw(&id).unwrap();
        assert_eq!((written.status, written.prompt.as_str(), written.cwd.as_str()), (Status::Running, "the prompt", "/work"));
        assert_eq!(written.details.activity.as_deref(), Some("reading"));
        assert_eq!(written.extra["future"], 1, "keys this version does not know are kept");
        assert!(!kept.restore().unwrap(), "nothing to restore");

        store.write_meta(&forged).unwrap();
        let mut told = false;
        kept.finish(
            |meta| {
                meta.status = Status::Error;
                meta.exit_code = Some(3);
            },
            || told = true,
        )
        .unwrap();
        assert!(told);
        let written = store.read_meta_raw(&id).unwrap();
        assert_eq!((written.status, written.exit_code, written.prompt.as_str()), (Status::Error, Some(3), "the prompt"));
    }

    #[test]
    fn restoring_keeps_follow_ups_and_nothing_else_written_since() {
        let home = tempfile::tempdir().unwrap();
        let store = JobStore::new(home.path());
        let kept = KeptMeta::new(&store, running(&store));
        let id = super::JobId::parse(&kept.snapshot().job_id).unwrap();
        kept.finish(|meta| meta.status = Status::Done, || {}).unwrap();
        let mut changed = store.read_meta_raw(&id).unwrap();
        changed.details.follow_ups.push("abcd1234".into());
        changed.details.follow_ups.push("../not-an-id".into());
        changed.exit_code = Some(0);
        changed.details.note = Some("forged".into());
        store.write_meta(&changed).unwrap();

        assert!(kept.restore().unwrap());
        let written = store.read_meta_raw(&id).unwrap();
        assert_eq!(written.details.follow_ups, ["abcd1234"]);
        assert_eq!((written.exit_code, written.details.note), (None, None));
        assert!(!kept.restore().unwrap(), "restored once");
    }
}
