//! Attacks on the HTTP endpoint and on the token, made through the real binary: another
//! user reading a client's configuration, an agent reading its environment, `ps`, a job
//! started from inside another job, another user (or a web page) calling a `--no-auth`
//! endpoint, hundreds of half-sent requests, and thousands of sessions.
//!
//! The other-user attacks need root (to run a client as uid 65534 with `setpriv`); CI
//! runs as root. Elsewhere they say loudly that they were not made, and test the rest.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crate::support::mcp::{INITIALIZE, call, http_client, ok};
use crate::support::{BIN, ProcessGuard, TestHome, fake_agent, is_alive, lines_of, next_line, wait_until};
use codex_async::mcp::{HEADER_READ_TIMEOUT, MAX_SESSIONS, connection_cap};
use reqwest::StatusCode;
use serde_json::{Value, json};

const INITIALIZED: &str = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;
const PING: &str = r#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#;
const NOBODY: u32 = 65534;

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Says, where nobody can miss it, that an attack could not be made here (straight to
/// stderr: the test harness would hide `eprintln!` of a passing test).
fn not_made(what: &str) {
    let _ = writeln!(
        std::io::stderr(),
        "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
         !!! NOT ROOT: {what} was NOT tested (it needs root to act as uid {NOBODY}).\n\
         !!! Run this test as root (CI does) to make that attack.\n\
         !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
    );
}

/// `program args…` run as uid/gid 65534 with no supplementary groups.
fn as_nobody(program: &str, args: &[&str]) -> Output {
    Command::new("setpriv")
        .args([format!("--reuid={NOBODY}"), format!("--regid={NOBODY}"), "--clear-groups".to_owned(), "--".to_owned(), program.to_owned()])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run setpriv")
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn chmod(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

/// A `codex-async serve --http …` of this test; killed when dropped.
struct Served {
    process: ProcessGuard,
    pid: i32,
    url: String,
}

impl Served {
    /// Starts `serve --http ADDR extra…`; with `open_files`, under that limit (`ulimit`'s
    /// options, such as `-n 256`).
    fn start(home: &TestHome, addr: &str, extra: &[&str], env: &[(&str, &str)], open_files: Option<&str>) -> Served {
        let mut command = match open_files {
            Some(limit) => {
                let mut command = Command::new("sh");
                command.arg("-c").arg(format!("ulimit {limit} && exec \"$0\" \"$@\"")).arg(BIN);
                command
            }
            None => Command::new(BIN),
        };
        command.args(["serve", "--http", addr]).args(extra);
        command.env("CODEX_ASYNC_HOME", home.path()).env("CODEX_BIN", fake_agent()).env_remove("CODEX_ASYNC_TOKEN");
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().expect("spawn serve");
        let stderr = lines_of(child.stderr.take().unwrap());
        let pid = child.id() as i32;
        let process = ProcessGuard::new(child);
        let first = next_line(&stderr, Duration::from_secs(30), "the server's address");
        let url = first.strip_prefix("codex-async: serving MCP at ").unwrap_or_else(|| panic!("unexpected stderr: {first}")).to_owned();
        Served { process, pid, url }
    }

    /// Stops it as a person would (SIGTERM), and waits for it to exit.
    fn stop(mut self) {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.pid), nix::sys::signal::Signal::SIGTERM).unwrap();
        let status = self.process.exit_within(Duration::from_secs(30), "the server to stop");
        assert!(status.success(), "{status}");
    }

    fn port(&self) -> u16 {
        self.url.trim_start_matches("http://127.0.0.1:").trim_end_matches("/mcp").parse().unwrap()
    }
}

fn home_token(home: &TestHome) -> String {
    fs::read_to_string(home.path().join("token")).expect("the home's token").trim().to_owned()
}

/// A POST to the endpoint; its status and body (the body read in full).
async fn post(url: &str, headers: &[(&str, &str)], body: &str) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let mut request = reqwest::Client::new()
        .post(url)
        .timeout(Duration::from_secs(30))
        .header("Content-Type", "application/json")
        .header("Accept", "application/json, text/event-stream")
        .header("MCP-Protocol-Version", "2025-11-25")
        .body(body.to_owned());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("the server answers");
    let (status, headers) = (response.status(), response.headers().clone());
    (status, headers, response.text().await.unwrap_or_default())
}

