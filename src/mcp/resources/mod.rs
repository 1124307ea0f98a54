//! Each job as two resources, its output tail (text) and its meta (JSON), and the
//! notifications that tell a client one of them changed.
//!
//! A change travels from the jobs folder to a client in four steps:
//!
//! 1. Something writes in `jobs/<id>/`: the job's supervisor (output, its meta), a CLI
//!    `start` or another server (a new folder), `gc` (a folder gone). The engine's change
//!    feed ([`crate::jobs::JobFeed`], one watch of the jobs folder per process) reports
//!    which job changed and what of it.
//! 2. [`tracker`] gathers a burst of those events, looks at each job once (a `stat` per
//!    file) and reports only what a reader would now see differently: the list of jobs,
//!    or one resource's URI ([`tracker::ResourceChange`]).
//! 3. [`hub`] runs one tracker for the whole server, started by the first subscriber,
//!    and broadcasts its batches to every session.
//! 4. [`subscriptions`] sends each client what it asked for: per session after
//!    `resources/subscribe` or `resources/list` (`notifications/resources/updated` and
//!    `list_changed`), or per request for `subscriptions/listen`.

pub mod complete;
pub mod hub;
pub mod subscriptions;
mod tracker;

use rmcp::ErrorData as McpError;
use rmcp::model::{ListResourceTemplatesResult, ListResourcesResult, ReadResourceResult, Resource, ResourceContents, ResourceTemplate};

use crate::jobs::{Engine, JobError, JobId, TAIL_LINES, cut_prompt};

const PREFIX: &str = "codex-async://jobs/";
pub const OUTPUT_TEMPLATE: &str = "codex-async://jobs/{job_id}/output";
pub const META_TEMPLATE: &str = "codex-async://jobs/{job_id}/meta";

/// Listing every job of a long-used home would flood a client; templates reach the rest.
const LISTED_JOBS: usize = 200;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Part {
    Output,
    Meta,
}

impl Part {
    pub const BOTH: [Part; 2] = [Part::Output, Part::Meta];

    fn name(self) -> &'static str {
        match self {
            Part::Output => "output",
            Part::Meta => "meta",
        }
    }

    fn mime_type(self) -> &'static str {
        match self {
            Part::Output => "text/plain",
            Part::Meta => "application/json",
        }
    }
}

pub fn uri(job_id: &str, part: Part) -> String {
    format!("{PREFIX}{job_id}/{}", part.name())
}

/// The job id and part a URI names, if it is one of ours (the id is not checked here).
pub fn parse_uri(uri: &str) -> Option<(&str, Part)> {
    let (job_id, part) = uri.strip_prefix(PREFIX)?.split_once('/')?;
    let part = match part {
        "output" => Part::Output,
        "meta" => Part::Meta,
        _ => return None,
    };
    (!job_id.is_empty()).then_some((job_id, part))
}

pub fn list(engine: &Engine) -> Result<ListResourcesResult, McpError> {
    let rows = engine.list(LISTED_JOBS).map_err(|err| McpError::internal_error(err.to_string(), None))?;
    let mut resources = Vec::with_capacity(rows.len() * 2);
    for row in rows {
        let summary = format!("[{}] {}", row.status, cut_prompt(&row.prompt));
        for part in Part::BOTH {
            resources.push(
                Resource::new(uri(&row.job_id, part), format!("job {} {}", row.job_id, part.name()))
                    .with_description(summary.clone())
                    .with_mime_type(part.mime_type()),
            );
        }
    }
    Ok(ListResourcesResult::with_all_items(resources))
}

pub fn templates() -> ListResourceTemplatesResult {
    ListResourceTemplatesResult::with_all_items(vec![
        ResourceTemplate::new(OUTPUT_TEMPLATE, "job output")
            .with_description("The last lines of a codex job's output (stdout and stderr), at most 8000 characters.")
            .with_mime_type(Part::Output.mime_type()),
        ResourceTemplate::new(META_TEMPLATE, "job meta")
            .with_description("A codex job's meta.json: status, prompt, cwd, approval_policy, pid, times, exit_code.")
            .with_mime_type(Part::Meta.mime_type()),
    ])
}

pub fn read(engine: &Engine, uri: &str) -> Result<ReadResourceResult, McpError> {
    let Some((raw_id, part)) = parse_uri(uri) else {
        return Err(McpError::resource_not_found(
            format!("unknown resource {uri:?}: resources are {OUTPUT_TEMPLATE} and {META_TEMPLATE}"),
            Some(not_found_data(uri)),
        ));
    };
    let text = match part {
        Part::Output => engine.poll(raw_id, TAIL_LINES).map(|view| view.output),
        Part::Meta => meta_json(engine, raw_id),
    }
    .map_err(|err| match err {
        JobError::NotFound(_) | JobError::InvalidId(_) => McpError::resource_not_found(err.to_string(), Some(not_found_data(uri))),
        other => McpError::internal_error(other.to_string(), None),
    })?;
    Ok(ReadResourceResult::new(vec![ResourceContents::text(text, uri).with_mime_type(part.mime_type())]))
}

/// A resource-not-found error names the URI it could not find (SEP-2164), so a client
/// that read several can tell which one is missing.
fn not_found_data(uri: &str) -> serde_json::Value {
    serde_json::json!({ "uri": uri })
}

fn meta_json(engine: &Engine, raw_id: &str) -> Result<String, JobError> {
    let id: JobId = engine.store().existing(raw_id)?;
    let meta = engine.store().read_meta(&id)?;
    serde_json::to_string_pretty(&meta).map_err(|err| JobError::Corrupt { id: id.to_string(), reason: err.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_round_trip() {
        assert_eq!(uri("3f2a9c1d", Part::Output), "codex-async://jobs/3f2a9c1d/output");
        assert_eq!(parse_uri("codex-async://jobs/3f2a9c1d/meta"), Some(("3f2a9c1d", Part::Meta)));
        assert_eq!(parse_uri("codex-async://jobs/3f2a9c1d/other"), None);
        assert_eq!(parse_uri("codex-async://jobs//output"), None);
        assert_eq!(parse_uri("file:///etc/passwd"), None);
    }
}
