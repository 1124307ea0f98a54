//! Serving connections with limits, so that clients that connect and say nothing (or
//! half of something) cannot use up the server's descriptors and memory:
//!
//! - a request's headers must arrive within [`HEADER_READ_TIMEOUT`] of the connection
//!   being taken, or of the previous response — hyper's header timer, which also closes
//!   a keep-alive connection left idle that long (not one streaming a response);
//! - at most [`connection_cap`] connections at once (from the open-files limit, which
//!   the endpoint raises first). A connection beyond it makes an idle one close at once:
//!   first the oldest that never completed a request (headers half sent), else the one
//!   idle the longest between requests; when every one is busy, the new one waits until
//!   one ends. So a real client is served while hundreds of slow ones are held open, and
//!   none of them waits for long. Near the cap, responses say `Connection: close`, so
//!   clients do not reuse a connection that may be closed to make room (a request sent
//!   on it as it closes would be lost).
//! - With `--no-auth`, a connection from a process of another user gets `403` (see
//!   [`super::peer`]).
//!
//! axum's own `serve` offers none of these, so each connection is served here through
//! hyper's HTTP/1 connection, with the router as its service.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{Request, Response, StatusCode, header};
use hyper::body::Incoming;
use hyper::service::Service as _;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How long a client has to send a request's headers, and how long a keep-alive
/// connection may stay idle. Loopback clients send theirs at once; a remote one over a
/// slow link within a second or two.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The most connections served at once, however high the open-files limit: far more
/// than the MCP clients of one person keep open (each keeps one or two).
pub const MAX_CONNECTIONS: usize = 2048;

/// Descriptors kept for everything but connections: the change feed, logs, job files a
/// tool call reads, the pipes of a supervisor being started.
const RESERVED_DESCRIPTORS: u64 = 64;

/// The fewest connections served at once, whatever the limit says.
const MIN_CONNECTIONS: usize = 16;

/// The most a connection buffers while it reads a request's headers (hyper's default is
/// about 400 KiB): an MCP request's headers take a few hundred bytes, and 2,048 slow
/// clients then hold 128 MiB at most.
const READ_BUFFER_BYTES: usize = 64 * 1024;

/// How long a connection may take to finish its response once the server stops.
const CLOSE_GRACE: Duration = Duration::from_secs(3);

/// How many connections to serve at once under an open-files limit.
pub fn connection_cap(open_files_limit: u64) -> usize {
    let room = usize::try_from(open_files_limit.saturating_sub(RESERVED_DESCRIPTORS)).unwrap_or(usize::MAX);
    room.clamp(MIN_CONNECTIONS, MAX_CONNECTIONS)
}

/// A socket that hands out connections: TCP or Unix.
pub trait Listener: Send + Sync + 'static {
    type Io: AsyncRead + AsyncWrite + Unpin + Send + 'static;
    fn take(&self) -> impl Future<Output = io::Result<Self::Io>> + Send;
    /// The user of the process at the other end, when it can be told.
    fn peer_user(io: &Self::Io) -> Option<u32>;
}

impl Listener for tokio::net::TcpListener {
    type Io = tokio::net::TcpStream;

    async fn take(&self) -> io::Result<Self::Io> {
        let (stream, _) = self.accept().await?;
        Ok(stream)
    }

    fn peer_user(io: &Self::Io) -> Option<u32> {
        super::peer::tcp_owner(io.peer_addr().ok()?, io.local_addr().ok()?)
    }
}

impl Listener for tokio::net::UnixListener {
    type Io = tokio::net::UnixStream;

    async fn take(&self) -> io::Result<Self::Io> {
        let (stream, _) = self.accept().await?;
        Ok(stream)
    }

    fn peer_user(io: &Self::Io) -> Option<u32> {
        io.peer_cred().ok().map(|credentials| credentials.uid())
    }
}

/// Who may talk to the endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// Any process that can connect (the token decides).
    Anyone,
    /// `--no-auth`: processes of this user only.
    SameUser(u32),
}

#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_connections: usize,
    pub header_read_timeout: Duration,
}

/// One open connection, as the cap sees it.
#[derive(Debug)]
struct Slot {
    /// Requests whose response is not fully sent yet.
    in_flight: AtomicUsize,
    /// Since when it has had nothing in flight.
    idle_since: Mutex<Instant>,
    /// It has completed a request (a keep-alive connection between requests, not one
    /// whose first headers are still coming).
    served: AtomicBool,
    /// Cancelled to close it.
    close: CancellationToken,
}

