//! Bad input gets a clear error and changes nothing.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use crate::support;
use crate::support::{TestHome, job_count};
use serde_json::Value;

fn stderr_of(home: &TestHome, args: &[&str]) -> (Option<i32>, String) {
    let output = home.run(args);
    (output.status.code(), String::from_utf8_lossy(&output.stderr).into_owned())
}

#[test]
fn a_cwd_that_is_not_a_folder_is_refused_without_a_job() {
    let home = TestHome::new();
    let file = home.path().join("file.txt");
    std::fs::write(&file, "x").unwrap();
    let (code, stderr) = stderr_of(&home, &["start", "--cwd", "/no/such/folder", "--", "say:x"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("\"/no/such/folder\" does not exist"), "{stderr}");
    let (code, stderr) = stderr_of(&home, &["start", "--cwd", file.to_str().unwrap(), "--", "say:x"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("is not a folder"), "{stderr}");
    assert_eq!(job_count(&home), 0);
}

#[test]
fn an_unknown_policy_names_the_valid_ones() {
    let home = TestHome::new();
    let (code, stderr) = stderr_of(&home, &["start", "--approval-policy", "yolo", "--", "say:x"]);
    assert_eq!(code, Some(2));
    for valid in ["suggest", "auto-edit", "full-auto"] {
        assert!(stderr.contains(valid), "{stderr}");
    }
    assert_eq!(job_count(&home), 0);
}

#[test]
fn policies_reach_the_agent_as_todays_codex_flags() {
    let home = TestHome::new();
    for (policy, flags) in [("auto-edit", vec!["-s", "workspace-write"]), ("full-auto", vec!["--dangerously-bypass-approvals-and-sandbox"])]
    {
        let output = home.run(&["start", "--json", "--cwd", "/tmp", "--approval-policy", policy, "--", "argv"]);
        let id = serde_json::from_slice::<Value>(&output.stdout).unwrap()["job_id"].as_str().unwrap().to_owned();
        home.wait_for_status(&id, "done", Duration::from_secs(20));
        let printed = home.output(&id);
        let argv: Vec<&str> = printed.split("argv-begin\n").nth(1).unwrap().split("argv-end").next().unwrap().lines().collect();
        assert_eq!(&argv[1..1 + flags.len()], flags.as_slice(), "{policy}");
        assert_eq!(home.meta(&id)["approval_policy"], policy);
    }
}

#[test]
fn empty_and_oversized_prompts_are_refused() {
    let home = TestHome::new();
    let (code, stderr) = stderr_of(&home, &["start", "--", "   "]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("prompt is empty"), "{stderr}");
    let mut command = home.command();
    command.args(["start", "--cwd", "/tmp", "--", "-"]).stdin(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let mut child = command.spawn().unwrap();
    // It stops reading past the limit, so the rest of the write may find the pipe closed.
    let _ = std::io::Write::write_all(&mut child.stdin.take().unwrap(), &vec![b'x'; 11 * 1024 * 1024]);
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("over 10485760 bytes; 10485760 bytes is the longest prompt taken"), "{stderr}");
    assert_eq!(job_count(&home), 0);
}

#[test]
fn a_missing_agent_binary_makes_an_error_job_that_says_so() {
    let home = TestHome::new();
    let output =
        home.command().env("CODEX_BIN", "/no/such/codex").args(["start", "--json", "--cwd", "/tmp", "--", "hello"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let started: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(started["status"], "error");
    let id = started["job_id"].as_str().unwrap();
    let meta = home.meta(id);
    assert_eq!((meta["status"].as_str(), meta["exit_code"].as_i64()), (Some("error"), Some(127)));
    let text = home.output(id);
    assert!(text.contains("'/no/such/codex' not found") && text.contains("CODEX_BIN"), "{text}");
}

#[test]
fn hostile_job_ids_are_refused_before_touching_a_path() {
    let home = TestHome::new();
    let long = "a".repeat(10_000);
    for id in ["..", "../x", "/", "/etc/passwd", "a/b", "é", "", " ", long.as_str(), "-rf"] {
        for verb in ["poll", "cancel", "wait", "delete"] {
            let output = home.command().args([verb, "--", id]).output().unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(2), "{verb} {id:?}: {stderr}");
            if !id.is_empty() && id != "-rf" {
                assert!(stderr.contains("invalid job id"), "{verb} {id:?}: {stderr}");
            }
            assert!(stderr.len() < 600, "the error stays short");
        }
    }
    assert!(!home.path().join("jobs").exists(), "nothing was created");
}

#[test]
fn relative_and_tilde_cwds_are_resolved() {
    let home = TestHome::new();
    let inner = home.path().join("work");
    std::fs::create_dir(&inner).unwrap();
    let output = home.command().current_dir(home.path()).args(["start", "--json", "--cwd", "work", "--", "exit:0"]).output().unwrap();
    let id = serde_json::from_slice::<Value>(&output.stdout).unwrap()["job_id"].as_str().unwrap().to_owned();
    assert_eq!(home.meta(&id)["cwd"], std::fs::canonicalize(&inner).unwrap().to_str().unwrap());
    let output =
        home.command().env("HOME", home.path()).args(["start", "--json", "--cwd", "~/work", "--", "say:ready sleep:30"]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let id = serde_json::from_slice::<Value>(&output.stdout).unwrap()["job_id"].as_str().unwrap().to_owned();
    let resolved = std::fs::canonicalize(&inner).unwrap();
    assert_eq!(home.meta(&id)["cwd"], resolved.to_str().unwrap(), "~ is the caller's HOME");
    // The agent runs there, not only the record says so.
    support::wait_until("the agent to report", Duration::from_secs(20), || !home.reported_pids(&id, "agent").is_empty());
    let agent = home.reported_pids(&id, "agent")[0];
    assert_eq!(std::fs::read_link(format!("/proc/{agent}/cwd")).unwrap(), resolved);
    home.run(&["cancel", &id, "--grace", "1"]);
}

#[test]
fn deleting_needs_a_finished_job() {
    let home = TestHome::new();
    let id = home.start("sleep:30");
    let (code, stderr) = stderr_of(&home, &["delete", &id]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("is running") && stderr.contains("cancel it first"), "{stderr}");
    home.run(&["cancel", &id, "--grace", "1"]);
    assert!(home.run(&["delete", &id]).status.success());
    assert!(!home.job_dir(&id).exists());
}
