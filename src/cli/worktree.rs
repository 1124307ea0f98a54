//! The verbs of a job's change: `diff`, `apply`, `discard`, and the worktree options of
//! `start` (`--worktree`, `--base`, `--attempts`).

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Args;

use super::render::{Out, warn};
use crate::jobs::{ApplyOptions, ChangeView, DiffShape, DiscardView, Engine, JobError, MAX_ATTEMPTS};

/// How a new job is isolated.
#[derive(Debug, Clone, Default, Args)]
pub struct WorktreeArgs {
    /// Run in a new git worktree of the repository that holds --cwd, on branch codex-async/<id> (the config's `isolation` sets the default).
    #[arg(long, overrides_with = "no_worktree")]
    pub worktree: bool,
    /// Run in place even when the config's `isolation` is "worktree".
    #[arg(long)]
    pub no_worktree: bool,
    /// With --worktree: make the branch from this revision instead of the origin's HEAD.
    #[arg(long, value_name = "REF")]
    pub base: Option<String>,
    /// Try the task N times (2–8), each in its own worktree; --agent a,b,… is cycled over them. Prints one id a line.
    #[arg(long, value_name = "N")]
    pub attempts: Option<u32>,
}

impl WorktreeArgs {
    /// `Some(true)` for a worktree, `Some(false)` for in place, `None` for the default.
    pub fn asked(&self) -> Option<bool> {
        if self.worktree || self.base.is_some() || self.attempts.is_some() {
            Some(true)
        } else if self.no_worktree {
            Some(false)
        } else {
            None
        }
    }

    /// How many jobs to start (checked).
    pub fn attempts(&self) -> Result<u32, JobError> {
        match self.attempts {
            None => Ok(1),
            Some(n) if (2..=MAX_ATTEMPTS).contains(&n) => Ok(n),
            Some(n) => Err(JobError::BadRequest(format!("--attempts {n}: give 2 to {MAX_ATTEMPTS} (or leave it out for one job)"))),
        }
    }
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The job: its id, or the start of exactly one id.
    pub job_id: String,
    #[command(flatten)]
    pub on: super::args::hosts::HostArg,
    /// Only the stat: each file with its lines added and removed.
    #[arg(long, conflicts_with = "name_only")]
    pub stat: bool,
    /// Only the names of the files changed.
    #[arg(long)]
    pub name_only: bool,
    /// Print the change as JSON (stat, files, patch, notes).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The finished job whose change to bring into its origin folder.
    pub job_id: String,
    #[command(flatten)]
    pub on: super::args::hosts::HostArg,
    /// Also commit the change on the origin's current branch (the prompt is the message).
    #[arg(long)]
    pub commit: bool,
    /// Discard the other attempts of the job's set once it is applied.
    #[arg(long)]
    pub discard_others: bool,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DiscardArgs {
    /// The job whose worktree and branch to remove (its record is kept).
    pub job_id: String,
    #[command(flatten)]
    pub on: super::args::hosts::HostArg,
    /// Cancel a running job first instead of refusing.
    #[arg(long)]
    pub force: bool,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread().enable_all().build()?)
}

pub fn diff(engine: &Engine, args: DiffArgs) -> anyhow::Result<ExitCode> {
    let shape = if args.stat {
        DiffShape::Stat
    } else if args.name_only {
        DiffShape::NameOnly
    } else {
        DiffShape::Patch
    };
    let view = runtime()?.block_on(engine.change(&args.job_id, shape))?;
    if args.json {
        emit_json(&view)?;
        return Ok(ExitCode::SUCCESS);
    }
    let colour = std::io::stdout().is_terminal();
    let mut out = Out::default();
    for note in &view.notes {
        warn(format!("codex-async: {note}"));
    }
    match shape {
        DiffShape::NameOnly => view.files.iter().for_each(|file| out.line(&file.path)),
        DiffShape::Stat => stat_lines(&mut out, &view),
        DiffShape::Patch => {
            if let Some(patch) = &view.patch {
                for line in patch.lines() {
                    out.line(if colour { crate::human::colour_patch_line(line) } else { line.to_owned() });
                }
            }
        }
    }
    out.flush();
    Ok(ExitCode::SUCCESS)
}

/// ` path | 12 +++--` per file and a summary, as `git diff --stat` prints.
pub fn stat_lines(out: &mut Out, view: &ChangeView) {
    let width = view.files.iter().map(|file| file.path.chars().count()).max().unwrap_or(0);
    for file in &view.files {
        let counts = if file.binary { "Bin".to_owned() } else { (file.insertions + file.deletions).to_string() };
        let bar = format!("{}{}", "+".repeat(file.insertions.min(40) as usize), "-".repeat(file.deletions.min(40) as usize));
        out.line(format!(" {:<width$} | {counts} {bar}", file.path));
    }
    if let Some(stat) = &view.stat {
        out.line(format!(" {}", stat.summary()));
    }
}

