//! The form's `after` field end to end: the real dashboard in tmux refuses an id that
//! names no job (nothing starts), takes the start of an id, and the job it starts waits
//! for that job, then runs.
#![allow(clippy::unwrap_used)]

use crate::support::tmux::{DEADLINE, Tmux, dashboard_command};
use crate::support::{TestHome, job_count, wait_until};

#[test]
fn a_job_started_from_the_form_after_another_waits_for_it_then_runs() {
    let home = TestHome::new();
    let barrier = home.path().join("barrier");
    let first = home.start(&format!("await-file:{} say:first-done", barrier.display()));
    let tmux = Tmux::start(&dashboard_command(&home, 0, "--no-mcp"), 120, 32);
    tmux.wait_for_row(&first, "listed", |_| true);

    tmux.keys(&["n"]);
    tmux.wait_for("New job", DEADLINE);
    tmux.type_text("say:after-the-first");
    // Back from the prompt: the starts field (the form's last), then after.
    tmux.keys(&["BTab", "BTab"]);
    tmux.type_text("ffffffff");
    tmux.wait_for("ffffffff", DEADLINE);
    tmux.keys(&["Enter"]);
    tmux.wait_for("after: job 'ffffffff' not found", DEADLINE);
    assert_eq!(job_count(&home), 1, "nothing was started");

    tmux.keys(&["C-u"]);
    tmux.type_text(&first[..5]);
    tmux.wait_until("the start of the id typed", DEADLINE, |screen| !screen.contains("ffffffff") && screen.contains(&first[..5]));
    tmux.keys(&["Enter"]);
    let id = tmux.started_job();
    let waiting = home.meta(&id);
    assert_eq!(waiting["status"], "pending", "{waiting}");
    assert_eq!(waiting["after"], serde_json::json!([first]), "made whole");
    assert!(waiting["waiting"].as_str().unwrap().contains(&format!("after {first}")), "{waiting}");
    assert!(!home.output(&id).contains("after-the-first"), "its agent waits");

    std::fs::write(&barrier, "").unwrap();
    home.wait_for_status(&id, "done", DEADLINE);
    assert!(home.output(&id).contains("after-the-first"));
    let (first_meta, done) = (home.meta(&first), home.meta(&id));
    let time = |meta: &serde_json::Value, key: &str| chrono::DateTime::parse_from_rfc3339(meta[key].as_str().unwrap()).unwrap();
    assert!(time(&done, "started_at") >= time(&first_meta, "finished_at"), "ran after the first ended");
    wait_until("the row to say done", DEADLINE, || tmux.row_of(&id).is_some_and(|row| row.contains("done")));
    tmux.keys(&["q"]);
    wait_until("q to quit", DEADLINE, || tmux.exited_cleanly());
}

#[test]
fn the_detail_view_shows_a_failed_hook_and_where_its_output_went() {
    let home = TestHome::new();
    std::fs::write(home.path().join("config.toml"), "[hooks]\non_finish = [\"false\"]\n").unwrap();
    let id = home.start("say:hooked");
    home.wait_for_status(&id, "done", DEADLINE);
    let result = home.job_dir(&id).join("hook_on_finish.json");
    wait_until("the hook's result", DEADLINE, || result.exists());
    let tmux = Tmux::start(&dashboard_command(&home, 0, "--no-mcp"), 120, 32);
    tmux.wait_for_row(&id, "listed", |_| true);
    tmux.keys(&["i"]);
    let log = home.job_dir(&id).join("hooks.log").display().to_string();
    tmux.wait_until("the failed hook in the detail view", DEADLINE, |screen| {
        screen.contains("Hook failed on_finish: failed: exit status 1") && screen.contains(&format!("Hook output {log}"))
    });
    tmux.keys(&["q"]);
    wait_until("q to quit", DEADLINE, || tmux.exited_cleanly());
}
