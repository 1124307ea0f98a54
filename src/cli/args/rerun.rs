//! The options of `rerun` (see `cli::rerun`).

use std::path::PathBuf;

use clap::Args;

use super::groups::{AgentArgs, LimitArgs, TimeLimitArgs, parse_policy};
use crate::jobs::ApprovalPolicy;

#[derive(Debug, Args)]
pub struct RerunArgs {
    /// The finished job to run again: its id, or the start of exactly one id.
    pub job_id: String,
    /// Run in this folder instead of the job's.
    #[arg(long)]
    pub cwd: Option<PathBuf>,
    /// suggest, auto-edit or full-auto instead of the job's.
    #[arg(long, short = 'a', value_parser = parse_policy)]
    pub approval_policy: Option<ApprovalPolicy>,
    /// Another agent (codex, claude, gemini, or one defined in the config); the job's model, profile and config
    /// overrides are then left out unless given.
    #[arg(long, value_name = "NAME")]
    pub agent: Option<String>,
    /// Model, profile and config overrides; each one left out is the job's.
    #[command(flatten)]
    pub options: AgentArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
    /// Stall and duration limits; each one left out is the job's.
    #[command(flatten)]
    pub time_limits: TimeLimitArgs,
    /// Print the result as JSON, as `start --json` does, with "rerun_of".
    #[arg(long)]
    pub json: bool,
    /// A new prompt instead of the job's: the words after the options (or after `--`); `-` reads it from stdin.
    #[arg(num_args = 0.., trailing_var_arg = true, value_name = "PROMPT")]
    pub prompt: Vec<String>,
}
