//! Attempt sets in the table: the jobs of one best-of-N start (meta `attempt_group`,
//! `attempt`) are one row for the set with its attempts under it, in attempt order.
//!
//! The filters and the sort pick jobs as before; the set's row then stands where the
//! sort put the first of its attempts that passed, and only the attempts that passed
//! are listed under it (a filter that matches one attempt shows the set with that one).
//! A folded set shows its row alone. With no set among the rows nothing is built: the
//! table of 50,000 plain jobs costs what it did.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use crate::jobs::{JobId, JobRecord, Status};

use super::text;

#[cfg(test)]
mod tests;

/// The most attempts a set has (`--attempts` takes 2 to 8).
const MAX_ATTEMPTS: usize = 8;

/// What a row of the table is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RowKind {
    Job,
    /// The row of attempt set `n` (an index into [`AttemptRows::sets`]).
    Set(usize),
    /// An attempt listed under set `n`'s row.
    Member(usize),
}

/// One attempt set among the rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AttemptSet {
    /// The set's id (its first attempt's job id), as its jobs record it.
    pub(crate) id: String,
    /// Every attempt of the set that is listed, whether the filters pass it or not:
    /// indices into the jobs, by attempt number.
    pub(crate) members: Vec<usize>,
    /// Its attempts are hidden under its row.
    pub(crate) folded: bool,
}

/// The attempt sets the rows show, and what a person did with them.
#[derive(Clone, Debug, Default)]
pub(crate) struct AttemptRows {
    /// What each row of the view is; empty when no set is shown (every row a job).
    pub(crate) kinds: Vec<RowKind>,
    pub(crate) sets: Vec<AttemptSet>,
    /// Sets folded, by id (sets are unfolded unless folded here).
    pub(crate) folded: HashSet<String>,
    /// The selected row is this set's (the selected job is then its first attempt).
    pub(crate) selected: Option<String>,
    /// Jobs that passed the filters (folded attempts included; set rows not).
    pub(crate) jobs_shown: usize,
}

/// The attempt set a job belongs to.
pub(crate) fn set_of(record: &JobRecord) -> Option<&str> {
    record.meta.as_ref().ok()?.details.attempt_group.as_deref()
}

/// Its attempt number (none last).
pub(crate) fn attempt_of(record: &JobRecord) -> u32 {
    record.meta.as_ref().ok().and_then(|meta| meta.details.attempt).unwrap_or(u32::MAX)
}

impl AttemptRows {
    pub(crate) fn kind(&self, row: usize) -> RowKind {
        self.kinds.get(row).copied().unwrap_or(RowKind::Job)
    }

    /// The set whose row is selected.
    pub(crate) fn selected_set(&self) -> Option<&AttemptSet> {
        let wanted = self.selected.as_ref()?;
        self.sets.iter().find(|set| &set.id == wanted)
    }

    /// The set whose row `row` is.
    pub(crate) fn set_at(&self, row: usize) -> Option<&AttemptSet> {
        match self.kind(row) {
            RowKind::Set(set) => self.sets.get(set),
            _ => None,
        }
    }

    /// The selected row: the set's row while a set is selected, else the row of job
    /// `id` (never a set's row, which shares its first attempt's job).
    pub(crate) fn row_of(&self, view: &[usize], jobs: &[JobRecord], id: &JobId) -> Option<usize> {
        match &self.selected {
            Some(set) => (0..view.len()).find(|&row| self.set_at(row).is_some_and(|found| &found.id == set)),
            None => view.iter().enumerate().position(|(row, &index)| &jobs[index].id == id && !matches!(self.kind(row), RowKind::Set(_))),
        }
    }

