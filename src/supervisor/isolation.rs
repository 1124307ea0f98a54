//! A job that runs in a worktree: the worktree is made (or a follow-up's checked)
//! before the job exists, and the agent runs in it; the record keeps the folder asked
//! for as its `cwd` and names the worktree, its branch and its base.

use crate::jobs::store::kept::KeptMeta;
use crate::jobs::worktree::{Placed, place};
use crate::jobs::{JobId, JobMeta, JobStore, StartRequest};

/// Places job `id` as its request asks: the agent then runs in the worktree
/// (`start.cwd` becomes the folder there). `None` for a job that runs in place.
pub async fn place_job(id: &JobId, start: &mut StartRequest) -> Result<Option<Placed>, String> {
    let Some(isolation) = &start.isolation else { return Ok(None) };
    let placed = place(isolation, &start.cwd, id.as_str()).await?;
    start.cwd = placed.run_folder.clone();
    Ok(Some(placed))
}

/// A pending job's record once it is placed: where it runs, and the agent's command
/// line in that folder.
pub fn marked(store: &JobStore, id: &JobId, record: &KeptMeta, start: &StartRequest, placed: Option<&Placed>) -> JobMeta {
    let Some(placed) = placed else { return record.snapshot() };
    let argv: Vec<String> = start.command(store, id).argv.iter().map(|arg| arg.to_string_lossy().into_owned()).collect();
    if let Err(err) = record.update(|meta| {
        placed.mark(meta);
        meta.details.command = Some(argv);
    }) {
        tracing::warn!(job = %id, %err, "could not record the job's worktree");
    }
    record.snapshot()
}
