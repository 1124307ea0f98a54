//! A job's life through the real binary: start, exact results, poll, list, wait.
#![allow(clippy::unwrap_used)]

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support;
use crate::support::{TestHome, wait_until};
use serde_json::Value;

const SETTLE: Duration = Duration::from_secs(20);

fn poll_json(home: &TestHome, id: &str, extra: &[&str]) -> Value {
    let mut args = vec!["poll", id, "--json"];
    args.extend_from_slice(extra);
    let output = home.run(&args);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn exit_codes_are_recorded_exactly() {
    let home = TestHome::new();
    let cases = [
        ("exit:0", "done", 0, None),
        ("exit:3", "error", 3, None),
        ("exit:255", "error", 255, None),
        ("suicide:KILL", "error", 137, Some("SIGKILL")),
    ];
    let ids: Vec<String> = cases.iter().map(|(prompt, ..)| home.start(&format!("say:hi {prompt}"))).collect();
    for (id, (prompt, status, code, signal)) in ids.iter().zip(cases) {
        home.wait_for_status(id, status, SETTLE);
        let meta = home.meta(id);
        assert_eq!(meta["exit_code"], code, "{prompt}");
        assert_eq!(meta["signal"].as_str(), signal, "{prompt}");
        assert!(meta["finished_at"].as_str().unwrap().ends_with("+00:00"));
    }
}

#[test]
fn start_prints_the_originals_result_and_meta_has_its_keys() {
    let home = TestHome::new();
    let output = home.run(&["start", "--json", "--cwd", home.path().to_str().unwrap(), "--", "sleep:0.2"]);
    assert!(output.status.success());
    let started: Value = serde_json::from_slice(&output.stdout).unwrap();
    let keys: Vec<&str> = started.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["job_id", "status", "pid"]);
    assert_eq!(started["status"], "running");
    let id = started["job_id"].as_str().unwrap();
    assert!(id.len() == 8 && id.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));

    home.wait_for_status(id, "done", SETTLE);
    let meta = home.meta(id);
    for key in ["job_id", "status", "prompt", "cwd", "approval_policy", "pid", "started_at", "finished_at", "exit_code"] {
        assert!(meta.get(key).is_some(), "meta.json lacks {key}");
    }
    assert_eq!(meta["approval_policy"], "suggest");
    assert_eq!(meta["pid"], started["pid"]);
    let command: Vec<&str> = meta["command"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
    assert_eq!(&command[1..6], ["exec", "-s", "read-only", "--json", "-o"]);
    assert_eq!(&command[command.len() - 2..], ["--", "sleep:0.2"]);
    let text = std::fs::read_to_string(home.job_dir(id).join("meta.json")).unwrap();
    assert!(text.starts_with("{\n  \"job_id\""), "indent=2 like the original: {text}");
}

#[test]
fn agent_gets_its_prompt_as_one_argument_and_dev_null_as_stdin() {
    let home = TestHome::new();
    let prompt = "dump-prompt read-stdin -- --help $(touch pwned) `id` 'single' \"double\" ; | & * \n second line\ttab";
    let id = home.start(prompt);
    home.wait_for_status(&id, "done", SETTLE);
    let poll = poll_json(&home, &id, &[]);
    assert_eq!(poll["last_message"], prompt, "the -o file holds exactly the prompt argument");
    assert!(poll["output"].as_str().unwrap().contains("stdin-eof"));
    assert!(!home.path().join("pwned").exists(), "no shell ever saw the prompt");
}

#[test]
fn poll_returns_tail_last_message_and_new_fields() {
    let home = TestHome::new();
    let id = home.start("say:first flood:500 last:the-answer");
    home.wait_for_status(&id, "done", SETTLE);
    let poll = poll_json(&home, &id, &["--tail", "3"]);
    assert_eq!(poll["output"], "line 497\nline 498\nline 499");
    assert_eq!(poll["last_message"], "the-answer");
    assert_eq!(poll["exit_code"], 0);
    for key in ["job_id", "status", "exit_code", "output", "started_at", "finished_at", "prompt", "cwd", "supervisor_pid", "pgid", "agent"]
    {
        assert!(poll.get(key).is_some(), "poll lacks {key}");
    }
    let all = poll_json(&home, &id, &["--tail", "1000"]);
    let output = all["output"].as_str().unwrap();
    assert!(output.contains("pid:agent=") && output.contains("first\n"), "{output}");
    assert!(output.find("pid:agent=") < output.find("first\n"));
}

