//! The rows of an attempt set: the set's own row (its status as one, how many attempts
//! and how they stand, the best-looking one, the tokens of all and the longest time,
//! its prompt) and its attempts under it, `└2 <id>`, each with its change's size where
//! a job's row has its prompt (the set's row has it for all).

use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row};

use crate::human::{compact_count, duration_text};
use crate::jobs::{JobMeta, JobRecord, Status};

use super::fit::{end_cut, path_cut};
use super::symbols::status_symbol;
use crate::tui::model::app::App;
use crate::tui::model::attempts::{AttemptSet, SetSummary, attempt_of, summary};
use crate::tui::model::text;

/// The columns of the table a set's row fills (the table names its own by these).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum SetColumn {
    Status,
    Age,
    Time,
    Tokens,
    Agent,
    Policy,
    Activity,
    Prompt,
    Cwd,
    Group,
    Labels,
    /// One a set has nothing for (an exit code).
    Other,
}

/// The ID column's width: room for `└2 ` before an attempt's id once a set is shown.
pub(super) fn id_width(app: &App) -> u16 {
    if app.attempts.sets.is_empty() { 8 } else { 11 }
}

/// An attempt's ID cell: its number, then its id, under its set's row.
pub(super) fn member_id(record: &JobRecord) -> String {
    match attempt_of(record) {
        u32::MAX => format!("└? {}", record.id),
        number => format!("└{number} {}", record.id),
    }
}

/// Where a job's row has its prompt, an attempt's has its change: `+12 −3 · 2 files`
/// (applied or discarded said after), or what it is doing while it runs.
pub(super) fn member_cell(meta: &JobMeta, width: usize) -> Cell<'static> {
    let fit = |text: String| end_cut(&text, width);
    let state = if meta.details.applied_at.is_some() {
        " · applied"
    } else if meta.details.discarded_at.is_some() {
        " · discarded"
    } else {
        ""
    };
    match (&meta.details.change, meta.status.is_finished()) {
        (Some(change), _) if change.files > 0 => {
            let files = if change.files == 1 { "1 file".to_owned() } else { format!("{} files", change.files) };
            let dropped = if change.patch_dropped { " · too large to apply" } else { "" };
            Cell::from(fit(format!("+{} −{} · {files}{dropped}{state}", change.insertions, change.deletions)))
        }
        (Some(_), _) => Cell::from(Span::styled(fit(format!("no change{state}")), Style::new().dark_gray())),
        (None, false) => {
            let doing = meta.details.activity.as_deref().map(|activity| text::sanitize(activity, 200, false));
            Cell::from(Span::styled(fit(doing.unwrap_or_else(|| "running".to_owned())), Style::new().yellow()))
        }
        (None, true) => Cell::from(Span::styled(fit("no change recorded".to_owned()), Style::new().dark_gray())),
    }
}

/// How a set's attempts stand, in a glance: `3× 2✓ 1● best └2` (how many, done,
/// running, failed; the best-looking one, or the one applied).
fn counts(summary: &SetSummary) -> String {
    let mut text = format!("{}×", summary.attempts);
    for (count, symbol) in [(summary.done, "✓"), (summary.running, "●"), (summary.failed, "✗")] {
        if count > 0 {
            text.push_str(&format!(" {count}{symbol}"));
        }
    }
    match (summary.applied, summary.best) {
        (Some(applied), _) => text.push_str(&format!(" └{applied} applied")),
        (None, Some(best)) => text.push_str(&format!(" best └{best}")),
        (None, None) => {}
    }
    text
}

/// The row of set `set`, over `columns` (each with its width).
pub(super) fn set_row(app: &App, set: &AttemptSet, columns: &[(SetColumn, u16)]) -> Row<'static> {
    let summary = summary(set, &app.jobs, app.now);
    let lead = set.members.first().map(|&index| &app.jobs[index]);
    let meta = lead.and_then(|record| record.meta.as_ref().ok());
    let (symbol, colour) = status_symbol(summary.status);
    let fold = if set.folded { "▸" } else { "▾" };
    let marked = set.members.iter().all(|&index| app.marked.contains(&app.jobs[index].id));
    let marker = if marked { Span::styled("+", Style::new().yellow().bold()) } else { Span::raw(" ") };
    let mut cells = vec![
        Cell::from(Line::from(vec![marker, Span::styled(fold, Style::new().cyan().bold())])),
        Cell::from(Span::styled(text::sanitize(&set.id, 11, false), Style::new().add_modifier(Modifier::BOLD))),
    ];
    let activity_shown = columns.iter().any(|&(column, _)| column == SetColumn::Activity);
    for &(column, width) in columns {
        let width = usize::from(width);
        let cell = match (column, meta) {
            (SetColumn::Status, _) => {
                let word = summary.status.map_or("corrupt", Status::as_str);
                Cell::from(Line::from(vec![Span::styled(format!("{symbol} {word}"), Style::new().fg(colour))]))
            }
            (SetColumn::Age, _) => {
                Cell::from(Span::styled(lead.map(|record| text::age(record, app.now)).unwrap_or_default(), Style::new().dark_gray()))
            }
            (SetColumn::Time, _) => Cell::from(duration_text(summary.longest)),
            (SetColumn::Tokens, _) if summary.tokens > 0 => {
                Cell::from(Span::styled(compact_count(summary.tokens), Style::new().dark_gray()))
            }
            (SetColumn::Agent, _) => Cell::from(end_cut(&agents(app, set), width)),
            (SetColumn::Policy, Some(meta)) => Cell::from(text::sanitize(&meta.approval_policy, 20, false)),
            (SetColumn::Activity, _) => Cell::from(Span::styled(end_cut(&counts(&summary), width), Style::new().cyan())),
            (SetColumn::Prompt, Some(meta)) => {
                // Without the activity column, the counts go before the prompt.
                let first_line = meta.prompt.lines().find(|line| !line.trim().is_empty()).unwrap_or("");
                let before = if activity_shown { String::new() } else { format!("[{}] ", counts(&summary)) };
                let room = width.saturating_sub(unicode_width::UnicodeWidthStr::width(before.as_str()));
                let prompt = end_cut(&text::sanitize(first_line, 400, false), room);
                Cell::from(Line::from(vec![Span::styled(end_cut(&before, width), Style::new().cyan()), Span::raw(prompt)]))
            }
            (SetColumn::Cwd, Some(meta)) => {
                let folder = text::sanitize(&text::tilde(&meta.cwd, app.home.as_deref()), 400, false);
                Cell::from(Span::styled(path_cut(&folder, width), Style::new().dark_gray()))
            }
            (SetColumn::Group, Some(meta)) => Cell::from(text::sanitize(meta.details.group.as_deref().unwrap_or(""), 40, false)),
            (SetColumn::Labels, Some(meta)) => {
                Cell::from(Span::styled(text::sanitize(&meta.details.labels.join(" "), 200, false), Style::new().dark_gray()))
            }
            _ => Cell::from(""),
        };
        cells.push(cell);
    }
    Row::new(cells)
}

/// The agents of a set's attempts, each once, in attempt order (`--agent a,b` cycles).
fn agents(app: &App, set: &AttemptSet) -> String {
    let mut names: Vec<String> = Vec::new();
    for meta in set.members.iter().filter_map(|&index| app.jobs[index].meta.as_ref().ok()) {
        let name = meta.details.agent.clone().unwrap_or_else(|| "codex".to_owned());
        if !names.contains(&name) {
            names.push(name);
        }
    }
    text::sanitize(&names.join(","), 60, false)
}
