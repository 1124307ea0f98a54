//! The MCP server: the original's four tools plus waiting and follow-ups, each job's
//! output and meta as resources with subscriptions, over stdio or streamable HTTP. A
//! thin client of [`crate::jobs::Engine`]: no job file is read or written here.
//!
//! `server` answers each request of a session: a tool call goes to `tools/` (one file
//! per tool, named after it), a resource or a subscription to `resources/` (which also
//! holds the way a change in the jobs folder becomes a notification), a task to
//! `tasks`. `stdio` and `http` carry the messages, each looked at first by `wire`;
//! `settings` holds a server's limits, `token` the HTTP bearer token, and
//! `registration` the file that tells scripts where an HTTP endpoint listens.

mod http;
mod mrtr;
mod registration;
mod resources;
mod server;
mod settings;
mod stdio;
mod tasks;
pub mod token;
mod tools;
mod wire;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use tokio_util::sync::CancellationToken;

pub use http::{
    BODY_READ_TIMEOUT, HEADER_READ_TIMEOUT, HttpOptions, HttpServer, MAX_CONNECTIONS, MAX_SESSIONS, SESSION_IDLE_TIMEOUT, UnixOptions,
    connection_cap, serve as serve_http, serve_unix,
};
pub use server::McpServer;
pub use settings::{PROGRESS_INTERVAL, ServerSettings, Transport};

use crate::config::Settings;
use crate::jobs::Engine;

/// How long in-flight work may take to wind down after a shutdown request.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// Where streamable HTTP is served.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Listen {
    /// A TCP address (loopback unless `--allow-remote`).
    Tcp(SocketAddr),
    /// A Unix socket at this path (`--http unix:PATH`).
    Unix(PathBuf),
}

/// How `codex-async serve` runs.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// Streamable HTTP there; stdio when `None`.
    pub http: Option<Listen>,
    /// A token given instead of the home's token file.
    pub token: Option<String>,
    /// A file to read the token from instead of the home's.
    pub token_file: Option<PathBuf>,
    /// No token check (the same user only).
    pub no_auth: bool,
    pub allow_remote: bool,
    /// The resolved configuration (flags, environment, config.toml).
    pub config: Settings,
}

/// The token check an HTTP endpoint makes: the token read from `token_file`, the given
/// token, none (`--no-auth`), or by default the home's token file (made if missing). A
/// token file named on the command line wins over a token from the environment (clap
/// refuses it next to `--token` itself).
pub fn auth_for(home: &Path, token: Option<String>, token_file: Option<&Path>, no_auth: bool) -> anyhow::Result<token::Auth> {
    if let Some(file) = token_file {
        if no_auth {
            anyhow::bail!("give a token file (--token-file) or --no-auth, not both");
        }
        return token::Auth::from_file(file).with_context(|| format!("reading the token file {}", file.display()));
    }
    match (token.filter(|token| !token.trim().is_empty()), no_auth) {
        (Some(_), true) => anyhow::bail!("give a token (--token or CODEX_ASYNC_TOKEN) or --no-auth, not both"),
        (Some(token), false) => Ok(token::Auth::Fixed(token.trim().to_owned())),
        (None, true) => Ok(token::Auth::Off),
        (None, false) => token::Auth::from_home(home).with_context(|| format!("making the token file {}", token::path(home).display())),
    }
}

/// `codex-async serve`: stdio by default, streamable HTTP with `--http ADDR`.
pub fn serve_main(engine: Engine, options: ServeOptions) -> anyhow::Result<ExitCode> {
    let engine = engine.with_spare_supervisor();
    // One client over stdio: one thread runs it all, and a call wakes no other worker.
    // HTTP serves many sessions at once.
    let runtime = match options.http {
        Some(_) => tokio::runtime::Builder::new_multi_thread().enable_all().build(),
        None => tokio::runtime::Builder::new_current_thread().enable_all().build(),
    }
    .context("starting the async runtime")?;
    let result = runtime.block_on(async move {
        let shutdown = CancellationToken::new();
        spawn_signal_handler(shutdown.clone())?;
        match options.http {
            Some(listen) => {
                let auth = auth_for(engine.store().home(), options.token, options.token_file.as_deref(), options.no_auth)?;
                let auth = std::sync::Arc::new(auth);
                let settings = ServerSettings::from_config(&options.config, Transport::Http);
                engine.start_housekeeping(options.config.housekeeping(), &shutdown);
                let server = match listen {
                    Listen::Tcp(addr) => {
                        let options = HttpOptions { addr, auth, allow_remote: options.allow_remote, settings };
                        serve_http(engine, options, shutdown.clone()).await?
                    }
                    Listen::Unix(path) => http::serve_unix(engine, UnixOptions { path, auth, settings }, shutdown.clone()).await?,
                };
                serve_http_until_shutdown(server, shutdown).await
            }
            None => {
                engine.start_housekeeping(options.config.housekeeping(), &shutdown);
                let settings = ServerSettings::from_config(&options.config, Transport::Stdio);
                stdio::serve(McpServer::with_settings(engine, settings), shutdown).await
            }
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
            () = shutdown.cancelled() => return,
        }
        shutdown.cancel();
        // Whoever sends a second signal wants the process gone now (jobs run on: each
        // has its own supervisor).
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
        tracing::warn!("a second signal: exiting without waiting");
        std::process::exit(130);
    });
    Ok(())
}

async fn serve_http_until_shutdown(server: HttpServer, shutdown: CancellationToken) -> anyhow::Result<()> {
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
