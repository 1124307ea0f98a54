//! Labels, groups and priority through the real binary: a group's limit holds under four
//! concurrent starters while the default group goes on; pending jobs of a group start
//! highest priority first, ties in order of arrival; `list --label`, `list --group`.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use crate::support::{TestHome, finished, start_with, wait_until};
use serde_json::Value;

/// `<job id> <unix time>` lines the fake agent's `record:` step wrote, in order.
fn recorded(home: &TestHome) -> Vec<String> {
    std::fs::read_to_string(home.path().join("record"))
        .unwrap_or_default()
        .lines()
        .filter_map(|line| Some(line.split_once(' ')?.0.to_owned()))
        .collect()
}

fn times(meta: &Value) -> (String, String) {
    (meta["started_at"].as_str().unwrap().to_owned(), meta["finished_at"].as_str().unwrap().to_owned())
}

#[test]
fn a_groups_limit_holds_under_concurrent_starters_and_other_groups_go_on() {
    let home = TestHome::new();
    std::fs::write(home.path().join("config.toml"), "max_running = 4\n[groups.serial]\nmax_running = 1\n").unwrap();
    let starters: Vec<_> = (0..4)
        .map(|n| {
            let cwd = home.path().to_str().unwrap().to_owned();
            let mut command = home.command();
            command.args(["start", "--json", "--group", "serial", "--label", "batch", "--cwd", &cwd, "--", &format!("sleep:0.5 say:s{n}")]);
            std::thread::spawn(move || command.output().unwrap())
        })
        .collect();
    let ids: Vec<String> = starters
        .into_iter()
        .map(|starter| {
            let output = starter.join().unwrap();
            assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
            serde_json::from_slice::<Value>(&output.stdout).unwrap()["job_id"].as_str().unwrap().to_owned()
        })
        .collect();
    // The default group is not held by the serial one.
    let free = start_with(&home, &[], "say:default-group");
    assert_eq!(finished(&home, &free)["status"], "done");
    let mut spans: Vec<(String, String)> = ids.iter().map(|id| times(&finished(&home, id))).collect();
    spans.sort();
    for pair in spans.windows(2) {
        assert!(pair[0].1 <= pair[1].0, "two jobs of a group limited to 1 ran at once: {pair:?}");
    }
    let listed: Vec<Value> =
        serde_json::from_slice(&home.run(&["list", "--json", "--group", "serial", "--label", "batch"]).stdout).unwrap();
    assert_eq!(listed.len(), 4);
    assert!(listed.iter().all(|row| row["group"] == "serial" && row["labels"] == serde_json::json!(["batch"])));
    let default: Vec<Value> = serde_json::from_slice(&home.run(&["list", "--json", "--group", "default"]).stdout).unwrap();
    assert_eq!(default.len(), 1);
    let unknown = home.run(&["start", "--group", "nope", "--", "say:x"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("known: serial"));
}

#[test]
fn pending_jobs_start_highest_priority_first_ties_in_order_of_arrival() {
    let home = TestHome::new();
    std::fs::write(home.path().join("config.toml"), "[groups.one]\nmax_running = 1\n").unwrap();
    let record = home.path().join("record");
    let gate = home.path().join("gate");
    let blocker = start_with(&home, &["--group", "one"], &format!("await-file:{}", gate.display()));
    let queued: Vec<String> = [("low", "1"), ("high-a", "5"), ("high-b", "5"), ("lowest", "-1"), ("zero", "0")]
        .iter()
        .map(|(name, priority)| {
            start_with(&home, &["--group", "one", "--priority", priority], &format!("record:{} say:{name}", record.display()))
        })
        .collect();
    for id in &queued {
        assert_eq!(home.status(id), "pending");
    }
    let polled: Value = serde_json::from_slice(&home.run(&["poll", &queued[1], "--json"]).stdout).unwrap();
    assert_eq!(polled["priority"], 5);
    std::fs::write(&gate, "").unwrap();
    finished(&home, &blocker);
    wait_until("every queued job to run", Duration::from_secs(40), || recorded(&home).len() == queued.len());
    let expected = [&queued[1], &queued[2], &queued[0], &queued[4], &queued[3]];
    assert_eq!(recorded(&home), expected.map(String::clone), "high-a, high-b, low, zero, lowest");
}
