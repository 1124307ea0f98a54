//! Many processes starting jobs at once in one jobs directory.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashSet;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{TestHome, wait_until};
use serde_json::Value;

#[test]
fn eight_processes_times_fifty_starts_give_400_distinct_valid_jobs() {
    let home = TestHome::new();
    let script = format!("for i in $(seq 50); do '{}' start --json --cwd /tmp -- \"job $i\" || echo FAILED; done", common::BIN);
    let starters: Vec<_> = (0..8)
        .map(|_| {
            Command::new("sh")
                .arg("-c")
                .arg(&script)
                .env("CODEX_ASYNC_HOME", home.path())
                // `true` accepts any arguments and exits 0 at once: a cheap agent.
                .env("CODEX_BIN", "true")
                .stdout(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut ids = HashSet::new();
    for starter in starters {
        let output = starter.wait_with_output().unwrap();
        let text = String::from_utf8(output.stdout).unwrap();
        assert!(!text.contains("FAILED"), "{text}");
        for line in text.lines() {
            let started: Value = serde_json::from_str(line).unwrap();
            assert!(ids.insert(started["job_id"].as_str().unwrap().to_owned()), "duplicate id {line}");
        }
    }
    assert_eq!(ids.len(), 400);
    let store = home.store();
    wait_until("all 400 jobs to finish", Duration::from_secs(60), || {
        store.list(None).unwrap().iter().all(|record| record.meta.as_ref().is_ok_and(|meta| meta.status.is_finished()))
    });
    let records = store.list(None).unwrap();
    assert_eq!(records.len(), 400);
    for record in records {
        let meta = record.meta.unwrap();
        assert!(ids.contains(&meta.job_id));
        assert_eq!((meta.status.as_str(), meta.exit_code), ("done", Some(0)));
    }
}
