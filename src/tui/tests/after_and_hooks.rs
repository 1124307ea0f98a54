//! The job form's `after` field (a new job and a follow-up wait for other jobs), a hook
//! that failed in the detail view, and why MCP is off said in the detail view at any
//! width.

use super::*;
use crate::jobs::Timestamp;
use crate::tui::model::form::{FormRequest, after_ids, starts_at};

fn type_text(app: &mut App, text: &str) {
    for ch in text.chars() {
        app.apply(Action::Edit(Edit::Insert(ch)));
    }
}

fn form_request(app: &App) -> Result<FormRequest, String> {
    match &app.mode {
        Mode::NewJob(form) => form.request(),
        other => panic!("no form: {other:?}"),
    }
}

#[test]
fn after_ids_are_words_of_id_characters_each_kept_once() {
    assert_eq!(after_ids("c3d4, a1b2c3d4  c3d4,,").unwrap(), ["c3d4", "a1b2c3d4"]);
    assert!(after_ids("").unwrap().is_empty());
    let refused = after_ids("c3d4 ../etc").unwrap_err();
    assert!(refused.contains("\"../etc\" is not a job id"), "{refused}");
}

#[test]
fn the_new_job_form_starts_a_job_after_others() {
    let mut app = loaded(100, 30);
    app.apply(Action::NewJob);
    type_text(&mut app, "Review what the refactor did");
    // Back from the prompt: the last fields, starts then after.
    app.apply(Action::PrevField);
    app.apply(Action::PrevField);
    type_text(&mut app, "a1b2, c3d4e5f6");
    let shown = screen(&app);
    assert!(shown.contains("After jobs (ids or their starts; empty: at once)") && shown.contains("a1b2, c3d4e5f6"), "{shown}");
    insta::assert_snapshot!("new_job_form_after", shown);
    match form_request(&app) {
        Ok(FormRequest::Start { after, .. }) => assert_eq!(after, ["a1b2", "c3d4e5f6"]),
        other => panic!("{other:?}"),
    }
    let effects = app.apply(Action::Submit);
    assert!(effects.iter().any(|effect| matches!(effect, Effect::Start { after, .. } if after == &["a1b2", "c3d4e5f6"])), "{effects:?}");
    // The engine refused an id: the form stays, and says why.
    app.apply_result(TaskResult::Started(Err("after: job 'a1b2' not found".into())));
    let shown = screen(&app);
    assert!(matches!(app.mode, Mode::NewJob(_)) && shown.contains("after: job 'a1b2' not found"), "{shown}");
}

#[test]
fn an_id_that_cannot_be_one_is_refused_in_the_form() {
    let mut app = loaded(100, 30);
    app.apply(Action::NewJob);
    type_text(&mut app, "Review");
    app.apply(Action::PrevField);
    app.apply(Action::PrevField);
    type_text(&mut app, "a1b2;rm");
    assert!(app.apply(Action::Submit).is_empty(), "nothing is sent");
    assert!(screen(&app).contains("after: \"a1b2;rm\" is not a job id"));
}

#[test]
fn a_follow_up_can_wait_for_other_jobs_too() {
    let mut app = loaded(100, 30);
    select(&mut app, "c3d4e5f6");
    update_session(&mut app);
    app.apply(Action::FollowUp);
    type_text(&mut app, "Now fix what the review found");
    app.apply(Action::PrevField);
    type_text(&mut app, "22:30");
    app.apply(Action::PrevField);
    type_text(&mut app, "a1b2");
    let effects = app.apply(Action::Submit);
    let sent = effects.iter().any(|effect| {
        matches!(effect, Effect::Reply { parent, after, starts, .. }
            if parent.as_str() == "c3d4e5f6" && after == &["a1b2"] && starts.as_deref() == Some("22:30"))
    });
    assert!(sent, "{effects:?}");
}

/// The done job with a session, so it can be followed up.
fn update_session(app: &mut App) {
    let mut record = app.jobs.iter().find(|record| record.id.as_str() == "c3d4e5f6").cloned().unwrap();
    if let Ok(meta) = &mut record.meta {
        meta.details.session_id = Some("3f9e2a7c-11aa-4b5c-9d0e-5566778899aa".into());
    }
    app.apply_data(DataEvent::Job(Box::new(record)));
}

#[test]
fn the_detail_view_shows_a_hook_that_failed_and_where_its_output_went() {
    let mut app = loaded(100, 40);
    select(&mut app, "d4e5f6a7");
    app.apply(Action::Detail);
    app.apply_result(TaskResult::Detail {
        id: id("d4e5f6a7"),
        prompt: None,
        last_message: None,
        hook_failures: vec!["on_finish: failed: exit status 3".into()],
        hooks_log: "/home/me/.codex-async/jobs/d4e5f6a7/hooks.log".into(),
    });
    app.apply(Action::Zoom);
    let shown = screen(&app);
    assert!(shown.contains("Hook failed on_finish: failed: exit status 3"), "{shown}");
    assert!(shown.contains("Hook output /home/me/.codex-async/jobs/d4e5f6a7/hooks.log"), "{shown}");
    insta::assert_snapshot!("detail_hook_failed", shown);
}

#[test]
fn why_mcp_is_off_is_in_the_detail_view_at_80_columns() {
    let mut app = loaded(80, 30);
    app.mcp = McpState::Off("address 127.0.0.1:8765 already in use (another dashboard or server?)".into());
    select(&mut app, "c3d4e5f6");
    app.apply(Action::Detail);
    app.apply(Action::Zoom);
    let shown = screen(&app);
    assert!(shown.contains("MCP off"), "the header: {shown}");
    assert!(shown.contains("address 127.0.0.1:8765 already in use"), "the reason, whole: {shown}");
    insta::assert_snapshot!("detail_mcp_off_80", shown);
}

#[test]
fn the_starts_field_takes_a_delay_or_a_time_and_refuses_anything_else() {
    assert_eq!(starts_at(" 20m ", now()).unwrap(), Timestamp(now() + chrono::Duration::minutes(20)));
    assert_eq!(starts_at("90", now()).unwrap(), Timestamp(now() + chrono::Duration::seconds(90)));
    assert_eq!(starts_at("2026-11-21T18:00:00Z", now()).unwrap(), Timestamp(now() + chrono::Duration::hours(6)));
    assert!(starts_at("14:30", now()).is_ok());
    assert!(starts_at("soon", now()).unwrap_err().contains("give a delay (20m, 2h) or a time"));

    let mut app = loaded(100, 30);
    app.apply(Action::NewJob);
    type_text(&mut app, "Nightly review");
    app.apply(Action::PrevField);
    type_text(&mut app, "25:99");
    assert!(app.apply(Action::Submit).is_empty(), "nothing is sent");
    assert!(screen(&app).contains("starts: \"25:99\": give a delay"), "{}", screen(&app));
    app.apply(Action::Edit(Edit::DeleteToStart));
    type_text(&mut app, "20m");
    let effects = app.apply(Action::Submit);
    assert!(effects.iter().any(|effect| matches!(effect, Effect::Start { starts, .. } if starts.as_deref() == Some("20m"))), "{effects:?}");
}
