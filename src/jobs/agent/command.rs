//! The exact command line of a job's agent: the prompt and every option one argument
//! each, never through a shell.

use std::ffi::OsString;
use std::path::Path;

use super::AgentSpec;
use super::options::AgentOptions;
use super::policy::ApprovalPolicy;
use super::session::SessionId;

/// Everything that shapes one run of an agent.
pub struct Invocation<'a> {
    pub policy: ApprovalPolicy,
    pub prompt: &'a str,
    /// Give the prompt on stdin (from a file), not as an argument.
    pub prompt_on_stdin: bool,
    pub last_message: &'a Path,
    pub cwd: &'a Path,
    pub options: &'a AgentOptions,
    /// Continue this session instead of starting one.
    pub resume: Option<&'a SessionId>,
    /// The MCP configuration naming the job's approval endpoint (`ask` only).
    pub approval_config: &'a Path,
}

/// The MCP server name of a job's approval endpoint, and the prompt tool Claude Code is
/// told to call (`mcp__<server>__<tool>`).
pub const APPROVAL_SERVER: &str = "codex-async-approvals";
pub const APPROVAL_TOOL: &str = "approve";

/// The command line and environment a job's agent runs with.
#[derive(Clone, Debug, PartialEq)]
pub struct AgentCommand {
    pub argv: Vec<OsString>,
    /// Added to the agent's environment.
    pub env: Vec<(String, String)>,
}

/// A template with its placeholders replaced in one pass: a value that itself looks
/// like a placeholder (a prompt saying `{cwd}`) is left as it is.
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut filled = String::with_capacity(template.len());
    let mut rest = template;
    while !rest.is_empty() {
        match values.iter().find(|(key, _)| rest.starts_with(key)) {
            Some((key, value)) => {
                filled.push_str(value);
                rest = &rest[key.len()..];
            }
            None => {
                let step = rest.chars().next().map_or(1, char::len_utf8);
                filled.push_str(&rest[..step]);
                rest = &rest[step..];
            }
        }
    }
    filled
}

impl AgentSpec {
    /// The full command line. The prompt is one argument after `--` (or in
    /// `--prompt=`, for Gemini, which drops what follows `--`), or on stdin.
    pub fn command(&self, run: &Invocation<'_>) -> AgentCommand {
        let mut argv: Vec<OsString> = vec![self.program().into()];
        let mut env = Vec::new();
        let options = run.options;
        match self {
            AgentSpec::Codex { .. } => {
                argv.push("exec".into());
                argv.extend(run.policy.codex_flags().iter().map(OsString::from));
                // `resume` takes neither a sandbox nor a profile: they stay before it.
                if let Some(profile) = &options.profile {
                    argv.extend(["-p".into(), profile.into()]);
                }
                if run.resume.is_some() {
                    argv.push("resume".into());
                }
                argv.extend(["--json", "-o"].map(OsString::from));
                argv.push(run.last_message.into());
                if let Some(model) = &options.model {
                    argv.extend(["-m".into(), model.into()]);
                }
                for entry in &options.config {
                    argv.extend(["-c".into(), entry.into()]);
                }
                // `exec resume` takes it as a positional argument; a session id is a UUID,
                // so it can never read as an option.
                if let Some(session) = run.resume {
                    argv.push(session.as_str().into());
                }
                if run.prompt_on_stdin {
                    argv.push("-".into());
                } else {
                    argv.push("--".into());
                    argv.push(run.prompt.into());
                }
            }
            AgentSpec::Claude { .. } => {
                argv.extend(["-p", "--output-format", "stream-json", "--verbose"].map(OsString::from));
                argv.extend(run.policy.claude_flags().iter().map(OsString::from));
                if run.policy == ApprovalPolicy::Ask {
                    argv.push("--mcp-config".into());
                    argv.push(run.approval_config.into());
                    argv.push("--permission-prompt-tool".into());
                    argv.push(format!("mcp__{APPROVAL_SERVER}__{APPROVAL_TOOL}").into());
                }
                if run.policy == ApprovalPolicy::FullAuto && nix::unistd::geteuid().is_root() {
                    // Claude Code refuses to skip permissions as root unless told it is sandboxed.
                    env.push(("IS_SANDBOX".to_owned(), "1".to_owned()));
                }
                if let Some(model) = &options.model {
                    argv.extend(["--model".into(), model.into()]);
                }
                // One argument: Commander takes `--resume=ID` whole, whatever ID looks like.
                if let Some(session) = run.resume {
                    argv.push(format!("--resume={session}").into());
                }
                if !run.prompt_on_stdin {
                    argv.push("--".into());
                    // A leading `/` would run a slash command instead of asking the model.
                    let prompt = if run.prompt.starts_with('/') { format!(" {}", run.prompt) } else { run.prompt.to_owned() };
                    argv.push(prompt.into());
                }
            }
            AgentSpec::Gemini { .. } => {
                env.push(("GEMINI_CLI_NO_RELAUNCH".to_owned(), "1".to_owned()));
                argv.extend(
                    ["--skip-trust", "--approval-mode", run.policy.gemini_mode(), "--output-format", "stream-json"].map(OsString::from),
                );
                if let Some(model) = &options.model {
                    argv.extend(["-m".into(), model.into()]);
                }
                // One argument, as the prompt is (yargs reads `--resume=ID` whole).
                if let Some(session) = run.resume {
                    argv.push(format!("--resume={session}").into());
                }
                if !run.prompt_on_stdin {
                    argv.push(format!("--prompt={}", run.prompt).into());
                }
            }
            AgentSpec::Custom { command, .. } => {
                let cwd = run.cwd.to_string_lossy();
                let last_message = run.last_message.to_string_lossy();
                let values = [("{prompt}", run.prompt), ("{cwd}", cwd.as_ref()), ("{last_message_file}", last_message.as_ref())];
                argv = command.iter().map(|part| fill(part, &values).into()).collect();
            }
            AgentSpec::Demo { scenario, .. } => {
                argv.extend(["demo-agent", "--scenario"].map(OsString::from));
                argv.push(scenario.into());
                // codex's sandbox for the policy: the simulated agent edits only where it may.
                let sandbox = run.policy.codex_flags().get(1).copied().unwrap_or("danger-full-access");
                argv.push(format!("--sandbox={sandbox}").into());
                if let Some(session) = run.resume {
                    argv.push(format!("--resume={session}").into());
                }
                argv.push("-o".into());
                argv.push(run.last_message.into());
                argv.push("--".into());
                argv.push(run.prompt.into());
            }
        }
        AgentCommand { argv, env }
    }
}
