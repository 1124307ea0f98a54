//! The rows built for attempt sets: where a set stands, what is under it, folded or
//! filtered, which row is selected, and what the set's row sums up.

use std::time::{Duration, SystemTime};

use chrono::TimeZone;

use super::*;
use crate::jobs::JobMeta;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).single().unwrap()
}

/// A job that started `ago` seconds before [`now`] (ran `ran` seconds when finished),
/// attempt `n` of `set` when given.
fn record(raw: &str, status: &str, ago: i64, ran: i64, set: Option<(&str, u32)>) -> JobRecord {
    let started = now() - chrono::Duration::seconds(ago);
    let finished = (status != "running").then(|| (started + chrono::Duration::seconds(ran)).to_rfc3339());
    let mut json = serde_json::json!({
        "job_id": raw, "status": status, "prompt": "p", "cwd": "/r", "approval_policy": "auto-edit",
        "pid": 1, "started_at": started.to_rfc3339(), "finished_at": finished, "exit_code": null,
    });
    if let Some((set, number)) = set {
        json["attempt_group"] = set.into();
        json["attempt"] = number.into();
    }
    let meta = JobMeta::from_json(json.to_string().as_bytes()).unwrap();
    let created = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 - ago as u64);
    JobRecord { id: JobId::parse(raw).unwrap(), created, meta: Ok(meta) }
}

fn with_change(mut record: JobRecord, insertions: u64, deletions: u64) -> JobRecord {
    if let Ok(meta) = &mut record.meta {
        meta.details.change = Some(crate::jobs::ChangeStat { files: 1, insertions, deletions, ..Default::default() });
        meta.details.usage = Some(crate::jobs::Usage { input_tokens: 1000, output_tokens: 500, ..Default::default() });
    }
    record
}

const SET: &str = "a1a1a1a1";

/// Newest first, as the loader lists them: a plain job, attempts 3, 2, 1, a plain job.
fn jobs() -> Vec<JobRecord> {
    vec![
        record("f0f0f0f0", "done", 10, 5, None),
        record("c3c3c3c3", "running", 100, 0, Some((SET, 3))),
        with_change(record("b2b2b2b2", "done", 101, 40, Some((SET, 2))), 3, 1),
        with_change(record(SET, "done", 102, 60, Some((SET, 1))), 30, 9),
        record("e0e0e0e0", "error", 500, 5, None),
    ]
}

fn ids(jobs: &[JobRecord], rows: &[usize]) -> Vec<String> {
    rows.iter().map(|&index| jobs[index].id.to_string()).collect()
}

#[test]
fn without_sets_the_rows_are_the_view_and_nothing_is_built() {
    let jobs = vec![record("f0f0f0f0", "done", 10, 5, None), record("e0e0e0e0", "error", 500, 5, None)];
    let mut rows = AttemptRows::default();
    assert_eq!(rows.arrange(&jobs, vec![1, 0]), [1, 0]);
    assert!(rows.kinds.is_empty() && rows.sets.is_empty());
    assert_eq!((rows.kind(0), rows.jobs_shown), (RowKind::Job, 2));
}

#[test]
fn a_set_stands_where_its_first_attempt_did_with_every_attempt_under_it_in_order() {
    let jobs = jobs();
    let mut rows = AttemptRows::default();
    let arranged = rows.arrange(&jobs, vec![0, 1, 2, 3, 4]);
    assert_eq!(ids(&jobs, &arranged), ["f0f0f0f0", SET, SET, "b2b2b2b2", "c3c3c3c3", "e0e0e0e0"]);
    assert_eq!(rows.kinds, [RowKind::Job, RowKind::Set(0), RowKind::Member(0), RowKind::Member(0), RowKind::Member(0), RowKind::Job]);
    assert_eq!(rows.sets[0].id, SET);
    assert_eq!(rows.sets[0].members, [3, 2, 1], "by attempt number");
    assert_eq!(rows.jobs_shown, 5, "the set's row is not a job");
}

