//! What `install` writes for each client: the server's entry in the client's own schema,
//! the approvals it can pre-set, and what to tell the user about both.

use std::path::PathBuf;

use serde_json::{Map, Value, json};

use super::client::{ASK_THE_USER, Client, Files, Format, SERVER_NAME, Scope, TOKEN_VARIABLE, TOOLS};
use super::edit::{Edit, KeyPath, key_path};

/// Codex's per-call limit: above the longest `codex_wait` (45 s by default), with room.
pub const CODEX_TOOL_TIMEOUT_SECS: u64 = 120;

/// How the client reaches the server.
#[derive(Clone, Debug, PartialEq)]
pub enum Transport {
    /// The client starts `command serve` itself. `home` is `$CODEX_ASYNC_HOME` when set,
    /// passed on because clients do not all hand their environment to a server.
    Stdio { command: PathBuf, home: Option<PathBuf> },
    /// A running endpoint (`serve --http` or the dashboard) and its bearer token.
    Http { url: String, token: String },
}

#[derive(Clone, Debug)]
pub struct Setup {
    pub client: Client,
    pub scope: Scope,
    pub transport: Transport,
    pub approve: bool,
}

/// The changes for one file.
#[derive(Clone, Debug)]
pub struct FilePlan {
    pub path: PathBuf,
    pub format: Format,
    pub edits: Vec<Edit>,
}

#[derive(Clone, Debug)]
pub struct Plan {
    pub files: Vec<FilePlan>,
    pub notes: Vec<String>,
}

/// The bearer header's value: the token itself in a user's private file, a reference to
/// `$CODEX_ASYNC_TOKEN` (in the client's own syntax) in a project file meant to be shared.
fn bearer(setup: &Setup, token: &str) -> String {
    match (setup.scope, setup.client) {
        (Scope::User, _) => format!("Bearer {token}"),
        (Scope::Project, Client::ClaudeCode) => format!("Bearer ${{{TOKEN_VARIABLE}}}"),
        (Scope::Project, _) => format!("Bearer ${{env:{TOKEN_VARIABLE}}}"),
    }
}

fn env_map(home: &Option<PathBuf>) -> Map<String, Value> {
    let mut env = Map::new();
    if let Some(home) = home {
        env.insert("CODEX_ASYNC_HOME".to_owned(), Value::String(home.display().to_string()));
    }
    env
}

/// The server's entry, in the client's schema (see `docs/clients.md`).
pub fn entry(setup: &Setup) -> Value {
    let mut entry = Map::new();
    let mut put = |key: &str, value: Value| {
        entry.insert(key.to_owned(), value);
    };
    match (&setup.transport, setup.client) {
        (Transport::Stdio { command, home }, client) => {
            if matches!(client, Client::ClaudeCode | Client::Vscode) {
                put("type", json!("stdio"));
            }
            put("command", json!(command.display().to_string()));
            put("args", json!(["serve"]));
            let env = env_map(home);
            // Claude Code writes `"env": {}` itself; the others leave an empty one out.
            if !env.is_empty() || client == Client::ClaudeCode {
                put("env", Value::Object(env));
            }
        }
        (Transport::Http { url, token }, Client::Codex) => {
            put("url", json!(url));
            match setup.scope {
                Scope::User => put("http_headers", json!({"Authorization": bearer(setup, token)})),
                Scope::Project => put("bearer_token_env_var", json!(TOKEN_VARIABLE)),
            }
        }
        (Transport::Http { url, token }, client) => {
            if matches!(client, Client::ClaudeCode | Client::Vscode) {
                put("type", json!("http"));
            }
            put("url", json!(url));
            put("headers", json!({"Authorization": bearer(setup, token)}));
        }
    }
    if setup.client == Client::Codex {
        put("tool_timeout_sec", json!(CODEX_TOOL_TIMEOUT_SECS));
        if setup.approve {
            let tools: Map<String, Value> = changing_tools().map(|tool| (tool.to_owned(), json!({"approval_mode": "approve"}))).collect();
            put("tools", Value::Object(tools));
        }
    }
    Value::Object(entry)
}

/// The tools that start or stop agents (the others only read).
pub fn changing_tools() -> impl Iterator<Item = &'static str> {
    TOOLS.iter().filter(|(tool, read_only)| !read_only && !ASK_THE_USER.contains(tool)).map(|(tool, _)| *tool)
}

fn read_only_tools() -> Vec<&'static str> {
    TOOLS.iter().filter(|(_, read_only)| *read_only).map(|(tool, _)| *tool).collect()
}

fn servers_key(client: Client) -> &'static str {
    match client {
        Client::Codex => "mcp_servers",
        Client::Vscode => "servers",
        _ => "mcpServers",
    }
}

