//! Reading a whole output file, a slice at a time, between the loader's other work:
//! counting its lines (so the pane shows the file's real line numbers) and searching it.
//! Memory stays bounded whatever the file's size: one slice buffer, a checkpoint per
//! slice, at most [`MAX_FILE_MATCHES`] matches.

use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::jobs::JobId;
use crate::jobs::{open_job_file, split_lines};

use crate::tui::model::search::{FileMatch, MAX_FILE_MATCHES, Matcher};

/// How much one step reads.
pub(crate) const SLICE: usize = 8 * 1024 * 1024;

fn read_slice(path: &Path, from: u64, buffer: &mut Vec<u8>) -> io::Result<usize> {
    let mut file = open_job_file(path)?;
    file.seek(SeekFrom::Start(from))?;
    buffer.resize(SLICE, 0);
    let mut filled = 0;
    while filled < SLICE {
        match file.read(&mut buffer[filled..])? {
            0 => break,
            read => filled += read,
        }
    }
    Ok(filled)
}

fn file_len(path: &PathBuf) -> u64 {
    std::fs::metadata(path).map_or(0, |meta| meta.len())
}

fn newlines(bytes: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', bytes).count() as u64
}

/// The line numbers of a job's output: counted once from the start, with a checkpoint
/// at each slice, so any offset read so far gets its number from at most one slice.
pub(crate) struct LineIndex {
    pub(crate) job: JobId,
    path: PathBuf,
    /// (offset, number of the line that starts there or contains it … counted as
    /// newlines before `offset`).
    checkpoints: Vec<(u64, u64)>,
    scanned: u64,
    lines: u64,
    /// Offsets whose numbers the pane waits for.
    wanted: Vec<u64>,
    /// The file's length when the count began: it is counted that far in any case.
    target: u64,
    /// The count reached `target` and said so.
    reported: bool,
}

impl LineIndex {
    pub(crate) fn new(job: JobId, path: PathBuf) -> Self {
        let target = file_len(&path);
        LineIndex { job, path, checkpoints: vec![(0, 0)], scanned: 0, lines: 0, wanted: Vec::new(), target, reported: false }
    }

    /// Once, when the count reached the length the file had when it began: that many
    /// lines end before that offset.
    pub(crate) fn counted(&mut self) -> Option<(u64, u64)> {
        if self.reported || self.scanned < self.target {
            return None;
        }
        self.reported = true;
        Some((self.scanned, self.lines))
    }

    /// Asks for the number of the line that starts at `offset`.
    pub(crate) fn want(&mut self, offset: u64) {
        if !self.wanted.contains(&offset) {
            self.wanted.push(offset);
        }
    }

    /// Whether reading on would answer something.
    pub(crate) fn busy(&self) -> bool {
        self.scanned < self.target || self.wanted.iter().any(|&offset| offset > self.scanned)
    }

    /// Counts one more slice (up to the file's length now).
    pub(crate) fn step(&mut self, buffer: &mut Vec<u8>) -> io::Result<()> {
        let len = file_len(&self.path);
        if len < self.scanned {
            // Truncated: the numbers start again.
            *self = LineIndex { wanted: std::mem::take(&mut self.wanted), ..LineIndex::new(self.job.clone(), self.path.clone()) };
        }
        let read = read_slice(&self.path, self.scanned, buffer)?;
        let read = read.min((len - self.scanned) as usize);
        if read == 0 {
            // Nothing more to read: what is wanted beyond the end gets no number.
            let scanned = self.scanned;
            self.wanted.retain(|&offset| offset <= scanned);
            self.target = self.target.min(scanned);
            return Ok(());
        }
        self.lines += newlines(&buffer[..read]);
        self.scanned += read as u64;
        self.checkpoints.push((self.scanned, self.lines));
        Ok(())
    }

    /// Numbers of wanted offsets the count has reached.
    pub(crate) fn answers(&mut self) -> Vec<(u64, u64)> {
        let scanned = self.scanned;
        let (ready, waiting): (Vec<u64>, Vec<u64>) = self.wanted.iter().partition(|&&offset| offset <= scanned);
        self.wanted = waiting;
        ready.into_iter().filter_map(|offset| self.number_of(offset).map(|line| (offset, line))).collect()
    }

