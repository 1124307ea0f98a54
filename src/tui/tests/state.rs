//! State transitions driven by actions, without rendering.

use super::*;

#[test]
fn first_listing_selects_the_newest_and_follows_it() {
    let mut app = app(100, 30);
    let effects = app.apply_data(DataEvent::Jobs(vec![
        job("b2c3d4e5", "running", "p", 5, None, None),
        job("a1b2c3d4", "done", "q", 50, Some(3), Some(0)),
    ]));
    assert_eq!(app.selected, Some(id("b2c3d4e5")));
    assert_eq!(effects, [Effect::Load(LoaderCommand::Watch(Some(id("b2c3d4e5"))))]);
    assert!(app.pane.loading);
}

#[test]
fn moving_the_selection_switches_the_output() {
    let mut app = loaded(100, 30);
    assert_eq!(app.selected, Some(id("b2c3d4e5")));
    assert_eq!(app.apply(Action::Down), [Effect::Load(LoaderCommand::Watch(Some(id("a1b2c3d4"))))]);
    assert_eq!(app.apply(Action::Last), [Effect::Load(LoaderCommand::Watch(Some(id("f6a7b8c9"))))]);
    assert!(app.apply(Action::Down).is_empty(), "the last row stays selected");
    app.apply(Action::First);
    assert_eq!(app.selected, Some(id("b2c3d4e5")));
    assert!(app.apply(Action::Up).is_empty());
}

#[test]
fn a_new_job_appears_in_order_and_keeps_the_selection() {
    let mut app = loaded(100, 30);
    select(&mut app, "c3d4e5f6");
    let effects = app.apply_data(DataEvent::Job(Box::new(job("0a0b0c0d", "running", "newest", 1, None, None))));
    assert!(effects.is_empty());
    assert_eq!(app.jobs[0].id, id("0a0b0c0d"));
    assert_eq!(app.selected, Some(id("c3d4e5f6")));
}

#[test]
fn cancel_asks_first_and_only_for_running_jobs() {
    let mut app = loaded(100, 30);
    select(&mut app, "a1b2c3d4");
    assert!(app.apply(Action::AskCancel).is_empty());
    let Mode::Confirm(confirm) = &app.mode else { panic!("a confirmation opens") };
    assert_eq!((confirm.kind, confirm.ids.clone()), (ConfirmKind::Cancel, vec![id("a1b2c3d4")]));
    assert!(confirm.prompt.starts_with("Refactor the storage layer"));
    assert!(app.apply(Action::Quit).is_empty(), "other keys do nothing while asking");
    assert!(!app.quit);
    assert!(app.apply(Action::Answer(false)).is_empty());
    assert_eq!(app.mode, Mode::Normal);

    app.apply(Action::AskCancel);
    assert_eq!(app.apply(Action::Answer(true)), [Effect::Cancel(id("a1b2c3d4"))]);
    assert!(app.cancelling.contains(&id("a1b2c3d4")));
    app.apply_data(DataEvent::Job(Box::new(job("a1b2c3d4", "cancelled", "Refactor", 95, Some(90), Some(130)))));
    assert!(!app.cancelling.contains(&id("a1b2c3d4")));

    select(&mut app, "c3d4e5f6");
    app.apply(Action::AskCancel);
    assert_eq!(app.mode, Mode::Normal, "a finished job is not cancelled");
    assert!(app.flash.as_deref().unwrap().contains("not running"));
}

#[test]
fn delete_refuses_running_jobs_and_selects_the_neighbour() {
    let mut app = loaded(100, 30);
    select(&mut app, "a1b2c3d4");
    app.apply(Action::AskDelete);
    assert_eq!(app.mode, Mode::Normal);
    assert!(app.flash.as_deref().unwrap().contains("cancel it first"));

    select(&mut app, "c3d4e5f6");
    app.apply(Action::AskDelete);
    assert!(matches!(&app.mode, Mode::Confirm(confirm) if confirm.kind == ConfirmKind::Delete));
    assert_eq!(app.apply(Action::Answer(true)), [Effect::Delete(id("c3d4e5f6"))]);
    let effects = app.apply_data(DataEvent::Removed(id("c3d4e5f6")));
    assert_eq!(effects, [Effect::Load(LoaderCommand::Watch(Some(id("d4e5f6a7"))))]);
    assert_eq!(app.jobs.len(), 5);
}

