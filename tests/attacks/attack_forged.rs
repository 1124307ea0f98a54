//! Forged job records, through the real binary and real processes: what a job folder
//! says never chooses a signal's target, never ends a job whose supervisor still holds
//! it, and never replaces what the supervisor knows about its job.
//!
//! Each test performs the attack: it rewrites `meta.json` (or makes a job folder of the
//! Python original's format) to name a victim — a process of this test that ignores
//! TERM, INT and USR1 and logs each one it gets — or to declare a running job ended.
#![allow(clippy::unwrap_used)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::{ProcessGuard, TestHome, is_alive, json, stranger, wait_until};
use codex_async::jobs::process::procfs;
use serde_json::Value;

const SETTLE: Duration = Duration::from_secs(20);

/// Asserts that the victim got no signal at all and still runs.
fn assert_untouched(victim: &ProcessGuard, log: &Path) {
    let logged = std::fs::read_to_string(log).unwrap();
    assert_eq!(logged.trim(), "ready", "the victim was signalled: {logged:?}");
    assert!(is_alive(victim.pid()), "the victim was killed");
}

/// Replaces a job's meta.json the way any process of the user can: whole, by a rename.
fn forge(home: &TestHome, id: &str, edit: impl FnOnce(&mut Value)) {
    let path = home.job_dir(id).join("meta.json");
    let mut meta: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    edit(&mut meta);
    write_meta(&home.job_dir(id), &meta);
}

fn write_meta(folder: &Path, meta: &Value) {
    let forged = folder.join(".forged.tmp");
    std::fs::write(&forged, serde_json::to_vec_pretty(meta).unwrap()).unwrap();
    std::fs::rename(&forged, folder.join("meta.json")).unwrap();
}

fn iso(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Micros, false)
}

/// A job folder as the Python original left it: meta.json and output.txt, no lock file,
/// no supervisor. Made now (its birth time is now).
fn original_job(home: &TestHome, id: &str) -> PathBuf {
    let folder = home.job_dir(id);
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("output.txt"), "").unwrap();
    folder
}

fn original_meta(id: &str, prompt: &str, pid: i32, started_at: chrono::DateTime<chrono::Utc>) -> Value {
    serde_json::json!({
        "job_id": id, "status": "running", "prompt": prompt, "cwd": "/tmp", "approval_policy": "suggest",
        "pid": pid, "started_at": iso(started_at), "finished_at": null, "exit_code": null,
    })
}

#[test]
fn a_forged_supervisor_pid_gets_no_signal_and_the_cancel_still_ends_the_job() {
    let home = TestHome::new();
    let log = home.path().join("victim.log");
    let victim = stranger(&log);
    let id = home.start("say:ready sleep:300");
    wait_until("the agent to run", SETTLE, || home.output(&id).contains("ready"));
    let supervisor = home.meta(&id)["supervisor_pid"].as_i64().unwrap();
    let agent = home.reported_pids(&id, "agent")[0];
    // The victim's own pid and start time: every check of the old record passes.
    let ticks = procfs::start_ticks(victim.pid()).unwrap();
    forge(&home, &id, |meta| {
        meta["supervisor_pid"] = victim.pid().into();
        meta["supervisor_start_ticks"] = ticks.into();
    });

    let cancelled = home.run(&["cancel", &id, "--grace", "1", "--json"]);
    assert_untouched(&victim, &log);
    let result = json(&cancelled);
    assert_eq!(result["status"], "cancelled", "the real supervisor was told: {result}");
    wait_until("the supervisor to exit", SETTLE, || !is_alive(supervisor as i32));
    assert!(!is_alive(agent), "the agent was ended");
    let meta = home.meta(&id);
    assert_eq!(meta["status"], "cancelled");
    assert_eq!(meta["supervisor_pid"], supervisor, "the supervisor wrote back its own pid: {meta}");
}

