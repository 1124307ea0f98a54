//! The dashboard loop: one `select!` over terminal events, the loader's data,
//! background results, a tick (only while jobs run) and shutdown. State changes
//! mark it dirty; drawing happens once per batch, at most [`FRAME`] apart.

use std::io;
use std::time::Duration;

use chrono::Utc;
use crossterm::event::{DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture, EventStream};
use crossterm::terminal::{BeginSynchronizedUpdate, EndSynchronizedUpdate};
use crossterm::{execute, queue};
use futures::StreamExt;
use ratatui::DefaultTerminal;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::context::Context;
use super::effects::{self, Channels};
use super::external;
use super::loader;
use crate::tui::model::app::{App, Effect, TaskResult};
use crate::tui::update::keys;
use crate::tui::view::draw;

/// At most ~30 frames a second, however much output arrives.
pub(crate) const FRAME: Duration = Duration::from_millis(33);
/// A key is answered at once: the cap is for floods of data, not for a person. Keys
/// that arrive together are still drawn once (the loop takes every ready event before
/// it draws); a gap here only delayed the key that came just after a flood frame.
pub(crate) const KEY_FRAME: Duration = Duration::from_millis(0);
/// The most loader events taken in before the next draw decision.
const BATCH: usize = 512;

/// Puts the terminal back however the dashboard ends (panics included: ratatui's
/// hook restores the screen, ours the mouse and bracketed paste).
pub(crate) struct TerminalGuard;

impl TerminalGuard {
    pub(crate) fn enter() -> io::Result<(TerminalGuard, DefaultTerminal)> {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let _ = execute!(io::stdout(), DisableMouseCapture, DisableBracketedPaste);
            previous(info);
        }));
        let terminal = ratatui::try_init()?;
        let guard = TerminalGuard;
        // Bracketed paste: a paste arrives as one event, never as keys.
        execute!(io::stdout(), EnableMouseCapture, EnableBracketedPaste)?;
        Ok((guard, terminal))
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        let _ = execute!(io::stdout(), DisableMouseCapture, DisableBracketedPaste);
        ratatui::restore();
    }
}

pub(crate) async fn run(terminal: &mut DefaultTerminal, app: &mut App, context: &Context) -> io::Result<()> {
    let (command_sender, command_receiver) = mpsc::unbounded_channel();
    let (data_sender, mut data_receiver) = mpsc::unbounded_channel();
    let (task_sender, mut task_receiver) = mpsc::unbounded_channel();
    let loader_stop = context.shutdown.child_token();
    let loader = loader::spawn(context.engine.feed().clone(), command_receiver, data_sender.clone(), loader_stop.clone())?;
    let _stop_loader = loader_stop.clone().drop_guard();

    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut last_draw = Instant::now() - FRAME;
    let mut effects: Vec<Effect> = Vec::new();
    // A person's input is waiting to be shown.
    let mut answering = false;

    let (follow, _) = tokio::sync::watch::channel(None);
    watch_hosts(context, &follow, &data_sender, &loader_stop);
    let channels = Channels { loader: command_sender, results: task_sender, follow };
    while !app.quit {
        for effect in effects.drain(..) {
            if let Effect::Open { viewer, job, text } = effect {
                // Keys are the viewer's until it ends: the reader stops, and starts again after.
                drop(events);
                let problem = open(terminal, context, viewer, job, text);
                events = EventStream::new();
                let _ = channels.results.send(TaskResult::Opened(problem?));
                app.dirty = true;
                continue;
            }
            effects::carry_out(effect, terminal.backend_mut(), context, &channels)?;
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

/// One task per configured host keeps its jobs live for the hosts view (see
/// [`crate::hosts::watch`]); what they say joins the loader's data.
fn watch_hosts(
    context: &Context,
    follow: &tokio::sync::watch::Sender<Option<String>>,
    data: &mpsc::UnboundedSender<crate::tui::model::app::DataEvent>,
    stop: &tokio_util::sync::CancellationToken,
) {
    if context.hosts.is_empty() {
        return;
    }
    let (events, mut heard) = mpsc::unbounded_channel();
    for host in context.hosts.names() {
        let task = crate::hosts::watch::watch(context.hosts.clone(), host, events.clone(), follow.subscribe(), stop.clone());
        tokio::spawn(task);
    }
    let data = data.clone();
    tokio::spawn(async move {
        while let Some(event) = heard.recv().await {
            if data.send(crate::tui::model::app::DataEvent::Host(event)).is_err() {
                return;
            }
        }
    });
}

pub(crate) fn draw(terminal: &mut DefaultTerminal, app: &App) -> io::Result<()> {
    // DEC mode 2026: the terminal shows the frame whole, never half drawn.
    queue!(terminal.backend_mut(), BeginSynchronizedUpdate)?;
    terminal.draw(|frame| draw::draw(frame, app))?;
    execute!(terminal.backend_mut(), EndSynchronizedUpdate)
}

/// Steps aside for the viewer on a job's output, or on a view's text put in a
/// temporary file for it. A pager is given text made safe for a terminal (see
/// [`external::viewer_file`]); an editor shows control characters as such, and gets the
/// text (or the output file) as it is.
fn open(
    terminal: &mut DefaultTerminal,
    context: &Context,
    viewer: crate::tui::model::message::Viewer,
    job: Option<crate::jobs::JobId>,
    text: Option<String>,
) -> io::Result<Option<String>> {
    let store = context.engine.store();
    let file = match external::viewer_file(store, viewer, job.as_ref(), text) {
        Ok(Some(file)) => file,
        Ok(None) => return Ok(Some("this job has no output yet".to_owned())),
        Err(err) => return Ok(Some(err.to_string())),
    };
    external::step_aside(terminal, viewer, file.path())
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}
