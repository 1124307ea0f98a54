use std::io::Write;

use notify::event::{CreateKind, DataChange, RemoveKind};

use super::*;
use crate::jobs::process::owner::OwnerLock;
use crate::jobs::record::meta::JobMeta;

const ROOT: &str = "/h/jobs";

fn job(id: &str, changes: WhatChanged) -> Option<Classified> {
    Some(Classified::Job(JobId::parse(id).unwrap(), changes))
}

fn at(path: &str, kind: EventKind) -> Option<Classified> {
    classify(Path::new(ROOT), &kind, Path::new(path))
}

#[test]
fn looking_is_not_changing() {
    let open = EventKind::Access(AccessKind::Open(AccessMode::Any));
    let close_read = EventKind::Access(AccessKind::Close(AccessMode::Read));
    let attrib = EventKind::Modify(ModifyKind::Metadata(notify::event::MetadataKind::Any));
    for kind in [open, close_read, attrib] {
        for path in ["/h/jobs/abc12345/meta.json", "/h/jobs/abc12345/output.txt", "/h/jobs/abc12345", "/h/jobs/abc12345/supervisor.lock"] {
            assert_eq!(at(path, kind), None, "{kind:?} on {path}");
        }
    }
}

#[test]
fn each_file_says_what_changed() {
    let modify = EventKind::Modify(ModifyKind::Data(DataChange::Any));
    let close_write = EventKind::Access(AccessKind::Close(AccessMode::Write));
    let renamed_to = EventKind::Modify(ModifyKind::Name(RenameMode::To));
    assert_eq!(at("/h/jobs/abc12345/meta.json", renamed_to), job("abc12345", WhatChanged::META));
    assert_eq!(at("/h/jobs/abc12345/meta.json", modify), job("abc12345", WhatChanged::META), "the original writes in place");
    assert_eq!(at("/h/jobs/abc12345/output.txt", modify), job("abc12345", WhatChanged::OUTPUT));
    assert_eq!(at("/h/jobs/abc12345/output.txt", close_write), job("abc12345", WhatChanged::OUTPUT.merge(WhatChanged::OWNER)));
    assert_eq!(at("/h/jobs/abc12345/supervisor.lock", close_write), job("abc12345", WhatChanged::OWNER));
    assert_eq!(at("/h/jobs/abc12345/supervisor.lock", modify), None);
    assert_eq!(at("/h/jobs/abc12345/last_message.txt", close_write), job("abc12345", WhatChanged::OTHER));
    assert_eq!(at("/h/jobs/abc12345/.meta.json.x1.tmp", modify), None, "a temporary is not the meta yet");
    assert_eq!(at("/h/jobs/abc12345", EventKind::Create(CreateKind::Folder)), job("abc12345", WhatChanged::FOLDER));
    assert_eq!(at("/h/jobs/abc12345", EventKind::Remove(RemoveKind::Folder)), job("abc12345", WhatChanged::FOLDER));
    assert_eq!(at("/h/jobs/.new-0123/meta.json", modify), None, "jobs being assembled are not news");
    assert_eq!(at("/h/jobs/not a job.txt", modify), None, "a stray file is not a job, nor a reason to rescan");
    assert_eq!(at("/h/jobs/abc12345/sub/deeper", modify), None);
    assert_eq!(at("/h/jobs", EventKind::Remove(RemoveKind::Folder)), Some(Classified::FolderGone));
    assert_eq!(at("/h/jobs", EventKind::Create(CreateKind::Folder)), None);
}

fn meta(id: &JobId, status: &str) -> JobMeta {
    let json = serde_json::json!({"job_id": id.as_str(), "status": status, "prompt": "p", "cwd": "/",
        "approval_policy": "suggest", "pid": null, "started_at": null, "finished_at": null, "exit_code": null});
    JobMeta::from_json(json.to_string().as_bytes()).unwrap()
}

/// Events until `sentinel` reports a change (its output), which comes after everything
/// that happened before it was written: absence is proved without waiting on a clock.
async fn events_until_sentinel(subscription: &mut Subscription, store: &JobStore, sentinel: &JobId) -> Vec<FeedEvent> {
    let mut output = crate::jobs::record::meta::open_append(&store.output_path(sentinel)).unwrap();
    output.write_all(b"sentinel\n").unwrap();
    drop(output);
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let event = tokio::time::timeout_at(deadline, subscription.recv()).await.expect("the sentinel's event");
        if matches!(&event, FeedEvent::Job(id, changes) if id == sentinel && changes.output) {
            return seen;
        }
        seen.push(event);
    }
}

