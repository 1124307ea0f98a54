//! What other hosts cost in the dashboard (`cargo bench --bench hosts`), on the release
//! binary: three hosts, each `codex-async serve` over its own home of 500 finished jobs
//! behind a command (as `ssh box codex-async serve` is), shown in the dashboard's hosts
//! view (`H`) in tmux.
//!
//! - idle: the dashboard's own CPU over a window with nothing changing anywhere, from
//!   `/proc/<pid>/stat` and checked against every thread's `schedstat`, and its wake-ups
//!   (context switches): nothing polls, each host's session is pinged every 15 s;
//! - a job started on a host (its CLI, on that host's home) until its row is on the
//!   local screen: from before the start to the first `capture-pane` that shows it
//!   (captures every 5 ms), so the start's own time is in it;
//! - memory: the dashboard's RssAnon with the three hosts connected against the same
//!   dashboard with no hosts, per host; and each host's command (here the host's own
//!   `serve`, which over ssh runs on the other machine: the local cost is then `ssh`).
//!
//! `HOSTS_BENCH_QUICK=1` (CI) uses 50 jobs a host and 5 starts, and asserts what load
//! cannot change: every job shows up, fewer than one wake-up a second while idle.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use codex_async::jobs::JobStore;
use common::usage;

#[path = "common/mod.rs"]
mod common;

const BIN: &str = env!("CARGO_BIN_EXE_codex-async");
const HOSTS: [&str; 3] = ["box", "gpu", "vm"];

fn quick() -> bool {
    std::env::var_os("HOSTS_BENCH_QUICK").is_some()
}

/// A tmux server of its own, killed when dropped (a failed run included).
struct TmuxServer(String);

