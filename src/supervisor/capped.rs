//! An append-only job file with an optional size cap (`max_output`): past the cap, the
//! file keeps its head, and the supervisor holds the newest bytes in memory (a tail of
//! at most [`MAX_TAIL_BYTES`]); when the job ends it appends a line that says how many
//! bytes were dropped, then the tail.
//!
//! The file is only ever appended to, so whoever reads it live (`logs -f`, the
//! dashboard, which reads only what was appended since its last look) keeps working: a
//! note at the cut tells them that what follows is held back. What is held is lost
//! with the supervisor if it is killed (SIGKILL): the file then ends with that note.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Write};

/// The most of a capped file's newest bytes held in memory until the job ends.
pub const MAX_TAIL_BYTES: u64 = 4 * 1024 * 1024;

/// How the notes a capped file gets are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Notes {
    /// Lines of text (`output.txt`).
    Text,
    /// JSON objects, one a line (`events.jsonl`): the file stays one event a line.
    JsonLines,
}

/// A file appended to, within a cap when there is one.
pub struct CappedFile {
    file: File,
    notes: Notes,
    cap: Option<Cap>,
    /// The last byte written to the file ended a line (or nothing was written yet).
    at_line_start: bool,
}

struct Cap {
    limit: u64,
    /// What the head may still take.
    head_room: u64,
    tail_capacity: usize,
    /// Once the head is full: the newest bytes, and how many older ones were dropped.
    held: Option<Held>,
}

struct Held {
    tail: VecDeque<u8>,
    dropped: u64,
}

impl CappedFile {
    /// `file` already holds `len` bytes; with `limit`, the file keeps at most about
    /// that many bytes of what is written (plus the notes, a few hundred bytes).
    pub fn new(file: File, len: u64, notes: Notes, limit: Option<u64>) -> Self {
        let cap = limit.map(|limit| {
            let tail_capacity = (limit / 2).min(MAX_TAIL_BYTES);
            Cap { limit, head_room: (limit - tail_capacity).saturating_sub(len), tail_capacity: tail_capacity as usize, held: None }
        });
        CappedFile { file, notes, cap, at_line_start: true }
    }

    /// Appends `bytes`, or holds them once the head is full.
    pub fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        let Some(cap) = self.cap.as_mut() else { return append(&mut self.file, &mut self.at_line_start, bytes) };
        if let Some(held) = cap.held.as_mut() {
            held.push(bytes, cap.tail_capacity);
            return Ok(());
        }
        if bytes.len() as u64 <= cap.head_room {
            cap.head_room -= bytes.len() as u64;
            return append(&mut self.file, &mut self.at_line_start, bytes);
        }
        // The head fills here: it ends at a line end when this piece has one in room
        // (an event stream's head never ends inside an event this piece holds).
        let room = cap.head_room as usize;
        let whole_lines = if self.notes == Notes::JsonLines { 0 } else { room };
        let cut = memchr::memrchr(b'\n', &bytes[..room]).map_or(whole_lines, |at| at + 1);
        cap.head_room = 0;
        let mut held = Held { tail: VecDeque::new(), dropped: 0 };
        held.push(&bytes[cut..], cap.tail_capacity);
        let note = held_note(self.notes, cap.limit, cap.tail_capacity);
        cap.held = Some(held);
        append(&mut self.file, &mut self.at_line_start, &bytes[..cut])?;
        self.note(&note)
    }

    /// The job ended: what was held goes to the file, after a line naming what was dropped.
    pub fn finish(&mut self) -> io::Result<()> {
        let Some(cap) = self.cap.as_mut() else { return Ok(()) };
        let Some(mut held) = cap.held.take() else { return Ok(()) };
        let limit = cap.limit;
        if held.dropped > 0 {
            held.start_at_a_line();
            let note = dropped_note(self.notes, held.dropped, limit);
            self.note(&note)?;
        }
        let (first, second) = held.tail.as_slices();
        append(&mut self.file, &mut self.at_line_start, first)?;
        append(&mut self.file, &mut self.at_line_start, second)
    }

    /// A note on a line of its own.
    fn note(&mut self, note: &str) -> io::Result<()> {
        if !self.at_line_start {
            append(&mut self.file, &mut self.at_line_start, b"\n")?;
        }
        append(&mut self.file, &mut self.at_line_start, note.as_bytes())
    }
}

fn append(file: &mut File, at_line_start: &mut bool, bytes: &[u8]) -> io::Result<()> {
    if let Some(&last) = bytes.last() {
        file.write_all(bytes)?;
        *at_line_start = last == b'\n';
    }
    Ok(())
}

impl Held {
    fn push(&mut self, bytes: &[u8], capacity: usize) {
        if bytes.len() >= capacity {
            self.dropped += (self.tail.len() + bytes.len() - capacity) as u64;
            self.tail.clear();
            self.tail.extend(&bytes[bytes.len() - capacity..]);
            return;
        }
        let over = (self.tail.len() + bytes.len()).saturating_sub(capacity);
        self.tail.drain(..over);
        self.dropped += over as u64;
        self.tail.extend(bytes);
    }

