//! `codex-async list` (also `status`, `ls`): the jobs as a table that fits the terminal —
//! AGENT and CWD columns when it is wide enough, times in local time with the zone — and
//! what was left out said at its end; `--json` prints the codex_list rows as they are.

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;

use super::render::{self, Out, duration, warn, zone_of};
use super::{ListArgs, StatusChoice, emit_json, move_queue};
use crate::config::{Flags, LOCAL_HOST};
use crate::jobs::{Engine, ListView};

/// The width assumed when neither the terminal nor `COLUMNS` says.
const DEFAULT_COLUMNS: usize = 80;
/// The prompt keeps at least this many columns; AGENT and CWD give way first.
const MIN_PROMPT: usize = 24;
/// The longest the CWD column grows (the end of the path is kept).
const MAX_CWD: usize = 32;

pub fn list(engine: &Engine, args: ListArgs) -> anyhow::Result<ExitCode> {
    move_queue(engine);
    if args.all_hosts {
        return list_all_hosts(engine, &args);
    }
    let filter = filter_text(&args);
    let (rows, total, matching) = if filter.is_empty() {
        let rows = engine.list(args.limit)?;
        let total = if args.limit == 0 || rows.len() < args.limit { rows.len() } else { engine.store().job_folders()?.len() };
        (rows, total, total)
    } else {
        let cwd = args.cwd.as_deref().map(|cwd| std::fs::canonicalize(cwd).unwrap_or_else(|_| cwd.to_owned()));
        let all = engine.list(0)?;
        let total = all.len();
        let mut rows: Vec<_> = all
            .into_iter()
            .filter(|row| args.status.is_none_or(|wanted| status_matches(wanted, &row.status)))
            .filter(|row| cwd.as_ref().is_none_or(|cwd| Path::new(&row.cwd) == cwd))
            .filter(|row| args.agent.as_deref().is_none_or(|agent| row.agent.as_deref().unwrap_or("codex") == agent))
            .filter(|row| args.label.iter().all(|label| row.labels.contains(label)))
            .filter(|row| args.group.as_deref().is_none_or(|group| row.group.as_deref().unwrap_or("default") == group))
            .collect();
        let matching = rows.len();
        if args.limit > 0 {
            rows.truncate(args.limit);
        }
        (rows, total, matching)
    };
    if args.json {
        emit_json(&rows)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = Out::default();
    match (rows.is_empty(), filter.is_empty()) {
        (true, true) => out.line("no jobs yet: start one with `codex-async start --cwd DIR -- PROMPT`"),
        (true, false) => out.line(format!(
            "no job matches {filter} ({total} job{} stored; `codex-async list` shows them all)",
            if total == 1 { "" } else { "s" }
        )),
        (false, _) => {
            let home = std::env::var_os("HOME").filter(|home| !home.is_empty()).map(std::path::PathBuf::from);
            table(&mut out, &rows, columns(), home.as_deref(), false);
            if matching > rows.len() {
                out.line(format!("… {} more (--limit 0 for all)", matching - rows.len()));
            }
        }
    }
    out.flush();
    Ok(ExitCode::SUCCESS)
}

/// `list --all-hosts`: this machine's jobs and every host's (each host asked at once,
/// within its own deadline), newest first; a host that fails is named on stderr and the
/// others are still listed.
fn list_all_hosts(engine: &Engine, args: &ListArgs) -> anyhow::Result<ExitCode> {
    let (settings, _) = super::settings(engine, &Flags::default(), false)?;
    let filtered = !filter_text(args).is_empty();
    let asked = if filtered { 0 } else { args.limit };
    let local = engine.list(asked)?;
    let gathered = super::hosts::gather(&settings, asked)?;
    let cwd = args.cwd.as_deref().map(|cwd| std::fs::canonicalize(cwd).unwrap_or_else(|_| cwd.to_owned()));
    let mut rows: Vec<(String, ListView)> = local.into_iter().map(|row| (LOCAL_HOST.to_owned(), row)).collect();
    for (host, answer) in gathered {
        match answer {
            Ok(list) => rows.extend(list.into_iter().map(|row| (host.clone(), row))),
            Err(err) => warn(format!("codex-async: {err}")),
        }
    }
    rows.retain(|(host, row)| {
        // A host's folders are its own: --cwd compares them as written.
        let folder_matches = cwd.as_ref().is_none_or(|cwd| match host.as_str() {
            LOCAL_HOST => Path::new(&row.cwd) == cwd,
            _ => args.cwd.as_deref().is_some_and(|asked| Path::new(&row.cwd) == asked),
        });
        folder_matches
            && args.status.is_none_or(|wanted| status_matches(wanted, &row.status))
            && args.agent.as_deref().is_none_or(|agent| row.agent.as_deref().unwrap_or("codex") == agent)
            && args.label.iter().all(|label| row.labels.contains(label))
            && args.group.as_deref().is_none_or(|group| row.group.as_deref().unwrap_or("default") == group)
    });
    // Newest first across hosts; a job not started yet (pending) leads, as it does locally.
    rows.sort_by(|(_, a), (_, b)| match (a.started_at, b.started_at) {
        (None, None) => std::cmp::Ordering::Equal,
        (None, Some(_)) => std::cmp::Ordering::Less,
        (Some(_), None) => std::cmp::Ordering::Greater,
        (Some(a), Some(b)) => b.0.cmp(&a.0),
    });
    let matching = rows.len();
    if args.limit > 0 {
        rows.truncate(args.limit);
    }
    if args.json {
        let mut shown = Vec::with_capacity(rows.len());
        for (host, row) in &rows {
            let mut value = serde_json::to_value(row)?;
            if let serde_json::Value::Object(map) = &mut value {
                map.insert("host".to_owned(), serde_json::Value::String(host.clone()));
            }
            shown.push(value);
        }
        emit_json(&shown)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = Out::default();
    if rows.is_empty() {
        out.line("no jobs on this machine or its hosts match");
    } else {
        let home = std::env::var_os("HOME").filter(|home| !home.is_empty()).map(std::path::PathBuf::from);
        let rows: Vec<ListView> = rows.into_iter().map(|(_, row)| row).collect();
        table(&mut out, &rows, columns(), home.as_deref(), true);
        if matching > rows.len() {
            out.line(format!("… {} more (--limit 0 for all)", matching - rows.len()));
        }
    }
    out.flush();
    Ok(ExitCode::SUCCESS)
}

/// The filter as typed, `--status failed --agent claude`; empty for none.
fn filter_text(args: &ListArgs) -> String {
    let mut parts = Vec::new();
    if let Some(status) = args.status {
        let name = clap::ValueEnum::to_possible_value(&status).map_or_else(String::new, |value| value.get_name().to_owned());
        parts.push(format!("--status {name}"));
    }
    if let Some(cwd) = &args.cwd {
        parts.push(format!("--cwd {}", cwd.display()));
    }
    if let Some(agent) = &args.agent {
        parts.push(format!("--agent {agent}"));
    }
    for label in &args.label {
        parts.push(format!("--label {label}"));
    }
    if let Some(group) = &args.group {
        parts.push(format!("--group {group}"));
    }
    parts.join(" ")
}

fn status_matches(wanted: StatusChoice, status: &str) -> bool {
    match wanted {
        StatusChoice::Running => matches!(status, "running" | "paused"),
        StatusChoice::Pending => status == "pending",
        StatusChoice::Done => status == "done",
        StatusChoice::Failed => matches!(status, "error" | "cancelled"),
        StatusChoice::Finished => matches!(status, "done" | "error" | "cancelled"),
    }
}

/// The terminal's width when stdout is one, else `COLUMNS`, else 80.
fn columns() -> usize {
    if std::io::stdout().is_terminal()
        && let Ok((width, _)) = crossterm::terminal::size()
        && width > 0
    {
        return usize::from(width);
    }
    std::env::var("COLUMNS").ok().and_then(|text| text.trim().parse().ok()).filter(|&width| width > 0).unwrap_or(DEFAULT_COLUMNS)
}

/// A folder as it reads best in a narrow column: `~` for the home, and the end kept
/// (`…/clients/repo`), since the last names tell folders apart.
pub fn short_dir(dir: &str, home: Option<&Path>, max: usize) -> String {
    let shown = match home.and_then(|home| Path::new(dir).strip_prefix(home).ok()) {
        Some(rest) if rest.as_os_str().is_empty() => "~".to_owned(),
        Some(rest) => format!("~/{}", rest.display()),
        None => dir.to_owned(),
    };
    let count = shown.chars().count();
    if count <= max || max < 2 {
        return shown;
    }
    let tail: String = shown.chars().skip(count - (max - 1)).collect();
    // Cut at a folder's start when one is in reach.
    match tail.find('/') {
        Some(at) if at + 2 < tail.len() => format!("…{}", &tail[at..]),
        _ => format!("…{tail}"),
    }
}

/// The rows as a table `width` columns wide (the prompt cut to fit; AGENT and CWD only
/// when they fit beside a readable prompt); with `hosts`, a HOST column first, taken
/// from the ids (`NAME:ID`; this machine's have none).
fn table(out: &mut Out, rows: &[ListView], width: usize, home: Option<&Path>, hosts: bool) {
    let zones: Vec<String> = rows.iter().filter_map(|row| row.started_at).map(zone_of).collect();
    let one_zone = zones.first().filter(|first| zones.iter().all(|zone| zone == *first)).cloned();
    let started_header = one_zone.as_ref().map_or_else(|| "STARTED".to_owned(), |zone| format!("STARTED ({zone})"));
    let mut cells: Vec<Vec<String>> = vec![vec![
        "ID".to_owned(),
        "STATUS".to_owned(),
        "EXIT".to_owned(),
        started_header,
        "TIME".to_owned(),
        "AGENT".to_owned(),
        "CWD".to_owned(),
        "HOST".to_owned(),
    ]];
    let mut prompts = vec!["PROMPT".to_owned()];
    let rows = super::worktree_lines::attempt_sets_together(rows);
    for row in &rows {
        let status = match (row.queue_position, &row.cancel_reason) {
            (Some(position), _) => format!("{} #{position}", row.status),
            (None, Some(reason)) if reason != "requested" => format!("{} ({reason})", row.status),
            _ => row.status.clone(),
        };
        let (host, bare) = match row.job_id.split_once(':') {
            Some((host, id)) => {
                let unqualified = |id: &String| id.split_once(':').map_or_else(|| id.clone(), |(_, id)| id.to_owned());
                let attempt_group = row.attempt_group.as_ref().map(unqualified);
                (host.to_owned(), ListView { job_id: id.to_owned(), attempt_group, ..row.clone() })
            }
            None => (LOCAL_HOST.to_owned(), row.clone()),
        };
        cells.push(vec![
            super::worktree_lines::id_cell(&bare),
            status,
            row.exit_code.map_or(String::new(), |code| code.to_string()),
            render::local_time(row.started_at, one_zone.is_none()),
            match (&row.error, row.finished_at) {
                (Some(_), _) => String::new(),
                (None, finished) => duration(row.started_at, finished),
            },
            if row.error.is_some() { String::new() } else { row.agent.clone().unwrap_or_else(|| "codex".to_owned()) },
            short_dir(&row.cwd, home, MAX_CWD),
            host,
        ]);
        prompts.push(match (&row.error, &row.activity) {
            (Some(error), _) => error.clone(),
            // What a running job does now says more than how it was asked.
            (None, Some(activity)) if row.finished_at.is_none() => format!("[{activity}] {}", render::first_line(&row.prompt)),
            (None, _) => format!("{}{}", super::worktree_lines::change_cell(row), render::first_line(&row.prompt)),
        });
    }
    let widths: Vec<usize> =
        (0..cells[0].len()).map(|column| cells.iter().map(|row| row[column].chars().count()).max().unwrap_or(0)).collect();
    let used = |shown: &[usize]| shown.iter().map(|&column| widths[column] + 2).sum::<usize>();
    let mut shown: Vec<usize> = if hosts { vec![7, 0, 1, 2, 3, 4] } else { vec![0, 1, 2, 3, 4] };
    for extra in [5, 6] {
        let with = [shown.as_slice(), &[extra]].concat();
        if used(&with) + MIN_PROMPT <= width {
            shown = with;
        }
    }
    let prompt_room = width.saturating_sub(used(&shown)).max(MIN_PROMPT);
    for (row, prompt) in cells.iter().zip(&prompts) {
        let mut line = String::new();
        for &column in &shown {
            line.push_str(&format!("{:<width$}  ", row[column], width = widths[column]));
        }
        line.push_str(&cut(prompt, prompt_room));
        out.line(line.trim_end());
    }
}

/// `text` in at most `max` characters, an ellipsis where it was cut.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut kept: String = text.chars().take(max.saturating_sub(1)).collect();
    kept.push('…');
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_keeps_its_end_and_the_home_reads_as_a_tilde() {
        let home = Some(Path::new("/home/me"));
        assert_eq!(short_dir("/home/me/src/clients/repo", home, 32), "~/src/clients/repo");
        assert_eq!(short_dir("/home/me", home, 32), "~");
        assert_eq!(short_dir("/home/me/src/clients/repo", home, 12), "…/repo");
        assert_eq!(short_dir("/home/me/src/clients/work", home, 16), "…/clients/work");
        assert_eq!(short_dir("/srv/x", home, 32), "/srv/x");
        assert_eq!(cut("fix the bug", 8), "fix the…");
        assert_eq!(cut("fix", 8), "fix");
    }
}
