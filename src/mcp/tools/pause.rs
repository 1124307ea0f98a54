//! `codex_pause` and `codex_resume`: stop a running job where it is and let it go on.

use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use serde::Deserialize;
use serde_json::{Value, json};

use super::common::{ToolContext, ToolResult, json_result, parse, to_value};
use super::shared::schema::{define, job_id_property, status_property};

pub const PAUSE: &str = "codex_pause";
pub const RESUME: &str = "codex_resume";

const PAUSE_DESCRIPTION: &str = "Pause a running job: every process of it is stopped (SIGSTOP) where it is, its status \
becomes 'paused' (with paused_at) and its stall and duration limits stop counting; it keeps its queue slot. Use it to \
hold a job without losing its work, e.g. while a person looks at what it did. codex_resume lets it go on; \
codex_cancel still ends it. Returns {job_id, status: 'paused', changed}; a job already paused is not an error.";

const RESUME_DESCRIPTION: &str = "Resume a job paused with codex_pause: its processes continue (SIGCONT) and it ends \
with its real result. Returns {job_id, status: 'running', changed}.";

pub fn definitions() -> [Tool; 2] {
    [
        define(PAUSE, PAUSE_DESCRIPTION.to_owned(), input(), output())
            .with_annotations(ToolAnnotations::with_title("Pause a job").read_only(false).destructive(false).idempotent(true)),
        define(RESUME, RESUME_DESCRIPTION.to_owned(), input(), output())
            .with_annotations(ToolAnnotations::with_title("Resume a paused job").read_only(false).destructive(false).idempotent(true)),
    ]
}

fn input() -> Value {
    json!({"type": "object", "properties": {"job_id": job_id_property()}, "required": ["job_id"]})
}

fn output() -> Value {
    json!({"type": "object", "properties": {
        "job_id": {"type": "string"}, "status": status_property(), "changed": {"type": "boolean"}, "message": {"type": "string"}
    }, "required": ["job_id", "status", "changed"]})
}

#[derive(Deserialize)]
struct Args {
    job_id: String,
}

/// Pauses (`paused`) or resumes the job.
pub async fn handle(tool: &ToolContext<'_>, arguments: JsonObject, paused: bool) -> ToolResult {
    let args: Args = parse(if paused { PAUSE } else { RESUME }, arguments)?;
    let view = tool.engine.set_paused(&args.job_id, paused).await?;
    Ok(json_result(to_value(view)?))
}
