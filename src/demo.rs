//! The simulated agent used by `--demo` (in progress).

use std::process::ExitCode;

use crate::cli::DemoAgentArgs;

pub fn agent_main(_args: DemoAgentArgs) -> ExitCode {
    eprintln!("the demo agent is not available in this build yet");
    ExitCode::FAILURE
}
