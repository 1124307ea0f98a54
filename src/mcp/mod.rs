//! MCP server (in progress).

use std::process::ExitCode;

use crate::cli::ServeArgs;
use crate::jobs::Engine;

pub fn serve_main(_engine: Engine, _args: ServeArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`serve` is not available in this build yet")
}
