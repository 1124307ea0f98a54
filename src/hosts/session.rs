//! One connected host: tool calls with their own deadlines, and what its codex-async
//! said it is. A failure names the host and says which kind it is (see [`HostError`]):
//! the host refused the request, lacks the tool (an older codex-async), dropped the
//! session, or answered something unusable.

use std::time::{Duration, Instant};

use rmcp::RoleClient;
use rmcp::model::{CallToolRequestParams, ClientRequest, ErrorCode, JsonObject, PingRequest, SubscribeRequestParams};
use rmcp::service::{RunningService, ServiceError};
use serde_json::Value;

use super::error::{HostError, shown};
use super::notes::{HostHandler, HostNote};
use super::stderr::StderrTail;

/// How long an ended command's last words are waited for.
const STDERR_GRACE: Duration = Duration::from_millis(500);

/// A connected host. Dropping it ends the session (and the host's command).
pub struct HostSession {
    name: String,
    client: RunningService<RoleClient, HostHandler>,
    notes: HostHandler,
    /// How long connecting took (the command's start and the handshake).
    pub connected_in: Duration,
    /// Ends the host's command with the session.
    _end_command: Option<tokio_util::sync::DropGuard>,
    /// Turns true when the host's command has exited (an SSH connection that dropped).
    command_gone: Option<tokio::sync::watch::Receiver<bool>>,
    stderr: StderrTail,
}

impl HostSession {
    pub(super) fn new(
        name: String,
        client: RunningService<RoleClient, HostHandler>,
        connected_in: Duration,
        child: Option<tokio::process::Child>,
        stderr: StderrTail,
    ) -> Self {
        let notes = client.service().clone();
        let (end_command, command_gone) = match child {
            Some(child) => {
                let (end, gone) = watch_command(child);
                (Some(end), Some(gone))
            }
            None => (None, None),
        };
        HostSession { name, client, notes, connected_in, _end_command: end_command, command_gone, stderr }
    }

    /// Returns once the host's command has exited, saying so with the last thing it
    /// said: a session over a command (ssh) that dropped is so known at once, not at
    /// the next ping. Never, for HTTP.
    pub async fn command_ended(&self) -> HostError {
        match self.command_gone.clone() {
            Some(mut gone) => {
                let _ = gone.wait_for(|gone| *gone).await;
            }
            None => std::future::pending().await,
        }
        self.stderr.settled(STDERR_GRACE).await;
        let said = self.stderr.last_line().map(|line| format!(" ({line})")).unwrap_or_default();
        self.lost(format!("its command ended{said}"))
    }

    /// Hears what the host sends unasked from now on (see [`HostNote`]).
    pub fn notes(&self) -> tokio::sync::broadcast::Receiver<HostNote> {
        self.notes.listen()
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The host's codex-async version, from the handshake (shown safely, bounded).
    pub fn version(&self) -> Option<String> {
        let info = self.client.peer_info()?;
        let server = info.server_info.as_ref()?;
        Some(format!("{} {}", shown(&server.name, 40), shown(&server.version, 40)))
    }

    /// Whether the session has ended (the command exited, the connection closed).
    pub fn is_closed(&self) -> bool {
        self.client.is_closed() || self.client.peer().is_transport_closed() || self.command_gone.as_ref().is_some_and(|gone| *gone.borrow())
    }

    /// One MCP ping: how long a message takes there and back.
    pub async fn round_trip(&self, deadline: Duration) -> Result<Duration, HostError> {
        let began = Instant::now();
        let ping = self.client.peer().send_request(ClientRequest::PingRequest(PingRequest::default()));
        match tokio::time::timeout(deadline, ping).await {
            Ok(Ok(_)) => Ok(began.elapsed()),
            Ok(Err(err)) => Err(self.failed("ping", err)),
            Err(_) => Err(self.lost(format!("no answer to a ping within {}", crate::human::show_duration(deadline)))),
        }
    }

    /// Asks the host to say when its list of jobs changes (as [`HostNote::ListChanged`]):
    /// codex-async tells a session that listed its resources.
    pub async fn hear_list_changes(&self, deadline: Duration) -> Result<(), HostError> {
        match tokio::time::timeout(deadline, self.client.peer().list_resources(None)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(err)) => Err(self.failed("resources/list", err)),
            Err(_) => Err(self.lost(format!("no answer to resources/list within {}", crate::human::show_duration(deadline)))),
        }
    }

