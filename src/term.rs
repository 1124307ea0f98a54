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
    let mut sanitizer = Sanitizer::new(keep_colour);
    sanitizer.feed(text.as_bytes(), &mut out);
    sanitizer.finish(&mut out);
    out
}

/// How much of a line's segment (its text since it began, or since its last `\r`) is
/// held before it is shown. A segment is held because a `\r` may still discard it; a
/// longer one is shown as it comes, as a terminal shows a line longer than its width
/// on rows of their own: a later `\r` then rewrites only what came after the last
/// row shown.
pub const SEGMENT_BYTES: usize = 256 * 1024;

/// [`sanitize_text`] over a stream that comes in pieces, in memory bounded whatever the
/// length of a line: each byte is looked at a fixed number of times, held bytes never
/// exceed [`SEGMENT_BYTES`], and the parser (vte keeps its state between calls) reads
/// a sequence cut between two pieces as one.
///
/// Text that a `\r` discards is never parsed: a line of a million progress-bar frames
/// costs a scan for line ends, and the parse of its last frame.
pub struct Sanitizer {
    keep_colour: bool,
    /// The current segment's raw bytes, not parsed yet.
    held: Vec<u8>,
    /// A `\r` came: the next byte that does not end the line starts the segment again.
    carriage: bool,
    parser: vte::Parser,
    /// The parser has read part of this line (it must start afresh on the next one).
    parsed: bool,
    line: LineShown,
}

/// What of the current line has gone out.
#[derive(Default)]
struct LineShown {
    column: usize,
    /// A colour sequence went out: the line ends with a reset.
    coloured: bool,
    /// Anything went out.
    any: bool,
}

impl Sanitizer {
    pub fn new(keep_colour: bool) -> Self {
        Sanitizer { keep_colour, held: Vec::new(), carriage: false, parser: vte::Parser::new(), parsed: false, line: LineShown::default() }
    }

    /// Takes the next piece of the stream; what can be shown of it goes to `out`.
    pub fn feed(&mut self, bytes: &[u8], out: &mut String) {
        let mut rest = bytes;
        while !rest.is_empty() {
            let run = memchr::memchr2(b'\n', b'\r', rest).unwrap_or(rest.len());
            if run > 0 {
                if self.carriage {
                    self.start_segment_again();
                }
                self.hold(&rest[..run], out);
            }
            match rest.get(run) {
                Some(b'\n') => {
                    self.end_line(out);
                    out.push('\n');
                }
                Some(_) => self.carriage = true,
                None => {}
            }
            rest = &rest[(run + 1).min(rest.len())..];
        }
    }

    /// The stream ended: a last line without its end goes out (without a newline).
    /// Returns whether it showed anything.
    pub fn finish(&mut self, out: &mut String) -> bool {
        self.end_line(out)
    }

    fn hold(&mut self, bytes: &[u8], out: &mut String) {
        if self.held.len() + bytes.len() <= SEGMENT_BYTES {
            self.held.extend_from_slice(bytes);
            return;
        }
        let held = std::mem::take(&mut self.held);
        self.parse(&held, out);
        self.parse(bytes, out);
        // The buffer is kept for the next segment, emptied.
        self.held = held;
        self.held.clear();
    }

    fn start_segment_again(&mut self) {
        self.held.clear();
        self.carriage = false;
        self.line.column = 0;
        if self.parsed {
            // A sequence the shown part began does not go on after the `\r`.
            self.parser = vte::Parser::new();
            self.parsed = false;
        }
    }

    /// Shows the held segment and closes the line's colour; true if the line showed anything.
    fn end_line(&mut self, out: &mut String) -> bool {
        let held = std::mem::take(&mut self.held);
        self.parse(&held, out);
        self.held = held;
        self.held.clear();
        if self.line.coloured {
            out.push_str("\u{1b}[0m");
        }
        let shown = self.line.any;
        self.line = LineShown::default();
        self.carriage = false;
        if self.parsed {
            self.parser = vte::Parser::new();
            self.parsed = false;
        }
        shown
    }

    fn parse(&mut self, bytes: &[u8], out: &mut String) {
        if bytes.is_empty() {
            return;
        }
        self.parsed = true;
        let keep_colour = self.keep_colour;
        let line = &mut self.line;
        let mut collector = Collector {
            visit: |piece| {
                match piece {
                    Piece::Char(ch) => {
                        out.push(ch);
                        line.column += ch.width().unwrap_or(0);
                    }
                    Piece::Tab => {
                        let spaces = TAB_STOP - line.column % TAB_STOP;
                        out.extend(std::iter::repeat_n(' ', spaces));
                        line.column += spaces;
                    }
                    Piece::Sgr(groups) if keep_colour => {
                        out.push_str(&sgr_sequence(&groups));
                        line.coloured = true;
                    }
                    Piece::Sgr(_) => return ControlFlow::Continue(()),
                }
                line.any = true;
                ControlFlow::Continue(())
            },
            stopped: false,
        };
        self.parser.advance(&mut collector, bytes);
        #[cfg(test)]
        parse_count::add(bytes.len());
    }
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

