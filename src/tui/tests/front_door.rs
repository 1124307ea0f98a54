//! The rough edges a first hour finds: the search keys and where a search starts,
//! a search that stays with its job, marking rows as file managers do, what copying
//! says, and why MCP is off at any width.

use super::*;
use crate::tui::model::search::FileMatch;
use crate::tui::update::keys::action_for;

fn search_for(app: &mut App, query: &str) -> Vec<Effect> {
    app.apply(Action::EditSearch);
    for ch in query.chars() {
        app.apply(Action::Edit(Edit::Insert(ch)));
    }
    app.apply(Action::Submit)
}

/// The title's `/query position/count`.
fn search_title(app: &App) -> String {
    let screen = screen(app);
    let line = screen.lines().find(|line| line.contains(" output ")).unwrap_or_default().to_owned();
    let after = line.split_once("· /").map_or("", |(_, after)| after);
    let title = after.split(" · ").next().unwrap_or_default().trim_end_matches(['─', '"', ' ']);
    title.split(", searching").next().unwrap_or_default().to_owned()
}

/// 26 lines; "reqwest" on lines 3, 9, 15 and 22 (1-based).
fn reqwest_output(app: &mut App) {
    let lines: Vec<String> =
        (1..=26).map(|n| if [3, 9, 15, 22].contains(&n) { format!("line {n}: bump reqwest") } else { format!("line {n}") }).collect();
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    output(app, "b2c3d4e5", &refs, None);
}

#[test]
fn n_goes_to_the_next_match_from_either_pane_while_a_search_is_on() {
    let mut app = loaded(100, 30);
    reqwest_output(&mut app);
    assert_eq!(action_for(&app, &key('n')), Some(Action::NewJob), "no search: n is the new-job form");
    app.apply(Action::PrevMatch);
    assert_eq!(app.flash.as_deref(), Some("no search on: / searches the output"), "N says why it does nothing");
    search_for(&mut app, "reqwest");
    assert_eq!(app.focus, Focus::Table);
    assert_eq!(action_for(&app, &key('n')), Some(Action::NextMatch), "the table has focus, the search is on");
    assert_eq!(action_for(&app, &key('N')), Some(Action::PrevMatch));
    app.apply(Action::ToggleFocus);
    assert_eq!(action_for(&app, &key('n')), Some(Action::NextMatch), "and from the output");
    // Esc ends the search; n opens the form again.
    app.apply(Action::Back);
    app.apply(Action::ToggleFocus);
    assert!(app.pane.search.is_none());
    assert_eq!(action_for(&app, &key('n')), Some(Action::NewJob));
    let screen = screen(&app);
    assert!(screen.lines().last().unwrap_or_default().contains("n new job"), "{screen}");
}

#[test]
fn the_first_match_is_the_first_after_the_cursor_and_n_walks_on_from_it() {
    let mut app = loaded(100, 30);
    reqwest_output(&mut app);
    // At the top (line 1 shown first): the first match is line 3's, 1 of 4.
    app.apply(Action::ToggleFocus);
    app.apply(Action::First);
    app.apply(Action::ToggleFocus);
    search_for(&mut app, "reqwest");
    assert_eq!(search_title(&app), "reqwest 1/4");
    app.apply(Action::NextMatch);
    assert_eq!(search_title(&app), "reqwest 2/4", "n from the table goes on");
    app.apply(Action::PrevMatch);
    app.apply(Action::PrevMatch);
    assert_eq!(search_title(&app), "reqwest 4/4", "N before the first wraps to the last");

    // Scrolled so line 5 is the first shown: the next match is line 9's.
    let mut app = loaded(100, 30);
    reqwest_output(&mut app);
    app.apply(Action::ToggleFocus);
    app.apply(Action::First);
    for _ in 0..4 {
        app.apply(Action::Down);
    }
    assert!(screen(&app).contains("scrolled, line 5/26"));
    search_for(&mut app, "reqwest");
    assert_eq!(search_title(&app), "reqwest 2/4");
    let shown = app.pane.search.as_ref().and_then(|search| search.current).and_then(|offset| app.pane.index_of(offset));
    assert_eq!(shown.and_then(|index| app.pane.line(index)), Some("line 9: bump reqwest"));
    // Following the end (lines 7 to 26 on screen): the first match on screen, line 9's.
    let mut app = loaded(100, 30);
    reqwest_output(&mut app);
    search_for(&mut app, "reqwest");
    assert_eq!(search_title(&app), "reqwest 2/4", "not the last match, 4/4");
}

