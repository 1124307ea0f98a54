//! MCP tasks through the real binary, with rmcp's client over stdio and HTTP: a client
//! that takes tasks gets `codex_start`/`codex_reply` as a task whose id is the job's;
//! `tasks/get` follows the job to its end, `tasks/cancel` cancels it, a task outlives
//! the server that made it, and the end is announced with `notifications/tasks`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use crate::support;
use crate::support::TestHome;
use crate::support::mcp::{HttpServerProcess, params};
use rmcp::model::{
    CallToolResponse, CallToolResult, CancelTaskParams, ClientCapabilities, ClientConfig, DetailedTask, GetTaskParams, Implementation,
    TaskPayload, TaskStatus, TaskStatusNotificationParams, UpdateTaskParams,
};
use rmcp::service::{NotificationContext, RunningService};
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use serde_json::{Value, json};
use tokio::sync::mpsc;

const DEADLINE: Duration = Duration::from_secs(30);

/// A client that takes tasks and records their status notifications.
#[derive(Clone)]
struct TaskClient {
    statuses: mpsc::UnboundedSender<DetailedTask>,
}

impl ClientHandler for TaskClient {
    async fn on_task_status(&self, params: TaskStatusNotificationParams, _context: NotificationContext<RoleClient>) {
        let _ = self.statuses.send(params.task);
    }

    fn get_info(&self) -> ClientConfig {
        ClientConfig::new(ClientCapabilities::builder().enable_tasks().build(), Implementation::new("task-test", "1"))
    }
}

type Client = RunningService<RoleClient, TaskClient>;

async fn stdio_task_client(home: &TestHome) -> (Client, mpsc::UnboundedReceiver<DetailedTask>) {
    let mut command = tokio::process::Command::from(home.command());
    command.arg("serve");
    let (statuses, received) = mpsc::unbounded_channel();
    let client = TaskClient { statuses }.serve(TokioChildProcess::new(command).unwrap()).await.expect("handshake");
    (client, received)
}

async fn http_task_client(url: &str, token: &str) -> (Client, mpsc::UnboundedReceiver<DetailedTask>) {
    let config = StreamableHttpClientTransportConfig::with_uri(url.to_owned()).auth_header(token.to_owned());
    let (statuses, received) = mpsc::unbounded_channel();
    let client = TaskClient { statuses }.serve(StreamableHttpClientTransport::from_config(config)).await.expect("handshake");
    (client, received)
}

/// Starts a job as a task; returns the task's id (the job's).
async fn start_task(client: &Client, tool: &'static str, arguments: Value) -> String {
    match client.call_tool_once(params(tool, arguments)).await.expect("the call") {
        // (A job quick enough may have ended already: still a task.)
        CallToolResponse::Task(created) => {
            assert_eq!(
                created.task.ttl_ms, None,
                "a job is kept until someone removes it (no retention), and a running one has no end yet"
            );
            created.task.task_id
        }
        other => panic!("{tool}: expected a task, got {other:?}"),
    }
}

async fn get(client: &Client, id: &str) -> DetailedTask {
    client.peer().get_task(GetTaskParams::new(id.to_owned())).await.expect("tasks/get").task
}

