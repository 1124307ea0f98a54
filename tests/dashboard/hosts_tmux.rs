//! Other hosts' jobs in the dashboard end to end (tmux): `H` shows every host's jobs
//! live with a HOST column — a job started there appears at once, the selected job's
//! output below — `c` cancels a job on its host, and a host that cannot be reached is
//! shown with why and when it is tried again, until it answers.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use crate::support::TestHome;
use crate::support::hosts::{command_host, configure, serve_argv, serve_shell, shell_host};
use crate::support::tmux::{DEADLINE, Tmux, dashboard_command};

/// Long enough for a host tried again after the longest backoff a test reaches.
const RECONNECT: Duration = Duration::from_secs(90);

#[test]
fn h_shows_hosts_jobs_live_cancels_one_there_and_waits_out_a_host_that_is_down() {
    let local = TestHome::new();
    let host = TestHome::new();
    let other = TestHome::new();
    let dir = tempfile::tempdir().unwrap();
    let up = dir.path().join("gpu-up");
    // gpu refuses, as ssh to a machine that is off does, until `up` exists.
    let script = format!(
        "test -e '{}' || {{ echo 'ssh: connect to host gpu port 22: Connection refused' >&2; exit 255; }}; exec {}",
        up.display(),
        serve_shell(&other, &[])
    );
    configure(&local, &[command_host("box", &serve_argv(&host, &[]), ""), shell_host("gpu", &script, "")]);
    let first = host.start("say:hello-from-box sleep:120");

    let tmux = Tmux::start(&dashboard_command(&local, 0, "--no-mcp"), 140, 40);
    tmux.wait_for("no jobs", DEADLINE);
    tmux.keys(&["H"]);
    tmux.wait_for("Hosts (", DEADLINE);
    tmux.wait_until("box's job in the hosts view", DEADLINE, |screen| {
        screen.lines().any(|line| line.contains("box") && line.contains(&first) && line.contains("running"))
    });
    tmux.wait_for("hello-from-box", DEADLINE);
    tmux.wait_until("gpu said to be unreachable, and why", DEADLINE, |screen| {
        screen.lines().any(|line| line.contains("gpu") && line.contains("unreachable since") && line.contains("retrying in"))
            && screen.contains("ssh: connect to host gpu port 22: Connection refused")
    });

    // A job started there shows up without a key pressed.
    let second = host.start("say:second sleep:120");
    tmux.wait_until("the new job's row", DEADLINE, |screen| screen.lines().any(|line| line.contains(&second) && line.contains("running")));

    // Until a row is chosen the newest is selected, its output below; `↓` chooses the
    // first job, and `c` then `y` cancels it on its host.
    tmux.wait_for("second", DEADLINE);
    tmux.keys(&["Down"]);
    tmux.keys(&["c"]);
    tmux.wait_for(&format!("Cancel job box:{first} on its host?"), DEADLINE);
    tmux.keys(&["y"]);
    host.wait_for_status(&first, "cancelled", DEADLINE);
    tmux.wait_until("the cancelled row", DEADLINE, |screen| screen.lines().any(|line| line.contains(&first) && line.contains("cancelled")));
    assert_eq!(host.status(&second), "running", "only the selected job was cancelled");

    // gpu answers once it is up: tried again, connected, its (empty) list shown.
    std::fs::write(&up, "").unwrap();
    tmux.wait_until("gpu connected", RECONNECT, |screen| screen.lines().any(|line| line.contains("gpu") && line.contains("connected (")));
    tmux.keys(&["Escape"]);
    tmux.wait_until("the hosts view to close", DEADLINE, |screen| !screen.contains("Hosts ("));
}
