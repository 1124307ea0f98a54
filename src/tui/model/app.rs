//! The dashboard's state: plain data, changed only by [`App::apply`] (a person's
//! action), [`App::apply_data`] (what the loader read) and [`App::apply_result`]
//! (a background task finished), which the update layer holds. Each returns the
//! effects the runtime must carry out, so every transition can be tested without a
//! terminal.

use std::collections::{BTreeSet, HashSet};
use std::path::PathBuf;

use chrono::{DateTime, Utc};

use crate::jobs::{JobId, JobRecord, Status};

use super::document::{DetailFiles, Document};
use super::field::TextField;
use super::form::NewJobForm;
use super::pane::OutputPane;
use super::remembered::Remembered;

pub(crate) use super::filters::{SortKey, StatusFilter};
pub(crate) use super::message::{Action, DataEvent, Effect, TaskResult};

/// How long a new folder without a readable meta is shown as starting.
pub(crate) const STARTING_GRACE_SECS: i64 = 3;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Focus {
    Table,
    Output,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ConfirmKind {
    Cancel,
    /// SIGKILL now, for jobs already stopping.
    Kill,
    Delete,
    /// Remove every finished job.
    Clean,
    /// Apply the first job's change to its origin. Any other ids are the other
    /// attempts of its set: `o` (rather than `y`) discards them once it is applied.
    Apply,
    /// Remove a job's worktree and branch.
    Discard,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Confirm {
    pub(crate) kind: ConfirmKind,
    /// The jobs it acts on (for `Clean`, the finished jobs counted when asked).
    pub(crate) ids: Vec<JobId>,
    /// The first job's prompt, or what the others are.
    pub(crate) prompt: String,
    /// Marked jobs left out (running ones for delete, finished ones for cancel).
    pub(crate) skipped: usize,
}

impl Confirm {
    /// An attempt's apply with other attempts to discard: `o` applies it and discards them.
    pub(crate) fn offers_discard_others(&self) -> bool {
        self.kind == ConfirmKind::Apply && self.ids.len() > 1
    }
}

/// `A`: the selected job's oldest waiting approval request, as it was when opened, and
/// the message being typed for a denial (after `n`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ApprovalPrompt {
    pub(crate) job: JobId,
    pub(crate) request: crate::jobs::PendingApproval,
    pub(crate) message: Option<TextField>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    Normal,
    Help,
    Approval(Box<ApprovalPrompt>),
    Confirm(Confirm),
    /// Typing the text filter (applied as it is typed).
    Filter(TextField),
    /// Typing a search; applied on Enter.
    Search(TextField),
    NewJob(Box<NewJobForm>),
    /// `H`: other hosts' jobs.
    Hosts,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum McpState {
    Starting,
    On { url: String, auth: McpAuth },
    Off(String),
    Disabled,
}

/// Which token the dashboard's MCP endpoint takes, for the header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum McpAuth {
    /// The home's token file: `codex-async token` prints it.
    File,
    /// One given with --token or CODEX_ASYNC_TOKEN.
    Given,
    /// The file --token-file names.
    GivenFile,
    /// `--no-auth`.
    Off,
}

#[derive(Clone, Debug)]
pub struct App {
    /// Newest first.
    pub jobs: Vec<JobRecord>,
    /// The table's rows: indices into `jobs` that pass the filters, in order (an
    /// attempt set's row is its first attempt's index: `attempts` says which rows are sets).
    pub view: Vec<usize>,
    pub selected: Option<JobId>,
    /// First row of `view` shown in the table.
    pub(crate) table_offset: usize,
    pub(crate) focus: Focus,
    pub(crate) zoom: bool,
    pub(crate) mode: Mode,
    pub(crate) status_filter: StatusFilter,
    pub(crate) sort: SortKey,
    pub(crate) text_filter: String,
    /// The selected job's output.
    pub pane: OutputPane,
    /// A view shown in the output's place (detail, diff, a whole line); Esc closes it.
    pub(crate) document: Option<Document>,
    pub(crate) mcp: McpState,
    pub(crate) jobs_dir: String,
    pub(crate) watch_problem: Option<String>,
    /// The home folder, to shorten paths with `~`.
    pub(crate) home: Option<String>,
    /// Where the dashboard started: the new-job form's default cwd.
    pub(crate) start_cwd: PathBuf,
    /// Jobs that finished while not selected.
    pub(crate) unseen: HashSet<JobId>,
    pub(crate) cancelling: HashSet<JobId>,
    /// Jobs marked with Space: cancel and delete act on all of them.
    pub(crate) marked: BTreeSet<JobId>,
    pub(crate) bell: bool,
    /// A desktop notice (OSC 9 / OSC 777) when a job ends.
    pub(crate) notify: bool,
    /// A one-line message in the footer (results, errors).
    pub(crate) flash: Option<String>,
    pub(crate) now: DateTime<Utc>,
    pub(crate) size: (u16, u16),
    /// Something changed since the last draw.
    pub(crate) dirty: bool,
    pub(crate) quit: bool,
    /// The first listing has arrived.
    pub loaded: bool,
    /// First help line shown (a tiny terminal scrolls the help).
    pub(crate) help_scroll: usize,
    /// The policy the new-job form starts with (the config's).
    pub(crate) default_policy: crate::jobs::ApprovalPolicy,
    /// The agents the form offers, and the one it starts with.
    pub(crate) agents: Vec<String>,
    pub(crate) default_agent: String,
    /// Whether the form starts a job in its own worktree unless told otherwise (the
    /// config's `isolation`).
    pub(crate) worktree_by_default: bool,
    /// How many jobs may run at once (the config's `max_running`), for the header.
    pub(crate) queue_limit: Option<usize>,
    /// A mistake in config.toml the dashboard started without (`--ignore-config`).
    pub(crate) config_problem: Option<String>,
    /// Earlier prompts and folders of the form, newest first.
    pub(crate) prompts: Vec<String>,
    pub(crate) folders: Vec<String>,
    /// A job started from here: selected and shown as soon as it is listed.
    pub(crate) select_when_seen: Option<JobId>,
    /// The last whole-file search asked for (its results carry this number).
    pub(crate) search_count: u64,
    /// What the detail view read from the job's files.
    pub(crate) detail_files: DetailFiles,
    /// Where `V` marks from: the row last marked with Space (or `V`).
    pub(crate) mark_anchor: Option<JobId>,
    /// Each job's output search, kept while another job is selected: a search belongs
    /// to the job it was made on, and comes back with it.
    pub(crate) searches: std::collections::HashMap<JobId, super::search::Matcher>,
    /// Inside tmux, which passes a clipboard write (OSC 52) on only with
    /// `set-clipboard on`: what `y` says adds so.
    pub(crate) in_tmux: bool,
    /// The attempt sets among the rows: what each row is, which sets are folded.
    pub(crate) attempts: super::attempts::AttemptRows,
    /// Other hosts' jobs (`[hosts.NAME]` in the config), for the hosts view.
    pub(crate) hosts: super::hosts::Hosts,
}

impl App {
    pub fn new(jobs_dir: String, start_cwd: PathBuf, home: Option<String>, size: (u16, u16), now: DateTime<Utc>) -> Self {
        App {
            jobs: Vec::new(),
            view: Vec::new(),
            selected: None,
            table_offset: 0,
            focus: Focus::Table,
            zoom: false,
            mode: Mode::Normal,
            status_filter: StatusFilter::All,
            sort: SortKey::Newest,
            text_filter: String::new(),
            pane: OutputPane::default(),
            document: None,
            mcp: McpState::Starting,
            jobs_dir,
            watch_problem: None,
            home,
            start_cwd,
            unseen: HashSet::new(),
            cancelling: HashSet::new(),
            marked: BTreeSet::new(),
            bell: false,
            notify: false,
            flash: None,
            now,
            size,
            dirty: true,
            quit: false,
            loaded: false,
            help_scroll: 0,
            default_policy: crate::jobs::ApprovalPolicy::Suggest,
            agents: crate::jobs::Agents::BUILT_IN.iter().map(|name| (*name).to_owned()).collect(),
            default_agent: "codex".to_owned(),
            worktree_by_default: false,
            queue_limit: None,
            config_problem: None,
            prompts: Vec::new(),
            folders: Vec::new(),
            select_when_seen: None,
            search_count: 0,
            detail_files: DetailFiles::default(),
            mark_anchor: None,
            searches: std::collections::HashMap::new(),
            in_tmux: false,
            attempts: super::attempts::AttemptRows::default(),
            hosts: super::hosts::Hosts::default(),
        }
    }

    /// Takes the settings remembered from an earlier run (unknown names are left out).
    pub(crate) fn restore(&mut self, remembered: Remembered) {
        self.pane.wrap = remembered.wrap;
        self.bell = remembered.bell;
        self.notify = remembered.notify;
        self.sort = SortKey::from_name(&remembered.sort).unwrap_or(SortKey::Newest);
        self.status_filter = StatusFilter::from_name(&remembered.status_filter).unwrap_or(StatusFilter::All);
        self.text_filter = remembered.text_filter;
        self.prompts = remembered.prompts;
        self.folders = remembered.folders;
    }

    /// The settings to remember.
    pub(crate) fn remembered(&self) -> Remembered {
        Remembered {
            wrap: self.pane.wrap,
            bell: self.bell,
            notify: self.notify,
            sort: self.sort.name().to_owned(),
            status_filter: self.status_filter.name().to_owned(),
            text_filter: self.text_filter.clone(),
            prompts: self.prompts.clone(),
            folders: self.folders.clone(),
        }
    }

    /// The pane shown: a document, or the selected job's output.
    pub(crate) fn shown(&self) -> &OutputPane {
        self.document.as_ref().map_or(&self.pane, |document| &document.pane)
    }

    pub(crate) fn shown_mut(&mut self) -> &mut OutputPane {
        match self.document.as_mut() {
            Some(document) => &mut document.pane,
            None => &mut self.pane,
        }
    }

    pub(crate) fn selected_record(&self) -> Option<&JobRecord> {
        let id = self.selected.as_ref()?;
        self.jobs.iter().find(|record| &record.id == id)
    }

    /// Position of the selection in `view` (an attempt set's row, when one is selected).
    pub(crate) fn selected_row(&self) -> Option<usize> {
        let id = self.selected.as_ref()?;
        self.attempts.row_of(&self.view, &self.jobs, id)
    }

    /// A folder whose meta cannot be read yet, made moments ago: a job being
    /// started (its supervisor writes meta.json right after taking the id), not
    /// a corrupt one.
    pub(crate) fn is_starting(&self, record: &JobRecord) -> bool {
        record.meta.is_err()
            && self.now.signed_duration_since(DateTime::<Utc>::from(record.created)) < chrono::Duration::seconds(STARTING_GRACE_SECS)
    }

    /// Whether the screen changes with time alone: running times tick, and a
    /// starting job turns corrupt if its meta never comes.
    pub(crate) fn needs_tick(&self) -> bool {
        self.any_running()
            || self.jobs.iter().any(|record| self.is_starting(record))
            || (self.mode == Mode::Hosts && self.hosts.ticking())
            || self.hosts.counting_down()
    }

    pub(crate) fn any_running(&self) -> bool {
        self.jobs.iter().any(|record| record.meta.as_ref().is_ok_and(|meta| !meta.status.is_finished()))
    }

    pub(crate) fn running_ids(&self) -> Vec<String> {
        crate::jobs::running_ids(&self.jobs)
    }

    /// Each pending job's place in the queue (1 = next): by creation time, then id, as
    /// the queue starts them.
    pub(crate) fn queue_positions(&self) -> std::collections::HashMap<JobId, usize> {
        let mut pending: Vec<(Option<crate::jobs::Timestamp>, &JobId)> = self
            .jobs
            .iter()
            .filter_map(|record| {
                record.meta.as_ref().ok().filter(|meta| meta.status == Status::Pending).map(|meta| (meta.details.created_at, &record.id))
            })
            .collect();
        pending.sort();
        pending.into_iter().enumerate().map(|(at, (_, id))| (id.clone(), at + 1)).collect()
    }

    /// What the footer says once something was written to the clipboard: the terminal
    /// sets it (OSC 52), if it takes the sequence — nothing tells whether it did.
    pub(crate) fn sent_to_clipboard(&self, what: &str) -> String {
        let tmux = if self.in_tmux { "; tmux passes it on with `set -g set-clipboard on`" } else { "" };
        format!("{what} sent to the terminal's clipboard (OSC 52{tmux})")
    }

    /// Counts per status, corrupt last.
    pub fn counts(&self) -> Vec<(Option<Status>, usize)> {
        let mut counts: Vec<(Option<Status>, usize)> = Status::ALL.iter().map(|&status| (Some(status), 0)).collect();
        counts.push((None, 0));
        for record in &self.jobs {
            let status = record.meta.as_ref().ok().map(|meta| meta.status);
            if let Some(entry) = counts.iter_mut().find(|(s, _)| *s == status) {
                entry.1 += 1;
            }
        }
        counts
    }
}
