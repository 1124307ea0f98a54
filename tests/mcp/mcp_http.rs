//! The real `codex-async serve --http` driven by rmcp's streamable HTTP client,
//! and its safety checks probed with raw requests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use crate::support;
use crate::support::TestHome;
use crate::support::mcp::{HttpServerProcess, INITIALIZE, call, exercise_tools, http_client, ok};
use codex_async::mcp::token::Auth;
use codex_async::mcp::{HttpOptions, ServerSettings, serve_http};
use nix::sys::signal::Signal;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

/// A raw POST with a deadline: a server that never answers fails the test.
async fn post(url: &str, headers: &[(&str, &str)], body: impl Into<reqwest::Body>) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .post(url)
        .timeout(Duration::from_secs(30))
        .header("Content-Type", "application/json")
        .header("Accept", "application/json, text/event-stream")
        .body(body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("the server answers")
}

async fn post_initialize(url: &str, headers: &[(&str, &str)]) -> StatusCode {
    post(url, headers, INITIALIZE).await.status()
}

fn bearer(server: &HttpServerProcess) -> String {
    format!("Bearer {}", server.token.as_deref().expect("a token"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_tool_and_error_over_http() {
    let home = TestHome::new();
    let server = HttpServerProcess::spawn(&home, &[]);
    assert!(server.url.starts_with("http://127.0.0.1:") && server.url.ends_with("/mcp"), "{}", server.url);
    let (client, _notes) = http_client(&server.url, server.token.as_deref()).await;
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
        assert_eq!(record["token_required"], true);
        let (client, _notes) = http_client(&server.url, server.token.as_deref()).await;
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
    let auth = bearer(&server);
    let token = ("Authorization", auth.as_str());
    assert_eq!(post_initialize(url, &[token]).await, StatusCode::OK);
    assert_eq!(post_initialize(url, &[token, ("Origin", "http://evil.example")]).await, StatusCode::FORBIDDEN);
    assert_eq!(post_initialize(url, &[token, ("Host", "evil.example")]).await, StatusCode::FORBIDDEN);
    assert_eq!(post_initialize(url, &[token, ("Host", "evil.example:80")]).await, StatusCode::FORBIDDEN);
    let port = server.url.trim_start_matches("http://127.0.0.1:").trim_end_matches("/mcp");
    let local_origin = format!("http://localhost:{port}");
    assert_eq!(post_initialize(url, &[token, ("Origin", &local_origin)]).await, StatusCode::OK);
    let huge = format!(r#"{{"jsonrpc":"2.0","id":1,"method":"ping","params":{{"pad":"{}"}}}}"#, "x".repeat(17 * 1024 * 1024));
    let response = post(url, &[token], huge).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_is_required_by_default_and_lives_in_the_home() {
    use std::os::unix::fs::PermissionsExt;
    let home = TestHome::new();
    let server = HttpServerProcess::spawn(&home, &[]);
    let url = server.url.as_str();
    let token_file = home.path().join("token");
    assert_eq!(std::fs::metadata(&token_file).unwrap().permissions().mode() & 0o777, 0o600);
    let token = server.token.clone().unwrap();
    assert_eq!(token.len(), 64, "32 random bytes as hex");

    // No token, a wrong one, another scheme: 401 with a JSON-RPC error saying where it lives.
    for headers in [vec![], vec![("Authorization", "Bearer wrong")], vec![("Authorization", "Basic wrong")]] {
        let response = post(url, &headers, INITIALIZE).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
        let body: Value = response.json().await.unwrap();
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(token_file.to_str().unwrap()) && message.contains("codex-async token"), "{message}");
        assert!(!message.contains(&token), "the token is never echoed");
    }
    assert_eq!(post_initialize(url, &[("Authorization", &format!("Bearer {token}"))]).await, StatusCode::OK);
    // The CLI prints the same token; a second server takes it too (made once).
    let printed = home.run(&["token"]);
    assert_eq!(String::from_utf8_lossy(&printed.stdout).trim(), token);
    let second = HttpServerProcess::spawn(&home, &[]);
    assert_eq!(second.token.as_deref(), Some(token.as_str()));
    // The registration says a token is needed, never which, and is private.
    let record_path = home.path().join("servers").join(format!("{}.json", server.pid()));
    let record = std::fs::read_to_string(&record_path).unwrap();
    assert!(!record.contains(&token), "the token is never written down");
    assert_eq!(std::fs::metadata(&record_path).unwrap().permissions().mode() & 0o777, 0o600);

    // Rotating takes effect at once, in running servers too.
    let rotated = String::from_utf8_lossy(&home.run(&["token", "--rotate"]).stdout).trim().to_owned();
    assert_ne!(rotated, token);
    assert_eq!(post_initialize(url, &[("Authorization", &format!("Bearer {token}"))]).await, StatusCode::UNAUTHORIZED);
    assert_eq!(post_initialize(url, &[("Authorization", &format!("Bearer {rotated}"))]).await, StatusCode::OK);
    let (client, _notes) = http_client(url, Some(&rotated)).await;
    ok(&call(&client, "codex_list", json!({})).await);
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_given_on_the_command_line_replaces_the_file() {
    let home = TestHome::new();
    let server = HttpServerProcess::spawn(&home, &["--token", "s3cret"]);
    let url = server.url.as_str();
    assert_eq!(post_initialize(url, &[]).await, StatusCode::UNAUTHORIZED);
    assert_eq!(post_initialize(url, &[("Authorization", "Bearer wrong")]).await, StatusCode::UNAUTHORIZED);
    assert_eq!(post_initialize(url, &[("Authorization", "Bearer s3cret")]).await, StatusCode::OK);
    let record = std::fs::read_to_string(home.path().join("servers").join(format!("{}.json", server.pid()))).unwrap();
    assert!(!record.contains("s3cret"), "the token is never written down");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_can_come_from_the_environment() {
    let home = TestHome::new();
    let server = HttpServerProcess::spawn_with(&home, &[], |command| {
        command.env("CODEX_ASYNC_TOKEN", "from-env");
    });
    assert_eq!(server.token.as_deref(), Some("from-env"));
    assert_eq!(post_initialize(&server.url, &[]).await, StatusCode::UNAUTHORIZED);
    assert_eq!(post_initialize(&server.url, &[("Authorization", "Bearer from-env")]).await, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_auth_is_for_loopback_only() {
    let home = TestHome::new();
    let server = HttpServerProcess::spawn(&home, &["--no-auth"]);
    assert_eq!(post_initialize(&server.url, &[]).await, StatusCode::OK);
    let record: Value =
        serde_json::from_str(&std::fs::read_to_string(home.path().join("servers").join(format!("{}.json", server.pid()))).unwrap())
            .unwrap();
    assert_eq!(record["token_required"], false);
    // Refused before anything listens: never with a non-loopback address.
    let refused = home.run(&["serve", "--http", "0.0.0.0:0", "--allow-remote", "--no-auth"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--no-auth"), "{}", String::from_utf8_lossy(&refused.stderr));
    let both = home.run(&["serve", "--http", "127.0.0.1:0", "--no-auth", "--token", "x"]);
    assert_eq!(both.status.code(), Some(2), "clap refuses --no-auth with --token");
}

#[test]
fn non_loopback_addresses_are_refused_without_allow_remote() {
    let home = TestHome::new();
    let output = home.run(&["serve", "--http", "0.0.0.0:0"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("not a loopback address") && stderr.contains("--allow-remote"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_http_in_process_reports_a_taken_port_as_an_error() {
    let home = TestHome::new();
    let shutdown = CancellationToken::new();
    let options = HttpOptions {
        addr: "127.0.0.1:0".parse().unwrap(),
        auth: std::sync::Arc::new(Auth::Fixed("t".into())),
        allow_remote: false,
        settings: ServerSettings::default(),
    };
    let first = serve_http(home.engine(), options.clone(), shutdown.clone()).await.expect("serves");
    let (client, _notes) = http_client(&first.url, Some("t")).await;
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
    let config = StreamableHttpClientTransportConfig::with_uri(server.url.clone()).auth_header(server.token.clone().unwrap());
    let transport = StreamableHttpClientTransport::from_config(config);
    let (handler, _notes) = support::mcp::recorder();
    let lifecycle = ClientLifecycleMode::Discover { preferred_versions: vec![ProtocolVersion::V_2026_07_28] };
    let client = handler.serve_with_lifecycle(transport, lifecycle).await.expect("discover over HTTP");

    let cwd = home.path().to_str().unwrap();
    let started = ok(&call(&client, "codex_start", json!({"prompt": support::mcp::ticking_prompt(), "cwd": cwd})).await);
    let id = started["job_id"].as_str().unwrap().to_owned();
    let output_uri = format!("codex-async://jobs/{id}/output");
    let mut subscription =
        client.listen(SubscriptionFilter::builder().resource_subscription(output_uri.clone()).build()).await.expect("listen");
    support::mcp::expect_listened_update(&mut subscription, &output_uri, "an update of the output over HTTP").await;
    let waited = ok(&call(&client, "codex_wait", json!({"job_id": id, "timeout_seconds": 0.2})).await);
    assert_eq!(waited["timed_out"], true);
    ok(&call(&client, "codex_cancel", json!({"job_id": id})).await);
}

/// Two 2025-11-25 sessions on one endpoint both hear about a job a CLI process started.
#[allow(deprecated)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_subscriptions_over_http_reach_every_session() {
    use crate::support::mcp::{Note, expect_note};
    use rmcp::model::SubscribeRequestParams;

    let home = TestHome::new();
    let server = HttpServerProcess::spawn(&home, &[]);
    let (first, mut first_notes) = http_client(&server.url, server.token.as_deref()).await;
    let (second, mut second_notes) = http_client(&server.url, server.token.as_deref()).await;
    assert!(first.list_all_resources().await.unwrap().is_empty());
    let id = home.start(&support::mcp::ticking_prompt());
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
    use crate::support::mcp::{Note, expect_note};

    let home = TestHome::new();
    let server = HttpServerProcess::spawn(&home, &["--max-wait", "5"]);
    let (client, mut notes) = http_client(&server.url, server.token.as_deref()).await;
    let id = home.start(&support::mcp::ticking_prompt());
    support::wait_until("the first tick", Duration::from_secs(30), || home.output(&id).contains("tick0"));
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

/// Under 2026-07-28 the methods the revision removed (and the Tasks extension's removed
/// `tasks/list`, `tasks/result`) and unknown ones are HTTP 404 with -32601, the request
/// otherwise well formed; a legacy request keeps 200 (404 would mean "session gone").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removed_methods_of_2026_07_28_are_404_and_discover_declares_what_is_answered() {
    let home = TestHome::new();
    let server = HttpServerProcess::spawn(&home, &[]);
    let auth = bearer(&server);
    let meta = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientInfo": {"name": "test", "version": "1"},
        "io.modelcontextprotocol/clientCapabilities": {"extensions": {"io.modelcontextprotocol/tasks": {}}},
    });
    let modern = |method: &str, params: Value| {
        let mut params = params;
        params["_meta"] = meta.clone();
        json!({"jsonrpc": "2.0", "id": 500, "method": method, "params": params}).to_string()
    };
    let removed = [
        ("initialize", json!({})),
        ("ping", json!({})),
        ("logging/setLevel", json!({})),
        ("resources/subscribe", json!({})),
        ("resources/unsubscribe", json!({})),
        ("tasks/list", json!({})),
        ("tasks/result", json!({"taskId": "tasks-conformance-isolation-probe"})),
        ("unknown/method", json!({})),
    ];
    for (method, params) in removed {
        let headers = [("Authorization", auth.as_str()), ("MCP-Protocol-Version", "2026-07-28"), ("Mcp-Method", method)];
        let response = post(&server.url, &headers, modern(method, params)).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{method}");
        let reply: Value = response.json().await.unwrap();
        assert_eq!((reply["error"]["code"].clone(), reply["id"].clone()), (json!(-32601), json!(500)), "{method}: {reply}");
    }

    // Whatever is answered is declared: prompts (an empty list) and completions (job ids).
    let read = |response: String| -> Value {
        let data = response.lines().find_map(|line| line.strip_prefix("data:")).map(str::trim).unwrap_or(response.as_str()).to_owned();
        serde_json::from_str(&data).unwrap_or_else(|err| panic!("{response}: {err}"))
    };
    let headers = [("Authorization", auth.as_str()), ("MCP-Protocol-Version", "2026-07-28"), ("Mcp-Method", "server/discover")];
    let discovered = read(post(&server.url, &headers, modern("server/discover", json!({}))).await.text().await.unwrap());
    let capabilities = &discovered["result"]["capabilities"];
    assert!(capabilities["prompts"].is_object() && capabilities["completions"].is_object(), "{discovered}");
    let id = home.start("say:hello");
    let headers = [("Authorization", auth.as_str()), ("MCP-Protocol-Version", "2026-07-28"), ("Mcp-Method", "completion/complete")];
    let reference = json!({"ref": {"type": "ref/resource", "uri": "codex-async://jobs/{job_id}/output"}, "argument": {"name": "job_id", "value": &id[..3]}});
    let completed = read(post(&server.url, &headers, modern("completion/complete", reference)).await.text().await.unwrap());
    assert_eq!(completed["result"]["completion"]["values"], json!([id]), "{completed}");

    // A missing resource names its URI (SEP-2164).
    let uri = "codex-async://jobs/0badc0de/output";
    let headers =
        [("Authorization", auth.as_str()), ("MCP-Protocol-Version", "2026-07-28"), ("Mcp-Method", "resources/read"), ("Mcp-Name", uri)];
    let missing = read(post(&server.url, &headers, modern("resources/read", json!({"uri": uri}))).await.text().await.unwrap());
    assert_eq!((missing["error"]["code"].clone(), missing["error"]["data"]["uri"].clone()), (json!(-32602), json!(uri)), "{missing}");

    // The same removed method from a legacy client: 200 and -32601.
    let legacy =
        post(&server.url, &[("Authorization", auth.as_str())], r#"{"jsonrpc":"2.0","id":3,"method":"tasks/list","params":{}}"#).await;
    assert_eq!(legacy.status(), StatusCode::OK);
    assert_eq!(legacy.json::<Value>().await.unwrap()["error"]["code"], -32601);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_json_rpc_over_http_gets_answers_and_the_server_keeps_serving() {
    let home = TestHome::new();
    let server = HttpServerProcess::spawn(&home, &[]);
    let auth = bearer(&server);
    let token = ("Authorization", auth.as_str());
    let cases: [(&str, StatusCode, i64, Value); 6] = [
        ("{this is not json", StatusCode::BAD_REQUEST, -32700, Value::Null),
        ("[1,2]", StatusCode::BAD_REQUEST, -32600, Value::Null),
        (r#"{"jsonrpc":"2.0","id":7}"#, StatusCode::BAD_REQUEST, -32600, json!(7)),
        (r#"{"jsonrpc":"2.0","id":8,"method":"no/such/method"}"#, StatusCode::OK, -32601, json!(8)),
        (r#"{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{}}"#, StatusCode::OK, -32602, json!(9)),
        (
            r#"{"jsonrpc":"2.0","id":10,"method":"tools/call","params":{"name":"codex_list","arguments":"all"}}"#,
            StatusCode::OK,
            -32602,
            json!(10),
        ),
    ];
    for (body, status, code, id) in cases {
        let response = post(&server.url, &[token], body).await;
        assert_eq!(response.status(), status, "{body}");
        let reply: Value = response.json().await.unwrap_or_else(|err| panic!("{body}: not JSON: {err}"));
        assert_eq!(reply["error"]["code"], code, "{body}: {reply}");
        assert_eq!(reply["id"], id, "{body}: {reply}");
    }
    let (client, _notes) = http_client(&server.url, server.token.as_deref()).await;
    ok(&call(&client, "codex_list", json!({})).await);
    client.cancel().await.unwrap();
}
