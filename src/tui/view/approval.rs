//! The approval view (`A`): what the agent wants to run — the tool, the command or the
//! file and its new text, the agent's reason — when it was asked and when it is denied
//! unanswered, and the keys. Everything shown came from the agent: sanitized, cut.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use serde_json::Value;

use crate::tui::model::app::ApprovalPrompt;
use crate::tui::model::text;

/// The longest input shown (a file's whole new text is in the request file).
const INPUT_LINES: usize = 12;
const LINE_CHARS: usize = 300;

/// The input's fields as `name: value` lines, the command and the file first.
fn input_lines(input: &Value) -> Vec<String> {
    let Value::Object(fields) = input else { return vec![text::sanitize(&input.to_string(), LINE_CHARS, false)] };
    let first = ["command", "file_path", "path", "url", "old_string", "new_string", "content"];
    let mut names: Vec<&String> = fields.keys().collect();
    names.sort_by_key(|name| first.iter().position(|known| known == name).unwrap_or(first.len()));
    let mut lines = Vec::new();
    for name in names {
        let value = match &fields[name.as_str()] {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        let mut value_lines = value.lines();
        lines.push(format!("{name}: {}", text::sanitize(value_lines.next().unwrap_or(""), LINE_CHARS, false)));
        lines.extend(value_lines.map(|line| format!("  {}", text::sanitize(line, LINE_CHARS, false))));
    }
    if lines.len() > INPUT_LINES {
        let more = lines.len() - INPUT_LINES;
        lines.truncate(INPUT_LINES);
        lines.push(format!("… {more} more line(s) (codex-async approve ID --list --json shows all)"));
    }
    lines
}

pub(crate) fn draw(frame: &mut Frame, prompt: &ApprovalPrompt, area: Rect) {
    let request = &prompt.request.request;
    let dim = Style::new().dark_gray();
    let mut lines = vec![Line::from(vec![
        Span::styled(format!("Job {} asks to run ", prompt.job), Style::new().bold()),
        Span::styled(text::sanitize(&request.tool_name, 80, false), Style::new().bold().yellow()),
    ])];
    if let Some(reason) = &request.reason {
        lines.push(Line::from(Span::styled(format!("why: {}", text::sanitize(reason, LINE_CHARS, false)), dim)));
    }
    lines.push(Line::default());
    lines.extend(input_lines(&request.input).into_iter().map(Line::from));
    lines.push(Line::default());
    let when = format!(
        "request #{} · asked {} · denied unanswered at {}{}",
        request.number,
        request.asked_at.format("%H:%M:%S"),
        request.deadline.format("%H:%M:%S"),
        if prompt.request.waiting > 1 { format!(" · {} waiting", prompt.request.waiting) } else { String::new() }
    );
    lines.push(Line::from(Span::styled(when, dim)));
    match &prompt.message {
        Some(field) => {
            lines.push(Line::from(Span::styled("Deny — tell the agent why (optional), Enter sends, Esc back:", Style::new().bold().red())));
            lines.push(Line::from(format!("> {}", text::sanitize(&field.text(), LINE_CHARS, false))));
        }
        None => lines.push(Line::from(vec![
            Span::styled("y", Style::new().bold().green()),
            Span::raw(" allow   "),
            Span::styled("n", Style::new().bold().red()),
            Span::raw(" deny (with a message)   "),
            Span::styled("Y", Style::new().bold().green()),
            Span::raw(format!(" allow {} for the rest of the job   ", text::sanitize(&request.tool_name, 40, false))),
            Span::styled("Esc", Style::new().bold()),
            Span::raw(" back"),
        ])),
    }
    let width = area.width.saturating_sub(4).clamp(20, 110);
    let height = u16::try_from(lines.len() + 2).unwrap_or(u16::MAX).min(area.height);
    let popup = Rect {
        x: area.x + (area.width.saturating_sub(width)) / 2,
        y: area.y + (area.height.saturating_sub(height)) / 2,
        width: width.min(area.width),
        height,
    };
    frame.render_widget(Clear, popup);
    let block = Block::new().borders(Borders::ALL).title(" Approval requested ").border_style(Style::new().yellow());
    frame.render_widget(Paragraph::new(lines).block(block).wrap(Wrap { trim: false }), popup);
}
