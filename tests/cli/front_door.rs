//! The words people type, through the real binary: an option among the prompt's words,
//! what `list` says it left out and the columns it fits, a flag's mistake named as one,
//! one duration syntax, a cancel that says what it waits for (or does not wait), long
//! prompts cut in plain output, the aliases and `rerun`.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::{TestHome, finished, job_count, json, start_with, wait_until};
use serde_json::Value;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn code(output: &Output) -> Option<i32> {
    output.status.code()
}

#[test]
fn an_option_among_the_prompt_words_is_refused_naming_it_and_both_fixes() {
    let home = TestHome::new();
    let cwd = home.path().to_str().unwrap();
    let refused = home.run(&["start", "fix", "it", "--cwd", "/nope"]);
    assert_eq!(code(&refused), Some(2), "{}", text(&refused.stderr));
    let said = text(&refused.stderr);
    assert!(said.contains("\"--cwd\" is one of the options of `start`"), "{said}");
    assert!(said.contains("codex-async start --cwd /nope fix it"), "moving it: {said}");
    assert!(said.contains("codex-async start -- fix it --cwd /nope"), "keeping it as text: {said}");
    let json_flag = home.run(&["start", "--cwd", cwd, "say:x", "--json"]);
    assert_eq!(code(&json_flag), Some(2));
    assert!(json_flag.stdout.is_empty(), "no bare id: {}", text(&json_flag.stdout));
    assert!(text(&json_flag.stderr).contains("\"--json\""), "{}", text(&json_flag.stderr));
    assert_eq!(job_count(&home), 0, "nothing started");

    // After `--` the same words are prompt text, as asked.
    let id = json(&home.run(&["start", "--json", "--cwd", cwd, "--", "say:x", "--cwd", "/nope"]))["job_id"].as_str().unwrap().to_owned();
    assert_eq!(finished(&home, &id)["prompt"], "say:x --cwd /nope");
    assert_eq!(finished(&home, &id)["cwd"], home.path().canonicalize().unwrap().to_str().unwrap());

    // The same for reply and rerun, with their own options.
    for args in [["reply", &id, "say:y", "-a", "full-auto"], ["rerun", &id, "say:y", "--agent", "claude"]] {
        let refused = home.run(&args);
        assert_eq!(code(&refused), Some(2), "{args:?}: {}", text(&refused.stderr));
        let said = text(&refused.stderr);
        assert!(said.contains(&format!("of `{}`", args[0])) && said.contains(&format!("codex-async {} {id} --", args[0])), "{said}");
    }
    assert_eq!(job_count(&home), 1);
}

#[test]
fn list_says_what_a_filter_left_out_and_how_many_more_there_are() {
    let home = TestHome::new();
    let empty = text(&home.run(&["list"]).stdout);
    assert!(empty.contains("no jobs yet"), "{empty}");
    let ids: Vec<String> = (0..4).map(|n| start_with(&home, &[], &format!("say:job{n}"))).collect();
    for id in &ids {
        finished(&home, id);
    }
    let none = home.run(&["list", "--status", "failed"]);
    assert!(none.status.success());
    let said = text(&none.stdout);
    assert!(!said.contains("no jobs yet"), "{said}");
    assert!(said.contains("no job matches --status failed (4 jobs stored"), "{said}");

    let cut = text(&home.run(&["list", "--limit", "3"]).stdout);
    assert_eq!(cut.lines().filter(|line| line.contains("say:job")).count(), 3, "{cut}");
    assert_eq!(cut.lines().last().unwrap(), "… 1 more (--limit 0 for all)", "{cut}");
    let filtered = text(&home.run(&["list", "--status", "done", "--limit", "1"]).stdout);
    assert_eq!(filtered.lines().last().unwrap(), "… 3 more (--limit 0 for all)", "{filtered}");
    let all = text(&home.run(&["list", "--limit", "0"]).stdout);
    assert!(!all.contains("more"), "{all}");
    assert_eq!(all.lines().count(), 5, "a header and every job: {all}");
}

#[test]
fn an_unknown_agent_is_a_flag_mistake_that_names_the_agents() {
    let home = TestHome::new();
    let output = home.run(&["start", "--agent", "aider", "--cwd", home.path().to_str().unwrap(), "--", "say:x"]);
    assert_eq!(code(&output), Some(2));
    let said = text(&output.stderr);
    assert!(said.contains("--agent") && said.contains("\"aider\""), "{said}");
    assert!(said.contains("codex, claude, gemini"), "the agents that exist: {said}");
    assert!(!said.contains("configuration has a mistake") && !said.contains("--ignore-config"), "{said}");
    assert_eq!(job_count(&home), 0);
}

