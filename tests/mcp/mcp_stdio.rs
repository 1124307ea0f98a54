//! The real `codex-async serve` over stdio, driven by rmcp's client.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::process::Stdio;
use std::time::Duration;

use crate::support;
use crate::support::mcp::{Note, call, exercise_tools, expect_note, ok, stdio_client};
use crate::support::{ProcessGuard, TestHome};
use rmcp::model::{ReadResourceRequestParams, ResourceContents, SubscribeRequestParams, UnsubscribeRequestParams};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_tool_and_error_over_stdio() {
    let home = TestHome::new();
    let (client, _notes) = stdio_client(&home, &[]).await;
    exercise_tools(&client, &home).await;
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wait_sends_progress_with_the_newest_line_and_is_capped() {
    let home = TestHome::new();
    let (client, mut notes) = stdio_client(&home, &["--max-wait", "8"]).await;
    let cwd = home.path().to_str().unwrap();
    let started = ok(&call(&client, "codex_start", json!({"prompt": "say:working-on-it sleep:60", "cwd": cwd})).await);
    let id = started["job_id"].as_str().unwrap().to_owned();
    support::wait_until("the job's line", Duration::from_secs(30), || home.output(&id).contains("working-on-it"));
    let began = std::time::Instant::now();
    let waiting = call(&client, "codex_wait", json!({"job_id": id, "timeout_seconds": 600}));
    let watching = expect_note(
        &mut notes,
        Duration::from_secs(30),
        "a progress note",
        |note| matches!(note, Note::Progress { message: Some(message), .. } if message == "working-on-it"),
    );
    let (waited, _) = tokio::join!(waiting, watching);
    let waited = ok(&waited);
    let took = began.elapsed();
    assert_eq!(waited["timed_out"], true);
    assert_eq!(waited["status"], "running");
    assert!(took >= Duration::from_secs(7) && took < Duration::from_secs(30), "capped by --max-wait 8, took {took:?}");
    ok(&call(&client, "codex_cancel", json!({"job_id": id})).await);
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn await_any_returns_the_first_job_to_end_and_defaults_to_running_jobs() {
    let home = TestHome::new();
    let (client, _notes) = stdio_client(&home, &[]).await;
    let cwd = home.path().to_str().unwrap();
    let message = support::mcp::err(&call(&client, "codex_await_any", json!({})).await);
    assert!(message.contains("no job is running"), "{message}");
    let slow = ok(&call(&client, "codex_start", json!({"prompt": "sleep:60", "cwd": cwd})).await);
    let fast = ok(&call(&client, "codex_start", json!({"prompt": "sleep:1 exit:3", "cwd": cwd})).await);
    let first = ok(&call(&client, "codex_await_any", json!({"timeout_seconds": 40})).await);
    let fast_id = fast["job_id"].as_str().unwrap();
    assert_eq!(first["job_id"], fast["job_id"], "{first}\nthe fast job: {}\n{}", home.meta(fast_id), home.output(fast_id));
    assert_eq!(first["status"], "error");
    assert_eq!(first["exit_code"], 3);
    let none = ok(&call(&client, "codex_await_any", json!({"job_ids": [slow["job_id"]], "timeout_seconds": 0.3})).await);
    assert_eq!(none["timed_out"], true);
    assert_eq!(none["job_ids"], json!([slow["job_id"]]));
    ok(&call(&client, "codex_cancel", json!({"job_id": slow["job_id"]})).await);
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn await_any_without_ids_reports_every_ending_once_and_misses_none() {
    let home = TestHome::new();
    // Ended before the session began: not this session's news.
    let before = home.start("exit:0");
    home.wait_for_status(&before, "done", Duration::from_secs(20));
    let (client, _notes) = stdio_client(&home, &[]).await;
    let cwd = home.path().to_str().unwrap();
    let first = ok(&call(&client, "codex_start", json!({"prompt": "exit:0", "cwd": cwd})).await);
    let second = ok(&call(&client, "codex_start", json!({"prompt": "sleep:0.3 exit:2", "cwd": cwd})).await);
    // Both end while the agent is busy elsewhere; neither is missed, each comes once.
    for job in [&first, &second] {
        home.wait_for_status(job["job_id"].as_str().unwrap(), if job == &first { "done" } else { "error" }, Duration::from_secs(20));
    }
    let mut reported = Vec::new();
    for _ in 0..2 {
        let ended = ok(&call(&client, "codex_await_any", json!({"timeout_seconds": 10})).await);
        assert_eq!(ended["timed_out"], false, "{ended}");
        reported.push(ended["job_id"].as_str().unwrap().to_owned());
    }
    assert_eq!(reported, [first["job_id"].as_str().unwrap(), second["job_id"].as_str().unwrap()], "in the order they ended");
    // A job another process starts after the call began is waited for too.
    let long = ok(&call(&client, "codex_start", json!({"prompt": "sleep:60", "cwd": cwd})).await);
    let waiting = {
        let peer = client.peer().clone();
        tokio::spawn(
            async move { ok(&peer.call_tool(support::mcp::params("codex_await_any", json!({"timeout_seconds": 40}))).await.unwrap()) },
        )
    };
    let third = home.start("sleep:0.5 exit:0");
    let ended = waiting.await.unwrap();
    assert_eq!(ended["job_id"], third.as_str(), "{ended}");
    ok(&call(&client, "codex_cancel", json!({"job_id": long["job_id"]})).await);
    let ended = ok(&call(&client, "codex_await_any", json!({"timeout_seconds": 10})).await);
    assert_eq!(ended["job_id"], long["job_id"]);
    assert_eq!(ended["status"], "cancelled");
    // Everything reported, nothing running: said so at once.
    let message = support::mcp::err(&call(&client, "codex_await_any", json!({"timeout_seconds": 10})).await);
    assert!(message.contains("no job is running"), "{message}");
    client.cancel().await.unwrap();
}

// resources/subscribe is the 2025-11-25 way, which most clients speak today.
#[allow(deprecated)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resources_are_listed_read_and_updates_arrive_for_jobs_other_processes_start() {
    let home = TestHome::new();
    let (client, mut notes) = stdio_client(&home, &[]).await;

    let templates = client.list_all_resource_templates().await.unwrap();
    let mut uris: Vec<_> = templates.iter().map(|template| template.uri_template.clone()).collect();
    uris.sort();
    assert_eq!(uris, ["codex-async://jobs/{job_id}/meta", "codex-async://jobs/{job_id}/output"]);
    assert!(client.list_all_resources().await.unwrap().is_empty());

    // A job started by a separate CLI process appears in the list…
    let id = home.start(&format!("say:first {}", support::mcp::ticking_prompt()));
    expect_note(&mut notes, Duration::from_secs(30), "list_changed", |note| *note == Note::ListChanged).await;
    let resources = client.list_all_resources().await.unwrap();
    let output_uri = format!("codex-async://jobs/{id}/output");
    let meta_uri = format!("codex-async://jobs/{id}/meta");
    let output = resources.iter().find(|resource| resource.uri == output_uri).expect("the output is listed");
    assert_eq!(output.mime_type.as_deref(), Some("text/plain"));
    assert!(resources.iter().any(|resource| resource.uri == meta_uri && resource.mime_type.as_deref() == Some("application/json")));

    // …and a subscriber hears when it writes more output.
    client.subscribe(SubscribeRequestParams::new(output_uri.clone())).await.unwrap();
    support::wait_until("the first line", Duration::from_secs(30), || home.output(&id).contains("first"));
    expect_note(&mut notes, Duration::from_secs(30), "an update of the output", |note| *note == Note::Updated(output_uri.clone())).await;
    support::wait_until("a later line", Duration::from_secs(30), || home.output(&id).contains("tick1"));

    let read = client.read_resource(ReadResourceRequestParams::new(output_uri.clone())).await.unwrap();
    let ResourceContents::TextResourceContents { text, mime_type, .. } = &read.contents[0] else { panic!("text contents") };
    assert!(text.contains("first") && text.contains("tick1"), "{text}");
    assert_eq!(mime_type.as_deref(), Some("text/plain"));
    let read = client.read_resource(ReadResourceRequestParams::new(meta_uri.clone())).await.unwrap();
    let ResourceContents::TextResourceContents { text, .. } = &read.contents[0] else { panic!("text contents") };
    let meta: Value = serde_json::from_str(text).unwrap();
    assert_eq!(meta["job_id"], id.as_str());
    assert_eq!(meta["status"], "running");

    // A status change is an update of the meta resource.
    client.subscribe(SubscribeRequestParams::new(meta_uri.clone())).await.unwrap();
    assert!(home.run(&["cancel", &id]).status.success());
    expect_note(&mut notes, Duration::from_secs(30), "an update of the meta", |note| *note == Note::Updated(meta_uri.clone())).await;

    let missing = client.read_resource(ReadResourceRequestParams::new("codex-async://jobs/deadbeef/output")).await;
    assert!(missing.is_err(), "an unknown job is not a resource");
    // Any well-formed URI is taken, as the protocol expects (only ours ever change);
    // something that is not a URI is refused.
    client.subscribe(SubscribeRequestParams::new("file:///etc/passwd")).await.expect("a foreign URI is accepted");
    client.unsubscribe(UnsubscribeRequestParams::new("file:///etc/passwd")).await.expect("and let go");
    let malformed = client.subscribe(SubscribeRequestParams::new("not a uri")).await;
    assert!(malformed.is_err(), "not a URI");
    client.cancel().await.unwrap();
}

/// One change to the list of jobs is one `list_changed`, however the client follows
/// them (a listing and subscriptions both).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(deprecated)] // resources/subscribe: the 2025-11-25 way, which this session speaks
async fn one_new_job_is_one_list_changed() {
    let home = TestHome::new();
    let (client, mut notes) = stdio_client(&home, &[]).await;
    client.list_all_resources().await.unwrap();
    let barrier = home.path().join("go");
    let first = home.start(&format!("await-file:{} say:later", barrier.display()));
    let output_uri = format!("codex-async://jobs/{first}/output");
    client.subscribe(SubscribeRequestParams::new(output_uri.clone())).await.unwrap();
    client.subscribe(SubscribeRequestParams::new(format!("codex-async://jobs/{first}/meta"))).await.unwrap();
    expect_note(&mut notes, Duration::from_secs(30), "list_changed for the job", |note| *note == Note::ListChanged).await;
    support::wait_until("the job's first line", Duration::from_secs(30), || home.output(&first).contains("pid:agent"));
    // Notices are sent in the order the changes were seen. The job ends after the
    // barrier: once its end is announced, every notice of its start has come.
    std::fs::write(&barrier, "").unwrap();
    let meta_uri = format!("codex-async://jobs/{first}/meta");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut list_changed = 0;
    loop {
        let note = tokio::time::timeout_at(deadline, notes.recv()).await.expect("the job's end").expect("open");
        list_changed += usize::from(note == Note::ListChanged);
        if note == Note::Updated(meta_uri.clone()) && home.status(&first) == "done" {
            break;
        }
    }
    assert_eq!(list_changed, 0, "the job's appearance was announced once");
    client.cancel().await.unwrap();
}

/// Raw JSON-RPC through the real binary: every stdout line is protocol, and stdin EOF ends it cleanly.
#[test]
fn stdout_carries_only_json_rpc_and_eof_ends_the_server() {
    let home = TestHome::new();
    let child = home.command().arg("serve").stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut child = ProcessGuard::new(child);
    let mut stdin = child.child().stdin.take().unwrap();
    let received = support::lines_of(child.child().stdout.take().unwrap());
    let cwd = home.path().to_str().unwrap();
    let requests = [
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}}),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
        json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "codex_start", "arguments": {"prompt": "flood:50 err:oops", "cwd": cwd}}}),
    ];
    for request in &requests {
        writeln!(stdin, "{request}").unwrap();
    }
    let mut seen = Vec::new();
    while seen.len() < 3 {
        let line = received.recv_timeout(Duration::from_secs(30)).expect("an answer");
        seen.push(line);
    }
    let started: Value = serde_json::from_str(&seen[2]).unwrap();
    let id = started["result"]["structuredContent"]["job_id"].as_str().expect("started").to_owned();
    home.wait_for_status(&id, "done", Duration::from_secs(30));
    let poll = json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "codex_poll", "arguments": {"job_id": id}}});
    writeln!(stdin, "{poll}").unwrap();
    seen.push(received.recv_timeout(Duration::from_secs(30)).expect("the poll answer"));
    drop(stdin);
    let status = child.exit_within(Duration::from_secs(30), "serve to end on stdin EOF");
    assert!(status.success(), "serve exits cleanly on EOF: {status}");
    seen.extend(received.try_iter());
    for line in &seen {
        let message: Value = serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON on stdout: {line:?}"));
        assert_eq!(message["jsonrpc"], "2.0", "{line}");
    }
    let ids: Vec<_> = seen.iter().map(|line| serde_json::from_str::<Value>(line).unwrap()["id"].clone()).collect();
    assert_eq!(ids, [json!(1), json!(2), json!(3), json!(4)]);
    let polled: Value = serde_json::from_str(&seen[3]).unwrap();
    assert!(polled["result"]["structuredContent"]["output"].as_str().unwrap().contains("line 49"));
}

