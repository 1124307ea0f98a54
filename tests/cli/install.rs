//! `codex-async install` / `uninstall` through the real binary, against the sample
//! configuration files of each client (`tests/fixtures/clients/`), with `HOME`,
//! `CODEX_ASYNC_HOME` and the clients' own variables pointed at temporary folders.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support;
use crate::support::BIN;
use codex_async::install::TOOLS;
use serde::Deserialize;
use serde_json::{Value, json};

fn fixture(name: &str) -> String {
    fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/clients").join(name)).unwrap()
}

/// A private world: a home, a codex-async home and a project folder to run in.
struct World {
    _dir: tempfile::TempDir,
    home: PathBuf,
    codex_async_home: PathBuf,
    project: PathBuf,
    env: Vec<(&'static str, PathBuf)>,
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        let codex_async_home = dir.path().join("codex-async-home");
        let project = dir.path().join("project");
        fs::create_dir_all(&home).unwrap();
        fs::create_dir_all(&project).unwrap();
        World { _dir: dir, home, codex_async_home, project, env: Vec::new() }
    }

    /// Also sets a client's own variable (`CODEX_HOME`, `CLAUDE_CONFIG_DIR`, …) to a
    /// folder in the home.
    fn with(mut self, name: &'static str, relative: &str) -> World {
        let path = self.home.join(relative);
        self.env.push((name, path));
        self
    }

    fn command(&self) -> Command {
        let mut command = Command::new(BIN);
        command
            .current_dir(&self.project)
            .env("HOME", &self.home)
            .env("CODEX_ASYNC_HOME", &self.codex_async_home)
            .env_remove("CODEX_HOME")
            .env_remove("CLAUDE_CONFIG_DIR")
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("CODEX_ASYNC_TOKEN")
            .env_remove("CODEX_ASYNC_PORT");
        for (name, value) in &self.env {
            command.env(name, value);
        }
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command().args(args).output().unwrap()
    }

    /// Runs and expects success; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(output.status.success(), "{args:?} failed: {}\n{stdout}", String::from_utf8_lossy(&output.stderr));
        stdout
    }

    /// Runs and expects failure; returns stderr.
    fn fails(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(!output.status.success(), "{args:?} should fail:\n{}", String::from_utf8_lossy(&output.stdout));
        String::from_utf8_lossy(&output.stderr).into_owned()
    }

    fn token(&self) -> String {
        fs::read_to_string(self.codex_async_home.join("token")).unwrap().trim().to_owned()
    }

    fn records(&self) -> PathBuf {
        self.codex_async_home.join("installs.json")
    }
}

