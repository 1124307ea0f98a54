//! Faults: the dashboard and the MCP server killed or cut off mid-flight, a full disk,
//! hostile files and output.
//!
//! One test binary; each module was a test file of its own (`cargo test --test faults
//! faults_mcp::` runs what `--test faults_mcp` ran). Two tests are `#[ignore]`d and run
//! by `.ci/run`: 500 jobs ending at once (`faults_dashboard::`, load) and the full disk
//! (`faults_disk::`, it mounts a tmpfs, so root).

#[path = "../support/mod.rs"]
mod support;

mod faults_dashboard;
mod faults_disk;
mod faults_hostile;
mod faults_mcp;
mod mid_flight;
mod owed_hooks;
