//! The output search (`/`): what it looks for, and what it found.
//!
//! A [`Matcher`] is text, ignoring case, or a regular expression after `re:` (also
//! ignoring case); one compiled form serves the loaded lines (text) and the whole-file
//! search on the loader thread (raw bytes). A [`Search`] holds the matches among the
//! lines in memory (highlighted as drawn) and those the loader finds streaming through
//! the whole file, which `n`/`N` reach wherever they are.

use regex::RegexBuilder;
use regex::bytes::RegexBuilder as BytesRegexBuilder;

/// The prefix that makes a search a regular expression.
pub(crate) const REGEX_PREFIX: &str = "re:";

#[derive(Clone, Debug)]
pub struct Matcher {
    /// As typed (with `re:` if given).
    query: String,
    text: regex::Regex,
    bytes: regex::bytes::Regex,
}

impl PartialEq for Matcher {
    fn eq(&self, other: &Self) -> bool {
        self.query == other.query
    }
}

impl Eq for Matcher {}

impl Matcher {
    /// The matcher for a query, or why it is not one (a regular expression that does
    /// not parse). An empty query matches nothing and is refused.
    pub(crate) fn parse(query: &str) -> Result<Matcher, String> {
        let pattern = match query.strip_prefix(REGEX_PREFIX) {
            Some(pattern) => pattern.to_owned(),
            None => regex::escape(query),
        };
        if pattern.is_empty() {
            return Err("nothing to search for".to_owned());
        }
        let text = RegexBuilder::new(&pattern).case_insensitive(true).multi_line(true).size_limit(1 << 22).build();
        // Many lines are searched at once: `^` and `$` are a line's ends.
        let bytes = BytesRegexBuilder::new(&pattern).case_insensitive(true).multi_line(true).size_limit(1 << 22).build();
        match (text, bytes) {
            (Ok(text), Ok(bytes)) => Ok(Matcher { query: query.to_owned(), text, bytes }),
            (Err(err), _) | (_, Err(err)) => Err(format!("not a regular expression: {}", first_line(&err.to_string()))),
        }
    }

    pub(crate) fn query(&self) -> &str {
        &self.query
    }

    /// Byte ranges of the matches in `text` (empty matches left out).
    pub(crate) fn find_all(&self, text: &str) -> Vec<(usize, usize)> {
        self.text.find_iter(text).map(|found| (found.start(), found.end())).filter(|(start, end)| start < end).collect()
    }

    pub(crate) fn is_match(&self, text: &str) -> bool {
        self.text.find_iter(text).any(|found| !found.is_empty())
    }

    /// Starts of matches in raw bytes (a line of the file, or many).
    pub(crate) fn find_starts_in_bytes<'a>(&'a self, bytes: &'a [u8]) -> impl Iterator<Item = usize> + 'a {
        self.bytes.find_iter(bytes).filter(|found| !found.is_empty()).map(|found| found.start())
    }
}

fn first_line(text: &str) -> String {
    text.lines().rev().find(|line| !line.trim().is_empty()).unwrap_or(text).trim().to_owned()
}

/// The most whole-file matches kept (a search for `e` in a gigabyte stops counting).
pub(crate) const MAX_FILE_MATCHES: usize = 100_000;

/// A match the whole-file search found: where its line starts, and its number (0-based).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct FileMatch {
    pub(crate) offset: u64,
    pub(crate) line: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Search {
    pub(crate) matcher: Matcher,
    /// The whole-file search that feeds this one; 0 when the lines in memory are all
    /// there is (a document).
    pub(crate) id: u64,
    /// Window indices of the lines in memory that match.
    pub(crate) matches: Vec<usize>,
    /// What the whole-file search found so far, in file order.
    pub(crate) file_matches: Vec<FileMatch>,
    /// Bytes the whole-file search has read, of `file_len`.
    pub(crate) scanned: u64,
    pub(crate) file_len: u64,
    pub(crate) done: bool,
    /// It found more than [`MAX_FILE_MATCHES`].
    pub(crate) capped: bool,
    /// The line of the current match, by its offset.
    pub(crate) current: Option<u64>,
    /// Where the cursor was when the search was made, while its first match (the
    /// first at or after it, else the first of all) is not known yet: none in memory,
    /// so the whole-file search decides.
    pub(crate) anchor: Option<u64>,
}

