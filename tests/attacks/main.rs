//! Attacks, each performed through the real thing: bounds, the policy ceiling, the HTTP
//! endpoint and its token, forged job records, and a job's repository against git.
//!
//! One test binary; each module was a test file of its own (`cargo test --test attacks
//! attack_git::` runs what `--test attack_git` ran). The full-disk attack mounts a
//! tmpfs, so it is `#[ignore]`d: it needs root.

#[path = "../support/mod.rs"]
mod support;

mod attack_bounds;
mod attack_ceiling;
mod attack_endpoint;
mod attack_forged;
mod attack_git;
mod attack_worktree;