/// A launcher may hand `serve` one end of a socket pair for stdin and stdout (as inetd
/// and socket activation do) instead of pipes: it serves, and ends promptly when the
/// other end stops writing.
#[test]
fn serve_over_a_socket_pair_works_and_ends_at_eof() {
    use std::net::Shutdown;
    use std::os::fd::OwnedFd;
    use std::os::unix::net::UnixStream;
    let home = TestHome::new();
    let (mut ours, theirs) = UnixStream::pair().unwrap();
    let their_stdin = OwnedFd::from(theirs.try_clone().unwrap());
    let child = home.command().arg("serve").stdin(their_stdin).stdout(OwnedFd::from(theirs)).stderr(Stdio::null()).spawn().unwrap();
    // (The command, and with it this process's copies of the server's end, is gone.)
    let mut child = ProcessGuard::new(child);
    let replies = support::lines_of(ours.try_clone().unwrap());
    let cwd = home.path().to_str().unwrap();
    for request in [
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}}),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
        json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "codex_start", "arguments": {"prompt": "say:over-a-socket", "cwd": cwd}}}),
    ] {
        writeln!(ours, "{request}").unwrap();
    }
    let answers: Vec<Value> = (1..=3)
        .map(|n| serde_json::from_str(&support::next_line(&replies, Duration::from_secs(30), &format!("answer {n}"))).unwrap())
        .collect();
    // Each answered once, in whatever order the handlers finish.
    let answer = |id: i64| answers.iter().find(|answer| answer["id"] == id).unwrap_or_else(|| panic!("no answer {id}: {answers:?}"));
    assert_eq!(answer(1)["id"], 1);
    assert_eq!(answer(2)["result"]["tools"].as_array().map(Vec::len), Some(14));
    let id = answer(3)["result"]["structuredContent"]["job_id"].as_str().expect("started").to_owned();
    home.wait_for_status(&id, "done", Duration::from_secs(30));
    assert!(home.output(&id).contains("over-a-socket"));

    ours.shutdown(Shutdown::Write).unwrap();
    let status = child.exit_within(Duration::from_secs(30), "serve to end at the socket's EOF");
    assert!(status.success(), "serve exits cleanly at EOF on a socket: {status}");
}