#[test]
fn another_sort_moves_the_set_whole_to_where_its_first_placed_attempt_is() {
    let jobs = jobs();
    let mut rows = AttemptRows::default();
    // A sort that put the error first, then attempt 2, the plain job, 3 and 1.
    let arranged = rows.arrange(&jobs, vec![4, 2, 0, 1, 3]);
    assert_eq!(ids(&jobs, &arranged), ["e0e0e0e0", SET, SET, "b2b2b2b2", "c3c3c3c3", "f0f0f0f0"]);
    assert_eq!((rows.kind(1), rows.kind(3), rows.kind(5)), (RowKind::Set(0), RowKind::Member(0), RowKind::Job));
}

#[test]
fn a_filter_that_passes_one_attempt_shows_the_set_with_that_one() {
    let jobs = jobs();
    let mut rows = AttemptRows::default();
    let arranged = rows.arrange(&jobs, vec![0, 2]);
    assert_eq!(ids(&jobs, &arranged), ["f0f0f0f0", SET, "b2b2b2b2"]);
    assert_eq!(rows.kinds, [RowKind::Job, RowKind::Set(0), RowKind::Member(0)]);
    assert_eq!(rows.sets[0].members.len(), 3, "the set still counts all of its attempts");
}

#[test]
fn a_folded_set_is_its_row_alone() {
    let jobs = jobs();
    let mut rows = AttemptRows::default();
    rows.folded.insert(SET.to_owned());
    let arranged = rows.arrange(&jobs, vec![0, 1, 2, 3, 4]);
    assert_eq!(ids(&jobs, &arranged), ["f0f0f0f0", SET, "e0e0e0e0"]);
    assert!(rows.sets[0].folded);
    assert_eq!(rows.jobs_shown, 5);
}

#[test]
fn the_selected_row_is_the_set_s_or_the_attempt_s_never_mixed_up() {
    let jobs = jobs();
    let mut rows = AttemptRows::default();
    let view = rows.arrange(&jobs, vec![0, 1, 2, 3, 4]);
    let first = JobId::parse(SET).unwrap();
    assert_eq!(rows.row_of(&view, &jobs, &first), Some(2), "attempt 1's own row, not the set's");
    rows.selected = Some(SET.to_owned());
    assert_eq!(rows.row_of(&view, &jobs, &first), Some(1));
    rows.selected = Some("gone".to_owned());
    assert_eq!(rows.row_of(&view, &jobs, &first), None);
}

#[test]
fn the_summary_counts_sums_and_picks_the_smallest_done_change() {
    let jobs = jobs();
    let mut rows = AttemptRows::default();
    rows.arrange(&jobs, vec![0, 1, 2, 3, 4]);
    let summary = summary(&rows.sets[0], &jobs, now());
    assert_eq!((summary.attempts, summary.done, summary.running, summary.failed), (3, 2, 1, 0));
    assert_eq!(summary.status, Some(Status::Running), "a set runs while any attempt does");
    assert_eq!(summary.best, Some(2), "+3 −1 is less to review than +30 −9");
    assert_eq!(summary.applied, None);
    assert_eq!(summary.tokens, 3000);
    assert_eq!(summary.longest, 100, "attempt 3 has run 100 s so far");
    let mut applied = jobs.clone();
    if let Ok(meta) = &mut applied[3].meta {
        meta.details.applied_at = meta.finished_at;
    }
    if let Ok(meta) = &mut applied[1].meta {
        meta.status = Status::Cancelled;
    }
    let summary = summary_of(&applied);
    assert_eq!((summary.applied, summary.status, summary.failed), (Some(1), Some(Status::Done), 1));
}

fn summary_of(jobs: &[JobRecord]) -> SetSummary {
    let mut rows = AttemptRows::default();
    rows.arrange(jobs, (0..jobs.len()).collect());
    summary(&rows.sets[0], jobs, now())
}
