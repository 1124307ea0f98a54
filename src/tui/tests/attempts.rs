//! Attempt sets in the table: one row for the set with its attempts under it, folded
//! and unfolded, filtered, sorted; the keys on the set's row; an attempt's apply that
//! offers to discard the others.

use super::*;

const SET: &str = "a1a1a1a1";
/// How [`rows`] names the set's row.
const SET_ROW: &str = "set a1a1a1a1";

/// Attempt `number` of the set: a worktree job with a change of `insertions` lines.
fn attempt(raw: &str, number: u32, status: &str, started_ago: i64, insertions: u64, agent: &str) -> JobRecord {
    let finished = status != "running";
    let exit = match status {
        "done" => Some(0),
        "error" => Some(1),
        _ => None,
    };
    let mut record =
        job(raw, status, "Make the parser faster\nand keep it small", started_ago, finished.then_some(40 + i64::from(number)), exit);
    if let Ok(meta) = &mut record.meta {
        meta.details.attempt_group = Some(SET.into());
        meta.details.attempt = Some(number);
        meta.details.agent = Some(agent.into());
        meta.details.worktree = Some(format!("/home/me/.codex-async/worktrees/{raw}"));
        meta.details.branch = Some(format!("codex-async/{raw}"));
        meta.details.usage =
            Some(crate::jobs::Usage { input_tokens: 10_000 * u64::from(number), output_tokens: 500, ..Default::default() });
        if finished {
            meta.details.change = Some(crate::jobs::ChangeStat { files: 2, insertions, deletions: 1, ..Default::default() });
        } else {
            meta.details.activity = Some("running: cargo test".into());
        }
    }
    record
}

/// Newest first: a plain job started after the set, the set's three attempts (the
/// third still running), a plain job before it.
fn with_a_set(width: u16, height: u16) -> App {
    let mut app = app(width, height);
    app.apply_data(DataEvent::Jobs(vec![
        job("f0f0f0f0", "done", "Write the changelog", 20, Some(12), Some(0)),
        attempt("c3c3c3c3", 3, "running", 98, 0, "codex"),
        attempt("b2b2b2b2", 2, "done", 99, 4, "claude"),
        attempt(SET, 1, "done", 100, 25, "codex"),
        job("e0e0e0e0", "error", "Upgrade reqwest", 900, Some(61), Some(1)),
    ]));
    app
}

fn rows(app: &App) -> Vec<String> {
    (0..app.view.len())
        .map(|row| {
            let id = app.jobs[app.view[row]].id.to_string();
            if app.attempts.set_at(row).is_some() { format!("set {id}") } else { id }
        })
        .collect()
}

/// Selects job `raw`'s own row (a set's row shares its first attempt's job, so the
/// shared `select` helper cannot tell them apart).
fn select_job(app: &mut App, raw: &str) {
    app.apply(Action::First);
    for _ in 0..app.view.len() {
        if app.selected.as_ref().map(JobId::as_str) == Some(raw) && app.attempts.selected.is_none() {
            return;
        }
        app.apply(Action::Down);
    }
    panic!("{raw} not reachable");
}

/// Selects the set's row (the first row is the newest job; the set's row is next).
fn select_set(app: &mut App) {
    app.apply(Action::First);
    app.apply(Action::Down);
    assert_eq!(app.attempts.selected.as_deref(), Some(SET), "the set's row is the second");
}

#[test]
fn snapshot_attempt_set_unfolded() {
    let mut app = with_a_set(160, 20);
    select_set(&mut app);
    let drawn = screen(&app);
    assert!(drawn.contains("▾"), "{drawn}");
    assert!(drawn.contains("└2 b2b2b2b2"), "{drawn}");
    assert!(drawn.contains("3× 2✓ 1● best └2"), "the counts in the activity column: {drawn}");
    assert!(drawn.contains("Make the parser faster"), "{drawn}");
    assert!(drawn.contains("+4 −1 · 2 files"), "an attempt's change where its prompt would be: {drawn}");
    // Narrower, without the activity column, the counts go before the prompt.
    app.apply(Action::Resize(100, 16));
    assert!(screen(&app).contains("[3× 2✓ 1● best └2] Make"), "{}", screen(&app));
    insta::assert_snapshot!("attempt_set_unfolded", drawn);
}

