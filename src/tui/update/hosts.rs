//! The hosts view (`H`): other hosts' jobs as their tasks report them, among this
//! machine's newest, and what can be done to the selected one on its own host — cancel
//! it (`c`), apply its change (`a`) or discard its worktree (`x`), each after `y`; read
//! its change (`D`); follow it up (`r`) or start a job on a host (`n`) in the job form;
//! read what is shown in the pager (`o`). Rows of a host that cannot be reached stay,
//! and nothing is sent to it until it answers again. A key on one of this machine's
//! rows goes to the main table, with that job selected, as if pressed there.

use crate::hosts::watch::WatchEvent;
use crate::jobs::{JobId, ListView};
use crate::tui::model::app::{Action, App, Effect, Mode, StatusFilter};
use crate::tui::model::form::{NewJobForm, Parent};
use crate::tui::model::hosts::{HostAct, LOCAL_ROWS};
use crate::tui::model::message::Viewer;

/// Rows a page moves.
const PAGE: isize = 10;

impl App {
    pub(super) fn open_hosts(&mut self) -> Vec<Effect> {
        if self.hosts.is_empty() {
            self.flash = Some("no hosts: name them as [hosts.NAME] in config.toml (see docs/hosts.md)".to_owned());
            return Vec::new();
        }
        self.mode = Mode::Hosts;
        self.hosts.set_local(self.local_rows());
        self.hosts.keep_selection();
        self.follow_selected()
    }

    /// This machine's newest jobs as the hosts view lists them (`local:ID`).
    fn local_rows(&self) -> Vec<ListView> {
        let row = |record| {
            let mut row = ListView::from(record);
            row.job_id = format!("{}:{}", crate::config::LOCAL_HOST, row.job_id);
            row
        };
        self.jobs.iter().take(LOCAL_ROWS).map(row).collect()
    }

    /// The view's rows of this machine, read again after its jobs changed.
    pub(super) fn sync_local_rows(&mut self) -> Vec<Effect> {
        if self.mode != Mode::Hosts {
            return Vec::new();
        }
        if self.hosts.set_local(self.local_rows()) { self.follow_selected() } else { Vec::new() }
    }

    /// Follows the selected row: a host's job through its host's task, one of this
    /// machine's as the main table does (its output read here).
    fn follow_selected(&mut self) -> Vec<Effect> {
        match self.hosts.selected.as_deref().and_then(local_id) {
            Some(id) => {
                let mut effects = vec![Effect::FollowHostJob(None)];
                effects.extend(self.select(Some(id)));
                effects
            }
            None => vec![Effect::FollowHostJob(self.hosts.selected.clone())],
        }
    }

    /// Closes the view and does `action` in the main table on this machine's job `id`,
    /// shown there first (the filters cleared when they hid it).
    fn in_main_table(&mut self, id: JobId, action: Option<Action>) -> Vec<Effect> {
        self.mode = Mode::Normal;
        self.hosts.asking = None;
        let mut effects = vec![Effect::FollowHostJob(None)];
        if !self.view.iter().any(|&index| self.jobs[index].id == id) {
            self.text_filter.clear();
            self.status_filter = StatusFilter::All;
            self.flash = Some(format!("filters cleared to show job {id}"));
            self.filter_view();
            effects.push(Effect::Remember(self.remembered()));
        }
        effects.extend(self.select(Some(id)));
        self.keep_selection_visible();
        if let Some(action) = action {
            effects.extend(self.apply(action));
        }
        effects
    }

