//! MCP server benchmarks against the real binary:
//! - `codex_poll` round trip over stdio and over streamable HTTP (criterion, plus
//!   p50/p90/p99 from a fixed number of calls);
//! - 8 concurrent HTTP clients each starting, polling and cancelling 100 jobs
//!   (errors and throughput printed).
//!
//! Run with `cargo bench --bench mcp`; it takes about a minute. Set
//! `MCP_BENCH_JOBS_PER_CLIENT` to change the load test's size. `MCP_BENCH_QUICK=1`
//! (CI runs it so) takes fewer samples and 10 jobs per client. Either way the counts
//! are asserted: no failed call, and no process of any job left once they are
//! cancelled.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use criterion::Criterion;
use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::RunningService;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Value, json};
use support::TestHome;

type Client = RunningService<RoleClient, ()>;

const CLIENTS: usize = 8;

fn quick() -> bool {
    std::env::var_os("MCP_BENCH_QUICK").is_some()
}

fn latency_samples() -> usize {
    if quick() { 200 } else { 2000 }
}

fn request(name: &'static str, arguments: Value) -> CallToolRequestParams {
    let Value::Object(arguments) = arguments else { unreachable!("tool arguments are objects") };
    CallToolRequestParams::new(name).with_arguments(arguments)
}

async fn call(client: &Client, name: &'static str, value: Value) -> Result<Value, String> {
    let result: CallToolResult = client.call_tool(request(name, value)).await.map_err(|err| err.to_string())?;
    if result.is_error == Some(true) {
        return Err(format!("{name}: {:?}", result.content));
    }
    result.structured_content.ok_or_else(|| format!("{name}: no structuredContent"))
}

