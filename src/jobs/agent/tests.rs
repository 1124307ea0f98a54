use std::path::{Path, PathBuf};

use super::command::Invocation;
use super::session::SessionId;
use super::*;

/// Session ids as the agents give them (UUIDs).
const THREAD: &str = "01a200e4-ffa2-79d1-a693-7d6df5f8f223";

fn argv(agent: &AgentSpec, policy: ApprovalPolicy, options: &AgentOptions, resume: Option<&str>, stdin: bool) -> Vec<String> {
    let last = PathBuf::from("/j/last_message.txt");
    let session = resume.map(|id| SessionId::parse(id).unwrap());
    let run = Invocation {
        policy,
        prompt: "--help me",
        prompt_on_stdin: stdin,
        last_message: &last,
        cwd: Path::new("/work"),
        options,
        resume: session.as_ref(),
        approval_config: Path::new("/jobs/j1/approvals-mcp.json"),
    };
    agent.command(&run).argv.into_iter().map(|arg| arg.into_string().unwrap()).collect()
}

fn plain(agent: &AgentSpec, policy: ApprovalPolicy) -> Vec<String> {
    argv(agent, policy, &AgentOptions::default(), None, false)
}

fn codex() -> AgentSpec {
    AgentSpec::Codex { program: "codex".into() }
}

fn claude() -> AgentSpec {
    AgentSpec::Claude { program: "claude".into() }
}

fn gemini() -> AgentSpec {
    AgentSpec::Gemini { program: "gemini".into() }
}

#[test]
fn codex_runs_exec_json_with_the_policy_as_its_sandbox() {
    let tail = ["--json", "-o", "/j/last_message.txt", "--", "--help me"];
    let with = |flags: &[&str]| ["codex", "exec"].iter().chain(flags).chain(&tail).map(|arg| (*arg).to_owned()).collect::<Vec<_>>();
    assert_eq!(plain(&codex(), ApprovalPolicy::Suggest), with(&["-s", "read-only"]));
    assert_eq!(plain(&codex(), ApprovalPolicy::AutoEdit), with(&["-s", "workspace-write"]));
    assert_eq!(plain(&codex(), ApprovalPolicy::FullAuto), with(&["--dangerously-bypass-approvals-and-sandbox"]));
    for policy in ApprovalPolicy::ALL {
        assert!(!plain(&codex(), policy).iter().any(|arg| arg == "--full-auto"), "codex 0.169 rejects --full-auto");
    }
}

#[test]
fn codex_resumes_with_the_sandbox_and_profile_before_resume_and_its_options_after() {
    // As codex 0.169 parses it: `exec resume -p …` is a usage error (exit 2).
    let options =
        AgentOptions { model: Some("gpt-x".into()), profile: Some("work".into()), config: vec!["model_reasoning_effort=high".into()] };
    assert_eq!(
        argv(&codex(), ApprovalPolicy::AutoEdit, &options, Some(THREAD), false),
        [
            "codex",
            "exec",
            "-s",
            "workspace-write",
            "-p",
            "work",
            "resume",
            "--json",
            "-o",
            "/j/last_message.txt",
            "-m",
            "gpt-x",
            "-c",
            "model_reasoning_effort=high",
            THREAD,
            "--",
            "--help me"
        ]
    );
    assert_eq!(
        argv(&codex(), ApprovalPolicy::Suggest, &options, None, false),
        [
            "codex",
            "exec",
            "-s",
            "read-only",
            "-p",
            "work",
            "--json",
            "-o",
            "/j/last_message.txt",
            "-m",
            "gpt-x",
            "-c",
            "model_reasoning_effort=high",
            "--",
            "--help me"
        ]
    );
    // A big prompt comes on stdin: `-` in its place.
    assert_eq!(argv(&codex(), ApprovalPolicy::Suggest, &AgentOptions::default(), None, true).last().unwrap(), "-");
}

#[test]
fn claude_maps_policies_to_its_permission_modes() {
    let head = ["claude", "-p", "--output-format", "stream-json", "--verbose"];
    let with = |flags: &[&str]| head.iter().chain(flags).chain(&["--", "--help me"]).map(|arg| (*arg).to_owned()).collect::<Vec<_>>();
    assert_eq!(
        plain(&claude(), ApprovalPolicy::Suggest),
        with(&["--permission-mode", "dontAsk", "--disallowedTools", "Edit,Write,NotebookEdit"])
    );
    assert_eq!(plain(&claude(), ApprovalPolicy::AutoEdit), with(&["--permission-mode", "acceptEdits"]));
    assert_eq!(plain(&claude(), ApprovalPolicy::FullAuto), with(&["--dangerously-skip-permissions"]));
    let resumed =
        argv(&claude(), ApprovalPolicy::AutoEdit, &AgentOptions { model: Some("opus".into()), ..Default::default() }, Some(THREAD), false);
    let resume = format!("--resume={THREAD}");
    assert_eq!(&resumed[7..], ["--model", "opus", resume.as_str(), "--", "--help me"], "the session id in one argument");
    // On stdin, no prompt argument at all.
    assert!(!argv(&claude(), ApprovalPolicy::Suggest, &AgentOptions::default(), None, true).contains(&"--".to_owned()));
}