#[tokio::test]
async fn reading_every_job_produces_no_event() {
    let home = tempfile::tempdir().unwrap();
    let store = JobStore::new(home.path());
    let ids: Vec<JobId> = (0..20).map(|_| store.reserve().unwrap()).collect();
    for id in &ids {
        store.write_meta(&meta(id, "done")).unwrap();
        std::fs::write(store.output_path(id), "line\n").unwrap();
    }
    let sentinel = store.reserve().unwrap();
    store.write_meta(&meta(&sentinel, "done")).unwrap();
    let feed = JobFeed::with_fallback(store.clone(), None);
    let mut subscription = feed.subscribe(Scope::All).unwrap();

    let reads_before = store.counters().meta_reads();
    let raw_before = feed.raw_events();
    for record in store.list(None).unwrap() {
        let _ = record.meta.unwrap();
        let _ = store.tail(&record.id, 10, 1000).unwrap();
        let _ = store.last_message(&record.id);
        let _ = store.read_meta(&record.id);
    }
    assert!(store.counters().meta_reads() > reads_before + 20, "the jobs were read");
    let events = events_until_sentinel(&mut subscription, &store, &sentinel).await;
    assert_eq!(events, [], "reading produced events");
    // Not even a wake-up: the kernel does not report opens and reads to the watcher
    // (more than 80 files were opened; the sentinel's write is one or two events).
    let raw = feed.raw_events() - raw_before;
    assert!((1..=3).contains(&raw), "{raw} raw events for reads and one write");
}

#[tokio::test]
async fn a_supervisor_closing_its_lock_is_news_a_reader_closing_it_is_not() {
    let home = tempfile::tempdir().unwrap();
    let store = JobStore::new(home.path());
    let id = store.reserve().unwrap();
    store.write_meta(&meta(&id, "running")).unwrap();
    let sentinel = store.reserve().unwrap();
    let owner = OwnerLock::create(&store.job_dir(&id)).unwrap();
    let feed = JobFeed::with_fallback(store.clone(), None);
    let mut subscription = feed.subscribe(Scope::Jobs(&[id.clone(), sentinel.clone()])).unwrap();

    // A reader probing the lock (held) and reading the meta: nothing.
    assert_eq!(store.read_meta(&id).unwrap().status.as_str(), "running");
    assert_eq!(events_until_sentinel(&mut subscription, &store, &sentinel).await, []);

    // The supervisor's descriptor closes (as on its death): the owner may be gone.
    drop(owner);
    loop {
        let event = tokio::time::timeout(Duration::from_secs(20), subscription.recv()).await.unwrap();
        match event {
            // The sentinel's own close may come after its write.
            FeedEvent::Job(job, _) if job == sentinel => continue,
            event => {
                assert_eq!(event, FeedEvent::Job(id, WhatChanged::OWNER));
                break;
            }
        }
    }
}

#[tokio::test]
async fn a_burst_is_collapsed_per_job_and_output_is_told_apart() {
    let home = tempfile::tempdir().unwrap();
    let store = JobStore::new(home.path());
    let id = store.reserve().unwrap();
    store.write_meta(&meta(&id, "running")).unwrap();
    let feed = JobFeed::with_fallback(store.clone(), None);
    let mut subscription = feed.subscribe(Scope::All).unwrap();
    let mut output = crate::jobs::record::meta::open_append(&store.output_path(&id)).unwrap();
    for line in 0..200 {
        writeln!(output, "line {line}").unwrap();
    }
    store.write_meta(&meta(&id, "done")).unwrap();
    let mut merged = WhatChanged::default();
    let mut events = 0;
    while !merged.meta {
        match tokio::time::timeout(Duration::from_secs(20), subscription.recv()).await.unwrap() {
            FeedEvent::Job(job, changes) if job == id => merged = merged.merge(changes),
            other => panic!("unexpected {other:?}"),
        }
        events += 1;
    }
    assert!(merged.output, "the output's growth was reported");
    assert!(events < 200, "{events} events for 201 writes: bursts are collapsed");
}

#[tokio::test]
async fn per_job_watches_come_and_go_with_their_subscribers() {
    let home = tempfile::tempdir().unwrap();
    let store = JobStore::new(home.path());
    let id = store.reserve().unwrap();
    let feed = JobFeed::with_fallback(store.clone(), None);
    let first = feed.subscribe(Scope::Jobs(std::slice::from_ref(&id))).unwrap();
    let mut second = feed.subscribe(Scope::Jobs(std::slice::from_ref(&id))).unwrap();
    assert_eq!(feed.lock().per_job.get(&store.job_dir(&id)), Some(&2));
    drop(first);
    store.write_meta(&meta(&id, "done")).unwrap();
    let event = tokio::time::timeout(Duration::from_secs(20), second.recv()).await.unwrap();
    assert_eq!(event, FeedEvent::Job(id.clone(), WhatChanged::META), "still watched for the second");
    drop(second);
    assert!(feed.lock().per_job.is_empty());
}

#[tokio::test]
async fn a_deleted_and_recreated_jobs_folder_is_watched_again() {
    let home = tempfile::tempdir().unwrap();
    let store = JobStore::new(home.path());
    let feed = JobFeed::with_fallback(store.clone(), None);
    let mut subscription = feed.subscribe(Scope::All).unwrap();
    std::fs::remove_dir_all(store.jobs_dir()).unwrap();
    let deadline = Duration::from_secs(20);
    while tokio::time::timeout(deadline, subscription.recv()).await.unwrap() != FeedEvent::Rescan {}
    let id = store.reserve().unwrap();
    // The rescan that follows the re-watch, then the new job's own events.
    loop {
        match tokio::time::timeout(deadline, subscription.recv()).await.unwrap() {
            FeedEvent::Job(job, _) if job == id => break,
            FeedEvent::Rescan => {
                // Watched again: a change now is seen.
                store.write_meta(&meta(&id, "done")).unwrap();
            }
            FeedEvent::Job(..) => {}
        }
    }
}
