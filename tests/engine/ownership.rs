//! One owner per job, through the real binary: signals reach only the job's own
//! processes, nothing inherited is held by a job, a copied folder is nobody's job, the
//! result is recorded before the cleanup, and a supervisor starts clean.
#![allow(clippy::unwrap_used)]

use std::process::Command;
use std::time::Duration;

use crate::support;
use crate::support::{ProcessGuard, TestHome, is_alive, json, stranger, wait_until};
use serde_json::Value;

const SETTLE: Duration = Duration::from_secs(20);

/// The stranger's pid and process group (it leads its group: setsid).
fn leader_pid(guard: &ProcessGuard) -> i64 {
    let pid = guard.pid();
    let stat = codex_async::jobs::process::procfs::stat(pid).unwrap();
    // setsid only forks when its caller leads a process group, which ours does not.
    assert_eq!(stat.session, pid, "the stranger leads its own session");
    i64::from(pid)
}

fn rewrite_meta(home: &TestHome, id: &str, edit: impl FnOnce(&mut Value)) {
    let mut meta = home.meta(id);
    edit(&mut meta);
    std::fs::write(home.job_dir(id).join("meta.json"), serde_json::to_vec_pretty(&meta).unwrap()).unwrap();
}

#[test]
fn cancelling_a_finished_job_never_signals_the_group_it_recorded() {
    let home = TestHome::new();
    let log = home.path().join("stranger.log");
    let stranger = stranger(&log);
    let id = home.start("exit:0");
    home.wait_for_status(&id, "done", SETTLE);
    // After pid reuse, the recorded agent pid and group belong to someone else.
    let pid = leader_pid(&stranger);
    rewrite_meta(&home, &id, |meta| {
        meta["pid"] = pid.into();
        meta["pgid"] = pid.into();
    });
    let result = json(&home.run(&["cancel", &id, "--grace", "0.5", "--json"]));
    assert_eq!(result, serde_json::json!({"job_id": id, "status": "done", "message": "Job is not running"}));
    let logged = std::fs::read_to_string(&log).unwrap();
    assert_eq!(logged.trim(), "ready", "the stranger was signalled: {logged}");
    assert!(is_alive(pid as i32));
}

#[test]
fn cancelling_a_lost_job_signals_only_its_marked_processes() {
    let home = TestHome::new();
    let log = home.path().join("stranger.log");
    let stranger = stranger(&log);
    let id = home.start("say:ready sleep:300");
    wait_until("the agent to run", SETTLE, || home.output(&id).contains("ready"));
    let supervisor = home.meta(&id)["supervisor_pid"].as_i64().unwrap() as i32;
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(supervisor), nix::sys::signal::Signal::SIGKILL).unwrap();
    wait_until("the supervisor to die", SETTLE, || !is_alive(supervisor));
    // The recorded group is now a stranger's; the agent still carries the job's marker.
    let pid = leader_pid(&stranger);
    rewrite_meta(&home, &id, |meta| meta["pgid"] = pid.into());
    let result = json(&home.run(&["cancel", &id, "--grace", "1", "--json"]));
    assert_eq!(result["status"], "cancelled");
    assert!(home.job_processes(&id).is_empty(), "the job's own processes were ended");
    assert_eq!(std::fs::read_to_string(&log).unwrap().trim(), "ready", "the stranger got no signal");
    assert!(is_alive(pid as i32));
}

#[test]
fn a_lock_held_by_the_caller_is_not_held_by_the_job() {
    let home = TestHome::new();
    let lock = home.path().join("deploy.lock");
    let bin = support::BIN;
    // The caller takes a lock on descriptor 9 (not close-on-exec), starts a job, exits.
    let script = format!(
        "exec 9>{lock}; flock 9; {bin} start --json --cwd {cwd} -- 'say:ready sleep:300'",
        lock = lock.display(),
        cwd = home.path().display()
    );
    let started = Command::new("bash")
        .args(["-c", &script])
        .env("CODEX_ASYNC_HOME", home.path())
        .env("CODEX_BIN", support::fake_agent())
        .output()
        .unwrap();
    let id = json(&started)["job_id"].as_str().unwrap().to_owned();
    wait_until("the agent to run", SETTLE, || home.output(&id).contains("ready"));
    // The caller is gone: the lock is free although the job runs.
    let free = Command::new("flock").args(["-n"]).arg(&lock).arg("true").status().unwrap();
    assert!(free.success(), "the job holds the caller's lock");
    assert_eq!(home.status(&id), "running");
    // No process of the job holds a descriptor on it.
    let supervisor = home.meta(&id)["supervisor_pid"].as_i64().unwrap() as i32;
    for pid in home.job_processes(&id).into_iter().chain([supervisor]) {
        for fd in std::fs::read_dir(format!("/proc/{pid}/fd")).unwrap() {
            let target = std::fs::read_link(fd.unwrap().path()).unwrap_or_default();
            assert_ne!(target, lock, "process {pid} inherited the caller's lock");
        }
    }
}

