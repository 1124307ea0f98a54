//! Drawing: a pure function of [`App`]. Only the visible rows and lines are built,
//! so thousands of jobs or a huge log cost what fits on screen.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::hosts::watch::HostLink;
use crate::jobs::Status;

use super::overlay;
use super::symbols::{shown_colour, shown_symbol, status_name, status_symbol};
use crate::tui::model::app::{App, McpAuth, McpState};
use crate::tui::model::filters::Shown;
use crate::tui::model::layout;

pub(crate) fn draw(frame: &mut Frame, app: &App) {
    let areas = layout::areas(app);
    draw_header(frame, app, areas.header);
    if areas.table.height > 0 {
        super::table::draw_table(frame, app, areas.table);
    }
    if areas.output.height > 0 {
        super::output::draw_output(frame, app, areas.output);
    }
    super::footer::draw_footer(frame, app, areas.footer);
    // Boxes go between the header and the footer, which keep saying what is going on
    // and which keys answer.
    let full = frame.area();
    let between =
        Rect { y: full.y + areas.header.height, height: full.height.saturating_sub(areas.header.height + areas.footer.height), ..full };
    overlay::draw(frame, app, if between.height >= 3 { between } else { full });
}

/// Each configured host's state, for the header: `box 2 running`, `gpu: unreachable
/// since 14:02, retrying in 8 s`; shortened to `box ✓ gpu ✗` where room is short.
fn host_spans(app: &App, words: bool) -> Vec<Span<'static>> {
    let mut spans = Vec::new();
    for (at, panel) in app.hosts.panels.iter().enumerate() {
        let name = crate::tui::model::text::sanitize(&panel.name, 32, false);
        let lead = if at == 0 { " │ " } else { " · " };
        let running = panel.rows.iter().filter(|row| row.status == "running").count();
        let span = match (&panel.link, words) {
            (HostLink::Connecting, true) => Span::styled(format!("{lead}{name} connecting…"), Style::new().dark_gray()),
            (HostLink::Connecting, false) => Span::styled(format!("{lead}{name} …"), Style::new().dark_gray()),
            (HostLink::Connected { .. }, true) => Span::styled(format!("{lead}{name} {running} running"), Style::new().green()),
            (HostLink::Connected { .. }, false) => Span::styled(format!("{lead}{name} ✓"), Style::new().green()),
            (HostLink::Unreachable { since, retry_at, .. }, true) => {
                let since = since.with_timezone(&chrono::Local).format("%H:%M");
                let retry = (*retry_at - app.now).num_seconds().max(0);
                Span::styled(format!("{lead}{name}: unreachable since {since}, retrying in {retry} s"), Style::new().red())
            }
            (HostLink::Unreachable { .. }, false) => Span::styled(format!("{lead}{name} ✗"), Style::new().red()),
        };
        spans.push(span);
    }
    if !spans.is_empty() && words {
        spans.push(Span::styled(" (H)", Style::new().dark_gray()));
    }
    spans
}

