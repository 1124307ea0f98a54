//! Every ending reported once: the cursor behind `codex_await_any` without `job_ids`.
//!
//! A caller (one MCP session, or a client without one through the cursor's token) keeps
//! an [`EndCursor`]. Each call of `Engine::next_ending`
//! returns a job that ended since the cursor began and was not reported yet — one that
//! ended while the caller was busy with another result included — or waits for the next
//! ending of any job, those started meanwhile included. Finding candidates costs a
//! listing (a replaced meta.json changes its folder's time) plus a read of each folder
//! touched since the cursor's start, which moves forward as endings are reported.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::error::Result;
use super::record::id::JobId;
use super::record::meta::JobMeta;
use super::store::JobStore;
use super::view::PollView;

/// Writing a result and renaming it into place are not one instant: endings stamped
/// this long before a look are still looked for.
const SLACK: Duration = Duration::from_secs(5);

/// Which endings one caller has seen.
#[derive(Debug)]
pub struct EndCursor {
    /// Endings stamped before this are not looked for: the cursor's start, then (as
    /// endings are reported) a little before the last look that found nothing else.
    horizon: SystemTime,
    /// Reported endings not older than the horizon, with when they ended.
    reported: HashMap<JobId, SystemTime>,
}

impl Default for EndCursor {
    fn default() -> Self {
        EndCursor::new()
    }
}

impl EndCursor {
    /// Endings from now on.
    pub fn new() -> Self {
        EndCursor { horizon: SystemTime::now(), reported: HashMap::new() }
    }

    fn counts(&self, meta: &JobMeta) -> Option<SystemTime> {
        let ended: SystemTime = meta.finished_at?.0.into();
        let id = JobId::parse(&meta.job_id).ok()?;
        (meta.status.is_finished() && ended >= self.horizon && !self.reported.contains_key(&id)).then_some(ended)
    }

    fn report(&mut self, id: JobId, ended: SystemTime, nothing_else_pending: bool, looked_at: SystemTime) {
        self.reported.insert(id, ended);
        if nothing_else_pending {
            let horizon = looked_at.checked_sub(SLACK).unwrap_or(SystemTime::UNIX_EPOCH);
            self.horizon = self.horizon.max(horizon);
            let horizon = self.horizon;
            self.reported.retain(|_, ended| *ended >= horizon);
        }
    }
}

/// The most bytes a cursor token may have (a token carries a few recent ids).
const MAX_TOKEN: usize = 64 * 1024;
/// What a cursor token starts with (its format's version).
const TOKEN_PREFIX: &str = "c1.";

/// A cursor as a caller without a session keeps it: what it has seen.
#[derive(Serialize, Deserialize)]
struct Token {
    /// The horizon, in microseconds since the Unix epoch.
    since: i64,
    /// Reported endings not older than the horizon: id and when it ended (µs).
    seen: Vec<(String, i64)>,
}

impl EndCursor {
    /// The cursor as an opaque token a caller hands back to go on where it was (a
    /// client without a session, or a new session). It holds no secret: a changed token
    /// only changes which endings its bearer is told about.
    pub fn to_token(&self) -> String {
        let micros = |at: SystemTime| at.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |since| since.as_micros() as i64);
        let token =
            Token { since: micros(self.horizon), seen: self.reported.iter().map(|(id, ended)| (id.to_string(), micros(*ended))).collect() };
        let json = serde_json::to_vec(&token).unwrap_or_default();
        format!("{TOKEN_PREFIX}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json))
    }

    /// The cursor a token from [`EndCursor::to_token`] describes.
    pub fn from_token(token: &str) -> std::result::Result<EndCursor, String> {
        let refused = || format!("the cursor {:?} is not one codex_await_any gave", token.chars().take(40).collect::<String>());
        if token.len() > MAX_TOKEN {
            return Err(refused());
        }
        let encoded = token.strip_prefix(TOKEN_PREFIX).ok_or_else(refused)?;
        let json = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(encoded).map_err(|_| refused())?;
        let token: Token = serde_json::from_slice(&json).map_err(|_| refused())?;
        let at = |micros: i64| u64::try_from(micros).ok().map(|micros| SystemTime::UNIX_EPOCH + Duration::from_micros(micros));
        // A horizon in the future would hide endings still to come: now at the latest.
        let horizon = at(token.since).ok_or_else(refused)?.min(SystemTime::now());
        let mut reported = HashMap::new();
        for (id, ended) in token.seen {
            let id = JobId::parse(&id).map_err(|_| refused())?;
            reported.insert(id, at(ended).ok_or_else(refused)?);
        }
        Ok(EndCursor { horizon, reported })
    }
}

/// What waiting for the next ending found.
pub enum NextEnding {
    Ended(Box<PollView>),
    TimedOut,
    /// Nothing is running and every ending was reported: nothing to wait for.
    NothingRunning,
}

/// What one look for endings found.
pub(super) enum Look {
    /// The earliest ending not reported yet (reported now).
    Ended(JobId, Box<JobMeta>),
    /// None; whether a job touched since the horizon still runs.
    Nothing { running: bool },
}

impl EndCursor {
    /// Looks once for an ending this cursor has not reported yet.
    pub(super) fn look(&mut self, store: &JobStore) -> Result<Look> {
        let looked_at = SystemTime::now();
        // The folder's time is set by the rename that recorded the ending, a moment
        // after the ending's own stamp.
        let since = self.horizon;
        let mut ended: Vec<(SystemTime, JobId, JobMeta)> = Vec::new();
        let mut running = false;
        for id in store.folders_touched_since(since)? {
            let Ok(meta) = store.read_meta(&id) else { continue };
            running |= !meta.status.is_finished();
            if let Some(at) = self.counts(&meta) {
                ended.push((at, id, meta));
            }
        }
        ended.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
        if ended.is_empty() {
            return Ok(Look::Nothing { running });
        }
        let pending = ended.len();
        let (at, id, meta) = ended.swap_remove(0);
        self.report(id.clone(), at, pending == 1, looked_at);
        Ok(Look::Ended(id, Box::new(meta)))
    }
}
