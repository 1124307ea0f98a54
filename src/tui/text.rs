//! Agent output made safe to draw: colours kept, everything else that could move the
//! cursor or confuse the terminal dropped, tabs expanded, width measured per character.

use ansi_to_tui::IntoText;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthChar;

const TAB_STOP: usize = 8;

/// The visible text of a raw output line, with only colour (SGR) sequences kept when
/// `keep_colour`; at most `max_columns` columns of it.
pub fn sanitize(raw: &str, max_columns: usize, keep_colour: bool) -> String {
    let mut out = String::with_capacity(raw.len().min(max_columns.saturating_mul(2).saturating_add(16)));
    let mut column = 0usize;
    let mut chars = raw.chars().peekable();
    while let Some(ch) = chars.next() {
        if column >= max_columns {
            break;
        }
        match ch {
            '\u{1b}' => match chars.peek() {
                Some('[') => {
                    chars.next();
                    let mut sequence = String::from("\u{1b}[");
                    let mut final_byte = None;
                    for next in chars.by_ref() {
                        if ('\u{40}'..='\u{7e}').contains(&next) {
                            final_byte = Some(next);
                            break;
                        }
                        if sequence.len() > 64 {
                            break;
                        }
                        sequence.push(next);
                    }
                    // Only well-formed colour sequences survive; cursor moves, erases and
                    // the like are dropped.
                    if keep_colour && final_byte == Some('m') && sequence[2..].bytes().all(|b| b.is_ascii_digit() || b == b';' || b == b':')
                    {
                        sequence.push('m');
                        out.push_str(&sequence);
                    }
                }
                Some(']') | Some('P') | Some('_') | Some('^') => {
                    // OSC / DCS / APC / PM strings: up to BEL or ESC \.
                    chars.next();
                    while let Some(next) = chars.next() {
                        if next == '\u{7}' {
                            break;
                        }
                        if next == '\u{1b}' {
                            if chars.peek() == Some(&'\\') {
                                chars.next();
                            }
                            break;
                        }
                    }
                }
                Some(_) => {
                    chars.next();
                }
                None => {}
            },
            '\t' => {
                let spaces = TAB_STOP - column % TAB_STOP;
                let spaces = spaces.min(max_columns - column);
                out.extend(std::iter::repeat_n(' ', spaces));
                column += spaces;
            }
            ch if ch.is_control() => {}
            ch => {
                let width = ch.width().unwrap_or(0);
                if column + width > max_columns {
                    break;
                }
                out.push(ch);
                column += width;
            }
        }
    }
    out
}

/// The visible text only, for searching and copying.
pub fn plain(raw: &str) -> String {
    sanitize(raw, usize::MAX, false)
}

/// A raw output line as a styled line of at most `max_columns` columns.
pub fn styled_line(raw: &str, max_columns: usize) -> Line<'static> {
    let clean = sanitize(raw, max_columns, true);
    if !clean.contains('\u{1b}') {
        return Line::raw(clean);
    }
    match clean.as_bytes().into_text() {
        Ok(text) => text.lines.into_iter().next().unwrap_or_default(),
        Err(_) => Line::raw(sanitize(raw, max_columns, false)),
    }
}

/// Byte ranges in `text` where `query` occurs, ignoring ASCII case.
pub fn find_matches(text: &str, query: &str) -> Vec<(usize, usize)> {
    if query.is_empty() {
        return Vec::new();
    }
    let haystack = text.to_ascii_lowercase();
    let needle = query.to_ascii_lowercase();
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = haystack[from..].find(&needle) {
        let start = from + at;
        found.push((start, start + needle.len()));
        from = start + needle.len();
    }
    found
}

