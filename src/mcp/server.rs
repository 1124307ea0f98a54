//! The MCP handler: one per stdio connection or HTTP session, a thin client of the
//! job engine.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CancelTaskParams, CompleteRequestParams, CompleteResult, CreateTaskResult, GetTaskParams,
    GetTaskResult, Implementation, ListResourceTemplatesResult, ListResourcesResult, ListToolsResult, PaginatedRequestParams,
    ReadResourceRequestParams, ReadResourceResponse, ServerCapabilities, ServerConfig, SubscribeRequestParams, SubscriptionFilter,
    UnsubscribeRequestParams, UpdateTaskParams,
};
use rmcp::service::{RequestContext, RoleServer, SubscriptionContext};
use rmcp::{ErrorData as McpError, ServerHandler};
use tokio_util::sync::{CancellationToken, DropGuard};

use super::mrtr;
use super::resources;
use super::resources::hub::ChangeHub;
use super::resources::subscriptions::{self, LegacySubscriptions};
use super::settings::ServerSettings;
use super::tasks;
use super::tools::{self, ToolContext};
use crate::jobs::{Ceiling, EndCursor, Engine};

const INSTRUCTIONS: &str = "Runs coding-agent jobs (codex, Claude Code, Gemini CLI) in the background. Start one \
with codex_start (approval_policy 'auto-edit' to let it edit and run tests in cwd), then codex_wait on its job_id until \
it is no longer 'running' (call again while timed_out is true); codex_await_any for several jobs; codex_poll for a \
quick look; codex_reply to continue a finished job's conversation; codex_cancel to stop one. Each job's output and \
meta are also resources: codex-async://jobs/{job_id}/output and codex-async://jobs/{job_id}/meta.";

/// Serves the codex-async tools and resources over any rmcp transport.
#[derive(Clone)]
pub struct McpServer {
    inner: Arc<Inner>,
}

struct Inner {
    engine: Engine,
    settings: ServerSettings,
    /// The settings' policy ceiling, with the folders it guards resolved once.
    ceiling: Ceiling,
    /// Shared by all sessions of one HTTP endpoint: one watcher for all of them.
    hub: ChangeHub,
    legacy: LegacySubscriptions,
    /// The endings this session's `codex_await_any` already reported.
    endings: tokio::sync::Mutex<EndCursor>,
    /// Cancelled when the session ends: what it started for its client stops.
    session_over: CancellationToken,
    /// Seals multi-round-trip approval state (made on first use: it reads the home's secret).
    request_state: std::sync::OnceLock<Option<rmcp::model::RequestStateCodec>>,
    _end_with_session: DropGuard,
}

impl McpServer {
    /// A stdio server whose waits block at most `max_wait`.
    pub fn new(engine: Engine, max_wait: Duration) -> Self {
        Self::with_settings(engine, ServerSettings { max_wait, ..ServerSettings::default() })
    }

    /// `progress_interval`: how often a blocking wait reports progress (tests use a short one).
    pub fn with_progress_interval(engine: Engine, max_wait: Duration, progress_interval: Duration) -> Self {
        Self::with_settings(engine, ServerSettings { max_wait, progress_interval, ..ServerSettings::default() })
    }

    pub fn with_settings(engine: Engine, settings: ServerSettings) -> Self {
        let hub = ChangeHub::new(engine.feed().clone());
        Self::with_hub(engine, settings, hub)
    }

    pub(super) fn with_hub(engine: Engine, mut settings: ServerSettings, hub: ChangeHub) -> Self {
        settings.progress_interval = settings.progress_interval.max(Duration::from_millis(10));
        let legacy = LegacySubscriptions::default();
        let endings = tokio::sync::Mutex::new(EndCursor::new());
        let session_over = CancellationToken::new();
        let _end_with_session = session_over.clone().drop_guard();
        let ceiling = Ceiling::new(settings.max_policy, engine.store().home());
        let request_state = std::sync::OnceLock::new();
        McpServer {
            inner: Arc::new(Inner { engine, settings, ceiling, hub, legacy, endings, session_over, request_state, _end_with_session }),
        }
    }

    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    pub fn max_wait(&self) -> Duration {
        self.inner.settings.max_wait
    }

    /// How tasks are shown to this call's client.
    fn shown(&self, context: &RequestContext<RoleServer>) -> tasks::Shown {
        tasks::Shown { asks: mrtr::supported(context), retention: self.inner.settings.retention }
    }

    fn request_state_codec(&self) -> Option<&rmcp::model::RequestStateCodec> {
        self.inner
            .request_state
            .get_or_init(|| {
                mrtr::codec(self.inner.engine.store().home())
                    .map_err(|err| tracing::warn!(%err, "no key for multi-round-trip approvals; codex_approve answers instead"))
                    .ok()
            })
            .as_ref()
    }
}

impl ServerHandler for McpServer {
    fn get_info(&self) -> ServerConfig {
        // Prompts and completions are declared because they are answered (an empty list,
        // job ids for the templates): a 2026-07-28 server must not act on what it leaves
        // out of `server/discover`, and rmcp 3.11 refuses undeclared ones.
        let capabilities = ServerCapabilities::builder()
            .enable_completions()
            .enable_prompts()
            .enable_tools()
            .enable_resources()
            .enable_resources_subscribe()
            .enable_resources_list_changed()
            .enable_tasks()
            .build();
        ServerConfig::new(capabilities)
            .with_server_info(Implementation::new("codex-async", env!("CARGO_PKG_VERSION")))
            .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        let mut definitions = tools::definitions(self.max_wait(), &self.inner.settings.agents);
        tools::describe_hosts(&mut definitions, &self.inner.settings.hosts);
        Ok(ListToolsResult::with_all_items(definitions))
    }

