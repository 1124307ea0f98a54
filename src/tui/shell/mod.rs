//! The shell: where the dashboard meets the world. [`runtime`] runs the loop over
//! terminal events, the loader's data, background results, a tick and shutdown; it
//! feeds the update and draws with the view. `effects` carries out what a transition
//! asked for (engine calls and file reads on background tasks; `hosts` a host's tool
//! calls), [`loader`] does the
//! jobs folder's I/O on its own thread, `external` hands the terminal to `$PAGER` or
//! `$EDITOR`, and [`notice`] writes the bell, desktop notices and the clipboard.
//!
//! Imports the model, the update and the view; only the dashboard's root imports it.

pub(crate) mod context;
mod effects;
mod external;
mod hosts;
pub mod loader;
pub(crate) mod notice;
pub(crate) mod runtime;
