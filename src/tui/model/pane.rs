//! The output pane's state: a bounded window of the selected job's lines, where the
//! person is looking (a line and a row within it when wrapped, a column when not), the
//! file's line numbers, and the search. Plain data; the loader fills it. A document
//! (the detail view, a diff, a whole line) is a pane whose lines are all in memory.

use std::collections::VecDeque;

use crate::jobs::JobId;
use crate::jobs::{LineBlock, MAX_LINE_BYTES, OutputLine, OutputUpdate};

use super::search::Search;

/// The most lines kept in memory; older ones are read again from the file on demand.
pub(crate) const WINDOW_LINES: usize = 10_000;
/// The most bytes of line text kept (long lines fill it before the line count).
pub(crate) const WINDOW_BYTES: usize = 24 * 1024 * 1024;
/// How many lines one request for older or newer lines asks for.
pub(crate) const PAGE_LINES: usize = 2_000;

/// What the pane needs read from disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fetch {
    Older {
        job: JobId,
        before: u64,
    },
    Newer {
        job: JobId,
        after: u64,
    },
    /// Read the tail again and follow it.
    Tail {
        job: JobId,
    },
    /// From the first byte (Home).
    Start {
        job: JobId,
    },
    /// The lines around a line start (a search match outside the window).
    Around {
        job: JobId,
        offset: u64,
    },
    /// The whole of a line the reader cut.
    WholeLine {
        job: JobId,
        offset: u64,
    },
}

/// The longest line the pane keeps: the reader's cut, with room for its marker. Lines
/// that come some other way are cut here, so drawing one never parses more.
pub(crate) const MAX_SHOWN_LINE: usize = MAX_LINE_BYTES + 128;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputPane {
    pub(crate) job: Option<JobId>,
    pub lines: VecDeque<OutputLine>,
    /// File offset just after the last complete line kept.
    pub(crate) end: u64,
    /// The line being written, shown when the window reaches the end of the file.
    pub(crate) partial: Option<OutputLine>,
    /// Whether the window reaches the end of the file (so appends belong to it).
    pub(crate) at_file_end: bool,
    pub(crate) file_len: u64,
    /// Glued to the end; off once the person scrolls up.
    pub(crate) follow: bool,
    /// First shown line (a window index) when not following.
    pub(crate) top: usize,
    /// With wrap: the first row of `top` shown (a line taller than the pane is read
    /// row by row).
    pub(crate) top_row: usize,
    /// Without wrap: the first column shown.
    pub(crate) left: usize,
    pub(crate) wrap: bool,
    pub(crate) search: Option<Search>,
    /// A read is on its way (so scrolling does not ask twice).
    pub(crate) fetching: bool,
    /// Nothing received yet for this job.
    pub(crate) loading: bool,
    /// The file's line number (0-based) of the first line kept, once known.
    pub(crate) first_line: Option<u64>,
    /// Show this line (by offset) once the window around it arrives.
    pub(crate) jump_to: Option<u64>,
    /// The loader's count: lines ending before an offset (the file's length then).
    pub(crate) counted: Option<(u64, u64)>,
}

impl Default for OutputPane {
    fn default() -> Self {
        OutputPane {
            job: None,
            lines: VecDeque::new(),
            end: 0,
            partial: None,
            at_file_end: true,
            file_len: 0,
            follow: true,
            top: 0,
            top_row: 0,
            left: 0,
            wrap: false,
            search: None,
            fetching: false,
            loading: false,
            first_line: None,
            jump_to: None,
            counted: None,
        }
    }
}

impl OutputPane {
    /// Switches to another job: what was shown is forgotten (its search too: the job
    /// selected brings its own, see [`super::app::App::select`]), wrap stays.
    pub(crate) fn select(&mut self, job: Option<JobId>) {
        let wrap = self.wrap;
        *self = OutputPane { loading: job.is_some(), job, wrap, ..OutputPane::default() };
    }

    /// A document: every line in memory, read from the top.
    pub(crate) fn document(text: &str, wrap: bool) -> Self {
        let mut offset = 0;
        let lines: VecDeque<OutputLine> = text
            .split('\n')
            .map(|line| {
                let kept = OutputLine { offset, text: cut(line.to_owned()) };
                offset += line.len() as u64 + 1;
                kept
            })
            .collect();
        OutputPane { end: offset, file_len: offset, lines, follow: false, wrap, first_line: Some(0), ..OutputPane::default() }
    }

    /// The file's line number of window line `index`, when known.
    pub(crate) fn line_number(&self, index: usize) -> Option<u64> {
        self.first_line.map(|first| first + index as u64)
    }

