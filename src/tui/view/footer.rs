//! The footer: the keys that do something now, or the result of the last action, or
//! the filter and search being typed. When the keys do not fit, the least needed go
//! first; `? help` and `q quit` always stay.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthStr;

use crate::tui::model::app::{App, Focus, Mode};
use crate::tui::model::field::TextField;
use crate::tui::model::filters::Shown;
use crate::tui::model::form::Field;

/// A key hint and how much it is needed (higher stays longer).
pub(crate) struct Hint {
    pub(crate) key: &'static str,
    pub(crate) what: String,
    pub(crate) priority: u8,
}

fn hint(key: &'static str, what: impl Into<String>, priority: u8) -> Hint {
    Hint { key, what: what.into(), priority }
}

/// The highest priority: never dropped.
const ALWAYS: u8 = 9;

pub(crate) fn draw_footer(frame: &mut Frame, app: &App, area: Rect) {
    if area.height == 0 {
        return;
    }
    let mut input = |label: &'static str, field: &TextField, help: &'static str| {
        let width = u16::try_from(label.width()).unwrap_or(u16::MAX);
        let help_width = u16::try_from(help.width()).unwrap_or(u16::MAX);
        let field_width = area.width.saturating_sub(width + help_width).max(area.width.saturating_sub(width).min(10));
        frame.render_widget(Paragraph::new(Span::styled(label, Style::new().bold().cyan())), Rect { width: width.min(area.width), ..area });
        let field_area = Rect { x: area.x + width.min(area.width), width: field_width.min(area.width.saturating_sub(width)), ..area };
        frame.render_widget(field.widget(), field_area);
        let help_area = Rect { x: field_area.x + field_area.width, width: area.width.saturating_sub(width + field_area.width), ..area };
        frame.render_widget(Paragraph::new(Span::styled(help, Style::new().dark_gray())), help_area);
    };
    match &app.mode {
        Mode::Filter(field) => input(" filter rows: ", field, "   Enter keep · Esc clear"),
        Mode::Search(field) => input(" search output: /", field, "   Enter search · Esc cancel · re: regex"),
        _ => {
            let line = match &app.flash {
                Some(flash) => flash_line(app, flash, usize::from(area.width)),
                None => keys_line(app, usize::from(area.width)),
            };
            frame.render_widget(Paragraph::new(line), area);
        }
    }
}

