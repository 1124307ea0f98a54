//! Attempt sets in the table. A set's row folds and unfolds (Enter, or ← / → with the
//! table's keys), marks every attempt (Space), and `c`, `d` and `x` act on every attempt;
//! what needs one attempt (`a`, `D`, `r`, `R`, `p`, `A`) says to choose one. An
//! attempt's apply offers `o`: apply it and discard the rest of its set.

use crate::jobs::{JobId, JobMeta};
use crate::tui::model::app::{Action, App, Confirm, ConfirmKind, Effect, Focus, Mode};
use crate::tui::model::attempts::{AttemptSet, attempt_of, set_of};
use crate::tui::model::text;

impl App {
    /// The attempt set whose row is selected.
    pub(super) fn selected_set(&self) -> Option<&AttemptSet> {
        self.attempts.selected_set()
    }

    /// What `action` does on a selected attempt set's row, where that is not what it
    /// does on a job's (the row otherwise stands for its first attempt).
    pub(super) fn on_attempt_set(&mut self, action: &Action) -> Option<Vec<Effect>> {
        let set = self.selected_set()?;
        let (id, folded) = (set.id.clone(), set.folded);
        let table_keys = self.focus == Focus::Table && !self.zoom;
        match action {
            Action::Zoom if table_keys => Some(self.fold(&id, !folded)),
            Action::ScrollRight if table_keys => Some(self.fold(&id, false)),
            Action::ScrollLeft if table_keys => Some(self.fold(&id, true)),
            Action::ToggleMark => {
                self.toggle_set_mark();
                Some(self.move_selection(1))
            }
            Action::AskDiscard => {
                self.ask_discard_set();
                Some(Vec::new())
            }
            Action::AskApply | Action::Diff | Action::FollowUp | Action::Rerun | Action::TogglePause | Action::Approval => {
                let how = if folded { "Enter unfolds it" } else { "↓ selects the first" };
                self.flash = Some(format!("attempt set {}: choose one of its attempts ({how})", text::sanitize(&id, 40, false)));
                Some(Vec::new())
            }
            _ => None,
        }
    }

    /// Folds (or unfolds) set `id`; its row stays selected.
    fn fold(&mut self, id: &str, fold: bool) -> Vec<Effect> {
        if fold {
            self.attempts.folded.insert(id.to_owned());
        } else {
            self.attempts.folded.remove(id);
        }
        self.filter_view();
        self.keep_selection_visible();
        self.dirty = true;
        Vec::new()
    }

    /// Space on a set's row: every attempt marked, or unmarked when all were.
    fn toggle_set_mark(&mut self) {
        let Some(set) = self.selected_set() else { return };
        let ids: Vec<JobId> = set.members.iter().map(|&index| self.jobs[index].id.clone()).collect();
        if ids.iter().all(|id| self.marked.contains(id)) {
            for id in &ids {
                self.marked.remove(id);
            }
        } else {
            self.marked.extend(ids.iter().cloned());
        }
        self.mark_anchor = ids.first().cloned();
        self.flash = Some(format!("{} marked: c cancels, d deletes them all; V marks up to here; Esc unmarks", self.marked.len()));
    }

    /// `x` on a set's row: the worktrees of its finished attempts (running ones are
    /// left out: cancel them first).
    fn ask_discard_set(&mut self) {
        let Some(set) = self.selected_set() else { return };
        let name = text::sanitize(&set.id, 40, false);
        let (mut ids, mut running) = (Vec::new(), 0);
        for &index in &set.members {
            let record = &self.jobs[index];
            let Ok(meta) = &record.meta else { continue };
            if meta.details.worktree.is_none() || meta.details.discarded_at.is_some() {
                continue;
            }
            if meta.status.is_finished() {
                ids.push(record.id.clone());
            } else {
                running += 1;
            }
        }
        if ids.is_empty() {
            self.flash = Some(if running > 0 {
                format!("attempt set {name}: its attempts still run: cancel them first (c)")
            } else {
                format!("attempt set {name} has no worktree left to discard")
            });
            return;
        }
        let prompt = format!("every worktree and branch of attempt set {name} (the records stay)");
        self.mode = Mode::Confirm(Confirm { kind: ConfirmKind::Discard, ids, prompt, skipped: running });
    }

    /// The other attempts of job `id`'s set that still have a worktree to discard, by
    /// attempt (what `apply --discard-others` discards).
    pub(super) fn other_attempts(&self, id: &JobId, meta: &JobMeta) -> Vec<JobId> {
        let Some(set) = meta.details.attempt_group.as_deref() else { return Vec::new() };
        let mut others: Vec<(u32, JobId)> = self
            .jobs
            .iter()
            .filter(|record| &record.id != id && set_of(record) == Some(set))
            .filter(|record| {
                record.meta.as_ref().is_ok_and(|other| other.details.worktree.is_some() && other.details.discarded_at.is_none())
            })
            .map(|record| (attempt_of(record), record.id.clone()))
            .collect();
        others.sort();
        others.into_iter().map(|(_, id)| id).collect()
    }
}
