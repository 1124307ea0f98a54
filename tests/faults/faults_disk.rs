//! A full disk: starting fails clearly and leaves nothing; running jobs still record their result.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use crate::support::{SmallDisk, job_count, wait_until};
use serde_json::Value;

#[test]
#[ignore = "mounts a tmpfs, which needs root: .ci/run runs it (as root) with --ignored"]
fn a_full_disk_refuses_new_jobs_but_records_running_ones() {
    let disk = SmallDisk::mount("1m");
    let home = &disk.home;
    let id = home.start("say:started sleep:1 exit:3");
    wait_until("the job to run", Duration::from_secs(20), || home.output(&id).contains("started"));
    disk.fill();
    let before = job_count(home);

    let output = home.run(&["start", "--json", "--cwd", "/tmp", "--", "say:never"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("No space left on device"), "{stderr}");
    assert_eq!(job_count(home), before, "no half job is left behind");

    home.wait_for_status(&id, "error", Duration::from_secs(20));
    let meta: Value = home.meta(&id);
    assert_eq!(meta["exit_code"], 3, "the final status was written on a full disk");
    assert!(meta["finished_at"].is_string());
}
