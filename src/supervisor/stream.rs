//! The agent's stdout and stderr, both read here, in the order they come, and written
//! to the job's files: for agents that report in a structured stream, every byte of
//! stdout kept in `events.jsonl`, a readable transcript appended to `output.txt`, and
//! what the stream tells (session id, usage, activity) written to the meta a few times
//! a second, into the record the supervisor keeps, written whole (see `jobs::store::kept`); for other agents, stdout and stderr share one pipe (as they shared the
//! output file before), so their order is the order the agent wrote them in.
//!
//! A structured stream's stdout and its stderr are two pipes. The pump lets stdout
//! gather between reads, but stderr cuts a gathering short: whenever it reads, it
//! takes what stdout holds first, then stderr, so a line the agent printed on stdout
//! before one on stderr comes first in `output.txt` — to within the moment it takes
//! this process to wake, far below the gathering window.
//!
//! Memory is bounded whatever the agent prints: each read is written out before the
//! next, a turn reads at most [`READ_TURN`] bytes, and a full pipe makes the agent wait
//! (the pipe's backpressure). With `max_output`, each file is cut (see [`CappedFile`]).
//!
//! The pump runs beside the wait for the agent, on the supervisor's one thread, so its
//! meta writes never overlap the supervisor's own; it is stopped, and its last word
//! taken, before the result is recorded.

use std::io::ErrorKind;
use std::os::fd::OwnedFd;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::net::unix::pipe;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep_until};

use super::budget::Budget;
use super::capped::{CappedFile, Notes};
use super::events::{LineTranslator, Observed};
use crate::jobs::agent::Stream;
use crate::jobs::record::meta::open_append;
use crate::jobs::store::kept::KeptMeta;
use crate::jobs::{JobId, JobStore};

/// The least time between two meta writes for the same job: a stream of thousands of
/// events a second costs five writes, and the meta lags the stream by at most this.
pub const META_INTERVAL: Duration = Duration::from_millis(150);

/// After a read, the pump lets stdout gather this long before reading again: a fast
/// stream is read and written in a few large pieces instead of one per event.
const GATHER: Duration = Duration::from_millis(25);

/// How much the stdout pipe holds while the pump gathers.
const PIPE_BYTES: i32 = 1024 * 1024;

/// The most one read takes from a pipe.
const READ_BYTES: usize = 256 * 1024;

/// The most one turn reads from each pipe: a flood leaves room for the meta writes,
/// and waits in its pipe meanwhile.
pub const READ_TURN: usize = 16 * 1024 * 1024;

/// When the pump last heard from the agent (milliseconds since the epoch, 0 before it
/// did): what the stall limit measures, even while `max_output` holds output back from
/// the files.
#[derive(Clone, Debug, Default)]
pub struct Heard(Arc<AtomicU64>, Budget);

impl Heard {
    fn now(&self) {
        let millis = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| since.as_millis() as u64);
        self.0.store(millis, Ordering::Relaxed);
    }

    /// The job's token budget, checked against every usage the stream reports.
    pub fn budget(&self) -> &Budget {
        &self.1
    }

    pub fn last(&self) -> Option<SystemTime> {
        match self.0.load(Ordering::Relaxed) {
            0 => None,
            millis => Some(UNIX_EPOCH + Duration::from_millis(millis)),
        }
    }
}

/// A running pump.
pub struct Pump {
    stop: oneshot::Sender<Instant>,
    task: JoinHandle<Observed>,
    heard: Heard,
}

/// The agent's ends of its stdout and stderr: given to it, then dropped here (or the
/// pump never sees its streams end).
pub struct AgentEnds {
    pub stdout: Stdio,
    pub stderr: Stdio,
}

/// The pump's ends of the agent's pipes.
pub struct PumpEnds {
    stdout: OwnedFd,
    /// `None`: stderr shares stdout's pipe.
    stderr: Option<OwnedFd>,
}

fn pipe_pair() -> std::io::Result<(OwnedFd, OwnedFd)> {
    Ok(nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?)
}

