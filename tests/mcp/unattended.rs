//! Unattended work over MCP (the real `serve` over stdio): `after` and `delay` on
//! codex_start, codex_pause and codex_resume.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use crate::support::mcp::{call, err, ok, stdio_client};
use crate::support::{TestHome, wait_until};
use serde_json::json;

const SETTLE: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_after_and_delay_then_pause_and_resume() {
    let home = TestHome::new();
    let (client, _notes) = stdio_client(&home, &[]).await;
    let cwd = home.path().to_str().unwrap();
    let first = ok(&call(&client, "codex_start", json!({"prompt": "tick:15 say:first-end", "cwd": cwd})).await);
    let first = first["job_id"].as_str().unwrap().to_owned();
    let second = ok(&call(&client, "codex_start", json!({"prompt": "say:second", "cwd": cwd, "after": [first], "delay": "1s"})).await);
    assert_eq!(second["status"], "pending", "{second}");
    let second = second["job_id"].as_str().unwrap().to_owned();
    let polled = ok(&call(&client, "codex_poll", json!({"job_id": second})).await);
    assert!(polled["waiting"].as_str().unwrap().contains(&first), "{polled}");

    wait_until("a tick", SETTLE, || home.output(&first).contains("tick 0"));
    let paused = ok(&call(&client, "codex_pause", json!({"job_id": first})).await);
    assert_eq!((paused["status"].as_str(), paused["changed"].as_bool()), (Some("paused"), Some(true)), "{paused}");
    assert_eq!(ok(&call(&client, "codex_poll", json!({"job_id": first})).await)["status"], "paused");
    let resumed = ok(&call(&client, "codex_resume", json!({"job_id": first})).await);
    assert_eq!(resumed["status"], "running");

    let waited = ok(&call(&client, "codex_wait", json!({"job_id": second, "timeout_seconds": 30})).await);
    assert_eq!(waited["status"], "done", "{waited}");
    assert_eq!(ok(&call(&client, "codex_poll", json!({"job_id": first})).await)["status"], "done");

    let refused = err(&call(&client, "codex_start", json!({"prompt": "x", "cwd": cwd, "after": "ffffffff"})).await);
    assert!(refused.contains("ffffffff"), "{refused}");
    let refused = err(&call(&client, "codex_pause", json!({"job_id": second})).await);
    assert!(refused.contains("nothing to pause"), "{refused}");
    client.cancel().await.unwrap();
}