#[test]
fn snapshot_attempt_set_folded() {
    let mut app = with_a_set(160, 16);
    select_set(&mut app);
    assert!(app.apply(Action::Zoom).is_empty(), "Enter on the set's row folds it");
    assert_eq!(rows(&app), ["f0f0f0f0", SET_ROW, "e0e0e0e0"]);
    assert_eq!(app.selected_row(), Some(1), "the set's row stays selected");
    assert!(!app.zoom);
    let drawn = screen(&app);
    assert!(drawn.contains("▸") && !drawn.contains("└2 b2b2b2b2"), "{drawn}");
    insta::assert_snapshot!("attempt_set_folded", drawn);
    app.apply(Action::ScrollRight);
    assert_eq!(app.view.len(), 6, "→ unfolds it");
    app.apply(Action::ScrollLeft);
    assert_eq!(app.view.len(), 3, "← folds it");
}

#[test]
fn snapshot_attempt_set_filtered_to_one_attempt() {
    let mut app = with_a_set(160, 12);
    app.apply(Action::EditFilter);
    for ch in "claude".chars() {
        app.apply(Action::Edit(Edit::Insert(ch)));
    }
    app.apply(Action::Submit);
    assert_eq!(rows(&app), [SET_ROW, "b2b2b2b2"]);
    let drawn = screen(&app);
    assert!(drawn.contains("1 / 5"), "one job passes the filter: {drawn}");
    insta::assert_snapshot!("attempt_set_filtered", drawn);
    // The set's id finds all of its attempts.
    app.apply(Action::EditFilter);
    for _ in 0.."claude".len() {
        app.apply(Action::Edit(Edit::Backspace));
    }
    for ch in SET.chars() {
        app.apply(Action::Edit(Edit::Insert(ch)));
    }
    app.apply(Action::Submit);
    assert_eq!(rows(&app), [SET_ROW, SET, "b2b2b2b2", "c3c3c3c3"]);
}

#[test]
fn the_rows_go_set_then_attempts_and_the_set_s_row_shows_its_first_attempt() {
    let mut app = with_a_set(120, 30);
    assert_eq!(rows(&app), ["f0f0f0f0", SET_ROW, SET, "b2b2b2b2", "c3c3c3c3", "e0e0e0e0"]);
    let effects = app.apply(Action::Down);
    assert_eq!(effects, [Effect::Load(LoaderCommand::Watch(Some(id(SET))))], "the set's row shows its first attempt's output");
    assert_eq!(app.selected_row(), Some(1));
    // Down to attempt 1: the same job, its own row now.
    assert!(app.apply(Action::Down).is_empty());
    assert_eq!((app.selected_row(), app.attempts.selected.clone()), (Some(2), None));
    app.apply(Action::Up);
    assert_eq!(app.selected_row(), Some(1));
}

#[test]
fn sorting_keeps_the_attempts_under_their_set() {
    let mut app = with_a_set(120, 30);
    for _ in 0..3 {
        app.apply(Action::CycleSort);
        let shown = rows(&app);
        let at = shown.iter().position(|row| row == SET_ROW).unwrap();
        assert_eq!(shown[at + 1..at + 4], [SET, "b2b2b2b2", "c3c3c3c3"], "by {}", app.sort.name());
        assert_eq!(shown.len(), 6);
    }
    // By status: the running attempt puts the whole set first.
    app.sort = crate::tui::model::filters::SortKey::Status;
    app.refresh_view();
    assert_eq!(rows(&app)[0], SET_ROW);
}

#[test]
fn space_c_d_and_x_on_the_set_s_row_act_on_every_attempt() {
    let mut app = with_a_set(120, 30);
    select_set(&mut app);
    app.apply(Action::ToggleMark);
    assert_eq!(app.marked.len(), 3, "every attempt marked");
    assert_eq!(app.selected_row(), Some(2), "and the selection moved down");
    app.apply(Action::Back);
    select_set(&mut app);
    app.apply(Action::AskCancel);
    let Mode::Confirm(confirm) = &app.mode else { panic!("a confirmation opens") };
    assert_eq!((confirm.kind, confirm.ids.clone()), (ConfirmKind::Cancel, vec![id("c3c3c3c3")]));
    assert_eq!(confirm.skipped, 2, "the finished ones are left out");
    app.apply(Action::Back);
    app.apply(Action::AskDelete);
    let Mode::Confirm(confirm) = &app.mode else { panic!("a confirmation opens") };
    assert_eq!((confirm.kind, confirm.ids.len()), (ConfirmKind::Delete, 2));
    app.apply(Action::Back);
    app.apply(Action::AskDiscard);
    let Mode::Confirm(confirm) = &app.mode else { panic!("a confirmation opens") };
    assert_eq!(confirm.kind, ConfirmKind::Discard);
    assert_eq!(confirm.ids, [id(SET), id("b2b2b2b2")], "the running attempt is left out");
    assert!(screen(&app).contains("Remove the worktrees and branches of 2 jobs?"));
    assert_eq!(app.apply(Action::Answer(true)), [Effect::Discard(id(SET)), Effect::Discard(id("b2b2b2b2"))]);
}

