//! Keys on the table and the output (nothing open over them): moving, scrolling,
//! marking, and every action on the selected (or marked) jobs.

use crate::jobs::{JobId, JobRecord};

use super::scroll::Sideways;
use crate::tui::model::app::{Action, App, Confirm, ConfirmKind, Effect, Focus, Mode};
use crate::tui::model::filters::Shown;
use crate::tui::model::form::{NewJobForm, Parent, Recall};
use crate::tui::model::message::Viewer;

impl App {
    fn click(&mut self, column: u16, row: u16) -> Vec<Effect> {
        let areas = crate::tui::model::layout::areas(self);
        let position = ratatui::layout::Position::new(column, row);
        if areas.table.contains(position) && row > areas.table.y {
            self.focus = Focus::Table;
            return self.select_row(self.table_offset + usize::from(row - areas.table.y - 1));
        }
        if areas.output.contains(position) {
            self.focus = Focus::Output;
        }
        Vec::new()
    }

    /// The wheel acts on what is under the pointer.
    fn wheel(&mut self, rows: i32, column: u16, row: u16) -> Vec<Effect> {
        let areas = crate::tui::model::layout::areas(self);
        let position = ratatui::layout::Position::new(column, row);
        if areas.table.contains(position) {
            return self.move_selection(rows.signum() as isize);
        }
        self.scroll_output(rows)
    }

    pub(super) fn move_selection(&mut self, by: isize) -> Vec<Effect> {
        let row = self.selected_row().map_or(0, |row| row.saturating_add_signed(by));
        self.select_row(row.min(self.view.len().saturating_sub(1)))
    }

    fn page(&self) -> i32 {
        i32::from(crate::tui::model::layout::output_rows(self).max(2) - 1)
    }

    pub(super) fn apply_normal(&mut self, action: Action) -> Vec<Effect> {
        let output_keys = self.zoom || self.focus == Focus::Output;
        let table_page = usize::from(crate::tui::model::layout::table_rows(self).max(2) - 1) as isize;
        if let Some(effects) = self.on_attempt_set(&action) {
            return effects;
        }
        match action {
            Action::Quit => self.quit = true,
            Action::Hosts => return self.open_hosts(),
            Action::Help => {
                self.mode = Mode::Help;
                self.help_scroll = 0;
            }
            Action::ToggleFocus => self.focus = if self.focus == Focus::Table { Focus::Output } else { Focus::Table },
            Action::Zoom if output_keys && self.cut_line_on_screen().is_some() => return self.open_whole_line(),
            Action::Zoom => self.zoom = !self.zoom,
            Action::Back => return self.back(),
            Action::Up if !output_keys => return self.move_selection(-1),
            Action::Down if !output_keys => return self.move_selection(1),
            Action::First if !output_keys => return self.select_row(0),
            Action::Last if !output_keys => return self.select_row(self.view.len().saturating_sub(1)),
            Action::PageUp if !output_keys => return self.move_selection(-table_page),
            Action::PageDown if !output_keys => return self.move_selection(table_page),
            Action::Up => return self.scroll_output(-1),
            Action::Down => return self.scroll_output(1),
            Action::PageUp => return self.scroll_output(-self.page()),
            Action::PageDown => return self.scroll_output(self.page()),
            Action::First => return self.output_home(),
            Action::Last => return self.output_follow(),
            Action::Wheel { rows, column, row } => return self.wheel(rows, column, row),
            Action::Click(column, row) => return self.click(column, row),
            Action::ScrollLeft => return self.scroll_sideways(Sideways::Left),
            Action::ScrollRight => return self.scroll_sideways(Sideways::Right),
            Action::LineStart => return self.scroll_sideways(Sideways::Start),
            Action::LineEnd => return self.scroll_sideways(Sideways::End),
            Action::PrevJob => return self.move_selection(-1),
            Action::NextJob => return self.move_selection(1),
            Action::ToggleMark => {
                self.toggle_mark();
                return self.move_selection(1);
            }
            Action::MarkRange => self.mark_range(),
            Action::AskCancel => self.ask_cancel(),
            Action::AskDelete => self.ask_delete(),
            Action::AskClean => self.ask_clean(),
            Action::AskApply => self.ask_apply(),
            Action::AskDiscard => self.ask_discard(),
            Action::TogglePause => return self.toggle_pause(),
            Action::CycleStatusFilter => {
                self.status_filter = self.status_filter.next();
                return self.remembering(|app| app.refresh_view());
            }
            Action::CycleSort => {
                self.sort = self.sort.next();
                self.flash = Some(format!("sorted by {}", self.sort.name()));
                return self.remembering(|app| app.refresh_view());
            }
            Action::EditFilter => self.open_input(false),
            Action::EditSearch => self.open_input(true),
            Action::NextMatch => return self.jump_match(true),
            Action::PrevMatch => return self.jump_match(false),
            Action::ToggleWrap => {
                let wrap = !self.pane.wrap;
                for pane in [Some(&mut self.pane), self.document.as_mut().map(|document| &mut document.pane)].into_iter().flatten() {
                    pane.wrap = wrap;
                    pane.top_row = 0;
                    pane.left = 0;
                }
                return vec![Effect::Remember(self.remembered())];
            }
            Action::CopyId => return self.copy(),
            Action::CopyLastMessage => return self.selected.clone().map(Effect::CopyLastMessage).into_iter().collect(),
            Action::ToggleBell => {
                self.bell = !self.bell;
                self.flash = Some(format!("bell when a job ends: {}", if self.bell { "on" } else { "off" }));
                return vec![Effect::Remember(self.remembered())];
            }
            Action::ToggleNotify => {
                self.notify = !self.notify;
                let how = if self.notify { "on (OSC 9 / OSC 777: kitty, WezTerm, iTerm2, foot)" } else { "off" };
                self.flash = Some(format!("desktop notice when a job ends: {how}"));
                return vec![Effect::Remember(self.remembered())];
            }
            Action::NewJob => {
                let mut form = NewJobForm::new(
                    &self.start_cwd.display().to_string(),
                    self.default_policy,
                    self.agents.clone(),
                    &self.default_agent,
                    self.recall(),
                );
                form.worktree = self.worktree_by_default;
                form.hosts = self.host_choices();
                self.mode = Mode::NewJob(Box::new(form));
            }
            Action::FollowUp => self.follow_up(),
            Action::Rerun => return self.rerun(),
            Action::Detail => return self.open_detail(),
            Action::Diff => return self.open_diff(),
            Action::Approval => return self.open_approval(),
            Action::WholeLine => return self.open_whole_line(),
            Action::OpenPager => return self.open_in(Viewer::Pager),
            Action::OpenEditor => return self.open_in(Viewer::Editor),
            Action::Answer(_)
            | Action::AnswerDiscardOthers
            | Action::ApproveAlways
            | Action::Edit(_)
            | Action::Submit
            | Action::NextField
            | Action::PrevField
            | Action::Left
            | Action::Right
            | Action::Resize(..) => {}
        }
        Vec::new()
    }

