//! The dashboard loop: one `select!` over terminal events, the loader's data,
//! background results, a tick (only while jobs run) and shutdown. State changes
//! mark it dirty; drawing happens once per batch, at most [`FRAME`] apart.

use std::io::{self, Write};
use std::time::Duration;

use base64::Engine as _;
use chrono::Utc;
use crossterm::event::{DisableMouseCapture, EnableMouseCapture, EventStream};
use crossterm::terminal::{BeginSynchronizedUpdate, EndSynchronizedUpdate};
use crossterm::{execute, queue};
use futures::StreamExt;
use ratatui::DefaultTerminal;
use tokio::sync::mpsc::{self, UnboundedSender};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::jobs::follow::FollowUp;
use crate::jobs::{AgentSpec, Agents, CancelView, Engine, StartRequest};

use super::app::{App, Effect, TaskResult};
use super::loader::{self, LoaderCommand};
use super::{draw, keys};

/// At most ~30 frames a second, however much output arrives.
pub const FRAME: Duration = Duration::from_millis(33);
/// A key is answered sooner: the cap is for floods of data, not for a person.
pub const KEY_FRAME: Duration = Duration::from_millis(4);
/// The most loader events taken in before the next draw decision.
const BATCH: usize = 512;

/// Everything the loop needs besides the state.
pub struct Context {
    pub engine: Engine,
    /// The agents the form may name.
    pub agents: Agents,
    /// In the demo, every job runs this simulated agent.
    pub demo_agent: Option<AgentSpec>,
    /// The queue and time limits a job started from the form gets.
    pub limits: crate::jobs::JobLimits,
    /// Between SIGINT and SIGKILL when `c` stops a job.
    pub cancel_grace: std::time::Duration,
    pub shutdown: CancellationToken,
}

/// Puts the terminal back however the dashboard ends (panics included: ratatui's
/// hook restores the screen, ours the mouse).
pub struct TerminalGuard;

impl TerminalGuard {
    pub fn enter() -> io::Result<(TerminalGuard, DefaultTerminal)> {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let _ = execute!(io::stdout(), DisableMouseCapture);
            previous(info);
        }));
        let terminal = ratatui::try_init()?;
        let guard = TerminalGuard;
        execute!(io::stdout(), EnableMouseCapture)?;
        Ok((guard, terminal))
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        let _ = execute!(io::stdout(), DisableMouseCapture);
        ratatui::restore();
    }
}

pub async fn run(terminal: &mut DefaultTerminal, app: &mut App, context: &Context) -> io::Result<()> {
    let (command_sender, command_receiver) = mpsc::unbounded_channel();
    let (data_sender, mut data_receiver) = mpsc::unbounded_channel();
    let (task_sender, mut task_receiver) = mpsc::unbounded_channel();
    let loader_stop = context.shutdown.child_token();
    let loader = loader::spawn(context.engine.feed().clone(), command_receiver, data_sender, loader_stop.clone())?;
    let _stop_loader = loader_stop.clone().drop_guard();

    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut last_draw = Instant::now() - FRAME;
    let mut effects: Vec<Effect> = Vec::new();
    // A person's input is waiting to be shown.
    let mut answering = false;

    while !app.quit {
        for effect in effects.drain(..) {
            carry_out(effect, terminal, context, &command_sender, &task_sender)?;
        }
        let gap = if answering { KEY_FRAME } else { FRAME };
        let draw_at = app.dirty.then(|| (last_draw + gap).max(Instant::now()));
        let ticking = app.needs_tick();
        tokio::select! {
            biased;
            _ = context.shutdown.cancelled() => break,
            event = events.next() => match event {
                Some(Ok(event)) => {
                    if let Some(action) = keys::action_for(app, &event) {
                        effects = app.apply(action);
                        answering = true;
                    }
                }
                Some(Err(err)) => return Err(err),
                None => break,
            },
            _ = sleep_until(draw_at), if draw_at.is_some() => {
                app.now = Utc::now();
                draw(terminal, app)?;
                app.dirty = false;
                answering = false;
                last_draw = Instant::now();
            }
            Some(result) = task_receiver.recv() => effects = app.apply_result(result),
            Some(data) = data_receiver.recv() => {
                effects = app.apply_data(data);
                for _ in 0..BATCH {
                    match data_receiver.try_recv() {
                        Ok(data) => effects.extend(app.apply_data(data)),
                        Err(_) => break,
                    }
                }
            }
            _ = tick.tick(), if ticking => app.dirty = true,
        }
    }
    loader_stop.cancel();
    let _ = tokio::task::spawn_blocking(move || loader.join()).await;
    Ok(())
}

