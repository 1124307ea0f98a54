//! The end of an output file, read backwards in bounded chunks.
//!
//! Cost follows what is returned, not the file's size: a 100-line tail of a 1 GiB
//! log reads a few kilobytes. The result matches the original's `_read_tail`
//! (last N lines, then at most M characters after a `...(truncated)...` marker),
//! with two differences a reader wants: invalid UTF-8 is replaced instead of
//! failing, and a `\r` inside a line overwrites it as a terminal would, so a
//! progress bar shows its last state instead of every frame.

use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

/// The original's default number of lines.
pub const TAIL_LINES: usize = 100;
/// The original's cap on the characters returned.
pub const MAX_OUTPUT_CHARS: usize = 8000;
/// Put before a tail whose beginning was cut.
pub const TRUNCATED_MARKER: &str = "...(truncated)...\n";

const CHUNK: usize = 16 * 1024;

/// The last `max_lines` lines of the file, cut to the last `max_chars` characters.
/// A missing file reads as empty, as in the original.
pub fn tail_file(path: &Path, max_lines: usize, max_chars: usize) -> io::Result<String> {
    let Some(mut file) = crate::jobs::record::jobfile::open_if_present(path)? else { return Ok(String::new()) };
    let len = file.metadata()?.len();
    tail_of(&mut file, len, max_lines, max_chars)
}

/// As [`tail_file`], over any seekable reader of known length.
pub fn tail_of<R: Read + Seek>(reader: &mut R, len: u64, max_lines: usize, max_chars: usize) -> io::Result<String> {
    if max_lines == 0 || max_chars == 0 || len == 0 {
        return Ok(String::new());
    }
    // Every character takes at most 4 bytes (an invalid byte becomes one U+FFFD), so
    // this many bytes always hold more than `max_chars` characters; a few spare bytes
    // cover a character split at the cut.
    let byte_budget = (max_chars as u64 + 4).saturating_mul(4);
    let window = find_window(reader, len, max_lines, byte_budget)?;
    let bytes = match window.bytes {
        Some(bytes) => bytes,
        None => {
            let mut bytes = vec![0; (len - window.start) as usize];
            reader.seek(SeekFrom::Start(window.start))?;
            reader.read_exact(&mut bytes)?;
            bytes
        }
    };
    // When cut, the window starts inside a line (perhaps inside a character); the
    // budget leaves enough characters after it that the cut below removes that start.
    let text = screen_text(&bytes, max_lines);
    // A character takes at least one byte: a short text needs no count.
    let char_count = if text.len() <= max_chars { text.len() } else { text.chars().count() };
    if char_count > max_chars {
        let skip = char_count - max_chars;
        let start = text.char_indices().nth(skip).map_or(text.len(), |(at, _)| at);
        Ok(format!("{TRUNCATED_MARKER}{}", &text[start..]))
    } else if window.cut {
        Ok(format!("{TRUNCATED_MARKER}{text}"))
    } else {
        Ok(text)
    }
}

/// The last `max_lines` of [`screen_lines`], joined by `\n`, built in one string.
fn screen_text(bytes: &[u8], max_lines: usize) -> String {
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    if bytes.is_empty() {
        return String::new();
    }
    // Most output has no carriage return at all: then a line is just its bytes.
    let returns = memchr::memchr(b'\r', body).is_some();
    let mut lines: Vec<&[u8]> = Vec::with_capacity(max_lines.min(body.len() / 16 + 1));
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', body).chain(std::iter::once(body.len())) {
        let line = &body[start..end];
        lines.push(if returns { overwrite_carriage_returns(line) } else { line });
        start = end + 1;
    }
    if !bytes.ends_with(b"\n") && lines.last().is_some_and(|line| line.is_empty()) {
        lines.pop();
    }
    let lines = &lines[lines.len().saturating_sub(max_lines)..];
    let mut text = String::with_capacity(lines.iter().map(|line| line.len() + 1).sum());
    for (n, line) in lines.iter().enumerate() {
        if n > 0 {
            text.push('\n');
        }
        match std::str::from_utf8(line) {
            Ok(line) => text.push_str(line),
            Err(_) => text.push_str(&String::from_utf8_lossy(line)),
        }
    }
    text
}

