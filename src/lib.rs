//! codex-async: long coding-agent jobs in the background, driven over MCP and watched
//! live in a terminal dashboard. The jobs directory is the truth; see [`jobs`].

pub mod atomic;
pub mod cli;
pub mod config;
pub mod demo;
pub mod hosts;
pub mod human;
pub mod install;
pub mod jobs;
pub mod logging;
pub mod mcp;
mod open_files;
pub mod supervisor;
mod sys;
pub mod term;
pub mod tui;
