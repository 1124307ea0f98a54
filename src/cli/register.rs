//! `codex-async install CLIENT` and `uninstall CLIENT`: the command line over
//! [`crate::install`], printing each change as a unified diff.

use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;

use super::render::{Out, warn};
use crate::config::{Flags, Settings};
use crate::install::{self, Backup, Client, Context, Places, Program, Report, Request, Scope};
use crate::jobs::JobStore;

/// Where and how the server is registered; `uninstall` takes the same.
#[derive(Debug, Clone, Args)]
pub struct TargetArgs {
    /// Register the HTTP endpoint the dashboard or `serve --http` runs (http://127.0.0.1:PORT/mcp, PORT from config.toml,
    /// default 8765) with the bearer token, instead of `codex-async serve` over stdio.
    #[arg(long)]
    pub http: bool,
    /// With --http: the token is the one in this file, which the server reads too (`serve --token-file PATH`), instead of
    /// the one in $CODEX_ASYNC_HOME/token.
    #[arg(long, value_name = "PATH", requires = "http")]
    pub token_file: Option<std::path::PathBuf>,
    /// Which of the client's configurations to change.
    #[arg(long, value_enum, default_value_t = Scope::User, value_name = "SCOPE")]
    pub scope: Scope,
}

#[derive(Debug, Clone, Args)]
pub struct InstallArgs {
    /// The MCP client to register codex-async with.
    #[arg(value_enum, value_name = "CLIENT")]
    pub client: Client,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Also let the client call the tools without asking: Claude Code's permissions.allow, Cursor's mcpAllowlist, and for
    /// Codex approval_mode = "approve" on codex_start, codex_reply and codex_cancel (what `codex exec` needs).
    #[arg(long)]
    pub approve: bool,
    /// Replace an entry named codex-async that install did not write, or that was edited since (uninstall puts it back).
    #[arg(long)]
    pub force: bool,
    /// Print the changes as a diff; write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Clone, Args)]
pub struct UninstallArgs {
    /// The MCP client to remove codex-async from.
    #[arg(value_enum, value_name = "CLIENT")]
    pub client: Client,
    /// The same --scope (and --http) as the install; --http matters only when no record of the install is found.
    #[command(flatten)]
    pub target: TargetArgs,
    /// Remove the entry even if it was edited since install wrote it.
    #[arg(long)]
    pub force: bool,
    /// Print the changes as a diff; write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// Paths and settings `install` needs, from the environment and config.toml (read only:
/// nothing is written before the changes are known); and what to say of the program
/// chosen (see [`Program`]).
fn context(http: bool) -> anyhow::Result<(Context, Option<String>)> {
    let home = JobStore::from_env()?.home().to_path_buf();
    let port = if http {
        Settings::load(&home, &Flags::default()).context("reading the port from the configuration")?.port.value
    } else {
        crate::config::DEFAULT_PORT
    };
    let exe = std::env::current_exe()
        .and_then(|path| path.canonicalize())
        .context("finding this program's own path (the command the client is to start)")?;
    let program = Program::choose(&exe, std::env::var_os("PATH").as_deref());
    let context = Context {
        home,
        home_from_env: std::env::var_os("CODEX_ASYNC_HOME").is_some_and(|value| !value.is_empty()),
        places: Places::from_env().map_err(anyhow::Error::msg)?,
        program: program.path().to_path_buf(),
        port,
    };
    // Over HTTP no program is registered.
    Ok((context, program.note().filter(|_| !http)))
}

pub fn install(args: InstallArgs) -> anyhow::Result<ExitCode> {
    let request = Request {
        client: args.client,
        scope: args.target.scope,
        http: args.target.http,
        token_file: args.target.token_file.clone(),
        approve: args.approve,
        dry_run: args.dry_run,
        force: args.force,
    };
    let (context, program_note) = context(request.http)?;
    if let Some(note) = program_note {
        warn(format!("codex-async: {note}"));
    }
    let report = install::install(&context, &request)?;
    print(&report, "already as install leaves it: nothing to change.");
    Ok(ExitCode::SUCCESS)
}

pub fn uninstall(args: UninstallArgs) -> anyhow::Result<ExitCode> {
    let request = Request {
        client: args.client,
        scope: args.target.scope,
        http: args.target.http,
        token_file: args.target.token_file.clone(),
        approve: false,
        dry_run: args.dry_run,
        force: args.force,
    };
    let report = install::uninstall(&context(request.http)?.0, &request)?;
    print(&report, "nothing to remove.");
    Ok(if report.left.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// The title, each file's diff and what happened to it, then the notes.
fn print(report: &Report, unchanged: &str) {
    let mut out = Out::default();
    out.line(format!("{}:", report.title));
    if report.files.iter().all(|file| file.before.is_none() && file.after.is_none()) {
        out.line(format!("no file to change: {unchanged}"));
    }
    for file in &report.files {
        let shown = report.show(&file.path);
        // One true account per file: what was left in it, or what else is true of it, is
        // all there is to say of a file that did not change.
        let said = report.said_of(&file.path);
        if !file.changed() {
            if !said.is_empty() {
                said.iter().for_each(|line| out.line(line));
            } else if file.before.is_some() {
                out.line(format!("{shown}: {unchanged}"));
            }
            continue;
        }
        out.line(report.diff(file).trim_end());
        let what = match (&file.before, &file.after) {
            (None, _) => "created".to_owned(),
            (_, None) => "removed (install had made it)".to_owned(),
            _ => "changed".to_owned(),
        };
        let what = if report.dry_run { format!("would be {what}") } else { what };
        match &file.backup {
            Backup::Saved(backup) => out.line(format!("{shown}: {what}; the previous version is in {}", report.show(backup))),
            Backup::Kept(backup) => {
                out.line(format!("{shown}: {what}; what it held before the first install stays in {}", report.show(backup)))
            }
            Backup::Removed(backup) => {
                out.line(format!("{shown}: {what}; {} is removed (nothing of install's is left)", report.show(backup)))
            }
            Backup::None => out.line(format!("{shown}: {what}")),
        }
        said.iter().for_each(|line| out.line(line));
    }
    for (path, said) in report.left.iter().chain(&report.remarks) {
        if !report.files.iter().any(|file| file.path == *path) {
            out.line(said);
        }
    }
    if report.files.iter().any(|file| file.changed()) && report.dry_run {
        out.line("Dry run: nothing was written.");
    }
    for note in &report.notes {
        out.line(format!("- {note}"));
    }
    out.flush();
}
