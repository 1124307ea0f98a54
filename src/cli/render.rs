//! Human-readable output of the command-line verbs (`--json` prints the raw views).

use std::fmt::Display;
use std::io::{IsTerminal, Write};

use chrono::{DateTime, Local, Utc};

use crate::human::{bytes_text, duration_text, show_duration, usage_text};
use crate::jobs::{CancelView, GcReport, PollView, StartView, Status, Timestamp, WaitView};
use crate::term;

/// Text for stdout, written in one go so a closed pipe (`| head`) ends quietly
/// instead of panicking inside `println!`. Everything passes through the one
/// sanitizer ([`crate::term`]): an agent's output or a prompt can colour text on a
/// terminal, never move the cursor, clear the screen, set a title or the clipboard.
#[derive(Default)]
pub struct Out(String);

impl Out {
    pub fn line(&mut self, text: impl Display) {
        self.0.push_str(&text.to_string());
        self.0.push('\n');
    }

    pub fn flush(self) {
        let mut stdout = std::io::stdout().lock();
        let text = term::sanitize_text(&self.0, stdout.is_terminal());
        let _ = stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush());
    }
}

/// A line for stderr, through the same sanitizer (colour only on a terminal).
pub fn warn(text: impl Display) {
    let mut stderr = std::io::stderr().lock();
    let mut text = term::sanitize_text(&text.to_string(), stderr.is_terminal());
    text.push('\n');
    let _ = stderr.write_all(text.as_bytes());
}

/// The id alone on stdout (`id=$(codex-async start …)`); what else there is to say on
/// stderr — always when it matters (pending, failed), on a terminal otherwise.
pub fn started(out: &mut Out, view: &StartView) {
    out.line(&view.job_id);
    match (&view.status, &view.error) {
        (Status::Error, error) => warn(format!("job {} failed to start: {}", view.job_id, error.as_deref().unwrap_or("see its output"))),
        (Status::Pending, _) if view.queue_position.is_none() => {
            warn(format!("job {} is pending: it waits for its moment (`poll {}` says what for)", view.job_id, view.job_id))
        }
        (Status::Pending, _) => warn(format!(
            "job {} is pending: #{} in the queue",
            view.job_id,
            view.queue_position.map_or("?".to_owned(), |at| at.to_string())
        )),
        _ if std::io::stderr().is_terminal() => {
            warn(format!("job {} running (pid {})", view.job_id, view.pid.map_or("?".to_owned(), |pid| pid.to_string())));
        }
        _ => {}
    }
    if let Some(notice) = &view.notice {
        warn(format!("codex-async: {notice}"));
    }
}

/// The most of a prompt plain `poll` and `wait` show, as the output is capped: a
/// 200 KB prompt is a screenful of one line otherwise.
pub const PROMPT_SHOWN_CHARS: usize = 300;

/// How `poll` shows the prompt: whole (`--full-prompt`, read from its file when the
/// record holds only its start), or its start, saying where the rest is.
pub enum PromptShown {
    Whole(String),
    Start { prompt_file: Option<std::path::PathBuf> },
}

fn prompt_lines(out: &mut Out, view: &PollView, shown: &PromptShown) {
    match shown {
        PromptShown::Whole(prompt) => {
            let mut lines = prompt.lines();
            out.line(format!("prompt    {}", lines.next().unwrap_or("")));
            for line in lines {
                out.line(format!("          {line}"));
            }
        }
        PromptShown::Start { prompt_file } => {
            let first = first_line(&view.prompt);
            let count = first.chars().count();
            let cut = count > PROMPT_SHOWN_CHARS || view.prompt.trim_end().contains('\n') || prompt_file.is_some();
            if !cut {
                out.line(format!("prompt    {first}"));
                return;
            }
            let start: String = first.chars().take(PROMPT_SHOWN_CHARS).collect();
            out.line(format!("prompt    {start}…"));
            let mut note = "          (cut: --full-prompt shows the whole prompt".to_owned();
            if let Some(path) = prompt_file {
                note.push_str(&format!("; it is in {}", path.display()));
            }
            note.push(')');
            out.line(note);
        }
    }
}

