//! Queue figures (`cargo bench --bench queue`), on the release binary:
//!
//! 1. from a slot freeing (the running job's agent exits) to the next pending job's
//!    agent running, over a chain of jobs with `max_running = 1`: p50 and p99;
//! 2. `codex-async list` (20 of 10,000 jobs, 5,000 of them pending) as a whole process,
//!    next to the same listing with no queue.
//!
//! `QUEUE_BENCH_QUICK=1` runs a shorter chain and fewer listings (CI runs it so).
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use codex_async::jobs::{JobMeta, JobStore};

const BIN: &str = env!("CARGO_BIN_EXE_codex-async");

fn quick() -> bool {
    std::env::var_os("QUEUE_BENCH_QUICK").is_some()
}

fn percentile(sorted: &[f64], pct: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * pct / 100.0).round() as usize]
}

/// An agent that records when it starts and when it is about to exit.
fn recording_agent(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("agent");
    std::fs::write(
        &path,
        format!(
            "#!/bin/sh\necho \"$CODEX_ASYNC_JOB_ID start $(date +%s.%N)\" >> {log}\necho \"$CODEX_ASYNC_JOB_ID end $(date +%s.%N)\" >> {log}\n",
            log = dir.join("times.log").display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    path
}

fn slot_to_start() {
    let home = tempfile::tempdir().unwrap();
    let agent = recording_agent(home.path());
    std::fs::write(home.path().join("config.toml"), "max_running = 1\n").unwrap();
    let jobs = if quick() { 30 } else { 200 };
    // A blocker holds the slot while the chain is queued behind it.
    let blocker = home.path().join("blocker");
    std::fs::write(&blocker, "#!/bin/sh\nexec sleep 600\n").unwrap();
    std::fs::set_permissions(&blocker, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let start = |bin: &Path| {
        let output = Command::new(BIN)
            .args(["start", "--json", "--cwd", "/tmp", "--", "x"])
            .env("CODEX_ASYNC_HOME", home.path())
            .env("CODEX_BIN", bin)
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        serde_json::from_slice::<serde_json::Value>(&output.stdout).unwrap()["job_id"].as_str().unwrap().to_owned()
    };
    let blocking = start(&blocker);
    let chain: Vec<String> = (0..jobs).map(|_| start(&agent)).collect();
    let cancelled = Command::new(BIN).args(["cancel", &blocking, "--grace", "0.2"]).env("CODEX_ASYNC_HOME", home.path()).output().unwrap();
    assert!(cancelled.status.success());
    let log = home.path().join("times.log");
    let deadline = Instant::now() + Duration::from_secs(600);
    while std::fs::read_to_string(&log).map_or(0, |text| text.lines().count()) < jobs * 2 {
        assert!(Instant::now() < deadline, "the chain did not finish");
        std::thread::sleep(Duration::from_millis(50));
    }
    let text = std::fs::read_to_string(&log).unwrap();
    let time_of = |id: &str, what: &str| -> f64 {
        text.lines()
            .find_map(|line| {
                let mut parts = line.split(' ');
                (parts.next()? == id && parts.next()? == what).then(|| parts.next()?.parse().ok()).flatten()
            })
            .unwrap()
    };
    let mut gaps: Vec<f64> = chain.windows(2).map(|pair| (time_of(&pair[1], "start") - time_of(&pair[0], "end")) * 1000.0).collect();
    gaps.sort_by(f64::total_cmp);
    println!(
        "slot freed → next pending job's agent running ({} gaps): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        gaps.len(),
        percentile(&gaps, 50.0),
        percentile(&gaps, 99.0),
        gaps.last().unwrap()
    );
}

fn stock(store: &JobStore, done: usize, pending: usize) {
    for n in 0..done + pending {
        let id = store.reserve().unwrap();
        let status = if n < done { "done" } else { "pending" };
        let meta = serde_json::json!({"job_id": id.as_str(), "status": status, "prompt": format!("job {n}"), "cwd": "/tmp",
            "approval_policy": "suggest", "pid": null, "started_at": null, "finished_at": null, "exit_code": null,
            "created_at": (chrono::Utc::now() + chrono::Duration::milliseconds(n as i64)).to_rfc3339(), "queue_limit": 1});
        store.write_meta(&JobMeta::from_json(meta.to_string().as_bytes()).unwrap()).unwrap();
    }
}

fn time_list(home: &Path, rounds: usize) -> Vec<f64> {
    let mut samples: Vec<f64> = (0..rounds)
        .map(|_| {
            let began = Instant::now();
            let output = Command::new(BIN).args(["list", "--limit", "20"]).env("CODEX_ASYNC_HOME", home).output().unwrap();
            assert!(output.status.success());
            began.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples
}

fn list_with_a_long_queue() {
    let rounds = if quick() { 5 } else { 30 };
    let plain = tempfile::tempdir().unwrap();
    stock(&JobStore::new(plain.path()), 10_000, 0);
    let queued = tempfile::tempdir().unwrap();
    stock(&JobStore::new(queued.path()), 5_000, 5_000);
    // A running blocker (held lock) keeps the pending jobs waiting.
    let store = JobStore::new(queued.path());
    let blocker = store.reserve().unwrap();
    let meta = serde_json::json!({"job_id": blocker.as_str(), "status": "running", "prompt": "blocker", "cwd": "/tmp",
        "approval_policy": "suggest", "pid": null, "started_at": null, "finished_at": null, "exit_code": null, "supervisor_pid": 1});
    store.write_meta(&JobMeta::from_json(meta.to_string().as_bytes()).unwrap()).unwrap();
    let _held = codex_async::jobs::process::owner::OwnerLock::create(&store.job_dir(&blocker)).unwrap();
    // The first look builds the queue's index; measure the looks after it.
    time_list(queued.path(), 1);
    let plain_samples = time_list(plain.path(), rounds);
    let queued_samples = time_list(queued.path(), rounds);
    println!(
        "`list --limit 20`, 10,000 jobs: no queue p50 {:.1} ms; 5,000 of them pending p50 {:.1} ms (p90 {:.1} / {:.1} ms)",
        percentile(&plain_samples, 50.0),
        percentile(&queued_samples, 50.0),
        percentile(&plain_samples, 90.0),
        percentile(&queued_samples, 90.0)
    );
    let pending = std::fs::read_dir(queued.path().join("jobs"))
        .unwrap()
        .filter(|entry| {
            std::fs::read_to_string(entry.as_ref().unwrap().path().join("meta.json")).is_ok_and(|text| text.contains("\"pending\""))
        })
        .count();
    assert_eq!(pending, 5_000, "listing started nothing while the slot was taken");
}

fn main() {
    slot_to_start();
    list_with_a_long_queue();
}
