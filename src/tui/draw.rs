//! Drawing: a pure function of [`App`]. Only the visible rows and lines are built,
//! so thousands of jobs or a huge log cost what fits on screen.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::jobs::view::elapsed;
use crate::jobs::{JobRecord, Status};

use super::app::{App, Focus, McpAuth, McpState, Mode};
use super::layout;
use super::{overlay, text};

pub fn status_symbol(status: Option<Status>) -> (&'static str, Color) {
    match status {
        Some(Status::Pending) => ("◌", Color::Gray),
        Some(Status::Running) => ("●", Color::Yellow),
        Some(Status::Done) => ("✓", Color::Green),
        Some(Status::Error) => ("✗", Color::Red),
        Some(Status::Cancelled) => ("⊘", Color::Magenta),
        None => ("!", Color::LightRed),
    }
}

pub fn status_name(status: Option<Status>) -> &'static str {
    status.map_or("corrupt", Status::as_str)
}

pub fn draw(frame: &mut Frame, app: &App) {
    let areas = layout::areas(app);
    draw_header(frame, app, areas.header);
    if areas.table.height > 0 {
        draw_table(frame, app, areas.table);
    }
    if areas.output.height > 0 {
        draw_output(frame, app, areas.output);
    }
    draw_footer(frame, app, areas.footer);
    overlay::draw(frame, app, frame.area());
}

/// The header: name, MCP endpoint, counts per status, watch problems, the jobs folder.
/// When it does not fit, the folder is cut (its end stays), then goes; then the counts
/// lose their words, then the MCP endpoint shortens — nothing is ever cut mid-word.
fn draw_header(frame: &mut Frame, app: &App, area: Rect) {
    let width = usize::from(area.width);
    let brand = Span::styled(" codex-async ", Style::new().bold().black().on_cyan());
    let counts = |words: bool| -> Vec<Span<'static>> {
        if app.jobs.is_empty() {
            return vec![Span::styled(" no jobs", Style::new().dark_gray())];
        }
        app.counts()
            .into_iter()
            .filter(|(_, count)| *count > 0)
            .map(|(status, count)| {
                let (symbol, colour) = status_symbol(status);
                let text = if words { format!(" {symbol} {count} {}", status_name(status)) } else { format!(" {symbol}{count}") };
                Span::styled(text, Style::new().fg(colour))
            })
            .collect()
    };
    let mcp = |detail: u8| -> Span<'static> {
        match &app.mcp {
            McpState::On { url, auth } => {
                let token = match (detail, auth) {
                    (_, McpAuth::Off) => " (no token)",
                    (2, McpAuth::File) => " · token: codex-async token",
                    (2, McpAuth::Given) => " · token: --token",
                    (1, _) => " · token",
                    _ => "",
                };
                let place = match detail {
                    0 => "on".to_owned(),
                    _ => url.clone(),
                };
                Span::styled(format!("MCP {place}{token}"), Style::new().green())
            }
            McpState::Off(reason) if detail == 2 => Span::styled(format!("MCP off: {reason}"), Style::new().red()),
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
        spans.extend(problems.iter().cloned());
        if with_folder {
            spans.push(folder.clone());
        }
        Line::from(spans)
    };
    let full = line(2, true, true);
    if full.width() <= width {
        frame.render_widget(Paragraph::new(full), area);
        return;
    }
    // The folder is what gets cut: its end (the part that tells folders apart) stays.
    let mut without_folder = line(2, true, false);
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
    let candidates = [without_folder, line(2, false, false), line(1, true, false), line(1, false, false), line(0, false, false)];
    let fitting = candidates.iter().find(|line| line.width() <= width).unwrap_or(&candidates[candidates.len() - 1]);
    frame.render_widget(Paragraph::new(fitting.clone()), area);
}

struct Columns {
    status_word: bool,
    exit: bool,
    policy: bool,
    agent: bool,
    cwd: bool,
}

fn columns_for(width: u16) -> Columns {
    Columns { status_word: width >= 56, exit: width >= 48, policy: width >= 90, agent: width >= 110, cwd: width >= 72 }
}