/// SIGTERM and SIGINT end a stdio server at once, even while a wait is blocking and
/// whatever its stdin is: a pipe, or a socket as Claude Code gives it (kept open by
/// the client), where a blocking read used to hold the exit for the whole grace.
#[test]
fn signals_end_the_stdio_server_at_once_with_a_pipe_or_a_socket_for_stdin() {
    use std::os::fd::OwnedFd;
    use std::os::unix::net::UnixStream;

    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    let home = TestHome::new();
    let id = home.start("sleep:60");
    for (signal, socket) in [(Signal::SIGTERM, false), (Signal::SIGINT, false), (Signal::SIGTERM, true), (Signal::SIGINT, true)] {
        let mut command = home.command();
        command.arg("serve").stderr(Stdio::null());
        // The client's ends: held open until the server has gone.
        let mut client_socket = None;
        if socket {
            let (ours, theirs) = UnixStream::pair().unwrap();
            command.stdin(OwnedFd::from(theirs.try_clone().unwrap())).stdout(OwnedFd::from(theirs));
            client_socket = Some(ours);
        } else {
            command.stdin(Stdio::piped()).stdout(Stdio::piped());
        }
        let mut child = ProcessGuard::new(command.spawn().unwrap());
        drop(command);
        let (mut stdin, replies): (Box<dyn Write>, _) = match &client_socket {
            Some(ours) => (Box::new(ours.try_clone().unwrap()), support::lines_of(ours.try_clone().unwrap())),
            None => (Box::new(child.child().stdin.take().unwrap()), support::lines_of(child.child().stdout.take().unwrap())),
        };
        let requests = [
            json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}}),
            json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
            json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "codex_wait", "arguments": {"job_id": id, "timeout_seconds": 40}}}),
        ];
        for request in &requests {
            writeln!(stdin, "{request}").unwrap();
        }
        let line = support::next_line(&replies, Duration::from_secs(30), "answer to initialize");
        assert!(line.contains("\"id\":1"), "{line}");
        let sent = std::time::Instant::now();
        kill(Pid::from_raw(child.pid()), signal).unwrap();
        let status = child.exit_within(Duration::from_secs(30), &format!("serve to stop on {signal}"));
        let took = sent.elapsed();
        let stdin_kind = if socket { "socket" } else { "pipe" };
        eprintln!("{signal} with a {stdin_kind} for stdin: exited in {took:?}");
        assert!(status.success(), "a clean exit on {signal}: {status}");
        // Far below the old 3 s grace that a client escalated to SIGKILL over.
        assert!(took < Duration::from_secs(1), "{signal} with a {stdin_kind}: {took:?}");
        drop(stdin);
        drop(client_socket);
    }
    assert_eq!(home.status(&id), "running", "stopping the server leaves the job running");
    assert!(home.run(&["cancel", &id]).status.success());
}

