//! Multi-round-trip approvals (MCP 2026-07-28, SEP-2322) with rmcp's client: `codex_wait`
//! on a job that waits for approval answers `input_required` with an elicitation form
//! to a client that declared `elicitation`; the retry carrying the person's answer and
//! the sealed `requestState` records it; a changed state, or one made for another job,
//! is a JSON-RPC error; a dismissed form and a client without elicitation get the plain
//! result (answered with `codex_approve`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use crate::support::mcp::{HttpServerProcess, params};
use crate::support::{TestHome, fake_agent, json, wait_until};
use codex_async::jobs::JobId;
use codex_async::jobs::approval::{self, Question};
use rmcp::model::{CallToolResponse, ClientCapabilities, ClientConfig, Implementation, InputRequest, ProtocolVersion};
use rmcp::service::RunningService;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{ClientHandler, ClientLifecycleMode, ClientServiceExt, RoleClient};
use serde_json::{Value, json};

/// A 2026-07-28 client that takes tasks, with or without `elicitation`.
#[derive(Clone)]
struct Modern {
    elicitation: bool,
}

impl ClientHandler for Modern {
    fn get_info(&self) -> ClientConfig {
        let capabilities: ClientCapabilities =
            serde_json::from_value(if self.elicitation { json!({"elicitation": {}}) } else { json!({}) }).unwrap();
        // Both take tasks (a job it starts is a task; `tasks/get` needs the extension).
        let mut capabilities = capabilities;
        capabilities.extensions = Some(serde_json::from_value(json!({"io.modelcontextprotocol/tasks": {}})).unwrap());
        ClientConfig::new(capabilities, Implementation::new("mrtr-test", "1"))
    }
}

async fn connect(server: &HttpServerProcess, elicitation: bool) -> RunningService<RoleClient, Modern> {
    let config = StreamableHttpClientTransportConfig::with_uri(server.url.clone()).auth_header(server.token.clone().unwrap());
    let lifecycle = ClientLifecycleMode::Discover { preferred_versions: vec![ProtocolVersion::V_2026_07_28] };
    Modern { elicitation }.serve_with_lifecycle(StreamableHttpClientTransport::from_config(config), lifecycle).await.expect("discover")
}

