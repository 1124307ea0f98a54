//! Pause and resume through the real binary: every process of the job stopped (state T),
//! never its supervisor; the stall and duration clocks stopped while paused; the real
//! result after a resume; a paused job keeps its slot and can be cancelled.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use crate::support::{TestHome, finished, start_with, wait_until};
use serde_json::Value;

const SETTLE: Duration = Duration::from_secs(30);

fn state(pid: i32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?.1.trim_start().chars().next()
}

fn run_json(home: &TestHome, args: &[&str]) -> Value {
    let output = home.run(args);
    assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn a_paused_job_is_stopped_whole_its_clocks_stop_and_it_ends_with_its_real_result() {
    let home = TestHome::new();
    // Two seconds of work; limits that a pause of three seconds would pass if they counted it.
    let id = start_with(&home, &["--stall-timeout", "1s", "--max-duration", "4s"], "setsid-grandchild tick:10 say:end");
    wait_until("the escaped grandchild and a tick", SETTLE, || {
        !home.reported_pids(&id, "escaped").is_empty() && home.output(&id).contains("tick 1")
    });
    let paused = run_json(&home, &["pause", &id, "--json"]);
    assert_eq!((paused["status"].as_str(), paused["changed"].as_bool()), (Some("paused"), Some(true)), "{paused}");
    let meta = home.meta(&id);
    assert_eq!(meta["status"], "paused");
    assert!(meta["paused_at"].is_string());
    let processes = home.job_processes(&id);
    assert!(processes.len() >= 3, "agent, tick's sleep and the escaped grandchild: {processes:?}");
    wait_until("every process of the job to be stopped", SETTLE, || {
        home.job_processes(&id).iter().all(|&pid| state(pid).is_none_or(|s| s == 'T'))
    });
    let supervisor = meta["supervisor_pid"].as_i64().unwrap() as i32;
    assert_ne!(state(supervisor), Some('T'), "the supervisor is never stopped");
    let printed = home.output(&id).len();
    // A measurement window longer than both limits: the job must neither print nor be ended.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(home.output(&id).len(), printed, "a paused job prints nothing");
    assert_eq!(home.status(&id), "paused", "neither the stall nor the duration clock ran");
    let again = run_json(&home, &["pause", &id, "--json"]);
    assert_eq!(again["changed"], false, "pausing a paused job changes nothing");

    let resumed = run_json(&home, &["resume", &id, "--json"]);
    assert_eq!(resumed["status"], "running");
    assert!(home.meta(&id).get("paused_at").is_none());
    let done = finished(&home, &id);
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["exit_code"], 0);
    assert!(home.output(&id).contains("end"));
}

#[test]
fn a_paused_job_keeps_its_slot_and_a_cancel_ends_it() {
    let home = TestHome::new();
    let first = start_with(&home, &["--max-running", "1"], "ignore-int tick:500");
    wait_until("a tick", SETTLE, || home.output(&first).contains("tick 0"));
    run_json(&home, &["pause", &first, "--json"]);
    let second = start_with(&home, &["--max-running", "1"], "say:second");
    assert_eq!(home.status(&second), "pending", "the paused job still holds the only slot");
    let cancelled = run_json(&home, &["cancel", &first, "--grace", "2s", "--json"]);
    assert_eq!(cancelled["status"], "cancelled", "{cancelled}");
    home.wait_for_supervisor_exit(&first);
    assert!(home.job_processes(&first).is_empty(), "nothing of the paused job is left");
    assert_eq!(finished(&home, &second)["status"], "done", "the slot went to the next job");
}

#[test]
fn only_a_running_job_can_be_paused() {
    let home = TestHome::new();
    let ended = home.start("say:hi");
    finished(&home, &ended);
    let output = home.run(&["pause", &ended]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("nothing to pause"));
    let waiting = start_with(&home, &["--delay", "1h"], "say:later");
    let output = home.run(&["pause", &waiting]);
    assert!(String::from_utf8_lossy(&output.stderr).contains("pending"), "{}", String::from_utf8_lossy(&output.stderr));
}
