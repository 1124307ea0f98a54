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