    /// The number (0-based) of the line that starts at `offset`, if counted that far.
    pub(crate) fn number_of(&self, offset: u64) -> Option<u64> {
        if offset > self.scanned {
            return None;
        }
        let at = self.checkpoints.partition_point(|&(checkpoint, _)| checkpoint <= offset).checked_sub(1)?;
        let (from, lines) = self.checkpoints[at];
        if from == offset {
            return Some(lines);
        }
        let mut file = open_job_file(&self.path).ok()?;
        file.seek(SeekFrom::Start(from)).ok()?;
        let mut bytes = vec![0; (offset - from) as usize];
        file.read_exact(&mut bytes).ok()?;
        Some(lines + newlines(&bytes))
    }
}

/// A search through a job's whole output file, as it was when the search began.
pub(crate) struct FileSearch {
    pub(crate) job: JobId,
    pub(crate) id: u64,
    matcher: Matcher,
    path: PathBuf,
    /// Where the next slice starts (a line start, or inside a line longer than a slice).
    position: u64,
    /// The file's length when the search began: where it ends.
    pub(crate) end: u64,
    /// Newlines before `position`.
    line: u64,
    /// Where the line being read starts (before `position` inside a long line).
    line_start: u64,
    /// Matches found.
    pub(crate) found: usize,
}

/// What one step of a search found.
pub(crate) struct Progress {
    pub(crate) found: Vec<FileMatch>,
    pub(crate) scanned: u64,
    pub(crate) done: bool,
}

impl FileSearch {
    pub(crate) fn new(job: JobId, id: u64, matcher: Matcher, path: PathBuf) -> Self {
        let end = file_len(&path);
        FileSearch { job, id, matcher, path, position: 0, end, line: 0, line_start: 0, found: 0 }
    }

    /// Reads and searches one slice.
    pub(crate) fn step(&mut self, buffer: &mut Vec<u8>) -> io::Result<Progress> {
        let read = read_slice(&self.path, self.position, buffer)?.min((self.end.saturating_sub(self.position)) as usize);
        if read == 0 {
            return Ok(Progress { found: Vec::new(), scanned: self.end, done: true });
        }
        let slice = &buffer[..read];
        // Whole lines only, unless the slice is all one line.
        let (chunk, whole_lines) = match memchr::memrchr(b'\n', slice) {
            Some(last) => (&slice[..=last], true),
            None => (slice, false),
        };
        let mut found = self.search_chunk(chunk);
        let room = MAX_FILE_MATCHES.saturating_sub(self.found);
        let capped = found.len() >= room;
        found.truncate(room);
        self.found += found.len();
        self.line += newlines(chunk);
        self.position += chunk.len() as u64;
        if whole_lines {
            self.line_start = self.position;
        }
        let done = capped || self.position >= self.end;
        Ok(Progress { found, scanned: self.position, done })
    }

