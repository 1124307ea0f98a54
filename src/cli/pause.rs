//! `pause ID` and `resume ID`: stop a running job where it is (SIGSTOP to its processes,
//! status `paused`, its clocks stopped) and let it go on.

use std::process::ExitCode;

use super::args::PauseArgs;
use super::render::warn;
use crate::jobs::{Engine, PauseView};

/// `pause` (with `paused`) or `resume`.
pub fn pause(engine: &Engine, args: PauseArgs, paused: bool) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let view: PauseView = runtime.block_on(engine.set_paused(&args.job_id, paused))?;
    if args.json {
        let mut out = super::render::Out::default();
        out.line(serde_json::to_string(&view)?);
        out.flush();
    } else {
        println!("{}", view.job_id);
        let said = view.message.clone().unwrap_or_else(|| format!("job {} is {}", view.job_id, view.status));
        warn(format!("codex-async: {said}"));
    }
    let reached = if paused { view.status == crate::jobs::Status::Paused } else { view.status == crate::jobs::Status::Running };
    Ok(if reached { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
