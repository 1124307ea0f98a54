//! Jobs that wait for their moment (`--after`, `--delay`, `--at`) through the real binary,
//! with nothing else running: each one's own supervisor waits, then runs the agent.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use crate::support::{TestHome, finished, start_with, wait_until};
use codex_async::jobs::Timestamp;
use serde_json::Value;

const SETTLE: Duration = Duration::from_secs(30);

fn time_of(meta: &Value, key: &str) -> chrono::DateTime<chrono::Utc> {
    Timestamp::parse(meta[key].as_str().unwrap_or_else(|| panic!("{key} in {meta}"))).unwrap().0
}

/// `<job id> <unix time>` lines the fake agent's `record:` step wrote, in order.
fn recorded(home: &TestHome) -> Vec<(String, f64)> {
    std::fs::read_to_string(home.path().join("record"))
        .unwrap_or_default()
        .lines()
        .filter_map(|line| {
            let (id, at) = line.split_once(' ')?;
            Some((id.to_owned(), at.trim().parse().ok()?))
        })
        .collect()
}

fn wake_ups(pid: i64) -> u64 {
    let mut total = 0;
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap().flatten() {
        let status = std::fs::read_to_string(task.path().join("status")).unwrap_or_default();
        for line in status.lines() {
            if let Some(count) = line.strip_prefix("voluntary_ctxt_switches:").or_else(|| line.strip_prefix("nonvoluntary_ctxt_switches:"))
            {
                total += count.trim().parse::<u64>().unwrap();
            }
        }
    }
    total
}

#[test]
fn a_job_after_others_starts_once_they_all_ended_done() {
    let home = TestHome::new();
    let record = home.path().join("record");
    let first = home.start(&format!("record:{} sleep:1 say:first", record.display()));
    let second = home.start(&format!("record:{} sleep:2 say:second", record.display()));
    let after = start_with(&home, &["--after", &format!("{first},{}", &second[..6])], &format!("record:{} say:after", record.display()));
    let waiting = home.meta(&after);
    assert_eq!(waiting["status"], "pending");
    assert_eq!(waiting["after"], serde_json::json!([first, second]), "ids are recorded whole");
    assert!(waiting["waiting"].as_str().unwrap().starts_with("after "), "{waiting}");
    let polled = String::from_utf8(home.run(&["poll", &after]).stdout).unwrap();
    assert!(polled.contains("waiting   after "), "{polled}");
    let waiting_supervisor = waiting["supervisor_pid"].as_i64().unwrap();

    let done = finished(&home, &after);
    assert_eq!(done["status"], "done");
    assert_eq!(done["supervisor_pid"].as_i64().unwrap(), waiting_supervisor, "the supervisor that waited ran the agent");
    let order: Vec<String> = recorded(&home).into_iter().map(|(id, _)| id).collect();
    assert_eq!(order.last().unwrap(), &after, "the agents' real start order: {order:?}");
    let (first_meta, second_meta) = (home.meta(&first), home.meta(&second));
    let last_end = time_of(&first_meta, "finished_at").max(time_of(&second_meta, "finished_at"));
    assert!(time_of(&done, "started_at") >= last_end, "started only after both ended");
    assert!(done.get("waiting").is_none(), "nothing left to wait for: {done}");
}

#[test]
fn a_failed_dependency_cancels_the_job_without_running_it() {
    let home = TestHome::new();
    let failing = home.start("sleep:1 exit:3");
    let dependent = start_with(&home, &["--after", &failing], "say:never");
    let ended = finished(&home, &dependent);
    assert_eq!(ended["status"], "cancelled");
    assert_eq!(ended["cancel_reason"], "dependency failed");
    let note = ended["note"].as_str().unwrap();
    assert!(note.contains(&failing) && note.contains("error"), "{note}");
    assert!(ended["started_at"].is_null() && ended["pid"].is_null());
    assert!(!home.output(&dependent).contains("pid:agent"), "its agent never started");
}

