//! Streamable HTTP at `/mcp`, with the checks an endpoint that runs agents on this
//! machine needs: loopback unless told otherwise, Host and Origin validation
//! against DNS rebinding, an optional bearer token, and a body size limit.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tokio_util::sync::CancellationToken;

use super::hub::ChangeHub;
use super::registration::ServerFile;
use super::server::{McpServer, PROGRESS_INTERVAL};
use crate::jobs::Engine;

/// A prompt is at most 128 KiB; JSON escaping can double it. Anything far beyond is not ours.
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// rmcp closes a session after 5 idle minutes by default, which would break an
/// agent that thinks for a while between `codex_wait` calls. Sessions still end
/// when the client deletes them or the server stops; this only reaps the ones
/// whose client vanished without a word.
pub const SESSION_IDLE_TIMEOUT: Duration = Duration::from_secs(24 * 60 * 60);

const LOOPBACK_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// Browser pages served from this machine may call us; any other origin may not.
const LOOPBACK_ORIGINS: [&str; 6] =
    ["http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*", "https://localhost:*", "https://127.0.0.1:*", "https://[::1]:*"];

/// Refuses what would expose agents to the network by accident.
pub fn check_bind(options: &HttpOptions) -> anyhow::Result<()> {
    if options.addr.ip().is_loopback() {
        return Ok(());
    }
    if !options.allow_remote {
        anyhow::bail!(
            "refusing to serve MCP on {}: it is not a loopback address, and this endpoint runs agents on this machine. \
             Use 127.0.0.1, or pass --allow-remote together with --token (or CODEX_ASYNC_TOKEN)",
            options.addr
        );
    }
    if options.token.as_deref().is_none_or(|token| token.trim().is_empty()) {
        anyhow::bail!("--allow-remote needs a token: pass --token or set CODEX_ASYNC_TOKEN, so strangers cannot run agents here");
    }
    Ok(())
}

/// How to serve streamable HTTP.
#[derive(Clone, Debug)]
pub struct HttpOptions {
    pub addr: SocketAddr,
    pub token: Option<String>,
    pub allow_remote: bool,
    /// The longest one `codex_wait` call may block.
    pub max_wait: Duration,
}

/// A running HTTP endpoint; it stops when the shutdown token is cancelled.
pub struct HttpServer {
    /// For example `http://127.0.0.1:8765/mcp`.
    pub url: String,
    pub local_addr: SocketAddr,
    pub task: tokio::task::JoinHandle<()>,
}

fn allowed_hosts(addr: SocketAddr) -> Option<Vec<String>> {
    let mut hosts: Vec<String> = LOOPBACK_HOSTS.iter().map(|host| (*host).to_owned()).collect();
    match addr.ip() {
        ip if ip.is_loopback() => {}
        // Any name may reach a wildcard bind; the token is what protects it then.
        ip if ip.is_unspecified() => return None,
        IpAddr::V4(ip) => hosts.push(ip.to_string()),
        IpAddr::V6(ip) => hosts.push(ip.to_string()),
    }
    Some(hosts)
}

/// Binds and serves MCP over streamable HTTP in the background of the current runtime.
/// A taken port, or a non-loopback address without `allow_remote` and a token, is an error.
pub async fn serve(engine: Engine, options: HttpOptions, shutdown: CancellationToken) -> anyhow::Result<HttpServer> {
    check_bind(&options)?;
    let listener = tokio::net::TcpListener::bind(options.addr)
        .await
        .with_context(|| format!("cannot listen on {} (is another server using the port?)", options.addr))?;
    let local_addr = listener.local_addr().context("reading the bound address")?;
    let url = format!("http://{local_addr}/mcp");

    let mut config = StreamableHttpServerConfig::default()
        .with_allowed_origins(LOOPBACK_ORIGINS)
        .enforce_origin_validation()
        .with_max_request_body_bytes(MAX_BODY_BYTES)
        .with_cancellation_token(shutdown.child_token());
    config = match allowed_hosts(local_addr) {
        Some(hosts) => config.with_allowed_hosts(hosts),
        None => config.disable_allowed_hosts(),
    };
    let mut sessions = LocalSessionManager::default();
    sessions.session_config.keep_alive = Some(SESSION_IDLE_TIMEOUT);
    let max_wait = options.max_wait;
    let factory_engine = engine.clone();
    let hub = ChangeHub::new(engine.feed().clone());
    let new_session = move || Ok(McpServer::with_hub(factory_engine.clone(), max_wait, PROGRESS_INTERVAL, hub.clone()));
    let service = StreamableHttpService::new(new_session, Arc::new(sessions), config);
    let token: Option<Arc<str>> = options.token.as_deref().filter(|token| !token.is_empty()).map(Arc::from);
    let token_required = token.is_some();
    let router = Router::new().nest_service("/mcp", service).layer(middleware::from_fn_with_state(token, require_token));

    let registration = ServerFile::write(engine.store(), &url, token_required);
    let task = tokio::spawn(async move {
        let _registration = registration;
        let stopped = shutdown.clone();
        if let Err(err) = axum::serve(listener, router).with_graceful_shutdown(stopped.cancelled_owned()).await {
            tracing::error!(%err, "the MCP HTTP endpoint stopped");
        }
    });
    tracing::info!(%url, token_required, "serving MCP over streamable HTTP");
    Ok(HttpServer { url, local_addr, task })
}

async fn require_token(State(token): State<Option<Arc<str>>>, request: Request, next: Next) -> Response {
    if let Some(expected) = token {
        let given = request.headers().get(header::AUTHORIZATION).and_then(|value| value.to_str().ok());
        let bearer = given.and_then(|value| value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")));
        if !bearer.is_some_and(|bearer| same_secret(bearer.trim().as_bytes(), expected.as_bytes())) {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                "Unauthorized: send Authorization: Bearer <token> (the server's --token or CODEX_ASYNC_TOKEN)\n",
            )
                .into_response();
        }
    }
    next.run(request).await
}

/// Compares without stopping at the first difference, so timing does not leak the token.
fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    let mut difference = given.len() ^ expected.len();
    for (index, byte) in expected.iter().enumerate() {
        difference |= usize::from(given.get(index).copied().unwrap_or(0) ^ byte);
    }
    difference == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(addr: &str, token: Option<&str>, allow_remote: bool) -> HttpOptions {
        HttpOptions { addr: addr.parse().unwrap(), token: token.map(str::to_owned), allow_remote, max_wait: Duration::from_secs(45) }
    }

    #[test]
    fn remote_binds_need_the_flag_and_a_token() {
        assert!(check_bind(&options("127.0.0.1:0", None, false)).is_ok());
        assert!(check_bind(&options("[::1]:0", None, false)).is_ok());
        assert!(check_bind(&options("0.0.0.0:0", Some("t"), false)).is_err());
        assert!(check_bind(&options("0.0.0.0:0", None, true)).is_err());
        assert!(check_bind(&options("0.0.0.0:0", Some(" "), true)).is_err());
        assert!(check_bind(&options("0.0.0.0:0", Some("t"), true)).is_ok());
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret(b"abc", b"abc"));
        assert!(!same_secret(b"abd", b"abc"));
        assert!(!same_secret(b"ab", b"abc"));
        assert!(!same_secret(b"abcd", b"abc"));
        assert!(!same_secret(b"", b"abc"));
    }
}
