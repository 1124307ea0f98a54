//! The symbols and colours of job states, shared by the header, the table, the
//! output's title and the help.

use ratatui::style::Color;

use crate::jobs::Status;

use crate::tui::model::filters::Shown;

pub(crate) fn status_symbol(status: Option<Status>) -> (&'static str, Color) {
    match status {
        Some(Status::Pending) => ("◌", Color::Gray),
        Some(Status::Running) => ("●", Color::Yellow),
        Some(Status::Paused) => ("‖", Color::Cyan),
        Some(Status::Done) => ("✓", Color::Green),
        Some(Status::Error) => ("✗", Color::Red),
        Some(Status::Cancelled) => ("⊘", Color::Magenta),
        None => ("!", Color::LightRed),
    }
}

pub(crate) fn status_name(status: Option<Status>) -> &'static str {
    status.map_or("corrupt", Status::as_str)
}

/// A status word's colour: the stored status's, or what the row says instead.
pub(crate) fn shown_colour(shown: Shown) -> Color {
    match shown {
        Shown::Stored(status) => status_symbol(Some(status)).1,
        Shown::Starting => status_symbol(Some(Status::Pending)).1,
        Shown::Stopping => Color::Magenta,
        Shown::Lost => Color::LightRed,
        Shown::Corrupt => status_symbol(None).1,
    }
}

pub(crate) fn shown_symbol(shown: Shown) -> &'static str {
    match shown {
        Shown::Stored(status) => status_symbol(Some(status)).0,
        Shown::Starting => status_symbol(Some(Status::Pending)).0,
        Shown::Stopping | Shown::Lost => status_symbol(Some(Status::Running)).0,
        Shown::Corrupt => status_symbol(None).0,
    }
}
