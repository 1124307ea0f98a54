//! Hostile files in the jobs directory and hostile agent output: reported, never a crash.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use crate::support;
use crate::support::TestHome;
use serde_json::Value;

const SETTLE: Duration = Duration::from_secs(20);

/// Writes one kind of broken meta.json at the given path.
type MakeBroken<'a> = &'a dyn Fn(&std::path::Path);

fn list(home: &TestHome) -> Vec<Value> {
    let output = home.run(&["list", "--json", "--limit", "100"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn broken_meta_files_are_listed_as_corrupt_and_never_followed() {
    let home = TestHome::new();
    let good = home.start("exit:0");
    home.wait_for_status(&good, "done", SETTLE);
    let jobs = home.path().join("jobs");
    let outside = home.path().join("outside.json");
    std::fs::write(&outside, home.meta(&good).to_string().replace(&good, "linkjob1")).unwrap();
    let cases: [(&str, MakeBroken); 6] = [
        ("truncat1", &|meta| std::fs::write(meta, "{\"job_id\": \"truncat1\", \"sta").unwrap()),
        ("notjson1", &|meta| std::fs::write(meta, "this is not json").unwrap()),
        ("wrongsh1", &|meta| std::fs::write(meta, "[1, 2, 3]").unwrap()),
        ("wrongty1", &|meta| std::fs::write(meta, r#"{"job_id": 7, "status": "running", "prompt": [], "cwd": null}"#).unwrap()),
        ("hugemet1", &|meta| std::fs::File::create(meta).unwrap().set_len(100 * 1024 * 1024).unwrap()),
        ("linkjob1", &|meta| std::os::unix::fs::symlink(&outside, meta).unwrap()),
    ];
    for (id, make) in cases {
        std::fs::create_dir(jobs.join(id)).unwrap();
        make(&jobs.join(id).join("meta.json"));
    }
    // A job folder that is itself a symlink out of the jobs directory.
    std::fs::create_dir(home.path().join("elsewhere")).unwrap();
    std::os::unix::fs::symlink(home.path().join("elsewhere"), jobs.join("linkdir1")).unwrap();

    let rows = list(&home);
    let status_of = |id: &str| rows.iter().find(|row| row["job_id"] == id).map(|row| (row["status"].clone(), row["error"].clone()));
    assert_eq!(status_of(&good).unwrap().0, "done");
    for (id, reason) in [
        ("truncat1", "not valid JSON"),
        ("notjson1", "not valid JSON"),
        ("wrongsh1", "not a JSON object"),
        ("wrongty1", "wrong shape"),
        ("hugemet1", "larger than"),
        ("linkjob1", "symlink"),
    ] {
        let (status, error) = status_of(id).unwrap_or_else(|| panic!("{id} missing from {rows:?}"));
        assert_eq!(status, "corrupt", "{id}");
        assert!(error.as_str().unwrap().contains(reason), "{id}: {error}");
        let poll = home.run(&["poll", id]);
        assert_eq!(poll.status.code(), Some(1), "{id}");
        assert!(String::from_utf8_lossy(&poll.stderr).contains("is corrupt"), "{id}");
    }
    assert!(status_of("linkdir1").is_none(), "a symlinked job folder is not followed");
    let poll = home.run(&["poll", "linkdir1"]);
    assert!(String::from_utf8_lossy(&poll.stderr).contains("not a folder"));
}

#[test]
fn hostile_output_polls_as_bounded_valid_text() {
    let home = TestHome::new();
    let id = home.start("sleep:30");
    // The agent's first line written before the file is replaced, so nothing lands after it.
    support::wait_until("the agent's first line", Duration::from_secs(30), || !home.reported_pids(&id, "agent").is_empty());
    let output = home.job_dir(&id).join("output.txt");
    let mut bytes: Vec<u8> = (0..=255u8).cycle().take(64 * 1024).collect(); // binary, NULs, invalid UTF-8
    bytes.extend(std::iter::repeat_n(b'z', 1024 * 1024)); // a 1 MB line
    bytes.extend_from_slice(b"\n\x1b[31mred\x1b[0m \x1b]52;c;Zm9v\x07 unterminated \x1b[38;5");
    std::fs::write(&output, &bytes).unwrap();
    let poll = home.run(&["poll", &id, "--json", "--tail", "1000"]);
    assert!(poll.status.success());
    let view: Value = serde_json::from_slice(&poll.stdout).unwrap();
    let text = view["output"].as_str().unwrap();
    assert!(text.starts_with("...(truncated)...\n"));
    assert!(text.chars().count() <= 8000 + 18);
    assert!(text.ends_with("unterminated \u{1b}[38;5"));
    home.run(&["cancel", &id, "--grace", "1"]);
}

#[test]
fn a_job_whose_cwd_is_deleted_still_records_its_result() {
    let home = TestHome::new();
    let cwd = home.path().join("doomed");
    std::fs::create_dir(&cwd).unwrap();
    let output = home.run(&["start", "--json", "--cwd", cwd.to_str().unwrap(), "--", "say:up sleep:1 say:still-here exit:5"]);
    let id = serde_json::from_slice::<Value>(&output.stdout).unwrap()["job_id"].as_str().unwrap().to_owned();
    std::fs::remove_dir(&cwd).unwrap();
    home.wait_for_status(&id, "error", SETTLE);
    assert_eq!(home.meta(&id)["exit_code"], 5);
    assert!(home.output(&id).contains("still-here"));
}
