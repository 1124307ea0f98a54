//! Carrying out what a transition asked for: loader commands, engine calls and file
//! reads on background tasks (their results come back as [`TaskResult`]s), and
//! sequences written to the terminal.

use std::io::{self, Write};

use tokio::sync::mpsc::UnboundedSender;

use crate::jobs::{
    Answerer, ApplyOptions, ApprovalAnswer, CancelView, Decision, Engine, FollowUp, GcRule, JobError, JobId, JobStore, Schedule,
    StartRequest, StartView,
};

use super::context::Context;
use super::loader::LoaderCommand;
use super::notice;
use crate::tui::model::app::{Effect, TaskResult};
use crate::tui::model::form::starts_at;
use crate::tui::model::message::Started;
use crate::tui::model::{complete, remembered};
use crate::tui::update::diff_view;

/// Where effects send their requests and results.
pub struct Channels {
    pub loader: UnboundedSender<LoaderCommand>,
    pub results: UnboundedSender<TaskResult>,
    /// The host job whose output the hosts view shows (every host's task hears it).
    pub follow: tokio::sync::watch::Sender<Option<String>>,
}

/// Runs `work` on a blocking thread and sends its result back.
fn in_background(results: &UnboundedSender<TaskResult>, work: impl FnOnce() -> TaskResult + Send + 'static) {
    let results = results.clone();
    tokio::task::spawn_blocking(move || {
        let _ = results.send(work());
    });
}

