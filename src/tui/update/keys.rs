//! Terminal events to [`Action`]s. What a key means depends on what is open; a paste
//! goes whole to the text being typed and is never read as keys.

use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEventKind};

use crate::tui::model::app::{Action, App, Mode};
use crate::tui::model::field::Edit;

/// Rows per wheel notch.
const WHEEL_ROWS: i32 = 3;

pub(crate) fn action_for(app: &App, event: &Event) -> Option<Action> {
    match event {
        Event::Key(key) if key.kind != KeyEventKind::Release => key_action(app, key),
        Event::Paste(text) if takes_text(&app.mode) => Some(Action::Edit(Edit::Paste(text.clone()))),
        Event::Mouse(mouse) => match mouse.kind {
            MouseEventKind::ScrollUp => Some(Action::Wheel { rows: -WHEEL_ROWS, column: mouse.column, row: mouse.row }),
            MouseEventKind::ScrollDown => Some(Action::Wheel { rows: WHEEL_ROWS, column: mouse.column, row: mouse.row }),
            MouseEventKind::Down(MouseButton::Left) if app.mode == Mode::Normal => Some(Action::Click(mouse.column, mouse.row)),
            _ => None,
        },
        Event::Resize(width, height) => Some(Action::Resize(*width, *height)),
        _ => None,
    }
}

fn takes_text(mode: &Mode) -> bool {
    matches!(mode, Mode::Filter(_) | Mode::Search(_) | Mode::NewJob(_))
        || matches!(mode, Mode::Approval(prompt) if prompt.message.is_some())
}

fn key_action(app: &App, key: &KeyEvent) -> Option<Action> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl && matches!(key.code, KeyCode::Char('c') | KeyCode::Char('C')) {
        return Some(Action::Quit);
    }
    match &app.mode {
        Mode::NewJob(form) if !form.in_text() => match key.code {
            KeyCode::Left => Some(Action::Left),
            KeyCode::Right => Some(Action::Right),
            _ => text_input(key, true),
        },
        Mode::NewJob(_) => text_input(key, true),
        Mode::Filter(_) | Mode::Search(_) => text_input(key, false),
        Mode::Confirm(confirm) => match key.code {
            KeyCode::Char('y') | KeyCode::Char('Y') => Some(Action::Answer(true)),
            KeyCode::Char('o') if confirm.offers_discard_others() => Some(Action::AnswerDiscardOthers),
            KeyCode::Char('n') | KeyCode::Char('N') => Some(Action::Answer(false)),
            KeyCode::Esc => Some(Action::Back),
            _ => None,
        },
        Mode::Approval(prompt) => super::approval::keys(prompt, key, |key| text_input(key, false)),
        Mode::Help => match key.code {
            KeyCode::Esc | KeyCode::Char('?') | KeyCode::Enter => Some(Action::Back),
            KeyCode::Up | KeyCode::Char('k') => Some(Action::Up),
            KeyCode::Down | KeyCode::Char('j') => Some(Action::Down),
            KeyCode::PageUp => Some(Action::PageUp),
            KeyCode::PageDown | KeyCode::Char(' ') => Some(Action::PageDown),
            KeyCode::Char('q') => Some(Action::Quit),
            _ => None,
        },
        Mode::Hosts if app.hosts.asking.is_some() => match key.code {
            KeyCode::Char('y') | KeyCode::Char('Y') => Some(Action::Answer(true)),
            KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc => Some(Action::Answer(false)),
            KeyCode::Char('q') => Some(Action::Quit),
            _ => None,
        },
        Mode::Hosts => match key.code {
            KeyCode::Up | KeyCode::Char('k') => Some(Action::Up),
            KeyCode::Down | KeyCode::Char('j') => Some(Action::Down),
            KeyCode::PageUp => Some(Action::PageUp),
            KeyCode::PageDown => Some(Action::PageDown),
            KeyCode::Home | KeyCode::Char('g') => Some(Action::First),
            KeyCode::End | KeyCode::Char('G') => Some(Action::Last),
            KeyCode::Char('c') => Some(Action::AskCancel),
            KeyCode::Char('a') => Some(Action::AskApply),
            KeyCode::Char('x') => Some(Action::AskDiscard),
            KeyCode::Char('D') => Some(Action::Diff),
            KeyCode::Char('r') => Some(Action::FollowUp),
            KeyCode::Char('n') => Some(Action::NewJob),
            KeyCode::Char('o') => Some(Action::OpenPager),
            KeyCode::Enter => Some(Action::Zoom),
            KeyCode::Esc => Some(Action::Back),
            KeyCode::Char('H') => Some(Action::Hosts),
            KeyCode::Char('q') => Some(Action::Quit),
            _ => None,
        },
        Mode::Normal => normal(app, key),
    }
}

