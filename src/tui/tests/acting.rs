//! State transitions of the second edition: marks, kill-now, clean, lost jobs, keys
//! that act on what has focus or what is under the pointer, the filter over every
//! column, a start that fails at once, remembered settings, recall and paste.

use super::super::model::filters::SortKey;
use super::*;

fn mark(app: &mut App, raw: &str) {
    select(app, raw);
    app.apply(Action::ToggleMark);
}

fn confirm_of(app: &App) -> &super::super::model::app::Confirm {
    let Mode::Confirm(confirm) = &app.mode else { panic!("a confirmation is open: {:?}", app.mode) };
    confirm
}

#[test]
fn marked_jobs_are_cancelled_and_deleted_together() {
    let mut app = loaded(100, 30);
    mark(&mut app, "b2c3d4e5");
    mark(&mut app, "a1b2c3d4");
    mark(&mut app, "c3d4e5f6");
    assert_eq!(app.marked.len(), 3);
    app.apply(Action::AskCancel);
    let confirm = confirm_of(&app);
    assert_eq!((confirm.kind, confirm.ids.len(), confirm.skipped), (ConfirmKind::Cancel, 2, 1), "the finished one is left out");
    let effects = app.apply(Action::Answer(true));
    assert_eq!(effects, [Effect::Cancel(id("b2c3d4e5")), Effect::Cancel(id("a1b2c3d4"))]);
    assert!(app.marked.is_empty(), "acting clears the marks");

    app.apply(Action::First);
    mark(&mut app, "a1b2c3d4");
    mark(&mut app, "c3d4e5f6");
    mark(&mut app, "d4e5f6a7");
    app.apply(Action::AskDelete);
    let confirm = confirm_of(&app);
    assert_eq!((confirm.kind, confirm.ids.len(), confirm.skipped), (ConfirmKind::Delete, 2, 1), "the running one is left out");
    assert_eq!(app.apply(Action::Answer(true)), [Effect::Delete(id("c3d4e5f6")), Effect::Delete(id("d4e5f6a7"))]);
    // Esc unmarks.
    app.apply(Action::First);
    mark(&mut app, "c3d4e5f6");
    app.apply(Action::Back);
    assert!(app.marked.is_empty());
}

#[test]
fn c_on_a_stopping_job_offers_sigkill_now() {
    let mut app = loaded(100, 30);
    select(&mut app, "a1b2c3d4");
    app.apply(Action::AskCancel);
    app.apply(Action::Answer(true));
    let record = app.selected_record().unwrap().clone();
    assert_eq!(app.shown_status(&record), super::super::model::filters::Shown::Stopping);
    assert!(app.row_text(&record).contains("stopping"));
    app.apply(Action::AskCancel);
    assert_eq!(confirm_of(&app).kind, ConfirmKind::Kill, "not the same question again");
    assert_eq!(app.apply(Action::Answer(true)), [Effect::Kill(id("a1b2c3d4"))]);
}

#[test]
fn a_job_whose_supervisor_was_lost_says_so_and_can_be_cancelled() {
    let mut app = loaded(100, 30);
    let mut lost = job("a1b2c3d4", "running", "Refactor", 95, None, None);
    if let Ok(meta) = &mut lost.meta {
        meta.supervisor_lost = true;
    }
    app.apply_data(DataEvent::Job(Box::new(lost)));
    select(&mut app, "a1b2c3d4");
    let record = app.selected_record().unwrap().clone();
    assert!(app.row_text(&record).contains("lost"));
    app.apply(Action::AskCancel);
    assert_eq!(confirm_of(&app).kind, ConfirmKind::Cancel);
    assert_eq!(app.apply(Action::Answer(true)), [Effect::Cancel(id("a1b2c3d4"))]);
}

#[test]
fn clean_asks_with_the_number_of_finished_jobs() {
    let mut app = loaded(100, 30);
    app.apply(Action::AskClean);
    let confirm = confirm_of(&app);
    assert_eq!((confirm.kind, confirm.ids.len()), (ConfirmKind::Clean, 3));
    assert!(screen(&app).contains("Remove all 3 finished job(s)"));
    assert_eq!(app.apply(Action::Answer(true)), [Effect::Clean]);
}