#[test]
fn with_nothing_in_memory_after_the_cursor_the_whole_file_search_decides() {
    // The last 10 lines of a 40 MB output; no match among them.
    let mut app = loaded(100, 30);
    let start = 39_999_880;
    let lines: Vec<OutputLine> = (0..10).map(|n| OutputLine { offset: start + 12 * n, text: format!("tail line {n}") }).collect();
    let tail = LineBlock { start, end: 40_000_000, lines };
    app.apply_data(DataEvent::Output(id("b2c3d4e5"), OutputUpdate::Reset { tail, partial: None, file_len: 40_000_000 }));
    let effects = search_for(&mut app, "needle");
    assert!(effects.iter().any(|effect| matches!(effect, Effect::Load(LoaderCommand::Search { .. }))), "{effects:?}");
    let search_id = app.search_count;
    let progress = |found: Vec<FileMatch>, done: bool| DataEvent::SearchProgress {
        job: id("b2c3d4e5"),
        id: search_id,
        found,
        scanned: if done { 40_000_000 } else { 1_000 },
        file_len: 40_000_000,
        done,
    };
    // Matches before the cursor only: it waits for the rest of the file.
    assert!(app.apply_data(progress(vec![FileMatch { offset: 120, line: 3 }], false)).is_empty());
    assert_eq!(app.pane.search.as_ref().and_then(|search| search.current), None);
    // The file read to its end without a match after the cursor: it wraps to the first.
    let effects = app.apply_data(progress(vec![FileMatch { offset: 900, line: 40 }], true));
    assert_eq!(app.pane.search.as_ref().and_then(|search| search.current), Some(120));
    assert_eq!(effects, [Effect::Load(LoaderCommand::Fetch(Fetch::Around { job: id("b2c3d4e5"), offset: 120 }))]);

    // Scrolled up to the file's middle: the first match the file has after it is final.
    let mut app = loaded(100, 30);
    let lines: Vec<OutputLine> = (0..10).map(|n| OutputLine { offset: 5_000 + 12 * n, text: format!("middle line {n}") }).collect();
    let block = LineBlock { start: 5_000, end: 5_120, lines };
    app.apply_data(DataEvent::Output(id("b2c3d4e5"), OutputUpdate::Reset { tail: block.clone(), partial: None, file_len: 40_000_000 }));
    app.apply_data(DataEvent::Around(id("b2c3d4e5"), block, Some(400)));
    search_for(&mut app, "needle");
    let search_id = app.search_count;
    let effects = app.apply_data(DataEvent::SearchProgress {
        job: id("b2c3d4e5"),
        id: search_id,
        found: vec![FileMatch { offset: 120, line: 3 }, FileMatch { offset: 7_000, line: 600 }],
        scanned: 8_000,
        file_len: 40_000_000,
        done: false,
    });
    assert_eq!(app.pane.search.as_ref().and_then(|search| search.current), Some(7_000));
    assert_eq!(effects, [Effect::Load(LoaderCommand::Fetch(Fetch::Around { job: id("b2c3d4e5"), offset: 7_000 }))]);
}

#[test]
fn a_search_belongs_to_the_job_it_was_made_on() {
    let mut app = loaded(100, 30);
    reqwest_output(&mut app);
    search_for(&mut app, "reqwest");
    assert!(search_title(&app).starts_with("reqwest"));
    // Another job: no search, no "no match" in the footer, n is the form.
    app.apply(Action::Down);
    output(&mut app, "a1b2c3d4", &["nothing to find here"], None);
    assert!(app.pane.search.is_none());
    let screen = screen(&app);
    assert!(!screen.contains("/reqwest") && !screen.contains("no match"), "{screen}");
    assert_eq!(action_for(&app, &key('n')), Some(Action::NewJob));
    // A job started from here shows none either.
    app.apply_result(TaskResult::Started(Ok(Started { id: "0a0b0c0d".into(), failed: None, inherited: None })));
    app.apply_data(DataEvent::Job(Box::new(job("0a0b0c0d", "running", "new", 1, None, None))));
    assert_eq!(app.selected, Some(id("0a0b0c0d")));
    assert!(app.pane.search.is_none());
    // Back on the job it was made on, it is there again, its whole file searched anew.
    app.apply(Action::First);
    let effects = {
        let mut effects = Vec::new();
        while app.selected != Some(id("b2c3d4e5")) {
            effects = app.apply(Action::Down);
        }
        effects
    };
    assert_eq!(app.pane.search.as_ref().map(|search| search.query().to_owned()), Some("reqwest".to_owned()));
    assert!(
        effects.iter().any(|effect| matches!(effect, Effect::Load(LoaderCommand::Search { job, .. }) if *job == id("b2c3d4e5"))),
        "{effects:?}"
    );
    // Esc ends it for good.
    app.apply(Action::Back);
    app.apply(Action::Down);
    app.apply(Action::Up);
    assert!(app.pane.search.is_none());
}