/// Keys in a text field: editing, Enter submits, Esc closes, Tab moves between fields.
fn text_input(key: &KeyEvent, form: bool) -> Option<Action> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let alt = key.modifiers.contains(KeyModifiers::ALT);
    let edit = match (key.code, ctrl, alt) {
        (KeyCode::Enter, false, true) | (KeyCode::Char('j'), true, false) => Edit::Newline,
        (KeyCode::Enter, _, _) => return Some(Action::Submit),
        (KeyCode::Esc, _, _) => return Some(Action::Back),
        (KeyCode::Tab, _, _) if form => return Some(Action::NextField),
        (KeyCode::BackTab, _, _) if form => return Some(Action::PrevField),
        (KeyCode::Char('w'), true, false) | (KeyCode::Backspace, _, true) | (KeyCode::Backspace, true, _) => Edit::DeleteWordBefore,
        (KeyCode::Char('u'), true, false) => Edit::DeleteToStart,
        (KeyCode::Char('k'), true, false) => Edit::DeleteToEnd,
        (KeyCode::Char('a'), true, false) | (KeyCode::Home, _, _) => Edit::Home,
        (KeyCode::Char('e'), true, false) | (KeyCode::End, _, _) => Edit::End,
        (KeyCode::Char('b'), false, true) | (KeyCode::Left, true, _) | (KeyCode::Left, _, true) => Edit::WordLeft,
        (KeyCode::Char('f'), false, true) | (KeyCode::Right, true, _) | (KeyCode::Right, _, true) => Edit::WordRight,
        (KeyCode::Char('h'), true, false) | (KeyCode::Backspace, _, _) => Edit::Backspace,
        (KeyCode::Char('d'), true, false) | (KeyCode::Delete, _, _) => Edit::Delete,
        (KeyCode::Left, _, _) => Edit::Left,
        (KeyCode::Right, _, _) => Edit::Right,
        (KeyCode::Up, _, _) => Edit::Up,
        (KeyCode::Down, _, _) => Edit::Down,
        (KeyCode::Char(ch), false, false) => Edit::Insert(ch),
        _ => return None,
    };
    Some(Action::Edit(edit))
}

fn normal(app: &App, key: &KeyEvent) -> Option<Action> {
    Some(match key.code {
        KeyCode::Up | KeyCode::Char('k') => Action::Up,
        KeyCode::Down | KeyCode::Char('j') => Action::Down,
        KeyCode::Home | KeyCode::Char('g') => Action::First,
        KeyCode::End | KeyCode::Char('G') => Action::Last,
        KeyCode::PageUp => Action::PageUp,
        KeyCode::PageDown => Action::PageDown,
        KeyCode::Left => Action::ScrollLeft,
        KeyCode::Right => Action::ScrollRight,
        KeyCode::Char('0') => Action::LineStart,
        KeyCode::Char('$') => Action::LineEnd,
        KeyCode::Char('[') => Action::PrevJob,
        KeyCode::Char(']') => Action::NextJob,
        KeyCode::Tab | KeyCode::BackTab => Action::ToggleFocus,
        KeyCode::Enter => Action::Zoom,
        KeyCode::Esc => Action::Back,
        KeyCode::Char(' ') => Action::ToggleMark,
        KeyCode::Char('?') => Action::Help,
        KeyCode::Char('c') => Action::AskCancel,
        KeyCode::Char('d') => Action::AskDelete,
        KeyCode::Char('C') => Action::AskClean,
        KeyCode::Char('A') => Action::Approval,
        KeyCode::Char('s') => Action::CycleStatusFilter,
        KeyCode::Char('S') => Action::CycleSort,
        KeyCode::Char('f') => Action::EditFilter,
        KeyCode::Char('/') => Action::EditSearch,
        // While a search is active `n`/`N` move between its matches, from either pane
        // (Esc ends the search); otherwise `n` opens the new-job form.
        KeyCode::Char('n') if app.shown().search.is_some() => Action::NextMatch,
        KeyCode::Char('N') => Action::PrevMatch,
        KeyCode::Char('n') => Action::NewJob,
        KeyCode::Char('V') => Action::MarkRange,
        KeyCode::Char('r') => Action::FollowUp,
        KeyCode::Char('R') => Action::Rerun,
        KeyCode::Char('i') => Action::Detail,
        KeyCode::Char('D') => Action::Diff,
        KeyCode::Char('a') => Action::AskApply,
        KeyCode::Char('x') => Action::AskDiscard,
        KeyCode::Char('L') => Action::WholeLine,
        KeyCode::Char('o') => Action::OpenPager,
        KeyCode::Char('e') => Action::OpenEditor,
        KeyCode::Char('w') => Action::ToggleWrap,
        KeyCode::Char('y') => Action::CopyId,
        KeyCode::Char('Y') => Action::CopyLastMessage,
        KeyCode::Char('b') => Action::ToggleBell,
        KeyCode::Char('B') => Action::ToggleNotify,
        KeyCode::Char('q') => Action::Quit,
        KeyCode::Char('p') => Action::TogglePause,
        KeyCode::Char('H') => Action::Hosts,
        _ => return None,
    })
}
