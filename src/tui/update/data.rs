//! Taking in what the loader read.

use crate::jobs::JobRecord;

use crate::tui::model::app::App;
use crate::tui::model::message::{DataEvent, Effect, LoaderCommand};

impl App {
    /// Takes in what the loader read.
    pub fn apply_data(&mut self, event: DataEvent) -> Vec<Effect> {
        self.dirty = true;
        match event {
            DataEvent::Jobs(records) => {
                let mut effects = Vec::new();
                for record in &records {
                    effects.extend(self.note_transition(record));
                }
                self.jobs = records;
                self.loaded = true;
                self.marked.retain(|id| self.jobs.iter().any(|record| &record.id == id));
                effects.extend(self.refresh_view());
                effects.extend(self.select_started());
                self.refresh_detail();
                effects
            }
            DataEvent::Job(record) => {
                let record = *record;
                let mut effects = self.note_transition(&record);
                match self.jobs.iter().position(|known| known.id == record.id) {
                    Some(at) => self.jobs[at] = record,
                    None => {
                        let at = self
                            .jobs
                            .iter()
                            .position(|known| (known.created, &record.id) < (record.created, &known.id))
                            .unwrap_or(self.jobs.len());
                        self.jobs.insert(at, record);
                    }
                }
                effects.extend(self.refresh_view());
                effects.extend(self.select_started());
                self.refresh_detail();
                effects
            }
            DataEvent::Removed(id) => {
                let row = self.selected_row();
                let was_selected = self.selected.as_ref() == Some(&id);
                self.jobs.retain(|record| record.id != id);
                self.unseen.remove(&id);
                self.marked.remove(&id);
                self.searches.remove(&id);
                if !was_selected {
                    return self.refresh_view();
                }
                // Select the neighbour rather than jumping to the top.
                self.filter_view();
                self.selected = None;
                let row = row.unwrap_or(0).min(self.view.len().saturating_sub(1));
                let mut effects = self.select_row(row);
                if self.selected.is_none() {
                    self.pane.select(None);
                    self.document = None;
                    effects.push(Effect::Load(LoaderCommand::Watch(None)));
                }
                effects
            }
            DataEvent::Output(job, update) => {
                self.pane.apply_update(&job, update);
                Vec::new()
            }
            DataEvent::OutputGap(job, skipped) => {
                self.pane.apply_gap(&job, skipped);
                Vec::new()
            }
            DataEvent::Older(job, block) => {
                self.pane.apply_older(&job, block);
                Vec::new()
            }
            DataEvent::Newer(job, block) => {
                self.pane.apply_newer(&job, block);
                Vec::new()
            }
            DataEvent::Start(job, block) => {
                self.pane.apply_block(&job, block, Some(0));
                Vec::new()
            }
            DataEvent::Around(job, block, first_line) => {
                self.pane.apply_block(&job, block, first_line);
                self.after_jump()
            }
            DataEvent::LineNumber { job, offset, line } => {
                self.pane.apply_line_number(&job, offset, line);
                Vec::new()
            }
            DataEvent::LineCount { job, offset, lines } => {
                self.pane.apply_line_count(&job, offset, lines);
                Vec::new()
            }
            DataEvent::WholeLine { job, offset, text, total } => {
                self.show_whole_line(job, offset, &text, total);
                Vec::new()
            }
            DataEvent::SearchProgress { job, id, found, scanned, file_len, done } => {
                let Some(search) = self.pane.search.as_mut().filter(|search| search.id == id && self.pane.job.as_ref() == Some(&job))
                else {
                    return Vec::new();
                };
                search.take_progress(found, scanned, file_len, done);
                if search.current.is_some() || search.anchor.is_none() {
                    return Vec::new();
                }
                // None in memory at or after the cursor: the first the file has there
                // (or, the file read, the first of all) is where the search goes.
                let window: Vec<u64> = self.pane.match_offsets().collect();
                let Some(search) = self.pane.search.as_mut() else { return Vec::new() };
                match search.first_from_anchor(window.into_iter()) {
                    Some(first) => {
                        search.current = Some(first);
                        search.anchor = None;
                        if self.document.is_none() {
                            return self.show_offset(first);
                        }
                    }
                    None if search.done => {
                        search.anchor = None;
                        self.flash = Some(format!("no match for {:?} in the whole output", search.query()));
                    }
                    None => {}
                }
                Vec::new()
            }
            DataEvent::WatchProblem(problem) => {
                self.watch_problem = problem;
                Vec::new()
            }
            DataEvent::Host(event) => self.heard_from_host(event),
        }
    }

    /// A job started from here is listed: it is selected and its output shown.
    pub(super) fn select_started(&mut self) -> Vec<Effect> {
        let Some(id) = self.select_when_seen.clone() else { return Vec::new() };
        if !self.jobs.iter().any(|record| record.id == id) {
            return Vec::new();
        }
        self.select_when_seen = None;
        if !self.view.iter().any(|&index| self.jobs[index].id == id) {
            self.flash = Some(format!("{} (hidden by the filter: s / f change it)", self.flash.clone().unwrap_or_default()));
            return Vec::new();
        }
        self.document = None;
        self.zoom = false;
        self.focus = crate::tui::model::app::Focus::Table;
        let effects = self.select(Some(id));
        self.keep_selection_visible();
        effects
    }

    /// A job that was seen running and now has finished: a marker unless it is
    /// selected, and the bell and a desktop notice when they are on.
    fn note_transition(&mut self, record: &JobRecord) -> Vec<Effect> {
        let Ok(new) = &record.meta else { return Vec::new() };
        let was_running = self
            .jobs
            .iter()
            .find(|known| known.id == record.id)
            .is_some_and(|known| known.meta.as_ref().is_ok_and(|meta| !meta.status.is_finished()));
        if !(was_running && new.status.is_finished()) {
            return Vec::new();
        }
        self.cancelling.remove(&record.id);
        if self.selected.as_ref() != Some(&record.id) {
            self.unseen.insert(record.id.clone());
        }
        let mut effects = Vec::new();
        if self.bell {
            effects.push(Effect::Bell);
        }
        if self.notify {
            let first_line = new.prompt.lines().find(|line| !line.trim().is_empty()).unwrap_or("");
            effects.push(Effect::Notify {
                title: format!("codex-async: job {} {}", record.id, new.status),
                body: crate::tui::model::text::sanitize(first_line, 200, false),
            });
        }
        effects
    }
}
