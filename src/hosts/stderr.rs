//! The end of what a host's command writes on stderr, kept to explain a failure (ssh
//! says "Permission denied" or "Could not resolve hostname" there), bounded whatever
//! the command writes.

use std::sync::{Arc, Mutex};

use tokio::io::AsyncReadExt;

/// How much of a command's stderr is kept.
const STDERR_KEPT: usize = 4096;

/// The end of what a host's command wrote on stderr (bounded, whatever it writes).
#[derive(Clone)]
pub struct StderrTail {
    kept: Arc<Mutex<Vec<u8>>>,
    /// Whether the command's stderr has ended (all it wrote is kept).
    ended: tokio::sync::watch::Receiver<bool>,
}

impl Default for StderrTail {
    /// A tail with nothing to follow (a host over HTTP): ended, empty.
    fn default() -> Self {
        StderrTail { kept: Arc::default(), ended: tokio::sync::watch::channel(true).1 }
    }
}

impl StderrTail {
    pub fn follow(stderr: Option<tokio::process::ChildStderr>) -> StderrTail {
        let Some(mut stderr) = stderr else { return StderrTail::default() };
        let (ended, watched) = tokio::sync::watch::channel(false);
        let tail = StderrTail { kept: Arc::default(), ended: watched };
        {
            let kept = tail.kept.clone();
            tokio::spawn(async move {
                let mut chunk = [0u8; 1024];
                while let Ok(read) = stderr.read(&mut chunk).await {
                    if read == 0 {
                        break;
                    }
                    let Ok(mut kept) = kept.lock() else { break };
                    kept.extend_from_slice(&chunk[..read]);
                    let excess = kept.len().saturating_sub(STDERR_KEPT);
                    kept.drain(..excess);
                }
                let _ = ended.send(true);
            });
        }
        tail
    }

    /// Waits (at most `within`) until the command's stderr has ended, so that a command
    /// that exited is explained by all it said.
    pub async fn settled(&self, within: std::time::Duration) {
        let mut ended = self.ended.clone();
        let _ = tokio::time::timeout(within, ended.wait_for(|ended| *ended)).await;
    }

    /// Its last non-empty line, safe to show.
    pub fn last_line(&self) -> Option<String> {
        let kept = self.kept.lock().ok()?;
        let text = String::from_utf8_lossy(&kept);
        let line = text.lines().map(str::trim).rfind(|line| !line.is_empty())?;
        Some(super::error::shown(line, 300)).filter(|line| !line.is_empty())
    }
}