/// Every process whose command line holds `needle`.
fn processes_showing(needle: &str) -> Vec<i32> {
    codex_async::jobs::process::procfs::all_processes()
        .into_iter()
        .map(|process| process.pid)
        .filter(|pid| fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|line| line.windows(needle.len()).any(|w| w == needle.as_bytes())))
        .collect()
}

fn environ(pid: i32) -> Vec<String> {
    fs::read(format!("/proc/{pid}/environ"))
        .unwrap_or_default()
        .split(|&byte| byte == 0)
        .filter(|entry| !entry.is_empty())
        .map(|entry| String::from_utf8_lossy(entry).into_owned())
        .collect()
}

/// The supervisors of a home (spares included): they run `__supervise` with its `CODEX_ASYNC_HOME`.
fn supervisors_of(home: &TestHome) -> Vec<i32> {
    let home_entry = format!("CODEX_ASYNC_HOME={}", home.path().display());
    processes_showing("__supervise").into_iter().filter(|&pid| environ(pid).contains(&home_entry)).collect()
}

// ---- 6. the token leaks ----------------------------------------------------------------

/// A client's configuration that others may read (0644, in a home others may enter) gets
/// the bearer token: before it is written, the file becomes the user's alone, and so does
/// every backup holding it. Another user tries to read them.
#[test]
fn install_makes_a_shared_client_file_private_before_it_holds_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let codex_async_home = dir.path().join("codex-async-home");
    let config = home.join(".cursor/mcp.json");
    fs::create_dir_all(config.parent().unwrap()).unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/clients/cursor.mcp.json");
    fs::write(&config, fs::read_to_string(fixture).unwrap()).unwrap();
    // As most homes are: others may enter the folders and read what is 0644.
    for open in [dir.path(), &home, &home.join(".cursor")] {
        chmod(open, 0o755);
    }
    chmod(&config, 0o644);
    let install = |args: &[&str]| {
        let output = Command::new(BIN)
            .args(args)
            .current_dir(&home)
            .env("HOME", &home)
            .env("CODEX_ASYNC_HOME", &codex_async_home)
            .env_remove("CODEX_ASYNC_TOKEN")
            .env_remove("XDG_CONFIG_HOME")
            .output()
            .unwrap();
        assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    };
    // Another user tries to read what holds the token (as root only: see the module's doc).
    let steal = |file: &Path, token: &str| {
        let read = as_nobody("cat", &[file.to_str().unwrap()]);
        let shown = String::from_utf8_lossy(&read.stdout);
        assert!(!read.status.success() && !shown.contains(token), "uid {NOBODY} read the token in {}: {shown}", file.display());
    };
    install(&["install", "cursor", "--http"]);
    let token = fs::read_to_string(codex_async_home.join("token")).unwrap().trim().to_owned();
    let backup = PathBuf::from(format!("{}.codex-async.bak", config.display()));
    assert!(fs::read_to_string(&config).unwrap().contains(&token), "the entry holds the token");
    assert_eq!(mode(&config), 0o600, "the file holding the token is the user's alone");
    assert_eq!(mode(&backup), 0o600, "and so is its backup");
    if is_root() {
        steal(&config, &token);
    }
    // Back to stdio: the file holds no token and gets its mode back; the backup keeps what
    // was there before the first install (never a token install wrote), private still.
    let before_install = fs::read_to_string(&backup).unwrap();
    install(&["install", "cursor"]);
    assert_eq!(fs::read_to_string(&backup).unwrap(), before_install);
    assert!(!before_install.contains(&token));
    assert_eq!(mode(&backup), 0o600, "a backup is private");
    assert!(!fs::read_to_string(&config).unwrap().contains(&token));
    assert_eq!(mode(&config), 0o644, "without the token, the file is as shared as it was");
    if is_root() {
        steal(&backup, &token);
    } else {
        not_made("reading the client's files as another user");
    }
}

