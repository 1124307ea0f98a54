//! What a process costs where one is born (`cargo bench --bench lean`), on the release
//! binary, each figure next to its floor measured in the same run:
//!
//! - `codex_start` round trip over stdio, with a bare JSON-RPC client (a line out, a
//!   line back), the agent `/bin/true`; and `codex-async start` as a whole process next
//!   to `pueue add` when pueue is found (`$PUEUE_BIN`, with `pueued` beside it);
//! - `codex_poll` round trip over stdio (a 500-line log) next to a do-nothing echo
//!   server (`scripts/echo_mcp.py`) answered through the same client;
//! - `codex-async poll` of a 1 GiB log next to GNU `tail -n 100`, and `codex-async list
//!   --limit 20` over 10,000 jobs next to `ls -t | head -20`, as whole processes;
//! - a running job's supervisor: its private memory (`/proc/<pid>/smaps_rollup`).
//!
//! Starts alternate with their floor (ours, theirs, ours, …) so a busy machine weighs
//! on both alike. `LEAN_BENCH_QUICK=1` takes fewer samples (CI) and asserts what cannot
//! depend on the machine's load: every call answered, every job made, and a
//! supervisor's private memory under [`QUICK_PRIVATE_KIB`].
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_codex-async");

fn quick() -> bool {
    std::env::var_os("LEAN_BENCH_QUICK").is_some()
}

/// The most private memory a running job's supervisor may hold in the quick run. CI
/// builds it with the ci-bench profile (no whole-program optimisation), where a
/// supervisor holds 1.6–2.0 MiB to itself against 0.8–1.0 MiB on the release build
/// `cargo bench` measures (a larger binary: more relocated pages, more code touched);
/// 3 MiB leaves that build its spread and still fails a supervisor whose private
/// memory doubles.
const QUICK_PRIVATE_KIB: u64 = 3 * 1024;

