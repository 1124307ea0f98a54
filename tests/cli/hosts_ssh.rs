//! The real transport: a host reached through a real `sshd` on 127.0.0.1 (a temporary
//! host key and user key, known hosts in the test's folder), with `ssh` as the host's
//! command, as a person configures it. CI installs openssh-server (`.ci/run`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::support::hosts::{command_host, configure, holds_job, shell_quote};
use crate::support::{BIN, TestHome, fake_agent, json, wait_until};

/// Where Debian's openssh-server puts the daemon.
const SSHD: &str = "/usr/sbin/sshd";

/// A running sshd on a loopback port; stopped when dropped.
struct Sshd {
    child: std::process::Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn keygen(path: &Path) {
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(path)
        .stdin(Stdio::null())
        .status()
        .expect("ssh-keygen (openssh-client)");
    assert!(status.success(), "ssh-keygen failed");
}

/// A port nobody listens on now (the daemon binds it right after).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Sshd {
    fn start() -> Sshd {
        assert!(Path::new(SSHD).is_file(), "{SSHD} is missing: install openssh-server (CI does, in .ci/run)");
        let dir = tempfile::tempdir().unwrap();
        keygen(&dir.path().join("host_key"));
        keygen(&dir.path().join("user_key"));
        std::fs::copy(dir.path().join("user_key.pub"), dir.path().join("authorized_keys")).unwrap();
        let port = free_port();
        let config = format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {0}/host_key\nAuthorizedKeysFile {0}/authorized_keys\n\
             PidFile {0}/sshd.pid\nStrictModes no\nUsePAM no\nPermitRootLogin prohibit-password\nPasswordAuthentication no\n\
             KbdInteractiveAuthentication no\nLogLevel ERROR\n",
            dir.path().display()
        );
        std::fs::write(dir.path().join("sshd_config"), config).unwrap();
        // sshd wants an absolute path to re-execute itself, and its privilege-separation folder.
        std::fs::create_dir_all("/run/sshd").ok();
        let child = Command::new(SSHD)
            .args(["-D", "-e", "-f"])
            .arg(dir.path().join("sshd_config"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start sshd");
        let sshd = Sshd { child, port, dir };
        wait_until("sshd to listen", Duration::from_secs(30), || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
        sshd
    }

    /// `ssh` to this daemon running `remote` (one line of shell there), as config.toml says it.
    fn command(&self, remote: &str) -> Vec<String> {
        let path = |name: &str| -> PathBuf { self.dir.path().join(name) };
        vec![
            "ssh".to_owned(),
            "-p".to_owned(),
            self.port.to_string(),
            "-i".to_owned(),
            path("user_key").display().to_string(),
            "-o".to_owned(),
            "StrictHostKeyChecking=accept-new".to_owned(),
            "-o".to_owned(),
            format!("UserKnownHostsFile={}", path("known_hosts").display()),
            "-o".to_owned(),
            "BatchMode=yes".to_owned(),
            "-o".to_owned(),
            "IdentitiesOnly=yes".to_owned(),
            "127.0.0.1".to_owned(),
            remote.to_owned(),
        ]
    }
}

#[test]
fn a_host_reached_through_a_real_sshd_runs_and_reports_jobs() {
    let sshd = Sshd::start();
    let local = TestHome::new();
    let host = TestHome::new();
    let remote = format!(
        "CODEX_ASYNC_HOME={} CODEX_BIN={} exec {} serve",
        shell_quote(&host.path().display().to_string()),
        shell_quote(&fake_agent().display().to_string()),
        shell_quote(BIN)
    );
    configure(&local, &[command_host("box", &sshd.command(&remote), "")]);

    let states: Value = serde_json::from_slice(&local.run(&["hosts", "--json"]).stdout).unwrap();
    assert_eq!(states[0]["connected"], true, "{states}");
    assert_eq!(states[0]["version"], format!("codex-async {}", env!("CARGO_PKG_VERSION")));
    assert!(sshd.dir.path().join("known_hosts").is_file(), "the host key was accepted into the test's own file");

    let cwd = host.path().to_str().unwrap();
    let started = json(&local.run(&["start", "--host", "box", "--json", "--cwd", cwd, "--", "say:over-ssh sleep:1"]));
    let qualified = started["job_id"].as_str().unwrap().to_owned();
    let id = qualified.strip_prefix("box:").unwrap().to_owned();
    assert!(holds_job(host.path(), &id));
    let waited = local.run(&["wait", &qualified, "--timeout", "60", "--json"]);
    assert_eq!(waited.status.code(), Some(0), "{}", String::from_utf8_lossy(&waited.stderr));
    let view: Value = serde_json::from_slice(&waited.stdout).unwrap();
    assert!(view["output"].as_str().unwrap().contains("over-ssh"), "{view}");
    let listed = json(&local.run(&["list", "--all-hosts", "--json"]));
    assert!(listed.as_array().unwrap().iter().any(|row| row["job_id"] == qualified.as_str() && row["status"] == "done"), "{listed}");

    // A key the daemon does not take: ssh's own words say why.
    let stranger = sshd.dir.path().join("stranger_key");
    keygen(&stranger);
    let mut refused = sshd.command(&remote);
    let at = refused.iter().position(|arg| arg.ends_with("user_key")).unwrap();
    refused[at] = stranger.display().to_string();
    configure(&local, &[command_host("box", &refused, "")]);
    let output = local.run(&["poll", &qualified]);
    assert_eq!(output.status.code(), Some(1));
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.contains("host box is unreachable") && said.contains("Permission denied"), "{said}");
}
