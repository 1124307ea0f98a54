//! Resource subscriptions (step 4 of a change's way to a client, see [`super`]), both
//! ways rmcp speaks them:
//! `resources/subscribe` (2025-11-25 and older: per session, notifications sent on
//! the session's own channel) and `subscriptions/listen` (2026-07-28: one long
//! request per subscription, its notifications tied to that request).

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use rmcp::ErrorData as McpError;
use rmcp::model::{ResourceUpdatedNotificationParam, SubscriptionFilter};
use rmcp::service::{Peer, RoleServer, SubscriptionContext};
use tokio::sync::broadcast::{self, error::RecvError};
use tokio_util::sync::{CancellationToken, DropGuard};

use super::hub::{Batch, ChangeHub};
use super::parse_uri;
use super::tracker::ResourceChange;

/// The legacy subscriptions of one session. Notifications start with the first
/// subscription (or resource listing) and stop with the session.
pub struct LegacySubscriptions {
    uris: Arc<Mutex<HashSet<String>>>,
    /// `subscriptions/listen` requests of this session that hear list changes: while
    /// there is one, the session-wide notice would say the same thing twice.
    list_listeners: Arc<AtomicUsize>,
    started: Mutex<bool>,
    stop: CancellationToken,
    _stop_on_drop: DropGuard,
}

impl Default for LegacySubscriptions {
    fn default() -> Self {
        let stop = CancellationToken::new();
        LegacySubscriptions {
            uris: Arc::default(),
            list_listeners: Arc::default(),
            started: Mutex::new(false),
            _stop_on_drop: stop.clone().drop_guard(),
            stop,
        }
    }
}

impl LegacySubscriptions {
    /// Any well-formed URI is taken (as the protocol expects); only this server's own
    /// resources ever change, so only they are ever notified.
    pub fn subscribe(&self, uri: &str) -> Result<(), McpError> {
        if !well_formed(uri) {
            return Err(McpError::invalid_params(
                format!("cannot subscribe to {uri:?}: not a URI; this server's are codex-async://jobs/{{job_id}}/output and .../meta"),
                None,
            ));
        }
        self.uris.lock().unwrap_or_else(PoisonError::into_inner).insert(uri.to_owned());
        Ok(())
    }

    pub fn unsubscribe(&self, uri: &str) {
        self.uris.lock().unwrap_or_else(PoisonError::into_inner).remove(uri);
    }

    /// Starts sending this session updated and list_changed notifications, once.
    pub fn ensure_started(&self, hub: &ChangeHub, peer: &Peer<RoleServer>) {
        let mut started = self.started.lock().unwrap_or_else(PoisonError::into_inner);
        if *started {
            return;
        }
        match hub.subscribe() {
            Ok(changes) => {
                *started = true;
                let forward = Forward { uris: self.uris.clone(), list_listeners: self.list_listeners.clone(), peer: peer.clone() };
                tokio::spawn(forward.run(changes, self.stop.clone()));
            }
            Err(err) => tracing::warn!(%err, "cannot watch the jobs folder: no resource notifications"),
        }
    }
}

/// The next batch; after falling behind, "everything may have changed".
async fn next_batch(changes: &mut broadcast::Receiver<Batch>, followed: impl FnOnce() -> Vec<String>) -> Option<Batch> {
    match changes.recv().await {
        Ok(batch) => Some(batch),
        Err(RecvError::Lagged(missed)) => {
            tracing::debug!(missed, "resource notifications fell behind; refreshing everything followed");
            let mut everything = vec![ResourceChange::ListChanged];
            everything.extend(followed().into_iter().map(ResourceChange::Updated));
            Some(Arc::new(everything))
        }
        Err(RecvError::Closed) => None,
    }
}

/// `scheme:rest`, the scheme a letter then letters, digits, `+`, `-` or `.` (RFC 3986).
fn well_formed(uri: &str) -> bool {
    match uri.split_once(':') {
        Some((scheme, rest)) => {
            scheme.starts_with(|ch: char| ch.is_ascii_alphabetic())
                && scheme.chars().all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '+' | '-' | '.'))
                && !rest.is_empty()
                && !uri.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

/// Sends one session its legacy notifications.
struct Forward {
    uris: Arc<Mutex<HashSet<String>>>,
    list_listeners: Arc<AtomicUsize>,
    peer: Peer<RoleServer>,
}

impl Forward {
    async fn run(self, mut changes: broadcast::Receiver<Batch>, stop: CancellationToken) {
        let followed = || self.uris.lock().unwrap_or_else(PoisonError::into_inner).iter().cloned().collect();
        loop {
            let batch = tokio::select! {
                () = stop.cancelled() => return,
                batch = next_batch(&mut changes, followed) => match batch {
                    Some(batch) => batch,
                    None => return,
                },
            };
            for change in batch.iter() {
                let sent = match change {
                    // A listen request of this session says it already.
                    ResourceChange::ListChanged if self.list_listeners.load(Ordering::Relaxed) > 0 => continue,
                    ResourceChange::ListChanged => self.peer.notify_resource_list_changed().await,
                    ResourceChange::Updated(uri) => {
                        if !self.uris.lock().unwrap_or_else(PoisonError::into_inner).contains(uri) {
                            continue;
                        }
                        self.peer.notify_resource_updated(ResourceUpdatedNotificationParam::new(uri.clone())).await
                    }
                };
                if let Err(err) = sent {
                    tracing::debug!(%err, "the session is gone; stopping its resource notifications");
                    return;
                }
            }
        }
    }
}

/// Counts a listen request that hears list changes while it lasts.
struct Listening(Arc<AtomicUsize>);

impl Listening {
    fn new(count: &Arc<AtomicUsize>) -> Self {
        count.fetch_add(1, Ordering::Relaxed);
        Listening(count.clone())
    }
}

impl Drop for Listening {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// What of a `subscriptions/listen` filter this server can honour: the list of
/// resources, and updates of its own job resources.
pub fn accepted_filter(requested: &SubscriptionFilter) -> SubscriptionFilter {
    let mut accepted = SubscriptionFilter::default();
    accepted.resources_list_changed = requested.resources_list_changed;
    accepted.resource_subscriptions =
        requested.resource_subscriptions.as_ref().map(|uris| uris.iter().filter(|uri| parse_uri(uri).is_some()).cloned().collect());
    accepted
}

/// Serves one `subscriptions/listen` request until the client ends it.
pub async fn listen(hub: &ChangeHub, legacy: &LegacySubscriptions, context: SubscriptionContext) -> Result<(), McpError> {
    let mut changes = hub.subscribe().map_err(|err| McpError::internal_error(format!("cannot watch the jobs folder: {err}"), None))?;
    let accepted = context.accepted().clone();
    let wants_list = accepted.resources_list_changed == Some(true);
    let _listening = wants_list.then(|| Listening::new(&legacy.list_listeners));
    let uris: HashSet<String> = accepted.resource_subscriptions.unwrap_or_default().into_iter().collect();
    loop {
        let batch = tokio::select! {
            () = context.cancelled() => return Ok(()),
            batch = next_batch(&mut changes, || uris.iter().cloned().collect()) => match batch {
                Some(batch) => batch,
                None => return Ok(()),
            },
        };
        for change in batch.iter() {
            let sent = match change {
                ResourceChange::ListChanged if wants_list => context.sink().notify_resource_list_changed().await,
                ResourceChange::Updated(uri) if uris.contains(uri) => context.sink().notify_resource_updated(uri.clone()).await,
                _ => continue,
            };
            if let Err(err) = sent {
                tracing::debug!(%err, "subscription ended");
                return Ok(());
            }
        }
    }
}
