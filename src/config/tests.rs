use super::*;

fn path() -> PathBuf {
    PathBuf::from("/home/me/.codex-async/config.toml")
}

fn no_env(_: &str) -> Option<String> {
    None
}

const FULL: &str = r#"
policy = "auto-edit"
max_policy = "auto-edit"
agent = "claude"
cancel_grace = 7
max_wait = "1m"
port = 9000
max_running = 3
stall_timeout = "20m"
max_duration = "2h"
max_output = "200MB"
approval_timeout = "10m"
max_tokens = 50000
resume_on_limit = true
resume_prompt = "go on"
max_limit_waits = 5
hook_timeout = "10s"

[hooks]
on_finish = ["notify-send", "job {job_id}: {status}"]

[groups.review]
max_running = 1

[retention]
older_than = "7d"
keep = 50

[agents.mine]
command = ["mytool", "--cwd", "{cwd}", "--", "{prompt}"]
"#;

#[test]
fn every_key_round_trips_into_the_settings() {
    let file = FileConfig::parse(FULL, &path()).unwrap();
    let settings = Settings::resolve(path(), &file, &Flags::default(), &no_env).unwrap();
    assert_eq!(settings.policy.value, ApprovalPolicy::AutoEdit);
    assert_eq!(settings.max_policy.value, ApprovalPolicy::AutoEdit);
    assert_eq!(settings.agent.value, "claude");
    assert_eq!(settings.cancel_grace.value, Duration::from_secs(7));
    assert_eq!(settings.max_wait.value, Duration::from_secs(60));
    assert_eq!(settings.port.value, 9000);
    assert_eq!(settings.max_running.value, Some(3));
    assert_eq!(settings.stall_timeout.value, Some(Duration::from_secs(1200)));
    assert_eq!(settings.max_duration.value, Some(Duration::from_secs(7200)));
    assert_eq!(settings.max_output.value, Some(200_000_000));
    assert_eq!(settings.job_limits().max_output, Some(200_000_000));
    let retention = settings.retention.value.clone().unwrap();
    assert_eq!(retention.older_than.unwrap().0, Duration::from_secs(7 * 86_400));
    assert_eq!(retention.keep, Some(50));
    assert_eq!(settings.approval_timeout.value, Duration::from_secs(600));
    assert_eq!(settings.agents["mine"].command, ["mytool", "--cwd", "{cwd}", "--", "{prompt}"]);
    assert_eq!(settings.max_tokens.value, Some(50_000));
    assert_eq!(settings.job_limits().max_tokens, Some(50_000));
    let resume = settings.resume_on_limit(None).unwrap();
    assert_eq!((resume.prompt.as_str(), resume.max_waits), ("go on", 5));
    assert_eq!(settings.queue_limit(Some("review")).unwrap(), Some(1));
    assert_eq!(settings.queue_limit(None).unwrap(), Some(3));
    assert!(settings.queue_limit(Some("nope")).unwrap_err().to_string().contains("known: review"));
    assert_eq!(file.hooks.as_ref().and_then(|hooks| hooks.on_finish.clone()).unwrap().len(), 2);
    assert!(settings.describe().iter().all(|(_, _, source)| source.contains("config.toml")), "{:?}", settings.describe());
    // And the example `config --init` writes is a valid, empty config.
    assert_eq!(FileConfig::parse(EXAMPLE, &path()).unwrap(), FileConfig::default());
}

#[test]
fn defaults_without_a_file() {
    let settings = Settings::resolve(path(), &FileConfig::default(), &Flags::default(), &no_env).unwrap();
    assert_eq!(settings.policy.value, ApprovalPolicy::Suggest);
    assert_eq!(settings.max_policy.value, ApprovalPolicy::FullAuto);
    assert_eq!(settings.max_running.value, None);
    assert_eq!(settings.stall_timeout.value, None);
    assert_eq!(settings.port.value, 8765);
    assert!(settings.describe().iter().all(|(_, _, source)| source == "built-in default"));
}