/// Pipes for an agent that reports in `stream`: one for both of a plain agent's
/// streams (so their order is kept exactly), two for a structured stream (whose stdout
/// must stay one event a line).
pub fn agent_pipes(stream: Stream) -> std::io::Result<(AgentEnds, PumpEnds)> {
    let (read, write) = pipe_pair()?;
    // A larger pipe lets the pump gather without the agent waiting; the default is
    // kept where the system refuses.
    let _ = nix::fcntl::fcntl(&read, nix::fcntl::FcntlArg::F_SETPIPE_SZ(PIPE_BYTES));
    if stream == Stream::Plain {
        let stderr = write.try_clone()?;
        return Ok((AgentEnds { stdout: Stdio::from(write), stderr: Stdio::from(stderr) }, PumpEnds { stdout: read, stderr: None }));
    }
    let (error_read, error_write) = pipe_pair()?;
    Ok((AgentEnds { stdout: Stdio::from(write), stderr: Stdio::from(error_write) }, PumpEnds { stdout: read, stderr: Some(error_read) }))
}

fn non_blocking(fd: &OwnedFd) -> std::io::Result<()> {
    let flags = nix::fcntl::fcntl(fd, nix::fcntl::FcntlArg::F_GETFL)?;
    let flags = nix::fcntl::OFlag::from_bits_truncate(flags) | nix::fcntl::OFlag::O_NONBLOCK;
    nix::fcntl::fcntl(fd, nix::fcntl::FcntlArg::F_SETFL(flags))?;
    Ok(())
}

/// A capped writer over a job file opened for appending.
fn capped(path: &std::path::Path, notes: Notes, max_output: Option<u64>) -> std::io::Result<CappedFile> {
    let file = open_append(path).map_err(std::io::Error::other)?;
    let len = file.metadata()?.len();
    Ok(CappedFile::new(file, len, notes, max_output))
}

impl Pump {
    /// Starts reading the agent's pipes for job `id`, whose record is `record`.
    pub fn start(
        store: &JobStore,
        id: &JobId,
        record: &KeptMeta,
        stream: Stream,
        ends: PumpEnds,
        max_output: Option<u64>,
        max_tokens: Option<u64>,
    ) -> std::io::Result<Pump> {
        non_blocking(&ends.stdout)?;
        let stdout = Source { fd: ends.stdout, open: true };
        let stderr = match ends.stderr {
            Some(fd) => Some(Stderr { pipe: pipe::Receiver::from_owned_fd(fd)?, open: true }),
            None => None,
        };
        let (events, reader) = match stream {
            Stream::Plain => (None, None),
            stream => (Some(capped(&store.events_path(id), Notes::JsonLines, max_output)?), Some(LineTranslator::new(stream))),
        };
        let output = capped(&store.output_path(id), Notes::Text, max_output)?;
        let heard = Heard(Arc::default(), Budget::new(max_tokens));
        let (stop, stopped) = oneshot::channel();
        let pumping = Pumping {
            record: record.clone(),
            id: id.clone(),
            stdout,
            stderr,
            events,
            output,
            reader,
            heard: heard.clone(),
            buffer: vec![0u8; READ_BYTES],
            text: String::new(),
        };
        let task = tokio::spawn(pumping.run(stopped));
        Ok(Pump { stop, task, heard })
    }

    /// When the agent last wrote anything.
    pub fn heard(&self) -> Heard {
        self.heard.clone()
    }

    /// The agent has ended: reads what is left until the streams close or `deadline`
    /// (a process the agent left behind may hold a pipe open), and returns what the
    /// stream told in all.
    pub async fn finish(self, deadline: Instant) -> Observed {
        let _ = self.stop.send(deadline);
        self.task.await.unwrap_or_default()
    }
}

/// One pipe the pump reads.
struct Source {
    fd: OwnedFd,
    /// The agent's end is still open.
    open: bool,
}