#[test]
fn big_output_is_truncated_like_the_original() {
    let home = TestHome::new();
    let id = home.start("flood:20000");
    home.wait_for_status(&id, "done", SETTLE);
    let output = poll_json(&home, &id, &["--tail", "5000"])["output"].as_str().unwrap().to_owned();
    assert!(output.starts_with("...(truncated)...\n"));
    assert_eq!(output.chars().count(), "...(truncated)...\n".len() + 8000);
    assert!(output.ends_with("line 19999"));
}

#[test]
fn list_shows_newest_first_and_survives_corrupt_jobs() {
    let home = TestHome::new();
    let first = home.start(&format!("say:one {}", "x".repeat(100)));
    home.wait_for_status(&first, "done", SETTLE);
    let second = home.start("say:two");
    home.wait_for_status(&second, "done", SETTLE);
    let corrupt = home.path().join("jobs/badjob01");
    std::fs::create_dir(&corrupt).unwrap();
    std::fs::write(corrupt.join("meta.json"), "{\"job_id\": \"badj").unwrap();

    let output = home.run(&["list", "--json"]);
    assert!(output.status.success());
    let rows: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["job_id"], "badjob01");
    assert_eq!(rows[0]["status"], "corrupt");
    assert_eq!(rows[1]["job_id"], second.as_str());
    assert_eq!(rows[2]["job_id"], first.as_str());
    assert_eq!(rows[2]["prompt"].as_str().unwrap().chars().count(), 83, "80 characters and ...");
    for key in ["job_id", "status", "prompt", "cwd", "started_at", "finished_at"] {
        assert!(rows[1].get(key).is_some());
    }
    let limited: Vec<Value> = serde_json::from_slice(&home.run(&["list", "--json", "--limit", "1"]).stdout).unwrap();
    assert_eq!(limited.len(), 1);

    let table = String::from_utf8(home.run(&["list"]).stdout).unwrap();
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("ID") && lines[0].contains("STATUS"));
    let status_column = lines[0].find("STATUS").unwrap();
    assert_eq!(&lines[2][status_column..status_column + 4], "done", "aligned columns:\n{table}");
}

#[test]
fn jobs_written_by_the_original_load_list_and_poll() {
    let home = TestHome::new();
    let dir = home.path().join("jobs/0a1b2c3d");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("meta.json"),
        r#"{
  "job_id": "0a1b2c3d",
  "status": "done",
  "prompt": "Write tests",
  "cwd": "/tmp",
  "approval_policy": "auto-edit",
  "pid": 999999,
  "started_at": "2026-04-29T10:00:00.000001+00:00",
  "finished_at": "2026-04-29T10:01:00+00:00",
  "exit_code": 0
}"#,
    )
    .unwrap();
    std::fs::write(dir.join("output.txt"), "all good\n").unwrap();
    let poll = poll_json(&home, "0a1b2c3d", &[]);
    assert_eq!(poll["status"], "done");
    assert_eq!(poll["output"], "all good");
    assert_eq!(poll["last_message"], Value::Null);
    let rows: Vec<Value> = serde_json::from_slice(&home.run(&["list", "--json"]).stdout).unwrap();
    assert_eq!(rows[0]["job_id"], "0a1b2c3d");
}

#[test]
fn wait_exits_zero_only_for_done_and_124_on_timeout() {
    let home = TestHome::new();
    let ok = home.start("sleep:0.3 exit:0");
    let failing = home.start("sleep:0.3 exit:4");
    let slow = home.start("sleep:30");
    let status = |id: &str, extra: &[&str]| {
        let mut args = vec!["wait", id];
        args.extend_from_slice(extra);
        home.run(&args).status.code().unwrap()
    };
    assert_eq!(status(&ok, &[]), 0);
    assert_eq!(status(&failing, &[]), 1);
    let timed_out = home.run(&["wait", &slow, "--timeout", "0.3", "--json"]);
    assert_eq!(timed_out.status.code(), Some(124));
    let view: Value = serde_json::from_slice(&timed_out.stdout).unwrap();
    assert_eq!((view["timed_out"].as_bool(), view["status"].as_str()), (Some(true), Some("running")));
    home.run(&["cancel", &slow, "--grace", "1"]);
}

