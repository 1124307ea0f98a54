//! Resource changes shared by every subscription of a server (step 3 of a change's way
//! to a client, see [`super`]).
//!
//! The first subscriber starts one [`ChangeTracker`] on the engine's change feed (the
//! process's one watcher); every session and `subscriptions/listen` request reads its
//! batches from a broadcast channel. It stops when the server's last handle goes.

use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::broadcast;
use tokio_util::sync::{CancellationToken, DropGuard};

use super::tracker::{ChangeTracker, ResourceChange};
use crate::jobs::JobFeed;

/// A batch of changes, shared by every receiver.
pub type Batch = Arc<Vec<ResourceChange>>;

/// Enough for bursts from busy jobs; a receiver that falls further behind is told
/// it lagged and refreshes everything it follows.
const CAPACITY: usize = 1024;

#[derive(Clone)]
pub struct ChangeHub {
    inner: Arc<HubInner>,
}

struct HubInner {
    feed: JobFeed,
    sender: Mutex<Option<broadcast::Sender<Batch>>>,
    stop: CancellationToken,
    _stop_on_drop: DropGuard,
}

impl ChangeHub {
    pub fn new(feed: JobFeed) -> Self {
        let stop = CancellationToken::new();
        ChangeHub { inner: Arc::new(HubInner { feed, sender: Mutex::new(None), _stop_on_drop: stop.clone().drop_guard(), stop }) }
    }

    /// A receiver of every change from now on; starts the watcher on first use.
    pub fn subscribe(&self) -> anyhow::Result<broadcast::Receiver<Batch>> {
        let mut sender = self.inner.sender.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(sender) = sender.as_ref() {
            return Ok(sender.subscribe());
        }
        let tracker = ChangeTracker::new(&self.inner.feed)?;
        let (new_sender, receiver) = broadcast::channel(CAPACITY);
        tokio::spawn(run(tracker, new_sender.clone(), self.inner.stop.clone()));
        *sender = Some(new_sender);
        Ok(receiver)
    }
}

async fn run(mut tracker: ChangeTracker, sender: broadcast::Sender<Batch>, stop: CancellationToken) {
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            // No receiver right now is fine: later subscribers only want later changes.
            batch = tracker.next() => { let _ = sender.send(Arc::new(batch)); }
        }
    }
}
