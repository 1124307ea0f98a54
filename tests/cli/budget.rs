//! Token budgets through the real binary: a job past its budget is cancelled before its
//! stream ends, with the figures; one within it ends as it would; an agent that reports
//! no usage refuses a budget asked for, and runs without the configured default.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use crate::support::{TestHome, fake_agent, finished, start_with};

#[test]
fn a_job_past_its_budget_is_cancelled_before_its_stream_ends() {
    let home = TestHome::new();
    let began = Instant::now();
    let over = start_with(&home, &["--max-tokens", "100"], "usage:80:30 sleep:30 say:never-printed");
    let within = start_with(&home, &["--max-tokens", "1000"], "usage:80:30 say:fine");
    let ended = finished(&home, &over);
    assert!(began.elapsed() < Duration::from_secs(20), "cancelled long before the stream's end");
    assert_eq!(ended["status"], "cancelled");
    assert_eq!(ended["cancel_reason"], "over budget");
    assert_eq!(ended["max_tokens"], 100);
    let note = ended["note"].as_str().unwrap();
    assert!(note.contains("110 tokens") && note.contains("100"), "{note}");
    assert!(!home.output(&over).contains("never-printed"));
    assert_eq!(finished(&home, &within)["status"], "done");
    let listed = String::from_utf8(home.run(&["poll", &within]).stdout).unwrap();
    assert!(listed.contains("budget    110 of 1,000 tokens"), "{listed}");
}

#[test]
fn an_agent_without_usage_refuses_a_budget_and_skips_the_default() {
    let home = TestHome::new();
    let config = format!("max_tokens = 100\n[agents.plain]\ncommand = [\"{}\", \"--\", \"{{prompt}}\"]\n", fake_agent().display());
    std::fs::write(home.path().join("config.toml"), config).unwrap();
    let output = home.run(&["start", "--agent", "plain", "--max-tokens", "10", "--", "say:x"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("reports no token usage"), "{}", String::from_utf8_lossy(&output.stderr));
    let plain = start_with(&home, &["--agent", "plain"], "say:x");
    let ended = finished(&home, &plain);
    assert_eq!(ended["status"], "done");
    assert!(ended.get("max_tokens").is_none(), "the default does not apply to it: {ended}");
    let codex = start_with(&home, &[], "say:y");
    assert_eq!(home.meta(&codex)["max_tokens"], 100, "the configured default applies to an agent that reports usage");
}
