//! The supervisor: one small process per job, owning it from start to result.
//!
//! It is a program, not library code: the hidden `__supervise` subcommand, started by
//! [`crate::jobs::start::spawn`]. It closes every descriptor it inherited, forks (the
//! starter reaps the spawned process at once), starts its own session (no terminal reaches it),
//! becomes a child subreaper (descendants that leave the agent's process group are
//! re-parented to it), then:
//!
//! 1. takes the job's lock and writes `running` (see [`crate::jobs::process::owner`]);
//! 2. starts the agent with the job's marker in its environment, answers the starter;
//! 3. on a cancel, signals the agent's group and every marked process, escalating;
//! 4. records the agent's exact exit as soon as it reaps it — the result first;
//! 5. then ends what the agent left behind, within a deadline, naming survivors.

pub mod approvals;
mod budget;
mod capped;
mod cleanup;
pub mod events;
mod handshake;
mod isolation;
mod job;
mod pause;
mod resume;
mod run;
mod stream;
mod take;
mod waiting;

use std::io::Read;
use std::process::ExitCode;

use crate::jobs::JobStore;
use crate::jobs::start::spawn::{SuperviseRequest, SupervisorAnswer, SupervisorHello};
use crate::sys;
use handshake::{answer, answer_failed, write_line};

/// Entry point of the hidden `__supervise` subcommand.
pub fn main() -> ExitCode {
    // First, before anything opens a descriptor: nothing inherited is held for the job's life.
    sys::close_inherited_descriptors();
    // The limit the starter had before it raised its own for serving HTTP.
    crate::open_files::restore_from_env();
    match sys::fork_single_threaded() {
        // The starter reaps this process now; the child supervises the job.
        Ok(Some(_supervisor)) => return ExitCode::SUCCESS,
        Ok(None) => {}
        Err(err) => {
            answer(&SupervisorAnswer::Failed { failed: format!("cannot start a supervisor process: {err}") });
            return ExitCode::FAILURE;
        }
    }
    // Its own session: no controlling terminal, no signals from the starter's.
    let _ = nix::unistd::setsid();
    let _ = nix::sys::prctl::set_child_subreaper(true);
    write_line(&SupervisorHello { supervisor_pid: std::process::id() as i32 });
    // What needs no request is made now: a spare waits ready, and a start waits only for
    // the job's own work.
    let store = JobStore::from_env();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
    take::remember_own_start();

    let mut input = Vec::new();
    let request: Result<SuperviseRequest, String> = std::io::stdin()
        .read_to_end(&mut input)
        .map_err(|err| err.to_string())
        .and_then(|_| serde_json::from_slice(&input).map_err(|err| format!("bad request: {err}")));
    // A spare whose owner ended before it had work: nothing to do, nothing to say.
    if input.is_empty() {
        return ExitCode::SUCCESS;
    }
    drop(input);
    if let Ok(null) = std::fs::File::open("/dev/null") {
        let _ = nix::unistd::dup2_stdin(&null);
    }
    let request = match request {
        Ok(request) => request,
        Err(failed) => return answer_failed(failed),
    };
    let store = match store {
        Ok(store) => store,
        Err(err) => return answer_failed(err.to_string()),
    };
    let runtime = match runtime {
        Ok(runtime) => runtime,
        Err(err) => return answer_failed(format!("no runtime: {err}")),
    };
    match runtime.block_on(job::supervise(store, request)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(%err, "supervisor failed");
            ExitCode::FAILURE
        }
    }
}