#[test]
fn status_filter_cycles_and_moves_the_selection_into_view() {
    let mut app = loaded(100, 30);
    select(&mut app, "c3d4e5f6");
    app.apply(Action::CycleStatusFilter);
    assert_eq!(app.status_filter, StatusFilter::Running);
    assert_eq!(app.view.len(), 2);
    assert_eq!(app.selected, Some(id("b2c3d4e5")));
    app.apply(Action::CycleStatusFilter);
    assert_eq!((app.status_filter, app.view.len()), (StatusFilter::Finished, 3));
    app.apply(Action::CycleStatusFilter);
    assert_eq!((app.status_filter, app.view.len()), (StatusFilter::Failed, 3), "error, cancelled and corrupt");
    app.apply(Action::CycleStatusFilter);
    assert_eq!((app.status_filter, app.view.len()), (StatusFilter::All, 6));
}

#[test]
fn text_filter_applies_as_typed_and_esc_clears_it() {
    let mut app = loaded(100, 30);
    app.apply(Action::EditFilter);
    for ch in "REQW".chars() {
        app.apply(Action::Edit(Edit::Insert(ch)));
    }
    assert_eq!(app.view.len(), 1);
    assert_eq!(app.selected, Some(id("d4e5f6a7")));
    app.apply(Action::Submit);
    assert_eq!((app.mode.clone(), app.view.len()), (Mode::Normal, 1));
    app.apply(Action::Back);
    assert_eq!(app.view.len(), 6);
}

#[test]
fn scrolling_up_stops_following_and_end_follows_again() {
    let mut app = loaded(100, 30);
    let lines: Vec<String> = (0..200).map(|i| format!("line {i}")).collect();
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    output(&mut app, "b2c3d4e5", &refs, None);
    assert!(app.pane.follow);
    app.apply(Action::ToggleFocus);
    assert_eq!(app.focus, Focus::Output);
    app.apply(Action::Up);
    assert!(!app.pane.follow);
    let bottom = 200 - usize::from(crate::tui::model::layout::output_rows(&app));
    assert_eq!(app.pane.top, bottom - 1);
    app.apply(Action::PageUp);
    assert!(app.pane.top < bottom - 10);
    app.apply(Action::Wheel { rows: 3, column: 50, row: 28 });
    app.apply(Action::Last);
    assert!(app.pane.follow);
    app.apply(Action::First);
    assert_eq!((app.pane.follow, app.pane.top), (false, 0));
}

#[test]
fn scrolling_above_the_window_reads_older_lines() {
    let mut app = loaded(100, 30);
    let job = id("b2c3d4e5");
    let lines = vec![OutputLine { offset: 5000, text: "kept".into() }, OutputLine { offset: 5005, text: "lines".into() }];
    app.apply_data(DataEvent::Output(
        job.clone(),
        OutputUpdate::Reset { tail: LineBlock { start: 5000, end: 5011, lines }, partial: None, file_len: 5011 },
    ));
    app.apply(Action::ToggleFocus);
    assert_eq!(app.apply(Action::Up), [Effect::Load(LoaderCommand::Fetch(Fetch::Older { job: job.clone(), before: 5000 }))]);
    assert!(app.apply(Action::Up).is_empty(), "asked once");
    let older = vec![OutputLine { offset: 4990, text: "older".into() }];
    app.apply_data(DataEvent::Older(job.clone(), LineBlock { start: 4990, end: 5000, lines: older }));
    assert_eq!(app.pane.line(0), Some("older"));
    assert_eq!(app.pane.top, 1);
    assert_eq!(app.apply(Action::First), [Effect::Load(LoaderCommand::Fetch(Fetch::Start { job }))]);
}