/// Sixty finished jobs: more rows than the table shows.
fn sixty(app: &mut App) {
    let jobs = (0..60).map(|n| job(&format!("{:08x}", 0x2000_0000 + n), "done", "x", 10 + n as i64, Some(1), Some(0))).collect();
    app.apply_data(DataEvent::Jobs(jobs));
}

#[test]
fn page_keys_and_the_wheel_act_on_focus_and_what_is_under_the_pointer() {
    let mut app = loaded(100, 30);
    sixty(&mut app);
    let lines: Vec<String> = (0..200).map(|n| format!("line {n}")).collect();
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let first = app.selected.clone().unwrap();
    output(&mut app, first.as_str(), &refs, None);

    // The table has focus: PgDn moves the selection, the output keeps following.
    app.apply(Action::PageDown);
    assert_ne!(app.selected.as_ref(), Some(&first));
    assert!(app.pane.follow);
    app.apply(Action::First);
    output(&mut app, first.as_str(), &refs, None);

    // The output has focus: PgUp scrolls it, the selection stays.
    app.apply(Action::ToggleFocus);
    app.apply(Action::PageUp);
    assert_eq!(app.selected.as_ref(), Some(&first));
    assert!(!app.pane.follow);
    app.apply(Action::Last);
    assert!(app.pane.follow);

    // The wheel over the output scrolls it, over the table moves the selection,
    // whatever has focus.
    let areas = crate::tui::model::layout::areas(&app);
    app.apply(Action::Wheel { rows: -3, column: 5, row: areas.output.y + 2 });
    assert!(!app.pane.follow);
    assert_eq!(app.selected.as_ref(), Some(&first));
    app.apply(Action::Wheel { rows: 3, column: 5, row: areas.table.y + 2 });
    assert_ne!(app.selected.as_ref(), Some(&first));
}

#[test]
fn switching_jobs_works_while_zoomed() {
    let mut app = loaded(100, 30);
    app.apply(Action::Zoom);
    assert_eq!(app.apply(Action::NextJob), [Effect::Load(LoaderCommand::Watch(Some(id("a1b2c3d4"))))]);
    assert!(app.zoom);
    assert_eq!(app.apply(Action::PrevJob), [Effect::Load(LoaderCommand::Watch(Some(id("b2c3d4e5"))))]);
}

#[test]
fn the_text_filter_matches_every_shown_column_policy_and_agent_included() {
    let mut app = loaded(100, 30);
    let mut claude = job("c3d4e5f6", "done", "Add a --json flag", 400, Some(184), Some(0));
    if let Ok(meta) = &mut claude.meta {
        meta.details.agent = Some("claude".into());
        meta.approval_policy = "full-auto".into();
    }
    app.apply_data(DataEvent::Job(Box::new(claude)));
    let shown = |app: &mut App, text: &str| {
        app.apply(Action::EditFilter);
        app.apply(Action::Edit(Edit::DeleteToStart));
        for ch in text.chars() {
            app.apply(Action::Edit(Edit::Insert(ch)));
        }
        app.apply(Action::Submit);
        app.view.iter().map(|&index| app.jobs[index].id.to_string()).collect::<Vec<_>>()
    };
    assert_eq!(shown(&mut app, "claude"), ["c3d4e5f6"]);
    assert_eq!(shown(&mut app, "full-auto"), ["c3d4e5f6"]);
    assert_eq!(shown(&mut app, "auto-edit").len(), 4);
    assert_eq!(shown(&mut app, "cancelled"), ["e5f6a7b8"]);
}

#[test]
fn a_start_that_ends_at_once_says_failed_to_start_and_a_good_one_is_selected() {
    let mut app = loaded(100, 30);
    app.apply_result(TaskResult::Started(Ok(Started {
        id: "0a0b0c0d".into(),
        failed: Some("agent 'codex' not found".into()),
        inherited: None,
    })));
    let flash = app.flash.clone().unwrap_or_default();
    assert!(flash.starts_with("failed to start: agent 'codex' not found"), "{flash}");
    assert!(!flash.contains("started job"), "{flash}");

    app.apply(Action::NewJob);
    app.apply(Action::Edit(Edit::Paste("two\nlines".into())));
    app.apply(Action::Submit);
    app.apply_result(TaskResult::Started(Ok(Started { id: "0e0e0e0e".into(), failed: None, inherited: None })));
    assert!(app.flash.as_deref().is_some_and(|flash| flash.contains("started job 0e0e0e0e")));
    app.apply_data(DataEvent::Job(Box::new(job("0e0e0e0e", "running", "two\nlines", 0, None, None))));
    assert_eq!(app.selected, Some(id("0e0e0e0e")), "the new job is selected once listed");
}

