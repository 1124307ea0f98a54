//! `logs ID [-f]`: a job's whole output, and with `-f` what it prints next until it
//! ends — woken by the change feed, never by a timer — and `wait --progress`'s line.

use std::convert::Infallible;
use std::io::{IsTerminal, Read, Seek, SeekFrom, Write};
use std::process::ExitCode;
use std::time::Duration;

use tokio::time::Instant;

use super::args::LogsArgs;
use super::render::warn;
use crate::jobs::{Engine, FeedEvent, JobId, JobStore, LOST_RECHECK, Scope, Status, utf8_cut};
use crate::term;

/// Read at most this much at once: memory stays bounded whatever the file's size.
const CHUNK: usize = 256 * 1024;

pub fn logs(engine: &Engine, args: LogsArgs) -> anyhow::Result<ExitCode> {
    let id = engine.store().existing(&args.job_id)?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(print_logs(engine, &id, &args))
}

async fn print_logs(engine: &Engine, id: &JobId, args: &LogsArgs) -> anyhow::Result<ExitCode> {
    let store = engine.store();
    let mut printer = Printer::new(args);
    // Subscribe before reading, so nothing written in between is missed.
    let mut events = if args.follow { Some(engine.feed().subscribe(Scope::Jobs(std::slice::from_ref(id)))?) } else { None };
    let mut offset = 0;
    let mut meta = store.read_meta(id)?;
    loop {
        offset = copy_new(store, id, offset, &mut printer)?;
        let Some(events) = events.as_mut() else { break };
        if meta.status.is_finished() {
            // Its last words were written before its end was recorded.
            copy_new(store, id, offset, &mut printer)?;
            break;
        }
        let recheck = meta.supervisor_lost.then(|| Instant::now() + LOST_RECHECK);
        let record_changed = tokio::select! {
            event = events.recv() => match event {
                FeedEvent::Job(_, changes) => changes.record(),
                FeedEvent::Rescan => true,
            },
            () = sleep_until(recheck) => true,
        };
        if record_changed {
            meta = store.read_meta(id)?;
        }
    }
    printer.finish(&meta.job_id, meta.status, meta.exit_code)?;
    Ok(if args.follow { job_exit_code(meta.status, meta.exit_code) } else { ExitCode::SUCCESS })
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// The job's own exit status as far as a shell can carry it: 0 for `done`, its exit
/// code otherwise (1 when it has none, or none a shell can show).
pub(super) fn job_exit_code(status: Status, exit_code: Option<i64>) -> ExitCode {
    match (status, exit_code) {
        (Status::Done, _) => ExitCode::SUCCESS,
        (_, Some(code @ 1..=255)) => ExitCode::from(code as u8),
        _ => ExitCode::FAILURE,
    }
}

/// Prints what the file holds past `offset`; returns the new offset. A file that
/// shrank (truncated, or made again) is read from its start.
fn copy_new(store: &JobStore, id: &JobId, mut offset: u64, printer: &mut Printer) -> anyhow::Result<u64> {
    let Some(mut file) = store.open_output(id)? else { return Ok(offset) };
    let len = file.metadata()?.len();
    if len < offset {
        warn(format!("codex-async: {} was truncated; reading it again from its start", store.output_path(id).display()));
        offset = 0;
    }
    file.seek(SeekFrom::Start(offset))?;
    let mut buffer = vec![0; CHUNK];
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            return Ok(offset);
        }
        printer.bytes(&buffer[..read])?;
        offset += read as u64;
    }
}

/// The most of a line `--json` holds back waiting for its end: a longer line goes out
/// in pieces of about this size.
const JSON_PIECE: usize = 256 * 1024;

/// Where output goes: raw bytes, JSON pieces, or text through the sanitizer. Each byte
/// read is looked at a fixed number of times, and what is held is bounded, however
/// long a line is.
pub(super) struct Printer {
    raw: bool,
    json: bool,
    /// The sanitizer, with its state between reads (a line, a sequence cut between two).
    sanitizer: term::Sanitizer,
    /// With `--json`: the start of a line whose end has not come yet.
    partial: Vec<u8>,
    /// Sanitized text on its way out (emptied after every read).
    text: String,
    stdout: std::io::Stdout,
}

impl Printer {
    pub(super) fn new(args: &LogsArgs) -> Self {
        let stdout = std::io::stdout();
        let colour = stdout.is_terminal();
        Printer {
            raw: args.raw,
            json: args.json,
            sanitizer: term::Sanitizer::new(colour),
            partial: Vec::new(),
            text: String::new(),
            stdout,
        }
    }

