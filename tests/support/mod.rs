//! Shared by the integration tests: a private jobs directory, the real binary, the
//! fake agent, and waiting for conditions with a deadline. `mcp` adds MCP clients and
//! servers, `tmux` the dashboard in a terminal. Each test binary (`tests/<group>/main.rs`)
//! declares this module once; what a binary does not use is not a warning.
#![allow(dead_code, clippy::unwrap_used)]

pub mod hosts;
pub mod mcp;
pub mod repo;
pub mod tls;
pub mod tmux;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use codex_async::jobs::{Engine, JobStore, process::procfs};
use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_codex-async");

pub fn fake_agent() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fake-agent")
}

/// Polls `condition` until it holds, failing the test with `what` after `timeout`.
pub fn wait_until(what: &str, timeout: Duration, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out after {timeout:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A temporary `CODEX_ASYNC_HOME`. Dropping it ends every process its jobs left,
/// so a failing test leaves nothing running.
pub struct TestHome {
    pub dir: tempfile::TempDir,
}

impl Default for TestHome {
    fn default() -> Self {
        Self::new()
    }
}

impl TestHome {
    pub fn new() -> Self {
        TestHome { dir: tempfile::tempdir().expect("temp dir") }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn store(&self) -> JobStore {
        JobStore::new(self.path())
    }

    /// An engine over this home that supervises with the real binary.
    pub fn engine(&self) -> Engine {
        Engine::new(self.store(), BIN)
    }

    /// The real binary with this home and the fake agent.
    pub fn command(&self) -> Command {
        let mut command = Command::new(BIN);
        command.env("CODEX_ASYNC_HOME", self.path()).env("CODEX_BIN", fake_agent()).env_remove("CODEX_ASYNC_TOKEN");
        command
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command().args(args).output().expect("run codex-async")
    }

    /// Starts a job through the CLI with the fake agent running `prompt`; returns its id.
    pub fn start(&self, prompt: &str) -> String {
        let output = self.run(&["start", "--json", "--cwd", self.path().to_str().unwrap(), "--", prompt]);
        assert!(output.status.success(), "start failed: {}", String::from_utf8_lossy(&output.stderr));
        let started: Value = serde_json::from_slice(&output.stdout).expect("start --json prints JSON");
        started["job_id"].as_str().expect("job_id").to_owned()
    }

    pub fn job_dir(&self, id: &str) -> PathBuf {
        self.path().join("jobs").join(id)
    }

    pub fn meta(&self, id: &str) -> Value {
        let text = std::fs::read_to_string(self.job_dir(id).join("meta.json")).expect("meta.json");
        serde_json::from_str(&text).expect("meta.json is JSON")
    }

    pub fn output(&self, id: &str) -> String {
        std::fs::read_to_string(self.job_dir(id).join("output.txt")).unwrap_or_default()
    }

    pub fn status(&self, id: &str) -> String {
        self.meta(id)["status"].as_str().unwrap_or_default().to_owned()
    }

    /// Waits until job `id` is `status` as every reader judges it: its file says so and,
    /// for an ending, its supervisor no longer runs it (it writes the result, then lets
    /// go of its exclusive hold: in between, readers still see `running`).
    pub fn wait_for_status(&self, id: &str, status: &str, timeout: Duration) {
        let store = self.store();
        let job = codex_async::jobs::JobId::parse(id).expect("a job id");
        wait_until(&format!("job {id} to be {status}"), timeout, || {
            self.status(id) == status && store.read_meta(&job).is_ok_and(|meta| meta.status.to_string() == status)
        });
    }

    /// Waits for the supervisor of job `id` to exit (see [`wait_for_supervisor_exit`]).
    pub fn wait_for_supervisor_exit(&self, id: &str) {
        wait_for_supervisor_exit(self.path(), id);
    }

    /// Pids the fake agent reported as `pid:<role>=<pid>`.
    pub fn reported_pids(&self, id: &str, role: &str) -> Vec<i32> {
        let prefix = format!("pid:{role}=");
        self.output(id).lines().filter_map(|line| line.strip_prefix(&prefix)?.trim().parse().ok()).collect()
    }

    /// Live processes that belong to a job of this home (they carry its id).
    pub fn job_processes(&self, id: &str) -> Vec<i32> {
        procfs::with_env("CODEX_ASYNC_JOB_ID", id)
    }

    /// Ends every process of this home's jobs (their supervisors included).
    pub fn end_job_processes(&self) {
        end_jobs_in(&self.path().join("jobs"));
    }
}

/// Starts a job through the CLI with `options` before the prompt; returns its id.
pub fn start_with(home: &TestHome, options: &[&str], prompt: &str) -> String {
    let cwd = home.path().to_str().unwrap().to_owned();
    let mut args = vec!["start", "--json", "--cwd", &cwd];
    args.extend_from_slice(options);
    args.extend(["--", prompt]);
    let output = home.run(&args);
    assert!(output.status.success(), "start failed: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice::<Value>(&output.stdout).unwrap()["job_id"].as_str().unwrap().to_owned()
}

/// Waits (30 s at most) until job `id` has ended (done, error or cancelled) as every
/// reader judges it (see
/// [`TestHome::wait_for_status`]: its file says so before its supervisor lets go of it,
/// and until then a follow-up, say, finds it running); its meta.
pub fn finished(home: &TestHome, id: &str) -> Value {
    let store = home.store();
    let job = codex_async::jobs::JobId::parse(id).expect("a job id");
    wait_until(&format!("job {id} to end"), Duration::from_secs(30), || {
        matches!(home.status(id).as_str(), "done" | "error" | "cancelled")
            && store.read_meta(&job).is_ok_and(|meta| meta.status.is_finished())
    });
    home.meta(id)
}

/// How many job folders the home holds.
pub fn job_count(home: &TestHome) -> usize {
    std::fs::read_dir(home.path().join("jobs")).map_or(0, |entries| entries.count())
}

/// The arguments the fake agent printed (`argv` step), between its markers.
pub fn printed_argv(home: &TestHome, id: &str) -> Vec<String> {
    let output = home.output(id);
    let lines: Vec<&str> = output.lines().collect();
    let start = lines.iter().position(|line| *line == "argv-begin").expect("the agent printed its argv");
    let end = lines.iter().position(|line| *line == "argv-end").expect("argv-end");
    lines[start + 1..end].iter().map(|line| (*line).to_owned()).collect()
}

/// What a command that must succeed printed, as JSON (its stderr in the failure).
pub fn json(output: &Output) -> Value {
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

impl Drop for TestHome {
    fn drop(&mut self) {
        self.end_job_processes();
    }
}

/// Waits for the supervisor of job `id` of the home at `home` to exit. A job reads
/// finished before its supervisor lets it go: until then the supervisor writes its own
/// record back over any other, and the job cannot be deleted.
/// Removes a folder others may still write into (a server's spare supervisor, a
/// watcher): a file created during the removal makes it fail with "not empty", as an
/// `rm -rf` would; it is tried again until the folder is gone.
pub fn remove_tree(path: &Path) {
    wait_until(&format!("{} to be removed", path.display()), Duration::from_secs(30), || match std::fs::remove_dir_all(path) {
        Ok(()) => true,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => true,
        Err(err) if err.kind() == std::io::ErrorKind::DirectoryNotEmpty => false,
        Err(err) => panic!("removing {}: {err}", path.display()),
    });
}

pub fn wait_for_supervisor_exit(home: &Path, id: &str) {
    let meta: Value = std::fs::read(home.join("jobs").join(id).join("meta.json"))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or(Value::Null);
    let Some(pid) = meta["supervisor_pid"].as_i64() else { return };
    let recorded = meta["supervisor_start_ticks"].as_u64();
    wait_until(&format!("job {id}'s supervisor to exit"), Duration::from_secs(30), || procfs::start_ticks(pid as i32) != recorded);
}

/// Ends every process of the jobs in `jobs_dir`: those carrying a job's id, and each
/// job's supervisor (when it is still the process its meta names).
pub fn end_jobs_in(jobs_dir: &Path) {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    let ids: Vec<String> = std::fs::read_dir(jobs_dir)
        .map(|entries| entries.filter_map(|e| e.ok()?.file_name().into_string().ok()).collect())
        .unwrap_or_default();
    for id in ids {
        let mut pids = procfs::with_env("CODEX_ASYNC_JOB_ID", &id);
        if let Ok(meta) = std::fs::read_to_string(jobs_dir.join(&id).join("meta.json"))
            && let Ok(meta) = serde_json::from_str::<Value>(&meta)
            && let Some(supervisor) = meta["supervisor_pid"].as_i64()
            && meta["supervisor_start_ticks"].as_u64() == procfs::start_ticks(supervisor as i32)
        {
            pids.push(supervisor as i32);
        }
        for pid in pids {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
    }
}

/// Every live process of any job of the home at `home`: supervisors (they run
/// `__supervise`), agents and whatever those started (they carry a job id). All of
/// them inherit the home's `CODEX_ASYNC_HOME`; the front ends that started them do not
/// count.
pub fn job_processes_of_home(home: &Path) -> Vec<i32> {
    let home_entry = format!("CODEX_ASYNC_HOME={}", home.display());
    procfs::all_processes()
        .into_iter()
        .map(|process| process.pid)
        .filter(|&pid| {
            let Ok(environ) = std::fs::read(format!("/proc/{pid}/environ")) else { return false };
            let mut entries = environ.split(|&byte| byte == 0);
            if !entries.clone().any(|entry| entry == home_entry.as_bytes()) {
                return false;
            }
            entries.any(|entry| entry.starts_with(b"CODEX_ASYNC_JOB_ID="))
                || std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|cmdline| cmdline.windows(11).any(|word| word == b"__supervise"))
                    && !is_spare_supervisor(pid)
        })
        .collect()
}

/// A spare supervisor (a server's or dashboard's, made ahead of the next start) has no
/// job yet: its stdin is still the pipe its owner will write a request into (a
/// supervisor with a job reads nothing more: its stdin is /dev/null). It ends with its
/// owner.
fn is_spare_supervisor(pid: i32) -> bool {
    std::fs::read_link(format!("/proc/{pid}/fd/0")).is_ok_and(|stdin| stdin.to_string_lossy().starts_with("pipe:"))
}

pub fn is_alive(pid: i32) -> bool {
    procfs::is_alive(pid)
}

/// A process a test started (or was told about): killed when the guard goes, so a
/// failing test leaves nothing running.
pub struct ProcessGuard {
    child: Option<std::process::Child>,
    pid: i32,
    /// Kill its whole process group (it leads one), not only the process.
    group: bool,
}

impl ProcessGuard {
    pub fn new(child: std::process::Child) -> Self {
        let pid = child.id() as i32;
        ProcessGuard { child: Some(child), pid, group: false }
    }

    /// A child that leads its own process group (`process_group(0)`): the guard ends
    /// the whole group, whatever the child started in it.
    pub fn group(child: std::process::Child) -> Self {
        let pid = child.id() as i32;
        ProcessGuard { child: Some(child), pid, group: true }
    }

    /// A process that is not this test's child (a job's leftover the test must end).
    pub fn from_pid(pid: i32) -> Self {
        ProcessGuard { child: None, pid, group: false }
    }

    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// The child, to read its pipes or wait for it.
    pub fn child(&mut self) -> &mut std::process::Child {
        self.child.as_mut().expect("a spawned child")
    }

    /// Waits for the child to exit, failing the test with `what` after `timeout`.
    pub fn exit_within(&mut self, timeout: Duration, what: &str) -> std::process::ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child().try_wait().expect("try_wait") {
                return status;
            }
            assert!(Instant::now() < deadline, "timed out after {timeout:?} waiting for {what}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for ProcessGuard {
    fn drop(&mut self) {
        use nix::sys::signal::{Signal, kill, killpg};
        let pid = nix::unistd::Pid::from_raw(self.pid);
        // A child already reaped is not signalled: its pid may be someone else's now.
        let reaped = self.child.as_mut().is_some_and(|child| matches!(child.try_wait(), Ok(Some(_))));
        if self.group {
            // What it started in its group may outlive it.
            let _ = killpg(pid, Signal::SIGKILL);
        }
        if !reaped {
            let _ = kill(pid, Signal::SIGKILL);
        }
        if let Some(mut child) = self.child.take() {
            let _ = child.wait();
        }
    }
}

/// A process that is no part of any job (its own session and group, like a user's dev
/// server after pid reuse) and outlives INT, TERM and USR1, writing `ready` and then
/// each one it gets to `log`. SIGKILL, which it cannot log, shows as its death.
pub fn stranger(log: &Path) -> ProcessGuard {
    let script = format!(
        "trap 'echo USR1 >> {log}' USR1; trap 'echo TERM >> {log}' TERM; trap 'echo INT >> {log}' INT; \
         echo ready >> {log}; while :; do sleep 0.05; done",
        log = log.display()
    );
    let child = Command::new("setsid").args(["bash", "-c", &script]).stdin(std::process::Stdio::null()).spawn().unwrap();
    let guard = ProcessGuard::new(child);
    wait_until("the stranger to start", Duration::from_secs(20), || std::fs::read_to_string(log).is_ok_and(|text| text.contains("ready")));
    guard
}

/// A small tmpfs mounted over a home. Mounting needs root (CI runs these tests as
/// root); anything else fails the test loudly rather than letting it pass untested.
/// Dropping it ends the jobs' processes while their folder is still in view, then
/// unmounts: nothing a job started outlives the test.
pub struct SmallDisk {
    pub home: TestHome,
}

impl SmallDisk {
    pub fn mount(size: &str) -> Self {
        let home = TestHome::new();
        let mounted =
            Command::new("mount").args(["-t", "tmpfs", "-o", &format!("size={size},mode=0700"), "tmpfs"]).arg(home.path()).status();
        match mounted {
            Ok(status) if status.success() => SmallDisk { home },
            other => panic!(
                "cannot mount a {size} tmpfs on {} ({other:?}): this test needs root and mount(8); .ci/run installs mount and runs it as root",
                home.path().display()
            ),
        }
    }

    /// Writes a file until the disk is full.
    pub fn fill(&self) {
        use std::io::Write;
        let mut filler = std::fs::File::create(self.home.path().join("filler")).unwrap();
        let block = vec![b'x'; 4096];
        while filler.write_all(&block).is_ok() {}
        let _ = filler.sync_all();
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        self.home.end_job_processes();
        let _ = Command::new("umount").arg("-l").arg(self.home.path()).status();
    }
}

/// The lines `reader` gives, read on a thread of their own, so that a test can wait
/// for one with a deadline (`recv_timeout`) instead of blocking for ever.
pub fn lines_of(reader: impl std::io::Read + Send + 'static) -> std::sync::mpsc::Receiver<String> {
    use std::io::BufRead;
    let (sender, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(reader).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    lines
}

/// The next line, or a failure naming `what` after `timeout`.
pub fn next_line(lines: &std::sync::mpsc::Receiver<String>, timeout: Duration, what: &str) -> String {
    lines.recv_timeout(timeout).unwrap_or_else(|err| panic!("no {what} within {timeout:?}: {err}"))
}
