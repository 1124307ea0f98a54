//! `--demo`: the dashboard on a temporary jobs folder with simulated agent jobs, so a
//! newcomer sees it live without codex installed. The binary itself plays the agent
//! (`codex-async demo-agent --scenario S -o FILE -- PROMPT`), printing codex-like
//! coloured progress: one job succeeds, one fails, one runs long enough to cancel.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use crate::jobs::{AgentSpec, ApprovalPolicy, Engine, JobStore, StartRequest};

/// The demo's jobs: scenario, policy and prompt.
pub const DEMO_JOBS: &[(&str, ApprovalPolicy, &str)] = &[
    ("quick", ApprovalPolicy::Suggest, "Explain what src/main.rs does, in three sentences"),
    ("fail", ApprovalPolicy::AutoEdit, "Upgrade reqwest to 0.13 and fix the build"),
    ("success", ApprovalPolicy::AutoEdit, "Add a --json flag to the list command and cover it with tests"),
    ("long", ApprovalPolicy::FullAuto, "Refactor the storage layer onto SQLite (long: try cancelling it with c)"),
];

/// A temporary `CODEX_ASYNC_HOME` for the demo, removed by [`DemoHome::finish`].
pub struct DemoHome {
    pub dir: PathBuf,
    pub engine: Engine,
}

impl DemoHome {
    pub fn create(engine: &Engine) -> std::io::Result<Self> {
        let unique = uuid::Uuid::new_v4().simple().to_string();
        let dir = std::env::temp_dir().join(format!("codex-async-demo-{}", &unique[..8]));
        std::fs::create_dir_all(&dir)?;
        let engine = Engine::new(JobStore::new(&dir), engine.launcher());
        Ok(DemoHome { dir, engine })
    }

    /// Starts the simulated jobs one after another in the background, so they
    /// appear live.
    pub fn start_jobs(&self) {
        let engine = self.engine.clone();
        let cwd = std::env::current_dir().unwrap_or_else(|_| std::env::temp_dir());
        std::thread::spawn(move || {
            for (scenario, policy, prompt) in DEMO_JOBS {
                let agent = AgentSpec::Demo { program: engine.launcher().display().to_string(), scenario: (*scenario).to_owned() };
                match StartRequest::new(*prompt, &cwd, *policy, agent).and_then(|request| engine.start(&request)) {
                    Ok(_) => {}
                    Err(err) => tracing::warn!(%err, "starting a demo job"),
                }
                std::thread::sleep(Duration::from_millis(700));
            }
        });
    }

    /// Stops the simulated jobs still running and removes the folder; returns how
    /// many were stopped.
    pub async fn finish(self) -> usize {
        let running = self.engine.running_ids().unwrap_or_default();
        let grace = Duration::from_secs(1);
        let cancels = running.iter().map(|id| self.engine.cancel(id, grace));
        let stopped = futures::future::join_all(cancels).await.into_iter().filter(Result::is_ok).count();
        if let Err(err) = std::fs::remove_dir_all(&self.dir) {
            tracing::warn!(%err, dir = %self.dir.display(), "removing the demo folder");
        }
        stopped
    }
}

const RESET: &str = "\x1b[0m";
const BOLD: &str = "\x1b[1m";
const DIM: &str = "\x1b[2m";
const ITALIC_MAGENTA: &str = "\x1b[3;35m";
const MAGENTA: &str = "\x1b[1;35m";
const GREEN: &str = "\x1b[32m";
const RED: &str = "\x1b[31m";
const CYAN: &str = "\x1b[36m";
const YELLOW: &str = "\x1b[33m";