/// A running `ask` job (Claude Code played by the fake agent, sleeping) and a request
/// recorded as its approval endpoint records one.
fn asking_job(home: &TestHome) -> String {
    let cwd = home.path().to_str().unwrap();
    let output = home
        .command()
        .env("CLAUDE_BIN", fake_agent())
        .args(["start", "--json", "--agent", "claude", "-a", "ask", "--cwd", cwd, "--", "sleep:60"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    json(&output)["job_id"].as_str().unwrap().to_owned()
}

fn ask(home: &TestHome, id: &str, command: &str) -> u32 {
    let question = Question {
        tool_name: "Bash",
        input: json!({"command": command}),
        tool_use_id: None,
        reason: None,
        timeout: Duration::from_secs(600),
    };
    approval::ask(&home.store(), &JobId::parse(id).unwrap(), question).unwrap().number
}

async fn wait(
    client: &RunningService<RoleClient, Modern>,
    id: &str,
    state: Option<String>,
    responses: Option<Value>,
) -> Result<CallToolResponse, rmcp::ServiceError> {
    let mut request = params("codex_wait", json!({"job_id": id, "timeout_seconds": 1}));
    request.request_state = state;
    request.input_responses = responses.map(|responses| serde_json::from_value(responses).unwrap());
    client.call_tool_once(request).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_can_ask_its_user_gets_input_required_and_answers_in_the_retry() {
    let home = TestHome::new();
    let server = HttpServerProcess::spawn(&home, &[]);
    let id = asking_job(&home);
    let other = asking_job(&home);
    let number = ask(&home, &id, "rm -rf build");
    ask(&home, &other, "true");
    let client = connect(&server, true).await;

    let CallToolResponse::InputRequired(input) = wait(&client, &id, None, None).await.unwrap() else { panic!("expected input_required") };
    let key = format!("approval-{id}-{number}");
    let requests = input.input_requests.clone().unwrap();
    let InputRequest::Elicitation(elicit) = &requests[&key] else { panic!("expected an elicitation: {requests:?}") };
    let elicit = serde_json::to_value(elicit).unwrap();
    assert!(elicit["params"]["message"].as_str().unwrap().contains("Bash: rm -rf build"), "{elicit}");
    assert_eq!(elicit["params"]["requestedSchema"]["properties"]["decision"]["enum"], json!(["allow", "deny", "always"]));
    let state = input.request_state.clone().unwrap();
    let deny = json!({key.clone(): {"action": "accept", "content": {"decision": "deny", "message": "not the build folder"}}});

    // A changed state, or this job's state on another job's wait: refused, nothing recorded.
    assert!(wait(&client, &id, Some(format!("{state}-TAMPERED")), Some(deny.clone())).await.is_err(), "a tampered state is an error");
    assert!(wait(&client, &other, Some(state.clone()), Some(deny.clone())).await.is_err(), "bound to its job");
    assert!(!home.job_dir(&id).join(format!("approval-{number}.answer.json")).exists());

    // The retry with the person's answer records it and waits on (the job sleeps).
    let CallToolResponse::Complete(waited) = wait(&client, &id, Some(state.clone()), Some(deny)).await.unwrap() else {
        panic!("expected the wait's result")
    };
    let view = waited.structured_content.unwrap();
    assert_eq!((view["timed_out"].clone(), view.get("approval").cloned()), (json!(true), None), "{view}");
    let answer: Value =
        serde_json::from_slice(&std::fs::read(home.job_dir(&id).join(format!("approval-{number}.answer.json"))).unwrap()).unwrap();
    assert_eq!(
        (answer["decision"].as_str(), answer["by"].as_str(), answer["message"].as_str()),
        (Some("deny"), Some("mcp"), Some("not the build folder"))
    );

    // The next request: the person dismisses the form, and gets the plain result.
    let second = ask(&home, &id, "make");
    let CallToolResponse::InputRequired(input) = wait(&client, &id, None, None).await.unwrap() else { panic!("expected input_required") };
    let dismissed = json!({format!("approval-{id}-{second}"): {"action": "cancel"}});
    let CallToolResponse::Complete(plain) = wait(&client, &id, input.request_state, Some(dismissed)).await.unwrap() else {
        panic!("a dismissed form gives the plain result")
    };
    assert_eq!(plain.structured_content.unwrap()["approval"]["number"], second);

    // A 2026-07-28 client without elicitation: the plain result, for codex_approve.
    let plain_client = connect(&server, false).await;
    let CallToolResponse::Complete(plain) = wait(&plain_client, &id, None, None).await.unwrap() else {
        panic!("expected the plain result")
    };
    assert_eq!(plain.structured_content.unwrap()["approval"]["number"], second);

    for job in [&id, &other] {
        assert!(home.run(&["cancel", job]).status.success());
    }
    wait_until("the jobs to end", Duration::from_secs(30), || home.status(&id) != "running" && home.status(&other) != "running");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_that_waits_for_approval_is_input_required_and_tasks_update_answers_it() {
    use rmcp::model::{GetTaskParams, TaskPayload, UpdateTaskParams};
    let home = TestHome::new();
    let server = HttpServerProcess::spawn(&home, &[]);
    let id = asking_job(&home);
    let number = ask(&home, &id, "cargo publish");
    let client = connect(&server, true).await;
    let task = |client: &RunningService<RoleClient, Modern>| {
        let peer = client.peer().clone();
        let id = id.clone();
        async move { peer.get_task(GetTaskParams::new(id)).await.expect("tasks/get").task }
    };

    let asked = task(&client).await;
    let TaskPayload::InputRequired { input_requests } = &asked.payload else { panic!("expected input_required, got {asked:?}") };
    let key = format!("approval-{id}-{number}");
    let InputRequest::Elicitation(elicit) = &input_requests[&key] else { panic!("expected an elicitation: {input_requests:?}") };
    assert!(serde_json::to_value(elicit).unwrap()["params"]["message"].as_str().unwrap().contains("Bash: cargo publish"));

    // Without elicitation the task is only working (its message says what it waits for).
    let plain = task(&connect(&server, false).await).await;
    assert!(matches!(plain.payload, TaskPayload::Working), "{plain:?}");
    assert!(plain.task.status_message.unwrap_or_default().contains("waiting for approval"));

    // An answer to something the task did not ask is refused and records nothing.
    let stray: rmcp::model::InputResponses =
        serde_json::from_value(json!({format!("approval-{id}-99x"): {"action": "accept", "content": {"decision": "allow"}}})).unwrap();
    assert!(client.peer().update_task(UpdateTaskParams::new(id.clone(), stray)).await.is_err());
    let answer_file = home.job_dir(&id).join(format!("approval-{number}.answer.json"));
    assert!(!answer_file.exists());

    let allow: rmcp::model::InputResponses =
        serde_json::from_value(json!({key: {"action": "accept", "content": {"decision": "allow"}}})).unwrap();
    client.peer().update_task(UpdateTaskParams::new(id.clone(), allow)).await.expect("tasks/update");
    let answer: Value = serde_json::from_slice(&std::fs::read(&answer_file).unwrap()).unwrap();
    assert_eq!((answer["decision"].as_str(), answer["by"].as_str()), (Some("allow"), Some("mcp")));
    wait_until("the request to be taken", Duration::from_secs(20), || home.meta(&id).get("approval").is_none());
    assert!(matches!(task(&client).await.payload, TaskPayload::Working), "answered: working again");

    assert!(home.run(&["cancel", &id]).status.success());
    wait_until("the job to end", Duration::from_secs(30), || home.status(&id) != "running");
}
