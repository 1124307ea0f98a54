//! Every host's state at once, for `codex-async hosts`: connected or why not, its
//! codex-async version, its jobs running and waiting, the round trip of one message.
//! Hosts are asked concurrently, each within its own deadline.

use std::time::Duration;

use serde::Serialize;

use super::error::HostError;
use super::pool::HostPool;

/// How long the ping that measures a round trip may take.
const PING_DEADLINE: Duration = Duration::from_secs(5);

/// One host, as `codex-async hosts` shows it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HostState {
    pub host: String,
    /// How it is reached: its command, or its URL.
    pub target: String,
    pub connected: bool,
    /// What its codex-async said it is in the handshake (`codex-async 0.1.0`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub running: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jobs: Option<usize>,
    /// How long connecting took (starting the command, the handshake), in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connect_ms: Option<f64>,
    /// One MCP ping there and back, in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub round_trip_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Every host of `pool`, asked concurrently; in the pool's order.
pub async fn probe_all(pool: &HostPool) -> Vec<HostState> {
    futures::future::join_all(pool.names().iter().map(|name| probe(pool, name))).await
}

/// One host's state, within its deadline (connecting, then a ping and a list).
pub async fn probe(pool: &HostPool, name: &str) -> HostState {
    let target = pool.spec(name).map(|spec| spec.describe()).unwrap_or_default();
    let mut state = HostState {
        host: name.to_owned(),
        target: super::error::shown(&target, 200),
        connected: false,
        version: None,
        running: None,
        pending: None,
        jobs: None,
        connect_ms: None,
        round_trip_ms: None,
        error: None,
    };
    let session = match pool.session(name).await {
        Ok(session) => session,
        Err(err) => {
            state.error = Some(err.to_string());
            return state;
        }
    };
    state.connected = true;
    state.version = session.version();
    state.connect_ms = Some(millis(session.connected_in));
    match session.round_trip(PING_DEADLINE).await {
        Ok(took) => state.round_trip_ms = Some(millis(took)),
        Err(err) => state.error = Some(err.to_string()),
    }
    match pool.list(name, 0).await {
        Ok(rows) => {
            let count = |wanted: &[&str]| rows.iter().filter(|row| row["status"].as_str().is_some_and(|s| wanted.contains(&s))).count();
            state.running = Some(count(&["running", "paused"]));
            state.pending = Some(count(&["pending"]));
            state.jobs = Some(rows.len());
        }
        Err(err) => {
            state.connected = !matches!(err, HostError::Lost { .. });
            state.error.get_or_insert(err.to_string());
        }
    }
    state
}

fn millis(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 1000.0 * 10.0).round() / 10.0
}
