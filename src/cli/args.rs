//! The command line's definitions (clap), and how they become each front end's options.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

pub(super) mod hosts;
mod unattended;

pub use hosts::{HostArg, HostsArgs};
pub use unattended::{PauseArgs, UnattendedArgs};

use super::register::{InstallArgs, UninstallArgs};
use super::shell::{CompletionsArgs, ManArgs};
use crate::config::Flags;
use crate::human::parse_duration;
use crate::jobs::{ApprovalPolicy, TAIL_LINES};

#[derive(Debug, Parser)]
#[command(name = "codex-async", version, about = "Run coding-agent jobs in the background; watch them live; serve them over MCP.")]
#[command(after_help = "With no command, opens the dashboard and serves MCP over HTTP on 127.0.0.1:8765.\n\
The jobs live in $CODEX_ASYNC_HOME/jobs (default ~/.codex-async/jobs); the agent is $CODEX_BIN (default codex).\n\
Defaults come from $CODEX_ASYNC_HOME/config.toml (see `codex-async config`).")]
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
    /// Continue a finished job's conversation in a new job (same cwd, policy, agent and options unless given).
    Reply(ReplyArgs),
    /// Show a job's status and the end of its output.
    Poll(PollArgs),
    /// Print a job's whole output; with -f, follow it until the job ends.
    Logs(LogsArgs),
    /// List jobs, newest first.
    #[command(visible_alias = "status", visible_alias = "ls")]
    List(ListArgs),
    /// Stop a running job (and everything it started), or take a pending one off the queue.
    #[command(visible_alias = "kill")]
    Cancel(CancelArgs),
    /// Block until a job ends (exit status 0 only if it succeeded).
    Wait(WaitArgs),
    /// Delete finished jobs' folders.
    #[command(visible_alias = "rm")]
    Delete(DeleteArgs),
    /// Remove finished jobs by age and count (never running or pending ones).
    Gc(GcArgs),
    /// Serve MCP over stdio (default) or streamable HTTP.
    Serve(ServeArgs),
    /// Print the bearer token HTTP clients must send (made on first use).
    Token(TokenArgs),
    /// Show the configuration in effect and where each value comes from.
    Config(ConfigArgs),
    /// Run a finished job again as a new job: its prompt, cwd, agent, policy and options, each unless given.
    Rerun(RerunArgs),
    /// Register codex-async with an MCP client: merge its entry into the client's configuration (a diff shows what changed).
    Install(InstallArgs),
    /// Take back what `install` added to a client's configuration.
    Uninstall(UninstallArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(CompletionsArgs),
    /// Print the man page (roff), or write every page into a folder.
    Man(ManArgs),
    /// Answer the approval request an `ask` job waits on: allow (default), --deny, --always.
    Approve(super::approve::ApproveArgs),
    /// Show a job's change: frozen when it ended (live while a worktree job runs).
    Diff(super::worktree::DiffArgs),
    /// Bring a finished job's change into its origin folder, all or nothing.
    Apply(super::worktree::ApplyArgs),
    /// Remove a job's worktree and branch (its record is kept).
    Discard(super::worktree::DiscardArgs),
    /// List the hosts of config.toml ([hosts.NAME]) with their state: connected or why not, version, jobs, round trip.
    Hosts(HostsArgs),
    /// Runs one job's supervisor (started by `start`, not by hand).
    #[command(name = "__supervise", hide = true)]
    Supervise,
    /// Serves one `ask` job's approval endpoint over stdio (started by the job's Claude Code).
    #[command(name = "__approvals", hide = true)]
    Approvals { job_id: String },
    /// Stop a running job where it is (its processes get SIGSTOP; its clocks stop) until `resume`.
    Pause(PauseArgs),
    /// Let a paused job go on (SIGCONT).
    Resume(PauseArgs),
    /// Runs one hook (started by whoever records a job's event).
    #[command(name = "__hook", hide = true)]
    Hook,
    /// A simulated agent for the demo.
    #[command(name = "demo-agent", hide = true)]
    DemoAgent(DemoAgentArgs),
}

