//! `p`: pause the selected running job, or resume it when it is paused.

use crate::jobs::Status;

use crate::tui::model::app::App;
use crate::tui::model::message::Effect;

impl App {
    pub(crate) fn toggle_pause(&mut self) -> Vec<Effect> {
        let Some(record) = self.selected_record() else { return Vec::new() };
        let id = record.id.clone();
        match record.meta.as_ref().map(|meta| meta.status) {
            Ok(Status::Running) => vec![Effect::SetPaused { id, paused: true }],
            Ok(Status::Paused) => vec![Effect::SetPaused { id, paused: false }],
            Ok(status) => {
                self.flash = Some(format!("job {id} is {status}: only a running job can be paused"));
                self.dirty = true;
                Vec::new()
            }
            Err(_) => Vec::new(),
        }
    }
}

/// What the detail view says of a job's unattended settings: what it waits for, its
/// budget, its pause.
pub(crate) fn detail_fields(meta: &crate::jobs::JobMeta) -> Vec<(&'static str, String)> {
    let details = &meta.details;
    let mut fields = Vec::new();
    if meta.status == Status::Pending
        && let Some(waiting) = &details.waiting
    {
        fields.push(("Waiting", waiting.clone()));
    }
    if !details.after.is_empty() {
        fields.push(("After", details.after.join(", ")));
    }
    if let Some(at) = details.starts_at {
        fields.push(("Starts at", at.0.format("%Y-%m-%d %H:%M:%S UTC").to_string()));
    }
    if let Some(group) = &details.group {
        fields.push(("Group", group.clone()));
    }
    if let Some(priority) = details.priority {
        fields.push(("Priority", priority.to_string()));
    }
    if !details.labels.is_empty() {
        fields.push(("Labels", details.labels.join(", ")));
    }
    if let Some(limit) = &details.limit {
        let reset = limit.resets_at.map_or("no reset time given".to_owned(), |at| format!("resets {}", at.0.format("%Y-%m-%d %H:%M UTC")));
        fields.push(("Limit", format!("{} ({reset})", limit.kind)));
    }
    if let Some(budget) = details.max_tokens {
        fields.push(("Budget", format!("{} tokens", crate::human::tokens_column(details.usage.as_ref(), Some(budget)))));
    }
    if let Some(at) = details.paused_at.filter(|_| meta.status == Status::Paused) {
        fields.push(("Paused", format!("since {} (p resumes it)", at.0.format("%Y-%m-%d %H:%M:%S UTC"))));
    }
    fields
}