    /// Lines in the file: counted from the window when it reaches the end, else as the
    /// loader counted them.
    pub(crate) fn total_lines(&self) -> Option<u64> {
        let from_window = self.at_file_end.then(|| self.line_number(self.line_count())).flatten();
        from_window.or(self.counted.map(|(_, lines)| lines))
    }

    /// The loader counted the file's lines.
    pub(crate) fn apply_line_count(&mut self, job: &JobId, offset: u64, lines: u64) {
        if self.job.as_ref() != Some(job) {
            return;
        }
        self.counted = Some((offset, lines));
        // A window that ends where the count did is numbered by it.
        if self.first_line.is_none() && self.end == offset && self.partial.is_none() {
            self.first_line = lines.checked_sub(self.lines.len() as u64);
        }
    }

    /// The loader says which line starts at `offset`.
    pub(crate) fn apply_line_number(&mut self, job: &JobId, offset: u64, line: u64) {
        if self.job.as_ref() != Some(job) {
            return;
        }
        if let Some(index) = self.lines.iter().position(|kept| kept.offset == offset) {
            self.first_line = line.checked_sub(index as u64);
        }
    }

    /// The loader left lines out (a flood): what is kept no longer joins what comes.
    pub(crate) fn apply_gap(&mut self, job: &JobId, skipped: u64) {
        if self.job.as_ref() != Some(job) || !self.at_file_end {
            return;
        }
        self.first_line = self.first_line.map(|first| first + self.lines.len() as u64 + skipped);
        self.lines.clear();
        self.partial = None;
        self.top = 0;
        self.top_row = 0;
        self.refresh_search();
    }

    /// File offset of the first line kept.
    pub(crate) fn start(&self) -> u64 {
        self.lines.front().map_or(self.end, |line| line.offset)
    }

    pub(crate) fn has_older(&self) -> bool {
        self.start() > 0
    }

    /// Every line shown, the one being written included.
    pub(crate) fn line_count(&self) -> usize {
        self.lines.len() + usize::from(self.partial.is_some() && self.at_file_end)
    }

    pub(crate) fn line(&self, index: usize) -> Option<&str> {
        match self.lines.get(index) {
            Some(line) => Some(&line.text),
            None if index == self.lines.len() && self.at_file_end => self.partial.as_ref().map(|line| line.text.as_str()),
            None => None,
        }
    }

    /// Takes in what the loader read for `job`.
    pub(crate) fn apply_update(&mut self, job: &JobId, update: OutputUpdate) {
        if self.job.as_ref() != Some(job) {
            return;
        }
        self.loading = false;
        match update {
            OutputUpdate::Unchanged => {}
            OutputUpdate::Reset { tail, partial, file_len } => {
                self.first_line = (tail.start == 0).then_some(0);
                self.lines = tail.lines.into_iter().map(cut_line).collect();
                self.end = tail.end;
                self.partial = partial;
                self.file_len = file_len;
                self.at_file_end = true;
                self.fetching = false;
                self.follow = true;
                self.top = 0;
                self.top_row = 0;
                self.refresh_search();
            }
            OutputUpdate::Appended { lines, end, partial, file_len } => {
                self.file_len = file_len;
                if !self.at_file_end {
                    return;
                }
                let old_len = self.lines.len();
                self.lines.extend(lines.into_iter().map(cut_line));
                self.end = end;
                self.partial = partial.map(cut_line);
                let overflow = self.overflow_front();
                if overflow > 0 {
                    self.drop_front(overflow);
                }
                // Only new lines are searched: a flood costs what it adds.
                self.search_from(old_len, overflow);
            }
        }
    }

    /// Older lines read from the file, to go before the window.
    pub(crate) fn apply_older(&mut self, job: &JobId, block: LineBlock) {
        if self.job.as_ref() != Some(job) {
            return;
        }
        self.fetching = false;
        if block.end != self.start() {
            return; // the window moved meanwhile
        }
        let added = block.lines.len();
        for line in block.lines.into_iter().rev() {
            self.lines.push_front(cut_line(line));
        }
        self.top += added;
        self.first_line = self.first_line.and_then(|first| first.checked_sub(added as u64));
        let keep = self.fitting_from_front();
        if keep < self.lines.len() {
            self.lines.truncate(keep + 1);
            // The extra line only says where the kept ones end.
            self.end = self.lines.pop_back().map_or(self.end, |line| line.offset);
            self.at_file_end = false;
            self.partial = None;
        }
        self.refresh_search();
    }