struct HttpServer {
    child: Child,
    url: String,
    /// The home's token, which the server takes.
    token: String,
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn_http(home: &TestHome) -> HttpServer {
    let mut child = home
        .command()
        .args(["serve", "--http", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn serve --http");
    let stderr = support::lines_of(child.stderr.take().unwrap());
    // Killed on drop from here on, should the URL not come.
    let mut server = HttpServer { child, url: String::new(), token: String::new() };
    let line = support::next_line(&stderr, Duration::from_secs(30), "the server's URL on stderr");
    server.url = line.trim().strip_prefix("codex-async: serving MCP at ").expect("the URL on stderr").to_owned();
    server.token = std::fs::read_to_string(home.path().join("token")).expect("the home's token").trim().to_owned();
    server
}

async fn stdio_client(home: &TestHome) -> Client {
    let mut command = tokio::process::Command::from(home.command());
    command.arg("serve");
    ().serve(TokioChildProcess::new(command).unwrap()).await.expect("stdio handshake")
}

async fn http_client(url: &str, token: &str) -> Client {
    let config = rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig::with_uri(url.to_owned())
        .auth_header(token.to_owned());
    ().serve(StreamableHttpClientTransport::from_config(config)).await.expect("HTTP handshake")
}

fn percentiles(mut samples: Vec<Duration>) -> String {
    samples.sort();
    let at = |fraction: f64| samples[((samples.len() - 1) as f64 * fraction) as usize];
    format!("p50 {:?}  p90 {:?}  p99 {:?}  max {:?}  (n={})", at(0.5), at(0.9), at(0.99), at(1.0), samples.len())
}

fn poll_round_trips(criterion: &mut Criterion, runtime: &tokio::runtime::Runtime, home: &TestHome, job_id: &str) {
    let server = spawn_http(home);
    let clients =
        runtime.block_on(async { [("stdio", stdio_client(home).await), ("http", http_client(&server.url, &server.token).await)] });
    let mut group = criterion.benchmark_group("codex_poll round trip");
    if quick() {
        group.measurement_time(Duration::from_secs(1)).warm_up_time(Duration::from_millis(300)).sample_size(10);
    } else {
        group.measurement_time(Duration::from_secs(4)).warm_up_time(Duration::from_secs(1)).sample_size(50);
    }
    for (transport, client) in &clients {
        let poll = json!({"job_id": job_id});
        group.bench_function(*transport, |bench| {
            bench.iter(|| runtime.block_on(call(client, "codex_poll", poll.clone())).expect("poll"));
        });
        let samples = (0..latency_samples())
            .map(|_| {
                let began = Instant::now();
                runtime.block_on(call(client, "codex_poll", poll.clone())).expect("poll");
                began.elapsed()
            })
            .collect();
        println!("codex_poll over {transport}: {}", percentiles(samples));
    }
    group.finish();
    runtime.block_on(async {
        for (_, client) in clients {
            let _ = client.cancel().await;
        }
    });
}

/// Each client starts, polls and cancels `jobs` jobs, one after another; the clients
/// run at once. Returns how many calls failed and the ids of the jobs started.
fn concurrent_jobs(runtime: &tokio::runtime::Runtime, home: &TestHome, jobs: usize) -> (usize, Vec<String>) {
    let server = spawn_http(home);
    let cwd = home.path().to_str().unwrap().to_owned();
    let errors = Arc::new(AtomicUsize::new(0));
    let calls = Arc::new(AtomicUsize::new(0));
    let started_ids = Arc::new(Mutex::new(Vec::new()));
    let began = Instant::now();
    runtime.block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..CLIENTS {
            let (url, token, cwd, errors, calls) = (server.url.clone(), server.token.clone(), cwd.clone(), errors.clone(), calls.clone());
            let started_ids = started_ids.clone();
            tasks.push(tokio::spawn(async move {
                let client = http_client(&url, &token).await;
                for _ in 0..jobs {
                    let outcome = async {
                        let started = call(&client, "codex_start", json!({"prompt": "say:bench sleep:30", "cwd": cwd})).await?;
                        let job_id = started["job_id"].as_str().ok_or("no job_id")?.to_owned();
                        started_ids.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(job_id.clone());
                        let polled = call(&client, "codex_poll", json!({"job_id": job_id})).await?;
                        if polled["job_id"] != job_id.as_str() {
                            return Err(format!("poll answered for {}", polled["job_id"]));
                        }
                        let cancelled = call(&client, "codex_cancel", json!({"job_id": job_id})).await?;
                        if cancelled["status"] != "cancelled" {
                            return Err(format!("cancel answered {cancelled}"));
                        }
                        Ok::<(), String>(())
                    }
                    .await;
                    calls.fetch_add(3, Ordering::Relaxed);
                    if let Err(err) = outcome {
                        eprintln!("error: {err}");
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
                let _ = client.cancel().await;
            }));
        }
        for task in tasks {
            task.await.expect("a client task");
        }
    });
    let took = began.elapsed();
    let total = CLIENTS * jobs;
    let errors = errors.load(Ordering::Relaxed);
    println!(
        "{CLIENTS} HTTP clients x {jobs} jobs (start, poll, cancel): {total} jobs in {took:.2?}, {errors} errors, {:.1} jobs/s, {:.1} calls/s",
        total as f64 / took.as_secs_f64(),
        calls.load(Ordering::Relaxed) as f64 / took.as_secs_f64(),
    );
    let ids = std::mem::take(&mut *started_ids.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
    (errors, ids)
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let home = TestHome::new();
    let job_id = home.start("flood:200 sleep:600");
    support::wait_until("the job's output", Duration::from_secs(30), || home.output(&job_id).contains("line 199"));

    poll_round_trips(&mut criterion, &runtime, &home, &job_id);
    let default_jobs = if quick() { 10 } else { 100 };
    let jobs = std::env::var("MCP_BENCH_JOBS_PER_CLIENT").ok().and_then(|value| value.parse().ok()).unwrap_or(default_jobs);
    let (errors, ids) = concurrent_jobs(&runtime, &home, jobs);
    assert!(home.run(&["cancel", &job_id]).status.success());
    criterion.final_summary();

    // The counts: every call answered, every job accounted for, nothing left running.
    assert_eq!(errors, 0, "failed calls under load");
    assert_eq!(ids.len(), CLIENTS * jobs, "every start answered with a job");
    for id in ids.iter().chain([&job_id]) {
        assert_eq!(home.status(id), "cancelled", "job {id}");
    }
    support::wait_until("the jobs' processes to exit", Duration::from_secs(60), || support::job_processes_of_home(home.path()).is_empty());
    println!("{} jobs cancelled, 0 processes left", ids.len() + 1);
}
