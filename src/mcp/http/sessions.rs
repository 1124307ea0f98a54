//! At most [`MAX_SESSIONS`] MCP sessions at once. rmcp's in-memory session manager keeps
//! every session until its client deletes it or it has been idle for
//! [`super::SESSION_IDLE_TIMEOUT`] (a day, so an agent may think between calls); a client
//! that opens sessions and walks away would make the server hold thousands. So a new
//! session beyond the cap ends an old one: the one idle the longest — one with no
//! request or stream open — or, when every one is busy, the one used the longest ago.
//! Its client gets `404` on its next request, which tells an MCP client to initialize a
//! new session.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use futures::{Stream, StreamExt};
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::transport::streamable_http_server::session::local::{LocalSessionManager, LocalSessionManagerError};
use rmcp::transport::streamable_http_server::session::{ServerSseMessage, SessionId, SessionManager};
use tokio::time::Instant;

/// About 65 KB each: 128 sessions hold some 8 MB.
pub const MAX_SESSIONS: usize = 128;

/// What the cap needs to know of one session.
#[derive(Clone, Copy, Debug)]
struct Activity {
    /// Requests and streams it has open now.
    open: usize,
    last_used: Instant,
}

#[derive(Debug, Default)]
struct Book {
    sessions: HashMap<SessionId, Activity>,
    /// Sessions being made (counted before they exist, so two at once cannot pass the cap).
    being_made: usize,
}

impl Book {
    fn touch(&mut self, id: &SessionId) {
        if let Some(activity) = self.sessions.get_mut(id) {
            activity.last_used = Instant::now();
        }
    }

    /// The session to end for a new one: idle the longest, else used the longest ago.
    fn victim(&self) -> Option<SessionId> {
        let oldest = |idle_only: bool| {
            self.sessions
                .iter()
                .filter(|(_, activity)| !idle_only || activity.open == 0)
                .min_by_key(|(_, activity)| activity.last_used)
                .map(|(id, _)| id.clone())
        };
        oldest(true).or_else(|| oldest(false))
    }
}

/// rmcp's [`LocalSessionManager`] with a cap on the number of sessions.
#[derive(Debug)]
pub struct BoundedSessions {
    inner: LocalSessionManager,
    cap: usize,
    book: Arc<Mutex<Book>>,
}

/// Counts one open request or stream of a session while it lives.
struct Open {
    book: Arc<Mutex<Book>>,
    id: SessionId,
}

impl Open {
    fn new(book: &Arc<Mutex<Book>>, id: &SessionId) -> Open {
        let mut locked = book.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(activity) = locked.sessions.get_mut(id) {
            activity.open += 1;
            activity.last_used = Instant::now();
        }
        Open { book: book.clone(), id: id.clone() }
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        let mut book = self.book.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(activity) = book.sessions.get_mut(&self.id) {
            activity.open = activity.open.saturating_sub(1);
            activity.last_used = Instant::now();
        }
    }
}

impl BoundedSessions {
    pub fn new(inner: LocalSessionManager, cap: usize) -> BoundedSessions {
        BoundedSessions { inner, cap: cap.max(1), book: Arc::default() }
    }

    fn book(&self) -> std::sync::MutexGuard<'_, Book> {
        self.book.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A stream that counts as open while it lives.
    fn counted<S: Stream<Item = ServerSseMessage>>(&self, id: &SessionId, stream: S) -> impl Stream<Item = ServerSseMessage> + use<S> {
        let open = Open::new(&self.book, id);
        stream.map(move |message| {
            let _counted = &open;
            message
        })
    }

    /// How many sessions there are (tests).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.book().sessions.len()
    }
}

impl SessionManager for BoundedSessions {
    type Error = LocalSessionManagerError;
    type Transport = <LocalSessionManager as SessionManager>::Transport;

    async fn create_session(&self) -> Result<(SessionId, Self::Transport), Self::Error> {
        let victim = {
            let mut book = self.book();
            let victim = if book.sessions.len() + book.being_made >= self.cap { book.victim() } else { None };
            if let Some(victim) = &victim {
                book.sessions.remove(victim);
            }
            book.being_made += 1;
            victim
        };
        if let Some(victim) = victim {
            tracing::info!(session = %victim, cap = self.cap, "too many MCP sessions: ending the one idle the longest");
            if let Err(err) = self.inner.close_session(&victim).await {
                tracing::debug!(%err, "closing an evicted session");
            }
        }
        let created = self.inner.create_session().await;
        let mut book = self.book();
        book.being_made -= 1;
        if let Ok((id, _)) = &created {
            book.sessions.insert(id.clone(), Activity { open: 0, last_used: Instant::now() });
        }
        created
    }

    async fn initialize_session(&self, id: &SessionId, message: ClientJsonRpcMessage) -> Result<ServerJsonRpcMessage, Self::Error> {
        let _open = Open::new(&self.book, id);
        self.inner.initialize_session(id, message).await
    }

    async fn has_session(&self, id: &SessionId) -> Result<bool, Self::Error> {
        let known = {
            let mut book = self.book();
            book.touch(id);
            book.sessions.contains_key(id)
        };
        // One ended for a new one may still be winding down in rmcp's map: it is gone.
        Ok(known && self.inner.has_session(id).await?)
    }

    async fn close_session(&self, id: &SessionId) -> Result<(), Self::Error> {
        self.book().sessions.remove(id);
        self.inner.close_session(id).await
    }

    async fn create_stream(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        let stream = self.inner.create_stream(id, message).await?;
        Ok(self.counted(id, stream))
    }

    async fn accept_message(&self, id: &SessionId, message: ClientJsonRpcMessage) -> Result<(), Self::Error> {
        self.book().touch(id);
        self.inner.accept_message(id, message).await
    }

    async fn create_standalone_stream(
        &self,
        id: &SessionId,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        let stream = self.inner.create_standalone_stream(id).await?;
        Ok(self.counted(id, stream))
    }

    async fn resume(
        &self,
        id: &SessionId,
        last_event_id: String,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        let stream = self.inner.resume(id, last_event_id).await?;
        Ok(self.counted(id, stream))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_session_beyond_the_cap_ends_the_one_idle_the_longest() {
        let sessions = BoundedSessions::new(LocalSessionManager::default(), 3);
        let mut ids = Vec::new();
        for _ in 0..3 {
            ids.push(sessions.create_session().await.unwrap().0);
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        // The oldest is busy (a stream open): the next oldest, idle, goes first.
        let busy = Open::new(&sessions.book, &ids[0]);
        let (fourth, _) = sessions.create_session().await.unwrap();
        assert_eq!(sessions.len(), 3);
        assert!(sessions.has_session(&ids[0]).await.unwrap(), "a busy session stays");
        assert!(!sessions.has_session(&ids[1]).await.unwrap(), "the idle one that was used the longest ago is gone");
        assert!(sessions.has_session(&fourth).await.unwrap());
        // Every one busy: the one used the longest ago goes.
        let pause = || tokio::time::sleep(std::time::Duration::from_millis(2));
        let _third_busy = Open::new(&sessions.book, &ids[2]);
        pause().await;
        let _fourth_busy = Open::new(&sessions.book, &fourth);
        pause().await;
        drop(busy);
        let _busy_again = Open::new(&sessions.book, &ids[0]);
        sessions.create_session().await.unwrap();
        assert_eq!(sessions.len(), 3);
        assert!(!sessions.has_session(&ids[2]).await.unwrap());
    }
}
