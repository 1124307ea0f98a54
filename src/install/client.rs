//! The MCP clients `codex-async install` knows, and where each keeps its configuration
//! (the facts, with the versions checked, are in `docs/clients.md`).

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The name codex-async is registered under in every client.
pub const SERVER_NAME: &str = "codex-async";

/// Every tool the server offers, and whether it only reads (the MCP `readOnlyHint` the
/// server gives it). A test checks this list against the running server's.
pub const TOOLS: [(&str, bool); 14] = [
    ("codex_start", false),
    ("codex_reply", false),
    ("codex_cancel", false),
    ("codex_poll", true),
    ("codex_list", true),
    ("codex_wait", true),
    ("codex_await_any", true),
    ("codex_approve", false),
    ("codex_diff", true),
    ("codex_apply", false),
    ("codex_discard", false),
    ("codex_delete", false),
    ("codex_pause", false),
    ("codex_resume", false),
];

/// Tools `--approve` never lets a client call without asking its user: answering a
/// job's approval request is a person's decision, not the calling model's.
pub const ASK_THE_USER: [&str; 1] = ["codex_approve"];

/// The variable a shared project file names instead of the token itself.
pub const TOKEN_VARIABLE: &str = "CODEX_ASYNC_TOKEN";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Client {
    /// Claude Code (`claude`).
    ClaudeCode,
    /// OpenAI's Codex CLI (`codex`).
    Codex,
    /// Cursor (the editor and its `agent` CLI).
    Cursor,
    /// The Claude desktop app.
    ClaudeDesktop,
    /// VS Code's Copilot chat.
    Vscode,
}

impl Client {
    pub fn title(self) -> &'static str {
        match self {
            Client::ClaudeCode => "Claude Code",
            Client::Codex => "Codex",
            Client::Cursor => "Cursor",
            Client::ClaudeDesktop => "Claude Desktop",
            Client::Vscode => "VS Code",
        }
    }

    /// The name on the command line (`claude-code`).
    pub fn arg(self) -> &'static str {
        match self {
            Client::ClaudeCode => "claude-code",
            Client::Codex => "codex",
            Client::Cursor => "cursor",
            Client::ClaudeDesktop => "claude-desktop",
            Client::Vscode => "vscode",
        }
    }
}

impl fmt::Display for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.arg())
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    /// The client's configuration for every project of this user.
    #[default]
    User,
    /// The current folder's project file (meant to be shared: it names $CODEX_ASYNC_TOKEN instead of holding the token).
    Project,
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Scope::User => "user",
            Scope::Project => "project",
        })
    }
}

/// How a file is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Plain JSON: comments and trailing commas are mistakes the client would refuse.
    Json,
    /// JSON with comments (and trailing commas), as VS Code reads it.
    Jsonc,
    Toml,
}

/// What the locations depend on, read once from the environment (tests give their own).
#[derive(Clone, Debug)]
pub struct Places {
    pub home: PathBuf,
    pub cwd: PathBuf,
    pub codex_home: Option<PathBuf>,
    pub claude_config_dir: Option<PathBuf>,
    pub xdg_config_home: Option<PathBuf>,
}

/// An environment variable holding a path, when set and not empty.
fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name).filter(|value| !value.is_empty()).map(PathBuf::from)
}

impl Places {
    pub fn from_env() -> Result<Places, String> {
        let home = env_path("HOME").ok_or("HOME is not set: cannot tell where the client keeps its configuration")?;
        let cwd = std::env::current_dir().map_err(|err| format!("the current folder: {err}"))?;
        Ok(Places {
            home,
            cwd,
            codex_home: env_path("CODEX_HOME"),
            claude_config_dir: env_path("CLAUDE_CONFIG_DIR"),
            xdg_config_home: env_path("XDG_CONFIG_HOME"),
        })
    }

    /// Where desktop apps keep per-user settings: `~/Library/Application Support` on
    /// macOS, `$XDG_CONFIG_HOME` (default `~/.config`) elsewhere.
    fn app_config_dir(&self) -> PathBuf {
        if cfg!(target_os = "macos") {
            self.home.join("Library/Application Support")
        } else {
            self.xdg_config_home.clone().unwrap_or_else(|| self.home.join(".config"))
        }
    }

    /// Claude Code's own folder (`~/.claude`, or `$CLAUDE_CONFIG_DIR`).
    fn claude_dir(&self) -> PathBuf {
        self.claude_config_dir.clone().unwrap_or_else(|| self.home.join(".claude"))
    }
}

/// Claude Code's state file: `.claude.json` in `$CLAUDE_CONFIG_DIR` or the home — or the
/// legacy `.config.json` in its own folder, which it reads first when present (2.1.197).
fn claude_json(places: &Places) -> PathBuf {
    let legacy = places.claude_dir().join(".config.json");
    if legacy.is_file() {
        return legacy;
    }
    places.claude_config_dir.as_deref().unwrap_or(&places.home).join(".claude.json")
}

