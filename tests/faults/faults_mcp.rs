//! The MCP server under faults and hostile input: killed mid-flight, fed garbage,
//! asked for a thousand waits at once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use crate::mid_flight::{assert_all_still_running, start_twenty};
use crate::support;
use crate::support::mcp::{HttpServerProcess, call, http_client, ok};
use crate::support::{TestHome, wait_until};
use rmcp::ServiceExt;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

const SETTLE: Duration = Duration::from_secs(60);

/// Lets the jobs end; each records its exact exit code, and a new server shows them right.
async fn release_and_check(home: &TestHome, barrier: &Path, jobs: &[(String, i64)]) {
    std::fs::write(barrier, "").unwrap();
    for (id, code) in jobs {
        home.wait_for_status(id, if *code == 0 { "done" } else { "error" }, SETTLE);
        assert_eq!(home.meta(id)["exit_code"], *code, "job {id}");
    }
    let server = HttpServerProcess::spawn(home, &[]);
    let (client, _) = http_client(&server.url, server.token.as_deref()).await;
    let listed = ok(&call(&client, "codex_list", json!({"limit": 50})).await);
    for (id, code) in jobs {
        let row = listed["result"].as_array().unwrap().iter().find(|row| row["job_id"] == id.as_str()).expect("listed");
        assert_eq!(row["status"], if *code == 0 { "done" } else { "error" });
        let polled = ok(&call(&client, "codex_poll", json!({"job_id": id})).await);
        assert_eq!(polled["exit_code"], *code);
    }
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_of_a_stdio_server_while_twenty_jobs_run_loses_nothing() {
    let home = TestHome::new();
    let barrier = home.path().join("go");
    let mut server = tokio::process::Command::from(home.command());
    let mut child =
        server.arg("serve").stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::null()).kill_on_drop(true).spawn().unwrap();
    let transport = (child.stdout.take().unwrap(), child.stdin.take().unwrap());
    let client = support::mcp::recorder().0.serve(transport).await.unwrap();
    let jobs = start_twenty(&client, &home, &barrier, 5).await;
    child.kill().await.unwrap();
    drop(client);
    assert_all_still_running(&home, &jobs, "the server was killed");
    release_and_check(&home, &barrier, &jobs).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_of_an_http_server_while_twenty_jobs_run_loses_nothing() {
    let home = TestHome::new();
    let barrier = home.path().join("go");
    let mut server = HttpServerProcess::spawn(&home, &[]);
    let (client, _) = http_client(&server.url, server.token.as_deref()).await;
    let jobs = start_twenty(&client, &home, &barrier, 5).await;
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    drop(client);
    assert_all_still_running(&home, &jobs, "the server was killed");
    release_and_check(&home, &barrier, &jobs).await;
}

#[tokio::test]
async fn hostile_json_rpc_gets_errors_and_the_server_keeps_serving() {
    let home = TestHome::new();
    let mut command = tokio::process::Command::from(home.command());
    let mut child =
        command.arg("serve").stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::null()).kill_on_drop(true).spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut replies = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut send = async |line: String| {
        stdin.write_all(line.as_bytes()).await.unwrap();
        stdin.write_all(b"\n").await.unwrap();
        stdin.flush().await.unwrap();
    };
    send(json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"0"}}}).to_string()).await;
    send(json!({"jsonrpc":"2.0","method":"notifications/initialized"}).to_string()).await;
    let huge_prompt = "x".repeat(11 * 1024 * 1024);
    let hostile = [
        "{this is not json".to_owned(),
        "[1,2,3]".to_owned(),
        "\u{0}\u{1}binary".to_owned(),
        json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"codex_poll","arguments":{"job_id":5}}}).to_string(),
        json!({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"no_such_tool","arguments":{}}}).to_string(),
        json!({"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"arguments":{}}}).to_string(),
        json!({"jsonrpc":"2.0","id":5,"method":"no/such/method"}).to_string(),
        json!({"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"codex_start","arguments":{"prompt":huge_prompt,"cwd":"/tmp"}}}).to_string(),
        json!({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"codex_poll","arguments":{}}}).to_string(),
        json!({"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"codex_cancel","arguments":{"job_id":"../../etc"}}}).to_string(),
        json!({"jsonrpc":"2.0","id":10}).to_string(),
        json!({"jsonrpc":"2.0","id":9,"method":"tools/list"}).to_string(),
        // A byte order mark, a line ended by CR LF: read as the message they hold.
        format!("\u{feff}{}", json!({"jsonrpc":"2.0","id":11,"method":"ping"})),
        format!("{}\r", json!({"jsonrpc":"2.0","id":12,"method":"ping"})),
        // Well-formed, but not the shape of the method's parameters: an error with its id.
        json!({"jsonrpc":"2.0","id":13,"method":"tools/call","params":{"name":"codex_list","arguments":"all"}}).to_string(),
        // A notification of a shape nobody knows: no answer, nothing breaks.
        json!({"jsonrpc":"2.0","method":"notifications/progress","params":"soon"}).to_string(),
    ];
    for line in hostile {
        send(line).await;
    }
    let mut answered: Vec<(i64, Value)> = Vec::new();
    let mut without_id: Vec<Value> = Vec::new();
    tokio::time::timeout(SETTLE, async {
        // Requests run concurrently, so replies may come in any order.
        while !(2..=13).all(|wanted| answered.iter().any(|(id, _)| *id == wanted)) || without_id.len() < 3 {
            let line = replies.next_line().await.unwrap().expect("the server is still there");
            let reply: Value = serde_json::from_str(&line).expect("stdout carries only JSON-RPC");
            match reply["id"].as_i64() {
                Some(id) => answered.push((id, reply)),
                None if reply["id"].is_null() && reply["error"].is_object() => without_id.push(reply),
                None => {}
            }
        }
    })
    .await
    .expect("the server answered the last request");
    let reply =
        |id: i64| answered.iter().find(|(n, _)| *n == id).map(|(_, reply)| reply.clone()).unwrap_or_else(|| panic!("no reply to {id}"));
    for tool_error in [2, 6, 7, 8] {
        assert_eq!(reply(tool_error)["result"]["isError"], true, "request {tool_error}: {}", reply(tool_error));
    }
    for protocol_error in [3, 4, 5] {
        assert!(reply(protocol_error)["error"]["code"].is_i64(), "request {protocol_error}");
    }
    assert!(reply(3)["error"]["message"].as_str().unwrap().contains("codex_start"), "the unknown-tool error lists the tools");
    // What rmcp would drop or answer badly gets a precise answer.
    let codes: Vec<i64> = without_id.iter().map(|reply| reply["error"]["code"].as_i64().unwrap()).collect();
    assert_eq!(codes, [-32700, -32600, -32700], "not JSON, a batch, binary: {without_id:?}");
    assert_eq!(reply(4)["error"]["code"], -32602, "tools/call without a name: {}", reply(4));
    assert!(reply(4)["error"]["message"].as_str().unwrap().contains("\"name\""));
    assert_eq!(reply(5)["error"]["code"], -32601);
    assert!(reply(5)["error"]["message"].as_str().unwrap().contains("no/such/method"));
    assert_eq!(reply(10)["error"]["code"], -32600, "no method, its id kept: {}", reply(10));
    assert!(reply(8)["result"]["content"][0]["text"].as_str().unwrap().contains("invalid job id"));
    assert_eq!(reply(9)["result"]["tools"].as_array().unwrap().len(), 14);
    assert_eq!(reply(11)["result"], json!({}), "a ping after a byte order mark: {}", reply(11));
    assert_eq!(reply(12)["result"], json!({}), "a ping ended by CR LF: {}", reply(12));
    assert_eq!(reply(13)["error"]["code"], -32602, "parameters of the wrong shape: {}", reply(13));
    assert!(!home.path().join("jobs").exists() || std::fs::read_dir(home.path().join("jobs")).unwrap().count() == 0, "no job was created");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_waits_over_http() {
    let home = TestHome::new();
    let server = HttpServerProcess::spawn(&home, &[]);
    let (client, _) = http_client(&server.url, server.token.as_deref()).await;
    let mut ids = Vec::new();
    for n in 0..10 {
        ids.push(
            ok(&call(&client, "codex_start", json!({"prompt": format!("sleep:2 exit:{}", n % 2), "cwd": home.path()})).await)["job_id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let client = std::sync::Arc::new(client);
    let waits: Vec<_> = (0..1000)
        .map(|n| {
            let client = client.clone();
            let id = ids[n % ids.len()].clone();
            tokio::spawn(
                async move { client.call_tool(support::mcp::params("codex_wait", json!({"job_id": id, "timeout_seconds": 40}))).await },
            )
        })
        .collect();
    let mut finished = 0;
    for wait in waits {
        let result = wait.await.unwrap().expect("no protocol error");
        let view = ok(&result);
        if view["timed_out"] == false {
            finished += 1;
        }
    }
    assert_eq!(finished, 1000);
    wait_until("the jobs to be recorded", SETTLE, || ids.iter().all(|id| home.status(id) != "running"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_jobs_folder_deleted_and_recreated_under_a_running_server() {
    use crate::support::mcp::{Note, expect_note, stdio_client};
    let home = TestHome::new();
    let (client, mut notes) = stdio_client(&home, &[]).await;
    assert!(client.list_all_resources().await.unwrap().is_empty());
    let drain = |notes: &mut tokio::sync::mpsc::UnboundedReceiver<Note>| while notes.try_recv().is_ok() {};

    let first = home.start("exit:0");
    expect_note(&mut notes, SETTLE, "the first job listed", |note| *note == Note::ListChanged).await;
    home.wait_for_status(&first, "done", SETTLE);
    home.wait_for_supervisor_exit(&first);
    drain(&mut notes);

    crate::support::remove_tree(&home.path().join("jobs"));
    expect_note(&mut notes, SETTLE, "the deletion noticed", |note| *note == Note::ListChanged).await;
    drain(&mut notes);

    // A job in the recreated folder is noticed too (the folder is watched again).
    let second = home.start("say:second sleep:30");
    expect_note(&mut notes, SETTLE, "the job in the recreated folder listed", |note| *note == Note::ListChanged).await;
    let listed = client.list_all_resources().await.unwrap();
    assert!(listed.iter().any(|resource| resource.uri == format!("codex-async://jobs/{second}/output")), "{listed:?}");
    assert!(!listed.iter().any(|resource| resource.uri.contains(&first)));
    let polled = ok(&call(&client, "codex_poll", json!({"job_id": second})).await);
    assert_eq!(polled["status"], "running");
    ok(&call(&client, "codex_cancel", json!({"job_id": second})).await);
}
