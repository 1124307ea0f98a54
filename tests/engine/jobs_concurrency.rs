//! Many processes starting jobs at once in one jobs directory.
#![allow(clippy::unwrap_used)]

use std::collections::HashSet;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support;
use crate::support::{TestHome, wait_until};
use serde_json::Value;

#[test]
fn eight_processes_times_fifty_starts_give_400_distinct_valid_jobs() {
    let home = TestHome::new();
    let script = format!("for i in $(seq 50); do '{}' start --json --cwd /tmp -- \"job $i\" || echo FAILED; done", support::BIN);
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

/// Many processes settling one lost job at once: its supervisor was SIGKILLed and its
/// agent is gone, and eight `poll` processes find it together, round after round. Every
/// poll answers with whole JSON, `meta.json` is whole JSON whenever this test reads it
/// (as fast as it can, while they race), the job is settled once (every `error` answer
/// carries the same end time) and no writer's temporary file is left behind.
#[test]
fn eight_polls_settling_one_lost_job_at_once_never_tear_its_meta() {
    use codex_async::jobs::LOST_NOTE;
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    const ROUNDS: usize = 12;
    const POLLERS: usize = 8;
    const SETTLE: Duration = Duration::from_secs(30);
    let home = TestHome::new();
    for round in 0..ROUNDS {
        let id = home.start("say:ready sleep:300");
        wait_until("the agent to run", SETTLE, || !home.reported_pids(&id, "agent").is_empty());
        // The supervisor dies first, recording nothing; then everything it ran.
        let supervisor = home.meta(&id)["supervisor_pid"].as_i64().unwrap() as i32;
        kill(Pid::from_raw(supervisor), Signal::SIGKILL).unwrap();
        wait_until("the supervisor to die", SETTLE, || !support::is_alive(supervisor));
        wait_until("the job's processes to die", SETTLE, || {
            let left = home.job_processes(&id);
            for &pid in &left {
                let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            }
            left.is_empty()
        });
        assert_eq!(home.meta(&id)["status"], "running", "round {round}: nobody settled it yet");

        let meta_path = home.job_dir(&id).join("meta.json");
        let mut pollers: Vec<_> = (0..POLLERS)
            .map(|_| home.command().args(["poll", &id, "--json"]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap())
            .collect();
        let mut looks = 0;
        while pollers.iter_mut().any(|poller| poller.try_wait().unwrap().is_none()) {
            let bytes = std::fs::read(&meta_path).unwrap();
            serde_json::from_slice::<Value>(&bytes)
                .unwrap_or_else(|err| panic!("round {round}: meta.json read torn ({err}): {:?}", String::from_utf8_lossy(&bytes)));
            looks += 1;
        }
        assert!(looks > 0, "round {round}: the meta was read while the polls ran");

        let mut ended_at = HashSet::new();
        for poller in pollers {
            let output = poller.wait_with_output().unwrap();
            assert!(output.status.success(), "round {round}: {}", String::from_utf8_lossy(&output.stderr));
            let answer: Value = serde_json::from_slice(&output.stdout).expect("poll --json prints whole JSON");
            // A poll that found another settling it reports what the file said.
            match answer["status"].as_str() {
                Some("error") => {
                    ended_at.insert(answer["finished_at"].to_string());
                }
                Some("running") => {}
                other => panic!("round {round}: a poll answered {other:?}: {answer}"),
            }
        }
        let meta = home.meta(&id);
        assert_eq!(meta["status"], "error", "round {round}");
        assert_eq!(meta["note"], LOST_NOTE, "round {round}");
        assert!(meta["exit_code"].is_null(), "round {round}: the exit code is unknown");
        assert!(ended_at.len() <= 1, "round {round}: settled more than once: {ended_at:?}");
        let leftovers: Vec<String> = std::fs::read_dir(home.job_dir(&id))
            .unwrap()
            .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
            .filter(|name| name.ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "round {round}: temporary files left: {leftovers:?}");
    }
}
