//! What an idle codex-async process costs (`cargo bench --bench idle`), measured on the
//! release binary, on the process itself, with finished jobs stored:
//!
//! - the dashboard (MCP served beside it), in tmux;
//! - `serve --http` after a client listed the resources;
//! - a CLI `wait` on a running job;
//! - a stdio `serve` answering one `codex_wait` on a running job;
//! - the supervisor of a job waiting `--after` a running job and `--delay 1h`.
//!
//! Each is measured three ways over the same window: CPU from `/proc/<pid>/stat`
//! (utime + stime, 10 ms ticks), CPU from `/proc/<pid>/task/*/schedstat` (nanoseconds,
//! every thread), and wake-ups (context switches of every thread). The second and third
//! check the first: an idle process has no wake-ups to speak of.
//!
//! `IDLE_BENCH_QUICK=1` shortens the window (CI runs it so) and asserts the counts:
//! less than one wake-up a second for the dashboard, `serve --http` and `wait` (so no
//! timer of a second or faster runs), and at most a handful for the stdio server whose
//! client asked for progress (one notification every 3 s). Either way, no process of
//! the running jobs it starts is left once they are cancelled.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "common/mod.rs"]
mod common;
#[path = "../tests/support/mod.rs"]
mod support;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use codex_async::jobs::JobStore;
use common::usage;
use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;

const BIN: &str = env!("CARGO_BIN_EXE_codex-async");

fn quick() -> bool {
    std::env::var_os("IDLE_BENCH_QUICK").is_some()
}

fn window() -> Duration {
    if quick() { Duration::from_secs(3) } else { Duration::from_secs(10) }
}

struct Figure {
    what: String,
    /// The most wake-ups a second this process may have in the quick run.
    allowed_wakeups_per_s: f64,
    stat_pct: f64,
    sched_pct: f64,
    wakeups_per_s: f64,
}

/// Measures `pid` over the window, after letting it settle.
fn measure(what: String, pid: i32, allowed_wakeups_per_s: f64) -> Figure {
    std::thread::sleep(Duration::from_secs(2));
    let ticks_per_s = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK).unwrap().unwrap() as f64;
    let before = usage(pid);
    let began = Instant::now();
    std::thread::sleep(window());
    let after = usage(pid);
    let seconds = began.elapsed().as_secs_f64();
    Figure {
        what,
        allowed_wakeups_per_s,
        stat_pct: (after.stat_ticks - before.stat_ticks) as f64 / ticks_per_s / seconds * 100.0,
        sched_pct: (after.sched_ns - before.sched_ns) as f64 / 1e9 / seconds * 100.0,
        wakeups_per_s: (after.switches - before.switches) as f64 / seconds,
    }
}

fn command(home: &Path) -> Command {
    let mut command = Command::new(BIN);
    command.env("CODEX_ASYNC_HOME", home).env("CODEX_BIN", sleeper(home)).env_remove("CODEX_ASYNC_TOKEN");
    command
}

/// An agent that sleeps until cancelled.
fn sleeper(home: &Path) -> std::path::PathBuf {
    let path = home.join("sleeper");
    if !path.exists() {
        std::fs::write(&path, "#!/bin/sh\nexec sleep 600\n").unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    }
    path
}

fn start_running_job(home: &Path) -> String {
    let output = command(home).args(["start", "--json", "--cwd", "/tmp", "--", "sleep"]).output().unwrap();
    let started: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    started["job_id"].as_str().unwrap().to_owned()
}