/// The keys that do something right now, most needed first in priority.
pub(crate) fn footer_keys(app: &App) -> Vec<Hint> {
    match &app.mode {
        Mode::Help => return vec![hint("Esc/?", "close help", ALWAYS), hint("↑↓", "scroll", 5), hint("q", "quit", ALWAYS)],
        Mode::Confirm(_) => return vec![hint("y", "yes", ALWAYS), hint("n/Esc", "no", ALWAYS)],
        Mode::Hosts if app.hosts.asking.is_some() => return vec![hint("y", "yes", ALWAYS), hint("n/Esc", "no", ALWAYS)],
        Mode::Hosts if app.hosts.change.is_some() => {
            return vec![hint("o", "read it whole", ALWAYS), hint("Esc", "back to the output", ALWAYS), hint("↑↓", "select", 6)];
        }
        Mode::Hosts => {
            return vec![
                hint("c", "cancel", ALWAYS),
                hint("r", "follow up", 9),
                hint("D", "diff", 8),
                hint("a", "apply", 8),
                hint("x", "discard", 6),
                hint("n", "new job", 7),
                hint("o", "pager", 4),
                hint("↑↓", "select", 6),
                hint("Esc/H", "close", ALWAYS),
                hint("q", "quit", 5),
            ];
        }
        Mode::Approval(prompt) if prompt.message.is_some() => return vec![hint("Enter", "deny", ALWAYS), hint("Esc", "back", ALWAYS)],
        Mode::Approval(_) => {
            return vec![hint("y", "allow", ALWAYS), hint("n", "deny", ALWAYS), hint("Y", "allow always", 8), hint("Esc", "back", ALWAYS)];
        }
        Mode::NewJob(form) => {
            let submit = if form.parent.is_some() { "send" } else { "start" };
            let mut keys = vec![hint("Enter", submit, ALWAYS), hint("Tab", "next field", 8), hint("Esc", "close", ALWAYS)];
            match form.field {
                Field::Prompt => {
                    keys.push(hint("Alt-Enter", "new line", 7));
                    keys.push(hint("↑↓", "earlier prompts (empty)", 4));
                }
                Field::Cwd => {
                    keys.push(hint("Tab", "complete", 7));
                    keys.push(hint("↑↓", "earlier folders", 4));
                }
                Field::Agent => keys.push(hint("←/→", "agent", 7)),
                Field::Host => keys.push(hint("←/→", "this machine or a host", 7)),
                Field::Policy => keys.push(hint("←/→", "policy", 7)),
                Field::Isolation => keys.push(hint("←/→", "in place / own worktree", 7)),
                Field::After => keys.push(hint("ids", "wait for these jobs to end done", 7)),
                Field::Starts => keys.push(hint("20m / 14:30", "a delay or a time", 7)),
            }
            if form.in_text() {
                keys.push(hint("Ctrl-W/U/K", "delete word/start/end", 3));
            }
            return keys;
        }
        Mode::Filter(_) | Mode::Search(_) => return Vec::new(),
        Mode::Normal => {}
    }
    let mut keys = Vec::new();
    let selected = app.selected_record();
    let shown = selected.map(|record| app.shown_status(record));
    let output_keys = app.zoom || app.focus == Focus::Output;
    if app.document.is_some() {
        keys.push(hint("Esc", "back to the output", 8));
    }
    if output_keys {
        keys.push(hint("↑↓", "scroll", 6));
        keys.push(hint("PgUp/PgDn", "page", 3));
        keys.push(hint("g/G", "top/follow", 4));
        if !app.shown().wrap {
            keys.push(hint("←→ 0 $", "sideways", 2));
        }
        if app.cut_line_on_screen().is_some() {
            keys.push(hint("Enter/L", "whole line", 6));
        }
        keys.push(hint("[ ]", "prev/next job", 3));
    } else if !app.view.is_empty() {
        keys.push(hint("↑↓", "select", 6));
        keys.push(hint("Space/V", "mark/range", 2));
    }
    // A search is active: n/N go through its matches from either pane, Esc ends it.
    let searching = app.shown().search.is_some();
    if searching {
        keys.push(hint("n/N", "next/prev match", 7));
        if app.document.is_none() && !app.zoom {
            keys.push(hint("Esc", "end search", 4));
        }
    }
    if app.zoom {
        keys.push(hint("Esc", "unzoom", 7));
    } else {
        match app.attempts.selected_set() {
            // Enter on an attempt set's row folds or unfolds it.
            Some(set) if !output_keys => keys.push(hint("Enter", if set.folded { "unfold" } else { "fold" }, 3)),
            _ if !(output_keys && app.cut_line_on_screen().is_some()) => keys.push(hint("Enter", "zoom", 3)),
            _ => {}
        }
        keys.push(hint("Tab", if app.focus == Focus::Table { "output" } else { "table" }, 5));
    }
    // A job waiting for a person comes first: that is what it needs now.
    if selected.and_then(|record| record.meta.as_ref().ok()).is_some_and(|meta| meta.details.approval.is_some()) {
        keys.insert(0, hint("A", "answer approval", 9));
    }
    match shown {
        Some(Shown::Stopping) => keys.push(hint("c", "kill now", 8)),
        Some(Shown::Stored(status)) if !status.is_finished() => keys.push(hint("c", "cancel", 8)),
        Some(Shown::Lost) => keys.push(hint("c", "cancel", 8)),
        Some(Shown::Starting) | None => {}
        Some(_) => {
            keys.push(hint("d", "delete", 5));
            keys.push(hint("R", "run again", 4));
        }
    }
    if selected
        .and_then(|record| record.meta.as_ref().ok())
        .is_some_and(|meta| meta.status.is_finished() && meta.details.session_id.is_some())
    {
        keys.push(hint("r", "follow up", 5));
    }
    if selected.is_some() {
        keys.push(hint("i", "detail", 5));
        keys.push(hint("D", "changes", 3));
        keys.push(hint("o/e", "pager/editor", 2));
    }
    // An attempt set's row: what needs one attempt is not offered.
    if app.attempts.selected_set().is_some() {
        keys.retain(|hint| !matches!(hint.key, "R" | "r" | "D"));
    }
    if !searching {
        keys.push(hint("n", "new job", if output_keys { 3 } else { 7 }));
    }
    keys.push(hint("s", format!("show {}", app.status_filter.next().name()), 3));
    keys.push(hint("S", format!("sort: {}", app.sort.name()), 1));
    keys.push(hint("f", "filter", 4));
    keys.push(hint("/", "search", 4));
    keys.push(hint("w", if app.pane.wrap { "wrap: on" } else { "wrap: off" }, 2));
    if selected.is_some() {
        keys.push(hint("y/Y", "copy id/answer", 1));
    }
    keys.push(hint("C", "clean finished", 1));
    keys.push(hint("b", if app.bell { "bell: on" } else { "bell: off" }, 1));
    keys.push(hint("B", if app.notify { "notice: on" } else { "notice: off" }, 1));
    keys.push(hint("?", "help", ALWAYS));
    keys.push(hint("q", "quit", ALWAYS));
    keys
}