pub fn carry_out(effect: Effect, out: &mut impl Write, context: &Context, channels: &Channels) -> io::Result<()> {
    let results = &channels.results;
    match effect {
        Effect::Load(command) => {
            let _ = channels.loader.send(command);
        }
        Effect::FollowHostJob(job) => {
            channels.follow.send_replace(job);
        }
        Effect::OnHost { job, act } => super::hosts::act(&context.hosts, job, act, results),
        Effect::StartOnHost { host, tool, arguments, policy } => {
            super::hosts::start(&context.hosts, host, tool, arguments, policy, context.ceiling.policy(), results);
        }
        Effect::Cancel(id) => {
            let engine = context.engine.clone();
            let grace = context.cancel_grace;
            let results = results.clone();
            tokio::spawn(async move {
                let outcome = match engine.cancel(id.as_str(), grace).await {
                    Ok(CancelView::Cancelled { status, .. }) => Ok(status.to_string()),
                    Ok(CancelView::NotRunning { status, .. }) => Ok(format!("had already ended ({status})")),
                    Err(err) => Err(err.to_string()),
                };
                let _ = results.send(TaskResult::Cancelled { id, outcome });
            });
        }
        Effect::SetPaused { id, paused } => {
            let engine = context.engine.clone();
            let results = results.clone();
            tokio::spawn(async move {
                let outcome =
                    engine.set_paused(id.as_str(), paused).await.map(|view| view.status.to_string()).map_err(|err| err.to_string());
                let _ = results.send(TaskResult::Paused { id, outcome });
            });
        }
        // The supervisor records the end (a cancel is under way); only the job's
        // marked processes are signalled, never the supervisor.
        Effect::Kill(id) => {
            let engine = context.engine.clone();
            in_background(results, move || {
                let processes = engine.kill(&id);
                TaskResult::Killed { id, processes }
            });
        }
        Effect::Approve { job, number, allow, always, message } => {
            let engine = context.engine.clone();
            in_background(results, move || {
                let decision = if allow { Decision::Allow } else { Decision::Deny };
                let answer = ApprovalAnswer::new(decision, message.as_deref(), always, Answerer::Dashboard);
                let outcome = engine
                    .approve(job.as_str(), Some(number), answer)
                    .map(|answered| {
                        let what = match (allow, always) {
                            (true, true) => format!("allowed {} for the rest of the job", answered.request.tool_name),
                            (true, false) => "allowed".to_owned(),
                            (false, _) => "denied".to_owned(),
                        };
                        format!("{what}: {}", answered.request.summary())
                    })
                    .map_err(|err| err.to_string());
                TaskResult::Approved { id: job, outcome }
            });
        }
        Effect::Delete(id) => {
            let engine = context.engine.clone();
            in_background(results, move || {
                let outcome = engine.delete(id.as_str()).map_err(|err| err.to_string());
                TaskResult::Deleted { id, outcome }
            });
        }
        Effect::Clean => {
            let engine = context.engine.clone();
            in_background(results, move || {
                let outcome = engine
                    .gc(GcRule { keep: Some(0), older_than: None }, false)
                    .map(|report| (report.removed.len(), report.bytes_freed))
                    .map_err(|err| err.to_string());
                TaskResult::Cleaned(outcome)
            });
        }
        Effect::Start { prompt, cwd, policy, agent, rerun_of, worktree, after, starts } => {
            let engine = context.engine.clone();
            let isolation = context.worktrees.isolation(context.engine.store().home(), Some(worktree), None);
            let agent = context.agents.resolve(Some(&agent));
            let limits = context.limits;
            let ceiling = context.ceiling.clone();
            in_background(results, move || {
                let outcome = agent
                    .and_then(|agent| StartRequest::new(prompt, &cwd, policy, agent))
                    .and_then(|request| Ok(request.with_limits(limits).with_schedule(when(&engine, after, starts)?)))
                    .map(|request| match isolation {
                        Some(isolation) => request.isolated(isolation),
                        None => request,
                    })
                    .and_then(|request| ceiling.admit(&request).map(|()| request))
                    .and_then(|request| {
                        let again = rerun_of.map(|parent| rerun_notice(&parent, &request));
                        engine.start(&request).map(|started| started_with(started, again))
                    })
                    .map_err(|err| err.to_string());
                TaskResult::Started(outcome)
            });
        }
        // A follow-up is judged as a new request, whatever its parent's record says.
        Effect::Reply { parent, prompt, policy, after, starts } => {
            let engine = context.engine.clone();
            let agents = context.agents.clone();
            let ceiling = context.ceiling.clone();
            let groups = context.groups.clone();
            let limits = context.limits;
            in_background(results, move || {
                let outcome = when(&engine, after, starts)
                    .map(|schedule| FollowUp { prompt, policy: Some(policy), limits, schedule, ..FollowUp::default() })
                    .and_then(|follow| engine.follow_up(parent.as_str(), follow, &agents))
                    .and_then(|mut follow_up| {
                        follow_up.queue_in(|group| crate::config::queue_limit(&groups, limits.max_running, group))?;
                        Ok(follow_up)
                    })
                    .and_then(|follow_up| follow_up.admit(&ceiling).map(|()| follow_up))
                    .and_then(|follow_up| {
                        let notice = format!("approval_policy {policy}; {}", follow_up.inherited.describe());
                        engine.start(&follow_up.request).map(|started| started_with(started, Some(notice)))
                    })
                    .map_err(|err| err.to_string());
                TaskResult::Started(outcome)
            });
        }
        Effect::Copy(text) => notice::write_copy(out, &text)?,
        Effect::CopyLastMessage(id) => {
            let store = context.engine.store().clone();
            in_background(results, move || {
                let message = store.last_message(&id);
                TaskResult::LastMessage { id, message }
            });
        }
        Effect::ReadDetail(id) => {
            let store = context.engine.store().clone();
            in_background(results, move || {
                let prompt = whole_prompt(&store, &id).ok().flatten();
                let last_message = store.last_message(&id);
                let hook_failures = crate::jobs::hook_failures(&store, &id);
                let hooks_log = store.job_dir(&id).join(crate::jobs::HOOKS_LOG).display().to_string();
                TaskResult::Detail { id, prompt, last_message, hook_failures, hooks_log }
            });
        }
        Effect::ReadPrompt(id) => {
            let store = context.engine.store().clone();
            in_background(results, move || {
                let prompt = whole_prompt(&store, &id).and_then(|prompt| prompt.ok_or_else(|| "the job has no prompt file".to_owned()));
                TaskResult::Prompt { id, prompt }
            });
        }
        Effect::Diff { job, cwd, base } => {
            // On a blocking thread, as it reads the job's folder (which may hang).
            let runtime = tokio::runtime::Handle::current();
            let engine = context.engine.clone();
            in_background(results, move || {
                let text = runtime.block_on(diff_view::job_diff(&engine, &job, &cwd, base.as_deref()));
                TaskResult::Diff { id: job, text }
            });
        }
        Effect::Apply(job) => {
            let runtime = tokio::runtime::Handle::current();
            let engine = context.engine.clone();
            in_background(results, move || {
                let text = runtime.block_on(crate::tui::update::worktree::apply(&engine, &job, ApplyOptions::default()));
                TaskResult::Reviewed { id: job, text }
            });
        }
        Effect::ApplyDiscardingOthers(job) => {
            let runtime = tokio::runtime::Handle::current();
            let engine = context.engine.clone();
            in_background(results, move || {
                let options = ApplyOptions { discard_others: true, ..ApplyOptions::default() };
                let text = runtime.block_on(crate::tui::update::worktree::apply(&engine, &job, options));
                TaskResult::Reviewed { id: job, text }
            });
        }
        Effect::Discard(job) => {
            let runtime = tokio::runtime::Handle::current();
            let engine = context.engine.clone();
            in_background(results, move || {
                let text = runtime.block_on(crate::tui::update::worktree::discard(&engine, &job));
                TaskResult::Reviewed { id: job, text }
            });
        }
        Effect::FolderMatches(typed) => {
            let home = context.home.clone();
            in_background(results, move || {
                let matches = complete::folder_matches(&typed, home.as_deref());
                TaskResult::FolderMatches { typed, matches }
            });
        }
        Effect::Remember(remembered) => {
            let path = context.state_path.clone();
            tokio::task::spawn_blocking(move || {
                if let Err(err) = remembered::save(&path, &remembered) {
                    tracing::warn!(path = %path.display(), %err, "could not write the dashboard's state");
                }
            });
        }
        Effect::Bell => notice::write_bell(out)?,
        Effect::Notify { title, body } => notice::write_notice(out, context.terminal, &title, &body)?,
        // The loop carries it out itself: it stops reading keys for it.
        Effect::Open { .. } => {}
    }
    Ok(())
}