/// The open connections.
#[derive(Debug)]
struct Open {
    cap: usize,
    next_id: AtomicU64,
    slots: Mutex<BTreeMap<u64, Arc<Slot>>>,
    /// Told when a connection ends.
    ended: Notify,
}

impl Open {
    fn slots(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Arc<Slot>>> {
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn add(&self) -> (u64, Arc<Slot>) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let slot = Arc::new(Slot {
            in_flight: AtomicUsize::new(0),
            idle_since: Mutex::new(Instant::now()),
            served: AtomicBool::new(false),
            close: CancellationToken::new(),
        });
        self.slots().insert(id, slot.clone());
        (id, slot)
    }

    fn remove(&self, id: u64) {
        self.slots().remove(&id);
        self.ended.notify_one();
    }

    /// Makes room for one more connection: true when there is room now.
    fn make_room(&self) -> bool {
        let mut slots = self.slots();
        slots.len() < self.cap || Self::close_longest_idle(&mut slots)
    }

    /// Whether the connections are near the cap: responses then ask clients not to
    /// reuse their connection.
    fn crowded(&self) -> bool {
        self.slots().len() * 4 >= self.cap * 3
    }

    /// Closes an idle connection, if one is idle: the oldest that never completed a
    /// request, else the one idle the longest.
    fn close_longest_idle(slots: &mut BTreeMap<u64, Arc<Slot>>) -> bool {
        let idle = slots
            .iter()
            .filter(|(_, slot)| slot.in_flight.load(Ordering::Acquire) == 0)
            .min_by_key(|(_, slot)| (slot.served.load(Ordering::Acquire), *slot.idle_since.lock().unwrap_or_else(PoisonError::into_inner)))
            .map(|(id, _)| *id);
        match idle.and_then(|id| slots.remove(&id)) {
            Some(slot) => {
                tracing::debug!(open = slots.len(), "closing the connection idle the longest to make room");
                slot.close.cancel();
                true
            }
            None => false,
        }
    }
}

/// Serves `listener` until `shutdown`, then lets open connections finish (briefly).
pub async fn run<L: Listener>(listener: L, router: Router, limits: Limits, admission: Admission, shutdown: CancellationToken) {
    let open =
        Arc::new(Open { cap: limits.max_connections.max(1), next_id: AtomicU64::new(0), slots: Mutex::default(), ended: Notify::new() });
    let tracker = TaskTracker::new();
    let service = TowerToHyperService::new(router);
    'serving: loop {
        let taken = tokio::select! {
            taken = listener.take() => taken,
            () = shutdown.cancelled() => break,
        };
        let io = match taken {
            Ok(io) => io,
            Err(err) => {
                // Out of descriptors (the reserve used up by something else): an idle
                // connection gives one back; otherwise wait a little for one to end.
                tracing::debug!(%err, "accepting a connection");
                if matches!(err.raw_os_error(), Some(nix::libc::EMFILE | nix::libc::ENFILE)) {
                    Open::close_longest_idle(&mut open.slots());
                }
                let _ = tokio::time::timeout(Duration::from_millis(100), open.ended.notified()).await;
                continue;
            }
        };
        while !open.make_room() {
            tokio::select! {
                () = open.ended.notified() => {}
                () = shutdown.cancelled() => break 'serving,
            }
        }
        let (id, slot) = open.add();
        let connection = Connection { open: open.clone(), id, slot, limits, admission, shutdown: shutdown.clone() };
        tracker.spawn(connection.serve::<L>(io, service.clone()));
    }
    tracker.close();
    tracker.wait().await;
}

/// One connection being served.
struct Connection {
    open: Arc<Open>,
    id: u64,
    slot: Arc<Slot>,
    limits: Limits,
    admission: Admission,
    shutdown: CancellationToken,
}

