use super::*;

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
fn lost_supervisor_reads_as_error_with_a_note() {
    let home = tempfile::tempdir().unwrap();
    let store = JobStore::new(home.path());
    let id = store.reserve().unwrap();
    let mut meta = running_meta(&id);
    let me = std::process::id() as i64;
    meta.supervisor_pid = Some(me);
    meta.supervisor_start_ticks = procfs::start_ticks(me as i32);
    store.write_meta(&meta).unwrap();
    assert_eq!(store.read_meta(&id).unwrap().status, Status::Running, "a live supervisor keeps it running");

    meta.supervisor_start_ticks = meta.supervisor_start_ticks.map(|t| t + 1); // a reused pid
    store.write_meta(&meta).unwrap();
    let settled = store.read_meta(&id).unwrap();
    assert_eq!(settled.status, Status::Error);
    assert!(settled.note.unwrap().contains("supervisor lost"));
    assert!(settled.finished_at.is_some());
    assert_eq!(store.read_meta_raw(&id).unwrap().status, Status::Error, "the finding is recorded");
}

#[test]
fn original_jobs_keep_the_pid_check() {
    let home = tempfile::tempdir().unwrap();
    let store = JobStore::new(home.path());
    let id = store.reserve().unwrap();
    let mut meta = running_meta(&id);
    meta.pid = Some(std::process::id() as i64);
    store.write_meta(&meta).unwrap();
    assert_eq!(store.read_meta(&id).unwrap().status, Status::Running);
    meta.pid = Some(i32::MAX as i64); // no such process
    store.write_meta(&meta).unwrap();
    assert_eq!(store.read_meta(&id).unwrap().status, Status::Done);
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
fn delete_refuses_running_jobs() {
    let home = tempfile::tempdir().unwrap();
    let store = JobStore::new(home.path());
    let id = store.reserve().unwrap();
    let mut meta = running_meta(&id);
    meta.supervisor_pid = Some(std::process::id() as i64);
    meta.supervisor_start_ticks = procfs::start_ticks(std::process::id() as i32);
    store.write_meta(&meta).unwrap();
    assert!(matches!(store.delete(id.as_str()), Err(JobError::StillRunning { .. })));
    meta.status = Status::Done;
    store.write_meta(&meta).unwrap();
    store.delete(id.as_str()).unwrap();
    assert!(!store.job_dir(&id).exists());
}