fn cancel(home: &Path, id: &str) {
    let _ = command(home).args(["cancel", id, "--grace", "0.5"]).output();
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A tmux server of its own, killed when dropped (a failed start included).
struct TmuxServer(String);

impl TmuxServer {
    fn run(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux").arg("-L").arg(&self.0).args(args).output().unwrap()
    }
}

impl Drop for TmuxServer {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

fn dashboard(home: &Path, jobs: usize) -> Figure {
    let server = TmuxServer(format!("codex-async-idle-{}", std::process::id()));
    let tmux = |args: &[&str]| server.run(args);
    let line = format!(
        "cd {home} && exec env CODEX_ASYNC_HOME={home} CODEX_BIN=/bin/true TERM=xterm-256color {BIN} --port 0",
        home = home.display()
    );
    assert!(tmux(&["-f", "/dev/null", "new-session", "-d", "-s", "idle", "-x", "160", "-y", "45", &line]).status.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    while !String::from_utf8_lossy(&tmux(&["capture-pane", "-p", "-t", "idle"]).stdout).contains("http://127.0.0.1:") {
        assert!(Instant::now() < deadline, "the dashboard did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid: i32 = String::from_utf8_lossy(&tmux(&["list-panes", "-t", "idle", "-F", "#{pane_pid}"]).stdout).trim().parse().unwrap();
    measure(format!("dashboard (MCP on), {jobs} finished jobs"), pid, 1.0)
}

fn http_server(home: &Path, jobs: usize, runtime: &tokio::runtime::Runtime) -> Figure {
    let mut child = command(home).args(["serve", "--http", "127.0.0.1:0"]).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let stderr = support::lines_of(child.stderr.take().unwrap());
    let server = Killed(child);
    let line = support::next_line(&stderr, Duration::from_secs(30), "the server's URL on stderr");
    let url = line.trim().strip_prefix("codex-async: serving MCP at ").unwrap().to_owned();
    let client = runtime.block_on(async {
        let token = std::fs::read_to_string(home.join("token")).unwrap().trim().to_owned();
        let config = rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig::with_uri(url).auth_header(token);
        let transport = rmcp::transport::StreamableHttpClientTransport::from_config(config);
        let client = ().serve(transport).await.unwrap();
        let listed = client.list_all_resources().await.unwrap();
        assert!(listed.len() >= jobs.min(200) * 2);
        client
    });
    let figure = measure(format!("serve --http after resources/list, {jobs} finished jobs"), server.0.id() as i32, 1.0);
    runtime.block_on(async { drop(client.cancel().await) });
    figure
}

fn cli_wait(home: &Path, jobs: usize) -> Figure {
    let id = start_running_job(home);
    let waiter = Killed(command(home).args(["wait", &id]).stdout(Stdio::null()).spawn().unwrap());
    let figure = measure(format!("`wait` on a running job, {jobs} finished jobs"), waiter.0.id() as i32, 1.0);
    cancel(home, &id);
    figure
}

/// A job that waits for its moment (`--after` a running job, `--delay 1h`): its own
/// supervisor sleeps on the change feed and one timer. Its private memory is printed.
fn waiting_supervisor(home: &Path, jobs: usize) -> Figure {
    let running = start_running_job(home);
    let output =
        command(home).args(["start", "--json", "--cwd", "/tmp", "--after", &running, "--delay", "1h", "--", "later"]).output().unwrap();
    let waiting = serde_json::from_slice::<serde_json::Value>(&output.stdout).unwrap()["job_id"].as_str().unwrap().to_owned();
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(home.join("jobs").join(&waiting).join("meta.json")).unwrap()).unwrap();
    let pid = meta["supervisor_pid"].as_i64().unwrap() as i32;
    let figure = measure(format!("supervisor waiting --after a running job and --delay 1h, {jobs} finished jobs"), pid, 1.0);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let memory: Vec<&str> =
        status.lines().filter(|line| line.starts_with("VmRSS") || line.starts_with("RssAnon") || line.starts_with("Threads")).collect();
    println!("waiting supervisor: {}", memory.join(", ").split_whitespace().collect::<Vec<_>>().join(" "));
    cancel(home, &waiting);
    cancel(home, &running);
    figure
}

fn stdio_wait(home: &Path, jobs: usize, runtime: &tokio::runtime::Runtime) -> Figure {
    let id = start_running_job(home);
    let mut child = command(home).arg("serve").stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let pid = child.id() as i32;
    let _context = runtime.enter();
    let stdin = tokio::process::ChildStdin::from_std(child.stdin.take().unwrap());
    let stdout = tokio::process::ChildStdout::from_std(child.stdout.take().unwrap());
    let server = Killed(child);
    let (client, waiting) = runtime.block_on(async {
        let stdin = stdin.unwrap();
        let stdout = stdout.unwrap();
        let client = ().serve((stdout, stdin)).await.unwrap();
        let peer = client.peer().clone();
        let arguments = serde_json::json!({"job_id": id, "timeout_seconds": 45});
        let serde_json::Value::Object(arguments) = arguments else { unreachable!() };
        let waiting = tokio::spawn(async move { peer.call_tool(CallToolRequestParams::new("codex_wait").with_arguments(arguments)).await });
        (client, waiting)
    });
    let figure = measure(format!("stdio serve answering codex_wait, {jobs} finished jobs"), pid, 5.0);
    cancel(home, &id);
    runtime.block_on(async {
        let _ = tokio::time::timeout(Duration::from_secs(20), waiting).await;
        drop(client.cancel().await);
    });
    drop(server);
    figure
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let has_tmux = Command::new("tmux").arg("-V").output().is_ok_and(|output| output.status.success());
    let mut figures = Vec::new();
    for jobs in [20, 2000] {
        let home = tempfile::tempdir().unwrap();
        common::stock(&JobStore::new(home.path()), jobs);
        if has_tmux {
            figures.push(dashboard(home.path(), jobs));
        } else {
            println!("tmux not found: skipping the dashboard");
        }
        figures.push(http_server(home.path(), jobs, &runtime));
        figures.push(cli_wait(home.path(), jobs));
        figures.push(stdio_wait(home.path(), jobs, &runtime));
        figures.push(waiting_supervisor(home.path(), jobs));
        support::wait_until("the cancelled jobs' processes to exit", Duration::from_secs(60), || {
            support::job_processes_of_home(home.path()).is_empty()
        });
    }
    println!("every running job cancelled: 0 processes left");
    println!("idle cost over {:?} each (release binary, the process itself):", window());
    println!("| process | CPU (/proc/pid/stat) | CPU (schedstat, all threads) | wake-ups/s |");
    println!("| --- | --- | --- | --- |");
    for figure in &figures {
        println!("| {} | {:.3}% | {:.4}% | {:.1} |", figure.what, figure.stat_pct, figure.sched_pct, figure.wakeups_per_s);
    }
    if quick() {
        for figure in &figures {
            assert!(
                figure.wakeups_per_s < figure.allowed_wakeups_per_s,
                "{}: {:.1} wake-ups a second while idle (allowed: under {})",
                figure.what,
                figure.wakeups_per_s,
                figure.allowed_wakeups_per_s
            );
            assert!(figure.sched_pct < 0.5, "{}: {:.3}% of a core while idle", figure.what, figure.sched_pct);
        }
    }
}
