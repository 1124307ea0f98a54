//! The engine's side of approvals: answering, listing, and a wait that returns as soon
//! as a job asks.

use std::time::Duration;

use super::types::{Answered, ApprovalAnswer, ApprovalRequest};
use crate::jobs::error::{JobError, Result};
use crate::jobs::view::WaitView;
use crate::jobs::{Engine, Status};

impl Engine {
    /// Answers job `raw_id`'s request `number` (its oldest waiting one when `None`). Only
    /// a running job's requests can be answered; the first answer wins.
    pub fn approve(&self, raw_id: &str, number: Option<u32>, answer: ApprovalAnswer) -> Result<Answered> {
        let id = self.store.existing(raw_id)?;
        let meta = self.store.read_meta(&id)?;
        if meta.status != Status::Running {
            return Err(JobError::BadRequest(format!("job '{id}' is {}: nothing of it waits for approval", meta.status)));
        }
        super::answer(&self.store, &id, number, answer)
    }

    /// Every approval request of a job, with its answer, in the order asked.
    pub fn approvals(&self, raw_id: &str) -> Result<Vec<(ApprovalRequest, Option<ApprovalAnswer>)>> {
        let id = self.store.existing(raw_id)?;
        super::requests(&self.store, &id)
    }

    /// Waits until the job ends, or asks for approval (`poll.details.approval` then holds
    /// the request), or `timeout` passes (`timed_out`).
    pub async fn wait_or_ask(&self, raw_id: &str, timeout: Duration, tail_lines: usize) -> Result<WaitView> {
        let id = self.store.existing(raw_id)?;
        let woke = super::wait::first_ended_or_asking(&self.feed, std::slice::from_ref(&id), timeout).await?;
        let timed_out = woke.is_none();
        let meta = match woke {
            Some((_, meta)) => meta,
            None => self.store.read_meta(&id)?,
        };
        Ok(WaitView { poll: self.poll_view(&id, meta, tail_lines)?, timed_out })
    }
}
