//! Streamable HTTP at `/mcp`, with the checks an endpoint that runs agents on this
//! machine needs: loopback unless told otherwise, Host and Origin validation
//! against DNS rebinding, a bearer token (on by default) — or, without one, only
//! processes of the same user and no web page at all — a body size limit, and
//! JSON-RPC errors for messages rmcp would answer badly. Connections and sessions are
//! bounded (see [`connections`] and [`sessions`]). Over TCP, or over a Unix socket
//! (`--http unix:PATH`, see [`unix`]).

mod connections;
mod peer;
mod sessions;
mod unix;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
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

pub use connections::{HEADER_READ_TIMEOUT, MAX_CONNECTIONS, connection_cap};
pub use sessions::MAX_SESSIONS;

use super::registration::ServerFile;
use super::resources::hub::ChangeHub;
use super::server::McpServer;
use super::settings::{ServerSettings, Transport};
use super::token::Auth;
use super::wire::{self, ReplyKind, Verdict};
use crate::jobs::Engine;
use connections::{Admission, Limits};

/// A prompt is at most 10 MiB; with JSON escaping and the rest of the request, this is
/// room enough. Anything beyond is not ours.
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// How long a request's body may take to arrive once its headers have: 16 MiB takes
/// milliseconds over loopback, and seconds over a slow link. A client that trickles it
/// holds a connection and a buffer no longer than this.
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// rmcp closes a session after 5 idle minutes by default, which would break an
/// agent that thinks for a while between `codex_wait` calls. Sessions still end
/// when the client deletes them or the server stops, or when [`MAX_SESSIONS`] are open
/// and a new one comes; this only reaps the ones whose client vanished without a word.
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

/// How to serve streamable HTTP over TCP.
#[derive(Clone, Debug)]
pub struct HttpOptions {
    pub addr: SocketAddr,
    /// The bearer token check (on by default).
    pub auth: Arc<Auth>,
    pub allow_remote: bool,
    /// Limits and defaults of the sessions (served as [`Transport::Http`]).
    pub settings: ServerSettings,
}

/// How to serve streamable HTTP over a Unix socket.
#[derive(Clone, Debug)]
pub struct UnixOptions {
    pub path: PathBuf,
    pub auth: Arc<Auth>,
    pub settings: ServerSettings,
}

