//! `codex-async cancel` (also `kill`): asks the job's owner to end it and waits for the
//! end it records — saying on stderr, when that takes a while, that it waits for the
//! grace period and when SIGKILL comes — or, with `--no-wait`, returns as soon as the
//! cancel is asked for: the job's supervisor still ends it, SIGKILL included.

use std::process::ExitCode;
use std::time::Duration;

use super::render::{self, Out, warn};
use super::{CancelArgs, emit_json, hosts, move_queue, on_host, settings};
use crate::config::Flags;
use crate::human::show_duration;
use crate::jobs::{CancelView, Engine, Status};

/// A cancel that has not seen the end after this long says what it waits for.
const SAY_AFTER: Duration = Duration::from_secs(1);

pub fn cancel(engine: &Engine, mut args: CancelArgs) -> anyhow::Result<ExitCode> {
    if let Some((settings, host, id)) = on_host(engine, &args.on, &mut args.job_id)? {
        return hosts::cancel(&settings, &host, &id, &args);
    }
    let (settings, _) = settings(engine, &Flags { cancel_grace: args.grace, ..Flags::default() }, false)?;
    let grace = settings.cancel_grace.value;
    let id = engine.store().existing(&args.job_id)?;
    let view = if args.no_wait {
        engine.cancel_no_wait(id.as_str(), grace)?
    } else {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        runtime.block_on(async {
            let ending = engine.cancel(id.as_str(), grace);
            tokio::pin!(ending);
            tokio::select! {
                view = &mut ending => return view,
                () = tokio::time::sleep(SAY_AFTER) => {}
            }
            warn(format!(
                "codex-async: job {id} has not ended yet; waiting up to the grace period ({}): {} (--grace sets it; --no-wait returns at once)",
                show_duration(grace),
                crate::jobs::cancel_timeline(grace)
            ));
            ending.await
        })?
    };
    move_queue(engine);
    if args.json {
        emit_json(&view)?;
    } else {
        let mut out = Out::default();
        render::cancelled(&mut out, &view);
        out.flush();
        if let CancelView::Cancelled { status: Status::Running, message: Some(message), .. } = &view {
            warn(format!("codex-async: cancel of job {id} asked for; {message}"));
        }
    }
    Ok(match &view {
        // Asked, not waited for: the request reached whoever ends the job.
        CancelView::Cancelled { status: Status::Running, killed: false, .. } if args.no_wait => ExitCode::SUCCESS,
        // A job that still runs was not stopped, whatever was asked.
        CancelView::Cancelled { status, .. } | CancelView::NotRunning { status, .. } if status.is_finished() => ExitCode::SUCCESS,
        _ => ExitCode::FAILURE,
    })
}
