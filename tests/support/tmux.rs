//! Drives the real dashboard in a detached tmux session: keys in, screen out.
//!
//! The screen changes on its own (a loaded machine draws late), so a test reads only
//! the screen it waited for: the waits return the capture that met their condition,
//! and what a test asserts on is part of that condition.
#![allow(dead_code, clippy::unwrap_used)]

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use super::{BIN, TestHome, fake_agent};

/// How long a tmux test waits for what it expects to see. Generous, for a loaded
/// 2-core machine: the screen is polled, so a long deadline costs nothing when things
/// work.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// A tmux server of our own (unique socket), killed on drop even when a test fails.
pub struct Tmux {
    socket: String,
    /// Just before the session (and so the dashboard and its change feed) started.
    started: Instant,
}

impl Tmux {
    pub const SESSION: &'static str = "dash";

    /// Runs `command` in a new detached session of `width`×`height`.
    pub fn start(command: &str, width: u16, height: u16) -> Tmux {
        let socket = format!("codex-async-test-{}-{}", std::process::id(), uuid_like());
        let tmux = Tmux { socket, started: Instant::now() };
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

    /// Presses Escape and waits until `closed` holds for the screen before anything
    /// else is pressed: a key sent right behind Escape reaches the dashboard in the
    /// same read and is taken as Alt and that key (`ESC /` is Alt-/, which does
    /// nothing), as a loaded machine shows.
    pub fn escape(&self, what: &str, closed: impl FnMut(&str) -> bool) -> String {
        self.keys(&["Escape"]);
        self.wait_until(what, DEADLINE, closed)
    }

    /// Types text literally.
    pub fn type_text(&self, text: &str) {
        assert!(self.run(&["send-keys", "-t", Self::SESSION, "-l", text]).status.success());
    }

    /// Pastes text as a terminal does with bracketed paste on (tmux `paste-buffer -p`
    /// brackets it when the program asked for it).
    pub fn paste(&self, text: &str) {
        assert!(self.run(&["set-buffer", "-b", "test", "--", text]).status.success());
        assert!(self.run(&["paste-buffer", "-p", "-d", "-b", "test", "-t", Self::SESSION]).status.success());
    }

    /// Presses `key` until `condition` holds for the screen (at most `presses` times,
    /// each pressed only once the screen answered the one before); returns that screen.
    pub fn press_until(&self, key: &str, presses: usize, what: &str, mut condition: impl FnMut(&str) -> bool) -> String {
        for _ in 0..presses {
            let before = self.capture();
            if condition(&before) {
                return before;
            }
            self.keys(&[key]);
            // The key was taken once the screen changed; a key with nothing left to
            // change leaves it as it was, and the last wait below says so.
            let deadline = Instant::now() + DEADLINE;
            loop {
                let now = self.capture();
                if now != before || condition(&now) || Instant::now() >= deadline {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        self.wait_until(what, DEADLINE, condition)
    }

    /// Whether the dashboard exited with status 0 (the shell around it says so).
    pub fn exited_cleanly(&self) -> bool {
        self.capture().contains("dashboard-exited=0")
    }

    /// Waits until the screen shows `text`; returns that screen. On timeout the
    /// failure shows the screen.
    pub fn wait_for(&self, text: &str, timeout: Duration) -> String {
        self.wait_until(&format!("{text:?} on screen"), timeout, |screen| screen.contains(text))
    }

    /// Waits until `condition` holds for the screen; returns that screen (read it, not
    /// a later capture). On timeout the failure shows it.
    pub fn wait_until(&self, what: &str, timeout: Duration, mut condition: impl FnMut(&str) -> bool) -> String {
        let mut screen = String::new();
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            screen = self.capture();
            if condition(&screen) {
                return screen;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("timed out after {timeout:?} waiting for {what}; the screen:\n{screen}");
    }

    /// Waits for a line that shows `text`; returns that line.
    pub fn wait_for_line(&self, text: &str) -> String {
        let screen = self.wait_for(text, DEADLINE);
        screen.lines().find(|line| line.contains(text)).unwrap_or_default().to_owned()
    }

    /// Waits for job `id`'s table row to meet `condition`; returns the row.
    pub fn wait_for_row(&self, id: &str, what: &str, mut condition: impl FnMut(&str) -> bool) -> String {
        let screen =
            self.wait_until(&format!("job {id}'s row: {what}"), DEADLINE, |screen| row_in(screen, id).is_some_and(|row| condition(&row)));
        row_in(&screen, id).unwrap_or_default()
    }

    /// The id of the job the footer says was just started ("started job ID"), once its
    /// row is in the table.
    pub fn started_job(&self) -> String {
        let line = self.wait_for_line("started job");
        let id = line.split("started job").nth(1).and_then(job_id_in).unwrap_or_else(|| panic!("no id after \"started job\": {line}"));
        self.wait_for_row(&id, "listed", |_| true);
        id
    }

    /// What is left before the dashboard's change feed can first rescan the jobs folder
    /// (its fallback tick): whatever shows on screen within it came through a change
    /// event, never through a rescan.
    pub fn before_first_rescan(&self) -> Duration {
        (self.started + codex_async::jobs::feed::FALLBACK_RESCAN).saturating_duration_since(Instant::now())
    }

    /// The output pane's lines (below its title row): the table, which shows prompts,
    /// is left out.
    pub fn output_pane(&self) -> String {
        output_pane_of(&self.capture())
    }

    /// The table row of job `id` now (its id is the second word, after the status
    /// symbol). For a condition to wait on; to read a row, [`Tmux::wait_for_row`].
    pub fn row_of(&self, id: &str) -> Option<String> {
        row_in(&self.capture(), id)
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

/// The table row of job `id` in `screen`.
pub fn row_in(screen: &str, id: &str) -> Option<String> {
    screen.lines().find(|line| line.split_whitespace().nth(1) == Some(id)).map(str::to_owned)
}

/// The lines of `screen` below the output pane's title.
pub fn output_pane_of(screen: &str) -> String {
    pane_below(screen, " output ")
}

/// The lines of `screen` below the first line that shows `title`.
pub fn pane_below(screen: &str, title: &str) -> String {
    screen.lines().skip_while(|line| !line.contains(title)).skip(1).collect::<Vec<_>>().join("\n")
}

/// The command line tmux runs: the dashboard on `home`, the fake agent as codex; the
/// shell then reports the exit status and keeps the pane (tmux drops a dead pane's
/// last output). Port 0 lets the dashboard pick a free port (read it with [`mcp_url`]).
pub fn dashboard_command(home: &TestHome, port: u16, extra: &str) -> String {
    format!(
        "cd {home} && env CODEX_ASYNC_HOME={home} CODEX_BIN={agent} CODEX_ASYNC_TOKEN= TERM=xterm-256color {bin} --port {port} {extra}; \
         echo dashboard-exited=$?; sleep 600",
        home = home.path().display(),
        agent = fake_agent().display(),
        bin = BIN,
    )
}

/// As [`dashboard_command`], with `env` (`KEY=value …`) added to the dashboard's
/// environment.
pub fn dashboard_command_with_env(home: &TestHome, env: &str, extra: &str) -> String {
    dashboard_command(home, 0, extra).replacen(" TERM=xterm-256color ", &format!(" TERM=xterm-256color {env} "), 1)
}

/// The first job id (8 hex digits) among the words of `line`.
pub fn job_id_in(line: &str) -> Option<String> {
    line.split(|ch: char| !ch.is_ascii_alphanumeric())
        .find(|word| word.len() == 8 && word.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_owned)
}

/// The MCP URL the dashboard's header shows (start it with `--port 0`: it picks a free
/// port), once it shows whole.
pub fn mcp_url(tmux: &Tmux) -> String {
    let screen = tmux.wait_until("the MCP URL in the header", DEADLINE, |screen| {
        screen.lines().next().is_some_and(|header| header.contains("http://127.0.0.1:") && header.contains("/mcp"))
    });
    let start = screen.find("http://127.0.0.1:").unwrap_or_else(|| panic!("no MCP URL in the header:\n{screen}"));
    let rest = &screen[start..];
    let end = rest.find("/mcp").expect("the URL ends in /mcp") + "/mcp".len();
    rest[..end].to_owned()
}

/// The pid of the dashboard running in the pane (a child of the pane's shell).
pub fn dashboard_pid(tmux: &Tmux) -> Option<i32> {
    let output = tmux.run(&["list-panes", "-t", Tmux::SESSION, "-F", "#{pane_pid}"]);
    let shell: i32 = String::from_utf8_lossy(&output.stdout).trim().parse().ok()?;
    codex_async::jobs::process::procfs::all_processes()
        .into_iter()
        .filter(|process| process.ppid == shell)
        .map(|process| process.pid)
        .find(|pid| std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|cmdline| String::from_utf8_lossy(&cmdline).contains(BIN)))
}
