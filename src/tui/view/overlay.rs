//! Boxes drawn over the dashboard: help (every key and symbol), confirmations, the
//! job form.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use crate::jobs::ApprovalPolicy;

use crate::tui::model::app::{App, Confirm, ConfirmKind, Mode};
use crate::tui::model::form::{Field, NewJobForm, Parent};
use crate::tui::model::help::{self, HelpLine};
use crate::tui::model::text;

pub(crate) fn draw(frame: &mut Frame, app: &App, area: Rect) {
    match &app.mode {
        Mode::Help => draw_help(frame, app, area),
        Mode::Confirm(confirm) => draw_confirm(frame, confirm, area),
        Mode::Approval(prompt) => super::approval::draw(frame, prompt, area),
        Mode::NewJob(form) => draw_form(frame, form, area),
        Mode::Hosts => super::hosts::draw(frame, app, area),
        Mode::Normal | Mode::Filter(_) | Mode::Search(_) => {}
    }
}

fn draw_confirm(frame: &mut Frame, confirm: &Confirm, area: Rect) {
    let count = confirm.ids.len();
    let (title, question) = match (confirm.kind, confirm.ids.as_slice()) {
        (ConfirmKind::Cancel, [one]) => (" Cancel job? ", format!("Cancel job {one}?")),
        (ConfirmKind::Cancel, _) => (" Cancel jobs? ", format!("Cancel {count} jobs?")),
        (ConfirmKind::Kill, [one]) => (" Kill job now? ", format!("Job {one} is stopping. Kill it now (SIGKILL)?")),
        (ConfirmKind::Kill, _) => (" Kill jobs now? ", format!("{count} jobs are stopping. Kill them now (SIGKILL)?")),
        (ConfirmKind::Delete, [one]) => (" Delete job? ", format!("Delete job {one} and its output?")),
        (ConfirmKind::Delete, _) => (" Delete jobs? ", format!("Delete {count} jobs and their output?")),
        (ConfirmKind::Clean, _) => (" Clean finished jobs? ", format!("Remove all {count} finished job(s) and their output?")),
        (ConfirmKind::Apply, _) => {
            (" Apply change? ", format!("Apply job {}'s change to its folder?", confirm.ids.first().map_or("?", |id| id.as_str())))
        }
        (ConfirmKind::Discard, [one]) => (" Discard worktree? ", format!("Remove job {one}'s worktree and branch?")),
        (ConfirmKind::Discard, _) => (" Discard worktrees? ", format!("Remove the worktrees and branches of {count} jobs?")),
    };
    let detail = match confirm.kind {
        ConfirmKind::Clean => "Running and pending jobs stay; corrupt ones are left to look at.".to_owned(),
        _ => text::sanitize(confirm.prompt.lines().next().unwrap_or(""), 300, false),
    };
    let mut lines =
        vec![Line::from(Span::styled(question, Style::new().bold())), Line::from(Span::styled(detail, Style::new().dark_gray()))];
    if confirm.skipped > 0 {
        lines.push(Line::from(Span::styled(
            format!("({} marked job(s) left out: not in a state for this)", confirm.skipped),
            Style::new().dark_gray(),
        )));
    }
    let others = if confirm.offers_discard_others() { count - 1 } else { 0 };
    if others > 0 {
        let what = format!("o also discards the other {others} attempt(s), cancelling any running");
        lines.push(Line::from(Span::styled(what, Style::new().dark_gray())));
    }
    lines.push(Line::default());
    let mut answers = vec![Span::styled("y", Style::new().bold().green()), Span::raw(" yes   ")];
    if others > 0 {
        answers.extend([Span::styled("o", Style::new().bold().green()), Span::raw(" yes, discard the others   ")]);
    }
    answers.extend([Span::styled("n", Style::new().bold().red()), Span::raw(" / Esc no")]);
    lines.push(Line::from(answers));
    let popup = centered(area, 64, u16::try_from(lines.len() + 2).unwrap_or(u16::MAX));
    frame.render_widget(Clear, popup);
    let block = Block::new().borders(Borders::ALL).title(title).border_style(Style::new().yellow());
    frame.render_widget(Paragraph::new(lines).block(block).wrap(Wrap { trim: false }), popup);
}

