//! Terminal events to [`Action`]s. What a key means depends on what is open.

use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEventKind};

use super::app::{Action, App, Focus, Mode};

/// Lines per wheel notch.
const WHEEL_LINES: i32 = 3;

pub fn action_for(app: &App, event: &Event) -> Option<Action> {
    match event {
        Event::Key(key) if key.kind != KeyEventKind::Release => key_action(app, key),
        Event::Mouse(mouse) => match mouse.kind {
            MouseEventKind::ScrollUp => Some(Action::Wheel(-WHEEL_LINES)),
            MouseEventKind::ScrollDown => Some(Action::Wheel(WHEEL_LINES)),
            MouseEventKind::Down(MouseButton::Left) if app.mode == Mode::Normal => Some(Action::Click(mouse.column, mouse.row)),
            _ => None,
        },
        Event::Resize(width, height) => Some(Action::Resize(*width, *height)),
        _ => None,
    }
}

fn key_action(app: &App, key: &KeyEvent) -> Option<Action> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl && matches!(key.code, KeyCode::Char('c') | KeyCode::Char('C')) {
        return Some(Action::Quit);
    }
    match &app.mode {
        Mode::Filter | Mode::Search(_) | Mode::NewJob(_) => text_input(key, matches!(app.mode, Mode::NewJob(_))),
        Mode::Confirm(_) => match key.code {
            KeyCode::Char('y') | KeyCode::Char('Y') => Some(Action::Answer(true)),
            KeyCode::Char('n') | KeyCode::Char('N') => Some(Action::Answer(false)),
            KeyCode::Esc => Some(Action::Back),
            _ => None,
        },
        Mode::Help => match key.code {
            KeyCode::Esc | KeyCode::Char('?') | KeyCode::Enter => Some(Action::Back),
            KeyCode::Up | KeyCode::Char('k') => Some(Action::Up),
            KeyCode::Down | KeyCode::Char('j') => Some(Action::Down),
            KeyCode::Char('q') => Some(Action::Quit),
            _ => None,
        },
        Mode::Normal => normal(app, key),
    }
}

fn text_input(key: &KeyEvent, form: bool) -> Option<Action> {
    if key.modifiers.contains(KeyModifiers::CONTROL) {
        return None;
    }
    match key.code {
        KeyCode::Char(ch) => Some(Action::Type(ch)),
        KeyCode::Backspace => Some(Action::Erase),
        KeyCode::Enter => Some(Action::Submit),
        KeyCode::Esc => Some(Action::Back),
        KeyCode::Tab | KeyCode::Down if form => Some(Action::NextField),
        KeyCode::BackTab | KeyCode::Up if form => Some(Action::PrevField),
        KeyCode::Left if form => Some(Action::Left),
        KeyCode::Right if form => Some(Action::Right),
        _ => None,
    }
}

fn normal(app: &App, key: &KeyEvent) -> Option<Action> {
    let output_keys = app.zoom || app.focus == Focus::Output;
    Some(match key.code {
        KeyCode::Up | KeyCode::Char('k') => Action::Up,
        KeyCode::Down | KeyCode::Char('j') => Action::Down,
        KeyCode::Home | KeyCode::Char('g') => Action::First,
        KeyCode::End | KeyCode::Char('G') => Action::Last,
        KeyCode::PageUp => Action::PageUp,
        KeyCode::PageDown => Action::PageDown,
        KeyCode::Tab | KeyCode::BackTab => Action::ToggleFocus,
        KeyCode::Enter => Action::Zoom,
        KeyCode::Esc => Action::Back,
        KeyCode::Char('?') => Action::Help,
        KeyCode::Char('c') => Action::AskCancel,
        KeyCode::Char('d') => Action::AskDelete,
        KeyCode::Char('s') => Action::CycleStatusFilter,
        KeyCode::Char('f') => Action::EditFilter,
        KeyCode::Char('/') => Action::EditSearch,
        KeyCode::Char('n') if output_keys && app.pane.search.is_some() => Action::NextMatch,
        KeyCode::Char('N') => Action::PrevMatch,
        KeyCode::Char('n') => Action::NewJob,
        KeyCode::Char('r') => Action::FollowUp,
        KeyCode::Char('w') => Action::ToggleWrap,
        KeyCode::Char('y') => Action::CopyId,
        KeyCode::Char('Y') => Action::CopyLastMessage,
        KeyCode::Char('b') => Action::ToggleBell,
        KeyCode::Char('q') => Action::Quit,
        _ => return None,
    })
}
