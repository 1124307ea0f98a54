//! After the agent's result is recorded: ending what it left behind.
//!
//! The leftovers are this supervisor's live descendants (it is a subreaper, so those
//! that left the agent's group are still below it) and every process marked with the
//! job's id. Signals go only to the marked ones (SIGTERM at once, SIGKILL at half the
//! grace period); at the end of the grace period the supervisor stops waiting and
//! names whatever is left — a process SIGKILL cannot end (uninterruptible sleep on a
//! hung mount, a setuid child) or one that dropped the marker — instead of keeping the
//! job open for ever.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use nix::sys::signal::Signal;
use nix::unistd::Pid;
use tokio::time::{Instant, sleep};

use super::run::{Signals, reap};
use crate::jobs::{JobId, process::marker, process::procfs};

/// Grandchildren adopted by another subreaper raise no SIGCHLD here: look this often too.
const LOOK_AGAIN: Duration = Duration::from_millis(50);

/// Ends the job's leftovers; returns the ones still alive after `grace` (described).
pub async fn end_leftovers(id: &JobId, grace: Duration, signals: &mut Signals) -> Vec<String> {
    let me = std::process::id() as i32;
    let began = Instant::now();
    let (kill_at, give_up_at) = (began + grace / 2, began + grace);
    let mut sent: HashMap<i32, Signal> = HashMap::new();
    let mut announced = false;
    loop {
        reap(Pid::from_raw(0));
        let marked = marker::find(id);
        let left: BTreeSet<i32> = marked.iter().copied().chain(procfs::descendants(me)).collect();
        if left.is_empty() {
            return Vec::new();
        }
        let now = Instant::now();
        if now >= give_up_at {
            return left.into_iter().map(marker::describe).collect();
        }
        if !std::mem::replace(&mut announced, true) {
            tracing::info!(job = %id, count = left.len(), "ending processes the agent left behind");
        }
        let due = if now >= kill_at { Signal::SIGKILL } else { Signal::SIGTERM };
        for &pid in &marked {
            if sent.get(&pid) != Some(&due) && marker::signal(id, pid, due) {
                sent.insert(pid, due);
            }
        }
        tokio::select! {
            _ = signals.child.recv() => {}
            () = sleep(LOOK_AGAIN) => {}
        }
    }
}