pub fn apply(engine: &Engine, args: ApplyArgs) -> anyhow::Result<ExitCode> {
    let options = ApplyOptions { commit: args.commit, discard_others: args.discard_others };
    let view = runtime()?.block_on(engine.apply(&args.job_id, options))?;
    if args.json {
        emit_json(&view)?;
    } else if view.applied {
        let mut out = Out::default();
        out.line(format!("applied job {} to {}: {}", view.job_id, view.origin, view.files.join(", ")));
        if let Some(commit) = &view.commit {
            out.line(format!("committed as {commit}"));
        }
        if !view.discarded.is_empty() {
            out.line(format!("discarded the other attempts: {}", view.discarded.join(", ")));
        }
        out.flush();
    } else {
        warn(format!(
            "codex-async: job {}'s change does not apply to {}; nothing was changed. Not applying: {}",
            view.job_id,
            view.origin,
            if view.conflicts.is_empty() { "(git named no file)".to_owned() } else { view.conflicts.join(", ") }
        ));
        if let Some(reason) = &view.reason {
            warn(reason);
        }
    }
    Ok(if view.applied { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

pub fn discard(engine: &Engine, args: DiscardArgs) -> anyhow::Result<ExitCode> {
    let view = runtime()?.block_on(engine.discard(&args.job_id, args.force))?;
    if args.json {
        emit_json(&view)?;
    } else {
        let mut out = Out::default();
        out.line(discarded_line(&view, ""));
        out.flush();
    }
    Ok(ExitCode::SUCCESS)
}

/// `discarded job 1a2b3c4d: removed FOLDER and branch BRANCH`; `place` goes before the
/// folder (`box:` for a host's).
pub fn discarded_line(view: &DiscardView, place: &str) -> String {
    let folder = view.worktree.as_deref().unwrap_or("?");
    let branch = view.branch.as_deref().unwrap_or("?");
    if view.removed_folder {
        format!("discarded job {}: removed {place}{folder} and branch {branch}", view.job_id)
    } else {
        format!("discarded job {}: {place}{folder} was already gone; branch {branch} removed", view.job_id)
    }
}

/// What `start --attempts` starts: the start's words and options, checked.
pub struct AttemptsPlan<'a> {
    pub cwd: &'a std::path::Path,
    /// `--agent`: one name, or several separated by commas.
    pub agent: Option<&'a str>,
    pub options: crate::jobs::AgentOptions,
    pub json: bool,
    pub prompt: &'a str,
}

/// `start --attempts N`: N jobs at one task, each in its own worktree, sharing an
/// attempt set (the first one's id); `--agent a,b,…` is cycled over them. One id a line.
pub fn start_attempts(
    engine: &Engine,
    settings: &crate::config::Settings,
    worktree: &WorktreeArgs,
    plan: AttemptsPlan<'_>,
    isolation: Option<crate::jobs::Isolation>,
) -> anyhow::Result<ExitCode> {
    let count = worktree.attempts()?;
    let Some(isolation) = isolation else {
        return Err(JobError::BadRequest("--attempts needs worktrees: leave out --no-worktree".to_owned()).into());
    };
    let names: Vec<Option<&str>> = match plan.agent {
        Some(list) => list.split(',').map(|name| Some(name.trim())).collect(),
        None => vec![None],
    };
    let ceiling = crate::jobs::Ceiling::new(settings.max_policy.value, engine.store().home());
    let mut requests = Vec::new();
    for number in 1..=count {
        let name = names[(number as usize - 1) % names.len()];
        let agent = settings.agents().resolve(name)?;
        let request = crate::jobs::StartRequest::new(plan.prompt, plan.cwd, settings.policy.value, agent)?
            .with_options(plan.options.clone())?
            .with_limits(settings.job_limits())
            .isolated(isolation.clone());
        ceiling.admit(&request)?;
        requests.push(request);
    }
    let mut group: Option<String> = None;
    let mut views = Vec::new();
    let mut out = Out::default();
    for (number, mut request) in (1..=count).zip(requests) {
        request.attempt = Some(crate::jobs::Attempt { group: group.clone(), number });
        let started = engine.start(&request)?;
        group.get_or_insert_with(|| started.job_id.clone());
        if !plan.json {
            out.line(&started.job_id);
        }
        if let Some(notice) = started.notice.as_ref().filter(|_| number == 1) {
            warn(format!("codex-async: {notice}"));
        }
        views.push(started);
    }
    if plan.json {
        emit_json(&views)?;
    } else {
        out.flush();
    }
    Ok(ExitCode::SUCCESS)
}

/// One line of JSON on stdout.
fn emit_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    let mut out = Out::default();
    out.line(serde_json::to_string(value)?);
    out.flush();
    Ok(())
}