    /// Lines from the start of the file (Home), or around a line (a search match): they
    /// replace the window. `first_line` is the number of the block's first line, when known.
    pub(crate) fn apply_block(&mut self, job: &JobId, block: LineBlock, first_line: Option<u64>) {
        if self.job.as_ref() != Some(job) {
            return;
        }
        self.fetching = false;
        self.first_line = if block.start == 0 { Some(0) } else { first_line };
        self.lines = block.lines.into_iter().map(cut_line).collect();
        self.end = block.end;
        self.at_file_end = false;
        self.partial = None;
        self.follow = false;
        self.top = 0;
        self.top_row = 0;
        self.refresh_search();
    }

    /// Newer lines, to go after a window that does not reach the end of the file.
    pub(crate) fn apply_newer(&mut self, job: &JobId, block: LineBlock) {
        if self.job.as_ref() != Some(job) {
            return;
        }
        self.fetching = false;
        if block.start != self.end || self.at_file_end {
            return;
        }
        self.lines.extend(block.lines.into_iter().map(cut_line));
        self.end = block.end;
        let overflow = self.overflow_front();
        if overflow > 0 {
            self.drop_front(overflow);
        }
        self.refresh_search();
    }

    fn drop_front(&mut self, count: usize) {
        self.lines.drain(..count);
        if self.top < count {
            self.top_row = 0;
        }
        self.top = self.top.saturating_sub(count);
        self.first_line = self.first_line.map(|first| first + count as u64);
    }

    /// How many lines to drop at the front to fit the window's limits (the last line
    /// always stays).
    fn overflow_front(&self) -> usize {
        let mut total: usize = self.lines.iter().map(|line| line.text.len()).sum();
        let mut drop = 0;
        while drop + 1 < self.lines.len() && (self.lines.len() - drop > WINDOW_LINES || total > WINDOW_BYTES) {
            total -= self.lines[drop].text.len();
            drop += 1;
        }
        drop
    }

    /// How many lines from the front fit the window's limits (at least one).
    fn fitting_from_front(&self) -> usize {
        let mut total = 0;
        for (index, line) in self.lines.iter().enumerate() {
            total += line.text.len();
            if index >= WINDOW_LINES || (total > WINDOW_BYTES && index > 0) {
                return index;
            }
        }
        self.lines.len()
    }

    /// Keeps matches before `old_len` (shifted by `dropped` lines) and searches the rest.
    fn search_from(&mut self, old_len: usize, dropped: usize) {
        let Some(search) = self.search.as_mut() else { return };
        search.matches.retain(|&index| index < old_len && index >= dropped);
        for index in search.matches.iter_mut() {
            *index -= dropped;
        }
        let first_new = old_len.saturating_sub(dropped);
        let count = self.lines.len() + usize::from(self.partial.is_some() && self.at_file_end);
        for index in first_new..count {
            let line = match self.lines.get(index) {
                Some(line) => line.text.as_str(),
                None => self.partial.as_ref().map_or("", |line| line.text.as_str()),
            };
            if search.matcher.is_match(&super::text::plain(line)) {
                search.matches.push(index);
            }
        }
    }

    /// Window offsets of the lines in memory that match.
    pub(crate) fn match_offsets(&self) -> impl Iterator<Item = u64> + '_ {
        let matches = self.search.as_ref().map_or(&[][..], |search| &search.matches[..]);
        matches.iter().filter_map(|&index| self.offset_of(index))
    }

    /// The file offset where window line `index` starts.
    pub(crate) fn offset_of(&self, index: usize) -> Option<u64> {
        match self.lines.get(index) {
            Some(line) => Some(line.offset),
            None if index == self.lines.len() && self.at_file_end => self.partial.as_ref().map(|line| line.offset),
            None => None,
        }
    }

    /// The window index of the line that starts at `offset`.
    pub(crate) fn index_of(&self, offset: u64) -> Option<usize> {
        let index = self.lines.partition_point(|line| line.offset < offset);
        (self.offset_of(index) == Some(offset)).then_some(index)
    }

    /// Recomputes which lines match the search.
    pub(crate) fn refresh_search(&mut self) {
        self.search_from(0, 0);
    }
}

/// A line no longer than [`MAX_SHOWN_LINE`], with the reader's marker when cut.
fn cut_line(mut line: OutputLine) -> OutputLine {
    line.text = cut(line.text);
    line
}

fn cut(mut text: String) -> String {
    if text.len() <= MAX_SHOWN_LINE {
        return text;
    }
    let mut keep = MAX_LINE_BYTES;
    while !text.is_char_boundary(keep) {
        keep -= 1;
    }
    let dropped = text.len() - keep;
    text.truncate(keep);
    text.push_str(&format!("\u{1b}[0m … ({dropped} more bytes on this line)"));
    text
}

#[cfg(test)]
mod tests;
