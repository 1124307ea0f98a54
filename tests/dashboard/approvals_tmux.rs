//! The dashboard answers a real Claude Code job's approval requests, end to end in
//! tmux: the row says the job waits, `A` shows the request, `n` + a message denies it
//! (the model reads the message), `y` allows the next one.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use crate::support::tmux::{Tmux, dashboard_command_with_env};
use crate::support::{TestHome, json, wait_until};

#[path = "../support/claude_mock.rs"]
mod claude_mock;
use claude_mock::{MockModel, ToolCall, real_claude};

const DEADLINE: Duration = Duration::from_secs(60);

#[test]
fn the_dashboard_denies_with_a_message_and_allows() {
    let Some(claude) = real_claude() else { return };
    let home = TestHome::new();
    let project = tempfile::tempdir().unwrap();
    let user_home = tempfile::tempdir().unwrap();
    let mock = MockModel::start(vec![ToolCall::bash("touch denied.txt"), ToolCall::bash("touch allowed.txt")]);
    let env = mock.env(&claude, user_home.path());
    let cwd = project.path().to_str().unwrap();
    let output = home
        .command()
        .envs(env.iter().map(|(key, value)| (key, value)))
        .args(["start", "--json", "--agent", "claude", "-a", "ask", "--cwd", cwd, "--", "do the task"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let id = json(&output)["job_id"].as_str().unwrap().to_owned();

    let tmux = Tmux::start(&dashboard_command_with_env(&home, "", "--no-mcp"), 140, 36);
    tmux.wait_for(&id, DEADLINE);
    tmux.wait_for("waiting for approval: Bash: touch denied.txt", DEADLINE);
    tmux.keys(&["A"]);
    tmux.wait_for("Approval requested", DEADLINE);
    tmux.wait_for("command: touch denied.txt", DEADLINE);
    tmux.keys(&["n"]);
    tmux.wait_for("tell the agent why", DEADLINE);
    tmux.type_text("not this file");
    tmux.keys(&["Enter"]);
    tmux.wait_for("denied: Bash: touch denied.txt", DEADLINE);

    tmux.wait_for("waiting for approval: Bash: touch allowed.txt", DEADLINE);
    tmux.keys(&["A"]);
    tmux.wait_for("command: touch allowed.txt", DEADLINE);
    tmux.keys(&["y"]);
    wait_until(&format!("job {id} to end"), DEADLINE, || home.status(&id) == "done");
    assert!(!project.path().join("denied.txt").exists() && project.path().join("allowed.txt").exists());
    let poll = json(&home.run(&["poll", "--json", &id]));
    let last = poll["last_message"].as_str().unwrap_or_default();
    assert!(last.starts_with("FINAL: not this file (is_error=true) | "), "{last}");
    let listed = json(&home.run(&["approve", &id, "--list", "--json"]));
    let by: Vec<&str> = listed.as_array().unwrap().iter().map(|row| row["answer"]["by"].as_str().unwrap()).collect();
    assert_eq!(by, ["dashboard", "dashboard"]);
    tmux.keys(&["q"]);
}
