//! The verbs on other machines' jobs (`--host NAME`, ids `NAME:ID`), `list --all-hosts`
//! and `hosts`: each a client of a host's codex-async over MCP (see [`crate::hosts`]),
//! printing what the local verb prints, from the host's answer checked first.

mod all;
mod context;
mod review;
mod show;
mod starts;
mod verbs;

pub use all::gather;
pub use review::{apply, diff, discard};
pub use show::hosts;
pub use starts::{reply, start};
pub use verbs::{Removals, cancel, logs, poll, wait};
