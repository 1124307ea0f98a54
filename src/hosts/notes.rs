//! What a host sends unasked during a session: the progress of a call (for a wait, the
//! job's newest output line), a resource that changed, its list of jobs changed. Each
//! session's notes go to whoever listens at the time, through a broadcast: a listener
//! that falls behind loses the oldest notes, and never holds up the session.

use rmcp::model::{ProgressNotificationParam, ResourceUpdatedNotificationParam};
use rmcp::service::NotificationContext;
use rmcp::{ClientHandler, RoleClient};
use tokio::sync::broadcast;

use super::error::shown;

/// How many notes a listener may fall behind before it loses the oldest.
const BACKLOG: usize = 64;
/// The longest message of a progress note kept (a line of output, shown on one line).
const MAX_MESSAGE: usize = 500;

/// One thing a host sent unasked. Its text is already made safe to show (one line,
/// bounded, no control characters): it came from another machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostNote {
    /// A call's progress; for `codex_wait`, the job's newest output line.
    Progress { message: Option<String> },
    /// A resource the session subscribed to changed.
    ResourceUpdated { uri: String },
    /// The host's list of jobs changed.
    ListChanged,
}

/// The client side of a host session: passes what the host sends on to the listeners.
#[derive(Clone)]
pub struct HostHandler {
    notes: broadcast::Sender<HostNote>,
}

impl HostHandler {
    pub fn new() -> Self {
        HostHandler { notes: broadcast::channel(BACKLOG).0 }
    }

    /// Hears every note sent from now on.
    pub fn listen(&self) -> broadcast::Receiver<HostNote> {
        self.notes.subscribe()
    }

    fn pass_on(&self, note: HostNote) {
        // Nobody listening is fine: the note was for no one.
        let _ = self.notes.send(note);
    }
}

impl Default for HostHandler {
    fn default() -> Self {
        Self::new()
    }
}

impl ClientHandler for HostHandler {
    async fn on_progress(&self, params: ProgressNotificationParam, _context: NotificationContext<RoleClient>) {
        self.pass_on(HostNote::Progress { message: params.message.map(|message| shown(&message, MAX_MESSAGE)) });
    }

    async fn on_resource_updated(&self, params: ResourceUpdatedNotificationParam, _context: NotificationContext<RoleClient>) {
        self.pass_on(HostNote::ResourceUpdated { uri: shown(&params.uri, MAX_MESSAGE) });
    }

    async fn on_resource_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.pass_on(HostNote::ListChanged);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_reach_every_listener_made_safe_and_none_is_fine() {
        let handler = HostHandler::new();
        handler.pass_on(HostNote::ListChanged);
        let mut first = handler.listen();
        let mut second = handler.listen();
        let hostile = "done\u{1b}]0;pwned\u{7}\nsecond line";
        handler.pass_on(HostNote::Progress { message: Some(shown(hostile, MAX_MESSAGE)) });
        for listener in [&mut first, &mut second] {
            let Ok(HostNote::Progress { message: Some(message) }) = listener.try_recv() else { panic!("a progress note") };
            assert!(!message.contains('\u{1b}') && !message.contains('\u{7}') && !message.contains('\n'), "{message:?}");
            assert!(message.starts_with("done"), "{message:?}");
        }
    }
}
