//! Agent output made safe to draw: colours kept, everything else that could move the
//! cursor or confuse the terminal dropped (see [`crate::term`], the one parser both
//! the dashboard and the command line use), tabs expanded, width measured per character.
//! Also the few words a screen shows beside output: a path with `~`, a count at a
//! glance, how long ago a job was made and how long it ran.

use std::ops::ControlFlow;

use chrono::{DateTime, Utc};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthChar;

use crate::jobs::{JobMeta, JobRecord};
use crate::term::{self, Piece};

use super::search::Matcher;

const TAB_STOP: usize = 8;

/// The visible text of a raw output line, with only colour (SGR) sequences kept when
/// `keep_colour`; at most `max_columns` columns of it.
pub fn sanitize(raw: &str, max_columns: usize, keep_colour: bool) -> String {
    term::sanitize_line(raw, max_columns, keep_colour)
}

/// The visible text only, for searching and copying.
pub fn plain(raw: &str) -> String {
    sanitize(raw, usize::MAX, false)
}

/// A raw output line as a styled line of at most `max_columns` columns. The parser
/// stops once the columns are full: a megabyte line costs what is shown of it.
pub fn styled_line(raw: &str, max_columns: usize) -> Line<'static> {
    styled_slice(raw, 0, max_columns).0
}

/// Columns `skip..skip + columns` of a raw output line, and whether the line goes on
/// past them. The parser stops one column after the slice (a wide character cut by the
/// left edge shows as a space).
pub(crate) fn styled_slice(raw: &str, skip: usize, columns: usize) -> (Line<'static>, bool) {
    let mut spans: Vec<Span<'static>> = Vec::new();
    let mut piece = String::new();
    let mut style = Style::default();
    let mut column = 0usize;
    let end = skip.saturating_add(columns);
    let mut more = false;
    let put = |piece: &mut String, column: &mut usize, ch: char, width: usize| {
        if *column >= skip {
            piece.push(ch);
        } else if *column + width > skip {
            // Straddles the left edge: its visible part is blank.
            piece.extend(std::iter::repeat_n(' ', *column + width - skip));
        }
        *column += width;
    };
    term::pieces(raw, |next| {
        match next {
            Piece::Char(ch) => {
                let width = ch.width().unwrap_or(0);
                if column + width > end || (width == 0 && column >= end) {
                    more = true;
                    return ControlFlow::Break(());
                }
                put(&mut piece, &mut column, ch, width);
            }
            Piece::Tab => {
                if column >= end {
                    more = true;
                    return ControlFlow::Break(());
                }
                let spaces = (TAB_STOP - column % TAB_STOP).min(end - column);
                for _ in 0..spaces {
                    put(&mut piece, &mut column, ' ', 1);
                }
            }
            Piece::Sgr(groups) => {
                let next_style = apply_sgr(style, &groups);
                if next_style != style {
                    if !piece.is_empty() {
                        spans.push(Span::styled(std::mem::take(&mut piece), style));
                    }
                    style = next_style;
                }
            }
        }
        ControlFlow::Continue(())
    });
    if !piece.is_empty() {
        spans.push(Span::styled(piece, style));
    }
    (Line::from(spans), more)
}

/// The width of a raw line in columns, counting at most `limit`.
pub(crate) fn line_width(raw: &str, limit: usize) -> usize {
    sanitize(raw, limit, false).chars().map(|ch| ch.width().unwrap_or(0)).sum()
}

/// The marker the output reader puts at the end of a line it cut, and how many bytes it
/// left out: the line can be read whole from the file.
pub(crate) fn cut_bytes(line: &str) -> Option<u64> {
    let rest = line.strip_suffix(" more bytes on this line)")?;
    let at = rest.rfind(" … (")?;
    rest[at + " … (".len()..].parse().ok()
}

