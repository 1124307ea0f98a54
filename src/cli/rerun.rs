//! `codex-async rerun ID`: the command line's counterpart of the dashboard's `R` — a
//! new job from a finished job's request (its whole prompt, cwd, agent, approval policy,
//! model, profile and config overrides, time limits), each one replaced when given. It
//! is a new conversation, not a follow-up (that is `reply`); the new job is judged as
//! any start is (the policy ceiling, the agent's options).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use super::{RerunArgs, check_prompt_words, read_prompt, settings, started_with};
use crate::config::Flags;
use crate::jobs::{AgentOptions, Ceiling, Engine, JobError, StartRequest};

pub fn rerun(engine: &Engine, args: RerunArgs) -> anyhow::Result<ExitCode> {
    check_prompt_words("rerun", &args.prompt)?;
    let id = engine.store().existing(&args.job_id)?;
    let meta = engine.store().read_meta(&id)?;
    if !meta.status.is_finished() {
        return Err(JobError::BadRequest(format!(
            "job {id} is {}: rerun runs a finished job again (wait for it, or cancel it first)",
            meta.status
        ))
        .into());
    }
    let flags = Flags {
        max_running: args.limits.max_running,
        stall_timeout: args.time_limits.stall_timeout,
        max_duration: args.time_limits.max_duration,
        ..Flags::default()
    };
    let (settings, _) = settings(engine, &flags, false)?;
    let prompt = if args.prompt.is_empty() {
        match engine.store().whole_prompt(&id)? {
            Some(whole) => whole,
            None => meta.prompt.clone(),
        }
    } else {
        read_prompt(&args.prompt)?
    };
    let old_agent = meta.details.agent.clone().unwrap_or_else(|| "codex".to_owned());
    let agent_name = args.agent.clone().unwrap_or_else(|| old_agent.clone());
    let same_agent = agent_name == old_agent;
    let agents = settings.agents();
    let agent = agents.resolve(Some(&agent_name)).map_err(|err| match args.agent {
        Some(_) => anyhow::Error::new(err).context("--agent"),
        None => anyhow::Error::new(err)
            .context(format!("job {id} ran agent '{old_agent}', which is not configured here: choose one with --agent")),
    })?;
    let policy = match args.approval_policy {
        Some(policy) => policy,
        None => {
            meta.approval_policy.parse().map_err(|err: JobError| anyhow::Error::new(err).context(format!("job {id}'s approval policy")))?
        }
    };
    // Another agent may not know this one's model or settings: they go with the agent.
    let keep = |given: Option<String>, old: &Option<String>| given.or_else(|| same_agent.then(|| old.clone()).flatten());
    let options = AgentOptions {
        model: keep(args.options.model.clone(), &meta.details.model),
        profile: keep(args.options.profile.clone(), &meta.details.profile),
        config: if !args.options.config.is_empty() || !same_agent { args.options.config.clone() } else { meta.details.config.clone() },
    };
    let cwd = args.cwd.clone().unwrap_or_else(|| PathBuf::from(&meta.cwd));
    let mut limits = settings.job_limits();
    let seconds = |value: Option<f64>| value.and_then(|seconds| Duration::try_from_secs_f64(seconds).ok());
    if args.time_limits.stall_timeout.is_none() && meta.details.stall_timeout.is_some() {
        limits.stall_timeout = seconds(meta.details.stall_timeout);
    }
    if args.time_limits.max_duration.is_none() && meta.details.max_duration.is_some() {
        limits.max_duration = seconds(meta.details.max_duration);
    }
    let request = StartRequest::new(prompt, &cwd, policy, agent)?.with_options(options)?.with_limits(limits);
    Ceiling::new(settings.max_policy.value, engine.store().home()).admit(&request)?;
    let said = describe(id.as_str(), &request);
    started_with(engine, &request, args.json, Some(("rerun_of", serde_json::Value::String(id.to_string()), said)))
}

/// `runs job X again: cwd …, agent …, approval_policy …, model …` (the values it runs with).
fn describe(old: &str, request: &StartRequest) -> String {
    let mut text =
        format!("runs job {old} again: cwd {}, agent {}, approval_policy {}", request.cwd.display(), request.agent.name(), request.policy);
    if let Some(model) = &request.options.model {
        text.push_str(&format!(", model {model}"));
    }
    if let Some(profile) = &request.options.profile {
        text.push_str(&format!(", profile {profile}"));
    }
    if !request.options.config.is_empty() {
        text.push_str(&format!(", config {}", request.options.config.join(" ")));
    }
    text
}