async fn until_terminal(client: &Client, id: &str) -> DetailedTask {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let task = get(client, id).await;
        if task.status().is_terminal() {
            return task;
        }
        assert!(tokio::time::Instant::now() < deadline, "task {id} never ended");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn completed_result(task: &DetailedTask) -> Value {
    completed_with(task, false)
}

/// The poll result of a completed task, whose `isError` says whether the job failed.
fn completed_with(task: &DetailedTask, is_error: bool) -> Value {
    let TaskPayload::Completed { result } = &task.payload else { panic!("expected completed, got {task:?}") };
    let result: CallToolResult = serde_json::from_value(Value::Object(result.clone())).unwrap();
    assert_eq!(result.is_error, Some(is_error));
    result.structured_content.expect("the poll result")
}

async fn exercise_tasks(client: &Client, statuses: &mut mpsc::UnboundedReceiver<DetailedTask>, home: &TestHome) {
    let cwd = home.path().to_str().unwrap();

    // A job as a task: its id is the job's; it works, then completes with the poll result.
    let barrier = home.path().join("release");
    let id = start_task(
        client,
        "codex_start",
        json!({"prompt": format!("session say:begun await-file:{} say:the-end", barrier.display()), "cwd": cwd}),
    )
    .await;
    assert_eq!(home.meta(&id)["job_id"], id.as_str(), "the task is the job");
    let working = get(client, &id).await;
    assert_eq!(working.status(), TaskStatus::Working);
    assert!(working.task.status_message.is_some(), "{working:?}");
    std::fs::write(&barrier, "").unwrap();
    let done = until_terminal(client, &id).await;
    let result = completed_result(&done);
    assert_eq!(result["status"], "done");
    assert!(result["output"].as_str().unwrap().contains("the-end"));
    let announced = tokio::time::timeout(DEADLINE, async {
        loop {
            let task = statuses.recv().await.expect("notifications");
            if task.task.task_id == id {
                return task;
            }
        }
    })
    .await
    .expect("notifications/tasks when the job ended");
    assert_eq!(announced.status(), TaskStatus::Completed);

    // A follow-up is a task too.
    let follow_up = start_task(client, "codex_reply", json!({"job_id": id, "prompt": "say:more"})).await;
    let result = completed_result(&until_terminal(client, &follow_up).await);
    assert_eq!(result["parent_job_id"], id.as_str());

    // A failing job: the call went well, the job failed: completed, the result marked
    // isError ("failed" is for JSON-RPC errors).
    let failing = start_task(client, "codex_start", json!({"prompt": "say:oops exit:3", "cwd": cwd})).await;
    let failed = until_terminal(client, &failing).await;
    let result = completed_with(&failed, true);
    assert_eq!((result["status"].clone(), result["exit_code"].clone()), (json!("error"), json!(3)), "{result}");

    // tasks/update is acknowledged for a known task (nothing it answers was asked);
    // a task is found by its whole id only, never by the start of one.
    client.peer().update_task(UpdateTaskParams::new(failing.clone(), Default::default())).await.expect("an empty acknowledgement");
    assert!(client.peer().update_task(UpdateTaskParams::new("deadbeef".to_owned(), Default::default())).await.is_err());
    assert!(client.peer().get_task(GetTaskParams::new(failing[..4].to_owned())).await.is_err(), "no lookup by prefix");

    // tasks/cancel cancels the job and everything it started.
    let long = start_task(client, "codex_start", json!({"prompt": "sleep:60", "cwd": cwd})).await;
    client.peer().cancel_task(CancelTaskParams::new(long.clone())).await.expect("tasks/cancel");
    assert_eq!(until_terminal(client, &long).await.status(), TaskStatus::Cancelled);
    assert_eq!(home.status(&long), "cancelled");
    assert!(home.job_processes(&long).is_empty());

    // A start that fails at once is a plain tool error, not a task; unknown tasks are errors.
    match client.call_tool_once(params("codex_start", json!({"prompt": "x", "cwd": "/no/such/folder"}))).await.unwrap() {
        CallToolResponse::Complete(result) => assert_eq!(result.is_error, Some(true)),
        other => panic!("expected a plain error, got {other:?}"),
    }
    assert!(client.peer().get_task(GetTaskParams::new("deadbeef".to_owned())).await.is_err());
    // Other tools answer as always.
    assert!(matches!(client.call_tool_once(params("codex_poll", json!({"job_id": id}))).await.unwrap(), CallToolResponse::Complete(_)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_over_stdio_and_a_task_outlives_its_server() {
    let home = TestHome::new();
    let (client, mut statuses) = stdio_task_client(&home).await;
    exercise_tasks(&client, &mut statuses, &home).await;

    // Started by one server, followed by the next: the task is the job.
    let barrier = home.path().join("second-barrier");
    let id =
        start_task(&client, "codex_start", json!({"prompt": format!("await-file:{} say:later", barrier.display()), "cwd": home.path()}))
            .await;
    client.cancel().await.unwrap();
    let (client, _statuses) = stdio_task_client(&home).await;
    assert_eq!(get(&client, &id).await.status(), TaskStatus::Working);
    std::fs::write(&barrier, "").unwrap();
    assert_eq!(completed_result(&until_terminal(&client, &id).await)["status"], "done");
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_over_http() {
    let home = TestHome::new();
    let server = HttpServerProcess::spawn(&home, &[]);
    let (client, mut statuses) = http_task_client(&server.url, server.token.as_deref().unwrap()).await;
    exercise_tasks(&client, &mut statuses, &home).await;
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_without_tasks_gets_the_plain_result() {
    let home = TestHome::new();
    let (client, _notes) = support::mcp::stdio_client(&home, &[]).await;
    let started = support::mcp::ok(&support::mcp::call(&client, "codex_start", json!({"prompt": "say:plain", "cwd": home.path()})).await);
    assert_eq!(started["status"], "running");
    let refused = client.peer().get_task(GetTaskParams::new(started["job_id"].as_str().unwrap().to_owned())).await;
    assert!(refused.is_err(), "tasks/get needs the client to have declared tasks");
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ended_task_s_ttl_is_the_retention_after_its_end() {
    let home = TestHome::new();
    std::fs::write(home.path().join("config.toml"), "[retention]\nolder_than = \"7d\"\n").unwrap();
    let (client, _statuses) = stdio_task_client(&home).await;
    let barrier = home.path().join("go");
    let id =
        start_task(&client, "codex_start", json!({"prompt": format!("await-file:{} say:over", barrier.display()), "cwd": home.path()}))
            .await;
    assert_eq!(get(&client, &id).await.task.ttl_ms, None, "a running job has no end yet");
    std::fs::write(&barrier, "").unwrap();
    let ended = until_terminal(&client, &id).await;
    let week = 7 * 86_400_000;
    let ttl = ended.task.ttl_ms.expect("an ended job is kept for the retention after its end");
    assert!((week..week + DEADLINE.as_millis() as u64).contains(&ttl), "{ttl}");
    client.cancel().await.unwrap();
}
