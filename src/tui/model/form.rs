//! The job form: a new job (`n`: prompt, cwd, agent, policy), a re-run of a finished
//! one (`R`: the same, filled in) or a follow-up of a finished job (`r`: prompt and
//! policy; the folder and agent are the parent's), checked before anything starts.
//! With hosts configured, a new job's host is chosen too (this machine by default); a
//! follow-up goes to its parent's host.
//!
//! The prompt has lines; Up/Down recall earlier prompts when it is empty, and earlier
//! folders in the folder field, whose Tab completes folder names.

use std::path::PathBuf;

use crate::jobs::{ApprovalPolicy, JobId, Timestamp, parse_at};

use super::complete;
use super::field::{Edit, TextField};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Prompt,
    /// This machine or a configured host (←/→ or Space chooses).
    Host,
    Cwd,
    Agent,
    Policy,
    /// In place, or in a worktree of its own (←/→ or Space toggles).
    Isolation,
    /// Jobs that must end done before this one starts (ids or their starts).
    After,
    /// Not before: a delay (`20m`) or a time (`14:30`, RFC 3339).
    Starts,
}

/// What a follow-up continues.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parent {
    /// Its id (on its host, for a host's job).
    pub id: JobId,
    pub cwd: String,
    pub agent: String,
    /// The host it ran on; `None`: this machine.
    pub host: Option<String>,
}

/// Earlier prompts and folders, newest first, and which one is shown.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recall {
    pub prompts: Vec<String>,
    pub folders: Vec<String>,
    prompt_at: Option<usize>,
    folder_at: Option<usize>,
}

impl Recall {
    pub fn new(prompts: Vec<String>, folders: Vec<String>) -> Self {
        Recall { prompts, folders, prompt_at: None, folder_at: None }
    }
}

/// What a form edit asks of the dashboard besides changing the form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FormNeed {
    /// Tab in the folder field: the folders that start with this text.
    FolderMatches(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewJobForm {
    pub prompt: TextField,
    pub cwd: TextField,
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
    pub recall: Recall,
    /// Folders the last Tab found for the text in the folder field (several: listed).
    pub folder_matches: Option<(String, Vec<String>)>,
    /// The job this one re-runs (`R`), for the title.
    pub rerun_of: Option<JobId>,
    /// Run the job in its own git worktree.
    pub worktree: bool,
    /// The jobs it waits for, as typed (see [`after_ids`]).
    pub after: TextField,
    /// When it may start, as typed (see [`starts_at`]).
    pub starts: TextField,
    /// Where it runs: `local`, or one of `hosts`.
    pub host: String,
    /// `local` and the configured hosts (only `local`: no host field).
    pub hosts: Vec<String>,
    /// Opened from the hosts view: closing it goes back there.
    pub back_to_hosts: bool,
}

/// What the form asks the engine for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FormRequest {
    Start {
        prompt: String,
        cwd: PathBuf,
        policy: ApprovalPolicy,
        agent: String,
        rerun_of: Option<JobId>,
        worktree: bool,
        after: Vec<String>,
        starts: Option<String>,
    },
    Reply {
        parent: JobId,
        prompt: String,
        policy: ApprovalPolicy,
        after: Vec<String>,
        starts: Option<String>,
    },
    /// A start or a follow-up on a host: that host's tool, with its arguments.
    OnHost {
        host: String,
        tool: &'static str,
        arguments: serde_json::Map<String, serde_json::Value>,
        policy: ApprovalPolicy,
    },
}

impl NewJobForm {
    pub fn new(cwd: &str, policy: ApprovalPolicy, agents: Vec<String>, agent: &str, recall: Recall) -> Self {
        let mut form = NewJobForm {
            prompt: TextField::multi_line(""),
            cwd: TextField::single_line(cwd),
            policy,
            agent: agent.to_owned(),
            agents,
            parent: None,
            field: Field::Prompt,
            error: None,
            submitting: false,
            recall,
            folder_matches: None,
            rerun_of: None,
            worktree: false,
            after: TextField::single_line(""),
            starts: TextField::single_line(""),
            host: crate::config::LOCAL_HOST.to_owned(),
            hosts: vec![crate::config::LOCAL_HOST.to_owned()],
            back_to_hosts: false,
        };
        form.focus(Field::Prompt);
        form
    }

