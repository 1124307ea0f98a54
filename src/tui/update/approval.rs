//! `A`: the selected job's waiting approval request, answered from the dashboard — `y`
//! allow, `n` deny (then type an optional message for the agent, Enter sends it), `Y`
//! allow this tool for the rest of the job, `Esc` back. The answer is the engine's, so
//! the first one given anywhere (here, the CLI, an MCP client) wins; a late one is told.

use crossterm::event::{KeyCode, KeyEvent};

use crate::tui::model::app::{Action, App, ApprovalPrompt, Effect, Mode};
use crate::tui::model::field::TextField;

impl App {
    /// Opens the view of the selected job's oldest waiting request, if it has one.
    pub(super) fn open_approval(&mut self) -> Vec<Effect> {
        let Some(record) = self.selected_record() else {
            self.flash = Some("no job selected".to_owned());
            return Vec::new();
        };
        let waiting = record.meta.as_ref().ok().and_then(|meta| meta.details.approval.clone());
        match waiting {
            Some(request) => self.mode = Mode::Approval(Box::new(ApprovalPrompt { job: record.id.clone(), request, message: None })),
            None => self.flash = Some(format!("job {} is not waiting for approval", record.id)),
        }
        Vec::new()
    }

    /// An action while the approval view is open.
    pub(super) fn apply_approval(&mut self, action: Action) -> Vec<Effect> {
        let Mode::Approval(prompt) = &mut self.mode else { return Vec::new() };
        let answer = |prompt: &ApprovalPrompt, allow: bool, always: bool, message: Option<String>| Effect::Approve {
            job: prompt.job.clone(),
            number: prompt.request.request.number,
            allow,
            always,
            message,
        };
        let effect = match (&mut prompt.message, action) {
            // Typing the denial's message.
            (Some(field), Action::Edit(edit)) => {
                field.edit(&edit);
                return Vec::new();
            }
            (Some(field), Action::Submit) => {
                let message = Some(field.text()).filter(|text| !text.trim().is_empty());
                answer(prompt, false, false, message)
            }
            (Some(_), Action::Back) => {
                prompt.message = None;
                return Vec::new();
            }
            (Some(_), _) => return Vec::new(),
            (None, Action::Answer(true)) => answer(prompt, true, false, None),
            (None, Action::ApproveAlways) => answer(prompt, true, true, None),
            (None, Action::Answer(false)) => {
                let mut field = TextField::single_line("");
                field.set_focused(true);
                prompt.message = Some(field);
                return Vec::new();
            }
            (None, Action::Back) => {
                self.mode = Mode::Normal;
                return Vec::new();
            }
            (None, Action::Quit) => {
                self.quit = true;
                return Vec::new();
            }
            (None, _) => return Vec::new(),
        };
        self.flash = Some(format!("answering {}…", prompt.job));
        self.mode = Mode::Normal;
        vec![effect]
    }
}

/// Keys in the approval view: while the denial's message is typed, text keys.
pub(super) fn keys(prompt: &ApprovalPrompt, key: &KeyEvent, text_input: impl Fn(&KeyEvent) -> Option<Action>) -> Option<Action> {
    if prompt.message.is_some() {
        return text_input(key);
    }
    match key.code {
        KeyCode::Char('y') => Some(Action::Answer(true)),
        KeyCode::Char('Y') => Some(Action::ApproveAlways),
        KeyCode::Char('n') | KeyCode::Char('N') => Some(Action::Answer(false)),
        KeyCode::Esc | KeyCode::Char('A') => Some(Action::Back),
        KeyCode::Char('q') => Some(Action::Quit),
        _ => None,
    }
}
