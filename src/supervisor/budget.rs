//! The job's token budget, kept by its supervisor: the stream's pump reports each usage
//! it reads; the first that passes the budget wakes the run, which cancels the job
//! (`over budget`) with the figures in its note — no timer, no polling.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::Notify;

use crate::jobs::Usage;

/// Shared by the pump (which checks) and the run (which waits).
#[derive(Clone, Debug, Default)]
pub struct Budget {
    limit: Option<u64>,
    /// The tokens used when the budget was passed (0: not passed).
    passed_at: Arc<AtomicU64>,
    passed: Arc<Notify>,
}

impl Budget {
    pub fn new(limit: Option<u64>) -> Self {
        Budget { limit, ..Budget::default() }
    }

    pub fn limit(&self) -> Option<u64> {
        self.limit
    }

    /// The pump read a usage: past the budget, the run is woken (once).
    pub fn check(&self, usage: &Usage) {
        let Some(limit) = self.limit else { return };
        let used = usage.total();
        if used > limit && self.passed_at.compare_exchange(0, used, Ordering::AcqRel, Ordering::Acquire).is_ok() {
            // A permit is kept if the run is not waiting this moment.
            self.passed.notify_one();
        }
    }

    /// Waits until the budget is passed; the tokens used then. Never without a budget.
    pub async fn passed(&self) -> u64 {
        if self.limit.is_none() {
            std::future::pending::<()>().await;
        }
        loop {
            let used = self.passed_at.load(Ordering::Acquire);
            if used > 0 {
                return used;
            }
            self.passed.notified().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_first_usage_past_the_budget_wakes_the_waiter() {
        let budget = Budget::new(Some(100));
        budget.check(&Usage { input_tokens: 60, output_tokens: 40, ..Usage::default() });
        let waiting = tokio::time::timeout(std::time::Duration::from_millis(50), budget.passed()).await;
        assert!(waiting.is_err(), "exactly the budget is not past it");
        budget.check(&Usage { input_tokens: 90, output_tokens: 30, ..Usage::default() });
        budget.check(&Usage { input_tokens: 900, output_tokens: 30, ..Usage::default() });
        assert_eq!(budget.passed().await, 120, "the figures of the first usage past it");
    }
}
