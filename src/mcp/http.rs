//! Streamable HTTP at `/mcp`, with the checks an endpoint that runs agents on this
//! machine needs: loopback unless told otherwise, Host and Origin validation
//! against DNS rebinding, a bearer token (on by default), a body size limit, and
//! JSON-RPC errors for messages rmcp would answer badly.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use rmcp::service::{RoleServer, RxJsonRpcMessage};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use super::hub::ChangeHub;
use super::registration::ServerFile;
use super::server::McpServer;
use super::settings::{ServerSettings, Transport};
use super::token::Auth;
use super::wire::{self, ReplyKind, Verdict};
use crate::jobs::Engine;

/// A prompt is at most 10 MiB; with JSON escaping and the rest of the request, this is
/// room enough. Anything beyond is not ours.
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

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
             Use 127.0.0.1, or pass --allow-remote (the bearer token then protects it)",
            options.addr
        );
    }
    if !options.auth.required() {
        anyhow::bail!("--no-auth is for loopback addresses only: a remote endpoint without a token would let anyone run agents here");
    }
    Ok(())
}

/// How to serve streamable HTTP.
#[derive(Clone, Debug)]
pub struct HttpOptions {
    pub addr: SocketAddr,
    /// The bearer token check (on by default).
    pub auth: Arc<Auth>,
    pub allow_remote: bool,
    /// Limits and defaults of the sessions (served as [`Transport::Http`]).
    pub settings: ServerSettings,
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
    let settings = ServerSettings { transport: Transport::Http, ..options.settings.clone() };
    let factory_engine = engine.clone();
    let hub = ChangeHub::new(engine.feed().clone());
    let new_session = move || Ok(McpServer::with_hub(factory_engine.clone(), settings.clone(), hub.clone()));
    let service = StreamableHttpService::new(new_session, Arc::new(sessions), config);
    let token_required = options.auth.required();
    let router = Router::new()
        .nest_service("/mcp", service)
        .layer(middleware::from_fn(check_messages))
        .layer(middleware::from_fn_with_state(options.auth.clone(), require_token));

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

fn json_response(status: StatusCode, body: &serde_json::Value, extra: Option<(header::HeaderName, &'static str)>) -> Response {
    let mut response = (status, [(header::CONTENT_TYPE, "application/json")], format!("{body}\n")).into_response();
    if let Some((name, value)) = extra {
        response.headers_mut().insert(name, header::HeaderValue::from_static(value));
    }
    response
}

async fn require_token(State(auth): State<Arc<Auth>>, request: Request, next: Next) -> Response {
    let given = request.headers().get(header::AUTHORIZATION).and_then(|value| value.to_str().ok());
    let bearer = given.and_then(|value| value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer "))).map(str::trim);
    if auth.accepts(bearer) {
        return next.run(request).await;
    }
    let message = format!(
        "unauthorized: {} the header `Authorization: Bearer <token>`; {}",
        if given.is_some() { "the token in" } else { "send" },
        auth.hint()
    );
    let body = serde_json::json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32001, "message": message}});
    json_response(StatusCode::UNAUTHORIZED, &body, Some((header::WWW_AUTHENTICATE, "Bearer")))
}

/// Answers messages rmcp would drop or answer badly (see [`super::wire`]); passes the rest.
async fn check_messages(request: Request, next: Next) -> Response {
    if request.method() != axum::http::Method::POST {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(bytes) => bytes,
        Err(_) => {
            let body = serde_json::json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32600,
                "message": format!("invalid request: the body is larger than {MAX_BODY_BYTES} bytes")}});
            return json_response(StatusCode::PAYLOAD_TOO_LARGE, &body, None);
        }
    };
    let verdict = match wire::parse(&bytes) {
        Ok(value) => match wire::check_value(&value) {
            Verdict::Pass => match RxJsonRpcMessage::<RoleServer>::deserialize(&value) {
                Ok(message) => wire::check_read(&message),
                // rmcp answers what it cannot read at all.
                Err(_) => Verdict::Pass,
            },
            reply => reply,
        },
        Err(reply) => reply,
    };
    match verdict {
        Verdict::Pass => next.run(Request::from_parts(parts, axum::body::Body::from(bytes))).await,
        Verdict::Reply { status, body } => {
            let status = match status {
                ReplyKind::ParseError | ReplyKind::InvalidRequest => StatusCode::BAD_REQUEST,
                ReplyKind::MethodNotFound | ReplyKind::InvalidParams => StatusCode::OK,
            };
            json_response(status, &body, None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(addr: &str, auth: Auth, allow_remote: bool) -> HttpOptions {
        HttpOptions { addr: addr.parse().unwrap(), auth: Arc::new(auth), allow_remote, settings: ServerSettings::default() }
    }

    #[test]
    fn remote_binds_need_the_flag_and_a_token() {
        let token = || Auth::Fixed("t".into());
        assert!(check_bind(&options("127.0.0.1:0", Auth::Off, false)).is_ok());
        assert!(check_bind(&options("[::1]:0", Auth::Off, false)).is_ok());
        assert!(check_bind(&options("0.0.0.0:0", token(), false)).is_err());
        assert!(check_bind(&options("0.0.0.0:0", Auth::Off, true)).unwrap_err().to_string().contains("--no-auth"));
        assert!(check_bind(&options("0.0.0.0:0", token(), true)).is_ok());
    }
}
