//! What the help box says: every key and every symbol, line by line, as plain text.
//! The overlay draws it; the help mode scrolls through it and stops at its last line.

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
    ("/  n/N", "search the whole output (re: for a regex); next / previous"),
    ("Space", "mark jobs: c and d then act on every marked job"),
    ("c / p", "cancel (asks y/n; a stopping job: SIGKILL now) / pause or resume"),
    ("d", "delete a finished job and its output (asks y/n)"),
    ("C", "clean: remove every finished job (asks, saying how many)"),
    ("n", "new job: prompt (Alt-Enter new line), folder (Tab completes), agent, policy"),
    ("R", "run a finished job again: its prompt, folder, agent, policy, editable"),
    ("r", "follow up a finished job: continue its conversation"),
    ("i", "detail: prompt, status, command, times, tokens, chain, last message"),
    ("D", "what the job changed: git diff against its start"),
    ("o / e", "the output (or the view) in $PAGER / $EDITOR"),
    ("s / S", "show all/running/finished/failed · sort by newest/status/cwd/duration"),
    ("f", "filter rows by text (every column)"),
    ("y / Y", "copy the job id (the view, in one) / its last message (OSC 52)"),
    ("b / B", "bell / desktop notice (OSC 9/777) when a job ends"),
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
];

/// The line under the symbols.
const NOTE: &str = "Jobs started anywhere on this jobs folder show up here live.";

/// One line of the help box.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HelpLine {
    Key { keys: &'static str, what: &'static str },
    Heading(&'static str),
    Symbol { symbol: &'static str, what: &'static str },
    Note(&'static str),
    Gap,
}

/// The help box from its first line: the keys, then the symbols under their heading,
/// then a note.
pub(crate) fn lines() -> impl Iterator<Item = HelpLine> {
    let keys = KEYS.iter().map(|&(keys, what)| HelpLine::Key { keys, what });
    let symbols = SYMBOLS.iter().map(|&(symbol, what)| HelpLine::Symbol { symbol, what });
    keys.chain([HelpLine::Gap, HelpLine::Heading("Symbols")]).chain(symbols).chain([HelpLine::Gap, HelpLine::Note(NOTE)])
}
