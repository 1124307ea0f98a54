//! Where each part goes for a terminal size, and what the output shows in its place
//! (the first line and row, the first cut line): shared by drawing and by the state
//! (page sizes, keeping the selection visible, scrolling), so both agree.

use ratatui::layout::Rect;

use super::app::App;
use super::pane::OutputPane;
use super::text;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Areas {
    pub(crate) header: Rect,
    /// Empty when zoomed.
    pub(crate) table: Rect,
    /// Includes the one-row title above the lines.
    pub(crate) output: Rect,
    pub(crate) footer: Rect,
}

pub(crate) fn areas(app: &App) -> Areas {
    let (width, height) = app.size;
    let full = Rect::new(0, 0, width, height);
    let header = Rect { height: height.min(1), ..full };
    let footer_height = u16::from(height >= 2);
    let footer = Rect { y: height.saturating_sub(footer_height), height: footer_height, ..full };
    let body_top = header.height;
    let body = height.saturating_sub(header.height + footer.height);
    if app.zoom {
        return Areas { header, table: Rect::new(0, body_top, width, 0), output: Rect::new(0, body_top, width, body), footer };
    }
    let needed = u16::try_from(app.view.len() + 1).unwrap_or(u16::MAX).max(2);
    let table_height = needed.clamp(body.min(3), (body * 2 / 5).max(3)).min(body);
    let table = Rect::new(0, body_top, width, table_height);
    let output = Rect::new(0, body_top + table_height, width, body - table_height);
    Areas { header, table, output, footer }
}

/// Job rows that fit in the table (its first row is the column titles).
pub(crate) fn table_rows(app: &App) -> u16 {
    areas(app).table.height.saturating_sub(1)
}

/// Width and number of rows for output lines.
pub(crate) fn output_size(app: &App) -> (u16, u16) {
    let area = areas(app).output;
    (area.width, area.height.saturating_sub(1))
}

pub(crate) fn output_rows(app: &App) -> u16 {
    output_size(app).1
}

/// Rows one line takes at `width` (all of them: a kept line is at most
/// [`super::pane::MAX_SHOWN_LINE`] bytes, so counting them is bounded).
pub(crate) fn line_rows(pane: &OutputPane, line: &str, width: u16) -> usize {
    if pane.wrap { text::wrapped_height(line, usize::from(width), usize::MAX) } else { 1 }
}

/// Where the pane is scrolled to: a line, and a row within it (wrapped).
pub(crate) type Position = (usize, usize);

/// The position that puts the end of the last line on the bottom row: where following is.
pub(crate) fn bottom(pane: &OutputPane, width: u16, height: u16) -> Position {
    let count = pane.line_count();
    let height = usize::from(height.max(1));
    if !pane.wrap {
        return (count.saturating_sub(height), 0);
    }
    let mut used = 0;
    let mut top = count;
    while top > 0 {
        let rows = pane.line(top - 1).map_or(1, |line| line_rows(pane, line, width));
        if used + rows > height {
            // This line shows only its last rows.
            return (top - 1, rows - (height - used));
        }
        used += rows;
        top -= 1;
    }
    (0, 0)
}

/// `from` moved by `rows` rows (negative: up). Also returns how many rows the move
/// wanted beyond the first line (negative) or the last (positive).
pub(crate) fn advance(pane: &OutputPane, from: Position, rows: i64, width: u16) -> (Position, i64) {
    let (mut line, mut row) = from;
    let count = pane.line_count();
    let rows_of = |line: usize| pane.line(line).map_or(1, |text| line_rows(pane, text, width));
    if rows < 0 {
        let mut left = rows.unsigned_abs() as usize;
        while left > 0 {
            if row >= left {
                return ((line, row - left), 0);
            }
            if line == 0 {
                return ((0, 0), -((left - row) as i64));
            }
            left -= row + 1;
            line -= 1;
            row = rows_of(line).saturating_sub(1);
        }
        return ((line, row), 0);
    }
    let mut left = rows as usize;
    while left > 0 {
        let here = rows_of(line);
        if row + left < here {
            return ((line, row + left), 0);
        }
        if line + 1 >= count {
            let last_row = here.saturating_sub(1);
            return ((line, last_row), (left - (last_row - row)) as i64);
        }
        left -= here - row;
        line += 1;
        row = 0;
    }
    ((line, row), 0)
}

impl App {
    /// Scrolls the table so the selected row is on screen.
    pub(crate) fn keep_selection_visible(&mut self) {
        let rows = usize::from(table_rows(self)).max(1);
        let selected = self.selected_row().unwrap_or(0);
        if selected < self.table_offset {
            self.table_offset = selected;
        } else if selected >= self.table_offset + rows {
            self.table_offset = selected + 1 - rows;
        }
        self.table_offset = self.table_offset.min(self.view.len().saturating_sub(rows));
    }

    /// The first line and row shown.
    pub(crate) fn output_position(&self) -> Position {
        let (width, height) = output_size(self);
        let pane = self.shown();
        let bottom = bottom(pane, width, height);
        if pane.follow { bottom } else { (pane.top, pane.top_row).min(bottom) }
    }

    /// The first line on screen the reader cut, by its offset.
    pub(crate) fn cut_line_on_screen(&self) -> Option<u64> {
        if self.document.is_some() {
            return None;
        }
        let (_, height) = output_size(self);
        let (top, _) = self.output_position();
        (top..top + usize::from(height))
            .find(|&index| self.pane.line(index).and_then(text::cut_bytes).is_some())
            .and_then(|index| self.pane.offset_of(index))
    }
}