    pub(super) fn bytes(&mut self, bytes: &[u8]) -> anyhow::Result<()> {
        if self.raw {
            return self.write(bytes);
        }
        if self.json {
            return self.json_bytes(bytes);
        }
        self.sanitizer.feed(bytes, &mut self.text);
        self.flush_text()
    }

    /// `--json`: complete lines go out as they come (only the new bytes are searched
    /// for the last line end); a line longer than [`JSON_PIECE`] goes out in pieces.
    fn json_bytes(&mut self, bytes: &[u8]) -> anyhow::Result<()> {
        if let Some(end) = memchr::memrchr(b'\n', bytes) {
            self.partial.extend_from_slice(&bytes[..=end]);
            let complete = std::mem::take(&mut self.partial);
            self.json_piece(&complete)?;
            self.partial.extend_from_slice(&bytes[end + 1..]);
        } else {
            self.partial.extend_from_slice(bytes);
        }
        if self.partial.len() >= JSON_PIECE {
            // Cut before a character the piece would split, so it reads the same.
            let cut = utf8_cut(&self.partial);
            let piece: Vec<u8> = self.partial.drain(..cut).collect();
            self.json_piece(&piece)?;
        }
        Ok(())
    }

    fn json_piece(&mut self, bytes: &[u8]) -> anyhow::Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        let line = format!("{}\n", serde_json::json!({ "output": String::from_utf8_lossy(bytes) }));
        self.write(line.as_bytes())
    }

    fn flush_text(&mut self) -> anyhow::Result<()> {
        if self.text.is_empty() {
            return Ok(());
        }
        let text = std::mem::take(&mut self.text);
        self.write(text.as_bytes())?;
        // The buffer is kept for the next read, emptied.
        self.text = text;
        self.text.clear();
        Ok(())
    }

    fn write(&mut self, bytes: &[u8]) -> anyhow::Result<()> {
        let mut stdout = self.stdout.lock();
        match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
            // `| head`: the reader has seen enough.
            Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
            other => Ok(other?),
        }
    }

    /// The last line, even without its end; with `--json`, the job's state.
    pub(super) fn finish(&mut self, job_id: &str, status: Status, exit_code: Option<i64>) -> anyhow::Result<()> {
        if self.json {
            let rest = std::mem::take(&mut self.partial);
            self.json_piece(&rest)?;
            let end = serde_json::json!({"job_id": job_id, "status": status, "exit_code": exit_code});
            return self.write(format!("{end}\n").as_bytes());
        }
        if !self.raw && self.sanitizer.finish(&mut self.text) {
            self.text.push('\n');
        }
        self.flush_text()
    }
}

/// `wait --progress`: the job's newest output line on stderr whenever it changes, at
/// most a few times a second; runs until dropped.
pub async fn show_progress(engine: &Engine, id: &JobId) -> Infallible {
    const EVERY: Duration = Duration::from_millis(250);
    let mut events = match engine.feed().subscribe(Scope::Jobs(std::slice::from_ref(id))) {
        Ok(events) => events,
        Err(_) => return std::future::pending().await,
    };
    let mut shown = String::new();
    loop {
        if let Ok(line) = engine.store().tail(id, 1, 500)
            && !line.is_empty()
            && line != shown
        {
            warn(format!("… {line}"));
            shown = line;
        }
        // Wait for output, then let more gather before looking again.
        loop {
            if let FeedEvent::Job(_, changes) = events.recv().await
                && changes.output
            {
                break;
            }
        }
        tokio::time::sleep(EVERY).await;
        while events.try_recv().is_some() {}
    }
}

#[cfg(test)]
mod tests {
    use crate::jobs::utf8_cut;

    #[test]
    fn a_json_piece_never_splits_a_character() {
        assert_eq!(utf8_cut(b"plain"), 5);
        let text = "ab日".as_bytes();
        assert_eq!(utf8_cut(text), text.len(), "a whole character at the end stays");
        assert_eq!(utf8_cut(&text[..3]), 2, "its first byte alone waits for the rest");
        assert_eq!(utf8_cut(&text[..4]), 2, "as do its first two");
        assert_eq!(utf8_cut("😀".as_bytes()), 4);
        assert_eq!(utf8_cut(&"😀".as_bytes()[..3]), 0);
        assert_eq!(utf8_cut(b"bad\xff"), 4, "an invalid byte is cut anywhere");
        assert_eq!(utf8_cut(b""), 0);
    }
}