fn draw_table(frame: &mut Frame, app: &App, area: Rect) {
    let columns = columns_for(area.width);
    let mut titles = vec!["", "ID"];
    let mut widths = vec![Constraint::Length(2), Constraint::Length(8)];
    if columns.status_word {
        titles.push("STATUS");
        widths.push(Constraint::Length(9));
    }
    titles.push("TIME");
    widths.push(Constraint::Length(7));
    if columns.exit {
        titles.push("EXIT");
        widths.push(Constraint::Length(4));
    }
    if columns.policy {
        titles.push("POLICY");
        widths.push(Constraint::Length(9));
    }
    if columns.agent {
        titles.push("AGENT");
        widths.push(Constraint::Length(6));
    }
    titles.push("PROMPT");
    widths.push(Constraint::Fill(3));
    if columns.cwd {
        titles.push("CWD");
        widths.push(Constraint::Fill(1));
    }
    let mut header_title = format!("{} / {}", app.view.len(), app.jobs.len());
    if app.status_filter != super::app::StatusFilter::All {
        header_title.push_str(&format!(" [{}]", app.status_filter.name()));
    }
    if !app.text_filter.is_empty() || app.mode == Mode::Filter {
        header_title.push_str(&format!(" [f: {}]", app.text_filter));
    }
    let header =
        Row::new(titles.into_iter().map(|title| if title == "PROMPT" { format!("PROMPT  ({header_title})") } else { title.to_owned() }))
            .style(Style::new().bold().dark_gray());

    let rows_shown = usize::from(area.height.saturating_sub(1));
    let selected = app.selected_row();
    let positions = app.queue_positions();
    let rows: Vec<Row> = app
        .view
        .iter()
        .enumerate()
        .skip(app.table_offset)
        .take(rows_shown)
        .map(|(row, &index)| {
            let record = &app.jobs[index];
            let mut style = Style::new();
            if Some(row) == selected {
                style = if app.focus == Focus::Table && !app.zoom {
                    Style::new().add_modifier(Modifier::REVERSED)
                } else {
                    Style::new().bg(Color::DarkGray)
                };
            }
            job_row(app, record, &columns, &positions).style(style)
        })
        .collect();
    #[cfg(test)]
    built::add(built::Kind::TableRows, rows.len());

    if app.view.is_empty() {
        let message = if !app.loaded {
            "reading the jobs folder…".to_owned()
        } else if app.jobs.is_empty() {
            "No jobs yet: press n to start one, or let an agent start one over MCP (or `codex-async start`).".to_owned()
        } else {
            format!("No job matches the filter ({} hidden): s / f to change it, Esc clears the text.", app.jobs.len())
        };
        let table = Table::new(Vec::<Row>::new(), widths).header(header);
        frame.render_widget(table, area);
        if area.height > 1 {
            let message_area = Rect { y: area.y + 1, height: area.height - 1, ..area };
            frame.render_widget(Paragraph::new(Line::styled(message, Style::new().dark_gray())), message_area);
        }
        return;
    }
    frame.render_widget(Table::new(rows, widths).header(header).column_spacing(1), area);
}

