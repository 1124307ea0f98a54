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
    pane.search = Some(Search::new(super::super::search::Matcher::parse("LINE 1").unwrap(), 0));
    pane.refresh_search();
    assert_eq!(pane.search.as_ref().unwrap().matches, [1]);
    pane.apply_update(&job(), OutputUpdate::Appended { lines: lines(10..12), end: 120, partial: None, file_len: 120 });
    assert_eq!(pane.search.as_ref().unwrap().matches, [1, 3, 4]);
    assert_eq!(pane.match_offsets().collect::<Vec<_>>(), [10, 100, 110]);
    assert_eq!(pane.index_of(100), Some(3));
    assert_eq!(pane.index_of(101), None);
}

#[test]
fn line_numbers_follow_the_window() {
    let mut pane = pane_with(0..10);
    assert_eq!(pane.first_line, Some(0), "a window from the file's start is numbered");
    pane.apply_update(&job(), OutputUpdate::Appended { lines: lines(10..(WINDOW_LINES as u64 + 15)), end: 1, partial: None, file_len: 1 });
    assert_eq!(pane.first_line, Some(15));
    assert_eq!(pane.total_lines(), Some(WINDOW_LINES as u64 + 15));
    pane.apply_gap(&job(), 1000);
    assert_eq!(pane.first_line, Some(WINDOW_LINES as u64 + 15 + 1000));
    assert!(pane.lines.is_empty());

    let mut tail = pane_with(500..600);
    assert_eq!(tail.first_line, None, "a tail's numbers come from the loader");
    tail.apply_line_number(&job(), 5_100, 510);
    assert_eq!(tail.first_line, Some(500));
    tail.apply_older(&job(), LineBlock { start: 4_000, end: 5_000, lines: lines(400..500) });
    assert_eq!((tail.first_line, tail.line_number(100)), (Some(400), Some(500)));
}

#[test]
fn lines_longer_than_the_reader_keeps_are_cut_with_its_marker() {
    let mut pane = pane_with(0..1);
    let long = OutputLine { offset: 10, text: "é".repeat(MAX_SHOWN_LINE) };
    pane.apply_update(&job(), OutputUpdate::Appended { lines: vec![long], end: 1, partial: None, file_len: 1 });
    let kept = &pane.lines[1].text;
    assert!(kept.len() <= MAX_SHOWN_LINE);
    assert_eq!(super::super::text::cut_bytes(kept), Some((MAX_SHOWN_LINE * 2 - MAX_LINE_BYTES) as u64));
}

#[test]
fn a_document_holds_every_line() {
    let pane = OutputPane::document("one\ntwo\n\nfour", true);
    assert_eq!(pane.line_count(), 4);
    assert_eq!((pane.line(3), pane.offset_of(3), pane.total_lines()), (Some("four"), Some(9), Some(4)));
    assert!(!pane.has_older() && pane.at_file_end && !pane.follow);
}
