//! `completion/complete` for the resource templates: the `{job_id}` of
//! `codex-async://jobs/{job_id}/output` and `…/meta` completes to the ids of the newest
//! jobs that start with what was typed. Anything else completes to nothing.

use rmcp::ErrorData as McpError;
use rmcp::model::{CompleteRequestParams, CompleteResult, CompletionInfo, Reference};

use super::{META_TEMPLATE, OUTPUT_TEMPLATE};
use crate::jobs::Engine;

/// How many jobs are looked at (newest first): what a person picks from.
const LOOKED_AT: usize = 500;

pub fn complete(engine: &Engine, request: &CompleteRequestParams) -> Result<CompleteResult, McpError> {
    let Reference::Resource(template) = &request.r#ref else { return Ok(CompleteResult::default()) };
    if ![OUTPUT_TEMPLATE, META_TEMPLATE].contains(&template.uri.as_str()) || request.argument.name != "job_id" {
        return Ok(CompleteResult::default());
    }
    let typed = request.argument.value.as_str();
    let rows = engine.list(LOOKED_AT).map_err(|err| McpError::internal_error(err.to_string(), None))?;
    let matching: Vec<String> = rows.into_iter().map(|row| row.job_id).filter(|id| id.starts_with(typed)).collect();
    let total = u32::try_from(matching.len()).unwrap_or(u32::MAX);
    let has_more = matching.len() > CompletionInfo::MAX_VALUES;
    let shown = matching.into_iter().take(CompletionInfo::MAX_VALUES).collect();
    let info = CompletionInfo::with_pagination(shown, Some(total), has_more).map_err(|err| McpError::internal_error(err, None))?;
    Ok(CompleteResult::new(info))
}