fn help_text(app: &App) -> Vec<Line<'static>> {
    help::lines(app)
        .map(|line| match line {
            HelpLine::Fact { name, value } => {
                Line::from(vec![Span::styled(format!("{name:>16}  "), Style::new().bold()), Span::raw(value)])
            }
            HelpLine::Key { keys, what } => {
                Line::from(vec![Span::styled(format!("{keys:>16}  "), Style::new().bold().cyan()), Span::raw(what)])
            }
            HelpLine::Heading(heading) => Line::styled(heading, Style::new().bold()),
            HelpLine::Symbol { symbol, what } => {
                Line::from(vec![Span::styled(format!("{symbol:>16}  "), Style::new().bold()), Span::raw(what)])
            }
            HelpLine::Note(note) => Line::styled(note, Style::new().dark_gray()),
            HelpLine::Gap => Line::default(),
        })
        .collect()
}

fn draw_help(frame: &mut Frame, app: &App, area: Rect) {
    let scroll = app.help_scroll;
    let lines = help_text(app);
    let height = u16::try_from(lines.len() + 2).unwrap_or(u16::MAX);
    let popup = centered(area, help::HELP_WIDTH, height);
    let fits = popup.height >= height;
    let title = if fits { " Keys (Esc closes) " } else { " Keys (↑↓ more, Esc closes) " };
    let scroll = if fits { 0 } else { scroll.min(lines.len().saturating_sub(usize::from(popup.height.saturating_sub(2)))) };
    frame.render_widget(Clear, popup);
    let block = Block::new().borders(Borders::ALL).title(title).border_style(Style::new().cyan());
    let scroll = u16::try_from(scroll).unwrap_or(u16::MAX);
    frame.render_widget(Paragraph::new(lines).block(block).scroll((scroll, 0)), popup);
}

/// The job form's width, borders included.
const FORM_WIDTH: u16 = 76;

/// Rows `text` takes wrapped at `width` (a row to spare for breaks at words), at most 6.
fn wrapped_rows(text: &str, width: u16) -> u16 {
    let chars = u16::try_from(unicode_width::UnicodeWidthStr::width(text)).unwrap_or(u16::MAX);
    match chars.div_ceil(width.max(1)) {
        0 | 1 => 1,
        rows => (rows + 1).min(6),
    }
}

/// Rows the prompt field takes: its lines, at least 3, at most 8.
fn prompt_rows(form: &NewJobForm) -> u16 {
    u16::try_from(form.prompt.lines().len().clamp(3, 8)).unwrap_or(8)
}

