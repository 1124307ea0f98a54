//! `--demo`: the dashboard on a temporary home with simulated agent jobs, so a newcomer
//! sees what it does without an agent installed. The binary itself plays the agent (see
//! [`agent`]), speaking codex's `--json` events, so the screen shows what real jobs
//! show: live activity, tokens, a follow-up chain, a queue with a pending job, a diff
//! (`D`) in a throwaway git repository, a failed and a cancelled job.

mod agent;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use agent::{DemoAgentOptions, agent_main};

use crate::jobs::{Agents, ApprovalPolicy, Engine, FollowUp, JobLimits, JobStore, StartRequest, Status};

/// At most this many demo jobs run at once, so one waits in the queue.
const DEMO_MAX_RUNNING: usize = 3;

/// The demo's jobs, started in this order: scenario, policy and prompt.
pub const DEMO_JOBS: &[(&str, ApprovalPolicy, &str)] = &[
    ("quick", ApprovalPolicy::Suggest, "Explain what src/main.rs does, in three sentences"),
    ("success", ApprovalPolicy::AutoEdit, "Add a --json flag to the list command and cover it with tests"),
    ("long", ApprovalPolicy::FullAuto, "Move the storage layer onto SQLite (long: try cancelling it with c)"),
    ("fail", ApprovalPolicy::AutoEdit, "Upgrade reqwest to 0.13 and fix the build"),
    ("cancelled", ApprovalPolicy::Suggest, "Benchmark the new parser against the old one"),
];

/// The follow-up the demo asks of its first job once it has answered.
const DEMO_FOLLOW_UP: &str = "Suggest one improvement to what you just explained";

/// A temporary home for the demo — `home/` (its `CODEX_ASYNC_HOME`) and `project/` (a
/// git repository the jobs work in) — removed by [`DemoHome::finish`].
pub struct DemoHome {
    pub dir: PathBuf,
    pub project: PathBuf,
    pub engine: Engine,
}

impl DemoHome {
    pub fn create(engine: &Engine) -> std::io::Result<Self> {
        let unique = uuid::Uuid::new_v4().simple().to_string();
        let dir = std::env::temp_dir().join(format!("codex-async-demo-{}", &unique[..8]));
        let project = dir.join("project");
        std::fs::create_dir_all(project.join("src"))?;
        make_project(&project)?;
        let engine = Engine::new(JobStore::new(dir.join("home")), engine.launcher());
        Ok(DemoHome { dir, project, engine })
    }

    /// The agents of the demo: only the simulated one, whatever a form or a follow-up names.
    pub fn agents(&self) -> Agents {
        Agents::demo(self.engine.launcher().display().to_string())
    }

    /// Starts the simulated jobs one after another in the background, so they appear
    /// live; follows up the first once it has answered, and cancels the last once it runs.
    pub fn start_jobs(&self) {
        let engine = self.engine.clone();
        let agents = self.agents();
        let project = self.project.clone();
        std::thread::spawn(move || play(&engine, &agents, &project));
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

/// The demo's script: start every job (the fourth waits in the queue), follow up the
/// first when it ends, cancel the last a few seconds after it starts running.
fn play(engine: &Engine, agents: &Agents, project: &Path) {
    let limits = JobLimits { max_running: Some(DEMO_MAX_RUNNING), ..JobLimits::default() };
    let mut ids = Vec::new();
    for (scenario, policy, prompt) in DEMO_JOBS {
        let agent = crate::jobs::AgentSpec::Demo { program: engine.launcher().display().to_string(), scenario: (*scenario).to_owned() };
        match StartRequest::new(*prompt, project, *policy, agent).map(|request| request.with_limits(limits)).and_then(|r| engine.start(&r))
        {
            Ok(started) => ids.push(started.job_id),
            Err(err) => tracing::warn!(%err, "starting a demo job"),
        }
        std::thread::sleep(Duration::from_millis(600));
    }
    let Some(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build().ok() else { return };
    runtime.block_on(async {
        let follow_up = async {
            let Some(first) = ids.first() else { return };
            if engine.wait(first, Duration::from_secs(120), 0).await.is_ok_and(|view| view.poll.status == Status::Done) {
                let follow = FollowUp { prompt: DEMO_FOLLOW_UP.to_owned(), limits, ..FollowUp::default() };
                if let Err(err) = engine.follow_up(first, follow, agents).and_then(|follow_up| engine.start(&follow_up.request)) {
                    tracing::warn!(%err, "following up a demo job");
                }
            }
        };
        let cancel = async {
            let Some(last) = ids.last() else { return };
            for _ in 0..600 {
                if engine.poll(last, 0).is_ok_and(|view| view.status == Status::Running) {
                    tokio::time::sleep(Duration::from_secs(4)).await;
                    let _ = engine.cancel(last, Duration::from_secs(1)).await;
                    return;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        };
        tokio::join!(follow_up, cancel);
    });
}

/// A small project with one commit, for the jobs to read and edit.
fn make_project(project: &Path) -> std::io::Result<()> {
    let files = [
        ("Cargo.toml", "[package]\nname = \"my-app\"\nversion = \"0.1.0\"\nedition = \"2024\"\n"),
        ("src/main.rs", "fn main() {\n    let args = cli::parse();\n    cli::run(args);\n}\n"),
        (
            "src/cli.rs",
            "pub struct Row {\n    pub id: String,\n    pub status: String,\n}\n\npub fn list(rows: &[Row]) -> String {\n    \
             rows.iter().map(|row| format!(\"{} {}\\n\", row.id, row.status)).collect()\n}\n",
        ),
        ("README.md", "# my-app\n\nA small command-line tool.\n"),
    ];
    for (path, content) in files {
        std::fs::write(project.join(path), content)?;
    }
    // Without git the demo still runs; `D` then says the folder is not a repository.
    let project = project.to_owned();
    let made = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
        let first = crate::jobs::init_repository(&project, "Initial commit", "codex-async demo", "demo@localhost");
        runtime.block_on(first).map_err(|err| tracing::warn!(%err, "the demo project is not a git repository")).ok()
    })
    .join();
    if !matches!(made, Ok(Some(_))) {
        tracing::info!("the demo runs without a git repository");
    }
    Ok(())
}
