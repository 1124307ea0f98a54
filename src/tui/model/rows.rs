//! Which jobs the table shows, in what order, and what each row says of its status:
//! the filters and the sort applied, the text filter over every column shown.

use crate::human::{compact_count, elapsed};
use crate::jobs::{JobRecord, Status};

use super::app::App;
use super::filters::{Shown, SortKey};
use super::text;

fn status_rank(shown: Shown) -> u8 {
    match shown {
        Shown::Stopping => 0,
        Shown::Lost => 1,
        Shown::Stored(Status::Running) => 2,
        Shown::Stored(Status::Paused) => 2,
        Shown::Starting => 3,
        Shown::Stored(Status::Pending) => 4,
        Shown::Stored(Status::Error) => 5,
        Shown::Stored(Status::Cancelled) => 6,
        Shown::Stored(Status::Done) => 7,
        Shown::Corrupt => 8,
    }
}

impl App {
    /// What the row of `record` says of its state.
    pub(crate) fn shown_status(&self, record: &JobRecord) -> Shown {
        match &record.meta {
            Ok(meta) if !meta.status.is_finished() && self.cancelling.contains(&record.id) => Shown::Stopping,
            Ok(meta) if meta.supervisor_lost => Shown::Lost,
            Ok(meta) => Shown::Stored(meta.status),
            Err(_) if self.is_starting(record) => Shown::Starting,
            Err(_) => Shown::Corrupt,
        }
    }

    /// Every column the table can show for a job, as text: what `f` looks in.
    pub(crate) fn row_text(&self, record: &JobRecord) -> String {
        let mut words = vec![record.id.to_string(), self.shown_status(record).word().to_owned(), text::age(record, self.now)];
        match &record.meta {
            Ok(meta) => {
                words.extend(elapsed(meta, self.now));
                words.extend(meta.exit_code.map(|code| code.to_string()));
                words.extend(meta.details.signal.clone());
                words.push(meta.approval_policy.clone());
                words.push(meta.details.agent.clone().unwrap_or_else(|| "codex".to_owned()));
                words.extend(meta.details.model.clone());
                words.extend(meta.details.activity.clone());
                words.extend(meta.details.note.clone());
                words.extend(meta.details.usage.map(|usage| compact_count(usage.input_tokens + usage.output_tokens)));
                words.extend(meta.details.group.clone());
                words.extend(meta.details.labels.iter().cloned());
                // A set's id finds every attempt of it.
                words.extend(meta.details.attempt_group.clone());
                words.push(meta.prompt.clone());
                words.push(meta.cwd.clone());
                words.push(text::tilde(&meta.cwd, self.home.as_deref()));
            }
            Err(reason) => words.push(reason.clone()),
        }
        words.join("\u{1f}")
    }

    pub(super) fn matches_text(&self, record: &JobRecord) -> bool {
        if self.text_filter.is_empty() {
            return true;
        }
        // `label:L` and `group:G` name one exactly.
        let meta = record.meta.as_ref().ok();
        if let Some(wanted) = self.text_filter.strip_prefix("label:") {
            return meta.is_some_and(|meta| meta.details.labels.iter().any(|label| label.eq_ignore_ascii_case(wanted.trim())));
        }
        if let Some(wanted) = self.text_filter.strip_prefix("group:") {
            return meta.is_some_and(|meta| meta.details.group.as_deref().unwrap_or("default").eq_ignore_ascii_case(wanted.trim()));
        }
        self.row_text(record).to_lowercase().contains(&self.text_filter.to_lowercase())
    }

    /// Recomputes the rows that pass the filters, in the sort's order, leaving the
    /// selection alone.
    pub(crate) fn filter_view(&mut self) {
        let mut view: Vec<usize> = (0..self.jobs.len())
            .filter(|&index| {
                let record = &self.jobs[index];
                self.status_filter.accepts(&record.meta) && self.matches_text(record)
            })
            .collect();
        // `jobs` is newest first: a stable sort keeps that order among equals.
        match self.sort {
            SortKey::Newest => {}
            SortKey::Status => view.sort_by_key(|&index| status_rank(self.shown_status(&self.jobs[index]))),
            SortKey::Cwd => view.sort_by(|&a, &b| cwd_of(&self.jobs[a]).cmp(cwd_of(&self.jobs[b]))),
            SortKey::Duration => view.sort_by_key(|&index| {
                std::cmp::Reverse(self.jobs[index].meta.as_ref().map_or(0, |meta| text::run_seconds(meta, self.now)))
            }),
        }
        self.view = self.attempts.arrange(&self.jobs, view);
    }
}

fn cwd_of(record: &JobRecord) -> &str {
    record.meta.as_ref().map_or("", |meta| meta.cwd.as_str())
}
