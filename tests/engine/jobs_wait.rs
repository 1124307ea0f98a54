//! Waiting through the engine: many at once, the already-finished case, timeouts.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use crate::support::TestHome;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_waits_share_one_watcher_and_read_little() {
    let home = TestHome::new();
    let engine = home.engine();
    let ids: Vec<String> = (0..20).map(|i| home.start(&format!("sleep:1.5 exit:{}", i % 3))).collect();
    let reads_before = engine.store().counters().meta_reads();
    let waits: Vec<_> = (0..1000)
        .map(|n| {
            let engine = engine.clone();
            let id = ids[n % ids.len()].clone();
            tokio::spawn(async move { engine.wait(&id, Duration::from_secs(60), 10).await })
        })
        .collect();
    for (n, wait) in waits.into_iter().enumerate() {
        let view = wait.await.unwrap().unwrap();
        assert!(!view.timed_out, "wait {n} timed out");
        let expected = if (n % ids.len()).is_multiple_of(3) { "done" } else { "error" };
        assert_eq!(view.poll.status.as_str(), expected);
        assert_eq!(view.poll.exit_code, Some(((n % ids.len()) % 3) as i64));
    }
    assert_eq!(engine.feed().watchers_made(), 1, "1000 waits, one watcher");
    // Each wait reads its job once, again on each change to that job's record (its pid,
    // its result: a few), and once for its answer; no wait reads on a timer.
    let reads = engine.store().counters().meta_reads() - reads_before;
    assert!(reads <= 1000 * 8, "{reads} meta reads for 1000 waits");
}

#[tokio::test]
async fn wait_any_returns_a_job_that_ended_before_the_call() {
    let home = TestHome::new();
    let engine = home.engine();
    let finished = home.start("exit:0");
    let running = home.start("sleep:30");
    home.wait_for_status(&finished, "done", Duration::from_secs(20));
    let first = engine.wait_any(&[running.clone(), finished.clone()], Duration::from_secs(5), 10).await.unwrap().unwrap();
    assert_eq!(first.job_id, finished);
    let none = engine.wait_any(std::slice::from_ref(&running), Duration::from_millis(300), 10).await.unwrap();
    assert!(none.is_none());
    engine.cancel(&running, Duration::from_secs(1)).await.unwrap();
}

#[tokio::test]
async fn wait_is_woken_by_the_jobs_end_not_by_a_timer() {
    let home = TestHome::new();
    // No fallback rescan: only the job's own change can wake the wait.
    let engine = home.engine().with_fallback_rescan(None);
    // The job prints ten lines a tenth of a second apart before it ends: output is no
    // reason to look at its record again.
    let ticks: Vec<String> = (0..10).map(|n| format!("say:tick{n} sleep:0.1")).collect();
    let id = home.start(&format!("{} exit:0", ticks.join(" ")));
    let reads_before = engine.store().counters().meta_reads();
    // A deadline that a broken event path would reach (a wait that is never woken
    // times out instead of hanging the suite).
    let view = engine.wait(&id, Duration::from_secs(60), 10).await.unwrap();
    assert!(!view.timed_out, "the wait was woken by the job's end");
    assert_eq!(view.poll.status.as_str(), "done");
    assert!(view.poll.output.contains("tick9"));
    // One look at the start, one per change to the job's record (the result, its owner
    // turning its hold shared as the result lands, its owner letting go: a few), none per
    // line printed or per second waited.
    let reads = engine.store().counters().meta_reads() - reads_before;
    assert!(reads >= 2, "the wait read the job before and after its end: {reads}");
    assert!(reads <= 6, "{reads} meta reads: the wait looked on its own, not when told");
}
