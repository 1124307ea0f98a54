//! Dashboard (in progress).

use std::process::ExitCode;

use crate::cli::DashboardArgs;
use crate::jobs::Engine;

pub fn main(_engine: Engine, _args: DashboardArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("the dashboard is not available in this build yet")
}
