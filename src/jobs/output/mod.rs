//! Reading `output.txt` incrementally, for a viewer that follows a job live (its end, for
//! a poll, is read by [`tail`]).
//!
//! [`OutputFollower`] keeps an offset and reads only the bytes appended since its last
//! read; it notices when the file was truncated or replaced (a different inode, or a
//! length below the offset) and starts again from the tail. [`read_before`] and
//! [`read_after`] fetch lines around an offset when a person scrolls beyond the
//! window a viewer keeps in memory. Lines come out as a terminal would show them:
//! `\r` returns to the start of the line so later text replaces earlier text, and a
//! line longer than [`MAX_LINE_BYTES`] keeps its beginning and says how much was cut,
//! so a 1 MB line costs a bounded amount.

pub mod tail;
#[cfg(test)]
mod tests;

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// The most of one line that is kept.
pub const MAX_LINE_BYTES: usize = 16 * 1024;
/// The most one read takes in at once (a flood is read in slices of this size).
pub const READ_SLICE: usize = 4 * 1024 * 1024;
/// How far back [`read_before`] and a fresh tail look for line starts.
const SCAN_BUDGET: u64 = 8 * 1024 * 1024;
const CHUNK: usize = 64 * 1024;

/// One screen line and the file offset where it starts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutputLine {
    pub offset: u64,
    pub text: String,
}

/// Turns a byte stream into screen lines, a chunk at a time.
#[derive(Debug, Default)]
pub struct LineSplitter {
    /// File offset of the next byte fed.
    position: u64,
    /// File offset where the line being built starts.
    line_start: u64,
    pending: Vec<u8>,
    dropped: u64,
    /// A `\r` was seen: the next visible byte starts the line again (unless `\n` comes).
    carriage: bool,
}

impl LineSplitter {
    /// A splitter whose first byte is at `offset` in the file (a line start).
    pub fn at(offset: u64) -> Self {
        LineSplitter { position: offset, line_start: offset, ..LineSplitter::default() }
    }

    /// Feeds bytes; complete lines are pushed to `lines`.
    pub fn feed(&mut self, bytes: &[u8], lines: &mut Vec<OutputLine>) {
        let mut rest = bytes;
        while !rest.is_empty() {
            // Plain runs are copied at once; only `\n` and `\r` need a decision.
            let run = rest.iter().position(|&b| b == b'\n' || b == b'\r').unwrap_or(rest.len());
            if run > 0 {
                if self.carriage {
                    self.pending.clear();
                    self.dropped = 0;
                    self.carriage = false;
                }
                self.push(&rest[..run]);
            }
            match rest.get(run) {
                Some(b'\n') => {
                    self.position += run as u64 + 1;
                    let text = self.take_line();
                    lines.push(OutputLine { offset: self.line_start, text });
                    self.line_start = self.position;
                    rest = &rest[run + 1..];
                }
                Some(_) => {
                    self.position += run as u64 + 1;
                    self.carriage = true;
                    rest = &rest[run + 1..];
                }
                None => {
                    self.position += run as u64;
                    rest = &[];
                }
            }
        }
    }

    fn push(&mut self, bytes: &[u8]) {
        let room = MAX_LINE_BYTES.saturating_sub(self.pending.len());
        let keep = room.min(bytes.len());
        self.pending.extend_from_slice(&bytes[..keep]);
        self.dropped += (bytes.len() - keep) as u64;
    }

    fn take_line(&mut self) -> String {
        let line = render_line(&self.pending, self.dropped);
        self.pending.clear();
        self.dropped = 0;
        self.carriage = false;
        line
    }

    /// The line being written (no newline yet), if it has anything.
    pub fn partial(&self) -> Option<OutputLine> {
        (!self.pending.is_empty() || self.dropped > 0)
            .then(|| OutputLine { offset: self.line_start, text: render_line(&self.pending, self.dropped) })
    }

    /// File offset where the line being built starts: everything before it is in
    /// complete lines.
    pub fn line_start(&self) -> u64 {
        self.line_start
    }
}

fn render_line(bytes: &[u8], dropped: u64) -> String {
    let mut line = String::from_utf8_lossy(bytes).into_owned();
    if dropped > 0 {
        line.push_str(&format!("\u{1b}[0m … ({dropped} more bytes on this line)"));
    }
    line
}