    /// The tail starts where the dropping stopped, most likely inside a line: it starts
    /// at the next line instead (or, in one endless line, at the next character).
    fn start_at_a_line(&mut self) {
        let skip = match self.tail.iter().position(|&byte| byte == b'\n') {
            Some(end) => end + 1,
            None => self.tail.iter().take_while(|&&byte| byte & 0b1100_0000 == 0b1000_0000).count(),
        };
        self.tail.drain(..skip);
        self.dropped += skip as u64;
    }
}

fn held_note(notes: Notes, limit: u64, tail: usize) -> String {
    match notes {
        Notes::Text => format!(
            "… codex-async: the output reached max_output ({limit} bytes); what follows is held back, and its last {tail} bytes \
             are added when the job ends …\n"
        ),
        Notes::JsonLines => {
            format!("{}\n", serde_json::json!({"type": "codex_async.output_held", "max_output": limit, "tail_bytes": tail}))
        }
    }
}

fn dropped_note(notes: Notes, dropped: u64, limit: u64) -> String {
    match notes {
        Notes::Text => {
            format!("… codex-async: {dropped} bytes dropped here (max_output {limit} bytes); the last of the output follows …\n")
        }
        Notes::JsonLines => {
            format!("{}\n", serde_json::json!({"type": "codex_async.output_dropped", "bytes": dropped, "max_output": limit}))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn capped(notes: Notes, limit: Option<u64>) -> (tempfile::TempDir, std::path::PathBuf, CappedFile) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("output.txt");
        let file = crate::jobs::record::jobfile::open_append(&path).unwrap();
        let capped = CappedFile::new(file, 0, notes, limit);
        (dir, path, capped)
    }

    #[test]
    fn without_a_cap_every_byte_is_kept() {
        let (_dir, path, mut file) = capped(Notes::Text, None);
        for _ in 0..100 {
            file.write(&[b'x'; 1000]).unwrap();
        }
        file.finish().unwrap();
        assert_eq!(std::fs::read(&path).unwrap().len(), 100_000);
    }

    #[test]
    fn past_the_cap_the_head_and_the_tail_are_kept_and_the_middle_is_named() {
        let (_dir, path, mut file) = capped(Notes::Text, Some(2000));
        for line in 0..1000 {
            file.write(format!("line {line:04}\n").as_bytes()).unwrap();
        }
        // Live, before the end: the head and the note that more is held back.
        let live = std::fs::read_to_string(&path).unwrap();
        assert!(live.starts_with("line 0000\nline 0001\n"));
        assert!(live.ends_with("are added when the job ends …\n"), "{live}");
        assert!(live.len() < 1000 + 200);
        file.finish().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with(&live), "the file was only appended to");
        let (_, after) = text.split_once("are added when the job ends …\n").unwrap();
        let (note, tail) = after.split_once('\n').unwrap();
        assert!(note.starts_with("… codex-async: ") && note.contains(" bytes dropped here (max_output 2000 bytes)"), "{note}");
        assert!(tail.starts_with("line 09") && tail.ends_with("line 0999\n"), "{tail}");
        assert!(tail.len() <= 1000);
        let dropped: u64 = note.trim_start_matches("… codex-async: ").split(' ').next().unwrap().parse().unwrap();
        let head = live.split("… codex-async").next().unwrap();
        assert_eq!(head.len() as u64 + dropped + tail.len() as u64, 10_000, "every byte is kept or counted");
    }

    #[test]
    fn an_overflow_that_fits_the_tail_loses_nothing() {
        let (_dir, path, mut file) = capped(Notes::Text, Some(1000));
        file.write(&[b'a'; 600]).unwrap();
        file.write(&[b'b'; 300]).unwrap();
        file.finish().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let (head, rest) = text.split_once('\n').unwrap();
        let (note, tail) = rest.split_once('\n').unwrap();
        assert_eq!(head, "a".repeat(500));
        assert!(note.contains("held back"), "{note}");
        assert_eq!(tail, format!("{}{}", "a".repeat(100), "b".repeat(300)));
    }

    #[test]
    fn the_event_stream_stays_one_json_object_a_line() {
        let (_dir, path, mut file) = capped(Notes::JsonLines, Some(4000));
        for n in 0..500 {
            file.write(format!("{{\"type\":\"item.started\",\"n\":{n}}}\n").as_bytes()).unwrap();
        }
        file.finish().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        for line in text.lines() {
            assert!(serde_json::from_str::<serde_json::Value>(line).is_ok(), "{line:?}");
        }
        assert!(text.contains("\"type\":\"codex_async.output_dropped\""));
        assert!(text.ends_with("\"n\":499}\n"));
    }
}