/// A server that reads its token from a file of its own (`serve --token-file`): install
/// writes that token (never on a command line), and makes no other.
#[test]
fn install_takes_the_token_from_the_servers_token_file() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let codex_async_home = dir.path().join("codex-async-home");
    fs::create_dir_all(&home).unwrap();
    let file = dir.path().join("server-token");
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&file)
        .unwrap()
        .write_all(b"from-the-servers-file-0123456789\n")
        .unwrap();
    let install = |args: &[&str]| {
        Command::new(BIN).args(args).current_dir(&home).env("HOME", &home).env("CODEX_ASYNC_HOME", &codex_async_home).output().unwrap()
    };
    let output = install(&["install", "cursor", "--http", "--token-file", file.to_str().unwrap()]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(!String::from_utf8_lossy(&output.stdout).contains("from-the-servers-file"), "the token is never shown");
    let config = fs::read_to_string(home.join(".cursor/mcp.json")).unwrap();
    assert!(config.contains("Bearer from-the-servers-file-0123456789"), "{config}");
    assert!(!codex_async_home.join("token").exists(), "no other token is made");
    chmod(&file, 0o644);
    let refused = install(&["install", "cursor", "--http", "--token-file", file.to_str().unwrap()]);
    assert!(!refused.status.success() && String::from_utf8_lossy(&refused.stderr).contains("chmod 600"));
}

/// A server given its token in the environment (one of the ways to give it) passes it to
/// no supervisor — the spare one it keeps ready included — and so to no agent, which is
/// any program reading any repository.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn neither_supervisors_nor_agents_get_the_servers_token() {
    const SECRET: &str = "token-from-the-environment-0123456789";
    let home = TestHome::new();
    let server = Served::start(&home, "127.0.0.1:0", &[], &[("CODEX_ASYNC_TOKEN", SECRET)], None);
    wait_until("the server's spare supervisor", Duration::from_secs(30), || !supervisors_of(&home).is_empty());
    for pid in supervisors_of(&home) {
        assert!(!environ(pid).iter().any(|entry| entry.contains(SECRET)), "the spare supervisor {pid} has the token");
    }

    let (client, _notes) = http_client(&server.url, Some(SECRET)).await;
    let gate = home.path().join("gate");
    let prompt = format!("env await-file:{}", gate.display());
    let started = ok(&call(&client, "codex_start", json!({"prompt": prompt, "cwd": home.path()})).await);
    let id = started["job_id"].as_str().unwrap().to_owned();
    wait_until("the agent's environment", Duration::from_secs(30), || home.output(&id).contains("env-end"));
    let output = home.output(&id);
    let agent_env: Vec<&str> = output.lines().skip_while(|line| *line != "env-begin").take_while(|line| *line != "env-end").collect();
    assert!(agent_env.len() > 3, "{output}");
    assert!(!output.contains(SECRET), "the agent saw the token:\n{output}");
    assert!(!agent_env.iter().any(|line| line.starts_with("CODEX_ASYNC_TOKEN=")), "{agent_env:?}");
    let markers: Vec<&&str> = agent_env.iter().filter(|line| line.starts_with("CODEX_ASYNC_JOB_ID=")).collect();
    assert_eq!(markers, [&format!("CODEX_ASYNC_JOB_ID={id}").as_str()], "the agent carries its own job's marker only");

    let supervisor = home.meta(&id)["supervisor_pid"].as_i64().unwrap() as i32;
    let supervisor_env = environ(supervisor);
    assert!(!supervisor_env.is_empty(), "the supervisor {supervisor} runs");
    assert!(!supervisor_env.iter().any(|entry| entry.contains(SECRET) || entry.starts_with("CODEX_ASYNC_TOKEN=")), "{supervisor_env:?}");
    assert!(!supervisor_env.iter().any(|entry| entry.starts_with("CODEX_ASYNC_JOB_ID=")), "{supervisor_env:?}");
    fs::write(&gate, "").unwrap();
    home.wait_for_status(&id, "done", Duration::from_secs(30));
    client.cancel().await.unwrap();
}