#[test]
fn every_duration_flag_takes_units() {
    let home = TestHome::new();
    let done = start_with(&home, &["--max-duration", "20m", "--stall-timeout", "90s"], "say:x");
    finished(&home, &done);
    let waited = home.run(&["wait", "--timeout", "1m", &done]);
    assert_eq!(code(&waited), Some(0), "{}", text(&waited.stderr));
    let sleeping = start_with(&home, &[], "sleep:30");
    let timed_out = home.run(&["wait", "--timeout", "500ms", &sleeping]);
    assert_eq!(code(&timed_out), Some(124), "{}", text(&timed_out.stderr));
    let bad = home.run(&["wait", "--timeout", "2x", &sleeping]);
    assert_eq!(code(&bad), Some(2));
    assert!(text(&bad.stderr).contains("90s, 20m, 2h, 7d"), "{}", text(&bad.stderr));
    let gc = home.run(&["gc", "--older-than", "7d", "--dry-run"]);
    assert!(gc.status.success(), "{}", text(&gc.stderr));
    let cancelled = home.run(&["kill", "--grace", "1s", &sleeping]);
    assert!(cancelled.status.success(), "{}", text(&cancelled.stderr));
}

/// A job whose agent (and what it runs) ignores SIGINT and SIGTERM, running.
fn stubborn_job(home: &TestHome) -> String {
    let id = start_with(home, &[], "ignore-term say:ready sleep:120");
    wait_until("the agent to ignore SIGTERM", Duration::from_secs(20), || home.output(&id).contains("ready"));
    id
}

#[test]
fn a_cancel_that_waits_for_the_grace_period_says_so_and_when_sigkill_comes() {
    let home = TestHome::new();
    let id = stubborn_job(&home);
    let output = home.run(&["cancel", "--grace", "3s", &id]);
    let said = text(&output.stderr);
    assert!(output.status.success(), "{said}");
    assert!(said.contains(&format!("job {id} has not ended yet")), "{said}");
    assert!(said.contains("SIGTERM at 1.5s, SIGKILL at 3s"), "{said}");
    assert!(said.contains("--no-wait"), "{said}");
    assert_eq!(home.status(&id), "cancelled");
    assert!(home.reported_pids(&id, "agent").iter().all(|pid| !crate::support::is_alive(*pid)));
}

#[test]
fn cancel_no_wait_returns_at_once_and_the_supervisor_still_kills_the_job() {
    let home = TestHome::new();
    let id = stubborn_job(&home);
    let began = Instant::now();
    let output = home.run(&["kill", "--no-wait", "--grace", "8s", &id]);
    let said = text(&output.stderr);
    assert!(output.status.success(), "{said}");
    assert!(began.elapsed() < Duration::from_secs(8), "it did not wait for the grace period");
    assert!(said.contains("its supervisor ends it: SIGINT now, SIGTERM at 4s, SIGKILL at 8s"), "{said}");
    let stdout = text(&output.stdout);
    assert!(stdout.starts_with(&id) && stdout.trim_end().ends_with("running"), "{stdout}");
    assert_eq!(home.status(&id), "running", "returned before the job ended");
    finished(&home, &id);
    assert_eq!(home.status(&id), "cancelled");
    let agent = home.reported_pids(&id, "agent");
    assert!(!agent.is_empty() && agent.iter().all(|pid| !crate::support::is_alive(*pid)), "SIGKILL ended it");

    let json_view = json(&home.run(&["cancel", "--no-wait", "--json", &id]));
    assert_eq!(json_view["status"], "cancelled", "an ended job says so: {json_view}");

    // A job whose supervisor is gone is ended by a cancel of its own, in the background.
    let orphan = stubborn_job(&home);
    let supervisor = home.meta(&orphan)["supervisor_pid"].as_i64().unwrap() as i32;
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(supervisor), nix::sys::signal::Signal::SIGKILL).unwrap();
    home.wait_for_supervisor_exit(&orphan);
    let output = home.run(&["cancel", "--no-wait", "--grace", "2s", &orphan]);
    let said = text(&output.stderr);
    assert!(output.status.success(), "{said}");
    assert!(said.contains("its supervisor is gone: codex-async (pid") && said.contains("SIGKILL at 2s"), "{said}");
    finished(&home, &orphan);
    assert_eq!(home.status(&orphan), "cancelled");
    let agent = home.reported_pids(&orphan, "agent");
    wait_until("the orphan's agent to be killed", Duration::from_secs(20), || agent.iter().all(|pid| !crate::support::is_alive(*pid)));
}

