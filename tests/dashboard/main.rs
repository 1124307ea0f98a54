//! The dashboard: end to end in tmux, and property tests of what it draws from agent
//! output.
//!
//! One test binary; each module was a test file of its own (`cargo test --test
//! dashboard dashboard_tmux::` runs what `--test dashboard_tmux` ran).

#[path = "../support/mod.rs"]
mod support;

mod approvals_tmux;
mod attempts_tmux;
mod dashboard_tmux;
mod hosts_tmux;
mod prop_render;
mod unattended_tmux;
mod worktree_tmux;