    /// The host it runs on, unless it is this machine.
    pub fn on_host(&self) -> Option<&str> {
        match &self.parent {
            Some(parent) => parent.host.as_deref(),
            None => Some(self.host.as_str()).filter(|host| *host != crate::config::LOCAL_HOST),
        }
    }

    /// A follow-up of `parent`, with its policy to start from.
    pub fn follow_up(parent: Parent, policy: ApprovalPolicy, recall: Recall) -> Self {
        let agents = vec![parent.agent.clone()];
        let mut form = NewJobForm::new(&parent.cwd.clone(), policy, agents, &parent.agent.clone(), recall);
        form.back_to_hosts = parent.host.is_some();
        form.parent = Some(parent);
        form
    }

    /// The fields that can be changed, in Tab order.
    pub fn fields(&self) -> &'static [Field] {
        if self.parent.is_some() {
            &[Field::Prompt, Field::Policy, Field::After, Field::Starts]
        } else if self.hosts.len() > 1 {
            &[Field::Prompt, Field::Host, Field::Cwd, Field::Agent, Field::Policy, Field::Isolation, Field::After, Field::Starts]
        } else {
            &[Field::Prompt, Field::Cwd, Field::Agent, Field::Policy, Field::Isolation, Field::After, Field::Starts]
        }
    }

    /// Whether the focused field takes text (so ←/→ move a cursor, not a choice).
    pub fn in_text(&self) -> bool {
        matches!(self.field, Field::Prompt | Field::Cwd | Field::After | Field::Starts)
    }

    fn focus(&mut self, field: Field) {
        self.field = field;
        self.prompt.set_focused(field == Field::Prompt);
        self.cwd.set_focused(field == Field::Cwd);
        self.after.set_focused(field == Field::After);
        self.starts.set_focused(field == Field::Starts);
    }

    #[cfg(test)]
    pub fn step_for_test(&mut self) {
        self.step(true);
    }

    fn step(&mut self, forward: bool) {
        let fields = self.fields();
        let at = fields.iter().position(|&field| field == self.field).unwrap_or(0);
        let next = if forward { (at + 1) % fields.len() } else { (at + fields.len() - 1) % fields.len() };
        self.focus(fields[next]);
    }

    /// Tab. In the folder field it completes first (the answer comes to
    /// [`NewJobForm::complete`]); elsewhere it moves on.
    pub fn next_field(&mut self) -> Option<FormNeed> {
        if self.submitting {
            return None;
        }
        // A host's folders are not this machine's to complete.
        if self.field == Field::Cwd && self.on_host().is_none() {
            return Some(FormNeed::FolderMatches(self.cwd.text()));
        }
        self.step(true);
        None
    }

    pub fn prev_field(&mut self) {
        if !self.submitting {
            self.step(false);
        }
    }

    /// The folders that match what was typed: the folder field takes what they have in
    /// common; when that adds nothing, several are listed, and a Tab with the same list
    /// shown (or none found) moves on.
    pub fn complete(&mut self, typed: &str, matches: Vec<String>) {
        if self.field != Field::Cwd || self.cwd.text() != typed {
            return; // typed on meanwhile
        }
        let common = complete::common_prefix(&matches);
        if common.len() > typed.len() {
            self.cwd.set_text(&common);
            self.folder_matches = (matches.len() > 1).then_some((common, matches));
            return;
        }
        let listed = self.folder_matches.as_ref().is_some_and(|(for_text, _)| for_text == typed);
        if matches.len() > 1 && !listed {
            self.folder_matches = Some((typed.to_owned(), matches));
            return;
        }
        self.folder_matches = None;
        self.step(true);
    }

    /// Chooses among agents or policies.
    pub fn choose(&mut self, forward: bool) {
        if self.submitting {
            return;
        }
        match self.field {
            Field::Agent => {
                let step = if forward { 1 } else { self.agents.len().saturating_sub(1) };
                self.agent = next_of(&self.agents, &self.agent, step);
            }
            Field::Policy => self.policy = cycle(self.policy, if forward { 1 } else { ApprovalPolicy::ALL.len() - 1 }),
            Field::Isolation => self.worktree = !self.worktree,
            Field::Host => {
                let step = if forward { 1 } else { self.hosts.len().saturating_sub(1) };
                self.host = next_of(&self.hosts, &self.host, step);
                self.folder_matches = None;
            }
            Field::Prompt | Field::Cwd | Field::After | Field::Starts => {}
        }
        self.error = None;
    }

    /// Applies a text edit to the focused field (Up/Down recall earlier entries where
    /// the field has nothing else to do with them).
    pub fn edit(&mut self, edit: &Edit) {
        if self.submitting {
            return;
        }
        self.error = None;
        match (self.field, edit) {
            (Field::Prompt, Edit::Up | Edit::Down) if self.prompt.is_empty() || self.recall.prompt_at.is_some() => {
                let at = step_recall(self.recall.prompt_at, self.recall.prompts.len(), *edit == Edit::Up);
                self.recall.prompt_at = at;
                self.prompt.set_text(at.and_then(|at| self.recall.prompts.get(at)).map_or("", String::as_str));
            }
            (Field::Cwd, Edit::Up | Edit::Down) => {
                let at = step_recall(self.recall.folder_at, self.recall.folders.len(), *edit == Edit::Up);
                if let Some(folder) = at.and_then(|at| self.recall.folders.get(at)) {
                    self.recall.folder_at = at;
                    self.cwd.set_text(folder);
                }
            }
            (Field::Prompt, edit) => {
                if self.prompt.edit(edit) {
                    self.recall.prompt_at = None;
                }
            }
            (Field::Cwd, edit) => {
                if self.cwd.edit(edit) {
                    self.recall.folder_at = None;
                    self.folder_matches = None;
                }
            }
            (Field::After | Field::Starts, Edit::Up) => self.step(false),
            (Field::After | Field::Starts, Edit::Down) => self.step(true),
            (Field::After, edit) => {
                self.after.edit(edit);
            }
            (Field::Starts, edit) => {
                self.starts.edit(edit);
            }
            (Field::Host | Field::Agent | Field::Policy | Field::Isolation, Edit::Insert(' ')) => self.choose(true),
            (Field::Host | Field::Agent | Field::Policy | Field::Isolation, Edit::Up) => self.step(false),
            (Field::Host | Field::Agent | Field::Policy | Field::Isolation, Edit::Down) => self.step(true),
            (Field::Host | Field::Agent | Field::Policy | Field::Isolation, _) => {}
        }
    }

    /// The request to send, or why not yet. The engine checks the rest.
    pub fn request(&self) -> Result<FormRequest, String> {
        let prompt = self.prompt.text();
        if prompt.trim().is_empty() {
            return Err("the prompt is empty: say what the agent should do".to_owned());
        }
        // Checked now, read again when the job is started (a delay counts from then).
        let starts = Some(self.starts.text().trim().to_owned()).filter(|text| !text.is_empty());
        if let Some(text) = &starts {
            starts_at(text, chrono::Utc::now())?;
        }
        if let Some(host) = self.on_host() {
            return self.host_request(host, prompt, starts);
        }
        let after = after_ids(&self.after.text())?;
        if let Some(parent) = &self.parent {
            return Ok(FormRequest::Reply { parent: parent.id.clone(), prompt, policy: self.policy, after, starts });
        }
        let cwd = self.cwd.text();
        let cwd = cwd.trim();
        if cwd.is_empty() {
            return Err("give the folder the agent works in".to_owned());
        }
        // The engine expands `~`.
        Ok(FormRequest::Start {
            prompt,
            cwd: PathBuf::from(cwd),
            policy: self.policy,
            agent: self.agent.clone(),
            rerun_of: self.rerun_of.clone(),
            worktree: self.worktree,
            after,
            starts,
        })
    }
}