    /// Runs `change`, then remembers the settings.
    fn remembering(&mut self, change: impl FnOnce(&mut App) -> Vec<Effect>) -> Vec<Effect> {
        let mut effects = change(self);
        effects.push(Effect::Remember(self.remembered()));
        effects
    }

    /// Esc: the innermost thing goes — a view, zoom, the search, the marks, the filter.
    fn back(&mut self) -> Vec<Effect> {
        if self.document.is_some() {
            self.document = None;
        } else if self.zoom {
            self.zoom = false;
        } else if self.pane.search.is_some() {
            self.pane.search = None;
            if let Some(job) = &self.pane.job {
                self.searches.remove(job);
            }
        } else if !self.marked.is_empty() {
            self.marked.clear();
            self.mark_anchor = None;
        } else if !self.text_filter.is_empty() {
            self.text_filter.clear();
            return self.remembering(|app| app.refresh_view());
        }
        Vec::new()
    }

    pub(super) fn recall(&self) -> Recall {
        Recall::new(self.prompts.clone(), self.folders.clone())
    }

    fn copy(&mut self) -> Vec<Effect> {
        if let Some(document) = &self.document {
            self.flash = Some(self.sent_to_clipboard(&format!("the {}", document.title)));
            let plain: Vec<String> = document.text.lines().map(|line| crate::term::sanitize_line(line, usize::MAX, false)).collect();
            return vec![Effect::Copy(plain.join("\n"))];
        }
        match &self.selected {
            Some(id) => {
                self.flash = Some(self.sent_to_clipboard(&format!("job id {id}")));
                vec![Effect::Copy(id.to_string())]
            }
            None => Vec::new(),
        }
    }

    fn toggle_mark(&mut self) {
        let Some(id) = self.selected.clone() else { return };
        if !self.marked.remove(&id) {
            self.marked.insert(id.clone());
        }
        self.mark_anchor = Some(id);
        self.flash = Some(format!("{} marked: c cancels, d deletes them all; V marks up to here; Esc unmarks", self.marked.len()));
    }

