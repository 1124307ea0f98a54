//! `codex-async list` (also `status`, `ls`): the jobs as a table that fits the terminal —
//! AGENT and CWD columns when it is wide enough, times in local time with the zone — and
//! what was left out said at its end; `--json` prints the codex_list rows as they are.

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;

use super::render::{self, Out, duration, zone_of};
use super::{ListArgs, StatusChoice, emit_json, move_queue};
use crate::jobs::{Engine, ListView};

/// The width assumed when neither the terminal nor `COLUMNS` says.
const DEFAULT_COLUMNS: usize = 80;
/// The prompt keeps at least this many columns; AGENT and CWD give way first.
const MIN_PROMPT: usize = 24;
/// The longest the CWD column grows (the end of the path is kept).
const MAX_CWD: usize = 32;

pub fn list(engine: &Engine, args: ListArgs) -> anyhow::Result<ExitCode> {
    move_queue(engine);
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
            table(&mut out, &rows, columns(), home.as_deref());
            if matching > rows.len() {
                out.line(format!("… {} more (--limit 0 for all)", matching - rows.len()));
            }
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
/// when they fit beside a readable prompt).
fn table(out: &mut Out, rows: &[ListView], width: usize, home: Option<&Path>) {
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
    ]];
    let mut prompts = vec!["PROMPT".to_owned()];
    let rows = super::worktree_lines::attempt_sets_together(rows);
    for row in &rows {
        let status = match (row.queue_position, &row.cancel_reason) {
            (Some(position), _) => format!("{} #{position}", row.status),
            (None, Some(reason)) if reason != "requested" => format!("{} ({reason})", row.status),
            _ => row.status.clone(),
        };
        cells.push(vec![
            super::worktree_lines::id_cell(row),
            status,
            row.exit_code.map_or(String::new(), |code| code.to_string()),
            render::local_time(row.started_at, one_zone.is_none()),
            match (&row.error, row.finished_at) {
                (Some(_), _) => String::new(),
                (None, finished) => duration(row.started_at, finished),
            },
            if row.error.is_some() { String::new() } else { row.agent.clone().unwrap_or_else(|| "codex".to_owned()) },
            short_dir(&row.cwd, home, MAX_CWD),
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
    let mut shown: Vec<usize> = vec![0, 1, 2, 3, 4];
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