impl NewJobForm {
    /// The host's `codex_start` (or `codex_reply`) arguments: its folder is the host's
    /// (an absolute path, or `~/…`), `after` names that host's jobs (`ID` or `NAME:ID`),
    /// and the starts field becomes a time (`at`), counted from now.
    fn host_request(&self, host: &str, prompt: String, starts: Option<String>) -> Result<FormRequest, String> {
        let mut arguments = serde_json::Map::new();
        arguments.insert("prompt".into(), prompt.into());
        arguments.insert("approval_policy".into(), self.policy.to_string().into());
        let typed = self.after.text();
        let same_host = typed.split([',', ' ']).map(|word| word.trim().strip_prefix(&format!("{host}:")).unwrap_or(word.trim()));
        let after = after_ids(&same_host.collect::<Vec<_>>().join(" "))?;
        if !after.is_empty() {
            arguments.insert("after".into(), after.into());
        }
        if let Some(text) = starts {
            arguments.insert("at".into(), starts_at(&text, chrono::Utc::now())?.0.to_rfc3339().into());
        }
        let tool = match &self.parent {
            Some(parent) => {
                arguments.insert("job_id".into(), parent.id.to_string().into());
                "codex_reply"
            }
            None => {
                let cwd = self.cwd.text().trim().to_owned();
                if !(cwd.starts_with('/') || cwd.starts_with('~')) {
                    return Err(format!("give the folder on host {host} the agent works in, as an absolute path (or ~/…)"));
                }
                arguments.insert("cwd".into(), cwd.into());
                arguments.insert("agent".into(), self.agent.clone().into());
                if self.worktree {
                    arguments.insert("worktree".into(), true.into());
                }
                "codex_start"
            }
        };
        Ok(FormRequest::OnHost { host: host.to_owned(), tool, arguments, policy: self.policy })
    }
}

