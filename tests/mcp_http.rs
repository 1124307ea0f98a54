//! The real `codex-async serve --http` driven by rmcp's streamable HTTP client,
//! and its safety checks probed with raw requests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod common_mcp;

use std::time::Duration;

use codex_async::mcp::{HttpOptions, serve_http};
use common::TestHome;
use common_mcp::{HttpServerProcess, call, exercise_tools, http_client, ok};
use nix::sys::signal::Signal;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}"#;

async fn post_initialize(url: &str, headers: &[(&str, &str)]) -> StatusCode {
    let mut request = reqwest::Client::new()
        .post(url)
        .header("Content-Type", "application/json")
        .header("Accept", "application/json, text/event-stream")
        .body(INITIALIZE);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("the server answers").status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_tool_and_error_over_http() {
    let home = TestHome::new();
    let server = HttpServerProcess::spawn(&home, &[]);
    assert!(server.url.starts_with("http://127.0.0.1:") && server.url.ends_with("/mcp"), "{}", server.url);
    let (client, _notes) = http_client(&server.url, None).await;
    exercise_tools(&client, &home).await;
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_url_is_registered_and_removed_on_sigterm_and_sigint() {
    let home = TestHome::new();
    for signal in [Signal::SIGTERM, Signal::SIGINT] {
        let mut server = HttpServerProcess::spawn(&home, &[]);
        let file = home.path().join("servers").join(format!("{}.json", server.pid()));
        let record: Value = serde_json::from_str(&std::fs::read_to_string(&file).expect("servers/<pid>.json")).unwrap();
        assert_eq!(record["url"], server.url.as_str());
        assert_eq!(record["pid"], server.pid());
        assert_eq!(record["token_required"], false);
        let (client, _notes) = http_client(&server.url, None).await;
        ok(&call(&client, "codex_list", json!({})).await);
        let status = server.stop_with(signal);
        assert!(status.success(), "a clean exit on {signal}: {status}");
        assert!(!file.exists(), "the server file is removed on {signal}");
        drop(client);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_origins_and_hosts_are_refused() {
    let home = TestHome::new();
    let server = HttpServerProcess::spawn(&home, &[]);
    let url = server.url.as_str();
    assert_eq!(post_initialize(url, &[]).await, StatusCode::OK);
    assert_eq!(post_initialize(url, &[("Origin", "http://evil.example")]).await, StatusCode::FORBIDDEN);
    assert_eq!(post_initialize(url, &[("Host", "evil.example")]).await, StatusCode::FORBIDDEN);
    assert_eq!(post_initialize(url, &[("Host", "evil.example:80")]).await, StatusCode::FORBIDDEN);
    let port = server.url.trim_start_matches("http://127.0.0.1:").trim_end_matches("/mcp");
    let local_origin = format!("http://localhost:{port}");
    assert_eq!(post_initialize(url, &[("Origin", &local_origin)]).await, StatusCode::OK);
    let huge = format!(r#"{{"jsonrpc":"2.0","id":1,"method":"ping","params":{{"pad":"{}"}}}}"#, "x".repeat(2 * 1024 * 1024));
    let response = reqwest::Client::new()
        .post(url)
        .header("Content-Type", "application/json")
        .header("Accept", "application/json, text/event-stream")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_is_required_when_configured() {
    let home = TestHome::new();
    let server = HttpServerProcess::spawn(&home, &["--token", "s3cret"]);
    let url = server.url.as_str();
    assert_eq!(post_initialize(url, &[]).await, StatusCode::UNAUTHORIZED);
    assert_eq!(post_initialize(url, &[("Authorization", "Bearer wrong")]).await, StatusCode::UNAUTHORIZED);
    assert_eq!(post_initialize(url, &[("Authorization", "Basic s3cret")]).await, StatusCode::UNAUTHORIZED);
    assert_eq!(post_initialize(url, &[("Authorization", "Bearer s3cret")]).await, StatusCode::OK);
    let record = std::fs::read_to_string(home.path().join("servers").join(format!("{}.json", server.pid()))).unwrap();
    assert!(!record.contains("s3cret"), "the token is never written down");
    let (client, _notes) = http_client(url, Some("s3cret")).await;
    ok(&call(&client, "codex_list", json!({})).await);
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_can_come_from_the_environment() {
    let home = TestHome::new();
    let mut command = home.command();
    command.env("CODEX_ASYNC_TOKEN", "from-env");
    // HttpServerProcess::spawn uses home.command(); reproduce it with the variable set.
    let mut child = command
        .args(["serve", "--http", "127.0.0.1:0"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut stderr, &mut line).unwrap();
    let url = line.trim().strip_prefix("codex-async: serving MCP at ").expect("the URL").to_owned();
    assert_eq!(post_initialize(&url, &[]).await, StatusCode::UNAUTHORIZED);
    assert_eq!(post_initialize(&url, &[("Authorization", "Bearer from-env")]).await, StatusCode::OK);
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn non_loopback_addresses_are_refused_without_allow_remote_and_a_token() {
    let home = TestHome::new();
    let output = home.run(&["serve", "--http", "0.0.0.0:0"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("not a loopback address") && stderr.contains("--allow-remote"), "{stderr}");
    let output = home.run(&["serve", "--http", "0.0.0.0:0", "--allow-remote"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("token"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_http_in_process_reports_a_taken_port_as_an_error() {
    let home = TestHome::new();
    let shutdown = CancellationToken::new();
    let options = HttpOptions { addr: "127.0.0.1:0".parse().unwrap(), token: None, allow_remote: false, max_wait: Duration::from_secs(45) };
    let first = serve_http(home.engine(), options.clone(), shutdown.clone()).await.expect("serves");
    let (client, _notes) = http_client(&first.url, None).await;
    ok(&call(&client, "codex_list", json!({})).await);
    let taken = HttpOptions { addr: first.local_addr, ..options };
    let error = serve_http(home.engine(), taken, shutdown.clone()).await.err().expect("the port is taken");
    assert!(format!("{error:#}").contains("cannot listen"), "{error:#}");
    drop(client);
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(30), first.task).await.expect("stops on the shutdown token").unwrap();
}

/// 2026-07-28 clients have no HTTP session: every request stands alone, and a
/// subscription is one long `subscriptions/listen` request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_2026_07_28_client_calls_tools_and_listens_over_http() {
    use rmcp::model::{ProtocolVersion, SubscriptionFilter};
    use rmcp::transport::StreamableHttpClientTransport;
    use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
    use rmcp::{ClientLifecycleMode, ClientServiceExt};

    let home = TestHome::new();
    let server = HttpServerProcess::spawn(&home, &[]);
    let transport = StreamableHttpClientTransport::from_config(StreamableHttpClientTransportConfig::with_uri(server.url.clone()));
    let (handler, _notes) = common_mcp::recorder();
    let lifecycle = ClientLifecycleMode::Discover { preferred_versions: vec![ProtocolVersion::V_2026_07_28] };
    let client = handler.serve_with_lifecycle(transport, lifecycle).await.expect("discover over HTTP");

    let cwd = home.path().to_str().unwrap();
    let started = ok(&call(&client, "codex_start", json!({"prompt": common_mcp::ticking_prompt(), "cwd": cwd})).await);
    let id = started["job_id"].as_str().unwrap().to_owned();
    let output_uri = format!("codex-async://jobs/{id}/output");
    let mut subscription =
        client.listen(SubscriptionFilter::builder().resource_subscription(output_uri.clone()).build()).await.expect("listen");
    common_mcp::expect_listened_update(&mut subscription, &output_uri, "an update of the output over HTTP").await;
    let waited = ok(&call(&client, "codex_wait", json!({"job_id": id, "timeout_seconds": 0.2})).await);
    assert_eq!(waited["timed_out"], true);
    ok(&call(&client, "codex_cancel", json!({"job_id": id})).await);
}

/// Two 2025-11-25 sessions on one endpoint both hear about a job a CLI process started.
#[allow(deprecated)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_subscriptions_over_http_reach_every_session() {
    use common_mcp::{Note, expect_note};
    use rmcp::model::SubscribeRequestParams;

    let home = TestHome::new();
    let server = HttpServerProcess::spawn(&home, &[]);
    let (first, mut first_notes) = http_client(&server.url, None).await;
    let (second, mut second_notes) = http_client(&server.url, None).await;
    assert!(first.list_all_resources().await.unwrap().is_empty());
    let id = home.start(&common_mcp::ticking_prompt());
    let output_uri = format!("codex-async://jobs/{id}/output");
    expect_note(&mut first_notes, Duration::from_secs(30), "list_changed", |note| *note == Note::ListChanged).await;
    for client in [&first, &second] {
        client.subscribe(SubscribeRequestParams::new(output_uri.clone())).await.unwrap();
    }
    for notes in [&mut first_notes, &mut second_notes] {
        expect_note(notes, Duration::from_secs(30), "an update of the output", |note| *note == Note::Updated(output_uri.clone())).await;
    }
    assert!(home.run(&["cancel", &id]).status.success());
}

/// Progress notifications travel over HTTP too (on the request's SSE stream).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wait_over_http_sends_progress() {
    use common_mcp::{Note, expect_note};

    let home = TestHome::new();
    let server = HttpServerProcess::spawn(&home, &["--max-wait", "5"]);
    let (client, mut notes) = http_client(&server.url, None).await;
    let id = home.start(&common_mcp::ticking_prompt());
    common::wait_until("the first tick", Duration::from_secs(30), || home.output(&id).contains("tick0"));
    let waiting = call(&client, "codex_wait", json!({"job_id": id, "timeout_seconds": 60}));
    let watching = expect_note(
        &mut notes,
        Duration::from_secs(30),
        "progress with a tick",
        |note| matches!(note, Note::Progress { message: Some(message), .. } if message.starts_with("tick")),
    );
    let (waited, _) = tokio::join!(waiting, watching);
    assert_eq!(ok(&waited)["timed_out"], true, "capped at 5 s by --max-wait");
    assert!(home.run(&["cancel", &id]).status.success());
}
