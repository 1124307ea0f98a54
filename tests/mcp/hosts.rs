//! The server acting for its hosts: `host` on codex_start and codex_reply, `all_hosts`
//! on codex_list, `NAME:ID` in the tools that take a job, with hosts that are
//! `codex-async serve` over their own homes behind a command and over HTTP with their
//! own token — and a session that drops midway, a host held to the local ceiling, an
//! older host.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use rmcp::ServiceExt;
use rmcp::transport::TokioChildProcess;
use serde_json::json;

use crate::support::hosts::{bash_host, command_host, configure, fake_host_argv, holds_job, serve_argv, serve_shell};
use crate::support::mcp::{Client, HttpServerProcess, Note, call, err, expect_note, ok, recorder, stdio_client};
use crate::support::{TestHome, wait_until};

/// `codex-async serve` over stdio for `local`, with `env` set and `args` given.
async fn local_server(local: &TestHome, env: &[(&str, &str)], args: &[&str]) -> (Client, tokio::sync::mpsc::UnboundedReceiver<Note>) {
    let mut command = tokio::process::Command::from(local.command());
    command.arg("serve").args(args);
    for (name, value) in env {
        command.env(name, value);
    }
    let transport = TokioChildProcess::new(command).expect("spawn codex-async serve");
    let (recorder, notes) = recorder();
    (recorder.serve(transport).await.expect("MCP handshake"), notes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_calling_agent_runs_and_follows_jobs_on_a_host_through_one_server() {
    let local = TestHome::new();
    let host = TestHome::new();
    configure(&local, &[command_host("box", &serve_argv(&host, &[]), "")]);
    let mine = local.start("say:here sleep:60");
    let (client, _notes) = stdio_client(&local, &[]).await;

    let tools = client.list_all_tools().await.unwrap();
    let start = tools.iter().find(|tool| tool.name == "codex_start").unwrap();
    assert_eq!(start.input_schema["properties"]["host"]["enum"], json!(["box", "local"]));
    assert!(start.description.as_deref().unwrap().contains("'box'"), "the hosts are named");
    let list = tools.iter().find(|tool| tool.name == "codex_list").unwrap();
    assert_eq!(list.input_schema["properties"]["all_hosts"]["type"], "boolean");
    let poll = tools.iter().find(|tool| tool.name == "codex_poll").unwrap();
    assert!(poll.description.as_deref().unwrap().contains("NAME:ID"));

    let cwd = host.path().to_str().unwrap();
    let started = ok(&call(&client, "codex_start", json!({"host": "box", "prompt": "say:hello sleep:60", "cwd": cwd})).await);
    let qualified = started["job_id"].as_str().unwrap().to_owned();
    let id = qualified.strip_prefix("box:").expect("NAME:ID").to_owned();
    assert_eq!(started["host"], "box");
    assert!(holds_job(host.path(), &id) && !holds_job(local.path(), &id));

    wait_until("the host's job to say hello", Duration::from_secs(30), || host.output(&id).contains("hello"));
    let polled = ok(&call(&client, "codex_poll", json!({"job_id": qualified})).await);
    assert_eq!(polled["status"], "running");
    assert!(polled["output"].as_str().unwrap().contains("hello"));
    let same = ok(&call(&client, "codex_poll", json!({"job_id": id, "host": "box"})).await);
    assert_eq!(same["job_id"], qualified.as_str());

    let listed = ok(&call(&client, "codex_list", json!({"all_hosts": true})).await);
    let rows = listed["result"].as_array().unwrap();
    assert!(rows.iter().any(|row| row["job_id"] == qualified.as_str() && row["host"] == "box"), "{listed}");
    assert!(rows.iter().any(|row| row["job_id"] == mine.as_str() && row["host"] == "local"), "{listed}");
    assert_eq!(listed["host_errors"], json!([]));
    let only_here = ok(&call(&client, "codex_list", json!({})).await);
    assert!(!only_here.to_string().contains(&id), "without all_hosts, this machine's jobs only");

    let waited = ok(&call(&client, "codex_wait", json!({"job_id": qualified, "timeout_seconds": 0.5})).await);
    assert_eq!(waited["timed_out"], true);

    let message = err(&call(&client, "codex_poll", json!({"job_id": "nowhere:abcd1234"})).await);
    assert!(message.contains("unknown host \"nowhere\"") && message.contains("box"), "{message}");
    // The first to end of this machine's job and a host's.
    let quick = ok(&call(&client, "codex_start", json!({"host": "box", "prompt": "sleep:1 say:raced", "cwd": cwd})).await);
    let quick = quick["job_id"].as_str().unwrap().to_owned();
    let first = ok(&call(&client, "codex_await_any", json!({"job_ids": [mine, quick], "timeout_seconds": 40})).await);
    assert_eq!(first["job_id"], quick.as_str(), "{first}");
    assert_eq!(first["host"], "box");
    assert_eq!(first["status"], "done");
    assert!(first["output"].as_str().unwrap().contains("raced"));
    let none = ok(&call(&client, "codex_await_any", json!({"job_ids": [mine, format!("box:{id}")], "timeout_seconds": 0.5})).await);
    assert_eq!(none["timed_out"], true, "{none}");
    let cancelled = ok(&call(&client, "codex_cancel", json!({"job_id": qualified})).await);
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(host.status(&id), "cancelled");
    assert_eq!(local.status(&mine), "running", "the local job of the same server is untouched");
    // The quick job ran in no worktree: nothing to discard; deleted there, its record goes.
    let message = err(&call(&client, "codex_discard", json!({"job_id": quick})).await);
    assert!(message.contains("host box") && message.contains("did not run in a worktree"), "{message}");
    let deleted = ok(&call(&client, "codex_delete", json!({"job_id": quick})).await);
    assert_eq!(deleted, json!({"job_id": quick, "deleted": true, "host": "box"}));
    assert!(!holds_job(host.path(), quick.strip_prefix("box:").unwrap()));
    let message = err(&call(&client, "codex_delete", json!({"job_id": mine})).await);
    assert!(message.contains("is running: cancel it first"), "a running job is not deleted: {message}");
    let message = err(&call(&client, "codex_poll", json!({"job_id": "box:../../etc"})).await);
    assert!(message.contains("invalid job id"), "checked before it is sent: {message}");
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_over_http_takes_its_own_token_and_never_this_ones() {
    let local = TestHome::new();
    let host = TestHome::new();
    let server = HttpServerProcess::spawn(&host, &[]);
    let token = server.token.clone().unwrap();
    configure(&local, &[format!("[hosts.web]\nurl = \"{}\"\ntoken_env = \"WEB_TOKEN\"\n", server.url)]);
    let (client, _notes) = local_server(&local, &[("WEB_TOKEN", &token), ("CODEX_ASYNC_TOKEN", "the-local-token")], &[]).await;
    let started = ok(&call(
        &client,
        "codex_start",
        json!({"host": "web", "prompt": "say:over-http", "cwd": host.path(), "approval_policy": "full-auto"}),
    )
    .await);
    let qualified = started["job_id"].as_str().unwrap().to_owned();
    let done = ok(&call(&client, "codex_wait", json!({"job_id": qualified, "timeout_seconds": 40})).await);
    assert_eq!(done["status"], "done");
    assert!(done["output"].as_str().unwrap().contains("over-http"));
    client.cancel().await.unwrap();

    // A wrong token: the host refuses, and the others are still listed.
    let (client, _notes) = local_server(&local, &[("WEB_TOKEN", "not-the-token")], &[]).await;
    let listed = ok(&call(&client, "codex_list", json!({"all_hosts": true})).await);
    assert_eq!(listed["host_errors"][0]["host"], "web", "{listed}");
    assert!(listed["host_errors"][0]["error"].as_str().unwrap().contains("unreachable"), "{listed}");
    client.cancel().await.unwrap();

    // This machine's own token is never sent in place of the host's.
    let (client, _notes) = local_server(&local, &[("CODEX_ASYNC_TOKEN", &token)], &[]).await;
    let message = err(&call(&client, "codex_poll", json!({"job_id": qualified})).await);
    assert!(message.contains("$WEB_TOKEN is not set"), "{message}");
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_dropped_midway_fails_that_call_and_the_next_connects_again() {
    let local = TestHome::new();
    let host = TestHome::new();
    let id = host.start("say:hi sleep:60");
    let dir = tempfile::tempdir().unwrap();
    let once = dir.path().join("once");
    // The first session ends after the handshake and one answer; later ones last.
    let serve = serve_shell(&host, &[]);
    let script = format!("if [ -e '{0}' ]; then exec {serve}; fi; touch '{0}'; exec {serve} > >(sed -u 2q)", once.display());
    configure(&local, &[bash_host("box", &script, "")]);
    let (client, _notes) = stdio_client(&local, &[]).await;
    let qualified = format!("box:{id}");
    ok(&call(&client, "codex_poll", json!({"job_id": qualified})).await);
    // The session has ended by now, or ends under this call: either way the call fails
    // or connects afresh; never a stale answer.
    let mut failures = 0;
    let polled = loop {
        let result = call(&client, "codex_poll", json!({"job_id": qualified})).await;
        if result.is_error == Some(true) {
            let message = err(&result);
            assert!(message.contains("host box") && message.contains("codex_poll"), "{message}");
            failures += 1;
            assert!(failures <= 1, "a dropped session fails one call at most");
            continue;
        }
        break ok(&result);
    };
    assert_eq!(polled["status"], "running", "the job ran on over there");
    assert_eq!(host.status(&id), "running");
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_wait_on_a_host_sends_progress() {
    let local = TestHome::new();
    let host = TestHome::new();
    let id = host.start("say:hi sleep:60");
    configure(&local, &[command_host("box", &serve_argv(&host, &[]), "")]);
    let (client, mut notes) = stdio_client(&local, &[]).await;
    wait_until("the host's job to say hi", Duration::from_secs(30), || host.output(&id).contains("hi"));
    let waiting = call(&client, "codex_wait", json!({"job_id": format!("box:{id}"), "timeout_seconds": 15}));
    // Until the host's own progress comes, the note says where the wait is; then it
    // passes on the host's: the job's newest line.
    let watching = expect_note(
        &mut notes,
        Duration::from_secs(30),
        "progress with the host's newest line",
        |note| matches!(note, Note::Progress { message: Some(message), .. } if message == "hi"),
    );
    let (result, note) = tokio::join!(waiting, watching);
    assert_eq!(ok(&result)["timed_out"], true);
    assert!(matches!(note, Note::Progress { message: Some(message), .. } if message == "hi"));
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_on_a_host_is_held_to_this_servers_ceiling() {
    let local = TestHome::new();
    let host = TestHome::new();
    configure(&local, &[command_host("box", &serve_argv(&host, &[]), "")]);
    let (client, _notes) = stdio_client(&local, &["--max-policy", "suggest"]).await;
    let cwd = host.path().to_str().unwrap();
    let message =
        err(&call(&client, "codex_start", json!({"host": "box", "prompt": "say:x", "cwd": cwd, "approval_policy": "full-auto"})).await);
    assert!(message.contains("ceiling"), "{message}");
    let started = ok(&call(&client, "codex_start", json!({"host": "box", "prompt": "say:x", "cwd": cwd})).await);
    let id = started["job_id"].as_str().unwrap().strip_prefix("box:").unwrap().to_owned();
    assert_eq!(host.meta(&id)["approval_policy"], "suggest", "the server's default went with it");
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_host_names_what_it_lacks_and_the_rest_works() {
    let local = TestHome::new();
    let answer = r#"{"job_id":"abcd1234","status":"done","exit_code":0,"output":"","started_at":null,"finished_at":null,"prompt":"p","cwd":"/","last_message":null,"approval_policy":"suggest","pid":null}"#;
    configure(&local, &[command_host("old", &fake_host_argv(answer, "codex_poll"), "")]);
    let (client, _notes) = stdio_client(&local, &[]).await;
    let message = err(&call(&client, "codex_diff", json!({"job_id": "old:abcd1234"})).await);
    assert!(message.contains("runs codex-async 0.0.1-old, which has no codex_diff"), "{message}");
    let polled = ok(&call(&client, "codex_poll", json!({"job_id": "old:abcd1234"})).await);
    assert_eq!(polled["job_id"], "old:abcd1234");
    assert_eq!(polled["host"], "old");
    client.cancel().await.unwrap();
}
