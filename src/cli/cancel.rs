//! `codex-async cancel` (also `kill`): asks the job's owner to end it and waits for the
//! end it records — saying on stderr, when that takes a while, that it waits for the
//! grace period and when SIGKILL comes — or, with `--no-wait`, returns as soon as the
//! cancel is asked for: the job's supervisor still ends it, SIGKILL included.

use std::os::unix::process::CommandExt;
use std::process::{ExitCode, Stdio};
use std::time::Duration;

use super::render::{self, Out, warn};
use super::{CancelArgs, emit_json, hosts, move_queue, on_host, settings};
use crate::config::Flags;
use crate::human::show_duration;
use crate::jobs::{CancelAsked, CancelView, Engine, Status};

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
        match engine.ask_cancel(id.as_str(), grace)? {
            CancelAsked::Over(view) => view,
            CancelAsked::Told => asked(id.as_str(), format!("its supervisor ends it: {}", timeline(grace))),
            CancelAsked::Ownerless => {
                let pid = end_in_background(id.as_str(), grace)?;
                asked(id.as_str(), format!("its supervisor is gone: codex-async (pid {pid}) ends it: {}", timeline(grace)))
            }
        }
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
                timeline(grace)
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

/// The signals to come: `SIGINT now, SIGTERM at 2.5s, SIGKILL at 5s`.
fn timeline(grace: Duration) -> String {
    format!("SIGINT now, SIGTERM at {}, SIGKILL at {}", show_duration(grace / 2), show_duration(grace))
}

/// The cancel asked for and not waited for: the job still runs.
fn asked(job_id: &str, message: String) -> CancelView {
    CancelView::Cancelled { job_id: job_id.to_owned(), status: Status::Running, killed: false, message: Some(message) }
}

/// A job without a supervisor is ended by whoever cancels it: with `--no-wait`, by this
/// program run again on its own (its own process group, so the terminal's Ctrl-C does
/// not reach it), which waits for the end as `cancel` does. Its pid.
fn end_in_background(job_id: &str, grace: Duration) -> anyhow::Result<u32> {
    let program = crate::jobs::this_program()?;
    let child = std::process::Command::new(program)
        .args(["cancel", job_id, "--grace", &format!("{}", grace.as_secs_f64())])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()?;
    Ok(child.id())
}
