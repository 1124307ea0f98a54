//! `[hosts.NAME]` in config.toml: the other machines whose codex-async this one speaks
//! to, over a command's stdio (`ssh box codex-async serve`, or any command) or over
//! streamable HTTP with that host's own token. Checked when the file is read, so a
//! mistake is named with its place before anything connects.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use super::file::{ConfigError, HostConfig};

/// How long connecting to a host may take unless its entry says otherwise.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest host name: it is a column in tables and a prefix of ids.
pub const MAX_HOST_NAME: usize = 32;
/// The name jobs of this machine go by where hosts are shown together; no host may take it.
pub const LOCAL_HOST: &str = "local";
/// The variable the local server's own token may come from: never sent to a host.
const LOCAL_TOKEN_ENV: &str = "CODEX_ASYNC_TOKEN";

/// How a host is reached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostTransport {
    /// MCP over the command's stdin and stdout (no shell: the argv as written).
    Command(Vec<String>),
    /// Streamable HTTP, with the token read from `token_env` when connecting; an https
    /// host's certificate may also chain to `ca_file`'s.
    Http { url: String, token_env: Option<String>, ca_file: Option<std::path::PathBuf> },
}

/// A host, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostSpec {
    pub name: String,
    pub transport: HostTransport,
    pub connect_timeout: Duration,
}

impl HostSpec {
    /// Where the host is, for people: the command, or the URL.
    pub fn describe(&self) -> String {
        match &self.transport {
            HostTransport::Command(argv) => argv.join(" "),
            HostTransport::Http { url, .. } => url.clone(),
        }
    }
}

/// Whether `name` may name a host: a short plain name (letters, digits, `-`, `_`), so
/// that `NAME:ID` splits one way only and the name is safe in a table or a message.
pub fn valid_host_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_HOST_NAME
        && name.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
        && name != LOCAL_HOST
}

/// Every host of the file, checked; the first mistake names its host and key.
pub fn check_hosts(hosts: &BTreeMap<String, HostConfig>, path: &Path) -> Result<BTreeMap<String, HostSpec>, ConfigError> {
    hosts.iter().map(|(name, host)| Ok((name.clone(), check_host(name, host, path)?))).collect()
}

fn check_host(name: &str, host: &HostConfig, path: &Path) -> Result<HostSpec, ConfigError> {
    let shown: String = name.chars().take(40).flat_map(char::escape_debug).collect();
    let place = |key: &str| format!("{} ([hosts.{shown}]{}{key})", path.display(), if key.is_empty() { "" } else { " " });
    let error = |key: &str, message: String| ConfigError { place: place(key), message };
    let fail = |key: &str, message: String| Err(error(key, message));
    if name == LOCAL_HOST {
        return fail("", format!("'{LOCAL_HOST}' names this machine's own jobs: give the host another name"));
    }
    if !valid_host_name(name) {
        return fail(
            "",
            format!("a host name is 1 to {MAX_HOST_NAME} letters, digits, '-' or '_' (it prefixes job ids as NAME:ID, so never ':')"),
        );
    }
    let transport = match (&host.command, &host.url) {
        (Some(_), Some(_)) => return fail("", "give command or url, not both".to_owned()),
        (None, None) => {
            return fail(
                "",
                "say how to reach it: command = [\"ssh\", \"box\", \"codex-async\", \"serve\"] or url = \"http://…/mcp\"".to_owned(),
            );
        }
        (Some(command), None) => {
            if host.token_env.is_some() {
                return fail(
                    "token_env",
                    "a command host needs no token (the command reaches the host); token_env goes with url".to_owned(),
                );
            }
            if host.ca_file.is_some() {
                return fail("ca_file", "a command host has no certificate to check; ca_file goes with an https url".to_owned());
            }
            if command.first().is_none_or(|program| program.trim().is_empty()) {
                return fail("command", "the command must start with the program to run".to_owned());
            }
            if command.iter().any(|arg| arg.contains('\0')) {
                return fail("command", "an argument holds a NUL byte".to_owned());
            }
            HostTransport::Command(command.clone())
        }
        (None, Some(url)) => {
            check_url(url).map_err(|message| error("url", message))?;
            if let Some(variable) = &host.token_env {
                check_token_env(variable).map_err(|message| error("token_env", message))?;
            }
            let ca_file = match &host.ca_file {
                Some(_) if !url.starts_with("https://") => {
                    return fail("ca_file", "ca_file checks an https host's certificate: the url is not https".to_owned());
                }
                Some(file) => Some(ca_path(file, path)),
                None => None,
            };
            HostTransport::Http { url: url.clone(), token_env: host.token_env.clone(), ca_file }
        }
    };
    let connect_timeout = host.connect_timeout.map_or(DEFAULT_CONNECT_TIMEOUT, |timeout| timeout.0);
    if connect_timeout.is_zero() {
        return fail("connect_timeout", "give a time above 0 (default 10s)".to_owned());
    }
    Ok(HostSpec { name: name.to_owned(), transport, connect_timeout })
}

