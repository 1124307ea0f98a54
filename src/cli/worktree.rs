//! The verbs of a job's change: `diff`, `apply`, `discard`, and the worktree options of
//! `start` (`--worktree`, `--base`, `--attempts`).

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Args;

use super::emit_json;
use super::render::{Out, warn};
use crate::jobs::{ApplyOptions, ChangeView, DiffShape, Engine, JobError, MAX_ATTEMPTS};

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
fn stat_lines(out: &mut Out, view: &ChangeView) {
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
        let folder = view.worktree.as_deref().unwrap_or("?");
        out.line(if view.removed_folder {
            format!("discarded job {}: removed {folder} and branch {}", view.job_id, view.branch.as_deref().unwrap_or("?"))
        } else {
            format!("discarded job {}: {folder} was already gone; branch {} removed", view.job_id, view.branch.as_deref().unwrap_or("?"))
        });
        out.flush();
    }
    Ok(ExitCode::SUCCESS)
}

/// `start --attempts N`: N jobs at one task, each in its own worktree, sharing an
/// attempt set (the first one's id); `--agent a,b,…` is cycled over them. One id a line.
pub fn start_attempts(
    engine: &Engine,
    settings: &crate::config::Settings,
    args: &super::StartArgs,
    prompt: &str,
    isolation: Option<crate::jobs::Isolation>,
) -> anyhow::Result<ExitCode> {
    let count = args.isolation.attempts()?;
    let Some(isolation) = isolation else {
        return Err(JobError::BadRequest("--attempts needs worktrees: leave out --no-worktree".to_owned()).into());
    };
    let names: Vec<Option<&str>> = match args.agent.as_deref() {
        Some(list) => list.split(',').map(|name| Some(name.trim())).collect(),
        None => vec![None],
    };
    let mut requests = Vec::new();
    for number in 1..=count {
        let name = names[(number as usize - 1) % names.len()];
        let agent = settings.agents().resolve(name)?;
        let request = crate::jobs::StartRequest::new(prompt, &args.cwd, settings.policy.value, agent)?
            .with_options(args.options.options())?
            .with_limits(settings.job_limits())
            .isolated(isolation.clone());
        super::ceiling(engine, settings).admit(&request)?;
        requests.push(request);
    }
    let mut group: Option<String> = None;
    let mut views = Vec::new();
    let mut out = Out::default();
    for (number, mut request) in (1..=count).zip(requests) {
        request.attempt = Some(crate::jobs::Attempt { group: group.clone(), number });
        let started = engine.start(&request)?;
        group.get_or_insert_with(|| started.job_id.clone());
        if !args.json {
            out.line(&started.job_id);
        }
        if let Some(notice) = started.notice.as_ref().filter(|_| number == 1) {
            warn(format!("codex-async: {notice}"));
        }
        views.push(started);
    }
    if args.json {
        emit_json(&views)?;
    } else {
        out.flush();
    }
    Ok(ExitCode::SUCCESS)
}

/// What `poll` says of a job's worktree and change.
pub fn poll_lines(out: &mut Out, view: &crate::jobs::PollView) {
    let details = &view.details;
    if let Some(worktree) = &details.worktree {
        out.line(format!("worktree  {worktree}"));
    }
    if let Some(branch) = &details.branch {
        let base = details.base_commit.as_deref().map(|base| format!(" (from {})", base.get(..12).unwrap_or(base))).unwrap_or_default();
        out.line(format!("branch    {branch}{base}"));
    }
    if let (Some(group), Some(attempt)) = (&details.attempt_group, details.attempt) {
        out.line(format!("attempt   {attempt} of set {group}"));
    }
    if let Some(change) = &details.change {
        let mut line = format!("change    {} (codex-async diff {})", change.summary(), view.job_id);
        if change.patch_dropped {
            line.push_str("; the patch was too large to keep");
        }
        if let Some(problem) = &change.problem {
            line.push_str(&format!("; {problem}"));
        }
        out.line(line);
    }
    if let Some(applied) = details.applied_at {
        out.line(format!("applied   {}", applied.0.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M:%S %Z")));
    }
    if let Some(discarded) = details.discarded_at {
        out.line(format!("discarded {}", discarded.0.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M:%S %Z")));
    }
}

/// The rows with every attempt set together: its first attempt where the set's newest
/// member was, the other attempts right under it, in order.
pub fn attempt_sets_together(rows: &[crate::jobs::ListView]) -> Vec<crate::jobs::ListView> {
    let mut placed = std::collections::BTreeSet::new();
    let mut ordered = Vec::with_capacity(rows.len());
    for row in rows {
        let Some(group) = &row.attempt_group else {
            ordered.push(row.clone());
            continue;
        };
        if !placed.insert(group.clone()) {
            continue;
        }
        let mut members: Vec<&crate::jobs::ListView> = rows.iter().filter(|other| other.attempt_group.as_ref() == Some(group)).collect();
        members.sort_by_key(|member| member.attempt.unwrap_or(0));
        ordered.extend(members.into_iter().cloned());
    }
    ordered
}

/// The ID column: an attempt after the first is drawn under its set's first.
pub fn id_cell(row: &crate::jobs::ListView) -> String {
    match (row.attempt_group.as_deref(), row.attempt) {
        (Some(group), Some(attempt)) if group != row.job_id => format!("└{attempt} {}", row.job_id),
        _ => row.job_id.clone(),
    }
}

/// Before the prompt: the frozen change's size, and whether it was applied or discarded.
pub fn change_cell(row: &crate::jobs::ListView) -> String {
    let Some(change) = &row.change else { return String::new() };
    if change.files == 0 {
        return String::new();
    }
    let state = if row.applied_at.is_some() {
        " applied"
    } else if row.discarded_at.is_some() {
        " discarded"
    } else {
        ""
    };
    format!("[{} +{} −{}{state}] ", change.files, change.insertions, change.deletions)
}