    /// The rows for `view` — the jobs that pass the filters, in the sort's order —
    /// with each attempt set's row where its first attempt stands, its attempts that
    /// passed under it (unless folded), in attempt order; `kinds` says which is which.
    pub(crate) fn arrange(&mut self, jobs: &[JobRecord], view: Vec<usize>) -> Vec<usize> {
        self.sets.clear();
        self.kinds.clear();
        self.jobs_shown = view.len();
        if !view.iter().any(|&index| set_of(&jobs[index]).is_some()) {
            return view;
        }
        // Every attempt of each set; then, by job, whether it passed and whether its set
        // is placed (flags, not hashing: a set's other attempts are skipped cheaply).
        let mut members: HashMap<&str, Vec<usize>> = HashMap::new();
        for (index, record) in jobs.iter().enumerate() {
            if let Some(set) = set_of(record) {
                members.entry(set).or_insert_with(|| Vec::with_capacity(MAX_ATTEMPTS)).push(index);
            }
        }
        let mut passed = vec![false; jobs.len()];
        for &index in &view {
            passed[index] = true;
        }
        let mut placed = vec![false; jobs.len()];
        let mut rows = Vec::with_capacity(view.len() + members.len());
        let mut kinds = Vec::with_capacity(view.len() + members.len());
        for index in view {
            let Some(set) = set_of(&jobs[index]) else {
                rows.push(index);
                kinds.push(RowKind::Job);
                continue;
            };
            // Placed already with its first attempt that passed.
            if placed[index] {
                continue;
            }
            let Some(mut all) = members.remove(set) else { continue };
            for &member in &all {
                placed[member] = true;
            }
            all.sort_by(|&a, &b| (attempt_of(&jobs[a]), jobs[a].id.as_str()).cmp(&(attempt_of(&jobs[b]), jobs[b].id.as_str())));
            let number = self.sets.len();
            let folded = self.folded.contains(set);
            rows.push(all[0]);
            kinds.push(RowKind::Set(number));
            if !folded {
                for &member in all.iter().filter(|&&member| passed[member]) {
                    rows.push(member);
                    kinds.push(RowKind::Member(number));
                }
            }
            self.sets.push(AttemptSet { id: set.to_owned(), members: all, folded });
        }
        self.kinds = kinds;
        rows
    }
}

/// What a set's row says of its attempts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct SetSummary {
    pub(crate) attempts: usize,
    pub(crate) done: usize,
    /// Pending, running or paused.
    pub(crate) running: usize,
    /// Ended in error or cancelled, or corrupt.
    pub(crate) failed: usize,
    /// The set as one status: running while any attempt runs (pending, paused), else
    /// done when one is, else error, else cancelled; none when every record is corrupt.
    pub(crate) status: Option<Status>,
    /// The attempt applied to its folder, if one was.
    pub(crate) applied: Option<u32>,
    /// The best-looking attempt: done, with a change that can be applied, the smallest
    /// such (the least to review); the lower attempt on a tie. A hint, not a verdict.
    pub(crate) best: Option<u32>,
    /// Tokens of every attempt.
    pub(crate) tokens: u64,
    /// The longest any attempt ran (or runs), in seconds.
    pub(crate) longest: i64,
}

/// What set `set`'s row says, from its attempts' records.
pub(crate) fn summary(set: &AttemptSet, jobs: &[JobRecord], now: DateTime<Utc>) -> SetSummary {
    let mut summary = SetSummary { attempts: set.members.len(), ..SetSummary::default() };
    let mut statuses = Vec::with_capacity(set.members.len());
    let mut best: Option<(u64, u32)> = None;
    for &index in &set.members {
        let record = &jobs[index];
        let Ok(meta) = &record.meta else {
            summary.failed += 1;
            continue;
        };
        let number = attempt_of(record);
        statuses.push(meta.status);
        match meta.status {
            Status::Done => summary.done += 1,
            Status::Error | Status::Cancelled => summary.failed += 1,
            Status::Pending | Status::Running | Status::Paused => summary.running += 1,
        }
        if meta.details.applied_at.is_some() {
            summary.applied = Some(number);
        }
        summary.tokens += meta.details.usage.map_or(0, |usage| usage.total());
        summary.longest = summary.longest.max(text::run_seconds(meta, now));
        let change = meta.details.change.as_ref().filter(|change| change.files > 0 && !change.patch_dropped);
        if let (Status::Done, Some(change)) = (meta.status, change) {
            let size = (change.insertions + change.deletions, number);
            if best.is_none_or(|known| size < known) {
                best = Some(size);
            }
        }
    }
    summary.best = best.map(|(_, number)| number);
    summary.status = [Status::Running, Status::Paused, Status::Pending, Status::Done, Status::Error, Status::Cancelled]
        .into_iter()
        .find(|wanted| statuses.contains(wanted));
    summary
}
