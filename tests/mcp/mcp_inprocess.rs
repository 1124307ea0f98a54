//! The MCP server in-process over `tokio::io::duplex`: the 2026-07-28 lifecycle
//! (`subscriptions/listen`), and a client's cancellation ending a wait at once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use crate::support;
use crate::support::TestHome;
use crate::support::mcp::{Note, call, ok, params, recorder};
use codex_async::mcp::McpServer;
use rmcp::model::{ClientRequest, ProtocolVersion, Request, ServerNotification, SubscriptionFilter};
use rmcp::service::{PeerRequestOptions, QuitReason};
use rmcp::{ClientLifecycleMode, ClientServiceExt, ServiceExt};
use serde_json::json;

/// Generous: conditions are polled, so a long deadline costs nothing when things work.
const DEADLINE: Duration = Duration::from_secs(30);

/// The server's side of an in-process connection: what it ended with.
struct ServerTask(tokio::task::JoinHandle<Result<QuitReason, String>>);

impl ServerTask {
    /// Once the client has gone, the server ends, and without an error.
    async fn ended_cleanly(self) {
        let ended = tokio::time::timeout(DEADLINE, self.0).await.expect("the server ends once its client has gone");
        let reason = ended.expect("the server's task did not panic").unwrap_or_else(|err| panic!("{err}"));
        assert!(matches!(reason, QuitReason::Closed | QuitReason::Cancelled), "the server ended with {reason:?}");
    }
}

fn serve_in_process(server: McpServer) -> (tokio::io::DuplexStream, ServerTask) {
    let (server_side, client_side) = tokio::io::duplex(64 * 1024);
    let task = tokio::spawn(async move {
        let running = server.serve(server_side).await.map_err(|err| format!("the server's handshake failed: {err}"))?;
        running.waiting().await.map_err(|err| format!("the server's loop failed: {err}"))
    });
    (client_side, ServerTask(task))
}

/// Polls `condition` until it holds, without blocking the runtime's threads.
async fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while !condition() {
        assert!(tokio::time::Instant::now() < deadline, "timed out after {DEADLINE:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_listen_reports_output_and_new_jobs_on_2026_07_28() {
    let home = TestHome::new();
    let (transport, server) = serve_in_process(McpServer::new(home.engine(), Duration::from_secs(45)));
    let (handler, _notes) = recorder();
    let lifecycle = ClientLifecycleMode::Discover { preferred_versions: vec![ProtocolVersion::V_2026_07_28] };
    let client = handler.serve_with_lifecycle(transport, lifecycle).await.expect("discover handshake");

    let id = home.start(&support::mcp::ticking_prompt());
    let output_uri = format!("codex-async://jobs/{id}/output");
    let filter = SubscriptionFilter::builder()
        .resources_list_changed()
        .resource_subscription(output_uri.clone())
        .resource_subscription("file:///not/ours")
        .build();
    let mut subscription = client.listen(filter).await.expect("listen is accepted");
    assert_eq!(subscription.acknowledged().resource_subscriptions.as_deref(), Some(&[output_uri.clone()][..]));

    support::mcp::expect_listened_update(&mut subscription, &output_uri, "an update of the job's output").await;

    let other = home.start("sleep:60");
    let listed = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            match subscription.next().await.expect("a notification") {
                Some(ServerNotification::ResourceListChangedNotification(_)) => return,
                Some(_) => continue,
                None => panic!("the subscription ended"),
            }
        }
    })
    .await;
    listed.expect("list_changed when a job appears");

    // Tools work on this lifecycle too.
    let polled = ok(&call(&client, "codex_poll", json!({"job_id": id})).await);
    assert_eq!(polled["status"], "running");
    for job in [&id, &other] {
        ok(&call(&client, "codex_cancel", json!({"job_id": job})).await);
    }
    subscription.cancel().await.expect("the subscription ends");
    client.cancel().await.expect("the client closes");
    server.ended_cleanly().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_wait_stops_it_at_once() {
    let home = TestHome::new();
    let engine = home.engine();
    let server = McpServer::with_progress_interval(engine.clone(), Duration::from_secs(45), Duration::from_millis(50));
    let (transport, server) = serve_in_process(server);
    let (handler, mut notes) = recorder();
    let client = handler.serve(transport).await.expect("handshake");
    let id = home.start("say:busy sleep:60");
    support::wait_until("the job's output", DEADLINE, || home.output(&id).contains("busy"));
    // A wait holds a subscription to the change feed for as long as it waits.
    let subscriptions_before = engine.feed().subscriptions();

    let request = ClientRequest::CallToolRequest(Request::new(params("codex_wait", json!({"job_id": id, "timeout_seconds": 40}))));
    let handle = client.send_cancellable_request(request, PeerRequestOptions::no_options()).await.unwrap();
    let note = support::mcp::expect_note(&mut notes, DEADLINE, "progress", |note| matches!(note, Note::Progress { .. })).await;
    let Note::Progress { progress, message } = note else { unreachable!() };
    assert!(progress > 0.0, "progress counts the seconds waited: {progress}");
    assert_eq!(message.as_deref(), Some("busy"), "progress carries the newest output line");
    assert!(engine.feed().subscriptions() > subscriptions_before, "the wait is subscribed while it waits");
    handle.cancel(Some("the user pressed Esc".to_owned())).await.unwrap();

    // The wait itself ends (its subscription goes), long before its 40 s timeout.
    eventually("the cancelled wait to end", || engine.feed().subscriptions() == subscriptions_before).await;
    // Its progress went with it: a round trip comes after any note already sent, and
    // after it nothing more arrives.
    let polled = tokio::time::timeout(DEADLINE, call(&client, "codex_poll", json!({"job_id": id}))).await.expect("the server answers");
    while notes.try_recv().is_ok() {}
    let polled_again =
        tokio::time::timeout(DEADLINE, call(&client, "codex_poll", json!({"job_id": id}))).await.expect("the server answers");
    let late = std::iter::from_fn(|| notes.try_recv().ok()).count();
    assert_eq!(late, 0, "progress went on after the wait ended");
    assert_eq!(ok(&polled)["status"], "running", "the job itself was not touched");
    assert_eq!(ok(&polled_again)["status"], "running");
    ok(&call(&client, "codex_cancel", json!({"job_id": id})).await);
    client.cancel().await.expect("the client closes");
    server.ended_cleanly().await;
}