    /// Asks the host to say when resource `uri` changes (as [`HostNote::ResourceUpdated`]).
    pub async fn subscribe(&self, uri: &str, deadline: Duration) -> Result<(), HostError> {
        // A host session is opened with the initialize handshake (2025-11-25), whose way
        // to hear of a resource is resources/subscribe (`listen` is 2026-07-28's).
        #[allow(deprecated)]
        let asked = self.client.peer().subscribe(SubscribeRequestParams::new(uri.to_owned()));
        match tokio::time::timeout(deadline, asked).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(err)) => Err(self.failed("resources/subscribe", err)),
            Err(_) => Err(self.lost(format!("no answer to resources/subscribe within {}", crate::human::show_duration(deadline)))),
        }
    }

    /// Calls `tool` with `arguments`; its structured answer (unchecked: see
    /// [`super::answers`]). A tool error (`isError`) is [`HostError::Refused`] with the
    /// host's message.
    pub async fn call(&self, tool: &str, arguments: JsonObject, deadline: Duration) -> Result<Value, HostError> {
        let params = CallToolRequestParams::new(tool.to_owned()).with_arguments(arguments);
        let result = match tokio::time::timeout(deadline, self.client.peer().call_tool(params)).await {
            Ok(Ok(result)) => result,
            Ok(Err(err)) => return Err(self.failed(tool, err)),
            Err(_) => return Err(self.lost(format!("no answer to {tool} within {}", crate::human::show_duration(deadline)))),
        };
        let text = result.content.first().and_then(|block| block.as_text()).map(|text| text.text.clone());
        if result.is_error == Some(true) {
            let message = text
                .as_deref()
                .and_then(|text| serde_json::from_str::<Value>(text).ok())
                .and_then(|value| value.get("error").and_then(Value::as_str).map(str::to_owned))
                .or(text)
                .unwrap_or_else(|| format!("{tool} failed"));
            return Err(HostError::Refused { host: self.name.clone(), message: shown(&message, 2000) });
        }
        match (result.structured_content, text) {
            (Some(value), _) => Ok(value),
            (None, Some(text)) => serde_json::from_str(&text).map_err(|_| self.bad(format!("{tool} answered text that is not JSON"))),
            (None, None) => Err(self.bad(format!("{tool} answered nothing"))),
        }
    }

    fn failed(&self, tool: &str, err: ServiceError) -> HostError {
        match err {
            // An older codex-async: what it lacks is named, the rest works.
            ServiceError::McpError(error) if error.code == ErrorCode::INVALID_PARAMS && error.message.contains("unknown tool") => {
                HostError::Missing {
                    host: self.name.clone(),
                    version: self.version().unwrap_or_else(|| "a codex-async of unknown version".to_owned()),
                    tool: tool.to_owned(),
                }
            }
            ServiceError::McpError(error) => HostError::Refused { host: self.name.clone(), message: shown(&error.message, 2000) },
            ServiceError::TransportClosed | ServiceError::TransportSend(_) | ServiceError::Cancelled { .. } => {
                let said = self.stderr.last_line().map(|line| format!(" ({line})")).unwrap_or_default();
                self.lost(format!("the session ended during {tool}{said}"))
            }
            ServiceError::UnexpectedResponse => self.bad(format!("{tool} answered with something other than a result")),
            other => self.lost(format!("{tool} failed: {}", shown(&other.to_string(), 300))),
        }
    }

    fn lost(&self, message: String) -> HostError {
        HostError::Lost { host: self.name.clone(), message }
    }

    fn bad(&self, message: String) -> HostError {
        HostError::BadAnswer { host: self.name.clone(), message }
    }

    /// An answer `check` refused, as this host's error.
    pub fn refused_answer(&self, message: String) -> HostError {
        self.bad(message)
    }
}

/// Waits on the host's command on a task of its own: the receiver turns true when it
/// exits; dropping the guard kills it (and it is killed when the runtime ends, too).
fn watch_command(mut child: tokio::process::Child) -> (tokio_util::sync::DropGuard, tokio::sync::watch::Receiver<bool>) {
    let (said, gone) = tokio::sync::watch::channel(false);
    let end = tokio_util::sync::CancellationToken::new();
    let ended = end.clone();
    tokio::spawn(async move {
        tokio::select! {
            _ = child.wait() => {}
            () = ended.cancelled() => {
                let _ = child.kill().await;
            }
        }
        let _ = said.send(true);
    });
    (end.drop_guard(), gone)
}
