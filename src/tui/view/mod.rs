//! The view: drawing, a pure function of the state ([`draw::draw`]). Only the rows and
//! lines on screen are built, so thousands of jobs or a huge log cost what fits on it.
//!
//! Imports the model only; the shell's loop calls it.

mod approval;
mod attempt_rows;
#[cfg(test)]
pub(crate) mod built;
pub(crate) mod draw;
mod fit;
mod footer;
mod hosts;
mod output;
mod overlay;
mod symbols;
mod table;
