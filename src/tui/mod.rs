//! The dashboard: a live table of every job in the jobs folder, the selected job's
//! output, and keys to cancel, delete and start jobs — with MCP served over HTTP
//! from the same process.
//!
//! Four layers, each a folder, each with what it may import:
//!
//! - `model`: the state as plain data ([`App`]) and what it is made of. It imports
//!   nothing of the dashboard.
//! - `update`: keys become [`Action`]s; actions, what the loader read ([`DataEvent`]s)
//!   and what background tasks returned change the state and ask for effects. It
//!   imports the model.
//! - `view`: drawing, a pure function of the state. It imports the model.
//! - `shell`: the terminal loop, the effects carried out, the [`loader`] thread that
//!   reads the jobs folder, external programs, terminal notices. It imports the other
//!   three.
//!
//! This file starts the dashboard: the MCP endpoint beside it, the remembered
//! settings, the terminal. No job file is parsed here: the `jobs` module reads them.

mod model;
mod shell;
mod update;
mod view;

// What the integration tests and the benchmark drive: the state and its inputs, the
// loader thread, and the text helpers that make output safe to draw.
pub use model::app::App;
pub use model::message::{Action, DataEvent};
pub use model::text;
pub use shell::loader;
/// What `D` shows for a folder and a base (the attack tests run it on hostile repositories).
pub use update::diff_view::git_diff;

#[cfg(test)]
mod tests;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use chrono::Utc;
use tokio_util::sync::CancellationToken;

use crate::jobs::Engine;
use crate::{demo, mcp};

use model::app::{McpAuth, McpState};
use model::remembered;
use shell::{context, notice, runtime};

/// How the dashboard runs.
#[derive(Clone, Debug)]
pub struct DashboardOptions {
    /// A temporary jobs folder with simulated jobs.
    pub demo: bool,
    /// No MCP endpoint.
    pub no_mcp: bool,
    pub token: Option<String>,
    /// A file to read the token from instead of the home's.
    pub token_file: Option<PathBuf>,
    /// No token check on the MCP endpoint.
    pub no_auth: bool,
    /// The resolved configuration (the MCP port is its `port`).
    pub config: crate::config::Settings,
    /// A mistake in config.toml set aside with --ignore-config: shown in the header.
    pub config_problem: Option<String>,
}