#[test]
fn space_marks_and_moves_down_and_v_marks_a_range() {
    let mut app = loaded(100, 30);
    let order: Vec<JobId> = app.view.iter().map(|&index| app.jobs[index].id.clone()).collect();
    app.apply(Action::First);
    app.apply(Action::ToggleMark);
    assert_eq!(app.selected.as_ref(), Some(&order[1]), "Space moves down");
    assert!(app.marked.contains(&order[0]));
    // Down twice more, then V: rows 0 to 3 are marked.
    app.apply(Action::Down);
    app.apply(Action::Down);
    app.apply(Action::MarkRange);
    assert_eq!(app.marked.iter().cloned().collect::<Vec<_>>().len(), 4);
    assert!(order[..4].iter().all(|id| app.marked.contains(id)));
    // The range's end is the new anchor: up to the last row from there.
    app.apply(Action::Last);
    app.apply(Action::MarkRange);
    assert_eq!(app.marked.len(), order.len());
    // On the last row Space marks (here: unmarks) and stays.
    app.apply(Action::ToggleMark);
    assert_eq!(app.selected.as_ref(), order.last());
    assert_eq!(app.marked.len(), order.len() - 1);
    // Esc unmarks all and forgets the anchor; V then starts one.
    app.apply(Action::Back);
    assert!(app.marked.is_empty());
    app.apply(Action::MarkRange);
    assert_eq!(app.marked.len(), 1);
    assert_eq!(action_for(&app, &key('V')), Some(Action::MarkRange));
    assert_eq!(action_for(&app, &key(' ')), Some(Action::ToggleMark));
}

#[test]
fn y_says_the_id_went_to_the_terminals_clipboard_and_what_tmux_needs() {
    let mut app = loaded(120, 60);
    assert_eq!(app.apply(Action::CopyId), [Effect::Copy("b2c3d4e5".into())]);
    assert_eq!(app.flash.as_deref(), Some("job id b2c3d4e5 sent to the terminal's clipboard (OSC 52)"));
    app.in_tmux = true;
    app.apply(Action::CopyId);
    assert_eq!(
        app.flash.as_deref(),
        Some("job id b2c3d4e5 sent to the terminal's clipboard (OSC 52; tmux passes it on with `set -g set-clipboard on`)")
    );
    app.apply(Action::Help);
    assert!(screen(&app).contains("tmux needs `set -g set-clipboard on`"));
}

#[test]
fn why_mcp_is_off_is_reachable_at_every_width() {
    let reason =
        "binding 127.0.0.1:8765: Address already in use (os error 98): another dashboard or `serve --http` has the port; --port N moves it";
    for width in [40, 80, 100, 140, 200] {
        let mut app = loaded(width, 40);
        app.mcp = McpState::Off(reason.into());
        let header = screen(&app).lines().next().unwrap_or_default().to_owned();
        assert!(header.contains("MCP off"), "{width}: {header}");
        if !header.contains("Address already in use") {
            assert!(header.contains("? says why") || width < 60, "{width}: the header says where the reason is: {header}");
        }
        // The help box says it whole, in rows.
        app.apply(Action::Help);
        let help: String = screen(&app).lines().map(|line| line.trim_matches(|ch| ch == '│' || ch == ' ')).collect::<Vec<_>>().join(" ");
        if width >= 100 {
            assert!(help.contains("Address already in use (os error 98)") && help.contains("--port N moves it"), "{width}: {help}");
        } else {
            assert!(help.contains("MCP  off: binding"), "{width}: {help}");
        }
    }
}
