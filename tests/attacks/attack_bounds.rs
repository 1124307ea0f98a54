//! Bounds under attack, through the real binary: output with endless lines and bursts,
//! job files that are huge, FIFOs or symlinks to endless devices, a queue whose index
//! lost a job or holds one that can never start, and the order of what an agent prints.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support;
use crate::support::{BIN, ProcessGuard, SmallDisk, TestHome, start_with, wait_until};

const DEADLINE: Duration = Duration::from_secs(60);
/// How long a pass over a few hundred megabytes may take on a loaded 2-core machine
/// with a debug build (it takes a few seconds): a quadratic pass takes many minutes.
const LONG_PASS: Duration = Duration::from_secs(150);
const MIB: u64 = 1024 * 1024;

/// The peak resident memory of a live process, in bytes (`VmHWM`).
fn peak_rss(pid: i32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The real binary under a hard cap on its heap (`ulimit -d`, in bytes): a process that
/// tries to hold more fails instead of taking the machine's memory.
fn capped_command(home: &TestHome, data_cap: u64, args: &[&str]) -> Command {
    let mut command = Command::new("bash");
    command
        .arg("-c")
        .arg(format!("ulimit -d {} && exec \"$0\" \"$@\"", data_cap / 1024))
        .arg(BIN)
        .args(args)
        .env("CODEX_ASYNC_HOME", home.path())
        .env("CODEX_BIN", support::fake_agent())
        .env_remove("CODEX_ASYNC_TOKEN");
    command
}

/// Appends one line of `total` bytes of coloured `\r` progress frames to `path`, then
/// `DONE 100%` and a last line; written a MiB at a time.
fn append_progress_line(path: &Path, total: u64) {
    let mut frames = Vec::with_capacity(MIB as usize + 64);
    let mut percent = 0;
    while frames.len() < MIB as usize {
        frames.extend_from_slice(format!("\x1b[1;32m[{:<20}] {percent:>3}%\x1b[0m\r", "=".repeat(percent / 5)).as_bytes());
        percent = (percent + 1) % 100;
    }
    let mut file = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    let mut written = 0;
    while written < total {
        file.write_all(&frames).unwrap();
        written += frames.len() as u64;
    }
    file.write_all(b"\x1b[1;32mDONE 100%\x1b[0m\nlast line\n").unwrap();
}

/// A child whose stdout is read on a thread: the byte count and the last bytes.
struct Reader {
    thread: std::thread::JoinHandle<(u64, Vec<u8>)>,
}

impl Reader {
    fn of(stdout: impl Read + Send + 'static, seen: std::sync::Arc<std::sync::Mutex<Vec<u8>>>) -> Reader {
        let thread = std::thread::spawn(move || {
            let mut stdout = stdout;
            let mut total = 0u64;
            let mut buffer = vec![0u8; 256 * 1024];
            loop {
                match stdout.read(&mut buffer) {
                    Ok(0) | Err(_) => break,
                    Ok(read) => {
                        total += read as u64;
                        let mut last = seen.lock().unwrap();
                        last.extend_from_slice(&buffer[..read]);
                        let keep = last.len().saturating_sub(4096);
                        last.drain(..keep);
                    }
                }
            }
            let last = seen.lock().unwrap().clone();
            (total, last)
        });
        Reader { thread }
    }
}

// ---------------------------------------------------------------------------------------
// `logs` on one endless line

#[test]
fn logs_reads_a_200_mb_line_of_progress_bars_in_bounded_memory_and_time() {
    let home = TestHome::new();
    let release = home.path().join("release");
    let id = home.start(&format!("say:before-the-bar await-file:{}", release.display()));
    wait_until("the job's first line", DEADLINE, || home.output(&id).contains("before-the-bar"));
    let output = home.job_dir(&id).join("output.txt");
    append_progress_line(&output, 200 * MIB);

    // `logs`: the whole output, under a heap cap far below the line's length.
    let began = Instant::now();
    let mut child = capped_command(&home, 256 * MIB, &["logs", &id]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let reader = Reader::of(child.stdout.take().unwrap(), seen);
    let mut logs = ProcessGuard::new(child);
    let mut peak = 0;
    let status = loop {
        peak = peak.max(peak_rss(logs.pid()).unwrap_or(0));
        assert!(peak < 64 * MIB, "logs holds {} MiB of a line it only has to show", peak / MIB);
        if let Some(status) = logs.child().try_wait().unwrap() {
            break status;
        }
        assert!(began.elapsed() < LONG_PASS, "logs took longer than {LONG_PASS:?} over a 200 MB line");
        std::thread::sleep(Duration::from_millis(10));
    };
    let (printed, last) = reader.thread.join().unwrap();
    let mut stderr = String::new();
    logs.child().stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert!(status.success(), "logs failed: {stderr}");
    let last = String::from_utf8_lossy(&last);
    assert!(last.ends_with("before-the-bar\nDONE 100%\nlast line\n"), "{last:?}");
    assert!(printed < 4096, "only the bar's last frame is shown: {printed} bytes");
    eprintln!("logs: 200 MB line in {:?}, peak RSS {} KiB (sampled)", began.elapsed(), peak / 1024);

    // `logs --json` passes the text on as it is, in pieces: bounded too.
    let began = Instant::now();
    let mut child =
        capped_command(&home, 256 * MIB, &["logs", "--json", &id]).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let reader = Reader::of(child.stdout.take().unwrap(), std::sync::Arc::new(std::sync::Mutex::new(Vec::new())));
    let mut json = ProcessGuard::new(child);
    let mut peak = 0;
    let status = loop {
        peak = peak.max(peak_rss(json.pid()).unwrap_or(0));
        assert!(peak < 64 * MIB, "logs --json holds {} MiB", peak / MIB);
        if let Some(status) = json.child().try_wait().unwrap() {
            break status;
        }
        assert!(began.elapsed() < LONG_PASS, "logs --json took longer than {LONG_PASS:?} over a 200 MB line");
        std::thread::sleep(Duration::from_millis(10));
    };
    let (printed, last) = reader.thread.join().unwrap();
    assert!(status.success());
    assert!(printed > 200 * MIB, "every byte, as JSON: {printed}");
    let last = String::from_utf8_lossy(&last);
    assert!(last.ends_with("\"status\":\"running\",\"exit_code\":null}\n"), "{last:?}");
    eprintln!("logs --json: 200 MB line in {:?}, peak RSS {} KiB (sampled)", began.elapsed(), peak / 1024);

    // `logs -f` on the running job: its peak read exactly while it still runs.
    let began = Instant::now();
    let mut child = capped_command(&home, 256 * MIB, &["logs", "-f", &id]).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let reader = Reader::of(child.stdout.take().unwrap(), seen.clone());
    let mut follow = ProcessGuard::new(child);
    wait_until("logs -f to print the line after the bar", LONG_PASS, || {
        assert!(follow.child().try_wait().unwrap().is_none(), "logs -f ended early");
        String::from_utf8_lossy(&seen.lock().unwrap()).ends_with("last line\n")
    });
    let peak = peak_rss(follow.pid()).unwrap();
    eprintln!("logs -f: 200 MB line in {:?}, peak RSS {} KiB", began.elapsed(), peak / 1024);
    assert!(peak < 64 * MIB, "logs -f held {} MiB", peak / MIB);
    std::fs::write(&release, b"").unwrap();
    assert!(follow.exit_within(DEADLINE, "logs -f to end with the job").success());
    let (_, last) = reader.thread.join().unwrap();
    assert!(String::from_utf8_lossy(&last).ends_with("DONE 100%\nlast line\n"));
}

// ---------------------------------------------------------------------------------------
// The order of stdout and stderr

/// A custom agent (no structured stream): the fake agent with the prompt after `--`.
fn plain_agent_config(home: &TestHome, extra: &str) {
    let config = format!("{extra}[agents.plain]\ncommand = [{:?}, \"--\", \"{{prompt}}\"]\n", support::fake_agent().display().to_string());
    std::fs::write(home.path().join("config.toml"), config).unwrap();
}

#[test]
fn stderr_and_stdout_keep_the_order_the_agent_printed_them_in() {
    let home = TestHome::new();
    plain_agent_config(&home, "");
    // Three runs of the codex stand-in (a structured stream: stdout through the event
    // reader, stderr beside it), then a plain agent (both streams on one pipe).
    for (run, agent) in ["codex", "codex", "codex", "plain"].iter().enumerate() {
        let barrier = home.path().join(format!("barrier-{run}"));
        let prompt = format!("say:one say:two say:three err:stderr-line await-file:{} say:four", barrier.display());
        let id = start_with(&home, &["--agent", agent], &prompt);
        // The next line comes after the stderr line was written out, whenever that is.
        wait_until("the stderr line in the output", DEADLINE, || home.output(&id).contains("stderr-line"));
        std::fs::write(&barrier, b"").unwrap();
        home.wait_for_status(&id, "done", DEADLINE);
        let logs = home.run(&["logs", &id]);
        assert!(logs.status.success());
        let shown: Vec<String> = String::from_utf8_lossy(&logs.stdout)
            .lines()
            .filter(|line| ["one", "two", "three", "stderr-line", "four"].contains(line))
            .map(str::to_owned)
            .collect();
        assert_eq!(shown, ["one", "two", "three", "stderr-line", "four"], "run {run} ({agent}): {}", home.output(&id));
    }
}

// ---------------------------------------------------------------------------------------
// The supervisor under a burst, and max_output

/// The last `count` bytes of a file (without reading the rest).
fn file_end(path: &Path, count: u64) -> String {
    use std::io::{Seek, SeekFrom};
    let Ok(mut file) = std::fs::File::open(path) else { return String::new() };
    let len = file.metadata().unwrap().len();
    file.seek(SeekFrom::Start(len.saturating_sub(count))).unwrap();
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).unwrap();
    String::from_utf8_lossy(&bytes).into_owned()
}

fn supervisor_of(home: &TestHome, id: &str) -> i32 {
    home.meta(id)["supervisor_pid"].as_i64().unwrap() as i32
}

#[test]
fn a_200_mb_burst_keeps_the_supervisor_small_and_loses_nothing() {
    let home = TestHome::new();
    let burst = home.path().join("burst.txt");
    {
        let line = format!("{}\n", "x".repeat(64 * 1024 - 1));
        let mut file = std::io::BufWriter::new(std::fs::File::create(&burst).unwrap());
        for _ in 0..(200 * MIB / line.len() as u64) {
            file.write_all(line.as_bytes()).unwrap();
        }
    }
    let burst_len = std::fs::metadata(&burst).unwrap().len();
    let release = home.path().join("release");
    // The codex stand-in: the burst on stdout as fast as `cat` writes it.
    let id = home.start(&format!("replay:{} say:burst-end await-file:{}", burst.display(), release.display()));
    let supervisor = supervisor_of(&home, &id);
    let output = home.job_dir(&id).join("output.txt");
    wait_until("the burst to be written out", LONG_PASS, || file_end(&output, 64).contains("burst-end"));
    // The supervisor is still there (its job waits): its peak, exactly.
    let peak = peak_rss(supervisor).unwrap();
    eprintln!("supervisor after a {} MiB burst: peak RSS {} KiB", burst_len / MIB, peak / 1024);
    assert!(peak < 64 * MIB, "the supervisor held {} MiB of a burst it only passes on", peak / MIB);
    std::fs::write(&release, b"").unwrap();
    home.wait_for_status(&id, "done", DEADLINE);
    let events = std::fs::metadata(home.job_dir(&id).join("events.jsonl")).unwrap().len();
    assert!(events > burst_len, "every byte of the stream is kept: {events} < {burst_len}");
    assert!(std::fs::metadata(&output).unwrap().len() > burst_len, "and its transcript");
}

#[test]
fn max_output_keeps_the_head_and_the_tail_and_says_what_it_dropped() {
    let home = TestHome::new();
    plain_agent_config(&home, "max_output = \"1MB\"\n");
    for agent in ["codex", "plain"] {
        let release = home.path().join(format!("release-{agent}"));
        let id = start_with(
            &home,
            &["--agent", agent],
            &format!("say:first-line flood:200000 await-file:{} say:the-very-end", release.display()),
        );
        let output_path = home.job_dir(&id).join("output.txt");
        // Live: the head, then a note that the rest is held back; nothing after it yet.
        wait_until("the note that output is held back", DEADLINE, || home.output(&id).contains("what follows is held back"));
        let live = home.output(&id);
        assert!(live.contains("first-line\n") && live.contains("line 0\n"), "{agent}: the head is kept");
        assert!(!live.contains("line 199999"), "{agent}: the tail waits for the end");
        assert!(live.len() <= 500_000 + 300, "{agent}: the head is about half the cap: {}", live.len());
        std::fs::write(&release, b"").unwrap();
        home.wait_for_status(&id, "done", DEADLINE);
        let text = home.output(&id);
        assert!(text.starts_with(&live), "{agent}: the file was only appended to");
        assert!(text.len() <= 1_000_000 + 600, "{agent}: output.txt keeps about max_output: {}", text.len());
        let (_, after) = text.split_once("what follows is held back").unwrap();
        let note = after.lines().find(|line| line.contains("bytes dropped here")).expect("a note naming what was dropped");
        let dropped: u64 = note.trim_start_matches("… codex-async: ").split(' ').next().unwrap().parse().unwrap();
        assert!(dropped > 1_000_000, "{agent}: {note}");
        assert!(text.ends_with("line 199999\nthe-very-end\n"), "{agent}: the tail is kept to the last line");
        let logs = home.run(&["logs", &id]);
        assert!(String::from_utf8_lossy(&logs.stdout).contains("bytes dropped here (max_output 1000000 bytes)"));
        assert_eq!(std::fs::metadata(&output_path).unwrap().len(), text.len() as u64);
        if agent == "codex" {
            let events = std::fs::read_to_string(home.job_dir(&id).join("events.jsonl")).unwrap();
            assert!(events.len() <= 1_000_000 + 600, "events.jsonl is capped too: {}", events.len());
            assert!(events.contains("\"type\":\"codex_async.output_dropped\""));
        }
    }

    // Output held back still counts as output: a job past its cap is not "stalled". The
    // head (about 150 bytes) is full after some 20 ticks; the other 40 (8 s) are held
    // back, twice the stall timeout, which is still 20 ticks' gap.
    let mut start = home.command();
    start.env("CODEX_ASYNC_MAX_OUTPUT", "300").args(["start", "--json", "--stall-timeout", "4", "--cwd", home.path().to_str().unwrap()]);
    let started = start.args(["--", "say:first tick:60"]).output().unwrap();
    assert!(started.status.success(), "{}", String::from_utf8_lossy(&started.stderr));
    let id = serde_json::from_slice::<serde_json::Value>(&started.stdout).unwrap()["job_id"].as_str().unwrap().to_owned();
    wait_until("the job to end", DEADLINE, || home.status(&id) != "running");
    assert_eq!(home.status(&id), "done", "{}", home.meta(&id));
    assert!(home.output(&id).ends_with("tick 59\n"), "{}", home.output(&id));
}

// ---------------------------------------------------------------------------------------
// The queue

fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(|entry| entry.ok()?.file_name().into_string().ok()).collect())
        .unwrap_or_default()
}

