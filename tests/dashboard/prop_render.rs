//! Property tests of what the dashboard draws from agent output: arbitrary bytes with
//! ANSI sequences, `\r`, tabs, wide characters and invalid UTF-8.
#![allow(clippy::unwrap_used)]

use codex_async::jobs::output::tail::screen_lines;
use codex_async::jobs::output::{LineSplitter, OutputLine, split_lines};
use codex_async::term::sanitize_text;
use codex_async::tui::text::{plain, sanitize, styled_line, wrap};
use proptest::prelude::*;
use unicode_width::UnicodeWidthStr;

fn terminal_bytes() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        6 => "[a-zA-Z0-9 .:/-]{0,16}".prop_map(String::into_bytes),
        2 => Just(b"\n".to_vec()),
        1 => Just(b"\r".to_vec()),
        1 => Just(b"\r\n".to_vec()),
        1 => Just(b"\t".to_vec()),
        1 => Just("日本語😀é".as_bytes().to_vec()),
        1 => prop::sample::select(vec![
            b"\x1b[31m".to_vec(), b"\x1b[1;38;5;208m".to_vec(), b"\x1b[0m".to_vec(), b"\x1b[2J".to_vec(), b"\x1b[10;20H".to_vec(),
            b"\x1b]0;title\x07".to_vec(), b"\x1b]52;c;Zm9v\x1b\\".to_vec(), b"\x1b[".to_vec(), b"\x1b".to_vec(), b"\x1b[38;5".to_vec(),
            b"\x07\x08\x00\x7f".to_vec(), vec![0xff, 0xc3], vec![0xe6, 0x97],
        ]),
        1 => any::<Vec<u8>>(),
    ];
    prop::collection::vec(piece, 0..60).prop_map(|pieces| pieces.concat())
}

fn texts(lines: &[OutputLine]) -> Vec<String> {
    lines.iter().map(|line| line.text.clone()).collect()
}

fn columns(line: &ratatui::text::Line) -> usize {
    line.spans.iter().map(|span| span.content.width()).sum()
}

proptest! {
    #[test]
    fn reading_in_chunks_gives_the_same_lines(bytes in terminal_bytes(), cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..8)) {
        let mut at: Vec<usize> = cuts.iter().map(|cut| cut.index(bytes.len() + 1)).collect();
        at.sort();
        let mut splitter = LineSplitter::default();
        let mut lines = Vec::new();
        let mut from = 0;
        for cut in at.into_iter().chain([bytes.len()]) {
            splitter.feed(&bytes[from..cut], &mut lines);
            from = cut;
        }
        lines.extend(splitter.partial());
        prop_assert_eq!(lines, split_lines(&bytes));
    }

    #[test]
    fn the_dashboard_and_poll_agree_on_screen_lines(bytes in terminal_bytes()) {
        // Both read `\n`, `\r\n` and a lone `\r` as a terminal would.
        let dashboard = texts(&split_lines(&bytes));
        let poll = screen_lines(&bytes);
        prop_assert_eq!(dashboard, poll);
    }

    #[test]
    fn sanitized_text_has_no_control_bytes_and_fits(bytes in terminal_bytes(), max_columns in 0usize..120) {
        for line in split_lines(&bytes) {
            let visible = sanitize(&line.text, max_columns, false);
            prop_assert!(!visible.chars().any(char::is_control), "{visible:?}");
            prop_assert!(visible.width() <= max_columns);
            let coloured = sanitize(&line.text, max_columns, true);
            // Only complete colour sequences remain: ESC [ digits/;/: m.
            let mut rest = coloured.as_str();
            while let Some(at) = rest.find('\u{1b}') {
                let tail = &rest[at + 1..];
                let end = tail.find('m').unwrap();
                prop_assert!(tail.starts_with('[') && tail[1..end].bytes().all(|b| b.is_ascii_digit() || b == b';' || b == b':'), "{coloured:?}");
                rest = &tail[end + 1..];
            }
            let styled = styled_line(&line.text, max_columns);
            prop_assert!(columns(&styled) <= max_columns);
            prop_assert!(styled.spans.iter().all(|span| !span.content.chars().any(char::is_control)));
            prop_assert_eq!(plain(&line.text), sanitize(&line.text, usize::MAX, false));
        }
    }

    #[test]
    fn wrapping_keeps_every_character_and_fits_the_width(bytes in terminal_bytes(), width in 1usize..60) {
        for line in split_lines(&bytes) {
            let styled = styled_line(&line.text, 10_000);
            let text: String = styled.spans.iter().map(|span| span.content.as_ref()).collect();
            let rows = wrap(styled, width);
            let rewrapped: String = rows.iter().flat_map(|row| row.spans.iter().map(|span| span.content.as_ref())).collect();
            prop_assert_eq!(rewrapped, text);
            for row in &rows {
                // A wide character alone on a row of width 1 is the one overflow allowed.
                prop_assert!(columns(row) <= width.max(2), "row of {} columns at width {width}", columns(row));
            }
        }
    }

    #[test]
    fn the_cli_sanitizer_lets_out_only_text_colour_and_newlines(bytes in terminal_bytes(), colour in any::<bool>()) {
        let text = String::from_utf8_lossy(&bytes);
        let clean = sanitize_text(&text, colour);
        let mut rest = clean.as_str();
        while let Some(at) = rest.find('\u{1b}') {
            prop_assert!(colour, "an escape without colour: {clean:?}");
            let tail = &rest[at + 1..];
            let end = tail.find('m').unwrap();
            prop_assert!(tail.starts_with('[') && tail[1..end].bytes().all(|b| b.is_ascii_digit() || b == b';' || b == b':'), "{clean:?}");
            rest = &tail[end + 1..];
        }
        prop_assert!(!clean.chars().any(|ch| ch.is_control() && ch != '\n' && ch != '\u{1b}'), "{clean:?}");
        // A line end for every line end the agent printed, and no other: read as a stream
        // (as `logs -f` reads it), a line that ended has been printed with its end.
        prop_assert_eq!(clean.matches('\n').count(), text.matches('\n').count());
    }
}