/// The 16 colours of SGR 30–37 and 90–97 (40–47, 100–107 for the background).
const ANSI: [Color; 16] = [
    Color::Black,
    Color::Red,
    Color::Green,
    Color::Yellow,
    Color::Blue,
    Color::Magenta,
    Color::Cyan,
    Color::Gray,
    Color::DarkGray,
    Color::LightRed,
    Color::LightGreen,
    Color::LightYellow,
    Color::LightBlue,
    Color::LightMagenta,
    Color::LightCyan,
    Color::White,
];

/// A style after an SGR sequence's parameter groups.
fn apply_sgr(mut style: Style, groups: &[Vec<u16>]) -> Style {
    let mut index = 0;
    // `ESC [ m` is a reset, as is an empty parameter.
    if groups.is_empty() {
        return Style::default();
    }
    while index < groups.len() {
        let group = &groups[index];
        let code = group.first().copied().unwrap_or(0);
        index += 1;
        style = match code {
            0 => Style::default(),
            1 => style.add_modifier(Modifier::BOLD),
            2 => style.add_modifier(Modifier::DIM),
            3 => style.add_modifier(Modifier::ITALIC),
            4 => style.add_modifier(Modifier::UNDERLINED),
            5 => style.add_modifier(Modifier::SLOW_BLINK),
            6 => style.add_modifier(Modifier::RAPID_BLINK),
            7 => style.add_modifier(Modifier::REVERSED),
            8 => style.add_modifier(Modifier::HIDDEN),
            9 => style.add_modifier(Modifier::CROSSED_OUT),
            21 | 22 => style.remove_modifier(Modifier::BOLD | Modifier::DIM),
            23 => style.remove_modifier(Modifier::ITALIC),
            24 => style.remove_modifier(Modifier::UNDERLINED),
            25 => style.remove_modifier(Modifier::SLOW_BLINK | Modifier::RAPID_BLINK),
            27 => style.remove_modifier(Modifier::REVERSED),
            28 => style.remove_modifier(Modifier::HIDDEN),
            29 => style.remove_modifier(Modifier::CROSSED_OUT),
            30..=37 => style.fg(ANSI[usize::from(code - 30)]),
            39 => Style { fg: None, ..style },
            40..=47 => style.bg(ANSI[usize::from(code - 40)]),
            49 => Style { bg: None, ..style },
            90..=97 => style.fg(ANSI[usize::from(code - 90 + 8)]),
            100..=107 => style.bg(ANSI[usize::from(code - 100 + 8)]),
            38 | 48 => {
                let colour = if group.len() > 1 {
                    // Colon form: 38:5:n, 38:2:r:g:b or 38:2::r:g:b (with a colour space).
                    extended_colour(&group[1..])
                } else {
                    // Semicolon form: the colour's values are the next parameters.
                    let rest: Vec<u16> = groups[index..].iter().map(|next| next.first().copied().unwrap_or(0)).collect();
                    let (colour, used) = extended_colour_semicolon(&rest);
                    index += used;
                    colour
                };
                match (code, colour) {
                    (38, Some(colour)) => style.fg(colour),
                    (48, Some(colour)) => style.bg(colour),
                    _ => style,
                }
            }
            _ => style,
        };
    }
    style
}

fn byte(value: u16) -> u8 {
    u8::try_from(value).unwrap_or(u8::MAX)
}

fn extended_colour(values: &[u16]) -> Option<Color> {
    match values {
        [5, n, ..] => Some(Color::Indexed(byte(*n))),
        [2, _space, r, g, b, ..] => Some(Color::Rgb(byte(*r), byte(*g), byte(*b))),
        [2, r, g, b] => Some(Color::Rgb(byte(*r), byte(*g), byte(*b))),
        _ => None,
    }
}

/// `38;5;n` or `38;2;r;g;b`: the colour and how many parameters it took.
fn extended_colour_semicolon(rest: &[u16]) -> (Option<Color>, usize) {
    match rest {
        [5, n, ..] => (Some(Color::Indexed(byte(*n))), 2),
        [2, r, g, b, ..] => (Some(Color::Rgb(byte(*r), byte(*g), byte(*b))), 4),
        [5] | [2, ..] => (None, rest.len()),
        _ => (None, 0),
    }
}