#[test]
fn a_copied_job_folder_is_nobodys_job() {
    let home = TestHome::new();
    let id = home.start("exit:0");
    home.wait_for_status(&id, "done", SETTLE);
    let before = std::fs::read(home.job_dir(&id).join("meta.json")).unwrap();
    let copy = home.job_dir("deadbeef");
    let copied = Command::new("cp").arg("-r").arg(home.job_dir(&id)).arg(&copy).status().unwrap();
    assert!(copied.success());
    // Also as a live job would look: `running` with its lock free.
    rewrite_meta(&home, "deadbeef", |meta| meta["status"] = "running".into());

    let poll = home.run(&["poll", "deadbeef", "--json"]);
    assert!(!poll.status.success());
    let err = String::from_utf8_lossy(&poll.stderr);
    assert!(err.contains("belongs to job") && err.contains(&id), "{err}");
    let list = json(&home.run(&["list", "--json"]));
    let row = list.as_array().unwrap().iter().find(|row| row["job_id"] == "deadbeef").unwrap();
    assert_eq!(row["status"], "corrupt");
    assert_eq!(std::fs::read(home.job_dir(&id).join("meta.json")).unwrap(), before, "the first job's meta was rewritten");
    let copy_meta: Value = serde_json::from_slice(&std::fs::read(copy.join("meta.json")).unwrap()).unwrap();
    assert_eq!(copy_meta["status"], "running", "nothing was written through the copy");
}

#[test]
fn the_result_is_recorded_before_leftovers_are_ended_and_survivors_are_named() {
    let home = TestHome::new();
    // A leftover the supervisor may not signal (it dropped the job's marker): it stands
    // for one SIGKILL cannot end. The job still ends at once, and the note names it.
    let id = home.start("unmarked-child say:bye exit:0");
    wait_until("the leftover to report", SETTLE, || !home.reported_pids(&id, "unmarked").is_empty());
    let leftover = home.reported_pids(&id, "unmarked")[0];
    let _leftover = ProcessGuard::from_pid(leftover);
    home.wait_for_status(&id, "done", SETTLE);
    assert_eq!(home.meta(&id)["exit_code"], 0);
    // The supervisor gives up after the grace period (5 s) and says who survived.
    wait_until("the survivor to be named", SETTLE, || {
        home.meta(&id)["note"].as_str().is_some_and(|note| note.contains("outlived the cleanup") && note.contains(&leftover.to_string()))
    });
    let supervisor = home.meta(&id)["supervisor_pid"].as_i64().unwrap() as i32;
    wait_until("the supervisor to exit", SETTLE, || !is_alive(supervisor));
    assert!(is_alive(leftover), "an unmarked process is never signalled");
    assert_eq!(home.status(&id), "done");
}

#[test]
fn a_cancel_during_the_cleanup_after_success_changes_nothing() {
    let home = TestHome::new();
    // The child ignores SIGTERM: the cleanup lasts until SIGKILL at half the grace period.
    let id = home.start("stubborn-child say:bye exit:0");
    wait_until("the agent and its child to report", SETTLE, || {
        !home.reported_pids(&id, "agent").is_empty() && !home.reported_pids(&id, "stubborn").is_empty()
    });
    let (agent, child) = (home.reported_pids(&id, "agent")[0], home.reported_pids(&id, "stubborn")[0]);
    // The agent has exited and its child is still being ended: the cleanup is under way.
    wait_until("the agent to exit", SETTLE, || !is_alive(agent));
    assert!(is_alive(child), "the cleanup is still going on");
    let result = json(&home.run(&["cancel", &id, "--grace", "1", "--json"]));
    assert_eq!(result["status"], "done", "{result}");
    wait_until("the cleanup to end", SETTLE, || !is_alive(child));
    assert_eq!(home.status(&id), "done");
    assert_eq!(home.meta(&id)["exit_code"], 0);
}