impl Search {
    pub(crate) fn new(matcher: Matcher, id: u64) -> Self {
        Search {
            matcher,
            id,
            matches: Vec::new(),
            file_matches: Vec::new(),
            scanned: 0,
            file_len: 0,
            done: id == 0,
            capped: false,
            current: None,
            anchor: None,
        }
    }

    pub(crate) fn query(&self) -> &str {
        self.matcher.query()
    }

    /// Takes in what the whole-file search found since it last said.
    pub(crate) fn take_progress(&mut self, found: Vec<FileMatch>, scanned: u64, file_len: u64, done: bool) {
        let room = MAX_FILE_MATCHES.saturating_sub(self.file_matches.len());
        self.capped |= found.len() > room;
        self.file_matches.extend(found.into_iter().take(room));
        self.scanned = scanned;
        self.file_len = file_len;
        self.done = done;
    }

    /// Every match's line offset, in file order: the whole-file search's, and those in
    /// memory it has not reached (lines written since it started).
    pub(crate) fn all_offsets(&self, window_offsets: impl Iterator<Item = u64>) -> Vec<u64> {
        let mut offsets: Vec<u64> = self.file_matches.iter().map(|found| found.offset).collect();
        let scanned = if self.id == 0 { 0 } else { self.scanned };
        offsets.extend(window_offsets.filter(|&offset| offset >= scanned));
        offsets.sort_unstable();
        offsets.dedup();
        offsets
    }

    /// The match a search made at `anchor` goes to first, once it is known: the first
    /// the whole-file search found at or after the anchor (it reads in file order, so
    /// that is final), else, once it is done, the first in memory after it (lines
    /// written since), else the first of all (the search wraps).
    pub(crate) fn first_from_anchor(&self, window_offsets: impl Iterator<Item = u64>) -> Option<u64> {
        let anchor = self.anchor?;
        if let Some(found) = self.file_matches.iter().find(|found| found.offset >= anchor) {
            return Some(found.offset);
        }
        if !self.done {
            return None;
        }
        let offsets = self.all_offsets(window_offsets);
        offsets.iter().copied().find(|&offset| offset >= anchor).or_else(|| offsets.first().copied())
    }

    /// The file's line number of a match the whole-file search found.
    #[cfg(test)]
    pub(crate) fn line_of(&self, offset: u64) -> Option<u64> {
        let at = self.file_matches.binary_search_by_key(&offset, |found| found.offset).ok()?;
        Some(self.file_matches[at].line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_ignores_case_and_regular_expressions_follow_re() {
        let matcher = Matcher::parse("Error (x").unwrap();
        assert_eq!(matcher.find_all("an ERROR (X) and error (x"), [(3, 11), (17, 25)]);
        let regex = Matcher::parse("re:err(or)? [0-9]+").unwrap();
        assert!(regex.is_match("ERR 42"));
        assert!(!regex.is_match("error x"));
        assert_eq!(regex.find_starts_in_bytes(b"ok\nerror 7\n").collect::<Vec<_>>(), [3]);
        assert!(Matcher::parse("re:(unclosed").unwrap_err().contains("not a regular expression"));
        assert!(Matcher::parse("").is_err());
        assert!(Matcher::parse("re:").is_err());
        assert!(!Matcher::parse("re:x*").unwrap().is_match("abc"), "empty matches are not matches");
    }

    #[test]
    fn matches_in_memory_past_the_scan_join_the_files() {
        let mut search = Search::new(Matcher::parse("x").unwrap(), 7);
        search.take_progress(vec![FileMatch { offset: 10, line: 1 }, FileMatch { offset: 50, line: 5 }], 100, 100, true);
        assert_eq!(search.all_offsets([50, 120, 130].into_iter()), [10, 50, 120, 130]);
        assert_eq!(search.line_of(50), Some(5));
        assert_eq!(search.line_of(51), None);
        let document = Search::new(Matcher::parse("x").unwrap(), 0);
        assert!(document.done);
        assert_eq!(document.all_offsets([3, 1].into_iter()), [1, 3]);
    }

    #[test]
    fn the_file_matches_kept_are_bounded() {
        let mut search = Search::new(Matcher::parse("e").unwrap(), 1);
        let many: Vec<FileMatch> = (0..MAX_FILE_MATCHES as u64 + 5).map(|line| FileMatch { offset: line * 2, line }).collect();
        search.take_progress(many, 10, 20, false);
        assert_eq!(search.file_matches.len(), MAX_FILE_MATCHES);
        assert!(search.capped && !search.done);
    }
}
