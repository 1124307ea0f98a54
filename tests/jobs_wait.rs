//! Waiting through the engine: many at once, the already-finished case, timeouts.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::TestHome;

fn inotify_instances() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|fd| std::fs::read_link(fd.ok()?.path()).ok())
        .filter(|target| target.to_string_lossy().contains("inotify"))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_waits_share_one_watcher() {
    let home = TestHome::new();
    let engine = home.engine();
    let ids: Vec<String> = (0..20).map(|i| home.start(&format!("sleep:1.5 exit:{}", i % 3))).collect();
    let before = inotify_instances();
    let waits: Vec<_> = (0..1000)
        .map(|n| {
            let engine = engine.clone();
            let id = ids[n % ids.len()].clone();
            tokio::spawn(async move { engine.wait(&id, Duration::from_secs(60), 10).await })
        })
        .collect();
    // Sample the number of inotify instances for as long as the waits run.
    let mut most = 0;
    while !waits.iter().all(|wait| wait.is_finished()) {
        most = most.max(inotify_instances());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(most > before, "the waits were woken by a watcher");
    assert!(most <= before + 1, "{} inotify instances for 1000 waits", most - before);
    for (n, wait) in waits.into_iter().enumerate() {
        let view = wait.await.unwrap().unwrap();
        assert!(!view.timed_out, "wait {n} timed out");
        let expected = if (n % ids.len()).is_multiple_of(3) { "done" } else { "error" };
        assert_eq!(view.poll.status.as_str(), expected);
        assert_eq!(view.poll.exit_code, Some(((n % ids.len()) % 3) as i64));
    }
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
async fn wait_wakes_when_the_job_ends_not_at_the_timeout() {
    let home = TestHome::new();
    let engine = home.engine();
    let id = home.start("sleep:0.5 exit:0");
    let began = std::time::Instant::now();
    let view = engine.wait(&id, Duration::from_secs(60), 10).await.unwrap();
    assert!(!view.timed_out);
    assert!(began.elapsed() < Duration::from_secs(30), "woken by the job's end, long before the timeout");
}