fn job_row<'a>(
    app: &App,
    record: &'a JobRecord,
    columns: &Columns,
    positions: &std::collections::HashMap<crate::jobs::JobId, usize>,
) -> Row<'a> {
    let status = record.meta.as_ref().ok().map(|meta| meta.status);
    let starting = app.is_starting(record);
    let (symbol, colour) = if starting { status_symbol(Some(Status::Pending)) } else { status_symbol(status) };
    let cancelling = app.cancelling.contains(&record.id) && status.is_some_and(|status| !status.is_finished());
    let marker = if app.unseen.contains(&record.id) { "•" } else { " " };
    let mut cells = vec![
        Cell::from(Line::from(vec![Span::styled(marker, Style::new().cyan().bold()), Span::styled(symbol, Style::new().fg(colour))])),
        Cell::from(record.id.as_str()),
    ];
    let status_text = match (cancelling, starting) {
        (true, _) => "stopping",
        (_, true) => "starting",
        _ => status_name(status),
    };
    if columns.status_word {
        cells.push(Cell::from(Span::styled(status_text, Style::new().fg(colour))));
    }
    match &record.meta {
        Ok(meta) => {
            let time = match positions.get(&record.id) {
                Some(position) => format!("#{position}"),
                None => elapsed(meta, app.now).unwrap_or_default(),
            };
            cells.push(Cell::from(time));
            if columns.exit {
                let exit = match (&meta.exit_code, &meta.signal) {
                    (Some(code), _) => code.to_string(),
                    (None, Some(signal)) => signal.trim_start_matches("SIG").to_owned(),
                    (None, None) => String::new(),
                };
                cells.push(Cell::from(exit));
            }
            if columns.policy {
                cells.push(Cell::from(meta.approval_policy.clone()));
            }
            if columns.agent {
                cells.push(Cell::from(text::sanitize(meta.agent.as_deref().unwrap_or("codex"), 40, false)));
            }
            let first_line = meta.prompt.lines().find(|line| !line.trim().is_empty()).unwrap_or("");
            cells.push(Cell::from(text::sanitize(first_line, 400, false)));
            if columns.cwd {
                cells.push(Cell::from(Span::styled(text::tilde(&meta.cwd, app.home.as_deref()), Style::new().dark_gray())));
            }
        }
        Err(reason) => {
            cells.push(Cell::from(""));
            if columns.exit {
                cells.push(Cell::from(""));
            }
            if columns.policy {
                cells.push(Cell::from(""));
            }
            if columns.agent {
                cells.push(Cell::from(""));
            }
            let reason = if starting {
                Span::styled("(starting…)", Style::new().dark_gray())
            } else {
                Span::styled(format!("corrupt: {}", text::sanitize(reason, 400, false)), Style::new().light_red())
            };
            cells.push(Cell::from(reason));
            if columns.cwd {
                cells.push(Cell::from(""));
            }
        }
    }
    Row::new(cells)
}

/// What the output's title says of a job besides its status: its agent and model, what
/// it is doing now, and the tokens it spent.
fn job_facts(meta: &crate::jobs::JobMeta) -> Vec<Span<'static>> {
    let mut facts = Vec::new();
    let agent = meta.agent.as_deref().unwrap_or("codex");
    let who = match &meta.model {
        Some(model) => format!(" · {agent} {model}"),
        None => format!(" · {agent}"),
    };
    facts.push(Span::styled(text::sanitize(&who, 60, false), Style::new().dark_gray()));
    if let Some(parent) = &meta.parent_job_id {
        facts.push(Span::styled(format!(" · follows {}", text::sanitize(parent, 64, false)), Style::new().dark_gray()));
    }
    if let Some(activity) = meta.activity.as_deref().filter(|_| !meta.status.is_finished()) {
        facts.push(Span::styled(format!(" · {}", text::sanitize(activity, 80, false)), Style::new().yellow()));
    }
    if let Some(usage) = &meta.usage {
        facts.push(Span::styled(
            format!(" · {} tokens", text::compact_count(usage.input_tokens + usage.output_tokens)),
            Style::new().dark_gray(),
        ));
    }
    facts
}

