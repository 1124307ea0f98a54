//! stdio on the runtime's own thread, for the usual case: stdin and stdout are pipes or
//! sockets that a client made for this server. Both are switched to non-blocking mode
//! and watched by the runtime, so a request wakes the thread that answers it and the
//! answer is written by that same thread: no hand-over between threads on the way
//! (each costs a wake-up and a context switch, most of a small call's time).
//!
//! rmcp's `receive` reads stdin itself; `send` writes at once when nothing waits before
//! it, and otherwise leaves the rest to a flusher task that waits until the client
//! reads. Neither ever blocks, so a signal or the end of input stops the server at once
//! whatever the client does. The descriptors' flags are put back when the session ends
//! (another process may share the pipe).

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::sys::stat::{SFlag, fstat};
use rmcp::service::{RoleServer, RxJsonRpcMessage, TxJsonRpcMessage};
use rmcp::transport::Transport;
use tokio::io::unix::AsyncFd;
use tokio::sync::Notify;

use crate::mcp::wire::{Judged, MAX_LINE_BYTES, judge};

/// How much is read from stdin at a time.
const READ_CHUNK: usize = 64 * 1024;

/// stdin and stdout, when both are pipes or sockets, switched to non-blocking mode.
pub struct Fds {
    input: OwnedFd,
    output: OwnedFd,
    /// The flags to put back, per descriptor.
    restore: Vec<(OwnedFd, OFlag)>,
}

impl Fds {
    /// `None` when stdin or stdout is something else (a terminal, a file, /dev/null):
    /// those are served by plain threads.
    pub fn take() -> Option<Fds> {
        let stdin = io::stdin();
        let stdout = io::stdout();
        let (stdin, stdout) = (stdin.as_fd(), stdout.as_fd());
        if !is_pipe_or_socket(stdin) || !is_pipe_or_socket(stdout) {
            return None;
        }
        let mut fds = Fds { input: stdin.try_clone_to_owned().ok()?, output: stdout.try_clone_to_owned().ok()?, restore: Vec::new() };
        // On a failure half-way, dropping `fds` puts back what was changed.
        for fd in [fds.input.try_clone().ok()?, fds.output.try_clone().ok()?] {
            let flags = OFlag::from_bits_truncate(fcntl(&fd, FcntlArg::F_GETFL).ok()?);
            if !flags.contains(OFlag::O_NONBLOCK) {
                fcntl(&fd, FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK)).ok()?;
                fds.restore.push((fd, flags));
            }
        }
        Some(fds)
    }
}

impl Drop for Fds {
    fn drop(&mut self) {
        for (fd, flags) in &self.restore {
            let _ = fcntl(fd, FcntlArg::F_SETFL(*flags));
        }
    }
}

fn is_pipe_or_socket(fd: BorrowedFd<'_>) -> bool {
    fstat(fd).is_ok_and(|stat| {
        let kind = SFlag::from_bits_truncate(stat.st_mode) & SFlag::S_IFMT;
        kind == SFlag::S_IFIFO || kind == SFlag::S_IFSOCK
    })
}

/// rmcp's side: reads and judges lines from stdin, writes through [`Writer`].
pub struct DirectTransport {
    input: AsyncFd<OwnedFd>,
    /// Bytes read and not yet taken as lines; `scanned` of them hold no newline.
    buffer: Vec<u8>,
    scanned: usize,
    /// Where each read lands before it joins the buffer.
    scratch: Vec<u8>,
    /// Inside a line longer than [`MAX_LINE_BYTES`]: dropped up to its end.
    skipping: bool,
    ended: bool,
    writer: Arc<Writer>,
}

impl DirectTransport {
    /// The transport and its writer; the flusher must run for writes the client is slow
    /// to take.
    pub fn new(fds: &Fds) -> io::Result<(DirectTransport, Arc<Writer>)> {
        let writer = Arc::new(Writer {
            output: watch(fds.output.try_clone()?, tokio::io::Interest::WRITABLE)?,
            state: Mutex::new(WriterState::default()),
            waiting: Notify::new(),
            drained: Notify::new(),
        });
        let transport = DirectTransport {
            input: watch(fds.input.try_clone()?, tokio::io::Interest::READABLE)?,
            buffer: Vec::new(),
            scanned: 0,
            scratch: vec![0; READ_CHUNK],
            skipping: false,
            ended: false,
            writer: Arc::clone(&writer),
        };
        Ok((transport, writer))
    }

    /// The next whole line in the buffer, taken out of it (a line being skipped is
    /// dropped instead).
    fn next_line(&mut self) -> Option<Vec<u8>> {
        loop {
            let from = self.scanned.min(self.buffer.len());
            let Some(found) = memchr::memchr(b'\n', &self.buffer[from..]) else {
                self.scanned = self.buffer.len();
                return None;
            };
            let rest = self.buffer.split_off(from + found + 1);
            let mut line = std::mem::replace(&mut self.buffer, rest);
            self.scanned = 0;
            line.pop();
            if !std::mem::replace(&mut self.skipping, false) {
                return Some(line);
            }
        }
    }

    /// Reads what stdin has; false at its end.
    async fn fill(&mut self) -> bool {
        loop {
            let Ok(mut ready) = self.input.readable().await else { return false };
            let scratch = &mut self.scratch;
            match ready.try_io(|input| nix::unistd::read(input.get_ref(), scratch).map_err(io::Error::from)) {
                Ok(Ok(0)) => return false,
                Ok(Ok(read)) => {
                    self.buffer.extend_from_slice(&self.scratch[..read]);
                    return true;
                }
                Ok(Err(err)) if err.kind() == io::ErrorKind::Interrupted => {}
                Ok(Err(err)) => {
                    tracing::info!(%err, "stdin failed; ending the session");
                    return false;
                }
                // Not readable after all: wait again.
                Err(_would_block) => {}
            }
        }
    }