/// Restyles the parts of `line` that match `query`.
pub fn highlight(line: Line<'static>, query: &str, style: Style) -> Line<'static> {
    let text: String = line.spans.iter().map(|span| span.content.as_ref()).collect();
    let matches = find_matches(&text, query);
    if matches.is_empty() {
        return line;
    }
    let mut spans = Vec::new();
    let mut at = 0usize;
    for span in line.spans {
        let content = span.content.as_ref();
        let span_start = at;
        let span_end = at + content.len();
        let mut cursor = span_start;
        for &(start, end) in &matches {
            let (start, end) = (start.max(span_start), end.min(span_end));
            if start >= end || start < cursor {
                continue;
            }
            if start > cursor {
                spans.push(Span::styled(content[cursor - span_start..start - span_start].to_owned(), span.style));
            }
            spans.push(Span::styled(content[start - span_start..end - span_start].to_owned(), span.style.patch(style)));
            cursor = end;
        }
        if cursor < span_end {
            spans.push(Span::styled(content[cursor - span_start..].to_owned(), span.style));
        }
        at = span_end;
    }
    Line { spans, style: line.style, alignment: line.alignment }
}

/// Cuts a line into rows of at most `width` columns (wide characters never split).
pub fn wrap(line: Line<'static>, width: usize) -> Vec<Line<'static>> {
    let width = width.max(1);
    let mut rows = vec![Line::default()];
    let mut column = 0;
    for span in line.spans {
        let mut piece = String::new();
        for ch in span.content.chars() {
            let char_width = ch.width().unwrap_or(0);
            if column + char_width > width && column > 0 {
                if let Some(row) = rows.last_mut()
                    && !piece.is_empty()
                {
                    row.spans.push(Span::styled(std::mem::take(&mut piece), span.style));
                }
                rows.push(Line::default());
                column = 0;
            }
            piece.push(ch);
            column += char_width;
        }
        if let Some(row) = rows.last_mut()
            && !piece.is_empty()
        {
            row.spans.push(Span::styled(piece, span.style));
        }
    }
    rows
}

/// How many rows `raw` takes when wrapped at `width` (never less than one).
pub fn wrapped_height(raw: &str, width: usize, max_rows: usize) -> usize {
    let width = width.max(1);
    let columns = sanitize(raw, width.saturating_mul(max_rows), false).chars().map(|ch| ch.width().unwrap_or(0)).sum::<usize>();
    columns.div_ceil(width).clamp(1, max_rows.max(1))
}

/// Shortens a path for display: the home folder becomes `~`.
pub fn tilde(path: &str, home: Option<&str>) -> String {
    match home {
        Some(home) if !home.is_empty() && home != "/" => {
            if path == home {
                "~".to_owned()
            } else if let Some(rest) = path.strip_prefix(home).filter(|rest| rest.starts_with('/')) {
                format!("~{rest}")
            } else {
                path.to_owned()
            }
        }
        _ => path.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::style::{Color, Modifier};

    #[test]
    fn control_sequences_other_than_colour_are_dropped() {
        let raw = "\u{1b}[31mred\u{1b}[0m \u{1b}[2J\u{1b}[Hclear\u{1b}]0;title\u{7} bell\u{7} nul\0 bs\u{8} del\u{7f}";
        assert_eq!(sanitize(raw, 200, true), "\u{1b}[31mred\u{1b}[0m clear bell nul bs del");
        assert_eq!(plain(raw), "red clear bell nul bs del");
        assert_eq!(plain("a\u{1b}]8;;http://x\u{1b}\\link\u{1b}]8;;\u{1b}\\b"), "alinkb");
    }

    #[test]
    fn tabs_expand_to_stops_and_widths_are_measured() {
        assert_eq!(sanitize("a\tb", 80, false), "a       b");
        assert_eq!(sanitize("日本語", 5, false), "日本", "a wide character never half-shown");
        assert_eq!(wrapped_height("日本語日本語", 4, 100), 3);
    }

    #[test]
    fn colours_become_styles() {
        let line = styled_line("\u{1b}[32mok\u{1b}[0m done", 80);
        assert_eq!(line.spans[0].content, "ok");
        assert_eq!(line.spans[0].style.fg, Some(Color::Green));
    }

    #[test]
    fn highlight_splits_spans_at_matches() {
        let line = Line::from(vec![Span::raw("hello "), Span::styled("World", Style::new().fg(Color::Red))]);
        let marked = highlight(line, "o w", Style::new().add_modifier(Modifier::REVERSED));
        let parts: Vec<&str> = marked.spans.iter().map(|s| s.content.as_ref()).collect();
        assert_eq!(parts, ["hell", "o ", "W", "orld"]);
        assert!(marked.spans[1].style.add_modifier.contains(Modifier::REVERSED));
        assert_eq!(marked.spans[2].style.fg, Some(Color::Red));
        assert!(marked.spans[2].style.add_modifier.contains(Modifier::REVERSED));
    }

    #[test]
    fn wrap_keeps_styles_and_wide_characters_whole() {
        let rows = wrap(Line::from(vec![Span::raw("abc"), Span::styled("日本", Style::new().fg(Color::Blue))]), 4);
        let texts: Vec<String> = rows.iter().map(|row| row.spans.iter().map(|s| s.content.as_ref()).collect()).collect();
        assert_eq!(texts, ["abc", "日本"]);
    }

    #[test]
    fn paths_shorten_with_tilde() {
        assert_eq!(tilde("/home/me/src", Some("/home/me")), "~/src");
        assert_eq!(tilde("/home/meat", Some("/home/me")), "/home/meat");
    }

    #[test]
    fn a_megabyte_line_is_cut_before_parsing() {
        let raw = "\u{1b}[33m".to_owned() + &"x".repeat(1024 * 1024);
        let started = std::time::Instant::now();
        let line = styled_line(&raw, 200);
        assert_eq!(line.width(), 200);
        assert!(started.elapsed() < std::time::Duration::from_millis(200));
    }
}
