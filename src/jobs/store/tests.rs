use super::*;
use crate::jobs::output::OutputPiece;
use crate::jobs::process::procfs;
use crate::jobs::record::meta::Status;

fn running_meta(id: &JobId) -> JobMeta {
    JobMeta::from_json(
        format!(r#"{{"job_id":"{id}","status":"running","prompt":"p","cwd":"/","approval_policy":"suggest","pid":null,"started_at":null,"finished_at":null,"exit_code":null}}"#)
            .as_bytes(),
    )
    .unwrap()
}

#[test]
fn reserve_makes_private_distinct_folders() {
    use std::os::unix::fs::PermissionsExt;
    let home = tempfile::tempdir().unwrap();
    let store = JobStore::new(home.path());
    let a = store.reserve().unwrap();
    let b = store.reserve().unwrap();
    assert_ne!(a, b);
    let mode = fs::metadata(store.job_dir(&a)).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
    assert_eq!(fs::metadata(store.jobs_dir()).unwrap().permissions().mode() & 0o777, 0o700);
}

#[test]
fn unknown_and_invalid_ids() {
    let home = tempfile::tempdir().unwrap();
    let store = JobStore::new(home.path());
    assert!(matches!(store.existing("deadbeef"), Err(JobError::NotFound(_))));
    assert!(matches!(store.existing("../x"), Err(JobError::InvalidId(_))));
}

#[test]
fn an_earlier_versions_supervisor_counts_while_it_proves_itself() {
    let home = tempfile::tempdir().unwrap();
    let store = JobStore::new(home.path());
    let id = store.reserve().unwrap();
    // An earlier codex-async's supervisor: `__supervise`, no lock file, its agent marked.
    let mut supervisor = crate::jobs::process::proven::tests::fake_supervisor(home.path(), &id);
    let mut meta = running_meta(&id);
    meta.details.supervisor_pid = Some(i64::from(supervisor.pid()));
    meta.details.supervisor_start_ticks = procfs::start_ticks(supervisor.pid());
    store.write_meta(&meta).unwrap();
    assert_eq!(store.read_meta(&id).unwrap().status, Status::Running, "a live supervisor keeps it running");

    meta.details.supervisor_start_ticks = meta.details.supervisor_start_ticks.map(|t| t + 1); // a reused pid
    store.write_meta(&meta).unwrap();
    let read = store.read_meta(&id).unwrap();
    assert_eq!((read.status, read.supervisor_lost), (Status::Running, true), "its marked agent still runs");
    supervisor.end();
    let settled = store.read_meta(&id).unwrap();
    assert_eq!(settled.status, Status::Error);
    assert!(settled.details.note.unwrap().contains("supervisor lost"));
    assert!(settled.finished_at.is_some());
    assert_eq!(store.read_meta_raw(&id).unwrap().status, Status::Error, "the finding is recorded");
}

#[test]
fn a_pid_and_start_time_alone_prove_no_supervisor() {
    let home = tempfile::tempdir().unwrap();
    let store = JobStore::new(home.path());
    let id = store.reserve().unwrap();
    let mut meta = running_meta(&id);
    // This very process, alive with the recorded start time, but no supervisor of the job.
    let me = std::process::id() as i64;
    meta.details.supervisor_pid = Some(me);
    meta.details.supervisor_start_ticks = procfs::start_ticks(me as i32);
    store.write_meta(&meta).unwrap();
    let settled = store.read_meta(&id).unwrap();
    assert_eq!(settled.status, Status::Error);
    assert_eq!(settled.details.note.as_deref(), Some(crate::jobs::LOST_NOTE));
}

#[test]
fn original_jobs_count_while_their_codex_runs() {
    use super::settle::{ORIGINAL_ENDED_NOTE, ORIGINAL_FORGED_NOTE};
    let home = tempfile::tempdir().unwrap();
    let store = JobStore::new(home.path());
    let id = store.reserve().unwrap();
    let mut agent = crate::jobs::process::proven::tests::fake_codex(home.path(), "p");
    let mut meta = running_meta(&id);
    meta.pid = Some(i64::from(agent.pid()));
    meta.started_at = Some(crate::jobs::Timestamp::now());
    store.write_meta(&meta).unwrap();
    assert_eq!(store.read_meta(&id).unwrap().status, Status::Running);
    agent.end();
    let settled = store.read_meta(&id).unwrap();
    assert_eq!((settled.status, settled.details.note.as_deref()), (Status::Done, Some(ORIGINAL_ENDED_NOTE)));

    let forged = store.reserve().unwrap();
    let mut meta = running_meta(&forged);
    meta.pid = Some(std::process::id() as i64);
    meta.started_at = Some(crate::jobs::Timestamp(chrono::Utc::now() + chrono::Duration::hours(1)));
    store.write_meta(&meta).unwrap();
    let settled = store.read_meta(&forged).unwrap();
    assert_eq!((settled.status, settled.details.note.as_deref()), (Status::Error, Some(ORIGINAL_FORGED_NOTE)));
}

#[test]
fn listing_survives_corrupt_and_foreign_entries() {
    let home = tempfile::tempdir().unwrap();
    let store = JobStore::new(home.path());
    let good = store.reserve().unwrap();
    let mut meta = running_meta(&good);
    meta.status = Status::Done;
    store.write_meta(&meta).unwrap();
    let empty = store.reserve().unwrap();
    let garbage = store.reserve().unwrap();
    fs::write(store.meta_path(&garbage), "{\"job_id\": ").unwrap();
    fs::write(store.jobs_dir().join("not a job.txt"), "x").unwrap();
    fs::create_dir(store.jobs_dir().join("has.dot")).unwrap();

    let records = store.list(None).unwrap();
    assert_eq!(records.len(), 3);
    let by_id = |id: &JobId| records.iter().find(|r| &r.id == id).unwrap();
    assert!(by_id(&good).meta.is_ok());
    assert!(by_id(&empty).meta.as_ref().unwrap_err().contains("missing"));
    assert!(by_id(&garbage).meta.as_ref().unwrap_err().contains("not valid JSON"));
}

#[test]
fn delete_refuses_jobs_whose_lock_is_held_whatever_their_meta_says() {
    let home = tempfile::tempdir().unwrap();
    let store = JobStore::new(home.path());
    let id = store.reserve().unwrap();
    let owner = owned_running_meta(&store, &id);
    assert!(matches!(store.delete(id.as_str()), Err(JobError::StillRunning { .. })));
    let mut meta = store.read_meta_raw(&id).unwrap();
    meta.status = Status::Done;
    store.write_meta(&meta).unwrap();
    assert!(matches!(store.delete(id.as_str()), Err(JobError::StillRunning { .. })), "its holder may still run it");
    fs::write(store.meta_path(&id), "{ corrupt").unwrap();
    assert!(matches!(store.delete(id.as_str()), Err(JobError::StillRunning { .. })), "its holder may still run it");
    drop(owner);
    store.write_meta(&meta).unwrap();
    store.delete(id.as_str()).unwrap();
    assert!(!store.job_dir(&id).exists());
}

/// A running job whose lock this process holds (as its supervisor would), its recorded
/// supervisor pid nobody's.
fn owned_running_meta(store: &JobStore, id: &JobId) -> crate::jobs::process::owner::OwnerLock {
    let mut meta = running_meta(id);
    meta.details.supervisor_pid = Some(i64::from(i32::MAX));
    meta.details.supervisor_start_ticks = Some(1);
    store.write_meta(&meta).unwrap();
    crate::jobs::process::owner::OwnerLock::create(&store.job_dir(id)).unwrap()
}

#[test]
fn a_held_lock_keeps_a_job_running_whatever_its_pids_say() {
    let home = tempfile::tempdir().unwrap();
    let store = JobStore::new(home.path());
    let id = store.reserve().unwrap();
    let owner = owned_running_meta(&store, &id);
    // The recorded supervisor pid is nobody's: the lock, not the pid, decides.
    assert_eq!(store.read_meta(&id).unwrap().status, Status::Running);
    drop(owner);
    let settled = store.read_meta(&id).unwrap();
    assert_eq!(settled.status, Status::Error);
    assert_eq!(settled.details.note.as_deref(), Some(crate::jobs::LOST_NOTE));
    assert_eq!(store.read_meta_raw(&id).unwrap().status, Status::Error, "the finding is recorded");
}

#[test]
fn a_lost_supervisor_with_its_agent_alive_reads_running_until_the_agent_ends() {
    let home = tempfile::tempdir().unwrap();
    let store = JobStore::new(home.path());
    let id = store.reserve().unwrap();
    drop(owned_running_meta(&store, &id));
    let mut agent = std::process::Command::new("sleep").arg("30").env(crate::jobs::process::marker::JOB_ENV, id.as_str()).spawn().unwrap();
    let read = store.read_meta(&id).unwrap();
    assert_eq!(read.status, Status::Running);
    assert!(read.supervisor_lost);
    assert_eq!(store.read_meta_raw(&id).unwrap().details.note.as_deref(), Some(crate::jobs::LOST_RUNNING_NOTE));
    agent.kill().unwrap();
    agent.wait().unwrap();
    assert_eq!(store.read_meta(&id).unwrap().status, Status::Error);
}

#[test]
fn a_copied_folder_is_corrupt_and_the_original_is_untouched() {
    let home = tempfile::tempdir().unwrap();
    let store = JobStore::new(home.path());
    let id = store.reserve().unwrap();
    drop(owned_running_meta(&store, &id)); // the owner is gone: a reader would settle it
    let copy = JobId::parse("deadbeef").unwrap();
    fs::create_dir(store.job_dir(&copy)).unwrap();
    for file in [META_FILE, crate::jobs::process::owner::LOCK_FILE] {
        fs::copy(store.job_dir(&id).join(file), store.job_dir(&copy).join(file)).unwrap();
    }
    let before = fs::read(store.meta_path(&id)).unwrap();
    let err = store.read_meta(&copy).unwrap_err().to_string();
    assert!(err.contains("belongs to job") && err.contains(id.as_str()), "{err}");
    assert_eq!(fs::read(store.meta_path(&id)).unwrap(), before, "the first job's meta was not rewritten");
    let listed = store.list(None).unwrap();
    let row = listed.iter().find(|record| record.id == copy).unwrap();
    assert!(row.meta.as_ref().unwrap_err().contains("belongs to job"));
}

#[test]
fn settlers_racing_on_one_lost_job_never_tear_its_meta() {
    let home = tempfile::tempdir().unwrap();
    let store = JobStore::new(home.path());
    for _ in 0..30 {
        let id = store.reserve().unwrap();
        let mut meta = running_meta(&id);
        meta.details.supervisor_pid = Some(i64::from(i32::MAX));
        store.write_meta(&meta).unwrap();
        meta.reserve_space(&store.reserve_path(&id)).unwrap();
        drop(crate::jobs::process::owner::OwnerLock::create(&store.job_dir(&id)).unwrap());
        std::thread::scope(|scope| {
            for _ in 0..6 {
                scope.spawn(|| {
                    let read = store.read_meta(&id).unwrap();
                    assert!(matches!(read.status, Status::Error | Status::Running), "{:?}", read.status);
                });
            }
        });
        let text = fs::read(store.meta_path(&id)).unwrap();
        let settled = JobMeta::from_json(&text).unwrap_or_else(|err| panic!("torn meta: {err}"));
        assert_eq!(settled.status, Status::Error);
        let leftovers: Vec<_> =
            fs::read_dir(store.job_dir(&id)).unwrap().map(|entry| entry.unwrap().file_name().into_string().unwrap()).collect();
        assert!(!leftovers.iter().any(|name| name.ends_with(".tmp")), "{leftovers:?}");
    }
}

#[test]
fn output_is_read_in_pieces_that_never_split_a_character_until_the_job_ends() {
    let home = tempfile::tempdir().unwrap();
    let store = JobStore::new(home.path());
    let id = store.reserve().unwrap();
    let piece = store.output_piece(&id, 0, false).unwrap();
    assert_eq!((piece.text.as_str(), piece.next, piece.size), ("", 0, 0), "no output yet");

    // A line, then the first two of the three bytes of "日".
    let mut bytes = b"first line\n".to_vec();
    bytes.extend_from_slice(&"日".as_bytes()[..2]);
    fs::write(store.output_path(&id), &bytes).unwrap();
    let piece = store.output_piece(&id, 0, false).unwrap();
    assert_eq!((piece.text.as_str(), piece.next, piece.size), ("first line\n", 11, 13), "the split character waits");
    let ended = store.output_piece(&id, piece.next, true).unwrap();
    assert_eq!((ended.from, ended.next), (11, 13), "once the job ended, its last bytes are all there is");
    assert_eq!(ended.text, "\u{fffd}");

    // Pieces are bounded; a reader past the end (the file made again) starts over.
    fs::write(store.output_path(&id), vec![b'x'; OutputPiece::MAX_BYTES + 10]).unwrap();
    let first = store.output_piece(&id, 0, false).unwrap();
    assert_eq!((first.next, first.size), (OutputPiece::MAX_BYTES as u64, OutputPiece::MAX_BYTES as u64 + 10));
    let rest = store.output_piece(&id, first.next, false).unwrap();
    assert_eq!((rest.from, rest.text.len(), rest.next), (first.next, 10, first.size));
    fs::write(store.output_path(&id), b"new\n").unwrap();
    let again = store.output_piece(&id, rest.next, false).unwrap();
    assert_eq!((again.from, again.text.as_str(), again.next), (0, "new\n", 4));
}
