//! What the idle and hosts benchmarks share: a process's cost read from `/proc`, and
//! homes stocked with finished jobs.
#![allow(dead_code)]

mod usage;

pub use usage::usage;

use codex_async::jobs::{JobMeta, JobStore};

/// `finished` done jobs, as the dashboard and listings find them.
pub fn stock(store: &JobStore, finished: usize) {
    for n in 0..finished {
        let id = store.reserve().unwrap();
        let meta = serde_json::json!({"job_id": id.as_str(), "status": "done", "prompt": format!("finished job {n}"), "cwd": "/tmp",
            "approval_policy": "suggest", "pid": null, "started_at": "2026-11-01T10:00:00+00:00",
            "finished_at": "2026-11-01T10:05:00+00:00", "exit_code": 0});
        store.write_meta(&JobMeta::from_json(meta.to_string().as_bytes()).unwrap()).unwrap();
        std::fs::write(store.output_path(&id), format!("output of job {n}\n")).unwrap();
    }
}
