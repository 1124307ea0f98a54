//! The output pane's state: a bounded window of the selected job's lines, where the
//! person is looking, and the search. Plain data; the loader fills it.

use std::collections::VecDeque;

use crate::jobs::JobId;
use crate::jobs::output::{LineBlock, OutputLine, OutputUpdate};

use super::text;

/// The most lines kept in memory; older ones are read again from the file on demand.
pub const WINDOW_LINES: usize = 10_000;
/// The most bytes of line text kept (long lines fill it before the line count).
pub const WINDOW_BYTES: usize = 24 * 1024 * 1024;
/// How many lines one request for older or newer lines asks for.
pub const PAGE_LINES: usize = 2_000;

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
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Search {
    pub query: String,
    /// Window indices of lines that match.
    pub matches: Vec<usize>,
    /// Index into `matches` of the current one.
    pub current: Option<usize>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputPane {
    pub job: Option<JobId>,
    pub lines: VecDeque<OutputLine>,
    /// File offset just after the last complete line kept.
    pub end: u64,
    /// The line being written, shown when the window reaches the end of the file.
    pub partial: Option<OutputLine>,
    /// Whether the window reaches the end of the file (so appends belong to it).
    pub at_file_end: bool,
    pub file_len: u64,
    /// Glued to the end; off once the person scrolls up.
    pub follow: bool,
    /// First shown line (a window index) when not following.
    pub top: usize,
    pub wrap: bool,
    pub search: Option<Search>,
    /// A read is on its way (so scrolling does not ask twice).
    pub fetching: bool,
    /// Nothing received yet for this job.
    pub loading: bool,
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
            wrap: false,
            search: None,
            fetching: false,
            loading: false,
        }
    }
}

impl OutputPane {
    /// Switches to another job: what was shown is forgotten; wrap and the search stay.
    pub fn select(&mut self, job: Option<JobId>) {
        let wrap = self.wrap;
        let query = self.search.as_ref().map(|search| search.query.clone());
        *self = OutputPane { loading: job.is_some(), job, wrap, ..OutputPane::default() };
        if let Some(query) = query {
            self.search = Some(Search { query, ..Search::default() });
        }
    }

    /// File offset of the first line kept.
    pub fn start(&self) -> u64 {
        self.lines.front().map_or(self.end, |line| line.offset)
    }

    pub fn has_older(&self) -> bool {
        self.start() > 0
    }

    /// Every line shown, the one being written included.
    pub fn line_count(&self) -> usize {
        self.lines.len() + usize::from(self.partial.is_some() && self.at_file_end)
    }

    pub fn line(&self, index: usize) -> Option<&str> {
        match self.lines.get(index) {
            Some(line) => Some(&line.text),
            None if index == self.lines.len() && self.at_file_end => self.partial.as_ref().map(|line| line.text.as_str()),
            None => None,
        }
    }

    /// Takes in what the loader read for `job`.
    pub fn apply_update(&mut self, job: &JobId, update: OutputUpdate) {
        if self.job.as_ref() != Some(job) {
            return;
        }
        self.loading = false;
        match update {
            OutputUpdate::Unchanged => {}
            OutputUpdate::Reset { tail, partial, file_len } => {
                self.lines = tail.lines.into();
                self.end = tail.end;
                self.partial = partial;
                self.file_len = file_len;
                self.at_file_end = true;
                self.fetching = false;
                self.follow = true;
                self.top = 0;
                self.refresh_search();
            }
            OutputUpdate::Appended { lines, end, partial, file_len } => {
                self.file_len = file_len;
                if !self.at_file_end {
                    return;
                }
                let old_len = self.lines.len();
                self.lines.extend(lines);
                self.end = end;
                self.partial = partial;
                let overflow = self.overflow_front();
                if overflow > 0 {
                    self.lines.drain(..overflow);
                    self.top = self.top.saturating_sub(overflow);
                }
                // Only new lines are searched: a flood costs what it adds.
                self.search_from(old_len, overflow);
            }
        }
    }