/// Opens the dashboard; returns when the person quits. Running jobs keep running.
pub fn run(engine: Engine, args: DashboardOptions) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")?;
    let demo = if args.demo { Some(demo::DemoHome::create(&engine).context("preparing the demo")?) } else { None };
    let engine = demo.as_ref().map_or(engine, |demo| demo.engine.clone()).with_spare_supervisor();
    let outcome = runtime.block_on(dashboard(engine.clone(), &args, demo.as_ref()));

    // The demo's folder goes whatever happened (a failed start included).
    if let Some(demo) = demo {
        let stopped = runtime.block_on(demo.finish());
        outcome?;
        println!("codex-async: demo closed; {stopped} simulated job(s) stopped and the demo folder removed.");
        return Ok(ExitCode::SUCCESS);
    }
    let running = outcome?;
    if running.is_empty() {
        println!("codex-async: dashboard closed; no job is running.");
    } else {
        println!(
            "codex-async: dashboard closed; {} job(s) keep running in the background: {} (see `codex-async list`).",
            running.len(),
            running.join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs the dashboard until quit; returns the ids of jobs still running.
async fn dashboard(engine: Engine, args: &DashboardOptions, demo: Option<&demo::DemoHome>) -> anyhow::Result<Vec<String>> {
    let shutdown = CancellationToken::new();
    let _stop_all = shutdown.clone().drop_guard();
    stop_on_signals(shutdown.clone());
    let mcp_state = if args.no_mcp {
        McpState::Disabled
    } else {
        match serve_mcp(&engine, args, shutdown.child_token()).await {
            Ok((url, auth)) => McpState::On { url, auth },
            Err(err) => McpState::Off(format!("{err:#}")),
        }
    };

    let start_cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    let home = std::env::var("HOME").ok();
    let jobs_dir = text::tilde(&engine.store().jobs_dir().display().to_string(), home.as_deref());

    let state_path = remembered::path_in(engine.store().home());
    let remembered = remembered::load(&state_path);
    let (_guard, mut terminal) = runtime::TerminalGuard::enter().context("opening the terminal (is this a terminal?)")?;
    let size = terminal.size()?;
    let mut app = App::new(jobs_dir, start_cwd, home.clone(), (size.width, size.height), Utc::now());
    app.restore(remembered);
    // Why MCP is off is said whole once, whatever the width; `?` says it again.
    if let McpState::Off(reason) = &mcp_state {
        app.flash = Some(format!("MCP is off (? says it again): {reason}"));
    }
    app.mcp = mcp_state;
    app.default_policy = args.config.policy.value;
    // The demo's jobs run the built-in simulated agent, whatever the form says.
    let agents = demo.map_or_else(|| args.config.agents(), demo::DemoHome::agents);
    app.agents = agents.names().into_iter().map(str::to_owned).collect();
    app.default_agent = app.agents.iter().find(|name| *name == agents.default_name()).cloned().unwrap_or_else(|| app.agents[0].clone());
    app.queue_limit = args.config.max_running.value;
    app.worktree_by_default = args.config.worktrees.by_default;
    app.config_problem = args.config_problem.clone();
    if let Some(demo) = demo {
        demo.start_jobs();
    }
    engine.start_housekeeping(args.config.housekeeping(), &shutdown);
    let ceiling = crate::jobs::Ceiling::new(args.config.max_policy.value, engine.store().home());
    let outside = notice::Terminal::from_env();
    app.in_tmux = outside.in_tmux;
    let context = context::Context {
        engine,
        agents,
        ceiling,
        limits: args.config.job_limits(),
        groups: args.config.groups.clone(),
        worktrees: args.config.worktrees.clone(),
        cancel_grace: args.config.cancel_grace.value,
        shutdown: shutdown.clone(),
        state_path,
        home,
        terminal: outside,
        hosts: crate::hosts::HostPool::new(&args.config.hosts),
    };
    app.hosts = model::hosts::Hosts::new(context.hosts.names());
    runtime::run(&mut terminal, &mut app, &context).await?;
    Ok(app.running_ids())
}

/// The MCP endpoint beside the dashboard, and which token it takes.
async fn serve_mcp(engine: &Engine, args: &DashboardOptions, shutdown: CancellationToken) -> anyhow::Result<(String, McpAuth)> {
    let auth = mcp::auth_for(engine.store().home(), args.token.clone(), args.token_file.as_deref(), args.no_auth)?;
    let shown = match &auth {
        mcp::token::Auth::Off => McpAuth::Off,
        mcp::token::Auth::Fixed(_) => McpAuth::Given,
        mcp::token::Auth::File { origin: mcp::token::FileOrigin::Home, .. } => McpAuth::File,
        mcp::token::Auth::File { origin: mcp::token::FileOrigin::Flag, .. } => McpAuth::GivenFile,
    };
    let options = mcp::HttpOptions {
        addr: SocketAddr::from((Ipv4Addr::LOCALHOST, args.config.port.value)),
        auth: std::sync::Arc::new(auth),
        allow_remote: false,
        settings: mcp::ServerSettings::from_config(&args.config, mcp::Transport::Http),
    };
    let server = mcp::serve_http(engine.clone(), options, shutdown).await?;
    Ok((server.url, shown))
}

/// SIGTERM and SIGHUP (the terminal closed) end the loop like `q`, so the terminal is
/// restored; Ctrl-C is a key in raw mode.
fn stop_on_signals(shutdown: CancellationToken) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut terminate), Ok(mut hangup)) = (signal(SignalKind::terminate()), signal(SignalKind::hangup())) else {
        return;
    };
    tokio::spawn(async move {
        tokio::select! {
            _ = terminate.recv() => {}
            _ = hangup.recv() => {}
            _ = shutdown.cancelled() => return,
        }
        shutdown.cancel();
    });
}
