//! The engine's speed targets: tail of a 1 GiB log, listing 10,000 jobs, starting a job.
//!
//! `cargo bench --bench jobs`. Setup files go to a temp dir (the 1 GiB log needs 1 GiB
//! of free disk for the length of the run).
//!
//! Besides its time, the tail is measured by what it costs: the bytes it reads
//! (`rchar` of `/proc/self/io`) and how far it raises the process's peak memory
//! (`VmHWM` after resetting it through `/proc/self/clear_refs`), once cold — the page
//! cache dropped first where this process may (as root: `drop_caches`; else the file's
//! own pages, `POSIX_FADV_DONTNEED`) — and once warm.
//!
//! `JOBS_BENCH_QUICK=1` (CI runs it so) shrinks the big log to 64 MiB and the
//! measurement times, and asserts the counts: a tail reads less than 1 MiB and raises
//! peak memory by less than 8 MiB, whatever the file's size; starting jobs leaves no
//! process behind.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use codex_async::jobs::{AgentSpec, ApprovalPolicy, Engine, JobId, JobMeta, JobStore, StartRequest, output::tail};
use criterion::{Criterion, criterion_group, criterion_main};

const BIN: &str = env!("CARGO_BIN_EXE_codex-async");
/// In quick mode: the most a tail of the last 100 lines may read, and raise peak memory by.
const MAX_TAIL_READ: u64 = 1 << 20;
const MAX_TAIL_PEAK: u64 = 8 << 20;

fn quick() -> bool {
    std::env::var_os("JOBS_BENCH_QUICK").is_some()
}

fn config() -> Criterion {
    let criterion = Criterion::default();
    if quick() {
        criterion.measurement_time(Duration::from_secs(1)).warm_up_time(Duration::from_millis(300)).sample_size(10)
    } else {
        criterion.measurement_time(Duration::from_secs(5)).sample_size(50)
    }
}

fn write_log(path: &Path, bytes: u64) {
    let file = File::create(path).expect("log");
    let mut out = BufWriter::with_capacity(1 << 20, &file);
    let line = b"2026-11-21T10:00:00Z exec: cargo test -p codex-async --all-targets  (ok, 0.42s) \x1b[32mPASS\x1b[0m\n";
    let mut written = 0;
    while written < bytes {
        out.write_all(line).expect("write");
        written += line.len() as u64;
    }
    out.flush().expect("flush");
    drop(out);
    // On disk, so its pages are clean and can be dropped from the cache.
    file.sync_all().expect("sync");
}

/// Bytes this process has read through system calls so far.
fn bytes_read() -> u64 {
    let io = fs::read_to_string("/proc/self/io").unwrap_or_default();
    io.lines().find_map(|line| line.strip_prefix("rchar:")).and_then(|value| value.trim().parse().ok()).unwrap_or(0)
}

/// A field of `/proc/self/status` in bytes (`VmHWM`, `VmRSS`).
fn status_bytes(field: &str) -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let kib: u64 = status.lines().find_map(|line| line.strip_prefix(field))?.split_whitespace().next()?.parse().ok()?;
    Some(kib * 1024)
}

/// Resets the peak-memory mark to the current resident size; `false` if not permitted.
fn reset_peak_memory() -> bool {
    fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// How the page cache was emptied of `path` before a cold read.
fn drop_page_cache(path: &Path) -> &'static str {
    let _ = Command::new("sync").status();
    if fs::write("/proc/sys/vm/drop_caches", "3").is_ok() {
        return "page cache dropped (drop_caches)";
    }
    match File::open(path).map(|file| nix::fcntl::posix_fadvise(&file, 0, 0, nix::fcntl::PosixFadviseAdvice::POSIX_FADV_DONTNEED)) {
        Ok(Ok(())) => "the file's cached pages dropped (POSIX_FADV_DONTNEED; drop_caches needs root)",
        _ => "page cache NOT dropped (not permitted here): the cold figures are warm",
    }
}

struct TailCost {
    took: Duration,
    read: u64,
    peak_rise: Option<u64>,
}

fn tail_cost(path: &Path) -> TailCost {
    let peak_known = reset_peak_memory();
    let resident_before = status_bytes("VmRSS:");
    let read_before = bytes_read();
    let began = Instant::now();
    let text = tail::tail_file(path, tail::TAIL_LINES, tail::MAX_OUTPUT_CHARS).expect("tail");
    let took = began.elapsed();
    let read = bytes_read() - read_before;
    let peak_rise = match (peak_known, resident_before, status_bytes("VmHWM:")) {
        (true, Some(before), Some(peak)) => Some(peak.saturating_sub(before)),
        _ => None,
    };
    assert!(text.ends_with("PASS\x1b[0m"), "the tail ends with the last line");
    TailCost { took, read, peak_rise }
}

