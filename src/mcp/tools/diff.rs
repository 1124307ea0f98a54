//! `codex_diff`: what a job changed — frozen when it ended (live while it runs) — as a
//! stat and the patch, capped as poll caps output.

use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use serde::Deserialize;
use serde_json::{Value, json};

use super::common::{ToolContext, ToolResult, json_result, parse, to_value};
use super::shared::schema::{define, job_id_property};
use crate::jobs::DiffShape;

pub const NAME: &str = "codex_diff";

/// The most of a patch returned (a larger one is cut and says so).
pub const MAX_PATCH_CHARS: usize = 8000;

const DESCRIPTION: &str = "Show what a job changed in its repository: for a job that ended, its change frozen at \
its end (for a worktree job the commits on its branch codex-async/<id>; for a job that ran in place, its folder \
against the commit checked out when it started — later edits are not included); for a job still running, its \
folder now. Returns {job_id, state: 'frozen'|'live'|'none', stat: {files, insertions, deletions}, files: [{path, \
insertions, deletions}], patch (at most max_chars characters; patch_truncated says when cut), notes, worktree, \
branch, base_commit}. Use it to review a job's work before codex_apply.";

pub fn definition() -> Tool {
    define(NAME, DESCRIPTION.to_owned(), input(), output())
        .with_annotations(ToolAnnotations::with_title("Show a job's change").read_only(true))
}

fn input() -> Value {
    json!({"type": "object", "properties": {
        "job_id": job_id_property(),
        "stat_only": {"type": "boolean", "default": false, "description": "Only the stat and the files, no patch."},
        "max_chars": {"type": "integer", "minimum": 0, "default": MAX_PATCH_CHARS, "description": "The most of the patch returned."}
    }, "required": ["job_id"]})
}

fn output() -> Value {
    json!({"type": "object", "properties": {
        "job_id": {"type": "string"}, "state": {"type": "string", "enum": ["frozen", "live", "none"]},
        "stat": {"type": "object"}, "files": {"type": "array"}, "patch": {"type": "string"},
        "patch_truncated": {"type": "boolean"}, "notes": {"type": "array", "items": {"type": "string"}},
        "worktree": {"type": "string"}, "branch": {"type": "string"}, "base_commit": {"type": "string"}
    }, "required": ["job_id", "state", "files", "notes"]})
}

#[derive(Deserialize)]
struct Args {
    job_id: String,
    #[serde(default)]
    stat_only: bool,
    max_chars: Option<usize>,
}

pub async fn handle(tool: &ToolContext<'_>, arguments: JsonObject) -> ToolResult {
    let args: Args = parse(NAME, arguments)?;
    let shape = if args.stat_only { DiffShape::Stat } else { DiffShape::Patch };
    let mut view = tool.engine.change(&args.job_id, shape).await?;
    let cap = args.max_chars.unwrap_or(MAX_PATCH_CHARS).min(MAX_PATCH_CHARS * 64);
    let mut truncated = false;
    if let Some(patch) = view.patch.as_mut()
        && let Some((cut, _)) = patch.char_indices().nth(cap)
    {
        patch.truncate(cut);
        truncated = true;
    }
    let mut value = to_value(view)?;
    if truncated && let Value::Object(map) = &mut value {
        map.insert("patch_truncated".to_owned(), Value::Bool(true));
    }
    Ok(json_result(value))
}
