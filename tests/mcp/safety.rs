//! Safe by default: a ceiling on what MCP callers may ask for, absolute paths over HTTP,
//! and a command line whose plain output an agent cannot use to drive the terminal.
#![allow(clippy::unwrap_used)]

use std::process::Command;
use std::time::Duration;

use crate::support;
use crate::support::TestHome;
use crate::support::mcp::{HttpServerProcess, call, err, http_client, ok, stdio_client};
use serde_json::json;

const SETTLE: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_ceiling_refuses_more_over_stdio_and_http() {
    let home = TestHome::new();
    // A project of its own: under a ceiling an agent that may write is kept out of
    // codex-async's folder.
    let project = tempfile::tempdir().unwrap();
    let cwd = project.path().to_str().unwrap();
    let (stdio, _) = stdio_client(&home, &["--max-policy", "auto-edit"]).await;
    let server = HttpServerProcess::spawn(&home, &["--max-policy", "auto-edit"]);
    let (http, _) = http_client(&server.url, server.token.as_deref()).await;
    for client in [&stdio, &http] {
        let message = err(&call(client, "codex_start", json!({"prompt": "exit:0", "cwd": cwd, "approval_policy": "full-auto"})).await);
        assert!(message.contains("ceiling 'auto-edit'") && message.contains("--max-policy"), "{message}");
        let started = ok(&call(client, "codex_start", json!({"prompt": "exit:0", "cwd": cwd, "approval_policy": "auto-edit"})).await);
        home.wait_for_status(started["job_id"].as_str().unwrap(), "done", SETTLE);
    }
    assert_eq!(std::fs::read_dir(home.path().join("jobs")).unwrap().count(), 2, "only the allowed starts made jobs");
    stdio.cancel().await.unwrap();
    http.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relative_cwd_is_refused_over_http_and_is_the_clients_folder_over_stdio() {
    let home = TestHome::new();
    let server = HttpServerProcess::spawn(&home, &[]);
    let (http, _) = http_client(&server.url, server.token.as_deref()).await;
    for relative in [".", "src", "./project"] {
        let message = err(&call(&http, "codex_start", json!({"prompt": "exit:0", "cwd": relative})).await);
        assert!(message.contains("cwd must be an absolute path over HTTP"), "{message}");
    }
    http.cancel().await.unwrap();

    // A stdio server runs where its client started it: "." is that project.
    let project = home.path().join("project");
    std::fs::create_dir(&project).unwrap();
    let mut command = tokio::process::Command::from(home.command());
    command.arg("serve").current_dir(&project);
    let transport = rmcp::transport::TokioChildProcess::new(command).unwrap();
    let (recorder, _notes) = support::mcp::recorder();
    let stdio = rmcp::ServiceExt::serve(recorder, transport).await.unwrap();
    let started = ok(&call(&stdio, "codex_start", json!({"prompt": "exit:0", "cwd": "."})).await);
    let id = started["job_id"].as_str().unwrap();
    home.wait_for_status(id, "done", SETTLE);
    assert_eq!(home.meta(id)["cwd"], project.canonicalize().unwrap().to_str().unwrap());
    stdio.cancel().await.unwrap();
}

/// Every escape left in `text` is a colour (SGR): ESC [ digits, ';' or ':' … m.
fn only_colour(text: &str) -> bool {
    let mut rest = text;
    while let Some(at) = rest.find('\u{1b}') {
        let tail = &rest[at + 1..];
        let Some(end) = tail.find('m') else { return false };
        if !(tail.starts_with('[') && tail[1..end].bytes().all(|byte| byte.is_ascii_digit() || byte == b';' || byte == b':')) {
            return false;
        }
        rest = &tail[end + 1..];
    }
    !text.chars().any(|ch| ch.is_control() && ch != '\n' && ch != '\u{1b}')
}

#[test]
fn plain_cli_output_cannot_drive_the_terminal() {
    let home = TestHome::new();
    // The prompt carries escapes too: it is shown by poll and list.
    let id = home.start("hostile-output \u{1b}]0;prompt-title\u{7}\u{1b}[2J");
    home.wait_for_status(&id, "done", SETTLE);

    // Piped: no escape at all, and the text is all there.
    for args in [vec!["poll", id.as_str()], vec!["list"], vec!["wait", id.as_str()]] {
        let output = home.run(&args);
        assert!(output.status.success(), "{args:?}");
        let text = String::from_utf8(output.stdout).unwrap();
        assert!(!text.contains('\u{1b}') && !text.contains('\u{7}'), "{args:?} printed an escape: {text:?}");
        assert!(!text.contains('\r'), "{args:?} printed a carriage return");
        if args[0] != "list" {
            for visible in ["cleared title", "clip", "dcs bell bold plain red", "progress 100%"] {
                assert!(text.contains(visible), "{args:?} lost {visible:?}: {text}");
            }
            assert!(!text.contains("QUJD") && !text.contains("evil") && !text.contains("boldB"), "{text}");
            assert!(!text.contains("progress 10%"), "the progress bar collapsed to its last state");
        }
    }

    // On a terminal: colour stays, nothing else does.
    let line = format!("CODEX_ASYNC_HOME={home} {bin} poll {id}; {bin} list", home = home.path().display(), bin = support::BIN);
    let output = Command::new("script").args(["-qec", &line, "/dev/null"]).env("TERM", "xterm-256color").output().unwrap();
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout).replace("\r\n", "\n");
    assert!(text.contains("\u{1b}[1mbold\u{1b}[0m plain"), "colour is kept on a terminal: {text:?}");
    assert!(only_colour(&text), "an escape other than colour reached the terminal: {text:?}");

    // --json stays byte-faithful (JSON escapes the bytes).
    let json: serde_json::Value = serde_json::from_slice(&home.run(&["poll", &id, "--json"]).stdout).unwrap();
    assert!(json["output"].as_str().unwrap().contains("\u{1b}]52;c;QUJD"));
}