/// A running HTTP endpoint; it stops when the shutdown token is cancelled.
pub struct HttpServer {
    /// For example `http://127.0.0.1:8765/mcp`, or `unix:/run/user/1000/codex-async.sock`.
    pub url: String,
    /// The TCP address, or for a Unix socket `0.0.0.0:0`.
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

/// The router every transport serves: the token check (and, without a token, the
/// refusal of web pages), the message checks, and rmcp's service with a session cap.
/// The origins a page served by this very server would have: the loopback names it
/// answers to, with its port. It serves no page, so no page has one — unless one was
/// served on the same port before this server bound it (a tab left open on an old dev
/// server). A port the system picked (`:0`) makes that a coincidence nobody can arrange,
/// so only then are these origins taken without a token.
fn own_origins(hosts: &[String], port: u16) -> Vec<String> {
    hosts.iter().map(|host| if host.contains(':') { format!("http://[{host}]:{port}") } else { format!("http://{host}:{port}") }).collect()
}

/// The token check's state: the token, and the origins taken without one.
struct Gate {
    auth: Arc<Auth>,
    own_origins: Vec<String>,
}

fn router(
    engine: &Engine,
    auth: Arc<Auth>,
    settings: &ServerSettings,
    hosts: Option<Vec<String>>,
    picked_port: Option<u16>,
    shutdown: &CancellationToken,
) -> Router {
    let own_origins = match (&hosts, picked_port) {
        (Some(hosts), Some(port)) => own_origins(hosts, port),
        _ => Vec::new(),
    };
    let mut config = StreamableHttpServerConfig::default()
        .with_allowed_origins(LOOPBACK_ORIGINS)
        .enforce_origin_validation()
        .with_max_request_body_bytes(MAX_BODY_BYTES)
        .with_cancellation_token(shutdown.child_token());
    config = match hosts {
        Some(hosts) => config.with_allowed_hosts(hosts),
        None => config.disable_allowed_hosts(),
    };
    let mut local = LocalSessionManager::default();
    local.session_config.keep_alive = Some(SESSION_IDLE_TIMEOUT);
    let sessions = sessions::BoundedSessions::new(local, MAX_SESSIONS);
    let settings = ServerSettings { transport: Transport::Http, ..settings.clone() };
    let factory_engine = engine.clone();
    let hub = ChangeHub::new(engine.feed().clone());
    let new_session = move || Ok(McpServer::with_hub(factory_engine.clone(), settings.clone(), hub.clone()));
    let service = StreamableHttpService::new(new_session, Arc::new(sessions), config);
    Router::new()
        .nest_service("/mcp", service)
        .layer(middleware::from_fn(check_messages))
        .layer(middleware::from_fn_with_state(Arc::new(Gate { auth, own_origins }), require_token))
}

/// The limits every transport serves with: the open-files limit is raised first, and
/// the connection cap follows from it.
fn limits() -> Limits {
    let open_files = crate::open_files::raise();
    let limits = Limits { max_connections: connection_cap(open_files), header_read_timeout: HEADER_READ_TIMEOUT };
    tracing::debug!(open_files, max_connections = limits.max_connections, "HTTP limits");
    limits
}

fn admission(auth: &Auth) -> Admission {
    if auth.required() { Admission::Anyone } else { Admission::SameUser(peer::own_uid()) }
}

/// Binds and serves MCP over streamable HTTP in the background of the current runtime.
/// A taken port, or a non-loopback address without `allow_remote` and a token, is an error.
pub async fn serve(engine: Engine, options: HttpOptions, shutdown: CancellationToken) -> anyhow::Result<HttpServer> {
    check_bind(&options)?;
    let limits = limits();
    let listener = tokio::net::TcpListener::bind(options.addr)
        .await
        .with_context(|| format!("cannot listen on {} (is another server using the port?)", options.addr))?;
    let local_addr = listener.local_addr().context("reading the bound address")?;
    let url = format!("http://{local_addr}/mcp");
    let picked_port = (options.addr.port() == 0 && local_addr.ip().is_loopback()).then_some(local_addr.port());
    let router = router(&engine, options.auth.clone(), &options.settings, allowed_hosts(local_addr), picked_port, &shutdown);
    let token_required = options.auth.required();
    let admission = admission(&options.auth);
    let registration = ServerFile::write(engine.store(), &url, None, token_required);
    let task = tokio::spawn(async move {
        let _registration = registration;
        connections::run(listener, router, limits, admission, shutdown).await;
    });
    tracing::info!(%url, token_required, "serving MCP over streamable HTTP");
    Ok(HttpServer { url, local_addr, task })
}

/// Serves MCP over streamable HTTP on a Unix socket at `options.path` (see [`unix`]);
/// the socket goes when the server stops.
pub async fn serve_unix(engine: Engine, options: UnixOptions, shutdown: CancellationToken) -> anyhow::Result<HttpServer> {
    let limits = limits();
    let (listener, socket) = unix::bind(&options.path)?;
    let url = format!("unix:{}", options.path.display());
    let hosts = Some(LOOPBACK_HOSTS.iter().map(|host| (*host).to_owned()).collect());
    let router = router(&engine, options.auth.clone(), &options.settings, hosts, None, &shutdown);
    let token_required = options.auth.required();
    let admission = admission(&options.auth);
    let registration = ServerFile::write(engine.store(), "http://localhost/mcp", Some(&options.path), token_required);
    let task = tokio::spawn(async move {
        let _registration = registration;
        let _socket = socket;
        connections::run(listener, router, limits, admission, shutdown).await;
    });
    tracing::info!(%url, token_required, "serving MCP over streamable HTTP on a Unix socket");
    Ok(HttpServer { url, local_addr: SocketAddr::from(([0, 0, 0, 0], 0)), task })
}

fn json_response(status: StatusCode, body: &serde_json::Value, extra: Option<(header::HeaderName, &'static str)>) -> Response {
    let mut response = (status, [(header::CONTENT_TYPE, "application/json")], format!("{body}\n")).into_response();
    if let Some((name, value)) = extra {
        response.headers_mut().insert(name, header::HeaderValue::from_static(value));
    }
    response
}

/// The bearer token; without one (`--no-auth`), no request from a web page: any page a
/// browser shows could otherwise start agents here. (This server's own origin on a port
/// the system picked is no page's: see [`own_origins`].)
async fn require_token(State(gate): State<Arc<Gate>>, request: Request, next: Next) -> Response {
    let auth = &gate.auth;
    let from_a_page = request.headers().get(header::ORIGIN).is_some_and(|origin| {
        let origin = origin.to_str().unwrap_or_default();
        !gate.own_origins.iter().any(|own| own.eq_ignore_ascii_case(origin))
    });
    if !auth.required() && from_a_page {
        let message = "forbidden: this endpoint runs without a token (--no-auth), so it takes no request a web page sends \
                       (one with an Origin header). Run it with a token (the default) to let a page in.";
        let body = serde_json::json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32001, "message": message}});
        return json_response(StatusCode::FORBIDDEN, &body, None);
    }
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

