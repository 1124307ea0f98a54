//! `logs ID [-f]`: a job's whole output, and with `-f` what it prints next until it
//! ends — woken by the change feed, never by a timer — and `wait --progress`'s line.

use std::convert::Infallible;
use std::fs::File;
use std::io::{IsTerminal, Read, Seek, SeekFrom, Write};
use std::process::ExitCode;
use std::time::Duration;

use tokio::time::Instant;

use super::args::LogsArgs;
use super::render::warn;
use crate::jobs::feed::{FeedEvent, Scope};
use crate::jobs::wait::LOST_RECHECK;
use crate::jobs::{Engine, JobId, JobMeta, Status};
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
        offset = copy_new(&store.output_path(id), offset, &mut printer)?;
        let Some(events) = events.as_mut() else { break };
        if meta.status.is_finished() {
            // Its last words were written before its end was recorded.
            copy_new(&store.output_path(id), offset, &mut printer)?;
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
    printer.finish(&meta)?;
    Ok(if args.follow { job_exit_code(&meta) } else { ExitCode::SUCCESS })
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// The job's own exit status as far as a shell can carry it: 0 for `done`, its exit
/// code otherwise (1 when it has none, or none a shell can show).
fn job_exit_code(meta: &JobMeta) -> ExitCode {
    match (meta.status, meta.exit_code) {
        (Status::Done, _) => ExitCode::SUCCESS,
        (_, Some(code @ 1..=255)) => ExitCode::from(code as u8),
        _ => ExitCode::FAILURE,
    }
}

/// Prints what the file holds past `offset`; returns the new offset. A file that
/// shrank (truncated, or made again) is read from its start.
fn copy_new(path: &std::path::Path, mut offset: u64, printer: &mut Printer) -> anyhow::Result<u64> {
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(offset),
        Err(err) => return Err(anyhow::Error::new(err).context(format!("reading {}", path.display()))),
    };
    let len = file.metadata()?.len();
    if len < offset {
        warn(format!("codex-async: {} was truncated; reading it again from its start", path.display()));
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

/// Where output goes: raw bytes, JSON pieces, or lines through the sanitizer.
struct Printer {
    raw: bool,
    json: bool,
    colour: bool,
    /// The start of a line whose end has not come yet (sanitized output works by lines).
    partial: Vec<u8>,
    stdout: std::io::Stdout,
}

impl Printer {
    fn new(args: &LogsArgs) -> Self {
        let stdout = std::io::stdout();
        Printer { raw: args.raw, json: args.json, colour: stdout.is_terminal(), partial: Vec::new(), stdout }
    }

    fn bytes(&mut self, bytes: &[u8]) -> anyhow::Result<()> {
        if self.raw {
            return self.write(bytes);
        }
        self.partial.extend_from_slice(bytes);
        let Some(end) = self.partial.iter().rposition(|&byte| byte == b'\n') else { return Ok(()) };
        let complete: Vec<u8> = self.partial.drain(..=end).collect();
        self.text(&String::from_utf8_lossy(&complete))
    }

    fn text(&mut self, text: &str) -> anyhow::Result<()> {
        if self.json {
            let line = format!("{}\n", serde_json::json!({ "output": text }));
            return self.write(line.as_bytes());
        }
        let clean = term::sanitize_text(text, self.colour);
        self.write(clean.as_bytes())
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
    fn finish(&mut self, meta: &JobMeta) -> anyhow::Result<()> {
        if !self.partial.is_empty() {
            let mut rest = String::from_utf8_lossy(&std::mem::take(&mut self.partial)).into_owned();
            if !self.json {
                rest.push('\n');
            }
            self.text(&rest)?;
        }
        if self.json {
            let end = serde_json::json!({"job_id": meta.job_id, "status": meta.status, "exit_code": meta.exit_code});
            self.write(format!("{end}\n").as_bytes())?;
        }
        Ok(())
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
