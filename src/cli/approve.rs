//! `codex-async approve ID`: answers the approval request an `ask` job waits on —
//! allow (the default), `--deny` with an optional `--message` the agent is told, or
//! `--always` to allow that tool for the rest of the job. `--list` shows every request
//! and its answer instead. The first answer wins; a later one is told who gave it.

use std::process::ExitCode;

use clap::Args;

use super::render::Out;
use crate::jobs::{Answerer, ApprovalAnswer, ApprovalRequest, Decision, Engine};

#[derive(Debug, Args)]
pub struct ApproveArgs {
    /// The job: its id, or the start of exactly one id.
    pub job_id: String,
    /// Deny instead of allowing (the agent is told, and goes on without it).
    #[arg(long, conflicts_with = "always")]
    pub deny: bool,
    /// What the agent is told (with --deny: why; it may then try something else).
    #[arg(long, short = 'm', value_name = "TEXT")]
    pub message: Option<String>,
    /// Allow this tool (Bash, Write, …) without asking again for the rest of the job.
    #[arg(long)]
    pub always: bool,
    /// Answer this request (its number) instead of the oldest one waiting.
    #[arg(long, value_name = "N")]
    pub request: Option<u32>,
    /// List the job's requests and their answers; answer nothing.
    #[arg(long, conflicts_with_all = ["deny", "always", "message", "request"])]
    pub list: bool,
    /// Print the result as JSON (what codex_approve returns).
    #[arg(long)]
    pub json: bool,
}

fn describe(request: &ApprovalRequest) -> String {
    let mut text = format!("#{} {}", request.number, request.summary());
    if let Some(reason) = &request.reason {
        text.push_str(&format!(" ({reason})"));
    }
    text
}

pub fn approve(engine: &Engine, args: ApproveArgs) -> anyhow::Result<ExitCode> {
    let mut out = Out::default();
    if args.list {
        let requests = engine.approvals(&args.job_id)?;
        if args.json {
            let rows: Vec<_> = requests.iter().map(|(request, answer)| serde_json::json!({"request": request, "answer": answer})).collect();
            out.line(serde_json::to_string(&rows)?);
        } else if requests.is_empty() {
            out.line("no approval requests");
        }
        for (request, answer) in requests.iter().filter(|_| !args.json) {
            let state = match answer {
                None => "WAITING".to_owned(),
                Some(answer) => {
                    format!("{} by {}{}", answer.decision.as_str(), answer.by.as_str(), if answer.always { " (always)" } else { "" })
                }
            };
            out.line(format!("{}  {state}", describe(request)));
        }
        out.flush();
        return Ok(ExitCode::SUCCESS);
    }
    let decision = if args.deny { Decision::Deny } else { Decision::Allow };
    let answer = ApprovalAnswer::new(decision, args.message.as_deref(), args.always, Answerer::Cli);
    let answered = engine.approve(&args.job_id, args.request, answer)?;
    if args.json {
        out.line(serde_json::to_string(&answered)?);
    } else {
        let verb = match (answered.answer.decision, answered.answer.always) {
            (Decision::Allow, true) => format!("allowed {} for the rest of the job:", answered.request.tool_name),
            (Decision::Allow, false) => "allowed".to_owned(),
            (Decision::Deny, _) => "denied".to_owned(),
        };
        out.line(format!("{verb} {} of job {}", describe(&answered.request), answered.job_id));
    }
    out.flush();
    Ok(ExitCode::SUCCESS)
}
