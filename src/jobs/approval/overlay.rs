//! A running `ask` job's record as readers see it (the store applies this to every
//! read): its oldest waiting request, and the activity that says so.

use std::path::Path;

use super::files;
use super::types::WAITING_ACTIVITY;
use crate::jobs::agent::ApprovalPolicy;
use crate::jobs::record::id::JobId;
use crate::jobs::record::meta::{JobMeta, Status};

/// A running `ask` job's record as readers see it: its oldest waiting request, and the
/// activity that says so. Nothing of this is stored in meta.json (the supervisor owns
/// that file); it is read from the request files each time.
pub fn overlay(dir: &Path, id: &JobId, mut meta: JobMeta) -> JobMeta {
    if meta.status != Status::Running || meta.approval_policy != ApprovalPolicy::Ask.as_str() {
        return meta;
    }
    match files::pending(dir, id) {
        Ok(Some(waiting)) => {
            meta.details.activity = Some(format!("{WAITING_ACTIVITY}: {}", waiting.request.summary()));
            meta.details.approval = Some(waiting);
        }
        Ok(None) => {}
        Err(err) => tracing::debug!(%err, job = %id, "reading approval requests"),
    }
    meta
}
