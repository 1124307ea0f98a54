//! The MCP server: the original's four tools plus waiting, each job's output and
//! meta as resources with subscriptions, over stdio or streamable HTTP. A thin
//! client of [`crate::jobs::Engine`]: no job file is read or written here.

mod changes;
mod http;
mod hub;
mod registration;
mod resources;
mod schema;
mod server;
mod subscriptions;
mod tools;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use rmcp::ServiceExt;
use tokio_util::sync::CancellationToken;

pub use http::{HttpOptions, HttpServer, serve as serve_http};
pub use server::{McpServer, PROGRESS_INTERVAL};

use crate::jobs::Engine;

/// How long in-flight work may take to wind down after a shutdown request.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// How `codex-async serve` runs.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// Streamable HTTP at this address; stdio when `None`.
    pub http: Option<SocketAddr>,
    pub token: Option<String>,
    pub allow_remote: bool,
    /// The longest one `codex_wait` / `codex_await_any` call blocks.
    pub max_wait: Duration,
}

/// `codex-async serve`: stdio by default, streamable HTTP with `--http ADDR`.
pub fn serve_main(engine: Engine, options: ServeOptions) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")?;
    let result = runtime.block_on(async move {
        let shutdown = CancellationToken::new();
        spawn_signal_handler(shutdown.clone())?;
        match options.http {
            Some(addr) => {
                let http = HttpOptions { addr, token: options.token, allow_remote: options.allow_remote, max_wait: options.max_wait };
                serve_http_until_shutdown(engine, http, shutdown).await
            }
            None => serve_stdio(engine, options.max_wait, shutdown).await,
        }
    });
    // A blocked read of the terminal must not keep the process alive.
    runtime.shutdown_timeout(SHUTDOWN_GRACE);
    result.map(|()| ExitCode::SUCCESS)
}

fn spawn_signal_handler(shutdown: CancellationToken) -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt()).context("listening for SIGINT")?;
    let mut terminate = signal(SignalKind::terminate()).context("listening for SIGTERM")?;
    tokio::spawn(async move {
        tokio::select! {
            _ = interrupt.recv() => tracing::info!("SIGINT: shutting down"),
            _ = terminate.recv() => tracing::info!("SIGTERM: shutting down"),
            () = shutdown.cancelled() => {}
        }
        shutdown.cancel();
    });
    Ok(())
}

/// Serves one client on stdin/stdout until it hangs up (EOF) or a signal comes.
async fn serve_stdio(engine: Engine, max_wait: Duration, shutdown: CancellationToken) -> anyhow::Result<()> {
    let server = McpServer::new(engine, max_wait);
    let running = server.serve_with_ct(rmcp::transport::stdio_pipes(), shutdown.child_token()).await;
    let running = match running {
        Ok(running) => running,
        // The client left before the handshake ended: nothing to serve.
        Err(err) if shutdown.is_cancelled() => {
            tracing::info!(%err, "shut down before the handshake");
            return Ok(());
        }
        Err(err) => return Err(err).context("MCP handshake over stdio"),
    };
    let reason = running.waiting().await.context("the stdio session failed")?;
    tracing::info!(?reason, "stdio session ended");
    Ok(())
}

async fn serve_http_until_shutdown(engine: Engine, options: HttpOptions, shutdown: CancellationToken) -> anyhow::Result<()> {
    let server = serve_http(engine, options, shutdown.clone()).await?;
    eprintln!("codex-async: serving MCP at {}", server.url);
    shutdown.cancelled().await;
    let mut task = server.task;
    if tokio::time::timeout(SHUTDOWN_GRACE, &mut task).await.is_err() {
        tracing::warn!("open HTTP streams did not close in time; stopping anyway");
        task.abort();
        let _ = task.await;
    }
    Ok(())
}
