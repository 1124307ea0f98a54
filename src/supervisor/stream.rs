//! The agent's stdout, for agents that report in a structured stream: every byte kept
//! in `events.jsonl`, a readable transcript appended to `output.txt`, and what the
//! stream tells (session id, usage, activity) written to the meta a few times a second
//! — into the record the supervisor keeps, written whole (see `jobs::kept`).
//!
//! The pump runs beside the wait for the agent, on the supervisor's one thread, so its
//! meta writes never overlap the supervisor's own; it is stopped, and its last word
//! taken, before the result is recorded.

use std::io::{ErrorKind, Write};
use std::os::fd::OwnedFd;
use std::time::Duration;

use tokio::net::unix::pipe;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep, sleep_until, timeout_at};

use super::events::{LineTranslator, Observed};
use crate::jobs::agent::Stream;
use crate::jobs::kept::KeptMeta;
use crate::jobs::meta::open_append;
use crate::jobs::{JobId, JobStore};

/// The least time between two meta writes for the same job: a stream of thousands of
/// events a second costs five writes, and the meta lags the stream by at most this.
pub const META_INTERVAL: Duration = Duration::from_millis(150);

/// After a read, the pump lets the stream gather this long before reading again: a fast
/// stream is read and written in a few large pieces instead of one per event.
const GATHER: Duration = Duration::from_millis(25);

/// How much the pipe from the agent holds while the pump gathers.
const PIPE_BYTES: i32 = 1024 * 1024;

/// A running pump.
pub struct Pump {
    stop: oneshot::Sender<Instant>,
    task: JoinHandle<Observed>,
}

/// A pipe for the agent's stdout: the end the agent writes to, and ours.
pub fn pipe_pair() -> std::io::Result<(OwnedFd, OwnedFd)> {
    let (read, write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
    // A larger pipe lets the pump gather without the agent waiting; the default is
    // kept where the system refuses.
    let _ = nix::fcntl::fcntl(&read, nix::fcntl::FcntlArg::F_SETPIPE_SZ(PIPE_BYTES));
    Ok((read, write))
}

impl Pump {
    /// Starts reading `read` (the agent's stdout) for job `id`, whose record is `record`.
    pub fn start(store: &JobStore, id: &JobId, record: &KeptMeta, stream: Stream, read: OwnedFd) -> std::io::Result<Pump> {
        let flags = nix::fcntl::fcntl(&read, nix::fcntl::FcntlArg::F_GETFL)?;
        let flags = nix::fcntl::OFlag::from_bits_truncate(flags) | nix::fcntl::OFlag::O_NONBLOCK;
        nix::fcntl::fcntl(&read, nix::fcntl::FcntlArg::F_SETFL(flags))?;
        let events = open_append(&store.events_path(id)).map_err(std::io::Error::other)?;
        let output = open_append(&store.output_path(id)).map_err(std::io::Error::other)?;
        let (stop, stopped) = oneshot::channel();
        let pumping = Pumping { record: record.clone(), id: id.clone(), events, output, reader: LineTranslator::new(stream) };
        let task = tokio::spawn(pumping.run(read, stopped));
        Ok(Pump { stop, task })
    }

    /// The agent has ended: reads what is left until the stream closes or `deadline`
    /// (a process the agent left behind may hold the pipe open), and returns what the
    /// stream told in all.
    pub async fn finish(self, deadline: Instant) -> Observed {
        let _ = self.stop.send(deadline);
        self.task.await.unwrap_or_default()
    }
}

struct Pumping {
    record: KeptMeta,
    id: JobId,
    events: std::fs::File,
    output: std::fs::File,
    reader: LineTranslator,
}

impl Pumping {
    async fn run(mut self, pipe: OwnedFd, mut stopped: oneshot::Receiver<Instant>) -> Observed {
        let mut buffer = vec![0u8; 256 * 1024];
        let mut written = Observed::default();
        let mut last_write: Option<Instant> = None;
        let mut deadline: Option<Instant> = None;
        loop {
            let meta_due = (self.reader.seen != written).then(|| last_write.map_or_else(Instant::now, |at| at + META_INTERVAL));
            // Due now: written before anything else. (A timer that is due at once would
            // lose every race to a stream that is always ready.)
            if meta_due.is_some_and(|due| due <= Instant::now()) {
                self.write_meta(&mut written);
                last_write = Some(Instant::now());
                continue;
            }
            // The pipe is watched only while the pump waits for it (through a duplicate,
            // registered for this wait alone): while it gathers, the agent's every write
            // would otherwise wake this process.
            let Ok(watched) = nix::unistd::dup(&pipe).map_err(std::io::Error::from).and_then(pipe::Receiver::from_owned_fd) else { break };
            let closed = tokio::select! {
                ready = watched.readable() => match ready {
                    Ok(_) => {
                        drop(watched);
                        self.read_available(&pipe, &mut buffer)
                    }
                    Err(_) => true,
                },
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
                _ = sleep_until(deadline.unwrap_or_else(Instant::now)), if deadline.is_some() => true,
            };
            if closed {
                break;
            }
            // Let a fast stream gather; a stop or a due meta write waits this long at most.
            match deadline {
                Some(at) => {
                    let _ = timeout_at(at, sleep(GATHER)).await;
                }
                None => sleep(GATHER).await,
            }
        }
        // What came before the pipe closed, or the deadline, is still read.
        let _ = self.read_available(&pipe, &mut buffer);
        let mut text = String::new();
        self.reader.finish(&mut text);
        self.append_output(&text);
        self.reader.seen.clone()
    }

    /// Reads everything the pipe holds now; true when the agent's end is closed.
    fn read_available(&mut self, pipe: &OwnedFd, buffer: &mut [u8]) -> bool {
        let mut text = String::new();
        let mut closed = false;
        loop {
            match nix::unistd::read(pipe, buffer).map_err(std::io::Error::from) {
                Ok(0) => {
                    closed = true;
                    break;
                }
                Ok(read) => {
                    let bytes = &buffer[..read];
                    if let Err(err) = self.events.write_all(bytes) {
                        tracing::warn!(job = %self.id, %err, "could not keep the agent's events");
                    }
                    self.reader.feed(bytes, &mut text);
                }
                Err(err) if err.kind() == ErrorKind::WouldBlock => break,
                Err(err) if err.kind() == ErrorKind::Interrupted => continue,
                Err(err) => {
                    tracing::warn!(job = %self.id, %err, "reading the agent's output failed");
                    closed = true;
                    break;
                }
            }
        }
        self.append_output(&text);
        closed
    }

    fn append_output(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        if let Err(err) = self.output.write_all(text.as_bytes()) {
            tracing::warn!(job = %self.id, %err, "could not append to the output");
        }
    }

    /// Records what the stream has told so far in the meta (the job's owner writes it).
    fn write_meta(&self, written: &mut Observed) {
        let seen = &self.reader.seen;
        let recorded = self.record.update(|meta| {
            meta.session_id = seen.session_id.clone().or(meta.session_id.take());
            meta.usage = seen.usage.or(meta.usage);
            meta.activity = seen.activity.clone();
        });
        if let Err(err) = recorded {
            tracing::warn!(job = %self.id, %err, "could not record the agent's activity");
        }
        *written = seen.clone();
    }
}
