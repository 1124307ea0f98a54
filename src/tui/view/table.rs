//! The job table: only the rows on screen are built; columns come and go with the
//! width, most telling first (id, time, prompt; then status, exit, age, folder, policy,
//! agent and model, tokens, what it is doing).

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};
use unicode_width::UnicodeWidthStr;

use crate::human::elapsed;
use crate::jobs::{JobRecord, Status};

use super::attempt_rows::{SetColumn, id_width, member_cell, member_id, set_row};
use super::fit::{end_cut, path_cut};
use super::symbols::{shown_colour, shown_symbol};
use crate::tui::model::app::{App, Focus, Mode, StatusFilter};
use crate::tui::model::attempts::RowKind;
use crate::tui::model::filters::{Shown, SortKey};
use crate::tui::model::text;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Column {
    Status,
    Age,
    Time,
    Exit,
    Policy,
    Agent,
    Tokens,
    Activity,
    Prompt,
    Cwd,
    Group,
    Labels,
}

impl Column {
    fn title(self) -> &'static str {
        match self {
            Column::Status => "STATUS",
            Column::Age => "AGE",
            Column::Time => "TIME",
            Column::Exit => "EXIT",
            Column::Policy => "POLICY",
            Column::Agent => "AGENT",
            Column::Tokens => "TOKENS",
            Column::Activity => "ACTIVITY",
            Column::Prompt => "PROMPT",
            Column::Cwd => "CWD",
            Column::Group => "GROUP",
            Column::Labels => "LABELS",
        }
    }

    /// What an attempt set's row shows in this column.
    fn for_set(self) -> SetColumn {
        match self {
            Column::Status => SetColumn::Status,
            Column::Age => SetColumn::Age,
            Column::Time => SetColumn::Time,
            Column::Exit => SetColumn::Other,
            Column::Policy => SetColumn::Policy,
            Column::Agent => SetColumn::Agent,
            Column::Tokens => SetColumn::Tokens,
            Column::Activity => SetColumn::Activity,
            Column::Prompt => SetColumn::Prompt,
            Column::Cwd => SetColumn::Cwd,
            Column::Group => SetColumn::Group,
            Column::Labels => SetColumn::Labels,
        }
    }

    fn width(self) -> Constraint {
        match self {
            Column::Status => Constraint::Length(9),
            Column::Age => Constraint::Length(5),
            Column::Time => Constraint::Length(7),
            Column::Exit => Constraint::Length(4),
            Column::Policy => Constraint::Length(9),
            Column::Agent => Constraint::Length(16),
            Column::Tokens => Constraint::Length(9),
            Column::Activity => Constraint::Fill(2),
            Column::Prompt => Constraint::Fill(3),
            Column::Cwd => Constraint::Fill(1),
            Column::Group => Constraint::Length(10),
            Column::Labels => Constraint::Fill(1),
        }
    }
}

/// The columns for a table `width` columns wide, in order.
fn columns_for(width: u16) -> Vec<Column> {
    let wanted = [
        (Column::Status, 56),
        (Column::Age, 64),
        (Column::Time, 0),
        (Column::Exit, 48),
        (Column::Policy, 100),
        (Column::Agent, 110),
        (Column::Tokens, 120),
        (Column::Activity, 130),
        (Column::Prompt, 0),
        (Column::Cwd, 72),
    ];
    wanted.into_iter().filter(|(_, from)| width >= *from).map(|(column, _)| column).collect()
}

/// A wide table shows the jobs' groups and labels, once some job has one.
fn unattended_columns(mut columns: Vec<Column>, app: &App, width: u16) -> Vec<Column> {
    let metas = || app.jobs.iter().filter_map(|record| record.meta.as_ref().ok());
    if width >= 140 && metas().any(|meta| meta.details.group.is_some()) {
        columns.push(Column::Group);
    }
    if width >= 150 && metas().any(|meta| !meta.details.labels.is_empty()) {
        columns.push(Column::Labels);
    }
    columns
}

