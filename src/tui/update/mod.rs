//! The update: how the state changes. [`keys`] turns terminal events into actions;
//! `App::apply` takes an action, by what is open (the table and the output's keys in
//! `normal`), `App::apply_data` what the loader read, and `App::apply_result` what a
//! background task returned. Each changes the state and returns the effects the shell
//! must carry out, so every transition is tested without a terminal.
//!
//! Imports the model only; the shell imports it. One function here does I/O:
//! [`diff_view::git_diff`] runs git for the `D` view, beside the transitions it feeds;
//! only the shell calls it, on a blocking task.

mod apply;
mod approval;
mod attempts;
mod data;
mod detail;
pub(crate) mod diff_view;
mod hosts;
pub(crate) mod keys;
mod normal;
mod results;
mod scroll;
mod select;
mod unattended;
pub(crate) mod worktree;
