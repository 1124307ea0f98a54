//! The MCP server: over stdio, over HTTP and in-process, MCP tasks, and the safe
//! defaults of what callers may ask for.
//!
//! One test binary; each module was a test file of its own (`cargo test --test mcp
//! mcp_http::` runs what `--test mcp_http` ran).

#[path = "../support/mod.rs"]
mod support;

mod approvals;
mod approvals_mrtr;
mod hosts;
mod mcp_http;
mod mcp_inprocess;
mod mcp_stdio;
mod mcp_tasks;
mod reply_unattended;
mod safety;
mod unattended;
mod worktree;
