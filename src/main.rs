use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

use codex_async::cli::{self, Cli, Command};
use codex_async::jobs::Engine;
use codex_async::logging::{self, Role};
use codex_async::{demo, supervisor};

/// The version with the commit it was built from (see build.rs). Read here, not in the
/// library, so a new commit changes only this file's code.
const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (", env!("CODEX_ASYNC_GIT_COMMIT"), ")");

/// The command line as defined in the library, with the version.
fn command() -> clap::Command {
    Cli::command().version(VERSION)
}

fn main() -> ExitCode {
    let parsed = Cli::from_arg_matches(&command().get_matches()).unwrap_or_else(|err| err.exit());
    let result = match parsed.command {
        // These two run inside a job and set up what they need themselves.
        Some(Command::Supervise) => return supervisor::main(),
        Some(Command::Approvals { job_id }) => return supervisor::approvals::main(&job_id),
        Some(Command::Hook) => return codex_async::jobs::hook_main(),
        Some(Command::DemoAgent(args)) => return demo::agent_main(args.into()),
        Some(Command::Start(args)) => with_engine(Role::Command, |engine| cli::start(&engine, args)),
        Some(Command::Reply(args)) => with_engine(Role::Command, |engine| cli::reply(&engine, args)),
        Some(Command::Poll(args)) => with_engine(Role::Command, |engine| cli::poll(&engine, args)),
        Some(Command::Logs(args)) => with_engine(Role::Command, |engine| cli::logs(&engine, args)),
        Some(Command::List(args)) => with_engine(Role::Command, |engine| cli::list::list(&engine, args)),
        Some(Command::Approve(args)) => with_engine(Role::Command, |engine| cli::approve(&engine, args)),
        Some(Command::Cancel(args)) => with_engine(Role::Command, |engine| cli::cancel::cancel(&engine, args)),
        Some(Command::Wait(args)) => with_engine(Role::Command, |engine| cli::wait(&engine, args)),
        Some(Command::Delete(args)) => with_engine(Role::Command, |engine| cli::delete(&engine, args)),
        Some(Command::Token(args)) => with_engine(Role::Command, |engine| cli::token(&engine, args)),
        Some(Command::Pause(args)) => with_engine(Role::Command, |engine| cli::pause(&engine, args, true)),
        Some(Command::Resume(args)) => with_engine(Role::Command, |engine| cli::pause(&engine, args, false)),
        Some(Command::Gc(args)) => with_engine(Role::Command, |engine| cli::gc(&engine, args)),
        Some(Command::Diff(args)) => with_engine(Role::Command, |engine| cli::diff(&engine, args)),
        Some(Command::Apply(args)) => with_engine(Role::Command, |engine| cli::apply(&engine, args)),
        Some(Command::Discard(args)) => with_engine(Role::Command, |engine| cli::discard(&engine, args)),
        Some(Command::Config(args)) => with_engine(Role::Command, |engine| cli::config(&engine, args)),
        Some(Command::Hosts(args)) => with_engine(Role::Command, |engine| cli::show_hosts(&engine, args)),
        Some(Command::Rerun(args)) => with_engine(Role::Command, |engine| cli::rerun::rerun(&engine, args)),
        // No engine and no log file: a dry run must leave even $CODEX_ASYNC_HOME as it was.
        Some(Command::Install(args)) => cli::install(args),
        Some(Command::Uninstall(args)) => cli::uninstall(args),
        Some(Command::Completions(args)) => cli::completions(args, command()),
        Some(Command::Man(args)) => cli::man(args, command()),
        Some(Command::Serve(args)) => with_engine(Role::Server("serve"), |engine| cli::serve(engine, args)),
        None => with_engine(Role::Server("dashboard"), |engine| cli::dashboard(engine, parsed.dashboard)),
    };
    result.unwrap_or_else(|err| {
        cli::warn(format!("codex-async: {err:#}"));
        cli::exit_code_for(&err)
    })
}

fn with_engine(role: Role, run: impl FnOnce(Engine) -> anyhow::Result<ExitCode>) -> anyhow::Result<ExitCode> {
    let engine = Engine::from_env()?;
    logging::init(&engine.store().logs_dir(), role);
    run(engine)
}
