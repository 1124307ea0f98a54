//! An idle process reads nothing: after start-up, over a quiet second, the dashboard's
//! loader, a wait and the MCP change feed read no meta and list no folder — counted by
//! the store's own counters, not timed. Each is also shown to still see a change.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use crate::support;
use crate::support::mcp::{call, ok, recorder};
use crate::support::{TestHome, wait_until};
use codex_async::jobs::process::owner::OwnerLock;
use codex_async::jobs::{JobFeed, JobId, JobMeta, JobStore};
use codex_async::mcp::McpServer;
use codex_async::tui::DataEvent;
use codex_async::tui::loader::{self, LoaderCommand};
use rmcp::ServiceExt;
use rmcp::model::SubscribeRequestParams;
use serde_json::json;
use tokio_util::sync::CancellationToken;

/// The window in which nothing may be read. Its length is what the check is about;
/// no result depends on timing.
const QUIET: Duration = Duration::from_secs(1);
const DEADLINE: Duration = Duration::from_secs(20);

fn meta(id: &JobId, status: &str) -> JobMeta {
    let json = json!({"job_id": id.as_str(), "status": status, "prompt": "p", "cwd": "/",
        "approval_policy": "suggest", "pid": null, "started_at": null, "finished_at": null, "exit_code": null,
        "supervisor_pid": i32::MAX});
    JobMeta::from_json(json.to_string().as_bytes()).unwrap()
}

/// A home with `finished` finished jobs and one running job whose lock this test holds.
fn stocked_home(store: &JobStore, finished: usize) -> (JobId, OwnerLock) {
    for _ in 0..finished {
        let id = store.reserve().unwrap();
        store.write_meta(&meta(&id, "done")).unwrap();
        std::fs::write(store.output_path(&id), "a line\n").unwrap();
    }
    let running = store.reserve().unwrap();
    store.write_meta(&meta(&running, "running")).unwrap();
    let owner = OwnerLock::create(&store.job_dir(&running)).unwrap();
    (running, owner)
}

fn reads(store: &JobStore) -> (u64, u64) {
    (store.counters().meta_reads(), store.counters().listings())
}

/// The counts once start-up reading is over (they stopped moving).
fn settled_reads(store: &JobStore) -> (u64, u64) {
    let mut before = reads(store);
    wait_until("start-up to finish reading", DEADLINE, || {
        std::thread::sleep(Duration::from_millis(100));
        let now = reads(store);
        std::mem::replace(&mut before, now) == now
    });
    before
}

#[test]
fn the_dashboard_loader_reads_nothing_while_nothing_changes() {
    let home = tempfile::tempdir().unwrap();
    let store = JobStore::new(home.path());
    let (running, owner) = stocked_home(&store, 50);
    let (commands, command_receiver) = tokio::sync::mpsc::unbounded_channel();
    let (sender, mut events) = tokio::sync::mpsc::unbounded_channel();
    let shutdown = CancellationToken::new();
    let thread = loader::spawn(JobFeed::new(store.clone()), command_receiver, sender, shutdown.clone()).unwrap();
    commands.send(LoaderCommand::Watch(Some(running.clone()))).unwrap();
    let mut output_seen = false;
    wait_until("the first listing and the followed output", DEADLINE, || {
        while let Ok(event) = events.try_recv() {
            output_seen |= matches!(event, DataEvent::Output(..));
        }
        output_seen && store.counters().listings() > 0
    });
    let before = settled_reads(&store);
    std::thread::sleep(QUIET);
    assert_eq!(reads(&store), before, "(meta reads, listings) during a quiet second");

    // Still awake: the running job's end is seen.
    // As a supervisor does: the result first, then the lock goes.
    store.write_meta(&meta(&running, "done")).unwrap();
    drop(owner);
    wait_until("the ending to reach the loader", DEADLINE, || {
        std::iter::from_fn(|| events.try_recv().ok())
            .any(|event| matches!(event, DataEvent::Job(record) if record.id == running && record.meta.as_ref().is_ok_and(|meta| meta.status.is_finished())))
    });
    shutdown.cancel();
    thread.join().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wait_reads_nothing_while_its_job_runs() {
    let home = TestHome::new();
    let store = home.store();
    let engine = home.engine();
    let (running, owner) = stocked_home(engine.store(), 20);
    let counted = engine.store().clone();
    let waiting = {
        let engine = engine.clone();
        let id = running.to_string();
        tokio::spawn(async move { engine.wait(&id, Duration::from_secs(120), 10).await })
    };
    wait_until("the wait's first look", DEADLINE, || counted.counters().meta_reads() > 0);
    let before = settled_reads(&counted);
    tokio::time::sleep(QUIET).await;
    assert_eq!(reads(&counted), before, "(meta reads, listings) of a waiting wait during a quiet second");
    // An agent printing does not wake it to read (as an agent does: the file stays open).
    let mut stdout = std::fs::OpenOptions::new().create(true).append(true).open(store.output_path(&running)).unwrap();
    for line in 0..100 {
        std::io::Write::write_all(&mut stdout, format!("printed {line}\n").as_bytes()).unwrap();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(reads(&counted), before, "output woke the wait to read the meta");
    drop(stdout);

    engine.store().write_meta(&meta(&running, "done")).unwrap();
    drop(owner);
    let view = tokio::time::timeout(DEADLINE, waiting).await.unwrap().unwrap().unwrap();
    assert!(!view.timed_out);
    assert_eq!(view.poll.status.as_str(), "done");
}

#[allow(deprecated)] // resources/subscribe: the 2025-11-25 way most clients speak
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mcp_change_feed_reads_nothing_while_nothing_changes() {
    let home = TestHome::new();
    let engine = home.engine();
    let (running, owner) = stocked_home(engine.store(), 50);
    let counted = engine.store().clone();
    let (server_side, client_side) = tokio::io::duplex(64 * 1024);
    let server = McpServer::new(engine.clone(), Duration::from_secs(45));
    tokio::spawn(async move {
        if let Ok(running) = server.serve(server_side).await {
            let _ = running.waiting().await;
        }
    });
    let (handler, mut notes) = recorder();
    let client = handler.serve(client_side).await.unwrap();
    // Listing resources starts the change notifications.
    let listed = client.list_all_resources().await.unwrap();
    assert_eq!(listed.len(), 51 * 2);
    let listed_jobs = ok(&call(&client, "codex_list", json!({"limit": 5})).await);
    assert_eq!(listed_jobs["result"].as_array().unwrap().len(), 5);
    let uri = format!("codex-async://jobs/{running}/meta");
    client.subscribe(SubscribeRequestParams::new(uri.clone())).await.unwrap();
    let before = settled_reads(&counted);
    tokio::time::sleep(QUIET).await;
    assert_eq!(reads(&counted), before, "(meta reads, listings) of an idle server during a quiet second");

    engine.store().write_meta(&meta(&running, "done")).unwrap();
    drop(owner);
    support::mcp::expect_note(&mut notes, DEADLINE, "the job's meta to update", |note| *note == support::mcp::Note::Updated(uri.clone()))
        .await;
    client.cancel().await.unwrap();
}
