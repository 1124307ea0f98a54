//! Helpers for the MCP tests: a recording client, the real server over stdio and
//! HTTP, and tool calls that return JSON.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc as std_mpsc;
use std::time::Duration;

use rmcp::model::{CallToolRequestParams, CallToolResult, ProgressNotificationParam, ResourceUpdatedNotificationParam};
use rmcp::service::{NotificationContext, RunningService};
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use serde_json::Value;
use tokio::sync::mpsc;

use super::TestHome;

/// An `initialize` request as raw JSON, for the tests that speak HTTP without a client.
pub const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}"#;

/// Notifications a test client received.
#[derive(Clone, Debug, PartialEq)]
pub enum Note {
    Progress { progress: f64, message: Option<String> },
    Updated(String),
    ListChanged,
}

#[derive(Clone)]
pub struct Recorder {
    notes: mpsc::UnboundedSender<Note>,
}

pub fn recorder() -> (Recorder, mpsc::UnboundedReceiver<Note>) {
    let (notes, received) = mpsc::unbounded_channel();
    (Recorder { notes }, received)
}

impl ClientHandler for Recorder {
    async fn on_progress(&self, params: ProgressNotificationParam, _context: NotificationContext<RoleClient>) {
        let _ = self.notes.send(Note::Progress { progress: params.progress, message: params.message });
    }

    async fn on_resource_updated(&self, params: ResourceUpdatedNotificationParam, _context: NotificationContext<RoleClient>) {
        let _ = self.notes.send(Note::Updated(params.uri));
    }

    async fn on_resource_list_changed(&self, _context: NotificationContext<RoleClient>) {
        let _ = self.notes.send(Note::ListChanged);
    }
}

pub type Client = RunningService<RoleClient, Recorder>;

/// Waits for a note that `wanted` accepts, failing after `timeout`.
pub async fn expect_note(notes: &mut mpsc::UnboundedReceiver<Note>, timeout: Duration, what: &str, wanted: impl Fn(&Note) -> bool) -> Note {
    let found = tokio::time::timeout(timeout, async {
        loop {
            match notes.recv().await {
                Some(note) if wanted(&note) => return note,
                Some(_) => continue,
                None => panic!("the client closed while waiting for {what}"),
            }
        }
    })
    .await;
    found.unwrap_or_else(|_| panic!("timed out after {timeout:?} waiting for {what}"))
}

/// `codex-async serve` over stdio, spawned by rmcp's child-process transport.
pub async fn stdio_client(home: &TestHome, extra_args: &[&str]) -> (Client, mpsc::UnboundedReceiver<Note>) {
    let mut command = tokio::process::Command::from(home.command());
    command.arg("serve").args(extra_args);
    let transport = TokioChildProcess::new(command).expect("spawn codex-async serve");
    let (recorder, notes) = recorder();
    let client = recorder.serve(transport).await.expect("MCP handshake over stdio");
    (client, notes)
}

/// A `codex-async serve --http` process; killed when dropped.
pub struct HttpServerProcess {
    pub child: Child,
    pub url: String,
    /// The token it takes: `--token`'s, none with `--no-auth`, else the home's file.
    pub token: Option<String>,
    /// The rest of the server's stderr, line by line.
    pub stderr: std_mpsc::Receiver<String>,
}

impl HttpServerProcess {
    pub fn spawn(home: &TestHome, extra_args: &[&str]) -> Self {
        Self::spawn_with(home, extra_args, |_| {})
    }

