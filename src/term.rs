//! Text that agents print, made safe to show on a terminal — through one escape-sequence
//! parser, `vte` (alacritty's), shared by the dashboard and the command line.
//!
//! The parser reads the bytes as a terminal would, so every kind of sequence ends where
//! a terminal ends it: CSI (cursor moves, clears), OSC (titles, OSC 52 clipboard
//! writes, hyperlinks) of any length, DCS, charset designations such as `ESC ( B`
//! (which `tput sgr0` prints). Of all that, only SGR — colours and attributes — is ever
//! kept; every other sequence and control character is dropped, tabs become spaces,
//! and invalid UTF-8 becomes U+FFFD.

use std::ops::ControlFlow;

use unicode_width::UnicodeWidthChar;

use crate::jobs::tail::screen_lines;

const TAB_STOP: usize = 8;
/// How many bytes the parser takes at a time. A reader that has seen enough stops it
/// within one step, so a megabyte line costs what is shown of it, not its length.
const PARSE_STEP: usize = 256;

/// One thing a terminal would do with a line of output, of the few that are kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece {
    /// A printable character.
    Char(char),
    /// A tab (to the next multiple of eight columns).
    Tab,
    /// Select Graphic Rendition: colours and attributes. Each group is a parameter with
    /// its `:` subparameters (`38:2::255:0:0`), as the parser read them.
    Sgr(Vec<Vec<u16>>),
}

struct Collector<F: FnMut(Piece) -> ControlFlow<()>> {
    visit: F,
    /// The visitor has seen enough: nothing more is handed over.
    stopped: bool,
}

impl<F: FnMut(Piece) -> ControlFlow<()>> Collector<F> {
    fn hand_over(&mut self, piece: Piece) {
        if !self.stopped {
            self.stopped = (self.visit)(piece).is_break();
        }
    }
}

impl<F: FnMut(Piece) -> ControlFlow<()>> vte::Perform for Collector<F> {
    fn print(&mut self, c: char) {
        // C1 controls (U+0080–U+009F) arrive here as characters: never shown.
        if !c.is_control() {
            self.hand_over(Piece::Char(c));
        }
    }

    fn execute(&mut self, byte: u8) {
        if byte == b'\t' {
            self.hand_over(Piece::Tab);
        }
    }

    fn csi_dispatch(&mut self, params: &vte::Params, intermediates: &[u8], ignore: bool, action: char) {
        if action == 'm' && intermediates.is_empty() && !ignore {
            self.hand_over(Piece::Sgr(params.iter().map(<[u16]>::to_vec).collect()));
        }
    }
}

/// Reads one line of output as a terminal would and hands over what is kept, until
/// `visit` breaks (it has enough to show). Returns how many bytes were parsed.
pub fn pieces(line: &str, visit: impl FnMut(Piece) -> ControlFlow<()>) -> usize {
    let mut parser = vte::Parser::new();
    let mut collector = Collector { visit, stopped: false };
    let mut parsed = 0;
    for step in line.as_bytes().chunks(PARSE_STEP) {
        parser.advance(&mut collector, step);
        parsed += step.len();
        if collector.stopped {
            break;
        }
    }
    #[cfg(test)]
    parse_count::add(parsed);
    parsed
}

/// An SGR sequence written back out, parameters as read.
fn sgr_sequence(groups: &[Vec<u16>]) -> String {
    let params: Vec<String> = groups.iter().map(|group| group.iter().map(u16::to_string).collect::<Vec<_>>().join(":")).collect();
    format!("\u{1b}[{}m", params.join(";"))
}

/// The visible text of one line, at most `max_columns` columns, with colour (SGR)
/// sequences kept when `keep_colour`.
pub fn sanitize_line(line: &str, max_columns: usize, keep_colour: bool) -> String {
    let mut out = String::with_capacity(line.len().min(max_columns.saturating_mul(2).saturating_add(16)));
    let mut column = 0usize;
    pieces(line, |piece| {
        match piece {
            Piece::Char(ch) => {
                let width = ch.width().unwrap_or(0);
                if column + width > max_columns {
                    return ControlFlow::Break(());
                }
                out.push(ch);
                column += width;
            }
            Piece::Tab => {
                let spaces = (TAB_STOP - column % TAB_STOP).min(max_columns - column);
                out.extend(std::iter::repeat_n(' ', spaces));
                column += spaces;
                if column >= max_columns {
                    return ControlFlow::Break(());
                }
            }
            Piece::Sgr(groups) if keep_colour => out.push_str(&sgr_sequence(&groups)),
            Piece::Sgr(_) => {}
        }
        ControlFlow::Continue(())
    });
    out
}

