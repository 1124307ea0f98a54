//! A text field as people expect one to edit: the cursor moves by character, word and
//! line end, Ctrl-W / Ctrl-U / Ctrl-K delete, a paste lands whole. The editing is
//! ratatui-textarea's (the maintained widget; see Cargo.toml); this wrapper names the
//! few edits the dashboard sends it, keeps single-line fields single-line, and lets the
//! state compare fields (the widget has no `PartialEq`).

use ratatui::style::{Modifier, Style};
use ratatui_textarea::{CursorMove, TextArea};

/// An edit a person makes in a text field, decoded from a key or a paste.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Edit {
    Insert(char),
    /// Bracketed paste: taken whole (newlines become spaces in a one-line field).
    Paste(String),
    /// Alt-Enter or Ctrl-J: a new line where the field has lines.
    Newline,
    Backspace,
    Delete,
    Left,
    Right,
    WordLeft,
    WordRight,
    Home,
    End,
    Up,
    Down,
    /// Ctrl-W.
    DeleteWordBefore,
    /// Ctrl-U.
    DeleteToStart,
    /// Ctrl-K.
    DeleteToEnd,
}

#[derive(Clone, Debug)]
pub(crate) struct TextField {
    area: TextArea<'static>,
    multi_line: bool,
}

impl PartialEq for TextField {
    fn eq(&self, other: &Self) -> bool {
        self.multi_line == other.multi_line && self.area.lines() == other.area.lines() && self.area.cursor() == other.area.cursor()
    }
}

impl Eq for TextField {}

impl TextField {
    pub(crate) fn single_line(text: &str) -> Self {
        Self::with(text, false)
    }

    pub(crate) fn multi_line(text: &str) -> Self {
        Self::with(text, true)
    }

    fn with(text: &str, multi_line: bool) -> Self {
        let mut field = TextField { area: TextArea::default(), multi_line };
        field.area.set_cursor_line_style(Style::new());
        field.set_text(text);
        field.set_focused(true);
        field
    }

    /// The whole text, lines joined with `\n`.
    pub(crate) fn text(&self) -> String {
        self.area.lines().join("\n")
    }

    pub(crate) fn lines(&self) -> &[String] {
        self.area.lines()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.area.is_empty()
    }

    /// (line, character) of the cursor.
    #[cfg(test)]
    pub(crate) fn cursor(&self) -> (usize, usize) {
        let cursor = self.area.cursor();
        (cursor.0, cursor.1)
    }

    /// Replaces the text; the cursor goes to its end.
    pub(crate) fn set_text(&mut self, text: &str) {
        let text = clean(text, self.multi_line);
        let style = self.area.cursor_style();
        self.area = TextArea::new(text.split('\n').map(str::to_owned).collect());
        self.area.set_cursor_line_style(Style::new());
        self.area.set_cursor_style(style);
        self.area.move_cursor(CursorMove::Bottom);
        self.area.move_cursor(CursorMove::End);
    }

    /// Shows the cursor only where the person types.
    pub(crate) fn set_focused(&mut self, focused: bool) {
        self.area.set_cursor_style(if focused { Style::new().add_modifier(Modifier::REVERSED) } else { Style::new() });
    }

    /// Applies an edit. Returns whether the text changed.
    pub(crate) fn edit(&mut self, edit: &Edit) -> bool {
        let area = &mut self.area;
        match edit {
            Edit::Insert(ch) if !ch.is_control() => {
                area.insert_char(*ch);
                true
            }
            Edit::Insert(_) => false,
            Edit::Paste(text) => area.insert_str(clean(text, self.multi_line)),
            Edit::Newline if self.multi_line => {
                area.insert_newline();
                true
            }
            Edit::Newline => false,
            Edit::Backspace => area.delete_char(),
            Edit::Delete => area.delete_next_char(),
            Edit::DeleteWordBefore => area.delete_word(),
            Edit::DeleteToStart => area.delete_line_by_head(),
            Edit::DeleteToEnd => area.delete_line_by_end(),
            Edit::Left => moved(area, CursorMove::Back),
            Edit::Right => moved(area, CursorMove::Forward),
            Edit::WordLeft => moved(area, CursorMove::WordBack),
            Edit::WordRight => moved(area, CursorMove::WordForward),
            Edit::Home => moved(area, CursorMove::Head),
            Edit::End => moved(area, CursorMove::End),
            Edit::Up => moved(area, CursorMove::Up),
            Edit::Down => moved(area, CursorMove::Down),
        }
    }

    /// The widget, to draw.
    pub(crate) fn widget(&self) -> &TextArea<'static> {
        &self.area
    }
}

fn moved(area: &mut TextArea<'static>, to: CursorMove) -> bool {
    area.move_cursor(to);
    false
}

/// Text as a field keeps it: `\r\n` and `\r` become `\n` (a space in a one-line field),
/// tabs stay, other control characters go (a paste cannot smuggle escapes in).
fn clean(text: &str, multi_line: bool) -> String {
    let unified = text.replace("\r\n", "\n").replace('\r', "\n");
    unified
        .chars()
        .filter_map(|ch| match ch {
            '\n' if multi_line => Some('\n'),
            '\n' => Some(' '),
            '\t' => Some('\t'),
            ch if ch.is_control() => None,
            ch => Some(ch),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(field: &mut TextField, text: &str) {
        for ch in text.chars() {
            field.edit(&Edit::Insert(ch));
        }
    }

    #[test]
    fn the_cursor_moves_and_text_goes_in_where_it_is() {
        let mut field = TextField::single_line("");
        typed(&mut field, "fix the test");
        field.edit(&Edit::WordLeft);
        field.edit(&Edit::WordLeft);
        typed(&mut field, "flaky ");
        assert_eq!(field.text(), "fix flaky the test");
        field.edit(&Edit::Home);
        field.edit(&Edit::Delete);
        typed(&mut field, "F");
        assert_eq!(field.text(), "Fix flaky the test");
        field.edit(&Edit::End);
        field.edit(&Edit::Backspace);
        assert_eq!(field.text(), "Fix flaky the tes");
    }

    #[test]
    fn ctrl_w_u_and_k_delete_a_word_the_start_and_the_end() {
        let mut field = TextField::single_line("one two three");
        field.edit(&Edit::DeleteWordBefore);
        assert_eq!(field.text(), "one two ");
        field.edit(&Edit::WordLeft);
        field.edit(&Edit::DeleteToEnd);
        assert_eq!(field.text(), "one ");
        field.edit(&Edit::DeleteToStart);
        assert_eq!(field.text(), "");
    }

    #[test]
    fn a_paste_lands_whole_with_its_lines_where_the_field_has_lines() {
        let mut prompt = TextField::multi_line("");
        prompt.edit(&Edit::Paste("first\r\nsecond\nthird\u{1b}[31m".into()));
        assert_eq!(prompt.lines(), ["first", "second", "third[31m"]);
        prompt.edit(&Edit::Newline);
        typed(&mut prompt, "fourth");
        assert_eq!(prompt.text(), "first\nsecond\nthird[31m\nfourth");

        let mut folder = TextField::single_line("/tmp");
        folder.edit(&Edit::Paste("/a\nb".into()));
        assert!(!folder.edit(&Edit::Newline));
        assert_eq!(folder.text(), "/tmp/a b");
    }

    #[test]
    fn set_text_puts_the_cursor_at_the_end() {
        let mut field = TextField::multi_line("x");
        field.set_text("one\ntwo");
        assert_eq!(field.cursor(), (1, 3));
        assert_eq!(field, TextField::multi_line("one\ntwo"));
    }
}
