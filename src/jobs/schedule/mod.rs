//! When a job may start besides a free slot: after other jobs have ended `done`
//! (`--after`), not before a time (`--delay`, `--at`).
//!
//! There is no daemon to remember that. A job that must wait gets its own supervisor at
//! once (see `supervisor::waiting`): it holds the job's lock, shows the job `pending` with
//! the reason, and sleeps — on the change feed for the jobs it follows, on a timer for a
//! time — then takes its queue slot like any job. So it starts on time with nothing else
//! running, outlives whoever started it, and is cancelled like any job its owner holds.

pub mod hold;

use chrono::{DateTime, Local, NaiveTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::jobs::error::{JobError, Result};
use crate::jobs::record::id::JobId;
use crate::jobs::record::meta::{Status, Timestamp};
use crate::jobs::store::JobStore;

/// What a job waits for before it takes a queue slot.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Schedule {
    /// Jobs that must all end `done` first (full ids, checked to exist at start).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub after: Vec<String>,
    /// Not before this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<Timestamp>,
    /// Words to find the job by (`--label`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    /// The named queue it waits in, with that group's limit (`--group`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Pending jobs of a group start highest first, ties in order of arrival.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i64>,
}

impl Schedule {
    pub fn is_default(&self) -> bool {
        *self == Schedule::default()
    }

    /// Whether the job must wait for anything.
    pub fn waits(&self) -> bool {
        !self.after.is_empty() || self.not_before.is_some()
    }

    /// Ids as given (whole, or the start of exactly one) made whole; each must exist, so
    /// no cycle can ever be made (a job can only follow jobs older than itself).
    pub fn resolved(mut self, store: &JobStore) -> Result<Self> {
        let mut whole = Vec::with_capacity(self.after.len());
        for raw in &self.after {
            let id = store.existing(raw.trim())?;
            if !whole.contains(&id.to_string()) {
                whole.push(id.to_string());
            }
        }
        self.after = whole;
        Ok(self)
    }

    /// Labels and the group checked: short words of letters, digits and `._-` (labels
    /// also `:` and `/`), at most 20 labels; labels kept once each, in order.
    pub fn checked(mut self) -> Result<Self> {
        let word = |text: &str, extra: &[u8]| {
            !text.is_empty()
                && text.len() <= 40
                && text.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b) || extra.contains(&b))
        };
        let mut labels: Vec<String> = Vec::new();
        for label in self.labels.iter().map(|label| label.trim()) {
            if !word(label, b":/") {
                return Err(JobError::BadRequest(format!("label {label:?}: give 1 to 40 letters, digits or . _ - : /")));
            }
            if !labels.iter().any(|known| known == label) {
                labels.push(label.to_owned());
            }
        }
        if labels.len() > 20 {
            return Err(JobError::BadRequest("at most 20 labels".to_owned()));
        }
        self.labels = labels;
        if let Some(group) = &self.group
            && !word(group, b"")
        {
            return Err(JobError::BadRequest(format!("group {group:?}: give 1 to 40 letters, digits or . _ -")));
        }
        Ok(self)
    }

    /// The reason a waiting job shows: `after 1a2b3c4d, 5e6f7a8b; starts at 14:30`.
    pub fn reason(&self, waiting_for: &[String], now: DateTime<Utc>) -> Option<String> {
        let mut parts = Vec::new();
        if !waiting_for.is_empty() {
            parts.push(format!("after {}", waiting_for.join(", ")));
        }
        if let Some(at) = self.not_before.filter(|at| at.0 > now) {
            parts.push(format!("starts at {}", local_time_text(at.0, now)));
        }
        (!parts.is_empty()).then(|| parts.join("; "))
    }
}

/// `14:30` today, `Dec 9 14:30` another day (local time).
fn local_time_text(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let local = at.with_timezone(&Local);
    if local.date_naive() == now.with_timezone(&Local).date_naive() {
        local.format("%H:%M").to_string()
    } else {
        local.format("%b %-d %H:%M").to_string()
    }
}

/// `--at`: `HH:MM` (local time: today, or tomorrow once that time has passed) or an
/// RFC 3339 time (`2026-12-07T09:00:00+01:00`).
pub fn parse_at(text: &str, now: DateTime<Utc>) -> Result<Timestamp> {
    let text = text.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(Timestamp(at.with_timezone(&Utc)));
    }
    let time = NaiveTime::parse_from_str(text, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(text, "%H:%M:%S"))
        .map_err(|_| JobError::BadRequest(format!("--at {text:?}: give HH:MM (local time) or an RFC 3339 time")))?;
    let today = now.with_timezone(&Local).date_naive();
    for day in [today, today.succ_opt().unwrap_or(today)] {
        // A time skipped by a clock change does not exist that day: the next day's does.
        if let Some(local) = Local.from_local_datetime(&day.and_time(time)).earliest()
            && local.with_timezone(&Utc) > now
        {
            return Ok(Timestamp(local.with_timezone(&Utc)));
        }
    }
    Err(JobError::BadRequest(format!("--at {text:?}: that time does not come in the next two days")))
}

/// How a dependency's end decides the waiting job: `Some(reason)` when it cannot run.
pub fn failed_dependency(id: &JobId, status: Status) -> Option<String> {
    (status != Status::Done).then(|| format!("dependency failed: job {id} ended {status}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_takes_a_local_time_or_rfc_3339() {
        let now = Utc::now();
        let exact = parse_at("2030-01-02T03:04:05Z", now).unwrap();
        assert_eq!(exact.to_string(), "2030-01-02T03:04:05+00:00");
        let soon = parse_at(&(now + chrono::Duration::minutes(2)).with_timezone(&Local).format("%H:%M").to_string(), now).unwrap();
        assert!(soon.0 > now && soon.0 <= now + chrono::Duration::minutes(2));
        let passed = parse_at(&(now - chrono::Duration::minutes(2)).with_timezone(&Local).format("%H:%M").to_string(), now).unwrap();
        assert!(passed.0 > now + chrono::Duration::hours(23), "a time already passed today is tomorrow's");
        assert!(parse_at("25:99", now).is_err());
        assert!(parse_at("soon", now).is_err());
    }

    #[test]
    fn the_reason_names_what_is_left() {
        let now = Utc::now();
        let schedule = Schedule {
            after: vec!["0123abcd".into()],
            not_before: Some(Timestamp(now + chrono::Duration::hours(1))),
            ..Schedule::default()
        };
        let reason = schedule.reason(&schedule.after, now).unwrap();
        assert!(reason.starts_with("after 0123abcd; starts at "), "{reason}");
        assert_eq!(schedule.reason(&[], now + chrono::Duration::hours(2)), None);
    }
}
