//! The `ask` policy end to end with the real Claude Code CLI (against a loopback mock
//! of the model API that asks for Bash tool calls): its permission prompts reach the
//! job's approval endpoint, wait as files in the job's folder, and are answered from the
//! command line — allow, deny with a message the model reads, allow for the rest of the
//! job, nobody in time, two answers at once, a cancel while waiting.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::Output;
use std::time::Duration;

use crate::support::{TestHome, finished, json, wait_until};
use serde_json::Value;

#[path = "../support/claude_mock.rs"]
mod claude_mock;
use claude_mock::{MockModel, ToolCall, real_claude};

const DEADLINE: Duration = Duration::from_secs(60);

/// A home, a project and a user home for one Claude Code job against its own mock model.
struct ClaudeJob {
    home: TestHome,
    project: tempfile::TempDir,
    user_home: tempfile::TempDir,
    mock: MockModel,
    claude: PathBuf,
}

impl ClaudeJob {
    fn new(claude: PathBuf, calls: Vec<ToolCall>) -> Self {
        ClaudeJob {
            home: TestHome::new(),
            project: tempfile::tempdir().unwrap(),
            user_home: tempfile::tempdir().unwrap(),
            mock: MockModel::start(calls),
            claude,
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        self.home.command().envs(self.mock.env(&self.claude, self.user_home.path())).args(args).output().unwrap()
    }

    fn start(&self) -> String {
        let cwd = self.project.path().to_str().unwrap();
        let output = self.run(&["start", "--json", "--agent", "claude", "-a", "ask", "--cwd", cwd, "--", "do the task"]);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        json(&output)["job_id"].as_str().unwrap().to_owned()
    }

    fn poll(&self, id: &str) -> Value {
        json(&self.run(&["poll", "--json", id]))
    }

    /// Waits until the job waits on request `number`; its poll view.
    fn asking(&self, id: &str, number: u64) -> Value {
        let mut view = Value::Null;
        wait_until(&format!("job {id} to ask for approval #{number}"), DEADLINE, || {
            view = self.poll(id);
            view["approval"]["number"] == number || matches!(view["status"].as_str(), Some("done" | "error" | "cancelled"))
        });
        assert_eq!(view["approval"]["number"], number, "{view}");
        view
    }

    fn finished(&self, id: &str) -> Value {
        wait_until(&format!("job {id} to end"), DEADLINE, || matches!(self.home.status(id).as_str(), "done" | "error" | "cancelled"));
        self.poll(id)
    }
}

#[test]
fn allow_deny_and_always_from_the_cli_with_the_real_claude_code() {
    let Some(claude) = real_claude() else { return };
    let job = ClaudeJob::new(
        claude,
        vec![ToolCall::bash("touch first.txt"), ToolCall::bash("touch second.txt"), ToolCall::bash("touch third.txt")],
    );
    let id = job.start();
    let argv: Vec<String> = serde_json::from_value(job.home.meta(&id)["command"].clone()).unwrap();
    assert!(argv.windows(2).any(|pair| pair == ["--permission-prompt-tool", "mcp__codex-async-approvals__approve"]), "{argv:?}");

    // The first request: recorded with what Claude Code sent, shown by poll and list.
    let view = job.asking(&id, 1);
    assert_eq!(view["status"], "running");
    assert_eq!(view["activity"], "waiting for approval: Bash: touch first.txt");
    assert_eq!(
        (view["approval"]["tool_name"].clone(), view["approval"]["input"]["command"].clone()),
        ("Bash".into(), "touch first.txt".into())
    );
    assert_eq!(view["approval"]["tool_use_id"], "toolu_mock_1", "Claude Code's id of the tool call");
    let request: Value = serde_json::from_slice(&std::fs::read(job.home.job_dir(&id).join("approval-1.json")).unwrap()).unwrap();
    assert_eq!(request["number"], 1);
    let listed = json(&job.run(&["list", "--json"]));
    assert_eq!(listed[0]["activity"], "waiting for approval: Bash: touch first.txt", "{listed}");

    // Denied, with a message the model reads; the command never runs.
    let denied = job.run(&["approve", &id, "--deny", "--message", "not that file"]);
    assert!(denied.status.success(), "{}", String::from_utf8_lossy(&denied.stderr));
    assert!(String::from_utf8_lossy(&denied.stdout).contains("denied #1 Bash: touch first.txt"));

    // Allowed for the rest of the job: the second runs, the third is not even asked.
    job.asking(&id, 2);
    let always = job.run(&["approve", &id, "--always"]);
    assert!(always.status.success(), "{}", String::from_utf8_lossy(&always.stderr));
    let end = job.finished(&id);
    assert_eq!(end["status"], "done", "{end}");
    assert!(!job.project.path().join("first.txt").exists(), "a denied command does not run");
    assert!(job.project.path().join("second.txt").exists() && job.project.path().join("third.txt").exists());
    let last = end["last_message"].as_str().unwrap();
    assert!(last.starts_with("FINAL: not that file (is_error=true) | "), "the model was told why: {last}");
    assert!(end.get("approval").is_none(), "nothing waits once the job ended: {end}");

    let requests = json(&job.run(&["approve", &id, "--list", "--json"]));
    let by: Vec<&str> = requests.as_array().unwrap().iter().map(|row| row["answer"]["by"].as_str().unwrap()).collect();
    assert_eq!(by, ["cli", "cli", "always"]);
    assert_eq!(requests[0]["answer"]["decision"], "deny");
    assert_eq!(requests[1]["answer"]["always"], true);
    // A finished job has nothing to answer.
    let late = job.run(&["approve", &id]);
    assert_eq!(late.status.code(), Some(2), "{}", String::from_utf8_lossy(&late.stderr));
}

#[test]
fn an_unanswered_request_is_denied_after_the_approval_timeout() {
    let Some(claude) = real_claude() else { return };
    let job = ClaudeJob::new(claude, vec![ToolCall::bash("touch late.txt")]);
    std::fs::write(job.home.path().join("config.toml"), "approval_timeout = \"2s\"\n").unwrap();
    let id = job.start();
    let end = job.finished(&id);
    assert_eq!(end["status"], "done", "{end}");
    assert!(!job.project.path().join("late.txt").exists());
    let last = end["last_message"].as_str().unwrap();
    assert!(last.contains("Nobody answered the approval request in time") && last.contains("is_error=true"), "{last}");
    let answer: Value = serde_json::from_slice(&std::fs::read(job.home.job_dir(&id).join("approval-1.answer.json")).unwrap()).unwrap();
    assert_eq!((answer["decision"].as_str(), answer["by"].as_str()), (Some("deny"), Some("timeout")));
}

#[test]
fn two_answers_at_once_one_wins_and_the_other_is_told() {
    let Some(claude) = real_claude() else { return };
    let job = ClaudeJob::new(claude, vec![ToolCall::bash("touch raced.txt")]);
    let id = job.start();
    job.asking(&id, 1);
    let answer = |deny: bool| {
        let mut command = job.home.command();
        command.args(["approve", &id]);
        if deny {
            command.arg("--deny");
        }
        command.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap()
    };
    let (first, second) = (answer(false), answer(true));
    let outputs = [first.wait_with_output().unwrap(), second.wait_with_output().unwrap()];
    let winners = outputs.iter().filter(|output| output.status.success()).count();
    assert_eq!(winners, 1, "exactly one answer counts");
    let loser = outputs.iter().find(|output| !output.status.success()).unwrap();
    assert!(String::from_utf8_lossy(&loser.stderr).contains("was already answered"), "{}", String::from_utf8_lossy(&loser.stderr));
    let recorded: Value = serde_json::from_slice(&std::fs::read(job.home.job_dir(&id).join("approval-1.answer.json")).unwrap()).unwrap();
    let end = job.finished(&id);
    assert_eq!(job.project.path().join("raced.txt").exists(), recorded["decision"] == "allow", "what ran is what the winner said: {end}");
}

#[test]
fn cancel_while_waiting_for_approval_stops_everything() {
    let Some(claude) = real_claude() else { return };
    let job = ClaudeJob::new(claude, vec![ToolCall::bash("touch never.txt")]);
    let id = job.start();
    job.asking(&id, 1);
    let cancelled = job.run(&["cancel", &id]);
    assert!(cancelled.status.success(), "{}", String::from_utf8_lossy(&cancelled.stderr));
    // Claude Code answers SIGINT by ending its turn (the pending prompt "aborted") and
    // exits 0 with an error result, which stands as the job's result.
    let end = finished(&job.home, &id);
    assert!(matches!(end["status"].as_str(), Some("cancelled" | "error")), "{end}");
    job.home.wait_for_supervisor_exit(&id);
    // The endpoint, stopped with its job, recorded why the request went unanswered.
    let answer: Value = serde_json::from_slice(&std::fs::read(job.home.job_dir(&id).join("approval-1.answer.json")).unwrap()).unwrap();
    assert_eq!((answer["decision"].as_str(), answer["by"].as_str()), (Some("deny"), Some("cancel")));
    assert!(job.home.job_processes(&id).is_empty(), "the agent and its approval endpoint are gone");
    assert!(!job.project.path().join("never.txt").exists());
    let late = job.run(&["approve", &id]);
    assert!(String::from_utf8_lossy(&late.stderr).contains("nothing of it waits for approval"), "{late:?}");
}

/// Only Claude Code can ask; the others are refused with why; the ceiling puts `ask`
/// between suggest and auto-edit.
#[test]
fn ask_is_claude_only_and_sits_below_auto_edit_under_the_ceiling() {
    let home = TestHome::new();
    let cwd = home.path().to_str().unwrap();
    for agent in ["codex", "gemini"] {
        let refused = home.run(&["start", "--agent", agent, "-a", "ask", "--cwd", cwd, "--", "x"]);
        assert_eq!(refused.status.code(), Some(2));
        let message = String::from_utf8_lossy(&refused.stderr);
        assert!(message.contains("works with the claude agent only"), "{agent}: {message}");
    }
    let project = tempfile::tempdir().unwrap();
    let project = project.path().to_str().unwrap();
    std::fs::write(home.path().join("config.toml"), "max_policy = \"ask\"\n").unwrap();
    let start = |policy: &str| {
        home.command()
            .env("CLAUDE_BIN", crate::support::fake_agent())
            .args(["start", "--agent", "claude", "-a", policy, "--cwd", project, "--", "say:hi"])
            .output()
            .unwrap()
    };
    assert!(start("ask").status.success(), "ask is within a ceiling of ask");
    let above = start("auto-edit");
    assert_eq!(above.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&above.stderr).contains("refused under the policy ceiling 'ask'"));
    std::fs::write(home.path().join("config.toml"), "max_policy = \"suggest\"\n").unwrap();
    assert!(String::from_utf8_lossy(&start("ask").stderr).contains("refused under the policy ceiling 'suggest'"));
}
