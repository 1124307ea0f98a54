//! Drawing the output pane (or the document shown in its place): only the rows on
//! screen are built. Wrapped, a line is read row by row from where the view starts in
//! it; not wrapped, the columns in view are cut out and marked `‹` / `›` where the
//! line goes on past an edge.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use crate::human::{compact_count, thousands};
use crate::jobs::JobRecord;

use super::symbols::{shown_colour, shown_symbol};
use crate::tui::model::app::{App, Focus};
use crate::tui::model::text;

/// A piece of the title and how much it is needed (higher stays longer).
type Piece = (Span<'static>, u8);

/// What the title says of a job besides its status: its agent and model, the job it
/// follows up, what it is doing now, and the tokens it spent.
fn job_facts(meta: &crate::jobs::JobMeta) -> Vec<Piece> {
    let mut facts = Vec::new();
    let agent = meta.details.agent.as_deref().unwrap_or("codex");
    let who = match &meta.details.model {
        Some(model) => format!(" · {agent} {model}"),
        None => format!(" · {agent}"),
    };
    facts.push((Span::styled(text::sanitize(&who, 60, false), Style::new().dark_gray()), 3));
    if let Some(parent) = &meta.details.parent_job_id {
        facts.push((Span::styled(format!(" · follows {}", text::sanitize(parent, 64, false)), Style::new().dark_gray()), 4));
    }
    if let Some(activity) = meta.details.activity.as_deref().filter(|_| !meta.status.is_finished()) {
        facts.push((Span::styled(format!(" · {}", text::sanitize(activity, 80, false)), Style::new().yellow()), 1));
    }
    if let Some(usage) = &meta.details.usage {
        let tokens = format!(" · {} tokens", compact_count(usage.input_tokens + usage.output_tokens));
        facts.push((Span::styled(tokens, Style::new().dark_gray()), 2));
    }
    facts
}

/// `line 29,944/30,001`: the file's line numbers when known.
fn position_text(app: &App, top: usize) -> String {
    let pane = app.shown();
    let number = pane.line_number(top).map(|line| line + 1);
    let total = pane.total_lines();
    match (number, total) {
        (Some(number), Some(total)) => format!("line {}/{}", thousands(number), thousands(total.max(number))),
        (Some(number), None) => format!("line {}/…", thousands(number)),
        (None, _) => format!("line ~{} of the last {} (counting lines…)", thousands(top as u64 + 1), thousands(pane.line_count() as u64)),
    }
}

/// The title, legible in `width` columns: the least needed pieces go first (what the
/// agent does now, tokens, agent), then the position says only the line; the job, its
/// status and the search stay.
fn title(app: &App, top: usize, focused: bool, width: usize) -> Vec<Span<'static>> {
    let mut pieces = Vec::new();
    for short in [false, true] {
        pieces = title_pieces(app, top, focused, short);
        while pieces.iter().map(|(span, _)| span.width()).sum::<usize>() > width {
            let least =
                pieces.iter().enumerate().filter(|(_, (_, need))| *need < 7).min_by_key(|(at, (_, need))| (*need, std::cmp::Reverse(*at)));
            let Some(at) = least.map(|(at, _)| at) else { break };
            pieces.remove(at);
        }
        if pieces.iter().map(|(span, _)| span.width()).sum::<usize>() <= width {
            break;
        }
    }
    pieces.into_iter().map(|(span, _)| span).collect()
}

fn title_pieces(app: &App, top: usize, focused: bool, short: bool) -> Vec<Piece> {
    let pane = app.shown();
    let badge = if focused { Style::new().bold().black().on_cyan() } else { Style::new().bold() };
    let mut title: Vec<Piece> = Vec::new();
    match &app.document {
        Some(document) => {
            title.push((Span::styled(format!(" {} ", text::sanitize(&document.title, 120, false)), badge), 9));
            title.push((Span::styled(format!(" · {}", position_text(app, top)), Style::new().yellow()), 7));
            title.push((Span::styled(" · Esc back", Style::new().dark_gray()), 3));
        }
        None => {
            title.push((Span::styled(" output ", badge), 9));
            if let Some(record) = app.selected_record() {
                let shown = app.shown_status(record);
                title.push((Span::raw(format!(" {} ", record.id)), 9));
                title.push((Span::styled(format!("{} {}", shown_symbol(shown), shown.word()), Style::new().fg(shown_colour(shown))), 9));
                if let Ok(meta) = &record.meta {
                    title.extend(job_facts(meta));
                }
            }
            if pane.job.is_none() {
                // nothing to follow yet
            } else if pane.follow {
                title.push((Span::styled(" · following", Style::new().green()), 6));
            } else if short {
                title.push((Span::styled(format!(" · {}", position_text(app, top)), Style::new().yellow()), 7));
            } else {
                title.push((Span::styled(format!(" · scrolled, {} — G follows", position_text(app, top)), Style::new().yellow()), 7));
            }
        }
    }
    if pane.wrap {
        title.push((Span::raw(" · wrap"), 4));
    } else if pane.left > 0 {
        title.push((Span::raw(format!(" · from column {}", pane.left + 1)), 5));
    }
    if let Some(search) = &pane.search {
        let offsets = search.all_offsets(pane.match_offsets());
        let position = search
            .current
            .and_then(|current| offsets.iter().position(|&offset| offset == current))
            .map_or("-".to_owned(), |at| (at + 1).to_string());
        let mut count = thousands(offsets.len() as u64);
        if search.capped {
            count.push('+');
        }
        if !search.done {
            let percent = (search.scanned * 100).checked_div(search.file_len).unwrap_or(0);
            count.push_str(&if short { format!(" {percent}%…") } else { format!(", searching {percent}%") });
        }
        title.push((Span::styled(format!(" · /{} {position}/{count}", text::sanitize(search.query(), 60, false)), Style::new().cyan()), 8));
    }
    if pane.fetching {
        title.push((Span::styled(" · reading…", Style::new().dark_gray()), 5));
    }
    title
}

