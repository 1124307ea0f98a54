//! The start handshake, the supervisor's side: its two lines to its starter, a hello
//! and then the start's answer (see `jobs::start::spawn` for the protocol).

use std::io::Write;
use std::process::ExitCode;

use crate::jobs::start::spawn::SupervisorAnswer;

pub fn write_line(value: &impl serde::Serialize) {
    let mut stdout = std::io::stdout().lock();
    let _ = serde_json::to_writer(&mut stdout, value);
    let _ = stdout.write_all(b"\n");
    let _ = stdout.flush();
}

/// Writes the answer, then lets go of the starter's pipe so its read ends now.
pub fn answer(answer: &SupervisorAnswer) {
    write_line(answer);
    if let Ok(null) = std::fs::File::open("/dev/null") {
        let _ = nix::unistd::dup2_stdout(&null);
    }
}

pub fn answer_failed(failed: String) -> ExitCode {
    answer(&SupervisorAnswer::Failed { failed });
    ExitCode::FAILURE
}