#[test]
fn a_pending_job_missing_from_the_queue_index_is_found_and_started() {
    let home = TestHome::new();
    std::fs::write(home.path().join("config.toml"), "max_running = 1\n").unwrap();
    let release = home.path().join("release");
    let first = home.start(&format!("await-file:{}", release.display()));
    let second = home.start("say:the-second-ran");
    assert_eq!(home.status(&second), "pending");
    // What a crash between making the job and indexing it left: the job, no entry.
    let pending = home.path().join("queue/pending");
    for entry in entries(&pending).into_iter().filter(|name| name.ends_with(&second)) {
        std::fs::remove_file(pending.join(entry)).unwrap();
    }
    // A server (or the dashboard) reconciles the index when it starts.
    let server = home.command().arg("serve").stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let _server = ProcessGuard::new(server);
    wait_until("the job to be indexed again", DEADLINE, || entries(&pending).iter().any(|name| name.ends_with(&second)));
    std::fs::write(&release, b"").unwrap();
    home.wait_for_status(&first, "done", DEADLINE);
    home.wait_for_status(&second, "done", DEADLINE);
    assert!(home.output(&second).contains("the-second-ran"));
}

/// A file removed when this goes (before the home is cleaned up, if made after it).
struct Removed(std::path::PathBuf);

