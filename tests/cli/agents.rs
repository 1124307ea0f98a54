//! Any agent, and what it is doing: the structured streams kept and read, follow-ups,
//! agents by name (built-in and from the config), model options, and big prompts —
//! through the real binary, its supervisors and the fake agent.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::support::mcp::{call, err, ok, stdio_client};
use crate::support::{TestHome, fake_agent, finished, printed_argv, start_with, wait_until};
use codex_async::jobs::agent::Stream;
use codex_async::supervisor::events::translate_all;
use serde_json::{Value, json};

const DEADLINE: Duration = Duration::from_secs(30);

fn fixture(agent: &str, name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/{agent}-events/{name}.jsonl"))
}

fn poll(home: &TestHome, id: &str) -> Value {
    let output = home.run(&["poll", "--json", id]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

/// `events.jsonl` without the fake agent's first line (`pid:agent=N`, which it prints
/// before anything it replays, and which is kept like every other byte).
fn events_after_pid_line(home: &TestHome, id: &str) -> Vec<u8> {
    let events = std::fs::read(home.job_dir(id).join("events.jsonl")).unwrap();
    let end = events.iter().position(|&byte| byte == b'\n').unwrap();
    assert!(events.starts_with(b"pid:agent="), "{}", String::from_utf8_lossy(&events));
    events[end + 1..].to_vec()
}

#[test]
fn recorded_codex_streams_are_kept_byte_for_byte_and_read_into_output_and_meta() {
    let home = TestHome::new();
    for name in ["answer", "tool", "resume", "stdin-prompt", "unreachable"] {
        let path = fixture("codex", name);
        let id = home.start(&format!("replay:{}", path.display()));
        let meta = finished(&home, &id);
        let recorded = std::fs::read(&path).unwrap();
        assert_eq!(events_after_pid_line(&home, &id), recorded, "{name}: events.jsonl as the agent wrote it");
        let (transcript, seen) = translate_all(Stream::CodexJson, &recorded);
        let output = home.output(&id);
        // The fake's first line is not JSON: it passes through as it came.
        let (first, rest) = output.split_once('\n').unwrap();
        assert!(first.starts_with("pid:agent="), "{output}");
        assert_eq!(rest, transcript, "{name}: the transcript in output.txt");
        assert_eq!(meta["session_id"].as_str(), seen.session_id.as_deref(), "{name}");
        assert_eq!(meta["usage"], serde_json::to_value(seen.usage).unwrap(), "{name}");
        assert!(meta.get("activity").is_none(), "{name}: a finished job is doing nothing: {meta}");
        let status = if name == "unreachable" { "error" } else { "done" };
        assert_eq!(meta["status"], status, "{name}: {meta}");
    }
    let id = home.start(&format!("replay:{}", fixture("codex", "unreachable").display()));
    let meta = finished(&home, &id);
    assert_eq!(meta["note"], "Connection failed: error sending request", "a failed turn says why, even when codex exits 0");
    let polled = poll(&home, &id);
    assert_eq!(polled["session_id"], "01a200e5-06df-7442-83e3-551428209e81");
}

#[test]
fn usage_sums_over_turns_and_output_never_loses_a_line() {
    let home = TestHome::new();
    let stream = home.path().join("stream.jsonl");
    std::fs::write(
        &stream,
        concat!(
            "{\"type\":\"thread.started\",\"thread_id\":\"t-7\"}\n",
            "{\"type\":\"item.completed\",\"item\":{\"id\":\"f\",\"type\":\"file_change\",\"changes\":[{\"path\":\"src/a.rs\",\"kind\":\"update\"}],\"status\":\"completed\"}}\n",
            "{\"type\":\"turn.completed\",\"usage\":{\"input_tokens\":100,\"cached_input_tokens\":40,\"output_tokens\":9,\"reasoning_output_tokens\":3}}\n",
            "{\"type\":\"brand.new.event\",\"x\":1}\n",
            "not json at all\n",
            "{\"type\":\"turn.completed\",\"usage\":{\"input_tokens\":5,\"cached_input_tokens\":0,\"output_tokens\":1,\"reasoning_output_tokens\":0}}\n",
            "{\"type\":\"item.completed\",\"item\":{\"id\":\"a\",\"type\":\"agent_message\",\"text\":\"cut off",
        ),
    )
    .unwrap();
    let id = home.start(&format!("replay:{} err:a-warning", stream.display()));
    let meta = finished(&home, &id);
    assert_eq!(meta["session_id"], "t-7");
    assert_eq!(meta["usage"], json!({"input_tokens": 105, "cached_input_tokens": 40, "output_tokens": 10, "reasoning_output_tokens": 3}));
    let output = home.output(&id);
    for line in [
        "edited src/a.rs (update)\n",
        "{\"type\":\"brand.new.event\",\"x\":1}\n",
        "not json at all\n",
        "a-warning\n",
        "\"text\":\"cut off\n",
        "tokens: 100 in (40 cached), 9 out (3 reasoning)\n",
    ] {
        assert!(output.contains(line), "{line:?} missing from:\n{output}");
    }
    assert_eq!(events_after_pid_line(&home, &id), std::fs::read(&stream).unwrap());
}

#[test]
fn activity_follows_the_stream_while_the_job_runs() {
    let home = TestHome::new();
    let event = |text: &str| {
        let path = home.path().join(format!("{}.jsonl", text.len()));
        std::fs::write(&path, text).unwrap();
        path
    };
    let running = event(concat!(
        "{\"type\":\"thread.started\",\"thread_id\":\"t-1\"}\n",
        "{\"type\":\"item.started\",\"item\":{\"id\":\"c\",\"type\":\"command_execution\",\"command\":\"bash -lc 'cargo test'\",\"status\":\"in_progress\"}}\n"
    ));
    let editing = event(
        "{\"type\":\"item.started\",\"item\":{\"id\":\"f\",\"type\":\"file_change\",\"changes\":[{\"path\":\"src/lib.rs\",\"kind\":\"update\"}]}}\n",
    );
    let (first, second) = (home.path().join("go-1"), home.path().join("go-2"));
    let id = home.start(&format!(
        "replay:{} await-file:{} replay:{} await-file:{}",
        running.display(),
        first.display(),
        editing.display(),
        second.display()
    ));
    let activity = |home: &TestHome| poll(home, &id)["activity"].as_str().map(str::to_owned);
    wait_until("the command to show as the activity", DEADLINE, || activity(&home).as_deref() == Some("running: cargo test"));
    assert_eq!(poll(&home, &id)["session_id"], "t-1", "the session id is known while the job runs");
    let listed: Value = serde_json::from_slice(&home.run(&["list", "--json"]).stdout).unwrap();
    assert_eq!(listed[0]["activity"], "running: cargo test", "list shows it too");
    std::fs::write(&first, "").unwrap();
    wait_until("the edit to show as the activity", DEADLINE, || activity(&home).as_deref() == Some("editing: src/lib.rs"));
    std::fs::write(&second, "").unwrap();
    let meta = finished(&home, &id);
    assert!(meta.get("activity").is_none(), "{meta}");
}

#[test]
fn follow_ups_resume_the_session_in_the_parents_folder_and_chain() {
    let home = TestHome::new();
    let project = home.path().join("project");
    std::fs::create_dir(&project).unwrap();
    let output = home.run(&[
        "start",
        "--json",
        "--cwd",
        project.to_str().unwrap(),
        "-a",
        "auto-edit",
        "--model",
        "gpt-first",
        "-c",
        "model_reasoning_effort=high",
        "--",
        "session say:first",
    ]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let parent = serde_json::from_slice::<Value>(&output.stdout).unwrap()["job_id"].as_str().unwrap().to_owned();
    let parent_meta = finished(&home, &parent);
    let session = parent_meta["session_id"].as_str().expect("the parent has a session").to_owned();
    assert_eq!(parent_meta["model"], "gpt-first");

    let mut chain = vec![parent.clone()];
    for _ in 0..3 {
        let previous = chain.last().unwrap().clone();
        let output = home.run(&["reply", "--json", &previous, "--", "session argv"]);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let child = serde_json::from_slice::<Value>(&output.stdout).unwrap()["job_id"].as_str().unwrap().to_owned();
        let meta = finished(&home, &child);
        assert_eq!(meta["status"], "done", "{meta}");
        assert_eq!(meta["parent_job_id"], previous.as_str());
        assert_eq!(meta["cwd"], project.canonicalize().unwrap().to_str().unwrap(), "the parent's folder");
        assert_eq!(meta["approval_policy"], "auto-edit", "the parent's policy");
        assert_eq!(meta["session_id"], session.as_str(), "the same conversation, down the chain");
        let argv = printed_argv(&home, &child);
        let last_message = home.job_dir(&child).join("last_message.txt");
        assert_eq!(
            argv,
            [
                "exec",
                "-s",
                "workspace-write",
                "resume",
                "--json",
                "-o",
                last_message.to_str().unwrap(),
                "-m",
                "gpt-first",
                "-c",
                "model_reasoning_effort=high",
                session.as_str(),
                "--",
                "session argv"
            ],
            "the parent's model and settings come along"
        );
        assert_eq!(home.meta(&previous)["follow_ups"], json!([child]), "the parent lists its follow-up");
        assert_eq!(poll(&home, &previous)["follow_ups"], json!([child]));
        chain.push(child);
    }

    // Overrides: another policy and model.
    let output = home.run(&["reply", "--json", "-a", "suggest", "-m", "gpt-other", &parent, "--", "argv"]);
    let child = serde_json::from_slice::<Value>(&output.stdout).unwrap()["job_id"].as_str().unwrap().to_owned();
    finished(&home, &child);
    let argv = printed_argv(&home, &child);
    assert_eq!(&argv[1..4], ["-s", "read-only", "resume"]);
    assert!(argv.windows(2).any(|pair| pair == ["-m", "gpt-other"]), "{argv:?}");
    assert_eq!(home.meta(&parent)["follow_ups"].as_array().unwrap().len(), 2);
}

#[test]
fn follow_ups_started_at_once_are_all_listed_in_the_parent() {
    let home = TestHome::new();
    let parent = home.start("session");
    finished(&home, &parent);
    let children: Vec<std::process::Child> = (0..8)
        .map(|_| home.command().args(["reply", "--json", &parent, "--", "say:child"]).stdout(std::process::Stdio::piped()).spawn().unwrap())
        .collect();
    let mut ids: Vec<String> = children
        .into_iter()
        .map(|child| {
            let output = child.wait_with_output().unwrap();
            assert!(output.status.success());
            serde_json::from_slice::<Value>(&output.stdout).unwrap()["job_id"].as_str().unwrap().to_owned()
        })
        .collect();
    for id in &ids {
        finished(&home, id);
    }
    let mut listed: Vec<String> =
        home.meta(&parent)["follow_ups"].as_array().unwrap().iter().map(|id| id.as_str().unwrap().to_owned()).collect();
    ids.sort();
    listed.sort();
    assert_eq!(listed, ids, "eight writers at once, none lost");
}

#[test]
fn follow_ups_that_cannot_be_say_which_reason() {
    let home = TestHome::new();
    let refused = |args: &[&str]| {
        let output = home.run(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", String::from_utf8_lossy(&output.stdout));
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let barrier = home.path().join("release");
    let running = home.start(&format!("session await-file:{}", barrier.display()));
    wait_until("the job to run", DEADLINE, || home.status(&running) == "running");
    let message = refused(&["reply", &running, "--", "more"]);
    assert!(message.contains("is running") && message.contains("wait for it"), "{message}");
    std::fs::write(&barrier, "").unwrap();
    finished(&home, &running);

    let silent = home.start("say:no-session");
    finished(&home, &silent);
    let message = refused(&["reply", &silent, "--", "more"]);
    assert!(message.contains("has no session id"), "{message}");

    std::fs::write(
        home.path().join("config.toml"),
        format!("[agents.plain]\ncommand = [{:?}, \"--\", \"{{prompt}}\"]\n", fake_agent().display().to_string()),
    )
    .unwrap();
    let plain = start_with(&home, &["--agent", "plain"], "say:hi");
    finished(&home, &plain);
    let message = refused(&["reply", &plain, "--", "more"]);
    assert!(message.contains("agent 'plain'") && message.contains("cannot continue"), "{message}");

    let message = refused(&["reply", "deadbeef", "--", "more"]);
    assert!(message.contains("not found"), "{message}");
    let jobs = std::fs::read_dir(home.path().join("jobs")).unwrap().count();
    assert_eq!(jobs, 3, "no job was made by a refused follow-up");
}

#[test]
fn agents_by_name_built_in_and_from_the_config() {
    let home = TestHome::new();
    std::fs::write(
        home.path().join("config.toml"),
        format!(
            "[agents.mine]\ncommand = [{:?}, \"-o\", \"{{last_message_file}}\", \"--cwd={{cwd}}\", \"--\", \"{{prompt}}\"]\n",
            fake_agent().display().to_string()
        ),
    )
    .unwrap();
    let id = start_with(&home, &["--agent", "mine"], "say:from-mine last:the-answer argv");
    let meta = finished(&home, &id);
    assert_eq!((meta["status"].as_str(), meta["agent"].as_str()), (Some("done"), Some("mine")));
    let argv = printed_argv(&home, &id);
    let cwd = home.path().canonicalize().unwrap();
    assert_eq!(argv[2], format!("--cwd={}", cwd.display()), "placeholders inside an argument are filled");
    assert_eq!(argv.last().unwrap(), "say:from-mine last:the-answer argv", "the prompt is one argument");
    assert_eq!(poll(&home, &id)["last_message"], "the-answer");
    assert!(!home.job_dir(&id).join("events.jsonl").exists(), "a plain agent's stdout goes straight to the output");

    let output = home.run(&["start", "--agent", "aider", "--cwd", home.path().to_str().unwrap(), "--", "x"]);
    assert_eq!(output.status.code(), Some(2));
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(message.contains("unknown agent \"aider\"") && message.contains("codex, claude, gemini, mine"), "{message}");

    // Claude Code and Gemini CLI, played by the fake replaying their real streams.
    for (agent, bin, answer) in [
        ("claude", "CLAUDE_BIN", "FINAL ANSWER (mock). Tool said: hello-from-bash"),
        ("gemini", "GEMINI_BIN", "FINAL ANSWER (mock gemini)."),
    ] {
        let prompt = format!("replay:{} argv", fixture(agent, "tool").display());
        let output = home
            .command()
            .env(bin, fake_agent())
            .args(["start", "--json", "--agent", agent, "-a", "auto-edit", "--cwd", home.path().to_str().unwrap(), "--", &prompt])
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let id = serde_json::from_slice::<Value>(&output.stdout).unwrap()["job_id"].as_str().unwrap().to_owned();
        let meta = finished(&home, &id);
        assert_eq!(meta["status"], "done", "{agent}: {meta}");
        assert!(meta["session_id"].is_string(), "{agent}");
        assert!(meta["usage"]["output_tokens"].as_u64().unwrap() > 0, "{agent}");
        let last = poll(&home, &id)["last_message"].as_str().unwrap_or_default().to_owned();
        assert!(last.starts_with(answer), "{agent}: the final answer from the stream: {last:?}");
        let argv = printed_argv(&home, &id);
        match agent {
            "claude" => assert!(argv.windows(2).any(|pair| pair == ["--permission-mode", "acceptEdits"]), "{argv:?}"),
            _ => assert!(argv.windows(2).any(|pair| pair == ["--approval-mode", "auto_edit"]), "{argv:?}"),
        }
    }

    // A Claude Code run whose stream stops without its result failed, whatever it exits with.
    let output = home
        .command()
        .env("CLAUDE_BIN", fake_agent())
        .args(["start", "--json", "--agent", "claude", "--cwd", home.path().to_str().unwrap(), "--", "say:not-a-stream"])
        .output()
        .unwrap();
    let id = serde_json::from_slice::<Value>(&output.stdout).unwrap()["job_id"].as_str().unwrap().to_owned();
    let meta = finished(&home, &id);
    assert_eq!((meta["status"].as_str(), meta["exit_code"].as_i64()), (Some("error"), Some(0)));
    assert_eq!(meta["note"], "the agent's stream ended without a result");
}

#[test]
fn hostile_option_values_are_refused_or_land_as_single_arguments() {
    let home = TestHome::new();
    let cwd = home.path().to_str().unwrap();
    for args in [
        vec!["--model=-x"],
        vec!["--model", "--yolo"],
        vec!["--profile=-p"],
        vec!["-c", "--dangerously-bypass-approvals-and-sandbox"],
        vec!["-c", "no-equals-sign"],
        vec!["--model", ""],
        vec!["--model", "a\nb"],
    ] {
        let mut command = vec!["start", "--cwd", cwd];
        command.extend(args.iter().copied());
        command.extend(["--", "argv"]);
        let output = home.run(&command);
        assert_eq!(output.status.code(), Some(2), "{args:?} was accepted");
    }
    assert!(!home.path().join("jobs").exists() || std::fs::read_dir(home.path().join("jobs")).unwrap().count() == 0);

    let spaced = "my model \"quoted\" $(touch pwned) ;x";
    let id = start_with(&home, &["--model", spaced, "-c", "a.b=\"x y\"", "--profile", "my profile"], "argv");
    finished(&home, &id);
    let argv = printed_argv(&home, &id);
    assert!(argv.windows(2).any(|pair| pair == ["-m", spaced]), "{argv:?}");
    assert!(argv.windows(2).any(|pair| pair == ["-c", "a.b=\"x y\""]), "{argv:?}");
    assert!(argv.windows(2).any(|pair| pair == ["-p", "my profile"]), "{argv:?}");
    assert!(!home.path().join("pwned").exists(), "no shell ever saw it");
    let polled = poll(&home, &id);
    assert_eq!((polled["model"].as_str(), polled["profile"].as_str()), (Some(spaced), Some("my profile")));
    assert_eq!(polled["config"], json!(["a.b=\"x y\""]));
}

#[test]
fn a_one_mebibyte_prompt_reaches_the_agent_whole_through_stdin() {
    let home = TestHome::new();
    let prompt = format!("dump-prompt pad:{}", "é∑x".repeat(1024 * 1024 / 6));
    assert!(prompt.len() > 512 * 1024);
    let mut child = home
        .command()
        .args(["start", "--json", "--cwd", home.path().to_str().unwrap(), "--", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), prompt.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    let id = serde_json::from_slice::<Value>(&output.stdout).unwrap()["job_id"].as_str().unwrap().to_owned();
    let meta = finished(&home, &id);
    assert_eq!(meta["status"], "done", "{meta}");
    assert_eq!(std::fs::read_to_string(home.job_dir(&id).join("last_message.txt")).unwrap(), prompt, "the agent read it whole");
    assert_eq!(std::fs::read_to_string(home.job_dir(&id).join("prompt.txt")).unwrap(), prompt);
    assert_eq!(meta["prompt_file"], "prompt.txt");
    assert!(meta["prompt"].as_str().unwrap().len() < 70 * 1024, "meta.json keeps only the beginning");
    assert_eq!(meta["command"].as_array().unwrap().last().unwrap(), "-", "codex reads it from stdin");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tools_take_an_agent_options_and_follow_ups() {
    let home = TestHome::new();
    std::fs::write(
        home.path().join("config.toml"),
        format!("[agents.mine]\ncommand = [{:?}, \"--\", \"{{prompt}}\"]\n", fake_agent().display().to_string()),
    )
    .unwrap();
    let (client, _) = stdio_client(&home, &[]).await;
    let tools = client.list_all_tools().await.unwrap();
    let start = tools.iter().find(|tool| tool.name == "codex_start").unwrap();
    let description = start.description.as_deref().unwrap();
    assert!(description.contains("'codex', 'claude', 'gemini', 'mine'"), "{description}");
    assert!(tools.iter().any(|tool| tool.name == "codex_reply"));
    let cwd = home.path().to_str().unwrap();

    let started = ok(&call(
        &client,
        "codex_start",
        json!({"prompt": "session argv", "cwd": cwd, "model": "gpt-x", "config": {"model_reasoning_effort": "high"}}),
    )
    .await);
    let parent = started["job_id"].as_str().unwrap().to_owned();
    let waited = ok(&call(&client, "codex_wait", json!({"job_id": parent, "timeout_seconds": 30})).await);
    assert_eq!(waited["status"], "done");
    assert_eq!(waited["model"], "gpt-x");
    assert_eq!(waited["config"], json!(["model_reasoning_effort=high"]));
    let session = waited["session_id"].as_str().unwrap().to_owned();

    let replied = ok(&call(&client, "codex_reply", json!({"job_id": parent, "prompt": "session argv"})).await);
    let child = replied["job_id"].as_str().unwrap().to_owned();
    let waited = ok(&call(&client, "codex_wait", json!({"job_id": child, "timeout_seconds": 30})).await);
    assert_eq!((waited["status"].as_str(), waited["parent_job_id"].as_str()), (Some("done"), Some(parent.as_str())));
    assert_eq!(waited["session_id"], session.as_str());
    let argv = printed_argv(&home, &child);
    assert!(argv.iter().any(|arg| arg == "resume") && argv.contains(&session), "{argv:?}");
    let polled = ok(&call(&client, "codex_poll", json!({"job_id": parent})).await);
    assert_eq!(polled["follow_ups"], json!([child]));

    let mine = ok(&call(&client, "codex_start", json!({"prompt": "say:hi", "cwd": cwd, "agent": "mine"})).await);
    let waited = ok(&call(&client, "codex_wait", json!({"job_id": mine["job_id"], "timeout_seconds": 30})).await);
    assert_eq!((waited["status"].as_str(), waited["agent"].as_str()), (Some("done"), Some("mine")));
    let message = err(&call(&client, "codex_reply", json!({"job_id": mine["job_id"], "prompt": "more"})).await);
    assert!(message.contains("cannot continue"), "{message}");

    for (arguments, wanted) in [
        (json!({"prompt": "x", "cwd": cwd, "agent": "aider"}), "unknown agent"),
        (json!({"prompt": "x", "cwd": cwd, "model": "--yolo"}), "model"),
        (json!({"prompt": "x", "cwd": cwd, "agent": "mine", "model": "m"}), "agent 'mine' takes no"),
        (json!({"prompt": "x", "cwd": cwd, "agent": "claude", "profile": "p"}), "profile"),
        (json!({"prompt": "x", "cwd": cwd, "config": ["-c"]}), "config"),
    ] {
        let message = err(&call(&client, "codex_start", arguments.clone()).await);
        assert!(message.contains(wanted), "{arguments}: {message}");
    }
    let message = err(&call(&client, "codex_reply", json!({"job_id": "deadbeef", "prompt": "x"})).await);
    assert!(message.contains("not found"), "{message}");

    let big = format!("dump-prompt pad:{}", "y".repeat(1024 * 1024));
    let started = ok(&call(&client, "codex_start", json!({"prompt": big, "cwd": cwd})).await);
    let id = started["job_id"].as_str().unwrap().to_owned();
    let waited = ok(&call(&client, "codex_wait", json!({"job_id": id, "timeout_seconds": 30})).await);
    assert_eq!(waited["status"], "done");
    assert_eq!(std::fs::read_to_string(home.job_dir(&id).join("last_message.txt")).unwrap(), big);
    client.cancel().await.unwrap();
}
