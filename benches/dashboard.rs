//! Dashboard figures (`cargo bench --bench dashboard`), each with a bounded run time:
//!
//! 1. latency from a write to output.txt until the dashboard's state holds the line
//!    (the loader thread and `App::apply_data`, as the real loop runs them): p50/p99;
//! 2. the real binary in tmux: how soon a job another process starts shows on screen;
//!    and while a job floods output (~50 MB/s), the dashboard's CPU and how long a key
//!    takes to show on screen;
//! 3. the real binary's RSS with 10,000 jobs listed and a 1 GiB log selected;
//! 4. with 50,000 jobs listed (no terminal): how long one job's update takes to be
//!    taken in (filters, sort and attempt sets rebuilt) and a move of the selection,
//!    with no attempt set and with 30,000 of the jobs in 10,000 sets of three.
//!
//! Parts 2 and 3 need tmux and are skipped without it. `DASHBOARD_BENCH_QUICK=1`
//! shrinks every part (CI runs it so). Either way the counts are asserted: following
//! output reads no meta and lists no folder, and no job process is left once the
//! flood is cancelled.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::Utc;
use codex_async::jobs::output::OutputUpdate;
use codex_async::jobs::{JobFeed, JobId, JobMeta, JobRecord, JobStore};
use codex_async::tui::loader::{self, LoaderCommand};
use codex_async::tui::{Action, App, DataEvent};
use tokio_util::sync::CancellationToken;

const BIN: &str = env!("CARGO_BIN_EXE_codex-async");
/// How long anything awaited may take before the run fails: generous, for a loaded
/// machine; the figures are measured, not bounded by it.
const DEADLINE: Duration = Duration::from_secs(30);

fn quick() -> bool {
    std::env::var_os("DASHBOARD_BENCH_QUICK").is_some()
}

fn main() {
    // criterion-style filter arguments (`--bench`) are accepted and ignored.
    let started = Instant::now();
    write_to_state_latency();
    many_jobs_state(false);
    many_jobs_state(true);
    if Command::new("tmux").arg("-V").output().is_ok_and(|output| output.status.success()) {
        flood_cpu_and_key_latency();
        rss_with_many_jobs_and_a_huge_log();
    } else {
        println!("tmux not found: skipping the end-to-end figures");
    }
    println!("total bench time: {:.1}s", started.elapsed().as_secs_f64());
}

fn percentile(sorted: &[Duration], pct: f64) -> Duration {
    let at = ((sorted.len() as f64 - 1.0) * pct / 100.0).round() as usize;
    sorted[at.min(sorted.len() - 1)]
}

fn running_meta(id: &JobId, cwd: &Path) -> JobMeta {
    let json = serde_json::json!({
        "job_id": id.as_str(), "status": "running", "prompt": "bench", "cwd": cwd,
        "approval_policy": "suggest", "pid": null, "started_at": Utc::now().to_rfc3339(),
        "finished_at": null, "exit_code": null,
    });
    JobMeta::from_json(json.to_string().as_bytes()).unwrap()
}