fn handshake() -> [Value; 2] {
    [
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}}),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    ]
}

/// A script replayed, from a file (served by the reader thread) or through a pipe
/// closed at once after it (served on the runtime's thread): every line answered, the
/// last one without its newline too, a line over the limit refused, and the end of the
/// input ends the server.
#[test]
fn a_script_is_served_to_its_last_line_from_a_file_or_a_pipe() {
    let home = TestHome::new();
    let script = home.path().join("requests.jsonl");
    let [initialize, initialized] = handshake();
    // A line over the 32 MiB limit in the middle: answered with an error, then skipped.
    let too_long = format!("{{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"ping\",\"params\":{{\"x\":\"{}\"}}}}", "x".repeat(33 << 20));
    let text = format!(
        "{initialize}\n{initialized}\n{}\n{too_long}\n{}",
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
        json!({"jsonrpc": "2.0", "id": 3, "method": "ping"})
    );
    std::fs::write(&script, &text).unwrap();
    for through_a_pipe in [false, true] {
        let mut command = home.command();
        command.arg("serve").stdout(Stdio::piped()).stderr(Stdio::null());
        if through_a_pipe {
            command.stdin(Stdio::piped());
        } else {
            command.stdin(std::fs::File::open(&script).unwrap());
        }
        let mut child = ProcessGuard::new(command.spawn().unwrap());
        let replies = support::lines_of(child.child().stdout.take().unwrap());
        if through_a_pipe {
            let mut stdin = child.child().stdin.take().unwrap();
            stdin.write_all(text.as_bytes()).unwrap();
        }
        let how = if through_a_pipe { "a pipe" } else { "a file" };
        let answers: Vec<Value> = (0..4)
            .map(|n| {
                serde_json::from_str(&support::next_line(&replies, Duration::from_secs(30), &format!("answer {n} from {how}"))).unwrap()
            })
            .collect();
        // Answers may come in any order (JSON-RPC's rule: the refused line is answered
        // by the reader, the requests by their handlers): each once.
        let mut ids: Vec<String> = answers.iter().map(|answer| answer["id"].to_string()).collect();
        ids.sort();
        assert_eq!(ids, ["1", "2", "3", "null"], "{how}: {answers:?}");
        let refused = answers.iter().find(|answer| answer["id"].is_null()).unwrap();
        assert!(refused["error"]["message"].as_str().unwrap().contains("longer than"), "{how}: {refused}");
        let listed = answers.iter().find(|answer| answer["id"] == 2).unwrap();
        assert!(listed["result"]["tools"].is_array(), "{how}: {listed}");
        let status = child.exit_within(Duration::from_secs(30), &format!("serve to end at the end of {how}"));
        assert!(status.success(), "{how}: {status}");
    }
}