pub(crate) struct Window {
    pub start: u64,
    /// Stopped by the byte budget rather than by the line count or the start of the file.
    pub cut: bool,
    /// The bytes from `start` to the end, when the scan read them all in one chunk.
    pub bytes: Option<Vec<u8>>,
}

/// Where the last `max_lines` lines before `end` start, scanning backwards in chunks
/// and looking at most `byte_budget` bytes back (plus one chunk). A newline at
/// `end - 1` closes the last line; it does not start an empty one.
pub(crate) fn find_window<R: Read + Seek>(reader: &mut R, end: u64, max_lines: usize, byte_budget: u64) -> io::Result<Window> {
    if end == 0 || max_lines == 0 {
        return Ok(Window { start: end, cut: false, bytes: None });
    }
    let mut scan_end = end;
    let mut last = [0u8];
    reader.seek(SeekFrom::Start(end - 1))?;
    reader.read_exact(&mut last)?;
    if last[0] == b'\n' {
        scan_end -= 1;
    }

    let mut newlines = 0usize;
    let mut chunk = Vec::new();
    let mut pos = scan_end;
    // The first chunk (read up to the end) usually holds the whole window: it is kept.
    let mut whole = true;
    let keep = |chunk: Vec<u8>, from: usize, whole: bool| whole.then(|| chunk[from..].to_vec());
    while pos > 0 {
        let size = CHUNK.min(pos as usize);
        pos -= size as u64;
        let span = if whole { (end - pos) as usize } else { size };
        chunk.resize(span, 0);
        reader.seek(SeekFrom::Start(pos))?;
        reader.read_exact(&mut chunk)?;
        if let Some(at) = memchr_n_back(&chunk[..size], max_lines - newlines, &mut newlines) {
            return Ok(Window { start: pos + at as u64 + 1, cut: false, bytes: keep(chunk, at + 1, whole) });
        }
        if end - pos >= byte_budget {
            return Ok(Window { start: pos, cut: true, bytes: keep(chunk, 0, whole) });
        }
        whole = false;
    }
    Ok(Window { start: 0, cut: false, bytes: None })
}

/// The offset of the `wanted`-th newline from the end of `chunk`, counting the newlines
/// passed into `seen` when there are fewer.
fn memchr_n_back(chunk: &[u8], wanted: usize, seen: &mut usize) -> Option<usize> {
    let mut left = wanted;
    for at in memchr::memrchr_iter(b'\n', chunk) {
        left -= 1;
        if left == 0 {
            *seen += wanted;
            return Some(at);
        }
    }
    *seen += wanted - left;
    None
}

/// Splits output into the lines a terminal would show: `\n` and `\r\n` end a line,
/// a lone `\r` returns to its start so later text replaces earlier text.
pub fn screen_lines(bytes: &[u8]) -> Vec<String> {
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    if bytes.is_empty() {
        return Vec::new();
    }
    let mut lines: Vec<String> =
        body.split(|&b| b == b'\n').map(|line| String::from_utf8_lossy(overwrite_carriage_returns(line)).into_owned()).collect();
    // An unterminated last line that shows nothing (a lone `\r`) is no line at all.
    if !bytes.ends_with(b"\n") && lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    lines
}