/// A request's whole body, read within `timeout`; or the answer to a body too slow or too large.
async fn read_body(body: axum::body::Body, timeout: Duration) -> Result<axum::body::Bytes, Response> {
    let refuse = |status, message: String| {
        let body = serde_json::json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32600, "message": message}});
        json_response(status, &body, None)
    };
    match tokio::time::timeout(timeout, axum::body::to_bytes(body, MAX_BODY_BYTES)).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(_)) => {
            Err(refuse(StatusCode::PAYLOAD_TOO_LARGE, format!("invalid request: the body is larger than {MAX_BODY_BYTES} bytes")))
        }
        Err(_) => {
            Err(refuse(StatusCode::REQUEST_TIMEOUT, format!("invalid request: the body did not arrive within {} s", timeout.as_secs_f64())))
        }
    }
}

/// Answers messages rmcp would drop or answer badly (see [`super::wire`]); passes the rest.
async fn check_messages(request: Request, next: Next) -> Response {
    if request.method() != axum::http::Method::POST {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let bytes = match read_body(body, BODY_READ_TIMEOUT).await {
        Ok(bytes) => bytes,
        Err(refused) => return refused,
    };
    let header_version = parts.headers.get("mcp-protocol-version").and_then(|value| value.to_str().ok());
    let verdict = match wire::parse(&bytes) {
        Ok(value) => match wire::check_value(&value, header_version) {
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
                ReplyKind::ParseError | ReplyKind::InvalidRequest | ReplyKind::MissingCapability => StatusCode::BAD_REQUEST,
                ReplyKind::MethodNotFoundModern => StatusCode::NOT_FOUND,
                ReplyKind::MethodNotFound | ReplyKind::InvalidParams => StatusCode::OK,
            };
            json_response(status, &body, None)
        }
    }
}

#[cfg(test)]
mod tests {
    use futures::StreamExt;

    use super::*;

    fn options(addr: &str, auth: Auth, allow_remote: bool) -> HttpOptions {
        HttpOptions { addr: addr.parse().unwrap(), auth: Arc::new(auth), allow_remote, settings: ServerSettings::default() }
    }

    #[tokio::test]
    async fn a_body_that_does_not_arrive_in_time_is_given_up() {
        let trickle = futures::stream::once(async { Ok::<_, std::io::Error>(axum::body::Bytes::from_static(b"{")) })
            .chain(futures::stream::pending());
        let refused = read_body(axum::body::Body::from_stream(trickle), Duration::from_millis(50)).await.unwrap_err();
        assert_eq!(refused.status(), StatusCode::REQUEST_TIMEOUT);
        let whole = read_body(axum::body::Body::from("{}"), Duration::from_millis(50)).await.unwrap();
        assert_eq!(&whole[..], b"{}");
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
