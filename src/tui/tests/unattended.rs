//! `p` pauses the selected running job and resumes a paused one; a paused job shows as
//! such in the table.

use super::*;

#[test]
fn p_pauses_a_running_job_and_resumes_a_paused_one() {
    let mut app = loaded(100, 30);
    select(&mut app, "a1b2c3d4");
    assert_eq!(app.apply(Action::TogglePause), [Effect::SetPaused { id: id("a1b2c3d4"), paused: true }]);

    app.apply_data(DataEvent::Job(Box::new(job("a1b2c3d4", "paused", "Refactor", 95, None, None))));
    select(&mut app, "a1b2c3d4");
    let shown = screen(&app);
    assert!(shown.contains("‖") && shown.contains("paused"), "{shown}");
    assert_eq!(app.apply(Action::TogglePause), [Effect::SetPaused { id: id("a1b2c3d4"), paused: false }]);

    app.apply_result(TaskResult::Paused { id: id("a1b2c3d4"), outcome: Ok("running".into()) });
    assert!(screen(&app).contains("job a1b2c3d4: running"));

    select(&mut app, "c3d4e5f6");
    assert!(app.apply(Action::TogglePause).is_empty(), "a finished job is not paused");
    assert!(screen(&app).contains("only a running job can be paused"));
}

#[test]
fn p_is_the_pause_key() {
    let app = loaded(100, 30);
    let action = super::super::update::keys::action_for(&app, &key('p'));
    assert_eq!(action, Some(Action::TogglePause));
}

fn labelled(raw: &str, group: Option<&str>, labels: &[&str]) -> JobRecord {
    let mut record = job(raw, "running", "Labelled work", 30, None, None);
    if let Ok(meta) = &mut record.meta {
        meta.details.group = group.map(str::to_owned);
        meta.details.labels = labels.iter().map(|label| (*label).to_owned()).collect();
        meta.details.max_tokens = Some(50_000);
        meta.details.usage = Some(crate::jobs::Usage { input_tokens: 11_200, output_tokens: 1_200, ..Default::default() });
    }
    record
}

#[test]
fn label_and_group_filters_name_one_exactly_and_wide_tables_show_them() {
    let mut app = loaded(170, 30);
    app.apply_data(DataEvent::Job(Box::new(labelled("abcdef01", Some("review"), &["infra", "nightly"]))));
    app.apply_data(DataEvent::Job(Box::new(labelled("abcdef02", None, &["infrastructure"]))));
    let shown = screen(&app);
    assert!(shown.contains("GROUP") && shown.contains("LABELS") && shown.contains("infra night"), "{shown}");
    assert!(shown.contains("12.4k/50k"), "the tokens column shows the budget: {shown}");
    app.text_filter = "label:infra".to_owned();
    app.filter_view();
    let rows: Vec<String> = app.view.iter().map(|&index| app.jobs[index].id.to_string()).collect();
    assert_eq!(rows, ["abcdef01"], "label:infra is not infrastructure");
    app.text_filter = "group:review".to_owned();
    app.filter_view();
    assert_eq!(app.view.len(), 1);
    app.text_filter = "group:default".to_owned();
    app.filter_view();
    assert!(app.view.iter().all(|&index| app.jobs[index].id.as_str() != "abcdef01"));
    let narrow = loaded(100, 30);
    assert!(!screen(&narrow).contains("LABELS"));
}
