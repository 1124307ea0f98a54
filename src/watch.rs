//! `notify` turned into "job X changed" events.
//!
//! Raw file-system events are noisy (a meta rewrite is a create, a write and a rename
//! of a temporary file); consumers only need to know which job to look at again.

use std::path::{Path, PathBuf};

use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::mpsc;

use crate::jobs::JobId;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum JobEvent {
    /// Something in this job's folder changed.
    Changed(JobId),
    /// Something happened that is not about one job (the jobs folder itself changed,
    /// or events were lost): look at everything again.
    Rescan,
}

/// Keeps the OS watch alive; dropping it stops the events.
pub struct JobsWatcher {
    _watcher: RecommendedWatcher,
}

/// Watches `jobs_dir` recursively: every job, those other processes write included.
pub fn watch_jobs(jobs_dir: &Path) -> notify::Result<(JobsWatcher, mpsc::UnboundedReceiver<JobEvent>)> {
    watch(jobs_dir, &[jobs_dir.to_owned()], RecursiveMode::Recursive)
}

/// Watches some jobs' folders (not their parents): cheap enough to set up per request.
pub fn watch_many(jobs_dir: &Path, job_dirs: &[PathBuf]) -> notify::Result<(JobsWatcher, mpsc::UnboundedReceiver<JobEvent>)> {
    watch(jobs_dir, job_dirs, RecursiveMode::NonRecursive)
}

fn watch(jobs_dir: &Path, targets: &[PathBuf], mode: RecursiveMode) -> notify::Result<(JobsWatcher, mpsc::UnboundedReceiver<JobEvent>)> {
    let (sender, receiver) = mpsc::unbounded_channel();
    let root = jobs_dir.to_owned();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        for job_event in classify(&root, event) {
            let _ = sender.send(job_event);
        }
    })?;
    for target in targets {
        watcher.watch(target, mode)?;
    }
    Ok((JobsWatcher { _watcher: watcher }, receiver))
}

/// Which jobs an event is about.
pub fn classify(jobs_dir: &Path, event: notify::Result<notify::Event>) -> Vec<JobEvent> {
    let Ok(event) = event else { return vec![JobEvent::Rescan] };
    if event.need_rescan() || event.paths.is_empty() {
        return vec![JobEvent::Rescan];
    }
    let mut found: Vec<JobEvent> = Vec::new();
    for path in &event.paths {
        let first =
            path.strip_prefix(jobs_dir).ok().and_then(|relative| relative.components().next()).and_then(|first| first.as_os_str().to_str());
        // Hidden entries are jobs still being assembled (see `JobStore::create`); the
        // rename that puts one in place is reported under its real name.
        if first.is_some_and(|name| name.starts_with('.')) {
            continue;
        }
        let job_event = first.and_then(|name| JobId::parse(name).ok()).map_or(JobEvent::Rescan, JobEvent::Changed);
        if !found.contains(&job_event) {
            found.push(job_event);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(paths: &[&str]) -> notify::Result<notify::Event> {
        let mut event = notify::Event::new(notify::EventKind::Any);
        for path in paths {
            event = event.add_path(PathBuf::from(path));
        }
        Ok(event)
    }

    #[test]
    fn events_collapse_to_jobs() {
        let root = Path::new("/h/jobs");
        let id = JobId::parse("abc12345").unwrap();
        assert_eq!(
            classify(root, event(&["/h/jobs/abc12345/meta.json", "/h/jobs/abc12345/.meta.json.1.tmp"])),
            vec![JobEvent::Changed(id)]
        );
        assert_eq!(classify(root, event(&["/h/jobs"])), vec![JobEvent::Rescan]);
        assert_eq!(classify(root, event(&["/h/jobs/bad.name/x"])), vec![JobEvent::Rescan]);
        assert_eq!(classify(root, event(&["/h/jobs/.new-0123/meta.json"])), vec![], "jobs being assembled are not news");
        assert_eq!(classify(root, Err(notify::Error::generic("overflow"))), vec![JobEvent::Rescan]);
    }
}
