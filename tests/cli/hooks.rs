//! Hooks through the real binary: each fires exactly once per event, after the event is
//! recorded, with only trusted facts in its argv and the poll view on stdin; also when the
//! supervisor is SIGKILLed and a reader settles the job; a hook past its timeout is killed
//! and its failure shows in poll.
#![allow(clippy::unwrap_used)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use crate::support::{TestHome, wait_until};
use serde_json::Value;

const SETTLE: Duration = Duration::from_secs(30);

/// A hook that appends one line per call (event, then its arguments) to `calls`, and keeps
/// the view it got on stdin as `view-<event>.json`.
fn recording_hook(home: &TestHome) -> std::path::PathBuf {
    let script = home.path().join("hook.sh");
    let body = format!(
        "#!/bin/bash\nview=$(cat)\nprintf '%s\\n' \"$view\" > '{dir}/view-'\"$CODEX_ASYNC_HOOK_EVENT\".json\necho \"$CODEX_ASYNC_HOOK_EVENT $*\" >> '{dir}/calls'\necho hook-said-hello\n",
        dir = home.path().display()
    );
    std::fs::write(&script, body).unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    script
}

fn write_config(home: &TestHome, text: &str) {
    std::fs::write(home.path().join("config.toml"), text).unwrap();
}

fn calls(home: &TestHome) -> Vec<String> {
    std::fs::read_to_string(home.path().join("calls")).unwrap_or_default().lines().map(str::to_owned).collect()
}

fn view(home: &TestHome, event: &str) -> Value {
    serde_json::from_slice(&std::fs::read(home.path().join(format!("view-{event}.json"))).unwrap()).unwrap()
}

fn hook_result(home: &TestHome, id: &str, event: &str) -> Option<Value> {
    std::fs::read(home.job_dir(id).join(format!("hook_{event}.json"))).ok().and_then(|bytes| serde_json::from_slice(&bytes).ok())
}

fn hooks_config(script: &Path) -> String {
    let script = script.display();
    format!(
        "[hooks]\non_start = [\"{script}\", \"start\", \"{{job_id}}\", \"{{agent}}\"]\non_finish = [\"{script}\", \"finish\", \"{{job_id}}\", \"{{status}}\", \"code={{exit_code}}\"]\n"
    )
}

#[test]
fn hooks_fire_once_per_event_with_the_poll_view_on_stdin() {
    let home = TestHome::new();
    let script = recording_hook(&home);
    write_config(&home, &hooks_config(&script));
    let id = home.start("say:hi exit:3");
    home.wait_for_status(&id, "error", SETTLE);
    wait_until("both hooks to report", SETTLE, || {
        hook_result(&home, &id, "on_start").is_some() && hook_result(&home, &id, "on_finish").is_some()
    });
    home.wait_for_supervisor_exit(&id);
    // Readers of every kind look again: none fires anything.
    for args in [vec!["poll", &id], vec!["list"], vec!["wait", &id]] {
        // `wait` exits 1 for a job that failed: what matters is that it looked.
        assert!(home.run(&args).status.code().is_some_and(|code| code <= 1));
    }
    let mut seen = calls(&home);
    seen.sort();
    assert_eq!(seen, [format!("on_finish finish {id} error code=3"), format!("on_start start {id} codex")]);
    let finished = view(&home, "on_finish");
    assert_eq!(finished["job_id"], id.as_str());
    assert_eq!(finished["status"], "error", "the hook sees the recorded result");
    assert_eq!(finished["exit_code"], 3);
    assert!(finished["output"].as_str().unwrap().contains("hi"));
    assert_eq!(view(&home, "on_start")["status"], "running");
    let log = std::fs::read_to_string(home.job_dir(&id).join("hooks.log")).unwrap();
    assert_eq!(log.matches("hook-said-hello").count(), 2, "{log}");
    assert_eq!(hook_result(&home, &id, "on_finish").unwrap()["ok"], true);
    let polled: Value = serde_json::from_slice(&home.run(&["poll", &id, "--json"]).stdout).unwrap();
    assert!(polled.get("hook_failures").is_none(), "{polled}");
}