/// Screen lines of `bytes` (which start at a line start); the unterminated end is kept
/// as the last line.
pub fn split_lines(bytes: &[u8]) -> Vec<OutputLine> {
    let mut splitter = LineSplitter::default();
    let mut lines = Vec::new();
    splitter.feed(bytes, &mut lines);
    lines.extend(splitter.partial());
    lines
}

/// Lines read from a part of the file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LineBlock {
    /// File offset of the first line's first byte.
    pub start: u64,
    /// File offset just after the last complete line.
    pub end: u64,
    pub lines: Vec<OutputLine>,
}

/// What changed since the last [`OutputFollower::poll`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OutputUpdate {
    /// Nothing new.
    Unchanged,
    /// The file is new, was truncated or replaced: here is its tail; forget older lines.
    Reset { tail: LineBlock, partial: Option<OutputLine>, file_len: u64 },
    /// Complete lines appended after the previous ones, and the line being written.
    Appended { lines: Vec<OutputLine>, end: u64, partial: Option<OutputLine>, file_len: u64 },
}

/// Follows one output file.
#[derive(Debug)]
pub struct OutputFollower {
    path: PathBuf,
    tail_lines: usize,
    /// (device, inode) of the file last read.
    identity: Option<(u64, u64)>,
    /// Everything before this offset has been read.
    offset: u64,
    splitter: LineSplitter,
    started: bool,
}

impl OutputFollower {
    /// A follower whose first poll returns the last `tail_lines` lines.
    pub fn new(path: impl Into<PathBuf>, tail_lines: usize) -> Self {
        OutputFollower { path: path.into(), tail_lines, identity: None, offset: 0, splitter: LineSplitter::default(), started: false }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Everything before this offset has been read.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Reads what was appended (at most [`READ_SLICE`] bytes per call; call again
    /// while it returns `Appended` to catch up with a flood).
    pub fn poll(&mut self) -> io::Result<OutputUpdate> {
        let mut file = match crate::jobs::record::jobfile::open(&self.path) {
            Ok(file) => file,
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                if self.started && self.identity.is_none() {
                    return Ok(OutputUpdate::Unchanged);
                }
                self.restart(None, 0);
                return Ok(OutputUpdate::Reset { tail: LineBlock::default(), partial: None, file_len: 0 });
            }
            Err(err) => return Err(err),
        };
        let meta = file.metadata()?;
        let identity = Some((meta.dev(), meta.ino()));
        let len = meta.len();
        if !self.started || identity != self.identity || len < self.offset {
            return self.reset_to_tail(&mut file, identity, len);
        }
        if len == self.offset {
            return Ok(OutputUpdate::Unchanged);
        }
        let size = (len - self.offset).min(READ_SLICE as u64) as usize;
        let mut bytes = vec![0; size];
        file.seek(SeekFrom::Start(self.offset))?;
        file.read_exact(&mut bytes)?;
        let mut lines = Vec::new();
        self.splitter.feed(&bytes, &mut lines);
        self.offset += size as u64;
        Ok(OutputUpdate::Appended { lines, end: self.splitter.line_start(), partial: self.splitter.partial(), file_len: len })
    }

    fn restart(&mut self, identity: Option<(u64, u64)>, offset: u64) {
        self.identity = identity;
        self.offset = offset;
        self.splitter = LineSplitter::at(offset);
        self.started = true;
    }

    fn reset_to_tail(&mut self, file: &mut File, identity: Option<(u64, u64)>, len: u64) -> io::Result<OutputUpdate> {
        // The complete lines before the last newline, then the unterminated rest.
        let end = last_line_end(file, len)?;
        let tail = lines_before(file, end, self.tail_lines)?;
        self.restart(identity, end);
        let mut rest = vec![0; (len - end).min(READ_SLICE as u64) as usize];
        file.seek(SeekFrom::Start(end))?;
        file.read_exact(&mut rest)?;
        let mut ignored = Vec::new();
        self.splitter.feed(&rest, &mut ignored);
        self.offset = end + rest.len() as u64;
        // A line longer than a slice would have no newline within it; it stays partial.
        Ok(OutputUpdate::Reset { tail, partial: self.splitter.partial(), file_len: len })
    }
}

/// Offset just after the last `\n` in the file (0 if none within the scan budget).
fn last_line_end(file: &mut File, len: u64) -> io::Result<u64> {
    let mut pos = len;
    let mut chunk = vec![0u8; CHUNK];
    while pos > 0 && len - pos < SCAN_BUDGET {
        let size = CHUNK.min(pos as usize);
        pos -= size as u64;
        file.seek(SeekFrom::Start(pos))?;
        file.read_exact(&mut chunk[..size])?;
        if let Some(at) = chunk[..size].iter().rposition(|&b| b == b'\n') {
            return Ok(pos + at as u64 + 1);
        }
    }
    Ok(pos)
}

/// Up to `max_lines` complete lines that end at `end` (a line start). Looks back at
/// most [`SCAN_BUDGET`] bytes: a longer run without newlines starts mid-line.
fn lines_before(file: &mut File, end: u64, max_lines: usize) -> io::Result<LineBlock> {
    if end == 0 || max_lines == 0 {
        return Ok(LineBlock { start: end, end, lines: Vec::new() });
    }
    let window = tail::find_window(file, end, max_lines, SCAN_BUDGET)?;
    let start = window.start;
    let bytes = match window.bytes {
        Some(bytes) => bytes,
        None => {
            let mut bytes = vec![0; (end - start) as usize];
            file.seek(SeekFrom::Start(start))?;
            file.read_exact(&mut bytes)?;
            bytes
        }
    };
    let mut lines = Vec::new();
    LineSplitter::at(start).feed(&bytes, &mut lines);
    Ok(LineBlock { start, end, lines })
}

/// Up to `max_lines` complete lines ending at `end` (a line start), for scrolling up
/// past the lines a viewer keeps. A missing file reads as no lines.
pub fn read_before(path: &Path, end: u64, max_lines: usize) -> io::Result<LineBlock> {
    let mut file = match crate::jobs::record::jobfile::open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(LineBlock { start: end, end, ..LineBlock::default() }),
        Err(err) => return Err(err),
    };
    let end = end.min(file.metadata()?.len());
    lines_before(&mut file, end, max_lines)
}