impl Source {
    /// The pipe, registered for one wait only (through a duplicate): while the pump
    /// gathers, the agent's every write would otherwise wake this process.
    fn watch(&self) -> Option<pipe::Receiver> {
        if !self.open {
            return None;
        }
        nix::unistd::dup(&self.fd).map_err(std::io::Error::from).and_then(pipe::Receiver::from_owned_fd).ok()
    }
}

/// A structured stream's stderr: registered once for the pump's life. An agent writes
/// it rarely, and each write should wake the pump (see the module's doc).
struct Stderr {
    pipe: pipe::Receiver,
    /// The agent's end is still open.
    open: bool,
}

/// Waits until `watched` is readable (or broken: the read will tell); never without one.
async fn readable(watched: &Option<pipe::Receiver>) {
    match watched {
        Some(watched) => {
            let _ = watched.readable().await;
        }
        None => std::future::pending().await,
    }
}

/// Waits until stderr has something (or ended); never when there is none, or it ended.
async fn stderr_readable(stderr: &Option<Stderr>) {
    match stderr {
        Some(stderr) if stderr.open => {
            let _ = stderr.pipe.readable().await;
        }
        _ => std::future::pending().await,
    }
}

/// Which stream a read came from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum From {
    Stdout,
    Stderr,
}

struct Pumping {
    record: KeptMeta,
    id: JobId,
    stdout: Source,
    stderr: Option<Stderr>,
    /// The raw stream, for agents with a structured one.
    events: Option<CappedFile>,
    output: CappedFile,
    /// Turns a structured stream into transcript text; `None`: the bytes are the text.
    reader: Option<LineTranslator>,
    heard: Heard,
    buffer: Vec<u8>,
    /// Transcript text on its way to `output` (emptied after every read).
    text: String,
}

impl Pumping {
    fn open(&self) -> bool {
        self.stdout.open || self.stderr.as_ref().is_some_and(|stderr| stderr.open)
    }

    fn seen(&self) -> Option<&Observed> {
        self.reader.as_ref().map(|reader| &reader.seen)
    }

    async fn run(mut self, mut stopped: oneshot::Receiver<Instant>) -> Observed {
        let mut written = Observed::default();
        let mut last_write: Option<Instant> = None;
        let mut deadline: Option<Instant> = None;
        while self.open() {
            let meta_due =
                self.seen().is_some_and(|seen| *seen != written).then(|| last_write.map_or_else(Instant::now, |at| at + META_INTERVAL));
            // Due now: written before anything else. (A timer that is due at once would
            // lose every race to a stream that is always ready.)
            if meta_due.is_some_and(|due| due <= Instant::now()) {
                self.write_meta(&mut written);
                last_write = Some(Instant::now());
                continue;
            }
            let out_watch = self.stdout.watch();
            if out_watch.is_none() && self.stdout.open {
                break;
            }
            tokio::select! {
                () = readable(&out_watch) => {}
                () = stderr_readable(&self.stderr) => {}
                _ = sleep_until(meta_due.unwrap_or_else(Instant::now)), if meta_due.is_some() => {
                    self.write_meta(&mut written);
                    last_write = Some(Instant::now());
                    continue;
                }
                at = &mut stopped, if deadline.is_none() => {
                    // The sender is dropped only if the supervisor gave up: stop at once.
                    deadline = Some(at.unwrap_or_else(|_| Instant::now()));
                    continue;
                }
                _ = sleep_until(deadline.unwrap_or_else(Instant::now)), if deadline.is_some() => break,
            }
            drop(out_watch);
            self.read_available();
            // Let stdout gather; stderr, a stop's deadline or a due meta write cut it short.
            let mut gather_end = Instant::now() + GATHER;
            if let Some(at) = deadline.into_iter().chain(meta_due).min() {
                gather_end = gather_end.min(at);
            }
            tokio::select! {
                () = sleep_until(gather_end) => {}
                () = stderr_readable(&self.stderr) => {}
            }
        }
        // What came before the pipes closed, or the deadline, is still read.
        self.read_available();
        self.text.clear();
        if let Some(reader) = self.reader.as_mut() {
            reader.finish(&mut self.text);
        }
        let text = std::mem::take(&mut self.text);
        self.append(text.as_bytes());
        self.finish_files();
        self.reader.map(|reader| reader.seen).unwrap_or_default()
    }

