//! Acting without leaving: the keys a narrow footer keeps, the detail view, running a
//! job again, cancelling marked jobs, what a job changed in its git repository.

use std::path::Path;
use std::process::Command;

use crate::support::TestHome;
use crate::support::tmux::{DEADLINE, Tmux, dashboard_command, output_pane_of, pane_below, row_in};

fn footer(screen: &str) -> String {
    screen.lines().rfind(|line| !line.trim().is_empty()).unwrap_or("").to_owned()
}

#[test]
fn at_80_columns_the_footer_keeps_help_and_quit_and_the_header_its_counts() {
    let home = TestHome::new();
    let finished = home.start("say:finished");
    home.wait_for_status(&finished, "done", DEADLINE);
    let running = home.start("say:running sleep:60");
    let tmux = Tmux::start(&dashboard_command(&home, 0, ""), 80, 24);
    tmux.wait_for(&format!("output  {running}"), DEADLINE);
    let keeps = |screen: &str| {
        let footer = footer(screen);
        footer.contains("? help") && footer.contains("q quit")
    };
    // The header keeps its counts (with their words, or at least symbols and numbers).
    tmux.wait_until("? help and q quit in the footer (table, running job), the counts in the header", DEADLINE, |screen| {
        let header = screen.lines().next().unwrap_or("");
        let count = |short: &str, long: &str| header.contains(short) || header.contains(long);
        keeps(screen) && count("●1", "● 1 running") && count("✓1", "✓ 1 done")
    });
    // A result in the footer leaves them too.
    tmux.keys(&["b"]);
    tmux.wait_until("? help and q quit beside a result", DEADLINE, |screen| {
        keeps(screen) && footer(screen).contains("bell when a job ends: on")
    });
    tmux.keys(&["b"]);
    tmux.wait_until("the bell off again", DEADLINE, |screen| footer(screen).contains("bell when a job ends: off"));
    tmux.keys(&["j"]);
    tmux.wait_for(&format!("output  {finished}"), DEADLINE);
    tmux.wait_until("? help and q quit (table, finished job)", DEADLINE, keeps);
    tmux.keys(&["Tab"]);
    tmux.wait_until("? help and q quit (output)", DEADLINE, |screen| keeps(screen) && footer(screen).contains("scroll"));
    tmux.keys(&["Enter"]);
    tmux.wait_until("? help and q quit (zoomed)", DEADLINE, |screen| keeps(screen) && footer(screen).contains("unzoom"));
    home.run(&["cancel", &running, "--grace", "1"]);
}

#[test]
fn the_detail_view_shows_the_whole_prompt_and_the_last_message() {
    let home = TestHome::new();
    let id = home.start("say:detail-job\nlast:the-final-answer-text\nsay:third-prompt-line");
    home.wait_for_status(&id, "done", DEADLINE);
    let tmux = Tmux::start(&dashboard_command(&home, 0, "--no-mcp"), 120, 40);
    tmux.wait_for(&format!("output  {id}"), DEADLINE);
    tmux.keys(&["i"]);
    tmux.wait_for(&format!("detail of {id}"), DEADLINE);
    tmux.wait_until("the prompt's lines and the last message", DEADLINE, |screen| {
        let pane = pane_below(screen, &format!(" detail of {id} "));
        ["  say:detail-job", "  last:the-final-answer-text", "  say:third-prompt-line", "Last message", "  the-final-answer-text"]
            .iter()
            .all(|line| pane.lines().any(|shown| shown.trim_end() == *line))
            && pane.contains("Status      done · exit code 0")
            && pane.contains("Command     ")
    });
    tmux.keys(&["Escape"]);
    tmux.wait_for(&format!("output  {id}"), DEADLINE);
}

#[test]
fn r_runs_a_finished_job_again_and_shows_the_new_one() {
    let home = TestHome::new();
    let first = home.start("say:run-me-again");
    home.wait_for_status(&first, "done", DEADLINE);
    let tmux = Tmux::start(&dashboard_command(&home, 0, "--no-mcp"), 120, 32);
    tmux.wait_for(&format!("output  {first}"), DEADLINE);
    tmux.keys(&["R"]);
    tmux.wait_for(&format!("Run job {first} again"), DEADLINE);
    tmux.wait_for("say:run-me-again", DEADLINE);
    tmux.keys(&["Enter"]);
    let second = tmux.started_job();
    assert_ne!(second, first);
    home.wait_for_status(&second, "done", DEADLINE);
    let (old, new) = (home.meta(&first), home.meta(&second));
    for key in ["prompt", "cwd", "approval_policy", "agent"] {
        assert_eq!(old[key], new[key], "{key}");
    }
    // The new job is selected, its output shown.
    tmux.wait_for(&format!("output  {second}"), DEADLINE);
    tmux.wait_until("its output", DEADLINE, |screen| output_pane_of(screen).contains("run-me-again"));
}

