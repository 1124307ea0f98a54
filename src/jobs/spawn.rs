//! Starting a job: checks the request, then hands it to a supervisor process and
//! returns as soon as the agent runs.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::{Deserialize, Serialize};

use super::agent::{AgentSpec, ApprovalPolicy, MAX_PROMPT_BYTES};
use super::error::{JobError, Result};
use super::view::StartView;

/// The hidden subcommand that runs a supervisor.
pub const SUPERVISE_COMMAND: &str = "__supervise";

/// What to run, as checked and sent to the supervisor on its stdin.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StartRequest {
    pub prompt: String,
    /// An absolute path to an existing folder.
    pub cwd: PathBuf,
    pub policy: ApprovalPolicy,
    pub agent: AgentSpec,
}

impl StartRequest {
    /// Checks a request from outside: a prompt the agent can receive as one argument,
    /// a cwd that is an existing folder (made absolute).
    pub fn new(prompt: impl Into<String>, cwd: &Path, policy: ApprovalPolicy, agent: AgentSpec) -> Result<Self> {
        let prompt = prompt.into();
        if prompt.trim().is_empty() {
            return Err(JobError::EmptyPrompt);
        }
        if prompt.len() > MAX_PROMPT_BYTES {
            return Err(JobError::PromptTooLong { len: prompt.len(), max: MAX_PROMPT_BYTES });
        }
        // An argument cannot carry a NUL byte; drop it rather than fail on an invisible character.
        let prompt = if prompt.contains('\0') { prompt.replace('\0', "") } else { prompt };
        let cwd = checked_cwd(cwd)?;
        Ok(StartRequest { prompt, cwd, policy, agent })
    }
}

fn checked_cwd(cwd: &Path) -> Result<PathBuf> {
    let expanded = expand_tilde(cwd);
    match std::fs::metadata(&expanded) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => return Err(JobError::CwdNotDir(cwd.to_owned())),
        Err(_) => return Err(JobError::CwdMissing(cwd.to_owned())),
    }
    std::fs::canonicalize(&expanded).map_err(|err| JobError::io("resolving", cwd, err))
}

/// `~` and `~/x` as a shell would read them: agents often send them verbatim.
fn expand_tilde(path: &Path) -> PathBuf {
    let Some(text) = path.to_str() else { return path.to_owned() };
    let home = std::env::var_os("HOME").filter(|home| !home.is_empty());
    match (text, home) {
        ("~", Some(home)) => PathBuf::from(home),
        (rest, Some(home)) if rest.starts_with("~/") => Path::new(&home).join(&rest[2..]),
        _ => path.to_owned(),
    }
}

/// Runs `launcher __supervise` (this binary) in the background with the request on
/// its stdin, and reads back one line: the job's start result.
pub fn launch(launcher: &Path, home: &Path, request: &StartRequest) -> Result<StartView> {
    let mut child = Command::new(launcher)
        .arg(SUPERVISE_COMMAND)
        .env("CODEX_ASYNC_HOME", home)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|err| JobError::Supervisor(format!("running {launcher:?}: {err}")))?;

    let payload = serde_json::to_vec(request).map_err(|err| JobError::Supervisor(err.to_string()))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(&payload).map_err(|err| JobError::Supervisor(format!("sending the request: {err}")))?;
    }
    let mut line = String::new();
    if let Some(stdout) = child.stdout.take() {
        BufReader::new(stdout).read_line(&mut line).map_err(|err| JobError::Supervisor(format!("reading its answer: {err}")))?;
    }
    // The supervisor lives on in its own session; a thread collects its exit status
    // so a long-lived starter (server, dashboard) leaves no zombie behind.
    std::thread::spawn(move || child.wait());

    let answer: SupervisorAnswer =
        serde_json::from_str(line.trim()).map_err(|_| JobError::Supervisor(format!("it ended without answering ({:?})", line.trim())))?;
    match answer {
        SupervisorAnswer::Started(view) => Ok(view),
        SupervisorAnswer::Failed { failed } => Err(JobError::Supervisor(failed)),
    }
}

/// The one line a supervisor writes back to its starter.
#[derive(Debug, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SupervisorAnswer {
    Started(StartView),
    Failed { failed: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent() -> AgentSpec {
        AgentSpec::Codex { program: "codex".into() }
    }

    #[test]
    fn rejects_bad_cwds_and_prompts() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file.txt");
        std::fs::write(&file, "x").unwrap();
        let policy = ApprovalPolicy::Suggest;
        assert!(matches!(StartRequest::new("p", &dir.path().join("nope"), policy, agent()), Err(JobError::CwdMissing(_))));
        assert!(matches!(StartRequest::new("p", &file, policy, agent()), Err(JobError::CwdNotDir(_))));
        assert!(matches!(StartRequest::new("  \n", dir.path(), policy, agent()), Err(JobError::EmptyPrompt)));
        let huge = "x".repeat(MAX_PROMPT_BYTES + 1);
        assert!(matches!(StartRequest::new(huge, dir.path(), policy, agent()), Err(JobError::PromptTooLong { .. })));
    }

    #[test]
    fn cwd_becomes_absolute_and_tilde_expands() {
        let dir = tempfile::tempdir().unwrap();
        let request = StartRequest::new("p", dir.path(), ApprovalPolicy::Suggest, agent()).unwrap();
        assert!(request.cwd.is_absolute());
        if let Some(home) = std::env::var_os("HOME") {
            assert_eq!(expand_tilde(Path::new("~")), PathBuf::from(&home));
            assert_eq!(expand_tilde(Path::new("~/x")), Path::new(&home).join("x"));
        }
    }
}