#[test]
fn an_original_record_with_a_start_in_the_future_gets_no_signal_and_a_clear_status() {
    let home = TestHome::new();
    let id = "0f0f0f01";
    let folder = original_job(&home, id);
    let log = home.path().join("victim.log");
    // The victim starts just after the folder: only the forged time ties it to the job.
    let victim = stranger(&log);
    let future = chrono::Utc::now() + chrono::Duration::hours(1);
    write_meta(&folder, &original_meta(id, "Write tests", victim.pid(), future));

    let cancelled = home.run(&["cancel", id, "--grace", "1", "--json"]);
    assert_untouched(&victim, &log);
    let result = json(&cancelled);
    assert_eq!(result["status"], "error", "{result}");
    let poll = json(&home.run(&["poll", id, "--json"]));
    assert_eq!(poll["status"], "error");
    let note = poll["note"].as_str().unwrap_or_default();
    assert!(note.contains("started_at") && note.contains("no process was signalled"), "{note}");
}

#[test]
fn an_original_record_started_before_its_folder_names_a_stranger_gets_no_signal() {
    let home = TestHome::new();
    let log = home.path().join("victim.log");
    let victim = stranger(&log);
    // The record claims the job started with the victim, seconds before its folder was made.
    let victim_started = procfs::start_time(victim.pid()).unwrap();
    wait_until("the victim to be a few seconds old", SETTLE, || chrono::Utc::now() - victim_started > chrono::Duration::milliseconds(3500));
    let id = "0f0f0f02";
    let folder = original_job(&home, id);
    write_meta(&folder, &original_meta(id, "Write tests", victim.pid(), victim_started));

    let cancelled = home.run(&["cancel", id, "--grace", "1", "--json"]);
    assert_untouched(&victim, &log);
    let result = json(&cancelled);
    assert_eq!(result["status"], "error", "{result}");
    let list = json(&home.run(&["list", "--json"]));
    let row = list.as_array().unwrap().iter().find(|row| row["job_id"] == id).unwrap();
    assert_eq!(row["status"], "error");
}

#[test]
fn an_original_record_naming_a_process_that_is_not_its_codex_gets_no_signal() {
    let home = TestHome::new();
    let id = "0f0f0f03";
    let folder = original_job(&home, id);
    let log = home.path().join("victim.log");
    // Times agree with the folder; the process is no `codex exec` of the job's prompt.
    let victim = stranger(&log);
    write_meta(&folder, &original_meta(id, "Write tests", victim.pid(), chrono::Utc::now()));

    let cancelled = home.run(&["cancel", id, "--grace", "1", "--json"]);
    assert_untouched(&victim, &log);
    let result = json(&cancelled);
    assert!(result["status"] == "done" || result["status"] == "error", "{result}");
    assert_eq!(json(&home.run(&["poll", id, "--json"]))["status"], result["status"]);
}

