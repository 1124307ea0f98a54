//! Logs go to `$CODEX_ASYNC_HOME/logs/`, never to stdout (the MCP channel) or the
//! terminal (the dashboard's). The level comes from `CODEX_ASYNC_LOG` (default `info`).

use std::os::unix::fs::DirBuilderExt;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::EnvFilter;

pub const LOG_ENV: &str = "CODEX_ASYNC_LOG";

/// Starts logging for this process; keep the guard alive until exit so the last
/// lines are flushed. Logging is best effort: without a writable folder there is none.
pub fn init_file(dir: &std::path::Path, role: &str) -> Option<WorkerGuard> {
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).ok()?;
    let appender = RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix("codex-async")
        .filename_suffix("log")
        .max_log_files(7)
        .build(dir)
        .ok()?;
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let filter = EnvFilter::try_from_env(LOG_ENV).unwrap_or_else(|_| EnvFilter::new("info"));
    let pid = std::process::id();
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer).with_ansi(false).try_init().ok()?;
    tracing::info!(role, pid, "started");
    Some(guard)
}
