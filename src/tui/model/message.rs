//! The messages of the dashboard loop: what a person asked for, what the runtime
//! must do, what the loader read, what a background task returned.

use std::path::PathBuf;

use crate::jobs::{ApprovalPolicy, JobId, JobRecord, LineBlock, OutputUpdate};

use super::field::Edit;
use super::pane::Fetch;
use super::remembered::Remembered;
use super::search::{FileMatch, Matcher};

/// What a person asked for (keys, mouse and pastes, already decoded).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// `a`: bring the selected job's change into its origin (after a confirmation).
    AskApply,
    /// `x`: remove the selected job's worktree and branch (after a confirmation).
    AskDiscard,
    Up,
    Down,
    First,
    Last,
    PageUp,
    PageDown,
    /// The mouse wheel: rows up (negative) or down, over what is under the pointer.
    Wheel {
        rows: i32,
        column: u16,
        row: u16,
    },
    /// Left click at a column and row: selects a job row, or focuses the output.
    Click(u16, u16),
    /// The output without wrap: ←/→ half a screen, `0` to the start, `$` to the end.
    ScrollLeft,
    ScrollRight,
    LineStart,
    LineEnd,
    /// `[` / `]`: the previous / next job, wherever the focus is (zoomed too).
    PrevJob,
    NextJob,
    ToggleFocus,
    /// Enter: the whole of a cut line on screen when the output has focus, else zoom.
    Zoom,
    /// Esc: close what is open, leave zoom, clear the search, the marks.
    Back,
    Help,
    /// Space: mark the selected job (cancel and delete act on every marked job) and
    /// move down, as file managers do.
    ToggleMark,
    /// `V`: mark every row from the last one marked (the anchor) to the selected one.
    MarkRange,
    AskCancel,
    AskDelete,
    /// `C`: remove every finished job (asks first, saying how many).
    AskClean,
    Answer(bool),
    CycleStatusFilter,
    CycleSort,
    EditFilter,
    EditSearch,
    NextMatch,
    PrevMatch,
    ToggleWrap,
    CopyId,
    CopyLastMessage,
    ToggleBell,
    ToggleNotify,
    NewJob,
    /// `r`: the form for a follow-up of the selected job.
    FollowUp,
    /// `R`: the form filled in with the selected job's prompt, folder, agent and policy.
    Rerun,
    /// `i`: everything known about the selected job.
    Detail,
    /// `A`: the selected job's waiting approval request; in it `Y` allows the tool for
    /// the rest of the job (`y`/`n` are [`Action::Answer`]).
    Approval,
    ApproveAlways,
    /// `D`: what the selected job changed in its folder.
    Diff,
    /// `L`: the whole of the first cut line on screen.
    WholeLine,
    /// `o` / `e`: the output (or the view shown) in `$PAGER` / `$EDITOR`.
    OpenPager,
    OpenEditor,
    /// An edit of the text being typed (filter, search, form field).
    Edit(Edit),
    /// Enter in an input: submit.
    Submit,
    /// Tab / Shift-Tab in the form.
    NextField,
    PrevField,
    /// ←/→ on the form's agent or policy.
    Left,
    Right,
    Resize(u16, u16),
    Quit,
    /// `p`: pause the selected running job, or resume it.
    TogglePause,
    /// `o` in the confirmation of an attempt's apply: apply it and discard the other
    /// attempts of its set.
    AnswerDiscardOthers,
    /// `H`: the hosts view (other machines' jobs), or back from it.
    Hosts,
}

/// A program the dashboard steps aside for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Viewer {
    Pager,
    Editor,
}

/// What the dashboard asks of its loader thread, which does all its reading.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoaderCommand {
    /// Follow this job's output (or none).
    Watch(Option<JobId>),
    Fetch(Fetch),
    /// Search the job's whole output (the results carry `id`); replaces any search.
    Search {
        job: JobId,
        id: u64,
        matcher: Matcher,
    },
}

