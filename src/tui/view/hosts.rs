//! The hosts view (`H`), drawn over the dashboard: each host's state, every host's jobs
//! with a HOST column (a host that cannot be reached greyed, with when it went and when
//! it is tried again), and the selected job's last lines, or its change (`D`). All of it came from another
//! machine: every piece of text goes through the sanitizer before it is drawn.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use crate::hosts::watch::HostLink;
use crate::tui::model::app::App;
use crate::tui::model::hosts::HostPanel;
use crate::tui::model::text;

/// The widest a prompt is shown.
const PROMPT_COLUMNS: usize = 200;

pub(crate) fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let hosts = &app.hosts;
    let popup = Rect::new(area.x + 1, area.y + 1, area.width.saturating_sub(2), area.height.saturating_sub(2));
    frame.render_widget(Clear, popup);
    let title = " Hosts (↑↓ select, c cancel, r follow up, D diff, a apply, n new job, Esc close) ";
    let block = Block::new().borders(Borders::ALL).title(title).border_style(Style::new().cyan());
    let inner = block.inner(popup);
    frame.render_widget(block, popup);

    let mut states: Vec<Line> = Vec::new();
    if !hosts.local.rows.is_empty() {
        let running = hosts.local.rows.iter().filter(|row| row.status == "running").count();
        let said = format!("this machine, {} (its newest; Enter: one in the main table), {running} running", jobs(hosts.local.rows.len()));
        states.push(Line::from(vec![
            Span::styled(format!("{:<12} ", crate::config::LOCAL_HOST), Style::new().bold()),
            Span::styled(said, Style::new().dark_gray()),
        ]));
    }
    states.extend(hosts.panels.iter().flat_map(|panel| state_lines(panel, app)));
    let [states_area, table_area, output_area] = Layout::vertical([
        Constraint::Length(u16::try_from(states.len()).unwrap_or(u16::MAX)),
        Constraint::Percentage(60),
        Constraint::Fill(1),
    ])
    .areas(inner);
    frame.render_widget(Paragraph::new(states), states_area);

    let mut lines = vec![Line::styled(format!("{:<12} {:<22} {:<10} {:>5}  PROMPT", "HOST", "ID", "STATUS", "AGE"), Style::new().bold())];
    let selected = hosts.selected_index();
    let visible = usize::from(table_area.height.saturating_sub(1)).max(1);
    let offset = selected.map_or(0, |at| at.saturating_sub(visible - 1));
    for (index, (panel, row)) in hosts.rows().enumerate().skip(offset).take(visible) {
        let id = row.job_id.strip_prefix(&format!("{}:", panel.name)).unwrap_or(&row.job_id);
        let age = row.started_at.map_or_else(|| "-".to_owned(), |started| crate::human::age_text((app.now - started.0).num_seconds()));
        let text = format!(
            "{:<12} {:<22} {:<10} {:>5}  {}",
            text::sanitize(&panel.name, 12, false),
            text::sanitize(id, 22, false),
            text::sanitize(&row.status, 10, false),
            age,
            text::sanitize(row.prompt.lines().next().unwrap_or(""), PROMPT_COLUMNS, false)
        );
        let mut style = if panel.reachable() { Style::new() } else { Style::new().dark_gray() };
        if Some(index) == selected {
            style = style.reversed();
        }
        lines.push(Line::styled(text, style));
    }
    if hosts.rows().next().is_none() {
        lines.push(Line::styled("no jobs on the hosts (yet)", Style::new().dark_gray()));
    }
    frame.render_widget(Paragraph::new(lines), table_area);

    let mut below = Vec::new();
    if let Some(question) = hosts.asking.as_ref().and_then(|(act, job)| act.question(&text::sanitize(job, 60, false))) {
        below.push(Line::from(vec![
            Span::styled(format!("{question} "), Style::new().bold()),
            Span::styled("y", Style::new().bold().green()),
            Span::raw(" yes   "),
            Span::styled("n", Style::new().bold().red()),
            Span::raw(" / Esc no"),
        ]));
    }
    if let Some((job, change)) = &hosts.change {
        below.push(Line::styled(format!("── changes of {} ──", text::sanitize(job, 60, false)), Style::new().dark_gray()));
        let room = usize::from(output_area.height).saturating_sub(below.len());
        match change {
            None => below.push(Line::styled("asking its host…", Style::new().dark_gray())),
            Some(change) => below.extend(change.lines().take(room).map(|line| patch_line(line, usize::from(output_area.width)))),
        }
    } else if let Some((_, row)) = hosts.selected_row().filter(|(panel, _)| panel.name == crate::config::LOCAL_HOST) {
        // This machine's job: its output as the main table shows it.
        let id = row.job_id.split_once(':').map_or(row.job_id.as_str(), |(_, id)| id);
        if app.selected.as_ref().is_some_and(|selected| selected.as_str() == id) && below.is_empty() {
            super::output::draw_output(frame, app, output_area);
            return;
        }
        below.push(Line::styled(
            format!("── {} ── Enter shows it in the main table", text::sanitize(&row.job_id, 60, false)),
            Style::new().dark_gray(),
        ));
    } else if let Some((job, output)) = &hosts.output {
        below.push(Line::styled(format!("── {} ──", text::sanitize(job, 60, false)), Style::new().dark_gray()));
        let room = usize::from(output_area.height).saturating_sub(below.len());
        let shown = crate::jobs::screen_lines(output.as_bytes());
        let skip = shown.len().saturating_sub(room);
        below.extend(shown[skip..].iter().map(|line| text::styled_line(line, usize::from(output_area.width))));
    }
    frame.render_widget(Paragraph::new(below), output_area);
}

