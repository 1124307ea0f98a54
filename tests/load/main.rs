//! Load: many MCP clients at once. Heavy, so every test is `#[ignore]`d in the default
//! run; `.ci/run` runs them with `cargo test --test load -- --ignored`.

#[path = "../support/mod.rs"]
mod support;

mod load_mcp;
