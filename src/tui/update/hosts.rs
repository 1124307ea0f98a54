//! The hosts view (`H`): other hosts' jobs as their tasks report them, and `c` to cancel
//! the selected one on its host (after `y`). Rows of a host that cannot be reached stay,
//! and cannot be cancelled from here until it answers again.

use crate::hosts::watch::WatchEvent;
use crate::tui::model::app::{Action, App, Effect, Mode};

/// Rows a page moves.
const PAGE: isize = 10;

impl App {
    pub(super) fn open_hosts(&mut self) -> Vec<Effect> {
        if self.hosts.is_empty() {
            self.flash = Some("no hosts: name them as [hosts.NAME] in config.toml (see docs/hosts.md)".to_owned());
            return Vec::new();
        }
        self.mode = Mode::Hosts;
        self.hosts.keep_selection();
        vec![Effect::FollowHostJob(self.hosts.selected.clone())]
    }

    pub(super) fn apply_hosts(&mut self, action: Action) -> Vec<Effect> {
        if let Some(job) = self.hosts.asking_cancel.clone() {
            match action {
                Action::Answer(true) => {
                    self.hosts.asking_cancel = None;
                    self.flash = Some(format!("cancelling {job} on its host…"));
                    return vec![Effect::CancelHostJob(job)];
                }
                Action::Answer(false) | Action::Back => self.hosts.asking_cancel = None,
                Action::Quit => self.quit = true,
                _ => {}
            }
            return Vec::new();
        }
        match action {
            Action::Up => self.move_host_selection(-1),
            Action::Down => self.move_host_selection(1),
            Action::PageUp => self.move_host_selection(-PAGE),
            Action::PageDown => self.move_host_selection(PAGE),
            Action::First => self.move_host_selection(isize::MIN / 2),
            Action::Last => self.move_host_selection(isize::MAX / 2),
            Action::AskCancel => {
                self.ask_cancel_on_host();
                Vec::new()
            }
            Action::Back | Action::Hosts => {
                self.mode = Mode::Normal;
                self.hosts.asking_cancel = None;
                vec![Effect::FollowHostJob(None)]
            }
            Action::Quit => {
                self.quit = true;
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    fn move_host_selection(&mut self, by: isize) -> Vec<Effect> {
        if self.hosts.move_by(by) { vec![Effect::FollowHostJob(self.hosts.selected.clone())] } else { Vec::new() }
    }

    fn ask_cancel_on_host(&mut self) {
        let Some((panel, row)) = self.hosts.selected_row() else { return };
        if !matches!(row.status.as_str(), "running" | "pending") {
            self.flash = Some(format!("job {} has ended ({}): nothing to cancel", row.job_id, row.status));
        } else if !panel.reachable() {
            self.flash = Some(format!("host {} cannot be reached now: its job runs on there", panel.name));
        } else {
            self.hosts.asking_cancel = Some(row.job_id.clone());
        }
    }

    /// What a host's task said; the job to follow when the selection moved with it.
    pub(super) fn heard_from_host(&mut self, event: WatchEvent) -> Vec<Effect> {
        let moved = self.hosts.heard(event);
        if moved && self.mode == Mode::Hosts { vec![Effect::FollowHostJob(self.hosts.selected.clone())] } else { Vec::new() }
    }

    pub(super) fn host_cancelled(&mut self, job: &str, outcome: Result<String, String>) {
        self.flash = Some(match outcome {
            Ok(status) => format!("{job}: {status}"),
            Err(err) => format!("could not cancel {job}: {err}"),
        });
    }
}