#[test]
fn killing_the_starter_and_its_whole_group_changes_nothing() {
    let home = TestHome::new();
    let marker = home.path().join("started.json");
    // A long-lived starter (like a server) in its own process group: it starts a job
    // and stays; then the whole group is killed with SIGKILL.
    let mut starter = Command::new("sh");
    starter
        .arg("-c")
        .arg(format!("'{}' start --json --cwd /tmp -- 'sleep:1 say:survived exit:7' > '{}'; sleep 100", support::BIN, marker.display()))
        .env("CODEX_ASYNC_HOME", home.path())
        .env("CODEX_BIN", support::fake_agent())
        .stdout(Stdio::null())
        .process_group(0);
    // Should the test fail first, the guard ends the whole group all the same.
    let mut starter = support::ProcessGuard::group(starter.spawn().unwrap());
    wait_until("the job to start", SETTLE, || std::fs::read_to_string(&marker).is_ok_and(|text| text.contains("job_id")));
    let started: Value = serde_json::from_str(&std::fs::read_to_string(&marker).unwrap()).unwrap();
    let id = started["job_id"].as_str().unwrap().to_owned();
    nix::sys::signal::killpg(nix::unistd::Pid::from_raw(starter.pid()), nix::sys::signal::Signal::SIGKILL).unwrap();
    starter.child().wait().unwrap();

    home.wait_for_status(&id, "error", SETTLE);
    assert_eq!(home.meta(&id)["exit_code"], 7);
    assert!(home.output(&id).contains("survived"));
}

#[test]
fn logs_go_to_the_logs_folder_not_stdout() {
    let home = TestHome::new();
    let output = home.run(&["start", "--json", "--cwd", "/tmp", "--", "exit:0"]);
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "only the result: {stdout}");
    serde_json::from_str::<Value>(&stdout).unwrap();
    let id = serde_json::from_str::<Value>(&stdout).unwrap()["job_id"].as_str().unwrap().to_owned();
    home.wait_for_status(&id, "done", SETTLE);
    wait_until("a log file", SETTLE, || {
        std::fs::read_dir(home.path().join("logs"))
            .map(|entries| {
                entries.flatten().any(|entry| std::fs::read_to_string(entry.path()).is_ok_and(|text| text.contains("job ended")))
            })
            .unwrap_or(false)
    });
}

/// `wait` returns as the result is recorded, while the supervisor still ends what the
/// agent left (here a child that ignores SIGTERM, ended at the grace period): a `delete`
/// right after it waits for the supervisor to let go instead of failing.
#[test]
fn delete_right_after_wait_removes_the_job() {
    let home = TestHome::new();
    let id = home.start("stubborn-child say:done exit:0");
    let waited = home.run(&["wait", &id, "--timeout", "30"]);
    assert!(waited.status.success(), "{}", String::from_utf8_lossy(&waited.stdout));
    let held = codex_async::jobs::process::owner::OwnerLock::probe(&home.job_dir(&id)).unwrap();
    let was_held = matches!(held, codex_async::jobs::process::owner::Probe::Held);
    drop(held);
    let stubborn = home.reported_pids(&id, "stubborn");
    assert!(!stubborn.is_empty(), "the agent reported no child");
    let deleted = home.run(&["delete", &id]);
    assert!(deleted.status.success(), "delete failed: {}", String::from_utf8_lossy(&deleted.stderr));
    assert!(!home.job_dir(&id).exists(), "the job's folder is still there");
    assert!(was_held, "the supervisor had let go before the delete: the test proved nothing");
    for pid in stubborn {
        wait_until("the stubborn child to be gone", Duration::from_secs(10), || !support::is_alive(pid));
    }
}