    fn answer(&self, body: &serde_json::Value) {
        let mut bytes = body.to_string().into_bytes();
        bytes.push(b'\n');
        let _ = self.writer.send(bytes);
    }
}

impl Transport<RoleServer> for DirectTransport {
    type Error = io::Error;

    fn send(&mut self, item: TxJsonRpcMessage<RoleServer>) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let sent = serde_json::to_vec(&item).map_err(io::Error::other).and_then(|mut bytes| {
            bytes.push(b'\n');
            self.writer.send(bytes)
        });
        std::future::ready(sent)
    }

    async fn receive(&mut self) -> Option<RxJsonRpcMessage<RoleServer>> {
        loop {
            while let Some(line) = self.next_line() {
                match judge(&line) {
                    Judged::Message(message) => return Some(*message),
                    Judged::Answer(body) => self.answer(&body),
                    Judged::Nothing => {}
                }
            }
            // No newline in the buffer now.
            if self.skipping {
                self.buffer.clear();
                self.scanned = 0;
            } else if self.buffer.len() > MAX_LINE_BYTES {
                self.skipping = true;
                self.buffer = Vec::new();
                self.scanned = 0;
                self.answer(&serde_json::json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32600,
                    "message": format!("invalid request: a message longer than {MAX_LINE_BYTES} bytes was skipped")}}));
            }
            if self.ended {
                return None;
            }
            if !self.fill().await {
                self.ended = true;
                // A last line without its newline is still a message.
                let last = std::mem::take(&mut self.buffer);
                self.scanned = 0;
                if !std::mem::replace(&mut self.skipping, false) {
                    match judge(&last) {
                        Judged::Message(message) => return Some(*message),
                        Judged::Answer(body) => self.answer(&body),
                        Judged::Nothing => {}
                    }
                }
                return None;
            }
        }
    }

    fn close(&mut self) -> impl Future<Output = Result<(), Self::Error>> + Send {
        std::future::ready(Ok(()))
    }
}

/// stdout, written at once when it can be and by [`Writer::flush_forever`] otherwise,
/// always whole messages in the order they were sent.
pub struct Writer {
    output: AsyncFd<OwnedFd>,
    state: Mutex<WriterState>,
    /// Woken when bytes are left for the flusher.
    waiting: Notify,
    /// Woken when the flusher has written everything.
    drained: Notify,
}

#[derive(Default)]
struct WriterState {
    pending: Vec<u8>,
    /// The client stopped reading for good (the pipe or socket is closed).
    broken: bool,
}

impl Writer {
    fn lock(&self) -> MutexGuard<'_, WriterState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn send(&self, bytes: Vec<u8>) -> io::Result<()> {
        let mut state = self.lock();
        if state.broken {
            return Err(io::Error::new(io::ErrorKind::BrokenPipe, "stdout is closed"));
        }
        if !state.pending.is_empty() {
            state.pending.extend_from_slice(&bytes);
            return Ok(());
        }
        let written = match write_some(self.output.get_ref(), &bytes) {
            Ok(written) => written,
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => 0,
            Err(err) => {
                state.broken = true;
                return Err(err);
            }
        };
        if written < bytes.len() {
            state.pending.extend_from_slice(&bytes[written..]);
            self.waiting.notify_one();
        }
        Ok(())
    }

    /// Writes what [`Writer::send`] could not, as the client reads.
    pub async fn flush_forever(&self) {
        loop {
            self.waiting.notified().await;
            while self.has_pending() {
                let Ok(mut ready) = self.output.writable().await else {
                    self.lock().broken = true;
                    break;
                };
                let outcome = ready.try_io(|output| {
                    let mut state = self.lock();
                    let written = write_some(output.get_ref(), &state.pending)?;
                    state.pending.drain(..written);
                    Ok(())
                });
                if let Ok(Err(err)) = outcome {
                    tracing::info!(%err, "stdout failed; answers are dropped");
                    let mut state = self.lock();
                    state.broken = true;
                    state.pending = Vec::new();
                }
            }
            self.drained.notify_waiters();
        }
    }

    fn has_pending(&self) -> bool {
        let state = self.lock();
        !state.pending.is_empty() && !state.broken
    }

    /// Waits until everything sent is written, or `grace` has passed.
    pub async fn drain(&self, grace: Duration) {
        let _ = tokio::time::timeout(grace, async {
            loop {
                let drained = self.drained.notified();
                if !self.has_pending() {
                    return;
                }
                drained.await;
            }
        })
        .await;
    }
}

/// Registers a descriptor with the runtime.
#[allow(unsafe_code)]
fn watch(fd: OwnedFd, interest: tokio::io::Interest) -> io::Result<AsyncFd<OwnedFd>> {
    // SAFETY: an `OwnedFd` is an open descriptor, always the same one, closed only when
    // the `AsyncFd` that owns it is dropped.
    unsafe { AsyncFd::register_with_interest(fd, interest) }.map_err(|err| err.into_parts().1)
}

/// One `write`, retried when a signal interrupts it.
fn write_some(output: &OwnedFd, bytes: &[u8]) -> io::Result<usize> {
    loop {
        match nix::unistd::write(output, bytes) {
            Err(nix::errno::Errno::EINTR) => continue,
            result => return result.map_err(io::Error::from),
        }
    }
}
