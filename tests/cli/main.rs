//! The command line through the real binary: starting jobs and their life to the end,
//! input it refuses, any agent and what it is doing, and `install` / `uninstall`
//! against each client's configuration files.
//!
//! One test binary; each module was a test file of its own (`cargo test --test cli
//! agents::` runs what `--test agents` ran).

#[path = "../support/mod.rs"]
mod support;

mod agents;
mod approvals;
mod budget;
mod cli;
mod front_door;
mod groups;
mod hooks;
mod hosts;
mod hosts_ssh;
mod install;
mod install_program;
mod jobs_input;
mod jobs_lifecycle;
mod limits;
mod pause;
mod reply_unattended;
mod schedule;
mod worktree;
mod worktree_lock;
