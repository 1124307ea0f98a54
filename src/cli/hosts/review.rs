//! `diff`, `apply` and `discard` of a host's job: the host's codex_diff, codex_apply and
//! codex_discard (the change is there, and so is its origin folder), shown as the local
//! verbs show theirs.

use std::io::IsTerminal;
use std::process::ExitCode;

use serde_json::json;

use super::context::{Remote, emit_json, view};
use crate::cli::render::{Out, warn};
use crate::cli::worktree::{ApplyArgs, DiffArgs, DiscardArgs};
use crate::config::Settings;
use crate::hosts::CALL_MARGIN;
use crate::jobs::{ApplyView, ChangeView, DiscardView};

/// Applying runs git on the host under its origin's lock: longer than a plain call.
const APPLY_DEADLINE: std::time::Duration = std::time::Duration::from_secs(120);

pub fn diff(settings: &Settings, host: &str, id: &str, args: &DiffArgs) -> anyhow::Result<ExitCode> {
    let remote = Remote::new(settings, host)?;
    let asked = json!({"job_id": id, "stat_only": args.stat || args.name_only});
    let answer = remote.call_job("codex_diff", asked, CALL_MARGIN)?;
    let change: ChangeView = view(host, &answer)?;
    if args.json {
        emit_json(&answer)?;
        return Ok(ExitCode::SUCCESS);
    }
    for note in &change.notes {
        warn(format!("codex-async: {note}"));
    }
    if answer["patch_truncated"] == true {
        warn(format!("codex-async: host {host} sent the start of the patch only (codex_diff's max_chars)"));
    }
    let colour = std::io::stdout().is_terminal();
    let mut out = Out::default();
    if args.name_only {
        change.files.iter().for_each(|file| out.line(&file.path));
    } else if args.stat {
        crate::cli::worktree::stat_lines(&mut out, &change);
    } else if let Some(patch) = &change.patch {
        for line in patch.lines() {
            out.line(if colour { crate::human::colour_patch_line(line) } else { line.to_owned() });
        }
    }
    out.flush();
    Ok(ExitCode::SUCCESS)
}

pub fn apply(settings: &Settings, host: &str, id: &str, args: &ApplyArgs) -> anyhow::Result<ExitCode> {
    let remote = Remote::new(settings, host)?;
    let asked = json!({"job_id": id, "commit": args.commit, "discard_others": args.discard_others});
    let answer = remote.call_job("codex_apply", asked, APPLY_DEADLINE)?;
    let applied: ApplyView = view(host, &answer)?;
    if args.json {
        emit_json(&answer)?;
    } else if applied.applied {
        let mut out = Out::default();
        out.line(format!("applied job {} to {host}:{}: {}", applied.job_id, applied.origin, applied.files.join(", ")));
        if let Some(commit) = &applied.commit {
            out.line(format!("committed as {commit}"));
        }
        if !applied.discarded.is_empty() {
            out.line(format!("discarded the other attempts: {}", applied.discarded.join(", ")));
        }
        out.flush();
    } else {
        warn(format!(
            "codex-async: job {}'s change does not apply to {host}:{}; nothing was changed. Not applying: {}",
            applied.job_id,
            applied.origin,
            if applied.conflicts.is_empty() { "(git named no file)".to_owned() } else { applied.conflicts.join(", ") }
        ));
        if let Some(reason) = &applied.reason {
            warn(reason);
        }
    }
    Ok(if applied.applied { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

pub fn discard(settings: &Settings, host: &str, id: &str, args: &DiscardArgs) -> anyhow::Result<ExitCode> {
    let remote = Remote::new(settings, host)?;
    // With --force a running job is cancelled there first: its grace is waited for.
    let answer = remote.call_job("codex_discard", json!({"job_id": id, "force": args.force}), APPLY_DEADLINE)?;
    let discarded: DiscardView = view(host, &answer)?;
    if args.json {
        emit_json(&answer)?;
    } else {
        let mut out = Out::default();
        out.line(crate::cli::worktree::discarded_line(&discarded, &format!("{host}:")));
        out.flush();
    }
    Ok(ExitCode::SUCCESS)
}
