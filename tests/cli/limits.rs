//! Usage limits through the real binary, from the agents' recorded streams: the job ends
//! `error` with `limit`; that agent's further jobs wait until the reset (other agents'
//! go on); with `--resume-on-limit` the job is followed up at the reset.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::support::{TestHome, fake_agent, finished, wait_until};
use codex_async::jobs::Timestamp;
use serde_json::Value;

const SETTLE: Duration = Duration::from_secs(40);

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

/// Starts a job of `agent` (the fake agent in its place) with `options`; its id.
fn start(home: &TestHome, agent: &str, options: &[&str], prompt: &str) -> String {
    let cwd = home.path().to_str().unwrap();
    let mut args = vec!["start", "--json", "--agent", agent, "--cwd", cwd];
    args.extend_from_slice(options);
    args.extend(["--", prompt]);
    let output = home.command().env("CLAUDE_BIN", fake_agent()).env("GEMINI_BIN", fake_agent()).args(&args).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice::<Value>(&output.stdout).unwrap()["job_id"].as_str().unwrap().to_owned()
}

#[test]
fn each_agents_recorded_limit_ends_the_job_with_its_reset() {
    let home = TestHome::new();
    let codex = start(&home, "codex", &[], &format!("replay:{} exit:1", fixture("usage-limits/codex-usage-limit-plus.jsonl").display()));
    let claude =
        start(&home, "claude", &[], &format!("replay:{} exit:1", fixture("usage-limits/claude-subscription-limit-5h.jsonl").display()));
    let gemini = start(&home, "gemini", &[], &format!("replay:{} exit:173", fixture("usage-limits/gemini-quota-daily.jsonl").display()));
    let codex = finished(&home, &codex);
    assert_eq!(codex["status"], "error");
    assert_eq!(codex["limit"]["kind"], "usage_limit");
    assert!(codex["limit"]["resets_at"].is_string(), "{codex}");
    let claude = finished(&home, &claude);
    assert_eq!(claude["limit"], serde_json::json!({"kind": "five_hour", "resets_at": "2026-12-06T20:55:43+00:00"}));
    let gemini = finished(&home, &gemini);
    assert_eq!((gemini["status"].as_str(), gemini["exit_code"].as_i64()), (Some("error"), Some(173)));
    assert_eq!(gemini["limit"], serde_json::json!({"kind": "daily_quota", "resets_at": "2026-12-07T08:00:00+00:00"}));
}

#[test]
fn a_limit_holds_its_agents_queue_and_the_job_resumes_at_the_reset() {
    let home = TestHome::new();
    let answer = fixture("claude-events/answer.jsonl");
    std::fs::write(home.path().join("config.toml"), format!("resume_prompt = \"replay:{}\"\n", answer.display())).unwrap();
    // The recorded limit, its reset moved a few seconds ahead.
    // Far enough ahead that the job and the next start are done before it, even on a busy machine.
    let resets = chrono::Utc::now().timestamp() + 8;
    let recorded = std::fs::read_to_string(fixture("usage-limits/claude-subscription-limit-5h.jsonl")).unwrap();
    let stream = home.path().join("limit.jsonl");
    std::fs::write(&stream, recorded.replace("1796590543", &resets.to_string())).unwrap();

    let limited = start(&home, "claude", &["--resume-on-limit"], &format!("replay:{} exit:1", stream.display()));
    let ended = finished(&home, &limited);
    assert_eq!((ended["status"].as_str(), ended["limit"]["kind"].as_str()), (Some("error"), Some("five_hour")), "{ended}");

    let held = start(&home, "claude", &[], &format!("replay:{}", answer.display()));
    let held_meta = home.meta(&held);
    assert_eq!(held_meta["status"], "pending");
    assert!(held_meta["waiting"].as_str().unwrap().starts_with("waiting for claude's usage limit to reset at "), "{held_meta}");
    let other = start(&home, "codex", &[], "say:other-agents-go-on");
    assert_eq!(finished(&home, &other)["status"], "done", "another agent's job is not held");

    wait_until("the follow-up to be listed", SETTLE, || home.meta(&limited)["follow_ups"].as_array().is_some_and(|ups| !ups.is_empty()));
    let follow_up = home.meta(&limited)["follow_ups"][0].as_str().unwrap().to_owned();
    assert_eq!(home.meta(&follow_up)["parent_job_id"], limited.as_str());

    let reset = Timestamp(chrono::DateTime::from_timestamp(resets, 0).unwrap());
    for id in [&held, &follow_up] {
        let done = finished(&home, id);
        assert_eq!(done["status"], "done", "{done}");
        let started = Timestamp::parse(done["started_at"].as_str().unwrap()).unwrap();
        assert!(started >= reset, "{id} started at the reset, not before");
    }
    assert!(home.output(&follow_up).contains("Hello from the mock"), "{}", home.output(&follow_up));
}