fn draw_form(frame: &mut Frame, form: &NewJobForm, area: Rect) {
    let field_style = |field: Field| if form.field == field { Style::new().bold().cyan() } else { Style::new().dark_gray() };
    let choices = |all: Vec<String>, chosen: &str| -> Line<'static> {
        Line::from(
            all.iter()
                .flat_map(|name| {
                    let style = if name == chosen { Style::new().bold().black().on_cyan() } else { Style::new() };
                    [Span::styled(format!(" {} ", text::sanitize(name, 40, false)), style), Span::raw(" ")]
                })
                .collect::<Vec<_>>(),
        )
    };
    let policies = choices(ApprovalPolicy::ALL.iter().map(ToString::to_string).collect(), &form.policy.to_string());
    let fixed = Style::new().dark_gray();
    let prompt_rows = prompt_rows(form);
    // (what, height): a line of text, or a field's widget.
    let mut rows: Vec<(Option<Line<'static>>, u16)> = Vec::new();
    let prompt_title =
        if form.prompt.lines().len() > 1 { format!("Prompt ({} lines)", form.prompt.lines().len()) } else { "Prompt".to_owned() };
    rows.push((Some(Line::from(Span::styled(prompt_title, field_style(Field::Prompt)))), 1));
    rows.push((None, prompt_rows));
    rows.push((Some(Line::default()), 1));
    match &form.parent {
        Some(parent) => {
            let said = match &parent.host {
                Some(host) => format!("Continues on host {}, in its folder, with its agent", text::sanitize(host, 40, false)),
                None => "Continues, in its folder, with its agent".to_owned(),
            };
            rows.push((Some(Line::from(Span::styled(said, fixed))), 1));
            let text =
                format!("{} · {} · {}", parent.id, text::sanitize(&parent.agent, 40, false), text::sanitize(&parent.cwd, 200, false));
            rows.push((Some(Line::from(Span::styled(text, fixed))), 1));
        }
        None => {
            if form.hosts.len() > 1 {
                rows.push((Some(Line::from(Span::styled("Runs on (←/→)", field_style(Field::Host)))), 1));
                rows.push((Some(choices(form.hosts.clone(), &form.host)), 1));
            }
            let folder = match form.on_host() {
                Some(host) => format!("Working folder on {} (an absolute path)", text::sanitize(host, 40, false)),
                None => "Working folder (Tab completes)".to_owned(),
            };
            rows.push((Some(Line::from(Span::styled(folder, field_style(Field::Cwd)))), 1));
            rows.push((None, 1));
            if let Some((_, matches)) = &form.folder_matches {
                let names: Vec<&str> = matches.iter().map(|path| path.trim_end_matches('/').rsplit('/').next().unwrap_or(path)).collect();
                rows.push((Some(Line::styled(format!("{} folders: {}/", matches.len(), names.join("/ ")), fixed)), 1));
            }
            rows.push((Some(Line::default()), 1));
            rows.push((Some(Line::from(Span::styled("Agent (←/→)", field_style(Field::Agent)))), 1));
            rows.push((Some(choices(form.agents.clone(), &form.agent)), 1));
        }
    }
    rows.push((Some(Line::default()), 1));
    rows.push((Some(Line::from(Span::styled("Approval policy (←/→)", field_style(Field::Policy)))), 1));
    rows.push((Some(policies), 1));
    if form.parent.is_none() {
        rows.push((Some(Line::from(Span::styled("Runs (←/→)", field_style(Field::Isolation)))), 1));
        let places = vec!["in the folder".to_owned(), "in its own git worktree".to_owned()];
        let chosen = places[usize::from(form.worktree)].clone();
        rows.push((Some(choices(places, &chosen)), 1));
    }
    rows.push((Some(Line::from(Span::styled("After jobs (ids or their starts; empty: at once)", field_style(Field::After)))), 1));
    rows.push((None, 1));
    rows.push((
        Some(Line::from(Span::styled("Starts (a delay: 20m, 2h; or a time: 14:30; empty: at once)", field_style(Field::Starts)))),
        1,
    ));
    rows.push((None, 1));
    rows.push((Some(Line::default()), 1));
    let verb = if form.parent.is_some() { "sends the follow-up" } else { "starts the job" };
    let (last, last_rows) = if form.submitting {
        (Line::styled("starting…", Style::new().yellow()), 1)
    } else if let Some(error) = &form.error {
        // A refusal names the value and the rule (a folder, the ceiling): shown whole.
        (Line::styled(error.clone(), Style::new().red()), wrapped_rows(error, FORM_WIDTH.min(area.width).saturating_sub(2)))
    } else {
        (Line::styled(format!("Enter {verb} · Tab next field · Esc closes"), Style::new().dark_gray()), 1)
    };
    rows.push((Some(last), last_rows));
    // On a short terminal the prompt gives up rows first (it scrolls): the last row, which
    // says why a submit failed, is always shown.
    let excess = (rows.iter().map(|(_, height)| *height).sum::<u16>() + 2).saturating_sub(area.height);
    rows[1].1 = prompt_rows.saturating_sub(excess).max(1);
    let height: u16 = rows.iter().map(|(_, height)| *height).sum::<u16>() + 2;
    let popup = centered(area, FORM_WIDTH, height);
    frame.render_widget(Clear, popup);
    let title = match (&form.parent, &form.rerun_of) {
        (Some(Parent { id, host: Some(host), .. }), _) => format!(" Follow up job {}:{id} ", text::sanitize(host, 40, false)),
        (Some(parent), _) => format!(" Follow up job {} ", parent.id),
        (None, Some(rerun)) => format!(" Run job {rerun} again ",),
        (None, None) => " New job ".to_owned(),
    };
    let block = Block::new().borders(Borders::ALL).title(title).border_style(Style::new().cyan());
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let mut y = inner.y;
    let mut fields =
        [Some(&form.prompt), form.parent.is_none().then_some(&form.cwd), Some(&form.after), Some(&form.starts)].into_iter().flatten();
    for (line, rows_high) in rows {
        let height = rows_high.min((inner.y + inner.height).saturating_sub(y));
        if height == 0 {
            break;
        }
        let place = Rect { x: inner.x, y, width: inner.width, height };
        match line {
            Some(line) if height > 1 => frame.render_widget(Paragraph::new(line).wrap(Wrap { trim: true }), place),
            Some(line) => frame.render_widget(Paragraph::new(line), place),
            None => {
                if let Some(field) = fields.next() {
                    frame.render_widget(field.widget(), place);
                }
            }
        }
        y += height;
    }
}

/// A box of at most `width`×`height` in the middle of `area`.
fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect::new(area.x + (area.width - width) / 2, area.y + (area.height - height) / 2, width, height)
}
