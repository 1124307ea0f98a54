//! The command line: its verbs (`start`, `poll`, `list`, `cancel`, `gc`, `config`, …),
//! each a thin client of the engine; the definitions clap parses are in `args`, the text
//! they print in `render`.

mod approve;
mod args;
pub mod cancel;
mod hosts;
pub mod list;
mod logs;
mod pause;
mod prompt_words;
mod register;
mod render;
pub mod rerun;
mod shell;
mod worktree;
mod worktree_lines;

pub use approve::{ApproveArgs, approve};
pub use args::*;
pub use pause::pause;
pub use register::{InstallArgs, TargetArgs, UninstallArgs, install, uninstall};
pub use render::warn;
pub use shell::{CompletionsArgs, ManArgs, completions, man};
pub use worktree::{ApplyArgs, DiffArgs, DiscardArgs, WorktreeArgs};

use std::io::Read;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;

use crate::config::{Flags, Settings};
use crate::jobs::{
    Ceiling, Engine, FollowUp, GcRule, Inherited, JobError, MAX_PROMPT_BYTES, PROMPT_FILE, StartRequest, Status, TAIL_LINES,
};

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
            | JobError::Ambiguous { .. }
            | JobError::CwdMissing(_)
            | JobError::CwdNotDir(_)
            | JobError::UnknownPolicy { .. }
            | JobError::EmptyPrompt
            | JobError::PromptTooLong { .. }
            | JobError::StillRunning { .. }
            | JobError::BadRequest(_)
            | JobError::AboveCeiling { .. },
        ) => ExitCode::from(EXIT_USAGE),
        _ if err.downcast_ref::<crate::config::ConfigError>().is_some() => ExitCode::from(EXIT_USAGE),
        _ if err.downcast_ref::<crate::hosts::HostError>().is_some_and(crate::hosts::HostError::is_usage) => ExitCode::from(EXIT_USAGE),
        _ if err.downcast_ref::<prompt_words::OptionInPrompt>().is_some() => ExitCode::from(EXIT_USAGE),
        _ => ExitCode::FAILURE,
    }
}

/// The settings for a command: its flags over the environment over config.toml. With
/// `ignore_config`, a mistake in the file is set aside (and returned, to be shown).
pub fn settings(engine: &Engine, flags: &Flags, ignore_config: bool) -> anyhow::Result<(Settings, Option<String>)> {
    match Settings::load(engine.store().home(), flags) {
        Ok(settings) => Ok((settings, None)),
        // A flag's mistake (`--agent aider`) is the command line's, not the file's.
        Err(err) if err.place.starts_with("flag ") => {
            Err(crate::config::ConfigError { place: err.place.trim_start_matches("flag ").to_owned(), message: err.message }.into())
        }
        Err(err) if ignore_config => Ok((Settings::without_file(engine.store().home(), flags)?, Some(err.to_string()))),
        Err(err) => Err(anyhow::Error::new(err)
            .context("the configuration has a mistake (fix it; a server or the dashboard starts anyway with --ignore-config)")),
    }
}

/// Where the job a verb names lives: this machine (then `job_id` is its id, any
/// `local:` gone) or a host, with the settings that say how to reach it (`None` then).
fn on_host(engine: &Engine, on: &HostArg, job_id: &mut String) -> anyhow::Result<Option<(Settings, String, String)>> {
    match crate::hosts::job_ref(on.host.as_deref(), job_id)? {
        crate::hosts::JobRef::Local(id) => {
            *job_id = id;
            Ok(None)
        }
        crate::hosts::JobRef::Remote { host, id } => Ok(Some((settings(engine, &Flags::default(), false)?.0, host, id))),
    }
}

/// `logs`: a host's job's, or this machine's (see [`logs`]).
pub fn logs(engine: &Engine, mut args: LogsArgs) -> anyhow::Result<ExitCode> {
    if let Some((settings, host, id)) = on_host(engine, &args.on, &mut args.job_id)? {
        return hosts::logs(&settings, &host, &id, &args);
    }
    logs::logs(engine, args)
}