fn hint_width(hint: &Hint) -> usize {
    1 + hint.key.width() + 1 + hint.what.width()
}

/// The keys that fit in `width` columns: the least needed are dropped first, the
/// order of the rest kept.
pub(crate) fn fitting_keys(mut keys: Vec<Hint>, width: usize) -> Vec<Hint> {
    while keys.iter().map(hint_width).sum::<usize>() > width {
        let Some(at) = keys
            .iter()
            .enumerate()
            .filter(|(_, hint)| hint.priority < ALWAYS)
            .min_by_key(|(at, hint)| (hint.priority, std::cmp::Reverse(*at)))
            .map(|(at, _)| at)
        else {
            break;
        };
        keys.remove(at);
    }
    keys
}

/// The result of the last action, cut to leave room for the keys that always stay
/// (`? help`, `q quit`) at the right end.
fn flash_line(app: &App, flash: &str, width: usize) -> Line<'static> {
    let always: Vec<Hint> = footer_keys(app).into_iter().filter(|hint| hint.priority == ALWAYS).collect();
    let keys_width: usize = always.iter().map(hint_width).sum();
    let room = width.saturating_sub(keys_width + 1);
    let mut text = crate::tui::model::text::sanitize(flash, room.saturating_sub(1), false);
    if text.width() < flash.width() && room > 1 {
        text = crate::tui::model::text::sanitize(flash, room.saturating_sub(2), false);
        text.push('…');
    }
    let text = format!(" {text}");
    let padding = width.saturating_sub(text.width() + keys_width);
    let mut spans = vec![Span::styled(text, Style::new().yellow()), Span::raw(" ".repeat(padding))];
    spans.extend(keys_line_of(always).spans);
    Line::from(spans)
}

fn keys_line(app: &App, width: usize) -> Line<'static> {
    keys_line_of(fitting_keys(footer_keys(app), width))
}

fn keys_line_of(keys: Vec<Hint>) -> Line<'static> {
    let mut spans = Vec::new();
    for hint in keys {
        spans.push(Span::styled(format!(" {}", hint.key), Style::new().bold().cyan()));
        spans.push(Span::styled(format!(" {}", hint.what), Style::new().dark_gray()));
    }
    Line::from(spans)
}
