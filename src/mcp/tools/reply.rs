//! `codex_reply`: continues a finished job's conversation as a new job, judged as a
//! new start whatever it takes from its parent.

use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use serde::Deserialize;
use serde_json::{Value, json};

use super::common::{LimitArgs, OneOrMany, OptionArgs, ToolContext, ToolResult, json_result, parse, start_request, to_value};
use super::shared::schema::{define, object, option_properties, policy_property};
use super::shared::unattended::{self, UnattendedArgs};
use super::start;
use crate::jobs::ApprovalPolicy;
use crate::jobs::FollowUp;

pub const NAME: &str = "codex_reply";

const DESCRIPTION: &str = "Continue a finished job's conversation with a new prompt: starts a new job (its own \
job_id, returned at once like codex_start) that resumes the same agent session, in the same cwd, with the same \
approval_policy, agent, model, profile and config unless given here. The parent must have ended (done, error or \
cancelled) and have a session_id (codex_poll shows it); its follow_ups list the jobs that continue it, and a \
follow-up can itself be continued. Use it to ask for changes to what a job did, or a next step, without repeating \
the context. It is judged as a new request: the server's ceiling applies to what it inherits too. It takes \
codex_start's after, delay and at (never the parent's: a follow-up can wait for a review job to end done, or for \
tonight), labels, group, priority and max_tokens (each left out is the parent's) and resume_on_limit (the server's \
default unless given). Returns {job_id, status, pid, inherited} (inherited: what it took from the parent).";

/// The tool as a model sees it.
pub fn definition() -> Tool {
    define(NAME, DESCRIPTION.to_owned(), input(), output()).with_annotations(
        ToolAnnotations::with_title("Continue a finished job's conversation").read_only(false).destructive(false).open_world(true),
    )
}

fn input() -> Value {
    let mut properties = object(json!({
        "job_id": {"type": "string", "description": "The finished job whose conversation to continue."},
        "prompt": {"type": "string", "description": "The next message to the agent, as in a conversation."},
        "approval_policy": policy_property("the parent job's")
    }));
    properties.extend(option_properties());
    properties.extend(unattended::properties());
    json!({"type": "object", "properties": properties, "required": ["job_id", "prompt"]})
}

/// A start's answer that also says what the follow-up took from its parent.
fn output() -> Value {
    let mut output = start::output();
    output["properties"]["inherited"] = json!({"type": "object",
        "description": "What the follow-up took from its parent's record rather than from this call: the parent (from), \
            cwd and agent always; approval_policy, model, profile, config, labels, group, priority and max_tokens when \
            not given here.",
        "properties": {
            "from": {"type": "string"}, "cwd": {"type": "string"}, "agent": {"type": "string"},
            "approval_policy": {"type": "string"}, "model": {"type": "string"}, "profile": {"type": "string"},
            "config": {"type": "array", "items": {"type": "string"}},
            "labels": {"type": "array", "items": {"type": "string"}}, "group": {"type": "string"},
            "priority": {"type": "integer"}, "max_tokens": {"type": "integer"}
        }, "required": ["from", "cwd", "agent"]});
    output
}

#[derive(Deserialize)]
struct Args {
    job_id: String,
    prompt: String,
    approval_policy: Option<String>,
    #[serde(flatten)]
    options: OptionArgs,
    #[serde(flatten)]
    limits: LimitArgs,
    #[serde(flatten)]
    unattended: UnattendedArgs,
}

pub async fn handle(tool: &ToolContext<'_>, arguments: JsonObject) -> ToolResult {
    let args: Args = parse(NAME, arguments)?;
    let policy: Option<ApprovalPolicy> = args.approval_policy.as_deref().map(str::parse).transpose()?;
    let follow = FollowUp {
        prompt: args.prompt,
        policy,
        model: args.options.model,
        profile: args.options.profile,
        config: args.options.config.map(OneOrMany::into_vec),
        limits: args.limits.limits(tool.settings.job_limits)?,
        schedule: args.unattended.schedule()?,
        max_tokens: args.unattended.max_tokens,
        resume_on_limit: args.unattended.resume(tool.settings),
    };
    // Judged as a new request, whatever the parent's record says.
    let mut follow_up = tool.engine.follow_up(&args.job_id, follow, &tool.settings.agents)?;
    follow_up.queue_in(|group| crate::config::queue_limit(&tool.settings.groups, tool.settings.job_limits.max_running, group))?;
    follow_up.admit(tool.ceiling)?;
    let mut started = start_request(tool, follow_up.request).await?;
    if let Value::Object(map) = &mut started {
        map.insert("inherited".to_owned(), to_value(&follow_up.inherited)?);
    }
    Ok(json_result(started))
}
