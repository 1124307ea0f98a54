//! Other machines for the tests: a host is `codex-async serve` over its own home,
//! reached through a command (a stand-in for ssh) or over HTTP; the local home's
//! config.toml names them.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::Path;

use super::{BIN, TestHome, fake_agent};

/// A TOML string (a JSON string is one, for the text the tests use).
pub fn toml_string(text: &str) -> String {
    serde_json::to_string(text).unwrap()
}

/// A TOML array of strings.
pub fn toml_list(items: &[String]) -> String {
    format!("[{}]", items.iter().map(|item| toml_string(item)).collect::<Vec<_>>().join(", "))
}

/// The command that serves `host`'s home over stdio, as ssh would run it there.
pub fn serve_argv(host: &TestHome, extra: &[&str]) -> Vec<String> {
    let mut argv = vec![
        "env".to_owned(),
        format!("CODEX_ASYNC_HOME={}", host.path().display()),
        format!("CODEX_BIN={}", fake_agent().display()),
        BIN.to_owned(),
        "serve".to_owned(),
    ];
    argv.extend(extra.iter().map(|arg| (*arg).to_owned()));
    argv
}

/// The same command as one line of shell, for wrappers (`… | head -n 3`).
pub fn serve_shell(host: &TestHome, extra: &[&str]) -> String {
    serve_argv(host, extra).iter().map(|arg| shell_quote(arg)).collect::<Vec<_>>().join(" ")
}

pub fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// `[hosts.NAME]` reached by `argv`, with any further keys.
pub fn command_host(name: &str, argv: &[String], extra: &str) -> String {
    format!("[hosts.{name}]\ncommand = {}\n{extra}\n", toml_list(argv))
}

/// `[hosts.NAME]` reached by a line of shell.
pub fn shell_host(name: &str, script: &str, extra: &str) -> String {
    command_host(name, &["sh".to_owned(), "-c".to_owned(), script.to_owned()], extra)
}

/// `[hosts.NAME]` reached by a line of bash (for `exec … > >(…)`: the session ends
/// when the filter quits, as a dropped SSH connection ends, with no shell holding on).
pub fn bash_host(name: &str, script: &str, extra: &str) -> String {
    command_host(name, &["bash".to_owned(), "-c".to_owned(), script.to_owned()], extra)
}

/// Writes the local home's config.toml.
pub fn configure(local: &TestHome, sections: &[String]) {
    std::fs::write(local.path().join("config.toml"), sections.concat()).unwrap();
}

/// Whether `dir` holds job `id`'s folder.
pub fn holds_job(home: &Path, id: &str) -> bool {
    home.join("jobs").join(id).join("meta.json").is_file()
}

/// The fake host (tests/fixtures/fake-host): an MCP server that answers `answer`.
pub fn fake_host_argv(answer: &str, tools: &str) -> Vec<String> {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fake-host");
    vec!["env".to_owned(), format!("FAKE_HOST_ANSWER={answer}"), format!("FAKE_HOST_TOOLS={tools}"), fixture.display().to_string()]
}
