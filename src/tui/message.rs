//! The messages of the dashboard loop: what a person asked for, what the runtime
//! must do, what the loader read, what a background task returned.

use std::path::PathBuf;

use crate::jobs::output::{LineBlock, OutputUpdate};
use crate::jobs::{ApprovalPolicy, JobId, JobRecord};

use super::pane::Fetch;

/// What a person asked for (keys and mouse, already decoded).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Up,
    Down,
    First,
    Last,
    PageUp,
    PageDown,
    /// Mouse wheel: lines up (negative) or down in the output.
    Wheel(i32),
    /// Left click at a column and row: selects a job row, or focuses the output.
    Click(u16, u16),
    ToggleFocus,
    Zoom,
    /// Esc: close what is open, leave zoom, clear the search.
    Back,
    Help,
    AskCancel,
    AskDelete,
    Answer(bool),
    CycleStatusFilter,
    EditFilter,
    EditSearch,
    NextMatch,
    PrevMatch,
    ToggleWrap,
    CopyId,
    CopyLastMessage,
    ToggleBell,
    NewJob,
    /// `r`: the form for a follow-up of the selected job.
    FollowUp,
    /// Text typed into the open input (filter, search, form).
    Type(char),
    Erase,
    /// Enter in an input: submit.
    Submit,
    /// Tab / Shift-Tab in the form.
    NextField,
    PrevField,
    /// ←/→ in the form (policy choice).
    Left,
    Right,
    Resize(u16, u16),
    Quit,
}

/// What the runtime must do after a transition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Tell the loader which job's output to follow.
    Watch(Option<JobId>),
    Fetch(Fetch),
    Cancel(JobId),
    Delete(JobId),
    Start {
        prompt: String,
        cwd: PathBuf,
        policy: ApprovalPolicy,
        agent: String,
    },
    /// Continue a finished job's conversation.
    Reply {
        parent: JobId,
        prompt: String,
        policy: ApprovalPolicy,
    },
    /// Put text on the clipboard (OSC 52).
    Copy(String),
    /// Read the job's last message, then copy it.
    CopyLastMessage(JobId),
    Bell,
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
    Older(JobId, LineBlock),
    Newer(JobId, LineBlock),
    /// The first lines of the file (Home).
    Start(JobId, LineBlock),
    /// The jobs directory can't be watched (yet): why.
    WatchProblem(Option<String>),
}

/// A background task's result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TaskResult {
    Cancelled { id: JobId, outcome: Result<String, String> },
    Deleted { id: JobId, outcome: Result<(), String> },
    Started(Result<String, String>),
    LastMessage { id: JobId, message: Option<String> },
}
