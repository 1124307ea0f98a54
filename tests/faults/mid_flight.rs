//! Twenty jobs held mid-flight, for the faults that strike a front end while jobs run:
//! started through MCP, each waits for a barrier file, and none may end with the front
//! end.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use crate::support::TestHome;
use crate::support::mcp::{Client, call, ok};
use serde_json::json;

/// Starts 20 jobs through `client`. Each waits for `barrier` to exist, then exits with
/// n % `codes`: until the test says so, none can end.
pub async fn start_twenty(client: &Client, home: &TestHome, barrier: &Path, codes: i64) -> Vec<(String, i64)> {
    let mut jobs = Vec::new();
    for n in 0..20 {
        let code = n % codes;
        let prompt = format!("await-file:{} exit:{code}", barrier.display());
        let started = ok(&call(client, "codex_start", json!({"prompt": prompt, "cwd": home.path()})).await);
        jobs.push((started["job_id"].as_str().unwrap().to_owned(), code));
    }
    jobs
}

/// The front end is gone (`when`: how it went), and every job still runs: the fault
/// landed mid-flight.
pub fn assert_all_still_running(home: &TestHome, jobs: &[(String, i64)], when: &str) {
    for (id, _) in jobs {
        assert_eq!(home.status(id), "running", "job {id} was running when {when}");
        assert!(!home.job_processes(id).is_empty(), "job {id} still has its processes");
    }
}