fn report_tail_cost(name: &str, size: u64, path: &Path) {
    let cache = drop_page_cache(path);
    let cold = tail_cost(path);
    let warm = tail_cost(path);
    let peak =
        |cost: &TailCost| cost.peak_rise.map_or("unknown (clear_refs not permitted)".to_owned(), |rise| format!("{} KiB", rise / 1024));
    println!(
        "tail_100_lines/{name} ({size} bytes): cold {:?}, read {} KiB, peak memory +{} ({cache}); warm {:?}, read {} KiB, peak memory +{}",
        cold.took,
        cold.read / 1024,
        peak(&cold),
        warm.took,
        warm.read / 1024,
        peak(&warm),
    );
    if quick() {
        for (which, cost) in [("cold", &cold), ("warm", &warm)] {
            assert!(cost.read < MAX_TAIL_READ, "{name} {which}: a tail read {} bytes of a {size} byte file", cost.read);
            if let Some(rise) = cost.peak_rise {
                assert!(rise < MAX_TAIL_PEAK, "{name} {which}: a tail raised peak memory by {rise} bytes");
            }
        }
    }
}

fn bench_tail(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let (big_name, big_size) = if quick() { ("64_MiB", 64u64 << 20) } else { ("1_GiB", 1u64 << 30) };
    let mut group = c.benchmark_group("tail_100_lines");
    for (name, size) in [("1_MiB", 1u64 << 20), (big_name, big_size)] {
        let path = dir.path().join(format!("{name}.txt"));
        write_log(&path, size);
        report_tail_cost(name, size, &path);
        group.bench_function(name, |b| {
            b.iter(|| tail::tail_file(&path, tail::TAIL_LINES, tail::MAX_OUTPUT_CHARS).expect("tail"));
        });
        fs::remove_file(&path).expect("cleanup");
    }
    group.finish();
}

fn fill_store(store: &JobStore, jobs: usize) {
    let template = r#"{"job_id":"ID","status":"done","prompt":"Refactor the parser and add tests for every error path","cwd":"/home/me/project","approval_policy":"suggest","pid":1,"started_at":"2026-04-29T10:00:00+00:00","finished_at":"2026-04-29T10:05:00+00:00","exit_code":0}"#;
    for _ in 0..jobs {
        let id: JobId = store.reserve().expect("reserve");
        let meta = JobMeta::from_json(template.replace("ID", id.as_str()).as_bytes()).expect("meta");
        fs::write(store.meta_path(&id), meta.to_json()).expect("write meta");
        fs::write(store.output_path(&id), "done\n").expect("write output");
    }
}

fn bench_list(c: &mut Criterion) {
    let home = tempfile::tempdir().expect("temp dir");
    let store = JobStore::new(home.path());
    fill_store(&store, 10_000);
    let engine = Engine::new(store, BIN);
    let mut group = c.benchmark_group("list_20_of_10000");
    group.bench_function("library", |b| b.iter(|| engine.list(20).expect("list")));
    group.bench_function("cli_process", |b| {
        b.iter(|| {
            let output =
                Command::new(BIN).args(["list", "--limit", "20", "--json"]).env("CODEX_ASYNC_HOME", home.path()).output().expect("run");
            assert!(output.status.success());
        })
    });
    group.finish();
}

fn bench_start(c: &mut Criterion) {
    let home = tempfile::tempdir().expect("temp dir");
    let engine = Engine::new(JobStore::new(home.path()), BIN);
    // `true` accepts codex's arguments and exits at once: only our cost is measured.
    let request = StartRequest::new("bench", Path::new("/tmp"), ApprovalPolicy::Suggest, AgentSpec::Codex { program: "true".into() })
        .expect("request");
    let mut group = c.benchmark_group("start");
    group.bench_function("call_to_return", |b| b.iter(|| engine.start(&request).expect("start")));
    group.finish();
    // Every job ended on its own, and nothing of any of them is left running.
    let store = engine.store();
    support::wait_until("every started job to end", Duration::from_secs(120), || {
        store.list(None).expect("list").iter().all(|record| record.meta.as_ref().is_ok_and(|meta| meta.status.is_finished()))
    });
    let started = store.list(None).expect("list").len();
    support::wait_until("the jobs' processes to exit", Duration::from_secs(60), || support::job_processes_of_home(home.path()).is_empty());
    println!("start: {started} jobs started, all ended, 0 processes left");
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench_tail, bench_list, bench_start
}
criterion_main!(benches);