#[test]
fn unknown_dependencies_are_refused_and_nothing_is_made() {
    let home = TestHome::new();
    let output = home.run(&["start", "--after", "deadbeef", "--", "say:x"]);
    assert_eq!(output.status.code(), Some(2), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(crate::support::job_count(&home), 0);
}

#[test]
fn a_delayed_job_starts_at_its_time() {
    let home = TestHome::new();
    let delayed = start_with(&home, &["--delay", "2s"], "say:later");
    let pending = home.meta(&delayed);
    assert!(pending["waiting"].as_str().unwrap().starts_with("starts at "), "{pending}");
    let at = (chrono::Utc::now() + chrono::Duration::seconds(2)).to_rfc3339();
    let timed = start_with(&home, &["--at", &at], "say:at");
    for id in [&delayed, &timed] {
        let done = finished(&home, id);
        assert_eq!(done["status"], "done");
        let waited = time_of(&done, "started_at") - time_of(&done, "created_at");
        assert!(waited >= chrono::Duration::milliseconds(1900), "{id} waited {waited}");
        assert!(time_of(&done, "started_at") >= time_of(&done, "starts_at"));
    }
}

#[test]
fn a_waiting_job_is_cancelled_like_any_and_its_supervisor_leaves() {
    let home = TestHome::new();
    let long = home.start("sleep:30");
    let dependent = start_with(&home, &["--after", &long, "--delay", "1h"], "say:never");
    let output = home.run(&["cancel", &dependent, "--json"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let ended = home.meta(&dependent);
    assert_eq!(ended["status"], "cancelled");
    assert_eq!(ended["cancel_reason"], "requested");
    assert!(ended["note"].as_str().unwrap().contains("before it started"), "{ended}");
    home.wait_for_supervisor_exit(&dependent);
    assert_eq!(home.status(&long), "running", "the job it followed is untouched");
}

#[test]
fn a_waiting_job_whose_supervisor_was_killed_is_settled_by_a_reader() {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    let home = TestHome::new();
    let waiting = start_with(&home, &["--delay", "1h"], "say:never");
    let supervisor = home.meta(&waiting)["supervisor_pid"].as_i64().unwrap();
    kill(Pid::from_raw(supervisor as i32), Signal::SIGKILL).unwrap();
    home.wait_for_supervisor_exit(&waiting);
    assert!(home.run(&["poll", &waiting]).status.success());
    let settled = home.meta(&waiting);
    assert_eq!(settled["status"], "error");
    assert!(settled["note"].as_str().unwrap().contains("never started"), "{settled}");
}

#[test]
fn waiting_supervisors_do_not_wake_while_nothing_happens() {
    let home = TestHome::new();
    // One waits on a timer; the other on the feed (for the first) and a timer.
    let timed = start_with(&home, &["--delay", "1h"], "say:never");
    let dependent = start_with(&home, &["--after", &timed, "--delay", "1h"], "say:never");
    wait_until("the reason to name both", SETTLE, || home.meta(&dependent)["waiting"].as_str().is_some_and(|r| r.contains("; starts at")));
    let supervisors: Vec<i64> = [&timed, &dependent].map(|id| home.meta(id)["supervisor_pid"].as_i64().unwrap()).to_vec();
    // Settled: its start-up done (on a busy machine it may still be finishing), no count
    // moving over half a second.
    let counts = || supervisors.iter().map(|&pid| wake_ups(pid)).collect::<Vec<u64>>();
    wait_until("the waiting supervisors to settle", SETTLE, || {
        let first = counts();
        std::thread::sleep(Duration::from_millis(500));
        counts() == first
    });
    let before: Vec<u64> = supervisors.iter().map(|&pid| wake_ups(pid)).collect();
    // A measurement window, not a wait for a condition.
    std::thread::sleep(Duration::from_secs(3));
    for (pid, before) in supervisors.iter().zip(before) {
        let woke = wake_ups(*pid) - before;
        assert!(woke <= 1, "a waiting supervisor woke {woke} times in 3 s");
    }
}
