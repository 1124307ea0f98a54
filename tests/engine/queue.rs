//! The queue with no daemon, stall and time limits, cleanup, and the config file —
//! through the real binary.
#![allow(clippy::unwrap_used)]

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use crate::support;
use crate::support::mcp::{call, ok, stdio_client};
use crate::support::{TestHome, is_alive, json, wait_until};
use serde_json::{Value, json};

const SETTLE: Duration = Duration::from_secs(60);

fn config(home: &TestHome, text: &str) {
    std::fs::write(home.path().join("config.toml"), text).unwrap();
}

fn start_json(home: &TestHome, prompt: &str, extra: &[&str]) -> Value {
    let mut args = vec!["start", "--json", "--cwd", home.path().to_str().unwrap()];
    args.extend_from_slice(extra);
    args.extend(["--", prompt]);
    json(&home.run(&args))
}

/// (job id, start time) as the fake agents recorded them, in the order they started.
fn recorded(file: &Path) -> Vec<(String, f64)> {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    let mut starts: Vec<(String, f64)> =
        text.lines().filter_map(|line| line.split_once(' ')).map(|(id, at)| (id.to_owned(), at.parse().unwrap())).collect();
    starts.sort_by(|a, b| a.1.total_cmp(&b.1));
    starts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_jobs_two_at_a_time_from_four_starters_each_run_once_in_order() {
    let home = TestHome::new();
    config(&home, "max_running = 2\n");
    let record = home.path().join("starts.log");
    let prompt = format!("record:{} sleep:0.4", record.display());

    // Sample /proc and the metas every 20 ms for as long as the jobs run.
    let done = std::sync::Arc::new(AtomicBool::new(false));
    let most = std::sync::Arc::new(AtomicUsize::new(0));
    let sampler = {
        let (done, most, path) = (done.clone(), most.clone(), home.path().to_owned());
        std::thread::spawn(move || {
            let probe = TestHomeView(path);
            while !done.load(Ordering::Relaxed) {
                let now = probe.live().max(probe.running());
                most.fetch_max(now, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };

    // Two CLI starters and two MCP clients, five jobs each, all at once.
    let cli = |n: usize| {
        let home_path = home.path().to_owned();
        let prompt = prompt.clone();
        std::thread::spawn(move || {
            (0..5)
                .map(|_| {
                    let output = std::process::Command::new(support::BIN)
                        .args(["start", "--json", "--cwd", home_path.to_str().unwrap(), "--", &prompt])
                        .env("CODEX_ASYNC_HOME", &home_path)
                        .env("CODEX_BIN", support::fake_agent())
                        .output()
                        .unwrap();
                    assert!(output.status.success(), "starter {n}: {}", String::from_utf8_lossy(&output.stderr));
                    serde_json::from_slice::<Value>(&output.stdout).unwrap()["job_id"].as_str().unwrap().to_owned()
                })
                .collect::<Vec<String>>()
        })
    };
    let cli_starters = [cli(0), cli(1)];
    let (first, _) = stdio_client(&home, &[]).await;
    let (second, _) = stdio_client(&home, &[]).await;
    let mcp = |client: support::mcp::Client| {
        let prompt = prompt.clone();
        let cwd = home.path().to_str().unwrap().to_owned();
        tokio::spawn(async move {
            let mut ids = Vec::new();
            for _ in 0..5 {
                let started = ok(&call(&client, "codex_start", json!({"prompt": prompt, "cwd": cwd})).await);
                assert!(["running", "pending"].contains(&started["status"].as_str().unwrap()), "{started}");
                ids.push(started["job_id"].as_str().unwrap().to_owned());
            }
            (client, ids)
        })
    };
    let mcp_starters = [mcp(first), mcp(second)];
    let mut per_starter: Vec<Vec<String>> = cli_starters.into_iter().map(|starter| starter.join().unwrap()).collect();
    for starter in mcp_starters {
        let (client, ids) = starter.await.unwrap();
        per_starter.push(ids);
        client.cancel().await.unwrap();
    }
    let all: Vec<String> = per_starter.iter().flatten().cloned().collect();
    assert_eq!(all.iter().collect::<HashSet<_>>().len(), 20);
    for id in &all {
        home.wait_for_status(id, "done", SETTLE);
    }
    done.store(true, Ordering::Relaxed);
    sampler.join().unwrap();

    assert!(most.load(Ordering::Relaxed) <= 2, "{} jobs ran at once with max_running = 2", most.load(Ordering::Relaxed));
    assert_eq!(most.load(Ordering::Relaxed), 2, "the limit was used");
    let starts = recorded(&record);
    let counts: HashMap<&str, usize> = starts.iter().fold(HashMap::new(), |mut counts, (id, _)| {
        *counts.entry(id.as_str()).or_default() += 1;
        counts
    });
    assert_eq!(counts.len(), 20, "every job ran");
    assert!(counts.values().all(|&count| count == 1), "a job ran twice: {counts:?}");
    // Within each starter, jobs started in the order they were queued.
    let order: HashMap<&str, usize> = starts.iter().enumerate().map(|(at, (id, _))| (id.as_str(), at)).collect();
    for ids in &per_starter {
        let started: Vec<usize> = ids.iter().map(|id| order[id.as_str()]).collect();
        assert!(started.windows(2).all(|pair| pair[0] < pair[1]), "out of order: {ids:?} started at {started:?}");
    }
}

/// The jobs folder seen from the sampler thread.
struct TestHomeView(std::path::PathBuf);

impl TestHomeView {
    fn ids(&self) -> Vec<String> {
        std::fs::read_dir(self.0.join("jobs"))
            .map(|entries| {
                entries.filter_map(|entry| entry.ok()?.file_name().into_string().ok()).filter(|name| !name.starts_with('.')).collect()
            })
            .unwrap_or_default()
    }

    /// Jobs of this home with a live process: one pass over /proc, reading which job
    /// each process belongs to.
    fn live(&self) -> usize {
        let ours: HashSet<String> = self.ids().into_iter().collect();
        let mut alive = HashSet::new();
        for process in codex_async::jobs::process::procfs::all_processes() {
            let Ok(environ) = std::fs::read(format!("/proc/{}/environ", process.pid)) else { continue };
            for entry in environ.split(|&byte| byte == 0) {
                if let Some(id) = entry.strip_prefix(b"CODEX_ASYNC_JOB_ID=") {
                    let id = String::from_utf8_lossy(id).into_owned();
                    if ours.contains(&id) {
                        alive.insert(id);
                    }
                }
            }
        }
        alive.len()
    }

    fn running(&self) -> usize {
        self.ids()
            .iter()
            .filter_map(|id| std::fs::read_to_string(self.0.join("jobs").join(id).join("meta.json")).ok())
            .filter(|text| text.contains("\"status\": \"running\""))
            .count()
    }
}

#[test]
fn the_queue_moves_on_when_a_job_is_cancelled_and_when_its_owner_dies_unseen() {
    let home = TestHome::new();
    config(&home, "max_running = 1\ncancel_grace = 1\n");
    let first = start_json(&home, "say:first sleep:60", &[]);
    assert_eq!(first["status"], "running");
    let second = start_json(&home, "say:second sleep:60", &[]);
    assert_eq!((second["status"].as_str(), second["queue_position"].as_u64()), (Some("pending"), Some(1)));
    let third = start_json(&home, "say:third sleep:60", &[]);
    assert_eq!(third["queue_position"], 2);
    let (first, second, third) = (first["job_id"].as_str().unwrap(), second["job_id"].as_str().unwrap(), third["job_id"].as_str().unwrap());
    // poll and list show the position.
    let poll = json(&home.run(&["poll", third, "--json"]));
    assert_eq!(
        (poll["status"].as_str(), poll["queue_position"].as_u64(), poll["queue_limit"].as_u64()),
        (Some("pending"), Some(2), Some(1))
    );
    let list = json(&home.run(&["list", "--json"]));
    let row = list.as_array().unwrap().iter().find(|row| row["job_id"] == second).unwrap();
    assert_eq!(row["queue_position"], 1);

    // Cancelling the running job frees its slot: the next one starts.
    home.run(&["cancel", first]);
    home.wait_for_status(second, "running", SETTLE);
    wait_until("the second job to print", SETTLE, || home.output(second).contains("second"));
    assert_eq!(home.status(third), "pending");

    // Its supervisor and agent die with nobody watching: no process moves the queue …
    let supervisor = home.meta(second)["supervisor_pid"].as_i64().unwrap() as i32;
    let mut doomed = home.job_processes(second);
    doomed.push(supervisor);
    for pid in &doomed {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(*pid), nix::sys::signal::Signal::SIGKILL);
    }
    wait_until("the second job's processes to die", SETTLE, || doomed.iter().all(|pid| !is_alive(*pid)));
    assert_eq!(home.status(third), "pending", "nobody looked yet");
    // … until anyone looks: a plain `list` starts the next.
    home.run(&["list"]);
    assert_eq!(home.status(second), "error", "the lost job was settled");
    home.wait_for_status(third, "running", SETTLE);
    home.run(&["cancel", third, "--grace", "0.5"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_moves_the_queue_when_a_supervisor_dies() {
    let home = TestHome::new();
    config(&home, "max_running = 1\n");
    let (client, _) = stdio_client(&home, &[]).await;
    let cwd = home.path().to_str().unwrap();
    let running = ok(&call(&client, "codex_start", json!({"prompt": "sleep:60", "cwd": cwd})).await);
    let waiting = ok(&call(&client, "codex_start", json!({"prompt": "say:next sleep:60", "cwd": cwd})).await);
    assert_eq!(waiting["status"], "pending");
    assert_eq!(waiting["queue_position"], 1);
    let (running, waiting) = (running["job_id"].as_str().unwrap(), waiting["job_id"].as_str().unwrap());
    // Its agent is up before the killing: one that started after would outlive its
    // supervisor, and a job whose agent lives on holds its slot until the agent ends.
    wait_until("the running job's agent", SETTLE, || {
        home.meta(running)["pid"].as_i64().is_some_and(|pid| home.job_processes(running).contains(&(pid as i32)))
    });
    let mut doomed = home.job_processes(running);
    doomed.push(home.meta(running)["supervisor_pid"].as_i64().unwrap() as i32);
    for pid in &doomed {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(*pid), nix::sys::signal::Signal::SIGKILL);
    }
    // No CLI call: the server saw the owner go and started the next.
    home.wait_for_status(waiting, "running", SETTLE);
    let cancelled = ok(&call(&client, "codex_cancel", json!({"job_id": waiting})).await);
    assert_eq!(cancelled["status"], "cancelled");
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pending_job_is_cancelled_without_running_and_survives_a_server_restart() {
    let home = TestHome::new();
    config(&home, "max_running = 1\n");
    let record = home.path().join("starts.log");
    let blocker = start_json(&home, "sleep:60", &[]);
    let blocker = blocker["job_id"].as_str().unwrap();

    // Queued over MCP; the server goes away; the job waits on.
    let (client, _) = stdio_client(&home, &[]).await;
    let cwd = home.path().to_str().unwrap();
    let prompt = format!("record:{} say:ran", record.display());
    let kept = ok(&call(&client, "codex_start", json!({"prompt": prompt, "cwd": cwd})).await);
    let dropped = ok(&call(&client, "codex_start", json!({"prompt": prompt, "cwd": cwd})).await);
    let (kept, dropped) = (kept["job_id"].as_str().unwrap().to_owned(), dropped["job_id"].as_str().unwrap().to_owned());
    let cancelled = ok(&call(&client, "codex_cancel", json!({"job_id": dropped})).await);
    assert_eq!(cancelled, json!({"job_id": dropped, "status": "cancelled", "killed": false}));
    client.cancel().await.unwrap();
    let poll = json(&home.run(&["poll", &kept, "--json"]));
    assert_eq!((poll["status"].as_str(), poll["queue_position"].as_u64()), (Some("pending"), Some(1)));
    let (client, _) = stdio_client(&home, &[]).await;
    let polled = ok(&call(&client, "codex_poll", json!({"job_id": kept})).await);
    assert_eq!(polled["status"], "pending", "still waiting after the server's restart");
    assert_eq!(polled["queue_position"], 1);
    client.cancel().await.unwrap();

    // When the slot frees, it runs — and the cancelled one never did.
    home.run(&["cancel", blocker, "--grace", "0.5"]);
    home.wait_for_status(&kept, "done", SETTLE);
    let starts = recorded(&record);
    assert_eq!(starts.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(), [kept.as_str()]);
    assert_eq!(home.meta(&dropped)["cancel_reason"], "requested");
    assert!(home.meta(&dropped)["started_at"].is_null(), "never started");
}

#[test]
fn a_pending_job_whose_folder_vanished_ends_in_error_saying_so() {
    let home = TestHome::new();
    config(&home, "max_running = 1\n");
    let blocker = start_json(&home, "sleep:60", &[]);
    let project = home.path().join("project");
    std::fs::create_dir(&project).unwrap();
    let output = home.run(&["start", "--json", "--cwd", project.to_str().unwrap(), "--", "exit:0"]);
    let waiting = json(&output)["job_id"].as_str().unwrap().to_owned();
    std::fs::remove_dir(&project).unwrap();
    home.run(&["cancel", blocker["job_id"].as_str().unwrap(), "--grace", "0.5"]);
    home.wait_for_status(&waiting, "error", SETTLE);
    let note = home.meta(&waiting)["note"].as_str().unwrap().to_owned();
    assert!(note.contains("no longer a folder"), "{note}");
}

#[test]
fn stall_and_time_limits_cancel_with_a_reason_and_spare_busy_jobs() {
    let home = TestHome::new();
    config(&home, "cancel_grace = 1\n");
    let stalled = start_json(&home, "say:once sleep:60", &["--stall-timeout", "1"]);
    let busy = start_json(&home, "tick:15", &["--stall-timeout", "1"]);
    let timed = start_json(&home, "tick:100", &["--max-duration", "1.5s"]);
    let quick = start_json(&home, "sleep:0.3", &["--max-duration", "20s"]);
    let ids: Vec<String> = [&stalled, &busy, &timed, &quick].iter().map(|job| job["job_id"].as_str().unwrap().to_owned()).collect();
    // Within the limit and the grace period (plus a generous margin for a busy machine).
    home.wait_for_status(&ids[0], "cancelled", SETTLE);
    assert_eq!(home.meta(&ids[0])["cancel_reason"], "stalled");
    home.wait_for_status(&ids[2], "cancelled", SETTLE);
    assert_eq!(home.meta(&ids[2])["cancel_reason"], "timed out");
    home.wait_for_status(&ids[1], "done", SETTLE);
    home.wait_for_status(&ids[3], "done", SETTLE);
    assert!(home.output(&ids[1]).contains("tick 14"), "the busy job ran to its end");
    let poll = json(&home.run(&["poll", &ids[0], "--json"]));
    assert_eq!((poll["cancel_reason"].as_str(), poll["stall_timeout"].as_f64()), (Some("stalled"), Some(1.0)));
    let plain = String::from_utf8(home.run(&["poll", &ids[0]]).stdout).unwrap();
    assert!(plain.contains("cancelled") && plain.contains("stalled"), "{plain}");
    let list = String::from_utf8(home.run(&["list"]).stdout).unwrap();
    assert!(list.contains("cancelled (stalled)") && list.contains("cancelled (timed out)"), "{list}");
}

/// A finished job written by hand, ended `days` ago.
fn finished_job(home: &TestHome, days: i64) -> String {
    let store = home.store();
    let id = store.reserve().unwrap();
    let ended = chrono::Utc::now() - chrono::Duration::days(days);
    let meta = json!({"job_id": id.as_str(), "status": "done", "prompt": format!("{days} days ago"), "cwd": "/tmp",
        "approval_policy": "suggest", "pid": null, "started_at": ended.to_rfc3339(), "finished_at": ended.to_rfc3339(), "exit_code": 0});
    std::fs::write(store.meta_path(&id), serde_json::to_vec_pretty(&meta).unwrap()).unwrap();
    std::fs::write(store.output_path(&id), "x".repeat(5000)).unwrap();
    id.to_string()
}

#[test]
fn gc_removes_only_finished_jobs_by_age_and_count() {
    let home = TestHome::new();
    config(&home, "max_running = 1\n");
    let old: Vec<String> = (10..14).map(|days| finished_job(&home, days)).collect();
    let recent = finished_job(&home, 1);
    let running = start_json(&home, "sleep:60", &[])["job_id"].as_str().unwrap().to_owned();
    let pending = start_json(&home, "sleep:60", &[])["job_id"].as_str().unwrap().to_owned();
    assert_eq!(home.status(&pending), "pending");

    let dry = json(&home.run(&["gc", "--older-than", "7d", "--dry-run", "--json"]));
    assert_eq!(dry["removed"].as_array().unwrap().len(), 4);
    assert!(dry["bytes_freed"].as_u64().unwrap() >= 4 * 5000);
    assert!(old.iter().all(|id| home.job_dir(id).exists()), "a dry run removes nothing");

    let kept = json(&home.run(&["gc", "--older-than", "7d", "--keep", "3", "--json"]));
    let removed: Vec<&str> = kept["removed"].as_array().unwrap().iter().map(|row| row["job_id"].as_str().unwrap()).collect();
    // Newest three finished (recent, 10 and 11 days) stay; 12 and 13 days go.
    assert_eq!(removed.len(), 2, "{kept}");
    assert!(removed.contains(&old[2].as_str()) && removed.contains(&old[3].as_str()), "{kept}");
    assert!(home.job_dir(&recent).exists() && home.job_dir(&old[0]).exists() && home.job_dir(&old[1]).exists());

    let everything = home.run(&["gc", "--keep", "0"]);
    assert!(everything.status.success());
    assert!(String::from_utf8_lossy(&everything.stdout).contains("removed 3 finished job(s)"));
    assert!(home.job_dir(&running).exists() && home.job_dir(&pending).exists(), "running and pending jobs are never touched");
    let bare = home.run(&["gc"]);
    assert_eq!(bare.status.code(), Some(2), "gc needs to be told what to remove");
    home.run(&["cancel", &pending]);
    home.run(&["cancel", &running, "--grace", "0.5"]);
}

#[test]
fn delete_takes_several_ids_and_says_which_it_could_not() {
    let home = TestHome::new();
    let (a, b) = (finished_job(&home, 1), finished_job(&home, 2));
    let output = home.run(&["delete", &a, &b, "deadbeef", "--json"]);
    assert_eq!(output.status.code(), Some(2));
    let result: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(result["deleted"], json!([a, b]));
    assert!(result["failed"][0]["error"].as_str().unwrap().contains("not found"));
}

#[test]
fn retention_in_the_config_runs_when_a_server_starts() {
    let home = TestHome::new();
    config(&home, "[retention]\nolder_than = \"7d\"\n");
    let old = finished_job(&home, 30);
    let recent = finished_job(&home, 1);
    let server = support::mcp::HttpServerProcess::spawn(&home, &[]);
    wait_until("retention to remove the old job", SETTLE, || !home.job_dir(&old).exists());
    assert!(home.job_dir(&recent).exists());
    drop(server);
}

#[test]
fn config_mistakes_are_named_and_sources_shown() {
    let home = TestHome::new();
    config(&home, "policy = \"auto-edit\"\nmax_runing = 2\n");
    let output = home.run(&["start", "--cwd", "/tmp", "--", "exit:0"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("config.toml line 2 (max_runing)") && stderr.contains("max_running"), "{stderr}");
    assert!(!home.path().join("jobs").exists() || std::fs::read_dir(home.path().join("jobs")).unwrap().count() == 0, "nothing started");

    config(&home, "policy = \"auto-edit\"\nmax_running = 2\n");
    let shown = json(&home.command().env("CODEX_ASYNC_MAX_RUNNING", "5").args(["config", "--json"]).output().unwrap());
    assert_eq!(shown["settings"]["policy"]["value"], "auto-edit");
    assert!(shown["settings"]["policy"]["source"].as_str().unwrap().ends_with("config.toml"));
    assert_eq!(shown["settings"]["max_running"]["value"], "5");
    assert_eq!(shown["settings"]["max_running"]["source"], "environment CODEX_ASYNC_MAX_RUNNING");
    assert_eq!(shown["settings"]["port"]["source"], "built-in default");
    // A flag beats both: --max-running 0 lifts the limit for this start.
    let started = start_json(&home, "exit:0", &["--max-running", "0"]);
    assert_eq!(started["status"], "running");
    home.wait_for_status(started["job_id"].as_str().unwrap(), "done", SETTLE);
    assert_eq!(home.meta(started["job_id"].as_str().unwrap())["approval_policy"], "auto-edit", "the config's policy");

    let fresh = TestHome::new();
    let init = fresh.run(&["config", "--init"]);
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
    assert!(std::fs::read_to_string(fresh.path().join("config.toml")).unwrap().contains("# max_running = 4"));
    assert_eq!(fresh.run(&["config", "--init"]).status.code(), Some(1), "never overwritten");
}
