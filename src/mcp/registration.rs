//! `$CODEX_ASYNC_HOME/servers/<pid>.json`: where scripts find a running HTTP
//! endpoint (and, for one on a Unix socket, the socket's path). Removed when the
//! endpoint stops (the guard's drop).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::json;

use crate::atomic::{self, Durability};
use crate::jobs::{JobStore, Timestamp};

/// A second endpoint in the same process (tests, or a dashboard plus `serve`) gets its own file.
static ENDPOINTS_IN_PROCESS: AtomicUsize = AtomicUsize::new(0);

pub struct ServerFile {
    path: Option<PathBuf>,
}

impl ServerFile {
    /// Best effort: an endpoint that cannot register still serves.
    pub fn write(store: &JobStore, url: &str, socket: Option<&Path>, token_required: bool) -> ServerFile {
        let pid = std::process::id();
        let name = match ENDPOINTS_IN_PROCESS.fetch_add(1, Ordering::Relaxed) {
            0 => format!("{pid}.json"),
            n => format!("{pid}-{n}.json"),
        };
        let dir = store.servers_dir();
        let path = dir.join(&name);
        let mut record = json!({
            "pid": pid,
            "url": url,
            "transport": "streamable-http",
            "token_required": token_required,
            "started_at": Timestamp::now(),
        });
        if let Some(socket) = socket {
            record["socket"] = json!(socket);
        }
        let written = JobStore::ensure_dir(&dir).map_err(anyhow::Error::from).and_then(|()| {
            // A reader never sees half a file; it lives as long as the server, so no sync.
            atomic::write(&path, format!("{record:#}\n").as_bytes(), Durability::Quick)?;
            Ok(())
        });
        match written {
            Ok(()) => ServerFile { path: Some(path) },
            Err(err) => {
                tracing::warn!(%err, path = %path.display(), "cannot write the server file");
                ServerFile { path: None }
            }
        }
    }
}

impl Drop for ServerFile {
    fn drop(&mut self) {
        if let Some(path) = self.path.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}