/// Restyles the parts of `line` that match.
pub(crate) fn highlight(line: Line<'static>, matcher: &Matcher, style: Style) -> Line<'static> {
    let text: String = line.spans.iter().map(|span| span.content.as_ref()).collect();
    let matches = matcher.find_all(&text);
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
pub(crate) fn wrapped_height(raw: &str, width: usize, max_rows: usize) -> usize {
    let width = width.max(1);
    let columns = sanitize(raw, width.saturating_mul(max_rows), false).chars().map(|ch| ch.width().unwrap_or(0)).sum::<usize>();
    columns.div_ceil(width).clamp(1, max_rows.max(1))
}

/// Shortens a path for display: the home folder becomes `~`.
pub(crate) fn tilde(path: &str, home: Option<&str>) -> String {
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

/// Seconds a job ran (or runs).
pub(crate) fn run_seconds(meta: &JobMeta, now: DateTime<Utc>) -> i64 {
    let Some(started) = meta.started_at.or(meta.details.created_at) else { return 0 };
    let ended = meta.finished_at.map_or(now, |finished| finished.0);
    (ended - started.0).num_seconds().max(0)
}

/// How long ago a job was made (or started): `45s`, `12m`, `3h`, `5d`.
pub(crate) fn age(record: &JobRecord, now: DateTime<Utc>) -> String {
    let made = record.meta.as_ref().ok().and_then(|meta| meta.details.created_at.or(meta.started_at)).map(|at| at.0);
    let made = made.unwrap_or_else(|| DateTime::<Utc>::from(record.created));
    crate::human::age_text((now - made).num_seconds())
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
        let marked = highlight(line, &Matcher::parse("o w").unwrap(), Style::new().add_modifier(Modifier::REVERSED));
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
    fn a_slice_of_columns_says_whether_the_line_goes_on() {
        let (line, more) = styled_slice("abcdefgh", 2, 3);
        assert_eq!((line.to_string(), more), ("cde".to_owned(), true));
        let (line, more) = styled_slice("abcdefgh", 5, 3);
        assert_eq!((line.to_string(), more), ("fgh".to_owned(), false));
        let (line, more) = styled_slice("日本語", 1, 3);
        assert_eq!((line.to_string(), more), (" 本".to_owned(), true), "a wide character cut by the left edge is blank");
        let (line, _) = styled_slice("a\tb", 2, 20);
        assert_eq!(line.to_string(), "      b");
        assert_eq!(line_width("\u{1b}[31mabc\u{1b}[0m\t", 100), 8);
    }

    #[test]
    fn the_cut_marker_says_how_much_was_left_out() {
        assert_eq!(cut_bytes("xxx\u{1b}[0m … (24576 more bytes on this line)"), Some(24576));
        assert_eq!(cut_bytes("an ordinary line"), None);
    }

    #[test]
    fn paths_shorten_with_tilde() {
        assert_eq!(tilde("/home/me/src", Some("/home/me")), "~/src");
        assert_eq!(tilde("/home/meat", Some("/home/me")), "/home/meat");
    }

    #[test]
    fn a_megabyte_line_is_cut_before_parsing() {
        let raw = "\u{1b}[33m".to_owned() + &"x".repeat(1024 * 1024);
        crate::term::parse_count::take();
        let line = styled_line(&raw, 200);
        assert_eq!(line.width(), 200);
        // The parser stopped within a step of the 200th column, not at the line's end.
        let parsed = crate::term::parse_count::take();
        assert!(parsed <= 1024, "{parsed} bytes parsed to show 200 columns");
        let plain_text = sanitize(&raw, 200, false);
        assert_eq!(plain_text.len(), 200);
        let parsed = crate::term::parse_count::take();
        assert!(parsed <= 1024, "{parsed} bytes parsed to sanitize 200 columns");
    }
}