#[test]
fn an_agent_that_succeeds_as_the_cancel_arrives_keeps_its_result() {
    let home = TestHome::new();
    let id = home.start("exit-on-int say:ready sleep:300");
    wait_until("the agent to run", SETTLE, || home.output(&id).contains("ready"));
    let result = json(&home.run(&["cancel", &id, "--grace", "2", "--json"]));
    let meta = home.meta(&id);
    assert_eq!(meta["exit_code"], 0);
    assert_eq!(meta["status"], "done", "never `cancelled` with exit code 0");
    assert_eq!(result["status"], "done");
}

#[test]
fn an_agent_that_reports_a_failure_as_the_cancel_arrives_is_cancelled() {
    let home = TestHome::new();
    let id = home.start("fail-on-int say:ready sleep:300");
    wait_until("the agent to run", SETTLE, || home.output(&id).contains("ready"));
    let result = json(&home.run(&["cancel", &id, "--grace", "2", "--json"]));
    let meta = home.meta(&id);
    assert_eq!(meta["exit_code"], 0, "{meta}");
    assert_eq!(meta["status"], "cancelled", "an interrupted run is the cancel's doing, not an error: {meta}");
    assert_eq!(result["status"], "cancelled");
}

#[test]
fn the_supervisor_has_its_own_session_and_no_terminal() {
    let home = TestHome::new();
    let id = home.start("say:ready sleep:300");
    wait_until("the agent to run", SETTLE, || home.output(&id).contains("ready"));
    let supervisor = home.meta(&id)["supervisor_pid"].as_i64().unwrap() as i32;
    let stat = std::fs::read_to_string(format!("/proc/{supervisor}/stat")).unwrap();
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split_whitespace().collect();
    let (ppid, pgid, session, tty): (i32, i32, i32, i32) =
        (fields[1].parse().unwrap(), fields[2].parse().unwrap(), fields[3].parse().unwrap(), fields[4].parse().unwrap());
    assert_eq!(session, supervisor, "it leads its own session");
    assert_eq!(pgid, supervisor);
    assert_eq!(tty, 0, "no controlling terminal");
    assert_ne!(ppid, std::process::id() as i32, "detached from its starter");
    let fds: Vec<String> = std::fs::read_dir(format!("/proc/{supervisor}/fd"))
        .unwrap()
        .map(|fd| std::fs::read_link(fd.unwrap().path()).unwrap_or_default().display().to_string())
        .collect();
    assert!(fds.iter().any(|fd| fd.ends_with("supervisor.lock")), "it holds its job's lock: {fds:?}");
    home.run(&["cancel", &id, "--grace", "1"]);
}

#[test]
fn starting_leaves_no_zombie_in_a_long_lived_starter() {
    let home = TestHome::new();
    let engine = home.engine();
    let me = std::process::id() as i32;
    let children_before = children_of(me);
    let request = codex_async::jobs::StartRequest::new(
        "say:hi exit:0",
        home.path(),
        codex_async::jobs::ApprovalPolicy::Suggest,
        codex_async::jobs::AgentSpec::Codex { program: support::fake_agent().display().to_string() },
    )
    .unwrap();
    let started = engine.start(&request).unwrap();
    home.wait_for_status(&started.job_id, "done", SETTLE);
    let zombies: Vec<i32> = children_of(me)
        .into_iter()
        .filter(|pid| !children_before.contains(pid))
        .filter(|pid| codex_async::jobs::process::procfs::stat(*pid).is_some_and(|stat| stat.is_zombie()))
        .collect();
    assert_eq!(zombies, Vec::<i32>::new(), "the starter left zombies");
}

fn children_of(pid: i32) -> Vec<i32> {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .flat_map(|task| {
            let task = task.unwrap().path();
            std::fs::read_to_string(task.join("children"))
                .unwrap_or_default()
                .split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect::<Vec<i32>>()
        })
        .collect()
}
