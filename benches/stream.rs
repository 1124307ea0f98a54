//! What reading an agent's event stream costs (`cargo bench --bench stream`), on the
//! release binary: a job whose agent (this benchmark's own binary, standing in for
//! `codex exec --json`) writes 10,000 events a second — each a command starting, in the
//! shape codex prints it, about 300 bytes — while the benchmark measures:
//!
//! - the job's supervisor CPU over the streaming window, two ways: `/proc/<pid>/stat`
//!   (utime + stime, 10 ms ticks) and `/proc/<pid>/task/*/schedstat` (nanoseconds);
//! - how far `activity` in meta.json lags the stream: for every command the agent
//!   starts, the time from its event to the first meta.json naming it or a later one;
//! - that nothing was lost: `events.jsonl` holds every byte the agent wrote.
//!
//! `STREAM_BENCH_QUICK=1` streams for 3 s instead of 10 (CI runs it so) and asserts the
//! figures: under 5% of a core, lag under 250 ms at p99, every byte kept.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::io::Write;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_codex-async");
/// Set in the agent's environment: it streams instead of benchmarking.
const EMIT: &str = "STREAM_BENCH_EMIT";
const RATE: u64 = 10_000;

fn quick() -> bool {
    std::env::var_os("STREAM_BENCH_QUICK").is_some()
}

fn window() -> Duration {
    if quick() { Duration::from_secs(3) } else { Duration::from_secs(10) }
}

fn unix_ns() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos()
}

/// The agent: `RATE` events a second for `seconds`, then a turn's end. Each event starts
/// a command named by its number; `times` gets `<number> <unix ns>` for each.
fn emit(seconds: u64, times: &str) {
    let mut out = std::io::stdout().lock();
    let mut log = std::io::BufWriter::new(std::fs::File::create(times).unwrap());
    writeln!(out, "{{\"type\":\"thread.started\",\"thread_id\":\"bench-thread\"}}").unwrap();
    writeln!(out, "{{\"type\":\"turn.started\"}}").unwrap();
    let total = RATE * seconds;
    let began = Instant::now();
    let per_ms = RATE / 1000;
    let padding = "x".repeat(160);
    for n in 0..total {
        // Every event starts a command, so every event changes the activity: the lag
        // of each one can be told from meta.json.
        writeln!(
            out,
            "{{\"type\":\"item.started\",\"item\":{{\"id\":\"item_{n}\",\"type\":\"command_execution\",\"command\":\"/bin/bash -lc 'step {n} {padding}'\",\"aggregated_output\":\"\",\"exit_code\":null,\"status\":\"in_progress\"}}}}"
        )
        .unwrap();
        writeln!(log, "{n} {}", unix_ns()).unwrap();
        // Paced by the millisecond: `per_ms` events, then wait for the next one.
        if (n + 1) % per_ms == 0 {
            out.flush().unwrap();
            let due = Duration::from_millis((n + 1) / per_ms);
            if let Some(wait) = due.checked_sub(began.elapsed()) {
                std::thread::sleep(wait);
            }
        }
    }
    writeln!(out, "{{\"type\":\"turn.completed\",\"usage\":{{\"input_tokens\":1,\"cached_input_tokens\":0,\"output_tokens\":1,\"reasoning_output_tokens\":0}}}}").unwrap();
    out.flush().unwrap();
    log.flush().unwrap();
}