/// `diff`: a host's job's change, or this machine's.
pub fn diff(engine: &Engine, mut args: DiffArgs) -> anyhow::Result<ExitCode> {
    if let Some((settings, host, id)) = on_host(engine, &args.on, &mut args.job_id)? {
        return hosts::diff(&settings, &host, &id, &args);
    }
    worktree::diff(engine, args)
}

/// `apply`: a host's job's change into its origin there, or this machine's.
pub fn apply(engine: &Engine, mut args: ApplyArgs) -> anyhow::Result<ExitCode> {
    if let Some((settings, host, id)) = on_host(engine, &args.on, &mut args.job_id)? {
        return hosts::apply(&settings, &host, &id, &args);
    }
    worktree::apply(engine, args)
}

/// `discard`: a host's job's worktree and branch, on its host, or this machine's.
pub fn discard(engine: &Engine, mut args: DiscardArgs) -> anyhow::Result<ExitCode> {
    if let Some((settings, host, id)) = on_host(engine, &args.on, &mut args.job_id)? {
        return hosts::discard(&settings, &host, &id, &args);
    }
    worktree::discard(engine, args)
}

/// `hosts`: each configured host's state.
pub fn show_hosts(engine: &Engine, args: HostsArgs) -> anyhow::Result<ExitCode> {
    let (settings, _) = settings(engine, &Flags::default(), false)?;
    hosts::hosts(&settings, &args)
}

/// The prompt words joined, or stdin to its end for `-` (bounded: a prompt longer than
/// any agent takes is refused without reading it all into memory).
fn read_prompt(words: &[String]) -> anyhow::Result<String> {
    if words != ["-"] {
        return Ok(words.join(" "));
    }
    let mut bytes = Vec::new();
    std::io::stdin().take(MAX_PROMPT_BYTES as u64 + 1).read_to_end(&mut bytes).context("reading the prompt from stdin")?;
    if bytes.len() > MAX_PROMPT_BYTES {
        return Err(JobError::BadRequest(format!(
            "the prompt on stdin is over {MAX_PROMPT_BYTES} bytes; {MAX_PROMPT_BYTES} bytes is the longest prompt taken"
        ))
        .into());
    }
    String::from_utf8(bytes)
        .map_err(|err| anyhow::anyhow!("the prompt on stdin is not UTF-8 text (byte {})", err.utf8_error().valid_up_to()))
}

/// The ceiling configured for this home (`max_policy` in config.toml or
/// `CODEX_ASYNC_MAX_POLICY`): the command line is held to it as MCP callers are.
fn ceiling(engine: &Engine, settings: &Settings) -> Ceiling {
    Ceiling::new(settings.max_policy.value, engine.store().home())
}

/// Refuses one of `verb`'s own options among the prompt's words (see [`prompt_words`]).
fn check_prompt_words(verb: &str, prompt: &[String]) -> anyhow::Result<()> {
    let raw: Vec<std::ffi::OsString> = std::env::args_os().collect();
    Ok(prompt_words::check(&<Cli as clap::CommandFactory>::command(), verb, prompt, &raw)?)
}