/// An `https://` URL, or an `http://` one on a loopback address: a bearer token never
/// crosses a network in the clear. Neither may carry a user or password (a token goes
/// in its variable, not in the file).
fn check_url(url: &str) -> Result<(), String> {
    if let Some(rest) = url.strip_prefix("https://") {
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if authority.is_empty() || authority.contains('@') || url.chars().any(char::is_whitespace) {
            return Err(format!("{url:?}: give https://HOST[:PORT]/PATH, with no user or password in it (the token goes in token_env)"));
        }
        return Ok(());
    }
    let Some(rest) = url.strip_prefix("http://") else {
        return Err(format!("{url:?} is not an https:// or http:// URL"));
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => authority.rsplit_once(':').map_or(authority, |(host, _)| host),
    };
    let loopback = host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|address| address.is_loopback());
    if authority.contains('@') || !loopback {
        return Err(format!(
            "{url:?}: plain http only to a loopback address (127.0.0.1, [::1], localhost), so the token never crosses a network in the clear; give the host's https:// URL, tunnel its endpoint over SSH (ssh -L 9876:127.0.0.1:8765 box), or use command"
        ));
    }
    Ok(())
}

/// `ca_file` as a path: `~/…` in the home folder, a relative one beside config.toml.
fn ca_path(file: &Path, config: &Path) -> std::path::PathBuf {
    let home = std::env::var_os("HOME").filter(|home| !home.is_empty());
    match (file.strip_prefix("~"), home) {
        (Ok(rest), Some(home)) => Path::new(&home).join(rest),
        _ => config.parent().unwrap_or(Path::new(".")).join(file),
    }
}