    /// The same, with the command changed first (an environment variable, say). The
    /// token then is `--token`'s, none with `--no-auth`, `CODEX_ASYNC_TOKEN` when set,
    /// else the home's file.
    pub fn spawn_with(home: &TestHome, extra_args: &[&str], configure: impl FnOnce(&mut std::process::Command)) -> Self {
        let mut command = home.command();
        configure(&mut command);
        let from_env = command
            .get_envs()
            .find(|(name, _)| *name == "CODEX_ASYNC_TOKEN")
            .and_then(|(_, value)| value)
            .map(|value| value.to_string_lossy().into_owned());
        command.args(["serve", "--http", "127.0.0.1:0"]).args(extra_args).stdin(Stdio::null()).stdout(Stdio::null());
        let mut child = command.stderr(Stdio::piped()).spawn().expect("spawn codex-async serve --http");
        let pipe = child.stderr.take().expect("stderr");
        let (lines, stderr) = std_mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                if lines.send(line).is_err() {
                    break;
                }
            }
        });
        let mut server = HttpServerProcess { child, url: String::new(), token: None, stderr };
        let first = server.stderr.recv_timeout(Duration::from_secs(30)).expect("the server prints its URL");
        server.url = first.strip_prefix("codex-async: serving MCP at ").unwrap_or_else(|| panic!("unexpected stderr: {first}")).to_owned();
        let given = extra_args.iter().position(|arg| *arg == "--token").and_then(|at| extra_args.get(at + 1));
        server.token = match given {
            Some(token) => Some((*token).to_owned()),
            None if extra_args.contains(&"--no-auth") => None,
            None => from_env.or_else(|| Some(home_token(home))),
        };
        server
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends a signal and waits (with a deadline) for a clean exit.
    pub fn stop_with(&mut self, signal: nix::sys::signal::Signal) -> std::process::ExitStatus {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.child.id() as i32), signal).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(std::time::Instant::now() < deadline, "the server did not stop after {signal}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for HttpServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The token in a home's token file (a server made it when it started).
pub fn home_token(home: &TestHome) -> String {
    std::fs::read_to_string(home.path().join("token")).expect("the home's token file").trim().to_owned()
}

pub async fn http_client(url: &str, token: Option<&str>) -> (Client, mpsc::UnboundedReceiver<Note>) {
    let mut config = StreamableHttpClientTransportConfig::with_uri(url.to_owned());
    if let Some(token) = token {
        config = config.auth_header(token.to_owned());
    }
    let transport = StreamableHttpClientTransport::from_config(config);
    let (recorder, notes) = recorder();
    let client = recorder.serve(transport).await.expect("MCP handshake over HTTP");
    (client, notes)
}

pub fn params(name: &'static str, arguments: Value) -> CallToolRequestParams {
    let Value::Object(arguments) = arguments else { panic!("arguments must be an object") };
    CallToolRequestParams::new(name).with_arguments(arguments)
}

pub async fn call(client: &Client, name: &'static str, arguments: Value) -> CallToolResult {
    client.call_tool(params(name, arguments)).await.unwrap_or_else(|err| panic!("{name} failed at the protocol level: {err}"))
}

/// A successful call's structured result, checked against its text twin.
pub fn ok(result: &CallToolResult) -> Value {
    assert_eq!(result.is_error, Some(false), "expected success, got {result:?}");
    let structured = result.structured_content.clone().expect("structuredContent");
    let text = result.content.first().and_then(|block| block.as_text()).map(|text| text.text.clone()).expect("text content");
    let from_text: Value = serde_json::from_str(&text).expect("the text is JSON");
    match structured.get("result") {
        // codex_list: the bare list as text (like the original), wrapped when structured.
        Some(list) if structured.as_object().is_some_and(|map| map.len() == 1) => assert_eq!(&from_text, list),
        _ => assert_eq!(from_text, structured),
    }
    structured
}

/// A failed call's message.
pub fn err(result: &CallToolResult) -> String {
    assert_eq!(result.is_error, Some(true), "expected a tool error, got {result:?}");
    let text = result.content.first().and_then(|block| block.as_text()).map(|text| text.text.clone()).expect("text content");
    let value: Value = serde_json::from_str(&text).expect("the error text is JSON");
    value["error"].as_str().expect("an error message").to_owned()
}

/// Every tool and every error case, against whichever transport `client` uses.
pub async fn exercise_tools(client: &Client, home: &TestHome) {
    use serde_json::json;
    let cwd = home.path().to_str().unwrap().to_owned();

    let tools = client.list_all_tools().await.unwrap();
    let mut names: Vec<_> = tools.iter().map(|tool| tool.name.to_string()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "codex_apply",
            "codex_approve",
            "codex_await_any",
            "codex_cancel",
            "codex_delete",
            "codex_diff",
            "codex_discard",
            "codex_list",
            "codex_pause",
            "codex_poll",
            "codex_reply",
            "codex_resume",
            "codex_start",
            "codex_wait"
        ]
    );
    for tool in &tools {
        assert!(tool.output_schema.is_some(), "{} has an outputSchema", tool.name);
        assert!(tool.description.as_deref().is_some_and(|text| text.len() > 80), "{} is described", tool.name);
    }
    let start_doc = tools.iter().find(|tool| tool.name == "codex_start").and_then(|tool| tool.description.clone()).unwrap();
    assert!(start_doc.contains("full-auto"), "codex_start says when full-auto is needed");

    // A long job: start, poll, list, a wait that times out, cancel twice.
    let started = ok(&call(client, "codex_start", json!({"prompt": "say:hello sleep:60", "cwd": cwd})).await);
    let keys: Vec<_> = started.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, ["job_id", "status", "pid"]);
    assert_eq!(started["status"], "running");
    assert!(started["pid"].as_i64().is_some());
    let long_id = started["job_id"].as_str().unwrap().to_owned();

    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let polled = loop {
        let polled = ok(&call(client, "codex_poll", json!({"job_id": long_id})).await);
        if polled["output"].as_str().unwrap().contains("hello") {
            break polled;
        }
        assert!(tokio::time::Instant::now() < deadline, "the output never showed 'hello': {polled}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(polled["status"], "running");
    assert_eq!(polled["job_id"], long_id.as_str());
    assert_eq!(polled["prompt"], "say:hello sleep:60");
    assert!(polled["exit_code"].is_null());
    let one_line = ok(&call(client, "codex_poll", json!({"job_id": long_id, "tail_lines": 1})).await);
    assert_eq!(one_line["output"].as_str().unwrap().lines().count(), 1);

    let listed = ok(&call(client, "codex_list", json!({})).await);
    let row = listed["result"].as_array().unwrap().iter().find(|row| row["job_id"] == long_id.as_str()).cloned().expect("listed");
    assert_eq!(row["status"], "running");
    let limited = ok(&call(client, "codex_list", json!({"limit": 0})).await);
    assert_eq!(limited["result"], json!([]));

    let began = std::time::Instant::now();
    let waited = ok(&call(client, "codex_wait", json!({"job_id": long_id, "timeout_seconds": 0.5})).await);
    assert!(began.elapsed() >= Duration::from_millis(450), "the wait lasted its timeout");
    assert_eq!(waited["timed_out"], true);
    assert_eq!(waited["status"], "running");
    assert!(waited["output"].as_str().unwrap().contains("hello"));

    // The answer comes once the supervisor has recorded the end: a cancel that was
    // signalled but not recorded is a failure here.
    let cancelled = ok(&call(client, "codex_cancel", json!({"job_id": long_id})).await);
    assert_eq!(cancelled, json!({"job_id": long_id, "status": "cancelled", "killed": true}));
    assert_eq!(home.status(&long_id), "cancelled", "recorded before the answer");
    let again = ok(&call(client, "codex_cancel", json!({"job_id": long_id})).await);
    assert_eq!(again, json!({"job_id": long_id, "status": "cancelled", "message": "Job is not running"}));

    // A short job: the wait wakes when it ends, and await_any sees it although it already ended.
    let quick = ok(&call(client, "codex_start", json!({"prompt": "sleep:1 say:quick", "cwd": cwd, "approval_policy": "full-auto"})).await);
    let quick_id = quick["job_id"].as_str().unwrap().to_owned();
    // Woken by the end of the job, not by the timeout (jobs can be slow on a loaded machine).
    let done = ok(&call(client, "codex_wait", json!({"job_id": quick_id, "timeout_seconds": 40})).await);
    assert_eq!(done["timed_out"], false);
    assert_eq!(done["status"], "done");
    assert_eq!(done["exit_code"], 0);
    assert_eq!(done["approval_policy"], "full-auto");
    assert!(done["output"].as_str().unwrap().contains("quick"));
    // Nothing will change about a job that already ended: only a look at once can find it.
    let first = ok(&call(client, "codex_await_any", json!({"job_ids": [quick_id], "timeout_seconds": 40})).await);
    assert_eq!(first["job_id"], quick_id.as_str());
    assert_eq!(first["timed_out"], false);
    assert_eq!(first["status"], "done");

    // Errors: a tool result with isError and a message that says what to do.
    let message = err(&call(client, "codex_poll", json!({"job_id": "../../etc"})).await);
    assert!(message.contains("invalid job id") && message.contains("../../etc"), "{message}");
    let message = err(&call(client, "codex_poll", json!({"job_id": "deadbeef"})).await);
    assert!(message.contains("not found") && message.contains("codex_list"), "{message}");
    let message = err(&call(client, "codex_wait", json!({"job_id": "deadbeef"})).await);
    assert!(message.contains("not found"), "{message}");
    let message = err(&call(client, "codex_cancel", json!({"job_id": "bad id!"})).await);
    assert!(message.contains("invalid job id"), "{message}");
    let file = home.path().join("a-file.txt");
    std::fs::write(&file, "x").unwrap();
    let message = err(&call(client, "codex_start", json!({"prompt": "say:x", "cwd": file})).await);
    assert!(message.contains("not a folder"), "{message}");
    let message = err(&call(client, "codex_start", json!({"prompt": "say:x", "cwd": home.path().join("missing")})).await);
    assert!(message.contains("does not exist"), "{message}");
    let message = err(&call(client, "codex_start", json!({"prompt": "say:x", "cwd": cwd, "approval_policy": "yolo"})).await);
    assert!(message.contains("yolo") && message.contains("full-auto") && message.contains("suggest"), "{message}");
    let message = err(&call(client, "codex_start", json!({"prompt": "  ", "cwd": cwd})).await);
    assert!(message.contains("empty"), "{message}");
    let message = err(&call(client, "codex_poll", json!({"job_id": quick_id, "tail_lines": "ten"})).await);
    assert!(message.contains("invalid arguments for codex_poll") && message.contains("ten"), "{message}");
    let message = err(&call(client, "codex_poll", json!({"tail_lines": 3})).await);
    assert!(message.contains("job_id"), "{message}");
    let message = err(&call(client, "codex_start", json!({"prompt": 42, "cwd": cwd})).await);
    assert!(message.contains("invalid arguments for codex_start"), "{message}");
    let message = err(&call(client, "codex_wait", json!({"job_id": quick_id, "timeout_seconds": -3})).await);
    assert!(message.contains("timeout_seconds"), "{message}");
    let message = err(&call(client, "codex_await_any", json!({"job_ids": []})).await);
    assert!(message.contains("job_ids"), "{message}");
    let message = err(&call(client, "codex_await_any", json!({"job_ids": ["deadbeef"]})).await);
    assert!(message.contains("not found"), "{message}");
    let unknown = client.call_tool(params("codex_frobnicate", json!({}))).await;
    assert!(unknown.is_err(), "an unknown tool is a protocol error");
    // The server is still fine after all that.
    ok(&call(client, "codex_poll", json!({"job_id": quick_id})).await);
}

/// A fake-agent prompt that prints a line every second for a minute, so a
/// subscriber that arrives late still sees the output grow.
pub fn ticking_prompt() -> String {
    (0..60).map(|tick| format!("say:tick{tick} sleep:1")).collect::<Vec<_>>().join(" ")
}

/// Waits for a `notifications/resources/updated` of `uri` on a 2026-07-28 subscription.
pub async fn expect_listened_update(subscription: &mut rmcp::service::Subscription, uri: &str, what: &str) {
    use rmcp::model::ServerNotification;
    let updated = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            match subscription.next().await.expect("a notification") {
                Some(ServerNotification::ResourceUpdatedNotification(note)) if note.params.uri == uri => return,
                Some(_) => continue,
                None => panic!("the subscription ended"),
            }
        }
    })
    .await;
    updated.unwrap_or_else(|_| panic!("timed out waiting for {what}"));
}
