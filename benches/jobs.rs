//! The engine's speed targets: tail of a 1 GiB log, listing 10,000 jobs, starting a job.
//!
//! `cargo bench --bench jobs`. Setup files go to a temp dir (the 1 GiB log needs 1 GiB
//! of free disk for the length of the run).

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use codex_async::jobs::{AgentSpec, ApprovalPolicy, Engine, JobId, JobMeta, JobStore, StartRequest, tail};
use criterion::{Criterion, criterion_group, criterion_main};

const BIN: &str = env!("CARGO_BIN_EXE_codex-async");

fn write_log(path: &Path, bytes: u64) {
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path).expect("log"));
    let line = b"2026-11-21T10:00:00Z exec: cargo test -p codex-async --all-targets  (ok, 0.42s) \x1b[32mPASS\x1b[0m\n";
    let mut written = 0;
    while written < bytes {
        out.write_all(line).expect("write");
        written += line.len() as u64;
    }
    out.flush().expect("flush");
}

fn bench_tail(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut group = c.benchmark_group("tail_100_lines");
    for (name, size) in [("1_MiB", 1u64 << 20), ("1_GiB", 1u64 << 30)] {
        let path = dir.path().join(format!("{name}.txt"));
        write_log(&path, size);
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
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(5)).sample_size(50);
    targets = bench_tail, bench_list, bench_start
}
criterion_main!(benches);