#[test]
fn what_needs_one_attempt_says_to_choose_one_on_the_set_s_row() {
    let mut app = with_a_set(120, 30);
    select_set(&mut app);
    for action in [Action::AskApply, Action::Diff, Action::FollowUp, Action::Rerun, Action::TogglePause] {
        assert!(app.apply(action.clone()).is_empty(), "{action:?}");
        assert_eq!(app.mode, Mode::Normal);
        assert!(app.flash.as_deref().unwrap().contains("choose one of its attempts"), "{action:?}");
    }
}

#[test]
fn a_on_an_attempt_offers_to_discard_the_others() {
    let mut app = with_a_set(120, 30);
    select_job(&mut app, "b2b2b2b2");
    app.apply(Action::AskApply);
    let Mode::Confirm(confirm) = &app.mode else { panic!("a confirmation opens") };
    assert_eq!((confirm.kind, confirm.ids.clone()), (ConfirmKind::Apply, vec![id("b2b2b2b2"), id(SET), id("c3c3c3c3")]));
    assert!(confirm.offers_discard_others());
    let drawn = screen(&app);
    assert!(drawn.contains("Apply job b2b2b2b2's change to its folder?"), "{drawn}");
    assert!(drawn.contains("o also discards the other 2 attempt(s), cancelling any running"), "{drawn}");
    assert!(drawn.contains("o yes, discard the others"), "{drawn}");
    assert_eq!(crate::tui::update::keys::action_for(&app, &key('o')), Some(Action::AnswerDiscardOthers));
    // `y` applies this one alone.
    assert_eq!(app.apply(Action::Answer(true)), [Effect::Apply(id("b2b2b2b2"))]);
    app.apply(Action::AskApply);
    assert_eq!(app.apply(Action::AnswerDiscardOthers), [Effect::ApplyDiscardingOthers(id("b2b2b2b2"))]);
    assert_eq!(app.mode, Mode::Normal);
    // A job of no set is asked as before: no `o`.
    select_job(&mut app, "e0e0e0e0");
    app.apply(Action::AskApply);
    assert_eq!(app.mode, Mode::Normal, "{:?}", app.flash);
    let mut plain = super::app(120, 20);
    let mut record = attempt("d0d0d0d0", 1, "done", 10, 3, "codex");
    if let Ok(meta) = &mut record.meta {
        meta.details.attempt_group = None;
        meta.details.attempt = None;
    }
    plain.apply_data(DataEvent::Jobs(vec![record]));
    plain.apply(Action::AskApply);
    let Mode::Confirm(confirm) = &plain.mode else { panic!("a confirmation opens") };
    assert!(!confirm.offers_discard_others());
    assert_eq!(crate::tui::update::keys::action_for(&plain, &key('o')), None);
}

#[test]
fn folding_a_set_whose_attempt_is_selected_is_done_from_its_row_and_removal_keeps_a_row_selected() {
    let mut app = with_a_set(120, 30);
    select_job(&mut app, "c3c3c3c3");
    app.apply(Action::Up);
    app.apply(Action::Up);
    app.apply(Action::Up);
    assert_eq!(app.attempts.selected.as_deref(), Some(SET));
    app.apply(Action::Zoom);
    assert_eq!(app.view.len(), 3);
    // Its first attempt goes: the set's row stands for the next one.
    app.apply_data(DataEvent::Removed(id(SET)));
    assert_eq!(app.attempts.selected.as_deref(), Some(SET));
    assert_eq!(app.selected, Some(id("b2b2b2b2")));
    assert_eq!(rows(&app), ["f0f0f0f0", "set b2b2b2b2", "e0e0e0e0"]);
}