#[test]
fn search_jumps_to_matches_and_cycles() {
    let mut app = loaded(100, 30);
    let lines: Vec<String> = (0..100).map(|i| if i % 30 == 0 { format!("ERROR at step {i}") } else { format!("ok {i}") }).collect();
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    output(&mut app, "b2c3d4e5", &refs, None);
    app.apply(Action::EditSearch);
    for ch in "error".chars() {
        app.apply(Action::Edit(Edit::Insert(ch)));
    }
    app.apply(Action::Submit);
    let search = app.pane.search.clone().unwrap();
    assert_eq!(search.matches, [0, 30, 60, 90]);
    let current = |app: &App| app.pane.search.as_ref().unwrap().current.and_then(|offset| app.pane.index_of(offset));
    assert_eq!(current(&app), Some(90), "starts from the newest match");
    assert!(!app.pane.follow);
    app.apply(Action::ToggleFocus);
    assert_eq!(crate::tui::update::keys::action_for(&app, &key('n')), Some(Action::NextMatch));
    app.apply(Action::NextMatch);
    assert_eq!(current(&app), Some(0), "after the last, the first");
    assert_eq!(app.pane.top, 0);
    app.apply(Action::PrevMatch);
    assert_eq!(current(&app), Some(90));
    app.apply(Action::Back);
    assert!(app.pane.search.is_none());
}

#[test]
fn a_job_finishing_unselected_gets_a_marker_and_maybe_the_bell() {
    let mut app = loaded(100, 30);
    let finished = job("a1b2c3d4", "done", "Refactor", 95, Some(94), Some(0));
    assert!(app.apply_data(DataEvent::Job(Box::new(finished))).is_empty());
    assert!(app.unseen.contains(&id("a1b2c3d4")));
    app.apply(Action::ToggleBell);
    assert_eq!(app.apply_data(DataEvent::Job(Box::new(job("b2c3d4e5", "error", "x", 5, Some(4), Some(1))))), [Effect::Bell]);
    assert!(!app.unseen.contains(&id("b2c3d4e5")), "the selected job needs no marker");
    select(&mut app, "a1b2c3d4");
    assert!(app.unseen.is_empty(), "seeing it clears the marker");
}

#[test]
fn new_job_form_checks_then_starts() {
    let mut app = loaded(100, 30);
    app.apply(Action::NewJob);
    assert!(matches!(app.mode, Mode::NewJob(_)));
    assert!(app.apply(Action::Submit).is_empty());
    let Mode::NewJob(form) = &app.mode else { panic!() };
    assert!(form.error.as_deref().unwrap().contains("prompt is empty"));
    for ch in "fix q".chars() {
        app.apply(Action::Edit(Edit::Insert(ch)));
    }
    assert!(!app.quit, "q is text in the form");
    app.apply(Action::NextField);
    // Tab in the folder field completes first; with nothing to add it moves on.
    assert_eq!(app.apply(Action::NextField), [Effect::FolderMatches("/home/me/src".into())]);
    app.apply_result(TaskResult::FolderMatches { typed: "/home/me/src".into(), matches: vec!["/home/me/src/".into()] });
    let Mode::NewJob(form) = &app.mode else { panic!() };
    assert_eq!((form.cwd.text().as_str(), form.field), ("/home/me/src/", super::super::model::form::Field::Cwd), "completed");
    app.apply(Action::NextField);
    app.apply_result(TaskResult::FolderMatches { typed: "/home/me/src/".into(), matches: vec![] });
    app.apply(Action::Right);
    app.apply(Action::NextField);
    // suggest → ask → auto-edit
    app.apply(Action::Right);
    app.apply(Action::Right);
    let effects = app.apply(Action::Submit);
    assert_eq!(
        effects[0],
        Effect::Start {
            prompt: "fix q".into(),
            cwd: PathBuf::from("/home/me/src/"),
            policy: ApprovalPolicy::AutoEdit,
            agent: "claude".into(),
            rerun_of: None,
            worktree: false,
            after: Vec::new(),
            starts: None
        }
    );
    assert!(
        matches!(&effects[1], Effect::Remember(remembered) if remembered.prompts == ["fix q"] && remembered.folders == ["/home/me/src/"])
    );
    assert!(app.apply(Action::Submit).is_empty(), "not sent twice");
    app.apply_result(TaskResult::Started(Err("cwd \"/nope\" does not exist".into())));
    let Mode::NewJob(form) = &app.mode else { panic!("the form stays open on error") };
    assert!(form.error.as_deref().unwrap().contains("/nope"));
    app.apply_result(TaskResult::Started(Ok(Started { id: "abcdef12".into(), failed: None, inherited: None })));
    assert_eq!(app.mode, Mode::Normal);
    assert_eq!(app.flash.as_deref(), Some("started job abcdef12"));
}