/// The starts field: a delay from `now` (`20m`, `2h`, seconds) or a time (`14:30` local,
/// tomorrow once passed; RFC 3339), as `--delay` and `--at` take them.
pub fn starts_at(text: &str, now: chrono::DateTime<chrono::Utc>) -> Result<Timestamp, String> {
    let text = text.trim();
    if let Ok(delay) = crate::human::parse_duration(text) {
        return chrono::Duration::from_std(delay).map(|delay| Timestamp(now + delay)).map_err(|_| format!("starts: {text:?} is too far"));
    }
    parse_at(text, now).map_err(|_| format!("starts: {text:?}: give a delay (20m, 2h) or a time (14:30, or RFC 3339)"))
}

/// The ids typed in the after field (separated by commas or spaces), each a whole id or
/// the start of one: the engine makes them whole, and refuses one that names no job (or
/// several) before anything starts.
pub fn after_ids(typed: &str) -> Result<Vec<String>, String> {
    let mut ids: Vec<String> = Vec::new();
    for word in typed.split(|c: char| c == ',' || c.is_whitespace()).filter(|word| !word.is_empty()) {
        let id = JobId::parse(word).map_err(|_| format!("after: {word:?} is not a job id (give ids or their starts, like 3f2a)"))?;
        if !ids.iter().any(|known| known == id.as_str()) {
            ids.push(id.to_string());
        }
    }
    Ok(ids)
}

/// Up (older) or Down (newer) from `at` in a list of `len` entries; `None` is the
/// empty field below the newest.
fn step_recall(at: Option<usize>, len: usize, older: bool) -> Option<usize> {
    match (at, older) {
        (_, _) if len == 0 => None,
        (None, true) => Some(0),
        (Some(at), true) => Some((at + 1).min(len - 1)),
        (None, false) | (Some(0), false) => None,
        (Some(at), false) => Some(at - 1),
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
