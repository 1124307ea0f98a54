//! One jobs-folder watcher shared by every subscription of a server.
//!
//! An inotify instance per HTTP session (or per `subscriptions/listen` request)
//! would soon hit the per-user limit (128 by default, shared with every other
//! program); so the first subscriber starts one watcher and all of them read its
//! batches from a broadcast channel. It stops when the server's last handle goes.

use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::broadcast;
use tokio_util::sync::{CancellationToken, DropGuard};

use super::changes::{Change, ChangeFeed};
use crate::jobs::JobStore;

/// A batch of changes, shared by every receiver.
pub type Batch = Arc<Vec<Change>>;

/// Enough for bursts from busy jobs; a receiver that falls further behind is told
/// it lagged and refreshes everything it follows.
const CAPACITY: usize = 1024;

#[derive(Clone)]
pub struct ChangeHub {
    inner: Arc<HubInner>,
}

struct HubInner {
    store: JobStore,
    sender: Mutex<Option<broadcast::Sender<Batch>>>,
    stop: CancellationToken,
    _stop_on_drop: DropGuard,
}

impl ChangeHub {
    pub fn new(store: JobStore) -> Self {
        let stop = CancellationToken::new();
        ChangeHub { inner: Arc::new(HubInner { store, sender: Mutex::new(None), _stop_on_drop: stop.clone().drop_guard(), stop }) }
    }

    /// A receiver of every change from now on; starts the watcher on first use.
    pub fn subscribe(&self) -> anyhow::Result<broadcast::Receiver<Batch>> {
        let mut sender = self.inner.sender.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(sender) = sender.as_ref() {
            return Ok(sender.subscribe());
        }
        let feed = ChangeFeed::new(self.inner.store.clone())?;
        let (new_sender, receiver) = broadcast::channel(CAPACITY);
        tokio::spawn(run(feed, new_sender.clone(), self.inner.stop.clone()));
        *sender = Some(new_sender);
        Ok(receiver)
    }
}

async fn run(mut feed: ChangeFeed, sender: broadcast::Sender<Batch>, stop: CancellationToken) {
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            batch = feed.next() => match batch {
                // No receiver right now is fine: later subscribers only want later changes.
                Some(batch) => { let _ = sender.send(Arc::new(batch)); }
                None => {
                    tracing::warn!("the jobs folder watcher stopped; no more resource notifications");
                    return;
                }
            },
        }
    }
}