/// Text for a terminal or a pipe, from anything an agent (or a prompt) holds: lines as
/// a terminal would show them (`\n` and `\r\n` end a line, a lone `\r` starts it
/// again), only printable characters, spaces and newlines, plus colour when
/// `keep_colour` (then each coloured line ends with a reset, so colour never spills
/// into what follows).
pub fn sanitize_text(text: &str, keep_colour: bool) -> String {
    let mut out = String::with_capacity(text.len());
    let lines = screen_lines(text.as_bytes());
    for (index, line) in lines.iter().enumerate() {
        if index > 0 {
            out.push('\n');
        }
        let clean = sanitize_line(line, usize::MAX, keep_colour);
        let coloured = keep_colour && clean.contains('\u{1b}');
        out.push_str(&clean);
        if coloured {
            out.push_str("\u{1b}[0m");
        }
    }
    if text.ends_with('\n') && !out.is_empty() {
        out.push('\n');
    }
    out
}

/// Bytes parsed on this thread, for tests that prove drawing a huge line costs what
/// is shown of it (a count, not a clock).
#[cfg(test)]
pub(crate) mod parse_count {
    use std::cell::Cell;

    thread_local! {
        static PARSED: Cell<usize> = const { Cell::new(0) };
    }

    pub(super) fn add(bytes: usize) {
        PARSED.with(|parsed| parsed.set(parsed.get() + bytes));
    }

    /// Bytes parsed on this thread since the last call.
    pub fn take() -> usize {
        PARSED.with(|parsed| parsed.replace(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_colour_survives_and_only_when_asked() {
        let raw = "\u{1b}[2J\u{1b}[H\u{1b}]0;evil title\u{7}\u{1b}[1mbold\u{1b}(B\u{1b}[m plain\u{7}\u{8}";
        assert_eq!(sanitize_line(raw, 100, false), "bold plain");
        assert_eq!(sanitize_line(raw, 100, true), "\u{1b}[1mbold\u{1b}[0m plain");
    }

    #[test]
    fn a_long_osc_leaves_nothing_behind() {
        let payload = "A".repeat(200);
        let raw = format!("before\u{1b}]52;c;{payload}\u{7}after \u{1b}]8;;http://x/{payload}\u{1b}\\link");
        assert_eq!(sanitize_line(&raw, 1000, false), "beforeafter link");
    }

    #[test]
    fn colour_parameters_are_kept_as_read() {
        let raw = "\u{1b}[38:2::255:0:0mred\u{1b}[1;38;5;208morange\u{1b}[0m";
        assert_eq!(sanitize_line(raw, 100, true), "\u{1b}[38:2:0:255:0:0mred\u{1b}[1;38;5;208morange\u{1b}[0m");
    }

    #[test]
    fn text_keeps_its_lines_collapses_progress_and_resets_colour() {
        let raw = "10%\r50%\r100%\nline two\u{1b}[31m red\n\u{1b}]0;t\u{7}last\n";
        assert_eq!(sanitize_text(raw, false), "100%\nline two red\nlast\n");
        assert_eq!(sanitize_text(raw, true), "100%\nline two\u{1b}[31m red\u{1b}[0m\nlast\n");
    }

    #[test]
    fn widths_and_tabs() {
        assert_eq!(sanitize_line("a\tb", 100, false), "a       b");
        assert_eq!(sanitize_line("日本語", 5, false), "日本");
        assert_eq!(sanitize_line("\u{9b}31mx", 10, false), "31mx", "a C1 CSI is not a sequence here, and not shown");
        assert_eq!(sanitize_line("bad \u{fffd}", 10, false), "bad \u{fffd}");
    }
}