#[derive(Debug, Args)]
pub struct StartArgs {
    /// The folder the agent works in.
    #[arg(long, default_value = ".")]
    pub cwd: PathBuf,
    /// suggest (read-only), ask (a person approves each command or edit; claude only), auto-edit (edits and runs commands in cwd) or full-auto (no sandbox at all). Default: the config's, else suggest.
    #[arg(long, short = 'a', value_parser = parse_policy)]
    pub approval_policy: Option<ApprovalPolicy>,
    /// The agent: codex, claude, gemini, or one defined in the config. Default: the config's, else codex.
    #[arg(long, value_name = "NAME")]
    pub agent: Option<String>,
    #[command(flatten)]
    pub options: AgentArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
    #[command(flatten)]
    pub time_limits: TimeLimitArgs,
    #[command(flatten)]
    pub isolation: super::worktree::WorktreeArgs,
    #[command(flatten)]
    pub unattended: UnattendedArgs,
    #[command(flatten)]
    pub on: HostArg,
    /// Print the result as JSON: {"job_id", "status", "pid"} (and "queue_position" when pending).
    #[arg(long)]
    pub json: bool,
    /// What the agent should do: the words after the options (or after `--`), joined with spaces; `-` reads it from stdin.
    #[arg(required = true, num_args = 1.., trailing_var_arg = true, value_name = "PROMPT")]
    pub prompt: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ReplyArgs {
    /// The finished job whose conversation to continue.
    pub job_id: String,
    /// suggest, auto-edit or full-auto. Default: the parent job's.
    #[arg(long, short = 'a', value_parser = parse_policy)]
    pub approval_policy: Option<ApprovalPolicy>,
    /// Model, profile and config overrides; each one left out is the parent job's.
    #[command(flatten)]
    pub options: AgentArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
    #[command(flatten)]
    pub time_limits: TimeLimitArgs,
    /// When it starts (never the parent's), its labels, group, priority and budget (each left out is the parent's).
    #[command(flatten)]
    pub unattended: UnattendedArgs,
    #[command(flatten)]
    pub on: HostArg,
    /// Print the result as JSON, as `start --json` does.
    #[arg(long)]
    pub json: bool,
    /// The next message to the agent: the words after the options (or after `--`), joined with spaces; `-` reads it from stdin.
    #[arg(required = true, num_args = 1.., trailing_var_arg = true, value_name = "PROMPT")]
    pub prompt: Vec<String>,
}

#[derive(Debug, Args)]
pub struct PollArgs {
    /// The job: its id, or the start of exactly one id.
    pub job_id: String,
    /// How many trailing lines of output to show.
    #[arg(long, default_value_t = TAIL_LINES)]
    pub tail: usize,
    /// Show the whole prompt (by default a long one is cut to its start).
    #[arg(long)]
    pub full_prompt: bool,
    #[command(flatten)]
    pub on: HostArg,
    /// Print the codex_poll fields as one line of JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// The job: its id, or the start of exactly one id.
    pub job_id: String,
    #[command(flatten)]
    pub on: HostArg,
    /// Keep printing new output until the job ends; exit with its exit code.
    #[arg(long, short = 'f')]
    pub follow: bool,
    /// Print the bytes exactly as the agent wrote them (by default escape sequences other than colour are dropped, and colour too when piped).
    #[arg(long, conflicts_with = "json")]
    pub raw: bool,
    /// One JSON object per piece of output ({"output": …}), and a last one with the job's status and exit code.
    #[arg(long)]
    pub json: bool,
}

/// Which jobs `list` shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum StatusChoice {
    /// Running now.
    Running,
    /// Waiting in the queue.
    Pending,
    /// Ended in any way.
    Finished,
    /// Ended with an error or cancelled.
    Failed,
    /// Ended with exit status 0.
    Done,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// How many jobs to list, newest first (0: all).
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    /// Only jobs in this state.
    #[arg(long, value_enum)]
    pub status: Option<StatusChoice>,
    /// Only jobs working in this folder.
    #[arg(long, value_name = "DIR")]
    pub cwd: Option<PathBuf>,
    /// Only jobs of this agent (codex, claude, gemini, or one from the config).
    #[arg(long, value_name = "NAME")]
    pub agent: Option<String>,
    /// Only jobs with this label (repeat: with every one).
    #[arg(long, value_name = "LABEL")]
    pub label: Vec<String>,
    /// Only jobs of this group (`default`: those without one).
    #[arg(long, value_name = "NAME")]
    pub group: Option<String>,
    /// Every host's jobs too (config.toml's [hosts.NAME]), each asked at once; a host that fails is named on stderr.
    #[arg(long)]
    pub all_hosts: bool,
    /// Print the rows as one JSON array (the codex_list shape).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CancelArgs {
    /// The job: its id, or the start of exactly one id.
    pub job_id: String,
    /// Between SIGINT and SIGKILL (SIGTERM comes halfway): seconds, or 90s, 500ms. Default: the config's, else 5.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub grace: Option<Duration>,
    /// Return as soon as the cancel is asked for; the job's supervisor still ends it (SIGKILL at the end of the grace period).
    #[arg(long)]
    pub no_wait: bool,
    #[command(flatten)]
    pub on: HostArg,
    /// Print the codex_cancel result as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct WaitArgs {
    /// The job: its id, or the start of exactly one id.
    pub job_id: String,
    /// Give up after this long (exit status 124): seconds, or 90s, 20m, 2h; default: wait for ever.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Option<Duration>,
    /// While waiting, print the job's newest output line on stderr as it changes.
    #[arg(long)]
    pub progress: bool,
    /// Show the whole prompt (by default a long one is cut to its start).
    #[arg(long)]
    pub full_prompt: bool,
    #[command(flatten)]
    pub on: HostArg,
    /// Print the codex_wait fields as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// The finished jobs to delete.
    #[arg(required = true, num_args = 1.., value_name = "JOB_ID")]
    pub job_ids: Vec<String>,
    #[command(flatten)]
    pub on: HostArg,
    /// Print {"deleted": [...], "failed": [{"job_id", "error"}]} as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct GcArgs {
    /// Remove finished jobs that ended longer ago than this: seconds, or 30m, 12h, 7d.
    #[arg(long, value_name = "AGE", value_parser = parse_duration)]
    pub older_than: Option<Duration>,
    /// Keep the newest N finished jobs whatever their age.
    #[arg(long, value_name = "N")]
    pub keep: Option<usize>,
    /// Say what would be removed; remove nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print what was (or would be) removed as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Write a commented example config (every key, with its default) if there is none.
    #[arg(long)]
    pub init: bool,
    /// Print every setting with its value and source as JSON.
    #[arg(long)]
    pub json: bool,
}

impl StartArgs {
    pub fn flags(&self) -> Flags {
        Flags {
            policy: self.approval_policy,
            agent: self.agent.clone(),
            max_running: self.limits.max_running,
            stall_timeout: self.time_limits.stall_timeout,
            max_duration: self.time_limits.max_duration,
            ..Flags::default()
        }
    }
}

impl ReplyArgs {
    /// The policy is not among them: a follow-up keeps its parent's unless given.
    pub fn flags(&self) -> Flags {
        Flags {
            max_running: self.limits.max_running,
            stall_timeout: self.time_limits.stall_timeout,
            max_duration: self.time_limits.max_duration,
            ..Flags::default()
        }
    }
}

mod groups;
mod rerun;
mod server;

pub use groups::{AgentArgs, LimitArgs, TimeLimitArgs, parse_policy};
pub use rerun::RerunArgs;
pub use server::{DashboardArgs, DemoAgentArgs, ServeArgs, ServerArgs, TokenArgs, parse_http_addr, parse_listen};

#[cfg(test)]
mod tests;
