//! Logs go to `$CODEX_ASYNC_HOME/logs/`, never to stdout (the MCP channel) or the
//! terminal (the dashboard's). The level comes from `CODEX_ASYNC_LOG` (default `info`).
//!
//! A process pays for logging only when it logs: the file (and its folder) is opened at
//! the first line written, written to directly (a line is one small append; no writer
//! thread, no channel), and a process that never logs — a `poll`, a `list` — never
//! touches the folder. Files roll daily; long-lived processes (`serve`, the dashboard)
//! remove all but the newest [`KEEP_FILES`] when they start.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::{Event, Metadata};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, Filter, Layer, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

pub const LOG_ENV: &str = "CODEX_ASYNC_LOG";

/// Daily files kept by the pruning of long-lived processes.
pub const KEEP_FILES: usize = 7;

const PREFIX: &str = "codex-async.";
const SUFFIX: &str = ".log";

/// How long a process lives, which decides what its logging does at start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// A CLI verb: logs only what is worth logging (warnings, errors).
    Command,
    /// A job's supervisor: its job's story.
    Supervisor,
    /// `serve` or the dashboard: says it started, and prunes old files.
    Server(&'static str),
}

/// Starts logging for this process. Best effort: without a writable folder there is
/// none, and nothing fails for it.
pub fn init(dir: &Path, role: Role) {
    let filter = EnvFilter::try_from_env(LOG_ENV).unwrap_or_else(|_| EnvFilter::new("info"));
    let debug = filter.max_level_hint().is_some_and(|level| level >= tracing::level_filters::LevelFilter::DEBUG);
    let writer = LazyFile::new(dir.to_owned());
    let layer = tracing_subscriber::fmt::layer().with_writer(writer).with_ansi(false).with_filter(filter).with_filter(ClientLeft { debug });
    if tracing_subscriber::registry().with(layer).try_init().is_err() {
        return;
    }
    if let Role::Server(name) = role {
        prune(dir, KEEP_FILES);
        tracing::info!(role = name, pid = std::process::id(), "started");
    }
}

/// A client that leaves while its last answer is on the way is not an error, but rmcp
/// logs it as one ("failed to send pending response during drain: channel closed"):
/// those lines are kept only when debug logging is on.
struct ClientLeft {
    debug: bool,
}

/// The `message` and `error` fields of an event.
#[derive(Default)]
struct Words {
    message: String,
    error: String,
}

impl Visit for Words {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "message" => self.message = format!("{value:?}"),
            "error" => self.error = format!("{value:?}"),
            _ => {}
        }
    }
}

impl<S> Filter<S> for ClientLeft {
    fn enabled(&self, _meta: &Metadata<'_>, _cx: &Context<'_, S>) -> bool {
        true
    }

    fn event_enabled(&self, event: &Event<'_>, _cx: &Context<'_, S>) -> bool {
        if self.debug || !event.metadata().target().starts_with("rmcp") {
            return true;
        }
        let mut words = Words::default();
        event.record(&mut words);
        !(words.message.contains("during drain") && words.error.contains("closed"))
    }
}

/// Today's file in `dir`.
fn file_for_today(dir: &Path) -> PathBuf {
    dir.join(format!("{PREFIX}{}{SUFFIX}", chrono::Local::now().format("%Y-%m-%d")))
}

/// Removes all but the newest `keep` daily files.
fn prune(dir: &Path, keep: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| {
            path.file_name().and_then(|name| name.to_str()).is_some_and(|name| name.starts_with(PREFIX) && name.ends_with(SUFFIX))
        })
        .collect();
    // The date in the name sorts as text.
    files.sort();
    let extra = files.len().saturating_sub(keep);
    for old in &files[..extra] {
        let _ = std::fs::remove_file(old);
    }
}

/// The log file, opened at the first line and again when the day changes.
#[derive(Clone)]
struct LazyFile {
    dir: PathBuf,
    open: Arc<Mutex<Option<(PathBuf, File)>>>,
}

impl LazyFile {
    fn new(dir: PathBuf) -> Self {
        LazyFile { dir, open: Arc::new(Mutex::new(None)) }
    }
}

/// One line's writer: the line is collected, then appended in one write.
struct Line {
    file: LazyFile,
    buffer: Vec<u8>,
}

impl Write for Line {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for Line {
    fn drop(&mut self) {
        if self.buffer.is_empty() {
            return;
        }
        let Ok(mut open) = self.file.open.lock() else { return };
        let today = file_for_today(&self.file.dir);
        if open.as_ref().is_none_or(|(path, _)| *path != today) {
            let _ = std::fs::DirBuilder::new().recursive(true).mode(0o700).create(&self.file.dir);
            *open = OpenOptions::new()
                .create(true)
                .append(true)
                .mode(0o600)
                .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_CLOEXEC)
                .open(&today)
                .ok()
                .map(|file| (today, file));
        }
        if let Some((_, file)) = open.as_mut() {
            let _ = file.write_all(&self.buffer);
        }
    }
}

impl<'a> MakeWriter<'a> for LazyFile {
    type Writer = Line;

    fn make_writer(&'a self) -> Self::Writer {
        Line { file: self.clone(), buffer: Vec::with_capacity(256) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_made_until_a_line_is_written() {
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join("logs");
        let file = LazyFile::new(dir.clone());
        drop(file.make_writer());
        assert!(!dir.exists(), "no line, no folder");
        let mut line = file.make_writer();
        line.write_all(b"first\n").unwrap();
        drop(line);
        let mut line = file.make_writer();
        line.write_all(b"second\n").unwrap();
        drop(line);
        assert_eq!(std::fs::read_to_string(file_for_today(&dir)).unwrap(), "first\nsecond\n");
    }

    #[test]
    fn a_client_leaving_is_not_logged_as_an_error() {
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join("logs");
        let layer = tracing_subscriber::fmt::layer()
            .with_writer(LazyFile::new(dir.clone()))
            .with_ansi(false)
            .with_filter(ClientLeft { debug: false });
        tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
            let error = "channel closed";
            tracing::error!(target: "rmcp::service", %error, "failed to send pending response during drain");
            let error = "broken pipe";
            tracing::error!(target: "rmcp::service", %error, "response send task failed");
            tracing::info!(target: "codex_async::mcp", "kept");
        });
        let text = std::fs::read_to_string(file_for_today(&dir)).unwrap();
        assert!(!text.contains("during drain"), "{text}");
        assert!(text.contains("response send task failed") && text.contains("kept"), "{text}");
    }

    #[test]
    fn pruning_keeps_the_newest_files() {
        let dir = tempfile::tempdir().unwrap();
        for day in 1..=9 {
            std::fs::write(dir.path().join(format!("{PREFIX}2026-11-0{day}{SUFFIX}")), "x").unwrap();
        }
        std::fs::write(dir.path().join("other.txt"), "x").unwrap();
        prune(dir.path(), 7);
        let mut left: Vec<String> =
            std::fs::read_dir(dir.path()).unwrap().map(|entry| entry.unwrap().file_name().into_string().unwrap()).collect();
        left.sort();
        assert_eq!(left.len(), 8);
        assert_eq!(left[0], "codex-async.2026-11-03.log");
        assert!(left.contains(&"other.txt".to_owned()));
    }
}