    /// Marks the rows from the anchor (the row last marked) to the selected one, both
    /// included; without an anchor still shown, the selected row becomes it.
    fn mark_range(&mut self) {
        let Some(here) = self.selected_row() else {
            self.flash = Some("no job selected".to_owned());
            return;
        };
        let anchor = self.mark_anchor.as_ref().and_then(|anchor| self.view.iter().position(|&index| &self.jobs[index].id == anchor));
        let Some(anchor) = anchor else {
            let id = self.jobs[self.view[here]].id.clone();
            let indices = self.attempts.set_at(here).map_or_else(|| vec![self.view[here]], |set| set.members.clone());
            self.marked.extend(indices.into_iter().map(|index| self.jobs[index].id.clone()));
            self.mark_anchor = Some(id);
            self.flash = Some(format!("{} marked: move, then V marks every row up to there", self.marked.len()));
            return;
        };
        let (from, to) = (anchor.min(here), anchor.max(here));
        for row in from..=to {
            // An attempt set's row marks every attempt of the set.
            let indices = self.attempts.set_at(row).map_or_else(|| vec![self.view[row]], |set| set.members.clone());
            self.marked.extend(indices.into_iter().map(|index| self.jobs[index].id.clone()));
        }
        self.mark_anchor = self.selected.clone();
        self.flash =
            Some(format!("{} marked ({} in this range): c cancels, d deletes them all; Esc unmarks", self.marked.len(), to - from + 1));
    }

    /// The marked jobs still listed, or else the selected one (every attempt of a
    /// set whose row is selected).
    fn targets(&self) -> Vec<&JobRecord> {
        if let (true, Some(set)) = (self.marked.is_empty(), self.selected_set()) {
            return set.members.iter().map(|&index| &self.jobs[index]).collect();
        }
        if self.marked.is_empty() {
            return self.selected_record().into_iter().collect();
        }
        self.jobs.iter().filter(|record| self.marked.contains(&record.id)).collect()
    }

    fn ask(&mut self, kind: ConfirmKind, ids: Vec<JobId>, skipped: usize) {
        let prompt = match ids.as_slice() {
            [one] => self
                .jobs
                .iter()
                .find(|record| &record.id == one)
                .map(|record| record.meta.as_ref().map(|meta| meta.prompt.clone()).unwrap_or_else(|reason| format!("(corrupt: {reason})")))
                .unwrap_or_default(),
            many => many.iter().map(|id| id.as_str()).collect::<Vec<_>>().join(" "),
        };
        self.mode = Mode::Confirm(Confirm { kind, ids, prompt, skipped });
    }

    fn ask_cancel(&mut self) {
        let targets = self.targets();
        if targets.is_empty() {
            self.flash = Some("no job selected".to_owned());
            return;
        }
        let shown: Vec<(JobId, Shown)> = targets.iter().map(|record| (record.id.clone(), self.shown_status(record))).collect();
        let stopping: Vec<JobId> = shown.iter().filter(|(_, shown)| *shown == Shown::Stopping).map(|(id, _)| id.clone()).collect();
        let cancellable: Vec<JobId> = shown
            .iter()
            .filter(|(_, shown)| matches!(shown, Shown::Stored(status) if !status.is_finished()) || *shown == Shown::Lost)
            .map(|(id, _)| id.clone())
            .collect();
        if !cancellable.is_empty() {
            let skipped = shown.len() - cancellable.len();
            self.ask(ConfirmKind::Cancel, cancellable, skipped);
        } else if !stopping.is_empty() {
            let skipped = shown.len() - stopping.len();
            self.ask(ConfirmKind::Kill, stopping, skipped);
        } else if let [(id, _)] = shown.as_slice() {
            self.flash = Some(format!("job {id} is not running"));
        } else {
            self.flash = Some(format!("none of the {} marked jobs is running", shown.len()));
        }
    }

    fn ask_delete(&mut self) {
        let targets = self.targets();
        let shown: Vec<(JobId, Shown)> = targets.iter().map(|record| (record.id.clone(), self.shown_status(record))).collect();
        let deletable: Vec<JobId> = shown
            .iter()
            .filter(|(_, shown)| matches!(shown, Shown::Stored(status) if status.is_finished()) || *shown == Shown::Corrupt)
            .map(|(id, _)| id.clone())
            .collect();
        match (shown.as_slice(), deletable.is_empty()) {
            ([], _) => self.flash = Some("no job selected".to_owned()),
            ([(id, Shown::Starting)], _) => self.flash = Some(format!("job {id} is still starting")),
            ([(id, _)], true) => self.flash = Some(format!("job {id} is still running: cancel it first (c)")),
            (_, true) => self.flash = Some(format!("none of the {} marked jobs has finished", shown.len())),
            (_, false) => {
                let skipped = shown.len() - deletable.len();
                self.ask(ConfirmKind::Delete, deletable, skipped);
            }
        }
    }

