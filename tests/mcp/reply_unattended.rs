//! codex_reply takes codex_start's unattended arguments, through a real MCP client over
//! stdio: after, delay and at (its own), labels, group, priority and max_tokens (the
//! parent's unless given), each checked as on codex_start.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use crate::support::mcp::{call, err, ok, stdio_client};
use crate::support::{TestHome, finished};
use serde_json::json;

const SETTLE: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codex_reply_waits_as_asked_and_queues_where_its_parent_did() {
    let home = TestHome::new();
    std::fs::write(home.path().join("config.toml"), "[groups.review]\nmax_running = 2\n").unwrap();
    let (client, _notes) = stdio_client(&home, &[]).await;
    let cwd = home.path().to_str().unwrap();

    let tools = client.list_all_tools().await.unwrap();
    let reply = tools.iter().find(|tool| tool.name == "codex_reply").unwrap();
    for argument in ["after", "delay", "at", "labels", "group", "priority", "max_tokens", "resume_on_limit"] {
        assert!(reply.input_schema["properties"].get(argument).is_some(), "codex_reply takes {argument}");
    }

    let started = json!({"prompt": "session say:first", "cwd": cwd, "labels": ["infra"], "group": "review", "priority": 2});
    let parent = ok(&call(&client, "codex_start", started).await)["job_id"].as_str().unwrap().to_owned();
    let waited = ok(&call(&client, "codex_wait", json!({"job_id": parent, "timeout_seconds": 30})).await);
    assert_eq!(waited["status"], "done", "{waited}");
    let barrier = home.path().join("barrier");
    let blocker = json!({"prompt": format!("await-file:{} say:blocker", barrier.display()), "cwd": cwd});
    let blocker = ok(&call(&client, "codex_start", blocker).await)["job_id"].as_str().unwrap().to_owned();

    let asked =
        json!({"job_id": parent, "prompt": "say:next", "after": &blocker[..5], "delay": "1s", "labels": "nightly", "max_tokens": 1000});
    let child = ok(&call(&client, "codex_reply", asked).await);
    assert_eq!(child["status"], "pending", "{child}");
    assert_eq!((child["inherited"]["group"].as_str(), child["inherited"]["priority"].as_i64()), (Some("review"), Some(2)), "{child}");
    assert!(child["inherited"].get("labels").is_none() && child["inherited"].get("max_tokens").is_none(), "given, not inherited: {child}");
    let child = child["job_id"].as_str().unwrap().to_owned();
    let polled = ok(&call(&client, "codex_poll", json!({"job_id": child})).await);
    assert!(polled["waiting"].as_str().unwrap().contains(&format!("after {blocker}")), "{polled}");

    std::fs::write(&barrier, "").unwrap();
    let waited = ok(&call(&client, "codex_wait", json!({"job_id": child, "timeout_seconds": SETTLE.as_secs()})).await);
    assert_eq!(waited["status"], "done", "{waited}");
    let meta = finished(&home, &child);
    assert_eq!((meta["labels"].clone(), meta["group"].clone(), meta["priority"].clone()), (json!(["nightly"]), json!("review"), json!(2)));
    assert_eq!((meta["max_tokens"].as_u64(), meta["queue_limit"].as_u64()), (Some(1000), Some(2)));
    assert_eq!(meta["after"], json!([blocker]), "made whole");

    let jobs_before = crate::support::job_count(&home);
    for (arguments, said) in [
        (json!({"after": "ffffffff"}), "ffffffff"),
        (json!({"group": "nosuch"}), "unknown group"),
        (json!({"delay": "1s", "at": "10:00"}), "either delay or at"),
        (json!({"labels": ["no spaces"]}), "label"),
        (json!({"delay": "soon"}), "invalid delay"),
    ] {
        let mut arguments = arguments;
        arguments["job_id"] = json!(parent);
        arguments["prompt"] = json!("x");
        let refused = err(&call(&client, "codex_reply", arguments).await);
        assert!(refused.contains(said), "{refused}");
    }
    assert_eq!(crate::support::job_count(&home), jobs_before, "nothing was started");
    client.cancel().await.unwrap();
}