fn draw_output(frame: &mut Frame, app: &App, area: Rect) {
    let pane = &app.pane;
    let focused = app.focus == Focus::Output || app.zoom;
    let (width, height) = (area.width, area.height.saturating_sub(1));
    let bottom = layout::bottom_top(pane, width, height);
    let top = if pane.follow { bottom } else { pane.top.min(bottom) };

    let mut title = vec![Span::styled(" output ", if focused { Style::new().bold().black().on_cyan() } else { Style::new().bold() })];
    if let Some(record) = app.selected_record() {
        let status = record.meta.as_ref().ok().map(|meta| meta.status);
        let (symbol, colour) = status_symbol(status);
        title.push(Span::raw(format!(" {} ", record.id)));
        title.push(Span::styled(format!("{symbol} {}", status_name(status)), Style::new().fg(colour)));
        if let Ok(meta) = &record.meta {
            title.extend(job_facts(meta));
        }
    }
    if pane.job.is_none() {
        // nothing to follow yet
    } else if pane.follow {
        title.push(Span::styled(" · following", Style::new().green()));
    } else {
        let shown = pane.line_count();
        title.push(Span::styled(
            format!(" · scrolled, line {}/{}{} — G follows", (top + 1).min(shown), shown, if pane.has_older() { "+" } else { "" }),
            Style::new().yellow(),
        ));
    }
    if pane.wrap {
        title.push(Span::raw(" · wrap"));
    }
    if let Some(search) = &pane.search {
        let position = search.current.map_or("-".to_owned(), |at| (at + 1).to_string());
        title.push(Span::styled(format!(" · /{} {}/{}", search.query, position, search.matches.len()), Style::new().cyan()));
    }
    if pane.fetching {
        title.push(Span::styled(" · reading…", Style::new().dark_gray()));
    }
    let block = Block::new().borders(Borders::TOP).title(Line::from(title)).border_style(Style::new().dark_gray());
    let inner = block.inner(area);
    frame.render_widget(block, area);

    let message = match app.selected_record() {
        None if app.jobs.is_empty() => Some("Output of the selected job shows here.".to_owned()),
        None => Some("No job selected.".to_owned()),
        Some(JobRecord { meta: Err(reason), .. }) => Some(format!("This job is corrupt: {reason}")),
        Some(_) if pane.loading => Some("reading…".to_owned()),
        Some(_) if pane.line_count() == 0 => Some("(no output yet)".to_owned()),
        Some(_) => None,
    };
    if let Some(message) = message {
        frame.render_widget(Paragraph::new(Line::styled(message, Style::new().dark_gray())), inner);
        return;
    }

    let current_line = pane.search.as_ref().and_then(|search| search.current.and_then(|at| search.matches.get(at).copied()));
    let match_style = Style::new().black().on_yellow();
    let current_style = Style::new().black().on_light_red().bold();
    let mut rows: Vec<Line> = Vec::with_capacity(usize::from(height));
    let max_columns = if pane.wrap { usize::from(width) * usize::from(height.max(1)) } else { usize::from(width) };
    let mut index = top;
    while rows.len() < usize::from(height) {
        let Some(raw) = pane.line(index) else { break };
        #[cfg(test)]
        built::add(built::Kind::OutputLines, 1);
        let mut line = text::styled_line(raw, max_columns);
        if let Some(search) = &pane.search {
            let style = if Some(index) == current_line { current_style } else { match_style };
            line = text::highlight(line, &search.query, style);
        }
        if pane.wrap {
            rows.extend(text::wrap(line, usize::from(width)));
        } else {
            rows.push(line);
        }
        index += 1;
    }
    rows.truncate(usize::from(height));
    frame.render_widget(Paragraph::new(rows), inner);
}

fn draw_footer(frame: &mut Frame, app: &App, area: Rect) {
    if area.height == 0 {
        return;
    }
    let line = match &app.mode {
        Mode::Filter => Line::from(vec![
            Span::styled(" filter rows: ", Style::new().bold().cyan()),
            Span::raw(app.text_filter.clone()),
            Span::styled("▏", Style::new().cyan()),
            Span::styled("   Enter keep · Esc clear", Style::new().dark_gray()),
        ]),
        Mode::Search(query) => Line::from(vec![
            Span::styled(" search output: /", Style::new().bold().cyan()),
            Span::raw(query.clone()),
            Span::styled("▏", Style::new().cyan()),
            Span::styled("   Enter search · Esc cancel", Style::new().dark_gray()),
        ]),
        _ => match &app.flash {
            Some(flash) => Line::from(Span::styled(format!(" {flash}"), Style::new().yellow())),
            None => keys_line(app),
        },
    };
    frame.render_widget(Paragraph::new(line), area);
}

