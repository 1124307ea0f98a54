//! The engine: cancelling whole process trees, many starts at once, waiting, one owner
//! per job, the queue, an idle process that reads nothing, and property tests of the
//! meta parser and the tail reader.
//!
//! One test binary; each module was a test file of its own (`cargo test --test engine
//! queue::` runs what `--test queue` ran).

#[path = "../support/mod.rs"]
mod support;

mod jobs_cancel;
mod jobs_concurrency;
mod jobs_wait;
mod ownership;
mod prop_engine;
mod queue;
mod quiescence;
