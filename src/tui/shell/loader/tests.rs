use super::*;
use crate::jobs::Status;

struct Running {
    commands: tokio::sync::mpsc::UnboundedSender<LoaderCommand>,
    events: UnboundedReceiver<DataEvent>,
    shutdown: CancellationToken,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.shutdown.cancel();
        if let Some(thread) = self.thread.take() {
            // A panic on the loader thread fails the test (unless it is failing already).
            if thread.join().is_err() && !std::thread::panicking() {
                panic!("the loader thread panicked");
            }
        }
    }
}

/// A loader over `store` whose feed has no fallback rescan: whatever it sees came
/// through the event path.
fn start(store: &JobStore) -> Running {
    let (commands, command_receiver) = tokio::sync::mpsc::unbounded_channel();
    let (sender, events) = tokio::sync::mpsc::unbounded_channel();
    let shutdown = CancellationToken::new();
    let feed = JobFeed::with_fallback(store.clone(), None);
    let thread = spawn(feed, command_receiver, sender, shutdown.clone()).unwrap();
    Running { commands, events, shutdown, thread: Some(thread) }
}

/// Generous: the condition is polled, so a long deadline costs nothing when things work.
const DEADLINE: Duration = Duration::from_secs(20);

/// Waits for an event that `wanted` accepts.
fn expect(running: &mut Running, what: &str, mut wanted: impl FnMut(&DataEvent) -> bool) -> DataEvent {
    let deadline = std::time::Instant::now() + DEADLINE;
    while std::time::Instant::now() < deadline {
        match running.events.try_recv() {
            Ok(event) if wanted(&event) => return event,
            Ok(_) => {}
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
    panic!("no {what} within {DEADLINE:?}");
}

fn meta(id: &JobId, status: Status) -> JobMeta {
    let json = serde_json::json!({"job_id": id.as_str(), "status": status.as_str(), "prompt": "p", "cwd": "/",
        "approval_policy": "suggest", "pid": null, "started_at": null, "finished_at": null, "exit_code": null});
    JobMeta::from_json(json.to_string().as_bytes()).unwrap()
}

#[test]
fn a_late_jobs_folder_new_jobs_output_and_deletion_are_seen() {
    let home = tempfile::tempdir().unwrap();
    let store = JobStore::new(home.path());
    let mut running = start(&store);
    expect(&mut running, "first listing", |event| matches!(event, DataEvent::Jobs(jobs) if jobs.is_empty()));

    // The jobs folder does not exist yet: a job made later still shows up.
    let id = store.reserve().unwrap();
    store.write_meta(&meta(&id, Status::Running)).unwrap();
    expect(&mut running, "the new job", |event| match event {
        DataEvent::Job(record) => record.id == id && record.meta.is_ok(),
        DataEvent::Jobs(records) => records.iter().any(|record| record.id == id && record.meta.is_ok()),
        _ => false,
    });

    // Its output is followed once watched: first the tail, then only what is appended.
    std::fs::write(store.output_path(&id), "one\n").unwrap();
    running.commands.send(LoaderCommand::Watch(Some(id.clone()))).unwrap();
    expect(
        &mut running,
        "the tail",
        |event| matches!(event, DataEvent::Output(_, OutputUpdate::Reset { tail, .. }) if tail.lines.len() == 1),
    );
    std::fs::OpenOptions::new().append(true).open(store.output_path(&id)).unwrap().write_all(b"two\n").unwrap();
    expect(
        &mut running,
        "the appended line",
        |event| matches!(event, DataEvent::Output(_, OutputUpdate::Appended { lines, .. }) if lines.len() == 1 && lines[0].text == "two"),
    );

    // A status change is pushed; a deleted folder is removed.
    store.write_meta(&meta(&id, Status::Done)).unwrap();
    let done = |record: &JobRecord| record.id == id && record.meta.as_ref().is_ok_and(|meta| meta.status == Status::Done);
    expect(&mut running, "the status change", |event| match event {
        DataEvent::Job(record) => done(record),
        DataEvent::Jobs(records) => records.iter().any(done),
        _ => false,
    });
    std::fs::remove_dir_all(store.job_dir(&id)).unwrap();
    // (as one removal, or as a listing without it when events were merged into a rescan)
    expect(&mut running, "the removal", |event| match event {
        DataEvent::Removed(removed) => removed == &id,
        DataEvent::Jobs(records) => records.iter().all(|record| record.id != id),
        _ => false,
    });
}

#[test]
fn a_jobs_folder_deleted_and_made_again_is_watched_again() {
    let home = tempfile::tempdir().unwrap();
    let store = JobStore::new(home.path());
    let first = store.reserve().unwrap();
    store.write_meta(&meta(&first, Status::Done)).unwrap();
    let mut running = start(&store);
    expect(&mut running, "the first job", |event| matches!(event, DataEvent::Jobs(records) if records.len() == 1));

    std::fs::remove_dir_all(store.jobs_dir()).unwrap();
    expect(&mut running, "the empty listing", |event| match event {
        DataEvent::Jobs(records) => records.is_empty(),
        DataEvent::Removed(id) => id == &first,
        _ => false,
    });
    let second = store.reserve().unwrap();
    store.write_meta(&meta(&second, Status::Running)).unwrap();
    expect(&mut running, "a job in the new folder", |event| match event {
        DataEvent::Job(record) => record.id == second && record.meta.is_ok(),
        DataEvent::Jobs(records) => records.iter().any(|record| record.id == second && record.meta.is_ok()),
        _ => false,
    });
    // And it is watched: with no fallback rescan, only an event can bring the change.
    store.write_meta(&meta(&second, Status::Done)).unwrap();
    let done = |record: &JobRecord| record.id == second && record.meta.as_ref().is_ok_and(|meta| meta.status == Status::Done);
    expect(&mut running, "the change", |event| match event {
        DataEvent::Job(record) => done(record),
        DataEvent::Jobs(records) => records.iter().any(done),
        _ => false,
    });
}

#[test]
fn a_corrupt_job_is_listed_as_such() {
    let home = tempfile::tempdir().unwrap();
    let store = JobStore::new(home.path());
    let id = store.reserve().unwrap();
    std::fs::write(store.meta_path(&id), "{ not json").unwrap();
    let mut running = start(&store);
    expect(
        &mut running,
        "the corrupt job",
        |event| matches!(event, DataEvent::Jobs(records) if records.len() == 1 && records[0].meta.as_ref().is_err_and(|reason| reason.contains("JSON"))),
    );
}

#[test]
fn a_truncated_output_is_read_again_from_its_start() {
    use crate::tui::model::pane::OutputPane;
    let home = tempfile::tempdir().unwrap();
    let store = JobStore::new(home.path());
    let id = store.reserve().unwrap();
    store.write_meta(&meta(&id, Status::Running)).unwrap();
    let old: String = (0..100).map(|n| format!("old line {n:03}\n")).collect();
    std::fs::write(store.output_path(&id), &old).unwrap();
    let mut running = start(&store);
    running.commands.send(LoaderCommand::Watch(Some(id.clone()))).unwrap();
    // The pane as the dashboard keeps it, fed with what the loader sends.
    let mut pane = OutputPane::default();
    pane.select(Some(id.clone()));
    fn feed_until(running: &mut Running, pane: &mut OutputPane, what: &str, done: &dyn Fn(&OutputPane) -> bool) {
        expect(running, what, |event| {
            if let DataEvent::Output(job, update) = event {
                pane.apply_update(job, update.clone());
            }
            done(pane)
        });
    }
    feed_until(&mut running, &mut pane, "the old tail", &|pane| pane.lines.len() == 100);
    assert_eq!(pane.end, old.len() as u64, "read up to the end of the file");

    // Truncated, then a short line written: shorter than what was read before.
    std::fs::OpenOptions::new().write(true).open(store.output_path(&id)).unwrap().set_len(0).unwrap();
    std::fs::OpenOptions::new().append(true).open(store.output_path(&id)).unwrap().write_all(b"new\n").unwrap();
    feed_until(&mut running, &mut pane, "the output as it is now", &|pane| {
        pane.lines.iter().map(|line| line.text.as_str()).collect::<Vec<_>>() == ["new"]
    });
    // The reader went back to the start: it now stands just after the new line.
    assert_eq!((pane.start(), pane.end, pane.file_len), (0, 4, 4));
}
