//! How a person's actions change the dashboard's state: keys in table, output pane,
//! filter box, confirmations and the new-job form. Each returns the effects the
//! runtime must carry out.

use crate::jobs::JobRecord;

use super::app::{Action, App, Confirm, ConfirmKind, Effect, Focus, Mode};
use super::form::{FormRequest, NewJobForm, Parent};

impl App {
    fn click(&mut self, column: u16, row: u16) -> Vec<Effect> {
        let areas = super::layout::areas(self);
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

    /// Applies a person's action.
    pub fn apply(&mut self, action: Action) -> Vec<Effect> {
        self.dirty = true;
        if !matches!(action, Action::Resize(..)) {
            self.flash = None;
        }
        match (&mut self.mode, action) {
            (_, Action::Resize(width, height)) => {
                self.size = (width, height);
                self.keep_selection_visible();
                Vec::new()
            }
            (Mode::Help, Action::Back | Action::Help | Action::Submit) => {
                self.mode = Mode::Normal;
                Vec::new()
            }
            (Mode::Help, Action::Quit) => {
                self.quit = true;
                Vec::new()
            }
            (Mode::Help, Action::Up) => {
                self.help_scroll = self.help_scroll.saturating_sub(1);
                Vec::new()
            }
            (Mode::Help, Action::Down) => {
                self.help_scroll = (self.help_scroll + 1).min(super::overlay::help_lines().saturating_sub(1));
                Vec::new()
            }
            (Mode::Help, _) => Vec::new(),
            (Mode::Confirm(confirm), Action::Answer(yes)) => {
                let confirm = confirm.clone();
                self.mode = Mode::Normal;
                if !yes {
                    return Vec::new();
                }
                match confirm.kind {
                    ConfirmKind::Cancel => {
                        self.cancelling.insert(confirm.id.clone());
                        self.flash = Some(format!("cancelling {}…", confirm.id));
                        vec![Effect::Cancel(confirm.id)]
                    }
                    ConfirmKind::Delete => vec![Effect::Delete(confirm.id)],
                }
            }
            (Mode::Confirm(_), Action::Back) => {
                self.mode = Mode::Normal;
                Vec::new()
            }
            (Mode::Confirm(_), _) => Vec::new(),
            (Mode::Filter, action) => self.apply_filter_input(action),
            (Mode::Search(query), action) => match action {
                Action::Type(ch) => {
                    query.push(ch);
                    Vec::new()
                }
                Action::Erase => {
                    query.pop();
                    Vec::new()
                }
                Action::Submit => {
                    let query = std::mem::take(query);
                    self.mode = Mode::Normal;
                    self.start_search(query)
                }
                Action::Back => {
                    self.mode = Mode::Normal;
                    Vec::new()
                }
                _ => Vec::new(),
            },
            (Mode::NewJob(form), action) => match action {
                Action::Back => {
                    self.mode = Mode::Normal;
                    Vec::new()
                }
                Action::Submit => match form.request() {
                    Ok(request) if !form.submitting => {
                        form.submitting = true;
                        form.error = None;
                        vec![match request {
                            FormRequest::Start { prompt, cwd, policy, agent } => Effect::Start { prompt, cwd, policy, agent },
                            FormRequest::Reply { parent, prompt, policy } => Effect::Reply { parent, prompt, policy },
                        }]
                    }
                    Ok(_) => Vec::new(),
                    Err(err) => {
                        form.error = Some(err);
                        Vec::new()
                    }
                },
                other => {
                    form.edit(&other);
                    Vec::new()
                }
            },
            (Mode::Normal, action) => self.apply_normal(action),
        }
    }

    fn apply_filter_input(&mut self, action: Action) -> Vec<Effect> {
        match action {
            Action::Type(ch) => {
                self.text_filter.push(ch);
                self.refresh_view()
            }
            Action::Erase => {
                self.text_filter.pop();
                self.refresh_view()
            }
            Action::Submit => {
                self.mode = Mode::Normal;
                Vec::new()
            }
            Action::Back => {
                self.mode = Mode::Normal;
                self.text_filter.clear();
                self.refresh_view()
            }
            _ => Vec::new(),
        }
    }

    fn apply_normal(&mut self, action: Action) -> Vec<Effect> {
        let output_keys = self.zoom || self.focus == Focus::Output;
        match action {
            Action::Quit => {
                self.quit = true;
                Vec::new()
            }
            Action::Help => {
                self.mode = Mode::Help;
                self.help_scroll = 0;
                Vec::new()
            }
            Action::ToggleFocus => {
                self.focus = if self.focus == Focus::Table { Focus::Output } else { Focus::Table };
                Vec::new()
            }
            Action::Zoom => {
                self.zoom = !self.zoom;
                Vec::new()
            }
            Action::Back => {
                if self.zoom {
                    self.zoom = false;
                } else if self.pane.search.is_some() {
                    self.pane.search = None;
                } else if !self.text_filter.is_empty() {
                    self.text_filter.clear();
                    return self.refresh_view();
                }
                Vec::new()
            }
            Action::Up if !output_keys => self.select_row(self.selected_row().map_or(0, |row| row.saturating_sub(1))),
            Action::Down if !output_keys => self.select_row(self.selected_row().map_or(0, |row| row + 1)),
            Action::First if !output_keys => self.select_row(0),
            Action::Last if !output_keys => self.select_row(self.view.len().saturating_sub(1)),
            Action::Up => self.scroll_output(-1),
            Action::Down => self.scroll_output(1),
            Action::Wheel(lines) => self.scroll_output(lines),
            Action::Click(column, row) => self.click(column, row),
            Action::PageUp => self.scroll_output(-i32::from(super::layout::output_rows(self).max(2) - 1)),
            Action::PageDown => self.scroll_output(i32::from(super::layout::output_rows(self).max(2) - 1)),
            Action::First => self.output_home(),
            Action::Last => self.output_follow(),
            Action::AskCancel => {
                match self.selected_record() {
                    Some(JobRecord { id, meta: Ok(meta), .. }) if !meta.status.is_finished() => {
                        self.mode = Mode::Confirm(Confirm { kind: ConfirmKind::Cancel, id: id.clone(), prompt: meta.prompt.clone() });
                    }
                    Some(record) => self.flash = Some(format!("job {} is not running", record.id)),
                    None => self.flash = Some("no job selected".to_owned()),
                }
                Vec::new()
            }
            Action::AskDelete => {
                match self.selected_record() {
                    Some(JobRecord { id, meta: Ok(meta), .. }) if !meta.status.is_finished() => {
                        self.flash = Some(format!("job {id} is still running: cancel it first (c)"));
                    }
                    Some(record) if self.is_starting(record) => {
                        self.flash = Some(format!("job {} is still starting", record.id));
                    }
                    Some(record) => {
                        let prompt =
                            record.meta.as_ref().map(|meta| meta.prompt.clone()).unwrap_or_else(|reason| format!("(corrupt: {reason})"));
                        self.mode = Mode::Confirm(Confirm { kind: ConfirmKind::Delete, id: record.id.clone(), prompt });
                    }
                    None => self.flash = Some("no job selected".to_owned()),
                }
                Vec::new()
            }
            Action::CycleStatusFilter => {
                self.status_filter = self.status_filter.next();
                self.refresh_view()
            }
            Action::EditFilter => {
                self.mode = Mode::Filter;
                Vec::new()
            }
            Action::EditSearch => {
                self.mode = Mode::Search(String::new());
                Vec::new()
            }
            Action::NextMatch => self.jump_match(true),
            Action::PrevMatch => self.jump_match(false),
            Action::ToggleWrap => {
                self.pane.wrap = !self.pane.wrap;
                Vec::new()
            }
            Action::CopyId => match &self.selected {
                Some(id) => {
                    self.flash = Some(format!("copied {id}"));
                    vec![Effect::Copy(id.to_string())]
                }
                None => Vec::new(),
            },
            Action::CopyLastMessage => self.selected.clone().map(Effect::CopyLastMessage).into_iter().collect(),
            Action::ToggleBell => {
                self.bell = !self.bell;
                self.flash = Some(format!("bell on finish: {}", if self.bell { "on" } else { "off" }));
                Vec::new()
            }
            Action::NewJob => {
                self.mode = Mode::NewJob(NewJobForm::new(&self.start_cwd, self.default_policy, self.agents.clone(), &self.default_agent));
                Vec::new()
            }
            Action::FollowUp => {
                match self.selected_record() {
                    Some(JobRecord { id, meta: Ok(meta), .. }) => match follow_up_form(id, meta) {
                        Ok(form) => self.mode = Mode::NewJob(form),
                        Err(why) => self.flash = Some(why),
                    },
                    Some(record) => self.flash = Some(format!("job {} is corrupt: it cannot be followed up", record.id)),
                    None => self.flash = Some("no job selected".to_owned()),
                }
                Vec::new()
            }
            Action::Answer(_)
            | Action::Type(_)
            | Action::Erase
            | Action::Submit
            | Action::NextField
            | Action::PrevField
            | Action::Left
            | Action::Right
            | Action::Resize(..) => Vec::new(),
        }
    }
}

/// The follow-up form for a job, or why it cannot be followed up (the engine checks again).
fn follow_up_form(id: &crate::jobs::JobId, meta: &crate::jobs::JobMeta) -> Result<NewJobForm, String> {
    if !meta.status.is_finished() {
        return Err(format!("job {id} is {}: a follow-up continues a finished job", meta.status));
    }
    let agent = meta.agent.clone().unwrap_or_else(|| "codex".to_owned());
    if !crate::jobs::agent::BUILT_IN.contains(&agent.as_str()) {
        return Err(format!("job {id} ran agent '{agent}', which cannot continue a conversation"));
    }
    if meta.session_id.is_none() {
        return Err(format!("job {id} has no session to continue (its agent never reported one)"));
    }
    let policy = meta.approval_policy.parse().unwrap_or_default();
    Ok(NewJobForm::follow_up(Parent { id: id.clone(), cwd: meta.cwd.clone(), agent }, policy))
}