/// When the form's job may start: its `after` ids made whole (one that names no job, or
/// several, refused, saying which field it came from: before anything starts), and its
/// delay counted from now.
fn when(engine: &Engine, after: Vec<String>, starts: Option<String>) -> crate::jobs::Result<Schedule> {
    let not_before = starts.map(|text| starts_at(&text, chrono::Utc::now())).transpose().map_err(JobError::BadRequest)?;
    Schedule { after, not_before, ..Schedule::default() }
        .resolved(engine.store())
        .map_err(|err| JobError::BadRequest(format!("after: {err}")))
}

fn started_with(started: StartView, inherited: Option<String>) -> Started {
    Started { id: started.job_id, failed: started.error, inherited }
}

/// What a run again took from the job it repeats (the form showed it, and may have
/// been changed: these are the values it ran with).
fn rerun_notice(parent: &JobId, request: &StartRequest) -> String {
    format!("run again of job {parent}: cwd {}, agent {}, approval_policy {}", request.cwd.display(), request.agent.name(), request.policy)
}

/// The whole prompt of a job whose meta holds only its start (`None` when the meta has
/// it all).
fn whole_prompt(store: &JobStore, id: &JobId) -> Result<Option<String>, String> {
    store.whole_prompt(id).map_err(|err| err.to_string())
}
