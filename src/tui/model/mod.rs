//! The model: the dashboard's state as plain data ([`app::App`]) and what it is made
//! of — the messages of the loop ([`message`]), the output pane and the documents shown
//! in its place, the job form and its fields, the filters and the search, the help
//! box's lines, where each part goes for a terminal size ([`layout`]), the text helpers
//! that make output safe to draw, and the settings remembered across runs
//! ([`remembered`]). Beside the data stand only the queries and the small changes that
//! keep it consistent; what a person's action does is the update's.
//!
//! Imports nothing of the dashboard (only `jobs`, `term` and libraries); the update,
//! the view and the shell import it. Two of its functions touch the disk —
//! [`remembered::load`] and [`remembered::save`], and the folder read behind Tab
//! ([`complete::folder_matches`]) — and only the shell calls them, off the screen loop.

pub(crate) mod app;
pub(crate) mod attempts;
pub(crate) mod complete;
pub(crate) mod document;
pub(crate) mod field;
pub(crate) mod filters;
pub(crate) mod form;
pub(crate) mod help;
pub(crate) mod hosts;
pub(crate) mod layout;
pub(crate) mod message;
pub(crate) mod pane;
pub(crate) mod remembered;
mod rows;
pub(crate) mod search;
pub mod text;