impl Connection {
    async fn serve<L: Listener>(self, io: L::Io, router: TowerToHyperService<Router>) {
        let refusal = match self.admission {
            Admission::Anyone => None,
            Admission::SameUser(own) => match L::peer_user(&io) {
                Some(user) if user == own => None,
                other => {
                    // Not a warning: another user could fill the log with them.
                    tracing::debug!(peer_user = ?other, "refused a connection from another user (--no-auth)");
                    Some(Arc::new(refusal(own, other)))
                }
            },
        };
        let slot = self.slot.clone();
        let open = self.open.clone();
        let service = hyper::service::service_fn(move |request: Request<Incoming>| {
            let in_flight = InFlight::start(&slot);
            let crowded = open.crowded();
            let answer = match &refusal {
                None => Ok(router.call(request)),
                Some(refusal) => Err(refusal.clone()),
            };
            async move {
                let response = match answer {
                    Ok(answer) => answer.await?,
                    Err(refusal) => forbidden(&refusal),
                };
                let mut response = response.map(|body| Counted { body, _in_flight: in_flight });
                if crowded {
                    response.headers_mut().insert(header::CONNECTION, header::HeaderValue::from_static("close"));
                }
                Ok::<_, Infallible>(response)
            }
        });
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder.timer(TokioTimer::new()).header_read_timeout(self.limits.header_read_timeout).max_buf_size(READ_BUFFER_BYTES);
        let connection = builder.serve_connection(TokioIo::new(io), service);
        tokio::pin!(connection);
        tokio::select! {
            served = connection.as_mut() => {
                if let Err(err) = served {
                    tracing::debug!(%err, "an HTTP connection ended");
                }
            }
            // Dropping the connection closes its socket.
            () = self.slot.close.cancelled() => {}
            () = self.shutdown.cancelled() => {
                connection.as_mut().graceful_shutdown();
                let _ = tokio::time::timeout(CLOSE_GRACE, connection).await;
            }
        }
        self.open.remove(self.id);
    }
}

/// Why a connection of another user is refused under `--no-auth`.
fn refusal(own: u32, other: Option<u32>) -> String {
    let whose = match other {
        Some(user) => format!("this connection comes from a process of uid {user}"),
        None => "the user of this connection's process cannot be told".to_owned(),
    };
    format!(
        "forbidden: this endpoint runs without a token (--no-auth), so it serves only processes of its own user \
         (uid {own}); {whose}. Run it with a token (the default) to let others in."
    )
}

fn forbidden(message: &str) -> Response<Body> {
    let body = serde_json::json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32001, "message": message}});
    let mut response = Response::new(Body::from(format!("{body}\n")));
    *response.status_mut() = StatusCode::FORBIDDEN;
    response.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/json"));
    response
}

/// A request of a connection, from its headers to the end of its response's body.
struct InFlight(Arc<Slot>);

impl InFlight {
    fn start(slot: &Arc<Slot>) -> InFlight {
        slot.in_flight.fetch_add(1, Ordering::AcqRel);
        InFlight(slot.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        *self.0.idle_since.lock().unwrap_or_else(PoisonError::into_inner) = Instant::now();
        self.0.served.store(true, Ordering::Release);
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A response body that keeps its request counted as in flight until it is sent (or dropped).
struct Counted {
    body: Body,
    _in_flight: InFlight,
}

impl http_body::Body for Counted {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_follows_the_open_files_limit() {
        assert_eq!(connection_cap(256), 192);
        assert_eq!(connection_cap(1024), 960);
        assert_eq!(connection_cap(u64::MAX), MAX_CONNECTIONS);
        assert_eq!(connection_cap(20), MIN_CONNECTIONS);
    }

    #[test]
    fn at_the_cap_the_connection_idle_the_longest_makes_room() {
        let open = Open { cap: 2, next_id: AtomicU64::new(0), slots: Mutex::default(), ended: Notify::new() };
        let (_, first) = open.add();
        let (_, second) = open.add();
        let busy = InFlight::start(&first);
        assert!(open.make_room(), "the idle one goes");
        assert!(second.close.is_cancelled() && !first.close.is_cancelled());
        let (_, third) = open.add();
        let _busy_too = InFlight::start(&third);
        assert!(!open.make_room(), "every one is busy: the new one waits");
        drop(busy);
        assert!(open.make_room(), "idle again");
        assert!(first.close.is_cancelled());
    }

    #[test]
    fn a_half_sent_connection_makes_room_before_a_keep_alive_one_and_crowding_is_told() {
        let open = Open { cap: 4, next_id: AtomicU64::new(0), slots: Mutex::default(), ended: Notify::new() };
        let (_, kept_alive) = open.add();
        drop(InFlight::start(&kept_alive));
        let (_, half_sent) = open.add();
        assert!(!open.crowded(), "2 of 4");
        let (_, _third) = open.add();
        assert!(open.crowded(), "3 of 4: responses ask clients not to reuse their connection");
        let (_, _fourth) = open.add();
        assert!(open.make_room());
        assert!(half_sent.close.is_cancelled(), "the connection that never completed a request goes first");
        assert!(!kept_alive.close.is_cancelled(), "even though the keep-alive one has been idle longer");
    }
}
