//! The policy ceiling, attacked: config keys and profiles that would run programs or widen
//! the sandbox, folders an agent that may write must not have, forged records of finished
//! jobs that a follow-up would inherit (session ids that become options, a cwd, a policy,
//! settings), and a custom agent's prompt that would read as an option. Every refusal is
//! a tool error (or exit status 2) naming what was refused and the ceiling, and makes no
//! job; what is allowed still runs.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use crate::support;
use crate::support::mcp::{Client, call, err, ok};
use crate::support::tmux::{DEADLINE, Tmux, dashboard_command_with_env, job_id_in};
use crate::support::{TestHome, fake_agent, finished, job_count, printed_argv, wait_until};
use serde_json::{Value, json};

/// `codex-async serve` over stdio with `args`, and `env` added to its environment.
async fn serve(home: &TestHome, args: &[&str], env: &[(&str, &Path)]) -> Client {
    let mut command = tokio::process::Command::from(home.command());
    command.arg("serve").args(args);
    for (name, value) in env {
        command.env(name, value);
    }
    let transport = rmcp::transport::TokioChildProcess::new(command).unwrap();
    let (recorder, _notes) = support::mcp::recorder();
    rmcp::ServiceExt::serve(recorder, transport).await.unwrap()
}

/// A folder of its own for the test (not the codex-async home, which a writing agent
/// may not have).
fn folder(parent: &Path, name: &str) -> PathBuf {
    let path = parent.join(name);
    std::fs::create_dir_all(&path).unwrap();
    path.canonicalize().unwrap()
}