impl Drop for Removed {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn mkfifo(path: &Path) {
    let _ = std::fs::remove_file(path);
    nix::unistd::mkfifo(path, nix::sys::stat::Mode::S_IRUSR | nix::sys::stat::Mode::S_IWUSR).unwrap();
}

fn symlink_to_zero(path: &Path) {
    let _ = std::fs::remove_file(path);
    std::os::unix::fs::symlink("/dev/zero", path).unwrap();
}

/// Replaces `path` with `size` bytes of spaces, written a MiB at a time.
fn huge_file(path: &Path, size: u64) {
    let mut file = std::fs::File::create(path).unwrap();
    let block = vec![b' '; MIB as usize];
    for _ in 0..size / MIB {
        file.write_all(&block).unwrap();
    }
}

#[test]
fn pending_jobs_that_cannot_start_are_marked_error_and_the_queue_moves_on() {
    let home = TestHome::new();
    std::fs::write(home.path().join("config.toml"), "max_running = 1\n").unwrap();
    let release = home.path().join("release");
    // Every supervisor (the first's, and those it starts) under a heap cap: a reader that
    // loads a forged file whole fails instead of taking the machine's memory.
    let started = capped_command(&home, 512 * MIB, &["start", "--json", "--cwd", home.path().to_str().unwrap(), "--"])
        .arg(format!("await-file:{}", release.display()))
        .output()
        .unwrap();
    assert!(started.status.success(), "{}", String::from_utf8_lossy(&started.stderr));
    let first = serde_json::from_slice::<serde_json::Value>(&started.stdout).unwrap()["job_id"].as_str().unwrap().to_owned();
    // A prompt long enough to go to the agent on stdin, from prompt.txt.
    let long_prompt = format!("say:long-prompt pad:{}", "p".repeat(80 * 1024));
    let broken: Vec<(String, &str)> = vec![
        (home.start("say:garbage-request"), "garbage"),
        (home.start("say:fifo-request"), "fifo"),
        (home.start("say:zero-request"), "zero"),
        (home.start("say:huge-request"), "huge"),
        (home.start(&long_prompt), "fifo-prompt"),
    ];
    let last = home.start("say:the-healthy-one-ran");
    for (id, how) in &broken {
        assert_eq!(home.status(id), "pending");
        let folder = home.job_dir(id);
        match *how {
            "garbage" => std::fs::write(folder.join("request.json"), b"{ not a request").unwrap(),
            "fifo" => mkfifo(&folder.join("request.json")),
            "zero" => symlink_to_zero(&folder.join("request.json")),
            "huge" => huge_file(&folder.join("request.json"), 70 * MIB),
            _ => mkfifo(&folder.join("prompt.txt")),
        }
    }
    std::fs::write(&release, b"").unwrap();
    home.wait_for_status(&first, "done", DEADLINE);
    home.wait_for_status(&last, "done", DEADLINE);
    assert!(home.output(&last).contains("the-healthy-one-ran"));
    for (id, how) in &broken {
        assert_eq!(home.status(id), "error", "{how}: {}", home.meta(id));
        let note = home.meta(id)["note"].as_str().unwrap_or_default().to_owned();
        let named = if *how == "fifo-prompt" { "prompt" } else { "request.json" };
        assert!(note.contains(named), "{how}: the note says why: {note}");
        assert!(home.output(id).contains(&note), "{how}: and so does its output");
    }
    assert!(entries(&home.path().join("queue/pending")).is_empty(), "nothing is left waiting");
}

// ---------------------------------------------------------------------------------------
// Readers of forged job files

/// Runs the real binary; it must end within the deadline (a reader that waits on a FIFO
/// never would).
fn run_within(home: &TestHome, args: &[&str]) -> std::process::Output {
    let child = capped_command(home, 256 * MIB, args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut guard = ProcessGuard::new(child);
    guard.exit_within(DEADLINE, &format!("codex-async {args:?} to end"));
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    guard.child().stdout.take().unwrap().read_to_end(&mut stdout).unwrap();
    guard.child().stderr.take().unwrap().read_to_end(&mut stderr).unwrap();
    let status = guard.child().wait().unwrap();
    std::process::Output { status, stdout, stderr }
}

#[test]
fn readers_refuse_job_files_that_are_fifos_or_symlinks_to_endless_devices() {
    let home = TestHome::new();
    let ids: Vec<String> = (0..4).map(|n| home.start(&format!("say:job-{n} last:the-answer"))).collect();
    for id in &ids {
        home.wait_for_status(id, "done", DEADLINE);
    }
    let [message_fifo, output_fifo, output_zero, meta_fifo] = [&ids[0], &ids[1], &ids[2], &ids[3]];
    mkfifo(&home.job_dir(message_fifo).join("last_message.txt"));
    mkfifo(&home.job_dir(output_fifo).join("output.txt"));
    symlink_to_zero(&home.job_dir(output_zero).join("output.txt"));

    let polled = run_within(&home, &["poll", "--json", message_fifo]);
    assert!(polled.status.success(), "{}", String::from_utf8_lossy(&polled.stderr));
    let view: serde_json::Value = serde_json::from_slice(&polled.stdout).unwrap();
    assert!(view["output"].as_str().unwrap().contains("job-0"), "the rest of the job reads as before: {view}");
    for id in [output_fifo, output_zero] {
        let polled = run_within(&home, &["poll", id]);
        let logs = run_within(&home, &["logs", id]);
        for (verb, output) in [("poll", &polled), ("logs", &logs)] {
            let said = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
            assert!(!output.status.success(), "{verb} {id}: {said}");
            assert!(said.contains("not a regular file") || said.contains("is a symlink"), "{verb} {id}: {said}");
        }
    }
    // The test's own helpers read meta.json plainly: the FIFO goes before they do.
    let meta_path = home.job_dir(meta_fifo).join("meta.json");
    let _restore = Removed(meta_path.clone());
    mkfifo(&meta_path);
    let listed = run_within(&home, &["list", "--json"]);
    assert!(listed.status.success(), "{}", String::from_utf8_lossy(&listed.stderr));
    assert!(String::from_utf8_lossy(&listed.stdout).contains("not a regular file"), "{}", String::from_utf8_lossy(&listed.stdout));
}

#[test]
fn a_supervisor_reads_a_forged_cancel_request_without_hanging_or_growing() {
    let home = TestHome::new();
    std::fs::write(home.path().join("config.toml"), "max_running = 1\n").unwrap();
    let release = home.path().join("release");
    let started = capped_command(&home, 256 * MIB, &["start", "--json", "--cwd", home.path().to_str().unwrap(), "--"])
        .arg(format!("await-file:{}", release.display()))
        .output()
        .unwrap();
    assert!(started.status.success(), "{}", String::from_utf8_lossy(&started.stderr));
    let first = serde_json::from_slice::<serde_json::Value>(&started.stdout).unwrap()["job_id"].as_str().unwrap().to_owned();
    // Pending jobs that will stall: the forged request is in place before they start,
    // and their supervisors read it when the stall stops them.
    let stalling: Vec<String> = (0..3).map(|_| start_with(&home, &["--stall-timeout", "1"], "say:going-quiet sleep:60")).collect();
    let [fifo, zero, huge] = [&stalling[0], &stalling[1], &stalling[2]];
    mkfifo(&home.job_dir(fifo).join("cancel_request.json"));
    symlink_to_zero(&home.job_dir(zero).join("cancel_request.json"));
    huge_file(&home.job_dir(huge).join("cancel_request.json"), 300 * MIB);
    std::fs::write(&release, b"").unwrap();
    for id in &stalling {
        home.wait_for_status(id, "cancelled", DEADLINE);
        assert_eq!(home.meta(id)["cancel_reason"], "stalled", "{}", home.meta(id));
    }
    home.wait_for_status(&first, "done", DEADLINE);
}

// ---------------------------------------------------------------------------------------
// The dashboard: a forged prompt file, and what the pager is given

#[test]
fn the_detail_view_reads_a_forged_prompt_file_in_bounded_memory_and_never_hangs() {
    use crate::support::tmux::{Tmux, dashboard_command, dashboard_pid};
    let home = TestHome::new();
    // A prompt long enough to be kept in prompt.txt.
    let long_prompt = format!("say:long-prompt pad:{}", "p".repeat(80 * 1024));
    let ids: Vec<String> = (0..3).map(|_| home.start(&long_prompt)).collect();
    for id in &ids {
        home.wait_for_status(id, "done", DEADLINE);
    }
    huge_file(&home.job_dir(&ids[0]).join("prompt.txt"), 300 * MIB);
    mkfifo(&home.job_dir(&ids[1]).join("prompt.txt"));
    symlink_to_zero(&home.job_dir(&ids[2]).join("prompt.txt"));
    // Under a heap cap: a dashboard that loads a forged file whole fails, instead of
    // taking the machine's memory.
    let command = format!("ulimit -d {} && {}", 512 * MIB / 1024, dashboard_command(&home, 0, "--no-mcp"));
    let tmux = Tmux::start(&command, 120, 40);
    tmux.wait_until("every job listed", support::tmux::DEADLINE, |screen| ids.iter().all(|id| screen.contains(id.as_str())));
    for id in &ids {
        tmux.keys(&["f"]);
        tmux.type_text(id);
        tmux.keys(&["Enter"]);
        tmux.wait_for(&format!("output  {id}"), support::tmux::DEADLINE);
        tmux.keys(&["i"]);
        tmux.wait_for(&format!("detail of {id}"), support::tmux::DEADLINE);
        tmux.wait_for("say:long-prompt", support::tmux::DEADLINE);
        tmux.keys(&["Escape"]);
        tmux.wait_until("the detail view to close", support::tmux::DEADLINE, |screen| !screen.contains("detail of"));
        tmux.keys(&["Escape"]);
        // (An Escape and a key right after it would read as Alt and that key.)
        tmux.wait_until("the filter to clear", support::tmux::DEADLINE, |screen| !screen.contains("[f:"));
    }
    let dashboard = dashboard_pid(&tmux).expect("the dashboard runs");
    let peak = peak_rss(dashboard).unwrap();
    eprintln!("dashboard after the forged prompts: peak RSS {} KiB", peak / 1024);
    assert!(peak < 160 * MIB, "the dashboard holds {} MiB for a prompt it shows", peak / MIB);
    // Nothing waits on a FIFO: it quits at once.
    tmux.keys(&["q"]);
    wait_until("the dashboard to exit", support::tmux::DEADLINE, || tmux.exited_cleanly());
}

/// A pager that keeps a copy of the file it is given in `copy`, and ends.
fn copying_pager(dir: &Path, name: &str, copy: &Path) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\nfor arg; do file=$arg; done\ncp \"$file\" {}\n", copy.display())).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[test]
fn o_gives_the_pager_sanitized_output_with_colour_only_for_less_r() {
    use crate::support::tmux::{Tmux, dashboard_command_with_env};
    let home = TestHome::new();
    let id = home.start("say:before hostile-output say:after");
    home.wait_for_status(&id, "done", DEADLINE);
    assert!(home.output(&id).contains("\x1b]52;c;"), "the job printed a clipboard write");
    for (pager, keeps_colour) in [("more", false), ("less", true)] {
        let copy = home.path().join(format!("{pager}-got.txt"));
        let program = copying_pager(&home.path().join(format!("bin-{pager}")), pager, &copy);
        let env = format!("PAGER='{} -R' LESS=", program.display());
        let tmux = Tmux::start(&dashboard_command_with_env(&home, &env, "--no-mcp"), 120, 32);
        tmux.wait_for(&format!("output  {id}"), support::tmux::DEADLINE);
        tmux.keys(&["o"]);
        wait_until("the pager to get the output", DEADLINE, || std::fs::metadata(&copy).is_ok_and(|meta| meta.len() > 0));
        let got = std::fs::read_to_string(&copy).unwrap();
        for text in ["before", "cleared", "title", "clip", "dcs", "bell", "bold", "plain", "red", "progress 100%", "after"] {
            assert!(got.contains(text), "{pager}: {text:?} is shown: {got:?}");
        }
        assert!(!got.contains("progress 10%"), "{pager}: a bar shows its last state: {got:?}");
        for escape in ["\x1b]", "\x1b[2J", "\x1b[H", "\x1bP", "\x1b(", "\x07", "\r"] {
            assert!(!got.contains(escape), "{pager}: {escape:?} never reaches the pager: {got:?}");
        }
        assert_eq!(got.contains("\x1b[31m"), keeps_colour, "{pager}: colour only for less -R: {got:?}");
        if !keeps_colour {
            assert!(!got.contains('\x1b'), "{pager}: no escape at all: {got:?}");
        }
        tmux.wait_for(&format!("output  {id}"), support::tmux::DEADLINE);
    }
}