/// A client that stops reading while answers pile up (far more than a pipe holds) gets
/// every answer whole once it reads again; the server keeps reading requests meanwhile;
/// and the pipes' flags are as they were when it exits (another process may share them).
#[test]
fn a_slow_reader_gets_every_answer_whole_and_the_pipes_flags_are_put_back() {
    use nix::fcntl::{FcntlArg, OFlag, fcntl};
    let home = TestHome::new();
    let id = home.start("flood:3000");
    home.wait_for_status(&id, "done", Duration::from_secs(30));
    // Close-on-exec, as a client makes them: the server must not hold the client's ends.
    let (server_in, client_out) = nix::unistd::pipe2(OFlag::O_CLOEXEC).unwrap();
    let (client_in, server_out) = nix::unistd::pipe2(OFlag::O_CLOEXEC).unwrap();
    // Copies of the server's ends, to look at their flags afterwards.
    let (server_in_copy, server_out_copy) = (server_in.try_clone().unwrap(), server_out.try_clone().unwrap());
    let child = home.command().arg("serve").stdin(server_in).stdout(server_out).stderr(Stdio::null()).spawn().unwrap();
    let mut child = ProcessGuard::new(child);
    let mut requests = String::new();
    for message in handshake() {
        requests.push_str(&format!("{message}\n"));
    }
    let polls = 60;
    for n in 0..polls {
        requests.push_str(&format!(
            "{}\n",
            json!({"jsonrpc": "2.0", "id": 100 + n, "method": "tools/call", "params": {"name": "codex_poll", "arguments": {"job_id": id, "tail_lines": 2000}}})
        ));
    }
    // A line over the 32 MiB limit: answered with an error (no id), then skipped.
    requests.push_str(&format!("{{\"jsonrpc\":\"2.0\",\"id\":998,\"params\":\"{}\"}}\n", "x".repeat(33 << 20)));
    requests.push_str(&format!("{}\n", json!({"jsonrpc": "2.0", "id": 999, "method": "ping"})));
    let writer = std::thread::spawn(move || {
        let mut out = std::fs::File::from(client_out);
        out.write_all(requests.as_bytes()).unwrap();
        out
    });
    // Nothing is read until every request is written: the server must not stall on a
    // full stdout while requests wait on its stdin.
    let out = writer.join().unwrap();
    // The pipe fills (more is answered than it holds) before anything is read.
    support::wait_until("stdout's pipe to fill", Duration::from_secs(30), || unread_bytes(&client_in) > 48 * 1024);
    let replies = support::lines_of(std::fs::File::from(client_in));
    let text: String =
        (0..polls + 3).map(|n| support::next_line(&replies, Duration::from_secs(30), &format!("answer {n}")) + "\n").collect();
    let answers: Vec<Value> = text.lines().map(|line| serde_json::from_str(line).expect("a whole JSON-RPC line")).collect();
    let skipped: Vec<&Value> = answers.iter().filter(|answer| answer["id"].is_null()).collect();
    assert_eq!(skipped.len(), 1, "one answer for the line too long");
    assert!(skipped[0]["error"]["message"].as_str().unwrap().contains("longer than"), "{}", skipped[0]);
    let mut ids: Vec<i64> = answers.iter().filter_map(|answer| answer["id"].as_i64()).collect();
    ids.sort_unstable();
    let mut wanted: Vec<i64> = std::iter::once(1).chain(100..100 + polls).chain(std::iter::once(999)).collect();
    wanted.sort_unstable();
    assert_eq!(ids, wanted);
    let total: usize = text.len();
    assert!(total > 1 << 19, "far more than a pipe holds was answered ({total} bytes)");
    for answer in answers.iter().filter(|answer| answer["id"].as_i64().is_some_and(|id| (100..999).contains(&id))) {
        assert!(answer["result"]["structuredContent"]["output"].as_str().unwrap().contains("line 2999"));
    }
    drop(out);
    let status = child.exit_within(Duration::from_secs(30), "serve to end at EOF");
    assert!(status.success(), "{status}");
    for (name, fd) in [("stdin", &server_in_copy), ("stdout", &server_out_copy)] {
        let flags = OFlag::from_bits_truncate(fcntl(fd, FcntlArg::F_GETFL).unwrap());
        assert!(!flags.contains(OFlag::O_NONBLOCK), "{name} left non-blocking");
    }
}

