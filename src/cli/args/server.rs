//! The options of what serves: `serve`, the dashboard (and its demo's agent), `token`,
//! and the addresses they listen on.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::groups::{LimitArgs, parse_policy};
use crate::config::Flags;
use crate::human::parse_duration;
use crate::jobs::ApprovalPolicy;
use crate::mcp::Listen;

/// Options `serve` and the dashboard share.
#[derive(Debug, Clone, Args)]
pub struct ServerArgs {
    /// Read the bearer token HTTP requests must carry from this file (not open to other users; read again when it
    /// changes). Default: $CODEX_ASYNC_HOME/token, made on first use.
    #[arg(long, value_name = "PATH", conflicts_with_all = ["no_auth", "token"])]
    pub token_file: Option<PathBuf>,
    /// The bearer token itself. Every user of this machine sees it in `ps`: prefer --token-file. Without --token,
    /// --token-file or --no-auth, $CODEX_ASYNC_TOKEN gives it.
    #[arg(long, value_name = "TOKEN")]
    pub token: Option<String>,
    /// Take HTTP requests without a token, from processes of your own user only (another user's connection gets 403,
    /// and so does any request a web page sends, one with an Origin header). Loopback addresses or unix:PATH only.
    #[arg(long, conflicts_with = "token")]
    pub no_auth: bool,
    /// The most a job started over MCP may ask for: suggest, auto-edit or full-auto (default: full-auto).
    #[arg(long, value_parser = parse_policy)]
    pub max_policy: Option<ApprovalPolicy>,
    #[command(flatten)]
    pub limits: LimitArgs,
    /// Start even if config.toml has a mistake, on the built-in defaults (the mistake is shown).
    #[arg(long)]
    pub ignore_config: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Serve streamable HTTP at ADDR/mcp instead of stdio: 127.0.0.1:8765, localhost:8765 or just 8765 (port 0 picks a
    /// free port), or unix:PATH, a Unix socket only you can open (with --no-auth, the way to go without a token).
    #[arg(long, value_name = "ADDR", value_parser = parse_listen)]
    pub http: Option<Listen>,
    /// Allow a non-loopback HTTP address (the token then protects it).
    #[arg(long)]
    pub allow_remote: bool,
    /// The longest a single codex_wait call may block: seconds, or 45s, 2m (default 45).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub max_wait: Option<Duration>,
    #[command(flatten)]
    pub server: ServerArgs,
}

#[derive(Debug, Clone, Args)]
pub struct TokenArgs {
    /// Make a new token; servers stop taking the old one at once.
    #[arg(long)]
    pub rotate: bool,
    /// Print {"token", "path"} as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Args)]
pub struct DashboardArgs {
    /// Open on a temporary jobs folder with simulated jobs (no codex needed).
    #[arg(long)]
    pub demo: bool,
    /// Port for the MCP endpoint served beside the dashboard, on 127.0.0.1 (0 picks a free one; default 8765).
    #[arg(long)]
    pub port: Option<u16>,
    /// Do not serve MCP from the dashboard.
    #[arg(long)]
    pub no_mcp: bool,
    #[command(flatten)]
    pub server: ServerArgs,
}

#[derive(Debug, Clone, Args)]
pub struct DemoAgentArgs {
    #[arg(long, default_value = "success")]
    pub scenario: String,
    /// codex's sandbox name for the job's policy (`read-only` edits nothing).
    #[arg(long, default_value = "read-only")]
    pub sandbox: String,
    /// The session a follow-up continues.
    #[arg(long)]
    pub resume: Option<String>,
    #[arg(short = 'o', long = "output-last-message")]
    pub output_last_message: Option<PathBuf>,
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub prompt: Vec<String>,
}

impl ServerArgs {
    /// The token given as such: `--token`, else `$CODEX_ASYNC_TOKEN` unless a token file
    /// or `--no-auth` was asked for (a flag wins over the environment, which may hold the
    /// token for the clients started from the same shell).
    pub fn token(&self) -> Option<String> {
        if self.token.is_some() || self.token_file.is_some() || self.no_auth {
            return self.token.clone();
        }
        std::env::var(crate::mcp::token::TOKEN_ENV).ok().filter(|token| !token.trim().is_empty())
    }

    fn flags(&self) -> Flags {
        Flags { max_policy: self.max_policy, max_running: self.limits.max_running, ..Flags::default() }
    }
}

impl ServeArgs {
    pub fn flags(&self) -> Flags {
        Flags { max_wait: self.max_wait, ..self.server.flags() }
    }
}

impl DashboardArgs {
    pub fn flags(&self) -> Flags {
        Flags { port: self.port, ..self.server.flags() }
    }
}

impl From<DemoAgentArgs> for crate::demo::DemoAgentOptions {
    fn from(args: DemoAgentArgs) -> Self {
        crate::demo::DemoAgentOptions {
            scenario: args.scenario,
            sandbox: args.sandbox,
            resume: args.resume,
            output_last_message: args.output_last_message,
            prompt: args.prompt,
        }
    }
}

/// `127.0.0.1:8765`, `[::1]:8765`, `localhost:8765`, `:8765` or `8765` (loopback).
pub fn parse_http_addr(raw: &str) -> Result<SocketAddr, String> {
    let raw = raw.trim();
    if let Ok(addr) = raw.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let port_only = raw.strip_prefix(':').unwrap_or(raw);
    if let Ok(port) = port_only.parse::<u16>() {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    if let Some(port) = raw.strip_prefix("localhost:").and_then(|port| port.parse::<u16>().ok()) {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    Err(format!("{raw:?} is not an address: give 127.0.0.1:8765, localhost:8765 or a port such as 8765"))
}

/// An address as [`parse_http_addr`] reads it, or `unix:PATH` (made absolute).
pub fn parse_listen(raw: &str) -> Result<Listen, String> {
    let Some(path) = raw.strip_prefix("unix:") else { return parse_http_addr(raw).map(Listen::Tcp) };
    if path.is_empty() {
        return Err("unix: needs the socket's path, for example unix:$XDG_RUNTIME_DIR/codex-async.sock".to_owned());
    }
    std::path::absolute(path).map(Listen::Unix).map_err(|err| format!("{path:?}: {err}"))
}
