//! `a` and `x`: a job's change applied to its origin, or its worktree discarded, each
//! after a confirmation that says what will happen (the change's stat, the folder).
//! The engine does the work on a blocking thread; a line in the footer says how it went.

use crate::jobs::{ApplyOptions, Engine, JobId};

use crate::tui::model::app::{App, Confirm, ConfirmKind, Mode};

impl App {
    /// The selected job's id and record; else the footer says why there is none.
    fn selected_meta(&mut self) -> Option<(JobId, crate::jobs::JobMeta)> {
        let Some(record) = self.selected_record() else {
            self.flash = Some("no job selected".to_owned());
            return None;
        };
        match &record.meta {
            Ok(meta) => Some((record.id.clone(), meta.clone())),
            Err(_) => {
                self.flash = Some(format!("job {} is corrupt", record.id));
                None
            }
        }
    }

    pub(super) fn ask_apply(&mut self) {
        let Some((id, meta)) = self.selected_meta() else { return };
        let problem = match &meta.details.change {
            _ if !meta.status.is_finished() => Some(format!("job {id} still runs: its change is frozen when it ends")),
            None => Some(format!("job {id} has no frozen change (it ran outside a git repository)")),
            Some(stat) if stat.patch_dropped => Some(format!("job {id}'s patch was too large to keep: merge its branch by hand")),
            Some(stat) if stat.files == 0 => Some(format!("job {id} changed nothing")),
            Some(_) => None,
        };
        if let Some(problem) = problem {
            self.flash = Some(problem);
            return;
        }
        let stat = meta.details.change.as_ref().map(|stat| stat.summary()).unwrap_or_default();
        let again = if meta.details.applied_at.is_some() { " (it was applied before)" } else { "" };
        let prompt = format!("{stat} into {}{again}", meta.cwd);
        // An attempt's confirmation also offers to discard the rest of its set.
        let mut ids = vec![id];
        ids.extend(self.other_attempts(&ids[0], &meta));
        self.mode = Mode::Confirm(Confirm { kind: ConfirmKind::Apply, ids, prompt, skipped: 0 });
    }

    pub(super) fn ask_discard(&mut self) {
        let Some((id, meta)) = self.selected_meta() else { return };
        let Some(worktree) = &meta.details.worktree else {
            self.flash = Some(format!("job {id} did not run in a worktree"));
            return;
        };
        if meta.details.discarded_at.is_some() {
            self.flash = Some(format!("job {id}'s worktree was discarded already"));
            return;
        }
        if !meta.status.is_finished() {
            self.flash = Some(format!("job {id} still runs: cancel it first (c)"));
            return;
        }
        let applied = if meta.details.applied_at.is_some() { "applied" } else { "not applied" };
        let prompt = format!("{worktree} and branch {} ({applied}; the record stays)", meta.details.branch.as_deref().unwrap_or("?"));
        self.mode = Mode::Confirm(Confirm { kind: ConfirmKind::Discard, ids: vec![id], prompt, skipped: 0 });
    }
}

/// Applies job `id`'s change (with `options`); the footer's line.
pub async fn apply(engine: &Engine, id: &JobId, options: ApplyOptions) -> String {
    match engine.apply(id.as_str(), options).await {
        Ok(view) if view.applied && !view.discarded.is_empty() => format!(
            "applied {id}: {} file(s) into {}; discarded the other attempts: {}",
            view.files.len(),
            view.origin,
            view.discarded.join(", ")
        ),
        Ok(view) if view.applied => format!("applied {id}: {} file(s) into {}", view.files.len(), view.origin),
        Ok(view) => format!(
            "{id} does not apply to {}; nothing changed. Not applying: {}",
            view.origin,
            if view.conflicts.is_empty() { "(git named no file)".to_owned() } else { view.conflicts.join(", ") }
        ),
        Err(err) => format!("could not apply {id}: {err}"),
    }
}

/// Discards job `id`'s worktree; the footer's line.
pub async fn discard(engine: &Engine, id: &JobId) -> String {
    match engine.discard(id.as_str(), false).await {
        Ok(view) if view.removed_folder => format!("discarded {id}: worktree and branch removed"),
        Ok(_) => format!("discarded {id}: the worktree was already gone; branch removed"),
        Err(err) => format!("could not discard {id}: {err}"),
    }
}
