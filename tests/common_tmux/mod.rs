//! Drives the real dashboard in a detached tmux session: keys in, screen out.
#![allow(dead_code, clippy::unwrap_used)]

use std::process::{Command, Output};
use std::time::Duration;

use crate::common::{BIN, TestHome, fake_agent};

/// A tmux server of our own (unique socket), killed on drop even when a test fails.
pub struct Tmux {
    socket: String,
}

impl Tmux {
    pub const SESSION: &'static str = "dash";

    /// Runs `command` in a new detached session of `width`×`height`.
    pub fn start(command: &str, width: u16, height: u16) -> Tmux {
        let socket = format!("codex-async-test-{}-{}", std::process::id(), uuid_like());
        let tmux = Tmux { socket };
        let output = tmux.run(&[
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            Self::SESSION,
            "-x",
            &width.to_string(),
            "-y",
            &height.to_string(),
            command,
        ]);
        assert!(output.status.success(), "tmux new-session: {}", String::from_utf8_lossy(&output.stderr));
        tmux
    }

    pub fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux").arg("-L").arg(&self.socket).args(args).output().expect("tmux is installed")
    }

    pub fn capture(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", Self::SESSION]).stdout).into_owned()
    }

    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", Self::SESSION];
        args.extend_from_slice(keys);
        assert!(self.run(&args).status.success());
    }

    /// Types text literally.
    pub fn type_text(&self, text: &str) {
        assert!(self.run(&["send-keys", "-t", Self::SESSION, "-l", text]).status.success());
    }

    /// Whether the dashboard exited with status 0 (the shell around it says so).
    pub fn exited_cleanly(&self) -> bool {
        self.capture().contains("dashboard-exited=0")
    }

    /// Waits until the screen shows `text`; on timeout the failure shows the screen.
    pub fn wait_for(&self, text: &str, timeout: Duration) {
        let mut screen = String::new();
        let deadline = std::time::Instant::now() + timeout;
        while std::time::Instant::now() < deadline {
            screen = self.capture();
            if screen.contains(text) {
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("timed out after {timeout:?} waiting for {text:?} on screen:\n{screen}");
    }

    /// The table row of job `id` (its id is the second word, after the status symbol).
    pub fn row_of(&self, id: &str) -> Option<String> {
        self.capture().lines().find(|line| line.split_whitespace().nth(1) == Some(id)).map(str::to_owned)
    }

    pub fn line_with(&self, text: &str) -> Option<String> {
        self.capture().lines().find(|line| line.contains(text)).map(str::to_owned)
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

pub fn uuid_like() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    format!("{nanos:x}")
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The command line tmux runs: the dashboard on `home`, the fake agent as codex; the
/// shell then reports the exit status and keeps the pane (tmux drops a dead pane's
/// last output).
pub fn dashboard_command(home: &TestHome, port: u16, extra: &str) -> String {
    format!(
        "cd {home} && env CODEX_ASYNC_HOME={home} CODEX_BIN={agent} CODEX_ASYNC_TOKEN= TERM=xterm-256color {bin} --port {port} {extra}; \
         echo dashboard-exited=$?; sleep 600",
        home = home.path().display(),
        agent = fake_agent().display(),
        bin = BIN,
    )
}

/// The MCP URL the dashboard's header shows (start it with `--port 0`: it picks a free port).
pub fn mcp_url(tmux: &Tmux) -> String {
    let screen = tmux.capture();
    let start = screen.find("http://127.0.0.1:").unwrap_or_else(|| panic!("no MCP URL in the header:\n{screen}"));
    let rest = &screen[start..];
    let end = rest.find("/mcp").expect("the URL ends in /mcp") + "/mcp".len();
    rest[..end].to_owned()
}

/// The pid of the dashboard running in the pane (a child of the pane's shell).
pub fn dashboard_pid(tmux: &Tmux) -> Option<i32> {
    let output = tmux.run(&["list-panes", "-t", Tmux::SESSION, "-F", "#{pane_pid}"]);
    let shell: i32 = String::from_utf8_lossy(&output.stdout).trim().parse().ok()?;
    codex_async::jobs::procfs::all_processes()
        .into_iter()
        .filter(|process| process.ppid == shell)
        .map(|process| process.pid)
        .find(|pid| std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|cmdline| String::from_utf8_lossy(&cmdline).contains(BIN)))
}
