//! MCP over stdio. rmcp speaks through an in-memory pipe; this process's real stdin and
//! stdout are read and written by two plain threads:
//!
//! - the reader passes each line through [`super::wire`] (a line that is not JSON, or
//!   not a message, or names an unknown method, is answered here) and hands the rest
//!   to rmcp; at end of input rmcp's side is closed, which ends the session;
//! - the writer puts rmcp's lines and those answers on stdout, whole lines only.
//!
//! Neither belongs to the async runtime, so nothing waits on a blocking read at shutdown:
//! whatever stdin is (a pipe, a socket as Claude Code gives, a file, a terminal), the
//! server stops at once on a signal or at end of input.

use std::io::{BufRead, Write};
use std::sync::mpsc as std_mpsc;
use std::time::Duration;

use anyhow::Context;
use rmcp::ServiceExt;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::server::McpServer;
use super::wire::{self, Verdict};

/// The longest line read; a longer one is answered with an error and skipped.
pub const MAX_LINE_BYTES: usize = 32 * 1024 * 1024;
/// How long the last lines may take to reach stdout when the session ends.
const FLUSH_GRACE: Duration = Duration::from_millis(150);

enum Inbound {
    Message(Vec<u8>),
    TooLong,
}

enum Outbound {
    Line(Vec<u8>),
    /// Answered once every line queued before it is written.
    Flush(std_mpsc::Sender<()>),
}

/// Serves one client on stdin/stdout until it hangs up (end of input) or `shutdown`.
pub async fn serve(server: McpServer, shutdown: CancellationToken) -> anyhow::Result<()> {
    let (rmcp_side, our_side) = tokio::io::duplex(64 * 1024);
    let (from_rmcp, mut to_rmcp) = tokio::io::split(our_side);
    let (out_sender, out_receiver) = std_mpsc::channel::<Outbound>();
    std::thread::Builder::new()
        .name("mcp-stdout".into())
        .spawn(move || write_lines(&out_receiver))
        .context("starting the stdout writer")?;
    let (in_sender, mut in_receiver) = mpsc::channel::<Inbound>(64);
    std::thread::Builder::new().name("mcp-stdin".into()).spawn(move || read_lines(&in_sender)).context("starting the stdin reader")?;

    let answers = out_sender.clone();
    tokio::spawn(async move {
        while let Some(inbound) = in_receiver.recv().await {
            let bytes = match inbound {
                Inbound::Message(bytes) => bytes,
                Inbound::TooLong => {
                    let body = serde_json::json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32600,
                        "message": format!("invalid request: a message longer than {MAX_LINE_BYTES} bytes was skipped")}});
                    let _ = answers.send(Outbound::Line(line(&body)));
                    continue;
                }
            };
            match wire::check(&bytes) {
                Verdict::Pass => {
                    if to_rmcp.write_all(&bytes).await.is_err() || to_rmcp.write_all(b"\n").await.is_err() {
                        return;
                    }
                }
                Verdict::Reply { body, .. } => {
                    let _ = answers.send(Outbound::Line(line(&body)));
                }
            }
        }
        // End of input: rmcp reads its end, and the session ends.
        let _ = to_rmcp.shutdown().await;
    });
    let relay_sender = out_sender.clone();
    let relay = tokio::spawn(async move {
        let mut lines = BufReader::new(from_rmcp).lines();
        while let Ok(Some(text)) = lines.next_line().await {
            let mut bytes = text.into_bytes();
            bytes.push(b'\n');
            if relay_sender.send(Outbound::Line(bytes)).is_err() {
                return;
            }
        }
    });

    let result = run(server, rmcp_side, shutdown).await;
    // Let rmcp's last lines out, but never wait long on a client that stopped reading.
    let _ = tokio::time::timeout(FLUSH_GRACE, relay).await;
    let (flushed_sender, flushed) = std_mpsc::channel();
    if out_sender.send(Outbound::Flush(flushed_sender)).is_ok() {
        let _ = tokio::task::spawn_blocking(move || flushed.recv_timeout(FLUSH_GRACE)).await;
    }
    result
}

async fn run(server: McpServer, transport: tokio::io::DuplexStream, shutdown: CancellationToken) -> anyhow::Result<()> {
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

fn line(body: &serde_json::Value) -> Vec<u8> {
    let mut bytes = body.to_string().into_bytes();
    bytes.push(b'\n');
    bytes
}

/// Reads stdin line by line until its end (or until nobody listens).
fn read_lines(sender: &mpsc::Sender<Inbound>) {
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let mut current: Vec<u8> = Vec::new();
    let mut skipping = false;
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
            if sender.blocking_send(Inbound::TooLong).is_err() {
                return;
            }
        }
        if done {
            let message = std::mem::take(&mut current);
            let skipped = std::mem::replace(&mut skipping, false);
            if !skipped
                && message.iter().any(|byte| !byte.is_ascii_whitespace())
                && sender.blocking_send(Inbound::Message(message)).is_err()
            {
                return;
            }
        }
    }
    if !skipping && current.iter().any(|byte| !byte.is_ascii_whitespace()) {
        let _ = sender.blocking_send(Inbound::Message(current));
    }
}

/// Writes whole lines to stdout until every sender is gone.
fn write_lines(lines: &std_mpsc::Receiver<Outbound>) {
    let stdout = std::io::stdout();
    for outbound in lines {
        match outbound {
            Outbound::Line(bytes) => {
                let mut out = stdout.lock();
                if out.write_all(&bytes).and_then(|()| out.flush()).is_err() {
                    return;
                }
            }
            Outbound::Flush(done) => {
                let _ = done.send(());
            }
        }
    }
}