/// With `--token-file`, the token is in no process's command line (what `ps` shows every
/// user) nor in the server's environment, and it is the one the server takes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_file_keeps_the_token_out_of_ps() {
    const SECRET: &str = "token-in-a-file-9876543210abcdef";
    let home = TestHome::new();
    let file = home.path().join("secret-token");
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&file)
        .unwrap()
        .write_all(format!("{SECRET}\n").as_bytes())
        .unwrap();
    let server = Served::start(&home, "127.0.0.1:0", &["--token-file", file.to_str().unwrap()], &[], None);
    assert!(processes_showing(SECRET).is_empty(), "a command line shows the token");
    assert!(!environ(server.pid).iter().any(|entry| entry.contains(SECRET)));
    let ps = Command::new("ps").args(["-eo", "args"]).output();
    if let Ok(ps) = ps {
        assert!(!String::from_utf8_lossy(&ps.stdout).contains(SECRET), "ps shows the token");
    }
    assert_eq!(post(&server.url, &[("Authorization", &format!("Bearer {SECRET}"))], INITIALIZE).await.0, StatusCode::OK);
    let (status, _, body) = post(&server.url, &[("Authorization", "Bearer wrong")], INITIALIZE).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("--token-file") && !body.contains(SECRET), "{body}");
    assert!(!home.path().join("token").exists(), "the home's token file is not made");
}

/// An agent that runs `codex-async start` passes its job's marker on; the new job's
/// supervisor must not carry it, or the first job's cleanup ends the second job.
#[test]
fn a_job_started_from_inside_another_survives_its_end() {
    let home = TestHome::new();
    let gate = home.path().join("outer-gate");
    let outer = home.start(&format!("say:outer await-file:{}", gate.display()));
    let inner = {
        // What an agent of the outer job does: its environment carries the outer job's marker.
        let output = home
            .command()
            .env("CODEX_ASYNC_JOB_ID", &outer)
            .args(["start", "--json", "--cwd", home.path().to_str().unwrap(), "--", "say:inner sleep:120"])
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        serde_json::from_slice::<Value>(&output.stdout).unwrap()["job_id"].as_str().unwrap().to_owned()
    };
    wait_until("the inner agent", Duration::from_secs(30), || !home.reported_pids(&inner, "agent").is_empty());
    let inner_agent = home.reported_pids(&inner, "agent")[0];
    let inner_supervisor = home.meta(&inner)["supervisor_pid"].as_i64().unwrap() as i32;
    let outer_supervisor = home.meta(&outer)["supervisor_pid"].as_i64().unwrap() as i32;

    fs::write(&gate, "").unwrap();
    home.wait_for_status(&outer, "done", Duration::from_secs(30));
    // Its supervisor ends its leftovers before it exits: once it is gone, the cleanup is over.
    wait_until("the outer job's cleanup", Duration::from_secs(60), || !is_alive(outer_supervisor));
    assert!(is_alive(inner_supervisor), "the inner job's supervisor was ended with the outer job");
    assert!(is_alive(inner_agent), "the inner job's agent was ended with the outer job");
    assert_eq!(home.status(&inner), "running", "{}", home.meta(&inner));
    assert!(home.run(&["cancel", &inner]).status.success());
}

// ---- 7. --no-auth: the same user only, and no web page ---------------------------------

/// `curl` as uid 65534 against the endpoint: `initialize`, then (if that worked) the
/// session's `codex_start`, as the attack went. Returns the first answer's status line
/// and body.
fn nobody_starts_a_job(url_or_socket: (&str, Option<&str>), cwd: &Path) -> String {
    let (url, socket) = url_or_socket;
    let curl = |extra: &[&str], body: &str| {
        let mut args: Vec<&str> = vec!["-s", "-i", "--max-time", "20", "-X", "POST", url, "-H", "Content-Type: application/json"];
        args.extend(["-H", "Accept: application/json, text/event-stream", "-H", "MCP-Protocol-Version: 2025-11-25"]);
        if let Some(socket) = socket {
            args.extend(["--unix-socket", socket]);
        }
        args.extend(extra);
        args.extend(["-d", body]);
        let output = as_nobody("curl", &args);
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let first = curl(&[], INITIALIZE);
    let session = first.lines().find_map(|line| line.to_ascii_lowercase().strip_prefix("mcp-session-id:").map(|id| id.trim().to_owned()));
    if let Some(session) = session {
        let header = format!("Mcp-Session-Id: {session}");
        curl(&["-H", &header], INITIALIZED);
        let start = json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "codex_start",
            "arguments": {"prompt": "say:pwned", "cwd": cwd, "approval_policy": "full-auto"}}});
        curl(&["-H", &header], &start.to_string());
    }
    first
}

