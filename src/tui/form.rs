//! The new-job form (`n`): prompt, cwd and policy, checked before anything starts.

use std::path::{Path, PathBuf};

use crate::jobs::ApprovalPolicy;

use super::message::Action;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Prompt,
    Cwd,
    Policy,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewJobForm {
    pub prompt: String,
    pub cwd: String,
    pub policy: ApprovalPolicy,
    pub field: Field,
    /// Why the last submit failed.
    pub error: Option<String>,
    /// Sent; waiting for the engine.
    pub submitting: bool,
}

impl NewJobForm {
    pub fn new(cwd: &Path, policy: ApprovalPolicy) -> Self {
        NewJobForm { prompt: String::new(), cwd: cwd.display().to_string(), policy, field: Field::Prompt, error: None, submitting: false }
    }

    /// Applies an editing action to the focused field.
    pub fn edit(&mut self, action: &Action) {
        if self.submitting {
            return;
        }
        match (self.field, action) {
            (_, Action::NextField) => {
                self.field = match self.field {
                    Field::Prompt => Field::Cwd,
                    Field::Cwd => Field::Policy,
                    Field::Policy => Field::Prompt,
                }
            }
            (_, Action::PrevField) => {
                self.field = match self.field {
                    Field::Prompt => Field::Policy,
                    Field::Cwd => Field::Prompt,
                    Field::Policy => Field::Cwd,
                }
            }
            (Field::Prompt, Action::Type(ch)) => self.prompt.push(*ch),
            (Field::Prompt, Action::Erase) => {
                self.prompt.pop();
            }
            (Field::Cwd, Action::Type(ch)) => self.cwd.push(*ch),
            (Field::Cwd, Action::Erase) => {
                self.cwd.pop();
            }
            (Field::Policy, Action::Right | Action::Type(' ')) => self.policy = cycle(self.policy, 1),
            (Field::Policy, Action::Left) => self.policy = cycle(self.policy, ApprovalPolicy::ALL.len() - 1),
            _ => {}
        }
        self.error = None;
    }

    /// The request to send, or why not yet. The engine checks the cwd again.
    pub fn request(&self) -> Result<(String, PathBuf, ApprovalPolicy), String> {
        if self.prompt.trim().is_empty() {
            return Err("the prompt is empty: say what the agent should do".to_owned());
        }
        if self.cwd.trim().is_empty() {
            return Err("give the folder the agent works in".to_owned());
        }
        Ok((self.prompt.clone(), PathBuf::from(self.cwd.trim()), self.policy))
    }
}

fn cycle(policy: ApprovalPolicy, step: usize) -> ApprovalPolicy {
    let all = ApprovalPolicy::ALL;
    let at = all.iter().position(|&p| p == policy).unwrap_or(0);
    all[(at + step) % all.len()]
}