    /// The text of `raw` fed in pieces of `size` bytes, and finished.
    fn streamed(raw: &[u8], size: usize, keep_colour: bool) -> String {
        let mut sanitizer = Sanitizer::new(keep_colour);
        let mut out = String::new();
        for piece in raw.chunks(size) {
            sanitizer.feed(piece, &mut out);
        }
        sanitizer.finish(&mut out);
        out
    }

    #[test]
    fn text_cut_anywhere_reads_the_same_as_whole() {
        let raw = "10%\r50%\r100%\r\nline\ttwo\u{1b}[31m red\u{1b}]0;a title\u{7}\n\u{1b}]8;;http://x/\u{1b}\\link\u{1b}]8;;\u{1b}\\ 日本語\r\nlast";
        let whole = sanitize_text(raw, true);
        assert_eq!(whole, "100%\nline    two\u{1b}[31m red\u{1b}[0m\nlink 日本語\nlast");
        for size in 1..=raw.len() {
            assert_eq!(streamed(raw.as_bytes(), size, true), whole, "pieces of {size} bytes");
        }
    }

    #[test]
    fn a_line_of_progress_frames_parses_only_its_last_frame() {
        let mut raw = Vec::new();
        for percent in 0..200_000 {
            raw.extend_from_slice(format!("\u{1b}[32mprogress {}%\u{1b}[0m\r", percent % 101).as_bytes());
        }
        raw.extend_from_slice(b"done\n");
        parse_count::take();
        assert_eq!(streamed(&raw, 64 * 1024, false), "done\n");
        assert_eq!(parse_count::take(), 4, "only what a terminal would show is parsed");
    }

    #[test]
    fn a_line_longer_than_a_segment_goes_out_as_it_comes_and_holds_little() {
        let mut sanitizer = Sanitizer::new(false);
        let mut out = String::new();
        let piece = vec![b'x'; 64 * 1024];
        let mut shown = 0;
        for _ in 0..64 {
            sanitizer.feed(&piece, &mut out);
            shown += out.len();
            out.clear();
            assert!(sanitizer.held.len() <= SEGMENT_BYTES);
        }
        assert!(shown >= 64 * 64 * 1024 - SEGMENT_BYTES, "all but the last segment went out: {shown}");
        // A `\r` now rewrites only what was not shown yet, as on a terminal's last row.
        sanitizer.feed(b"\rend\n", &mut out);
        shown += out.len();
        assert!(out.ends_with("end\n"), "{:?}", &out[out.len().saturating_sub(10)..]);
        assert!(shown <= 64 * 64 * 1024 + 4);
    }

    #[test]
    fn an_endless_sequence_is_parsed_in_bounded_memory_and_shows_nothing() {
        let mut sanitizer = Sanitizer::new(false);
        let mut out = String::new();
        sanitizer.feed(b"before \x1b]52;c;", &mut out);
        let payload = vec![b'A'; 1024 * 1024];
        for _ in 0..16 {
            sanitizer.feed(&payload, &mut out);
        }
        sanitizer.feed(b"\x07after\n", &mut out);
        assert_eq!(out, "before after\n");
    }

    #[test]
    fn a_colour_begun_before_a_shown_segment_is_reset_at_the_line_end() {
        let mut raw = b"\x1b[31m".to_vec();
        raw.extend(std::iter::repeat_n(b'r', SEGMENT_BYTES + 10));
        raw.extend_from_slice(b"\rplain\nnext\n");
        let out = streamed(&raw, 4096, true);
        assert!(out.starts_with("\u{1b}[31mrrr"));
        assert!(out.ends_with("plain\u{1b}[0m\nnext\n"), "{:?}", &out[out.len() - 20..]);
    }

    #[test]
    fn widths_and_tabs() {
        assert_eq!(sanitize_line("a\tb", 100, false), "a       b");
        assert_eq!(sanitize_line("日本語", 5, false), "日本");
        assert_eq!(sanitize_line("\u{9b}31mx", 10, false), "31mx", "a C1 CSI is not a sequence here, and not shown");
        assert_eq!(sanitize_line("bad \u{fffd}", 10, false), "bad \u{fffd}");
    }
}
