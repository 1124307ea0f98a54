//! One host's jobs kept live for a viewer (the dashboard): each host on its own task,
//! so a host that is down or slow holds up nothing else.
//!
//! Connected, the task lists the host's jobs, then waits for the host to say something
//! changed — a job appeared or went (the list), an unfinished job's record changed, the
//! followed job's output grew — and only then asks again. Nothing is asked on a timer
//! but a keepalive ping, which is how a session that went quiet for good is found out;
//! a host's command that exits (an SSH connection that dropped) is known at once.
//! A host that cannot be reached, or whose session ends, is tried again after a delay
//! that doubles up to [`MAX_BACKOFF`]; its last rows stay with the viewer meanwhile (its
//! jobs run on over there).

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc, watch};
use tokio_util::sync::CancellationToken;

use super::error::{CALL_MARGIN, HostError};
use super::notes::HostNote;
use super::pool::HostPool;
use super::session::HostSession;
use crate::jobs::{ListView, PollView};

/// The first delay before connecting again; it doubles after each failure.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// How often a quiet session is pinged, to find out that it ended.
const KEEPALIVE: Duration = Duration::from_secs(15);
/// Notes that come together are answered with one look.
const SETTLE: Duration = Duration::from_millis(50);
/// How many of the followed job's last lines are shown.
const OUTPUT_LINES: usize = 200;

/// How the viewer reaches a host.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum HostLink {
    #[default]
    Connecting,
    Connected {
        version: Option<String>,
    },
    /// Not reachable since `since`; tried again at `retry_at`.
    Unreachable {
        since: DateTime<Utc>,
        retry_at: DateTime<Utc>,
        error: String,
    },
}

/// What a host's task tells the viewer.
#[derive(Clone, Debug)]
pub enum WatchEvent {
    Link {
        host: String,
        link: HostLink,
    },
    /// Every job of the host, newest first, ids as `NAME:ID`.
    Rows {
        host: String,
        rows: Vec<ListView>,
    },
    /// The followed job's last lines (made safe to show by the viewer, as any output).
    Output {
        job: String,
        text: String,
    },
}

/// Keeps host `host`'s jobs live for the viewer until `stop`. `follow` names the job
/// (`NAME:ID`) whose output the viewer shows, if it is one of this host's.
pub async fn watch(
    pool: HostPool,
    host: String,
    events: mpsc::UnboundedSender<WatchEvent>,
    mut follow: watch::Receiver<Option<String>>,
    stop: CancellationToken,
) {
    let mut backoff = FIRST_BACKOFF;
    let mut down_since: Option<DateTime<Utc>> = None;
    let _ = events.send(WatchEvent::Link { host: host.clone(), link: HostLink::Connecting });
    loop {
        let error = match pool.session(&host).await {
            Ok(session) => {
                backoff = FIRST_BACKOFF;
                down_since = None;
                let link = HostLink::Connected { version: session.version() };
                let _ = events.send(WatchEvent::Link { host: host.clone(), link });
                match follow_host(&pool, &host, &session, &events, &mut follow, &stop).await {
                    Ok(()) => return,
                    Err(err) => {
                        pool.forget(&host, &session).await;
                        err
                    }
                }
            }
            Err(err) => err,
        };
        let now = Utc::now();
        let since = *down_since.get_or_insert(now);
        let retry_at = now + chrono::Duration::from_std(backoff).unwrap_or_default();
        let link = HostLink::Unreachable { since, retry_at, error: error.to_string() };
        if events.send(WatchEvent::Link { host: host.clone(), link }).is_err() {
            return; // the viewer is gone
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// One session's life: `Ok` when the viewer stops, the error that ended it otherwise.
async fn follow_host(
    pool: &HostPool,
    host: &str,
    session: &HostSession,
    events: &mpsc::UnboundedSender<WatchEvent>,
    follow: &mut watch::Receiver<Option<String>>,
    stop: &CancellationToken,
) -> Result<(), HostError> {
    // Heard from before the first look, so nothing said in between is missed.
    let mut notes = session.notes();
    session.hear_list_changes(CALL_MARGIN).await?;
    let mut subscribed: HashSet<String> = HashSet::new();
    let mut keepalive = tokio::time::interval_at(tokio::time::Instant::now() + KEEPALIVE, KEEPALIVE);
    let (mut list, mut output) = (true, true);
    loop {
        let followed = follow.borrow_and_update().clone().and_then(|job| job.strip_prefix(&format!("{host}:")).map(str::to_owned));
        if list {
            let rows = pool.list(host, 0).await?;
            let rows: Vec<ListView> = rows.into_iter().filter_map(|row| serde_json::from_value(row).ok()).collect();
            // Every unfinished job's record is heard of: its status changes there.
            for row in rows.iter().filter(|row| matches!(row.status.as_str(), "running" | "pending")) {
                let id = row.job_id.strip_prefix(&format!("{host}:")).unwrap_or(&row.job_id);
                let uri = format!("codex-async://jobs/{id}/meta");
                if subscribed.insert(uri.clone()) {
                    session.subscribe(&uri, CALL_MARGIN).await?;
                }
            }
            if events.send(WatchEvent::Rows { host: host.to_owned(), rows }).is_err() {
                return Ok(());
            }
        }
        if output && let Some(id) = &followed {
            let uri = format!("codex-async://jobs/{id}/output");
            if subscribed.insert(uri.clone()) {
                session.subscribe(&uri, CALL_MARGIN).await?;
            }
            let mut asked = serde_json::Map::new();
            asked.insert("job_id".to_owned(), Value::String(id.clone()));
            asked.insert("tail_lines".to_owned(), json!(OUTPUT_LINES));
            match pool.call_job(host, "codex_poll", asked, CALL_MARGIN).await {
                Ok(answer) => {
                    if let Ok(view) = serde_json::from_value::<PollView>(answer) {
                        let _ = events.send(WatchEvent::Output { job: view.job_id, text: view.output });
                    }
                }
                Err(err @ (HostError::Lost { .. } | HostError::Unreachable { .. })) => return Err(err),
                Err(_) => {} // a job gone there: nothing to show
            }
        }
        (list, output) = (false, false);
        tokio::select! {
            () = stop.cancelled() => return Ok(()),
            changed = follow.changed() => {
                if changed.is_err() {
                    return Ok(());
                }
                output = true;
            }
            _ = keepalive.tick() => {
                session.round_trip(CALL_MARGIN).await?;
            }
            ended = session.command_ended() => return Err(ended),
            note = notes.recv() => {
                let mut note = Some(note);
                // A burst (a flood of output) is answered once.
                tokio::time::sleep(SETTLE).await;
                while let Some(heard) = note.take().or_else(|| notes.try_recv().map(Ok).ok()) {
                    match heard {
                        Ok(HostNote::ListChanged) | Err(broadcast::error::RecvError::Lagged(_)) => (list, output) = (true, true),
                        Ok(HostNote::ResourceUpdated { uri }) if uri.ends_with("/meta") => list = true,
                        Ok(HostNote::ResourceUpdated { .. }) => output = true,
                        Ok(HostNote::Progress { .. }) => {}
                        Err(broadcast::error::RecvError::Closed) => {
                            return Err(HostError::Lost { host: host.to_owned(), message: "the session ended".to_owned() });
                        }
                    }
                }
            }
        }
    }
}
