//! Bounds under attack, through the real binary: output with endless lines and bursts,
//! job files that are huge, FIFOs or symlinks to endless devices, a queue whose index
//! lost a job or holds one that can never start, and the order of what an agent prints.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{BIN, ProcessGuard, TestHome, wait_until};

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
        .env("CODEX_BIN", common::fake_agent())
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