#[test]
fn marked_jobs_are_cancelled_together() {
    let home = TestHome::new();
    let kept = home.start("say:kept sleep:60");
    let first = home.start("say:marked sleep:60");
    let second = home.start("say:marked sleep:60");
    let tmux = Tmux::start(&dashboard_command(&home, 0, "--no-mcp"), 120, 32);
    for id in [&kept, &first, &second] {
        tmux.wait_for(id, DEADLINE);
    }
    // Newest first: the two marked jobs are the first two rows. Space marks and moves
    // down, so two presses mark both.
    tmux.keys(&["g", "Space", "Space"]);
    tmux.wait_for("[2 marked]", DEADLINE);
    tmux.keys(&["c"]);
    tmux.wait_for("Cancel 2 jobs?", DEADLINE);
    tmux.keys(&["y"]);
    home.wait_for_status(&first, "cancelled", DEADLINE);
    home.wait_for_status(&second, "cancelled", DEADLINE);
    assert_eq!(home.status(&kept), "running", "the unmarked job runs on");
    tmux.wait_until("both rows say cancelled", DEADLINE, |screen| {
        [&first, &second].iter().all(|id| row_in(screen, id).is_some_and(|row| row.contains("cancelled")))
    });
    home.run(&["cancel", &kept, "--grace", "1"]);
}

fn git(folder: &Path, args: &[&str]) -> String {
    let output = Command::new("git").arg("-C").arg(folder).args(["-c", "user.name=t", "-c", "user.email=t@t"]).args(args).output().unwrap();
    assert!(output.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

fn start_in(home: &TestHome, folder: &Path, prompt: &str) -> String {
    let output = home.run(&["start", "--json", "--cwd", folder.to_str().unwrap(), "--", prompt]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let started: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    started["job_id"].as_str().unwrap().to_owned()
}

#[test]
fn d_shows_what_a_job_changed_in_its_git_repository() {
    let home = TestHome::new();
    let repo = home.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    git(&repo, &["init", "-q"]);
    std::fs::write(repo.join("tracked.txt"), "before the job\n").unwrap();
    git(&repo, &["add", "tracked.txt"]);
    git(&repo, &["commit", "-q", "-m", "base"]);
    let base = git(&repo, &["rev-parse", "HEAD"]);
    // Another job works in the same folder meanwhile.
    let neighbour = start_in(&home, &repo, "sleep:60");
    let id = start_in(&home, &repo, "record:tracked.txt say:changed-it");
    home.wait_for_status(&id, "done", DEADLINE);
    assert_eq!(home.meta(&id)["git_head"], base.as_str(), "the base is recorded as the job starts");

    let tmux = Tmux::start(&dashboard_command(&home, 0, "--no-mcp"), 160, 45);
    tmux.wait_for(&format!("output  {id}"), DEADLINE);
    tmux.keys(&["D"]);
    tmux.wait_for(&format!("changes of {id}"), DEADLINE);
    tmux.wait_until("the diff stat, the added line and the neighbour", DEADLINE, |screen| {
        let pane = pane_below(screen, &format!(" changes of {id} "));
        pane.contains("tracked.txt | 1 +")
            && pane.lines().any(|line| line.starts_with(&format!("+{id} ")))
            && pane.contains(&format!("Also working in this folder while {id} ran: {neighbour}"))
            && pane.contains(&base[..12])
    });
    // The same search as the output.
    tmux.keys(&["Tab", "/"]);
    tmux.type_text("before the job");
    tmux.keys(&["Enter"]);
    tmux.wait_for("/before the job 1/1", DEADLINE);
    home.run(&["cancel", &neighbour, "--grace", "1"]);
}

/// A viewer that shows what it was given and waits for Enter, as a pager would.
fn viewer_script(home: &TestHome, name: &str) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = home.path().join(name);
    let script = format!("#!/bin/sh\nprintf '{name} GOT: %s\\n' \"$(tr '\\n' ' ' < \"$1\")\"\nread answer\n");
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[test]
fn o_and_e_step_aside_for_the_pager_and_the_editor_and_the_dashboard_comes_back() {
    let home = TestHome::new();
    let id = home.start("say:shown-in-the-pager");
    home.wait_for_status(&id, "done", DEADLINE);
    let (pager, editor) = (viewer_script(&home, "PAGER"), viewer_script(&home, "EDITOR"));
    let env = format!("PAGER={} VISUAL= EDITOR={}", pager.display(), editor.display());
    let tmux = Tmux::start(&crate::support::tmux::dashboard_command_with_env(&home, &env, "--no-mcp"), 120, 32);
    tmux.wait_for(&format!("output  {id}"), DEADLINE);
    tmux.wait_until("the output", DEADLINE, |screen| output_pane_of(screen).contains("shown-in-the-pager"));

    tmux.keys(&["o"]);
    tmux.wait_until("the pager on the job's output, the dashboard gone", DEADLINE, |screen| {
        screen.contains("PAGER GOT: ") && screen.contains("shown-in-the-pager") && !screen.contains(&format!("output  {id}"))
    });
    tmux.keys(&["Enter"]);
    tmux.wait_for(&format!("output  {id}"), DEADLINE);

    // The editor on the view shown (the detail view), and back to it.
    tmux.keys(&["i"]);
    tmux.wait_for(&format!("detail of {id}"), DEADLINE);
    tmux.keys(&["e"]);
    tmux.wait_until("the editor on the detail view", DEADLINE, |screen| {
        screen.contains("EDITOR GOT: ") && screen.contains(&format!("Job {id} — done"))
    });
    tmux.keys(&["Enter"]);
    tmux.wait_for(&format!("detail of {id}"), DEADLINE);
    // Keys answer as before.
    tmux.escape("the detail view closed", |screen| screen.contains(&format!("output  {id}")));
    tmux.keys(&["?"]);
    tmux.wait_for("Esc closes)", DEADLINE);
    tmux.escape("the help closed", |screen| !screen.contains("Esc closes)"));
    tmux.keys(&["q"]);
    crate::support::wait_until("the dashboard to exit", DEADLINE, || tmux.exited_cleanly());
}