pub(crate) fn draw_table(frame: &mut Frame, app: &App, area: Rect) {
    let columns = unattended_columns(columns_for(area.width), app, area.width);
    let rows_shown = usize::from(area.height.saturating_sub(1));
    let mut header_title = format!("{} / {}", app.attempts.jobs_shown, app.jobs.len());
    if app.status_filter != StatusFilter::All {
        header_title.push_str(&format!(" [{}]", app.status_filter.name()));
    }
    if !app.text_filter.is_empty() || matches!(app.mode, Mode::Filter(_)) {
        header_title.push_str(&format!(" [f: {}]", text::sanitize(&app.text_filter, 40, false)));
    }
    if app.sort != SortKey::Newest {
        header_title.push_str(&format!(" [by {}]", app.sort.name()));
    }
    if !app.marked.is_empty() {
        header_title.push_str(&format!(" [{} marked]", app.marked.len()));
    }
    // Rows out of sight above and below: arrows in the corner (two columns), how many
    // in the title, where there is room for the numbers.
    let above = app.table_offset.min(app.view.len());
    let below = app.view.len().saturating_sub(app.table_offset + rows_shown);
    let corner = match (above, below) {
        (0, 0) => "",
        (0, _) => " ▼",
        (_, 0) => " ▲",
        (_, _) => "▲▼",
    }
    .to_owned();
    if above > 0 {
        header_title.push_str(&format!(" ▲{above}"));
    }
    if below > 0 {
        header_title.push_str(&format!(" ▼{below}"));
    }
    let mut widths = vec![Constraint::Length(2), Constraint::Length(id_width(app))];
    widths.extend(columns.iter().map(|column| column.width()));
    // Where each column lands, as the table lays them out: cells are cut to fit.
    let rects = Layout::horizontal(widths.clone()).flex(Flex::Start).spacing(1).split(Rect::new(0, 0, area.width, 1));
    let column_widths: Vec<u16> = rects.iter().skip(2).map(|rect| rect.width).collect();
    let prompt_x = columns.iter().position(|&column| column == Column::Prompt).and_then(|at| rects.get(at + 2)).map(|rect| rect.x);
    let summary = prompt_x
        .map(|x| title_summary(&header_title, area.width.saturating_sub(x), column_widths_of(&columns, &column_widths, Column::Prompt)));
    let mut titles: Vec<String> = vec![corner, "ID".to_owned()];
    titles.extend(columns.iter().map(|&column| match column {
        // Drawn over the row below, where it may take the next columns' room.
        Column::Prompt => String::new(),
        Column::Cwd if summary.as_ref().is_some_and(|summary| summary.covers_next) => String::new(),
        other => other.title().to_owned(),
    }));
    let header_style = Style::new().bold().dark_gray();
    let header = Row::new(titles).style(header_style);

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
            let kind = app.attempts.kind(row);
            let set = app.attempts.set_at(row);
            let mut style = Style::new();
            let marked = match set {
                Some(set) => set.members.iter().all(|&member| app.marked.contains(&app.jobs[member].id)),
                None => app.marked.contains(&record.id),
            };
            if marked {
                style = style.add_modifier(Modifier::BOLD);
            }
            if Some(row) == selected {
                style =
                    if app.focus == Focus::Table && !app.zoom { style.add_modifier(Modifier::REVERSED) } else { style.bg(Color::DarkGray) };
            }
            match set {
                Some(set) => {
                    let columns: Vec<(SetColumn, u16)> =
                        columns.iter().map(|column| column.for_set()).zip(column_widths.iter().copied()).collect();
                    set_row(app, set, &columns).style(style)
                }
                None => job_row(app, record, kind, &columns, &column_widths, &positions).style(style),
            }
        })
        .collect();
    #[cfg(test)]
    super::built::add(super::built::Kind::TableRows, rows.len());

    if app.view.is_empty() {
        let message = if !app.loaded {
            "reading the jobs folder…".to_owned()
        } else if app.jobs.is_empty() {
            "No jobs yet: press n to start one, or let an agent start one over MCP (or `codex-async start`).".to_owned()
        } else {
            format!("No job matches the filter ({} hidden): s / f to change it, Esc clears the text.", app.jobs.len())
        };
        frame.render_widget(Table::new(Vec::<Row>::new(), widths).header(header), area);
        draw_summary(frame, area, prompt_x, summary, header_style);
        if area.height > 1 {
            let message_area = Rect { y: area.y + 1, height: area.height - 1, ..area };
            frame.render_widget(Paragraph::new(Line::styled(message, Style::new().dark_gray())), message_area);
        }
        return;
    }
    frame.render_widget(Table::new(rows, widths).header(header).column_spacing(1), area);
    draw_summary(frame, area, prompt_x, summary, header_style);
}