#[test]
fn a_long_prompt_is_cut_in_plain_poll_and_wait_and_shown_whole_on_request() {
    let home = TestHome::new();
    let prompt = format!("say:hello pad:{}", "x".repeat(200_000));
    let mut child = home
        .command()
        .args(["start", "--json", "--cwd", home.path().to_str().unwrap(), "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(prompt.as_bytes()).unwrap();
    let started = child.wait_with_output().unwrap();
    let id = json(&started)["job_id"].as_str().unwrap().to_owned();
    finished(&home, &id);
    let prompt_file = home.job_dir(&id).join("prompt.txt");
    for verb in ["poll", "wait"] {
        let shown = text(&home.run(&[verb, &id]).stdout);
        let longest = shown.lines().map(|line| line.chars().count()).max().unwrap();
        assert!(longest < 400, "{verb}: a line of {longest} characters");
        assert!(shown.contains("--full-prompt") && shown.contains(prompt_file.to_str().unwrap()), "{verb}: {shown}");
        let whole = text(&home.run(&[verb, "--full-prompt", &id]).stdout);
        assert!(whole.contains(&prompt), "{verb} --full-prompt shows all of it");
        // The JSON keeps the original's shape: the record's prompt, as it is.
        let view: Value = json(&home.run(&[verb, "--json", &id]));
        assert_eq!(view["prompt"], home.meta(&id)["prompt"], "{verb}");
    }
}

#[test]
fn aliases_rerun_and_a_list_that_fits_the_terminal_in_local_time() {
    let home = TestHome::new();
    let other = tempfile::tempdir().unwrap();
    let id = start_with(&home, &["-m", "model-x", "--max-duration", "20m"], "argv");
    finished(&home, &id);
    for alias in ["status", "ls"] {
        let listed = home.run(&[alias]);
        assert!(listed.status.success() && text(&listed.stdout).contains(&id), "{alias}");
    }

    // A new job from the old one's request, with overrides.
    let output = home.run(&["rerun", "--json", "--cwd", other.path().to_str().unwrap(), "-a", "auto-edit", &id]);
    let rerun = json(&output);
    assert_eq!(rerun["rerun_of"], id.as_str());
    let new = rerun["job_id"].as_str().unwrap().to_owned();
    let meta = finished(&home, &new);
    assert_eq!(meta["prompt"], "argv");
    assert_eq!(meta["cwd"], other.path().canonicalize().unwrap().to_str().unwrap());
    assert_eq!(meta["approval_policy"], "auto-edit");
    assert_eq!(meta["model"], "model-x", "the model is the old job's");
    assert_eq!(meta["max_duration"], 1200.0, "so is its time limit");
    let argv = crate::support::printed_argv(&home, &new);
    assert!(argv.windows(2).any(|pair| pair == ["-m", "model-x"]), "{argv:?}");
    let plain = home.run(&["rerun", &new, "--", "say:again"]);
    assert!(text(&plain.stderr).contains(&format!("runs job {new} again: cwd")), "{}", text(&plain.stderr));
    let third = text(&plain.stdout).trim().to_owned();
    assert_eq!(finished(&home, &third)["prompt"], "say:again");
    let running = start_with(&home, &[], "sleep:30");
    let refused = home.run(&["rerun", &running]);
    assert_eq!(code(&refused), Some(2));
    assert!(text(&refused.stderr).contains("rerun runs a finished job again"), "{}", text(&refused.stderr));
    assert!(home.run(&["kill", "--grace", "1s", &running]).status.success());

    // Wide: AGENT and CWD; narrow: neither. Local time with its zone; UTC in the JSON.
    let list = |columns: &str| text(&home.command().args(["list"]).env("COLUMNS", columns).env("TZ", "XST-5:30").output().unwrap().stdout);
    let wide = list("200");
    let header = wide.lines().next().unwrap();
    assert!(header.contains("AGENT") && header.contains("CWD"), "{wide}");
    assert!(header.contains("STARTED (UTC+05:30)"), "{wide}");
    assert!(wide.lines().all(|line| line.chars().count() <= 200), "{wide}");
    let narrow = list("80");
    assert!(!narrow.lines().next().unwrap().contains("CWD"), "{narrow}");
    assert!(narrow.lines().all(|line| line.chars().count() <= 80), "{narrow}");
    let started = home.meta(&id)["started_at"].as_str().unwrap().to_owned();
    let utc = chrono::DateTime::parse_from_rfc3339(&started).unwrap();
    let local = (utc + chrono::Duration::minutes(330)).format("%Y-%m-%d %H:%M:%S").to_string();
    assert!(wide.contains(&local), "{local} in {wide}");
    let polled = text(&home.command().args(["poll", &id]).env("TZ", "XST-5:30").output().unwrap().stdout);
    assert!(polled.contains(&format!("started   {local} UTC+05:30")), "{polled}");
    let rows: Value = json(&home.command().args(["list", "--json"]).env("TZ", "XST-5:30").output().unwrap());
    assert!(rows.as_array().unwrap().iter().any(|row| row["started_at"] == started.as_str()), "UTC as stored: {rows}");

    for (alias, target) in [("rm", &id), ("rm", &new)] {
        let deleted = home.run(&[alias, target]);
        assert!(deleted.status.success(), "{}", text(&deleted.stderr));
    }
    assert!(!home.job_dir(&id).exists());
}
