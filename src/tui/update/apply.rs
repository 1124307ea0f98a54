//! How a person's actions change the dashboard's state, by what is open: help,
//! confirmations, the filter and search inputs, the job form (the table and output
//! are in [`super::normal`]). Each returns the effects the runtime must carry out.

use crate::tui::model::app::{Action, App, Confirm, ConfirmKind, Effect, Mode};
use crate::tui::model::form::{FormNeed, FormRequest};
use crate::tui::model::help;
use crate::tui::model::remembered::Remembered;

impl App {
    /// Applies a person's action.
    pub fn apply(&mut self, action: Action) -> Vec<Effect> {
        self.dirty = true;
        if !matches!(action, Action::Resize(..)) {
            self.flash = None;
        }
        if let Action::Resize(width, height) = action {
            self.size = (width, height);
            self.keep_selection_visible();
            return Vec::new();
        }
        match &mut self.mode {
            Mode::Help => self.apply_help(action),
            Mode::Approval(_) => self.apply_approval(action),
            Mode::Confirm(confirm) => match action {
                Action::Answer(yes) => {
                    let confirm = confirm.clone();
                    self.mode = Mode::Normal;
                    if yes { self.confirmed(confirm) } else { Vec::new() }
                }
                Action::AnswerDiscardOthers if confirm.offers_discard_others() => {
                    let id = confirm.ids[0].clone();
                    self.mode = Mode::Normal;
                    self.marked.clear();
                    self.mark_anchor = None;
                    self.flash = Some(format!("applying {id}, then discarding the other attempts…"));
                    vec![Effect::ApplyDiscardingOthers(id)]
                }
                Action::Back => {
                    self.mode = Mode::Normal;
                    Vec::new()
                }
                _ => Vec::new(),
            },
            Mode::Filter(_) => self.apply_filter_input(action),
            Mode::Search(field) => match action {
                Action::Edit(edit) => {
                    field.edit(&edit);
                    Vec::new()
                }
                Action::Submit => {
                    let query = field.text();
                    self.mode = Mode::Normal;
                    self.start_search(&query)
                }
                Action::Back => {
                    self.mode = Mode::Normal;
                    Vec::new()
                }
                _ => Vec::new(),
            },
            Mode::NewJob(_) => self.apply_form(action),
            Mode::Hosts => self.apply_hosts(action),
            Mode::Normal => self.apply_normal(action),
        }
    }

    fn apply_help(&mut self, action: Action) -> Vec<Effect> {
        let last = help::lines(self).count().saturating_sub(1);
        match action {
            Action::Back | Action::Help | Action::Submit => self.mode = Mode::Normal,
            Action::Quit => self.quit = true,
            Action::Up => self.help_scroll = self.help_scroll.saturating_sub(1),
            Action::Down => self.help_scroll = (self.help_scroll + 1).min(last),
            Action::PageUp => self.help_scroll = self.help_scroll.saturating_sub(10),
            Action::PageDown => self.help_scroll = (self.help_scroll + 10).min(last),
            _ => {}
        }
        Vec::new()
    }

    fn confirmed(&mut self, confirm: Confirm) -> Vec<Effect> {
        self.marked.clear();
        self.mark_anchor = None;
        match confirm.kind {
            ConfirmKind::Cancel => {
                self.flash = Some(match confirm.ids.as_slice() {
                    [one] => format!("cancelling {one}…"),
                    many => format!("cancelling {} jobs…", many.len()),
                });
                self.cancelling.extend(confirm.ids.iter().cloned());
                self.refresh_view();
                confirm.ids.into_iter().map(Effect::Cancel).collect()
            }
            ConfirmKind::Kill => {
                self.flash = Some(format!("killing {}…", confirm.ids.iter().map(|id| id.as_str()).collect::<Vec<_>>().join(", ")));
                confirm.ids.into_iter().map(Effect::Kill).collect()
            }
            ConfirmKind::Delete => confirm.ids.into_iter().map(Effect::Delete).collect(),
            ConfirmKind::Clean => {
                self.flash = Some("removing finished jobs…".to_owned());
                vec![Effect::Clean]
            }
            ConfirmKind::Apply => {
                self.flash = Some("applying…".to_owned());
                // Only the first: the others are its set's other attempts, kept.
                confirm.ids.into_iter().take(1).map(Effect::Apply).collect()
            }
            ConfirmKind::Discard => confirm.ids.into_iter().map(Effect::Discard).collect(),
        }
    }

    fn apply_filter_input(&mut self, action: Action) -> Vec<Effect> {
        let Mode::Filter(field) = &mut self.mode else { return Vec::new() };
        match action {
            Action::Edit(edit) => {
                if field.edit(&edit) {
                    self.text_filter = field.text();
                    return self.refresh_view();
                }
                Vec::new()
            }
            Action::Submit => {
                self.mode = Mode::Normal;
                vec![Effect::Remember(self.remembered())]
            }
            Action::Back => {
                self.mode = Mode::Normal;
                self.text_filter.clear();
                let mut effects = self.refresh_view();
                effects.push(Effect::Remember(self.remembered()));
                effects
            }
            _ => Vec::new(),
        }
    }

    fn apply_form(&mut self, action: Action) -> Vec<Effect> {
        let Mode::NewJob(form) = &mut self.mode else { return Vec::new() };
        match action {
            Action::Back => {
                self.mode = if form.back_to_hosts { Mode::Hosts } else { Mode::Normal };
                Vec::new()
            }
            Action::Submit => match form.request() {
                Ok(request) if !form.submitting => {
                    form.submitting = true;
                    form.error = None;
                    let effect = match request {
                        FormRequest::Start { prompt, cwd, policy, agent, rerun_of, worktree, after, starts } => {
                            Remembered::push(&mut self.prompts, &prompt);
                            Remembered::push(&mut self.folders, &form.cwd.text());
                            Effect::Start { prompt, cwd, policy, agent, rerun_of, worktree, after, starts }
                        }
                        FormRequest::Reply { parent, prompt, policy, after, starts } => {
                            Remembered::push(&mut self.prompts, &prompt);
                            Effect::Reply { parent, prompt, policy, after, starts }
                        }
                        FormRequest::OnHost { host, tool, arguments, policy } => {
                            if let Some(prompt) = arguments.get("prompt").and_then(serde_json::Value::as_str) {
                                Remembered::push(&mut self.prompts, prompt);
                            }
                            Effect::StartOnHost { host, tool, arguments, policy }
                        }
                    };
                    vec![effect, Effect::Remember(self.remembered())]
                }
                Ok(_) => Vec::new(),
                Err(err) => {
                    form.error = Some(err);
                    Vec::new()
                }
            },
            Action::NextField => match form.next_field() {
                Some(FormNeed::FolderMatches(typed)) => vec![Effect::FolderMatches(typed)],
                None => Vec::new(),
            },
            Action::PrevField => {
                form.prev_field();
                Vec::new()
            }
            Action::Left => {
                form.choose(false);
                Vec::new()
            }
            Action::Right => {
                form.choose(true);
                Vec::new()
            }
            Action::Edit(edit) => {
                form.edit(&edit);
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    /// Opens the search input, or the filter input with the filter as it is.
    pub(super) fn open_input(&mut self, search: bool) {
        self.mode = if search {
            Mode::Search(crate::tui::model::field::TextField::single_line(""))
        } else {
            Mode::Filter(crate::tui::model::field::TextField::single_line(&self.text_filter))
        };
    }
}
