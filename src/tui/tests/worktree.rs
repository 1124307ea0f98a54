//! `a`, `x` and `D` for jobs with a frozen change and a worktree: what each confirmation
//! says, what it asks the shell to do, what it refuses, and what the view says first.

use super::*;

/// A finished worktree job: its change, worktree and branch recorded.
fn worktree_job(raw: &str, status: &str, applied: bool) -> JobRecord {
    let mut record = job(raw, status, "Make the parser faster", 300, Some(120), Some(0));
    if let Ok(meta) = &mut record.meta {
        meta.details.worktree = Some(format!("/home/me/.codex-async/worktrees/{raw}"));
        meta.details.branch = Some(format!("codex-async/{raw}"));
        meta.details.base_commit = Some("4b825dc642cb6eb9a060e54bf8d69288fbee4904".into());
        meta.details.change = Some(crate::jobs::ChangeStat { files: 3, insertions: 10, deletions: 2, ..Default::default() });
        if applied {
            meta.details.applied_at = meta.finished_at;
        }
    }
    record
}

fn with(records: Vec<JobRecord>) -> App {
    let mut app = app(120, 30);
    app.apply_data(DataEvent::Jobs(records));
    app
}

#[test]
fn a_asks_with_the_stat_and_applies_on_yes() {
    let mut app = with(vec![worktree_job("a1a1a1a1", "done", false)]);
    assert!(app.apply(Action::AskApply).is_empty());
    let Mode::Confirm(confirm) = &app.mode else { panic!("a confirmation opens") };
    assert_eq!(confirm.kind, ConfirmKind::Apply);
    assert_eq!(confirm.prompt, "3 files, +10 −2 into /home/me/src/project");
    let drawn = screen(&app);
    assert!(drawn.contains("Apply job a1a1a1a1's change to its folder?"), "{drawn}");
    assert!(drawn.contains("3 files, +10 −2 into /home/me/src/project"), "{drawn}");
    assert_eq!(app.apply(Action::Answer(true)), [Effect::Apply(id("a1a1a1a1"))]);
    app.apply(Action::AskApply);
    assert!(app.apply(Action::Answer(false)).is_empty(), "no is no");
    assert_eq!(app.mode, Mode::Normal);
}

#[test]
fn a_refuses_running_jobs_and_jobs_without_a_change() {
    let mut app = with(vec![worktree_job("b1b1b1b1", "running", false)]);
    app.apply(Action::AskApply);
    assert_eq!(app.mode, Mode::Normal);
    assert!(app.flash.as_deref().unwrap().contains("still runs"));
    let mut app = with(vec![job("c1c1c1c1", "done", "p", 100, Some(10), Some(0))]);
    app.apply(Action::AskApply);
    assert_eq!(app.mode, Mode::Normal);
    assert!(app.flash.as_deref().unwrap().contains("no frozen change"));
}

#[test]
fn x_asks_naming_the_worktree_and_discards_on_yes() {
    let mut app = with(vec![worktree_job("d1d1d1d1", "done", true)]);
    app.apply(Action::AskDiscard);
    let Mode::Confirm(confirm) = &app.mode else { panic!("a confirmation opens") };
    assert_eq!(confirm.kind, ConfirmKind::Discard);
    assert!(confirm.prompt.contains("/home/me/.codex-async/worktrees/d1d1d1d1 and branch codex-async/d1d1d1d1 (applied"));
    assert!(screen(&app).contains("Remove job d1d1d1d1's worktree and branch?"));
    assert_eq!(app.apply(Action::Answer(true)), [Effect::Discard(id("d1d1d1d1"))]);
    // A job that ran in place has no worktree to discard.
    let mut app = with(vec![job("e1e1e1e1", "done", "p", 100, Some(10), Some(0))]);
    app.apply(Action::AskDiscard);
    assert_eq!(app.mode, Mode::Normal);
    assert!(app.flash.as_deref().unwrap().contains("did not run in a worktree"));
}

#[test]
fn the_keys_are_a_and_x() {
    let app = with(vec![worktree_job("f1f1f1f1", "done", false)]);
    assert_eq!(crate::tui::update::keys::action_for(&app, &key('a')), Some(Action::AskApply));
    assert_eq!(crate::tui::update::keys::action_for(&app, &key('x')), Some(Action::AskDiscard));
}

#[test]
fn d_says_the_change_was_frozen_and_where() {
    let mut app = with(vec![worktree_job("a2a2a2a2", "done", false)]);
    app.apply(Action::Diff);
    app.apply_result(TaskResult::Diff { id: id("a2a2a2a2"), text: " a.txt | 2 +-\n".to_owned() });
    let drawn = screen(&app);
    assert!(drawn.contains("Frozen when a2a2a2a2 ended: branch codex-async/a2a2a2a2"), "{drawn}");
    assert!(drawn.contains("a.txt | 2 +-"), "{drawn}");
}

#[test]
fn the_form_toggles_a_worktree_and_starts_with_it() {
    let mut app = with(vec![]);
    app.worktree_by_default = true;
    app.apply(Action::NewJob);
    let Mode::NewJob(form) = &mut app.mode else { panic!("the form opens") };
    assert!(form.worktree, "the config's isolation is the form's default");
    assert!(screen(&app).contains("in its own git worktree"));
    let Mode::NewJob(form) = &mut app.mode else { panic!() };
    form.prompt.set_text("fix it");
    while form.field != super::super::model::form::Field::Isolation {
        form.step_for_test();
    }
    form.choose(true);
    assert!(!form.worktree, "←/→ toggles it");
    form.choose(true);
    let effects = app.apply(Action::Submit);
    assert!(matches!(&effects[0], Effect::Start { worktree: true, .. }), "{effects:?}");
}

#[test]
fn the_detail_view_names_the_worktree_branch_and_change() {
    let mut app = with(vec![worktree_job("b2b2b2b2", "done", true)]);
    app.apply(Action::Detail);
    let drawn = screen(&app);
    assert!(drawn.contains("Worktree    /home/me/.codex-async/worktrees/b2b2b2b2"), "{drawn}");
    assert!(drawn.contains("Branch      codex-async/b2b2b2b2 (from 4b825dc642cb)"), "{drawn}");
    assert!(drawn.contains("Change      3 files, +10 −2 · D shows it · applied"), "{drawn}");
}