pub fn start(engine: &Engine, args: StartArgs) -> anyhow::Result<ExitCode> {
    check_prompt_words("start", &args.prompt)?;
    let (settings, _) = settings(engine, &args.flags(), false)?;
    let prompt = read_prompt(&args.prompt)?;
    if let Some(host) = args.on.host.as_deref().filter(|host| *host != crate::config::LOCAL_HOST) {
        return hosts::start(&settings, host, &args, prompt);
    }
    let isolation = settings.worktrees.isolation(engine.store().home(), args.isolation.asked(), args.isolation.base.clone());
    if args.isolation.attempts()? > 1 {
        let plan = worktree::AttemptsPlan {
            cwd: &args.cwd,
            agent: args.agent.as_deref(),
            options: args.options.options(),
            json: args.json,
            prompt: &prompt,
        };
        return worktree::start_attempts(engine, &settings, &args.isolation, plan, isolation);
    }
    let agent = settings.agents().resolve(args.agent.as_deref())?;
    let mut request = StartRequest::new(prompt, &args.cwd, settings.policy.value, agent)?
        .with_options(args.options.options())?
        .with_limits(settings.job_limits())
        .with_schedule(args.unattended.schedule()?)
        .with_max_tokens(args.unattended.max_tokens)?
        .with_resume_on_limit(settings.resume_on_limit(args.unattended.resume_on_limit.then_some(true)));
    request.limits.max_running = settings.queue_limit(request.schedule.group.as_deref())?;
    if let Some(isolation) = isolation {
        request = request.isolated(isolation);
    }
    ceiling(engine, &settings).admit(&request)?;
    started(engine, &request, args.json, None)
}

/// A follow-up is judged as a new request, whatever its parent's record says, and says
/// what it inherited.
pub fn reply(engine: &Engine, mut args: ReplyArgs) -> anyhow::Result<ExitCode> {
    check_prompt_words("reply", &args.prompt)?;
    let (settings, _) = settings(engine, &args.flags(), false)?;
    if let Some((_, host, id)) = on_host(engine, &args.on, &mut args.job_id)? {
        return hosts::reply(&settings, &host, &id, &args, read_prompt(&args.prompt)?);
    }
    let follow = FollowUp {
        prompt: read_prompt(&args.prompt)?,
        policy: args.approval_policy,
        model: args.options.model.clone(),
        profile: args.options.profile.clone(),
        config: (!args.options.config.is_empty()).then(|| args.options.config.clone()),
        limits: settings.job_limits(),
        schedule: args.unattended.schedule()?,
        max_tokens: args.unattended.max_tokens,
        resume_on_limit: settings.resume_on_limit(args.unattended.resume_on_limit.then_some(true)),
    };
    let mut follow_up = engine.follow_up(&args.job_id, follow, &settings.agents())?;
    follow_up.queue_in(|group| settings.queue_limit(group))?;
    follow_up.admit(&ceiling(engine, &settings))?;
    started(engine, &follow_up.request, args.json, Some(&follow_up.inherited))
}

/// Starts a checked request and says what happened (and, for a follow-up, what it
/// inherited: in the JSON, or on stderr).
fn started(engine: &Engine, request: &StartRequest, json: bool, inherited: Option<&Inherited>) -> anyhow::Result<ExitCode> {
    let extra =
        inherited.map(|inherited| -> anyhow::Result<_> { Ok(("inherited", serde_json::to_value(inherited)?, inherited.describe())) });
    started_with(engine, request, json, extra.transpose()?)
}

