//! Isolated jobs and reviewed results: a job may run in its own git worktree of the
//! repository it was asked to work in (the origin), on its own branch; when its agent
//! ends its change is frozen (a commit on its branch, or for a job that ran in place
//! the diff against the commit recorded at its start), stored in its folder with a
//! stat; a person then reads it (`diff`), brings it into the origin (`apply`, all or
//! nothing, one at a time per origin) or throws it away (`discard`).
//!
//! Every git call goes through [`crate::jobs::git`]'s hardened runner. What a job's
//! record says about its worktree (path, branch, base) is the job's to write, so each
//! is checked before it is used: a path must be a registered worktree of the origin's
//! repository, a branch one codex-async names, a base a commit id.

mod apply;
mod discard;
mod engine;
mod freeze;
mod kinds;
mod lock;
mod place;
mod review;

pub use apply::{ApplyOptions, ApplyView};
pub use discard::DiscardView;
pub use freeze::{MAX_PATCH_BYTES, freeze};
pub use kinds::{Attempt, FREEZE_DEADLINE, Isolation, MAKE_DEADLINE, MAX_ATTEMPTS};
pub use place::{Placed, place};
pub use review::{ChangeView, DiffShape, FileChange, patch_files};
