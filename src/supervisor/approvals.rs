//! A job's approval endpoint: the hidden `__approvals <job id>` subcommand, an MCP
//! server over stdio with one tool, `approve`, that the job's Claude Code starts (its
//! `--mcp-config`) and calls for each permission prompt (`--permission-prompt-tool
//! mcp__codex-async-approvals__approve`).
//!
//! Claude Code calls it with `{"tool_name", "input", "tool_use_id"}` and expects one text
//! block holding `{"behavior":"allow","updatedInput":{…}}` or
//! `{"behavior":"deny","message":"…"}` (measured with Claude Code 2.1.197; see
//! docs/agents.md). Each call becomes a request file in the job's folder and waits —
//! woken by the change feed, not by polling — for the answer a person gives from the
//! dashboard, the CLI or an MCP client, or until `approval_timeout` denies it. The
//! endpoint keeps nothing in memory that matters: a restarted endpoint asked the same
//! tool call again finds its request, and its answer if it has one.

use std::collections::BTreeSet;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, ListToolsResult, PaginatedRequestParams, ServerCapabilities,
    ServerConfig, Tool,
};
use rmcp::service::{RequestContext, RoleServer};
use rmcp::{ErrorData as McpError, ServerHandler, ServiceExt};
use serde_json::{Map, Value, json};

use crate::jobs::approval::{self, Answerer, ApprovalAnswer, Decision, Question};
use crate::jobs::{Engine, JobError, JobId};

/// Longest tool name taken (Claude's are short; an MCP tool's is `mcp__server__tool`).
const MAX_TOOL_NAME: usize = 200;

#[derive(Clone)]
struct Endpoint {
    engine: Engine,
    id: JobId,
    timeout: Duration,
    /// Requests this process waits on, answered `cancel` if it is stopped meanwhile.
    waiting: Arc<Mutex<BTreeSet<u32>>>,
}