    /// Reads what the pipes hold now — stdout first, then stderr — at most
    /// [`READ_TURN`] bytes of each.
    fn read_available(&mut self) {
        self.read_from(From::Stdout);
        self.read_from(From::Stderr);
    }

    fn read_from(&mut self, from: From) {
        let mut taken = 0;
        while taken < READ_TURN {
            let read = match from {
                From::Stdout if self.stdout.open => nix::unistd::read(&self.stdout.fd, &mut self.buffer).map_err(std::io::Error::from),
                // Through tokio, which then knows when the pipe is empty again.
                From::Stderr => match self.stderr.as_mut() {
                    Some(stderr) if stderr.open => stderr.pipe.try_read(&mut self.buffer),
                    _ => return,
                },
                From::Stdout => return,
            };
            match read {
                Ok(0) => self.ended(from),
                Ok(read) => {
                    taken += read;
                    self.heard.now();
                    self.take(from, read);
                }
                Err(err) if err.kind() == ErrorKind::WouldBlock => return,
                Err(err) if err.kind() == ErrorKind::Interrupted => continue,
                Err(err) => {
                    tracing::warn!(job = %self.id, %err, "reading the agent's output failed");
                    self.ended(from);
                }
            }
        }
    }

    fn ended(&mut self, from: From) {
        match from {
            From::Stdout => self.stdout.open = false,
            From::Stderr => {
                if let Some(stderr) = self.stderr.as_mut() {
                    stderr.open = false;
                }
            }
        }
    }

    /// The `read` bytes in the buffer, from `from`, written where they go.
    fn take(&mut self, from: From, read: usize) {
        let bytes = &self.buffer[..read];
        let Some(reader) = self.reader.as_mut().filter(|_| from == From::Stdout) else {
            // A plain agent's output, or a structured agent's stderr: text as it is.
            if let Err(err) = self.output.write(bytes) {
                tracing::warn!(job = %self.id, %err, "could not append to the output");
            }
            return;
        };
        if let Some(events) = self.events.as_mut()
            && let Err(err) = events.write(bytes)
        {
            tracing::warn!(job = %self.id, %err, "could not keep the agent's events");
        }
        reader.feed(bytes, &mut self.text);
        if let Some(usage) = &reader.seen.usage {
            self.heard.budget().check(usage);
        }
        let text = std::mem::take(&mut self.text);
        self.append(text.as_bytes());
        // The buffer is kept for the next read, emptied.
        self.text = text;
        self.text.clear();
    }

    fn append(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if let Err(err) = self.output.write(bytes) {
            tracing::warn!(job = %self.id, %err, "could not append to the output");
        }
    }

    /// What a cap held back goes to the files.
    fn finish_files(&mut self) {
        if let Err(err) = self.output.finish() {
            tracing::warn!(job = %self.id, %err, "could not append the end of the output");
        }
        if let Some(events) = self.events.as_mut()
            && let Err(err) = events.finish()
        {
            tracing::warn!(job = %self.id, %err, "could not keep the end of the agent's events");
        }
    }

    /// Records what the stream has told so far in the meta (the job's owner writes it).
    fn write_meta(&self, written: &mut Observed) {
        let Some(seen) = self.seen() else { return };
        let recorded = self.record.update(|meta| {
            meta.details.session_id = seen.session_id.clone().or(meta.details.session_id.take());
            meta.details.usage = seen.usage.or(meta.details.usage);
            meta.details.activity = seen.activity.clone();
        });
        if let Err(err) = recorded {
            tracing::warn!(job = %self.id, %err, "could not record the agent's activity");
        }
        *written = seen.clone();
    }
}