/// What the prompt column's title says: `PROMPT` and what the table shows (how many of
/// how many, the filters, the sort, the marks, the rows out of sight).
struct Summary {
    text: String,
    /// It runs on over the next columns' titles (they are left out).
    covers_next: bool,
}

/// The title over the prompt column, legible in `room` columns (to the table's right
/// edge; `own` is the prompt column's): whole with the `PROMPT` label when it fits;
/// else without the label; else cut.
fn title_summary(summary: &str, room: u16, own: u16) -> Summary {
    let room = usize::from(room);
    let labelled = format!("PROMPT  ({summary})");
    let bare = format!("({summary})");
    let text = if labelled.width() <= room {
        labelled
    } else if bare.width() <= room {
        bare
    } else {
        end_cut(&bare, room)
    };
    Summary { covers_next: text.width() > usize::from(own), text }
}

fn column_widths_of(columns: &[Column], widths: &[u16], wanted: Column) -> u16 {
    columns.iter().position(|&column| column == wanted).and_then(|at| widths.get(at)).copied().unwrap_or(0)
}

fn draw_summary(frame: &mut Frame, area: Rect, prompt_x: Option<u16>, summary: Option<Summary>, style: Style) {
    let (Some(x), Some(summary)) = (prompt_x, summary) else { return };
    if area.height == 0 || x >= area.width {
        return;
    }
    let place = Rect { x: area.x + x, y: area.y, width: area.width - x, height: 1 };
    frame.render_widget(Paragraph::new(Span::styled(summary.text, style)), place);
}