pub fn poll(out: &mut Out, view: &PollView, prompt: &PromptShown) {
    out.line(format!("job       {}", view.job_id));
    let mut status = format!("status    {}{}", view.status, exit_suffix(view.exit_code, view.details.signal.as_deref()));
    if let Some(reason) = &view.details.cancel_reason {
        status.push_str(&format!(" — {reason}"));
    }
    if let Some(position) = view.details.queue_position {
        status.push_str(&format!(
            " (#{position} in the queue, at most {} running)",
            view.details.queue_limit.map_or("?".to_owned(), |limit| limit.to_string())
        ));
    }
    out.line(status);
    prompt_lines(out, view, prompt);
    out.line(format!("cwd       {}", view.cwd));
    out.line(format!("policy    {}", view.approval_policy));
    let mut agent = view.details.agent.clone().unwrap_or_else(|| "codex".to_owned());
    if let Some(model) = &view.details.model {
        agent.push_str(&format!(", model {model}"));
    }
    if let Some(profile) = &view.details.profile {
        agent.push_str(&format!(", profile {profile}"));
    }
    for entry in &view.details.config {
        agent.push_str(&format!(", -c {entry}"));
    }
    out.line(format!("agent     {agent}"));
    if let Some(session) = &view.details.session_id {
        out.line(format!("session   {session}"));
    }
    if let Some(parent) = &view.details.parent_job_id {
        out.line(format!("follows   {parent}"));
    }
    if !view.details.follow_ups.is_empty() {
        out.line(format!("followed  by {}", view.details.follow_ups.join(", ")));
    }
    if let Some(usage) = &view.details.usage {
        out.line(format!("tokens    {}", usage_text(usage)));
    }
    if let Some(budget) = view.details.max_tokens {
        let used = view.details.usage.map_or(0, |usage| usage.total());
        out.line(format!("budget    {} of {} tokens", crate::human::thousands(used), crate::human::thousands(budget)));
    }
    if let Some(activity) = view.details.activity.as_deref().filter(|_| !view.status.is_finished()) {
        out.line(format!("doing     {activity}"));
    }
    if let Some(limit) = view.details.stall_timeout {
        out.line(format!("stall     cancelled after {} without output", show_duration(std::time::Duration::from_secs_f64(limit))));
    }
    if let Some(limit) = view.details.max_duration {
        out.line(format!("limit     cancelled after running {}", show_duration(std::time::Duration::from_secs_f64(limit))));
    }
    out.line(format!("started   {}", local_time(view.started_at, true)));
    if view.status == Status::Pending {
        let what = view.details.waiting.as_deref().map_or(String::new(), |reason| format!("{reason}, "));
        out.line(format!("waiting   {what}since {}", local_time(view.details.created_at, true)));
    } else if view.finished_at.is_some() {
        out.line(format!("finished  {} ({})", local_time(view.finished_at, true), duration(view.started_at, view.finished_at)));
    } else {
        out.line(format!("running   for {}", duration(view.started_at, None)));
    }
    for failure in &view.hook_failures {
        out.line(format!("hook      {failure} (see hooks.log)"));
    }
    if let Some(note) = &view.details.note {
        out.line(format!("note      {note}"));
    }
    for line in super::worktree_lines::poll_lines(view) {
        out.line(line);
    }
    out.line("--- output ---");
    if !view.output.is_empty() {
        out.line(&view.output);
    }
    if let Some(message) = &view.last_message {
        out.line("--- last message ---");
        out.line(message);
    }
}

pub fn waited(out: &mut Out, view: &WaitView, prompt: &PromptShown) {
    if view.timed_out {
        warn("still running after the timeout");
    }
    poll(out, &view.poll, prompt);
}

pub fn cancelled(out: &mut Out, view: &CancelView) {
    match view {
        CancelView::Cancelled { job_id, status, .. } => out.line(format!("{job_id}\t{status}")),
        CancelView::NotRunning { job_id, status, message } => out.line(format!("{job_id}\t{status}\t({message})")),
    }
}

fn exit_suffix(exit_code: Option<i64>, signal: Option<&str>) -> String {
    match (exit_code, signal) {
        (Some(code), Some(signal)) => format!(" (exit {code}, {signal})"),
        (Some(code), None) => format!(" (exit {code})"),
        _ => String::new(),
    }
}

pub fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or("").to_owned()
}

/// A time in the local zone, with the zone when `with_zone` (`2026-03-01 14:05:09
/// UTC+01:00`); the JSON keeps UTC.
pub fn local_time(at: Option<Timestamp>, with_zone: bool) -> String {
    let Some(at) = at else { return "-".to_owned() };
    let local = DateTime::<Local>::from(at.0).format("%Y-%m-%d %H:%M:%S").to_string();
    if with_zone { format!("{local} {}", zone_of(at)) } else { local }
}

/// The local zone's offset at `at`: `UTC`, `UTC+01:00`, `UTC-05:30`.
pub fn zone_of(at: Timestamp) -> String {
    let seconds = DateTime::<Local>::from(at.0).offset().local_minus_utc();
    if seconds == 0 {
        return "UTC".to_owned();
    }
    let sign = if seconds < 0 { '-' } else { '+' };
    let minutes = seconds.unsigned_abs() / 60;
    format!("UTC{sign}{:02}:{:02}", minutes / 60, minutes % 60)
}

/// From start to finish, or to now while running (see [`duration_text`]).
pub fn duration(start: Option<Timestamp>, end: Option<Timestamp>) -> String {
    let Some(start) = start else { return "-".to_owned() };
    let end = end.map_or_else(Utc::now, |end| end.0);
    duration_text((end - start.0).num_seconds())
}

pub fn collected(out: &mut Out, report: &GcReport) {
    let verb = if report.dry_run { "would remove" } else { "removed" };
    for removed in &report.removed {
        out.line(format!("{verb} {}  ({})", removed.job_id, bytes_text(removed.bytes)));
    }
    out.line(format!("{verb} {} finished job(s), {}", report.removed.len(), bytes_text(report.bytes_freed)));
}