enum Step {
    /// A transcript line (stderr, as codex prints it).
    Say(String),
    Pause(u64),
    /// A `\r` progress bar over this many milliseconds.
    Progress(&'static str, u64),
}

fn say(text: impl Into<String>) -> Step {
    Step::Say(text.into())
}

fn command(cmd: &str, cwd: &str, took_ms: u64, ok: bool, output: &[&str]) -> Vec<Step> {
    let mut steps = vec![
        say(format!("{MAGENTA}exec{RESET}")),
        say(format!("{BOLD}bash -lc '{cmd}'{RESET} in {cwd}")),
        Step::Pause(took_ms),
        if ok { say(format!("{GREEN}succeeded in {took_ms}ms:{RESET}")) } else { say(format!("{RED}exited 101 in {took_ms}ms:{RESET}")) },
    ];
    steps.extend(output.iter().map(|line| say(format!("{DIM}{line}{RESET}"))));
    steps
}

fn thinking(text: &str, ms: u64) -> Vec<Step> {
    vec![say(format!("{ITALIC_MAGENTA}thinking{RESET}")), say(format!("{BOLD}**{text}**{RESET}")), Step::Pause(ms)]
}

fn script(scenario: &str, cwd: &str) -> (Vec<Step>, Option<&'static str>, u8) {
    let mut steps = Vec::new();
    match scenario {
        "quick" => {
            steps.extend(thinking("Reading the entry point", 900));
            steps.extend(command(
                "sed -n 1,80p src/main.rs",
                cwd,
                38,
                true,
                &["use std::process::ExitCode;", "", "fn main() -> ExitCode {"],
            ));
            steps.push(Step::Pause(1200));
            let answer = "main.rs parses the command line and hands each subcommand to the library: the dashboard when none is given.";
            (steps, Some(answer), 0)
        }
        "fail" => {
            steps.extend(thinking("Checking which crates depend on reqwest", 1500));
            steps.extend(command("cargo tree -i reqwest", cwd, 812, true, &["reqwest v0.12.24", "└── codex-async v0.1.0"]));
            steps.extend(thinking("Bumping the version in Cargo.toml", 1800));
            steps.push(say(format!("{MAGENTA}apply_patch{RESET} {CYAN}M Cargo.toml{RESET}")));
            steps.push(Step::Progress("Compiling", 4000));
            steps.extend(command(
                "cargo build",
                cwd,
                2300,
                false,
                &["error[E0599]: no method named `rustls_tls` found for struct `ClientBuilder`", "  --> src/http.rs:14:10"],
            ));
            steps.push(say(format!("{RED}ERROR:{RESET} stream disconnected before completion: rate limit reached; retry later")));
            (steps, None, 1)
        }
        "success" => {
            steps.extend(thinking("Looking at how list renders its rows", 2000));
            steps.extend(command(
                "rg -n \"fn list\" src",
                cwd,
                41,
                true,
                &["src/cli/mod.rs:201:pub fn list(engine: &Engine, args: ListArgs)"],
            ));
            steps.extend(thinking("Adding the flag and a JSON renderer", 2500));
            steps.push(say(format!("{MAGENTA}apply_patch{RESET} {CYAN}M src/cli/mod.rs{RESET} {GREEN}+24{RESET} {RED}-3{RESET}")));
            steps.push(Step::Pause(1500));
            steps.push(Step::Progress("Running tests", 9000));
            steps.extend(command(
                "cargo test --test cli list",
                cwd,
                5210,
                true,
                &["running 4 tests", "test list_json_has_the_original_keys ... ok", "test result: ok. 4 passed; 0 failed"],
            ));
            steps.extend(command(
                "cargo clippy --all-targets -- -D warnings",
                cwd,
                3800,
                true,
                &["Finished `dev` profile [unoptimized + debuginfo] target(s) in 3.71s"],
            ));
            steps.extend(thinking("Writing the summary", 2500));
            let answer = "Added `--json` to `list`; rows keep the original keys. 4 new tests pass.";
            (steps, Some(answer), 0)
        }
        _ => {
            // "long": keeps working until cancelled (about ten minutes at most).
            for round in 1..=120 {
                steps.extend(thinking(&format!("Migrating table {round} of 120"), 1500));
                steps.extend(command(&format!("sqlite3 jobs.db < migrations/{round:03}.sql"), cwd, 600, true, &[]));
                steps.push(Step::Progress("Copying rows", 2500));
            }
            (steps, Some("Storage migrated."), 0)
        }
    }
}

/// The simulated agent.
/// What the simulated agent is asked to do.
#[derive(Clone, Debug, Default)]
pub struct DemoAgentOptions {
    pub scenario: String,
    /// Where to write the final message (codex's `-o`).
    pub output_last_message: Option<PathBuf>,
    pub prompt: Vec<String>,
}

pub fn agent_main(args: DemoAgentOptions) -> ExitCode {
    let cwd = std::env::current_dir().map(|dir| dir.display().to_string()).unwrap_or_default();
    let prompt = args.prompt.join(" ");
    let (steps, answer, exit) = script(&args.scenario, &cwd);
    let mut err = std::io::stderr().lock();
    let header = [
        format!("{BOLD}OpenAI Codex v0.169.0 (research preview){RESET} {DIM}— simulated by codex-async --demo{RESET}"),
        "--------".to_owned(),
        format!("{BOLD}workdir:{RESET} {cwd}"),
        format!("{BOLD}model:{RESET} gpt-5-codex"),
        format!("{BOLD}sandbox:{RESET} workspace-write"),
        "--------".to_owned(),
        format!("{CYAN}user{RESET}"),
        prompt,
        String::new(),
    ];
    for line in header {
        let _ = writeln!(err, "{line}");
    }
    for step in steps {
        match step {
            Step::Say(line) => {
                let _ = writeln!(err, "{line}");
            }
            Step::Pause(ms) => std::thread::sleep(Duration::from_millis(ms)),
            Step::Progress(label, ms) => {
                const WIDTH: u64 = 24;
                for done in 0..=WIDTH {
                    let bar: String = (0..WIDTH).map(|at| if at < done { '█' } else { '░' }).collect();
                    let _ = write!(err, "\r{YELLOW}{label}{RESET} ▕{bar}▏ {:>3}%", done * 100 / WIDTH);
                    let _ = err.flush();
                    std::thread::sleep(Duration::from_millis(ms / WIDTH));
                }
                let _ = writeln!(err);
            }
        }
    }
    if let Some(answer) = answer {
        let _ = writeln!(err, "{MAGENTA}codex{RESET}");
        println!("{answer}");
        let _ = writeln!(err, "{DIM}tokens used: 18,204{RESET}");
    }
    if let Some(path) = &args.output_last_message {
        // codex writes the final answer without a newline, and an empty file on failure.
        let _ = std::fs::write(path, answer.unwrap_or(""));
    }
    ExitCode::from(exit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scenario_has_a_script_with_the_promised_outcome() {
        let (_, answer, exit) = script("success", "/w");
        assert_eq!((answer.is_some(), exit), (true, 0));
        let (_, answer, exit) = script("fail", "/w");
        assert_eq!((answer.is_none(), exit), (true, 1));
        let (steps, _, _) = script("long", "/w");
        let long_ms: u64 = steps
            .iter()
            .map(|step| match step {
                Step::Pause(ms) | Step::Progress(_, ms) => *ms,
                Step::Say(_) => 0,
            })
            .sum();
        assert!(long_ms > 5 * 60 * 1000, "long enough to cancel: {long_ms} ms");
        let (steps, _, _) = script("success", "/w");
        assert!(steps.iter().any(|step| matches!(step, Step::Say(line) if line.contains("\x1b["))), "coloured");
    }
}