#[test]
fn a_claude_prompt_that_looks_like_a_slash_command_is_asked_not_run() {
    let last = PathBuf::from("/j/l");
    let run = Invocation {
        policy: ApprovalPolicy::Suggest,
        prompt: "/review the diff",
        prompt_on_stdin: false,
        last_message: &last,
        cwd: Path::new("/"),
        options: &AgentOptions::default(),
        resume: None,
        approval_config: Path::new("/jobs/j1/approvals-mcp.json"),
    };
    assert_eq!(claude().command(&run).argv.last().unwrap(), " /review the diff");
}

#[test]
fn gemini_gets_its_prompt_in_one_argument_and_skips_the_trust_check() {
    let with = |mode: &str| {
        ["gemini", "--skip-trust", "--approval-mode", mode, "--output-format", "stream-json", "--prompt=--help me"]
            .map(str::to_owned)
            .to_vec()
    };
    assert_eq!(plain(&gemini(), ApprovalPolicy::Suggest), with("default"));
    assert_eq!(plain(&gemini(), ApprovalPolicy::AutoEdit), with("auto_edit"));
    assert_eq!(plain(&gemini(), ApprovalPolicy::FullAuto), with("yolo"));
    let resumed = argv(&gemini(), ApprovalPolicy::Suggest, &AgentOptions::default(), Some(THREAD), false);
    let resume = format!("--resume={THREAD}");
    assert_eq!(&resumed[6..], [resume.as_str(), "--prompt=--help me"], "the session id in one argument");
    let last = PathBuf::from("/j/l");
    let run = Invocation {
        policy: ApprovalPolicy::Suggest,
        prompt: "p",
        prompt_on_stdin: false,
        last_message: &last,
        cwd: Path::new("/"),
        options: &AgentOptions::default(),
        resume: None,
        approval_config: Path::new("/jobs/j1/approvals-mcp.json"),
    };
    assert!(gemini().command(&run).env.contains(&("GEMINI_CLI_NO_RELAUNCH".to_owned(), "1".to_owned())), "one process to signal");
}

#[test]
fn a_config_agent_fills_its_template_one_argument_per_placeholder() {
    let agent = AgentSpec::Custom {
        name: "mine".into(),
        command: vec!["mytool".into(), "--cwd".into(), "{cwd}".into(), "--out={last_message_file}".into(), "{prompt}".into()],
    };
    assert_eq!(plain(&agent, ApprovalPolicy::Suggest), ["mytool", "--cwd", "/work", "--out=/j/last_message.txt", "--help me"]);
    assert_eq!(agent.stream(), Stream::Plain);
    assert!(!agent.can_resume());
    // A prompt that names a placeholder is passed as written, not filled in again.
    let options = AgentOptions::default();
    let sneaky = agent.command(&Invocation {
        policy: ApprovalPolicy::Suggest,
        prompt: "print {cwd} and {last_message_file} {prompt}",
        prompt_on_stdin: false,
        last_message: Path::new("/j/last_message.txt"),
        cwd: Path::new("/work"),
        options: &options,
        resume: None,
        approval_config: Path::new("/jobs/j1/approvals-mcp.json"),
    });
    assert_eq!(sneaky.argv.last().unwrap(), "print {cwd} and {last_message_file} {prompt}");
}

#[test]
fn a_config_agent_refuses_a_prompt_it_would_read_as_an_option() {
    let agent =
        |command: &[&str]| AgentSpec::Custom { name: "mine".into(), command: command.iter().map(|part| (*part).to_owned()).collect() };
    let bare = agent(&["mytool", "--cwd={cwd}", "{prompt}"]);
    for prompt in ["--help", "-rf /", "-"] {
        let err = bare.check_prompt(prompt).unwrap_err().to_string();
        assert!(err.contains("agent 'mine'") && err.contains("\"--\" before \"{prompt}\"") && err.contains("[agents.mine]"), "{err}");
    }
    bare.check_prompt("fix the tests -- now").unwrap();
    // After `--`, or inside an argument, it is only a prompt.
    agent(&["mytool", "--", "{prompt}"]).check_prompt("--help").unwrap();
    agent(&["mytool", "--message={prompt}"]).check_prompt("--help").unwrap();
    assert!(agent(&["mytool", "{prompt}", "--", "{prompt}"]).check_prompt("-x").is_err(), "every whole-argument place counts");
    for built_in in [codex(), claude(), gemini()] {
        built_in.check_prompt("--help me").unwrap();
    }
}