/// `box  connected (codex-async 0.1.0), 3 jobs, 1 running`, or `gpu  unreachable since
/// 14:02, retrying in 8 s` with why on a line of its own.
fn state_lines(panel: &HostPanel, app: &App) -> Vec<Line<'static>> {
    let name = Span::styled(format!("{:<12} ", text::sanitize(&panel.name, 12, false)), Style::new().bold());
    let running = panel.rows.iter().filter(|row| row.status == "running").count();
    match &panel.link {
        HostLink::Connecting => vec![Line::from(vec![name, Span::styled("connecting…", Style::new().dark_gray())])],
        HostLink::Connected { version } => {
            let version = version.as_deref().map(|version| format!(" ({})", text::sanitize(version, 40, false))).unwrap_or_default();
            let said = format!("connected{version}, {}, {running} running", jobs(panel.rows.len()));
            vec![Line::from(vec![name, Span::styled(said, Style::new().green())])]
        }
        HostLink::Unreachable { since, retry_at, error } => {
            let since = since.with_timezone(&chrono::Local).format("%H:%M");
            let retry = (*retry_at - app.now).num_seconds().max(0);
            let said = format!("unreachable since {since}, retrying in {retry} s");
            // The host is named already.
            let why = error.strip_prefix(&format!("host {} is unreachable: ", panel.name)).unwrap_or(error);
            vec![
                Line::from(vec![name, Span::styled(said, Style::new().red())]),
                Line::styled(format!("{:13}{}", "", text::sanitize(why, 300, false)), Style::new().dark_gray()),
            ]
        }
    }
}

/// A line of a change: added lines green, removed red, hunk headers cyan; made safe to
/// show first (it came from another machine).
fn patch_line(line: &str, width: usize) -> Line<'static> {
    let safe = text::sanitize(line, width, false);
    let style = if line.starts_with("+++") || line.starts_with("---") {
        Style::new().bold()
    } else if line.starts_with('+') {
        Style::new().green()
    } else if line.starts_with('-') {
        Style::new().red()
    } else if line.starts_with("@@") {
        Style::new().cyan()
    } else {
        Style::new()
    };
    Line::styled(safe, style)
}

/// `1 job`, `3 jobs`.
fn jobs(count: usize) -> String {
    if count == 1 { "1 job".to_owned() } else { format!("{count} jobs") }
}