/// How many bytes wait in a pipe (FIONREAD).
#[allow(unsafe_code)]
fn unread_bytes(fd: &std::os::fd::OwnedFd) -> usize {
    use std::os::fd::AsRawFd;
    let mut unread: nix::libc::c_int = 0;
    // SAFETY: FIONREAD writes one int through the pointer, which points at `unread`.
    let status = unsafe { nix::libc::ioctl(fd.as_raw_fd(), nix::libc::FIONREAD, &mut unread) };
    assert_eq!(status, 0, "FIONREAD");
    usize::try_from(unread).unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn await_any_goes_on_from_a_cursor_across_sessions() {
    let home = TestHome::new();
    let (client, _notes) = stdio_client(&home, &[]).await;
    let cwd = home.path().to_str().unwrap();
    let first = ok(&call(&client, "codex_start", json!({"prompt": "exit:0", "cwd": cwd})).await);
    let ended = ok(&call(&client, "codex_await_any", json!({"timeout_seconds": 20})).await);
    assert_eq!(ended["job_id"], first["job_id"]);
    let cursor = ended["cursor"].as_str().expect("an answer without job_ids has a cursor").to_owned();
    client.cancel().await.unwrap();

    // A job ends while no session is open; a new session handed the cursor reports it
    // (its own cursor would begin now), and never the first one again.
    let second = home.start("exit:4");
    home.wait_for_status(&second, "error", Duration::from_secs(20));
    let (client, _notes) = stdio_client(&home, &[]).await;
    let ended = ok(&call(&client, "codex_await_any", json!({"timeout_seconds": 20, "cursor": cursor})).await);
    assert_eq!(ended["job_id"], second.as_str(), "{ended}");
    let cursor = ended["cursor"].as_str().unwrap().to_owned();
    let message = support::mcp::err(&call(&client, "codex_await_any", json!({"timeout_seconds": 5, "cursor": cursor})).await);
    assert!(message.contains("no job is running"), "every ending was reported once: {message}");

    // A cursor it did not give is refused with a clear error.
    for forged in ["nonsense", "c1.!!!", "c1.eyJzaW5jZSI6MX0"] {
        let message = support::mcp::err(&call(&client, "codex_await_any", json!({"cursor": forged})).await);
        assert!(message.contains("is not one codex_await_any gave"), "{forged}: {message}");
    }
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_takes_the_grace_it_is_given_within_an_hour() {
    let home = TestHome::new();
    // The server's own grace is a minute: a cancel that took it would outlast the test.
    std::fs::write(home.path().join("config.toml"), "cancel_grace = \"60s\"\n").unwrap();
    let (client, _notes) = stdio_client(&home, &[]).await;
    let cwd = home.path().to_str().unwrap();
    let started = ok(&call(&client, "codex_start", json!({"prompt": "say:ready ignore-term sleep:120", "cwd": cwd})).await);
    let id = started["job_id"].as_str().unwrap().to_owned();
    support::wait_until("the job to be ready", Duration::from_secs(30), || home.output(&id).contains("ready"));

    for (grace, said) in
        [(json!("2h"), "at most"), (json!("soon"), "invalid grace"), (json!(-1), "invalid grace"), (json!([1]), "invalid grace")]
    {
        let refused = support::mcp::err(&call(&client, "codex_cancel", json!({"job_id": id, "grace": grace})).await);
        assert!(refused.contains(said), "{grace}: {refused}");
    }
    assert_eq!(home.status(&id), "running", "a refused cancel changes nothing");

    let began = std::time::Instant::now();
    let cancelled = ok(&call(&client, "codex_cancel", json!({"job_id": id, "grace": "1s"})).await);
    assert_eq!(cancelled["status"], "cancelled", "{cancelled}");
    assert!(began.elapsed() < Duration::from_secs(30), "the cancel took the server's minute: {:?}", began.elapsed());
    client.cancel().await.unwrap();
}
