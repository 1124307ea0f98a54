//! Reaching a host: its command started with MCP on its stdin and stdout (ssh, or any
//! command), or its streamable HTTP endpoint with the host's own token; the MCP
//! handshake within the host's connect deadline. An https host's certificate is checked
//! against the system's roots and the host's own `ca_file`; no redirect is followed (a
//! token goes only where the file says). When it fails, the message says why in
//! the words a person can act on: the command could not run, it ended (with the last
//! thing it said on stderr, as ssh says "Permission denied"), or it never answered.

use std::process::Stdio;
use std::time::{Duration, Instant};

use super::answers::MAX_ANSWER_BYTES;
use super::error::{HostError, shown};
use super::notes::HostHandler;
use super::session::HostSession;
use super::stderr::StderrTail;
use crate::config::{HostSpec, HostTransport};
use rmcp::ServiceExt;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::async_rw::AsyncRwTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;

/// The variable this machine's own token may be in: a host's command never inherits it.
const LOCAL_TOKEN_ENV: &str = "CODEX_ASYNC_TOKEN";
/// How long a command that broke the handshake is given to report its exit status.
const EXIT_GRACE: Duration = Duration::from_millis(500);

/// Connects to `spec`'s host and completes the MCP handshake within its connect deadline.
pub async fn connect(spec: &HostSpec) -> Result<HostSession, HostError> {
    let unreachable = |message: String| HostError::Unreachable { host: spec.name.clone(), message };
    let began = Instant::now();
    match &spec.transport {
        HostTransport::Command(argv) => {
            let Some((program, args)) = argv.split_first() else { return Err(unreachable("its command is empty".to_owned())) };
            let mut command = tokio::process::Command::new(program);
            command
                .args(args)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .env_remove(LOCAL_TOKEN_ENV)
                .kill_on_drop(true);
            let mut child = command.spawn().map_err(|err| unreachable(format!("cannot run {program:?}: {err}")))?;
            let (Some(stdout), Some(stdin)) = (child.stdout.take(), child.stdin.take()) else {
                return Err(unreachable("its command's stdio could not be opened".to_owned()));
            };
            let stderr = StderrTail::follow(child.stderr.take());
            let transport = AsyncRwTransport::new_client(stdout, stdin).with_max_line_length(MAX_ANSWER_BYTES);
            match tokio::time::timeout(spec.connect_timeout, HostHandler::new().serve(transport)).await {
                Ok(Ok(client)) => Ok(HostSession::new(spec.name.clone(), client, began.elapsed(), Some(child), stderr)),
                Ok(Err(err)) => {
                    let status = tokio::time::timeout(EXIT_GRACE, child.wait()).await.ok().and_then(Result::ok);
                    if status.is_some() {
                        stderr.settled(EXIT_GRACE).await;
                    }
                    let said = stderr.last_line().map(|line| format!(": {line}")).unwrap_or_default();
                    Err(unreachable(match status {
                        Some(status) => format!("its command ended before the MCP handshake ({status}){said}"),
                        None => format!("the MCP handshake failed ({}){said}", shown(&err.to_string(), 300)),
                    }))
                }
                Err(_) => {
                    let said = stderr.last_line().map(|line| format!("; it said: {line}")).unwrap_or_default();
                    Err(unreachable(format!(
                        "no MCP answer within {} (connect_timeout; is `codex-async serve` what the command runs?){said}",
                        crate::human::show_duration(spec.connect_timeout)
                    )))
                }
            }
        }
        HostTransport::Http { url, token_env, ca_file } => {
            let client = http_client(url, ca_file.as_deref()).map_err(unreachable)?;
            let mut config = StreamableHttpClientTransportConfig::with_uri(url.clone());
            config.max_sse_event_size = MAX_ANSWER_BYTES;
            if let Some(variable) = token_env {
                let token = std::env::var(variable).ok().map(|token| token.trim().to_owned()).filter(|token| !token.is_empty());
                let Some(token) = token else {
                    return Err(unreachable(format!("${variable} is not set: it holds the host's token (`codex-async token` there)")));
                };
                config = config.auth_header(token);
            }
            let transport = StreamableHttpClientTransport::with_client(client, config);
            match tokio::time::timeout(spec.connect_timeout, HostHandler::new().serve(transport)).await {
                Ok(Ok(client)) => Ok(HostSession::new(spec.name.clone(), client, began.elapsed(), None, StderrTail::default())),
                Ok(Err(err)) => {
                    // The transport's own error holds the cause (rmcp shows only its outer words).
                    let why = match &err {
                        rmcp::service::ClientInitializeError::TransportError { error, .. } => causes(error),
                        other => causes(other),
                    };
                    Err(unreachable(format!("the MCP handshake failed: {}", shown(&why, 600))))
                }
                Err(_) => Err(unreachable(format!(
                    "no MCP answer from {url} within {} (connect_timeout)",
                    crate::human::show_duration(spec.connect_timeout)
                ))),
            }
        }
    }
}

/// The HTTP client for one host: https only for an https URL (never downgraded), no
/// redirects, and the host's `ca_file` trusted besides the system's roots.
fn http_client(url: &str, ca_file: Option<&std::path::Path>) -> Result<reqwest::Client, String> {
    let mut builder = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).https_only(url.starts_with("https://"));
    if let Some(file) = ca_file {
        let shown = file.display();
        let pem = std::fs::read(file).map_err(|err| format!("its ca_file {shown} cannot be read: {err}"))?;
        let certificates =
            reqwest::Certificate::from_pem_bundle(&pem).map_err(|err| format!("its ca_file {shown} is not PEM certificates: {err}"))?;
        if certificates.is_empty() {
            return Err(format!("its ca_file {shown} holds no certificate"));
        }
        builder = builder.tls_certs_merge(certificates);
    }
    builder.build().map_err(|err| format!("its HTTP client could not be made: {err}"))
}

/// What went wrong, down to its first cause (a certificate refused deep in the TLS
/// layer, a connection refused), with a word on what to do about a certificate.
fn causes(err: &(dyn std::error::Error + 'static)) -> String {
    let mut said = vec![err.to_string()];
    let mut cause = next_cause(err);
    while let Some(next) = cause {
        let text = next.to_string();
        if !said.iter().any(|earlier| earlier.contains(&text)) {
            said.push(text);
        }
        cause = next_cause(next);
    }
    // The outer layers name rmcp's types and repeat the request; the first cause is
    // what a person acts on.
    let deepest = said.last().cloned().unwrap_or_default();
    let mut text = deepest.clone();
    if deepest.contains("certificate") {
        text.push_str("; if the host's certificate is signed by an authority of your own, name it in ca_file");
    }
    text
}

/// The error under `err`: its source, or the HTTP client's error that rmcp's transport
/// errors hold without naming it as one.
fn next_cause<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a (dyn std::error::Error + 'static)> {
    use rmcp::transport::streamable_http_client::StreamableHttpError;
    use rmcp::transport::worker::WorkerQuitReason;
    type HttpError = StreamableHttpError<reqwest::Error>;
    if let Some(StreamableHttpError::Client(client)) = err.downcast_ref::<HttpError>() {
        return Some(client);
    }
    if let Some(WorkerQuitReason::Fatal { error, .. }) = err.downcast_ref::<WorkerQuitReason<HttpError>>() {
        return Some(error);
    }
    err.source()
}
