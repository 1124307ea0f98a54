//! The command line as a script uses it: options before the prompt, only the id from
//! `start`, id prefixes, `logs -f`, `wait --progress`, list filters, a home that is a
//! file, read-only verbs that make nothing, and exit statuses that tell the truth.
#![allow(clippy::unwrap_used)]

use std::process::Stdio;
use std::time::Duration;

use crate::support;
use crate::support::{TestHome, job_count, wait_until};
use serde_json::Value;

const DEADLINE: Duration = Duration::from_secs(30);

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn start_prints_only_the_id_and_a_typo_is_an_error_not_prompt_text() {
    let home = TestHome::new();
    let cwd = home.path().to_str().unwrap();
    let output = home.run(&["start", "--cwd", cwd, "--", "say:hello"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let id = stdout(&output);
    assert!(id.ends_with('\n') && id.trim().len() == 8 && !id.trim().contains(char::is_whitespace), "{id:?}");
    home.wait_for_status(id.trim(), "done", DEADLINE);

    // The example: every option is read as an option, the prompt is what follows `--`.
    let output = home.run(&["start", "--json", "--stall-timeout", "2", "--cwd", cwd, "--", "lines=1"]);
    let started: Value = serde_json::from_slice(&output.stdout).unwrap();
    let meta = home.meta(started["job_id"].as_str().unwrap());
    assert_eq!((meta["prompt"].as_str(), meta["cwd"].as_str(), meta["stall_timeout"].as_f64()), (Some("lines=1"), Some(cwd), Some(2.0)));

    let before = job_count(&home);
    let output = home.run(&["start", "--cwd", cwd, "--approval-polcy", "full-auto", "fix", "it"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("unexpected argument '--approval-polcy'") && stderr(&output).contains("--approval-policy"),
        "{}",
        stderr(&output)
    );
    assert_eq!(job_count(&home), before, "no job ran with defaults");
}

/// A job folder made by hand with the given id (a finished job).
fn stored_job(home: &TestHome, id: &str) {
    let folder = home.path().join("jobs").join(id);
    std::fs::create_dir_all(&folder).unwrap();
    let meta = serde_json::json!({"job_id": id, "status": "done", "prompt": "p", "cwd": "/tmp", "approval_policy": "suggest",
        "pid": null, "started_at": "2026-11-22T10:00:00+00:00", "finished_at": "2026-11-22T10:01:00+00:00", "exit_code": 0});
    std::fs::write(folder.join("meta.json"), serde_json::to_vec_pretty(&meta).unwrap()).unwrap();
    std::fs::write(folder.join("output.txt"), format!("output of {id}\n")).unwrap();
}

#[test]
fn a_unique_id_prefix_works_wherever_an_id_does_and_an_ambiguous_one_lists_the_matches() {
    let home = TestHome::new();
    stored_job(&home, "abcd0001");
    stored_job(&home, "abcd0002");
    stored_job(&home, "ef010203");
    let polled: Value = serde_json::from_slice(&home.run(&["poll", "--json", "ef0"]).stdout).unwrap();
    assert_eq!(polled["job_id"], "ef010203");
    assert_eq!(stdout(&home.run(&["logs", "abcd0002"])), "output of abcd0002\n");
    let output = home.run(&["poll", "abcd"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("'abcd' is the start of 2 job ids: abcd0001, abcd0002"), "{}", stderr(&output));
    let output = home.run(&["wait", "zz"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("not found"));
    assert!(home.run(&["delete", "abcd0001"]).status.success());
    assert!(!home.path().join("jobs/abcd0001").exists());
    let polled: Value = serde_json::from_slice(&home.run(&["poll", "--json", "abcd"]).stdout).unwrap();
    assert_eq!(polled["job_id"], "abcd0002", "unique again once the other is gone");
}

#[test]
fn logs_prints_everything_and_follow_ends_with_the_jobs_exit_code() {
    let home = TestHome::new();
    let id = home.start("say:first tick:5 say:\u{1b}]0;title\u{7}last exit:3");
    // Follow from the start: every line, then the job's own exit status.
    let output = home.command().args(["logs", "-f", &id]).output().unwrap();
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let text = stdout(&output);
    for line in ["first\n", "tick 0\n", "tick 4\n", "last\n"] {
        assert!(text.contains(line), "{line:?} in {text:?}");
    }
    assert!(!text.contains('\u{1b}'), "escape sequences are dropped: {text:?}");
    assert_eq!(home.status(&id), "error");

    let raw = home.command().args(["logs", "--raw", &id]).output().unwrap();
    assert!(stdout(&raw).contains("\u{1b}]0;title\u{7}"), "--raw keeps every byte");
    let json = home.command().args(["logs", "--json", &id]).output().unwrap();
    let lines: Vec<Value> = stdout(&json).lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    let joined: String = lines.iter().filter_map(|line| line["output"].as_str()).collect();
    assert!(joined.contains("tick 4\n"));
    assert_eq!(lines.last().unwrap()["exit_code"], 3);
}

#[test]
fn logs_follow_shows_output_as_it_comes() {
    let home = TestHome::new();
    let barrier = home.path().join("go");
    let id = home.start(&format!("say:before await-file:{} say:after", barrier.display()));
    let mut follower = home.command().args(["logs", "-f", &id]).stdout(Stdio::piped()).spawn().unwrap();
    let lines = support::lines_of(follower.stdout.take().unwrap());
    let first = support::next_line(&lines, DEADLINE, "the first line");
    assert!(first.starts_with("pid:agent="), "{first}");
    assert_eq!(support::next_line(&lines, DEADLINE, "the line printed before the barrier"), "before");
    std::fs::write(&barrier, "").unwrap();
    assert_eq!(support::next_line(&lines, DEADLINE, "the line printed after it"), "after");
    let status = follower.wait().unwrap();
    assert!(status.success(), "a done job: exit 0");
}

#[test]
fn wait_progress_shows_the_newest_line_on_stderr() {
    let home = TestHome::new();
    let id = home.start("tick:6 say:finished");
    let output = home.command().args(["wait", "--progress", &id]).output().unwrap();
    assert!(output.status.success());
    let progress = stderr(&output);
    assert!(progress.lines().any(|line| line.starts_with("… tick ")), "{progress}");
    assert!(stdout(&output).contains("status    done"));
}

#[test]
fn list_filters_by_status_folder_and_agent() {
    let home = TestHome::new();
    let other = home.path().join("other");
    std::fs::create_dir(&other).unwrap();
    let done = home.start("say:ok");
    let failed = home.start("exit:4");
    let barrier = home.path().join("release");
    let running = home.start(&format!("await-file:{}", barrier.display()));
    let elsewhere =
        String::from_utf8(home.run(&["start", "--cwd", other.to_str().unwrap(), "--", "say:x"]).stdout).unwrap().trim().to_owned();
    for id in [&done, &failed, &elsewhere] {
        wait_until("jobs to end", DEADLINE, || !matches!(home.status(id).as_str(), "running" | "pending"));
    }
    let ids = |args: &[&str]| -> Vec<String> {
        let mut command = vec!["list", "--json"];
        command.extend_from_slice(args);
        let rows: Value = serde_json::from_slice(&home.run(&command).stdout).unwrap();
        rows.as_array().unwrap().iter().map(|row| row["job_id"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(ids(&["--status", "running"]), [running.as_str()]);
    assert_eq!(ids(&["--status", "failed"]), [failed.as_str()]);
    assert_eq!(ids(&["--status", "finished"]).len(), 3);
    assert_eq!(ids(&["--cwd", other.to_str().unwrap()]), [elsewhere.as_str()]);
    assert_eq!(ids(&["--agent", "codex", "--limit", "2"]).len(), 2);
    assert!(ids(&["--agent", "claude"]).is_empty());
    assert_eq!(home.run(&["list", "--status", "sleeping"]).status.code(), Some(2));
    std::fs::write(&barrier, "").unwrap();
    home.wait_for_status(&running, "done", DEADLINE);
}

#[test]
fn a_home_that_is_a_file_is_one_clear_line_and_reading_makes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("home-file");
    std::fs::write(&file, "not a folder").unwrap();
    let output = std::process::Command::new(support::BIN).env("CODEX_ASYNC_HOME", &file).args(["list"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(stderr(&output).lines().count(), 1, "{}", stderr(&output));
    assert!(stderr(&output).contains("is a file, not a folder"));

    let home = dir.path().join("never-made");
    for args in [vec!["list"], vec!["list", "--json"], vec!["poll", "deadbeef"], vec!["logs", "deadbeef"], vec!["config"]] {
        std::process::Command::new(support::BIN).env("CODEX_ASYNC_HOME", &home).args(&args).output().unwrap();
        assert!(!home.exists(), "{args:?} made the home");
    }
}

#[test]
fn cancel_fails_when_the_job_still_runs_afterwards() {
    let home = TestHome::new();
    let id = home.start("sleep:60");
    let supervisor = home.meta(&id)["supervisor_pid"].as_i64().unwrap() as i32;
    // A supervisor that cannot act (stopped): the cancel cannot take effect in time.
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(supervisor), nix::sys::signal::Signal::SIGSTOP).unwrap();
    let output = home.run(&["cancel", "--grace", "0.2", &id]);
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(supervisor), nix::sys::signal::Signal::SIGCONT).unwrap();
    assert_eq!(output.status.code(), Some(1), "{}{}", stdout(&output), stderr(&output));
    assert!(stdout(&output).contains("running"), "{}", stdout(&output));
    // Resumed, the supervisor carries out the request it got.
    home.wait_for_status(&id, "cancelled", DEADLINE);
    let output = home.run(&["cancel", &id]);
    assert!(output.status.success(), "a job that has ended: nothing to do, success");
}