    /// Older lines read from the file, to go before the window.
    pub fn apply_older(&mut self, job: &JobId, block: LineBlock) {
        if self.job.as_ref() != Some(job) {
            return;
        }
        self.fetching = false;
        if block.end != self.start() {
            return; // the window moved meanwhile
        }
        let added = block.lines.len();
        for line in block.lines.into_iter().rev() {
            self.lines.push_front(line);
        }
        self.top += added;
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

    /// Lines from the start of the file (Home): they replace the window.
    pub fn apply_start(&mut self, job: &JobId, block: LineBlock) {
        if self.job.as_ref() != Some(job) {
            return;
        }
        self.fetching = false;
        self.lines = block.lines.into();
        self.end = block.end;
        self.at_file_end = false;
        self.partial = None;
        self.follow = false;
        self.top = 0;
        self.refresh_search();
    }

    /// Newer lines, to go after a window that does not reach the end of the file.
    pub fn apply_newer(&mut self, job: &JobId, block: LineBlock) {
        if self.job.as_ref() != Some(job) {
            return;
        }
        self.fetching = false;
        if block.start != self.end || self.at_file_end {
            return;
        }
        self.lines.extend(block.lines);
        self.end = block.end;
        let overflow = self.overflow_front();
        if overflow > 0 {
            self.lines.drain(..overflow);
            self.top = self.top.saturating_sub(overflow);
        }
        self.refresh_search();
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
            if !text::find_matches(&text::plain(line), &search.query).is_empty() {
                search.matches.push(index);
            }
        }
        search.current = match search.current {
            Some(_) if search.matches.is_empty() => None,
            Some(current) => Some(current.min(search.matches.len() - 1)),
            None => None,
        };
    }

    /// Recomputes which lines match the search.
    pub fn refresh_search(&mut self) {
        self.search_from(0, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> JobId {
        JobId::parse("abcd1234").unwrap()
    }

    fn lines(range: std::ops::Range<u64>) -> Vec<OutputLine> {
        range.map(|i| OutputLine { offset: i * 10, text: format!("line {i}") }).collect()
    }

    fn pane_with(range: std::ops::Range<u64>) -> OutputPane {
        let mut pane = OutputPane::default();
        pane.select(Some(job()));
        let end = range.end * 10;
        pane.apply_update(
            &job(),
            OutputUpdate::Reset { tail: LineBlock { start: range.start * 10, end, lines: lines(range) }, partial: None, file_len: end },
        );
        pane
    }

    #[test]
    fn appends_keep_a_bounded_window() {
        let mut pane = pane_with(0..10);
        let more = lines(10..(WINDOW_LINES as u64 + 20));
        let end = (WINDOW_LINES as u64 + 20) * 10;
        pane.apply_update(&job(), OutputUpdate::Appended { lines: more, end, partial: None, file_len: end });
        assert_eq!(pane.lines.len(), WINDOW_LINES);
        assert_eq!(pane.start(), 200);
        assert!(pane.has_older());
    }

    #[test]
    fn older_lines_go_in_front_and_the_window_stays_bounded() {
        let mut pane = pane_with(5_000..(5_000 + WINDOW_LINES as u64));
        pane.follow = false;
        pane.apply_older(&job(), LineBlock { start: 30_000, end: 50_000, lines: lines(3_000..5_000) });
        assert_eq!(pane.lines.len(), WINDOW_LINES);
        assert_eq!(pane.top, 2_000);
        assert!(!pane.at_file_end);
        assert_eq!(pane.end, (3_000 + WINDOW_LINES as u64) * 10);
        // appends no longer belong to this window
        pane.apply_update(&job(), OutputUpdate::Appended { lines: lines(20_000..20_001), end: 1, partial: None, file_len: 1 });
        assert_eq!(pane.lines.len(), WINDOW_LINES);
    }

    #[test]
    fn long_lines_are_bounded_by_bytes_too() {
        let mut pane = pane_with(0..1);
        let long = "x".repeat(16 * 1024);
        let count = WINDOW_BYTES / long.len() + 100;
        let lines = (1..=count as u64).map(|i| OutputLine { offset: i * 20_000, text: long.clone() }).collect();
        pane.apply_update(&job(), OutputUpdate::Appended { lines, end: 1, partial: None, file_len: 1 });
        let bytes: usize = pane.lines.iter().map(|line| line.text.len()).sum();
        assert!(bytes <= WINDOW_BYTES, "{bytes}");
        assert_eq!(pane.lines.len(), WINDOW_BYTES / long.len());
    }

    #[test]
    fn updates_for_another_job_are_ignored() {
        let mut pane = pane_with(0..3);
        let other = JobId::parse("ffff0000").unwrap();
        pane.apply_update(&other, OutputUpdate::Reset { tail: LineBlock::default(), partial: None, file_len: 0 });
        assert_eq!(pane.lines.len(), 3);
    }

    #[test]
    fn search_follows_new_lines() {
        let mut pane = pane_with(0..3);
        pane.search = Some(Search { query: "LINE 1".into(), ..Search::default() });
        pane.refresh_search();
        assert_eq!(pane.search.as_ref().unwrap().matches, [1]);
        pane.apply_update(&job(), OutputUpdate::Appended { lines: lines(10..12), end: 120, partial: None, file_len: 120 });
        assert_eq!(pane.search.as_ref().unwrap().matches, [1, 3, 4]);
    }
}
