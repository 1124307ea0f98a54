//! MCP over stdio, with no copy and no second parse between the pipe and rmcp. This
//! process's real stdin and stdout are read and written by two plain threads, and rmcp
//! speaks to them through [`StdioTransport`]:
//!
//! - the reader reads each line, parses it once and passes it through [`super::wire`]
//!   (a line that is not JSON, or not a message, or names an unknown method, is
//!   answered from there); the rest goes to rmcp as a typed message; at end of input
//!   rmcp's stream ends, which ends the session;
//! - the writer serializes rmcp's messages and puts them and those answers on stdout,
//!   whole lines only, off the async runtime's thread.
//!
//! Neither belongs to the async runtime, so nothing waits on a blocking read at shutdown:
//! whatever stdin is (a pipe, a socket as Claude Code gives, a file, a terminal), the
//! server stops at once on a signal or at end of input.

use std::io::{BufRead, Write};
use std::sync::mpsc as std_mpsc;
use std::time::Duration;

use anyhow::Context;
use rmcp::ServiceExt;
use rmcp::service::{RoleServer, RxJsonRpcMessage, TxJsonRpcMessage};
use rmcp::transport::Transport;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

mod direct;

use super::server::McpServer;
use super::wire::{Judged, judge};

pub use super::wire::MAX_LINE_BYTES;
/// How long the last lines may take to reach stdout when the session ends.
const FLUSH_GRACE: Duration = Duration::from_millis(150);

enum Outbound {
    /// A message of rmcp's, serialized by the writer.
    Message(Box<TxJsonRpcMessage<RoleServer>>),
    /// An answer made before rmcp saw the message.
    Answer(serde_json::Value),
    /// Answered once every line queued before it is written.
    Flush(std_mpsc::Sender<()>),
}

/// rmcp's side of the two threads.
struct StdioTransport {
    incoming: mpsc::Receiver<RxJsonRpcMessage<RoleServer>>,
    outgoing: std_mpsc::Sender<Outbound>,
}

impl Transport<RoleServer> for StdioTransport {
    type Error = std::io::Error;

    fn send(&mut self, item: TxJsonRpcMessage<RoleServer>) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let sent = self
            .outgoing
            .send(Outbound::Message(Box::new(item)))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "stdout is closed"));
        std::future::ready(sent)
    }

    fn receive(&mut self) -> impl Future<Output = Option<RxJsonRpcMessage<RoleServer>>> + Send {
        self.incoming.recv()
    }

    fn close(&mut self) -> impl Future<Output = Result<(), Self::Error>> + Send {
        self.incoming.close();
        std::future::ready(Ok(()))
    }
}

/// Serves one client on stdin/stdout until it hangs up (end of input) or `shutdown`.
pub async fn serve(server: McpServer, shutdown: CancellationToken) -> anyhow::Result<()> {
    match direct::Fds::take() {
        Some(fds) => serve_direct(server, shutdown, fds).await,
        None => serve_threads(server, shutdown).await,
    }
}

/// Pipes and sockets: read and written on the runtime's thread (see [`direct`]).
async fn serve_direct(server: McpServer, shutdown: CancellationToken, fds: direct::Fds) -> anyhow::Result<()> {
    let (transport, writer) = direct::DirectTransport::new(&fds).context("watching stdin and stdout")?;
    let flusher = tokio::spawn({
        let writer = std::sync::Arc::clone(&writer);
        async move { writer.flush_forever().await }
    });
    let result = run(server, transport, shutdown).await;
    // Let the last lines out, but never wait long on a client that stopped reading.
    writer.drain(FLUSH_GRACE).await;
    flusher.abort();
    drop(fds);
    result
}