#[test]
fn settings_are_remembered_when_changed_and_restored() {
    let mut app = loaded(100, 30);
    let remembered = |effects: Vec<Effect>| {
        effects.into_iter().find_map(|effect| match effect {
            Effect::Remember(remembered) => Some(remembered),
            _ => None,
        })
    };
    assert!(remembered(app.apply(Action::ToggleWrap)).is_some_and(|saved| saved.wrap));
    assert!(remembered(app.apply(Action::ToggleBell)).is_some_and(|saved| saved.bell));
    assert_eq!(app.flash.as_deref(), Some("bell when a job ends: on"));
    assert!(remembered(app.apply(Action::ToggleNotify)).is_some_and(|saved| saved.notify));
    let saved = remembered(app.apply(Action::CycleSort)).unwrap();
    assert_eq!(saved.sort, "status");
    let saved = remembered(app.apply(Action::CycleStatusFilter)).unwrap();
    assert_eq!(saved.status_filter, "running");

    let mut fresh = super::app(100, 30);
    fresh.restore(saved);
    assert!(fresh.pane.wrap && fresh.bell && fresh.notify);
    assert_eq!((fresh.sort, fresh.status_filter), (SortKey::Status, StatusFilter::Running));
}

#[test]
fn up_and_down_in_an_empty_prompt_recall_earlier_prompts() {
    let mut app = loaded(100, 30);
    app.prompts = vec!["the newest".into(), "an older one".into()];
    app.apply(Action::NewJob);
    let prompt = |app: &App| match &app.mode {
        Mode::NewJob(form) => form.prompt.text(),
        other => panic!("the form is open: {other:?}"),
    };
    app.apply(Action::Edit(Edit::Up));
    assert_eq!(prompt(&app), "the newest");
    app.apply(Action::Edit(Edit::Up));
    assert_eq!(prompt(&app), "an older one");
    app.apply(Action::Edit(Edit::Down));
    assert_eq!(prompt(&app), "the newest");
}

#[test]
fn a_paste_is_text_where_text_is_typed_and_nothing_elsewhere() {
    let mut app = loaded(100, 30);
    let paste = crossterm::event::Event::Paste("d\ny\nq".into());
    assert_eq!(crate::tui::update::keys::action_for(&app, &paste), None, "never read as keys");
    select(&mut app, "c3d4e5f6");
    app.apply(Action::AskDelete);
    assert_eq!(crate::tui::update::keys::action_for(&app, &paste), None, "nor as an answer");
    app.apply(Action::Back);
    app.apply(Action::NewJob);
    assert_eq!(crate::tui::update::keys::action_for(&app, &paste), Some(Action::Edit(Edit::Paste("d\ny\nq".into()))));
}

#[test]
fn a_job_ending_rings_and_sends_a_desktop_notice_when_they_are_on() {
    let mut app = loaded(100, 30);
    let ended = |app: &mut App, status: &str| {
        app.apply_data(DataEvent::Job(Box::new(job("a1b2c3d4", status, "Refactor\nmore", 95, Some(90), Some(0)))))
    };
    assert!(ended(&mut app, "done").is_empty(), "both off: nothing");
    app.apply_data(DataEvent::Job(Box::new(job("a1b2c3d4", "running", "Refactor\nmore", 95, None, None))));
    app.apply(Action::ToggleBell);
    app.apply(Action::ToggleNotify);
    assert_eq!(
        ended(&mut app, "done"),
        [Effect::Bell, Effect::Notify { title: "codex-async: job a1b2c3d4 done".into(), body: "Refactor".into() }]
    );
    assert!(ended(&mut app, "done").is_empty(), "once, when it ends");
}