#[test]
fn a_job_settled_by_a_reader_fires_its_finish_hook_once() {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    let home = TestHome::new();
    let script = recording_hook(&home);
    write_config(&home, &hooks_config(&script));
    let id = home.start("sleep:60");
    wait_until("the start hook", SETTLE, || hook_result(&home, &id, "on_start").is_some());
    let supervisor = home.meta(&id)["supervisor_pid"].as_i64().unwrap() as i32;
    kill(Pid::from_raw(supervisor), Signal::SIGKILL).unwrap();
    home.wait_for_supervisor_exit(&id);
    home.end_job_processes();
    wait_until("the agent to be gone", SETTLE, || home.job_processes(&id).is_empty());
    // Several readers at once: one settles the job, and fires the hook.
    let readers: Vec<_> = (0..4).map(|_| home.command().args(["poll", &id]).spawn().unwrap()).collect();
    for mut reader in readers {
        reader.wait().unwrap();
    }
    assert_eq!(home.status(&id), "error");
    wait_until("the finish hook", SETTLE, || hook_result(&home, &id, "on_finish").is_some());
    for _ in 0..3 {
        assert!(home.run(&["list"]).status.success());
    }
    let finishes: Vec<String> = calls(&home).into_iter().filter(|line| line.starts_with("on_finish")).collect();
    assert_eq!(finishes, [format!("on_finish finish {id} error code=")]);
    assert!(view(&home, "on_finish")["note"].as_str().unwrap().contains("supervisor lost"));
}

#[test]
fn a_hook_past_its_timeout_is_killed_and_its_failure_shows() {
    let home = TestHome::new();
    let marker = home.path().join("slow-hook-pid");
    let script = home.path().join("slow.sh");
    std::fs::write(&script, format!("#!/bin/bash\necho $$ > '{}'\nexec sleep 60\n", marker.display())).unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    write_config(&home, &format!("hook_timeout = \"1s\"\n[hooks]\non_finish = [\"{}\"]\n", script.display()));
    let id = home.start("say:hi");
    home.wait_for_status(&id, "done", SETTLE);
    wait_until("the hook's result", SETTLE, || hook_result(&home, &id, "on_finish").is_some());
    let result = hook_result(&home, &id, "on_finish").unwrap();
    assert_eq!(result["ok"], false);
    assert!(result["detail"].as_str().unwrap().contains("timed out"), "{result}");
    let pid: i32 = std::fs::read_to_string(&marker).unwrap().trim().parse().unwrap();
    assert!(!crate::support::is_alive(pid), "the hook was killed");
    assert_eq!(home.status(&id), "done", "a hook never changes the result");
    let polled: Value = serde_json::from_slice(&home.run(&["poll", &id, "--json"]).stdout).unwrap();
    assert!(polled["hook_failures"][0].as_str().unwrap().starts_with("on_finish: timed out"), "{polled}");
}

#[test]
fn a_hook_with_an_unknown_placeholder_is_a_config_mistake() {
    let home = TestHome::new();
    write_config(&home, "[hooks]\non_finish = [\"notify-send\", \"{prompt}\"]\n");
    let output = home.run(&["config"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unknown placeholder {prompt}"), "{stderr}");
}

#[test]
fn a_hook_that_fails_is_recorded_with_its_exit_status_and_its_output_kept() {
    let home = TestHome::new();
    let script = home.path().join("failing.sh");
    std::fs::write(&script, "#!/bin/bash\necho the-hook-said-why >&2\nexit 7\n").unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    write_config(&home, &format!("[hooks]\non_finish = [\"{}\"]\n", script.display()));
    let id = home.start("say:hi");
    home.wait_for_status(&id, "done", SETTLE);
    wait_until("the hook's result", SETTLE, || hook_result(&home, &id, "on_finish").is_some());
    let result = hook_result(&home, &id, "on_finish").unwrap();
    assert_eq!((result["ok"].as_bool(), result["detail"].as_str()), (Some(false), Some("failed: exit status 7")), "{result}");
    let log = std::fs::read_to_string(home.job_dir(&id).join("hooks.log")).unwrap();
    assert!(log.contains("the-hook-said-why") && log.contains("on_finish hook failed: exit status 7"), "{log}");
    let polled: Value = serde_json::from_slice(&home.run(&["poll", &id, "--json"]).stdout).unwrap();
    assert_eq!(polled["hook_failures"], serde_json::json!(["on_finish: failed: exit status 7"]));
    assert_eq!(polled["status"], "done", "a failed hook changes nothing of the job");
}
