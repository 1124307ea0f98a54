//! Taking in what background tasks returned.

use crate::jobs::JobId;

use crate::tui::model::app::{App, Mode};
use crate::tui::model::message::{Effect, Started, TaskResult};

impl App {
    /// Takes in a background task's result.
    pub(crate) fn apply_result(&mut self, result: TaskResult) -> Vec<Effect> {
        self.dirty = true;
        match result {
            TaskResult::Cancelled { id, outcome } => {
                self.cancelling.remove(&id);
                self.flash = Some(match outcome {
                    Ok(status) => format!("job {id}: {status}"),
                    Err(err) => format!("could not cancel {id}: {err}"),
                });
                self.refresh_view()
            }
            TaskResult::Paused { id, outcome } => {
                self.flash = Some(match outcome {
                    Ok(status) => format!("job {id}: {status}"),
                    Err(err) => format!("could not pause or resume {id}: {err}"),
                });
                self.refresh_view()
            }
            TaskResult::Killed { id, processes } => {
                self.flash = Some(format!("job {id}: SIGKILL sent to {processes} process(es)"));
                Vec::new()
            }
            TaskResult::Approved { id, outcome } => {
                self.flash = Some(match outcome {
                    Ok(what) => format!("{id}: {what}"),
                    Err(err) => format!("could not answer {id}: {err}"),
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
            TaskResult::Cleaned(outcome) => {
                self.flash = Some(match outcome {
                    Ok((count, bytes)) => format!("removed {count} finished job(s), {} freed", crate::human::bytes_text(bytes)),
                    Err(err) => format!("could not remove finished jobs: {err}"),
                });
                Vec::new()
            }
            TaskResult::Started(outcome) => self.started(outcome),
            TaskResult::LastMessage { id, message } => match message {
                Some(message) => {
                    self.flash = Some(self.sent_to_clipboard(&format!("the last message of {id}")));
                    vec![Effect::Copy(message)]
                }
                None => {
                    self.flash = Some(format!("job {id} has no last message (yet)"));
                    Vec::new()
                }
            },
            TaskResult::Detail { id, prompt, last_message, hook_failures, hooks_log } => {
                if self.detail_files.id.as_ref() == Some(&id) {
                    self.detail_files.prompt = prompt;
                    self.detail_files.last_message = last_message;
                    self.detail_files.hook_failures = hook_failures;
                    self.detail_files.hooks_log = hooks_log;
                    self.detail_files.read = true;
                    self.refresh_detail();
                }
                Vec::new()
            }
            TaskResult::Prompt { id, prompt } => {
                match prompt {
                    Ok(prompt) => self.open_rerun(&id, &prompt),
                    Err(err) => self.flash = Some(format!("could not read the prompt of {id}: {err}")),
                }
                Vec::new()
            }
            TaskResult::Diff { id, text } => {
                self.show_diff(&id, &text);
                Vec::new()
            }
            TaskResult::Reviewed { id: _, text } => {
                self.flash = Some(text);
                Vec::new()
            }
            TaskResult::FolderMatches { typed, matches } => {
                if let Mode::NewJob(form) = &mut self.mode {
                    form.complete(&typed, matches);
                }
                Vec::new()
            }
            TaskResult::Opened(problem) => {
                self.flash = problem;
                Vec::new()
            }
            TaskResult::OnHost { job, act, outcome } => {
                self.done_on_host(&job, act, outcome);
                Vec::new()
            }
        }
    }

    /// A start from the form (or a follow-up) returned: the new job is selected once it
    /// is listed; one that failed at once says why.
    fn started(&mut self, outcome: Result<Started, String>) -> Vec<Effect> {
        match (&mut self.mode, outcome) {
            (_, Ok(started)) if started.id.contains(':') => {
                // A host's job: shown in the hosts view, selected once its host lists it.
                if matches!(self.mode, Mode::NewJob(_)) {
                    self.mode = Mode::Hosts;
                }
                self.flash = Some(match &started.failed {
                    Some(why) => format!("failed to start: {why} (job {})", started.id),
                    None => format!("started job {} ({})", started.id, started.inherited.as_deref().unwrap_or("on its host")),
                });
                self.hosts.wanted = Some(started.id);
                vec![Effect::FollowHostJob(self.hosts.selected.clone())]
            }
            (_, Ok(started)) => {
                if matches!(self.mode, Mode::NewJob(_)) {
                    self.mode = Mode::Normal;
                }
                self.flash = Some(match (&started.failed, &started.inherited) {
                    (Some(why), _) => format!("failed to start: {why} (job {})", started.id),
                    (None, Some(inherited)) => format!("started job {}: {inherited}", started.id),
                    (None, None) => format!("started job {}", started.id),
                });
                match JobId::parse(&started.id) {
                    Ok(job) => {
                        self.select_when_seen = Some(job);
                        self.select_started()
                    }
                    Err(_) => Vec::new(),
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
        }
    }
}
