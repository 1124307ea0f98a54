//! The MCP server in-process over `tokio::io::duplex`: the 2026-07-28 lifecycle
//! (`subscriptions/listen`), and a client's cancellation ending a wait at once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod common_mcp;

use std::time::Duration;

use codex_async::mcp::McpServer;
use common::TestHome;
use common_mcp::{Note, call, ok, params, recorder};
use rmcp::model::{ClientRequest, ProtocolVersion, Request, ServerNotification, SubscriptionFilter};
use rmcp::service::PeerRequestOptions;
use rmcp::{ClientLifecycleMode, ClientServiceExt, ServiceExt};
use serde_json::json;

fn serve_in_process(server: McpServer) -> tokio::io::DuplexStream {
    let (server_side, client_side) = tokio::io::duplex(64 * 1024);
    tokio::spawn(async move {
        if let Ok(running) = server.serve(server_side).await {
            let _ = running.waiting().await;
        }
    });
    client_side
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_listen_reports_output_and_new_jobs_on_2026_07_28() {
    let home = TestHome::new();
    let transport = serve_in_process(McpServer::new(home.engine(), Duration::from_secs(45)));
    let (handler, _notes) = recorder();
    let lifecycle = ClientLifecycleMode::Discover { preferred_versions: vec![ProtocolVersion::V_2026_07_28] };
    let client = handler.serve_with_lifecycle(transport, lifecycle).await.expect("discover handshake");

    let id = home.start(&common_mcp::ticking_prompt());
    let output_uri = format!("codex-async://jobs/{id}/output");
    let filter = SubscriptionFilter::builder()
        .resources_list_changed()
        .resource_subscription(output_uri.clone())
        .resource_subscription("file:///not/ours")
        .build();
    let mut subscription = client.listen(filter).await.expect("listen is accepted");
    assert_eq!(subscription.acknowledged().resource_subscriptions.as_deref(), Some(&[output_uri.clone()][..]));

    common_mcp::expect_listened_update(&mut subscription, &output_uri, "an update of the job's output").await;

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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_wait_stops_it_at_once() {
    let home = TestHome::new();
    let server = McpServer::with_progress_interval(home.engine(), Duration::from_secs(45), Duration::from_millis(50));
    let transport = serve_in_process(server);
    let (handler, mut notes) = recorder();
    let client = handler.serve(transport).await.expect("handshake");
    let id = home.start("say:busy sleep:60");
    common::wait_until("the job's output", Duration::from_secs(30), || home.output(&id).contains("busy"));

    let request = ClientRequest::CallToolRequest(Request::new(params("codex_wait", json!({"job_id": id, "timeout_seconds": 40}))));
    let handle = client.send_cancellable_request(request, PeerRequestOptions::no_options()).await.unwrap();
    let note = common_mcp::expect_note(&mut notes, Duration::from_secs(30), "progress", |note| matches!(note, Note::Progress { .. })).await;
    let Note::Progress { progress, message } = note else { unreachable!() };
    assert!(progress > 0.0, "progress counts the seconds waited: {progress}");
    assert_eq!(message.as_deref(), Some("busy"), "progress carries the newest output line");
    handle.cancel(Some("the user pressed Esc".to_owned())).await.unwrap();

    // Progress stops. A wait still running would send one note every 50 ms (about 20 in
    // the window below); allow a couple already in flight on a loaded machine.
    tokio::time::sleep(Duration::from_millis(300)).await;
    while notes.try_recv().is_ok() {}
    tokio::time::sleep(Duration::from_secs(1)).await;
    let late = std::iter::from_fn(|| notes.try_recv().ok()).count();
    assert!(late <= 2, "progress went on after the cancellation: {late} notes in a second");

    let began = std::time::Instant::now();
    let polled = ok(&call(&client, "codex_poll", json!({"job_id": id})).await);
    assert!(began.elapsed() < Duration::from_secs(10), "the server is free again");
    assert_eq!(polled["status"], "running");
    ok(&call(&client, "codex_cancel", json!({"job_id": id})).await);
}
