//! `o` and `e`: the dashboard steps aside for `$PAGER` (default `less -R`) or
//! `$VISUAL`/`$EDITOR` (default `vi`) on a job's output or on the view shown, and
//! comes back when it ends. The terminal is handed over whole: the screen restored,
//! raw mode, mouse and bracketed paste off; the caller stops reading keys first.

use std::io;
use std::path::Path;
use std::process::Command;

use crossterm::event::{DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture};
use crossterm::execute;
use crossterm::terminal::{Clear, ClearType, EnterAlternateScreen, enable_raw_mode};
use ratatui::DefaultTerminal;

use crate::tui::model::message::Viewer;

/// The command line of a viewer, from the environment.
pub fn viewer_command(viewer: Viewer) -> String {
    let from_env = |name: &str| std::env::var(name).ok().filter(|value| !value.trim().is_empty());
    match viewer {
        Viewer::Pager => from_env("PAGER").unwrap_or_else(|| "less -R".to_owned()),
        Viewer::Editor => from_env("VISUAL").or_else(|| from_env("EDITOR")).unwrap_or_else(|| "vi".to_owned()),
    }
}

/// Runs the viewer on `path` with the terminal, then takes the terminal back. Returns
/// what went wrong with the viewer, if anything (the dashboard goes on either way).
pub fn step_aside(terminal: &mut DefaultTerminal, viewer: Viewer, path: &Path) -> io::Result<Option<String>> {
    let command = viewer_command(viewer);
    execute!(io::stdout(), DisableMouseCapture, DisableBracketedPaste)?;
    ratatui::restore();
    // The command is the person's own setting: the shell splits it as it would theirs.
    let status = Command::new("sh").arg("-c").arg(format!("{command} \"$1\"")).arg("sh").arg(path).status();
    enable_raw_mode()?;
    execute!(io::stdout(), EnterAlternateScreen, EnableMouseCapture, EnableBracketedPaste, Clear(ClearType::All))?;
    // The next draw writes every cell: both buffers blank, as the screen now is.
    // (`Terminal::clear` would ask the terminal where its cursor is first, and a
    // terminal just handed back may not answer in time: the dashboard then quit.)
    terminal.swap_buffers();
    Ok(match status {
        Ok(status) if status.success() => None,
        Ok(status) => Some(format!("{command} ended with {status}")),
        Err(err) => Some(format!("could not run {command}: {err}")),
    })
}
