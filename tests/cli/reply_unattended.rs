//! Follow-ups take the unattended options (`reply --after --delay --at --label --group
//! --priority --max-tokens --resume-on-limit`): what they wait for is their own, where
//! they queue and their budget are the parent's unless given, and each is checked and
//! refused as on `start`.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::support::{TestHome, fake_agent, finished, job_count, start_with, wait_until};
use serde_json::{Value, json};

const SETTLE: Duration = Duration::from_secs(40);

fn time_of(meta: &Value, key: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(meta[key].as_str().unwrap()).unwrap().to_utc()
}

/// `reply --json` with `args`; the answer (which must be a success).
fn reply(home: &TestHome, args: &[&str]) -> Value {
    let mut all = vec!["reply", "--json"];
    all.extend_from_slice(args);
    let output = home.command().env("CLAUDE_BIN", fake_agent()).args(&all).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

/// `reply` with `args`, which must be refused with usage status 2; what it said.
fn refused(home: &TestHome, args: &[&str]) -> String {
    let mut all = vec!["reply"];
    all.extend_from_slice(args);
    let output = home.run(&all);
    assert_eq!(output.status.code(), Some(2), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stderr).unwrap()
}

#[test]
fn a_follow_up_waits_for_the_jobs_it_is_after_and_for_its_time() {
    let home = TestHome::new();
    let parent = home.start("session say:first");
    finished(&home, &parent);
    let barrier = home.path().join("barrier");
    let blocker = home.start(&format!("await-file:{} say:blocker", barrier.display()));

    let answer = reply(&home, &["--after", &blocker[..5], "--delay", "1s", &parent, "--", "session say:next"]);
    assert_eq!(answer["status"], "pending", "{answer}");
    let child = answer["job_id"].as_str().unwrap().to_owned();
    let waiting = home.meta(&child);
    assert_eq!(waiting["after"], json!([blocker]), "the start of an id is made whole");
    assert!(waiting["waiting"].as_str().unwrap().contains(&format!("after {blocker}")), "{waiting}");
    assert!(waiting["starts_at"].is_string(), "{waiting}");
    assert_eq!(waiting["parent_job_id"], parent.as_str());
    assert_eq!(home.meta(&parent)["follow_ups"], json!([child]), "listed in its parent while it waits");

    std::fs::write(&barrier, "").unwrap();
    let blocker_done = finished(&home, &blocker);
    let done = finished(&home, &child);
    assert_eq!(done["status"], "done", "{done}");
    assert!(time_of(&done, "started_at") >= time_of(&blocker_done, "finished_at"), "started after the job it follows ended");
    assert!(time_of(&done, "started_at") >= time_of(&done, "starts_at"), "and not before its time");
    assert_eq!(done["session_id"], home.meta(&parent)["session_id"], "still the parent's conversation");
}

#[test]
fn a_follow_up_keeps_its_parents_labels_group_priority_and_budget_unless_given() {
    let home = TestHome::new();
    std::fs::write(home.path().join("config.toml"), "[groups.review]\nmax_running = 1\n").unwrap();
    let options = ["--label", "infra", "--group", "review", "--priority", "3", "--max-tokens", "50000"];
    let parent = start_with(&home, &options, "session say:first");
    finished(&home, &parent);

    let kept = reply(&home, &[&parent, "--", "say:next"]);
    assert_eq!(kept["inherited"]["labels"], json!(["infra"]), "{kept}");
    assert_eq!((kept["inherited"]["group"].as_str(), kept["inherited"]["priority"].as_i64()), (Some("review"), Some(3)));
    assert_eq!(kept["inherited"]["max_tokens"], 50_000);
    let meta = finished(&home, kept["job_id"].as_str().unwrap());
    assert_eq!((meta["labels"].clone(), meta["group"].clone(), meta["priority"].clone()), (json!(["infra"]), json!("review"), json!(3)));
    assert_eq!(meta["max_tokens"], 50_000);
    assert_eq!(meta["queue_limit"], 1, "the group's own limit");

    let changed = reply(&home, &["--label", "nightly", "--priority", "-1", "--max-tokens", "0", &parent, "--", "say:next"]);
    let inherited = &changed["inherited"];
    assert!(inherited.get("labels").is_none() && inherited.get("priority").is_none() && inherited.get("max_tokens").is_none(), "{changed}");
    assert_eq!(inherited["group"], "review");
    let meta = finished(&home, changed["job_id"].as_str().unwrap());
    assert_eq!((meta["labels"].clone(), meta["priority"].clone()), (json!(["nightly"]), json!(-1)));
    assert!(meta.get("max_tokens").is_none(), "0 is no budget: {meta}");
    let listed = String::from_utf8(home.run(&["list", "--label", "nightly"]).stdout).unwrap();
    assert!(listed.contains(&changed["job_id"].as_str().unwrap()[..8]), "{listed}");

    // The group is gone from the config: the inherited one is refused, saying whose it was.
    std::fs::write(home.path().join("config.toml"), "").unwrap();
    let refused = refused(&home, &[&parent, "--", "say:next"]);
    assert!(refused.contains("unknown group \"review\"") && refused.contains(&format!("the group of job {parent}")), "{refused}");
}

#[test]
fn a_follow_ups_options_are_refused_as_a_starts_and_nothing_starts() {
    let home = TestHome::new();
    std::fs::write(home.path().join("config.toml"), "max_policy = \"suggest\"\n").unwrap();
    let parent = home.start("session say:first");
    finished(&home, &parent);
    let before = job_count(&home);
    assert!(refused(&home, &["--after", "deadbeef", &parent, "--", "x"]).contains("job 'deadbeef' not found"));
    assert!(refused(&home, &["--group", "nosuch", &parent, "--", "x"]).contains("unknown group \"nosuch\""));
    assert!(refused(&home, &["--label", "no spaces", &parent, "--", "x"]).contains("label \"no spaces\""));
    assert!(refused(&home, &["--at", "25:99", &parent, "--", "x"]).contains("25:99"));
    assert!(refused(&home, &["--delay", "1s", "--at", "10:00", &parent, "--", "x"]).contains("cannot be used with"));
    // The ceiling judges the follow-up whatever it waits for.
    let over = refused(&home, &["--after", &parent, "-a", "auto-edit", &parent, "--", "x"]);
    assert!(over.contains("suggest"), "{over}");
    assert_eq!(job_count(&home), before, "nothing was made");
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

#[test]
fn a_follow_up_with_resume_on_limit_is_followed_up_at_the_reset() {
    let home = TestHome::new();
    let answer = fixture("claude-events/answer.jsonl");
    std::fs::write(home.path().join("config.toml"), format!("resume_prompt = \"replay:{}\"\n", answer.display())).unwrap();
    let output = home
        .command()
        .env("CLAUDE_BIN", fake_agent())
        .args([
            "start",
            "--json",
            "--agent",
            "claude",
            "--cwd",
            home.path().to_str().unwrap(),
            "--",
            &format!("replay:{}", answer.display()),
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let parent = serde_json::from_slice::<Value>(&output.stdout).unwrap()["job_id"].as_str().unwrap().to_owned();
    assert_eq!(finished(&home, &parent)["status"], "done");

    let resets = chrono::Utc::now().timestamp() + 6;
    let recorded = std::fs::read_to_string(fixture("usage-limits/claude-subscription-limit-5h.jsonl")).unwrap();
    let stream = home.path().join("limit.jsonl");
    std::fs::write(&stream, recorded.replace("1796590543", &resets.to_string())).unwrap();
    let limited = reply(&home, &["--resume-on-limit", &parent, "--", &format!("replay:{} exit:1", stream.display())]);
    let limited = limited["job_id"].as_str().unwrap().to_owned();
    assert_eq!(finished(&home, &limited)["limit"]["kind"], "five_hour");

    wait_until("the follow-up's own follow-up", SETTLE, || home.meta(&limited)["follow_ups"].as_array().is_some_and(|ups| !ups.is_empty()));
    let resumed = home.meta(&limited)["follow_ups"][0].as_str().unwrap().to_owned();
    let done = finished(&home, &resumed);
    assert_eq!(done["status"], "done", "{done}");
    assert!(time_of(&done, "started_at") >= chrono::DateTime::from_timestamp(resets, 0).unwrap(), "resumed at the reset, not before");
}