/// Anything else (a terminal, a file): two plain threads, so that nothing on the
/// runtime ever waits on a blocking read or write.
async fn serve_threads(server: McpServer, shutdown: CancellationToken) -> anyhow::Result<()> {
    let (out_sender, out_receiver) = std_mpsc::channel::<Outbound>();
    std::thread::Builder::new()
        .name("mcp-stdout".into())
        .spawn(move || write_lines(&out_receiver))
        .context("starting the stdout writer")?;
    let (in_sender, in_receiver) = mpsc::channel(64);
    let answers = out_sender.clone();
    std::thread::Builder::new()
        .name("mcp-stdin".into())
        .spawn(move || read_lines(&in_sender, &answers))
        .context("starting the stdin reader")?;

    let transport = StdioTransport { incoming: in_receiver, outgoing: out_sender.clone() };
    let result = run(server, transport, shutdown).await;
    // Let the last lines out, but never wait long on a client that stopped reading.
    let (flushed_sender, flushed) = std_mpsc::channel();
    if out_sender.send(Outbound::Flush(flushed_sender)).is_ok() {
        let _ = tokio::task::spawn_blocking(move || flushed.recv_timeout(FLUSH_GRACE)).await;
    }
    result
}

async fn run<T>(server: McpServer, transport: T, shutdown: CancellationToken) -> anyhow::Result<()>
where
    T: Transport<RoleServer, Error = std::io::Error> + 'static,
{
    let running = server.serve_with_ct(transport, shutdown.child_token()).await;
    let running = match running {
        Ok(running) => running,
        // The client left before the handshake ended: nothing to serve.
        Err(err) if shutdown.is_cancelled() => {
            tracing::info!(%err, "shut down before the handshake");
            return Ok(());
        }
        Err(err) => return Err(err).context("MCP handshake over stdio"),
    };
    let reason = running.waiting().await.context("the stdio session failed")?;
    tracing::info!(?reason, "stdio session ended");
    Ok(())
}

/// Reads stdin line by line until its end (or until nobody listens); each line is parsed
/// once, and either handed to rmcp or answered at once.
fn read_lines(messages: &mpsc::Sender<RxJsonRpcMessage<RoleServer>>, answers: &std_mpsc::Sender<Outbound>) {
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let mut current: Vec<u8> = Vec::new();
    let mut skipping = false;
    let deliver = |line: &[u8]| -> bool {
        match judge(line) {
            Judged::Message(message) => messages.blocking_send(*message).is_ok(),
            Judged::Answer(body) => answers.send(Outbound::Answer(body)).is_ok(),
            Judged::Nothing => true,
        }
    };
    loop {
        let (done, used) = match input.fill_buf() {
            Ok([]) => break,
            Ok(chunk) => match chunk.iter().position(|&byte| byte == b'\n') {
                Some(end) => {
                    if !skipping {
                        current.extend_from_slice(&chunk[..end]);
                    }
                    (true, end + 1)
                }
                None => {
                    if !skipping {
                        current.extend_from_slice(chunk);
                    }
                    (false, chunk.len())
                }
            },
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(err) => {
                tracing::info!(%err, "stdin failed; ending the session");
                break;
            }
        };
        input.consume(used);
        if !skipping && current.len() > MAX_LINE_BYTES {
            skipping = true;
            current = Vec::new();
            let body = serde_json::json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32600,
                "message": format!("invalid request: a message longer than {MAX_LINE_BYTES} bytes was skipped")}});
            if answers.send(Outbound::Answer(body)).is_err() {
                return;
            }
        }
        if done {
            let skipped = std::mem::replace(&mut skipping, false);
            if !skipped && !deliver(&current) {
                return;
            }
            current.clear();
            if current.capacity() > 1 << 20 {
                current = Vec::new();
            }
        }
    }
    if !skipping {
        deliver(&current);
    }
}

/// Writes whole lines to stdout until every sender is gone.
fn write_lines(lines: &std_mpsc::Receiver<Outbound>) {
    let stdout = std::io::stdout();
    let mut bytes = Vec::new();
    for outbound in lines {
        bytes.clear();
        let written = match outbound {
            Outbound::Message(message) => serde_json::to_writer(&mut bytes, &message),
            Outbound::Answer(body) => serde_json::to_writer(&mut bytes, &body),
            Outbound::Flush(done) => {
                let _ = done.send(());
                continue;
            }
        };
        if let Err(err) = written {
            tracing::warn!(%err, "a message could not be written as JSON; dropped");
            continue;
        }
        bytes.push(b'\n');
        let mut out = stdout.lock();
        if out.write_all(&bytes).and_then(|()| out.flush()).is_err() {
            return;
        }
        if bytes.capacity() > 1 << 20 {
            bytes = Vec::new();
        }
    }
}