    /// Matching lines of `chunk` (which starts at `self.position`): a line with escape
    /// sequences, `\r` or tabs is matched as it is shown; the others as they are.
    fn search_chunk(&self, chunk: &[u8]) -> Vec<FileMatch> {
        let base = self.position;
        let line_bounds = |at: usize| -> (usize, usize) {
            let start = memchr::memrchr(b'\n', &chunk[..at]).map_or(0, |newline| newline + 1);
            let end = memchr::memchr(b'\n', &chunk[at..]).map_or(chunk.len(), |newline| at + newline);
            (start, end)
        };
        let special = |line: &[u8]| memchr::memchr3(0x1b, b'\r', b'\t', line).is_some();
        let mut starts: Vec<usize> = Vec::new();
        let mut after = 0;
        for at in self.matcher.find_starts_in_bytes(chunk) {
            if at < after {
                continue;
            }
            let (start, end) = line_bounds(at);
            after = end + 1;
            if !special(&chunk[start..end]) {
                starts.push(start);
            }
            if starts.len() > MAX_FILE_MATCHES {
                break;
            }
        }
        let mut after = 0;
        for at in memchr::memchr3_iter(0x1b, b'\r', b'\t', chunk) {
            if at < after {
                continue;
            }
            let (start, end) = line_bounds(at);
            after = end + 1;
            let shown = split_lines(&chunk[start..end]).pop().map(|line| line.text).unwrap_or_default();
            if self.matcher.is_match(&crate::term::sanitize_line(&shown, usize::MAX, false)) {
                starts.push(start);
            }
        }
        starts.sort_unstable();
        starts.dedup();
        let mut line = self.line;
        let mut counted = 0;
        starts
            .into_iter()
            .map(|start| {
                line += newlines(&chunk[counted..start]);
                counted = start;
                // A piece of a line longer than a slice belongs to the line it started.
                let offset = if start == 0 { self.line_start.min(base) } else { base + start as u64 };
                FileMatch { offset, line }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> JobId {
        JobId::parse("abcd1234").unwrap()
    }

    fn write(lines: &[String]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("output.txt");
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        (dir, path)
    }

    fn search_all(search: &mut FileSearch) -> Vec<FileMatch> {
        let mut buffer = Vec::new();
        let mut all = Vec::new();
        loop {
            let progress = search.step(&mut buffer).unwrap();
            all.extend(progress.found);
            if progress.done {
                return all;
            }
        }
    }

    #[test]
    fn a_search_finds_every_matching_line_with_its_number_across_slices() {
        // Over three slices, with coloured, \r and plain lines.
        let lines: Vec<String> = (0..400_000)
            .map(|n| match n {
                7 => "the NEEDLE at the top".to_owned(),
                250_000 => "\u{1b}[31mnee\u{1b}[0mdle in colour".to_owned(),
                300_000 => "needle under a bar\rgone".to_owned(),
                399_999 => "needle\tat the end".to_owned(),
                n => format!("line {n} with some words to fill the slices up"),
            })
            .collect();
        let (_dir, path) = write(&lines);
        assert!(std::fs::metadata(&path).unwrap().len() > 2 * SLICE as u64);
        let mut search = FileSearch::new(job(), 1, Matcher::parse("needle").unwrap(), path.clone());
        let found = search_all(&mut search);
        let numbers: Vec<u64> = found.iter().map(|found| found.line).collect();
        assert_eq!(numbers, [7, 250_000, 399_999], "a line whose needle a \\r overwrote is not shown with it");
        let content = std::fs::read(&path).unwrap();
        for found in &found {
            let start = found.offset as usize;
            assert!(start == 0 || content[start - 1] == b'\n', "a match is a line start");
        }

        let mut regex = FileSearch::new(job(), 2, Matcher::parse("re:^line 1234[0-9] ").unwrap(), path);
        assert_eq!(search_all(&mut regex).len(), 10);
    }

    #[test]
    fn line_numbers_come_from_the_nearest_checkpoint() {
        let lines: Vec<String> = (0..300_000).map(|n| format!("line number {n:06} of the output")).collect();
        let (_dir, path) = write(&lines);
        let content = std::fs::read(&path).unwrap();
        let offset_of = |n: usize| content.split(|&b| b == b'\n').take(n).map(|line| line.len() + 1).sum::<usize>() as u64;
        let mut index = LineIndex::new(job(), path);
        index.want(offset_of(299_990));
        index.want(offset_of(5));
        let mut buffer = Vec::new();
        let mut answers = Vec::new();
        while index.busy() || answers.is_empty() {
            index.step(&mut buffer).unwrap();
            answers.extend(index.answers());
        }
        answers.extend(index.answers());
        answers.sort();
        assert_eq!(answers, [(offset_of(5), 5), (offset_of(299_990), 299_990)]);
        while index.busy() {
            index.step(&mut buffer).unwrap();
        }
        assert_eq!(index.counted(), Some((content.len() as u64, 300_000)), "the whole file is counted once");
        assert_eq!(index.counted(), None);
        assert_eq!(index.number_of(offset_of(123_456)), Some(123_456));
    }
}