#[test]
fn an_original_jobs_own_codex_is_still_cancelled() {
    let home = TestHome::new();
    let id = "0f0f0f04";
    let folder = original_job(&home, id);
    // A stand-in for the original's `codex exec -s read-only PROMPT`, started with the folder.
    let bin = home.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let codex = bin.join("codex");
    let log = home.path().join("codex.log");
    std::fs::write(
        &codex,
        format!(
            "#!/usr/bin/env bash\ntrap 'echo TERM >> {log}; exit 143' TERM\necho ready >> {log}\nwhile :; do sleep 0.05; done\n",
            log = log.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&codex, std::fs::Permissions::from_mode(0o755)).unwrap();
    let prompt = "Write the tests";
    let mut agent = ProcessGuard::new(Command::new(&codex).args(["exec", "-s", "read-only", prompt]).stdin(Stdio::null()).spawn().unwrap());
    wait_until("the agent to start", SETTLE, || std::fs::read_to_string(&log).is_ok_and(|text| text.contains("ready")));
    write_meta(&folder, &original_meta(id, prompt, agent.pid(), chrono::Utc::now()));

    assert_eq!(json(&home.run(&["poll", id, "--json"]))["status"], "running");
    let result = json(&home.run(&["cancel", id, "--grace", "2", "--json"]));
    assert_eq!(result["status"], "cancelled", "{result}");
    agent.exit_within(SETTLE, "the original's agent to end");
    assert!(std::fs::read_to_string(&log).unwrap().contains("TERM"));
}

#[test]
fn a_forged_record_without_its_lock_file_never_reaches_another_jobs_supervisor() {
    let home = TestHome::new();
    let bystander = home.start("say:ready sleep:300");
    let target = home.start("say:ready sleep:300");
    wait_until("both agents to run", SETTLE, || home.output(&bystander).contains("ready") && home.output(&target).contains("ready"));
    let other = home.meta(&bystander);
    // The lock file goes and the record names the other job's supervisor, as an
    // earlier codex-async's record would name its own.
    std::fs::remove_file(home.job_dir(&target).join("supervisor.lock")).unwrap();
    forge(&home, &target, |meta| {
        meta["supervisor_pid"] = other["supervisor_pid"].clone();
        meta["supervisor_start_ticks"] = other["supervisor_start_ticks"].clone();
    });

    home.run(&["cancel", &target, "--grace", "1", "--json"]);
    assert_eq!(json(&home.run(&["poll", &bystander, "--json"]))["status"], "running", "the other job was cancelled");
    assert!(!home.job_processes(&bystander).is_empty(), "the other job's agent was ended");
    assert!(home.job_processes(&target).is_empty(), "the target's own processes were ended");
}

/// A barrier the fake agent waits on (`await-file:PATH`), opened by the test.
fn barrier(home: &TestHome, name: &str) -> PathBuf {
    home.path().join(name)
}

fn open(barrier: &Path) {
    std::fs::write(barrier, "").unwrap();
}

/// Rewrites a running job's record as ended, successfully, with other facts.
fn forge_end(home: &TestHome, id: &str) {
    forge(home, id, |meta| {
        meta["status"] = "done".into();
        meta["exit_code"] = 0.into();
        meta["finished_at"] = iso(chrono::Utc::now()).into();
        meta["note"] = "forged".into();
        meta["prompt"] = "forged prompt".into();
        meta["cwd"] = "/forged".into();
        meta["command"] = serde_json::json!(["/forged/agent", "--forged"]);
        meta["approval_policy"] = "full-auto".into();
    });
}

/// The facts a supervisor writes back: they must be its own, whatever was forged.
fn assert_own_facts(meta: &Value, original: &Value) {
    for key in ["prompt", "cwd", "command", "approval_policy", "agent", "supervisor_pid", "created_at", "started_at"] {
        assert_eq!(meta[key], original[key], "{key} was not restored: {meta}");
    }
    assert!(!meta.to_string().contains("forged"), "a forged field survived: {meta}");
}

#[test]
fn a_forged_end_is_not_believed_while_the_supervisor_holds_the_job() {
    let home = TestHome::new();
    let last = barrier(&home, "last");
    let id = home.start(&format!("say:ready await-file:{} say:bye exit:3", last.display()));
    wait_until("the agent to run", SETTLE, || home.output(&id).contains("ready"));
    // A waiter that was already waiting when the record was forged.
    let mut waiter =
        ProcessGuard::new(home.command().args(["wait", &id, "--json"]).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap());
    forge_end(&home, &id);

    // Every reader sees a running job.
    let timed_out = home.run(&["wait", &id, "--timeout", "1", "--json"]);
    assert_eq!(timed_out.status.code(), Some(124), "wait believed the forged end: {}", String::from_utf8_lossy(&timed_out.stdout));
    let view: Value = serde_json::from_slice(&timed_out.stdout).unwrap();
    assert_eq!((view["timed_out"].as_bool(), view["status"].as_str()), (Some(true), Some("running")));
    assert_eq!(view["exit_code"], Value::Null);
    assert_eq!(json(&home.run(&["poll", &id, "--json"]))["status"], "running");
    let list = json(&home.run(&["list", "--json"]));
    assert_eq!(list.as_array().unwrap().iter().find(|row| row["job_id"] == id.as_str()).unwrap()["status"], "running");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let engine = home.engine();
    let waited = runtime.block_on(engine.wait(&id, Duration::from_millis(500), 5)).unwrap();
    assert!(waited.timed_out && waited.poll.status == codex_async::jobs::Status::Running, "{:?}", waited.poll.status);

    // Nothing removes it.
    let deleted = home.run(&["delete", &id]);
    assert!(!deleted.status.success(), "delete removed a running job");
    assert!(String::from_utf8_lossy(&deleted.stderr).contains("running"), "{}", String::from_utf8_lossy(&deleted.stderr));
    json(&home.run(&["gc", "--keep", "0", "--json"]));
    assert!(home.job_dir(&id).join("meta.json").exists(), "gc removed a running job");
    assert!(waiter.child().try_wait().unwrap().is_none(), "the waiter returned on the forged end");

    // The real end is the one waiters report.
    let waited_id = id.clone();
    let engine_wait = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(engine.wait(&waited_id, SETTLE, 5)).unwrap()
    });
    open(&last);
    let status = waiter.exit_within(SETTLE, "the waiter to return");
    assert_eq!(status.code(), Some(1), "the job failed (exit 3)");
    let mut printed = String::new();
    std::io::Read::read_to_string(waiter.child().stdout.as_mut().unwrap(), &mut printed).unwrap();
    let view: Value = serde_json::from_str(&printed).unwrap();
    assert_eq!((view["status"].as_str(), view["exit_code"].as_i64()), (Some("error"), Some(3)), "{view}");
    let waited = engine_wait.join().unwrap();
    assert!(!waited.timed_out);
    assert_eq!((waited.poll.status, waited.poll.exit_code), (codex_async::jobs::Status::Error, Some(3)));
}