fn samples(full: usize) -> usize {
    if quick() { full / 10 } else { full }
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

struct Stats {
    p50: f64,
    p99: f64,
}

fn stats(mut times: Vec<f64>) -> Stats {
    times.sort_by(f64::total_cmp);
    let at = |p: f64| times[((times.len() as f64 - 1.0) * p).round() as usize];
    Stats { p50: at(0.5), p99: at(0.99) }
}

fn line(what: &str, ours: &Stats, floor_name: &str, floor: &Stats) {
    println!(
        "lean: {what}: p50 {:.3} ms, p99 {:.3} ms — {floor_name} p50 {:.3} ms, p99 {:.3} ms — {:.2}× at p50",
        ours.p50,
        ours.p99,
        floor.p50,
        floor.p99,
        ours.p50 / floor.p50
    );
}

/// A bare JSON-RPC client over a child's stdin/stdout.
struct Bare {
    child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
    next_id: u64,
}

impl Bare {
    fn spawn(mut command: Command) -> Bare {
        let mut child = command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
        let input = child.stdin.take().unwrap();
        let output = BufReader::new(child.stdout.take().unwrap());
        let mut bare = Bare { child, input, output, next_id: 1 };
        bare.call(
            "initialize",
            json!({"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bare", "version": "1"}}),
        );
        writeln!(bare.input, "{}", json!({"jsonrpc": "2.0", "method": "notifications/initialized"})).unwrap();
        bare
    }

    /// One request, one answer (notifications in between are skipped).
    fn call(&mut self, method: &str, params: Value) -> Value {
        self.timed_call(method, params).0
    }

    /// One request and its answer, with the time from just before the request is
    /// written to just after the answer's line is read: the client's own parsing of
    /// the answer is left out, so a big answer costs only its transfer.
    fn timed_call(&mut self, method: &str, params: Value) -> (Value, Duration) {
        let id = self.next_id;
        self.next_id += 1;
        let request = format!("{}\n", json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        let began = Instant::now();
        self.input.write_all(request.as_bytes()).unwrap();
        self.input.flush().unwrap();
        let mut line = String::new();
        loop {
            line.clear();
            assert!(self.output.read_line(&mut line).unwrap() > 0, "the server ended");
            let took = began.elapsed();
            let message: Value = serde_json::from_str(&line).unwrap();
            if message["id"] == id {
                return (message, took);
            }
        }
    }

    fn timed_tool(&mut self, name: &str, arguments: Value) -> (Value, f64) {
        let (answer, took) = self.timed_call("tools/call", json!({"name": name, "arguments": arguments}));
        assert!(answer["error"].is_null(), "{answer}");
        (answer["result"].clone(), ms(took))
    }
}

impl Drop for Bare {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn ours(home: &Path) -> Command {
    let mut command = Command::new(BIN);
    command.arg("serve").env("CODEX_ASYNC_HOME", home).env("CODEX_BIN", "/bin/true");
    command
}

fn echo() -> Command {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/echo_mcp.py");
    let mut command = Command::new("python3");
    command.arg(script);
    command
}

fn mcp_round_trips(home: &Path) {
    let mut server = Bare::spawn(ours(home));
    let mut floor = Bare::spawn(echo());
    // Let the server's spare supervisor be made before timing starts.
    std::thread::sleep(Duration::from_millis(200));
    let cwd = home.to_str().unwrap();
    let (mut starts, mut echoes) = (Vec::new(), Vec::new());
    let mut ids = Vec::new();
    for _ in 0..samples(200) {
        let (started, took) = server.timed_tool("codex_start", json!({"prompt": "x", "cwd": cwd}));
        starts.push(took);
        ids.push(started["structuredContent"]["job_id"].as_str().unwrap().to_owned());
        echoes.push(floor.timed_tool("codex_start", json!({"prompt": "x", "cwd": cwd})).1);
        // Starts a person or an agent makes are not back to back: the spare is remade.
        std::thread::sleep(Duration::from_millis(20));
    }
    let unique: std::collections::HashSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "every start made a job");
    line("codex_start over stdio", &stats(starts), "echo server", &stats(echoes.clone()));

    // A 500-line log to poll.
    let log_job = &ids[0];
    let output = home.join("jobs").join(log_job).join("output.txt");
    let text: String = (0..500).map(|n| format!("line {n} of the agent's output, as long as a line usually is\n")).collect();
    std::fs::write(&output, text).unwrap();
    let (mut polls, mut echoes) = (Vec::new(), Vec::new());
    let (ours_before, echo_before) = (cpu_ns(server.child.id()), cpu_ns(floor.child.id()));
    for _ in 0..samples(2000) {
        let (polled, took) = server.timed_tool("codex_poll", json!({"job_id": log_job}));
        polls.push(took);
        assert!(polled["structuredContent"]["output"].as_str().unwrap().contains("line 499"));
        echoes.push(floor.timed_tool("codex_poll", json!({"job_id": log_job})).1);
    }
    line("codex_poll over stdio, 500-line log", &stats(polls), "echo server", &stats(echoes));
    let (ours_cpu, echo_cpu) = (cpu_ns(server.child.id()) - ours_before, cpu_ns(floor.child.id()) - echo_before);
    let calls = samples(2000) as f64;
    println!(
        "lean: CPU per codex_poll (all threads, /proc/<pid>/task/*/schedstat): ours {:.1} µs, echo server {:.1} µs",
        ours_cpu as f64 / calls / 1000.0,
        echo_cpu as f64 / calls / 1000.0
    );

    // The transport alone: a request rmcp answers itself.
    let (mut pings, mut echoes) = (Vec::new(), Vec::new());
    for _ in 0..samples(2000) {
        pings.push(ms(server.timed_call("ping", json!({})).1));
        echoes.push(ms(floor.timed_call("ping", json!({})).1));
    }
    line("ping over stdio (rmcp and the transport alone)", &stats(pings), "echo server", &stats(echoes));
}

/// CPU time of every thread of a process so far, in nanoseconds.
fn cpu_ns(pid: u32) -> u64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return 0 };
    tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("schedstat")).ok())
        .filter_map(|stat| stat.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

/// Runs a command to its end, output discarded; its wall time.
fn timed(command: &mut Command) -> f64 {
    let began = Instant::now();
    let status = command.stdout(Stdio::null()).stderr(Stdio::null()).status().unwrap();
    assert!(status.success(), "{command:?}");
    ms(began.elapsed())
}

fn cli_verbs(home: &Path) {
    // A 1 GiB log, made sparse-free by writing lines in large blocks.
    let id = {
        let output = Command::new(BIN)
            .env("CODEX_ASYNC_HOME", home)
            .env("CODEX_BIN", "/bin/true")
            .args(["start", "--cwd", "/tmp", "--", "x"])
            .output()
            .unwrap();
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    };
    let big = home.join("jobs").join(&id).join("output.txt");
    if !quick() || std::env::var_os("LEAN_BENCH_BIG").is_some() {
        let block: String = (0..16_384).map(|n| format!("line {n} of a long log, with some words in it to be realistic\n")).collect();
        let mut file = std::fs::File::create(&big).unwrap();
        let mut written = 0u64;
        while written < 1 << 30 {
            file.write_all(block.as_bytes()).unwrap();
            written += block.len() as u64;
        }
    } else {
        let block: String = (0..16_384).map(|n| format!("line {n}\n")).collect();
        std::fs::write(&big, block).unwrap();
    }
    let (mut polls, mut tails) = (Vec::new(), Vec::new());
    for _ in 0..samples(100) {
        polls.push(timed(Command::new(BIN).env("CODEX_ASYNC_HOME", home).args(["poll", &id])));
        tails.push(timed(Command::new("tail").args(["-n", "100"]).arg(&big)));
    }
    let size = std::fs::metadata(&big).unwrap().len() as f64 / (1u64 << 30) as f64;
    line(&format!("`codex-async poll` of a {size:.2} GiB log"), &stats(polls), "`tail -n 100`", &stats(tails));

    // 10,000 jobs, written as the original wrote them.
    let jobs = home.join("jobs");
    for n in 0..samples(10_000) {
        let id = format!("b{n:07x}");
        let folder = jobs.join(&id);
        std::fs::create_dir_all(&folder).unwrap();
        let meta = json!({"job_id": id, "status": "done", "prompt": format!("job {n}"), "cwd": "/tmp", "approval_policy": "suggest",
            "pid": null, "started_at": "2026-11-22T10:00:00+00:00", "finished_at": "2026-11-22T10:01:00+00:00", "exit_code": 0});
        std::fs::write(folder.join("meta.json"), serde_json::to_vec_pretty(&meta).unwrap()).unwrap();
    }
    let (mut lists, mut ls) = (Vec::new(), Vec::new());
    for _ in 0..samples(100) {
        lists.push(timed(Command::new(BIN).env("CODEX_ASYNC_HOME", home).args(["list", "--limit", "20"])));
        ls.push(timed(Command::new("sh").arg("-c").arg(format!("ls -t {} | head -20", jobs.display()))));
    }
    line(&format!("`codex-async list --limit 20` of {} jobs", samples(10_000) + 1), &stats(lists), "`ls -t | head -20`", &stats(ls));
}

/// `codex-async start` and `pueue add` as whole processes, alternating.
fn starts_next_to_pueue(home: &Path) {
    let mut ours = Vec::new();
    for _ in 0..samples(100) {
        ours.push(timed(
            Command::new(BIN).env("CODEX_ASYNC_HOME", home).env("CODEX_BIN", "/bin/true").args(["start", "--cwd", "/tmp", "--", "x"]),
        ));
    }
    let Some(pueue) = std::env::var_os("PUEUE_BIN").map(PathBuf::from) else {
        let ours = stats(ours);
        println!(
            "lean: `codex-async start` (whole process): p50 {:.3} ms, p99 {:.3} ms (set PUEUE_BIN for `pueue add` beside it)",
            ours.p50, ours.p99
        );
        return;
    };
    let pueued = pueue.with_file_name("pueued");
    let config_dir = home.join("pueue");
    std::fs::create_dir_all(&config_dir).unwrap();
    let config = config_dir.join("pueue.yml");
    std::fs::write(
        &config,
        format!("shared:\n  pueue_directory: {dir}\n  runtime_directory: {dir}\n  use_unix_socket: true\n", dir = config_dir.display()),
    )
    .unwrap();
    let mut daemon = support::ProcessGuard::new(
        Command::new(&pueued).arg("-c").arg(&config).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap(),
    );
    support::wait_until("pueued to listen", Duration::from_secs(30), || {
        Command::new(&pueue)
            .arg("-c")
            .arg(&config)
            .arg("status")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    });
    let mut theirs = Vec::new();
    ours.clear();
    for _ in 0..samples(100) {
        ours.push(timed(
            Command::new(BIN).env("CODEX_ASYNC_HOME", home).env("CODEX_BIN", "/bin/true").args(["start", "--cwd", "/tmp", "--", "x"]),
        ));
        theirs.push(timed(Command::new(&pueue).arg("-c").arg(&config).args(["add", "--", "true"])));
    }
    line("`codex-async start` (whole process)", &stats(ours), "`pueue add`", &stats(theirs));
    let _ = daemon.child().kill();
}

/// What one more running job costs in memory: its supervisor's private memory (what
/// it alone maps) while another job runs, so the binary's code is counted once.
fn supervisor_memory(home: &Path) {
    // An agent that takes codex's arguments and runs until cancelled.
    let agent = home.join("long-agent");
    std::fs::write(&agent, "#!/bin/sh\nexec sleep 600\n").unwrap();
    std::fs::set_permissions(&agent, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    // Pages of a binary just built are dirty in the page cache until written back, and
    // would count as the process's own.
    nix::unistd::sync();
    let mut supervisors = Vec::new();
    for _ in 0..2 {
        let output = Command::new(BIN)
            .env("CODEX_ASYNC_HOME", home)
            .env("CODEX_BIN", &agent)
            .args(["start", "--cwd", "/tmp", "--", "x"])
            .output()
            .unwrap();
        let id = String::from_utf8(output.stdout).unwrap().trim().to_owned();
        let meta_path = home.join("jobs").join(&id).join("meta.json");
        let mut supervisor = 0;
        support::wait_until("the supervisor to record the agent's pid", Duration::from_secs(30), || {
            let meta: Value = std::fs::read(&meta_path).ok().and_then(|bytes| serde_json::from_slice(&bytes).ok()).unwrap_or(Value::Null);
            supervisor = meta["supervisor_pid"].as_i64().unwrap_or(0) as i32;
            supervisor > 0 && meta["pid"].is_i64()
        });
        supervisors.push((id, supervisor));
    }
    // Settled: the pid written, the stream reader waiting.
    std::thread::sleep(Duration::from_millis(300));
    let (_, supervisor) = supervisors[1];
    let rollup = std::fs::read_to_string(format!("/proc/{supervisor}/smaps_rollup")).unwrap();
    let kib = |key: &str| -> u64 {
        rollup
            .lines()
            .find_map(|line| line.strip_prefix(key))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    let private = kib("Private_Clean:") + kib("Private_Dirty:");
    println!(
        "lean: a running job's supervisor, another running: private {private} KiB (clean {}, dirty {}); RSS {} KiB, PSS {} KiB; {} thread(s)",
        kib("Private_Clean:"),
        kib("Private_Dirty:"),
        kib("Rss:"),
        kib("Pss:"),
        std::fs::read_dir(format!("/proc/{supervisor}/task")).map_or(0, Iterator::count)
    );
    for (id, _) in &supervisors {
        let _ = Command::new(BIN).env("CODEX_ASYNC_HOME", home).args(["cancel", id]).stdout(Stdio::null()).status();
    }
    if quick() {
        assert!(private < QUICK_PRIVATE_KIB, "a supervisor's private memory is {private} KiB");
    }
}

/// A named part of the benchmark.
type Part = (&'static str, fn(&Path));

fn main() {
    if std::env::args().any(|arg| arg == "--list") {
        return;
    }
    // `cargo bench --bench lean -- mcp` runs the parts whose name holds `mcp`.
    let filter = std::env::args().skip(1).find(|arg| !arg.starts_with('-'));
    let parts: [Part; 4] =
        [("mcp", mcp_round_trips), ("cli", cli_verbs), ("start", starts_next_to_pueue), ("supervisor", supervisor_memory)];
    for (name, part) in parts {
        if filter.as_deref().is_some_and(|wanted| !name.contains(wanted)) {
            continue;
        }
        let home = support::TestHome::new();
        part(home.path());
        support::end_jobs_in(&home.path().join("jobs"));
    }
}