/// Rewrites fields of a finished job's meta.json, as any process of the user (a
/// `full-auto` agent) can, once its supervisor is gone (it would write its own record
/// back).
fn forge(home: &TestHome, id: &str, fields: Value) {
    home.wait_for_supervisor_exit(id);
    let mut meta = home.meta(id);
    for (key, value) in fields.as_object().unwrap() {
        meta[key] = value.clone();
    }
    std::fs::write(home.job_dir(id).join("meta.json"), serde_json::to_vec_pretty(&meta).unwrap()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_keys_and_profiles_that_run_programs_or_widen_the_sandbox_are_refused_under_the_ceiling() {
    let home = TestHome::new();
    let user_home = tempfile::tempdir().unwrap();
    let project = folder(user_home.path(), "project");
    let client = serve(&home, &["--max-policy", "auto-edit"], &[("HOME", user_home.path())]).await;
    let attacks = [
        (json!({"notify": ["sh", "-c", "touch pwned"]}), "notify"),
        (json!({"mcp_servers.x.command": "sh", "mcp_servers.x.args": ["-c", "touch pwned"]}), "mcp_servers.x."),
        (json!({"sandbox_workspace_write.writable_roots": ["/"]}), "sandbox_workspace_write.writable_roots"),
        (json!({"sandbox_workspace_write.network_access": true}), "sandbox_workspace_write.network_access"),
        (json!({"sandbox_mode": "danger-full-access"}), "sandbox_mode"),
        (json!({"approval_policy": "never"}), "approval_policy"),
        (json!({"shell_environment_policy.set.PATH": "/tmp/evil"}), "shell_environment_policy.set.PATH"),
        (json!({"model_provider": "evil"}), "model_provider"),
        (json!({"model_providers.evil.base_url": "http://127.0.0.1:9/v1"}), "model_providers.evil.base_url"),
        (json!({"profiles.x.notify": ["sh"]}), "profiles.x.notify"),
        (json!({"features.use_legacy_landlock": true}), "features.use_legacy_landlock"),
        // codex reads `use_legacy_landlock` as `features.use_legacy_landlock`.
        (json!(["use_legacy_landlock=true"]), "use_legacy_landlock"),
        // Quoted and dotted forms of keys do not slip past.
        (json!(["\"notify\"=[\"sh\"]"]), "\\\"notify\\\""),
        (json!(["'notify'=[\"sh\"]"]), "'notify'"),
        (json!(["model_reasoning_effort.x=1"]), "model_reasoning_effort.x"),
        (json!(["\"model_reasoning_effort\"=high"]), "\\\"model_reasoning_effort\\\""),
        // An allowed key with a table for its value is not a setting of the model.
        (json!(["model_reasoning_effort={notify=[\"sh\"]}"]), "model_reasoning_effort"),
        (json!(["model_verbosity=[\"low\"]"]), "model_verbosity"),
    ];
    for (config, key) in attacks {
        let message = err(&call(
            &client,
            "codex_start",
            json!({"prompt": "argv", "cwd": project, "approval_policy": "suggest", "config": config.clone()}),
        )
        .await);
        assert!(message.contains(key) && message.contains("ceiling 'auto-edit'"), "{config}: {message}");
    }
    let message = err(&call(&client, "codex_start", json!({"prompt": "argv", "cwd": project, "profile": "anything"})).await);
    assert!(message.contains("profile") && message.contains("anything") && message.contains("ceiling 'auto-edit'"), "{message}");
    assert_eq!(job_count(&home), 0, "no refused start made a job");

    // The settings of the model itself still pass, as given.
    let started = ok(&call(
        &client,
        "codex_start",
        json!({"prompt": "argv", "cwd": project, "approval_policy": "auto-edit",
               "config": {"model_reasoning_effort": "high", "model_reasoning_summary": "concise", "model_verbosity": "low"}}),
    )
    .await);
    let id = started["job_id"].as_str().unwrap().to_owned();
    assert_eq!(finished(&home, &id)["status"], "done");
    let argv = printed_argv(&home, &id);
    for setting in ["model_reasoning_effort=high", "model_reasoning_summary=concise", "model_verbosity=low"] {
        assert!(argv.windows(2).any(|pair| pair == ["-c", setting]), "{setting}: {argv:?}");
    }
    client.cancel().await.unwrap();

    // The command line is held to the same rule when a ceiling is configured.
    let refused = home
        .command()
        .env("CODEX_ASYNC_MAX_POLICY", "auto-edit")
        .env("HOME", user_home.path())
        .args(["start", "--cwd", project.to_str().unwrap(), "-c", "notify=[\"sh\"]", "--", "argv"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(message.contains("notify") && message.contains("ceiling 'auto-edit'"), "{message}");
    let refused = home
        .command()
        .env("CODEX_ASYNC_MAX_POLICY", "suggest")
        .args(["start", "--cwd", project.to_str().unwrap(), "-a", "auto-edit", "--", "argv"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2), "{}", String::from_utf8_lossy(&refused.stderr));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("ceiling 'suggest'"));
    assert_eq!(job_count(&home), 1, "only the allowed start made a job");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_that_may_write_is_kept_out_of_the_root_the_home_and_codex_asyncs_own_folder() {
    let home = TestHome::new();
    let user_home = tempfile::tempdir().unwrap();
    let user_home_path = user_home.path().canonicalize().unwrap();
    let own_home = home.path().canonicalize().unwrap();
    let inside_own_home = folder(home.path(), "inside");
    let codex_home = folder(user_home.path(), ".codex");
    let project = folder(user_home.path(), "project");
    let client = serve(&home, &["--max-policy", "auto-edit"], &[("HOME", user_home.path())]).await;
    let forbidden = [
        PathBuf::from("/"),
        user_home_path.clone(),
        own_home.clone(),
        inside_own_home.clone(),
        own_home.parent().unwrap().to_owned(),
        codex_home.clone(),
    ];
    for cwd in &forbidden {
        let message = err(&call(&client, "codex_start", json!({"prompt": "say:x", "cwd": cwd, "approval_policy": "auto-edit"})).await);
        assert!(
            message.contains(&format!("{:?}", cwd.display().to_string())) && message.contains("ceiling 'auto-edit'"),
            "{cwd:?}: {message}"
        );
    }
    assert_eq!(job_count(&home), 0);
    // Read-only jobs may run anywhere; a writing one in a project folder is fine.
    for cwd in &forbidden {
        let started = ok(&call(&client, "codex_start", json!({"prompt": "say:read-only", "cwd": cwd, "approval_policy": "suggest"})).await);
        assert_eq!(finished(&home, started["job_id"].as_str().unwrap())["status"], "done");
    }
    let started = ok(&call(&client, "codex_start", json!({"prompt": "say:x", "cwd": project, "approval_policy": "auto-edit"})).await);
    assert_eq!(finished(&home, started["job_id"].as_str().unwrap())["status"], "done");
    client.cancel().await.unwrap();

    // The command line, under a ceiling from the environment.
    let output = home
        .command()
        .env("CODEX_ASYNC_MAX_POLICY", "auto-edit")
        .env("HOME", user_home.path())
        .args(["start", "-a", "auto-edit", "--cwd", user_home_path.to_str().unwrap(), "--", "say:x"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(message.contains(user_home_path.to_str().unwrap()) && message.contains("ceiling 'auto-edit'"), "{message}");
    assert_eq!(job_count(&home), forbidden.len() + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_session_id_never_becomes_an_option_of_a_follow_up() {
    let home = TestHome::new();
    let parent = home.start("session say:first");
    let real = finished(&home, &parent)["session_id"].as_str().unwrap().to_owned();
    let client = serve(&home, &[], &[]).await;
    for forged in [
        "--dangerously-bypass-approvals-and-sandbox",
        "--last",
        "-c",
        "latest",
        "../../../etc/passwd",
        "01a200e4-ffa2-79d1-a693-7d6df5f8f223 --yolo",
        "01a200e4ffa279d1a6937d6df5f8f223",
        "{01a200e4-ffa2-79d1-a693-7d6df5f8f223}",
    ] {
        forge(&home, &parent, json!({"session_id": forged}));
        let message = err(&call(&client, "codex_reply", json!({"job_id": parent, "prompt": "argv"})).await);
        assert!(message.contains("session id") && message.contains(&parent), "{forged}: {message}");
        let output = home.run(&["reply", &parent, "--", "argv"]);
        assert_eq!(output.status.code(), Some(2), "{forged}: {}", String::from_utf8_lossy(&output.stdout));
        assert!(String::from_utf8_lossy(&output.stderr).contains("session id"), "{forged}");
    }
    assert_eq!(job_count(&home), 1, "no follow-up was made");

    // The real id still continues the conversation, as one argument.
    forge(&home, &parent, json!({"session_id": real}));
    let replied = ok(&call(&client, "codex_reply", json!({"job_id": parent, "prompt": "argv"})).await);
    let child = replied["job_id"].as_str().unwrap().to_owned();
    assert_eq!(finished(&home, &child)["status"], "done");
    let argv = printed_argv(&home, &child);
    let at = argv.iter().position(|arg| *arg == real).expect("the session id");
    assert_eq!(argv[at + 1], "--", "{argv:?}");
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_parent_cannot_lift_a_follow_up_over_the_ceiling() {
    let home = TestHome::new();
    let user_home = tempfile::tempdir().unwrap();
    let user_home_path = user_home.path().canonicalize().unwrap();
    let project = folder(user_home.path(), "project");
    let client = serve(&home, &["--max-policy", "auto-edit"], &[("HOME", user_home.path())]).await;
    let started = ok(&call(
        &client,
        "codex_start",
        json!({"prompt": "session say:first", "cwd": project, "approval_policy": "auto-edit",
               "config": {"model_reasoning_effort": "high"}}),
    )
    .await);
    let parent = started["job_id"].as_str().unwrap().to_owned();
    let original = finished(&home, &parent);
    assert_eq!(original["status"], "done");
    let cli_reply = || {
        home.command()
            .env("CODEX_ASYNC_MAX_POLICY", "auto-edit")
            .env("HOME", user_home.path())
            .args(["reply", &parent, "--", "argv"])
            .output()
            .unwrap()
    };
    for (fields, named) in [
        (json!({"config": ["notify=[\"sh\",\"-c\",\"touch pwned\"]"]}), "notify".to_owned()),
        (json!({"cwd": user_home_path}), format!("{:?}", user_home_path.display().to_string())),
        (json!({"cwd": "/"}), "\"/\"".to_owned()),
        (json!({"approval_policy": "full-auto"}), "full-auto".to_owned()),
        (json!({"config": ["sandbox_workspace_write.writable_roots=[\"/\"]"]}), "sandbox_workspace_write.writable_roots".to_owned()),
        (json!({"profile": "evil"}), "evil".to_owned()),
    ] {
        std::fs::write(home.job_dir(&parent).join("meta.json"), serde_json::to_vec(&original).unwrap()).unwrap();
        forge(&home, &parent, fields.clone());
        let message = err(&call(&client, "codex_reply", json!({"job_id": parent, "prompt": "argv"})).await);
        assert!(
            message.contains(&named) && message.contains("ceiling 'auto-edit'") && message.contains(&format!("job {parent}")),
            "{fields}: {message}"
        );
        let output = cli_reply();
        assert_eq!(output.status.code(), Some(2), "{fields}: {}", String::from_utf8_lossy(&output.stdout));
        let message = String::from_utf8_lossy(&output.stderr);
        assert!(message.contains(&named) && message.contains("ceiling 'auto-edit'"), "{fields}: {message}");
    }
    assert_eq!(job_count(&home), 1, "no follow-up was made");

    // What the caller gives instead of the inherited values is judged as well, and a
    // read-only follow-up may run where a writing one may not.
    std::fs::write(home.job_dir(&parent).join("meta.json"), serde_json::to_vec(&original).unwrap()).unwrap();
    forge(&home, &parent, json!({"cwd": "/", "config": ["notify=[\"sh\"]"]}));
    let replied =
        ok(&call(&client, "codex_reply", json!({"job_id": parent, "prompt": "argv", "approval_policy": "suggest", "config": []})).await);
    assert_eq!(finished(&home, replied["job_id"].as_str().unwrap())["status"], "done");
    let message = err(&call(
        &client,
        "codex_reply",
        json!({"job_id": parent, "prompt": "argv", "approval_policy": "suggest", "config": {"notify": ["sh"]}}),
    )
    .await);
    assert!(message.contains("notify") && message.contains("ceiling 'auto-edit'"), "{message}");
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follow_up_says_what_it_inherited() {
    let home = TestHome::new();
    let project = folder(home.path(), "project");
    let client = serve(&home, &[], &[]).await;
    let started = ok(&call(
        &client,
        "codex_start",
        json!({"prompt": "session say:first", "cwd": project, "approval_policy": "auto-edit", "model": "gpt-x",
               "config": {"model_reasoning_effort": "high"}}),
    )
    .await);
    let parent = started["job_id"].as_str().unwrap().to_owned();
    finished(&home, &parent);
    let replied = ok(&call(&client, "codex_reply", json!({"job_id": parent, "prompt": "argv"})).await);
    assert_eq!(
        replied["inherited"],
        json!({"from": parent, "cwd": project, "agent": "codex", "approval_policy": "auto-edit", "model": "gpt-x",
               "config": ["model_reasoning_effort=high"]})
    );
    let replied =
        ok(&call(&client, "codex_reply", json!({"job_id": parent, "prompt": "argv", "model": "gpt-y", "approval_policy": "suggest"}))
            .await);
    assert_eq!(
        replied["inherited"],
        json!({"from": parent, "cwd": project, "agent": "codex", "config": ["model_reasoning_effort=high"]}),
        "what the caller gave is not inherited"
    );
    client.cancel().await.unwrap();

    let output = home.run(&["reply", &parent, "--", "argv"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let said = String::from_utf8_lossy(&output.stderr);
    for part in [format!("inherited from job {parent}"), format!("cwd {}", project.display()), "auto-edit".into(), "gpt-x".into()] {
        assert!(said.contains(&part), "{part:?} missing from: {said}");
    }
    let output = home.run(&["reply", "--json", &parent, "--", "argv"]);
    let answer: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(answer["inherited"]["cwd"], project.to_str().unwrap());
    assert_eq!(answer["inherited"]["model"], "gpt-x");
    for entry in std::fs::read_dir(home.path().join("jobs")).unwrap() {
        finished(&home, &entry.unwrap().file_name().to_string_lossy());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_custom_agents_prompt_that_reads_as_an_option_is_refused_unless_the_template_ends_options() {
    let home = TestHome::new();
    let agent = fake_agent().display().to_string();
    std::fs::write(
        home.path().join("config.toml"),
        format!(
            "[agents.bare]\ncommand = [{agent:?}, \"{{prompt}}\"]\n\
             [agents.guarded]\ncommand = [{agent:?}, \"--\", \"{{prompt}}\"]\n\
             [agents.inside]\ncommand = [{agent:?}, \"--message={{prompt}}\", \"--\", \"say:inside\"]\n"
        ),
    )
    .unwrap();
    let cwd = home.path().to_str().unwrap();
    for prompt in ["--help", "-rf say:x", "-x"] {
        let output = home.run(&["start", "--agent", "bare", "--cwd", cwd, "--", prompt]);
        assert_eq!(output.status.code(), Some(2), "{prompt:?}: {}", String::from_utf8_lossy(&output.stdout));
        let message = String::from_utf8_lossy(&output.stderr);
        assert!(message.contains("agent 'bare'") && message.contains("\"--\"") && message.contains("{prompt}"), "{message}");
    }
    let client = serve(&home, &[], &[]).await;
    let message = err(&call(&client, "codex_start", json!({"prompt": "--version", "cwd": cwd, "agent": "bare"})).await);
    assert!(message.contains("agent 'bare'") && message.contains("\"--\""), "{message}");
    assert_eq!(job_count(&home), 0);

    // After `--` (or inside an argument) such a prompt is only a prompt.
    let started = ok(&call(&client, "codex_start", json!({"prompt": "--version say:guarded-ok", "cwd": cwd, "agent": "guarded"})).await);
    let id = started["job_id"].as_str().unwrap().to_owned();
    assert_eq!(finished(&home, &id)["status"], "done");
    assert!(home.output(&id).contains("guarded-ok"));
    let started = ok(&call(&client, "codex_start", json!({"prompt": "--version", "cwd": cwd, "agent": "inside"})).await);
    assert_eq!(finished(&home, started["job_id"].as_str().unwrap())["status"], "done");
    client.cancel().await.unwrap();

    // The commented example config says so.
    let fresh = TestHome::new();
    let output = fresh.run(&["config", "--init"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let example = std::fs::read_to_string(fresh.path().join("config.toml")).unwrap();
    assert!(example.contains("\"--\", \"{prompt}\"") && example.contains("starting with \"-\""), "{example}");
}

/// The dashboard's `r` (follow up) and `R` (run again) take nothing from a forged
/// record past the ceiling, and say what they inherited.
#[test]
fn the_dashboards_follow_up_and_run_again_are_judged_as_new_requests() {
    let home = TestHome::new();
    // Three finished jobs (in codex-async's own folder, as `TestHome::start` runs them),
    // their records forged before the dashboard reads them.
    let forged_session = home.start("session say:one");
    let forged_policy = home.start("session say:two");
    let forged_model = home.start("session say:three");
    for id in [&forged_session, &forged_policy, &forged_model] {
        assert_eq!(finished(&home, id)["status"], "done");
    }
    forge(&home, &forged_session, json!({"session_id": "--dangerously-bypass-approvals-and-sandbox"}));
    forge(&home, &forged_policy, json!({"approval_policy": "auto-edit"}));
    forge(&home, &forged_model, json!({"model": "gpt-forged"}));
    let tmux = Tmux::start(&dashboard_command_with_env(&home, "CODEX_ASYNC_MAX_POLICY=auto-edit", "--no-mcp"), 220, 40);
    for id in [&forged_session, &forged_policy, &forged_model] {
        tmux.wait_for(id, DEADLINE);
    }
    // Newest first: the row of each job, from the top.
    let row = |id: &str| [&forged_model, &forged_policy, &forged_session].iter().position(|job| job.as_str() == id).unwrap();
    let submit = |key: &str, id: &str, prompt: &str| {
        tmux.keys(&["g"]);
        for _ in 0..row(id) {
            tmux.keys(&["j"]);
        }
        tmux.keys(&[key]);
        tmux.wait_for(&if key == "r" { format!("Follow up job {id}") } else { format!("Run job {id} again") }, DEADLINE);
        if !prompt.is_empty() {
            tmux.type_text(prompt);
        }
        tmux.keys(&["Enter"]);
    };
    // Esc closes the form; the next key waits for that (an Esc with a key right behind it
    // reads as Alt and that key).
    let close = || {
        tmux.keys(&["Escape"]);
        tmux.wait_until("the form to close", DEADLINE, |screen| !screen.contains("┌ Follow up job") && !screen.contains("┌ Run job"));
    };

    submit("r", &forged_session, "argv");
    tmux.wait_for("session id", DEADLINE);
    close();
    // The parent's folder is codex-async's own: no place for an agent that may write.
    submit("r", &forged_policy, "argv");
    tmux.wait_for("ceiling 'auto-edit'", DEADLINE);
    assert!(tmux.capture().contains(&format!("from job {forged_policy})")), "{}", tmux.capture());
    close();
    submit("R", &forged_policy, "");
    tmux.wait_for("ceiling 'auto-edit'", DEADLINE);
    close();
    assert_eq!(job_count(&home), 3, "nothing was started");

    // A follow-up that may start says what it took from its parent.
    submit("r", &forged_model, "argv");
    tmux.wait_for("inherited from", DEADLINE);
    let screen = tmux.capture();
    let notice = screen.lines().find(|line| line.contains("inherited from")).unwrap();
    assert!(notice.contains(&forged_model) && notice.contains("gpt-forged") && notice.contains("suggest"), "{notice}");
    let child = job_id_in(notice.split("inherited").next().unwrap()).expect("the new job's id");
    assert_eq!(finished(&home, &child)["status"], "done");
    tmux.keys(&["q"]);
    wait_until("q to quit", DEADLINE, || tmux.exited_cleanly());
}