/// Where the entry goes in the servers file.
pub fn entry_path(client: Client) -> KeyPath {
    key_path(&[servers_key(client), SERVER_NAME])
}

fn list(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// Everything `install` does for `setup`, with what to tell the user.
pub fn plan(setup: &Setup, files: &Files) -> Result<Plan, String> {
    let client = setup.client;
    let http = matches!(setup.transport, Transport::Http { .. });
    if client == Client::ClaudeDesktop && http {
        return Err("Claude Desktop takes only servers it starts itself (stdio) from its config file: remote servers are \
                    added in the app (Settings → Connectors) and reached from Anthropic's cloud, which cannot see this \
                    machine's loopback address. Leave out --http."
            .to_owned());
    }
    let mut plan = Plan {
        files: vec![FilePlan {
            path: files.servers.clone(),
            format: files.servers_format,
            edits: vec![Edit::Entry { path: entry_path(client), value: entry(setup) }],
        }],
        notes: Vec::new(),
    };
    let mut approvals = Vec::new();
    let all_tools: Vec<&str> = TOOLS.iter().map(|(tool, _)| *tool).filter(|tool| !ASK_THE_USER.contains(tool)).collect();
    let changing: Vec<&str> = changing_tools().collect();
    match client {
        Client::ClaudeCode => {
            if setup.scope == Scope::Project {
                approvals.push(Edit::Items { path: key_path(&["enabledMcpjsonServers"]), items: vec![SERVER_NAME.to_owned()] });
                plan.notes.push(
                    "Claude Code starts a project's .mcp.json servers only once approved: enabledMcpjsonServers in \
                     .claude/settings.local.json (private to you) approves codex-async. Claude Code 2.1.197 honours it \
                     inside a git repository; elsewhere it asks once. Whoever clones the project is asked once too."
                        .to_owned(),
                );
            }
            if setup.approve {
                let items = all_tools.iter().map(|tool| format!("mcp__{SERVER_NAME}__{tool}")).collect();
                approvals.push(Edit::Items { path: key_path(&["permissions", "allow"]), items });
                plan.notes.push(format!(
                    "--approve: the {} tools are in permissions.allow, so Claude Code calls them without asking. \
                     codex_start and codex_reply run agents on this machine with the policy the caller asks for (up to \
                     the server's --max-policy); lower that ceiling where agents should not edit. codex_approve is left \
                     out: Claude Code asks you before it answers a job's approval request.",
                    all_tools.len()
                ));
            } else {
                plan.notes.push(
                    "Claude Code asks before each codex-async tool call. `codex-async install claude-code --approve` allows \
                     them (mcp__codex-async__<tool> in permissions.allow of the settings file)."
                        .to_owned(),
                );
            }
        }
        Client::Codex => {
            if setup.approve {
                plan.notes.push(format!(
                    "--approve: {} have approval_mode = \"approve\", so codex calls them without asking, also under \
                     `codex exec` (approval never), where an unapproved call is refused. They start and stop agents on \
                     this machine (the policy the caller asks for, up to the server's --max-policy). {} only read: \
                     codex runs them without approval anyway.",
                    list(&changing),
                    list(&read_only_tools())
                ));
            } else {
                plan.notes.push(format!(
                    "{} only read, so codex runs them without asking. {} start or stop agents, so codex asks before each \
                     call, and under `codex exec` (approval never) it refuses them. Nothing was pre-approved; \
                     `codex-async install codex --approve` adds approval_mode = \"approve\" for those {}.",
                    list(&read_only_tools()),
                    list(&changing),
                    changing.len()
                ));
            }
            plan.notes.push(format!(
                "tool_timeout_sec = {CODEX_TOOL_TIMEOUT_SECS}: one codex_wait blocks up to 45 s (the server's --max-wait), \
                 longer than codex's default limit per call."
            ));
            if setup.scope == Scope::Project {
                plan.notes.push(
                    "codex reads .codex/config.toml only in a trusted project (trust_level = \"trusted\" for it under \
                     [projects] in ~/.codex/config.toml; codex asks the first time it runs there)."
                        .to_owned(),
                );
            }
        }
        Client::Cursor => {
            if setup.approve {
                let items = all_tools.iter().map(|tool| format!("{SERVER_NAME}:{tool}")).collect();
                approvals.push(Edit::Items { path: key_path(&["mcpAllowlist"]), items });
                plan.notes.push(
                    "--approve: the tools are in mcpAllowlist of permissions.json, so Cursor runs them without asking. \
                     Once that list exists it takes the place of the allowlist kept in Cursor's settings."
                        .to_owned(),
                );
            } else {
                plan.notes.push(
                    "Cursor asks before each tool call; `codex-async install cursor --approve` allows them in \
                     permissions.json (mcpAllowlist)."
                        .to_owned(),
                );
            }
        }
        Client::ClaudeDesktop => {
            plan.notes.push("Restart Claude Desktop to load the server.".to_owned());
            if setup.approve {
                plan.notes.push(
                    "--approve: Claude Desktop keeps tool approvals in the app (\"Always allow\" on the first call); its \
                     config file has no place for them, so nothing was written for it."
                        .to_owned(),
                );
            }
        }
        Client::Vscode => {
            plan.notes.push("VS Code asks you to trust the server the first time it starts it.".to_owned());
            if setup.approve {
                plan.notes.push(
                    "--approve: VS Code keeps tool approvals itself (\"Always allow\" in the chat's confirmation, or \
                     \"Chat: Manage Tool Approval\"); no file sets them per server, so nothing was written for it."
                        .to_owned(),
                );
            }
        }
    }
    if let (Some((path, format)), false) = (&files.approvals, approvals.is_empty()) {
        plan.files.push(FilePlan { path: path.clone(), format: *format, edits: approvals });
    }
    if let Transport::Http { url, .. } = &setup.transport {
        plan.notes.push(format!(
            "Over HTTP the server must be running at {url}: the dashboard (`codex-async`) or `codex-async serve --http \
             ADDR` serves it."
        ));
        match setup.scope {
            Scope::User => plan.notes.push(
                "The entry holds the bearer token (shown as <token> above); after `codex-async token --rotate`, run this \
                 install again."
                    .to_owned(),
            ),
            Scope::Project => plan.notes.push(format!(
                "A project file is meant to be shared, so it names the variable {TOKEN_VARIABLE} instead of holding the \
                 token: start the client with `export {TOKEN_VARIABLE}=$(codex-async token)`."
            )),
        }
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup(client: Client, scope: Scope, http: bool, approve: bool) -> Setup {
        let transport = if http {
            Transport::Http { url: "http://127.0.0.1:8765/mcp".to_owned(), token: "t0k".to_owned() }
        } else {
            Transport::Stdio { command: PathBuf::from("/bin/codex-async"), home: None }
        };
        Setup { client, scope, transport, approve }
    }

    #[test]
    fn entries_follow_each_schema() {
        assert_eq!(
            entry(&setup(Client::ClaudeCode, Scope::User, false, false)),
            json!({"type": "stdio", "command": "/bin/codex-async", "args": ["serve"], "env": {}})
        );
        assert_eq!(
            entry(&setup(Client::ClaudeCode, Scope::Project, true, false)),
            json!({"type": "http", "url": "http://127.0.0.1:8765/mcp", "headers": {"Authorization": "Bearer ${CODEX_ASYNC_TOKEN}"}})
        );
        assert_eq!(
            entry(&setup(Client::Codex, Scope::User, true, true)),
            json!({
                "url": "http://127.0.0.1:8765/mcp",
                "http_headers": {"Authorization": "Bearer t0k"},
                "tool_timeout_sec": 120,
                "tools": {
                    "codex_start": {"approval_mode": "approve"},
                    "codex_reply": {"approval_mode": "approve"},
                    "codex_cancel": {"approval_mode": "approve"},
                    "codex_apply": {"approval_mode": "approve"},
                    "codex_discard": {"approval_mode": "approve"},
                    "codex_delete": {"approval_mode": "approve"},
                    "codex_pause": {"approval_mode": "approve"},
                    "codex_resume": {"approval_mode": "approve"},
                },
            })
        );
        assert_eq!(entry(&setup(Client::Codex, Scope::Project, true, false))["bearer_token_env_var"], json!("CODEX_ASYNC_TOKEN"));
        assert_eq!(entry(&setup(Client::Cursor, Scope::User, false, false)), json!({"command": "/bin/codex-async", "args": ["serve"]}));
        assert_eq!(
            entry(&setup(Client::Vscode, Scope::Project, true, false))["headers"]["Authorization"],
            json!("Bearer ${env:CODEX_ASYNC_TOKEN}")
        );
        let with_home = Setup {
            transport: Transport::Stdio { command: PathBuf::from("/c"), home: Some(PathBuf::from("/h")) },
            ..setup(Client::ClaudeDesktop, Scope::User, false, false)
        };
        assert_eq!(entry(&with_home), json!({"command": "/c", "args": ["serve"], "env": {"CODEX_ASYNC_HOME": "/h"}}));
    }

    #[test]
    fn claude_desktop_takes_no_http() {
        let files = Files { servers: PathBuf::from("/x.json"), servers_format: Format::Json, approvals: None };
        assert!(plan(&setup(Client::ClaudeDesktop, Scope::User, true, false), &files).is_err());
    }
}
