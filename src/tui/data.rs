//! Taking in what the loader read and what background tasks returned.

use crate::jobs::{JobId, JobRecord};

use super::app::{App, Mode};
use super::message::{DataEvent, Effect, TaskResult};

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
                effects.extend(self.refresh_view());
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
                effects
            }
            DataEvent::Removed(id) => {
                let row = self.selected_row();
                let was_selected = self.selected.as_ref() == Some(&id);
                self.jobs.retain(|record| record.id != id);
                self.unseen.remove(&id);
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
                    effects.push(Effect::Watch(None));
                }
                effects
            }
            DataEvent::Output(job, update) => {
                self.pane.apply_update(&job, update);
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
                self.pane.apply_start(&job, block);
                Vec::new()
            }
            DataEvent::WatchProblem(problem) => {
                self.watch_problem = problem;
                Vec::new()
            }
        }
    }

    /// A job that was seen running and now has finished: a marker unless it is
    /// selected, and the bell when it is on.
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
        if self.bell { vec![Effect::Bell] } else { Vec::new() }
    }

    /// Takes in a background task's result.
    pub fn apply_result(&mut self, result: TaskResult) -> Vec<Effect> {
        self.dirty = true;
        match result {
            TaskResult::Cancelled { id, outcome } => {
                self.cancelling.remove(&id);
                self.flash = Some(match outcome {
                    Ok(status) => format!("job {id}: {status}"),
                    Err(err) => format!("could not cancel {id}: {err}"),
                });
                Vec::new()
            }
            TaskResult::Deleted { id, outcome } => {
                self.flash = Some(match outcome {
                    Ok(()) => format!("deleted {id}"),
                    Err(err) => format!("could not delete {id}: {err}"),
                });
                Vec::new()
            }
            TaskResult::Started(outcome) => match (&mut self.mode, outcome) {
                (_, Ok(id)) => {
                    if matches!(self.mode, Mode::NewJob(_)) {
                        self.mode = Mode::Normal;
                    }
                    self.flash = Some(format!("started job {id}"));
                    match JobId::parse(&id) {
                        Ok(job) if self.jobs.iter().any(|record| record.id == job) => self.select(Some(job)),
                        _ => Vec::new(),
                    }
                }
                (Mode::NewJob(form), Err(err)) => {
                    form.submitting = false;
                    form.error = Some(err);
                    Vec::new()
                }
                (_, Err(err)) => {
                    self.flash = Some(format!("could not start the job: {err}"));
                    Vec::new()
                }
            },
            TaskResult::LastMessage { id, message } => match message {
                Some(message) => {
                    self.flash = Some(format!("copied the last message of {id}"));
                    vec![Effect::Copy(message)]
                }
                None => {
                    self.flash = Some(format!("job {id} has no last message (yet)"));
                    Vec::new()
                }
            },
        }
    }
}