fn curl_works() -> bool {
    Command::new("curl").arg("--version").stdout(Stdio::null()).status().is_ok_and(|status| status.success())
}

fn no_job_in(home: &TestHome) -> bool {
    fs::read_dir(home.path().join("jobs"))
        .map_or(true, |entries| entries.filter_map(Result::ok).all(|entry| entry.file_name().to_string_lossy().starts_with('.')))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_token_another_users_connection_is_refused() {
    let home = TestHome::new();
    chmod(home.path(), 0o755);
    let server = Served::start(&home, "127.0.0.1:0", &["--no-auth"], &[], None);
    assert_eq!(post(&server.url, &[], INITIALIZE).await.0, StatusCode::OK, "the same user gets in");
    if !is_root() || !curl_works() {
        not_made("a --no-auth endpoint called by another user over TCP");
        return;
    }
    let answer = nobody_starts_a_job((&server.url, None), home.path());
    assert!(answer.starts_with("HTTP/1.1 403"), "uid {NOBODY} got in:\n{answer}");
    assert!(answer.contains(&format!("uid {NOBODY}")) && answer.contains("--no-auth"), "the refusal says why:\n{answer}");
    assert!(no_job_in(&home), "uid {NOBODY} started a job");
    assert_eq!(post(&server.url, &[], INITIALIZE).await.0, StatusCode::OK, "the same user still gets in");
}

/// `--http unix:PATH`: a socket only its user can open; and should it be opened to
/// others by mistake, the kernel's word on the peer (SO_PEERCRED) still keeps them out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unix_socket_serves_its_own_user_only() {
    let home = TestHome::new();
    chmod(home.path(), 0o755);
    let folder = home.path().join("run");
    let socket = folder.join("mcp.sock");
    let address = format!("unix:{}", socket.display());
    let server = Served::start(&home, &address, &["--no-auth"], &[], None);
    assert_eq!(server.url, address);
    assert_eq!(mode(&socket), 0o600);
    assert_eq!(mode(&folder), 0o700);
    let record: Value =
        serde_json::from_str(&fs::read_to_string(home.path().join("servers").join(format!("{}.json", server.pid))).unwrap()).unwrap();
    assert_eq!(record["socket"], json!(socket));
    assert_eq!(status_over_unix_socket(&socket, INITIALIZE), 200, "the same user gets in");
    if !is_root() || !curl_works() {
        not_made("a Unix socket endpoint called by another user");
        return;
    }
    let url = "http://localhost/mcp";
    let refused = nobody_starts_a_job((url, Some(socket.to_str().unwrap())), home.path());
    assert!(refused.is_empty(), "uid {NOBODY} could connect:\n{refused}");
    // Opened to everyone by mistake: the peer check refuses what the mode no longer does.
    chmod(&folder, 0o755);
    chmod(&socket, 0o666);
    let answer = nobody_starts_a_job((url, Some(socket.to_str().unwrap())), home.path());
    assert!(answer.starts_with("HTTP/1.1 403") && answer.contains(&format!("uid {NOBODY}")), "uid {NOBODY} got in:\n{answer}");
    assert!(no_job_in(&home));
    server.stop();
    assert!(!socket.exists(), "the socket goes with the server");
}