#[test]
fn names_resolve_to_built_in_and_configured_agents() {
    let custom: BTreeMap<String, Vec<String>> = [("mine".to_owned(), vec!["mytool".to_owned(), "{prompt}".to_owned()])].into();
    assert_eq!(AgentSpec::named("claude", &custom).unwrap().name(), "claude");
    assert_eq!(AgentSpec::named("mine", &custom).unwrap().name(), "mine");
    let err = AgentSpec::named("aider", &custom).unwrap_err().to_string();
    assert!(err.contains("unknown agent \"aider\"") && err.contains("codex, claude, gemini, mine"), "{err}");
}

#[test]
fn hostile_option_values_are_refused_or_stay_one_argument() {
    for bad in [
        AgentOptions { model: Some("--model=-x".into()), ..Default::default() },
        AgentOptions { model: Some("-x".into()), ..Default::default() },
        AgentOptions { model: Some(" ".into()), ..Default::default() },
        AgentOptions { profile: Some("-p".into()), ..Default::default() },
        AgentOptions { config: vec!["novalue".into()], ..Default::default() },
        AgentOptions { config: vec!["-c=x".into()], ..Default::default() },
        AgentOptions { config: vec!["=x".into()], ..Default::default() },
        AgentOptions { model: Some("a\nb".into()), ..Default::default() },
    ] {
        assert!(codex().check_options(&bad).is_err(), "{bad:?}");
    }
    let spaced = AgentOptions { model: Some("my model \"quoted\" $(x)".into()), config: vec!["a.b=\"x y\"".into()], profile: None };
    codex().check_options(&spaced).unwrap();
    let args = argv(&codex(), ApprovalPolicy::Suggest, &spaced, None, false);
    assert!(args.contains(&"my model \"quoted\" $(x)".to_owned()) && args.contains(&"a.b=\"x y\"".to_owned()), "{args:?}");
    // Options an agent has no place for are refused, not dropped.
    assert!(claude().check_options(&AgentOptions { profile: Some("p".into()), ..Default::default() }).is_err());
    assert!(gemini().check_options(&AgentOptions { config: vec!["a=b".into()], ..Default::default() }).is_err());
    let custom = AgentSpec::Custom { name: "mine".into(), command: vec!["t".into(), "{prompt}".into()] };
    assert!(custom.check_options(&AgentOptions { model: Some("m".into()), ..Default::default() }).is_err());
}

#[test]
fn prompts_go_on_stdin_when_big_and_the_agent_reads_it() {
    assert!(!codex().prompt_on_stdin(1000).unwrap());
    assert!(codex().prompt_on_stdin(1024 * 1024).unwrap());
    assert!(codex().prompt_on_stdin(MAX_PROMPT_BYTES + 1).is_err());
    assert!(gemini().prompt_on_stdin(9 * 1024 * 1024).unwrap_err().to_string().contains("gemini"));
    let custom = AgentSpec::Custom { name: "mine".into(), command: vec!["t".into(), "{prompt}".into()] };
    assert!(!custom.prompt_on_stdin(100 * 1024).unwrap(), "an argument still fits");
    let err = custom.prompt_on_stdin(200 * 1024).unwrap_err().to_string();
    assert!(err.contains("cannot read its prompt from stdin"), "{err}");
}

#[test]
fn policy_names_parse_leniently_and_fail_clearly() {
    assert_eq!("suggest".parse::<ApprovalPolicy>().unwrap(), ApprovalPolicy::Suggest);
    assert_eq!("Full_Auto".parse::<ApprovalPolicy>().unwrap(), ApprovalPolicy::FullAuto);
    assert_eq!(" auto-edit ".parse::<ApprovalPolicy>().unwrap(), ApprovalPolicy::AutoEdit);
    let err = "yolo".parse::<ApprovalPolicy>().unwrap_err().to_string();
    assert!(err.contains("\"yolo\"") && err.contains("suggest") && err.contains("auto-edit") && err.contains("full-auto"), "{err}");
}