fn check_token_env(variable: &str) -> Result<(), String> {
    let plain = !variable.is_empty()
        && variable.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'_')
        && !variable.as_bytes()[0].is_ascii_digit();
    if !plain {
        return Err(format!("{variable:?} is not an environment variable's name"));
    }
    if variable == LOCAL_TOKEN_ENV {
        return Err(format!(
            "{LOCAL_TOKEN_ENV} holds this machine's own token, which never goes to another host: name the host's own variable"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Result<BTreeMap<String, HostSpec>, ConfigError> {
        let path = Path::new("/home/me/.codex-async/config.toml");
        let file = super::super::FileConfig::parse(text, path)?;
        check_hosts(&file.hosts, path)
    }

    #[test]
    fn a_command_host_and_an_http_host_are_read() {
        let hosts = parsed(
            "[hosts.box]\ncommand = [\"ssh\", \"box\", \"codex-async\", \"serve\"]\n\
             [hosts.gpu-2]\nurl = \"http://127.0.0.1:9876/mcp\"\ntoken_env = \"GPU_TOKEN\"\nconnect_timeout = \"3s\"\n",
        )
        .unwrap();
        assert_eq!(hosts["box"].transport, HostTransport::Command(vec!["ssh".into(), "box".into(), "codex-async".into(), "serve".into()]));
        assert_eq!(hosts["box"].connect_timeout, DEFAULT_CONNECT_TIMEOUT);
        assert_eq!(
            hosts["gpu-2"].transport,
            HostTransport::Http { url: "http://127.0.0.1:9876/mcp".into(), token_env: Some("GPU_TOKEN".into()), ca_file: None }
        );
        assert_eq!(hosts["gpu-2"].connect_timeout, Duration::from_secs(3));
    }

    #[test]
    fn mistakes_are_named_with_their_host_and_key() {
        let cases = [
            ("[hosts.box]\ncommand = [\"ssh\"]\nport = 22\n", "unknown field `port`"),
            ("[hosts.\"a:b\"]\ncommand = [\"ssh\"]\n", "never ':'"),
            ("[hosts.\"a b\"]\ncommand = [\"ssh\"]\n", "letters, digits"),
            ("[hosts.local]\ncommand = [\"ssh\"]\n", "this machine's own jobs"),
            ("[hosts.box]\n", "say how to reach it"),
            ("[hosts.box]\ncommand = [\"ssh\"]\nurl = \"http://127.0.0.1:1/mcp\"\n", "not both"),
            ("[hosts.box]\ncommand = []\n", "start with the program"),
            ("[hosts.box]\ncommand = [\"ssh\"]\ntoken_env = \"T\"\n", "needs no token"),
            ("[hosts.box]\nurl = \"https://me:secret@box:8765/mcp\"\n", "no user or password"),
            ("[hosts.box]\nurl = \"ftp://box/mcp\"\n", "not an https:// or http:// URL"),
            ("[hosts.box]\nurl = \"http://127.0.0.1:1/mcp\"\nca_file = \"/ca.pem\"\n", "the url is not https"),
            ("[hosts.box]\ncommand = [\"ssh\"]\nca_file = \"/ca.pem\"\n", "ca_file goes with an https url"),
            ("[hosts.box]\nurl = \"http://box.example:8765/mcp\"\n", "loopback"),
            ("[hosts.box]\nurl = \"http://127.0.0.1@evil:8765/mcp\"\n", "loopback"),
            ("[hosts.box]\nurl = \"http://127.0.0.1:1/mcp\"\ntoken_env = \"CODEX_ASYNC_TOKEN\"\n", "never goes to another host"),
            ("[hosts.box]\nurl = \"http://127.0.0.1:1/mcp\"\ntoken_env = \"A-B\"\n", "not an environment variable"),
            ("[hosts.box]\ncommand = [\"ssh\"]\nconnect_timeout = 0\n", "above 0"),
        ];
        for (text, expected) in cases {
            let err = parsed(text).expect_err(text).to_string();
            assert!(err.contains(expected), "{text}: {err}");
            assert!(err.contains("config.toml"), "{text}: the file is named: {err}");
        }
        let err = parsed("[hosts.box]\ncommand = [\"ssh\"]\ntoken_env = \"T\"\n").unwrap_err();
        assert!(err.place.contains("[hosts.box] token_env"), "{}", err.place);
    }

    #[test]
    fn loopback_urls_of_every_spelling_are_taken() {
        for url in ["http://127.0.0.1:8765/mcp", "http://localhost:8765/mcp", "http://[::1]:8765/mcp", "http://127.0.0.2/mcp"] {
            assert_eq!(check_url(url), Ok(()), "{url}");
        }
    }

    #[test]
    fn https_goes_anywhere_and_its_ca_file_is_found_beside_the_config() {
        assert_eq!(check_url("https://box.example:8765/mcp"), Ok(()));
        let hosts = parsed("[hosts.box]\nurl = \"https://box.example/mcp\"\nca_file = \"certs/box.pem\"\n").unwrap();
        let HostTransport::Http { ca_file, .. } = &hosts["box"].transport else { panic!("http") };
        assert_eq!(ca_file.as_deref(), Some(Path::new("/home/me/.codex-async/certs/box.pem")));
        let hosts = parsed("[hosts.box]\nurl = \"https://box.example/mcp\"\nca_file = \"/srv/ca.pem\"\n").unwrap();
        let HostTransport::Http { ca_file, .. } = &hosts["box"].transport else { panic!("http") };
        assert_eq!(ca_file.as_deref(), Some(Path::new("/srv/ca.pem")));
    }
}
