//! What the help box says: how this dashboard runs (the MCP endpoint or why it is off,
//! the jobs folder — what a narrow header has to cut), every key and every symbol, line
//! by line, as plain text. The overlay draws it; the help mode scrolls through it and
//! stops at its last line.

use super::app::{App, McpAuth, McpState};

/// Every key.
pub(crate) const KEYS: &[(&str, &str)] = &[
    ("↑/↓ j/k", "select a job (table) or scroll (output)"),
    ("g/Home G/End", "first/last job; in the output: top / follow the end"),
    ("PgUp/PgDn", "a page of whatever has focus: the table or the output"),
    ("wheel, click", "the wheel scrolls what is under the pointer; a click selects a row"),
    ("[ / ]", "previous / next job, from anywhere (zoomed too)"),
    ("Tab", "switch focus between the table and the output"),
    ("Enter / Esc", "zoom the output (or read a cut line whole) / back"),
    ("←/→ 0 $", "without wrap: scroll sideways, to the start, to the end"),
    ("L", "read the first cut line on screen whole"),
    ("w", "wrap long lines (they scroll by screen rows)"),
    ("/", "search the output (re: regex), from the first line shown, wrapping"),
    ("n / N", "while a search is on, in either pane: next / previous match"),
    ("Esc", "ends the search (then n opens the new-job form again)"),
    ("Space", "mark a job and move down: c and d act on every marked job"),
    ("V", "mark every row from the last one marked to the selected one"),
    ("c / p", "cancel (asks y/n; a stopping job: SIGKILL now) / pause or resume"),
    ("d", "delete a finished job and its output (asks y/n)"),
    ("C", "clean: remove every finished job (asks, saying how many)"),
    ("n", "new job (no search on): prompt, folder (Tab completes), agent, policy"),
    ("R", "run a finished job again: its prompt, folder, agent, policy, editable"),
    ("r", "follow up a finished job: continue its conversation"),
    ("i", "detail: prompt, status, command, times, tokens, chain, last message"),
    ("D / a / x", "its change (frozen at its end) / apply it (asks) / discard its worktree"),
    ("Enter ← →", "on an attempt set's row: fold / unfold it; a on an attempt: o also"),
    ("", "discards the other attempts; Space, c, d, x on the set's row: every attempt"),
    ("A", "answer the job's approval request: y allow, n deny, Y allow the tool"),
    ("o / e", "the output (or the view) in $PAGER / $EDITOR"),
    ("s / S", "show all/running/finished/failed · sort by newest/status/cwd/duration"),
    ("f", "filter rows by text (every column)"),
    ("y / Y", "copy the job id (the view, in one) / its last message: sent to the"),
    ("", "terminal's clipboard (OSC 52); tmux needs `set -g set-clipboard on`"),
    ("b / B", "bell / desktop notice (OSC 9/777) when a job ends"),
    ("H", "hosts' jobs: c cancel, r follow up, D diff, a apply, x discard, n new job"),
    ("?", "this help"),
    ("q / Ctrl-C", "quit (running jobs keep running)"),
];

/// Every symbol.
pub(crate) const SYMBOLS: &[(&str, &str)] = &[
    ("● ‖", "running (also stopping, lost) · paused (p resumes it)"),
    ("◌", "pending: waiting for a slot (#N its place), or starting"),
    ("✓", "done: the agent exited 0"),
    ("✗", "error: non-zero exit, killed, or never started"),
    ("⊘", "cancelled"),
    ("!", "corrupt: its meta.json cannot be read"),
    ("•", "ended while you looked at another job"),
    ("+", "marked (Space)"),
    ("▲ ▼", "jobs above / below the rows shown"),
    ("‹ ›", "the line goes on past the left / right edge"),
    ("↳", "a follow-up of another job"),
    ("▾ ▸ └2", "an attempt set (unfolded / folded: Enter) · its attempt 2"),
    ("3× 2✓ 1● best └2", "a set's attempts, done, running (✗ failed); best: done, least change"),
];

/// The line under the symbols.
const NOTE: &str = "Jobs started anywhere on this jobs folder show up here live.";

