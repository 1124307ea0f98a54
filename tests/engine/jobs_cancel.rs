//! Cancel ends the whole process tree: the group, stubborn children, escaped grandchildren.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use crate::support::{TestHome, is_alive, wait_until};
use serde_json::Value;

const SETTLE: Duration = Duration::from_secs(20);

fn cancel_json(home: &TestHome, id: &str, grace: &str) -> Value {
    let output = home.run(&["cancel", id, "--grace", grace, "--json"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn cancel_leaves_no_process_of_the_job() {
    let home = TestHome::new();
    let id = home.start("ignore-int stubborn-child setsid-grandchild say:ready sleep:300");
    wait_until("the agent's children to report", SETTLE, || {
        !home.reported_pids(&id, "stubborn").is_empty() && !home.reported_pids(&id, "escaped").is_empty()
    });
    let mut pids = home.reported_pids(&id, "agent");
    pids.extend(home.reported_pids(&id, "stubborn"));
    pids.extend(home.reported_pids(&id, "escaped"));
    let escaped = home.reported_pids(&id, "escaped")[0];
    assert_ne!(
        nix::unistd::getsid(Some(nix::unistd::Pid::from_raw(escaped))).unwrap().as_raw(),
        home.meta(&id)["pgid"].as_i64().unwrap() as i32
    );

    // The answer carries no "not recorded yet" message: the cancel returned because the
    // end was recorded, not because its settle time ran out; and by then every process
    // of the job, the stubborn and the escaped one included, is gone.
    let result = cancel_json(&home, &id, "1");
    assert_eq!(result, serde_json::json!({"job_id": id, "status": "cancelled", "killed": true}));
    for pid in pids {
        assert!(!is_alive(pid), "process {pid} of the job survived the cancel");
    }
    assert!(home.job_processes(&id).is_empty(), "no process carries the job id");
    let meta = home.meta(&id);
    assert_eq!(meta["status"], "cancelled");
    assert!(meta["exit_code"].is_i64() && meta["finished_at"].is_string());
}

#[test]
fn a_cooperative_agent_stops_on_sigint_with_its_own_exit_code() {
    let home = TestHome::new();
    let id = home.start("say:ready sleep:300");
    wait_until("the agent to run", SETTLE, || home.output(&id).contains("ready"));
    let result = cancel_json(&home, &id, "5");
    assert_eq!(result["status"], "cancelled");
    let meta = home.meta(&id);
    assert_eq!(meta["signal"], "SIGINT", "bash dies of the SIGINT it was sent first");
    assert_eq!(meta["exit_code"], 130);
}

#[test]
fn cancelling_a_finished_job_is_not_an_error() {
    let home = TestHome::new();
    let id = home.start("exit:0");
    home.wait_for_status(&id, "done", SETTLE);
    assert_eq!(cancel_json(&home, &id, "1"), serde_json::json!({"job_id": id, "status": "done", "message": "Job is not running"}));
    assert_eq!(home.status(&id), "done");
}

#[test]
fn cancelling_unknown_or_invalid_ids_fails_clearly() {
    let home = TestHome::new();
    let unknown = home.run(&["cancel", "deadbeef"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("job 'deadbeef' not found"));
    let invalid = home.run(&["cancel", "../etc"]);
    assert_eq!(invalid.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&invalid.stderr).contains("invalid job id"));
}

#[test]
fn when_the_agent_exits_its_leftover_descendants_are_ended() {
    let home = TestHome::new();
    let id = home.start("stubborn-child setsid-grandchild sleep:0.5 say:bye exit:0");
    // The result is recorded first, the cleanup follows (within the grace period).
    home.wait_for_status(&id, "done", SETTLE);
    let leftovers: Vec<i32> = home.reported_pids(&id, "stubborn").into_iter().chain(home.reported_pids(&id, "escaped")).collect();
    assert_eq!(leftovers.len(), 2);
    for pid in leftovers {
        wait_until(&format!("{pid} to be ended"), SETTLE, || !is_alive(pid));
    }
    assert_eq!(home.meta(&id)["exit_code"], 0);
    assert_eq!(home.status(&id), "done", "the cleanup did not change the result");
}

#[test]
fn a_job_whose_supervisor_was_killed_reads_running_until_cancelled() {
    let home = TestHome::new();
    let id = home.start("setsid-grandchild say:ready sleep:300");
    wait_until("the grandchild", SETTLE, || !home.reported_pids(&id, "escaped").is_empty());
    let supervisor = home.meta(&id)["supervisor_pid"].as_i64().unwrap() as i32;
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(supervisor), nix::sys::signal::Signal::SIGKILL).unwrap();
    wait_until("the supervisor to die", SETTLE, || !is_alive(supervisor));

    // Its agent and the agent's child run on: the job is not over.
    let poll: Value = serde_json::from_slice(&home.run(&["poll", &id, "--json"]).stdout).unwrap();
    assert_eq!(poll["status"], "running");
    assert_eq!(poll["note"], codex_async::jobs::LOST_RUNNING_NOTE);
    assert!(!home.job_processes(&id).is_empty());
    // A wait keeps waiting.
    let waited = home.run(&["wait", &id, "--timeout", "0.5", "--json"]);
    assert_eq!(waited.status.code(), Some(124), "{}", String::from_utf8_lossy(&waited.stderr));
    // Cancel finds the processes by the id they carry, ends them, records the cancel.
    let result: Value = serde_json::from_slice(&home.run(&["cancel", &id, "--grace", "1", "--json"]).stdout).unwrap();
    assert_eq!(result, serde_json::json!({"job_id": id, "status": "cancelled", "killed": true}));
    assert!(home.job_processes(&id).is_empty(), "cancel ended the processes the lost supervisor left");
    assert_eq!(home.status(&id), "cancelled");
}
