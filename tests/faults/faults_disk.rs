//! A full disk: starting fails clearly and leaves nothing; running jobs still record their result.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::process::Command;
use std::time::Duration;

use crate::support::{TestHome, wait_until};
use serde_json::Value;

/// A small tmpfs mounted over a temp folder. Dropping it ends the jobs' processes while
/// their folder is still in view, then unmounts: nothing a job started outlives the test.
struct SmallDisk {
    home: TestHome,
}

impl SmallDisk {
    /// Mounting needs root (CI runs this test as root); anything else fails the test
    /// loudly rather than letting it pass untested.
    fn mount(size: &str) -> Self {
        let home = TestHome::new();
        let mounted =
            Command::new("mount").args(["-t", "tmpfs", "-o", &format!("size={size},mode=0700"), "tmpfs"]).arg(home.path()).status();
        match mounted {
            Ok(status) if status.success() => SmallDisk { home },
            other => panic!(
                "cannot mount a {size} tmpfs on {} ({other:?}): this test needs root and mount(8); .ci/run installs mount and runs it as root",
                home.path().display()
            ),
        }
    }

    fn fill(&self) {
        let mut filler = std::fs::File::create(self.home.path().join("filler")).unwrap();
        let block = vec![b'x'; 4096];
        while filler.write_all(&block).is_ok() {}
        let _ = filler.sync_all();
    }

    fn job_folders(&self) -> usize {
        std::fs::read_dir(self.home.path().join("jobs")).map(|entries| entries.count()).unwrap_or(0)
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        self.home.end_job_processes();
        let _ = Command::new("umount").arg("-l").arg(self.home.path()).status();
    }
}

#[test]
#[ignore = "mounts a tmpfs, which needs root: .ci/run runs it (as root) with --ignored"]
fn a_full_disk_refuses_new_jobs_but_records_running_ones() {
    let disk = SmallDisk::mount("1m");
    let home = &disk.home;
    let id = home.start("say:started sleep:1 exit:3");
    wait_until("the job to run", Duration::from_secs(20), || home.output(&id).contains("started"));
    disk.fill();
    let before = disk.job_folders();

    let output = home.run(&["start", "--json", "--cwd", "/tmp", "--", "say:never"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("No space left on device"), "{stderr}");
    assert_eq!(disk.job_folders(), before, "no half job is left behind");

    home.wait_for_status(&id, "error", Duration::from_secs(20));
    let meta: Value = home.meta(&id);
    assert_eq!(meta["exit_code"], 3, "the final status was written on a full disk");
    assert!(meta["finished_at"].is_string());
}