pub(crate) fn draw_output(frame: &mut Frame, app: &App, area: Rect) {
    let pane = app.shown();
    let focused = app.focus == Focus::Output || app.zoom;
    let (width, height) = (area.width, area.height.saturating_sub(1));
    let (top, top_row) = app.output_position();

    let title = Line::from(title(app, top, focused, usize::from(area.width)));
    let block = Block::new().borders(Borders::TOP).title(title).border_style(Style::new().dark_gray());
    let inner = block.inner(area);
    frame.render_widget(block, area);

    let message = match (&app.document, app.selected_record()) {
        (Some(_), _) => None,
        (None, None) if app.jobs.is_empty() => Some("Output of the selected job shows here.".to_owned()),
        (None, None) => Some("No job selected.".to_owned()),
        (None, Some(JobRecord { meta: Err(reason), .. })) => Some(format!("This job is corrupt: {reason}")),
        (None, Some(_)) if pane.loading => Some("reading…".to_owned()),
        (None, Some(_)) if pane.line_count() == 0 => Some("(no output yet)".to_owned()),
        (None, Some(_)) => None,
    };
    if let Some(message) = message {
        frame.render_widget(Paragraph::new(Line::styled(message, Style::new().dark_gray())), inner);
        return;
    }

    let current_line = pane.search.as_ref().and_then(|search| search.current).and_then(|offset| pane.index_of(offset));
    let match_style = Style::new().black().on_yellow();
    let current_style = Style::new().black().on_light_red().bold();
    let edge_style = Style::new().black().on_dark_gray();
    let (width, height) = (usize::from(width), usize::from(height));
    let mut rows: Vec<Line> = Vec::with_capacity(height);
    let mut index = top;
    while rows.len() < height {
        let Some(raw) = pane.line(index) else { break };
        #[cfg(test)]
        super::built::add(super::built::Kind::OutputLines, 1);
        let skip_rows = if index == top { top_row } else { 0 };
        let (mut line, more) = if pane.wrap {
            let columns = width.saturating_mul(skip_rows + height - rows.len());
            (text::styled_line(raw, columns), false)
        } else {
            text::styled_slice(raw, pane.left, width)
        };
        if let Some(search) = &pane.search {
            let style = if Some(index) == current_line { current_style } else { match_style };
            line = text::highlight(line, &search.matcher, style);
        }
        if pane.wrap {
            rows.extend(text::wrap(line, width).into_iter().skip(skip_rows));
        } else {
            // Where the line goes on past an edge, the edge says so.
            if pane.left > 0 && text::line_width(raw, 1) > 0 {
                line = mark_edge(line, width, true, edge_style);
            }
            if more {
                line = mark_edge(line, width, false, edge_style);
            }
            rows.push(line);
        }
        index += 1;
    }
    rows.truncate(height);
    frame.render_widget(Paragraph::new(rows), inner);
}

/// Puts `‹` over the first column or `›` over the last one of a row `width` wide.
fn mark_edge(line: Line<'static>, width: usize, left: bool, style: Style) -> Line<'static> {
    let mut cells: Vec<(String, Style)> = Vec::new();
    for span in &line.spans {
        for ch in span.content.chars() {
            cells.push((ch.to_string(), span.style));
        }
    }
    let (marker, at) = if left { ("‹", 0) } else { ("›", width.saturating_sub(1)) };
    let mut columns: Vec<(String, Style)> = Vec::with_capacity(width);
    for (text, style) in cells {
        let wide = unicode_width::UnicodeWidthStr::width(text.as_str());
        columns.push((text, style));
        for _ in 1..wide {
            columns.push((String::new(), style));
        }
    }
    while columns.len() <= at {
        columns.push((" ".to_owned(), Style::new()));
    }
    // A wide character under the marker gives its other half up as a space.
    if columns[at].0.is_empty() && at > 0 {
        columns[at - 1].0 = " ".to_owned();
    }
    if columns.get(at + 1).is_some_and(|(text, _)| text.is_empty()) {
        columns[at + 1].0 = " ".to_owned();
    }
    columns[at] = (marker.to_owned(), style);
    Line::from(columns.into_iter().filter(|(text, _)| !text.is_empty()).map(|(text, style)| Span::styled(text, style)).collect::<Vec<_>>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edge_markers_replace_the_first_or_last_column() {
        let line = Line::from("abcdef");
        assert_eq!(mark_edge(line.clone(), 6, true, Style::new()).to_string(), "‹bcdef");
        assert_eq!(mark_edge(line, 6, false, Style::new()).to_string(), "abcde›");
        assert_eq!(mark_edge(Line::from("日本語"), 6, false, Style::new()).to_string(), "日本 ›");
        assert_eq!(mark_edge(Line::from("ab"), 4, false, Style::new()).to_string(), "ab ›");
    }
}
