//! `o` and `e`: the dashboard steps aside for `$PAGER` (default `less -R`) or
//! `$VISUAL`/`$EDITOR` (default `vi`) on a job's output or on the view shown, and
//! comes back when it ends. The terminal is handed over whole: the screen restored,
//! raw mode, mouse and bracketed paste off; the caller stops reading keys first.
//!
//! A pager writes what it is given to the terminal, so it is given the text through the
//! one sanitizer ([`term::Sanitizer`]): colour only when the pager is `less` told to
//! show it (`-R`/`-r`, on its command line or in `$LESS`), no other escape sequence
//! ever. An editor shows control characters as such: it gets the output file itself.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use crossterm::event::{DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture};
use crossterm::execute;
use crossterm::terminal::{Clear, ClearType, EnterAlternateScreen, enable_raw_mode};
use ratatui::DefaultTerminal;

use crate::jobs::{JobError, JobId, JobStore};
use crate::term;
use crate::tui::model::message::Viewer;

/// The command line of a viewer, from the environment.
pub fn viewer_command(viewer: Viewer) -> String {
    let from_env = |name: &str| std::env::var(name).ok().filter(|value| !value.trim().is_empty());
    match viewer {
        Viewer::Pager => from_env("PAGER").unwrap_or_else(|| "less -R".to_owned()),
        Viewer::Editor => from_env("VISUAL").or_else(|| from_env("EDITOR")).unwrap_or_else(|| "vi".to_owned()),
    }
}

/// Whether `pager` (a command line) shows colour sequences as colour: `less` with
/// `-R`, `-r` or their long names, given on the command line or in `less_env` (`$LESS`,
/// where options may come without their dash, as in git's `FRX`).
pub fn pager_shows_colour(pager: &str, less_env: Option<&str>) -> bool {
    let mut words = pager.split_whitespace();
    if words.next().and_then(|program| Path::new(program).file_name()).is_none_or(|name| name != "less") {
        return false;
    }
    let raw = |word: &str| match word {
        "--RAW-CONTROL-CHARS" | "--raw-control-chars" => true,
        long if long.starts_with("--") => false,
        // `-+R` turns the option off.
        short => !short.starts_with("-+") && short.trim_start_matches('-').chars().any(|flag| flag == 'R' || flag == 'r'),
    };
    words.any(|word| word.starts_with('-') && raw(word)) || less_env.is_some_and(|less| less.split_whitespace().any(raw))
}

/// What the viewer opens: a temporary file with `text`, or with the job's output, made
/// safe for a terminal when the viewer is the pager. `Ok(None)`: the job has no output.
pub fn viewer_file(store: &JobStore, viewer: Viewer, job: Option<&JobId>, text: Option<String>) -> Result<Option<ViewerFile>, JobError> {
    let colour = viewer == Viewer::Pager && pager_shows_colour(&viewer_command(viewer), std::env::var("LESS").ok().as_deref());
    let temporary = || {
        tempfile::Builder::new()
            .prefix("codex-async-view-")
            .suffix(".txt")
            .tempfile()
            .map_err(|err| JobError::io("creating", std::env::temp_dir(), err))
    };
    match (text, job) {
        (Some(text), _) => {
            let mut file = temporary()?;
            let text = if viewer == Viewer::Pager { term::sanitize_text(&text, colour) } else { text };
            file.write_all(text.as_bytes()).map_err(|err| JobError::io("writing", file.path(), err))?;
            Ok(Some(ViewerFile::Temporary(file)))
        }
        (None, Some(job)) if viewer == Viewer::Pager => {
            let Some(output) = store.open_output(job)? else { return Ok(None) };
            let mut file = temporary()?;
            let path = file.path().to_owned();
            sanitized_copy(output, file.as_file_mut(), colour).map_err(|err| JobError::io("writing", path, err))?;
            Ok(Some(ViewerFile::Temporary(file)))
        }
        (None, Some(job)) => {
            let path = store.output_path(job);
            Ok(path.exists().then_some(ViewerFile::Job(path)))
        }
        (None, None) => Ok(None),
    }
}

/// The file a viewer opens; a temporary one goes when this does.
pub enum ViewerFile {
    Temporary(tempfile::NamedTempFile),
    Job(PathBuf),
}

impl ViewerFile {
    pub fn path(&self) -> &Path {
        match self {
            ViewerFile::Temporary(file) => file.path(),
            ViewerFile::Job(path) => path,
        }
    }
}

/// Copies `output` through the sanitizer, a slice at a time: memory stays bounded
/// whatever the output's size or the length of its lines.
fn sanitized_copy(mut output: impl Read, to: &mut std::fs::File, colour: bool) -> io::Result<()> {
    let mut writer = io::BufWriter::new(to);
    let mut sanitizer = term::Sanitizer::new(colour);
    let mut buffer = vec![0u8; 256 * 1024];
    let mut text = String::new();
    loop {
        let read = output.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        sanitizer.feed(&buffer[..read], &mut text);
        writer.write_all(text.as_bytes())?;
        text.clear();
    }
    if sanitizer.finish(&mut text) {
        text.push('\n');
    }
    writer.write_all(text.as_bytes())?;
    writer.flush()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_less_told_to_show_colour_gets_colour() {
        assert!(pager_shows_colour("less -R", None));
        assert!(pager_shows_colour("/usr/bin/less -FRX", None));
        assert!(pager_shows_colour("less --RAW-CONTROL-CHARS", None));
        assert!(pager_shows_colour("less", Some("FRX")), "git's LESS");
        assert!(pager_shows_colour("less", Some("-r")));
        assert!(!pager_shows_colour("less", None));
        assert!(!pager_shows_colour("less -+R", None));
        assert!(!pager_shows_colour("less --quit-if-one-screen", None));
        assert!(!pager_shows_colour("more -R", None), "only less");
        assert!(!pager_shows_colour("most", Some("-R")));
        assert!(!pager_shows_colour("", None));
    }

    #[test]
    fn the_pager_copy_of_an_output_keeps_colour_at_most() {
        let hostile = b"\x1b[2J\x1b]0;title\x07\x1b[31mred\x1b[0m\x1b]52;c;QUJD\x07 10%\r100%\nend";
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("copy.txt");
        let mut file = std::fs::File::create(&path).unwrap();
        sanitized_copy(&hostile[..], &mut file, true).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "100%\nend\n");
        let mut file = std::fs::File::create(&path).unwrap();
        sanitized_copy(&b"\x1b[2J\x1b[31mred\x1b[0m \x1b[Hx\n"[..], &mut file, true).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "\x1b[31mred\x1b[0m x\x1b[0m\n");
        let mut file = std::fs::File::create(&path).unwrap();
        sanitized_copy(&b"\x1b[2J\x1b[31mred\x1b[0m \x1b[Hx\n"[..], &mut file, false).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "red x\n");
    }
}
