use std::os::unix::fs::PermissionsExt;
use std::process::{Child, Command};
use std::time::Instant;

use super::*;
use crate::jobs::process::owner::OwnerLock;
use crate::jobs::record::meta::{Status, Timestamp};
use crate::jobs::store::JobStore;

/// A process a test started, killed and reaped when the test ends, however it ends.
pub(crate) struct Fake(Child);

impl Fake {
    pub(crate) fn pid(&self) -> i32 {
        self.0.id() as i32
    }

    /// Ends it now, and its children (it leads its own process group): returns once none
    /// of them is left. A killed child dies when the kernel gets to it, not when the kill
    /// returns, and until then it still reads as alive.
    pub(crate) fn end(&mut self) {
        let group = nix::unistd::Pid::from_raw(self.pid());
        let _ = nix::sys::signal::killpg(group, Signal::SIGKILL);
        let _ = self.0.wait();
        let deadline = Instant::now() + Duration::from_secs(20);
        while nix::sys::signal::killpg(group, None).is_ok() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Waits until `ready` holds of it, failing the test after a while.
    fn once(self, what: &str, ready: impl Fn(i32) -> bool) -> Self {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !ready(self.pid()) {
            assert!(Instant::now() < deadline, "{what} never got ready");
            std::thread::sleep(Duration::from_millis(10));
        }
        self
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.end();
    }
}

fn spawn(command: &mut Command) -> Fake {
    Fake(std::os::unix::process::CommandExt::process_group(command, 0).spawn().unwrap())
}

fn executable(path: &Path, script: &str) {
    std::fs::write(path, script).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A stand-in for the original's agent: a script named `codex`, run as
/// `codex exec -s read-only PROMPT` (its interpreter's command line names it, as node's
/// names npm's codex).
pub(crate) fn fake_codex(folder: &Path, prompt: &str) -> Fake {
    let program = folder.join("codex");
    executable(&program, "#!/bin/sh\nwhile :; do sleep 1; done\n");
    spawn(Command::new(&program).args(["exec", "-s", "read-only", prompt]))
        .once("the fake codex", |pid| procfs::cmdline(pid).is_some_and(|args| args.last().is_some_and(|last| *last == *prompt)))
}

/// A stand-in for an earlier codex-async's supervisor of job `id`: it runs `__supervise`
/// (bash reading a script of that name) and its child carries the job's marker.
pub(crate) fn fake_supervisor(folder: &Path, id: &JobId) -> Fake {
    let home = folder.join(format!("supervisor-{id}"));
    std::fs::create_dir_all(&home).unwrap();
    executable(&home.join(SUPERVISE_COMMAND), &format!("{JOB_ENV}={id} sleep 60 &\nwait\n"));
    let marker = format!("{JOB_ENV}={id}");
    spawn(Command::new("bash").arg(SUPERVISE_COMMAND).current_dir(&home)).once("the fake supervisor", |pid| {
        runs_supervise(pid) && procfs::children(pid).into_iter().any(|child| procfs::environ_has(child, &marker))
    })
}

/// A process that runs `__supervise` (perl reading a script of that name) and holds an
/// flock on `lock`, taken by itself: what `/proc/locks` shows of a supervisor.
fn fake_lock_holder(folder: &Path, lock: &Path) -> Fake {
    let home = folder.join("lock-holder");
    std::fs::create_dir_all(&home).unwrap();
    let script =
        format!("use Fcntl qw(:flock);\nopen(my $lock, '<', '{}') or die;\nflock($lock, LOCK_EX) or die;\nsleep 60;\n", lock.display());
    executable(&home.join(SUPERVISE_COMMAND), &script);
    let (device, inode) = {
        let meta = std::fs::metadata(lock).unwrap();
        (meta.dev(), meta.ino())
    };
    spawn(Command::new("perl").arg(SUPERVISE_COMMAND).current_dir(&home))
        .once("the lock holder", |pid| runs_supervise(pid) && procfs::holds_flock(pid, device, inode))
}

fn meta(id: &JobId, prompt: &str, pid: Option<i64>, started_at: Option<DateTime<Utc>>) -> JobMeta {
    let json = serde_json::json!({"job_id": id.as_str(), "status": "running", "prompt": prompt, "cwd": "/tmp",
        "approval_policy": "suggest", "pid": pid, "started_at": started_at.map(|at| Timestamp(at).to_string()),
        "finished_at": null, "exit_code": null});
    JobMeta::from_json(json.to_string().as_bytes()).unwrap()
}

#[test]
fn a_supervisor_is_the_process_holding_its_jobs_lock() {
    let home = tempfile::tempdir().unwrap();
    let store = JobStore::new(home.path());
    let id = store.reserve().unwrap();
    let other = store.reserve().unwrap();
    drop(OwnerLock::create(&store.job_dir(&id)).unwrap());
    drop(OwnerLock::create(&store.job_dir(&other)).unwrap());
    let holder = fake_lock_holder(home.path(), &store.lock_path(&id));
    let proven = supervisor(&store.lock_path(&id), None).expect("the holder is found through /proc/locks");
    assert_eq!(proven.pid(), holder.pid());
    assert_eq!(supervisor(&store.lock_path(&id), Some(i64::from(std::process::id()))).map(|proven| proven.pid()), Some(holder.pid()));
    assert!(supervisor(&store.lock_path(&other), Some(i64::from(holder.pid()))).is_none(), "it holds another job's lock, not this one's");
}

#[test]
fn an_earlier_supervisor_runs_supervise_with_its_start_time_and_its_marked_agent() {
    let home = tempfile::tempdir().unwrap();
    let store = JobStore::new(home.path());
    let id = store.reserve().unwrap();
    let other = store.reserve().unwrap();
    let fake = fake_supervisor(home.path(), &id);
    let mut record = meta(&id, "p", None, None);
    record.details.supervisor_pid = Some(i64::from(fake.pid()));
    record.details.supervisor_start_ticks = procfs::start_ticks(fake.pid());
    assert_eq!(earlier_supervisor(&id, &record).map(|proven| proven.pid()), Some(fake.pid()));
    let mut elsewhere = meta(&other, "p", None, None);
    elsewhere.details.supervisor_pid = record.details.supervisor_pid;
    elsewhere.details.supervisor_start_ticks = record.details.supervisor_start_ticks;
    assert!(earlier_supervisor(&other, &elsewhere).is_none(), "another job's supervisor");
    record.details.supervisor_start_ticks = record.details.supervisor_start_ticks.map(|ticks| ticks + 1);
    assert!(earlier_supervisor(&id, &record).is_none(), "another start time: a reused pid");
}

#[test]
fn the_originals_agent_is_its_codex_exec_started_with_its_folder() {
    let home = tempfile::tempdir().unwrap();
    let store = JobStore::new(home.path());
    let id = store.reserve().unwrap();
    let agent = fake_codex(home.path(), "Write tests");
    let pid = i64::from(agent.pid());
    let now = Utc::now();
    let running = |meta: &JobMeta| matches!(original_agent(store.folder_created(&id), meta), OriginalAgent::Running(_));

    assert!(running(&meta(&id, "Write tests", Some(pid), Some(now))));
    assert!(running(&meta(&id, "Write tests", Some(pid), None)), "the folder's birth alone dates it");
    assert!(!running(&meta(&id, "Write other tests", Some(pid), Some(now))), "another prompt: another process");
    let hour = chrono::Duration::hours(1);
    for forged in [now + hour, now - hour] {
        assert!(matches!(
            original_agent(store.folder_created(&id), &meta(&id, "Write tests", Some(pid), Some(forged))),
            OriginalAgent::Forged
        ));
    }
    assert!(matches!(original_agent(store.folder_created(&id), &meta(&id, "Write tests", None, Some(now))), OriginalAgent::Gone));

    let stranger = spawn(Command::new("sleep").arg("30"));
    let stranger_pid = i64::from(stranger.pid());
    assert!(
        matches!(original_agent(store.folder_created(&id), &meta(&id, "30", Some(stranger_pid), Some(now))), OriginalAgent::Gone),
        "not codex"
    );
}

#[test]
fn an_agent_older_than_its_folder_is_not_its_agent() {
    let home = tempfile::tempdir().unwrap();
    let store = JobStore::new(home.path());
    let agent = fake_codex(home.path(), "Write tests");
    let started = procfs::start_time(agent.pid()).unwrap();
    // The folder is made well after the process: a pid that was someone else's first.
    while Utc::now() - started <= chrono::Duration::from_std(CLOCK_SLACK + Duration::from_secs(1)).unwrap() {
        std::thread::sleep(Duration::from_millis(100));
    }
    let id = store.reserve().unwrap();
    let record = meta(&id, "Write tests", Some(i64::from(agent.pid())), None);
    assert!(matches!(original_agent(store.folder_created(&id), &record), OriginalAgent::Gone));
}

#[test]
fn a_lock_holder_that_is_no_supervisor_is_nobodys_supervisor() {
    let home = tempfile::tempdir().unwrap();
    let store = JobStore::new(home.path());
    let id = store.reserve().unwrap();
    assert!(supervisor(&store.lock_path(&id), None).is_none(), "no lock file");
    // This test holds the job's lock, but it does not run `__supervise`.
    let held = OwnerLock::create(&store.job_dir(&id)).unwrap();
    assert!(procfs::flock_holders(std::fs::metadata(store.lock_path(&id)).unwrap().ino()).contains(&(std::process::id() as i32)));
    assert!(supervisor(&store.lock_path(&id), Some(i64::from(std::process::id()))).is_none());
    drop(held);

    let mut record = meta(&id, "p", None, None);
    record.status = Status::Running;
    record.details.supervisor_pid = Some(i64::from(std::process::id()));
    record.details.supervisor_start_ticks = procfs::start_ticks(std::process::id() as i32);
    assert!(earlier_supervisor(&id, &record).is_none(), "its pid and start time are right, its command is not");
    record.details.supervisor_pid = Some(-1);
    assert!(earlier_supervisor(&id, &record).is_none());
}