    pub(super) fn apply_hosts(&mut self, action: Action) -> Vec<Effect> {
        let local = self.hosts.selected.as_deref().and_then(local_id);
        if let Some(id) = local
            && self.hosts.asking.is_none()
        {
            match action {
                Action::Zoom => return self.in_main_table(id, None),
                Action::AskCancel | Action::AskApply | Action::AskDiscard | Action::Diff | Action::FollowUp | Action::OpenPager => {
                    return self.in_main_table(id, Some(action));
                }
                _ => {}
            }
        }
        if let Some((act, job)) = self.hosts.asking.clone() {
            match action {
                Action::Answer(true) => {
                    self.hosts.asking = None;
                    return self.on_host(act, job);
                }
                Action::Answer(false) | Action::Back => self.hosts.asking = None,
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
            Action::AskCancel => self.ask_on_host(HostAct::Cancel),
            Action::AskApply => self.ask_on_host(HostAct::Apply),
            Action::AskDiscard => self.ask_on_host(HostAct::Discard),
            Action::Diff => self.ask_on_host(HostAct::Diff),
            Action::FollowUp => {
                self.follow_up_on_host();
                Vec::new()
            }
            Action::NewJob => {
                self.new_job_on_host();
                Vec::new()
            }
            Action::OpenPager => self.open_host_text(),
            Action::Back if self.hosts.change.is_some() => {
                self.hosts.change = None;
                Vec::new()
            }
            Action::Back | Action::Hosts => {
                self.mode = Mode::Normal;
                self.hosts.asking = None;
                // The main table shows its own selection's output again.
                let mut effects = vec![Effect::FollowHostJob(None)];
                effects.extend(self.refresh_view());
                effects
            }
            Action::Quit => {
                self.quit = true;
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    fn move_host_selection(&mut self, by: isize) -> Vec<Effect> {
        if self.hosts.move_by(by) { self.follow_selected() } else { Vec::new() }
    }

    /// Asks before `act` (or does it, when it changes nothing), if it can be done to the
    /// selected job: not to one whose host cannot be reached, nor cancel one that ended,
    /// nor apply or discard one still running.
    fn ask_on_host(&mut self, act: HostAct) -> Vec<Effect> {
        let Some((panel, row)) = self.hosts.selected_row() else {
            self.flash = Some("no host's job selected".to_owned());
            return Vec::new();
        };
        let job = row.job_id.clone();
        let unfinished = matches!(row.status.as_str(), "running" | "pending" | "paused");
        let why_not = if !panel.reachable() {
            Some(format!("host {} cannot be reached now: try again once it answers", panel.name))
        } else if act == HostAct::Cancel && !unfinished {
            Some(format!("job {job} has ended ({}): nothing to cancel", row.status))
        } else if matches!(act, HostAct::Apply | HostAct::Discard) && unfinished {
            Some(format!("job {job} is {}: its change is applied or discarded once it has ended", row.status))
        } else if matches!(act, HostAct::Apply | HostAct::Discard) && row.branch.is_none() {
            Some(format!("job {job} did not run in a worktree: its change is in its folder on its host already"))
        } else {
            None
        };
        if let Some(why) = why_not {
            self.flash = Some(why);
            return Vec::new();
        }
        if act.question(&job).is_some() {
            self.hosts.asking = Some((act, job));
            return Vec::new();
        }
        self.on_host(act, job)
    }

    fn on_host(&mut self, act: HostAct, job: String) -> Vec<Effect> {
        if act == HostAct::Diff {
            self.hosts.change = Some((job.clone(), None));
        }
        self.flash = Some(format!("{} {job} on its host…", act.doing()));
        vec![Effect::OnHost { job, act }]
    }

    /// `r`: the job form, as a follow-up of the selected job, sent to its host.
    fn follow_up_on_host(&mut self) {
        let Some((_, row)) = self.hosts.selected_row() else { return };
        if matches!(row.status.as_str(), "running" | "pending" | "paused") {
            self.flash = Some(format!("job {} is {}: a follow-up continues a finished job", row.job_id, row.status));
            return;
        }
        let Ok(crate::hosts::JobRef::Remote { host, id }) = crate::hosts::job_ref(None, &row.job_id) else { return };
        let Ok(id) = crate::jobs::JobId::parse(&id) else { return };
        let agent = row.agent.clone().unwrap_or_else(|| "codex".to_owned());
        let policy = row.approval_policy.as_deref().and_then(|policy| policy.parse().ok()).unwrap_or(self.default_policy);
        let parent = Parent { id, cwd: row.cwd.clone(), agent, host: Some(host) };
        self.mode = Mode::NewJob(Box::new(NewJobForm::follow_up(parent, policy, self.recall())));
    }

    /// `n` in the hosts view: the job form with the selected job's host and folder.
    fn new_job_on_host(&mut self) {
        // The folder came from another machine: it is shown in a text field, made safe.
        let (host, cwd) = match self.hosts.selected_row() {
            Some((panel, row)) => (panel.name.clone(), crate::tui::model::text::sanitize(&row.cwd, 4096, false)),
            None => (self.hosts.panels.first().map(|panel| panel.name.clone()).unwrap_or_default(), String::new()),
        };
        let mut form = NewJobForm::new(&cwd, self.default_policy, self.agents.clone(), &self.default_agent, self.recall());
        form.hosts = self.host_choices();
        form.host = host;
        form.back_to_hosts = true;
        self.mode = Mode::NewJob(Box::new(form));
    }

    /// This machine, then every configured host: what the form's host field offers.
    pub(super) fn host_choices(&self) -> Vec<String> {
        let mut choices = vec![crate::config::LOCAL_HOST.to_owned()];
        choices.extend(self.hosts.panels.iter().map(|panel| panel.name.clone()));
        choices
    }

    /// `o`: what the view shows below the rows (the change, or the output) in the pager.
    fn open_host_text(&mut self) -> Vec<Effect> {
        let text = match (&self.hosts.change, &self.hosts.output) {
            (Some((_, Some(change))), _) => change.clone(),
            (Some((_, None)), _) => return Vec::new(),
            (None, Some((_, output))) => output.clone(),
            (None, None) => {
                self.flash = Some("nothing to read yet".to_owned());
                return Vec::new();
            }
        };
        vec![Effect::Open { viewer: Viewer::Pager, job: None, text: Some(text) }]
    }

    /// What a host's task said; the job to follow when the selection moved with it.
    pub(super) fn heard_from_host(&mut self, event: WatchEvent) -> Vec<Effect> {
        let moved = self.hosts.heard(event);
        if moved && self.mode == Mode::Hosts { self.follow_selected() } else { Vec::new() }
    }

    /// What was done on a host: a line for the footer, or the change to show.
    pub(super) fn done_on_host(&mut self, job: &str, act: HostAct, outcome: Result<String, String>) {
        match (act, outcome) {
            (HostAct::Diff, Ok(text)) => {
                if self.hosts.change.as_ref().is_some_and(|(shown, _)| shown == job) {
                    self.hosts.change = Some((job.to_owned(), Some(text)));
                    self.flash = Some(format!("the change of {job} (o: read it whole in the pager, Esc: its output)"));
                }
            }
            (HostAct::Diff, Err(err)) => {
                self.hosts.change = None;
                self.flash = Some(format!("could not read the change of {job}: {err}"));
            }
            (_, Ok(said)) => self.flash = Some(format!("{job}: {said}")),
            (act, Err(err)) => self.flash = Some(format!("{} {job} failed: {err}", act.doing())),
        }
    }
}

/// This machine's job a hosts-view row names (`local:ID`), if it is one.
fn local_id(job: &str) -> Option<JobId> {
    job.strip_prefix(crate::config::LOCAL_HOST).and_then(|rest| rest.strip_prefix(':')).and_then(|id| JobId::parse(id).ok())
}