/// Part 1: loader + state, no terminal.
fn write_to_state_latency() {
    let home = tempfile::tempdir().unwrap();
    let store = JobStore::new(home.path());
    let id = store.reserve().unwrap();
    // A running job with no supervisor fields and no pid stays "running".
    store.write_meta(&running_meta(&id, home.path())).unwrap();
    let output_path = store.output_path(&id);
    std::fs::write(&output_path, b"start\n").unwrap();

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (command_sender, command_receiver) = tokio::sync::mpsc::unbounded_channel();
    let (data_sender, mut data_receiver) = tokio::sync::mpsc::unbounded_channel();
    let shutdown = CancellationToken::new();
    let thread = loader::spawn(JobFeed::new(store.clone()), command_receiver, data_sender, shutdown.clone()).unwrap();
    let mut app = App::new("jobs".into(), PathBuf::from("/"), None, (120, 40), Utc::now());
    command_sender.send(LoaderCommand::Watch(Some(id.clone()))).unwrap();

    let samples = if quick() { 50 } else { 400 };
    let mut latencies = Vec::with_capacity(samples);
    let mut file = std::fs::OpenOptions::new().append(true).open(&output_path).unwrap();
    let mut reads_before = (0, 0);
    runtime.block_on(async {
        // The first listing and the first read of the output arrive.
        while !(app.loaded && app.pane.lines.back().is_some_and(|last| last.text == "start")) {
            let event = tokio::time::timeout(DEADLINE, data_receiver.recv()).await.expect("the first read").unwrap();
            app.apply_data(event);
        }
        reads_before = (store.counters().meta_reads(), store.counters().listings());
        for sample in 0..samples {
            let line = format!("tick {sample}");
            let written = Instant::now();
            writeln!(file, "{line}").unwrap();
            loop {
                let event = tokio::time::timeout(DEADLINE, data_receiver.recv()).await.unwrap().unwrap();
                let is_output = matches!(event, DataEvent::Output(_, OutputUpdate::Appended { .. }));
                app.apply_data(event);
                if is_output && app.pane.lines.back().is_some_and(|last| last.text == line) {
                    break;
                }
            }
            latencies.push(written.elapsed());
            // Writes a few ms apart, as an agent's lines are.
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    });
    let meta_reads = store.counters().meta_reads() - reads_before.0;
    let listings = store.counters().listings() - reads_before.1;
    shutdown.cancel();
    assert!(thread.join().is_ok(), "the loader thread did not panic");
    latencies.sort();
    println!(
        "write → dashboard state ({samples} lines): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {meta_reads} meta reads, {listings} listings",
        percentile(&latencies, 50.0).as_secs_f64() * 1e3,
        percentile(&latencies, 99.0).as_secs_f64() * 1e3,
        latencies.last().unwrap().as_secs_f64() * 1e3,
    );
    // Output is news about output only: following it reads no record and lists nothing.
    assert_eq!((meta_reads, listings), (0, 0), "reads while following {samples} appended lines");
}

/// Job `n` of many: done, a minute long, made `n` seconds before the newest; with
/// `sets`, the first 30,000 are attempts of sets of three.
fn many_jobs_record(n: usize, sets: bool) -> JobRecord {
    let raw = format!("{n:08x}");
    let started = Utc::now() - chrono::Duration::seconds(n as i64 + 60);
    let mut json = serde_json::json!({
        "job_id": raw, "status": "done", "prompt": format!("task {n}"), "cwd": "/home/me/src/project",
        "approval_policy": "suggest", "pid": null, "started_at": started.to_rfc3339(),
        "finished_at": (started + chrono::Duration::seconds(60)).to_rfc3339(), "exit_code": 0,
    });
    if sets && n < 30_000 {
        json["attempt_group"] = format!("{:08x}", n - n % 3).into();
        json["attempt"] = (n % 3 + 1).into();
    }
    let created = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(2_000_000_000 - n as u64);
    JobRecord { id: JobId::parse(&raw).unwrap(), created, meta: Ok(JobMeta::from_json(json.to_string().as_bytes()).unwrap()) }
}

/// Part 4: the table's state with 50,000 jobs (the table draws only the rows on
/// screen; what grows with the jobs is this).
fn many_jobs_state(sets: bool) {
    const JOBS: usize = 50_000;
    let samples = if quick() { 30 } else { 200 };
    let mut app = App::new("jobs".into(), PathBuf::from("/"), None, (160, 45), Utc::now());
    app.apply_data(DataEvent::Jobs((0..JOBS).map(|n| many_jobs_record(n, sets)).collect()));
    assert_eq!(app.jobs.len(), JOBS);
    let rows = app.view.len();
    let mut updates = Vec::with_capacity(samples);
    let mut moves = Vec::with_capacity(samples);
    for sample in 0..samples {
        // An attempt's record changes (or a plain job's), as a finishing job's does.
        let record = many_jobs_record(sample * 997 % JOBS, sets);
        let started = Instant::now();
        app.apply_data(DataEvent::Job(Box::new(record)));
        updates.push(started.elapsed());
        let started = Instant::now();
        app.apply(if sample % 2 == 0 { Action::Down } else { Action::Up });
        moves.push(started.elapsed());
    }
    updates.sort();
    moves.sort();
    let what = if sets { "30,000 in 10,000 attempt sets" } else { "no attempt set" };
    println!(
        "{JOBS} jobs ({what}; {rows} rows): a job's update taken in p50 {:.2} ms, p99 {:.2} ms; a move p50 {:.3} ms, p99 {:.3} ms",
        percentile(&updates, 50.0).as_secs_f64() * 1e3,
        percentile(&updates, 99.0).as_secs_f64() * 1e3,
        percentile(&moves, 50.0).as_secs_f64() * 1e3,
        percentile(&moves, 99.0).as_secs_f64() * 1e3,
    );
    let expected_rows = if sets { JOBS + 10_000 } else { JOBS };
    assert_eq!(rows, expected_rows, "each set is a row of its own over its attempts");
}

struct Tmux {
    socket: String,
}

impl Tmux {
    fn start(command: &str, width: u16, height: u16) -> Tmux {
        let tmux = Tmux { socket: format!("codex-async-bench-{}", std::process::id()) };
        let status =
            tmux.run(&["-f", "/dev/null", "new-session", "-d", "-s", "b", "-x", &width.to_string(), "-y", &height.to_string(), command]);
        assert!(status.status.success());
        tmux
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux").arg("-L").arg(&self.socket).args(args).output().unwrap()
    }

    fn capture(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", "b"]).stdout).into_owned()
    }

    fn pane_pid(&self) -> i32 {
        String::from_utf8_lossy(&self.run(&["list-panes", "-t", "b", "-F", "#{pane_pid}"]).stdout).trim().parse().unwrap()
    }

    fn wait_for(&self, text: &str, timeout: Duration) -> Duration {
        let started = Instant::now();
        while started.elapsed() < timeout {
            if self.capture().contains(text) {
                return started.elapsed();
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        panic!("{text:?} did not show within {timeout:?}:\n{}", self.capture());
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "b"];
        args.extend_from_slice(keys);
        self.run(&args);
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

/// Cancels a job when dropped, and ends whatever of it is left: the flood stops even
/// when a measurement fails.
struct CancelOnDrop {
    home: PathBuf,
    id: String,
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        let _ = Command::new(BIN).args(["cancel", &self.id, "--grace", "0.5"]).env("CODEX_ASYNC_HOME", &self.home).output();
        support::end_jobs_in(&self.home.join("jobs"));
    }
}

/// utime + stime of a process, in seconds.
fn cpu_seconds(pid: i32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks: f64 =
        fields.get(11).and_then(|f| f.parse().ok()).unwrap_or(0.0) + fields.get(12).and_then(|f| f.parse().ok()).unwrap_or(0.0);
    ticks / 100.0
}

fn rss_mb(pid: i32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb: f64 =
        status.lines().find_map(|line| line.strip_prefix("VmRSS:")).and_then(|v| v.split_whitespace().next()?.parse().ok()).unwrap_or(0.0);
    kb / 1024.0
}

fn dashboard_command(home: &Path, agent: &Path) -> String {
    format!(
        "cd {home} && exec env CODEX_ASYNC_HOME={home} CODEX_BIN={agent} TERM=xterm-256color {BIN} --no-mcp",
        home = home.display(),
        agent = agent.display()
    )
}

/// Measures how long `?` takes to open the help and Esc to close it, `rounds` times.
fn key_latencies(tmux: &Tmux, rounds: usize) -> Vec<Duration> {
    let mut latencies = Vec::new();
    for _ in 0..rounds {
        let started = Instant::now();
        tmux.keys(&["?"]);
        // The help's title: "Keys (Esc closes)", or "Keys (↑↓ more, Esc closes)" when it scrolls.
        tmux.wait_for("Esc closes)", DEADLINE);
        latencies.push(started.elapsed());
        tmux.keys(&["Escape"]);
        let closed = Instant::now();
        while tmux.capture().contains("Esc closes)") && closed.elapsed() < DEADLINE {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    latencies.sort();
    latencies
}

/// Starts `count` short jobs through the CLI (another process) and measures, for each,
/// from `start` returning to its id showing in the pane (tmux captures every ~2 ms).
fn jobs_from_another_process_appear(tmux: &Tmux, home: &Path, count: usize) -> Vec<Duration> {
    let mut latencies = Vec::with_capacity(count);
    for _ in 0..count {
        let output = Command::new(BIN)
            .args(["start", "--json", "--cwd", home.to_str().unwrap(), "--", "quick"])
            .env("CODEX_ASYNC_HOME", home)
            .env("CODEX_BIN", "/bin/true")
            .output()
            .unwrap();
        let started = Instant::now();
        let job: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        let id = job["job_id"].as_str().unwrap().to_owned();
        tmux.wait_for(&id, DEADLINE);
        latencies.push(started.elapsed());
        // Keep the table short, so every new row is in view. Only a job its supervisor
        // has let go can be deleted: on a loaded machine `true` may not have ended yet,
        // and `wait` returns as the result is written, just before the supervisor exits.
        let waited = Command::new(BIN).args(["wait", &id, "--timeout", "30"]).env("CODEX_ASYNC_HOME", home).output().unwrap();
        assert!(waited.status.success(), "{id} did not end: {}", String::from_utf8_lossy(&waited.stdout));
        support::wait_for_supervisor_exit(home, &id);
        let deleted = Command::new(BIN).args(["delete", &id]).env("CODEX_ASYNC_HOME", home).output().unwrap();
        assert!(deleted.status.success(), "{}", String::from_utf8_lossy(&deleted.stderr));
        let gone = Instant::now();
        while tmux.capture().contains(&id) {
            assert!(gone.elapsed() < DEADLINE, "{id} stayed on screen after its deletion");
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    latencies.sort();
    latencies
}

/// Part 2: the real binary under a flood (its idle cost is `cargo bench --bench idle`).
fn flood_cpu_and_key_latency() {
    let home = tempfile::tempdir().unwrap();
    // An agent that writes ~50 MB/s of coloured lines until killed.
    let agent = home.path().join("flood-agent");
    std::fs::write(
        &agent,
        "#!/usr/bin/env python3\nimport sys, time\n\
         line = ('\\x1b[32mok\\x1b[0m flood line with some text to make it about a hundred bytes long ' + 'x' * 20 + '\\n').encode()\n\
         chunk = line * (500_000 // len(line))\nout = sys.stdout.buffer\n\
         while True:\n    start = time.monotonic()\n    out.write(chunk); out.flush()\n    \
         time.sleep(max(0, 0.01 - (time.monotonic() - start)))\n",
    )
    .unwrap();
    std::fs::set_permissions(&agent, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();

    let tmux = Tmux::start(&dashboard_command(home.path(), &agent), 140, 40);
    tmux.wait_for("No jobs yet", DEADLINE);
    let pid = tmux.pane_pid();

    let idle_keys = key_latencies(&tmux, if quick() { 5 } else { 100 });
    let appear = jobs_from_another_process_appear(&tmux, home.path(), if quick() { 5 } else { 30 });

    let engine_home = home.path().to_owned();
    let started = Command::new(BIN)
        .args(["start", "--json", "--cwd", engine_home.to_str().unwrap(), "--", "flood"])
        .env("CODEX_ASYNC_HOME", &engine_home)
        .env("CODEX_BIN", &agent)
        .output()
        .unwrap();
    let job: serde_json::Value = serde_json::from_slice(&started.stdout).unwrap();
    let id = job["job_id"].as_str().unwrap().to_owned();
    let flood = CancelOnDrop { home: engine_home.clone(), id: id.clone() };
    // Select it: the newest job, at the top of the table.
    tmux.wait_for(&id, DEADLINE);
    tmux.keys(&["g"]);
    tmux.wait_for("flood line", DEADLINE);
    let flood_window = if quick() { 3.0 } else { 8.0 };
    let output_path = engine_home.join("jobs").join(&id).join("output.txt");
    let size_before = std::fs::metadata(&output_path).map(|m| m.len()).unwrap_or(0);
    let before = cpu_seconds(pid);
    let at = Instant::now();
    std::thread::sleep(Duration::from_secs_f64(flood_window));
    let busy = (cpu_seconds(pid) - before) / at.elapsed().as_secs_f64() * 100.0;
    let rate = (std::fs::metadata(&output_path).map(|m| m.len()).unwrap_or(0) - size_before) as f64 / at.elapsed().as_secs_f64() / 1e6;
    // Enough rounds that the p99 is not simply the slowest one.
    let flood_keys = key_latencies(&tmux, if quick() { 5 } else { 200 });
    let flood_rss = rss_mb(pid);

    let cancelled =
        Command::new(BIN).args(["cancel", &id, "--grace", "0.5", "--json"]).env("CODEX_ASYNC_HOME", &engine_home).output().unwrap();
    let cancelled: serde_json::Value = serde_json::from_slice(&cancelled.stdout).expect("cancel --json");
    assert_eq!(cancelled["status"], "cancelled", "the flood was cancelled: {cancelled}");
    support::wait_until("the jobs' processes to exit", Duration::from_secs(60), || support::job_processes_of_home(&engine_home).is_empty());
    drop(flood);
    println!("flood cancelled: 0 processes left of {} jobs", appear.len() + 1);
    println!(
        "a job started by another process → its row on screen: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} jobs)",
        percentile(&appear, 50.0).as_secs_f64() * 1e3,
        percentile(&appear, 99.0).as_secs_f64() * 1e3,
        appear.last().unwrap().as_secs_f64() * 1e3,
        appear.len()
    );
    println!(
        "key → screen (tmux capture, idle): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} keys)",
        percentile(&idle_keys, 50.0).as_secs_f64() * 1e3,
        percentile(&idle_keys, 99.0).as_secs_f64() * 1e3,
        idle_keys.last().unwrap().as_secs_f64() * 1e3,
        idle_keys.len()
    );
    println!("flood: {rate:.1} MB/s written; dashboard CPU {busy:.1}% of a core; RSS {flood_rss:.1} MB");
    println!(
        "key → screen (tmux capture, under flood): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} keys)",
        percentile(&flood_keys, 50.0).as_secs_f64() * 1e3,
        percentile(&flood_keys, 99.0).as_secs_f64() * 1e3,
        flood_keys.last().unwrap().as_secs_f64() * 1e3,
        flood_keys.len()
    );
}

/// Part 3: 10,000 jobs and a 1 GiB log.
fn rss_with_many_jobs_and_a_huge_log() {
    let home = tempfile::tempdir().unwrap();
    let store = JobStore::new(home.path());
    let jobs = if quick() { 1_000 } else { 10_000 };
    let made = Instant::now();
    for n in 0..jobs {
        let id = store.reserve().unwrap();
        let mut meta = running_meta(&id, home.path());
        meta.status = codex_async::jobs::Status::Done;
        meta.exit_code = Some(0);
        meta.prompt = format!("job number {n}: refactor something");
        // Plain writes: 10,000 fsyncs would only slow the setup down.
        std::fs::write(store.meta_path(&id), meta.to_json()).unwrap();
    }
    // The newest job (selected first) has a 1 GiB log of real lines.
    std::thread::sleep(Duration::from_millis(20));
    let big = store.reserve().unwrap();
    let mut meta = running_meta(&big, home.path());
    meta.status = codex_async::jobs::Status::Done;
    std::fs::write(store.meta_path(&big), meta.to_json()).unwrap();
    let gib: u64 = if quick() { 64 << 20 } else { 1 << 30 };
    {
        let mut file = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(store.output_path(&big)).unwrap());
        let block: String = (0..10_000).map(|i| format!("\x1b[36mlog\x1b[0m line {i:05} of a very long agent session\n")).collect();
        let mut written = 0u64;
        while written < gib {
            file.write_all(block.as_bytes()).unwrap();
            written += block.len() as u64;
        }
        file.write_all(b"THE LAST LINE\n").unwrap();
    }
    let setup = made.elapsed();

    let tmux = Tmux::start(&dashboard_command(home.path(), Path::new("/bin/false")), 140, 40);
    let shown = tmux.wait_for("THE LAST LINE", Duration::from_secs(30));
    tmux.wait_for(&format!("{} / {}", jobs + 1, jobs + 1), Duration::from_secs(30));
    let pid = tmux.pane_pid();
    // Scroll through the table and up the log a little, then measure.
    tmux.keys(&["G", "g", "Tab", "PageUp", "PageUp", "PageUp"]);
    std::thread::sleep(Duration::from_millis(500));
    let rss = rss_mb(pid);
    println!(
        "{} jobs + a {:.2} GiB log selected: last line on screen {:.0} ms after start; RSS {rss:.1} MB (setup {:.1}s)",
        jobs + 1,
        gib as f64 / (1u64 << 30) as f64,
        shown.as_secs_f64() * 1e3,
        setup.as_secs_f64()
    );
}