/// The text after the last `\r` that something follows: a `\r` alone moves the
/// cursor and erases nothing, so trailing ones (as in `\r\n`) are dropped first.
fn overwrite_carriage_returns(line: &[u8]) -> &[u8] {
    let visible = line.iter().rposition(|&b| b != b'\r').map_or(0, |last| last + 1);
    let line = &line[..visible];
    match line.iter().rposition(|&b| b == b'\r') {
        Some(at) => &line[at + 1..],
        None => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn tail(bytes: &[u8], lines: usize, chars: usize) -> String {
        let mut cursor = Cursor::new(bytes.to_vec());
        tail_of(&mut cursor, bytes.len() as u64, lines, chars).unwrap()
    }

    /// The original's algorithm, for comparison on inputs where both agree.
    fn python_tail(text: &str, lines: usize, chars: usize) -> String {
        let all: Vec<&str> = text.lines().collect();
        let joined = all[all.len().saturating_sub(lines)..].join("\n");
        let count = joined.chars().count();
        if count > chars { format!("{TRUNCATED_MARKER}{}", joined.chars().skip(count - chars).collect::<String>()) } else { joined }
    }

    /// Counts the bytes a tail actually reads.
    struct Metered<'a> {
        inner: Cursor<&'a [u8]>,
        read: u64,
    }
    impl Read for Metered<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.inner.read(buf)?;
            self.read += n as u64;
            Ok(n)
        }
    }
    impl Seek for Metered<'_> {
        fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
            self.inner.seek(pos)
        }
    }

    #[test]
    fn empty_file_and_missing_file_are_empty() {
        assert_eq!(tail(b"", 100, 8000), "");
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(tail_file(&dir.path().join("nope.txt"), 100, 8000).unwrap(), "");
    }

    #[test]
    fn last_lines_with_and_without_final_newline() {
        assert_eq!(tail(b"a\nb\nc\n", 2, 8000), "b\nc");
        assert_eq!(tail(b"a\nb\nc", 2, 8000), "b\nc");
        assert_eq!(tail(b"a\nb\nc", 10, 8000), "a\nb\nc");
        assert_eq!(tail(b"\n\n", 10, 8000), "\n");
        assert_eq!(tail(b"only", 1, 8000), "only");
    }

    #[test]
    fn crlf_is_a_line_end() {
        assert_eq!(tail(b"one\r\ntwo\r\nthree\r\n", 2, 8000), "two\nthree");
    }

    #[test]
    fn carriage_return_overwrites_like_a_terminal() {
        assert_eq!(tail(b"start\n 10%\r 50%\r100%\ndone\n", 10, 8000), "start\n100%\ndone");
        assert_eq!(tail(b"a\r\r\nb\r", 10, 8000), "a\nb", "a carriage return alone erases nothing");
    }

    #[test]
    fn invalid_utf8_is_replaced() {
        assert_eq!(tail(b"ok\n\xff\xfebad\n", 10, 8000), "ok\n\u{fffd}\u{fffd}bad");
    }

    #[test]
    fn matches_the_original_on_plain_text() {
        let text: String = (0..500).map(|i| format!("line {i} {}\n", "é".repeat(i % 37))).collect();
        for (lines, chars) in [(1, 8000), (100, 8000), (100, 50), (1000, 8000), (3, 5)] {
            assert_eq!(tail(text.as_bytes(), lines, chars), python_tail(&text, lines, chars), "{lines} {chars}");
        }
    }

    #[test]
    fn truncation_marker_keeps_the_last_characters() {
        let text = format!("{}\n", "x".repeat(9000));
        let out = tail(text.as_bytes(), 100, 8000);
        assert!(out.starts_with(TRUNCATED_MARKER));
        assert_eq!(out.len(), TRUNCATED_MARKER.len() + 8000);
    }

    #[test]
    fn one_megabyte_line_reads_a_bounded_amount() {
        let mut text = vec![b'y'; 1024 * 1024];
        text.extend_from_slice(b"\nlast\n");
        let mut metered = Metered { inner: Cursor::new(&text), read: 0 };
        let out = tail_of(&mut metered, text.len() as u64, 100, 8000).unwrap();
        assert!(out.starts_with(TRUNCATED_MARKER));
        assert!(out.ends_with("yyyy\nlast"));
        assert_eq!(out.chars().count(), TRUNCATED_MARKER.len() + 8000);
        // About 32 KB of window, scanned once backwards and read once forwards.
        assert!(metered.read < 128 * 1024, "read {} bytes", metered.read);
    }

    #[test]
    fn ten_thousand_short_lines() {
        let text: String = (0..10_000).map(|i| format!("{i}\n")).collect();
        let out = tail(text.as_bytes(), 100, 8000);
        let expected: Vec<String> = (9900..10_000).map(|i| i.to_string()).collect();
        assert_eq!(out, expected.join("\n"));
        assert_eq!(tail(text.as_bytes(), 10_000, 8000), python_tail(&text, 10_000, 8000));
    }

    #[test]
    fn multibyte_character_split_at_the_cut_does_not_leak() {
        let text = "日本語のテキスト\n".repeat(5000);
        let out = tail(text.as_bytes(), 10_000, 8000);
        assert!(out.starts_with(TRUNCATED_MARKER));
        assert!(!out.contains('\u{fffd}'));
        assert_eq!(out.chars().count(), TRUNCATED_MARKER.len() + 8000);
    }

    #[test]
    fn zero_lines_is_empty() {
        assert_eq!(tail(b"a\nb\n", 0, 8000), "");
    }
}
