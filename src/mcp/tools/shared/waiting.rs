//! What the two blocking tools, `codex_wait` and `codex_await_any`, share: how long
//! they may block, and what they send while they do.

use std::time::Duration;

use rmcp::RoleServer;
use rmcp::model::{ProgressNotificationParam, ProgressToken};
use rmcp::service::RequestContext;
use tokio::time::{Instant, MissedTickBehavior};

use super::super::common::{ToolContext, ToolError};

/// A timeout the caller asked for, capped by the server's limit.
pub fn capped_timeout(requested: Option<f64>, max_wait: Duration) -> Result<Duration, ToolError> {
    let seconds = requested.unwrap_or(30.0);
    if !seconds.is_finite() || seconds < 0.0 {
        return Err(ToolError(format!("timeout_seconds must be a number of seconds, 0 or more; got {seconds}")));
    }
    Ok(Duration::from_secs_f64(seconds.min(max_wait.as_secs_f64())))
}

/// Runs a wait, sending progress while it lasts when the client asked for it, and
/// giving up at once when the client cancels the request.
pub struct Progress<'a> {
    pub tool: &'a ToolContext<'a>,
    pub context: &'a RequestContext<RoleServer>,
    pub describe: &'a (dyn Fn() -> Option<String> + Sync),
}

impl Progress<'_> {
    pub async fn run<T>(self, waiting: impl Future<Output = T>) -> Result<T, ToolError> {
        let token: Option<ProgressToken> = self.context.meta.get_progress_token();
        let interval = self.tool.settings.progress_interval;
        let started = Instant::now();
        let mut ticker = tokio::time::interval_at(started + interval, interval);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        tokio::pin!(waiting);
        loop {
            tokio::select! {
                done = &mut waiting => return Ok(done),
                () = self.context.ct.cancelled() => {
                    return Err(ToolError("the client cancelled this request".into()));
                }
                _ = ticker.tick(), if token.is_some() => {
                    let Some(token) = token.clone() else { continue };
                    // Progress must grow with every notification: seconds waited, to the
                    // millisecond. No total: how far the job has come is unknown.
                    let elapsed = started.elapsed().as_millis() as f64 / 1000.0;
                    let mut param = ProgressNotificationParam::new(token, elapsed);
                    if let Some(message) = (self.describe)() {
                        param = param.with_message(message);
                    }
                    if let Err(err) = self.context.peer.notify_progress(param).await {
                        tracing::debug!(%err, "could not send progress");
                    }
                }
            }
        }
    }
}