/// CPU of every thread of `pid`: (stat ticks, schedstat ns).
fn cpu(pid: i32) -> (u64, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit_once(')').map_or("", |(_, rest)| rest).split_whitespace().collect();
    let field = |n: usize| fields.get(n).and_then(|value| value.parse::<u64>().ok()).unwrap_or(0);
    let mut sched_ns = 0;
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).into_iter().flatten().flatten() {
        let schedstat = std::fs::read_to_string(task.path().join("schedstat")).unwrap_or_default();
        sched_ns += schedstat.split_whitespace().next().and_then(|ns| ns.parse::<u64>().ok()).unwrap_or(0);
    }
    (field(11) + field(12), sched_ns)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    if let Ok(seconds) = std::env::var(EMIT) {
        let times = std::env::var("STREAM_BENCH_TIMES").unwrap();
        emit(seconds.parse().unwrap(), &times);
        return;
    }
    if std::env::args().any(|arg| arg == "--list") {
        return;
    }
    let home = support::TestHome::new();
    let times = home.path().join("emitted.txt");
    let seconds = window().as_secs();
    let output = std::process::Command::new(BIN)
        .env("CODEX_ASYNC_HOME", home.path())
        .env("CODEX_BIN", std::env::current_exe().unwrap())
        .env(EMIT, seconds.to_string())
        .env("STREAM_BENCH_TIMES", &times)
        .args(["start", "--json", "--cwd", home.path().to_str().unwrap(), "--", "stream"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let id = serde_json::from_slice::<Value>(&output.stdout).unwrap()["job_id"].as_str().unwrap().to_owned();
    let folder = home.job_dir(&id);
    let meta_path = folder.join("meta.json");
    let read_meta = || std::fs::read(&meta_path).ok().and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok());
    let supervisor = read_meta().and_then(|meta| meta["supervisor_pid"].as_i64()).unwrap() as i32;

    // Watch meta.json: every new activity, and when it was first seen.
    let mut sightings: Vec<(u64, u128)> = Vec::new();
    let mut last_modified = None;
    let began = Instant::now();
    let before = cpu(supervisor);
    let mut after = before;
    let mut streaming = true;
    loop {
        let modified = std::fs::metadata(&meta_path).and_then(|meta| meta.modified()).ok();
        if modified != last_modified {
            last_modified = modified;
            if let Some(meta) = read_meta() {
                let seen = unix_ns();
                let step = meta["activity"].as_str().and_then(|activity| activity.strip_prefix("running: step "));
                if let Some(step) = step.and_then(|step| step.split(' ').next()) {
                    sightings.push((step.parse().unwrap(), seen));
                }
                if meta["status"] != "running" {
                    break;
                }
            }
        }
        if streaming && began.elapsed() >= window() {
            // The window is over: the supervisor's CPU while it streamed.
            after = cpu(supervisor);
            streaming = false;
        }
        assert!(began.elapsed() < window() + Duration::from_secs(60), "the job never ended");
        std::thread::sleep(Duration::from_millis(1));
    }
    if streaming {
        after = cpu(supervisor);
    }
    let elapsed = window().as_secs_f64();
    let tick = 100.0; // USER_HZ
    let stat_pct = (after.0 - before.0) as f64 / tick / elapsed * 100.0;
    let sched_pct = (after.1 - before.1) as f64 / 1e9 / elapsed * 100.0;

    // Lag: for every command started, until meta.json named it or a later one.
    let emitted: Vec<(u64, u128)> = std::fs::read_to_string(&times)
        .unwrap()
        .lines()
        .map(|line| {
            let (step, at) = line.split_once(' ').unwrap();
            (step.parse().unwrap(), at.parse().unwrap())
        })
        .collect();
    let mut lags: Vec<f64> = Vec::new();
    let mut next_sighting = 0;
    for (step, at) in &emitted {
        while next_sighting < sightings.len() && sightings[next_sighting].0 < *step {
            next_sighting += 1;
        }
        if let Some((_, seen)) = sightings.get(next_sighting) {
            lags.push(seen.saturating_sub(*at) as f64 / 1e6);
        }
    }
    lags.sort_by(f64::total_cmp);
    let meta = read_meta().unwrap();
    let kept = std::fs::read(folder.join("events.jsonl")).unwrap();
    let events = RATE * seconds + 3;
    let lines = kept.iter().filter(|&&byte| byte == b'\n').count() as u64;
    println!(
        "stream: {} events in {seconds} s ({} a second) — supervisor CPU {stat_pct:.2}% of a core (stat), {sched_pct:.2}% (schedstat)",
        events, RATE
    );
    println!(
        "stream: activity lag behind the stream over {} commands: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms; {} meta.json updates seen ({:.1} a second)",
        lags.len(),
        percentile(&lags, 0.5),
        percentile(&lags, 0.99),
        lags.last().unwrap(),
        sightings.len(),
        sightings.len() as f64 / elapsed
    );
    println!("stream: events.jsonl {} bytes, {lines} lines; job {}, usage {}", kept.len(), meta["status"], meta["usage"]);
    assert_eq!(meta["status"], "done");
    assert_eq!(lines, events, "every event kept");
    assert!(lags.len() as u64 > RATE * seconds * 9 / 10, "every command but the last few was seen in time");
    if quick() {
        assert!(stat_pct.max(sched_pct) < 5.0, "the supervisor used {stat_pct:.2}% / {sched_pct:.2}% of a core");
        assert!(percentile(&lags, 0.99) < 250.0, "activity lags {:.0} ms at p99", percentile(&lags, 0.99));
    }
}
