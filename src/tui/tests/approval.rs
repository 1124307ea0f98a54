//! The approval view (`A`): a job waiting for a person, the request shown (sanitized),
//! and each answer as the effect the runtime carries out.

use super::*;
use crate::jobs::{ApprovalRequest, PendingApproval};
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};

/// The loaded app with job a1b2c3d4 waiting on request #2 (a Bash command whose text
/// carries an escape sequence an agent could have put there).
fn asking(width: u16, height: u16) -> App {
    let mut app = loaded(width, height);
    let mut jobs = app.jobs.clone();
    let record = jobs.iter_mut().find(|record| record.id.as_str() == "a1b2c3d4").unwrap();
    let meta = record.meta.as_mut().unwrap();
    meta.approval_policy = "ask".into();
    let request = ApprovalRequest {
        number: 2,
        tool_name: "Bash".into(),
        input: serde_json::json!({"command": "rm -rf build\u{1b}[2J && make", "description": "clean and rebuild"}),
        tool_use_id: Some("toolu_2".into()),
        reason: None,
        asked_at: now() - chrono::Duration::seconds(30),
        deadline: now() + chrono::Duration::seconds(1770),
    };
    meta.details.activity = Some(format!("waiting for approval: {}", request.summary()));
    meta.details.approval = Some(PendingApproval { request, waiting: 1 });
    app.apply_data(DataEvent::Jobs(jobs));
    select(&mut app, "a1b2c3d4");
    app
}

fn press(app: &mut App, event: &Event) -> Vec<Effect> {
    match crate::tui::update::keys::action_for(app, event) {
        Some(action) => app.apply(action),
        None => Vec::new(),
    }
}

#[test]
fn snapshot_approval_view() {
    let mut app = asking(120, 30);
    assert!(press(&mut app, &key('A')).is_empty());
    assert!(matches!(app.mode, Mode::Approval(_)));
    let shown = screen(&app);
    assert!(!shown.contains('\u{1b}'), "the agent's escape sequence is not drawn");
    insta::assert_snapshot!("approval_view", shown);
}

#[test]
fn y_allows_upper_y_allows_for_the_job_and_n_denies_with_a_message() {
    let mut app = asking(120, 30);
    press(&mut app, &key('A'));
    let effects = press(&mut app, &key('y'));
    let allow = Effect::Approve { job: id("a1b2c3d4"), number: 2, allow: true, always: false, message: None };
    assert_eq!(effects, [allow]);
    assert_eq!(app.mode, Mode::Normal);

    press(&mut app, &key('A'));
    let effects = press(&mut app, &key('Y'));
    assert_eq!(effects, [Effect::Approve { job: id("a1b2c3d4"), number: 2, allow: true, always: true, message: None }]);

    press(&mut app, &key('A'));
    assert!(press(&mut app, &key('n')).is_empty(), "n asks for the message first");
    for ch in "use make clean".chars() {
        press(&mut app, &key(ch));
    }
    insta::assert_snapshot!("approval_view_denying", screen(&app));
    let enter = Event::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    let effects = press(&mut app, &enter);
    let deny = Effect::Approve { job: id("a1b2c3d4"), number: 2, allow: false, always: false, message: Some("use make clean".into()) };
    assert_eq!(effects, [deny]);

    // Esc leaves the message, then the view, answering nothing.
    press(&mut app, &key('A'));
    press(&mut app, &key('n'));
    let esc = Event::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE));
    assert!(press(&mut app, &esc).is_empty());
    assert!(matches!(&app.mode, Mode::Approval(prompt) if prompt.message.is_none()));
    assert!(press(&mut app, &esc).is_empty());
    assert_eq!(app.mode, Mode::Normal);

    // The outcome, or why it was refused, is said in the footer.
    app.apply_result(TaskResult::Approved { id: id("a1b2c3d4"), outcome: Err("already answered (deny, by cli)".into()) });
    assert!(app.flash.as_deref().unwrap().contains("already answered (deny, by cli)"));
}

#[test]
fn a_job_that_does_not_wait_has_nothing_to_answer() {
    let mut app = loaded(120, 30);
    select(&mut app, "c3d4e5f6");
    assert!(press(&mut app, &key('A')).is_empty());
    assert_eq!(app.mode, Mode::Normal);
    assert!(app.flash.as_deref().unwrap().contains("not waiting for approval"));
}
