//! The simulated agent of `--demo`: `codex-async demo-agent --scenario S …` prints what
//! `codex exec --json` prints — `thread.started`, reasoning, commands with their output,
//! file changes, the answer, `turn.completed` with token usage, or `turn.failed` — in
//! the recorded shapes (see `tests/fixtures/codex-events/`), so the dashboard shows what
//! a real job shows: live activity, tokens, a session that a follow-up resumes. In a
//! writable sandbox it really edits the demo's throwaway repository, so `D` has a diff.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use serde_json::{Value, json};

/// What the simulated agent is asked to do.
#[derive(Clone, Debug, Default)]
pub struct DemoAgentOptions {
    pub scenario: String,
    /// codex's sandbox names: `read-only`, `workspace-write`, `danger-full-access`.
    pub sandbox: String,
    /// Continue this session (a follow-up) instead of starting one.
    pub resume: Option<String>,
    /// Where to write the final message (codex's `-o`).
    pub output_last_message: Option<PathBuf>,
    pub prompt: Vec<String>,
}

/// One thing the agent does, printed as codex's events.
enum Step {
    Think(&'static str),
    /// A command, how long it takes, its exit code and output.
    Run(&'static str, u64, i64, &'static str),
    /// A file written (in a writable sandbox) with this content, appended or new.
    Edit(&'static str, &'static str),
    Pause(u64),
    /// The run fails with this message (`error`, then `turn.failed`).
    Fail(&'static str),
    Answer(&'static str),
}

/// Tokens a scenario reports: input, cached input, output, reasoning output.
type Tokens = (u64, u64, u64, u64);

fn script(scenario: &str, resuming: bool) -> (Vec<Step>, Tokens) {
    use Step::*;
    if resuming {
        return (
            vec![
                Think("**Re-reading what I changed**"),
                Run("git diff --stat", 40, 0, " src/cli.rs     | 12 ++++++++++++\n tests/list.rs  | 14 ++++++++++++++\n"),
                Pause(1500),
                Answer("One improvement: `list --json` could stream rows as JSON lines for very large homes."),
            ],
            (9_812, 6_144, 312, 128),
        );
    }
    match scenario {
        "quick" => (
            vec![
                Think("**Reading the entry point**"),
                Run("sed -n 1,40p src/main.rs", 38, 0, "fn main() {\n    let args = cli::parse();\n    cli::run(args);\n}\n"),
                Pause(1200),
                Answer("main.rs parses the command line and hands each verb to `cli::run`; all the work is in the library."),
            ],
            (4_210, 2_048, 187, 64),
        ),
        "fail" => (
            vec![
                Think("**Checking which crates depend on reqwest**"),
                Run("cargo tree -i reqwest", 812, 0, "reqwest v0.12.24\n└── my-app v0.1.0\n"),
                Think("**Bumping the version in Cargo.toml**"),
                Pause(1500),
                Run(
                    "cargo build",
                    2300,
                    101,
                    "error[E0599]: no method named `rustls_tls` found for struct `ClientBuilder`\n  --> src/http.rs:14:10\n",
                ),
                Fail("stream disconnected before completion: rate limit reached for gpt-5-codex; retry later"),
            ],
            (0, 0, 0, 0),
        ),
        "success" => (
            vec![
                Think("**Looking at how list renders its rows**"),
                Run("rg -n \"fn list\" src", 41, 0, "src/cli.rs:3:pub fn list(rows: &[Row]) -> String {\n"),
                Think("**Adding the flag and a JSON renderer**"),
                Pause(1500),
                Edit("src/cli.rs", LIST_JSON),
                Edit("tests/list.rs", LIST_TEST),
                Pause(1000),
                Run(
                    "cargo test --test list",
                    5210,
                    0,
                    "running 2 tests\ntest list_json_keeps_the_keys ... ok\ntest list_json_of_nothing ... ok\n\ntest result: ok. 2 passed; 0 failed\n",
                ),
                Run(
                    "cargo clippy --all-targets -- -D warnings",
                    3800,
                    0,
                    "Finished `dev` profile [unoptimized + debuginfo] target(s) in 3.71s\n",
                ),
                Think("**Writing the summary**"),
                Pause(1200),
                Answer("Added `--json` to `list` (one object per row, the table's keys); two new tests pass."),
            ],
            (18_204, 12_288, 1_406, 512),
        ),
        "cancelled" => (
            vec![
                Think("**Setting up a benchmark of the parser**"),
                Run("cargo bench --bench parse -- --save-baseline old", 30_000, 0, ""),
                Answer("The new parser is 1.8× faster."),
            ],
            (6_000, 0, 400, 100),
        ),
        _ => {
            // "long": keeps working for about ten minutes, to be watched or cancelled.
            let mut steps = Vec::new();
            for _ in 0..120 {
                steps.push(Think("**Migrating the next table to SQLite**"));
                steps.push(Pause(1200));
                steps.push(Run("sqlite3 app.db < migrations/next.sql", 600, 0, "ok\n"));
                steps.push(Run("cargo test --lib storage", 2500, 0, "test result: ok. 48 passed; 0 failed\n"));
            }
            steps.push(Answer("Storage migrated to SQLite."));
            (steps, (250_000, 180_000, 9_000, 4_000))
        }
    }
}

const LIST_JSON: &str = "
/// `list --json`: one object per row, with the table's keys.
pub fn list_json(rows: &[Row]) -> String {
    let objects: Vec<String> = rows
        .iter()
        .map(|row| format!(\"{{\\\"id\\\":\\\"{}\\\",\\\"status\\\":\\\"{}\\\"}}\", row.id, row.status))
        .collect();
    format!(\"[{}]\", objects.join(\",\"))
}
";

const LIST_TEST: &str = "use my_app::cli::{Row, list_json};

#[test]
fn list_json_keeps_the_keys() {
    let rows = [Row { id: \"a1\".into(), status: \"done\".into() }];
    assert_eq!(list_json(&rows), r#\"[{\"id\":\"a1\",\"status\":\"done\"}]\"#);
}

#[test]
fn list_json_of_nothing() {
    assert_eq!(list_json(&[]), \"[]\");
}
";

/// Prints codex's events, one line each, as they happen.
struct Events<W: Write> {
    out: W,
    next_item: u32,
    /// Take the scenario's time (the real agent); tests run it at once.
    paced: bool,
}

impl<W: Write> Events<W> {
    fn emit(&mut self, event: Value) {
        let _ = writeln!(self.out, "{event}");
        let _ = self.out.flush();
    }

    fn pause(&self, ms: u64) {
        if self.paced {
            std::thread::sleep(Duration::from_millis(ms));
        }
    }

    fn item(&mut self, phase: &str, item: Value) {
        let mut item = item;
        item["id"] = json!(format!("item_{}", self.next_item));
        self.emit(json!({"type": phase, "item": item}));
    }

    fn done(&mut self) {
        self.next_item += 1;
    }
}

/// Writes a file of the demo's repository, as codex's apply_patch would.
fn edit(cwd: &Path, path: &str, content: &str) -> &'static str {
    let target = cwd.join(path);
    let existed = target.exists();
    if let Some(folder) = target.parent() {
        let _ = std::fs::create_dir_all(folder);
    }
    let written = if existed {
        std::fs::OpenOptions::new().append(true).open(&target).and_then(|mut file| file.write_all(content.as_bytes()))
    } else {
        std::fs::write(&target, content)
    };
    if let Err(err) = written {
        tracing::debug!(%err, path, "the demo agent could not edit a file");
    }
    if existed { "update" } else { "add" }
}

pub fn agent_main(args: DemoAgentOptions) -> ExitCode {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let mut events = Events { out: std::io::stdout().lock(), next_item: 0, paced: true };
    let (answer, code) = run(&args, &cwd, &mut events);
    // codex writes the final answer without a newline, and an empty file on failure.
    if let Some(path) = &args.output_last_message {
        let _ = std::fs::write(path, answer.unwrap_or(""));
    }
    ExitCode::from(code)
}

/// Plays the scenario; the answer, if any, and the exit code.
fn run<W: Write>(args: &DemoAgentOptions, cwd: &Path, events: &mut Events<W>) -> (Option<&'static str>, u8) {
    let writable = args.sandbox != "read-only";
    let (steps, (input, cached, output, reasoning)) = script(&args.scenario, args.resume.is_some());
    let thread = args.resume.clone().unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    events.emit(json!({"type": "thread.started", "thread_id": thread}));
    events.emit(json!({"type": "turn.started"}));
    events.pause(400);
    let mut answer = None;
    for step in steps {
        match step {
            Step::Think(text) => {
                events.item("item.completed", json!({"type": "reasoning", "text": text}));
                events.done();
                events.pause(900);
            }
            Step::Run(command, took, code, printed) => {
                let shown = format!("/bin/bash -lc '{command}'");
                let running = json!({"type": "command_execution", "command": shown, "aggregated_output": "", "exit_code": null, "status": "in_progress"});
                events.item("item.started", running);
                events.pause(took);
                let status = if code == 0 { "completed" } else { "failed" };
                let ended = json!({"type": "command_execution", "command": shown, "aggregated_output": printed, "exit_code": code, "status": status});
                events.item("item.completed", ended);
                events.done();
            }
            Step::Edit(path, content) if writable => {
                events.item(
                    "item.started",
                    json!({"type": "file_change", "changes": [{"path": path, "kind": "update"}], "status": "in_progress"}),
                );
                events.pause(700);
                let kind = edit(cwd, path, content);
                events.item(
                    "item.completed",
                    json!({"type": "file_change", "changes": [{"path": path, "kind": kind}], "status": "completed"}),
                );
                events.done();
            }
            Step::Edit(path, _) => {
                let text = format!("**The sandbox is read-only: proposing the change to {path} instead of making it**");
                events.item("item.completed", json!({"type": "reasoning", "text": text}));
                events.done();
            }
            Step::Pause(ms) => events.pause(ms),
            Step::Fail(message) => {
                events.emit(json!({"type": "error", "message": message}));
                events.emit(json!({"type": "turn.failed", "error": {"message": message}}));
                return (None, 1);
            }
            Step::Answer(text) => {
                events.item("item.completed", json!({"type": "agent_message", "text": text}));
                events.done();
                answer = Some(text);
            }
        }
    }
    let usage = json!({"input_tokens": input, "cached_input_tokens": cached, "cache_write_input_tokens": 0,
        "output_tokens": output, "reasoning_output_tokens": reasoning});
    events.emit(json!({"type": "turn.completed", "usage": usage}));
    (answer, 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::agent::Stream;
    use crate::supervisor::events::{Observed, translate_all};

    fn duration(steps: &[Step]) -> u64 {
        steps
            .iter()
            .map(|step| match step {
                Step::Pause(ms) | Step::Run(_, ms, _, _) => *ms,
                Step::Think(_) => 900,
                _ => 0,
            })
            .sum()
    }

    #[test]
    fn every_scenario_has_the_promised_outcome() {
        let outcome = |scenario: &str, resuming| {
            let (steps, _) = script(scenario, resuming);
            let failed = steps.iter().any(|step| matches!(step, Step::Fail(_)));
            let answered = steps.iter().any(|step| matches!(step, Step::Answer(_)));
            let edits = steps.iter().filter(|step| matches!(step, Step::Edit(..))).count();
            (failed, answered, edits, duration(&steps))
        };
        assert!(matches!(outcome("quick", false), (false, true, 0, _)));
        assert!(matches!(outcome("fail", false), (true, false, 0, _)));
        assert!(matches!(outcome("success", false), (false, true, 2, _)), "success edits files for `D`");
        assert!(matches!(outcome("quick", true), (false, true, 0, _)), "a follow-up answers");
        assert!(outcome("cancelled", false).3 >= 30_000, "long enough to be cancelled by the demo");
        assert!(outcome("long", false).3 > 5 * 60 * 1000, "long enough to cancel by hand");
    }

    /// Plays a scenario at once into the codex reader the supervisor uses.
    fn played(scenario: &str, sandbox: &str, resume: Option<&str>, cwd: &Path) -> (String, Observed, u8) {
        let args = DemoAgentOptions {
            scenario: scenario.into(),
            sandbox: sandbox.into(),
            resume: resume.map(str::to_owned),
            ..Default::default()
        };
        let mut events = Events { out: Vec::new(), next_item: 0, paced: false };
        let (_, code) = run(&args, cwd, &mut events);
        let (transcript, seen) = translate_all(Stream::CodexJson, &events.out);
        (transcript, seen, code)
    }

    #[test]
    fn the_codex_reader_sees_sessions_activity_tokens_and_failures() {
        let repo = tempfile::tempdir().unwrap();
        let (transcript, seen, code) = played("success", "workspace-write", None, repo.path());
        assert_eq!(code, 0);
        assert!(seen.session_id.is_some_and(|id| uuid::Uuid::parse_str(&id).is_ok()), "a session a follow-up can resume");
        assert_eq!(seen.usage.map(|usage| usage.input_tokens), Some(18_204));
        assert!(transcript.contains("$ cargo test --test list") && transcript.contains("edited src/cli.rs"), "{transcript}");
        assert!(std::fs::read_to_string(repo.path().join("tests/list.rs")).unwrap().contains("list_json_keeps_the_keys"));

        let untouched = tempfile::tempdir().unwrap();
        let (transcript, _, _) = played("success", "read-only", None, untouched.path());
        assert!(!untouched.path().join("tests/list.rs").exists(), "a read-only sandbox edits nothing");
        assert!(transcript.contains("read-only"), "{transcript}");

        let (_, seen, code) = played("fail", "workspace-write", None, repo.path());
        assert_eq!(code, 1);
        assert!(seen.failure.is_some_and(|failure| failure.contains("rate limit")));

        let (_, seen, code) = played("quick", "read-only", Some("0b5d5ae0-68f7-4a4b-9c8e-5f1b2a3c4d5e"), repo.path());
        assert_eq!((code, seen.session_id.as_deref()), (0, Some("0b5d5ae0-68f7-4a4b-9c8e-5f1b2a3c4d5e")), "a follow-up keeps its session");
    }
}
