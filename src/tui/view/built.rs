//! What drawing built on this thread, for tests that prove a frame costs what fits on
//! the screen, whatever is stored (counts, not clocks).

use std::cell::Cell;

#[derive(Clone, Copy)]
pub(crate) enum Kind {
    TableRows,
    OutputLines,
}

thread_local! {
    static COUNTS: Cell<(usize, usize)> = const { Cell::new((0, 0)) };
}

pub(crate) fn add(kind: Kind, count: usize) {
    COUNTS.with(|counts| {
        let (rows, lines) = counts.get();
        counts.set(match kind {
            Kind::TableRows => (rows + count, lines),
            Kind::OutputLines => (rows, lines + count),
        });
    });
}

/// Table rows and output lines built on this thread since the last call.
pub(crate) fn take() -> (usize, usize) {
    COUNTS.with(|counts| counts.replace((0, 0)))
}