/// The keys that do something right now.
pub fn footer_keys(app: &App) -> Vec<(&'static str, String)> {
    let mut keys: Vec<(&'static str, String)> = Vec::new();
    match &app.mode {
        Mode::Help => return vec![("Esc/?", "close help".into()), ("↑↓", "scroll".into()), ("q", "quit".into())],
        Mode::Confirm(_) => return vec![("y", "yes".into()), ("n/Esc", "no".into())],
        Mode::NewJob(form) => {
            let choose = if form.field == super::form::Field::Agent { "agent" } else { "policy" };
            let submit = if form.parent.is_some() { "send" } else { "start" };
            return vec![("Tab", "next field".into()), ("←/→", choose.into()), ("Enter", submit.into()), ("Esc", "close".into())];
        }
        Mode::Filter | Mode::Search(_) => return keys,
        Mode::Normal => {}
    }
    let selected_status = app.selected_record().map(|record| record.meta.as_ref().ok().map(|meta| meta.status));
    let output_keys = app.zoom || app.focus == Focus::Output;
    if output_keys {
        keys.push(("↑↓", "scroll".into()));
        keys.push(("PgUp/PgDn", "page".into()));
        keys.push(("g/G", "top/follow".into()));
        if app.pane.search.is_some() {
            keys.push(("n/N", "next/prev match".into()));
        }
    } else if !app.view.is_empty() {
        keys.push(("↑↓", "select".into()));
    }
    if app.zoom {
        keys.push(("Esc", "unzoom".into()));
    } else {
        keys.push(("Enter", "zoom".into()));
        keys.push(("Tab", if app.focus == Focus::Table { "output".into() } else { "table".into() }));
    }
    match selected_status {
        Some(Some(status)) if !status.is_finished() => keys.push(("c", "cancel".into())),
        Some(_) => keys.push(("d", "delete".into())),
        None => {}
    }
    if app
        .selected_record()
        .and_then(|record| record.meta.as_ref().ok())
        .is_some_and(|meta| meta.status.is_finished() && meta.session_id.is_some())
    {
        keys.push(("r", "follow up".into()));
    }
    if !output_keys {
        keys.push(("n", "new job".into()));
    }
    keys.push(("s", format!("show {}", app.status_filter.next().name())));
    keys.push(("f", "filter".into()));
    keys.push(("/", "search".into()));
    keys.push(("w", if app.pane.wrap { "no wrap".into() } else { "wrap".into() }));
    if app.selected.is_some() {
        keys.push(("y/Y", "copy id/answer".into()));
    }
    keys.push(("b", if app.bell { "bell off".into() } else { "bell on".into() }));
    keys.push(("?", "help".into()));
    keys.push(("q", "quit".into()));
    keys
}

fn keys_line(app: &App) -> Line<'static> {
    let mut spans = Vec::new();
    for (key, what) in footer_keys(app) {
        spans.push(Span::styled(format!(" {key}"), Style::new().bold().cyan()));
        spans.push(Span::styled(format!(" {what}"), Style::new().dark_gray()));
    }
    Line::from(spans)
}

/// What drawing built on this thread, for tests that prove a frame costs what fits on
/// the screen, whatever is stored (counts, not clocks).
#[cfg(test)]
pub(crate) mod built {
    use std::cell::Cell;

    #[derive(Clone, Copy)]
    pub enum Kind {
        TableRows,
        OutputLines,
    }

    thread_local! {
        static COUNTS: Cell<(usize, usize)> = const { Cell::new((0, 0)) };
    }

    pub(super) fn add(kind: Kind, count: usize) {
        COUNTS.with(|counts| {
            let (rows, lines) = counts.get();
            counts.set(match kind {
                Kind::TableRows => (rows + count, lines),
                Kind::OutputLines => (rows, lines + count),
            });
        });
    }

    /// Table rows and output lines built on this thread since the last call.
    pub fn take() -> (usize, usize) {
        COUNTS.with(|counts| counts.replace((0, 0)))
    }
}