/// Up to `max_lines` complete lines starting at `start` (a line start), reading at
/// most [`READ_SLICE`] bytes: for scrolling down again towards the end.
pub fn read_after(path: &Path, start: u64, max_lines: usize) -> io::Result<LineBlock> {
    let mut file = match crate::jobs::record::jobfile::open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(LineBlock { start, end: start, ..LineBlock::default() }),
        Err(err) => return Err(err),
    };
    let len = file.metadata()?.len();
    let start = start.min(len);
    let mut bytes = vec![0; (len - start).min(READ_SLICE as u64) as usize];
    file.seek(SeekFrom::Start(start))?;
    file.read_exact(&mut bytes)?;
    let mut taken = 0;
    let mut count = 0;
    while count < max_lines {
        match bytes[taken..].iter().position(|&b| b == b'\n') {
            Some(at) => {
                taken += at + 1;
                count += 1;
            }
            None => break,
        }
    }
    let mut lines = Vec::new();
    LineSplitter::at(start).feed(&bytes[..taken], &mut lines);
    Ok(LineBlock { start, end: start + taken as u64, lines })
}

/// Where to cut `bytes` so that no character is split: before an incomplete one at
/// the end (invalid bytes are cut anywhere: they read as U+FFFD either way).
pub fn utf8_cut(bytes: &[u8]) -> usize {
    let len = bytes.len();
    // A character is at most four bytes: its start is among the last four.
    for back in 1..=len.min(4) {
        let byte = bytes[len - back];
        if byte & 0b1100_0000 == 0b1000_0000 {
            continue;
        }
        let needs = match byte {
            0xC0..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF7 => 4,
            _ => 1,
        };
        return if needs > back { len - back } else { len };
    }
    len
}

/// A piece of a job's output: bytes `from..next` of it as text, and how long the file
/// was when read.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OutputPiece {
    pub from: u64,
    pub text: String,
    pub next: u64,
    pub size: u64,
}

impl OutputPiece {
    /// The most one piece holds.
    pub const MAX_BYTES: usize = 256 * 1024;
}
