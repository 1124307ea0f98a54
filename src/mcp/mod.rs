//! MCP server (in progress).

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::cli::ServeArgs;
use crate::jobs::Engine;

pub fn serve_main(_engine: Engine, _args: ServeArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`serve` is not available in this build yet")
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

/// Binds and serves MCP over streamable HTTP in the background of the current runtime.
pub async fn serve_http(_engine: Engine, _options: HttpOptions, _shutdown: CancellationToken) -> anyhow::Result<HttpServer> {
    anyhow::bail!("the HTTP endpoint is not available in this build yet")
}
