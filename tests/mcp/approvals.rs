//! Approvals over MCP with the real Claude Code CLI: a job started with
//! `approval_policy: "ask"` over HTTP, `codex_wait` returning as soon as it asks (with the
//! request), `codex_approve` answering (the first answer wins), and a server restart
//! while a request waits losing nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use crate::support::TestHome;
use crate::support::mcp::{HttpServerProcess, call, err, http_client, ok};
use serde_json::{Value, json};

#[path = "../support/claude_mock.rs"]
mod claude_mock;
use claude_mock::{MockModel, ToolCall, real_claude};

/// `codex_wait` until the job asks for approval `number` (or ends); its view.
async fn wait_for_request(client: &crate::support::mcp::Client, id: &str, number: u64) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let view = ok(&call(client, "codex_wait", json!({"job_id": id, "timeout_seconds": 30})).await);
        if view["approval"]["number"] == number || view["status"] != "running" {
            assert_eq!(view["approval"]["number"], number, "{view}");
            assert_eq!(view["timed_out"], false, "it returned because the job asks: {view}");
            return view;
        }
        assert!(tokio::time::Instant::now() < deadline, "no request #{number}: {view}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codex_wait_returns_when_a_job_asks_and_codex_approve_answers_across_a_restart() {
    let Some(claude) = real_claude() else { return };
    let home = TestHome::new();
    let project = tempfile::tempdir().unwrap();
    let user_home = tempfile::tempdir().unwrap();
    let mock = MockModel::start(vec![ToolCall::bash("touch one.txt"), ToolCall::bash("touch two.txt")]);
    let env = mock.env(&claude, user_home.path());
    let spawn = || {
        HttpServerProcess::spawn_with(&home, &[], |command| {
            command.envs(env.iter().map(|(key, value)| (key, value)));
        })
    };
    let server = spawn();
    let (client, _notes) = http_client(&server.url, server.token.as_deref()).await;
    let started = ok(&call(
        &client,
        "codex_start",
        json!({"prompt": "do the task", "cwd": project.path(), "agent": "claude", "approval_policy": "ask"}),
    )
    .await);
    let id = started["job_id"].as_str().unwrap().to_owned();

    // codex_wait comes back as soon as the job asks, not at its timeout.
    let asked = std::time::Instant::now();
    let view = wait_for_request(&client, &id, 1).await;
    assert!(asked.elapsed() < Duration::from_secs(30));
    assert_eq!((view["status"].as_str(), view["approval"]["tool_name"].as_str()), (Some("running"), Some("Bash")));
    assert_eq!(view["approval"]["input"]["command"], "touch one.txt");
    // Waiting through approvals times out instead.
    let through = ok(&call(&client, "codex_wait", json!({"job_id": id, "timeout_seconds": 0.5, "wait_through_approvals": true})).await);
    assert_eq!(through["timed_out"], true);

    // The server goes away while the request waits; a new one finds it (it is a file).
    drop(client);
    drop(server);
    let server = spawn();
    let (client, _notes) = http_client(&server.url, server.token.as_deref()).await;
    let view = wait_for_request(&client, &id, 1).await;
    assert_eq!(view["activity"], "waiting for approval: Bash: touch one.txt");
    let answered = ok(&call(&client, "codex_approve", json!({"job_id": id, "decision": "allow"})).await);
    assert_eq!((answered["request"]["number"].as_u64(), answered["answer"]["by"].as_str()), (Some(1), Some("mcp")));
    // A second answer to the same request is refused, saying who answered first.
    let again = err(&call(&client, "codex_approve", json!({"job_id": id, "decision": "deny", "request": 1})).await);
    assert!(again.contains("already answered (allow, by mcp)"), "{again}");

    let view = wait_for_request(&client, &id, 2).await;
    ok(&call(&client, "codex_approve", json!({"job_id": id, "decision": "deny", "message": "enough files"})).await);
    let end = ok(&call(&client, "codex_wait", json!({"job_id": id, "timeout_seconds": 30})).await);
    assert_eq!(end["status"], "done", "{view} then {end}");
    assert!(project.path().join("one.txt").exists() && !project.path().join("two.txt").exists());
    assert!(end["last_message"].as_str().unwrap().ends_with("enough files (is_error=true)"), "{end}");
    // Bad answers are explained.
    let bad = err(&call(&client, "codex_approve", json!({"job_id": id, "decision": "maybe"})).await);
    assert!(bad.contains("give 'allow' or 'deny'"), "{bad}");
}