#[test]
fn the_supervisor_writes_back_its_own_facts_and_its_own_result() {
    let home = TestHome::new();
    let (first, last) = (barrier(&home, "first"), barrier(&home, "last"));
    let id = home.start(&format!("say:ready await-file:{} session await-file:{} say:bye exit:3", first.display(), last.display()));
    wait_until("the agent to run", SETTLE, || home.output(&id).contains("ready"));
    let original = home.meta(&id);
    forge_end(&home, &id);

    // The supervisor's next write (the agent's session id) is its own record whole.
    open(&first);
    wait_until("the session to be recorded", SETTLE, || home.meta(&id)["session_id"].is_string());
    let meta = home.meta(&id);
    assert_eq!(meta["status"], "running", "{meta}");
    assert_eq!((&meta["exit_code"], &meta["finished_at"], &meta["note"]), (&Value::Null, &Value::Null, &Value::Null), "{meta}");
    assert_own_facts(&meta, &original);

    // Forged again just before the end: its last write is its own result.
    forge_end(&home, &id);
    open(&last);
    let supervisor = original["supervisor_pid"].as_i64().unwrap() as i32;
    wait_until("the supervisor to exit", SETTLE, || !is_alive(supervisor));
    let meta = home.meta(&id);
    assert_eq!((meta["status"].as_str(), meta["exit_code"].as_i64()), (Some("error"), Some(3)), "{meta}");
    assert_own_facts(&meta, &original);
}

#[test]
fn a_forged_end_does_not_stop_a_cancel() {
    let home = TestHome::new();
    let id = home.start("say:ready sleep:300");
    wait_until("the agent to run", SETTLE, || home.output(&id).contains("ready"));
    let agent = home.reported_pids(&id, "agent")[0];
    forge_end(&home, &id);
    let result = json(&home.run(&["cancel", &id, "--grace", "1", "--json"]));
    assert_eq!(result["status"], "cancelled", "{result}");
    assert!(!is_alive(agent), "the agent still runs");
    let meta = home.meta(&id);
    assert_eq!(meta["status"], "cancelled");
    assert!(!meta.to_string().contains("forged"), "{meta}");
}

#[test]
fn an_unreadable_record_of_a_running_job_is_not_its_end() {
    let home = TestHome::new();
    let id = home.start("say:ready sleep:300");
    wait_until("the agent to run", SETTLE, || home.output(&id).contains("ready"));
    let original = home.meta(&id);
    let folder = home.job_dir(&id);
    std::fs::write(folder.join(".forged.tmp"), "{ not a record").unwrap();
    std::fs::rename(folder.join(".forged.tmp"), folder.join("meta.json")).unwrap();

    assert_eq!(json(&home.run(&["poll", &id, "--json"]))["status"], "running");
    let timed_out = home.run(&["wait", &id, "--timeout", "0.5", "--json"]);
    assert_eq!(timed_out.status.code(), Some(124), "{}", String::from_utf8_lossy(&timed_out.stderr));
    assert!(!home.run(&["delete", &id]).status.success(), "delete removed a running job");
    let result = json(&home.run(&["cancel", &id, "--grace", "1", "--json"]));
    assert_eq!(result["status"], "cancelled", "{result}");
    let meta = home.meta(&id);
    assert_eq!(meta["status"], "cancelled");
    assert_own_facts(&meta, &original);
}