/// Starts a checked request and says what happened; `extra` is a key the JSON gains and
/// what stderr says of it.
fn started_with(
    engine: &Engine,
    request: &StartRequest,
    json: bool,
    extra: Option<(&str, serde_json::Value, String)>,
) -> anyhow::Result<ExitCode> {
    let started = engine.start(request)?;
    if json {
        let mut value = serde_json::to_value(&started)?;
        if let (serde_json::Value::Object(map), Some((key, extra, _))) = (&mut value, &extra) {
            map.insert((*key).to_owned(), extra.clone());
        }
        emit_json(&value)?;
    } else {
        let mut out = render::Out::default();
        render::started(&mut out, &started);
        out.flush();
        if let Some((_, _, said)) = extra {
            warn(format!("codex-async: job {} {said}", started.job_id));
        }
    }
    Ok(if started.status == Status::Error { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// Whoever looks moves the queue on: a pending job whose slot freed while no
/// codex-async process ran starts now.
fn move_queue(engine: &Engine) {
    if let Err(err) = engine.advance_queue() {
        tracing::warn!(%err, "could not move the queue on");
    }
}

pub fn poll(engine: &Engine, mut args: PollArgs) -> anyhow::Result<ExitCode> {
    if let Some((settings, host, id)) = on_host(engine, &args.on, &mut args.job_id)? {
        return hosts::poll(&settings, &host, &id, &args);
    }
    move_queue(engine);
    let view = engine.poll(&args.job_id, args.tail)?;
    if args.json {
        emit_json(&view)?;
    } else {
        let prompt = prompt_shown(engine, &view.job_id, args.full_prompt)?;
        let mut out = render::Out::default();
        render::poll(&mut out, &view, &prompt);
        out.flush();
    }
    Ok(ExitCode::SUCCESS)
}

/// The prompt as plain `poll` and `wait` show it: whole with `full` (read from its file
/// when the record holds only its start), else its start, naming the file that holds it.
fn prompt_shown(engine: &Engine, job_id: &str, full: bool) -> anyhow::Result<render::PromptShown> {
    let id = engine.store().existing(job_id)?;
    if full {
        let whole = match engine.store().whole_prompt(&id)? {
            Some(whole) => whole,
            None => engine.store().read_meta(&id)?.prompt,
        };
        return Ok(render::PromptShown::Whole(whole));
    }
    let file = engine.store().job_dir(&id).join(PROMPT_FILE);
    Ok(render::PromptShown::Start { prompt_file: file.is_file().then_some(file) })
}

pub fn wait(engine: &Engine, mut args: WaitArgs) -> anyhow::Result<ExitCode> {
    if let Some((settings, host, id)) = on_host(engine, &args.on, &mut args.job_id)? {
        return hosts::wait(&settings, &host, &id, &args);
    }
    move_queue(engine);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let timeout = args.timeout.map_or(Duration::MAX / 4, |timeout| timeout.min(Duration::MAX / 4));
    let view = runtime.block_on(async {
        if !args.progress {
            return engine.wait(&args.job_id, timeout, TAIL_LINES).await;
        }
        let id = engine.store().existing(&args.job_id)?;
        tokio::select! {
            view = engine.wait(id.as_str(), timeout, TAIL_LINES) => view,
            never = logs::show_progress(engine, &id) => match never {},
        }
    })?;
    if args.json {
        emit_json(&view)?;
    } else {
        let prompt = prompt_shown(engine, &view.poll.job_id, args.full_prompt)?;
        let mut out = render::Out::default();
        render::waited(&mut out, &view, &prompt);
        out.flush();
    }
    Ok(match (view.timed_out, view.poll.status) {
        (true, _) => ExitCode::from(EXIT_TIMED_OUT),
        (false, Status::Done) => ExitCode::SUCCESS,
        (false, _) => ExitCode::FAILURE,
    })
}

/// Deletes each job it can, each where it lives (`NAME:ID` or `--host`: on its host,
/// one session per host); says which it could not and why (exit status 2 then).
pub fn delete(engine: &Engine, args: DeleteArgs) -> anyhow::Result<ExitCode> {
    let mut deleted = Vec::new();
    let mut failed: Vec<(String, String)> = Vec::new();
    let mut remotes = hosts::Removals::default();
    for raw in &args.job_ids {
        let outcome = match crate::hosts::job_ref(args.on.host.as_deref(), raw) {
            Err(err) => Err(err.to_string()),
            Ok(crate::hosts::JobRef::Local(id)) => engine.delete(&id).map(|()| id).map_err(|err| err.to_string()),
            Ok(crate::hosts::JobRef::Remote { host, id }) => {
                let settings = || settings(engine, &Flags::default(), false).map(|(settings, _)| settings);
                remotes.delete(settings, &host, &id)
            }
        };
        match outcome {
            Ok(id) => deleted.push(id),
            Err(error) => failed.push((raw.clone(), error)),
        }
    }
    if args.json {
        let failed: Vec<_> = failed.iter().map(|(id, error)| serde_json::json!({"job_id": id, "error": error})).collect();
        emit_json(&serde_json::json!({"deleted": deleted, "failed": failed}))?;
    } else {
        let mut out = render::Out::default();
        for id in &deleted {
            out.line(format!("deleted {id}"));
        }
        out.flush();
        for (_, error) in &failed {
            warn(format!("codex-async: {error}"));
        }
    }
    Ok(if failed.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(EXIT_USAGE) })
}

pub fn gc(engine: &Engine, args: GcArgs) -> anyhow::Result<ExitCode> {
    let report = engine.gc(GcRule { older_than: args.older_than, keep: args.keep }, args.dry_run)?;
    if args.json {
        emit_json(&report)?;
    } else {
        let mut out = render::Out::default();
        render::collected(&mut out, &report);
        out.flush();
    }
    Ok(ExitCode::SUCCESS)
}

pub fn config(engine: &Engine, args: ConfigArgs) -> anyhow::Result<ExitCode> {
    let path = engine.store().home().join(crate::config::CONFIG_FILE);
    if args.init {
        if path.exists() {
            anyhow::bail!("{} exists already; edit it, or move it aside to write the example", path.display());
        }
        crate::jobs::JobStore::ensure_dir(engine.store().home())?;
        crate::atomic::write(&path, crate::config::EXAMPLE.as_bytes(), crate::atomic::Durability::Durable)
            .with_context(|| format!("writing {}", path.display()))?;
        warn(format!("wrote {} (every key commented out, with its default)", path.display()));
    }
    let (settings, _) = settings(engine, &Flags::default(), false)?;
    let rows = settings.describe();
    if args.json {
        let value: serde_json::Map<String, serde_json::Value> =
            rows.iter().map(|(key, value, source)| ((*key).to_owned(), serde_json::json!({"value": value, "source": source}))).collect();
        emit_json(&serde_json::json!({"path": settings.path, "settings": value}))?;
    } else {
        let mut out = render::Out::default();
        out.line(format!("# {}{}", settings.path.display(), if settings.path.exists() { "" } else { " (none: built-in defaults)" }));
        let width = rows.iter().map(|(key, value, _)| key.len() + value.len()).max().unwrap_or(0) + 2;
        for (key, value, source) in rows {
            let pair = format!("{key} = {value}");
            out.line(format!("{pair:<width$}  ({source})", width = width + 3));
        }
        out.flush();
    }
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

/// `serve`: the settings resolved, then MCP over stdio or HTTP.
pub fn serve(engine: Engine, args: ServeArgs) -> anyhow::Result<ExitCode> {
    let (config, problem) = settings(&engine, &args.flags(), args.server.ignore_config)?;
    if let Some(problem) = problem {
        warn(format!("codex-async: config.toml set aside (--ignore-config): {problem}"));
    }
    let options = crate::mcp::ServeOptions {
        http: args.http,
        token: args.server.token(),
        token_file: args.server.token_file,
        no_auth: args.server.no_auth,
        allow_remote: args.allow_remote,
        config,
    };
    crate::mcp::serve_main(engine, options)
}

/// The dashboard: the settings resolved (a mistake in config.toml stops it unless
/// `--ignore-config`, and then it is shown in the header).
pub fn dashboard(engine: Engine, args: DashboardArgs) -> anyhow::Result<ExitCode> {
    let (config, config_problem) = settings(&engine, &args.flags(), args.server.ignore_config)?;
    let options = crate::tui::DashboardOptions {
        demo: args.demo,
        no_mcp: args.no_mcp,
        token: args.server.token(),
        token_file: args.server.token_file,
        no_auth: args.server.no_auth,
        config,
        config_problem,
    };
    crate::tui::run(engine, options)
}