/// Entry point of `__approvals <job id>`; stdout is the MCP channel.
pub fn main(raw_id: &str) -> ExitCode {
    let engine = match Engine::from_env() {
        Ok(engine) => engine,
        Err(err) => {
            eprintln!("codex-async __approvals: {err}");
            return ExitCode::FAILURE;
        }
    };
    crate::logging::init(&engine.store().logs_dir(), crate::logging::Role::Command);
    let id = match engine.store().existing(raw_id) {
        Ok(id) if id.as_str() == raw_id => id,
        Ok(_) | Err(_) => {
            eprintln!("codex-async __approvals: no job {raw_id:?} in this home");
            return ExitCode::FAILURE;
        }
    };
    let timeout = crate::config::Settings::load(engine.store().home(), &crate::config::Flags::default())
        .map(|settings| settings.approval_timeout.value)
        .unwrap_or(approval::DEFAULT_TIMEOUT);
    let endpoint = Endpoint { engine, id, timeout, waiting: Arc::default() };
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("codex-async __approvals: {err}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(serve(endpoint))
}

async fn serve(endpoint: Endpoint) -> ExitCode {
    let waiting = endpoint.waiting.clone();
    let (engine, id) = (endpoint.engine.clone(), endpoint.id.clone());
    let running = match endpoint.serve(rmcp::transport::io::stdio()).await {
        Ok(running) => running,
        Err(err) => {
            tracing::warn!(%err, "the approval endpoint could not start");
            return ExitCode::FAILURE;
        }
    };
    let stopped = async {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
            return std::future::pending().await;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    };
    tokio::select! {
        _ = running.waiting() => {}
        () = stopped => {
            // The job is being stopped: what still waits is denied as such, so no request
            // is left looking unanswered.
            let numbers: Vec<u32> = waiting.lock().unwrap_or_else(PoisonError::into_inner).iter().copied().collect();
            for number in numbers {
                let answer = ApprovalAnswer::new(Decision::Deny, None, false, Answerer::Cancel);
                let _ = approval::answer(engine.store(), &id, Some(number), answer);
            }
        }
    }
    ExitCode::SUCCESS
}

fn approve_tool() -> Tool {
    let schema = json!({
        "type": "object",
        "properties": {
            "tool_name": {"type": "string", "description": "The tool the agent wants to run."},
            "input": {"type": "object", "description": "The tool's input."},
            "tool_use_id": {"type": "string", "description": "The agent's id of this tool call."}
        },
        "required": ["tool_name", "input"]
    });
    let schema = match schema {
        Value::Object(schema) => schema,
        _ => Map::new(),
    };
    Tool::new(
        crate::jobs::agent::command::APPROVAL_TOOL,
        "Asks a person whether the agent may run a tool with this input; waits for the answer.",
        Arc::new(schema),
    )
}

/// Claude Code's answer: one text block holding the decision as JSON.
fn reply(answer: &ApprovalAnswer) -> CallToolResult {
    let decision = match answer.decision {
        Decision::Allow => json!({"behavior": "allow", "updatedInput": {}}),
        Decision::Deny => json!({"behavior": "deny", "message": answer.denial_message()}),
    };
    CallToolResult::success(vec![ContentBlock::text(decision.to_string())])
}

impl Endpoint {
    async fn decide(&self, arguments: Map<String, Value>) -> Result<ApprovalAnswer, JobError> {
        let store = self.engine.store();
        let tool_name = arguments.get("tool_name").and_then(Value::as_str).unwrap_or_default();
        if tool_name.is_empty() || tool_name.len() > MAX_TOOL_NAME {
            return Err(JobError::BadRequest("tool_name must be a tool's name".to_owned()));
        }
        let input = arguments.get("input").cloned().unwrap_or_else(|| json!({}));
        let tool_use_id = arguments.get("tool_use_id").and_then(Value::as_str).filter(|id| id.len() <= MAX_TOOL_NAME);
        let reason = ["reason", "description"].iter().find_map(|key| arguments.get(*key).and_then(Value::as_str));
        let question = Question { tool_name, input, tool_use_id, reason, timeout: self.timeout };
        if approval::always_allowed(store, &self.id, tool_name)? {
            let request = approval::ask(store, &self.id, question)?;
            let always = ApprovalAnswer::new(Decision::Allow, None, false, Answerer::Always);
            return Ok(match approval::answer(store, &self.id, Some(request.number), always.clone()) {
                Ok(answered) => answered.answer,
                Err(_) => approval::read_answer(store, &self.id, request.number).unwrap_or(always),
            });
        }
        let request = approval::ask(store, &self.id, question)?;
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner).insert(request.number);
        let answered = approval::wait::answer(self.engine.feed(), &self.id, request.number, request.deadline).await;
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner).remove(&request.number);
        if let Some(answer) = answered? {
            return Ok(answer);
        }
        // Nobody answered in time: denied, unless an answer lands at this very moment.
        let timed_out = ApprovalAnswer::new(Decision::Deny, None, false, Answerer::Timeout);
        Ok(match approval::answer(store, &self.id, Some(request.number), timed_out.clone()) {
            Ok(answered) => answered.answer,
            Err(_) => approval::read_answer(store, &self.id, request.number).unwrap_or(timed_out),
        })
    }
}

impl ServerHandler for Endpoint {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(rmcp::model::Implementation::new("codex-async-approvals", env!("CARGO_PKG_VERSION")))
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        Ok(ListToolsResult::with_all_items(vec![approve_tool()]))
    }

    async fn call_tool(&self, request: CallToolRequestParams, _context: RequestContext<RoleServer>) -> Result<CallToolResponse, McpError> {
        if request.name != crate::jobs::agent::command::APPROVAL_TOOL {
            return Err(McpError::invalid_params(format!("unknown tool {:?}: this endpoint has `approve`", request.name), None));
        }
        match self.decide(request.arguments.unwrap_or_default()).await {
            Ok(answer) => Ok(reply(&answer).into()),
            // Claude Code treats an error as "not allowed" and tells the model.
            Err(err) => {
                Ok(CallToolResult::error(vec![ContentBlock::text(format!("codex-async could not ask for approval: {err}"))]).into())
            }
        }
    }
}
