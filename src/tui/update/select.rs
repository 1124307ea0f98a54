//! Which job is selected: the rows follow the filters, and a job newly selected is
//! watched (its output read) and searched again for what its own search looked for —
//! a search belongs to the job it was made on, so another job shows none.

use crate::jobs::JobId;
use crate::tui::model::app::App;
use crate::tui::model::message::{Effect, LoaderCommand};

impl App {
    /// Recomputes the filtered rows; keeps the selection when it is still shown,
    /// else selects the first row.
    pub(crate) fn refresh_view(&mut self) -> Vec<Effect> {
        self.filter_view();
        let effects = if self.selected_row().is_some() {
            Vec::new()
        } else if self.view.is_empty() {
            self.select(None)
        } else {
            self.select_row(0)
        };
        self.keep_selection_visible();
        self.dirty = true;
        let mut effects = effects;
        effects.extend(self.sync_local_rows());
        effects
    }

    pub(crate) fn select(&mut self, id: Option<JobId>) -> Vec<Effect> {
        if self.attempts.selected.take().is_some() {
            self.dirty = true;
        }
        if self.selected == id {
            return Vec::new();
        }
        if let Some(id) = &id {
            self.unseen.remove(id);
        }
        self.selected = id.clone();
        if let Some(left) = self.pane.job.clone() {
            match &self.pane.search {
                Some(search) => self.searches.insert(left, search.matcher.clone()),
                None => self.searches.remove(&left),
            };
        }
        self.pane.select(id.clone());
        if let Some(matcher) = id.as_ref().and_then(|id| self.searches.get(id)) {
            self.pane.search = Some(crate::tui::model::search::Search::new(matcher.clone(), 0));
        }
        // A view of another job would mislead: the output of the new one shows.
        self.document = None;
        self.dirty = true;
        let mut effects = vec![Effect::Load(LoaderCommand::Watch(id.clone()))];
        effects.extend(self.search_file());
        effects
    }

    pub(crate) fn select_row(&mut self, row: usize) -> Vec<Effect> {
        let Some(&index) = self.view.get(row) else { return Vec::new() };
        let set = self.attempts.set_at(row).map(|set| set.id.clone());
        let effects = self.select(Some(self.jobs[index].id.clone()));
        // An attempt set's row stands for its first attempt: its output shows.
        self.attempts.selected = set;
        self.keep_selection_visible();
        effects
    }
}
