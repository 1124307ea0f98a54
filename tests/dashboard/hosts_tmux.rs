//! Other hosts' jobs in the dashboard end to end (tmux): `H` shows every host's jobs
//! live with a HOST column — a job started there appears at once, the selected job's
//! output below — `c` cancels a job on its host, and a host that cannot be reached is
//! shown with why and when it is tried again, until it answers. From the view a host's
//! change is read (`D`) and applied (`a`), a job followed up there (`r`), and the job
//! form starts a job on a host (`n`); this machine's jobs are listed among them.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use crate::support::TestHome;
use crate::support::hosts::{command_host, configure, serve_argv, serve_shell, shell_host};
use crate::support::repo::RepoHome;
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
    // The main screen's header says how each host is.
    tmux.wait_until("each host's state in the header", DEADLINE, |screen| {
        let header = screen.lines().next().unwrap_or_default();
        header.contains("box 1 running") && header.contains("gpu: unreachable since") && header.contains("retrying in")
    });
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

#[test]
fn from_the_hosts_view_a_hosts_change_is_read_applied_and_followed_up_and_the_form_starts_a_job_there() {
    let local = TestHome::new();
    let scene = RepoHome::new();
    configure(&local, &[command_host("box", &serve_argv(&scene.home, &[]), "")]);
    let (id, _) = scene.worktree_job("session write:x.txt=from-box");

    let tmux = Tmux::start(&dashboard_command(&local, 0, "--no-mcp"), 150, 45);
    tmux.wait_for("no jobs", DEADLINE);
    tmux.keys(&["H"]);
    tmux.wait_until("box's job in the hosts view", DEADLINE, |screen| {
        screen.lines().any(|line| line.contains("box") && line.contains(&id) && line.contains("done"))
    });

    // D: its change, from the host.
    tmux.keys(&["D"]);
    tmux.wait_for(&format!("changes of box:{id}"), DEADLINE);
    tmux.wait_for("+from-box", DEADLINE);
    tmux.keys(&["Escape"]);
    tmux.wait_until("the output again", DEADLINE, |screen| !screen.contains("changes of box:"));

    // a, then y: applied to its folder on the host.
    tmux.keys(&["a"]);
    tmux.wait_for(&format!("Apply job box:{id}'s change to its folder on its host?"), DEADLINE);
    tmux.keys(&["y"]);
    tmux.wait_for(&format!("box:{id}: applied to box:"), DEADLINE);
    assert_eq!(std::fs::read_to_string(scene.repo.join("x.txt")).unwrap(), "from-box\n", "applied on the host");

    // r: a follow-up, sent to the job's host; the new job is selected once listed.
    tmux.keys(&["r"]);
    tmux.wait_for(&format!("Follow up job box:{id}"), DEADLINE);
    tmux.type_text("session say:followed-up-there");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("started job box:", DEADLINE);
    let child = screen.split("started job box:").nth(1).and_then(|rest| rest.split_whitespace().next()).unwrap().to_owned();
    scene.home.wait_for_status(&child, "done", DEADLINE);
    assert_eq!(scene.home.meta(&child)["parent_job_id"], id.as_str(), "continues the parent there");
    tmux.wait_for("followed-up-there", DEADLINE);

    // n: the job form, on the selected job's host, with its folder.
    tmux.keys(&["n"]);
    tmux.wait_for("Runs on (←/→)", DEADLINE);
    tmux.type_text("say:a-new-job-on-box");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("started job box:", DEADLINE);
    let started = screen.split("started job box:").nth(1).and_then(|rest| rest.split_whitespace().next()).unwrap().to_owned();
    assert_ne!(started, child);
    scene.home.wait_for_status(&started, "done", DEADLINE);
    assert!(!crate::support::hosts::holds_job(local.path(), &started), "it ran on the host, not here");
    tmux.wait_for("a-new-job-on-box", DEADLINE);

    // This machine's jobs are among the hosts': the newest first; Enter shows it in the
    // main table, its output there.
    let here = local.start("say:this-machine-says-hi sleep:120");
    tmux.wait_until("this machine's job in the hosts view", DEADLINE, |screen| {
        screen.lines().any(|line| line.contains("local") && line.contains(&here) && line.contains("running"))
    });
    tmux.keys(&["g"]);
    tmux.wait_for("this-machine-says-hi", DEADLINE);
    tmux.keys(&["Enter"]);
    tmux.wait_until("the main table with the job", DEADLINE, |screen| !screen.contains("Hosts (") && screen.contains(&here));
    tmux.wait_for("this-machine-says-hi", DEADLINE);
}

/// Well under the 15 s keepalive: a dropped session is noticed by its command's exit.
const NOTICED: Duration = Duration::from_secs(8);

#[test]
fn a_dropped_session_is_noticed_at_once_and_picks_up_where_it_was() {
    let local = TestHome::new();
    let host = TestHome::new();
    let dir = tempfile::tempdir().unwrap();
    let (down, pid) = (dir.path().join("down"), dir.path().join("pid"));
    // As ssh does: it refuses while the link is down, and its session ends when it dies.
    let script = format!(
        "test -e '{0}' && {{ echo 'ssh: connect to host box port 22: Network is unreachable' >&2; exit 255; }}; echo $$ > '{1}'; exec {2}",
        down.display(),
        pid.display(),
        serve_shell(&host, &[])
    );
    configure(&local, &[shell_host("box", &script, "")]);
    let job = host.start("say:still-here sleep:120");

    let tmux = Tmux::start(&dashboard_command(&local, 0, "--no-mcp"), 140, 40);
    tmux.wait_for("no jobs", DEADLINE);
    tmux.keys(&["H"]);
    tmux.wait_until("box connected with its job", DEADLINE, |screen| {
        screen.contains("connected (") && screen.lines().any(|line| line.contains(&job) && line.contains("running"))
    });
    let serving: i32 = std::fs::read_to_string(&pid).unwrap().trim().parse().unwrap();
    std::fs::write(&down, "").unwrap();
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(serving), nix::sys::signal::Signal::SIGKILL).unwrap();
    tmux.wait_until("the drop noticed before any ping", NOTICED, |screen| {
        screen.lines().any(|line| line.contains("box") && line.contains("unreachable since") && line.contains("retrying in"))
    });
    let screen = tmux.wait_for("Network is unreachable", RECONNECT);
    assert!(screen.lines().any(|line| line.contains(&job) && line.contains("running")), "its rows stay meanwhile:\n{screen}");

    // The link is back: connected again, and the job that ran on is there as it was.
    std::fs::remove_file(&down).unwrap();
    tmux.wait_until("box connected again", RECONNECT, |screen| {
        screen.lines().any(|line| line.contains("box") && line.contains("connected ("))
    });
    tmux.wait_for("still-here", DEADLINE);
    assert_eq!(host.status(&job), "running", "the job ran on over there");
}
