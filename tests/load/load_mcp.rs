//! Load: 8 MCP clients at once, each doing 200 start/poll/cancel operations, over HTTP
//! and over stdio. Heavy, so `#[ignore]`d in the default run; `.ci/run` runs it with
//! `cargo test --test load -- --ignored`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::time::{Duration, Instant};

use crate::support::mcp::{Client, HttpServerProcess, http_client, params, stdio_client};
use crate::support::{TestHome, wait_until};
use serde_json::{Value, json};

const CLIENTS: usize = 8;
const OPERATIONS: usize = 200;

/// start, poll, cancel, start, poll, cancel… until `OPERATIONS` calls were made.
/// Returns the ids started and the number of calls that failed in any way.
async fn churn(client: Client, cwd: String) -> (Vec<String>, usize) {
    let mut ids = Vec::new();
    let mut failures = 0;
    let mut current: Option<String> = None;
    for operation in 0..OPERATIONS {
        let request = match (operation % 3, &current) {
            (0, _) | (_, None) => params("codex_start", json!({"prompt": "say:working sleep:30", "cwd": cwd})),
            (1, Some(id)) => params("codex_poll", json!({"job_id": id, "tail_lines": 5})),
            (_, Some(id)) => params("codex_cancel", json!({"job_id": id})),
        };
        let name = request.name.clone();
        match client.call_tool(request).await {
            Ok(result) if result.is_error != Some(true) => {
                if name == "codex_start" {
                    let started: Value = result.structured_content.expect("structured");
                    let id = started["job_id"].as_str().expect("job_id").to_owned();
                    ids.push(id.clone());
                    current = Some(id);
                }
            }
            other => {
                eprintln!("{name} failed: {other:?}");
                failures += 1;
            }
        }
    }
    let _ = client.cancel().await;
    (ids, failures)
}

async fn run_load(home: &TestHome, clients: Vec<Client>) {
    let began = Instant::now();
    let cwd = home.path().to_str().unwrap().to_owned();
    let tasks: Vec<_> = clients.into_iter().map(|client| tokio::spawn(churn(client, cwd.clone()))).collect();
    let mut started = HashSet::new();
    let mut failures = 0;
    for task in tasks {
        let (ids, failed) = task.await.unwrap();
        failures += failed;
        started.extend(ids);
    }
    let elapsed = began.elapsed();
    eprintln!(
        "{} calls, {} jobs in {elapsed:?} ({:.0} calls/s)",
        CLIENTS * OPERATIONS,
        started.len(),
        (CLIENTS * OPERATIONS) as f64 / elapsed.as_secs_f64()
    );
    assert_eq!(failures, 0, "calls that failed");
    assert_eq!(started.len(), CLIENTS * OPERATIONS.div_ceil(3));

    // Every job accounted for, with a valid meta.json; end what is still running.
    let engine = home.engine();
    for id in &started {
        let meta = home.store().read_meta_raw(&codex_async::jobs::JobId::parse(id).unwrap()).expect("a valid meta.json");
        if !meta.status.is_finished() {
            engine.cancel(id, Duration::from_secs(1)).await.unwrap();
        }
    }
    wait_until("every job to end", Duration::from_secs(120), || {
        home.store().list(None).unwrap().iter().all(|record| record.meta.as_ref().is_ok_and(|meta| meta.status.is_finished()))
    });
    let records = home.store().list(None).unwrap();
    assert_eq!(records.len(), started.len(), "no job more, no job less");
    assert!(records.iter().all(|record| record.meta.is_ok()), "0 corrupt meta.json");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "load test: run by .ci/run with --ignored"]
async fn eight_http_clients_times_200_operations() {
    let home = TestHome::new();
    let server = HttpServerProcess::spawn(&home, &[]);
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        clients.push(http_client(&server.url, server.token.as_deref()).await.0);
    }
    run_load(&home, clients).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "load test: run by .ci/run with --ignored"]
async fn eight_stdio_clients_times_200_operations() {
    let home = TestHome::new();
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        clients.push(stdio_client(&home, &[]).await.0);
    }
    run_load(&home, clients).await;
}