pub fn draw(terminal: &mut DefaultTerminal, app: &App) -> io::Result<()> {
    // DEC mode 2026: the terminal shows the frame whole, never half drawn.
    queue!(terminal.backend_mut(), BeginSynchronizedUpdate)?;
    terminal.draw(|frame| draw::draw(frame, app))?;
    execute!(terminal.backend_mut(), EndSynchronizedUpdate)
}

fn carry_out(
    effect: Effect,
    terminal: &mut DefaultTerminal,
    context: &Context,
    loader: &UnboundedSender<LoaderCommand>,
    results: &UnboundedSender<TaskResult>,
) -> io::Result<()> {
    match effect {
        Effect::Watch(job) => {
            let _ = loader.send(LoaderCommand::Watch(job));
        }
        Effect::Fetch(fetch) => {
            let _ = loader.send(LoaderCommand::Fetch(fetch));
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
        Effect::Delete(id) => {
            let engine = context.engine.clone();
            let results = results.clone();
            tokio::task::spawn_blocking(move || {
                let outcome = engine.delete(id.as_str()).map_err(|err| err.to_string());
                let _ = results.send(TaskResult::Deleted { id, outcome });
            });
        }
        Effect::Start { prompt, cwd, policy, agent } => {
            let engine = context.engine.clone();
            let agent = match &context.demo_agent {
                Some(demo) => Ok(demo.clone()),
                None => context.agents.resolve(Some(&agent)),
            };
            let limits = context.limits;
            let results = results.clone();
            tokio::task::spawn_blocking(move || {
                let outcome = agent
                    .and_then(|agent| StartRequest::new(prompt, &cwd, policy, agent))
                    .map(|request| request.with_limits(limits))
                    .and_then(|request| engine.start(&request))
                    .map(|started| started.job_id)
                    .map_err(|err| err.to_string());
                let _ = results.send(TaskResult::Started(outcome));
            });
        }
        Effect::Reply { parent, prompt, policy } => {
            let engine = context.engine.clone();
            let agents = context.agents.clone();
            let follow = FollowUp { prompt, policy: Some(policy), limits: context.limits, ..FollowUp::default() };
            let results = results.clone();
            tokio::task::spawn_blocking(move || {
                let outcome = engine
                    .follow_up(parent.as_str(), follow, &agents)
                    .and_then(|request| engine.start(&request))
                    .map(|started| started.job_id)
                    .map_err(|err| err.to_string());
                let _ = results.send(TaskResult::Started(outcome));
            });
        }
        Effect::Copy(text) => {
            // OSC 52: the terminal (even over ssh, or tmux with set-clipboard) sets the clipboard.
            let encoded = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
            let backend = terminal.backend_mut();
            write!(backend, "\u{1b}]52;c;{encoded}\u{7}")?;
            backend.flush()?;
        }
        Effect::CopyLastMessage(id) => {
            let store = context.engine.store().clone();
            let results = results.clone();
            tokio::task::spawn_blocking(move || {
                let message = store.last_message(&id);
                let _ = results.send(TaskResult::LastMessage { id, message });
            });
        }
        Effect::Bell => {
            let backend = terminal.backend_mut();
            write!(backend, "\u{7}")?;
            backend.flush()?;
        }
    }
    Ok(())
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}
