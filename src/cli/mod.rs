//! Command-line definitions and the plain verbs (`start`, `poll`, `list`, …).

mod render;

pub use render::warn;

use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use crate::jobs::{AgentSpec, ApprovalPolicy, Engine, JobError, StartRequest, Status, tail};

#[derive(Debug, Parser)]
#[command(name = "codex-async", version, about = "Run coding-agent jobs in the background; watch them live; serve them over MCP.")]
#[command(after_help = "With no command, opens the dashboard and serves MCP over HTTP on 127.0.0.1:8765.\n\
The jobs live in $CODEX_ASYNC_HOME/jobs (default ~/.codex-async/jobs); the agent is $CODEX_BIN (default codex).")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub dashboard: DashboardArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start a job in the background and print its id.
    Start(StartArgs),
    /// Show a job's status and the end of its output.
    Poll(PollArgs),
    /// List jobs, newest first.
    List(ListArgs),
    /// Stop a running job and everything it started.
    Cancel(CancelArgs),
    /// Block until a job ends (exit status 0 only if it succeeded).
    Wait(WaitArgs),
    /// Delete a finished job's folder.
    Delete(DeleteArgs),
    /// Serve MCP over stdio (default) or streamable HTTP.
    Serve(ServeArgs),
    /// Print the bearer token HTTP clients must send (made on first use).
    Token(TokenArgs),
    /// Runs one job's supervisor (started by `start`, not by hand).
    #[command(name = "__supervise", hide = true)]
    Supervise,
    /// A simulated agent for the demo.
    #[command(name = "demo-agent", hide = true)]
    DemoAgent(DemoAgentArgs),
}

#[derive(Debug, Args)]
pub struct StartArgs {
    /// The folder the agent works in.
    #[arg(long, default_value = ".")]
    pub cwd: PathBuf,
    /// suggest (read-only sandbox), auto-edit (may edit files in cwd) or full-auto (no sandbox: unattended edits and commands).
    #[arg(long, short = 'a', default_value = "suggest", value_parser = parse_policy)]
    pub approval_policy: ApprovalPolicy,
    /// Print the result as JSON: {"job_id", "status", "pid"}.
    #[arg(long)]
    pub json: bool,
    /// What the agent should do. Several words are joined with spaces; `-` reads it from stdin.
    #[arg(required = true, num_args = 1.., trailing_var_arg = true, allow_hyphen_values = true, value_name = "PROMPT")]
    pub prompt: Vec<String>,
}