/// The status of one request over a Unix socket, read from the status line.
fn status_over_unix_socket(socket: &Path, body: &str) -> u16 {
    let mut stream = std::os::unix::net::UnixStream::connect(socket).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let request = format!(
        "POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n") {
        assert_eq!(stream.read(&mut byte).unwrap(), 1, "the server closed before its status line");
        head.push(byte[0]);
    }
    String::from_utf8_lossy(&head).split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// A web page on this machine (any site a browser shows can make it send to localhost)
/// must not drive a `--no-auth` endpoint: a request with an `Origin` is refused — on a
/// port the system picked, all but the server's own origin (which no page can have); on
/// a port named, that one too (a tab left open on an earlier server of that port has it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_token_web_pages_are_refused() {
    let home = TestHome::new();
    let picked = Served::start(&home, "127.0.0.1:0", &["--no-auth"], &[], None);
    let port = picked.port();
    let pages = [
        format!("http://localhost:{}", port + 1),
        format!("https://localhost:{port}"),
        format!("http://evil.example:{port}"),
        "http://127.0.0.1".to_owned(),
        "null".to_owned(),
    ];
    for origin in &pages {
        let (status, _, body) = post(&picked.url, &[("Origin", origin)], INITIALIZE).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{origin}: {body}");
        assert!(body.contains("Origin") && body.contains("--no-auth"), "{body}");
    }
    for own in [format!("http://localhost:{port}"), format!("http://127.0.0.1:{port}"), format!("http://[::1]:{port}")] {
        assert_eq!(post(&picked.url, &[("Origin", &own)], INITIALIZE).await.0, StatusCode::OK, "{own}");
    }
    assert_eq!(post(&picked.url, &[], INITIALIZE).await.0, StatusCode::OK);
    drop(picked);

    // The same server on a port named: even its own origin is refused.
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let named = Served::start(&home, &format!("127.0.0.1:{free}"), &["--no-auth"], &[], None);
    let (status, _, body) = post(&named.url, &[("Origin", &format!("http://127.0.0.1:{free}"))], INITIALIZE).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
}

// ---- 8. connections and sessions are bounded --------------------------------------------

const SLOW_CONNECTIONS: usize = 300;
const OPEN_FILES: u32 = 256;

/// Whether the server still holds `stream` open (nothing to read yet, and no end).
fn held_open(mut stream: &std::net::TcpStream) -> bool {
    let mut buffer = [0u8; 1024];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => return false,
            // An error answer before the close: read on.
            Ok(_) => continue,
            Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => return true,
            Err(_) => return false,
        }
    }
}

/// The sockets among a process's descriptors.
fn sockets_of(pid: i32) -> usize {
    fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|entry| fs::read_link(entry.path()).is_ok_and(|link| link.to_string_lossy().starts_with("socket:")))
                .count()
        })
        .unwrap_or(0)
}

/// 300 clients send half a request and wait, against a server limited to 256 open files:
/// it holds no more than its cap, serves a real client while they are open, and drops
/// each of them within the header timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_requests_neither_exhaust_nor_block_the_server() {
    let home = TestHome::new();
    let server = Served::start(&home, "127.0.0.1:0", &[], &[], Some(&format!("-n {OPEN_FILES}")));
    let token = home_token(&home);
    let cap = connection_cap(u64::from(OPEN_FILES));
    let address = format!("127.0.0.1:{}", server.port());
    // Its listener, and the sockets the runtime keeps for itself.
    let own_sockets = sockets_of(server.pid);
    let slow: Vec<std::net::TcpStream> = (0..SLOW_CONNECTIONS)
        .map(|_| {
            let mut stream = std::net::TcpStream::connect(&address).unwrap();
            stream.write_all(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n").unwrap();
            stream.set_nonblocking(true).unwrap();
            stream
        })
        .collect();
    // The cap, not the timeout: long before any header timer runs out, the server holds
    // no more connections than the cap.
    let held = || sockets_of(server.pid).saturating_sub(own_sockets);
    wait_until("the server to hold no more connections than its cap", HEADER_READ_TIMEOUT / 2, || held() <= cap);
    let (status, _, body) = post(&server.url, &[("Authorization", &format!("Bearer {token}"))], INITIALIZE).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let still_open = slow.iter().filter(|stream| held_open(stream)).count();
    assert!(still_open >= cap / 2, "a real client was served while {still_open} slow connections were open (cap {cap})");
    assert!(held() <= cap, "{} connections held", held());
    wait_until("every slow connection to be dropped", HEADER_READ_TIMEOUT * 2 + Duration::from_secs(10), || {
        slow.iter().all(|stream| !held_open(stream))
    });
    assert_eq!(post(&server.url, &[("Authorization", &format!("Bearer {token}"))], INITIALIZE).await.0, StatusCode::OK);
}