fn put(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

fn backup(path: &Path) -> PathBuf {
    PathBuf::from(format!("{}.codex-async.bak", path.display()))
}

fn json_of(path: &Path) -> Value {
    serde_json::from_str(&read(path)).unwrap()
}

/// The file holding `text` (with comments taken out for JSONC), as JSON.
fn jsonc_of(path: &Path) -> Value {
    let text: String = read(path).lines().filter(|line| !line.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n");
    let text = regex_free_strip_block_comments(&text);
    serde_json::from_str(&text).unwrap_or_else(|err| panic!("{}: {err}\n{text}", path.display()))
}

fn regex_free_strip_block_comments(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("/*") {
        out.push_str(&rest[..start]);
        rest = rest[start..].find("*/").map_or("", |end| &rest[start + end + 2..]);
    }
    out.push_str(rest);
    out
}

/// The program a stdio entry must start: this very binary, by its absolute path.
fn program() -> String {
    fs::canonicalize(BIN).unwrap().display().to_string()
}

/// Each client's user file under `home`, its fixture, and where the entry sits.
fn user_cases(home: &Path) -> Vec<(&'static str, PathBuf, &'static str, Vec<&'static str>)> {
    let config = home.join(".config");
    vec![
        ("claude-code", home.join(".claude.json"), "claude-code.user.json", vec!["mcpServers", "codex-async"]),
        ("codex", home.join(".codex/config.toml"), "codex.config.toml", vec!["mcp_servers", "codex-async"]),
        ("cursor", home.join(".cursor/mcp.json"), "cursor.mcp.json", vec!["mcpServers", "codex-async"]),
        ("claude-desktop", config.join("Claude/claude_desktop_config.json"), "claude-desktop.json", vec!["mcpServers", "codex-async"]),
        ("vscode", config.join("Code/User/mcp.json"), "vscode.mcp.json", vec!["servers", "codex-async"]),
    ]
}

/// The value at `path` in a client's file, JSON, JSONC or TOML.
fn entry_at(file: &Path, path: &[&str]) -> Value {
    let mut value = if file.extension().is_some_and(|ext| ext == "toml") {
        serde_json::to_value(toml::from_str::<toml::Table>(&read(file)).unwrap()).unwrap()
    } else {
        jsonc_of(file)
    };
    for key in path {
        value = value[*key].clone();
    }
    value
}

#[test]
fn every_client_merges_into_its_sample_and_gives_it_back_byte_for_byte() {
    let world = World::new();
    for (client, file, sample, path) in user_cases(&world.home) {
        let original = fixture(sample);
        put(&file, &original);
        let shown = world.ok(&["install", client]);
        let after = read(&file);
        assert!(shown.contains(&format!("+++ {}", file.display())), "{client}: a diff is shown:\n{shown}");
        assert!(shown.contains("the previous version is in"), "{client}: the backup is named:\n{shown}");
        assert_eq!(read(&backup(&file)), original, "{client}: the backup holds the old text");
        let entry = entry_at(&file, &path);
        assert_eq!(entry["command"], json!(program()), "{client}: {after}");
        assert_eq!(entry["args"], json!(["serve"]), "{client}");
        assert_eq!(entry["env"]["CODEX_ASYNC_HOME"], json!(world.codex_async_home.display().to_string()), "{client}");
        // Everything that was there is still there, in order: only lines were added.
        let kept: Vec<&str> = original.lines().collect();
        let mut remaining = after.lines();
        for line in &kept {
            assert!(remaining.any(|have| have == *line), "{client}: lost or moved {line:?}:\n{after}");
        }

        let again = world.ok(&["install", client]);
        assert!(again.contains("nothing to change"), "{client}: the second install says so:\n{again}");
        assert!(!again.contains("+++"), "{client}: {again}");
        assert_eq!(read(&file), after, "{client}: the second install changes nothing");

        let removed = world.ok(&["uninstall", client]);
        assert!(removed.contains(&format!("--- {}", file.display())), "{client}: {removed}");
        assert_eq!(read(&file), original, "{client}: uninstall gives the file back byte for byte");
        let nothing = world.ok(&["uninstall", client]);
        assert!(nothing.contains("has no record") || nothing.contains("nothing to remove"), "{client}: {nothing}");
        assert_eq!(read(&file), original, "{client}");
    }
    assert!(!world.records().exists(), "nothing left to remember");
}

#[test]
fn absent_files_are_created_with_their_folders_and_removed_with_them() {
    let world = World::new();
    for (client, file, _, path) in user_cases(&world.home) {
        world.ok(&["install", client]);
        assert_eq!(entry_at(&file, &path)["command"], json!(program()), "{client}");
        assert_eq!(fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600, "{client}");
        assert!(!backup(&file).exists(), "{client}: nothing to back up");
        world.ok(&["uninstall", client]);
        assert!(!file.exists(), "{client}: the file install made is gone");
    }
    let left: Vec<_> = fs::read_dir(&world.home).unwrap().map(|entry| entry.unwrap().file_name()).collect();
    assert!(left.is_empty(), "every folder install made is gone: {left:?}");
}

#[test]
fn empty_files_stay_empty() {
    let world = World::new();
    for (client, file, _, path) in user_cases(&world.home) {
        for blank in ["", "\n", "  \n\n"] {
            put(&file, blank);
            world.ok(&["install", client]);
            assert_eq!(entry_at(&file, &path)["args"], json!(["serve"]), "{client}");
            world.ok(&["uninstall", client]);
            assert_eq!(read(&file), blank, "{client}");
        }
    }
}

#[test]
fn a_malformed_file_is_named_with_its_line_and_nothing_is_written() {
    let world = World::new();
    let cases = [
        ("claude-code", world.home.join(".claude.json"), "{\n  \"numStartups\": 3,\n  \"mcpServers\": {,\n}\n", 3),
        ("codex", world.home.join(".codex/config.toml"), "model = \"o3\"\n\n[mcp_servers.docs\ncommand = \"x\"\n", 3),
        ("cursor", world.home.join(".cursor/mcp.json"), "{\n  // no comments in this one\n  \"mcpServers\": {}\n}\n", 2),
        ("claude-desktop", world.home.join(".config/Claude/claude_desktop_config.json"), "{\n  \"mcpServers\": {},\n}\n", 3),
        ("vscode", world.home.join(".config/Code/User/mcp.json"), "// fine\n{\n  \"servers\": {\n    \"a\": 1\n    \"b\": 2\n  }\n}\n", 4),
    ];
    for (client, file, text, line) in cases {
        put(&file, text);
        let http = if client == "claude-desktop" { "--approve" } else { "--http" };
        for args in [vec!["install", client], vec!["install", client, http], vec!["uninstall", client]] {
            let error = world.fails(&args);
            assert!(error.contains(&file.display().to_string()), "{args:?}: names the file: {error}");
            assert!(error.contains(&format!("line {line}")), "{args:?}: names the line: {error}");
            assert_eq!(read(&file), text, "{args:?}: the file is untouched");
            assert!(!backup(&file).exists(), "{args:?}: no backup");
        }
    }
    assert!(!world.records().exists());
    assert!(!world.codex_async_home.join("token").exists(), "not even the token was made");
}

#[test]
fn a_dry_run_shows_the_diff_and_writes_nothing() {
    let world = World::new();
    let file = world.home.join(".claude.json");
    put(&file, &fixture("claude-code.user.json"));
    let shown = world.ok(&["install", "claude-code", "--http", "--approve", "--dry-run"]);
    assert!(shown.contains("+    \"codex-async\": {"), "{shown}");
    assert!(shown.contains(&format!("--- /dev/null\n+++ {}", world.home.join(".claude/settings.json").display())), "{shown}");
    assert!(shown.contains("Dry run: nothing was written."), "{shown}");
    assert_eq!(read(&file), fixture("claude-code.user.json"));
    assert!(!backup(&file).exists());
    assert!(!world.home.join(".claude").exists(), "the settings file is not made");
    assert!(!world.records().exists());
    assert!(!world.codex_async_home.join("token").exists(), "the token is not made either");
    assert!(!world.codex_async_home.exists(), "not even the home (or a log file in it)");

    world.ok(&["install", "claude-code"]);
    let after = read(&file);
    let shown = world.ok(&["uninstall", "claude-code", "--dry-run"]);
    assert!(shown.contains("-    \"codex-async\": {"), "{shown}");
    assert_eq!(read(&file), after, "uninstall --dry-run writes nothing");
}

#[test]
fn http_entries_carry_the_url_and_the_token_but_never_show_it() {
    let world = World::new();
    put(&world.codex_async_home.join("config.toml"), "port = 9123\n");
    for (client, file, sample, path) in user_cases(&world.home) {
        put(&file, &fixture(sample));
        if client == "claude-desktop" {
            let error = world.fails(&["install", client, "--http"]);
            assert!(error.contains("stdio"), "{error}");
            assert_eq!(read(&file), fixture(sample));
            continue;
        }
        let shown = world.ok(&["install", client, "--http"]);
        let token = world.token();
        assert_eq!(token.len(), 64, "the token was made");
        assert!(!shown.contains(&token), "{client}: the token is masked:\n{shown}");
        assert!(shown.contains("Bearer <token>"), "{client}: {shown}");
        let entry = entry_at(&file, &path);
        assert_eq!(entry["url"], json!("http://127.0.0.1:9123/mcp"), "{client}");
        let headers = if client == "codex" { &entry["http_headers"] } else { &entry["headers"] };
        assert_eq!(headers["Authorization"], json!(format!("Bearer {token}")), "{client}");
        assert!(entry.get("command").is_none(), "{client}");
        // Switching back to stdio replaces our own entry in place.
        world.ok(&["install", client]);
        assert_eq!(entry_at(&file, &path)["command"], json!(program()), "{client}");
        assert!(!read(&file).contains(&token), "{client}");
        world.ok(&["uninstall", client]);
        assert_eq!(read(&file), fixture(sample), "{client}");
    }
}

#[test]
fn the_token_never_shows_even_when_an_entry_holding_it_is_replaced_or_removed() {
    let world = World::new();
    let file = world.home.join(".cursor/mcp.json");
    put(&file, &fixture("cursor.mcp.json"));
    let mut shown = vec![world.ok(&["install", "cursor", "--http"])];
    let first = world.token();
    shown.push(world.ok(&["install", "cursor"]));
    shown.push(world.ok(&["install", "cursor", "--http"]));
    // The file still holds the old token after a rotation, until install runs again.
    world.ok(&["token", "--rotate"]);
    assert_ne!(world.token(), first);
    shown.push(world.ok(&["install", "cursor", "--http", "--dry-run"]));
    fs::write(&file, read(&file).replace("8765/mcp\"", "8765/mcp/\"")).unwrap();
    shown.push(world.fails(&["install", "cursor", "--http"]));
    shown.push(String::from_utf8_lossy(&world.run(&["uninstall", "cursor"]).stdout).into_owned());
    shown.push(world.ok(&["uninstall", "cursor", "--force"]));
    for (step, text) in shown.iter().enumerate() {
        assert!(!text.contains(&first) && !text.contains(&world.token()), "step {step} shows a token:\n{text}");
    }
    assert!(shown[1].contains("-        \"Authorization\": \"Bearer <token>\""), "{}", shown[1]);
    assert_eq!(read(&file), fixture("cursor.mcp.json"));
}

/// Shapes the syntax tree cannot give back by itself (an object on one line that the entry
/// spread over several, CRLF that toml_edit writes as LF): uninstall restores the bytes.
#[test]
fn one_line_objects_and_crlf_come_back_byte_for_byte() {
    let world = World::new();
    let cursor = world.home.join(".cursor/mcp.json");
    let permissions = world.home.join(".cursor/permissions.json");
    for text in [
        "{\"mcpServers\":{\"a\":{\"command\":\"x\"}}}",
        "{\"mcpServers\": {\"a\": 1}}\n",
        "{ \"mcpServers\": { } }\n",
        "{\"x\": 1}",
        "{\n  \"mcpServers\": {\"a\": {\"command\": \"x\"}}\n}\n",
    ] {
        put(&cursor, text);
        put(&permissions, "{\"mcpAllowlist\": [\"context7:*\"]}");
        world.ok(&["install", "cursor", "--approve"]);
        assert_eq!(entry_at(&cursor, &["mcpServers", "codex-async", "args"]), json!(["serve"]), "{text}");
        world.ok(&["uninstall", "cursor"]);
        assert_eq!(read(&cursor), text);
        assert_eq!(read(&permissions), "{\"mcpAllowlist\": [\"context7:*\"]}");
    }

    let codex = world.home.join(".codex/config.toml");
    let crlf = fixture("codex.config.toml").replace('\n', "\r\n");
    put(&codex, &crlf);
    world.ok(&["install", "codex", "--approve"]);
    let installed = read(&codex);
    assert_eq!(installed.matches('\n').count(), installed.matches("\r\n").count(), "CRLF stays CRLF:\n{installed:?}");
    world.ok(&["uninstall", "codex"]);
    assert_eq!(read(&codex), crlf);
    let mixed = "model = \"o3\"\r\n\n[mcp_servers.a]\ncommand = \"x\"\r\n";
    put(&codex, mixed);
    world.ok(&["install", "codex"]);
    world.ok(&["uninstall", "codex"]);
    assert_eq!(read(&codex), mixed);
}

/// Once something else changed the file, uninstall takes out only what install added and
/// keeps the change, even in a shape it cannot give back byte for byte.
#[test]
fn an_edit_elsewhere_survives_the_uninstall() {
    let world = World::new();
    let file = world.home.join(".cursor/mcp.json");
    put(&file, "{\"mcpServers\": {\"a\": 1}}\n");
    world.ok(&["install", "cursor"]);
    fs::write(&file, read(&file).replace("\"a\": 1", "\"a\": 2")).unwrap();
    world.ok(&["uninstall", "cursor"]);
    assert_eq!(json_of(&file), json!({"mcpServers": {"a": 2}}));

    let codex = world.home.join(".codex/config.toml");
    put(&codex, &fixture("codex.config.toml"));
    world.ok(&["install", "codex"]);
    let edited = format!("{}\n[profiles.fast]\nmodel = \"o4-mini\"\n", read(&codex));
    fs::write(&codex, &edited).unwrap();
    world.ok(&["uninstall", "codex"]);
    assert_eq!(read(&codex), format!("{}\n[profiles.fast]\nmodel = \"o4-mini\"\n", fixture("codex.config.toml")));
}

#[test]
fn project_scope_writes_the_current_folder_without_the_token() {
    let world = World::new();
    let cases = [
        ("claude-code", ".mcp.json", vec!["mcpServers", "codex-async"], "Bearer ${CODEX_ASYNC_TOKEN}"),
        ("codex", ".codex/config.toml", vec!["mcp_servers", "codex-async"], ""),
        ("cursor", ".cursor/mcp.json", vec!["mcpServers", "codex-async"], "Bearer ${env:CODEX_ASYNC_TOKEN}"),
        ("vscode", ".vscode/mcp.json", vec!["servers", "codex-async"], "Bearer ${env:CODEX_ASYNC_TOKEN}"),
    ];
    for (client, relative, path, bearer) in cases {
        let file = world.project.join(relative);
        world.ok(&["install", client, "--scope", "project"]);
        assert_eq!(entry_at(&file, &path)["command"], json!(program()), "{client}");
        world.ok(&["install", client, "--scope", "project", "--http"]);
        let entry = entry_at(&file, &path);
        let text = read(&file);
        assert!(!text.contains(&world.token()), "{client}: a shared file never holds the token: {text}");
        if client == "codex" {
            assert_eq!(entry["bearer_token_env_var"], json!("CODEX_ASYNC_TOKEN"));
        } else {
            let headers = &entry["headers"];
            assert_eq!(headers["Authorization"], json!(bearer), "{client}");
        }
        if client == "claude-code" {
            let settings = json_of(&world.project.join(".claude/settings.local.json"));
            assert_eq!(settings["enabledMcpjsonServers"], json!(["codex-async"]), "the project server is approved for this user");
        }
        world.ok(&["uninstall", client, "--scope", "project"]);
        assert!(!file.exists(), "{client}");
    }
    assert!(world.home.read_dir().unwrap().next().is_none(), "the user's files are untouched");
    let left: Vec<_> = fs::read_dir(&world.project).unwrap().map(|entry| entry.unwrap().file_name()).collect();
    assert!(left.is_empty(), "every file and folder install made is gone: {left:?}");
    let error = world.fails(&["install", "claude-desktop", "--scope", "project"]);
    assert!(error.contains("no project"), "{error}");
}

#[test]
fn project_scope_merges_into_an_existing_mcp_json() {
    let world = World::new();
    let file = world.project.join(".mcp.json");
    put(&file, &fixture("claude-code.mcp.json"));
    let settings = world.project.join(".claude/settings.local.json");
    put(&settings, &fixture("claude-code.settings.json"));
    world.ok(&["install", "claude-code", "--scope", "project", "--approve"]);
    assert_eq!(json_of(&file)["mcpServers"]["docs"]["command"], json!("node"), "other servers stay");
    let merged = json_of(&settings);
    assert_eq!(merged["enabledMcpjsonServers"], json!(["sentry", "codex-async"]));
    assert_eq!(merged["permissions"]["allow"][0], json!("Bash(npm run test:*)"));
    world.ok(&["uninstall", "claude-code", "--scope", "project"]);
    assert_eq!(read(&file), fixture("claude-code.mcp.json"));
    assert_eq!(read(&settings), fixture("claude-code.settings.json"));
}

#[test]
fn claude_code_approve_allows_every_tool_and_keeps_what_was_there() {
    let world = World::new().with("CLAUDE_CONFIG_DIR", "claude-config");
    let config_dir = world.home.join("claude-config");
    let state = config_dir.join(".claude.json");
    let settings = config_dir.join("settings.json");
    put(&state, &fixture("claude-code.user.json"));
    // A permission the user had already must survive the uninstall.
    let original_settings =
        fixture("claude-code.settings.json").replace("\"mcp__sqlite\"", "\"mcp__sqlite\",\n      \"mcp__codex-async__codex_poll\"");
    put(&settings, &original_settings);
    let shown = world.ok(&["install", "claude-code", "--approve"]);
    assert!(shown.contains("permissions.allow"), "{shown}");
    let allow = json_of(&settings)["permissions"]["allow"].clone();
    for (tool, _) in TOOLS {
        let wanted = json!(format!("mcp__codex-async__{tool}"));
        // Answering a job's approval request stays the user's call.
        let once = usize::from(!codex_async::install::ASK_THE_USER.contains(&tool));
        assert_eq!(allow.as_array().unwrap().iter().filter(|item| **item == wanted).count(), once, "{tool} once: {allow}");
    }
    assert_eq!(allow[0], json!("Bash(npm run test:*)"));
    assert_eq!(json_of(&state)["mcpServers"]["codex-async"]["type"], json!("stdio"));
    assert!(!world.home.join(".claude.json").exists(), "CLAUDE_CONFIG_DIR moves the file");

    // Without --approve the approvals go again, the server stays.
    world.ok(&["install", "claude-code"]);
    assert_eq!(read(&settings), original_settings);
    assert_eq!(json_of(&state)["mcpServers"]["codex-async"]["command"], json!(program()));
    world.ok(&["install", "claude-code", "--approve"]);
    world.ok(&["uninstall", "claude-code"]);
    assert_eq!(read(&settings), original_settings, "only what install added is removed");
    assert_eq!(read(&state), fixture("claude-code.user.json"));
}

#[test]
fn cursor_approve_merges_into_the_commented_permissions() {
    let world = World::new();
    let permissions = world.home.join(".cursor/permissions.json");
    put(&permissions, &fixture("cursor.permissions.json"));
    world.ok(&["install", "cursor", "--approve"]);
    let text = read(&permissions);
    assert!(text.contains("// MCP tools that run without asking"), "comments stay: {text}");
    let list = jsonc_of(&permissions)["mcpAllowlist"].clone();
    assert_eq!(list[0], json!("context7:*"));
    assert!(list.as_array().unwrap().contains(&json!("codex-async:codex_start")), "{list}");
    world.ok(&["uninstall", "cursor"]);
    assert_eq!(read(&permissions), fixture("cursor.permissions.json"));
    assert!(!world.home.join(".cursor/mcp.json").exists());
}

#[test]
fn an_entry_someone_edited_stays_unless_forced() {
    let world = World::new();
    let file = world.home.join(".cursor/mcp.json");
    put(&file, &fixture("cursor.mcp.json"));
    world.ok(&["install", "cursor"]);
    let edited = read(&file).replace("\"serve\"", "\"serve\", \"--max-wait\", \"30\"");
    fs::write(&file, &edited).unwrap();

    let error = world.fails(&["install", "cursor"]);
    assert!(error.contains("was changed since codex-async install wrote it") && error.contains("--force"), "{error}");
    assert_eq!(read(&file), edited, "install does not overwrite it");

    let output = world.run(&["uninstall", "cursor"]);
    assert!(!output.status.success());
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(said.contains("was changed since") && said.contains("--force"), "{said}");
    assert_eq!(read(&file), edited, "uninstall leaves it");
    world.ok(&["uninstall", "cursor", "--force"]);
    assert_eq!(read(&file), fixture("cursor.mcp.json"));
    assert!(!world.records().exists());
}

#[test]
fn an_entry_install_did_not_write_needs_force_and_comes_back() {
    let world = World::new();
    let file = world.home.join(".codex/config.toml");
    let mine = format!("{}\n[mcp_servers.codex-async]\ncommand = \"codex-async\"\nargs = [\"serve\"]\n", fixture("codex.config.toml"));
    put(&file, &mine);
    let error = world.fails(&["install", "codex"]);
    assert!(error.contains("exists already") && error.contains("--force"), "{error}");
    assert_eq!(read(&file), mine);
    world.ok(&["install", "codex", "--force"]);
    assert_eq!(entry_at(&file, &["mcp_servers", "codex-async", "command"]), json!(program()));
    world.ok(&["uninstall", "codex"]);
    assert_eq!(
        entry_at(&file, &["mcp_servers", "codex-async"]),
        json!({"command": "codex-async", "args": ["serve"]}),
        "the old entry is back"
    );
}

/// Codex's schema for a server entry (config.toml `[mcp_servers.NAME]`), as codex 0.169
/// reads it: `command`/`args`/`env` or `url` with headers; tools' approval modes are an
/// enum, and a wrong value stops every codex command. Unknown keys are refused here
/// (codex ignores them) so a typo cannot pass.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CodexServer {
    command: Option<String>,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    url: Option<String>,
    http_headers: Option<BTreeMap<String, String>>,
    bearer_token_env_var: Option<String>,
    tool_timeout_sec: Option<f64>,
    #[serde(default)]
    tools: BTreeMap<String, CodexTool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CodexTool {
    approval_mode: CodexApproval,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "lowercase")]
enum CodexApproval {
    Auto,
    Prompt,
    Writes,
    Approve,
}

/// The whole file as codex reads it; only our own entry is held to the strict schema.
#[derive(Debug, Deserialize)]
struct CodexConfig {
    mcp_servers: BTreeMap<String, toml::Value>,
}

fn codex_server(file: &Path) -> CodexServer {
    let mut config: CodexConfig = toml::from_str(&read(file)).unwrap();
    let ours = config.mcp_servers.remove("codex-async").expect("a codex-async server");
    assert!(config.mcp_servers.contains_key("docs") && config.mcp_servers.contains_key("linear"), "the others stay");
    ours.try_into().unwrap()
}

#[test]
fn codex_approve_is_what_codex_exec_needs() {
    let world = World::new().with("CODEX_HOME", "elsewhere");
    let codex_home = world.home.join("elsewhere");
    let file = codex_home.join("config.toml");
    put(&file, &fixture("codex.config.toml"));

    let shown = world.ok(&["install", "codex"]);
    assert!(shown.contains("only read") && shown.contains("--approve"), "the choice is explained: {shown}");
    let server = codex_server(&file);
    assert_eq!(server.command.as_deref(), Some(program().as_str()));
    assert!(Path::new(server.command.as_deref().unwrap()).is_absolute());
    assert_eq!(server.args, ["serve"]);
    assert_eq!(server.env.get("CODEX_ASYNC_HOME").map(PathBuf::from), Some(world.codex_async_home.clone()));
    assert_eq!(server.tool_timeout_sec, Some(120.0));
    assert!(server.tools.is_empty(), "nothing approved without --approve");

    let shown = world.ok(&["install", "codex", "--approve"]);
    assert!(shown.contains("approval_mode = \"approve\""), "{shown}");
    let server = codex_server(&file);
    for (tool, read_only) in TOOLS {
        match server.tools.get(tool) {
            Some(approval) => {
                assert!(!read_only, "{tool} only reads and needs no approval");
                assert_eq!(approval.approval_mode, CodexApproval::Approve);
            }
            None => assert!(
                read_only || codex_async::install::ASK_THE_USER.contains(&tool),
                "{tool} changes things: codex exec refuses it unless approved"
            ),
        }
    }

    world.ok(&["install", "codex", "--approve", "--http"]);
    let server = codex_server(&file);
    assert!(server.command.is_none());
    assert_eq!(server.url.as_deref(), Some("http://127.0.0.1:8765/mcp"));
    assert_eq!(server.http_headers.unwrap()["Authorization"], format!("Bearer {}", world.token()));
    assert!(server.bearer_token_env_var.is_none());
    assert_eq!(server.tools.len(), 8, "start, reply, cancel, apply, discard, delete, pause, resume");
    world.ok(&["uninstall", "codex"]);
    assert_eq!(read(&file), fixture("codex.config.toml"));
    assert!(!world.home.join(".codex").exists(), "CODEX_HOME moves the file");
}

/// The real Codex CLI reading what install wrote. `.ci/run` installs it from the npm
/// registry and names it in `CODEX_CLI_FOR_TESTS`; a developer without it sees the test
/// say so. Named but missing is a failure, not a skip.
#[test]
fn the_real_codex_cli_reads_the_entry() {
    let Some(codex) = std::env::var_os("CODEX_CLI_FOR_TESTS").map(PathBuf::from) else {
        println!("not run: set CODEX_CLI_FOR_TESTS to a codex CLI (npm install @openai/codex)");
        return;
    };
    assert!(codex.exists(), "CODEX_CLI_FOR_TESTS names {}, which does not exist", codex.display());
    let world = World::new();
    let codex_home = world.home.join(".codex");
    put(&codex_home.join("config.toml"), &fixture("codex.config.toml"));
    world.ok(&["install", "codex", "--approve"]);
    let output = Command::new(&codex)
        .args(["mcp", "get", "codex-async", "--json"])
        .env("HOME", &world.home)
        .env("CODEX_HOME", &codex_home)
        .output()
        .unwrap();
    assert!(output.status.success(), "codex mcp get: {}", String::from_utf8_lossy(&output.stderr));
    let got: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(got["transport"]["type"], json!("stdio"));
    assert_eq!(got["transport"]["command"], json!(program()));
    assert_eq!(got["tool_timeout_sec"], json!(120.0));
    let listed =
        Command::new(&codex).args(["mcp", "list", "--json"]).env("HOME", &world.home).env("CODEX_HOME", &codex_home).output().unwrap();
    assert!(listed.status.success(), "a bad approval_mode would stop codex: {}", String::from_utf8_lossy(&listed.stderr));
    let names: Vec<Value> =
        serde_json::from_slice::<Vec<Value>>(&listed.stdout).unwrap().iter().map(|server| server["name"].clone()).collect();
    assert_eq!(names, [json!("codex-async"), json!("docs"), json!("linear")]);
}

/// The tool list install approves is the server's: same names, same read-only marks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_approved_tools_are_the_servers_tools() {
    let home = support::TestHome::new();
    let (client, _notes) = support::mcp::stdio_client(&home, &[]).await;
    let tools = client.list_all_tools().await.unwrap();
    let served: BTreeMap<String, bool> = tools
        .iter()
        .map(|tool| (tool.name.to_string(), tool.annotations.as_ref().and_then(|notes| notes.read_only_hint).unwrap_or(false)))
        .collect();
    let known: BTreeMap<String, bool> = TOOLS.iter().map(|(tool, read_only)| ((*tool).to_owned(), *read_only)).collect();
    assert_eq!(served, known);
    client.cancel().await.unwrap();
}

