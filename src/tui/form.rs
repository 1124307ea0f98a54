//! The job form: a new job (`n`: prompt, cwd, agent, policy) or a follow-up of a
//! finished job (`r`: prompt and policy; the folder and agent are the parent's),
//! checked before anything starts.

use std::path::{Path, PathBuf};

use crate::jobs::{ApprovalPolicy, JobId};

use super::message::Action;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Prompt,
    Cwd,
    Agent,
    Policy,
}

/// What a follow-up continues.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parent {
    pub id: JobId,
    pub cwd: String,
    pub agent: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewJobForm {
    pub prompt: String,
    pub cwd: String,
    pub policy: ApprovalPolicy,
    /// The agent chosen, one of `agents`.
    pub agent: String,
    pub agents: Vec<String>,
    /// Set for a follow-up: its folder and agent are the parent's.
    pub parent: Option<Parent>,
    pub field: Field,
    /// Why the last submit failed.
    pub error: Option<String>,
    /// Sent; waiting for the engine.
    pub submitting: bool,
}

/// What the form asks the engine for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FormRequest {
    Start { prompt: String, cwd: PathBuf, policy: ApprovalPolicy, agent: String },
    Reply { parent: JobId, prompt: String, policy: ApprovalPolicy },
}

impl NewJobForm {
    pub fn new(cwd: &Path, policy: ApprovalPolicy, agents: Vec<String>, agent: &str) -> Self {
        NewJobForm {
            prompt: String::new(),
            cwd: cwd.display().to_string(),
            policy,
            agent: agent.to_owned(),
            agents,
            parent: None,
            field: Field::Prompt,
            error: None,
            submitting: false,
        }
    }

    /// A follow-up of `parent`, with its policy to start from.
    pub fn follow_up(parent: Parent, policy: ApprovalPolicy) -> Self {
        NewJobForm {
            prompt: String::new(),
            cwd: parent.cwd.clone(),
            policy,
            agent: parent.agent.clone(),
            agents: vec![parent.agent.clone()],
            parent: Some(parent),
            field: Field::Prompt,
            error: None,
            submitting: false,
        }
    }

    /// The fields that can be changed, in Tab order.
    pub fn fields(&self) -> &'static [Field] {
        if self.parent.is_some() { &[Field::Prompt, Field::Policy] } else { &[Field::Prompt, Field::Cwd, Field::Agent, Field::Policy] }
    }

    /// Applies an editing action to the focused field.
    pub fn edit(&mut self, action: &Action) {
        if self.submitting {
            return;
        }
        let fields = self.fields();
        let at = fields.iter().position(|&field| field == self.field).unwrap_or(0);
        match (self.field, action) {
            (_, Action::NextField) => self.field = fields[(at + 1) % fields.len()],
            (_, Action::PrevField) => self.field = fields[(at + fields.len() - 1) % fields.len()],
            (Field::Prompt, Action::Type(ch)) => self.prompt.push(*ch),
            (Field::Prompt, Action::Erase) => {
                self.prompt.pop();
            }
            (Field::Cwd, Action::Type(ch)) => self.cwd.push(*ch),
            (Field::Cwd, Action::Erase) => {
                self.cwd.pop();
            }
            (Field::Agent, Action::Right | Action::Type(' ')) => self.agent = next_of(&self.agents, &self.agent, 1),
            (Field::Agent, Action::Left) => self.agent = next_of(&self.agents, &self.agent, self.agents.len().saturating_sub(1)),
            (Field::Policy, Action::Right | Action::Type(' ')) => self.policy = cycle(self.policy, 1),
            (Field::Policy, Action::Left) => self.policy = cycle(self.policy, ApprovalPolicy::ALL.len() - 1),
            _ => {}
        }
        self.error = None;
    }

    /// The request to send, or why not yet. The engine checks the rest.
    pub fn request(&self) -> Result<FormRequest, String> {
        if self.prompt.trim().is_empty() {
            return Err("the prompt is empty: say what the agent should do".to_owned());
        }
        if let Some(parent) = &self.parent {
            return Ok(FormRequest::Reply { parent: parent.id.clone(), prompt: self.prompt.clone(), policy: self.policy });
        }
        if self.cwd.trim().is_empty() {
            return Err("give the folder the agent works in".to_owned());
        }
        Ok(FormRequest::Start {
            prompt: self.prompt.clone(),
            cwd: PathBuf::from(self.cwd.trim()),
            policy: self.policy,
            agent: self.agent.clone(),
        })
    }
}

fn next_of(all: &[String], current: &str, step: usize) -> String {
    if all.is_empty() {
        return current.to_owned();
    }
    let at = all.iter().position(|name| name == current).unwrap_or(0);
    all[(at + step) % all.len()].clone()
}

fn cycle(policy: ApprovalPolicy, step: usize) -> ApprovalPolicy {
    let all = ApprovalPolicy::ALL;
    let at = all.iter().position(|&p| p == policy).unwrap_or(0);
    all[(at + step) % all.len()]
}