impl TmuxServer {
    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux").arg("-L").arg(&self.0).args(args).output().unwrap()
    }

    fn screen(&self, session: &str) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", session]).stdout).into_owned()
    }

    fn wait_for(&self, session: &str, what: &str, mut condition: impl FnMut(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let screen = self.screen(session);
            if condition(&screen) {
                return screen;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}:\n{screen}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The dashboard on `home`, its pid once its header shows.
    fn dashboard(&self, session: &str, home: &Path) -> i32 {
        let line = format!(
            "cd {home} && exec env CODEX_ASYNC_HOME={home} CODEX_BIN=/bin/true TERM=xterm-256color {BIN} --no-mcp",
            home = home.display()
        );
        assert!(self.run(&["-f", "/dev/null", "new-session", "-d", "-s", session, "-x", "160", "-y", "60", &line]).status.success());
        self.wait_for(session, "the dashboard", |screen| screen.contains("MCP off"));
        String::from_utf8_lossy(&self.run(&["list-panes", "-t", session, "-F", "#{pane_pid}"]).stdout).trim().parse().unwrap()
    }
}

impl Drop for TmuxServer {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

/// A process's field of `/proc/<pid>/status`, in kB.
fn status_kb(pid: i32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status.lines().find_map(|line| line.strip_prefix(field)?.trim().strip_suffix(" kB")?.trim().parse().ok()).unwrap_or(0)
}

/// The children of `pid` (the hosts' commands the dashboard started), whichever of its
/// threads started them.
fn children(pid: i32) -> Vec<i32> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).into_iter().flatten().flatten();
    tasks
        .flat_map(|task| {
            std::fs::read_to_string(task.path().join("children"))
                .unwrap_or_default()
                .split_whitespace()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .filter_map(|child| child.parse().ok())
        .collect()
}

fn percentile(sorted: &[f64], share: f64) -> f64 {
    sorted[((sorted.len() as f64 * share).ceil() as usize).clamp(1, sorted.len()) - 1]
}

fn main() {
    let (jobs, starts, window) = if quick() { (50, 5, Duration::from_secs(5)) } else { (500, 20, Duration::from_secs(30)) };
    let top = tempfile::tempdir().unwrap();
    let local = top.path().join("local");
    std::fs::create_dir(&local).unwrap();
    let mut config = String::new();
    for host in HOSTS {
        let home = top.path().join(host);
        std::fs::create_dir(&home).unwrap();
        common::stock(&JobStore::new(&home), jobs);
        config.push_str(&format!(
            "[hosts.{host}]\ncommand = [\"env\", \"CODEX_ASYNC_HOME={}\", \"CODEX_BIN=/bin/true\", \"{BIN}\", \"serve\"]\n",
            home.display()
        ));
    }
    let server = TmuxServer(format!("codex-async-hosts-{}", std::process::id()));

    // The same dashboard without hosts, for its memory.
    let bare = top.path().join("bare");
    std::fs::create_dir(&bare).unwrap();
    let bare_pid = server.dashboard("bare", &bare);
    std::thread::sleep(Duration::from_secs(2));
    let bare_rss = status_kb(bare_pid, "RssAnon:");

    std::fs::write(local.join("config.toml"), &config).unwrap();
    let pid = server.dashboard("hosts", &local);
    server.run(&["send-keys", "-t", "hosts", "H"]);
    let all = format!("{jobs} jobs, 0 running");
    server.wait_for("hosts", "every host connected with its jobs", |screen| {
        HOSTS.iter().all(|host| screen.lines().any(|line| line.contains(host) && line.contains("connected (") && line.contains(&all)))
    });

    // Idle: nothing changes anywhere.
    std::thread::sleep(Duration::from_secs(2));
    let ticks_per_s = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK).unwrap().unwrap() as f64;
    let before = usage(pid);
    let began = Instant::now();
    std::thread::sleep(window);
    let after = usage(pid);
    let seconds = began.elapsed().as_secs_f64();
    let stat_pct = (after.stat_ticks - before.stat_ticks) as f64 / ticks_per_s / seconds * 100.0;
    let sched_pct = (after.sched_ns - before.sched_ns) as f64 / 1e9 / seconds * 100.0;
    let wakeups = (after.switches - before.switches) as f64 / seconds;
    let rss = status_kb(pid, "RssAnon:");
    let commands: Vec<u64> = children(pid).into_iter().map(|child| status_kb(child, "VmRSS:")).collect();

    // A job started on a host, until its row is on the screen here.
    let mut latencies = Vec::new();
    let box_home = top.path().join("box");
    for _ in 0..starts {
        let began = Instant::now();
        let started = Command::new(BIN)
            .env("CODEX_ASYNC_HOME", &box_home)
            .env("CODEX_BIN", "/bin/true")
            .args(["start", "--cwd", "/tmp", "--", "x"])
            .output()
            .unwrap();
        assert!(started.status.success(), "{}", String::from_utf8_lossy(&started.stderr));
        let id = String::from_utf8_lossy(&started.stdout).trim().to_owned();
        let deadline = Instant::now() + Duration::from_secs(30);
        while !server.screen("hosts").contains(&id) {
            assert!(Instant::now() < deadline, "job {id} never showed up");
            std::thread::sleep(Duration::from_millis(5));
        }
        latencies.push(began.elapsed().as_secs_f64() * 1000.0);
        // The next sample starts with nothing going on.
        std::thread::sleep(Duration::from_millis(300));
    }
    latencies.sort_by(f64::total_cmp);

    println!("hosts: 3 hosts x {jobs} finished jobs, the dashboard's hosts view open (release binary)");
    println!(
        "hosts: idle over {window:?}: {stat_pct:.3}% of a core (/proc/pid/stat), {sched_pct:.4}% (schedstat, all threads), {wakeups:.2} wake-ups/s"
    );
    println!(
        "hosts: a job started on a host until its row shows here: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms over {starts} starts",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        latencies[latencies.len() - 1]
    );
    println!(
        "hosts: memory: the dashboard's RssAnon {rss} kB with 3 hosts, {bare_rss} kB with none: {:.0} kB a host; each host's command (here its serve) VmRSS {:?} kB",
        (rss.saturating_sub(bare_rss)) as f64 / 3.0,
        commands
    );
    if quick() {
        assert!(wakeups < 1.0, "{wakeups:.2} wake-ups a second while idle with 3 hosts");
    }
}