#[test]
fn completions_for_every_shell() {
    let world = World::new();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let script = world.ok(&["completions", shell]);
        assert!(script.len() > 500 && script.contains("install"), "{shell}: {script}");
        assert!(!script.contains("__supervise"), "{shell}: hidden commands stay hidden");
    }
    let script = world.ok(&["completions", "bash"]);
    let path = world.project.join("codex-async.bash");
    fs::write(&path, &script).unwrap();
    let checked = Command::new("bash").arg("-n").arg(&path).output().unwrap();
    assert!(checked.status.success(), "bash -n: {}", String::from_utf8_lossy(&checked.stderr));
    let sourced = Command::new("bash").arg("-c").arg(format!("source {} && complete -p codex-async", path.display())).output().unwrap();
    assert!(String::from_utf8_lossy(&sourced.stdout).contains("codex-async"), "{sourced:?}");
}

#[test]
fn a_man_page_from_the_command_line() {
    let world = World::new();
    let page = world.ok(&["man"]);
    for wanted in [".TH codex-async 1", ".SH NAME", ".SH SYNOPSIS", "install", "completions"] {
        assert!(page.contains(wanted), "{wanted}: {page}");
    }
    let dir = world.project.join("man1");
    world.ok(&["man", "--dir", dir.to_str().unwrap()]);
    let install_page = read(&dir.join("codex-async-install.1"));
    assert!(install_page.contains("\\-\\-approve") && install_page.contains("claude\\-code"), "{install_page}");
    if Command::new("man").arg("--version").output().is_ok_and(|output| output.status.success()) {
        let rendered =
            Command::new("man").arg("-l").arg(dir.join("codex-async.1")).env("MANPAGER", "cat").env("MANWIDTH", "100").output().unwrap();
        let text = String::from_utf8_lossy(&rendered.stdout);
        assert!(text.contains("NAME") && text.contains("SYNOPSIS"), "{text}");
    }
}

#[test]
fn the_version_names_the_commit() {
    let version = World::new().ok(&["--version"]);
    let commit =
        version.trim().strip_prefix(&format!("codex-async {} (", env!("CARGO_PKG_VERSION"))).and_then(|rest| rest.strip_suffix(')'));
    let commit = commit.unwrap_or_else(|| panic!("{version}"));
    assert!(commit == "unknown" || (commit.len() >= 7 && commit.chars().all(|c| c.is_ascii_hexdigit())), "{version}");
}

#[test]
fn every_new_argument_has_help() {
    use clap::CommandFactory;
    let command = codex_async::cli::Cli::command();
    for name in ["install", "uninstall", "completions", "man"] {
        let sub = command.find_subcommand(name).unwrap();
        assert!(sub.get_about().is_some(), "{name}");
        for arg in sub.get_arguments().filter(|arg| !matches!(arg.get_id().as_str(), "help" | "version")) {
            assert!(arg.get_help().is_some() || arg.get_long_help().is_some(), "{name} {}: no help", arg.get_id());
        }
    }
    let help = World::new().ok(&["install", "--help"]);
    for client in ["claude-code", "codex", "cursor", "claude-desktop", "vscode"] {
        assert!(help.contains(client), "{client}: {help}");
    }
}