/// The soft and hard open-files limits of a process.
fn open_files_of(pid: i32) -> (u64, u64) {
    let limits = fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let line = limits.lines().find(|line| line.starts_with("Max open files")).unwrap();
    let numbers: Vec<u64> = line.split_whitespace().filter_map(|word| word.parse().ok()).collect();
    (numbers[0], numbers[1])
}

/// The server raises its soft open-files limit to the hard one (every connection is a
/// descriptor); the jobs it starts get the limit it had before, not the raised one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_raises_its_open_files_limit_and_its_jobs_keep_the_old_one() {
    use nix::sys::resource::{Resource, getrlimit};
    let (_, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
    let soft = (hard / 2).min(512);
    let home = TestHome::new();
    let server = Served::start(&home, "127.0.0.1:0", &[], &[], Some(&format!("-Sn {soft}")));
    assert_eq!(open_files_of(server.pid), (hard, hard), "the server raised its soft limit");
    let (client, _notes) = http_client(&server.url, Some(&home_token(&home))).await;
    let gate = home.path().join("gate");
    let prompt = format!("env await-file:{}", gate.display());
    let started = ok(&call(&client, "codex_start", json!({"prompt": prompt, "cwd": home.path()})).await);
    let id = started["job_id"].as_str().unwrap().to_owned();
    wait_until("the agent", Duration::from_secs(30), || home.output(&id).contains("env-end"));
    let supervisor = home.meta(&id)["supervisor_pid"].as_i64().unwrap() as i32;
    let agent = home.reported_pids(&id, "agent")[0];
    assert_eq!(open_files_of(supervisor), (soft, hard), "the supervisor runs with the old limit");
    assert_eq!(open_files_of(agent), (soft, hard), "and so does the agent");
    assert!(!home.output(&id).contains("CODEX_ASYNC_NOFILE"), "the agent is not told");
    fs::write(&gate, "").unwrap();
    home.wait_for_status(&id, "done", Duration::from_secs(30));
    client.cancel().await.unwrap();
}

/// A session: `initialize` and `notifications/initialized`; its id.
async fn open_session(url: &str, bearer: &str) -> String {
    let (status, headers, body) = post(url, &[("Authorization", bearer)], INITIALIZE).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let id = headers["mcp-session-id"].to_str().unwrap().to_owned();
    let (status, _, body) = post(url, &[("Authorization", bearer), ("Mcp-Session-Id", &id)], INITIALIZED).await;
    assert!(status.is_success(), "{status}: {body}");
    id
}

async fn ping(url: &str, bearer: &str, session: &str) -> StatusCode {
    post(url, &[("Authorization", bearer), ("Mcp-Session-Id", session)], PING).await.0
}

/// Sessions beyond the cap end the one idle the longest; a session with a stream open
/// (here the oldest, listening on GET) is not idle and stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_beyond_the_cap_end_the_one_idle_the_longest() {
    let home = TestHome::new();
    let server = Served::start(&home, "127.0.0.1:0", &[], &[], None);
    let bearer = format!("Bearer {}", home_token(&home));
    let url = server.url.as_str();
    let listening = open_session(url, &bearer).await;
    let stream = reqwest::Client::new()
        .get(url)
        .header("Authorization", &bearer)
        .header("Accept", "text/event-stream")
        .header("Mcp-Session-Id", &listening)
        .header("MCP-Protocol-Version", "2025-11-25")
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK, "the GET stream is open");
    let idle = open_session(url, &bearer).await;
    let mut newer = Vec::new();
    for _ in 0..MAX_SESSIONS - 1 {
        newer.push(open_session(url, &bearer).await);
    }
    assert_eq!(ping(url, &bearer, &idle).await, StatusCode::NOT_FOUND, "the session idle the longest was ended");
    assert_eq!(ping(url, &bearer, &listening).await, StatusCode::OK, "a session with a stream open stays");
    assert_eq!(ping(url, &bearer, newer.last().unwrap()).await, StatusCode::OK);
    open_session(url, &bearer).await;
    assert_eq!(ping(url, &bearer, &newer[0]).await, StatusCode::NOT_FOUND, "the next one idle the longest goes next");
    assert_eq!(ping(url, &bearer, &listening).await, StatusCode::OK);
    drop(stream);
}