/// What the runtime must do after a transition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Ask the loader thread: follow a job's output, read part of it, search it.
    Load(LoaderCommand),
    Cancel(JobId),
    /// SIGKILL now to every process of a job already stopping.
    Kill(JobId),
    Delete(JobId),
    /// Remove every finished job.
    Clean,
    Start {
        prompt: String,
        cwd: PathBuf,
        policy: ApprovalPolicy,
        agent: String,
        /// The job this one runs again (`R`): its notice says what came from it.
        rerun_of: Option<JobId>,
        /// In a worktree of its own.
        worktree: bool,
        /// Jobs it starts after (ids as typed: made whole, or refused, by the engine).
        after: Vec<String>,
        /// Not before this delay or time, as typed in the form.
        starts: Option<String>,
    },
    /// Continue a finished job's conversation.
    Reply {
        parent: JobId,
        prompt: String,
        policy: ApprovalPolicy,
        after: Vec<String>,
        starts: Option<String>,
    },
    /// Put text on the clipboard (OSC 52).
    Copy(String),
    /// Pause (or resume) a job through its supervisor.
    SetPaused {
        id: JobId,
        paused: bool,
    },
    /// Read the job's last message, then copy it.
    CopyLastMessage(JobId),
    /// Read what the detail view shows beyond the meta: the whole prompt, the last message.
    ReadDetail(JobId),
    /// Read a job's whole prompt, to run it again.
    ReadPrompt(JobId),
    /// Apply a job's frozen change to its origin.
    Apply(JobId),
    /// Remove a job's worktree and branch.
    Discard(JobId),
    /// Apply an attempt's frozen change, then discard the other attempts of its set.
    ApplyDiscardingOthers(JobId),
    /// Run `git diff` against the base a job recorded, in its folder.
    Diff {
        job: JobId,
        cwd: PathBuf,
        base: Option<String>,
    },
    /// Folders that start with this text (Tab in the form's folder field).
    FolderMatches(String),
    /// Step aside for the pager or the editor on a job's output, or on this text.
    Open {
        viewer: Viewer,
        job: Option<JobId>,
        text: Option<String>,
    },
    /// Answer a job's approval request (`A`).
    Approve {
        job: JobId,
        number: u32,
        allow: bool,
        always: bool,
        message: Option<String>,
    },
    /// Write the remembered settings.
    Remember(Remembered),
    Bell,
    /// A desktop notice (OSC 9 / OSC 777).
    Notify {
        title: String,
        body: String,
    },
    /// Show this host's job's output in the hosts view (`NAME:ID`), or none.
    FollowHostJob(Option<String>),
    /// Do `act` to a host's job (`NAME:ID`) on its host.
    OnHost {
        job: String,
        act: crate::tui::model::hosts::HostAct,
    },
    /// Start a job on a host, or follow one up there: `tool` (`codex_start` or
    /// `codex_reply`) with these arguments, held to this dashboard's ceiling first.
    StartOnHost {
        host: String,
        tool: &'static str,
        arguments: serde_json::Map<String, serde_json::Value>,
        policy: ApprovalPolicy,
    },
}

/// What the loader read.
#[derive(Clone, Debug)]
pub enum DataEvent {
    /// A full listing, newest first.
    Jobs(Vec<JobRecord>),
    /// One job read again.
    Job(Box<JobRecord>),
    Removed(JobId),
    Output(JobId, OutputUpdate),
    /// Lines the loader did not send (a flood brought more than the pane keeps).
    OutputGap(JobId, u64),
    Older(JobId, LineBlock),
    Newer(JobId, LineBlock),
    /// The first lines of the file (Home).
    Start(JobId, LineBlock),
    /// The lines around an offset, and the number of the first one when known.
    Around(JobId, LineBlock, Option<u64>),
    /// The line that starts at this offset has this number (0-based).
    LineNumber {
        job: JobId,
        offset: u64,
        line: u64,
    },
    /// `lines` lines end before `offset` (the file's length when it was counted).
    LineCount {
        job: JobId,
        offset: u64,
        lines: u64,
    },
    /// A cut line read whole (`total` bytes; `text` may hold only the first of them).
    WholeLine {
        job: JobId,
        offset: u64,
        text: String,
        total: u64,
    },
    /// What a whole-file search found since it last said, and how far it read.
    SearchProgress {
        job: JobId,
        id: u64,
        found: Vec<FileMatch>,
        scanned: u64,
        file_len: u64,
        done: bool,
    },
    /// The jobs directory can't be watched (yet): why.
    WatchProblem(Option<String>),
    /// What a host's task said (its state, its jobs, the followed job's output).
    Host(crate::hosts::watch::WatchEvent),
}

/// How a start went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Started {
    pub(crate) id: String,
    /// Why the job ended at once (its agent missing, …).
    pub(crate) failed: Option<String>,
    /// For a follow-up or a run again: what it took from the job it continues.
    pub(crate) inherited: Option<String>,
}

/// A background task's result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum TaskResult {
    Cancelled {
        id: JobId,
        outcome: Result<String, String>,
    },
    Killed {
        id: JobId,
        processes: usize,
    },
    Deleted {
        id: JobId,
        outcome: Result<(), String>,
    },
    Cleaned(Result<(usize, u64), String>),
    /// A pause or resume: the job's status now, or why not.
    Paused {
        id: JobId,
        outcome: Result<String, String>,
    },
    Started(Result<Started, String>),
    LastMessage {
        id: JobId,
        message: Option<String>,
    },
    Detail {
        id: JobId,
        prompt: Option<String>,
        last_message: Option<String>,
        /// Its hooks that failed (`on_finish: failed: exit status 3`), and the log their
        /// output went to.
        hook_failures: Vec<String>,
        hooks_log: String,
    },
    Prompt {
        id: JobId,
        prompt: Result<String, String>,
    },
    Diff {
        id: JobId,
        text: String,
    },
    /// What an apply or a discard did (a line for the footer).
    Reviewed {
        id: JobId,
        text: String,
    },
    FolderMatches {
        typed: String,
        matches: Vec<String>,
    },
    /// An approval answer was recorded (what it said), or refused (why).
    Approved {
        id: JobId,
        outcome: Result<String, String>,
    },
    /// The pager or editor ended (with this problem, if any).
    Opened(Option<String>),
    /// What was done to a host's job there (a line for the footer, or for `Diff` the
    /// change's text), or why not.
    OnHost {
        job: String,
        act: crate::tui::model::hosts::HostAct,
        outcome: Result<String, String>,
    },
}