#[derive(Debug, Args)]
pub struct PollArgs {
    pub job_id: String,
    /// How many trailing lines of output to show.
    #[arg(long, default_value_t = tail::TAIL_LINES)]
    pub tail: usize,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CancelArgs {
    pub job_id: String,
    /// Seconds between SIGINT and SIGKILL (SIGTERM comes halfway).
    #[arg(long, default_value_t = 5.0, value_parser = parse_seconds)]
    pub grace: f64,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct WaitArgs {
    pub job_id: String,
    /// Give up after this many seconds (exit status 124); default: wait for ever.
    #[arg(long, value_parser = parse_seconds)]
    pub timeout: Option<f64>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DeleteArgs {
    pub job_id: String,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Serve streamable HTTP at ADDR/mcp instead of stdio (port 0 picks a free port).
    #[arg(long, value_name = "ADDR")]
    pub http: Option<SocketAddr>,
    /// The bearer token HTTP requests must carry (default: the one in $CODEX_ASYNC_HOME/token).
    #[arg(long, env = "CODEX_ASYNC_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Take HTTP requests without a token (loopback addresses only).
    #[arg(long, conflicts_with = "token")]
    pub no_auth: bool,
    /// Allow a non-loopback HTTP address (the token then protects it).
    #[arg(long)]
    pub allow_remote: bool,
    /// The longest a single codex_wait call may block, in seconds.
    #[arg(long, default_value_t = 45)]
    pub max_wait: u64,
    /// The most a job started over MCP may ask for: suggest, auto-edit or full-auto.
    #[arg(long, env = "CODEX_ASYNC_MAX_POLICY", default_value = "full-auto", value_parser = parse_policy)]
    pub max_policy: ApprovalPolicy,
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
    /// Port for the MCP endpoint served beside the dashboard (on 127.0.0.1).
    #[arg(long, default_value_t = 8765)]
    pub port: u16,
    /// Do not serve MCP from the dashboard.
    #[arg(long)]
    pub no_mcp: bool,
    /// The bearer token the dashboard's MCP endpoint takes (default: the one in $CODEX_ASYNC_HOME/token).
    #[arg(long, env = "CODEX_ASYNC_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Take MCP requests without a token.
    #[arg(long, conflicts_with = "token")]
    pub no_auth: bool,
    /// The most a job started over the dashboard's MCP endpoint may ask for.
    #[arg(long, env = "CODEX_ASYNC_MAX_POLICY", default_value = "full-auto", value_parser = parse_policy)]
    pub max_policy: ApprovalPolicy,
}

#[derive(Debug, Clone, Args)]
pub struct DemoAgentArgs {
    #[arg(long, default_value = "success")]
    pub scenario: String,
    #[arg(short = 'o', long = "output-last-message")]
    pub output_last_message: Option<PathBuf>,
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub prompt: Vec<String>,
}

impl From<ServeArgs> for crate::mcp::ServeOptions {
    fn from(args: ServeArgs) -> Self {
        crate::mcp::ServeOptions {
            http: args.http,
            token: args.token,
            no_auth: args.no_auth,
            allow_remote: args.allow_remote,
            max_wait: Duration::from_secs(args.max_wait),
            max_policy: args.max_policy,
        }
    }
}

impl From<DashboardArgs> for crate::tui::DashboardOptions {
    fn from(args: DashboardArgs) -> Self {
        crate::tui::DashboardOptions {
            demo: args.demo,
            port: args.port,
            no_mcp: args.no_mcp,
            token: args.token,
            no_auth: args.no_auth,
            max_policy: args.max_policy,
        }
    }
}

impl From<DemoAgentArgs> for crate::demo::DemoAgentOptions {
    fn from(args: DemoAgentArgs) -> Self {
        crate::demo::DemoAgentOptions { scenario: args.scenario, output_last_message: args.output_last_message, prompt: args.prompt }
    }
}

fn parse_policy(raw: &str) -> Result<ApprovalPolicy, String> {
    raw.parse().map_err(|err: JobError| err.to_string())
}

fn parse_seconds(raw: &str) -> Result<f64, String> {
    match raw.parse::<f64>() {
        Ok(secs) if secs.is_finite() && (0.0..=86_400.0 * 365.0).contains(&secs) => Ok(secs),
        _ => Err(format!("{raw:?} is not a number of seconds (for example 5 or 0.5)")),
    }
}

/// Exit status for bad input (as clap uses), so scripts can tell it from a failed job.
const EXIT_USAGE: u8 = 2;
/// `wait` ran out of time, as timeout(1) reports it.
const EXIT_TIMED_OUT: u8 = 124;

/// Maps an engine error to the exit status: bad input is a usage error.
pub fn exit_code_for(err: &anyhow::Error) -> ExitCode {
    match err.downcast_ref::<JobError>() {
        Some(
            JobError::InvalidId(_)
            | JobError::NotFound(_)
            | JobError::CwdMissing(_)
            | JobError::CwdNotDir(_)
            | JobError::UnknownPolicy { .. }
            | JobError::EmptyPrompt
            | JobError::PromptTooLong { .. }
            | JobError::StillRunning { .. },
        ) => ExitCode::from(EXIT_USAGE),
        _ => ExitCode::FAILURE,
    }
}

pub fn start(engine: &Engine, args: StartArgs) -> anyhow::Result<ExitCode> {
    let prompt = if args.prompt == ["-"] {
        let mut prompt = String::new();
        std::io::stdin().read_to_string(&mut prompt).context("reading the prompt from stdin")?;
        prompt
    } else {
        args.prompt.join(" ")
    };
    let request = StartRequest::new(prompt, &args.cwd, args.approval_policy, AgentSpec::codex_from_env())?;
    let started = engine.start(&request)?;
    if args.json {
        emit_json(&started)?;
    } else {
        let mut out = render::Out::default();
        render::started(&mut out, &started);
        out.flush();
    }
    Ok(if started.status == Status::Error { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

pub fn poll(engine: &Engine, args: PollArgs) -> anyhow::Result<ExitCode> {
    let view = engine.poll(&args.job_id, args.tail)?;
    if args.json {
        emit_json(&view)?;
    } else {
        let mut out = render::Out::default();
        render::poll(&mut out, &view);
        out.flush();
    }
    Ok(ExitCode::SUCCESS)
}

pub fn list(engine: &Engine, args: ListArgs) -> anyhow::Result<ExitCode> {
    let rows = engine.list(args.limit)?;
    if args.json {
        emit_json(&rows)?;
    } else {
        let mut out = render::Out::default();
        render::list(&mut out, &rows);
        out.flush();
    }
    Ok(ExitCode::SUCCESS)
}

pub fn cancel(engine: &Engine, args: CancelArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let view = runtime.block_on(engine.cancel(&args.job_id, Duration::from_secs_f64(args.grace)))?;
    if args.json {
        emit_json(&view)?;
    } else {
        let mut out = render::Out::default();
        render::cancelled(&mut out, &view);
        out.flush();
    }
    Ok(ExitCode::SUCCESS)
}

pub fn wait(engine: &Engine, args: WaitArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let timeout = args.timeout.map_or(Duration::MAX / 4, Duration::from_secs_f64);
    let view = runtime.block_on(engine.wait(&args.job_id, timeout, tail::TAIL_LINES))?;
    if args.json {
        emit_json(&view)?;
    } else {
        let mut out = render::Out::default();
        render::waited(&mut out, &view);
        out.flush();
    }
    Ok(match (view.timed_out, view.poll.status) {
        (true, _) => ExitCode::from(EXIT_TIMED_OUT),
        (false, Status::Done) => ExitCode::SUCCESS,
        (false, _) => ExitCode::FAILURE,
    })
}

pub fn delete(engine: &Engine, args: DeleteArgs) -> anyhow::Result<ExitCode> {
    engine.delete(&args.job_id)?;
    let mut out = render::Out::default();
    out.line(format!("deleted {}", args.job_id));
    out.flush();
    Ok(ExitCode::SUCCESS)
}

pub fn token(engine: &Engine, args: TokenArgs) -> anyhow::Result<ExitCode> {
    let home = engine.store().home();
    let token = if args.rotate { crate::mcp::token::rotate(home) } else { crate::mcp::token::load_or_create(home) }
        .with_context(|| format!("the token file {}", crate::mcp::token::path(home).display()))?;
    if args.json {
        emit_json(&serde_json::json!({"token": token, "path": crate::mcp::token::path(home)}))?;
    } else {
        let mut out = render::Out::default();
        out.line(token);
        out.flush();
    }
    Ok(ExitCode::SUCCESS)
}

/// One line of JSON per result, for scripts and `jq`.
fn emit_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    let mut out = render::Out::default();
    out.line(serde_json::to_string(value)?);
    out.flush();
    Ok(())
}