/// One line of the help box.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum HelpLine {
    /// How this dashboard runs: a name and (a line of) its value.
    Fact {
        name: &'static str,
        value: String,
    },
    Key {
        keys: &'static str,
        what: &'static str,
    },
    Heading(&'static str),
    Symbol {
        symbol: &'static str,
        what: &'static str,
    },
    Note(&'static str),
    Gap,
}

/// The help box's width at most, borders included.
pub(crate) const HELP_WIDTH: u16 = 96;

/// Columns a fact's value has in the help box (borders and the name column off), so
/// it goes on in rows rather than being cut at any width.
fn fact_columns(app: &App) -> usize {
    usize::from(app.size.0.min(HELP_WIDTH)).saturating_sub(2 + 18).max(16)
}

/// The help box from its first line: how the dashboard runs, the keys, then the
/// symbols under their heading, then a note.
pub(crate) fn lines(app: &App) -> impl Iterator<Item = HelpLine> {
    let columns = fact_columns(app);
    let facts = facts(app).into_iter().flat_map(move |(name, value)| {
        text_rows(&value, columns)
            .into_iter()
            .enumerate()
            .map(move |(row, value)| HelpLine::Fact { name: if row == 0 { name } else { "" }, value })
    });
    let keys = KEYS.iter().map(|&(keys, what)| HelpLine::Key { keys, what });
    let symbols = SYMBOLS.iter().map(|&(symbol, what)| HelpLine::Symbol { symbol, what });
    facts
        .chain([HelpLine::Gap])
        .chain(keys)
        .chain([HelpLine::Gap, HelpLine::Heading("Symbols")])
        .chain(symbols)
        .chain([HelpLine::Gap, HelpLine::Note(NOTE)])
}

/// What the header says, whole: the MCP endpoint and its token, or why it is off; the
/// jobs folder; the queue's limit; problems with the folder or the configuration.
fn facts(app: &App) -> Vec<(&'static str, String)> {
    let mcp = match &app.mcp {
        McpState::On { url, auth } => {
            let token = match auth {
                McpAuth::File => "token: `codex-async token` prints it",
                McpAuth::Given => "token: the one given (--token or CODEX_ASYNC_TOKEN)",
                McpAuth::GivenFile => "token: the file --token-file names",
                McpAuth::Off => "no token (--no-auth)",
            };
            format!("on at {url} · {token}")
        }
        McpState::Off(reason) => format!("off: {reason}"),
        McpState::Disabled => "off (--no-mcp)".to_owned(),
        McpState::Starting => "starting…".to_owned(),
    };
    let mut facts = vec![("MCP", mcp), ("Jobs folder", app.jobs_dir.clone())];
    if let Some(limit) = app.queue_limit {
        facts.push(("Queue", format!("at most {limit} jobs run at once (max_running); the others wait")));
    }
    if let Some(problem) = &app.watch_problem {
        facts.push(("Watching", problem.clone()));
    }
    if let Some(problem) = &app.config_problem {
        facts.push(("Config", format!("ignored: {problem}")));
    }
    facts
}

/// `text` in rows of at most `columns` columns, broken at spaces where it can be.
fn text_rows(text: &str, columns: usize) -> Vec<String> {
    use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};
    let mut rows = Vec::new();
    let mut row = String::new();
    for word in text.split(' ') {
        if !row.is_empty() && row.width() + 1 + word.width() > columns {
            rows.push(std::mem::take(&mut row));
        }
        if !row.is_empty() {
            row.push(' ');
        }
        // A word wider than a row is cut into rows of its own.
        for ch in word.chars() {
            if row.width() + ch.width().unwrap_or(0) > columns && !row.is_empty() {
                rows.push(std::mem::take(&mut row));
            }
            row.push(ch);
        }
    }
    rows.push(row);
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_go_on_in_rows_broken_at_spaces() {
        assert_eq!(text_rows("off: address in use", 10), ["off:", "address in", "use"]);
        assert_eq!(text_rows("abcdefghijkl", 5), ["abcde", "fghij", "kl"]);
        assert_eq!(text_rows("", 5), [""]);
    }
}