#[test]
fn a_follow_up_continues_a_finished_job_with_a_session() {
    let mut app = loaded(100, 30);
    select(&mut app, "a1b2c3d4");
    app.apply(Action::FollowUp);
    assert_eq!(app.mode, Mode::Normal);
    assert!(app.flash.as_deref().unwrap().contains("is running"), "{:?}", app.flash);
    select(&mut app, "c3d4e5f6");
    app.apply(Action::FollowUp);
    assert_eq!(app.mode, Mode::Normal);
    assert!(app.flash.as_deref().unwrap().contains("no session"), "{:?}", app.flash);

    let mut finished = job("c3d4e5f6", "done", "Add a --json flag to the list command", 400, Some(184), Some(0));
    if let Ok(meta) = &mut finished.meta {
        meta.details.session_id = Some("thread-1".into());
        meta.details.agent = Some("codex".into());
    }
    app.apply_data(DataEvent::Job(Box::new(finished)));
    app.apply(Action::FollowUp);
    let Mode::NewJob(form) = &app.mode else { panic!("the follow-up form opens: {:?}", app.flash) };
    assert_eq!(form.parent.as_ref().map(|parent| parent.id.as_str()), Some("c3d4e5f6"));
    assert_eq!(form.policy, ApprovalPolicy::AutoEdit, "the parent's policy to start from");
    for ch in "now add tests".chars() {
        app.apply(Action::Edit(Edit::Insert(ch)));
    }
    app.apply(Action::NextField);
    let Mode::NewJob(form) = &app.mode else { panic!() };
    assert_eq!(form.field, super::super::model::form::Field::Policy, "a follow-up's folder and agent are fixed");
    let effects = app.apply(Action::Submit);
    assert_eq!(
        effects[0],
        Effect::Reply {
            parent: id("c3d4e5f6"),
            prompt: "now add tests".into(),
            policy: ApprovalPolicy::AutoEdit,
            after: Vec::new(),
            starts: None
        }
    );
}

#[test]
fn zoom_copy_and_quit() {
    let mut app = loaded(100, 30);
    app.apply(Action::Zoom);
    assert!(app.zoom);
    app.apply(Action::Back);
    assert!(!app.zoom);
    assert_eq!(app.apply(Action::CopyId), [Effect::Copy("b2c3d4e5".into())]);
    assert_eq!(app.apply(Action::CopyLastMessage), [Effect::CopyLastMessage(id("b2c3d4e5"))]);
    assert_eq!(
        app.apply_result(TaskResult::LastMessage { id: id("b2c3d4e5"), message: Some("answer".into()) }),
        [Effect::Copy("answer".into())]
    );
    app.apply(Action::Quit);
    assert!(app.quit);
}

#[test]
fn clicking_a_row_selects_it_and_clicking_the_output_focuses_it() {
    let mut app = loaded(100, 30);
    // Row 0 is the header line, row 1 the column titles, then the jobs.
    assert_eq!(app.apply(Action::Click(20, 4)), [Effect::Load(LoaderCommand::Watch(Some(id("c3d4e5f6"))))]);
    assert!(app.apply(Action::Click(20, 1)).is_empty(), "the titles select nothing");
    let output_row = crate::tui::model::layout::areas(&app).output.y + 2;
    app.apply(Action::Click(5, output_row));
    assert_eq!(app.focus, Focus::Output);
}