/// The header: name, MCP endpoint, counts per status, hosts, watch problems, the jobs folder.
/// When it does not fit, the folder is cut (its end stays), then goes; then the token
/// hint goes, the counts lose their words (their symbols stay), the MCP endpoint
/// shortens to its port — nothing is ever cut mid-word, the counts always show, and
/// `?` says all of it whole.
fn draw_header(frame: &mut Frame, app: &App, area: Rect) {
    let width = usize::from(area.width);
    let brand = Span::styled(" codex-async ", Style::new().bold().black().on_cyan());
    // Jobs cancelled from here that have not ended yet count as stopping, not running.
    let stopping =
        if app.cancelling.is_empty() { 0 } else { app.jobs.iter().filter(|record| app.shown_status(record) == Shown::Stopping).count() };
    let counts = |words: bool| -> Vec<Span<'static>> {
        if app.jobs.is_empty() {
            return vec![Span::styled(" no jobs", Style::new().dark_gray())];
        }
        let span = |symbol: &str, colour, count: usize, name: &str| {
            let text = if words { format!(" {symbol} {count} {name}") } else { format!(" {symbol}{count}") };
            Span::styled(text, Style::new().fg(colour))
        };
        let mut spans = Vec::new();
        for (status, count) in app.counts() {
            let count = if status == Some(Status::Running) { count.saturating_sub(stopping) } else { count };
            if count > 0 {
                let (symbol, colour) = status_symbol(status);
                spans.push(span(symbol, colour, count, status_name(status)));
            }
            if status == Some(Status::Running) && stopping > 0 {
                spans.push(span(shown_symbol(Shown::Stopping), shown_colour(Shown::Stopping), stopping, "stopping"));
            }
        }
        spans
    };
    // 3: the URL and how to get the token; 2: the URL; 1: the port; 0: on. `?` says
    // it whole.
    let mcp = |detail: u8| -> Span<'static> {
        match &app.mcp {
            McpState::On { url, auth } => {
                let token = match (detail, auth) {
                    (_, McpAuth::Off) => " (no token)",
                    (3, McpAuth::File) => " · token: codex-async token",
                    (3, McpAuth::Given) => " · token: --token",
                    (3, McpAuth::GivenFile) => " · token: --token-file",
                    _ => "",
                };
                let place = match detail {
                    0 => "on".to_owned(),
                    1 => url.rsplit_once(':').map_or_else(|| "on".to_owned(), |(_, port)| format!(":{}", port.trim_end_matches("/mcp"))),
                    _ => url.clone(),
                };
                Span::styled(format!("MCP {place}{token}"), Style::new().green())
            }
            McpState::Off(reason) if detail == 3 => Span::styled(format!("MCP off: {reason}"), Style::new().red()),
            McpState::Off(_) if detail > 0 => Span::styled("MCP off (? says why)", Style::new().red()),
            McpState::Off(_) => Span::styled("MCP off", Style::new().red()),
            McpState::Disabled => Span::styled("MCP off (--no-mcp)", Style::new().dark_gray()),
            McpState::Starting => Span::styled("MCP starting…", Style::new().dark_gray()),
        }
    };
    let mut problems: Vec<Span<'static>> = Vec::new();
    if let Some(limit) = app.queue_limit {
        problems.push(Span::styled(format!(" │ ≤{limit} at once"), Style::new().dark_gray()));
    }
    if let Some(problem) = &app.watch_problem {
        problems.push(Span::styled(format!(" ⚠ jobs folder {problem}"), Style::new().yellow()));
    }
    if let Some(problem) = &app.config_problem {
        problems.push(Span::styled(format!(" ⚠ config ignored: {problem}"), Style::new().yellow()));
    }
    let folder = Span::styled(format!(" │ {}", app.jobs_dir), Style::new().dark_gray());
    let line = |detail: u8, words: bool, with_folder: bool| -> Line<'static> {
        let mut spans = vec![brand.clone(), Span::raw(" "), mcp(detail), Span::raw(" │")];
        spans.extend(counts(words));
        spans.extend(host_spans(app, words));
        spans.extend(problems.iter().cloned());
        if with_folder {
            spans.push(folder.clone());
        }
        Line::from(spans)
    };
    let full = line(3, true, true);
    if full.width() <= width {
        frame.render_widget(Paragraph::new(full), area);
        return;
    }
    // The folder is what gets cut: its end (the part that tells folders apart) stays.
    let mut without_folder = line(3, true, false);
    let room = width.saturating_sub(without_folder.width());
    if room >= 12 {
        let keep = room - " │ …".width();
        let tail: String = {
            let mut taken = 0;
            let mut chars: Vec<char> = app
                .jobs_dir
                .chars()
                .rev()
                .take_while(|ch| {
                    taken += ch.width().unwrap_or(0);
                    taken <= keep
                })
                .collect();
            chars.reverse();
            chars.into_iter().collect()
        };
        without_folder.spans.push(Span::styled(format!(" │ …{tail}"), Style::new().dark_gray()));
        frame.render_widget(Paragraph::new(without_folder), area);
        return;
    }
    let candidates =
        [without_folder, line(2, true, false), line(3, false, false), line(2, false, false), line(1, false, false), line(0, false, false)];
    let fitting = candidates.iter().find(|line| line.width() <= width).unwrap_or(&candidates[candidates.len() - 1]);
    frame.render_widget(Paragraph::new(fitting.clone()), area);
}
