use super::*;
use std::io::Write;

fn texts(lines: &[OutputLine]) -> Vec<&str> {
    lines.iter().map(|line| line.text.as_str()).collect()
}

fn line(offset: u64, text: &str) -> OutputLine {
    OutputLine { offset, text: text.to_owned() }
}

fn append(path: &Path, bytes: &[u8]) {
    std::fs::OpenOptions::new().create(true).append(true).open(path).unwrap().write_all(bytes).unwrap();
}

#[test]
fn carriage_returns_overwrite_and_crlf_ends_lines() {
    let lines = split_lines(b"a\r\nb\n10%\r50%\r100%\ndone");
    assert_eq!(texts(&lines), ["a", "b", "100%", "done"]);
    assert_eq!(lines.iter().map(|line| line.offset).collect::<Vec<_>>(), [0, 3, 5, 18]);
    let mut splitter = LineSplitter::default();
    let mut lines = Vec::new();
    splitter.feed(b"progress 1\r", &mut lines);
    assert_eq!(splitter.partial(), Some(line(0, "progress 1")), "shown until overwritten");
    splitter.feed(b"progress 2", &mut lines);
    assert_eq!(splitter.partial(), Some(line(0, "progress 2")));
    splitter.feed(b"\r\n", &mut lines);
    assert_eq!(lines, [line(0, "progress 2")]);
}

#[test]
fn a_huge_line_is_cut_and_says_so() {
    let mut bytes = vec![b'x'; 1024 * 1024];
    bytes.extend_from_slice(b"\nnext\n");
    let lines = split_lines(&bytes);
    assert_eq!(lines.len(), 2);
    assert!(lines[0].text.len() < MAX_LINE_BYTES + 100);
    assert!(lines[0].text.ends_with(&format!("({} more bytes on this line)", 1024 * 1024 - MAX_LINE_BYTES)));
    assert_eq!(lines[1], line(1024 * 1024 + 1, "next"));
}

#[test]
fn follower_reads_only_appended_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("output.txt");
    let mut follower = OutputFollower::new(&path, 100);
    assert_eq!(follower.poll().unwrap(), OutputUpdate::Reset { tail: LineBlock::default(), partial: None, file_len: 0 });
    assert_eq!(follower.poll().unwrap(), OutputUpdate::Unchanged);
    append(&path, b"one\ntw");
    assert_eq!(
        follower.poll().unwrap(),
        OutputUpdate::Reset {
            tail: LineBlock { start: 0, end: 4, lines: vec![line(0, "one")] },
            partial: Some(line(4, "tw")),
            file_len: 6
        }
    );
    append(&path, b"o\nthree\n");
    assert_eq!(
        follower.poll().unwrap(),
        OutputUpdate::Appended { lines: vec![line(4, "two"), line(8, "three")], end: 14, partial: None, file_len: 14 }
    );
    assert_eq!(follower.poll().unwrap(), OutputUpdate::Unchanged);
}

#[test]
fn follower_notices_truncation_and_replacement() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("output.txt");
    append(&path, b"a\nb\nc\n");
    let mut follower = OutputFollower::new(&path, 2);
    let OutputUpdate::Reset { tail, .. } = follower.poll().unwrap() else { panic!("first poll resets") };
    assert_eq!(texts(&tail.lines), ["b", "c"]);
    assert_eq!(tail.start, 2);

    std::fs::write(&path, b"x\n").unwrap(); // truncated in place
    let OutputUpdate::Reset { tail, .. } = follower.poll().unwrap() else { panic!("truncation resets") };
    assert_eq!(texts(&tail.lines), ["x"]);

    let other = dir.path().join("new.txt");
    std::fs::write(&other, b"y\nz\n").unwrap();
    std::fs::rename(&other, &path).unwrap(); // replaced, same length as before plus more
    let OutputUpdate::Reset { tail, .. } = follower.poll().unwrap() else { panic!("replacement resets") };
    assert_eq!(texts(&tail.lines), ["y", "z"]);
}

#[test]
fn older_and_newer_lines_around_an_offset() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("output.txt");
    let text: String = (0..1000).map(|i| format!("line {i}\n")).collect();
    std::fs::write(&path, &text).unwrap();
    let offset_of = |i: usize| text.find(&format!("line {i}\n")).unwrap() as u64;
    let before = read_before(&path, offset_of(500), 3).unwrap();
    assert_eq!(texts(&before.lines), ["line 497", "line 498", "line 499"]);
    assert_eq!(before.start, offset_of(497));
    let after = read_after(&path, offset_of(500), 2).unwrap();
    assert_eq!(texts(&after.lines), ["line 500", "line 501"]);
    assert_eq!(after.end, offset_of(502));
    assert!(read_before(&path, 0, 10).unwrap().lines.is_empty());
    assert_eq!(texts(&read_before(&path, offset_of(2), 10).unwrap().lines), ["line 0", "line 1"]);
}

#[test]
fn a_flood_is_read_in_bounded_slices() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("output.txt");
    std::fs::write(&path, b"start\n").unwrap();
    let mut follower = OutputFollower::new(&path, 10);
    follower.poll().unwrap();
    append(&path, &b"0123456789abcde\n".repeat(READ_SLICE / 16 + 10));
    let OutputUpdate::Appended { lines, .. } = follower.poll().unwrap() else { panic!() };
    assert_eq!(lines.len(), READ_SLICE / 16);
    let OutputUpdate::Appended { lines, .. } = follower.poll().unwrap() else { panic!() };
    assert_eq!(lines.len(), 10);
}