#[test]
fn keys_depend_on_what_is_open() {
    let mut app = loaded(100, 30);
    assert_eq!(crate::tui::update::keys::action_for(&app, &key('n')), Some(Action::NewJob));
    assert_eq!(crate::tui::update::keys::action_for(&app, &key('q')), Some(Action::Quit));
    app.apply(Action::EditFilter);
    assert_eq!(crate::tui::update::keys::action_for(&app, &key('q')), Some(Action::Edit(Edit::Insert('q'))));
    let ctrl_c = crossterm::event::Event::Key(crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::Char('c'),
        crossterm::event::KeyModifiers::CONTROL,
    ));
    assert_eq!(crate::tui::update::keys::action_for(&app, &ctrl_c), Some(Action::Quit), "Ctrl-C always quits");
}

#[test]
fn thousands_of_jobs_keep_the_selection_on_screen() {
    let mut app = app(100, 30);
    let jobs: Vec<JobRecord> = (0..5000).map(|i| job(&format!("{i:08x}"), "done", "p", 10_000 + i, Some(1), Some(0))).collect();
    app.apply_data(DataEvent::Jobs(jobs));
    app.apply(Action::Last);
    let rows = usize::from(crate::tui::model::layout::table_rows(&app));
    assert_eq!(app.table_offset, 5000 - rows);
    crate::tui::view::built::take();
    let text = screen(&app);
    assert!(text.contains("00001387"), "the last job is drawn");
    // A frame builds the rows on screen, not one per stored job, at either end.
    let (rows_built, _) = crate::tui::view::built::take();
    assert_eq!(rows_built, rows, "{rows_built} table rows built for {rows} on screen");
    app.apply(Action::First);
    assert!(screen(&app).contains("00000000"), "the first job is drawn");
    let (rows_built, _) = crate::tui::view::built::take();
    assert_eq!(rows_built, rows, "{rows_built} table rows built for {rows} on screen");
}

#[test]
fn a_megabyte_line_does_not_slow_anything_down() {
    use crate::term::parse_count;
    /// Far more than a screen of text, far less than the line.
    const SCREENFUL: usize = 64 * 1024;
    let mut app = loaded(100, 30);
    let huge = format!("\u{1b}[31m{}\u{1b}[0m", "x\ty 日本 ".repeat(100_000));
    output(&mut app, "b2c3d4e5", &["before", &huge, "after"], None);
    parse_count::take();
    render(&app);
    app.apply(Action::ToggleWrap);
    render(&app);
    // Drawing, wrapped or not, parses what fits on the screen, not the megabyte.
    let parsed = parse_count::take();
    assert!(parsed < SCREENFUL, "{parsed} bytes parsed to draw a {} byte line", huge.len());
    let (_, lines_built) = crate::tui::view::built::take();
    assert!(lines_built <= 2 * 3, "{lines_built} output lines built for two frames of three lines");

    // A search reads each line once, when it is asked for; drawing its result does not.
    app.apply(Action::EditSearch);
    app.apply(Action::Edit(Edit::Insert('y')));
    app.apply(Action::Submit);
    let searched = parse_count::take();
    assert!(searched < huge.len() + SCREENFUL, "{searched} bytes parsed by one search");
    assert_eq!(app.pane.search.as_ref().map(|search| search.matches.clone()), Some(vec![1]));
    render(&app);
    let parsed = parse_count::take();
    assert!(parsed < SCREENFUL, "{parsed} bytes parsed to draw the search's result");
}

#[test]
fn a_folder_without_meta_made_moments_ago_is_starting_not_corrupt() {
    let mut app = app(100, 12);
    let mut young = corrupt("0a0b0c0d", 0);
    young.created = SystemTime::from(now()) - Duration::from_secs(1);
    let old = corrupt("f6a7b8c9", 5000);
    app.apply_data(DataEvent::Jobs(vec![young.clone(), old.clone()]));
    assert!(app.is_starting(&young));
    assert!(!app.is_starting(&old));
    let text = screen(&app);
    assert!(text.contains("starting") && text.contains("(starting…)"), "{text}");
    assert!(text.contains("corrupt: meta.json"), "{text}");
    // A starting job is not deleted under its supervisor's feet.
    app.apply(Action::First);
    app.apply(Action::AskDelete);
    assert_eq!(app.mode, Mode::Normal);
    assert!(app.flash.as_deref().unwrap().contains("still starting"));
}