fn job_row<'a>(
    app: &App,
    record: &'a JobRecord,
    kind: RowKind,
    columns: &[Column],
    widths: &[u16],
    positions: &std::collections::HashMap<crate::jobs::JobId, usize>,
) -> Row<'a> {
    let shown = app.shown_status(record);
    let colour = shown_colour(shown);
    let marker = if app.marked.contains(&record.id) {
        Span::styled("+", Style::new().yellow().bold())
    } else if app.unseen.contains(&record.id) {
        Span::styled("•", Style::new().cyan().bold())
    } else {
        Span::raw(" ")
    };
    let mut cells = vec![
        Cell::from(Line::from(vec![marker, Span::styled(shown_symbol(shown), Style::new().fg(colour))])),
        match kind {
            RowKind::Member(_) => Cell::from(member_id(record)),
            _ => Cell::from(record.id.as_str()),
        },
    ];
    let meta = record.meta.as_ref().ok();
    for (&column, &width) in columns.iter().zip(widths) {
        let width = usize::from(width);
        let cell = match (column, meta) {
            (Column::Status, _) => Cell::from(Span::styled(shown.word(), Style::new().fg(colour))),
            (Column::Age, _) => Cell::from(Span::styled(text::age(record, app.now), Style::new().dark_gray())),
            (Column::Time, Some(meta)) => Cell::from(match positions.get(&record.id) {
                Some(position) => format!("#{position}"),
                None => elapsed(meta, app.now).unwrap_or_default(),
            }),
            (Column::Exit, Some(meta)) => Cell::from(match (&meta.exit_code, &meta.details.signal) {
                (Some(code), _) => code.to_string(),
                (None, Some(signal)) => signal.trim_start_matches("SIG").to_owned(),
                (None, None) => String::new(),
            }),
            (Column::Policy, Some(meta)) => Cell::from(text::sanitize(&meta.approval_policy, 20, false)),
            (Column::Agent, Some(meta)) => {
                let agent = meta.details.agent.as_deref().unwrap_or("codex");
                let who = match &meta.details.model {
                    Some(model) => format!("{agent} {model}"),
                    None => agent.to_owned(),
                };
                Cell::from(end_cut(&text::sanitize(&who, 60, false), width))
            }
            (Column::Tokens, Some(meta)) => Cell::from(Span::styled(
                crate::human::tokens_column(meta.details.usage.as_ref(), meta.details.max_tokens),
                Style::new().dark_gray(),
            )),
            (Column::Activity, Some(meta)) => activity_cell(meta, width),
            (Column::Group, Some(meta)) => Cell::from(text::sanitize(meta.details.group.as_deref().unwrap_or(""), 40, false)),
            (Column::Labels, Some(meta)) => {
                Cell::from(Span::styled(text::sanitize(&meta.details.labels.join(" "), 200, false), Style::new().dark_gray()))
            }
            (Column::Prompt, Some(meta)) if matches!(kind, RowKind::Member(_)) => member_cell(meta, width),
            (Column::Prompt, Some(meta)) => prompt_cell(meta, shown, width),
            (Column::Cwd, Some(meta)) => {
                let folder = text::sanitize(&text::tilde(&meta.cwd, app.home.as_deref()), 400, false);
                Cell::from(Span::styled(path_cut(&folder, width), Style::new().dark_gray()))
            }
            (Column::Prompt, None) => Cell::from(match &record.meta {
                _ if shown == Shown::Starting => Span::styled("(starting…)", Style::new().dark_gray()),
                Err(reason) => {
                    Span::styled(end_cut(&format!("corrupt: {}", text::sanitize(reason, 400, false)), width), Style::new().light_red())
                }
                Ok(_) => Span::raw(""),
            }),
            (_, None) => Cell::from(""),
        };
        cells.push(cell);
    }
    Row::new(cells)
}

/// What a running agent does now; for a job that ended with a note, the note.
fn activity_cell(meta: &crate::jobs::JobMeta, width: usize) -> Cell<'static> {
    let fit = |text: &str| end_cut(&text::sanitize(text, 200, false), width);
    match (&meta.details.activity, &meta.details.note) {
        (Some(activity), _) if !meta.status.is_finished() => Cell::from(Span::styled(fit(activity), Style::new().yellow())),
        (_, Some(note)) if meta.status == Status::Error => Cell::from(Span::styled(fit(note), Style::new().red())),
        (_, Some(note)) => Cell::from(Span::styled(fit(note), Style::new().dark_gray())),
        _ => Cell::from(""),
    }
}

/// The prompt's first line, cut with `…` to the column; a follow-up is marked `↳`, a
/// lost job says so first.
fn prompt_cell(meta: &crate::jobs::JobMeta, shown: Shown, width: usize) -> Cell<'static> {
    let first_line = meta.prompt.lines().find(|line| !line.trim().is_empty()).unwrap_or("");
    let mut spans = Vec::new();
    if shown == Shown::Lost {
        spans.push(Span::styled(format!("{} · ", crate::jobs::LOST_RUNNING_NOTE), Style::new().light_red()));
    }
    if meta.details.parent_job_id.is_some() {
        spans.push(Span::styled("↳ ", Style::new().cyan()));
    }
    let used: usize = spans.iter().map(|span| span.content.width()).sum();
    spans.push(Span::raw(end_cut(&text::sanitize(first_line, 400, false), width.saturating_sub(used))));
    Cell::from(Line::from(spans))
}
