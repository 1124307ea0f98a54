//! A finish hook is owed, not lost: the supervisor is SIGKILLed right after it records a
//! job's result (before the hook's runner starts), or right after the runner started
//! (before it recorded the hook fired), and the hook still runs exactly once — fired by
//! the readers that settle the job, refused by the runner's claim when already fired.
//!
//! The supervisor stops at those points through `CODEX_ASYNC_FAULT`, which only a debug
//! build heeds.
#![cfg(debug_assertions)]
#![allow(clippy::unwrap_used)]

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use crate::support::{TestHome, wait_until};
use serde_json::Value;

const SETTLE: Duration = Duration::from_secs(30);

/// A finish hook that appends a line per call to `calls`.
fn configure_hook(home: &TestHome) {
    let script = home.path().join("hook.sh");
    let body = format!("#!/bin/bash\ncat > /dev/null\necho \"$CODEX_ASYNC_HOOK_EVENT $*\" >> '{}/calls'\n", home.path().display());
    std::fs::write(&script, body).unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let config = format!("[hooks]\non_finish = [\"{}\", \"{{job_id}}\", \"{{status}}\"]\n", script.display());
    std::fs::write(home.path().join("config.toml"), config).unwrap();
}

fn calls(home: &TestHome) -> Vec<String> {
    std::fs::read_to_string(home.path().join("calls")).unwrap_or_default().lines().map(str::to_owned).collect()
}

fn hooks_log(home: &TestHome, id: &str) -> String {
    std::fs::read_to_string(home.job_dir(id).join("hooks.log")).unwrap_or_default()
}

/// Starts a job whose supervisor kills itself at `fault`, and waits until it is dead:
/// its result is on disk, its hook owed.
fn start_and_kill_at(home: &TestHome, fault: &str) -> String {
    let output = home
        .command()
        .env("CODEX_ASYNC_FAULT", fault)
        .args(["start", "--json", "--cwd", home.path().to_str().unwrap(), "--", "say:hi exit:3"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let started: Value = serde_json::from_slice(&output.stdout).unwrap();
    let id = started["job_id"].as_str().unwrap().to_owned();
    // Read the file, not through a reader: a reader would settle the job.
    wait_until("the result on disk", SETTLE, || home.status(&id) == "error");
    home.wait_for_supervisor_exit(&id);
    id
}

/// Several readers at once settle the job; one of them pays what is owed.
fn settle_with_readers(home: &TestHome, id: &str) {
    let readers: Vec<_> = (0..4).map(|_| home.command().args(["poll", id]).spawn().unwrap()).collect();
    for mut reader in readers {
        reader.wait().unwrap();
    }
    assert!(home.meta(id).get("hooks_owed").is_none(), "the debt is recorded paid: {}", home.meta(id));
}

#[test]
fn a_supervisor_killed_before_its_finish_hook_leaves_it_to_a_reader_which_fires_it_once() {
    let home = TestHome::new();
    configure_hook(&home);
    let id = start_and_kill_at(&home, "before-finish-hook");
    let meta = home.meta(&id);
    assert_eq!(meta["hooks_owed"], serde_json::json!(["on_finish"]), "the result was written with the hook owed: {meta}");
    assert_eq!(meta["exit_code"], 3);
    assert!(!home.job_dir(&id).join("hook_on_finish.json").exists(), "the hook never started");
    assert!(calls(&home).is_empty());

    settle_with_readers(&home, &id);
    wait_until("the owed hook to run", SETTLE, || home.job_dir(&id).join("hook_on_finish.json").exists());
    for _ in 0..3 {
        assert!(home.run(&["list"]).status.success());
        home.run(&["poll", &id]);
    }
    assert_eq!(calls(&home), [format!("on_finish {id} error")], "exactly once, with the recorded result");
    assert_eq!(home.status(&id), "error", "the hook changed nothing");
    assert_eq!(home.meta(&id)["exit_code"], 3);
}

#[test]
fn a_supervisor_killed_after_starting_its_finish_hook_does_not_get_it_run_twice() {
    let home = TestHome::new();
    configure_hook(&home);
    let id = start_and_kill_at(&home, "after-finish-hook");
    assert_eq!(home.meta(&id)["hooks_owed"], serde_json::json!(["on_finish"]), "killed before it recorded the hook fired");
    wait_until("the supervisor's hook to run", SETTLE, || home.job_dir(&id).join("hook_on_finish.json").exists());

    settle_with_readers(&home, &id);
    // The reader's runner came, found the hook claimed, and ran nothing.
    wait_until("the second runner to decline", SETTLE, || hooks_log(&home, &id).contains("already fired; not run again"));
    assert_eq!(calls(&home), [format!("on_finish {id} error")], "exactly once: {}", hooks_log(&home, &id));
}

#[test]
fn a_reader_killed_after_recording_a_lost_jobs_end_leaves_its_hook_to_the_next_reader() {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    let home = TestHome::new();
    configure_hook(&home);
    let id = home.start("sleep:60");
    wait_until("the agent to run", SETTLE, || !home.job_processes(&id).is_empty());
    let supervisor = home.meta(&id)["supervisor_pid"].as_i64().unwrap() as i32;
    kill(Pid::from_raw(supervisor), Signal::SIGKILL).unwrap();
    home.wait_for_supervisor_exit(&id);
    home.end_job_processes();
    wait_until("the agent to be gone", SETTLE, || home.job_processes(&id).is_empty());

    // This reader records the job's end, then is killed before it fires the hook.
    let killed = home.command().env("CODEX_ASYNC_FAULT", "before-finish-hook").args(["poll", &id]).status().unwrap();
    assert_eq!(std::os::unix::process::ExitStatusExt::signal(&killed), Some(9), "the reader stopped at the fault point");
    let meta = home.meta(&id);
    assert_eq!((meta["status"].as_str(), meta["hooks_owed"].clone()), (Some("error"), serde_json::json!(["on_finish"])), "{meta}");
    assert!(calls(&home).is_empty());

    settle_with_readers(&home, &id);
    wait_until("the owed hook to run", SETTLE, || home.job_dir(&id).join("hook_on_finish.json").exists());
    for _ in 0..3 {
        home.run(&["poll", &id]);
    }
    assert_eq!(calls(&home), [format!("on_finish {id} error")], "exactly once");
}
