//! The tools, one file each, named after the tool: its name, what a model reads of it
//! (description, input and output schemas), its arguments and its handler. What they
//! share is in [`common`] (the call's context, errors, results, start options),
//! [`schema`] (common schema parts) and [`waiting`] (the two blocking tools).
//!
//! Names, argument names and defaults are the Python original's, so prompts and
//! permission lists written for it keep working. The descriptions are what a model
//! reads to choose a tool, so they say when to use which and what each status means.
//!
//! A handler checks the arguments, calls the engine and shapes the result. Every
//! failure a caller can fix comes back as a tool result with `isError: true` and a
//! message that names what was wrong and what is valid; only an unknown tool name is a
//! protocol error.

mod apply;
mod approve;
mod await_any;
mod cancel;
mod common;
mod diff;
mod list;
mod pause;
mod poll;
mod remove;
mod reply;
mod shared;
mod start;
mod wait;

use std::time::Duration;

use rmcp::ErrorData as McpError;
use rmcp::RoleServer;
use rmcp::model::{CallToolResult, JsonObject, Tool};
use rmcp::service::RequestContext;

use crate::jobs::Agents;
use common::ToolError;
pub use common::{ToolContext, error_result};
pub use shared::hosts::describe_hosts;

/// Every tool's name, in the order an unknown name's error lists them.
const NAMES: [&str; 14] = [
    start::NAME,
    poll::NAME,
    list::NAME,
    cancel::NAME,
    wait::NAME,
    await_any::NAME,
    reply::NAME,
    approve::NAME,
    diff::NAME,
    apply::NAME,
    remove::DISCARD,
    remove::DELETE,
    pause::PAUSE,
    pause::RESUME,
];

/// Every tool this server offers; `max_wait` is this server's cap on one wait.
pub fn definitions(max_wait: Duration, agents: &Agents) -> Vec<Tool> {
    let mut tools = vec![
        start::definition(agents),
        reply::definition(),
        poll::definition(),
        list::definition(),
        cancel::definition(),
        wait::definition(max_wait),
        await_any::definition(max_wait),
        approve::definition(),
        diff::definition(),
        apply::definition(),
    ];
    tools.extend(remove::definitions());
    tools.extend(pause::definitions());
    tools
}

/// Whether the tool returns when a job asks for approval: a client that can ask its
/// own user gets the request as `input_required` instead.
pub fn asks_through_client(name: &str) -> bool {
    name == wait::NAME
}

/// Whether a call's arguments name a host's job or a host (`NAME:ID`, `host`): its
/// answer is that host's.
pub fn for_a_host(arguments: Option<&JsonObject>) -> bool {
    shared::hosts::names_a_host(arguments)
}

/// Whether the tool starts a job: a client that takes tasks gets that job as a task.
pub fn starts_a_job(name: &str) -> bool {
    name == start::NAME || name == reply::NAME
}

/// Runs one tool call. `Err` only for a tool name this server does not have.
pub async fn call(
    tool: &ToolContext<'_>,
    name: &str,
    arguments: Option<JsonObject>,
    context: RequestContext<RoleServer>,
) -> Result<CallToolResult, McpError> {
    let mut arguments = arguments.unwrap_or_default();
    // A host's job, or a start on a host: that host answers.
    if let Some(result) = shared::hosts::route(tool, name, &mut arguments, &context).await {
        return Ok(result.unwrap_or_else(|ToolError(message)| error_result(&message)));
    }
    let result = match name {
        start::NAME => start::handle(tool, arguments).await,
        reply::NAME => reply::handle(tool, arguments).await,
        poll::NAME => poll::handle(tool.engine, arguments),
        list::NAME => list::handle(tool.engine, arguments),
        cancel::NAME => cancel::handle(tool, arguments).await,
        wait::NAME => wait::handle(tool, arguments, &context).await,
        await_any::NAME => await_any::handle(tool, arguments, &context).await,
        approve::NAME => approve::handle(tool, arguments, crate::jobs::Answerer::Mcp),
        diff::NAME => diff::handle(tool, arguments).await,
        apply::NAME => apply::handle(tool, arguments).await,
        remove::DISCARD => remove::discard(tool, arguments).await,
        remove::DELETE => remove::delete(tool, arguments).await,
        pause::PAUSE => pause::handle(tool, arguments, true).await,
        pause::RESUME => pause::handle(tool, arguments, false).await,
        other => {
            let names = NAMES.join(", ");
            return Err(McpError::invalid_params(format!("unknown tool {other:?}: this server has {names}"), None));
        }
    };
    Ok(result.unwrap_or_else(|ToolError(message)| error_result(&message)))
}

#[cfg(test)]
mod tests;