    async fn call_tool(&self, request: CallToolRequestParams, context: RequestContext<RoleServer>) -> Result<CallToolResponse, McpError> {
        let tool = ToolContext {
            engine: &self.inner.engine,
            settings: &self.inner.settings,
            ceiling: &self.inner.ceiling,
            endings: &self.inner.endings,
        };
        // A client that takes tasks gets one for a job it starts: the job is the task.
        let as_task =
            tools::starts_a_job(&request.name) && context.client_capabilities().is_some_and(|capabilities| capabilities.supports_tasks());
        let peer = context.peer.clone();
        let shown = self.shown(&context);
        // A client that can ask its own user gets a waiting approval as input_required.
        // A host's job waits for approval over there: its request comes back in the answer
        // (and codex_approve with NAME:ID answers it), not as this server's input_required.
        let asks = tools::asks_through_client(&request.name) && !tools::for_a_host(request.arguments.as_ref());
        let codec = (asks && mrtr::supported(&context)).then(|| self.request_state_codec()).flatten();
        let mut dismissed = false;
        if let (Some(codec), Some(state)) = (codec, request.request_state.as_deref()) {
            let job_id =
                request.arguments.as_ref().and_then(|arguments| arguments.get("job_id")).and_then(|id| id.as_str()).unwrap_or_default();
            dismissed = mrtr::take_answer(&self.inner.engine, codec, job_id, state, request.input_responses.as_ref())?;
        }
        // A bug in a tool must come back as a failed call, not take the session down.
        let call = AssertUnwindSafe(tools::call(&tool, &request.name, request.arguments, context)).catch_unwind().await;
        match call {
            Ok(Ok(result)) if as_task => match tasks::created(&self.inner.engine, &result, shown) {
                Some(task) => {
                    if let Ok(id) = crate::jobs::JobId::parse(&task.task.task_id) {
                        tasks::notify_on_end(self.inner.engine.clone(), id, shown, peer, self.inner.session_over.child_token());
                    }
                    Ok(CallToolResponse::Task(CreateTaskResult::new(task.task)))
                }
                None => Ok(CallToolResponse::from(result)),
            },
            Ok(Ok(result)) if codec.is_some() && !dismissed => match codec.and_then(|codec| mrtr::ask(codec, &result)) {
                Some(input) => Ok(CallToolResponse::InputRequired(input)),
                None => Ok(CallToolResponse::from(result)),
            },
            Ok(result) => result.map(CallToolResponse::from),
            Err(panic) => {
                let what = panic.downcast_ref::<&str>().copied().or_else(|| panic.downcast_ref::<String>().map(String::as_str));
                tracing::error!(tool = %request.name, panic = what.unwrap_or("?"), "a tool panicked");
                Ok(tools::error_result(&format!("internal error in {}: {}", request.name, what.unwrap_or("panic"))).into())
            }
        }
    }

    async fn complete(&self, request: CompleteRequestParams, _context: RequestContext<RoleServer>) -> Result<CompleteResult, McpError> {
        let engine = self.inner.engine.clone();
        tokio::task::spawn_blocking(move || resources::complete::complete(&engine, &request))
            .await
            .map_err(|err| McpError::internal_error(err.to_string(), None))?
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        // A client that lists resources wants to hear when the list changes.
        self.inner.legacy.ensure_started(&self.inner.hub, &context.peer);
        resources::list(self.engine())
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, McpError> {
        Ok(resources::templates())
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        resources::read(self.engine(), &request.uri).map(ReadResourceResponse::from)
    }

    fn accepted_subscription_filter(&self, requested: &SubscriptionFilter) -> Option<SubscriptionFilter> {
        Some(subscriptions::accepted_filter(requested))
    }

    async fn listen(&self, context: SubscriptionContext) -> Result<(), McpError> {
        subscriptions::listen(&self.inner.hub, &self.inner.legacy, context).await
    }

    async fn get_task(&self, request: GetTaskParams, context: RequestContext<RoleServer>) -> Result<GetTaskResult, McpError> {
        let engine = self.inner.engine.clone();
        let shown = self.shown(&context);
        let task = tokio::task::spawn_blocking(move || tasks::detailed_for(&engine, &request.task_id, shown))
            .await
            .map_err(|err| McpError::internal_error(err.to_string(), None))??;
        Ok(GetTaskResult::new(task))
    }

    async fn update_task(&self, request: UpdateTaskParams, _context: RequestContext<RoleServer>) -> Result<(), McpError> {
        // The answers to the approvals an `input_required` task asked for.
        let engine = self.inner.engine.clone();
        tokio::task::spawn_blocking(move || tasks::update(&engine, &request.task_id, &request.input_responses))
            .await
            .map_err(|err| McpError::internal_error(err.to_string(), None))?
    }

    async fn cancel_task(&self, request: CancelTaskParams, _context: RequestContext<RoleServer>) -> Result<(), McpError> {
        tasks::detailed(&self.inner.engine, &request.task_id)?;
        self.inner
            .engine
            .cancel(&request.task_id, self.inner.settings.cancel_grace)
            .await
            .map(|_| ())
            .map_err(|err| McpError::internal_error(err.to_string(), None))
    }

    #[allow(deprecated)]
    async fn subscribe(&self, request: SubscribeRequestParams, context: RequestContext<RoleServer>) -> Result<(), McpError> {
        self.inner.legacy.subscribe(&request.uri)?;
        self.inner.legacy.ensure_started(&self.inner.hub, &context.peer);
        Ok(())
    }

    #[allow(deprecated)]
    async fn unsubscribe(&self, request: UnsubscribeRequestParams, _context: RequestContext<RoleServer>) -> Result<(), McpError> {
        self.inner.legacy.unsubscribe(&request.uri);
        Ok(())
    }
}