    fn ask_clean(&mut self) {
        let finished: Vec<JobId> = self
            .jobs
            .iter()
            .filter(|record| record.meta.as_ref().is_ok_and(|meta| meta.status.is_finished()))
            .map(|record| record.id.clone())
            .collect();
        if finished.is_empty() {
            self.flash = Some("no finished job to remove".to_owned());
            return;
        }
        self.mode = Mode::Confirm(Confirm { kind: ConfirmKind::Clean, ids: finished, prompt: String::new(), skipped: 0 });
    }

    fn follow_up(&mut self) {
        let recall = self.recall();
        match self.selected_record() {
            Some(JobRecord { id, meta: Ok(meta), .. }) => match follow_up_form(id, meta, recall) {
                Ok(form) => self.mode = Mode::NewJob(Box::new(form)),
                Err(why) => self.flash = Some(why),
            },
            Some(record) => self.flash = Some(format!("job {} is corrupt: it cannot be followed up", record.id)),
            None => self.flash = Some("no job selected".to_owned()),
        }
    }

    fn rerun(&mut self) -> Vec<Effect> {
        match self.selected_record() {
            Some(JobRecord { id, meta: Ok(meta), .. }) if !meta.status.is_finished() => {
                self.flash = Some(format!("job {id} is {}: R runs a finished job again", meta.status));
                Vec::new()
            }
            Some(JobRecord { id, meta: Ok(meta), .. }) if meta.prompt_file.is_some() => {
                let id = id.clone();
                self.flash = Some(format!("reading the prompt of {id}…"));
                vec![Effect::ReadPrompt(id)]
            }
            Some(JobRecord { id, meta: Ok(meta), .. }) => {
                let (id, prompt) = (id.clone(), meta.prompt.clone());
                self.open_rerun(&id, &prompt);
                Vec::new()
            }
            Some(record) => {
                self.flash = Some(format!("job {} is corrupt: nothing to run again", record.id));
                Vec::new()
            }
            None => Vec::new(),
        }
    }

    /// The form filled in from job `id`, with `prompt` (read whole when it was long).
    pub(super) fn open_rerun(&mut self, id: &JobId, prompt: &str) {
        let Some(JobRecord { meta: Ok(meta), .. }) = self.jobs.iter().find(|record| &record.id == id) else { return };
        let policy = meta.approval_policy.parse().unwrap_or(self.default_policy);
        let wanted = meta.details.agent.clone().unwrap_or_else(|| "codex".to_owned());
        let known = self.agents.contains(&wanted);
        let agent = if known { wanted.clone() } else { self.default_agent.clone() };
        let mut form = NewJobForm::new(&meta.cwd, policy, self.agents.clone(), &agent, self.recall());
        form.prompt.set_text(prompt);
        form.rerun_of = Some(id.clone());
        if !known {
            form.error = Some(format!("job {id} ran agent '{wanted}', which is not configured here: {agent} is chosen"));
        }
        self.mode = Mode::NewJob(Box::new(form));
    }

    fn open_in(&mut self, viewer: Viewer) -> Vec<Effect> {
        if let Some(document) = &self.document {
            return vec![Effect::Open { viewer, job: None, text: Some(document.text.clone()) }];
        }
        match &self.selected {
            Some(id) => vec![Effect::Open { viewer, job: Some(id.clone()), text: None }],
            None => {
                self.flash = Some("no job selected".to_owned());
                Vec::new()
            }
        }
    }
}

/// The follow-up form for a job, or why it cannot be followed up (the engine checks again).
fn follow_up_form(id: &JobId, meta: &crate::jobs::JobMeta, recall: Recall) -> Result<NewJobForm, String> {
    if !meta.status.is_finished() {
        return Err(format!("job {id} is {}: a follow-up continues a finished job", meta.status));
    }
    let agent = meta.details.agent.clone().unwrap_or_else(|| "codex".to_owned());
    if !crate::jobs::Agents::BUILT_IN.contains(&agent.as_str()) {
        return Err(format!("job {id} ran agent '{agent}', which cannot continue a conversation"));
    }
    if meta.details.session_id.is_none() {
        return Err(format!("job {id} has no session to continue (its agent never reported one)"));
    }
    let policy = meta.approval_policy.parse().unwrap_or_default();
    Ok(NewJobForm::follow_up(Parent { id: id.clone(), cwd: meta.cwd.clone(), agent, host: None }, policy, recall))
}