#[test]
fn flags_beat_the_environment_which_beats_the_file() {
    let file = FileConfig::parse("max_running = 3\nport = 9000\nstall_timeout = 60\n", &path()).unwrap();
    let env = |name: &str| match name {
        "CODEX_ASYNC_MAX_RUNNING" => Some("5".to_owned()),
        "CODEX_ASYNC_PORT" => Some("9100".to_owned()),
        "CODEX_ASYNC_STALL_TIMEOUT" => Some("".to_owned()),
        _ => None,
    };
    let flags = Flags { max_running: Some(7), ..Flags::default() };
    let settings = Settings::resolve(path(), &file, &flags, &env).unwrap();
    assert_eq!((settings.max_running.value, settings.max_running.source.clone()), (Some(7), Source::Flag("--max-running")));
    assert_eq!((settings.port.value, settings.port.source.clone()), (9100, Source::Env("CODEX_ASYNC_PORT")));
    assert_eq!(settings.stall_timeout.value, Some(Duration::from_secs(60)), "an empty variable is unset");
    assert_eq!(settings.stall_timeout.source, Source::File(path()));
    let unlimited = Settings::resolve(path(), &file, &Flags { max_running: Some(0), ..Flags::default() }, &no_env).unwrap();
    assert_eq!(unlimited.max_running.value, None, "0 on the command line lifts the file's limit");
}

#[test]
fn mistakes_name_the_file_the_line_the_key_and_what_is_valid() {
    let cases = [
        ("policy = \"suggest\"\nmax_runing = 2\n", "line 2 (max_runing)", "unknown field"),
        ("port = \"eighty\"\n", "line 1 (port)", "u16"),
        ("\n\npolicy = \"yolo\"\n", "line 3 (policy)", "full-auto"),
        ("stall_timeout = \"ten minutes\"\n", "line 1 (stall_timeout)", "20m"),
        ("[retention]\nolder = 3\n", "line 2 (older)", "unknown field"),
        ("[agents.x]\ncommand = [\"tool\", \"--go\"]\n", "[agents.x] command", "{prompt}"),
        ("[agents.codex]\ncommand = [\"tool\", \"{prompt}\"]\n", "[agents.codex]", "built-in"),
        ("max_running = \n", "line 1", ""),
    ];
    for (text, place, message) in cases {
        let err = FileConfig::parse(text, &path()).unwrap_err();
        let shown = err.to_string();
        assert!(shown.starts_with("/home/me/.codex-async/config.toml"), "{shown}");
        assert!(err.place.contains(place), "{text:?}: {shown}");
        assert!(err.message.contains(message), "{text:?}: {shown}");
    }
    let unknown = FileConfig::parse("max_runing = 2\n", &path()).unwrap_err();
    assert!(unknown.message.contains("max_running"), "the valid keys are listed: {unknown}");
    let env = |name: &str| (name == "CODEX_ASYNC_MAX_RUNNING").then(|| "lots".to_owned());
    let err = Settings::resolve(path(), &FileConfig::default(), &Flags::default(), &env).unwrap_err();
    assert_eq!(err.place, "environment CODEX_ASYNC_MAX_RUNNING");
    // The default agent must exist: a built-in one or one of the file's.
    let file = FileConfig::parse("agent = \"aider\"\n", &path()).unwrap();
    let err = Settings::resolve(path(), &file, &Flags::default(), &|_: &str| None).unwrap_err();
    assert_eq!(err.place, path().display().to_string());
    assert!(err.message.contains("unknown agent \"aider\"") && err.message.contains("codex, claude, gemini"), "{err}");
    let file =
        FileConfig::parse("agent = \"aider\"\n[agents.aider]\ncommand = [\"aider\", \"--message\", \"{prompt}\"]\n", &path()).unwrap();
    let settings = Settings::resolve(path(), &file, &Flags::default(), &|_: &str| None).unwrap();
    assert_eq!(settings.agents().names(), ["codex", "claude", "gemini", "aider"]);
    assert_eq!(settings.agents().resolve(None).unwrap().name(), "aider");
}
