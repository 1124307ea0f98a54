//! Boxes drawn over the dashboard: help, confirmations, the new-job form.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use crate::jobs::ApprovalPolicy;

use super::app::{App, ConfirmKind, Mode};
use super::form::{Field, NewJobForm};
use super::text;

/// Every key, for the help overlay.
pub const HELP: &[(&str, &str)] = &[
    ("↑/↓ j/k", "select a job (table) or scroll (output)"),
    ("g/Home G/End", "first/last job; in the output: top / follow the end"),
    ("PgUp/PgDn, wheel", "scroll the output (scrolling up stops following)"),
    ("Tab, click", "switch focus; a click on a row selects it"),
    ("Enter / Esc", "zoom the output to full screen / back"),
    ("c", "cancel the selected running job (asks y/n)"),
    ("d", "delete the selected finished job (asks y/n)"),
    ("n", "start a new job (prompt, cwd, agent, policy)"),
    ("r", "follow up a finished job: continue its conversation"),
    ("s", "status filter: all / running / finished / failed"),
    ("f", "filter rows by text (id, prompt, cwd)"),
    ("/  n/N", "search the output; next / previous match"),
    ("w", "wrap long lines"),
    ("y / Y", "copy the job id / its last message (OSC 52)"),
    ("b", "ring the bell when a job finishes"),
    ("?", "this help"),
    ("q / Ctrl-C", "quit (running jobs keep running)"),
];

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    match &app.mode {
        Mode::Help => draw_help(frame, area, app.help_scroll),
        Mode::Confirm(confirm) => {
            let (title, question) = match confirm.kind {
                ConfirmKind::Cancel => (" Cancel job? ", format!("Cancel job {}?", confirm.id)),
                ConfirmKind::Delete => (" Delete job? ", format!("Delete job {} and its output?", confirm.id)),
            };
            let prompt = text::sanitize(confirm.prompt.lines().next().unwrap_or(""), 300, false);
            let lines = vec![
                Line::from(Span::styled(question, Style::new().bold())),
                Line::from(Span::styled(prompt, Style::new().dark_gray())),
                Line::default(),
                Line::from(vec![
                    Span::styled("y", Style::new().bold().green()),
                    Span::raw(" yes   "),
                    Span::styled("n", Style::new().bold().red()),
                    Span::raw(" / Esc no"),
                ]),
            ];
            let popup = centered(area, 64, 8);
            frame.render_widget(Clear, popup);
            let block = Block::new().borders(Borders::ALL).title(title).border_style(Style::new().yellow());
            frame.render_widget(Paragraph::new(lines).block(block).wrap(Wrap { trim: false }), popup);
        }
        Mode::NewJob(form) => draw_form(frame, form, area),
        Mode::Normal | Mode::Filter | Mode::Search(_) => {}
    }
}

/// Lines in the help box.
pub fn help_lines() -> usize {
    HELP.len() + 2
}

fn draw_help(frame: &mut Frame, area: Rect, scroll: usize) {
    let mut lines: Vec<Line> = HELP
        .iter()
        .map(|(keys, what)| Line::from(vec![Span::styled(format!("{keys:>18}  "), Style::new().bold().cyan()), Span::raw(*what)]))
        .collect();
    lines.push(Line::default());
    lines.push(Line::styled("Jobs started anywhere on this jobs folder show up here live.", Style::new().dark_gray()));
    let height = u16::try_from(lines.len() + 2).unwrap_or(u16::MAX);
    let popup = centered(area, 76, height);
    let fits = popup.height >= height;
    let title = if fits { " Keys (Esc closes) " } else { " Keys (↑↓ more, Esc closes) " };
    let scroll = if fits { 0 } else { scroll.min(lines.len().saturating_sub(usize::from(popup.height.saturating_sub(2)))) };
    frame.render_widget(Clear, popup);
    let block = Block::new().borders(Borders::ALL).title(title).border_style(Style::new().cyan());
    let scroll = u16::try_from(scroll).unwrap_or(u16::MAX);
    frame.render_widget(Paragraph::new(lines).block(block).scroll((scroll, 0)), popup);
}

fn draw_form(frame: &mut Frame, form: &NewJobForm, area: Rect) {
    let field_style = |field: Field| if form.field == field { Style::new().bold().cyan() } else { Style::new().dark_gray() };
    let cursor = |field: Field| if form.field == field { "▏" } else { "" };
    let policies: Vec<Span> = ApprovalPolicy::ALL
        .iter()
        .flat_map(|&policy| {
            let style = if policy == form.policy { Style::new().bold().black().on_cyan() } else { Style::new() };
            [Span::styled(format!(" {policy} "), style), Span::raw(" ")]
        })
        .collect();
    let agents: Vec<Span> = form
        .agents
        .iter()
        .flat_map(|agent| {
            let style = if *agent == form.agent { Style::new().bold().black().on_cyan() } else { Style::new() };
            [Span::styled(format!(" {} ", text::sanitize(agent, 40, false)), style), Span::raw(" ")]
        })
        .collect();
    let fixed = Style::new().dark_gray();
    let mut lines = vec![
        Line::from(Span::styled("Prompt", field_style(Field::Prompt))),
        Line::from(format!("{}{}", form.prompt, cursor(Field::Prompt))),
        Line::default(),
    ];
    match &form.parent {
        Some(parent) => {
            lines.push(Line::from(Span::styled("Continues, in its folder, with its agent", fixed)));
            lines.push(Line::from(Span::styled(
                format!("{} · {} · {}", parent.id, text::sanitize(&parent.agent, 40, false), text::sanitize(&parent.cwd, 200, false)),
                fixed,
            )));
        }
        None => {
            lines.push(Line::from(Span::styled("Working folder", field_style(Field::Cwd))));
            lines.push(Line::from(format!("{}{}", form.cwd, cursor(Field::Cwd))));
            lines.push(Line::default());
            lines.push(Line::from(Span::styled("Agent (←/→)", field_style(Field::Agent))));
            lines.push(Line::from(agents));
        }
    }
    lines.extend([
        Line::default(),
        Line::from(Span::styled("Approval policy (←/→)", field_style(Field::Policy))),
        Line::from(policies),
        Line::default(),
    ]);
    let verb = if form.parent.is_some() { "sends the follow-up" } else { "starts the job" };
    if form.submitting {
        lines.push(Line::styled("starting…", Style::new().yellow()));
    } else if let Some(error) = &form.error {
        lines.push(Line::styled(error.clone(), Style::new().red()));
    } else {
        lines.push(Line::styled(format!("Enter {verb} · Tab next field · Esc closes"), Style::new().dark_gray()));
    }
    let height = u16::try_from(lines.len() + 2).unwrap_or(u16::MAX);
    let popup = centered(area, 72, height);
    frame.render_widget(Clear, popup);
    let title = match &form.parent {
        Some(parent) => format!(" Follow up job {} ", parent.id),
        None => " New job ".to_owned(),
    };
    let block = Block::new().borders(Borders::ALL).title(title).border_style(Style::new().cyan());
    frame.render_widget(Paragraph::new(lines).block(block).wrap(Wrap { trim: false }), popup);
}

/// A box of at most `width`×`height` in the middle of `area`.
fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect::new(area.x + (area.width - width) / 2, area.y + (area.height - height) / 2, width, height)
}