#[test]
#[ignore = "mounts a tmpfs, which needs root: .ci/run runs it (as root) with --ignored"]
fn a_pending_job_that_meets_a_full_disk_waits_for_room_and_is_not_lost() {
    let disk = SmallDisk::mount("2m");
    let home = &disk.home;
    std::fs::write(home.path().join("config.toml"), "max_running = 1\n").unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let release = elsewhere.path().join("release");
    let first = home.start(&format!("await-file:{}", release.display()));
    let second = home.start("say:the-second-ran");
    assert_eq!(home.status(&second), "pending");
    let supervisor = supervisor_of(home, &first);
    disk.fill();
    std::fs::write(&release, b"").unwrap();
    // The first job's supervisor records its end (in the space it reserved), then tries
    // the second, which cannot even record why it cannot start.
    home.wait_for_status(&first, "done", DEADLINE);
    wait_until("the first job's supervisor to end", DEADLINE, || !support::is_alive(supervisor));
    assert_eq!(home.status(&second), "pending", "{}", home.meta(&second));
    assert!(entries(&home.path().join("queue/pending")).iter().any(|name| name.ends_with(&second)), "it still waits in the queue");
    // Room again: the next look starts it.
    std::fs::remove_file(home.path().join("filler")).unwrap();
    assert!(home.run(&["list"]).status.success());
    home.wait_for_status(&second, "done", DEADLINE);
    assert!(home.output(&second).contains("the-second-ran"));
}