/// The files one client and scope use.
#[derive(Clone, Debug)]
pub struct Files {
    /// Where the server entry goes.
    pub servers: PathBuf,
    pub servers_format: Format,
    /// Where tool approvals (and, for Claude Code's project scope, the server's approval) go.
    pub approvals: Option<(PathBuf, Format)>,
}

/// Where `client` keeps its servers for `scope`; an error says why a pair makes no sense.
pub fn files(client: Client, scope: Scope, places: &Places) -> Result<Files, String> {
    let project = |relative: &str| places.cwd.join(relative);
    let files = match (client, scope) {
        (Client::ClaudeCode, Scope::User) => Files {
            servers: claude_json(places),
            servers_format: Format::Json,
            approvals: Some((places.claude_dir().join("settings.json"), Format::Json)),
        },
        (Client::ClaudeCode, Scope::Project) => Files {
            servers: project(".mcp.json"),
            servers_format: Format::Json,
            approvals: Some((project(".claude/settings.local.json"), Format::Json)),
        },
        (Client::Codex, Scope::User) => Files {
            servers: places.codex_home.clone().unwrap_or_else(|| places.home.join(".codex")).join("config.toml"),
            servers_format: Format::Toml,
            approvals: None,
        },
        (Client::Codex, Scope::Project) => Files { servers: project(".codex/config.toml"), servers_format: Format::Toml, approvals: None },
        (Client::Cursor, Scope::User) => Files {
            servers: places.home.join(".cursor/mcp.json"),
            servers_format: Format::Json,
            approvals: Some((places.home.join(".cursor/permissions.json"), Format::Jsonc)),
        },
        (Client::Cursor, Scope::Project) => Files {
            servers: project(".cursor/mcp.json"),
            servers_format: Format::Json,
            approvals: Some((project(".cursor/permissions.json"), Format::Jsonc)),
        },
        (Client::ClaudeDesktop, Scope::User) => Files {
            servers: places.app_config_dir().join("Claude/claude_desktop_config.json"),
            servers_format: Format::Json,
            approvals: None,
        },
        (Client::ClaudeDesktop, Scope::Project) => {
            return Err("Claude Desktop has no project configuration; leave out --scope project".to_owned());
        }
        (Client::Vscode, Scope::User) => {
            Files { servers: places.app_config_dir().join("Code/User/mcp.json"), servers_format: Format::Jsonc, approvals: None }
        }
        (Client::Vscode, Scope::Project) => Files { servers: project(".vscode/mcp.json"), servers_format: Format::Jsonc, approvals: None },
    };
    Ok(files)
}

/// `~/x` for a path under the home, for messages.
pub fn show_path(path: &Path, home: &Path) -> String {
    match path.strip_prefix(home) {
        Ok(rest) if !home.as_os_str().is_empty() => format!("~/{}", rest.display()),
        _ => path.display().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn places() -> Places {
        Places { home: PathBuf::from("/h"), cwd: PathBuf::from("/p"), codex_home: None, claude_config_dir: None, xdg_config_home: None }
    }

    #[test]
    fn defaults_follow_each_client() {
        let places = places();
        let path = |client, scope| files(client, scope, &places).unwrap().servers;
        assert_eq!(path(Client::ClaudeCode, Scope::User), PathBuf::from("/h/.claude.json"));
        assert_eq!(path(Client::ClaudeCode, Scope::Project), PathBuf::from("/p/.mcp.json"));
        assert_eq!(path(Client::Codex, Scope::User), PathBuf::from("/h/.codex/config.toml"));
        assert_eq!(path(Client::Codex, Scope::Project), PathBuf::from("/p/.codex/config.toml"));
        assert_eq!(path(Client::Cursor, Scope::User), PathBuf::from("/h/.cursor/mcp.json"));
        assert_eq!(path(Client::Vscode, Scope::Project), PathBuf::from("/p/.vscode/mcp.json"));
        assert!(files(Client::ClaudeDesktop, Scope::Project, &places).is_err());
        if !cfg!(target_os = "macos") {
            assert_eq!(path(Client::Vscode, Scope::User), PathBuf::from("/h/.config/Code/User/mcp.json"));
            assert_eq!(path(Client::ClaudeDesktop, Scope::User), PathBuf::from("/h/.config/Claude/claude_desktop_config.json"));
        }
    }

    #[test]
    fn environment_moves_them() {
        let places = Places {
            codex_home: Some(PathBuf::from("/ch")),
            claude_config_dir: Some(PathBuf::from("/cc")),
            xdg_config_home: Some(PathBuf::from("/x")),
            ..places()
        };
        assert_eq!(files(Client::Codex, Scope::User, &places).unwrap().servers, PathBuf::from("/ch/config.toml"));
        let claude = files(Client::ClaudeCode, Scope::User, &places).unwrap();
        assert_eq!(claude.servers, PathBuf::from("/cc/.claude.json"));
        assert_eq!(claude.approvals.unwrap().0, PathBuf::from("/cc/settings.json"));
        if !cfg!(target_os = "macos") {
            assert_eq!(files(Client::Vscode, Scope::User, &places).unwrap().servers, PathBuf::from("/x/Code/User/mcp.json"));
        }
    }
}
