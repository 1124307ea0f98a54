//! Views shown in the output's place, with the same scrolling, search, wrap and
//! copying: everything known about a job (`i`), what it changed (`D`), a line the
//! reader cut, whole (`L`). Esc goes back to the output, which kept following meanwhile.

use crate::jobs::JobId;

use super::pane::OutputPane;

/// What the detail view reads from files besides the meta.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct DetailFiles {
    pub(crate) id: Option<JobId>,
    /// The whole prompt, when the meta holds only its start.
    pub(crate) prompt: Option<String>,
    pub(crate) last_message: Option<String>,
    /// Its hooks that failed, and where their output went.
    pub(crate) hook_failures: Vec<String>,
    pub(crate) hooks_log: String,
    pub(crate) read: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum DocKind {
    Detail(JobId),
    Diff(JobId),
    Line { job: JobId, offset: u64 },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Document {
    pub(crate) kind: DocKind,
    /// What the output's title says instead of "output".
    pub(crate) title: String,
    /// The text as shown (what `y` copies, what `o` and `e` open).
    pub(crate) text: String,
    pub(crate) pane: OutputPane,
}

impl Document {
    pub(crate) fn new(kind: DocKind, title: String, text: String, wrap: bool) -> Self {
        let pane = OutputPane::document(&text, wrap);
        Document { kind, title, text, pane }
    }

    /// New text for the same view (the job changed): where the person was stays.
    pub(crate) fn replace_text(&mut self, text: String) {
        let wrap = self.pane.wrap;
        let old = std::mem::replace(&mut self.pane, OutputPane::document(&text, wrap));
        self.pane.top = old.top.min(self.pane.line_count().saturating_sub(1));
        self.pane.top_row = old.top_row;
        self.pane.left = old.left;
        self.pane.search = old.search;
        self.pane.refresh_search();
        self.text = text;
    }
}

/// A line too long to draw as one, in pieces of about `columns` columns (whole rows at
/// the pane's width, so wrapped it reads as one). Colour carries over a cut.
pub(crate) fn line_pieces(raw: &str, columns: usize) -> String {
    let text = crate::term::sanitize_line(raw, usize::MAX, true);
    let columns = columns.max(1);
    let mut pieces = String::with_capacity(text.len() + text.len() / columns.max(1) * 8);
    let mut column = 0;
    let mut chars = text.chars().peekable();
    // The last colour sequence seen, repeated after each cut.
    let mut colour = String::new();
    while let Some(ch) = chars.next() {
        if ch == '\u{1b}' {
            let mut sequence = String::from(ch);
            for next in chars.by_ref() {
                sequence.push(next);
                if next.is_ascii_alphabetic() {
                    break;
                }
            }
            pieces.push_str(&sequence);
            colour = sequence;
            continue;
        }
        let width = unicode_width::UnicodeWidthChar::width(ch).unwrap_or(0);
        if column + width > columns {
            pieces.push('\n');
            pieces.push_str(&colour);
            column = 0;
        }
        pieces.push(ch);
        column += width;
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_line_is_cut_into_whole_rows_and_keeps_its_colour() {
        let raw = format!("\u{1b}[31m{}", "x".repeat(25));
        let pieces = line_pieces(&raw, 10);
        let lines: Vec<&str> = pieces.split('\n').collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(crate::term::sanitize_line(lines[1], 100, false), "xxxxxxxxxx");
        assert!(lines[2].starts_with("\u{1b}[31m"), "{lines:?}");
        let document = Document::new(DocKind::Line { job: JobId::parse("abcd1234").unwrap(), offset: 0 }, "t".into(), pieces, true);
        assert_eq!(document.pane.line_count(), 3);
    }
}
